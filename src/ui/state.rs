//! The application state, split by concern: the workspace (corpus, list, filters, search), the
//! editor (the open document, its view and pending input) and the dialogs. Panels read it and push
//! actions; `apply` changes it.

use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;

use super::task::Task;
use super::text_view::{HeightCache, Paragraph};
use super::{dialogs, import_dialog, search_panel};
use crate::corpus::{CorpusIndex, Filter, LoadEvent, SortKey};
use crate::document::Document;
use crate::highlights::Highlights;
use crate::transcript::PartId;

/// Rows of the codings list with the (revision, codebook generation) they were made for.
pub type CodingsCache = (
    (u64, u64),
    std::sync::Arc<[(PartId, usize, super::coding_panel::Row)]>,
);

/// The corpus and how it is looked at.
#[derive(Default)]
pub struct Workspace {
    /// The folder open, `None` on the welcome screen.
    pub root: Option<PathBuf>,
    /// The corpus, as far as it is read.
    pub corpus: Option<CorpusIndex>,
    /// Bumped with every corpus read, so that what is drawn from its codebook is made again.
    pub codebook_generation: u64,
    /// Message about the opened path, shown where the list would be.
    pub corpus_error: Option<String>,
    /// The list's filter and why it is refused.
    pub filter: Filter,
    /// Why the filter is refused.
    pub filter_error: Option<String>,
    /// The member box as typed (suggestions come from it).
    pub member_text: String,
    /// Whose sidecars the tag query reads: `None` for the user's own.
    pub tags_of: Option<String>,
    /// The entries passing the tag query in `tags_of`'s sidecars, once read.
    pub tag_matches: Option<std::collections::HashSet<usize>>,
    /// Reading `tags_of`'s sidecars for the tag query.
    pub tag_task: Option<Task<Result<Vec<usize>, String>>>,
    /// The list shows the documents even while a search has hits.
    pub show_documents: bool,
    /// The date boxes as typed.
    pub date_text: (String, String),
    /// Sort column and direction (descending when true).
    pub sort: (SortKey, bool),
    /// The loader, while the folder is read.
    pub loading: Option<Loading>,
    /// Full-text search.
    pub search: search_panel::SearchState,
    /// File-system events of the folder, debounced.
    pub watcher: Option<super::watch::FolderWatch>,
    /// Indices into the corpus entries that pass the filter.
    pub visible: Vec<usize>,
    /// The entry open.
    pub current: Option<usize>,
    /// Put the keyboard in the filter on the next frame.
    pub focus_filter: bool,
    /// Scroll the document list to the current row on the next frame.
    pub list_follows: bool,
    /// The document list's scroll offset in the last frame.
    pub list_offset: f32,
    /// The folder's codebook history, parsed once per change of its file (read at every open).
    pub history: crate::codebook_edit::HistoryCache,
}

/// The open document and what is being typed into it.
#[derive(Default)]
pub struct Editor {
    /// The document open.
    pub doc: Option<Document>,
    /// Why the chosen document could not be opened.
    pub doc_error: Option<String>,
    /// Its view state.
    pub view: DocView,
    /// The span waiting for its value in the popup.
    pub pending: Option<PendingSpan>,
    /// When the sidecar is written next.
    pub autosave_at: Option<f64>,
    /// Someone else changed the open sidecar while we have unsaved changes: ask.
    pub conflict: bool,
    /// The open document's unsaved state is in the journal.
    pub journaled: bool,
}

/// A value being added to, or renamed in, the codebook from its panel.
#[derive(Debug, Clone, Default)]
pub struct CodebookForm {
    /// The dimension.
    pub dimension: String,
    /// The value renamed; `None`: a value is added.
    pub value: Option<String>,
    /// The label (or key) typed.
    pub text: String,
    /// The value's key is being set, not its label.
    pub key: bool,
    /// The value's description is being written, not its label.
    pub describe: bool,
    /// A new dimension of the question or the answer: `text` its label, `values` its values.
    pub new_dimension: Option<crate::codebook::AppliesTo>,
    /// A new dimension's values, comma-separated.
    pub values: String,
    /// A new dimension's kind (`None`: one choice, or free values for a span dimension).
    pub kind: Option<crate::codebook::DimensionKind>,
    /// A new dimension of a part applies only with this (dimension, value) of the same part.
    pub requires: Option<(String, String)>,
    /// The dimension's description is being written (`dimension` names it).
    pub describe_dimension: bool,
    /// Why what was typed cannot be used.
    pub error: Option<String>,
}

