//! "This document": the open document's status, memo and every coding of it (part tags and spans,
//! in text order), with the editor of the selected span. It sits at the foot of the right panel,
//! always in view however long the codebook above it is.

use egui::{Color32, RichText};

use super::MarginaliaApp;
use super::action::Action;
use super::codebook_panel::{memo_id, span_note_id, span_value_id};
use super::document_panel::color32;
use crate::codebook::Codebook;
use crate::document::Edit;
use crate::sidecar::Status;
use crate::transcript::PartId;

/// One row of the codings list.
#[derive(Debug)]
pub enum Row {
    /// A value of a part dimension.
    Tag {
        part: PartId,
        dimension: String,
        value: String,
    },
    /// A span, by index into the sidecar's spans.
    Span(usize),
}

/// The codings of a document in text order: (part, position, row); part tags first in their
/// part, in codebook order.
fn coding_rows(doc: &crate::document::Document, codebook: &Codebook) -> Vec<(PartId, usize, Row)> {
    let mut rows: Vec<(PartId, usize, Row)> = Vec::new();
    for (part, dims) in &doc.sidecar.tags {
        // Codebook order, so a document reads like the codebook panel above.
        let mut dims: Vec<(&String, &Vec<String>)> = dims.iter().collect();
        dims.sort_by_key(|(d, _)| {
            codebook
                .dimensions
                .iter()
                .position(|x| &x.id == *d)
                .unwrap_or(usize::MAX)
        });
        for (dimension, values) in dims {
            for value in values {
                rows.push((
                    *part,
                    0,
                    Row::Tag {
                        part: *part,
                        dimension: dimension.clone(),
                        value: value.clone(),
                    },
                ));
            }
        }
    }
    for (i, s) in doc.sidecar.spans.iter().enumerate() {
        rows.push((s.part, s.start + 1, Row::Span(i)));
    }
    rows.sort_by_key(|(part, at, _)| (*part, *at));
    rows
}

