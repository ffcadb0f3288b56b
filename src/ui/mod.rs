//! The desktop app (egui + eframe): the corpus list, question and answer side by side, the
//! codebook panel, and the keyboard commands.

pub mod action;
pub mod analysis_panel;
mod apply;
pub mod chart_view;
mod codebook_panel;
pub mod coding_panel;
pub mod commands;
pub use codebook_panel::memo_id;
mod corpus_panel;
mod dialogs;
mod document_panel;
pub mod export_dialog;
pub mod import_dialog;
pub mod keys;
pub mod review_panel;
mod roles_panel;
pub mod search_panel;
pub mod settings;
pub mod state;
mod style;
pub mod task;
pub mod text_view;
mod watch;
mod welcome;

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::corpus::CorpusIndex;
use crate::document::Document;
use crate::sidecar::Annotator;
use crate::transcript::PartId;
use action::Action;
use settings::SettingsStore;
pub use state::{DocView, PendingSpan};

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

/// The app: its state split by concern, the actions the panels pushed this frame, and what
/// lives for the whole session (settings, view state, the journal writer).
pub struct MarginaliaApp {
    settings: SettingsStore,
    view_state: ViewState,
    /// The corpus, the list, its filters and the search.
    ws: state::Workspace,
    /// The open document, its view and pending input.
    ed: state::Editor,
    /// Review mode, while on.
    review: Option<review_panel::ReviewState>,
    /// The export dialog, while open.
    export: Option<export_dialog::ExportDialog>,
    /// Analysis, while on (kept, hidden, while a document opened from it is looked at).
    analysis: Option<analysis_panel::AnalysisState>,
    /// Palette, help, about, identity, recovery, import and the file dialog.
    dialogs: state::Dialogs,
    /// A short message for the status bar (errors of commands).
    notice: Option<String>,
    journal: Option<crate::journal::JournalWriter>,
    /// The user's data folder, where the sample corpus is copied.
    data_dir: Option<PathBuf>,
    /// egui's clock at the start of this frame, for edits made where no context is at hand.
    now: f64,
    repaint: Option<egui::Context>,
    /// The codebook the selection colour was chosen for.
    selection_for: Option<(u64, String)>,
    /// What the panels asked for this frame, performed by `apply` after drawing.
    actions: Vec<action::Action>,
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
            view_state,
            ws: state::Workspace::default(),
            ed: state::Editor::default(),
            review: None,
            export: None,
            analysis: None,
            dialogs: state::Dialogs::default(),
            notice: None,
            journal: None,
            data_dir,
            now: 0.0,
            repaint: Some(cc.egui_ctx.clone()),
            selection_for: None,
            actions: Vec::new(),
        };
        // The journal sits beside the settings: the user's own folder.
        if let Some(dir) = app.settings.path.as_ref().and_then(|p| p.parent()) {
            let journal = crate::journal::Journal::new(dir.join("journal"));
            // What each would change, read once: the dialog is drawn every frame.
            app.dialogs.recovered = journal
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
            app.dialogs.identity = Some(dialogs::IdentityForm::new(None, true));
        }
        // Nothing given and nothing remembered: the fallback (the checkout's sample folder under
        // `cargo run`), else the welcome screen.
        let path = options
            .path
            .or_else(|| app.view_state.last_path.clone().filter(|p| p.exists()))
            .or(options.fallback);
        if let Some(sort) = app.view_state.sort {
            app.ws.sort = sort;
        }
        if let Some(path) = path {
            // The document that was open, when it lies in the folder opened again.
            let last_document = app
                .view_state
                .last_document
                .clone()
                .filter(|d| path.is_dir() && d.starts_with(&path) && d.exists());
            app.open_at_start(&path, last_document);
        }
        app
    }

    fn apply_view_state(&mut self, ctx: &egui::Context) {
        ctx.options_mut(|o| o.zoom_with_keyboard = false);
        style::install(ctx);
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
        self.ed.doc.as_ref()
    }

    /// The corpus.
    pub fn corpus(&self) -> Option<&CorpusIndex> {
        self.ws.corpus.as_ref()
    }

    /// The selection used for span tagging.
    pub fn selection(&self) -> Option<&(PartId, Range<usize>)> {
        self.ed.view.selection.as_ref()
    }

    /// True while the welcome screen shows: nothing is open.
    pub fn is_welcome(&self) -> bool {
        self.ws.root.is_none()
    }

    /// The document list's scroll offset, as last drawn.
    pub fn list_offset(&self) -> f32 {
        self.ws.list_offset
    }

    /// True while Help > About is open.
    pub fn about_is_open(&self) -> bool {
        self.dialogs.about_open
    }

    /// The exchange the keys tag (speaker-turn documents).
    pub fn target_exchange(&self) -> u32 {
        self.ed.view.exchange
    }

    /// Analysis, while on.
    pub fn analysis(&self) -> Option<&analysis_panel::AnalysisState> {
        self.analysis.as_ref()
    }

    /// The search's hits, with the contexts their rows have shown.
    pub fn search_hits(&self) -> &[crate::search::Hit] {
        &self.ws.search.hits
    }

    /// The last message shown in the status bar.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// Documents read and to read, while the folder loads.
    pub fn loading_progress(&self) -> Option<(usize, usize)> {
        let l = self.ws.loading.as_ref()?;
        Some((
            self.ws.corpus.as_ref().map_or(0, |c| c.entries.len()),
            l.total,
        ))
    }

    fn refilter(&mut self) {
        let Some(corpus) = &self.ws.corpus else {
            self.ws.visible.clear();
            return;
        };
        // A tag query over a colleague's sidecars is read in a task; the rest filters here.
        let mut filter = self.ws.filter.clone();
        let other = self.ws.tags_of.is_some() && !filter.tags.trim().is_empty();
        if other {
            filter.tags.clear();
        }
        match corpus.filter_by(&filter) {
            Ok(mut rows) => {
                if other {
                    match &self.ws.tag_matches {
                        Some(set) => rows.retain(|i| set.contains(i)),
                        None => rows.clear(),
                    }
                }
                corpus.sort(&mut rows, self.ws.sort.0, self.ws.sort.1);
                self.ws.visible = rows;
                self.ws.filter_error = None;
            }
            Err(e) => self.ws.filter_error = Some(e.to_string()),
        }
        self.filter_hits();
    }

    /// Asks for something to be done after this frame's drawing.
    pub fn act(&mut self, action: Action) {
        self.actions.push(action);
    }

    /// Asks for something and does it now: for tests and benches that drive the app without
    /// drawing a frame.
    pub fn act_now(&mut self, ctx: &egui::Context, action: Action) {
        self.act(action);
        self.apply(ctx);
    }

    fn handle_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped = ctx.input(|i| i.raw.dropped_files.first().map(|f| f.path().to_path_buf()));
        if let Some(path) = dropped {
            self.act(Action::OpenPath(path));
        }
    }

    fn handle_keys(&mut self, ctx: &egui::Context) {
        if self.dialogs.identity.is_some()
            || self.dialogs.palette.is_some()
            || self.ed.pending.is_some()
            || self.ed.conflict
            // A codebook window over the document: a key there never codes the page behind.
            || self.dialogs.codebook_split.is_some()
            || self.dialogs.codebook_confirm.is_some()
        {
            return;
        }
        for info in commands::all() {
            if info.shortcuts.iter().any(|s| keys::take(ctx, s)) {
                self.act(Action::Command(info.command));
            }
        }
        if self.dialogs.help_open
            && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape))
        {
            self.dialogs.help_open = false;
        }
        // Plain keys are text in any box the user types into: a known one, or any other text box
        // with the keyboard that is not one of the transcript's (read-only) paragraphs.
        let typing = ctx
            .memory(|m| m.focused())
            .is_some_and(dialogs::is_text_input)
            || (ctx.egui_wants_keyboard_input() && !self.ed.view.paragraph_focused);
        let Some(corpus) = &self.ws.corpus else {
            return;
        };
        let mut actions = Vec::new();
        for dim in &corpus.codebook.dimensions {
            if let Some(k) = &dim.key
                && let Ok(s) = crate::shortcut::Shortcut::parse(k)
                && !(typing && s.is_typing_key())
                && keys::take(ctx, &s)
            {
                actions.push(Action::ApplyCode {
                    dimension: dim.id.clone(),
                    value: None,
                    selection: self.ed.view.selection.clone(),
                });
            }
            for v in &dim.values {
                if let Some(k) = &v.key
                    && let Ok(s) = crate::shortcut::Shortcut::parse(k)
                    && !(typing && s.is_typing_key())
                    && keys::take(ctx, &s)
                {
                    actions.push(Action::ApplyCode {
                        dimension: dim.id.clone(),
                        value: Some(v.id.clone()),
                        selection: self.ed.view.selection.clone(),
                    });
                }
            }
        }
        self.actions.extend(actions);
    }

    /// Gives the text selection, in both themes, the colour least like any span code of the
    /// codebook, so a selection is never taken for a coded span.
    fn choose_selection_color(&mut self, ctx: &egui::Context) {
        let Some(corpus) = &self.ws.corpus else {
            return;
        };
        if self
            .selection_for
            .as_ref()
            .is_some_and(|(g, id)| *g == self.ws.codebook_generation && *id == corpus.codebook.id)
        {
            return;
        }
        let key = (self.ws.codebook_generation, corpus.codebook.id.clone());
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
}

