//! Who asks and who answers in a turn-based transcript (a hearing, an interview): the reader's
//! guess for each speaker, which the user can swap, per document, in their own sidecar. Codings
//! follow their words into the rebuilt exchanges; what cannot follow is listed and asked about.

use egui::RichText;

use super::MarginaliaApp;
use super::action::Action;
use crate::document::RoleChange;
use crate::transcript::{Format, Role};

impl MarginaliaApp {
    /// The speakers of the open document and their roles, under the document's header.
    pub(super) fn roles_ui(&mut self, ui: &mut egui::Ui) {
        let Some(doc) = &self.ed.doc else { return };
        if doc.transcript.format != Format::SpeakerTurns {
            return;
        }
        let speakers = doc.speaker_roles();
        if speakers.is_empty() {
            return;
        }
        let editable = doc.is_editable();
        let set = speakers.iter().filter(|s| s.set).count();
        let title = match set {
            0 => format!(
                "Speakers ({}): who asks and who answers, as guessed",
                speakers.len()
            ),
            n => format!("Speakers ({}): {n} set by you", speakers.len()),
        };
        let mut change = None;
        egui::CollapsingHeader::new(title)
            .id_salt("speaker-roles")
            .show(ui, |ui| {
                egui::Grid::new("speaker-roles-grid")
                    .num_columns(3)
                    .show(ui, |ui| {
                        for s in &speakers {
                            let l = ui.label(&s.speaker);
                            let mut role = s.role;
                            ui.add_enabled_ui(editable, |ui| {
                                egui::ComboBox::new(("role", &s.speaker), "")
                                    .selected_text(match role {
                                        Role::Asker => "asks",
                                        Role::Answerer => "answers",
                                    })
                                    .width(90.0)
                                    .show_ui(ui, |ui| {
                                        ui.selectable_value(&mut role, Role::Asker, "asks");
                                        ui.selectable_value(&mut role, Role::Answerer, "answers");
                                    })
                                    .response
                                    .labelled_by(l.id);
                            });
                            if role != s.role {
                                change = Some((s.speaker.clone(), Some(role)));
                            }
                            if s.set {
                                if ui
                                    .add_enabled(editable, egui::Button::new("back to the guess"))
                                    .clicked()
                                {
                                    change = Some((s.speaker.clone(), None));
                                }
                            } else {
                                ui.label(
                                    RichText::new("guessed").color(super::style::secondary(ui)),
                                );
                            }
                            ui.end_row();
                        }
                    });
            });
        if let Some((speaker, role)) = change {
            self.act(Action::SetRole { speaker, role });
        }
    }

    /// Asks before a role change that some codings cannot follow, listing them.
    pub(super) fn role_confirm_ui(&mut self, ctx: &egui::Context) {
        let Some((speaker, change)) = &self.dialogs.role_confirm else {
            return;
        };
        let mut choice = None;
        egui::Modal::new(egui::Id::unique("role-confirm")).show(ctx, |ui| {
            ui.set_width(520.0);
            ui.heading(format!("Change {speaker}'s role"));
            ui.label(format!(
                "{} codings follow their words; these cannot, and stay flagged where they were (undo brings everything back):",
                change.moved
            ));
            egui::ScrollArea::vertical().max_height(180.0).show(ui, |ui| {
                for line in &change.unplaced {
                    ui.label(RichText::new(line).small());
                }
            });
            ui.horizontal(|ui| {
                if ui.button("Change the role").clicked() {
                    choice = Some(true);
                }
                if ui.button("Cancel").clicked() || ui.input(|i| i.key_pressed(egui::Key::Escape))
                {
                    choice = Some(false);
                }
            });
        });
        match choice {
            Some(true) => {
                let edit = change.edit.clone();
                self.dialogs.role_confirm = None;
                self.act(Action::Edit(edit));
            }
            Some(false) => self.dialogs.role_confirm = None,
            None => {}
        }
    }
}

/// The line said after a role change.
pub(super) fn role_notice(speaker: &str, change: &RoleChange) -> String {
    format!(
        "{speaker}'s role changed; {} codings followed their words",
        change.moved
    )
}
