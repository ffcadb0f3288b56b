//! The menu bar, the status bar and the corpus list.

use egui::{Color32, RichText};

use super::MarginaliaApp;
use super::commands::{self, Command};
use crate::document::SaveState;
use crate::sidecar::Status;

/// Widget id of the corpus filter box.
pub fn filter_id() -> egui::Id {
    egui::Id::unique("corpus-filter")
}

impl MarginaliaApp {
    fn command_button(&mut self, ui: &mut egui::Ui, command: Command) {
        let info = commands::info(command);
        let shortcut = info
            .shortcuts
            .first()
            .map(|s| s.to_string())
            .unwrap_or_default();
        let enabled = match command {
            Command::Undo => self.doc.as_ref().is_some_and(|d| d.history_len().0 > 0),
            Command::Redo => self.doc.as_ref().is_some_and(|d| d.history_len().1 > 0),
            Command::Save | Command::ToggleDone => {
                self.doc.as_ref().is_some_and(|d| d.is_editable())
            }
            Command::NextDocument | Command::PreviousDocument | Command::NextNotDone => {
                !self.visible.is_empty()
            }
            _ => true,
        };
        let button = egui::Button::new(info.name).shortcut_text(shortcut);
        if ui
            .add_enabled(enabled, button)
            .on_hover_text(info.help)
            .clicked()
        {
            let ctx = ui.ctx().clone();
            self.run_command(&ctx, command);
        }
    }

