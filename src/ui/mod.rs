//! The desktop app (egui + eframe): the corpus list, question and answer side by side, the
//! codebook panel, and the keyboard commands.

mod codebook_panel;
pub mod commands;
pub use codebook_panel::memo_id;
mod corpus_panel;
mod dialogs;
mod document_panel;
pub mod export_dialog;
pub mod import_dialog;
pub mod keys;
pub mod review_panel;
pub mod search_panel;
pub mod settings;
pub mod text_view;
mod welcome;

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};

use serde::{Deserialize, Serialize};

use crate::codebook::{AppliesTo, DimensionKind};
use crate::corpus::CorpusIndex;
use crate::document::{Document, Edit};
use crate::sidecar::{Annotator, Span, Status};
use crate::transcript::{PartId, PartKind};
use commands::Command;
use settings::SettingsStore;
use text_view::{HeightCache, Paragraph};

/// Seconds after the last change before the sidecar is written.
pub const AUTOSAVE_DELAY_SECS: f64 = 1.0;

/// Key under which eframe keeps the view state.
const VIEW_STATE_KEY: &str = "marginalia-view";

/// How to start the app.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// The file or folder to open; `None`: the last folder, else the welcome screen.
    pub path: Option<PathBuf>,
    /// Where the settings live; `None`: the user's config folder. Given, its folder also takes
    /// the sample corpus when the welcome screen copies it.
    pub settings_path: Option<PathBuf>,
    /// Opened when no path is given and none is remembered; `None`: the welcome screen.
    pub fallback: Option<PathBuf>,
}

/// View state kept by eframe between runs: never annotations.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ViewState {
    /// "system", "light" or "dark".
    theme: String,
    /// Zoom factor.
    zoom: f32,
    /// The last file or folder opened.
    last_path: Option<PathBuf>,
    /// The question column's share of the width beside the answer (0 in older state: a half).
    #[serde(default)]
    split: f32,
    /// The document open last, opened again at the next start.
    #[serde(default)]
    last_document: Option<PathBuf>,
    /// The list's sort column and direction (descending when true).
    #[serde(default)]
    sort: Option<(crate::corpus::SortKey, bool)>,
    /// The document list is hidden.
    #[serde(default)]
    hide_list: bool,
    /// The codebook panel is hidden.
    #[serde(default)]
    hide_codebook: bool,
}

impl ViewState {
    /// The question column's share, a half unless the user dragged it.
    fn split(&self) -> f32 {
        if (document_panel::MIN_SPLIT..=1.0 - document_panel::MIN_SPLIT).contains(&self.split) {
            self.split
        } else {
            0.5
        }
    }
}

/// A corpus being read by the loader thread.
struct Loading {
    events: Receiver<Result<crate::corpus::LoadEvent, String>>,
    /// The file to open when its row arrives.
    select: Option<PathBuf>,
    /// The file already open, to find again in the new list (a reload after changes on disk).
    keep: Option<PathBuf>,
    /// Transcripts in the folder.
    total: usize,
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
    pub paragraphs: HashMap<PartId, Vec<Paragraph>>,
    /// Measured paragraph heights.
    pub heights: HeightCache,
    /// The last non-empty selection: part and char range.
    pub selection: Option<(PartId, Range<usize>)>,
    /// The span annotation selected in the list or by a click.
    pub selected_span: Option<String>,
    /// The exchange the keyboard tags apply to (speaker-turn files).
    pub exchange: u32,
    /// Memo being edited.
    pub memo: String,
    /// Span value and note being edited: (span id, value, note).
    pub span_edit: Option<(String, String, String)>,
    /// Scroll to this char of this part on the next frame (a search hit).
    pub scroll_to: Option<(PartId, usize)>,
    /// What is drawn from the document's spans, for the revision it was made for.
    pub derived: Option<Derived>,
}

/// What the panels draw from the open document's spans, made again only when they change.
#[derive(Debug)]
pub struct Derived {
    /// The document revision it was made for.
    pub revision: u64,
    /// The highlights of each part.
    pub marks: HashMap<PartId, Vec<text_view::Mark>>,
    /// Spans flagged after the transcript's text changed, waiting for a look.
    pub moved: std::sync::Arc<[Span]>,
    /// Spans whose text is not at their offsets.
    pub orphans: std::sync::Arc<[Span]>,
}

