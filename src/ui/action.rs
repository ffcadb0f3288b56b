//! What a panel, a key or a dialog asks the app to do. Panels draw from the state and push
//! actions; `apply` (in `apply.rs`) performs them after drawing, in order. It is the one place
//! that saves, journals, opens or switches documents.

use std::ops::Range;
use std::path::PathBuf;

use super::commands::Command;
use crate::agreement::corpus::Disagreement;
use crate::document::Edit;
use crate::review::Decision;
use crate::sidecar::Annotator;
use crate::transcript::PartId;

/// One thing to do.
#[derive(Debug, Clone)]
pub enum Action {
    /// A command of the menus, the palette or the keys.
    Command(Command),
    /// Open a file (its folder, the file selected) or a folder.
    OpenPath(PathBuf),
    /// Copy the sample corpus to the data folder and open it.
    OpenSample,
    /// Open this entry of the corpus list.
    OpenEntry(usize),
    /// Change the open document.
    Edit(Edit),
    /// Set or clear a value of a part dimension on the current exchange.
    ToggleValue {
        /// The dimension's id.
        dimension: String,
        /// The value's id.
        value: String,
    },
    /// A code from a key or the palette: a part value, or the selection tagged with a span code.
    ApplyCode {
        /// The dimension's id.
        dimension: String,
        /// The value, when one is given.
        value: Option<String>,
        /// The text selected when it was asked for (a span code tags it, whatever the frame's
        /// drawing did to the selection since).
        selection: Option<(PartId, Range<usize>)>,
    },
    /// Start tagging a selection with a span dimension (the value popup opens).
    StartSpan {
        /// The dimension's id.
        dimension: String,
        /// The text selected when it was asked for.
        selection: Option<(PartId, Range<usize>)>,
    },
    /// Add the span waiting in the popup, with this value.
    FinishSpan(String),
    /// Apply what is typed in the span editor.
    CommitSpanEditor,
    /// Select a span annotation (what is typed in the span editor is applied first).
    SelectSpan(Option<String>),
    /// The memo lost the keyboard: the next memo edit is a new undo step.
    EndTyping,
    /// "system", "light" or "dark".
    SetTheme(String),
    /// Make this part the target of the keys and scroll to it.
    GoToPart(PartId),
    /// Open a coding found by analysis in its document, at its place.
    OpenCoding(Box<crate::analysis::retrieve::Coding>),
    /// Write an analysis output (a table, a list, a chart) where the user chose.
    SaveFile(PathBuf, Vec<u8>),
    /// Show what a codebook change would rewrite, and ask.
    PreviewCodebookChange(crate::codebook_edit::Change),
    /// Carry out a codebook change in the folder (sidecars migrated, backups, history).
    CommitCodebookChange(crate::codebook_edit::Change),
    /// Start splitting a value: its codings across the folder are listed (in a task) for the
    /// user to choose which move to the new value.
    StartSplit {
        /// The dimension's id.
        dimension: String,
        /// The value split.
        value: String,
    },
    /// Give a speaker a role in this document (`None`: back to the reader's guess).
    SetRole {
        /// The speaker's label.
        speaker: String,
        /// Asks or answers.
        role: Option<crate::transcript::Role>,
    },
    /// Read the tag query's matches in the chosen colleague's sidecars.
    RunTagQuery,
    /// Open the document of search hit `n` at the hit.
    GoToHit(usize),
    /// The annotator's identity was entered.
    SetIdentity(Annotator),
    /// Restore (true) or discard the journal's unsaved work `n`.
    Recover(usize, bool),
    /// The open sidecar changed on disk under unsaved changes: keep mine, take theirs or merge.
    ResolveConflict(Resolution),
    /// Open entry `n` in review mode's document tab.
    ReviewDocument(usize),
    /// Write an adjudication decision into the reconciled set.
    Settle {
        /// The document's path, as the corpus lists it.
        path: std::path::PathBuf,
        /// What is settled.
        disagreement: Box<Disagreement>,
        /// How.
        decision: Decision,
    },
}

/// The user's answer to a sidecar changed on disk under unsaved changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Write mine; theirs kept beside it.
    KeepMine,
    /// Load theirs; mine kept beside it.
    TakeTheirs,
    /// Both, by annotation id.
    Merge,
}
