//! `apply`: the one place that performs what the panels asked for. It opens folders and
//! documents, applies edits (journalled, autosaved), saves, switches documents and modes, and takes
//! what the background tasks finished. Everything here is private to this module, so a panel
//! cannot save or open behind its back: it pushes an [`Action`].

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::action::{Action, Resolution};
use super::commands::Command;
use super::export_dialog::ExportDialog;
use super::review_panel::{ReviewState, ReviewTab};
use super::state::{DocView, Loading, PendingSpan};
use super::task::Task;
use super::watch::{FolderWatch, same_file};
use super::{
    AUTOSAVE_DELAY_SECS, MarginaliaApp, dialogs, import_dialog, reanchor_notice, text_view,
};
use crate::agreement::corpus::Disagreement;
use crate::codebook::{AppliesTo, DimensionKind};
use crate::document::{Document, Edit};
use crate::review::{DEFAULT_GOLD, Decision};
use crate::sidecar::{Annotator, Span, Status};
use crate::transcript::{PartId, PartKind};

impl MarginaliaApp {
    /// Performs the actions pushed while drawing, in order.
    pub(super) fn apply(&mut self, ctx: &egui::Context) {
        // An action may push more (an opened document asks to be scrolled to): run until none.
        for _ in 0..8 {
            let actions = std::mem::take(&mut self.actions);
            if actions.is_empty() {
                break;
            }
            // The frame on screen was drawn before these changes: draw again.
            ctx.request_repaint();
            for action in actions {
                self.perform(ctx, action);
            }
        }
    }

    fn perform(&mut self, ctx: &egui::Context, action: Action) {
        match action {
            Action::Command(c) => self.run_command(ctx, c),
            Action::OpenPath(p) => self.open_path(&p),
            Action::OpenSample => self.open_sample(),
            Action::OpenEntry(i) => self.open_entry(i),
            Action::Edit(e) => self.apply_edit(e),
            Action::ToggleValue { dimension, value } => self.toggle_value(&dimension, &value),
            Action::ApplyCode {
                dimension,
                value,
                selection,
            } => self.apply_code(&dimension, value, selection),
            Action::StartSpan {
                dimension,
                selection,
            } => self.start_span(&dimension, selection),
            Action::FinishSpan(v) => self.finish_span(v),
            Action::CommitSpanEditor => self.commit_pending_edits(),
            Action::SelectSpan(id) => {
                self.commit_pending_edits();
                self.ed.view.selected_span = id;
                self.ed.view.span_edit = None;
            }
            Action::EndTyping => {
                if let Some(doc) = &mut self.ed.doc {
                    doc.end_typing();
                }
            }
            Action::SetTheme(t) => self.set_theme(ctx, &t),
            Action::GoToHit(i) => self.go_to_hit(i),
            Action::RunTagQuery => self.run_tag_query(),
            Action::SetRole { speaker, role } => {
                let Some(doc) = &self.ed.doc else { return };
                match doc.role_change(&speaker, role) {
                    Ok(change) if change.unplaced.is_empty() => {
                        let notice = super::roles_panel::role_notice(&speaker, &change);
                        self.apply_edit(change.edit);
                        self.notice = Some(notice);
                    }
                    Ok(change) => self.dialogs.role_confirm = Some((speaker, change)),
                    Err(e) => self.notice = Some(e.to_string()),
                }
            }
            Action::PreviewCodebookChange(c) => self.preview_codebook_change(c),
            Action::CommitCodebookChange(c) => self.commit_codebook_change(&c),
            Action::StartSplit { dimension, value } => {
                // The open document's codings are listed too: saved first.
                if self.leave_document() {
                    self.start_split(dimension, value);
                }
            }
            Action::OpenCoding(c) => self.open_coding(&c),
            Action::SaveFile(path, bytes) => self.save_file(&path, &bytes),
            Action::GoToPart(part) => {
                self.ed.view.exchange = part.exchange;
                self.ed.view.scroll_to = Some((part, 0));
            }
            Action::SetIdentity(a) => self.set_identity(a),
            Action::Recover(i, restore) => self.recover(i, restore),
            Action::ResolveConflict(r) => self.resolve_conflict(r),
            Action::ReviewDocument(i) => {
                self.ws.current = Some(i);
                self.ed.view = DocView::default();
                if let Some(r) = &mut self.review {
                    r.tab = ReviewTab::Document;
                    r.invalidate_gold();
                }
            }
            Action::Settle {
                path,
                disagreement,
                decision,
            } => self.settle(&path, &disagreement, decision),
        }
    }

    /// A change that rewrites sidecars (a merge, a split) is shown first with what it touches,
    /// once a task has read the sidecars; any other is carried out at once.
    fn preview_codebook_change(&mut self, change: crate::codebook_edit::Change) {
        use crate::codebook_edit::Change;
        if matches!(
            change,
            Change::MergeValues { .. } | Change::SplitValue { .. }
        ) {
            // The preview reads the files: the open document's codings are on disk first.
            if self.leave_document() {
                self.start_codebook_preview(change);
            }
        } else {
            self.commit_codebook_change(&change);
        }
    }

    /// Carries out a codebook change: the open document saved first, the sidecars a merge touches
    /// rewritten with backups, `codebook.ron` written, the history kept; then the list and the
    /// document are read again (colleagues' windows notice the new codebook on disk).
    fn commit_codebook_change(&mut self, change: &crate::codebook_edit::Change) {
        // The sidecars the user saw in the preview: the folder is not read again.
        let previewed = self
            .dialogs
            .codebook_confirm
            .take()
            .filter(|(c, _)| c == change)
            .map(|(_, affected)| affected);
        self.dialogs.codebook_form = None;
        let (Some(root), Some(corpus)) = (self.ws.root.clone(), &self.ws.corpus) else {
            return;
        };
        let codebook = corpus.codebook.clone();
        let who = self.annotator().map(|a| a.id.clone()).unwrap_or_default();
        if !self.leave_document() {
            return;
        }
        let keep = self
            .ws
            .current
            .and_then(|i| self.ws.corpus.as_ref().map(|c| c.entries[i].path.clone()));
        let Some(affected) = previewed else {
            // Changes of labels, colours, keys and new values write codebook.ron alone: at once.
            let result = crate::codebook_edit::commit(&root, &codebook, change, &who);
            self.codebook_committed(result.map_err(|e| e.to_string()), keep);
            return;
        };
        // A merge or a split rewrites sidecars across the folder (a thousand on 10,000 pages): in a
        // task, with no document open meanwhile, so that nothing is typed into a file being
        // rewritten and the window keeps drawing.
        self.ws.current = None;
        self.ed.doc = None;
        let change = change.clone();
        let task = Task::spawn("codebook-commit", self.repaint.clone(), move |r| {
            r.send(
                crate::codebook_edit::commit_previewed(&root, &codebook, &change, &who, affected)
                    .map_err(|e| e.to_string()),
            );
        });
        match task {
            Ok(t) => {
                self.notice = Some("Rewriting the folder's sidecars…".to_string());
                self.dialogs.codebook_commit = Some((t, keep));
            }
            Err(e) => self.codebook_committed(Err(e), keep),
        }
    }