/// The app.
pub struct MarginaliaApp {
    settings: SettingsStore,
    corpus: Option<CorpusIndex>,
    /// Message about the opened path, shown where the list would be.
    corpus_error: Option<String>,
    root: Option<PathBuf>,
    filter: crate::corpus::Filter,
    filter_error: Option<String>,
    sort: (crate::corpus::SortKey, bool),
    loading: Option<Loading>,
    repaint: Option<egui::Context>,
    date_text: (String, String),
    search: search_panel::SearchState,
    watcher: Option<(
        notify::RecommendedWatcher,
        Receiver<notify::Result<notify::Event>>,
    )>,
    rescan_at: Option<f64>,
    /// Indices into the corpus entries that pass the filter.
    visible: Vec<usize>,
    current: Option<usize>,
    doc: Option<Document>,
    doc_error: Option<String>,
    view: DocView,
    pending: Option<PendingSpan>,
    palette: Option<dialogs::Palette>,
    help_open: bool,
    about_open: bool,
    identity: Option<dialogs::IdentityForm>,
    view_state: ViewState,
    autosave_at: Option<f64>,
    dialog: Option<Receiver<Option<PathBuf>>>,
    /// A short message for the status bar (errors of commands).
    notice: Option<String>,
    focus_filter: bool,
    export: Option<export_dialog::ExportDialog>,
    project_import: Option<import_dialog::ProjectImport>,
    review: Option<review_panel::ReviewState>,
    /// Someone else changed the open sidecar while we have unsaved changes: ask.
    conflict: bool,
    journal: Option<crate::journal::JournalWriter>,
    /// The open document's unsaved state is in the journal.
    journaled: bool,
    /// Unsaved work found in the journal at start, offered for restoring.
    recovered: Vec<(crate::journal::Entry, String)>,
    /// The user's data folder, where the sample corpus is copied.
    data_dir: Option<PathBuf>,
    /// egui's clock at the start of this frame, for edits made where no context is at hand.
    now: f64,
    /// Scroll the document list to the current row on the next frame.
    list_follows: bool,
    /// The document list's scroll offset in the last frame.
    list_offset: f32,
    /// The codebook the selection colour was chosen for.
    selection_for: Option<String>,
}

impl MarginaliaApp {
    /// Creates the app; `cc` gives the stored view state and the context.
    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> MarginaliaApp {
        let view_state: ViewState = cc
            .storage
            .and_then(|s| eframe::get_value(s, VIEW_STATE_KEY))
            .unwrap_or_default();
        let data_dir = match &options.settings_path {
            Some(p) => p.parent().map(Path::to_path_buf),
            None => settings::data_dir(),
        };
        let settings_path = options.settings_path.or_else(SettingsStore::default_path);
        let mut app = MarginaliaApp {
            settings: SettingsStore::load(settings_path),
            corpus: None,
            corpus_error: None,
            root: None,
            filter: crate::corpus::Filter::default(),
            filter_error: None,
            sort: (crate::corpus::SortKey::Path, false),
            loading: None,
            repaint: Some(cc.egui_ctx.clone()),
            date_text: Default::default(),
            search: Default::default(),
            watcher: None,
            rescan_at: None,
            visible: Vec::new(),
            current: None,
            doc: None,
            doc_error: None,
            view: DocView::default(),
            pending: None,
            palette: None,
            help_open: false,
            about_open: false,
            identity: None,
            view_state,
            autosave_at: None,
            dialog: None,
            notice: None,
            focus_filter: false,
            export: None,
            project_import: None,
            review: None,
            conflict: false,
            journal: None,
            journaled: false,
            recovered: Vec::new(),
            data_dir,
            now: 0.0,
            list_follows: false,
            list_offset: 0.0,
            selection_for: None,
        };
        // The journal sits beside the settings: the user's own folder.
        if let Some(dir) = app.settings.path.as_ref().and_then(|p| p.parent()) {
            let journal = crate::journal::Journal::new(dir.join("journal"));
            // What each would change, read once: the dialog is drawn every frame.
            app.recovered = journal
                .pending()
                .into_iter()
                .map(|e| {
                    let changes = e.changes();
                    (e, changes)
                })
                .collect();
            app.journal = Some(crate::journal::JournalWriter::start(journal));
        }
        app.apply_view_state(&cc.egui_ctx);
        if app.settings.settings.annotator.is_none() {
            app.identity = Some(dialogs::IdentityForm::new(None, true));
        }
        // Nothing given and nothing remembered: the fallback (the checkout's sample folder under
        // `cargo run`), else the welcome screen.
        let path = options
            .path
            .or_else(|| app.view_state.last_path.clone().filter(|p| p.exists()))
            .or(options.fallback);
        if let Some(sort) = app.view_state.sort {
            app.sort = sort;
        }
        if let Some(path) = path {
            // The document that was open, when it lies in the folder opened again.
            let last_document = app
                .view_state
                .last_document
                .clone()
                .filter(|d| path.is_dir() && d.starts_with(&path) && d.exists());
            app.open_path(&path);
            if let (Some(doc), Some(loading)) = (last_document, &mut app.loading) {
                loading.select = Some(doc);
            }
        }
        app
    }

    fn apply_view_state(&mut self, ctx: &egui::Context) {
        ctx.options_mut(|o| o.zoom_with_keyboard = false);
        let theme = match self.view_state.theme.as_str() {
            "light" => egui::ThemePreference::Light,
            "dark" => egui::ThemePreference::Dark,
            _ => egui::ThemePreference::System,
        };
        ctx.set_theme(theme);
        if self.view_state.zoom >= 0.5 && self.view_state.zoom <= 3.0 {
            ctx.set_zoom_factor(self.view_state.zoom);
        }
    }

