//! One open transcript with this annotator's sidecar: edits as values, undo/redo, and saving
//! that never overwrites what it could not read or what someone else changed.

use std::path::{Path, PathBuf};

use crate::codebook::Codebook;
use crate::fsutil::{Fingerprint, ReplaceError, WriteError};
use crate::sidecar::{
    Annotator, PartTags, Problem, Sidecar, Span, Status, TranscriptRef, sidecar_path,
};
use crate::transcript::{PartId, Relayout, Role, SpeakerRole, Transcript, TranscriptError};

/// A change to a sidecar. Applying one returns its inverse, which gives undo and redo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Replace the values of a dimension on a whole part (empty: remove the tag).
    SetPartValues {
        /// The part.
        part: PartId,
        /// Dimension id.
        dimension: String,
        /// The new values.
        values: Vec<String>,
    },
    /// Add a span annotation.
    AddSpan(Span),
    /// Remove the span annotation with this id.
    RemoveSpan {
        /// Span id.
        id: String,
    },
    /// Change a span's value and note.
    UpdateSpan {
        /// Span id.
        id: String,
        /// New value.
        value: String,
        /// New note.
        note: String,
    },
    /// Put a span on another stretch of its part (re-anchoring, or the user placing an orphan):
    /// offsets, quote and context, and the flag.
    Relocate {
        /// Span id.
        id: String,
        /// New first char.
        start: usize,
        /// New end.
        end: usize,
        /// Text there.
        quote: String,
        /// Context before.
        prefix: String,
        /// Context after.
        suffix: String,
        /// New flag.
        flag: Option<String>,
    },
    /// Replace the memo.
    SetMemo(String),
    /// Set the document's status.
    SetStatus(Status),
    /// Who asks and who answers in this document, with the tags and spans carried to the
    /// exchanges those roles make (see [`Document::role_change`], which makes this edit). The
    /// sidecar's roles, tags and spans are replaced together, so undo puts all three back.
    SetRoles {
        /// Speaker label -> role, for the speakers the user set.
        roles: std::collections::BTreeMap<String, Role>,
        /// The part tags in the new exchanges.
        tags: PartTags,
        /// The spans in the new exchanges.
        spans: Vec<Span>,
    },
    /// Several edits as one undo step.
    Batch(Vec<Edit>),
}

/// An edit that does not fit the sidecar (a span id that is not there).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EditError(String);

impl Edit {
    /// False for an edit of the memo or the status alone, which leaves every coding as it was.
    pub fn changes_codings(&self) -> bool {
        match self {
            Edit::SetMemo(_) | Edit::SetStatus(_) => false,
            Edit::Batch(edits) => edits.iter().any(Edit::changes_codings),
            _ => true,
        }
    }

    /// Applies the edit and returns the edit that undoes it. On error nothing has changed.
    pub fn apply(self, s: &mut Sidecar) -> Result<Edit, EditError> {
        Ok(match self {
            Edit::SetPartValues {
                part,
                dimension,
                values,
            } => {
                let dims = s.tags.entry(part).or_default();
                let old = if values.is_empty() {
                    dims.remove(&dimension).unwrap_or_default()
                } else {
                    dims.insert(dimension.clone(), values).unwrap_or_default()
                };
                if dims.is_empty() {
                    s.tags.remove(&part);
                }
                Edit::SetPartValues {
                    part,
                    dimension,
                    values: old,
                }
            }
            Edit::AddSpan(span) => {
                if s.spans.iter().any(|x| x.id == span.id) {
                    return Err(EditError(format!("a span with id {} exists", span.id)));
                }
                let id = span.id.clone();
                s.spans.push(span);
                Edit::RemoveSpan { id }
            }
            Edit::RemoveSpan { id } => {
                let Some(i) = s.spans.iter().position(|x| x.id == id) else {
                    return Err(EditError(format!("no span with id {id}")));
                };
                Edit::AddSpan(s.spans.remove(i))
            }
            Edit::UpdateSpan { id, value, note } => {
                let Some(span) = s.spans.iter_mut().find(|x| x.id == id) else {
                    return Err(EditError(format!("no span with id {id}")));
                };
                let old_value = std::mem::replace(&mut span.value, value);
                let old_note = std::mem::replace(&mut span.note, note);
                Edit::UpdateSpan {
                    id,
                    value: old_value,
                    note: old_note,
                }
            }
            Edit::Relocate { ref id, .. } => {
                let Some(span) = s.spans.iter_mut().find(|x| x.id == *id) else {
                    return Err(EditError(format!("no span with id {id}")));
                };
                relocate(span, self)
            }
            Edit::SetMemo(memo) => Edit::SetMemo(std::mem::replace(&mut s.memo, memo)),
            Edit::SetStatus(status) => Edit::SetStatus(std::mem::replace(&mut s.status, status)),
            Edit::SetRoles { roles, tags, spans } => Edit::SetRoles {
                roles: std::mem::replace(&mut s.roles, roles),
                tags: std::mem::replace(&mut s.tags, tags),
                spans: std::mem::replace(&mut s.spans, spans),
            },
            Edit::Batch(edits)
                if edits.len() > 1 && edits.iter().all(|e| matches!(e, Edit::Relocate { .. })) =>
            {
                return relocate_all(edits, s);
            }
            Edit::Batch(edits) => {
                let mut inverses = Vec::with_capacity(edits.len());
                for e in edits {
                    match e.apply(s) {
                        Ok(inv) => inverses.push(inv),
                        Err(err) => {
                            // Roll back what was applied so the batch is all or nothing.
                            for inv in inverses.into_iter().rev() {
                                inv.apply(s).expect(
                                    "the inverse of an edit just applied applies to its result",
                                );
                            }
                            return Err(err);
                        }
                    }
                }
                inverses.reverse();
                Edit::Batch(inverses)
            }
        })
    }
}