    /// Says how a codebook change went and reads the folder again, opening `keep` again.
    fn codebook_committed(
        &mut self,
        result: Result<crate::codebook_edit::Report, String>,
        keep: Option<PathBuf>,
    ) {
        match result {
            Ok(report) => {
                let mut rewritten = match report.rewritten.len() {
                    0 => String::new(),
                    n => format!("; {n} sidecars rewritten, each backed up beside itself"),
                };
                if !report.skipped.is_empty() {
                    rewritten.push_str(&format!(
                        "; {} unreadable sidecars left as they are",
                        report.skipped.len()
                    ));
                }
                self.notice = Some(format!(
                    "Codebook: {}{rewritten} (history in {})",
                    report.summary,
                    crate::codebook_edit::HISTORY_FILE
                ));
                self.ws.current = None;
                self.ed.doc = None;
                self.reload_corpus(keep);
            }
            Err(e) => {
                self.notice = Some(format!("Codebook not changed: {e}"));
                if self.ed.doc.is_none()
                    && let Some(path) = keep
                {
                    self.reload_corpus(Some(path));
                }
            }
        }
    }

    /// Reads the tag query's matches in the sidecars of the coder chosen for it (a colleague or
    /// the reconciled set), in a task.
    fn run_tag_query(&mut self) {
        self.ws.tag_matches = None;
        self.ws.tag_task = None;
        let (Some(corpus), Some(who)) = (&self.ws.corpus, self.ws.tags_of.clone()) else {
            self.refilter();
            return;
        };
        let query = self.ws.filter.tags.clone();
        if query.trim().is_empty() {
            self.refilter();
            return;
        }
        let entries = corpus.entries.clone();
        let codebook = corpus.codebook.clone();
        let task = Task::spawn("tag-query", self.repaint.clone(), move |r| {
            r.send(
                crate::corpus::tag_matches(&entries, &codebook, &query, &who)
                    .map_err(|e| e.to_string()),
            );
        });
        match task {
            Ok(t) => self.ws.tag_task = Some(t),
            Err(e) => self.ws.filter_error = Some(e),
        }
        self.refilter();
    }

    /// Opens the document of a coding found by analysis and scrolls to it; analysis stays, hidden,
    /// until Ctrl+Shift+A brings it back.
    fn open_coding(&mut self, c: &crate::analysis::retrieve::Coding) {
        let Some(corpus) = &self.ws.corpus else {
            return;
        };
        let root = corpus.files.root.clone();
        let Some(i) = corpus
            .entries
            .iter()
            .position(|e| crate::dataset::relative_path(&root, &e.path) == c.document)
        else {
            self.notice = Some(format!("{} is no longer in the folder", c.document));
            return;
        };
        if let Some(a) = &mut self.analysis {
            a.open = false;
        }
        self.open_entry(i);
        if self.ws.current == Some(i)
            && let Ok(part) = c.part.parse::<PartId>()
        {
            self.ed.view.exchange = part.exchange;
            self.ed.view.scroll_to = Some((part, c.start.unwrap_or(0)));
            self.notice = Some(format!(
                "{} by {}: Ctrl+Shift+A goes back to the analysis",
                c.value_label, c.annotator
            ));
        }
    }

    /// Writes an analysis output where the user chose: never under a corpus file's name, always
    /// atomically.
    fn save_file(&mut self, path: &Path, bytes: &[u8]) {
        let result = crate::export::check_output_path(path, crate::export::ExportFormat::Csv)
            .map_err(|e| e.to_string())
            .and_then(|()| crate::fsutil::atomic_write(path, bytes).map_err(|e| e.to_string()));
        self.notice = Some(match result {
            Ok(()) => format!("Saved {}", path.display()),
            Err(e) => format!("Not saved: {e}"),
        });
    }

    /// Enters analysis (reading every sidecar of the folder in a task), goes back to it, or
    /// leaves it.
    fn toggle_analysis(&mut self) {
        match &mut self.analysis {
            Some(a) if a.open => self.analysis = None,
            Some(a) => a.open = true,
            None => {
                let Some(corpus) = &self.ws.corpus else {
                    self.notice = Some("Open a folder first".to_string());
                    return;
                };
                let root = corpus.files.root.clone();
                let mut annotators = corpus.files.annotators();
                for gold in crate::analysis::reconciled_sets(&root) {
                    if !annotators.contains(&gold) {
                        annotators.push(gold);
                    }
                }
                if self.review.is_some() {
                    self.toggle_review();
                }
                // What is unsaved counts too.
                if !self.leave_document() {
                    return;
                }
                self.analysis = Some(super::analysis_panel::AnalysisState::start(
                    root,
                    annotators,
                    self.repaint.clone(),
                ));
            }
        }
    }

    /// Takes what every background task has finished or sent; once per frame.
    pub(super) fn poll_tasks(&mut self) {
        if let Some(a) = &mut self.analysis
            && let Some((path, bytes)) = a.poll()
        {
            self.save_file(&path, &bytes);
        }
        if let Some(task) = &mut self.ws.tag_task
            && let Some(result) = task.poll_once()
        {
            self.ws.tag_task = None;
            match result {
                Some(Ok(rows)) => self.ws.tag_matches = Some(rows.into_iter().collect()),
                Some(Err(e)) => self.ws.filter_error = Some(e),
                None => self.ws.filter_error = Some("the tag query stopped".to_string()),
            }
            self.refilter();
        }
        self.poll_codebook_tasks();
        if let Some((task, _)) = &mut self.dialogs.codebook_commit
            && let Some(result) = task.poll_once()
            && let Some((_, keep)) = self.dialogs.codebook_commit.take()
        {
            let result =
                result.unwrap_or_else(|| Err("the rewrite of the sidecars stopped".to_string()));
            self.codebook_committed(result, keep);
        }
        self.poll_loading();
        self.poll_watcher();
        self.poll_dialog();
        if let Some(import) = &mut self.dialogs.project_import
            && let Some((folder, line)) = import.poll()
        {
            self.dialogs.project_import = None;
            if let Some(folder) = folder {
                self.open_path(&folder);
            }
            if line.is_some() {
                self.notice = line;
            }
        }
        if let Some(review) = &mut self.review {
            review.poll_job();
        }
        if let Some(export) = &mut self.export {
            export.poll_jobs();
        }
    }