impl eframe::App for MarginaliaApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.now = ctx.input(|i| i.time);
        self.choose_selection_color(&ctx);
        if let Some(e) = self.journal.as_ref().and_then(|j| j.take_error()) {
            self.notice = Some(format!("Crash recovery cannot keep this work: {e}"));
        }
        self.poll_tasks();
        self.handle_dropped_files(&ctx);
        if ctx.input(|i| i.viewport().close_requested()) {
            self.closing();
        }
        self.handle_keys(&ctx);
        self.draw(ui, &ctx);
        self.apply(&ctx);
        self.after_frame(&ctx);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, VIEW_STATE_KEY, &self.view_state);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.closing();
    }
}

impl MarginaliaApp {
    /// Draws every panel and dialog from the state; what they ask for is in `self.actions`.
    fn draw(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        egui::Panel::top("menu").show(ui, |ui| self.menu_ui(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_ui(ui));
        if self.ws.root.is_none() && self.review.is_none() {
            egui::CentralPanel::default().show(ui, |ui| self.welcome_ui(ui));
            self.dialogs_ui(ctx);
            return;
        }
        if !self.view_state.hide_list {
            egui::Panel::left("corpus")
                .resizable(true)
                .default_size(300.0)
                .min_size(180.0)
                .show(ui, |ui| self.corpus_ui(ui));
        }
        if self.analysis.as_ref().is_some_and(|a| a.open) {
            egui::CentralPanel::default().show(ui, |ui| self.analysis_ui(ui));
        } else if let Some(review) = &self.review {
            // Adjudication belongs to one document: the corpus-wide tabs get the whole width.
            if review.tab == review_panel::ReviewTab::Document {
                egui::Panel::right("adjudication")
                    .resizable(true)
                    .default_size(380.0)
                    .min_size(260.0)
                    .show(ui, |ui| self.adjudication_ui(ui));
            }
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

        self.dialogs_ui(ctx);
        self.export_ui(ctx);
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