/// Puts a relocation's place into `span` and returns the relocation back to where it was.
fn relocate(span: &mut Span, edit: Edit) -> Edit {
    let Edit::Relocate {
        id,
        start,
        end,
        quote,
        prefix,
        suffix,
        flag,
    } = edit
    else {
        unreachable!("only relocations are passed here")
    };
    Edit::Relocate {
        id,
        start: std::mem::replace(&mut span.start, start),
        end: std::mem::replace(&mut span.end, end),
        quote: std::mem::replace(&mut span.quote, quote),
        prefix: std::mem::replace(&mut span.prefix, prefix),
        suffix: std::mem::replace(&mut span.suffix, suffix),
        flag: std::mem::replace(&mut span.flag, flag),
    }
}

/// A batch of relocations (the spans a changed text moved), each span found through one index
/// of the ids rather than by a scan of the list per span, which made re-anchoring a long page
/// quadratic in its spans. Every id is found before anything changes, so the batch is all or
/// nothing, as [`Edit::apply`] makes any batch.
fn relocate_all(edits: Vec<Edit>, s: &mut Sidecar) -> Result<Edit, EditError> {
    let positions: Vec<usize> = {
        let mut index: std::collections::HashMap<&str, usize> =
            std::collections::HashMap::with_capacity(s.spans.len());
        for (i, span) in s.spans.iter().enumerate() {
            index.entry(span.id.as_str()).or_insert(i);
        }
        let mut positions = Vec::with_capacity(edits.len());
        for e in &edits {
            let Edit::Relocate { id, .. } = e else {
                unreachable!("every edit of this batch is a relocation")
            };
            match index.get(id.as_str()) {
                Some(&i) => positions.push(i),
                None => return Err(EditError(format!("no span with id {id}"))),
            }
        }
        positions
    };
    let mut inverses = Vec::with_capacity(edits.len());
    for (e, i) in edits.into_iter().zip(positions) {
        inverses.push(relocate(&mut s.spans[i], e));
    }
    inverses.reverse();
    Ok(Edit::Batch(inverses))
}

/// Why a document's sidecar was not saved; each case is routed differently by the app.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// Someone else changed the sidecar since we read or wrote it: ask the user, never overwrite.
    #[error("{} was changed on disk by someone else; not overwritten", path.display())]
    ChangedOnDisk {
        /// The sidecar.
        path: PathBuf,
    },
    /// The user made the sidecar read-only.
    #[error("{} is read-only: not saved (make it writable to save)", path.display())]
    ReadOnly {
        /// The sidecar.
        path: PathBuf,
    },
    /// The existing sidecar could not be read, so it is never overwritten.
    #[error("not saved: {0}")]
    Unreadable(String),
    /// The write failed (disk full, permissions of the folder…); the old file is untouched.
    #[error(transparent)]
    Write(WriteError),
    /// The sidecar could not be made (an invalid annotator id).
    #[error("{0}")]
    Invalid(String),
    /// A file needed to settle a conflict could not be read.
    #[error("cannot read {}: {reason}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl From<ReplaceError> for SaveError {
    fn from(e: ReplaceError) -> SaveError {
        match e {
            ReplaceError::Changed { path } => SaveError::ChangedOnDisk { path },
            ReplaceError::Write(WriteError::ReadOnly { path }) => SaveError::ReadOnly { path },
            ReplaceError::Write(w) => SaveError::Write(w),
        }
    }
}

impl From<WriteError> for SaveError {
    fn from(e: WriteError) -> SaveError {
        SaveError::from(ReplaceError::Write(e))
    }
}

/// What a change of a speaker's role does to an annotator's codings ([`Document::role_change`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChange {
    /// The edit to apply: the roles, tags and spans together, one undo step.
    pub edit: Edit,
    /// Tags and spans carried to another part or position (the same words).
    pub moved: usize,
    /// What cannot be carried, one line each (see [`Document::role_change`]).
    pub unplaced: Vec<String>,
}

/// Where the sidecar stands with respect to the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveState {
    /// Everything is on disk.
    Saved,
    /// Changes not yet written.
    Unsaved,
    /// A write is about to happen (shown for the frame before it).
    Saving,
    /// The last write failed; the reason.
    Failed(String),
}

/// What re-anchoring did to a sidecar's spans when its transcript's text had changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reanchored {
    /// Spans placed again and flagged for a look.
    pub placed_again: usize,
    /// Spans no longer found, kept for the annotator to place or delete.
    pub orphans: usize,
    /// Spans whose text and context stood where they were.
    pub unchanged: usize,
}

/// One transcript open for annotation by one annotator.
#[derive(Debug)]
pub struct Document {
    /// The transcript file.
    pub path: PathBuf,
    /// The transcript as read.
    pub transcript: Transcript,
    /// This annotator's annotations.
    pub sidecar: Sidecar,
    /// Where they are saved.
    pub sidecar_path: PathBuf,
    /// Why the existing sidecar could not be read; the document is then read-only and the file is
    /// never overwritten.
    pub load_error: Option<String>,
    /// True when the user made the sidecar file read-only: the document is shown, not edited.
    pub read_only: bool,
    /// Problems found in the sidecar (spans that cannot be placed, unknown tags).
    pub problems: Vec<Problem>,
    /// Save state, for the status bar.
    pub save_state: SaveState,
    /// What re-anchoring did on opening, when the transcript's text had changed.
    pub reanchored: Option<Reanchored>,
    undo: Vec<Edit>,
    redo: Vec<Edit>,
    /// True while consecutive memo edits merge into one undo step.
    typing_memo: bool,
    /// The sidecar file as last read or written by us; `None` when there was none.
    disk: Option<Fingerprint>,
    dirty: bool,
    revision: u64,
    codings_revision: u64,
    /// This document's number among those opened by the process: a document opened again (its
    /// file taken from disk) is another, even where its revisions start again from 0.
    instance: u64,
}