    /// Blocks until every background task has ended, then takes their results: tests wait on the
    /// work, never on the clock. A file dialog is never waited on.
    pub fn wait_for_tasks(&mut self, ctx: &egui::Context) {
        for _ in 0..4 {
            if let Some(l) = &mut self.ws.loading {
                l.task.wait();
            }
            if let Some(r) = &mut self.review {
                r.wait_job();
            }
            if let Some(e) = &mut self.export {
                e.wait_job();
            }
            if let Some(i) = &mut self.dialogs.project_import {
                i.wait();
            }
            if let Some(t) = &mut self.ws.tag_task {
                t.wait();
            }
            if let Some(a) = &mut self.analysis {
                a.wait();
            }
            self.wait_codebook_tasks();
            self.poll_tasks();
            self.apply(ctx);
            if self.ws.loading.is_none()
                && self.ws.tag_task.is_none()
                && !self.codebook_tasks_running()
                && self.analysis.as_ref().is_none_or(|a| !a.is_running())
                && self.review.as_ref().is_none_or(|r| !r.is_running())
            {
                break;
            }
        }
    }

    /// Blocks until the next batch of changes of the folder on disk arrives, then takes it and
    /// waits for what it started (a reload of the list). False when none came within `timeout`.
    pub fn wait_for_disk_change(
        &mut self,
        ctx: &egui::Context,
        timeout: std::time::Duration,
    ) -> bool {
        let Some(watch) = &mut self.ws.watcher else {
            return false;
        };
        if !watch.wait(timeout) {
            return false;
        }
        self.poll_tasks();
        self.apply(ctx);
        self.wait_for_tasks(ctx);
        true
    }

    /// Blocks until the crash journal has written every edit made so far.
    pub fn flush_journal(&self) {
        if let Some(j) = &self.journal {
            j.flush();
        }
    }

    /// The journal and the autosave after drawing: edits of this frame are written soon, a
    /// saved document leaves the journal.
    pub(super) fn after_frame(&mut self, ctx: &egui::Context) {
        self.autosave(ctx);
        if self.ed.journaled
            && let Some(doc) = &self.ed.doc
            && !doc.is_dirty()
        {
            if let Some(j) = &self.journal {
                j.clear(&doc.sidecar_path);
            }
            self.ed.journaled = false;
        }
    }

    /// Before the window closes: the document is saved.
    pub(super) fn closing(&mut self) {
        self.save_on_close();
    }

    /// Opens what was given at start, and the document that was open last.
    pub(super) fn open_at_start(&mut self, path: &Path, last_document: Option<PathBuf>) {
        self.open_path(path);
        if let (Some(doc), Some(loading)) = (last_document, &mut self.ws.loading) {
            loading.select = Some(doc);
        }
    }

    /// Opens a file (its folder as the corpus, the file selected) or a folder.
    fn open_path(&mut self, path: &Path) {
        // Another tool's project or codebook is not a transcript: say what it is and how it comes in.
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        match extension.as_str() {
            "qdpx" => {
                self.notice = Some(format!(
                    "{name} is a REFI-QDA project (NVivo, ATLAS.ti, MAXQDA, QualCoder): File > Import project… turns it into a folder to open"
                ));
                return;
            }
            "qdc" => {
                self.notice = Some(format!(
                    "{name} is a REFI-QDA codebook: marginalia import-codebook {name} -o codebook.ron makes it this folder's codebook"
                ));
                return;
            }
            _ => {}
        }
        if !self.leave_document() {
            return;
        }
        let (root, select) = if path.is_dir() {
            (path.to_path_buf(), None)
        } else {
            let parent = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            (parent.to_path_buf(), Some(path.to_path_buf()))
        };
        self.ws.root = Some(root.clone());
        self.view_state.last_path = Some(path.to_path_buf());
        self.ws.current = None;
        self.ed.doc = None;
        self.ed.doc_error = None;
        self.ws.corpus = None;
        self.ws.corpus_error = None;
        if path.is_dir() {
            self.settings.add_recent(path);
            if self.settings.error.is_none() && self.settings.settings.annotator.is_some() {
                // Failing to remember a recent folder must not stop the work: said, not fatal.
                if let Err(e) = self.settings.save() {
                    self.notice = Some(format!("recent folders not remembered: {e}"));
                }
            }
        }
        self.watch(&root);
        self.reload_corpus(select);
    }

    /// Watches the corpus folder, so files added, removed or changed on disk show in the list.
    fn watch(&mut self, root: &Path) {
        self.ws.watcher = match FolderWatch::start(root, self.repaint.clone()) {
            Ok(w) => Some(w),
            Err(e) => {
                self.notice = Some(format!("changes on disk will not show until reopened: {e}"));
                None
            }
        };
    }

    /// The open document's files changed on disk. Our own saves match the remembered fingerprint and
    /// are ignored. A colleague's sidecar is taken quietly when we have no unsaved changes, else the
    /// user chooses; a changed transcript is opened again, which places the spans again.
    fn check_open_document_on_disk(&mut self, text_touched: bool) {
        let Some(doc) = &mut self.ed.doc else { return };
        let Some(corpus) = &self.ws.corpus else {
            return;
        };
        if doc.changed_on_disk() {
            if doc.is_dirty() {
                self.ed.conflict = true;
            } else {
                match doc.take_theirs(&corpus.codebook) {
                    Ok(_) => {
                        self.ed.view.highlights = None;
                        self.notice = Some(
                            "Your annotations of this document changed on disk: reloaded"
                                .to_string(),
                        );
                    }
                    Err(e) => self.notice = Some(e.to_string()),
                }
            }
            return;
        }
        // Read only when the transcript itself was touched: our own autosave touches the sidecar
        // alone, and reading a long transcript again after each would stall the window.
        let changed_text = text_touched
            && crate::transcript::Transcript::load(&doc.path)
                .is_ok_and(|t| t.hash != doc.transcript.hash);
        if changed_text {
            if let Err(e) = doc.save() {
                self.route_save_error(e);
                return;
            }
            if let Some(i) = self.ws.current.take() {
                self.ed.doc = None;
                self.open_entry(i);
                self.notice = Some(
                    "The transcript changed on disk: reopened, spans placed again".to_string(),
                );
            }
        }
    }

