//! Modal dialogs: the annotator's identity, the value of a span, the command palette, and the
//! keyboard help.

use egui::{Key, Modifiers, RichText};

use super::MarginaliaApp;
use super::action::{Action, Resolution};
use super::codebook_panel::{memo_id, span_note_id, span_value_id};
use super::commands;
use super::corpus_panel::filter_id;
use crate::codebook::DimensionKind;
use crate::sidecar::{Annotator, check_annotator_id};

fn span_popup_value_id() -> egui::Id {
    egui::Id::unique("span-popup-value")
}

fn palette_query_id() -> egui::Id {
    egui::Id::unique("palette-query")
}

fn identity_id_field() -> egui::Id {
    egui::Id::unique("identity-id")
}

fn identity_name_field() -> egui::Id {
    egui::Id::unique("identity-name")
}

/// True when the widget with this id is a box the user types into, where plain keys are text,
/// not shortcuts.
pub fn is_text_input(id: egui::Id) -> bool {
    [
        filter_id(),
        memo_id(),
        span_value_id(),
        span_note_id(),
        span_popup_value_id(),
        palette_query_id(),
        identity_id_field(),
        identity_name_field(),
        super::export_dialog::export_path_id(),
        super::review_panel::review_filter_id(),
        super::review_panel::gold_id_field(),
        super::search_panel::search_id(),
        super::corpus_panel::tag_query_id(),
        super::corpus_panel::date_ids()[0],
        super::corpus_panel::date_ids()[1],
    ]
    .contains(&id)
}

/// The annotator's identity being entered.
#[derive(Debug, Clone)]
pub struct IdentityForm {
    id: String,
    name: String,
    first_start: bool,
    pub(super) error: Option<String>,
    focus_pending: bool,
}

impl IdentityForm {
    /// A form filled with the current identity, if any.
    pub fn new(current: Option<Annotator>, first_start: bool) -> IdentityForm {
        let (id, name) = current.map(|a| (a.id, a.name)).unwrap_or_default();
        IdentityForm {
            id,
            name,
            first_start,
            error: None,
            focus_pending: true,
        }
    }
}

/// A line of the command palette.
struct PaletteItem {
    name: String,
    shortcut: String,
    help: String,
    action: PaletteAction,
}

/// What a line of the palette does.
#[derive(Clone)]
enum PaletteAction {
    Command(commands::Command),
    /// A code: dimension and value (`None`: a span dimension, whose value is asked).
    Code(String, Option<String>),
}

/// The command palette's state.
#[derive(Debug, Clone, Default)]
pub struct Palette {
    query: String,
    selected: usize,
    /// The query box has been given the focus (once: asking every frame fights the window system).
    focused: bool,
}

impl MarginaliaApp {
    pub(super) fn dialogs_ui(&mut self, ctx: &egui::Context) {
        self.identity_ui(ctx);
        self.recovery_ui(ctx);
        self.conflict_ui(ctx);
        self.codebook_confirm_ui(ctx);
        self.role_confirm_ui(ctx);
        self.span_popup_ui(ctx);
        self.palette_ui(ctx);
        self.help_ui(ctx);
        self.about_ui(ctx);
    }

    fn identity_ui(&mut self, ctx: &egui::Context) {
        let Some(form) = &mut self.dialogs.identity else {
            return;
        };
        let mut save = false;
        let mut cancel = false;
        egui::Modal::new(egui::Id::unique("identity")).show(ctx, |ui| {
            ui.set_width(420.0);
            ui.heading(if form.first_start { "Welcome to Marginalia" } else { "Annotator" });
            ui.label("Your tags are saved beside each transcript in a file named after your annotator id, e.g. prevent.txt.alice.ron.");
            ui.add_space(6.0);
            egui::Grid::new("identity-grid").num_columns(2).show(ui, |ui| {
                let l = ui.label("Annotator id");
                let r = ui.add(egui::TextEdit::singleline(&mut form.id).id(identity_id_field()).hint_text("e.g. alice")).labelled_by(l.id);
                if form.focus_pending {
                    r.request_focus();
                    form.focus_pending = false;
                }
                ui.end_row();
                let l = ui.label("Display name");
                ui.add(egui::TextEdit::singleline(&mut form.name).id(identity_name_field()).hint_text("e.g. Alice Archer"))
                    .labelled_by(l.id);
                ui.end_row();
            });
            ui.label(RichText::new("The id: 1 to 32 characters of a-z, 0-9, _ and -.").small());
            if let Some(e) = &form.error {
                ui.colored_label(egui::Color32::from_rgb(200, 60, 60), e);
            }
            ui.horizontal(|ui| {
                save = ui.button("Save").clicked() || ui.input(|i| i.key_pressed(Key::Enter));
                if !form.first_start && ui.button("Cancel").clicked() {
                    cancel = true;
                }
            });
        });
        if cancel {
            self.dialogs.identity = None;
            return;
        }
        if !save {
            return;
        }
        let id = form.id.trim().to_string();
        if let Err(e) = check_annotator_id(&id) {
            form.error = Some(e.to_string());
            return;
        }
        let name = if form.name.trim().is_empty() {
            id.clone()
        } else {
            form.name.trim().to_string()
        };
        self.act(Action::SetIdentity(Annotator { id, name }));
    }