/// The number of the next document opened (see `Document::instance`).
static NEXT_INSTANCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Document {
    /// Opens a transcript and this annotator's sidecar (a new, empty one when there is none).
    pub fn open(
        path: &Path,
        annotator: &Annotator,
        codebook: &Codebook,
    ) -> Result<Document, TranscriptError> {
        let transcript = Transcript::load(path)?;
        let sidecar_path = sidecar_path(path, &annotator.id);
        let mut doc = Document {
            path: path.to_path_buf(),
            sidecar: Sidecar::new(annotator.clone(), &transcript, codebook),
            transcript,
            sidecar_path,
            load_error: None,
            read_only: false,
            problems: Vec::new(),
            save_state: SaveState::Saved,
            undo: Vec::new(),
            redo: Vec::new(),
            typing_memo: false,
            disk: None,
            dirty: false,
            revision: 0,
            codings_revision: 0,
            instance: NEXT_INSTANCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            reanchored: None,
        };
        if doc.sidecar_path.exists() {
            doc.read_only =
                std::fs::metadata(&doc.sidecar_path).is_ok_and(|m| m.permissions().readonly());
            match Sidecar::load(&doc.sidecar_path) {
                Ok(loaded) => {
                    doc.disk = Some(Fingerprint::of(&doc.sidecar_path, &loaded.bytes));
                    doc.sidecar = loaded.sidecar;
                    // The exchanges this annotator's tags and spans count in.
                    doc.transcript.set_roles(&doc.sidecar.roles);
                    if doc.sidecar.transcript.hash != doc.transcript.hash {
                        doc.reanchor();
                    }
                    doc.problems = doc.sidecar.check(&doc.transcript, codebook);
                }
                Err(e) => doc.load_error = Some(e.to_string()),
            }
        }
        Ok(doc)
    }

    /// Places the spans again on a transcript whose text changed: moved spans get the flag `moved`
    /// (one undoable step, saved like any edit); orphans keep their old offsets and are listed by
    /// [`Document::orphans`] until the annotator places or deletes them.
    fn reanchor(&mut self) {
        use crate::anchor::Placement;
        let mut edits = Vec::new();
        let mut unchanged = 0;
        let placed = self.sidecar.placements(&self.transcript);
        // Each part indexed once for all its spans: making each moved span walked its part to
        // the span's start.
        let mut lookup = crate::sidecar::PartLookup::new(&self.transcript);
        for (span, a) in self.sidecar.spans.iter().zip(placed) {
            let (Some(a), Some(part)) = (a, self.transcript.part(span.part)) else {
                continue;
            };
            let (start, end) = match a.placement {
                Placement::Moved | Placement::Approximate => (a.start, a.end),
                // Left out, yet its old offsets hold its words (a repeated phrase): it stays
                // there, but flagged, as it may belong to text that was deleted.
                Placement::Orphan => (span.start, span.end),
                Placement::Unchanged => {
                    unchanged += 1;
                    continue;
                }
            };
            if let Some(moved) = lookup.byte(part.id, start).and_then(|at| {
                Span::new_at(
                    span.id.clone(),
                    part.id,
                    part.text(),
                    start,
                    end,
                    at,
                    "",
                    "",
                )
            }) && (a.placement != Placement::Orphan || moved.quote == span.quote)
            {
                edits.push(Edit::Relocate {
                    id: span.id.clone(),
                    start: moved.start,
                    end: moved.end,
                    quote: moved.quote,
                    prefix: moved.prefix,
                    suffix: moved.suffix,
                    flag: Some("moved".to_string()),
                });
            }
        }
        let placed_again = edits.len();
        self.reanchored = Some(Reanchored {
            placed_again,
            orphans: self.sidecar.spans.len() - placed_again - unchanged,
            unchanged,
        });
        if self.is_editable() {
            if !edits.is_empty() {
                // The edits name spans of this sidecar, so this fails only on a bug; then the
                // document is left read-only rather than saved with spans not placed again.
                if let Err(e) = self.apply(Edit::Batch(edits)) {
                    self.load_error = Some(format!("the spans could not be placed again: {e}"));
                }
            }
            // Saved even when no span moved: the sidecar then records the text its spans were
            // checked against, and is not placed again at every opening.
            self.dirty = true;
        }
    }

    /// The speakers of this document (turn-based transcripts only; empty otherwise), each with
    /// the role guessed on reading and the role in force, in order of first turn.
    pub fn speaker_roles(&self) -> Vec<SpeakerRole> {
        self.transcript.speaker_roles()
    }

    /// What giving `speaker` the role `role` (`None`: back to the guess) would do, and the
    /// [`Edit::SetRoles`] that does it, to pass to [`Document::apply`] (in the app,
    /// `MarginaliaApp::apply_edit`, so the journal records it). Nothing changes until then.
    ///
    /// The exchanges are built again with the new roles; each tag and span is carried to where
    /// its words now stand: a span inside one turn exactly, a span over several turns only when
    /// the same text stands between them in the new part; a part tag to the part of the same
    /// kind that now holds all of its part's turns. What cannot be carried is listed in
    /// [`RoleChange::unplaced`], one line each, for the app to show before applying: such a
    /// span is kept where it was with the flag `roles` (an orphan to place by hand, or a flagged
    /// span to look at); such a part tag is left out of the new exchanges. Undo brings back all.
    pub fn role_change(&self, speaker: &str, role: Option<Role>) -> Result<RoleChange, EditError> {
        if !self.speaker_roles().iter().any(|s| s.speaker == speaker) {
            return Err(EditError(format!(
                "no speaker \"{}\" in this document",
                crate::sidecar::shorten(speaker)
            )));
        }
        let mut roles = self.sidecar.roles.clone();
        match role {
            Some(r) => roles.insert(speaker.to_string(), r),
            None => roles.remove(speaker),
        };
        let after = self.transcript.with_roles(&roles);
        let carried = carry_codings(
            &self.transcript,
            &after,
            &self.sidecar.tags,
            &self.sidecar.spans,
        )
        .ok_or_else(|| EditError("this document's exchanges cannot be rebuilt".to_string()))?;
        Ok(RoleChange {
            edit: Edit::SetRoles {
                roles,
                tags: carried.tags,
                spans: carried.spans,
            },
            moved: carried.moved,
            unplaced: carried.unplaced,
        })
    }

    /// True when the sidecar file is no longer what we last read or wrote: someone else changed it.
    pub fn changed_on_disk(&self) -> bool {
        match &self.disk {
            Some(fp) => !fp.matches_disk(&self.sidecar_path),
            None => self.sidecar_path.exists(),
        }
    }

    /// Keeps a copy of the sidecar file as it is on disk (`…ron.<what>-<time>.bak`) and takes that
    /// version as the one we know, so the next save replaces it in one atomic step: at no moment is
    /// there no sidecar on disk. Returns the copy's path and the bytes copied.
    fn back_up_disk(&mut self, what: &str) -> Result<(PathBuf, Vec<u8>), SaveError> {
        let bytes = crate::fsutil::read_limited(&self.sidecar_path, crate::limits::SIDECAR_BYTES)
            .map_err(|e| SaveError::Read {
            path: self.sidecar_path.clone(),
            reason: e.to_string(),
        })?;
        let copy = crate::fsutil::write_backup(&self.sidecar_path, what, &bytes)?;
        self.disk = Some(Fingerprint::of(&self.sidecar_path, &bytes));
        Ok((copy, bytes))
    }

    /// Someone else changed the sidecar and we have unsaved changes: keep ours. Their file is kept as
    /// a copy, then ours is written.
    pub fn keep_mine(&mut self) -> Result<PathBuf, SaveError> {
        let (copy, _) = self.back_up_disk("theirs")?;
        self.dirty = true;
        self.save()?;
        Ok(copy)
    }

    /// Someone else changed the sidecar: take their version. Our unsaved version is written as a copy
    /// first.
    pub fn take_theirs(&mut self, codebook: &Codebook) -> Result<Option<PathBuf>, SaveError> {
        let mine = if self.dirty {
            let bytes = self.sidecar.to_ron().into_bytes();
            Some(crate::fsutil::write_backup(
                &self.sidecar_path,
                "mine",
                &bytes,
            )?)
        } else {
            None
        };
        let fresh = Document::open(&self.path, &self.sidecar.annotator, codebook).map_err(|e| {
            SaveError::Read {
                path: self.path.clone(),
                reason: e.to_string(),
            }
        })?;
        *self = fresh;
        Ok(mine)
    }

    /// Someone else changed the sidecar: merge by annotation id. Spans from both (ours win on the
    /// same id), tags from both (ours win on the same part and dimension), our memo unless empty;
    /// then written. Their file is kept as a copy, whose path is returned. The version merged is
    /// the one copied and the one the save expects on disk: a third write in between is noticed.
    pub fn merge_theirs(&mut self) -> Result<PathBuf, SaveError> {
        let (copy, bytes) = self.back_up_disk("theirs")?;
        let mut theirs =
            Sidecar::parse(&bytes, &self.sidecar_path).map_err(|e| SaveError::Read {
                path: self.sidecar_path.clone(),
                reason: e.to_string(),
            })?;
        // Their codings count in the exchanges their roles make: carried into ours first (what
        // cannot follow keeps its place, flagged), so no tag lands on another part.
        if theirs.roles != self.sidecar.roles {
            let their_exchanges = self.transcript.with_roles(&theirs.roles);
            if let Some(c) = carry_codings(
                &their_exchanges,
                &self.transcript,
                &theirs.tags,
                &theirs.spans,
            ) {
                theirs.tags = c.tags;
                theirs.spans = c.spans;
            }
        }
        for span in theirs.spans {
            if !self.sidecar.spans.iter().any(|s| s.id == span.id) {
                self.sidecar.spans.push(span);
            }
        }
        for (part, dims) in theirs.tags {
            let mine = self.sidecar.tags.entry(part).or_default();
            for (dim, values) in dims {
                mine.entry(dim).or_insert(values);
            }
        }
        if self.sidecar.memo.trim().is_empty() {
            self.sidecar.memo = theirs.memo;
        }
        // The spans changed: what is cached from them must be derived again.
        self.touch();
        self.undo.clear();
        self.redo.clear();
        self.save()?;
        Ok(copy)
    }

    /// Spans that cannot be placed: their part's text at their offsets is not their quote. One pass
    /// over each part's text, whatever the number of spans: the panel asks for this every frame.
    pub fn orphans(&self) -> Vec<&Span> {
        let mut placed = std::collections::HashSet::new();
        for part in &self.transcript.parts {
            let spans: Vec<(usize, &Span)> = self
                .sidecar
                .spans
                .iter()
                .enumerate()
                .filter(|(_, s)| s.part == part.id && s.start < s.end)
                .collect();
            if spans.is_empty() {
                continue;
            }
            let mut wanted: Vec<usize> = spans.iter().flat_map(|(_, s)| [s.start, s.end]).collect();
            wanted.sort_unstable();
            wanted.dedup();
            let bytes = byte_offsets(part.text(), &wanted);
            let byte_of = |c: usize| wanted.binary_search(&c).ok().and_then(|i| bytes[i]);
            for (i, s) in spans {
                if let (Some(a), Some(b)) = (byte_of(s.start), byte_of(s.end))
                    && part.text()[a..b] == s.quote
                {
                    placed.insert(i);
                }
            }
        }
        self.sidecar
            .spans
            .iter()
            .enumerate()
            .filter(|(i, _)| !placed.contains(i))
            .map(|(_, s)| s)
            .collect()
    }

    /// True when edits are allowed: the sidecar was read (or there was none) and is not
    /// read-only.
    pub fn is_editable(&self) -> bool {
        self.load_error.is_none() && !self.read_only
    }

    /// Why the document cannot be edited, in a few words for the status bar.
    pub fn read_only_reason(&self) -> Option<&'static str> {
        if self.load_error.is_some() {
            Some("sidecar unreadable")
        } else if self.read_only {
            Some("the sidecar file is read-only")
        } else {
            None
        }
    }

    /// True when there are changes not yet on disk.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Applies an edit as one undo step. The first edit of a document not started marks it in
    /// progress, in the same step.
    pub fn apply(&mut self, edit: Edit) -> Result<(), EditError> {
        if let Some(reason) = self.read_only_reason() {
            return Err(EditError(format!(
                "this document cannot be changed: {reason}"
            )));
        }
        let is_memo = matches!(edit, Edit::SetMemo(_));
        let edit =
            // Saying who asks is not coding: it leaves a document not started.
            if self.sidecar.status == Status::NotStarted
                && !matches!(edit, Edit::SetStatus(_) | Edit::SetRoles { .. })
            {
                Edit::Batch(vec![edit, Edit::SetStatus(Status::InProgress)])
            } else {
                edit
            };
        let codings = edit.changes_codings();
        let inverse = edit.apply(&mut self.sidecar)?;
        self.transcript.set_roles(&self.sidecar.roles);
        if !(is_memo && self.typing_memo) {
            self.undo.push(inverse);
        }
        self.typing_memo = is_memo;
        self.redo.clear();
        if codings {
            self.touch();
        } else {
            self.touch_notes();
        }
        Ok(())
    }

    /// Ends a run of memo typing, so the next memo edit is its own undo step.
    pub fn end_typing(&mut self) {
        self.typing_memo = false;
    }

    /// Undoes the last step; false when there is none.
    pub fn undo(&mut self) -> bool {
        self.step(true)
    }

    /// Redoes the last undone step; false when there is none.
    pub fn redo(&mut self) -> bool {
        self.step(false)
    }

    fn step(&mut self, undo: bool) -> bool {
        let (from, to) = if undo {
            (&mut self.undo, &mut self.redo)
        } else {
            (&mut self.redo, &mut self.undo)
        };
        let Some(edit) = from.pop() else {
            return false;
        };
        let codings = edit.changes_codings();
        match edit.apply(&mut self.sidecar) {
            Ok(inverse) => {
                self.transcript.set_roles(&self.sidecar.roles);
                to.push(inverse);
                self.typing_memo = false;
                if codings {
                    self.touch();
                } else {
                    self.touch_notes();
                }
                true
            }
            Err(_) => false,
        }
    }

    /// Number of steps that can be undone and redone.
    pub fn history_len(&self) -> (usize, usize) {
        (self.undo.len(), self.redo.len())
    }

    /// A number that changes with every change of the sidecar, to cache what is derived from it.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Changes with every change of the codings (tags, spans, roles) and every reload, but not with
    /// the memo or the status: what is drawn from the codings (highlights, the codings list) is
    /// kept while the user types a memo into a document with thousands of spans.
    pub fn codings_revision(&self) -> u64 {
        self.codings_revision
    }

    /// This document and its [`Document::codings_revision`]: equal keys mean the same codings in
    /// the same opened document (what the journal's thread may hold of it).
    pub fn codings_key(&self) -> (u64, u64) {
        (self.instance, self.codings_revision)
    }

    fn touch(&mut self) {
        self.codings_revision += 1;
        self.touch_notes();
    }

    /// A change of the memo or the status only.
    fn touch_notes(&mut self) {
        self.revision += 1;
        self.dirty = true;
        self.save_state = SaveState::Unsaved;
    }

    /// A span id not used in this sidecar: the annotator's id and a number.
    pub fn next_span_id(&self) -> String {
        let prefix = format!("{}-", self.sidecar.annotator.id);
        let max = self
            .sidecar
            .spans
            .iter()
            .filter_map(|s| s.id.strip_prefix(&prefix)?.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        format!("{prefix}{:03}", max + 1)
    }

    /// Writes the sidecar when there are changes. Refuses when the document is read-only or when
    /// the file on disk changed since we last read or wrote it (someone else's work): the
    /// comparison and the replacement are one step under the folder's lock
    /// ([`crate::fsutil::replace_if_unchanged`]), so "Saved" always means on disk.
    pub fn save(&mut self) -> Result<(), SaveError> {
        if !self.dirty {
            return Ok(());
        }
        let result = match (&self.load_error, self.read_only) {
            (Some(err), _) => Err(SaveError::Unreadable(err.clone())),
            (None, true) => Err(SaveError::ReadOnly {
                path: self.sidecar_path.clone(),
            }),
            (None, false) => self.write(),
        };
        self.save_state = match &result {
            Ok(()) => SaveState::Saved,
            Err(e) => SaveState::Failed(e.to_string()),
        };
        result
    }

    fn write(&mut self) -> Result<(), SaveError> {
        let mut to_write = self.sidecar.clone();
        to_write.modified = crate::sidecar::now();
        // The file name stays as the sidecar has it: a mismatch is reported, not hidden.
        to_write.transcript = TranscriptRef {
            file: to_write.transcript.file,
            ..TranscriptRef::of(&self.transcript)
        };
        let modified = to_write.modified;
        let bytes = to_write
            .into_bytes()
            .map_err(|e| SaveError::Invalid(e.to_string()))?;
        let written =
            crate::fsutil::replace_if_unchanged(&self.sidecar_path, &bytes, self.disk.as_ref())?;
        self.sidecar.modified = modified;
        self.disk = Some(written);
        self.dirty = false;
        Ok(())
    }
}