    /// Takes the debounced changes of the folder: the open document's files are checked, and the
    /// list is read again (once the loader is idle) when transcripts or sidecars changed.
    fn poll_watcher(&mut self) {
        let own = self.ed.doc.as_ref().map(|d| d.sidecar_path.clone());
        let own_text = self.ed.doc.as_ref().map(|d| d.path.clone());
        let Some(watch) = &mut self.ws.watcher else {
            return;
        };
        let changes = watch.poll(own.as_deref(), own_text.as_deref());
        watch.rescan_pending |= changes.list;
        let rescan = watch.rescan_pending && self.ws.loading.is_none();
        if changes.own_sidecar || changes.own_text {
            self.check_open_document_on_disk(changes.own_text);
        }
        if rescan {
            if let Some(w) = &mut self.ws.watcher {
                w.rescan_pending = false;
            }
            let keep = self.ws.current.and_then(|i| {
                self.ws
                    .corpus
                    .as_ref()
                    .and_then(|c| c.entries.get(i))
                    .map(|e| e.path.clone())
            });
            self.reload_corpus(None);
            if let Some(l) = &mut self.ws.loading {
                // Nothing open: do not jump to the first document on a background reload.
                l.keep = Some(keep.unwrap_or_default());
            }
        }
    }

    /// Reads the corpus folder in a background task; the list fills batch by batch. `select` is
    /// the file to open once its row arrives (else the first document).
    fn reload_corpus(&mut self, select: Option<PathBuf>) {
        let Some(root) = self.ws.root.clone() else {
            return;
        };
        let annotator = self.annotator().map(|a| a.id.clone()).unwrap_or_default();
        let task = Task::spawn("corpus-loader", self.repaint.clone(), move |r| {
            let result = crate::corpus::load_streaming(&root, &annotator, &mut |event| {
                r.send(Ok(event));
            });
            if let Err(e) = result {
                r.send(Err(format!("cannot open {}: {e}", root.display())));
            }
        });
        match task {
            Ok(task) => {
                self.ws.loading = Some(Loading {
                    task,
                    select,
                    keep: None,
                    total: 0,
                });
            }
            Err(e) => self.ws.corpus_error = Some(e),
        }
    }

    /// Takes what the loader thread has read so far.
    fn poll_loading(&mut self) {
        let (events, failed, finished) = {
            let Some(loading) = &mut self.ws.loading else {
                return;
            };
            let polled = loading.task.poll();
            let mut events = Vec::new();
            let mut failed = None;
            for m in polled.messages {
                match m {
                    Ok(e) => events.push(e),
                    Err(e) => failed = Some(e),
                }
            }
            (events, failed, polled.finished)
        };
        if events.is_empty() && failed.is_none() && !finished {
            return;
        }
        for event in events {
            match event {
                crate::corpus::LoadEvent::Started(index) => {
                    if let Some(l) = &mut self.ws.loading {
                        l.total = index.files.transcripts.len();
                    }
                    // Rows are about to change: the open document is found again by its path.
                    if self.ws.loading.as_ref().is_some_and(|l| l.keep.is_some()) {
                        self.ws.current = None;
                    }
                    self.ws.corpus = Some(*index);
                    // Its codebook may be new: what is drawn from the old one is made again.
                    self.ws.codebook_generation += 1;
                }
                other => {
                    let finished_index = matches!(other, crate::corpus::LoadEvent::Finished(_));
                    if let Some(c) = &mut self.ws.corpus {
                        c.apply(other);
                    }
                    // Hits point at rows: run the search again on the new index.
                    if finished_index && !self.ws.search.query.trim().is_empty() {
                        self.run_search();
                    }
                    // A colleague's codes are read again with the new list.
                    if finished_index && self.ws.tags_of.is_some() {
                        self.act(Action::RunTagQuery);
                    }
                }
            }
        }
        if let Some(e) = failed {
            self.ws.corpus_error = Some(e);
        }
        self.refilter();
        // After a reload, the open document keeps its place in the new list.
        if let (Some(keep), Some(corpus)) = (
            self.ws.loading.as_ref().and_then(|l| l.keep.clone()),
            &self.ws.corpus,
        ) && let Some(i) = corpus.entries.iter().position(|e| e.path == keep)
        {
            self.ws.current = Some(i);
            if let Some(l) = &mut self.ws.loading {
                l.keep = None;
            }
            self.sync_entry();
        }
        if self.ws.loading.as_ref().is_some_and(|l| l.keep.is_some()) {
            if finished {
                self.ws.loading = None;
            }
            return;
        }
        // Open the wanted document as soon as its row is there.
        let select = self.ws.loading.as_ref().and_then(|l| l.select.clone());
        let done = finished;
        if self.ws.current.is_none()
            && let Some(corpus) = &self.ws.corpus
        {
            let found = match &select {
                Some(file) => corpus.entries.iter().position(|e| same_file(&e.path, file)),
                None => (!corpus.entries.is_empty()).then_some(0),
            };
            if let Some(i) = found {
                if let Some(l) = &mut self.ws.loading {
                    l.select = None;
                }
                self.open_entry(i);
            } else if done && let Some(file) = &select {
                self.ws.corpus_error = Some(format!(
                    "{} is not a transcript Marginalia reads",
                    file.display()
                ));
            }
        }
        if done {
            self.ws.loading = None;
        }
    }

    /// Saves the open document; false (and a notice) when it could not be saved.
    fn leave_document(&mut self) -> bool {
        self.commit_pending_edits();
        let Some(doc) = &mut self.ed.doc else {
            return true;
        };
        match doc.save() {
            Ok(()) => {
                self.ed.autosave_at = None;
                true
            }
            Err(crate::document::SaveError::ChangedOnDisk { .. }) => {
                self.ed.conflict = true;
                false
            }
            Err(e) => {
                self.notice = Some(format!("Save failed, staying on this document: {e}"));
                false
            }
        }
    }