/// Windows over the workspace.
#[derive(Default)]
pub struct Dialogs {
    /// A speaker's role change that some codings cannot follow, waiting for the user's yes.
    pub role_confirm: Option<(String, crate::document::RoleChange)>,
    /// A codebook value being added or renamed.
    pub codebook_form: Option<CodebookForm>,
    /// A value being split: its codings listed, the ones to move ticked.
    pub codebook_split: Option<super::codebook_panel::SplitForm>,
    /// A merge's or a split's preview, reading the folder's sidecars off the window's thread.
    pub codebook_preview: Option<super::codebook_panel::PreviewTask>,
    /// A confirmed merge or split rewriting the folder's sidecars off the window's thread, with the
    /// document to open again when it is done.
    pub codebook_commit: Option<(super::codebook_panel::CommitTask, Option<PathBuf>)>,
    /// A codebook change waiting for the user's yes, with the sidecars it would rewrite.
    pub codebook_confirm: Option<(
        crate::codebook_edit::Change,
        Vec<crate::codebook_edit::Affected>,
    )>,
    /// The command palette.
    pub palette: Option<dialogs::Palette>,
    /// The shortcut overlay (F1).
    pub help_open: bool,
    /// Help > About.
    pub about_open: bool,
    /// Who is annotating (first start and settings).
    pub identity: Option<dialogs::IdentityForm>,
    /// A project import under way.
    pub project_import: Option<import_dialog::ProjectImport>,
    /// Unsaved work found in the journal at start, offered for restoring.
    pub recovered: Vec<(crate::journal::Entry, String)>,
    /// The open-file or open-folder dialog.
    pub file_dialog: Option<Task<Option<PathBuf>>>,
}

/// A corpus being read by the loader thread.
pub struct Loading {
    /// The loader's job: what it read so far, or why it stopped.
    pub task: Task<Result<LoadEvent, String>>,
    /// The file to open when its row arrives.
    pub select: Option<PathBuf>,
    /// The file already open, to find again in the new list (a reload after changes on disk).
    pub keep: Option<PathBuf>,
    /// Transcripts in the folder.
    pub total: usize,
}

/// The span being tagged: waiting for the value in the popup.
#[derive(Debug, Clone)]
pub struct PendingSpan {
    /// Part of the selection.
    pub part: PartId,
    /// Char range of the selection.
    pub range: Range<usize>,
    /// Dimension to tag with.
    pub dimension: String,
    /// The value being typed (entity) or chosen.
    pub value: String,
    /// Highlighted suggestion.
    pub suggestion: Option<usize>,
    /// Focus the value field on the next frame.
    pub focus_pending: bool,
}

/// Per-document view state, reset when another document opens.
#[derive(Debug, Default)]
pub struct DocView {
    /// Paragraphs of each part.
    pub paragraphs: HashMap<PartId, std::sync::Arc<[Paragraph]>>,
    /// Measured paragraph heights.
    pub heights: HeightCache,
    /// The codings list of "This document", for the document revision and codebook generation
    /// it was made for.
    pub codings: Option<CodingsCache>,
    /// A paragraph of the transcript had the keyboard in the last frame (its keys are codes).
    pub paragraph_focused: bool,
    /// The last non-empty selection: part and char range.
    pub selection: Option<(PartId, Range<usize>)>,
    /// The span annotation selected in the list or by a click.
    pub selected_span: Option<String>,
    /// The exchange the keyboard tags apply to (speaker-turn files).
    pub exchange: u32,
    /// Span value and note being edited: (span id, value, note).
    pub span_edit: Option<(String, String, String)>,
    /// Scroll to this char of this part on the next frame (a search hit).
    pub scroll_to: Option<(PartId, usize)>,
    /// What is drawn from the document's spans, for the revision and codebook it was made for.
    pub highlights: Option<Highlights>,
}