/// Tags and spans carried from one set of exchanges of a transcript to another
/// ([`carry_codings`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    /// The part tags in the new exchanges.
    pub tags: PartTags,
    /// Every span: on its words in the new exchanges, or where it was with the flag `roles`.
    pub spans: Vec<Span>,
    /// Tags and spans now on another part or at another position.
    pub moved: usize,
    /// What could not follow, one line each.
    pub unplaced: Vec<String>,
}

/// Carries an annotator's tags and spans from the exchanges of `from` to those of `to`, the same
/// transcript with other roles (see [`Document::role_change`] for the rules). `None` when they
/// are not the same turn-based transcript.
pub fn carry_codings(
    from: &Transcript,
    to: &Transcript,
    tags: &PartTags,
    spans: &[Span],
) -> Option<Carried> {
    let map = Relayout::new(from, to)?;
    let mut out = Carried {
        tags: PartTags::new(),
        spans: Vec::with_capacity(spans.len()),
        moved: 0,
        unplaced: Vec::new(),
    };
    for (part, dims) in tags {
        match map.part(*part) {
            Some(id) => {
                if id != *part {
                    out.moved += 1;
                }
                let into = out.tags.entry(id).or_default();
                for (dim, values) in dims {
                    let v = into.entry(dim.clone()).or_default();
                    v.extend(values.iter().cloned());
                    v.sort();
                    v.dedup();
                }
            }
            None => {
                for (dim, values) in dims {
                    out.unplaced.push(format!(
                        "tag \"{dim}: {}\" on {part}: its turns are split between a question and an answer; left out",
                        values.join(", ")
                    ));
                }
            }
        }
    }
    for s in spans {
        let placed = map
            .span_at(s.part, s.start, s.end)
            .and_then(|(part, start, end, at)| {
                let text = to.part(part)?.text();
                Span::new_at(
                    s.id.clone(),
                    part,
                    text,
                    start,
                    end,
                    at,
                    &s.dimension,
                    &s.value,
                )
            });
        match placed {
            Some(mut n) => {
                if (n.part, n.start) != (s.part, s.start) {
                    out.moved += 1;
                }
                n.note = s.note.clone();
                n.flag = s.flag.clone();
                out.spans.push(n);
            }
            None => {
                out.unplaced.push(format!(
                    "span \"{}\" ({} {}..{}) \"{}\": its words run over turns now in different parts; kept where it was, flagged",
                    s.id,
                    s.part,
                    s.start,
                    s.end,
                    crate::sidecar::ellipsize(&s.quote, 40)
                ));
                let mut kept = s.clone();
                kept.flag = Some("roles".to_string());
                out.spans.push(kept);
            }
        }
    }
    Some(out)
}