    /// Opens the corpus entry `index` (saving the current document first).
    fn open_entry(&mut self, index: usize) {
        if self.ws.current == Some(index) && self.ed.doc.is_some() {
            return;
        }
        if !self.leave_document() {
            return;
        }
        let Some(corpus) = &self.ws.corpus else {
            return;
        };
        let Some(entry) = corpus.entries.get(index) else {
            return;
        };
        self.ws.current = Some(index);
        self.ws.list_follows = true;
        self.view_state.last_document = Some(entry.path.clone());
        self.ed.view = DocView::default();
        self.ed.pending = None;
        let Some(annotator) = self.settings.settings.annotator.clone() else {
            self.ed.doc = None;
            self.ed.doc_error = None;
            return;
        };
        match Document::open(&entry.path, &annotator, &corpus.codebook) {
            Ok(doc) => {
                for part in &doc.transcript.parts {
                    self.ed
                        .view
                        .paragraphs
                        .insert(part.id, text_view::paragraphs(part.text()).into());
                }
                // Spans placed again after the text changed: saved soon, like any edit.
                if doc.is_dirty() {
                    self.ed.autosave_at = Some(0.0);
                }
                if let Some(n) = reanchor_notice(&doc) {
                    self.notice = Some(n);
                }
                // A sidecar written before a merge in the codebook's history (a colleague's,
                // pulled later) is carried onto the merged values, said, and undoable.
                // Parsed once per change of the history file, not at every opening.
                let merges = self
                    .ws
                    .history
                    .get(&corpus.files.root)
                    .map(|h| crate::codebook_edit::merges(&h))
                    .unwrap_or_default();
                let carried = crate::codebook_edit::carry_merges(&doc.sidecar, &merges);
                self.ed.doc = Some(doc);
                self.ed.doc_error = None;
                if !carried.is_empty() && self.ed.doc.as_ref().is_some_and(Document::is_editable) {
                    let n = carried.len();
                    self.apply_edit(Edit::Batch(carried));
                    self.notice = Some(format!(
                        "{n} codings made before a merge in the codebook were carried onto the merged values (Ctrl+Z undoes it)"
                    ));
                }
            }
            Err(e) => {
                self.ed.doc = None;
                self.ed.doc_error = Some(e.to_string());
            }
        }
    }

    /// Keeps the list row of the open document in step with its sidecar.
    fn sync_entry(&mut self) {
        let (Some(doc), Some(i), Some(corpus)) =
            (&self.ed.doc, self.ws.current, &mut self.ws.corpus)
        else {
            return;
        };
        if let Some(entry) = corpus.entries.get_mut(i) {
            entry.fill_codes(&doc.sidecar);
        }
        for span in &doc.sidecar.spans {
            if corpus
                .codebook
                .dimension(&span.dimension)
                .is_some_and(|d| d.kind == DimensionKind::Entity)
                && !span.value.is_empty()
            {
                // Copied only when new: most spans name what the list already has.
                match corpus.entity_values.get_mut(&span.dimension) {
                    Some(values) => {
                        if !values.contains(&span.value) {
                            values.insert(span.value.clone());
                        }
                    }
                    None => {
                        corpus.entity_values.insert(
                            span.dimension.clone(),
                            std::iter::once(span.value.clone()).collect(),
                        );
                    }
                }
            }
        }
    }

    /// Applies what is typed in the span editor and ends memo typing.
    /// Applies what is typed in the span editor as an edit like any other: journalled, autosaved,
    /// and said when refused.
    fn commit_pending_edits(&mut self) {
        if let Some((id, value, note)) = self.ed.view.span_edit.clone()
            && let Some(doc) = &self.ed.doc
            && let Some(span) = doc.sidecar.spans.iter().find(|s| s.id == id)
            && (span.value != value || span.note != note)
        {
            self.apply_edit(Edit::UpdateSpan { id, value, note });
        }
        if let Some(doc) = &mut self.ed.doc {
            doc.end_typing();
        }
    }

    /// Applies an edit to the open document: the one path of every edit, which journals it and
    /// schedules the autosave.
    fn apply_edit(&mut self, edit: Edit) {
        let Some(doc) = &mut self.ed.doc else { return };
        // A keystroke in the memo changes the memo (and the status of a document not started)
        // alone: it copies no coding, for the journal or for the list (on a page of 40,000 spans
        // that copying took 20-40 ms a keystroke).
        let codings = edit.changes_codings();
        match doc.apply(edit) {
            Ok(()) => {
                self.ed.autosave_at = Some(self.now + AUTOSAVE_DELAY_SECS);
                if let Some(j) = &self.journal {
                    let key = doc.codings_key();
                    if codings {
                        j.record_keyed(&doc.sidecar_path, &doc.sidecar, Some(key));
                    } else {
                        j.record_notes(&doc.sidecar_path, &doc.sidecar, key);
                    }
                    self.ed.journaled = true;
                }
                if codings {
                    self.sync_entry();
                } else if let (Some(i), Some(corpus)) = (self.ws.current, &mut self.ws.corpus)
                    && let Some(entry) = corpus.entries.get_mut(i)
                {
                    entry.status = doc.sidecar.status;
                }
            }
            Err(e) => self.notice = Some(e.to_string()),
        }
    }

    /// Sets or toggles a value of a part dimension on the current exchange.
    fn toggle_value(&mut self, dimension: &str, value: &str) {
        let (Some(doc), Some(corpus)) = (&self.ed.doc, &self.ws.corpus) else {
            return;
        };
        let Some(dim) = corpus.codebook.dimension(dimension) else {
            return;
        };
        let kind = match dim.applies_to {
            AppliesTo::Question => PartKind::Question,
            AppliesTo::Answer => PartKind::Answer,
            AppliesTo::Span => return,
        };
        let part = PartId {
            exchange: self.ed.view.exchange,
            kind,
        };
        if doc.transcript.part(part).is_none() {
            self.notice = Some(format!("this document has no {} to tag", kind.as_str()));
            return;
        }
        let current = doc.sidecar.part_values(part, dimension).to_vec();
        let label = |d: &crate::codebook::Dimension, v: &str| {
            format!(
                "{}: {}",
                d.label,
                d.value(v).map_or(v, |x| x.label.as_str())
            )
        };
        // Bull's typology, and any dependency of the codebook: a non-reply type only on a
        // non-reply.
        if let Some(r) = &dim.requires
            && !current.iter().any(|v| v == value)
            && !doc
                .sidecar
                .part_values(part, &r.dimension)
                .contains(&r.value)
        {
            let needed = corpus
                .codebook
                .dimension(&r.dimension)
                .map_or_else(|| r.value.clone(), |d| label(d, &r.value));
            self.notice = Some(format!("{} applies only with {needed}", dim.label));
            return;
        }
        let mut notice = None;
        let values = match dim.kind {
            DimensionKind::OneChoice => {
                if current.iter().any(|v| v == value) {
                    // A second press removes the code: said, as it is easy to do by accident.
                    notice = Some(format!(
                        "Removed {} (press again to set it)",
                        label(dim, value)
                    ));
                    Vec::new()
                } else {
                    vec![value.to_string()]
                }
            }
            DimensionKind::SeveralChoices | DimensionKind::Entity => {
                let mut v = current.clone();
                if let Some(i) = v.iter().position(|x| x == value) {
                    v.remove(i);
                } else {
                    v.push(value.to_string());
                }
                v
            }
        };
        // Codes that depended on what this change removes go in the same undoable step.
        let before = doc.sidecar.tags.get(&part).cloned().unwrap_or_default();
        let mut after = before.clone();
        after.insert(dimension.to_string(), values.clone());
        let unmet_before: Vec<String> = corpus
            .codebook
            .unmet_requirements(|d: &str| before.get(d).map_or(&[][..], Vec::as_slice))
            .into_iter()
            .map(|(d, _)| d.id.clone())
            .collect();
        let values_of = |d: &str| after.get(d).map_or(&[][..], Vec::as_slice);
        let dropped: Vec<(String, String)> = corpus
            .codebook
            .unmet_requirements(values_of)
            .into_iter()
            .filter(|(d, _)| !unmet_before.contains(&d.id))
            .map(|(d, r)| {
                let needed = corpus
                    .codebook
                    .dimension(&r.dimension)
                    .map_or_else(|| r.value.clone(), |x| label(x, &r.value));
                (
                    d.id.clone(),
                    format!("{} removed: it applies only with {needed}", d.label),
                )
            })
            .collect();
        let mut edits = vec![Edit::SetPartValues {
            part,
            dimension: dimension.to_string(),
            values,
        }];
        for (d, message) in dropped {
            edits.push(Edit::SetPartValues {
                part,
                dimension: d,
                values: Vec::new(),
            });
            notice = Some(message);
        }
        let edit = if edits.len() == 1 {
            edits.remove(0)
        } else {
            Edit::Batch(edits)
        };
        self.apply_edit(edit);
        if let Some(n) = notice {
            self.notice = Some(n);
        }
    }