    pub(super) fn menu_ui(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                self.command_button(ui, Command::OpenFile);
                self.command_button(ui, Command::OpenFolder);
                let recent = self.settings.settings.recent.clone();
                ui.menu_button("Recent folders", |ui| {
                    if recent.is_empty() {
                        ui.label("No folder opened yet");
                    }
                    for folder in recent {
                        if ui.button(folder.display().to_string()).clicked() {
                            self.open_path(&folder);
                        }
                    }
                });
                ui.separator();
                self.command_button(ui, Command::Save);
                ui.separator();
                self.command_button(ui, Command::Quit);
            });
            ui.menu_button("Edit", |ui| {
                self.command_button(ui, Command::Undo);
                self.command_button(ui, Command::Redo);
            });
            ui.menu_button("Document", |ui| {
                self.command_button(ui, Command::NextDocument);
                self.command_button(ui, Command::PreviousDocument);
                self.command_button(ui, Command::NextNotDone);
                self.command_button(ui, Command::ToggleDone);
                ui.separator();
                self.command_button(ui, Command::FocusFilter);
            });
            ui.menu_button("View", |ui| {
                self.command_button(ui, Command::ZoomIn);
                self.command_button(ui, Command::ZoomOut);
                self.command_button(ui, Command::ZoomReset);
                ui.separator();
                ui.menu_button("Theme", |ui| {
                    let ctx = ui.ctx().clone();
                    for (name, id) in [
                        ("Follow the system", "system"),
                        ("Light", "light"),
                        ("Dark", "dark"),
                    ] {
                        let current = self.view_state.theme == id
                            || (id == "system" && self.view_state.theme.is_empty());
                        if ui.radio(current, name).clicked() {
                            self.set_theme(&ctx, id);
                        }
                    }
                });
                self.command_button(ui, Command::ToggleTheme);
                ui.separator();
                self.command_button(ui, Command::Palette);
                self.command_button(ui, Command::Help);
            });
            ui.menu_button("Settings", |ui| {
                self.command_button(ui, Command::Settings);
            });
        });
    }

    pub(super) fn status_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            match self.annotator() {
                Some(a) => ui.label(format!("Annotator: {} ({})", a.name, a.id)),
                None => ui
                    .label(RichText::new("No annotator yet").color(Color32::from_rgb(200, 120, 0))),
            };
            ui.separator();
            if let Some(doc) = &self.doc {
                let (text, color) = match &doc.save_state {
                    _ if !doc.is_editable() => (
                        "Read-only: sidecar unreadable".to_string(),
                        Color32::from_rgb(200, 60, 60),
                    ),
                    SaveState::Saved => ("Saved".to_string(), ui.visuals().weak_text_color()),
                    SaveState::Unsaved => ("Unsaved".to_string(), Color32::from_rgb(200, 140, 0)),
                    SaveState::Saving => ("Saving…".to_string(), Color32::from_rgb(200, 140, 0)),
                    SaveState::Failed(e) => {
                        (format!("Save failed: {e}"), Color32::from_rgb(200, 60, 60))
                    }
                };
                ui.label(RichText::new(text).color(color));
                ui.separator();
            }
            if let (Some(c), Some(corpus)) = (self.current, &self.corpus) {
                let pos = self.visible.iter().position(|&i| i == c).map(|p| p + 1);
                match pos {
                    Some(p) => ui.label(format!("Document {p} of {}", self.visible.len())),
                    None => ui.label(format!(
                        "Document {} of {} (outside the filter)",
                        c + 1,
                        corpus.entries.len()
                    )),
                };
            }
            if let Some((part, range)) = &self.view.selection {
                ui.separator();
                ui.label(format!(
                    "Selected: {part} {}–{} ({} chars)",
                    range.start,
                    range.end,
                    range.len()
                ));
            }
            if let Some(n) = &self.notice {
                ui.separator();
                ui.label(RichText::new(n).color(Color32::from_rgb(200, 120, 0)));
            }
        });
    }

    pub(super) fn corpus_ui(&mut self, ui: &mut egui::Ui) {
        let Some(corpus) = &self.corpus else {
            ui.heading("No folder open");
            if let Some(e) = &self.corpus_error {
                ui.colored_label(Color32::from_rgb(200, 60, 60), e);
            }
            ui.label(
                "Open a folder of transcripts with File > Open folder… or drop one on the window.",
            );
            return;
        };
        let root_name = corpus
            .files
            .root
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| corpus.files.root.display().to_string());
        ui.heading(root_name);
        if let Some(e) = &corpus.codebook_error {
            ui.colored_label(
                Color32::from_rgb(200, 60, 60),
                format!("{e} (using the built-in codebook)"),
            );
        }
        if let Some(e) = &self.corpus_error {
            ui.colored_label(Color32::from_rgb(200, 60, 60), e);
        }
        let response = ui
            .horizontal(|ui| {
                let l = ui.label("Filter");
                let filter = egui::TextEdit::singleline(&mut self.filter)
                    .id(filter_id())
                    .hint_text("title, member, party… (Ctrl+F)")
                    .desired_width(f32::INFINITY);
                ui.add(filter).labelled_by(l.id)
            })
            .inner;
        if self.focus_filter {
            response.request_focus();
            self.focus_filter = false;
        }
        if response.changed() {
            self.refilter();
        }
        let corpus = self.corpus.as_ref().expect("checked above");
        let total = corpus.entries.len();
        let done = corpus
            .entries
            .iter()
            .filter(|e| e.status == Status::Done)
            .count();
        ui.label(
            RichText::new(format!(
                "{} of {total} documents · {done} done",
                self.visible.len()
            ))
            .small()
            .color(ui.visuals().weak_text_color()),
        );
        ui.separator();
        let row_height = ui.text_style_height(&egui::TextStyle::Body) * 2.0 + 10.0;
        let mut clicked = None;
        let visible = self.visible.clone();
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show_rows(ui, row_height, visible.len(), |ui, rows| {
                for &i in &visible[rows] {
                    let e = &corpus.entries[i];
                    let selected = self.current == Some(i);
                    let (mark, mark_color) = match (&e.error, e.status) {
                        (Some(_), _) => ("!", Color32::from_rgb(200, 60, 60)),
                        (None, Status::Done) => ("•", Color32::from_rgb(60, 160, 90)),
                        (None, Status::InProgress) => ("•", Color32::from_rgb(220, 150, 0)),
                        (None, Status::NotStarted) => ("•", ui.visuals().weak_text_color()),
                    };
                    let date = e.date.map(|d| d.to_string()).unwrap_or_default();
                    let details: Vec<&str> = [date.as_str(), e.member.as_str(), e.party.as_str()]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect();
                    let mut job = egui::text::LayoutJob::default();
                    let body = egui::TextStyle::Body.resolve(ui.style());
                    let small = egui::TextStyle::Small.resolve(ui.style());
                    job.append(
                        &format!("{mark} "),
                        0.0,
                        egui::TextFormat::simple(body.clone(), mark_color),
                    );
                    job.append(
                        &e.title,
                        0.0,
                        egui::TextFormat::simple(body, ui.visuals().strong_text_color()),
                    );
                    job.append(
                        &format!("\n{}", details.join(" · ")),
                        0.0,
                        egui::TextFormat::simple(small, ui.visuals().weak_text_color()),
                    );
                    job.wrap.max_rows = 2;
                    let r = ui.add_sized(
                        [ui.available_width(), row_height - 4.0],
                        egui::Button::selectable(selected, job).truncate(),
                    );
                    let r = match &e.error {
                        Some(err) => r.on_hover_text(err),
                        None => r.on_hover_text(format!(
                            "{} · {} codings · {}",
                            e.file_name,
                            e.codings,
                            e.status.as_str()
                        )),
                    };
                    if r.clicked() {
                        clicked = Some(i);
                    }
                }
            });
        if let Some(i) = clicked {
            self.open_entry(i);
        }
    }
}