    fn recovery_ui(&mut self, ctx: &egui::Context) {
        if self.dialogs.recovered.is_empty() || self.dialogs.identity.is_some() {
            return;
        }
        let mut action: Option<(usize, bool)> = None;
        egui::Modal::new(egui::Id::unique("recovery")).show(ctx, |ui| {
            ui.set_width(520.0);
            ui.heading("Unsaved work from the last session");
            ui.label("Marginalia did not close normally. These annotations were not saved:");
            for (i, (e, changes)) in self.dialogs.recovered.iter().enumerate() {
                ui.horizontal(|ui| {
                    ui.label(e.sidecar_path.display().to_string());
                    ui.label(RichText::new(changes).weak());
                    if ui.button("Restore").clicked() {
                        action = Some((i, true));
                    }
                    if ui.button("Discard").clicked() {
                        action = Some((i, false));
                    }
                });
            }
        });
        if let Some((i, restore)) = action {
            self.act(Action::Recover(i, restore));
        }
    }

    /// Asks before a codebook change rewrites colleagues' sidecars, saying which and how much.
    fn codebook_confirm_ui(&mut self, ctx: &egui::Context) {
        let Some((change, affected)) = &self.dialogs.codebook_confirm else {
            return;
        };
        let summary = self
            .ws
            .corpus
            .as_ref()
            .map(|c| change.describe(&c.codebook))
            .unwrap_or_default();
        let codings: usize = affected.iter().map(|a| a.codings).sum();
        let readable = affected.iter().filter(|a| a.unreadable.is_none()).count();
        let mut choice = None;
        egui::Modal::new(egui::Id::unique("codebook-confirm")).show(ctx, |ui| {
            ui.set_width(480.0);
            ui.heading("Change the codebook");
            ui.label(format!("The history will record: {summary}."));
            ui.label(format!(
                "{codings} codings in {readable} sidecars change; each sidecar is backed up beside itself first, and the change goes into the folder's codebook history.",
            ));
            egui::ScrollArea::vertical().max_height(160.0).show(ui, |ui| {
                for a in affected {
                    let name = a.path.file_name().unwrap_or_default().to_string_lossy();
                    match &a.unreadable {
                        None => {
                            let n = a.codings;
                            let noun = if n == 1 { "coding" } else { "codings" };
                            ui.label(RichText::new(format!("{name}: {n} {noun}")).small());
                        }
                        Some(why) => {
                            ui.colored_label(
                                egui::Color32::from_rgb(200, 140, 0),
                                format!("{name}: cannot be read, left as it is ({why})"),
                            );
                        }
                    }
                }
            });
            ui.horizontal(|ui| {
                if ui.button("Change the codebook").clicked() {
                    choice = Some(true);
                }
                if ui.button("Cancel").clicked() || ui.input(|i| i.key_pressed(Key::Escape)) {
                    choice = Some(false);
                }
            });
        });
        match choice {
            Some(true) => {
                let change = change.clone();
                self.act(Action::CommitCodebookChange(change));
            }
            Some(false) => self.dialogs.codebook_confirm = None,
            None => {}
        }
    }

    fn conflict_ui(&mut self, ctx: &egui::Context) {
        if !self.ed.conflict {
            return;
        }
        let mut choice = None;
        egui::Modal::new(egui::Id::unique("conflict")).show(ctx, |ui| {
            ui.set_width(460.0);
            ui.heading("Your annotations changed on disk");
            ui.label("Someone else (a colleague, a git pull, another window) wrote this document's sidecar while you had unsaved changes. Nothing is lost whichever you choose.");
            ui.add_space(6.0);
            if ui.button("Keep mine").on_hover_text("Write your version; theirs is kept beside it as a .theirs-….bak copy").clicked() {
                choice = Some(Resolution::KeepMine);
            }
            if ui.button("Take theirs").on_hover_text("Load their version; yours is kept beside it as a .mine-….bak copy").clicked() {
                choice = Some(Resolution::TakeTheirs);
            }
            if ui.button("Merge by annotation id").on_hover_text("Spans and tags from both; yours win where both changed the same one").clicked() {
                choice = Some(Resolution::Merge);
            }
        });
        if let Some(choice) = choice {
            self.act(Action::ResolveConflict(choice));
        }
    }