    /// Starts tagging the selection with a span dimension: opens the value popup.
    fn start_span(&mut self, dimension: &str, selection: Option<(PartId, Range<usize>)>) {
        let Some((part, range)) = selection.or_else(|| self.ed.view.selection.clone()) else {
            self.notice = Some("Select text in the question or the answer first".to_string());
            return;
        };
        let Some(doc) = &self.ed.doc else { return };
        if let Some(reason) = doc.read_only_reason() {
            self.notice = Some(format!("This document cannot be changed: {reason}"));
            return;
        }
        let quote: String = doc
            .transcript
            .part(part)
            .map(|p| {
                p.text()
                    .chars()
                    .skip(range.start)
                    .take(range.len())
                    .collect()
            })
            .unwrap_or_default();
        let Some(corpus) = &self.ws.corpus else {
            return;
        };
        let Some(dim) = corpus.codebook.dimension(dimension) else {
            return;
        };
        let value = match dim.kind {
            // The selected words are usually the entity's name: offer them as the value.
            DimensionKind::Entity if quote.chars().count() <= 80 && !quote.contains('\n') => quote,
            _ => String::new(),
        };
        self.ed.pending = Some(PendingSpan {
            part,
            range,
            dimension: dimension.to_string(),
            value,
            suggestion: None,
            focus_pending: true,
        });
    }

    /// Adds the pending span with its value.
    fn finish_span(&mut self, value: String) {
        let Some(p) = self.ed.pending.take() else {
            return;
        };
        let Some(doc) = &self.ed.doc else { return };
        let Some(text) = doc.transcript.part(p.part).map(|x| x.text().to_string()) else {
            return;
        };
        let id = doc.next_span_id();
        let Some(span) = Span::new(
            id.clone(),
            p.part,
            &text,
            p.range.start,
            p.range.end,
            &p.dimension,
            value.trim(),
        ) else {
            self.notice = Some("the selection is empty".to_string());
            return;
        };
        self.apply_edit(Edit::AddSpan(span));
        self.ed.view.selected_span = Some(id);
    }