    /// The annotator, once known.
    pub fn annotator(&self) -> Option<&Annotator> {
        self.settings.settings.annotator.as_ref()
    }

    /// The open document.
    pub fn document(&self) -> Option<&Document> {
        self.doc.as_ref()
    }

    /// The corpus.
    pub fn corpus(&self) -> Option<&CorpusIndex> {
        self.corpus.as_ref()
    }

    /// The selection used for span tagging.
    pub fn selection(&self) -> Option<&(PartId, Range<usize>)> {
        self.view.selection.as_ref()
    }

    /// True while the welcome screen shows: nothing is open.
    pub fn is_welcome(&self) -> bool {
        self.root.is_none()
    }

    /// The document list's scroll offset, as last drawn.
    pub fn list_offset(&self) -> f32 {
        self.list_offset
    }

    /// True while Help > About is open.
    pub fn about_is_open(&self) -> bool {
        self.about_open
    }

    /// The last message shown in the status bar.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// Opens a file (its folder as the corpus, the file selected) or a folder.
    pub fn open_path(&mut self, path: &Path) {
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
        self.root = Some(root.clone());
        self.view_state.last_path = Some(path.to_path_buf());
        self.current = None;
        self.doc = None;
        self.doc_error = None;
        self.corpus = None;
        self.corpus_error = None;
        if path.is_dir() {
            self.settings.add_recent(path);
            if self.settings.error.is_none() && self.settings.settings.annotator.is_some() {
                // Best effort: failing to remember a recent folder must not stop the work.
                let _ = self.settings.save();
            }
        }
        self.watch(&root);
        self.reload_corpus(select);
    }