impl MarginaliaApp {
    /// The document's status, memo and codings.
    pub(super) fn document_codings_ui(&mut self, ui: &mut egui::Ui, codebook: &Codebook) {
        let Some(doc) = &self.ed.doc else { return };
        let editable = doc.is_editable();
        ui.add_space(4.0);
        let mut done = doc.sidecar.status == Status::Done;
        let status = doc.sidecar.status;
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("This document").strong());
            ui.label(RichText::new(status.as_str()).color(super::style::secondary(ui)));
            let r = ui.add_enabled(editable, egui::Checkbox::new(&mut done, "Done"));
            let r = r.on_hover_text("Mark this document done (Ctrl+Enter)");
            if r.changed() {
                let status = if done {
                    Status::Done
                } else {
                    Status::InProgress
                };
                self.act(Action::Edit(Edit::SetStatus(status)));
            }
        });
        ui.add_enabled_ui(editable, |ui| self.memo_ui(ui));
        ui.add_space(4.0);
        self.codings_ui(ui, codebook, editable);
    }

    fn memo_ui(&mut self, ui: &mut egui::Ui) {
        let l = ui.label("Memo");
        // Drawn from the document each frame and changed only through an edit: undo, redo and a
        // reload show at once, and nothing is kept to reconcile.
        let mut memo = self
            .ed
            .doc
            .as_ref()
            .map(|d| d.sidecar.memo.clone())
            .unwrap_or_default();
        let r = ui
            .add(
                egui::TextEdit::multiline(&mut memo)
                    .id(memo_id())
                    .hint_text("Notes on this document")
                    .desired_rows(3)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(l.id);
        if r.changed() {
            self.act(Action::Edit(Edit::SetMemo(memo)));
        } else if r.lost_focus() {
            self.act(Action::EndTyping);
        }
    }

    /// Every coding of the document, in text order: a click on a part tag goes to its part and
    /// makes it the target of the keys; a click on a span selects it for the editor below.
    #[expect(
        clippy::too_many_lines,
        reason = "the rows of the list and their two kinds (part tag, span) in one lazily drawn scroll area"
    )]
    fn codings_ui(&mut self, ui: &mut egui::Ui, codebook: &Codebook, editable: bool) {
        let Some(doc) = &self.ed.doc else { return };
        let spans = &doc.sidecar.spans;
        // Made again only when the document or the codebook changed, not every frame: a long
        // answer can carry thousands of spans.
        let key = (doc.codings_revision(), self.ws.codebook_generation);
        if self.ed.view.codings.as_ref().is_none_or(|(k, _)| *k != key) {
            self.ed.view.codings = Some((key, coding_rows(doc, codebook).into()));
        }
        let Some((_, rows)) = self.ed.view.codings.clone() else {
            return;
        };
        let tags = rows
            .iter()
            .filter(|r| matches!(r.2, Row::Tag { .. }))
            .count();
        ui.label(
            RichText::new(format!("Codings: {tags} part tags, {} spans", spans.len())).strong(),
        );
        if rows.is_empty() {
            ui.label(
                RichText::new("None yet: press a code's key, or select text and press a span key.")
                    .color(super::style::secondary(ui)),
            );
        }
        let multi = doc.transcript.exchange_count() > 1;
        let mut action = None;
        let row_height = ui.text_style_height(&egui::TextStyle::Body) * 2.0 + 10.0;
        // The editor of a selected span keeps its room below the list.
        let editor_room = if self.ed.view.selected_span.is_some() {
            150.0
        } else {
            0.0
        };
        let max_height = (ui.available_height() - editor_room).max(row_height * 2.0);
        // Laid out only for the visible rows: a long answer can carry thousands of spans.
        egui::ScrollArea::vertical()
            .id_salt("codings")
            .max_height(max_height)
            .auto_shrink([false, true])
            .show_rows(ui, row_height, rows.len(), |ui, range| {
                for (_, _, row) in &rows[range] {
                    match row {
                        Row::Tag {
                            part,
                            dimension,
                            value,
                        } => {
                            let dim = codebook.dimension(dimension);
                            let color = dim
                                .and_then(|d| d.value(value))
                                .map_or(Color32::GRAY, |v| color32(&v.color));
                            let dim_label = dim.map_or(dimension.as_str(), |d| d.label.as_str());
                            let value_label = dim
                                .and_then(|d| d.value(value))
                                .map_or(value.as_str(), |v| v.label.as_str());
                            let where_ = if multi {
                                format!("{} of exchange {}", part.kind.as_str(), part.exchange + 1)
                            } else {
                                part.kind.as_str().to_string()
                            };
                            let r = super::corpus_panel::list_row(
                                ui,
                                row_height,
                                false,
                                ("•", color),
                                &format!("{dim_label}: {value_label}"),
                                &format!("tag of the {where_}"),
                            )
                            .on_hover_text("Click: go to the part. Right-click: remove.");
                            if r.clicked() {
                                action = Some(Action::GoToPart(*part));
                            }
                            r.context_menu(|ui| {
                                if ui
                                    .add_enabled(editable, egui::Button::new("Remove this code"))
                                    .clicked()
                                {
                                    let values = doc
                                        .sidecar
                                        .part_values(*part, dimension)
                                        .iter()
                                        .filter(|v| *v != value)
                                        .cloned()
                                        .collect();
                                    action = Some(Action::Edit(Edit::SetPartValues {
                                        part: *part,
                                        dimension: dimension.clone(),
                                        values,
                                    }));
                                    ui.close();
                                }
                            });
                        }
                        Row::Span(i) => {
                            let s = &spans[*i];
                            let dim = codebook.dimension(&s.dimension);
                            let color = dim.map_or(Color32::GRAY, |d| color32(&d.color));
                            let label = dim.map_or(s.dimension.as_str(), |d| d.label.as_str());
                            let selected =
                                self.ed.view.selected_span.as_deref() == Some(s.id.as_str());
                            let quote = crate::sidecar::ellipsize(&s.quote, 60);
                            let r = super::corpus_panel::list_row(
                                ui,
                                row_height,
                                selected,
                                ("•", color),
                                &format!("{label}: {}", s.value),
                                &format!("“{quote}” · {}", s.part),
                            );
                            let r = if s.note.is_empty() {
                                r
                            } else {
                                r.on_hover_text(&s.note)
                            };
                            if r.clicked() {
                                action = Some(Action::SelectSpan(Some(s.id.clone())));
                            }
                        }
                    }
                }
            });
        if let Some(a) = action {
            self.act(a);
        }
        if editable {
            self.span_editor_ui(ui);
        }
    }

    /// Value, note and delete for the selected span; applied when a box loses the keyboard.
    fn span_editor_ui(&mut self, ui: &mut egui::Ui) {
        let Some(doc) = &self.ed.doc else { return };
        let Some(s) = self
            .ed
            .view
            .selected_span
            .as_deref()
            .and_then(|id| doc.sidecar.spans.iter().find(|s| s.id == id))
            .cloned()
        else {
            return;
        };
        let edit = self
            .ed
            .view
            .span_edit
            .get_or_insert_with(|| (s.id.clone(), s.value.clone(), s.note.clone()));
        if edit.0 != s.id {
            *edit = (s.id.clone(), s.value.clone(), s.note.clone());
        }
        let mut commit = false;
        let mut delete = false;
        ui.separator();
        ui.label(RichText::new(format!("“{}”", crate::sidecar::ellipsize(&s.quote, 80))).italics());
        egui::Grid::new("span-editor")
            .num_columns(2)
            .show(ui, |ui| {
                let l = ui.label("Value");
                let r = ui
                    .add(
                        egui::TextEdit::singleline(&mut edit.1)
                            .id(span_value_id())
                            .desired_width(f32::INFINITY),
                    )
                    .labelled_by(l.id);
                commit |= r.lost_focus();
                ui.end_row();
                let l = ui.label("Note");
                let r = ui
                    .add(
                        egui::TextEdit::multiline(&mut edit.2)
                            .id(span_note_id())
                            .desired_rows(2)
                            .desired_width(f32::INFINITY),
                    )
                    .labelled_by(l.id);
                commit |= r.lost_focus();
                ui.end_row();
            });
        if ui.button("Delete this annotation").clicked() {
            delete = true;
        }
        if commit {
            self.act(Action::CommitSpanEditor);
        }
        if delete {
            self.ed.view.span_edit = None;
            self.ed.view.selected_span = None;
            self.act(Action::Edit(Edit::RemoveSpan { id: s.id }));
        }
    }
}