    /// Runs a command.
    #[expect(
        clippy::too_many_lines,
        reason = "one arm per command: the other half of the command list, read top to bottom"
    )]
    fn run_command(&mut self, ctx: &egui::Context, command: Command) {
        match command {
            Command::OpenFile => self.pick(false),
            Command::OpenFolder => self.pick(true),
            Command::Save => {
                self.commit_pending_edits();
                if let Some(doc) = &mut self.ed.doc {
                    match doc.save() {
                        Ok(()) => self.ed.autosave_at = None,
                        Err(e) => self.route_save_error(e),
                    }
                }
            }
            Command::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
            Command::Export => {
                self.commit_pending_edits();
                if let Some(doc) = &mut self.ed.doc
                    && let Err(e) = doc.save()
                {
                    self.route_save_error(e);
                }
                self.open_export();
            }
            Command::ImportProject => {
                if self.dialogs.project_import.is_none() {
                    match import_dialog::ProjectImport::start(ctx, self.ws.root.clone()) {
                        Ok(i) => self.dialogs.project_import = Some(i),
                        Err(e) => self.notice = Some(e),
                    }
                }
            }
            Command::Undo | Command::Redo => {
                self.commit_pending_edits();
                if let Some(doc) = &mut self.ed.doc {
                    let done = if command == Command::Undo {
                        doc.undo()
                    } else {
                        doc.redo()
                    };
                    if done {
                        if let Some(j) = &self.journal {
                            j.record(&doc.sidecar_path, &doc.sidecar);
                            self.ed.journaled = true;
                        }
                        self.ed.view.span_edit = None;
                        self.ed.autosave_at = Some(self.now + AUTOSAVE_DELAY_SECS);
                        self.sync_entry();
                    }
                }
            }
            Command::NextDocument | Command::PreviousDocument => {
                let pos = self
                    .ws
                    .current
                    .and_then(|c| self.ws.visible.iter().position(|&i| i == c));
                let next = match (pos, command == Command::NextDocument) {
                    (Some(p), true) => self.ws.visible.get(p + 1).copied(),
                    (Some(p), false) => p
                        .checked_sub(1)
                        .and_then(|p| self.ws.visible.get(p).copied()),
                    (None, _) => self.ws.visible.first().copied(),
                };
                if let Some(i) = next {
                    self.open_entry(i);
                }
            }
            Command::NextNotDone => {
                let Some(corpus) = &self.ws.corpus else {
                    return;
                };
                let pos = self
                    .ws
                    .current
                    .and_then(|c| self.ws.visible.iter().position(|&i| i == c))
                    .map_or(0, |p| p + 1);
                let n = self.ws.visible.len();
                let found = (0..n).map(|k| self.ws.visible[(pos + k) % n]).find(|&i| {
                    Some(i) != self.ws.current && corpus.entries[i].status != Status::Done
                });
                match found {
                    Some(i) => self.open_entry(i),
                    None => self.notice = Some("Every document in the list is done".to_string()),
                }
            }
            Command::ToggleDone => {
                if let Some(doc) = &self.ed.doc {
                    let status = if doc.sidecar.status == Status::Done {
                        Status::InProgress
                    } else {
                        Status::Done
                    };
                    self.apply_edit(Edit::SetStatus(status));
                }
            }
            Command::FocusFilter => self.ws.focus_filter = true,
            Command::FocusSearch => self.ws.search.focus = true,
            Command::NextHit => self.step_hit(true),
            Command::PreviousHit => self.step_hit(false),
            Command::ZoomIn => self.zoom(ctx, 1.1),
            Command::ZoomOut => self.zoom(ctx, 1.0 / 1.1),
            Command::ZoomReset => {
                ctx.set_zoom_factor(1.0);
                self.view_state.zoom = 1.0;
            }
            Command::ToggleTheme => {
                let dark = ctx.theme() == egui::Theme::Dark;
                self.view_state.theme = if dark { "light" } else { "dark" }.to_string();
                self.apply_view_state(ctx);
            }
            Command::Palette => self.dialogs.palette = Some(dialogs::Palette::default()),
            Command::Review => {
                self.analysis = None;
                self.toggle_review();
            }
            Command::Analysis => self.toggle_analysis(),
            Command::ToggleDocumentList => self.view_state.hide_list = !self.view_state.hide_list,
            Command::ToggleCodebookPanel => {
                self.view_state.hide_codebook = !self.view_state.hide_codebook;
            }
            Command::Help => self.dialogs.help_open = !self.dialogs.help_open,
            Command::About => self.dialogs.about_open = !self.dialogs.about_open,
            Command::Settings => {
                self.dialogs.identity =
                    Some(dialogs::IdentityForm::new(self.annotator().cloned(), false));
            }
        }
    }

    fn zoom(&mut self, ctx: &egui::Context, factor: f32) {
        let z = (ctx.zoom_factor() * factor).clamp(0.5, 3.0);
        ctx.set_zoom_factor(z);
        self.view_state.zoom = z;
    }

    /// Sets the theme preference: "system", "light" or "dark".
    fn set_theme(&mut self, ctx: &egui::Context, theme: &str) {
        self.view_state.theme = theme.to_string();
        self.apply_view_state(ctx);
    }

    fn pick(&mut self, folder: bool) {
        if self.dialogs.file_dialog.is_some() {
            return;
        }
        let start = self.ws.root.clone();
        let task = Task::spawn("file-dialog", self.repaint.clone(), move |r| {
            let mut dialog = rfd::FileDialog::new();
            if let Some(dir) = start {
                dialog = dialog.set_directory(dir);
            }
            let picked = if folder {
                dialog
                    .set_title("Open a folder of transcripts")
                    .pick_folder()
            } else {
                dialog
                    .set_title("Open a transcript")
                    .add_filter("Transcripts", crate::transcript::TRANSCRIPT_EXTENSIONS)
                    .pick_file()
            };
            r.send(picked);
        });
        match task {
            Ok(t) => self.dialogs.file_dialog = Some(t),
            Err(e) => self.notice = Some(e),
        }
    }

    fn poll_dialog(&mut self) {
        let Some(task) = &mut self.dialogs.file_dialog else {
            return;
        };
        if let Some(picked) = task.poll_once() {
            self.dialogs.file_dialog = None;
            if let Some(path) = picked.flatten() {
                self.open_path(&path);
            }
        }
    }

    /// A code given by key or from the palette: a part value toggled, or the selection tagged with
    /// a span dimension (its value preset when given).
    fn apply_code(
        &mut self,
        dim: &str,
        value: Option<String>,
        selection: Option<(PartId, Range<usize>)>,
    ) {
        match value {
            Some(v) => {
                let is_span = self
                    .ws
                    .corpus
                    .as_ref()
                    .and_then(|c| c.codebook.dimension(dim))
                    .is_some_and(|d| d.applies_to == AppliesTo::Span);
                if is_span {
                    self.start_span(dim, selection);
                    if let Some(p) = &mut self.ed.pending {
                        p.value = v;
                    }
                } else {
                    self.toggle_value(dim, &v);
                }
            }
            None => self.start_span(dim, selection),
        }
    }

    fn autosave(&mut self, ctx: &egui::Context) {
        let Some(at) = self.ed.autosave_at else {
            return;
        };
        let now = ctx.input(|i| i.time);
        let Some(doc) = &mut self.ed.doc else { return };
        if now < at {
            ctx.request_repaint_after(std::time::Duration::from_secs_f64(at - now));
            return;
        }
        if doc.is_dirty() && doc.changed_on_disk() {
            // Someone else wrote the file: ask rather than fail.
            self.ed.conflict = true;
            self.ed.autosave_at = None;
            return;
        }
        if doc.save_state == crate::document::SaveState::Saving {
            self.ed.autosave_at = None;
            if let Err(e) = doc.save() {
                self.route_save_error(e);
            }
        } else if doc.is_dirty() {
            doc.save_state = crate::document::SaveState::Saving;
            ctx.request_repaint();
        } else {
            self.ed.autosave_at = None;
        }
    }

    /// A save that failed: someone else's change asks the user; anything else is said in the
    /// status bar (the save state shows it too).
    fn route_save_error(&mut self, error: crate::document::SaveError) {
        match error {
            crate::document::SaveError::ChangedOnDisk { .. } => self.ed.conflict = true,
            other => self.notice = Some(other.to_string()),
        }
    }

    /// Saves before the window closes.
    fn save_on_close(&mut self) {
        self.commit_pending_edits();
        if let Some(doc) = &mut self.ed.doc {
            match doc.save() {
                Ok(()) => {
                    if let Some(j) = &self.journal {
                        j.clear(&doc.sidecar_path);
                    }
                }
                // The journal keeps the work; the next start offers it.
                Err(e) => eprintln!("marginalia: {e}"),
            }
        }
    }

    /// Enters or leaves review mode.
    fn toggle_review(&mut self) {
        if self.review.is_some() {
            self.review = None;
            // Back to annotating the document that was reviewed.
            if let Some(i) = self.ws.current.take() {
                self.open_entry(i);
            }
            return;
        }
        if !self.leave_document() {
            return;
        }
        let Some(corpus) = &self.ws.corpus else {
            self.notice = Some("Open a folder first".to_string());
            return;
        };
        // The reconciled set and the adjudicator are never coders unless chosen: ticked are the
        // others (the adjudicator too when fewer than two others coded).
        let me = self.annotator().map(|a| a.id.clone()).unwrap_or_default();
        let all = corpus.files.annotators();
        let is_gold = |a: &str| a == DEFAULT_GOLD;
        let others = all.iter().filter(|a| !is_gold(a) && **a != me).count();
        let annotators: Vec<(String, bool)> = all
            .into_iter()
            .map(|a| {
                let on = !is_gold(&a) && (a != me || others < 2);
                (a, on)
            })
            .collect();
        if annotators.len() < 2 {
            self.notice = Some(
                "Review needs sidecars from at least two annotators in this folder".to_string(),
            );
            return;
        }
        let root = corpus.files.root.clone();
        self.ed.doc = None;
        let mut review = ReviewState::new(annotators);
        review.start_job(&root, self.repaint.clone());
        self.review = Some(review);
    }

    /// Writes an adjudication decision into the reconciled set and its progress file.
    fn settle(&mut self, path: &std::path::Path, d: &Disagreement, decision: Decision) {
        let Some(review) = &mut self.review else {
            return;
        };
        let Some(corpus) = &self.ws.corpus else {
            return;
        };
        let Some(reviewed) = review.reviewed() else {
            return;
        };
        let chosen = review.chosen();
        let gold = Annotator {
            id: review.gold.clone(),
            name: if review.gold == DEFAULT_GOLD {
                "Reconciled".to_string()
            } else {
                review.gold.clone()
            },
        };
        let Some(doc) = reviewed.document(path) else {
            return;
        };
        let Some(progress) = &mut review.progress else {
            return;
        };
        let result = crate::review::settle(
            &doc,
            &chosen,
            d,
            decision,
            &gold,
            reviewed.codebook(),
            progress,
        )
        .and_then(|()| progress.save(&corpus.files.root));
        review.invalidate_gold();
        review.error = result.err().map(|e| e.to_string());
    }

    /// The annotator's identity was entered: the open document is saved under the old one, and
    /// the statuses and the open sidecar are read again for the new one.
    fn set_identity(&mut self, annotator: Annotator) {
        let changed = self.annotator().map(|a| a.id.as_str()) != Some(annotator.id.as_str());
        if changed && !self.leave_document() {
            if let Some(form) = &mut self.dialogs.identity {
                form.error =
                    Some("the current document could not be saved; see the status bar".to_string());
            }
            return;
        }
        self.settings.settings.annotator = Some(annotator);
        if let Err(e) = self.settings.save() {
            self.notice = Some(format!("settings not saved: {e}"));
        }
        self.dialogs.identity = None;
        let select = self
            .ws
            .current
            .take()
            .and_then(|i| self.ws.corpus.as_ref().map(|c| c.entries[i].path.clone()));
        self.ed.doc = None;
        self.reload_corpus(select);
    }

    /// Restores (or discards) unsaved work of the last session found in the journal.
    fn recover(&mut self, i: usize, restore: bool) {
        if i >= self.dialogs.recovered.len() {
            return;
        }
        let (entry, _) = self.dialogs.recovered.remove(i);
        let Some(journal) = self.journal.as_ref().map(|j| j.journal()) else {
            return;
        };
        if !restore {
            journal.discard(&entry);
            return;
        }
        match journal.restore(&entry) {
            Ok(()) => {
                self.notice = Some(format!("Restored {}", entry.sidecar_path.display()));
                // The open document may be the restored one: read it again.
                if let Some(doc) = &self.ed.doc
                    && same_file(&doc.sidecar_path, &entry.sidecar_path)
                    && let Some(c) = self.ws.current.take()
                {
                    self.ed.doc = None;
                    self.open_entry(c);
                }
            }
            Err(e) => self.notice = Some(format!("Could not restore: {e}")),
        }
    }

    /// The user chose how to settle a sidecar changed on disk under unsaved changes.
    fn resolve_conflict(&mut self, choice: Resolution) {
        let (Some(doc), Some(corpus)) = (&mut self.ed.doc, &self.ws.corpus) else {
            self.ed.conflict = false;
            return;
        };
        let result = match choice {
            Resolution::KeepMine => doc
                .keep_mine()
                .map(|p| format!("Kept yours; theirs is in {}", p.display())),
            Resolution::TakeTheirs => doc.take_theirs(&corpus.codebook).map(|p| match p {
                Some(p) => format!("Took theirs; yours is in {}", p.display()),
                None => "Took theirs".to_string(),
            }),
            Resolution::Merge => doc.merge_theirs().map(|p| {
                format!(
                    "Merged by annotation id; theirs as it was is in {}",
                    p.display()
                )
            }),
        };
        self.ed.view.highlights = None;
        self.notice = Some(result.unwrap_or_else(|e| e.to_string()));
        self.ed.conflict = false;
        self.ed.autosave_at = None;
    }

    /// Opens the document of hit `i` and scrolls to it.
    fn go_to_hit(&mut self, i: usize) {
        let Some(hit) = self.ws.search.hits.get(i).cloned() else {
            return;
        };
        self.open_entry(hit.doc);
        if self.ws.current == Some(hit.doc) {
            self.ws.search.current = Some(i);
            self.ed.view.scroll_to = Some((hit.part, hit.start));
        }
    }

    /// Moves to the next (or previous) hit among those in the filter.
    fn step_hit(&mut self, forward: bool) {
        let shown = &self.ws.search.shown;
        let n = shown.len();
        if n == 0 {
            self.notice = Some(
                "No search hits in the filtered documents: type in the search box (Ctrl+Shift+F)"
                    .to_string(),
            );
            return;
        }
        let at = self
            .ws
            .search
            .current
            .and_then(|c| shown.iter().position(|&k| k == c));
        let next = match (at, forward) {
            (Some(c), true) => (c + 1) % n,
            (Some(c), false) => (c + n - 1) % n,
            (None, true) => 0,
            (None, false) => n - 1,
        };
        self.go_to_hit(shown[next]);
    }

    /// Copies the sample corpus shipped in the binary into the user's data folder (files already
    /// there are kept) and opens it.
    fn open_sample(&mut self) {
        let Some(data) = self.data_dir.clone() else {
            self.notice =
                Some("cannot open the sample corpus: no data folder for this user".to_string());
            return;
        };
        match crate::sample::install(&data) {
            Ok(installed) => self.open_path(&installed.folder),
            Err(e) => self.notice = Some(format!("cannot open the sample corpus: {e}")),
        }
    }

    /// Opens the export dialog for the open corpus.
    fn open_export(&mut self) {
        let Some(corpus) = &self.ws.corpus else {
            self.notice = Some("Open a folder first".to_string());
            return;
        };
        self.export = Some(ExportDialog::new(
            &corpus.files.root,
            corpus.files.annotators(),
        ));
    }
}