/// Byte offsets in `text` of the char positions `sorted` (ascending; the text's length in chars is a
/// position too); `None` past the end.
fn byte_offsets(text: &str, sorted: &[usize]) -> Vec<Option<usize>> {
    let mut out = Vec::with_capacity(sorted.len());
    let mut positions = sorted.iter().peekable();
    for (c, (b, _)) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
        .enumerate()
    {
        while positions.next_if(|&&p| p == c).is_some() {
            out.push(Some(b));
        }
        if positions.peek().is_none() {
            break;
        }
    }
    out.resize(sorted.len(), None);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_offsets_of_char_positions() {
        let text = "a “b” 🚌 c";
        assert_eq!(
            byte_offsets(text, &[0, 2, 3, 6, 9, 10]),
            vec![Some(0), Some(2), Some(5), Some(10), Some(16), None]
        );
    }

    /// A batch of relocations does what the same relocations one by one do (a span's id used
    /// twice: the first span with it, as a scan finds), its inverse restores the spans, and an
    /// unknown id fails the batch with nothing changed.
    #[test]
    fn a_batch_of_relocations_is_the_relocations_one_by_one() {
        let t = Transcript::from_text(
            "page.txt",
            "Question: Why?\n\nAnswer: Because the fares rose and the fares fell.",
            "UTF-8".to_string(),
            Vec::new(),
        );
        let annotator = Annotator {
            id: "ann".into(),
            name: String::new(),
        };
        let mut s = Sidecar::new(annotator, &t, &Codebook::builtin());
        let answer = t.answer();
        for (n, (byte, _)) in answer.match_indices("fares").enumerate() {
            let start = answer[..byte].chars().count();
            let id = if n == 0 { "a" } else { "b" };
            for _ in 0..2 {
                s.spans.push(
                    Span::new(
                        id.into(),
                        PartId::ANSWER,
                        answer,
                        start,
                        start + 5,
                        "d",
                        "v",
                    )
                    .unwrap(),
                );
            }
        }
        assert_eq!(s.spans.len(), 4, "two spans on each of two ids: {answer:?}");
        let relocate = |id: &str, start: usize| Edit::Relocate {
            id: id.into(),
            start,
            end: start + 3,
            quote: format!("q{start}"),
            prefix: String::new(),
            suffix: String::new(),
            flag: Some("moved".into()),
        };
        let edits = || vec![relocate("b", 1), relocate("a", 2), relocate("b", 3)];
        let mut one_by_one = s.clone();
        for e in edits() {
            e.apply(&mut one_by_one).unwrap();
        }
        let mut batched = s.clone();
        let inverse = Edit::Batch(edits()).apply(&mut batched).unwrap();
        assert_eq!(batched, one_by_one);
        inverse.apply(&mut batched).unwrap();
        assert_eq!(batched, s);
        let mut failed = s.clone();
        assert!(
            Edit::Batch(vec![relocate("a", 4), relocate("zz", 5)])
                .apply(&mut failed)
                .is_err()
        );
        assert_eq!(failed, s);
    }

    fn open_seed(dir: &Path) -> Document {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/prevent.txt");
        let path = dir.join("prevent.txt");
        std::fs::copy(src, &path).unwrap();
        let annotator = Annotator {
            id: "carol".into(),
            name: "Carol".into(),
        };
        Document::open(&path, &annotator, &Codebook::builtin()).unwrap()
    }

    fn tone(values: &[&str]) -> Edit {
        Edit::SetPartValues {
            part: PartId::ANSWER,
            dimension: "tone_answer".into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn undo_redo_walks_history() {
        let dir = tempfile::tempdir().unwrap();
        let mut doc = open_seed(dir.path());
        assert_eq!(doc.sidecar.status, Status::NotStarted);
        doc.apply(tone(&["evasive"])).unwrap();
        assert_eq!(doc.sidecar.status, Status::InProgress);
        doc.apply(tone(&["defensive"])).unwrap();
        let answer = doc.transcript.answer().to_string();
        let span = Span::new(
            doc.next_span_id(),
            PartId::ANSWER,
            &answer,
            0,
            3,
            "authority_police",
            "MPS",
        )
        .unwrap();
        assert_eq!(span.id, "carol-001");
        doc.apply(Edit::AddSpan(span)).unwrap();
        assert_eq!(doc.next_span_id(), "carol-002");
        assert_eq!(doc.history_len(), (3, 0));

        assert!(doc.undo());
        assert!(doc.sidecar.spans.is_empty());
        assert!(doc.undo());
        assert_eq!(
            doc.sidecar.part_values(PartId::ANSWER, "tone_answer"),
            ["evasive"]
        );
        assert!(doc.undo());
        assert!(doc.sidecar.tags.is_empty());
        assert_eq!(doc.sidecar.status, Status::NotStarted);
        assert!(!doc.undo());
        assert!(doc.redo());
        assert!(doc.redo());
        assert!(doc.redo());
        assert!(!doc.redo());
        assert_eq!(doc.sidecar.spans.len(), 1);
        assert_eq!(
            doc.sidecar.part_values(PartId::ANSWER, "tone_answer"),
            ["defensive"]
        );
        // A new edit clears the redo stack.
        doc.undo();
        doc.apply(Edit::SetMemo("x".into())).unwrap();
        assert!(!doc.redo());
    }

    #[test]
    fn memo_typing_is_one_undo_step() {
        let dir = tempfile::tempdir().unwrap();
        let mut doc = open_seed(dir.path());
        doc.apply(Edit::SetStatus(Status::InProgress)).unwrap();
        for memo in ["E", "Ev", "Eva", "Evasive"] {
            doc.apply(Edit::SetMemo(memo.into())).unwrap();
        }
        doc.end_typing();
        doc.apply(Edit::SetMemo("Evasive!".into())).unwrap();
        assert!(doc.undo());
        assert_eq!(doc.sidecar.memo, "Evasive");
        assert!(doc.undo());
        assert_eq!(doc.sidecar.memo, "");
    }

    /// Typing a memo leaves what is drawn from the codings cached: the first memo edit also marks
    /// the document in progress (a status, not a coding); a tag, and its undo, change the codings.
    #[test]
    fn the_memo_and_the_status_leave_the_codings_revision() {
        let dir = tempfile::tempdir().unwrap();
        let mut doc = open_seed(dir.path());
        let (rev, codings) = (doc.revision(), doc.codings_revision());
        doc.apply(Edit::SetMemo("A first note".into())).unwrap();
        doc.apply(Edit::SetMemo("A first note, longer".into()))
            .unwrap();
        doc.apply(Edit::SetStatus(Status::Done)).unwrap();
        assert!(doc.revision() > rev);
        assert_eq!(doc.codings_revision(), codings);
        doc.apply(tone(&["hostile"])).unwrap();
        let tagged = doc.codings_revision();
        assert!(tagged > codings);
        assert!(doc.undo());
        assert!(
            doc.codings_revision() > tagged,
            "undoing a tag changes the codings"
        );
        let undone = doc.codings_revision();
        assert!(doc.undo(), "the status");
        assert_eq!(doc.codings_revision(), undone);
    }

    #[test]
    fn failed_batch_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut doc = open_seed(dir.path());
        let before = doc.sidecar.clone();
        let err = doc.apply(Edit::Batch(vec![
            tone(&["evasive"]),
            Edit::RemoveSpan { id: "nope".into() },
        ]));
        assert!(err.is_err());
        assert_eq!(doc.sidecar, before);
        assert_eq!(doc.history_len(), (0, 0));
    }

    #[test]
    fn saves_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let mut doc = open_seed(dir.path());
        doc.apply(tone(&["hostile"])).unwrap();
        assert_eq!(doc.save_state, SaveState::Unsaved);
        doc.save().unwrap();
        assert_eq!(doc.save_state, SaveState::Saved);
        assert!(dir.path().join("prevent.txt.carol.ron").exists());
        let again =
            Document::open(&doc.path, &doc.sidecar.annotator, &Codebook::builtin()).unwrap();
        assert_eq!(
            again.sidecar.part_values(PartId::ANSWER, "tone_answer"),
            ["hostile"]
        );
        assert_eq!(again.sidecar.status, Status::InProgress);
    }

    #[test]
    fn a_changed_transcript_moves_spans_with_a_flag_and_keeps_orphans() {
        let dir = tempfile::tempdir().unwrap();
        let mut doc = open_seed(dir.path());
        let answer = doc.transcript.answer().to_string();
        let at = |q: &str| answer[..answer.find(q).unwrap()].chars().count();
        for (id, q) in [("carol-001", "Sir Peter Fahy"), ("carol-002", "a key part")] {
            let s = at(q);
            let span = Span::new(
                id.into(),
                PartId::ANSWER,
                &answer,
                s,
                s + q.chars().count(),
                "authority_person",
                "x",
            )
            .unwrap();
            doc.apply(Edit::AddSpan(span)).unwrap();
        }
        doc.save().unwrap();
        // A colleague fixes the page: a sentence added at the top of the answer, one removed.
        let page = std::fs::read_to_string(&doc.path).unwrap();
        let page = page
            .replace("MPS and MOPAC recognise", "This answer was corrected. MPS and MOPAC recognise")
            .replace("preventing radicalisation forms a key part of the national counter-terrorism strategy, CONTEST.", "this matters.");
        std::fs::write(&doc.path, page).unwrap();
        let again =
            Document::open(&doc.path, &doc.sidecar.annotator, &Codebook::builtin()).unwrap();
        let fahy = again
            .sidecar
            .spans
            .iter()
            .find(|s| s.id == "carol-001")
            .unwrap();
        assert_eq!(fahy.flag.as_deref(), Some("moved"));
        assert_eq!(
            again
                .transcript
                .answer()
                .chars()
                .skip(fahy.start)
                .take(14)
                .collect::<String>(),
            "Sir Peter Fahy"
        );
        let orphans: Vec<&str> = again.orphans().iter().map(|s| s.id.as_str()).collect();
        assert_eq!(orphans, ["carol-002"]);
        assert!(
            again.is_dirty(),
            "the new places are saved with the next save"
        );
        assert_eq!(again.sidecar.spans.len(), 2, "nothing dropped");
    }

    #[test]
    fn a_colleague_changing_the_sidecar_is_never_lost_either_way() {
        let dir = tempfile::tempdir().unwrap();
        let mut doc = open_seed(dir.path());
        doc.apply(tone(&["hostile"])).unwrap();
        doc.save().unwrap();
        let path = dir.path().join("prevent.txt.carol.ron");
        // Someone else (a git pull) writes a version with a memo; we have an unsaved change.
        let mut theirs = Sidecar::load(&path).unwrap().sidecar;
        theirs.memo = "from the other machine".into();
        theirs
            .tags
            .entry(PartId::QUESTION)
            .or_default()
            .insert("topic".into(), vec!["housing".into()]);
        theirs.save(&path).unwrap();
        doc.apply(tone(&["evasive"])).unwrap();
        assert!(doc.changed_on_disk());
        assert!(doc.save().is_err(), "not overwritten silently");

        // Merge: ours win where both said something, theirs fill the rest.
        let mut merged =
            Document::open(&doc.path, &doc.sidecar.annotator, &Codebook::builtin()).unwrap();
        merged.apply(tone(&["evasive"])).unwrap();
        theirs.save(&path).unwrap();
        merged.merge_theirs().unwrap();
        let on_disk = Sidecar::load(&path).unwrap().sidecar;
        assert_eq!(
            on_disk.part_values(PartId::ANSWER, "tone_answer"),
            ["evasive"]
        );
        assert_eq!(on_disk.part_values(PartId::QUESTION, "topic"), ["housing"]);
        assert_eq!(on_disk.memo, "from the other machine");

        // Keep mine: theirs is kept as a copy.
        theirs.save(&path).unwrap();
        let copy = doc.keep_mine().unwrap();
        assert!(
            std::fs::read_to_string(&copy)
                .unwrap()
                .contains("from the other machine")
        );
        assert_eq!(
            Sidecar::load(&path)
                .unwrap()
                .sidecar
                .part_values(PartId::ANSWER, "tone_answer"),
            ["evasive"]
        );

        // Take theirs: mine is kept as a copy.
        theirs.save(&path).unwrap();
        doc.apply(tone(&["neutral"])).unwrap();
        let mine = doc.take_theirs(&Codebook::builtin()).unwrap().unwrap();
        assert!(std::fs::read_to_string(&mine).unwrap().contains("neutral"));
        assert_eq!(doc.sidecar.memo, "from the other machine");
        assert!(!doc.is_dirty());
        // The copies are not taken for sidecars.
        let files = crate::corpus::scan(dir.path()).unwrap();
        assert_eq!(files.sidecars.len(), 1);
    }

    #[test]
    fn never_overwrites_a_sidecar_it_could_not_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("prevent.txt.carol.ron"), "(broken").unwrap();
        let mut doc = open_seed(dir.path());
        assert!(doc.load_error.is_some());
        assert!(doc.apply(tone(&["hostile"])).is_err());
        assert!(doc.save().is_ok(), "nothing to save");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("prevent.txt.carol.ron")).unwrap(),
            "(broken"
        );
    }

    #[test]
    fn never_overwrites_a_sidecar_changed_underneath() {
        let dir = tempfile::tempdir().unwrap();
        let mut doc = open_seed(dir.path());
        doc.apply(tone(&["hostile"])).unwrap();
        doc.save().unwrap();
        let path = dir.path().join("prevent.txt.carol.ron");
        let theirs = std::fs::read_to_string(&path)
            .unwrap()
            .replace("hostile", "neutral");
        std::fs::write(&path, &theirs).unwrap();
        doc.apply(tone(&["evasive"])).unwrap();
        let err = doc.save().unwrap_err();
        assert!(matches!(err, SaveError::ChangedOnDisk { .. }), "{err}");
        assert!(err.to_string().contains("changed on disk"), "{err}");
        assert!(matches!(doc.save_state, SaveState::Failed(_)));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), theirs);
    }
}