    /// Watches the corpus folder, so files added, removed or changed on disk show in the list.
    fn watch(&mut self, root: &Path) {
        use notify::Watcher;
        let (tx, rx) = channel();
        let repaint = self.repaint.clone();
        let watcher = notify::recommended_watcher(move |event| {
            let _ = tx.send(event);
            if let Some(ctx) = &repaint {
                ctx.request_repaint();
            }
        });
        self.watcher = match watcher {
            Ok(mut w) => match w.watch(root, notify::RecursiveMode::Recursive) {
                Ok(()) => Some((w, rx)),
                Err(e) => {
                    self.notice =
                        Some(format!("changes on disk will not show until reopened: {e}"));
                    None
                }
            },
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
        let Some(doc) = &mut self.doc else { return };
        let Some(corpus) = &self.corpus else { return };
        if doc.changed_on_disk() {
            if doc.is_dirty() {
                self.conflict = true;
            } else {
                match doc.take_theirs(&corpus.codebook) {
                    Ok(_) => {
                        self.view.memo = doc.sidecar.memo.clone();
                        self.view.derived = None;
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
            if let Some(i) = self.current.take() {
                self.doc = None;
                self.open_entry(i);
                self.notice = Some(
                    "The transcript changed on disk: reopened, spans placed again".to_string(),
                );
            }
        }
    }

    /// Takes file-system events; a relevant change schedules a reload of the list half a second
    /// after the last one (a git pull writes many files).
    fn poll_watcher(&mut self, ctx: &egui::Context) {
        let Some((_, rx)) = &self.watcher else { return };
        let own = self.doc.as_ref().map(|d| d.sidecar_path.clone());
        let own_text = self.doc.as_ref().map(|d| d.path.clone());
        let (mut sidecar_touched, mut text_touched) = (false, false);
        let root = self.root.clone().unwrap_or_default();
        let root = root.canonicalize().unwrap_or(root);
        let mut relevant = false;
        while let Ok(event) = rx.try_recv() {
            let Ok(event) = event else { continue };
            if matches!(event.kind, notify::EventKind::Access(_)) {
                continue;
            }
            relevant |= event.paths.iter().any(|p| {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                // Hidden below the corpus folder (.git, .marginalia), not above it.
                let inside = p.strip_prefix(&root).unwrap_or(p);
                let hidden = inside
                    .components()
                    .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
                let ours = own.as_ref().is_some_and(|o| same_file(o, p));
                sidecar_touched |= ours;
                text_touched |= own_text.as_ref().is_some_and(|t| same_file(t, p));
                let kind = crate::corpus::is_transcript_name(&name)
                    || crate::transcript::parlparse::is_parlparse_name(&name)
                    || name.ends_with(".ron");
                kind && !hidden && !ours
            });
        }
        let now = ctx.input(|i| i.time);
        if relevant {
            self.rescan_at = Some(now + 0.5);
        }
        if sidecar_touched || text_touched {
            self.check_open_document_on_disk(text_touched);
        }
        if let Some(at) = self.rescan_at {
            if now >= at && self.loading.is_none() {
                self.rescan_at = None;
                let keep = self.current.and_then(|i| {
                    self.corpus
                        .as_ref()
                        .and_then(|c| c.entries.get(i))
                        .map(|e| e.path.clone())
                });
                self.reload_corpus(None);
                if let Some(l) = &mut self.loading {
                    l.keep = keep.clone();
                }
                if keep.is_none() {
                    // Nothing open: do not jump to the first document on a background reload.
                    if let Some(l) = &mut self.loading {
                        l.keep = Some(PathBuf::new());
                    }
                }
            } else {
                ctx.request_repaint_after(std::time::Duration::from_secs_f64((at - now).max(0.05)));
            }
        }
    }

    /// Reads the corpus folder on a background thread; the list fills batch by batch. `select` is
    /// the file to open once its row arrives (else the first document).
    fn reload_corpus(&mut self, select: Option<PathBuf>) {
        let Some(root) = self.root.clone() else {
            return;
        };
        let annotator = self.annotator().map(|a| a.id.clone()).unwrap_or_default();
        let (tx, rx) = channel();
        let repaint = self.repaint.clone();
        let spawned = std::thread::Builder::new()
            .name("corpus-loader".to_string())
            .spawn(move || {
                let result = crate::corpus::load_streaming(&root, &annotator, &mut |event| {
                    let _ = tx.send(Ok(event));
                    if let Some(ctx) = &repaint {
                        ctx.request_repaint();
                    }
                });
                if let Err(e) = result {
                    let _ = tx.send(Err(format!("cannot open {}: {e}", root.display())));
                }
                if let Some(ctx) = &repaint {
                    ctx.request_repaint();
                }
            });
        match spawned {
            Ok(_) => {
                self.loading = Some(Loading {
                    events: rx,
                    select,
                    keep: None,
                    total: 0,
                });
            }
            Err(e) => self.corpus_error = Some(format!("cannot start loading: {e}")),
        }
    }

    /// Takes what the loader thread has read so far.
    fn poll_loading(&mut self, ctx: &egui::Context) {
        let (events, failed, finished) = {
            let Some(loading) = &mut self.loading else {
                return;
            };
            let mut events = Vec::new();
            let mut failed = None;
            let mut finished = false;
            loop {
                match loading.events.try_recv() {
                    Ok(Ok(e)) => events.push(e),
                    Ok(Err(e)) => failed = Some(e),
                    Err(std::sync::mpsc::TryRecvError::Empty) => break,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                        finished = true;
                        break;
                    }
                }
            }
            (events, failed, finished)
        };
        if events.is_empty() && failed.is_none() && !finished {
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
            return;
        }
        for event in events {
            match event {
                crate::corpus::LoadEvent::Started(index) => {
                    if let Some(l) = &mut self.loading {
                        l.total = index.files.transcripts.len();
                    }
                    // Rows are about to change: the open document is found again by its path.
                    if self.loading.as_ref().is_some_and(|l| l.keep.is_some()) {
                        self.current = None;
                    }
                    self.corpus = Some(*index);
                }
                other => {
                    let finished_index = matches!(other, crate::corpus::LoadEvent::Finished(_));
                    if let Some(c) = &mut self.corpus {
                        c.apply(other);
                    }
                    // Hits point at rows: run the search again on the new index.
                    if finished_index && !self.search.query.trim().is_empty() {
                        self.run_search();
                    }
                }
            }
        }
        if let Some(e) = failed {
            self.corpus_error = Some(e);
        }
        self.refilter();
        // After a reload, the open document keeps its place in the new list.
        if let (Some(keep), Some(corpus)) = (
            self.loading.as_ref().and_then(|l| l.keep.clone()),
            &self.corpus,
        ) && let Some(i) = corpus.entries.iter().position(|e| e.path == keep)
        {
            self.current = Some(i);
            if let Some(l) = &mut self.loading {
                l.keep = None;
            }
            self.sync_entry();
        }
        if self.loading.as_ref().is_some_and(|l| l.keep.is_some()) {
            if finished {
                self.loading = None;
            }
            return;
        }
        // Open the wanted document as soon as its row is there.
        let select = self.loading.as_ref().and_then(|l| l.select.clone());
        let done = finished;
        if self.current.is_none()
            && let Some(corpus) = &self.corpus
        {
            let found = match &select {
                Some(file) => corpus.entries.iter().position(|e| same_file(&e.path, file)),
                None => (!corpus.entries.is_empty()).then_some(0),
            };
            if let Some(i) = found {
                if let Some(l) = &mut self.loading {
                    l.select = None;
                }
                self.open_entry(i);
            } else if done && let Some(file) = &select {
                self.corpus_error = Some(format!(
                    "{} is not a transcript Marginalia reads",
                    file.display()
                ));
            }
        }
        if done {
            self.loading = None;
        }
    }

    /// Documents read and to read, while the folder loads.
    pub fn loading_progress(&self) -> Option<(usize, usize)> {
        let l = self.loading.as_ref()?;
        Some((self.corpus.as_ref().map_or(0, |c| c.entries.len()), l.total))
    }

    fn refilter(&mut self) {
        let Some(corpus) = &self.corpus else {
            self.visible.clear();
            return;
        };
        match corpus.filter_by(&self.filter) {
            Ok(mut rows) => {
                corpus.sort(&mut rows, self.sort.0, self.sort.1);
                self.visible = rows;
                self.filter_error = None;
            }
            Err(e) => self.filter_error = Some(e.to_string()),
        }
    }

    /// Saves the open document; false (and a notice) when it could not be saved.
    fn leave_document(&mut self) -> bool {
        self.commit_pending_edits();
        let Some(doc) = &mut self.doc else {
            return true;
        };
        match doc.save() {
            Ok(()) => {
                self.autosave_at = None;
                true
            }
            Err(crate::document::SaveError::ChangedOnDisk { .. }) => {
                self.conflict = true;
                false
            }
            Err(e) => {
                self.notice = Some(format!("Save failed, staying on this document: {e}"));
                false
            }
        }
    }

    /// Opens the corpus entry `index` (saving the current document first).
    pub fn open_entry(&mut self, index: usize) {
        if self.current == Some(index) && self.doc.is_some() {
            return;
        }
        if !self.leave_document() {
            return;
        }
        let Some(corpus) = &self.corpus else { return };
        let Some(entry) = corpus.entries.get(index) else {
            return;
        };
        self.current = Some(index);
        self.list_follows = true;
        self.view_state.last_document = Some(entry.path.clone());
        self.view = DocView::default();
        self.pending = None;
        let Some(annotator) = self.settings.settings.annotator.clone() else {
            self.doc = None;
            self.doc_error = None;
            return;
        };
        match Document::open(&entry.path, &annotator, &corpus.codebook) {
            Ok(doc) => {
                for part in &doc.transcript.parts {
                    self.view
                        .paragraphs
                        .insert(part.id, text_view::paragraphs(&part.text));
                }
                self.view.memo = doc.sidecar.memo.clone();
                // Spans placed again after the text changed: saved soon, like any edit.
                if doc.is_dirty() {
                    self.autosave_at = Some(0.0);
                }
                if let Some(n) = reanchor_notice(&doc) {
                    self.notice = Some(n);
                }
                self.doc = Some(doc);
                self.doc_error = None;
            }
            Err(e) => {
                self.doc = None;
                self.doc_error = Some(e.to_string());
            }
        }
    }

    /// Applies an edit to the open document and schedules the autosave.
    pub fn edit(&mut self, ctx: &egui::Context, edit: Edit) {
        self.now = ctx.input(|i| i.time);
        self.apply_edit(edit);
    }

    /// Keeps the list row of the open document in step with its sidecar.
    fn sync_entry(&mut self) {
        let (Some(doc), Some(i), Some(corpus)) = (&self.doc, self.current, &mut self.corpus) else {
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
                corpus
                    .entity_values
                    .entry(span.dimension.clone())
                    .or_default()
                    .insert(span.value.clone());
            }
        }
    }

    /// Applies what is typed in the span editor and ends memo typing.
    /// Applies what is typed in the span editor as an edit like any other: journalled, autosaved,
    /// and said when refused.
    fn commit_pending_edits(&mut self) {
        if let Some((id, value, note)) = self.view.span_edit.clone()
            && let Some(doc) = &self.doc
            && let Some(span) = doc.sidecar.spans.iter().find(|s| s.id == id)
            && (span.value != value || span.note != note)
        {
            self.apply_edit(Edit::UpdateSpan { id, value, note });
        }
        if let Some(doc) = &mut self.doc {
            doc.end_typing();
        }
    }

    /// Applies an edit to the open document: the one path of every edit, which journals it and
    /// schedules the autosave.
    fn apply_edit(&mut self, edit: Edit) {
        let Some(doc) = &mut self.doc else { return };
        match doc.apply(edit) {
            Ok(()) => {
                self.autosave_at = Some(self.now + AUTOSAVE_DELAY_SECS);
                if let Some(j) = &self.journal {
                    j.record(&doc.sidecar_path, &doc.sidecar);
                    self.journaled = true;
                }
                self.sync_entry();
            }
            Err(e) => self.notice = Some(e.to_string()),
        }
    }

    /// Sets or toggles a value of a part dimension on the current exchange.
    pub fn toggle_value(&mut self, ctx: &egui::Context, dimension: &str, value: &str) {
        let (Some(doc), Some(corpus)) = (&self.doc, &self.corpus) else {
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
            exchange: self.view.exchange,
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
        self.edit(ctx, edit);
        if let Some(n) = notice {
            self.notice = Some(n);
        }
    }

    /// Starts tagging the selection with a span dimension: opens the value popup.
    pub fn start_span(&mut self, dimension: &str) {
        let Some((part, range)) = self.view.selection.clone() else {
            self.notice = Some("Select text in the question or the answer first".to_string());
            return;
        };
        let Some(doc) = &self.doc else { return };
        if let Some(reason) = doc.read_only_reason() {
            self.notice = Some(format!("This document cannot be changed: {reason}"));
            return;
        }
        let quote: String = doc
            .transcript
            .part(part)
            .map(|p| p.text.chars().skip(range.start).take(range.len()).collect())
            .unwrap_or_default();
        let Some(corpus) = &self.corpus else { return };
        let Some(dim) = corpus.codebook.dimension(dimension) else {
            return;
        };
        let value = match dim.kind {
            // The selected words are usually the entity's name: offer them as the value.
            DimensionKind::Entity if quote.chars().count() <= 80 && !quote.contains('\n') => quote,
            _ => String::new(),
        };
        self.pending = Some(PendingSpan {
            part,
            range,
            dimension: dimension.to_string(),
            value,
            suggestion: None,
            focus_pending: true,
        });
    }

    /// Adds the pending span with its value.
    pub fn finish_span(&mut self, ctx: &egui::Context, value: String) {
        let Some(p) = self.pending.take() else { return };
        let Some(doc) = &self.doc else { return };
        let Some(text) = doc.transcript.part(p.part).map(|x| x.text.clone()) else {
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
        self.edit(ctx, Edit::AddSpan(span));
        self.view.selected_span = Some(id);
    }

    /// Runs a command.
    pub fn run_command(&mut self, ctx: &egui::Context, command: Command) {
        match command {
            Command::OpenFile => self.pick(ctx, false),
            Command::OpenFolder => self.pick(ctx, true),
            Command::Save => {
                self.commit_pending_edits();
                if let Some(doc) = &mut self.doc {
                    match doc.save() {
                        Ok(()) => self.autosave_at = None,
                        Err(e) => self.route_save_error(e),
                    }
                }
            }
            Command::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
            Command::Export => {
                self.commit_pending_edits();
                if let Some(doc) = &mut self.doc
                    && let Err(e) = doc.save()
                {
                    self.route_save_error(e);
                }
                self.open_export();
            }
            Command::ImportProject => {
                if self.project_import.is_none() {
                    match import_dialog::ProjectImport::start(ctx, self.root.clone()) {
                        Ok(i) => self.project_import = Some(i),
                        Err(e) => self.notice = Some(e),
                    }
                }
            }
            Command::Undo | Command::Redo => {
                self.commit_pending_edits();
                if let Some(doc) = &mut self.doc {
                    let done = if command == Command::Undo {
                        doc.undo()
                    } else {
                        doc.redo()
                    };
                    if done {
                        if let Some(j) = &self.journal {
                            j.record(&doc.sidecar_path, &doc.sidecar);
                            self.journaled = true;
                        }
                        self.view.memo = doc.sidecar.memo.clone();
                        self.view.span_edit = None;
                        self.autosave_at = Some(ctx.input(|i| i.time) + AUTOSAVE_DELAY_SECS);
                        self.sync_entry();
                    }
                }
            }
            Command::NextDocument | Command::PreviousDocument => {
                let pos = self
                    .current
                    .and_then(|c| self.visible.iter().position(|&i| i == c));
                let next = match (pos, command == Command::NextDocument) {
                    (Some(p), true) => self.visible.get(p + 1).copied(),
                    (Some(p), false) => p.checked_sub(1).and_then(|p| self.visible.get(p).copied()),
                    (None, _) => self.visible.first().copied(),
                };
                if let Some(i) = next {
                    self.open_entry(i);
                }
            }
            Command::NextNotDone => {
                let Some(corpus) = &self.corpus else { return };
                let pos = self
                    .current
                    .and_then(|c| self.visible.iter().position(|&i| i == c))
                    .map_or(0, |p| p + 1);
                let n = self.visible.len();
                let found = (0..n)
                    .map(|k| self.visible[(pos + k) % n])
                    .find(|&i| Some(i) != self.current && corpus.entries[i].status != Status::Done);
                match found {
                    Some(i) => self.open_entry(i),
                    None => self.notice = Some("Every document in the list is done".to_string()),
                }
            }
            Command::ToggleDone => {
                if let Some(doc) = &self.doc {
                    let status = if doc.sidecar.status == Status::Done {
                        Status::InProgress
                    } else {
                        Status::Done
                    };
                    self.edit(ctx, Edit::SetStatus(status));
                }
            }
            Command::FocusFilter => self.focus_filter = true,
            Command::FocusSearch => self.search.focus = true,
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
            Command::Palette => self.palette = Some(dialogs::Palette::default()),
            Command::Review => self.toggle_review(ctx),
            Command::ToggleDocumentList => self.view_state.hide_list = !self.view_state.hide_list,
            Command::ToggleCodebookPanel => {
                self.view_state.hide_codebook = !self.view_state.hide_codebook;
            }
            Command::Help => self.help_open = !self.help_open,
            Command::About => self.about_open = !self.about_open,
            Command::Settings => {
                self.identity = Some(dialogs::IdentityForm::new(self.annotator().cloned(), false));
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

    fn pick(&mut self, ctx: &egui::Context, folder: bool) {
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        let start = self.root.clone();
        let spawned = std::thread::Builder::new()
            .name("file-dialog".to_string())
            .spawn(move || {
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
                let _ = tx.send(picked);
                ctx.request_repaint();
            });
        match spawned {
            Ok(_) => self.dialog = Some(rx),
            Err(e) => self.notice = Some(format!("cannot open a file dialog: {e}")),
        }
    }

    fn poll_dialog(&mut self) {
        let Some(rx) = &self.dialog else { return };
        match rx.try_recv() {
            Ok(Some(path)) => {
                self.dialog = None;
                self.open_path(&path);
            }
            Ok(None) => self.dialog = None,
            Err(std::sync::mpsc::TryRecvError::Empty) => {}
            Err(std::sync::mpsc::TryRecvError::Disconnected) => self.dialog = None,
        }
    }

    fn handle_keys(&mut self, ctx: &egui::Context) {
        if self.identity.is_some()
            || self.palette.is_some()
            || self.pending.is_some()
            || self.conflict
        {
            return;
        }
        for info in commands::all() {
            if info.shortcuts.iter().any(|s| keys::take(ctx, s)) {
                self.run_command(ctx, info.command);
            }
        }
        if self.help_open
            && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape))
        {
            self.help_open = false;
        }
        let typing = ctx
            .memory(|m| m.focused())
            .is_some_and(dialogs::is_text_input);
        let Some(corpus) = &self.corpus else { return };
        let mut actions: Vec<(String, Option<String>)> = Vec::new();
        for dim in &corpus.codebook.dimensions {
            if let Some(k) = &dim.key
                && let Ok(s) = crate::shortcut::Shortcut::parse(k)
                && !(typing && s.is_typing_key())
                && keys::take(ctx, &s)
            {
                actions.push((dim.id.clone(), None));
            }
            for v in &dim.values {
                if let Some(k) = &v.key
                    && let Ok(s) = crate::shortcut::Shortcut::parse(k)
                    && !(typing && s.is_typing_key())
                    && keys::take(ctx, &s)
                {
                    actions.push((dim.id.clone(), Some(v.id.clone())));
                }
            }
        }
        for (dim, value) in actions {
            self.apply_code(ctx, &dim, value);
        }
    }

    /// A code given by key or from the palette: a part value toggled, or the selection tagged with
    /// a span dimension (its value preset when given).
    pub fn apply_code(&mut self, ctx: &egui::Context, dim: &str, value: Option<String>) {
        match value {
            Some(v) => {
                let is_span = self
                    .corpus
                    .as_ref()
                    .and_then(|c| c.codebook.dimension(dim))
                    .is_some_and(|d| d.applies_to == AppliesTo::Span);
                if is_span {
                    self.start_span(dim);
                    if let Some(p) = &mut self.pending {
                        p.value = v;
                    }
                } else {
                    self.toggle_value(ctx, dim, &v);
                }
            }
            None => self.start_span(dim),
        }
    }

    fn handle_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        if let Some(path) = dropped.first() {
            self.open_path(path);
        }
    }

    fn autosave(&mut self, ctx: &egui::Context) {
        let Some(at) = self.autosave_at else { return };
        let now = ctx.input(|i| i.time);
        let Some(doc) = &mut self.doc else { return };
        if now < at {
            ctx.request_repaint_after(std::time::Duration::from_secs_f64(at - now));
            return;
        }
        if doc.is_dirty() && doc.changed_on_disk() {
            // Someone else wrote the file: ask rather than fail.
            self.conflict = true;
            self.autosave_at = None;
            return;
        }
        if doc.save_state == crate::document::SaveState::Saving {
            self.autosave_at = None;
            if let Err(e) = doc.save() {
                self.route_save_error(e);
            }
        } else if doc.is_dirty() {
            doc.save_state = crate::document::SaveState::Saving;
            ctx.request_repaint();
        } else {
            self.autosave_at = None;
        }
    }

    /// Gives the text selection, in both themes, the colour least like any span code of the
    /// codebook, so a selection is never taken for a coded span.
    fn choose_selection_color(&mut self, ctx: &egui::Context) {
        let Some(corpus) = &self.corpus else { return };
        let key = format!(
            "{}:{}",
            corpus.codebook.id,
            corpus.codebook.dimensions.len()
        );
        if self.selection_for.as_deref() == Some(key.as_str()) {
            return;
        }
        let codes: Vec<crate::contrast::Rgb> = corpus
            .codebook
            .span_dimensions()
            .filter_map(|d| crate::contrast::parse_hex(&d.color))
            .collect();
        for (theme, contrast) in [
            (egui::Theme::Light, crate::contrast::Theme::LIGHT),
            (egui::Theme::Dark, crate::contrast::Theme::DARK),
        ] {
            let c = crate::contrast::selection(&codes, contrast, 0.45);
            ctx.style_mut_of(theme, |style| {
                style.visuals.selection.bg_fill = egui::Color32::from_rgb(c[0], c[1], c[2]);
            });
        }
        self.selection_for = Some(key);
    }

    /// A save that failed: someone else's change asks the user; anything else is said in the
    /// status bar (the save state shows it too).
    fn route_save_error(&mut self, error: crate::document::SaveError) {
        match error {
            crate::document::SaveError::ChangedOnDisk { .. } => self.conflict = true,
            other => self.notice = Some(other.to_string()),
        }
    }

    /// Saves before the window closes.
    fn save_on_close(&mut self) {
        self.commit_pending_edits();
        if let Some(doc) = &mut self.doc {
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
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

impl eframe::App for MarginaliaApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.now = ctx.input(|i| i.time);
        self.choose_selection_color(&ctx);
        if let Some(e) = self.journal.as_ref().and_then(|j| j.take_error()) {
            self.notice = Some(format!("Crash recovery cannot keep this work: {e}"));
        }
        self.poll_loading(&ctx);
        self.poll_watcher(&ctx);
        self.poll_dialog();
        if let Some((folder, line)) = self.project_import.as_ref().and_then(|i| i.poll()) {
            self.project_import = None;
            if let Some(folder) = folder {
                self.open_path(&folder);
            }
            if line.is_some() {
                self.notice = line;
            }
        }
        self.handle_dropped_files(&ctx);
        if ctx.input(|i| i.viewport().close_requested()) {
            self.save_on_close();
        }
        self.handle_keys(&ctx);

        egui::Panel::top("menu").show(ui, |ui| self.menu_ui(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_ui(ui));
        if self.root.is_none() && self.review.is_none() {
            egui::CentralPanel::default().show(ui, |ui| self.welcome_ui(ui));
            self.dialogs_ui(&ctx);
            return;
        }
        if !self.view_state.hide_list {
            egui::Panel::left("corpus")
                .resizable(true)
                .default_size(300.0)
                .min_size(180.0)
                .show(ui, |ui| self.corpus_ui(ui));
        }
        if self.review.is_some() {
            egui::Panel::right("adjudication")
                .resizable(true)
                .default_size(420.0)
                .min_size(260.0)
                .show(ui, |ui| self.adjudication_ui(ui));
            egui::CentralPanel::default().show(ui, |ui| self.review_ui(ui));
        } else {
            if !self.view_state.hide_codebook {
                egui::Panel::right("codebook")
                    .resizable(true)
                    .default_size(330.0)
                    .min_size(240.0)
                    .show(ui, |ui| self.codebook_ui(ui));
            }
            egui::CentralPanel::default().show(ui, |ui| self.document_ui(ui));
        }

        self.dialogs_ui(&ctx);
        self.export_ui(&ctx);
        self.autosave(&ctx);
        if self.journaled
            && let Some(doc) = &self.doc
            && !doc.is_dirty()
        {
            if let Some(j) = &self.journal {
                j.clear(&doc.sidecar_path);
            }
            self.journaled = false;
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, VIEW_STATE_KEY, &self.view_state);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.save_on_close();
    }
}

/// The window's icon (the 256 px size of `assets/icons/`).
pub const WINDOW_ICON: &[u8] =
    include_bytes!("../../assets/icons/hicolor/256x256/apps/marginalia.png");

/// Starts the app in a window. Fails with a one-line message when no window can be opened.
pub fn run(path: Option<PathBuf>) -> anyhow::Result<()> {
    if cfg!(target_os = "linux")
        && std::env::var_os("DISPLAY").is_none_or(|d| d.is_empty())
        && std::env::var_os("WAYLAND_DISPLAY").is_none_or(|d| d.is_empty())
    {
        anyhow::bail!(
            "cannot open a window: no display (DISPLAY and WAYLAND_DISPLAY are unset); the command line works without one, see marginalia --help"
        );
    }
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Marginalia")
        .with_app_id("marginalia")
        .with_inner_size([1400.0, 860.0])
        .with_min_inner_size([800.0, 500.0]);
    match eframe::icon_data::from_png_bytes(WINDOW_ICON) {
        Ok(icon) => viewport = viewport.with_icon(icon),
        // The icon is part of the binary and checked by a test: this only guards a broken build.
        Err(e) => eprintln!("marginalia: window icon unreadable: {e}"),
    }
    let options = eframe::NativeOptions {
        viewport,
        persistence_path: SettingsStore::view_state_dir(),
        ..Default::default()
    };
    let app_options = AppOptions {
        path,
        settings_path: None,
        fallback: crate::cli::checkout_sample(),
    };
    eframe::run_native(
        "Marginalia",
        options,
        Box::new(move |cc| Ok(Box::new(MarginaliaApp::new(cc, app_options)))),
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "cannot open a window: {e}; the command line works without one, see marginalia --help"
        )
    })
}

/// What the user is told on opening a document whose spans wait for a look after its text changed
/// (now or at an earlier opening).
fn reanchor_notice(doc: &Document) -> Option<String> {
    let moved = doc
        .sidecar
        .spans
        .iter()
        .filter(|s| s.flag.is_some())
        .count();
    let orphans = doc.orphans().len();
    let count = |n: usize, what: &str| match n {
        0 => None,
        1 => Some(format!("1 span {what}")),
        n => Some(format!("{n} spans {what}")),
    };
    let parts: Vec<String> = [
        count(moved, "placed again"),
        count(orphans, "no longer found"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        return None;
    }
    Some(format!(
        "The transcript's text changed: {}. Check them at the top of the right panel.",
        parts.join(", ")
    ))
}