    fn span_popup_ui(&mut self, ctx: &egui::Context) {
        let (Some(pending), Some(corpus), Some(doc)) =
            (&mut self.ed.pending, &self.ws.corpus, &self.ed.doc)
        else {
            return;
        };
        let Some(dim) = corpus.codebook.dimension(&pending.dimension).cloned() else {
            self.ed.pending = None;
            return;
        };
        let quote: String = doc
            .transcript
            .part(pending.part)
            .map(|p| {
                p.text()
                    .chars()
                    .skip(pending.range.start)
                    .take(pending.range.len())
                    .collect()
            })
            .unwrap_or_default();
        let suggestions: Vec<String> = match dim.kind {
            DimensionKind::Entity => corpus
                .suggestions(&dim.id, &pending.value)
                .into_iter()
                .take(8)
                .collect(),
            _ => Vec::new(),
        };
        let mut accept: Option<String> = None;
        let mut cancel = ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Escape));
        egui::Modal::new(egui::Id::unique("span-popup")).show(ctx, |ui| {
            ui.set_width(440.0);
            ui.heading(&dim.label);
            ui.label(
                RichText::new(format!("“{}”", crate::sidecar::ellipsize(&quote, 120))).italics(),
            );
            ui.add_space(4.0);
            match dim.kind {
                DimensionKind::Entity => {
                    let down = ui.input_mut(|i| i.consume_key(Modifiers::NONE, Key::ArrowDown));
                    let up = ui.input_mut(|i| i.consume_key(Modifiers::NONE, Key::ArrowUp));
                    if down && !suggestions.is_empty() {
                        pending.suggestion = Some(
                            pending
                                .suggestion
                                .map_or(0, |s| (s + 1).min(suggestions.len() - 1)),
                        );
                    }
                    if up {
                        pending.suggestion = pending.suggestion.and_then(|s| s.checked_sub(1));
                    }
                    let l = ui.label("Value");
                    let r = ui
                        .add(
                            egui::TextEdit::singleline(&mut pending.value)
                                .id(span_popup_value_id())
                                .hint_text("Who or what is cited")
                                .desired_width(f32::INFINITY),
                        )
                        .labelled_by(l.id);
                    if pending.focus_pending {
                        r.request_focus();
                        pending.focus_pending = false;
                    }
                    if r.changed() {
                        pending.suggestion = None;
                    }
                    let enter = ui.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Enter));
                    for (i, s) in suggestions.iter().enumerate() {
                        let selected = pending.suggestion == Some(i);
                        if ui.selectable_label(selected, s).clicked() {
                            accept = Some(s.clone());
                        }
                    }
                    if enter {
                        accept = Some(match pending.suggestion.and_then(|i| suggestions.get(i)) {
                            Some(s) => s.clone(),
                            None => pending.value.clone(),
                        });
                    }
                    ui.label(
                        RichText::new("Enter: tag · Up/Down: suggestions · Esc: cancel").small(),
                    );
                }
                DimensionKind::OneChoice | DimensionKind::SeveralChoices => {
                    for v in &dim.values {
                        if ui.button(&v.label).on_hover_text(&v.description).clicked() {
                            accept = Some(v.id.clone());
                        }
                    }
                }
            }
            ui.horizontal(|ui| {
                if dim.kind == DimensionKind::Entity && ui.button("Tag").clicked() {
                    accept = Some(pending.value.clone());
                }
                if ui.button("Cancel").clicked() {
                    cancel = true;
                }
            });
        });
        if cancel {
            self.ed.pending = None;
        } else if let Some(v) = accept {
            if dim.kind == DimensionKind::Entity && v.trim().is_empty() {
                self.notice = Some("Type the name of what is cited".to_string());
                return;
            }
            self.act(Action::FinishSpan(v));
        }
    }

    fn palette_ui(&mut self, ctx: &egui::Context) {
        let Some(palette) = &mut self.dialogs.palette else {
            return;
        };
        let query = palette.query.to_lowercase();
        // Commands, then every code of the codebook: "evasive" finds Tone of answer: Evasive.
        let mut items: Vec<PaletteItem> = commands::all()
            .into_iter()
            .map(|c| PaletteItem {
                name: c.name.to_string(),
                shortcut: c
                    .shortcuts
                    .first()
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
                help: c.help.to_string(),
                action: PaletteAction::Command(c.command),
            })
            .collect();
        if let Some(corpus) = &self.ws.corpus {
            for d in &corpus.codebook.dimensions {
                if d.applies_to == crate::codebook::AppliesTo::Span {
                    items.push(PaletteItem {
                        name: format!("Tag the selection: {}", d.label),
                        shortcut: d.key.clone().unwrap_or_default(),
                        help: d.description.clone(),
                        action: PaletteAction::Code(d.id.clone(), None),
                    });
                }
                for v in &d.values {
                    items.push(PaletteItem {
                        name: format!("{}: {}", d.label, v.label),
                        shortcut: v.key.clone().unwrap_or_default(),
                        help: v.description.clone(),
                        action: PaletteAction::Code(d.id.clone(), Some(v.id.clone())),
                    });
                }
            }
        }
        let matches: Vec<PaletteItem> = items
            .into_iter()
            .filter(|c| {
                c.name.to_lowercase().contains(&query) || c.help.to_lowercase().contains(&query)
            })
            .collect();
        let mut run = None;
        let mut close = ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Escape));
        egui::Modal::new(egui::Id::unique("palette")).show(ctx, |ui| {
            ui.set_width(460.0);
            let down = ui.input_mut(|i| i.consume_key(Modifiers::NONE, Key::ArrowDown));
            let up = ui.input_mut(|i| i.consume_key(Modifiers::NONE, Key::ArrowUp));
            let enter = ui.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Enter));
            let r = ui
                .horizontal(|ui| {
                    let l = ui.label("Command");
                    ui.add(
                        egui::TextEdit::singleline(&mut palette.query)
                            .id(palette_query_id())
                            .hint_text("type to find a command…")
                            .desired_width(f32::INFINITY),
                    )
                    .labelled_by(l.id)
                })
                .inner;
            if !palette.focused {
                r.request_focus();
                palette.focused = true;
            }
            if r.changed() {
                palette.selected = 0;
            }
            if down {
                palette.selected = (palette.selected + 1).min(matches.len().saturating_sub(1));
            }
            if up {
                palette.selected = palette.selected.saturating_sub(1);
            }
            egui::ScrollArea::vertical()
                .max_height(360.0)
                .show(ui, |ui| {
                    for (i, c) in matches.iter().enumerate() {
                        let b = egui::Button::selectable(i == palette.selected, c.name.as_str())
                            .shortcut_text(c.shortcut.as_str());
                        let r = ui.add_sized([ui.available_width(), 22.0], b);
                        if i == palette.selected && (up || down) {
                            r.scroll_to_me(None);
                        }
                        if r.on_hover_text(c.help.as_str()).clicked() {
                            run = Some(c.action.clone());
                        }
                    }
                });
            if matches.is_empty() {
                ui.label("No command or code matches");
            }
            if enter && let Some(c) = matches.get(palette.selected) {
                run = Some(c.action.clone());
            }
        });
        if let Some(action) = run {
            self.dialogs.palette = None;
            match action {
                PaletteAction::Command(c) => self.act(Action::Command(c)),
                PaletteAction::Code(dimension, value) => {
                    let selection = self.ed.view.selection.clone();
                    self.act(Action::ApplyCode {
                        dimension,
                        value,
                        selection,
                    });
                }
            }
        } else if close {
            self.dialogs.palette = None;
            close = false;
        }
        let _ = close;
    }

    fn help_ui(&mut self, ctx: &egui::Context) {
        if !self.dialogs.help_open {
            return;
        }
        let mut open = true;
        egui::Window::new("Keyboard shortcuts")
            .open(&mut open)
            .collapsible(false)
            .default_width(560.0)
            .pivot(egui::Align2::CENTER_CENTER)
            .default_pos(ctx.content_rect().center())
            .vscroll(true)
            .show(ctx, |ui| {
                egui::Grid::new("help-commands")
                    .num_columns(3)
                    .striped(true)
                    .show(ui, |ui| {
                        for c in commands::all() {
                            let keys: Vec<String> =
                                c.shortcuts.iter().map(|s| s.to_string()).collect();
                            ui.label(RichText::new(keys.join(", ")).monospace());
                            ui.label(c.name);
                            ui.label(RichText::new(c.help).small());
                            ui.end_row();
                        }
                    });
                if let Some(corpus) = &self.ws.corpus {
                    ui.separator();
                    ui.label(RichText::new(format!("Codebook: {}", corpus.codebook.name)).strong());
                    ui.label(
                        RichText::new("Plain keys work while reading; in a text box they type.")
                            .small(),
                    );
                    egui::Grid::new("help-codebook")
                        .num_columns(2)
                        .striped(true)
                        .show(ui, |ui| {
                            for d in &corpus.codebook.dimensions {
                                if let Some(k) = &d.key {
                                    ui.label(RichText::new(k).monospace());
                                    ui.label(format!("Tag selection: {}", d.label));
                                    ui.end_row();
                                }
                                for v in &d.values {
                                    if let Some(k) = &v.key {
                                        ui.label(RichText::new(k).monospace());
                                        ui.label(format!("{}: {}", d.label, v.label));
                                        ui.end_row();
                                    }
                                }
                            }
                        });
                }
            });
        if !open {
            self.dialogs.help_open = false;
        }
    }
}
