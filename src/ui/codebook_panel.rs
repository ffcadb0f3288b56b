//! The right panel: the codebook's dimensions for the question and the answer, span tagging, the
//! memo, the status, this document's span annotations and the problems found in its sidecar.

use egui::{Color32, RichText};

use super::MarginaliaApp;
use super::action::Action;
use super::document_panel::color32;
use super::state::CodebookForm;
use super::task::Task;
use crate::codebook::{AppliesTo, Dimension, DimensionKind};
use crate::codebook_edit::{Affected, Change, CodingId, ValueCodings};
use crate::transcript::{PartId, PartKind};

/// Widget id of the memo box.
pub fn memo_id() -> egui::Id {
    egui::Id::unique("memo")
}

/// Widget id of the span value box.
pub fn span_value_id() -> egui::Id {
    egui::Id::unique("span-value")
}

/// Widget id of the span note box.
pub fn span_note_id() -> egui::Id {
    egui::Id::unique("span-note")
}

impl MarginaliaApp {
    pub(super) fn codebook_ui(&mut self, ui: &mut egui::Ui) {
        self.split_ui(&ui.ctx().clone());
        let (Some(doc), Some(corpus)) = (&self.ed.doc, &self.ws.corpus) else {
            ui.heading("Codebook");
            if let Some(c) = &self.ws.corpus {
                ui.label(&c.codebook.name);
            }
            return;
        };
        let editable = doc.is_editable();
        let codebook = corpus.codebook.clone();
        let exchange = self.ed.view.exchange;
        let multi = doc.transcript.exchange_count() > 1;
        let has_question = doc
            .transcript
            .part(PartId {
                exchange,
                kind: PartKind::Question,
            })
            .is_some();
        // The document's own codings, memo and status: always in view at the foot.
        egui::Panel::bottom("this-document")
            .resizable(true)
            .default_size((ui.available_height() * 0.4).clamp(160.0, 320.0))
            .min_size(140.0)
            .show(ui, |ui| self.document_codings_ui(ui, &codebook));
        egui::ScrollArea::vertical()
            // Kept from document to document (the codes stay where the hand knows them); a
            // new codebook starts at its top.
            .id_salt(("codebook-scroll", self.ws.codebook_generation))
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.heading(&codebook.name)
                    .on_hover_text(&codebook.description);
                if multi {
                    ui.label(
                        RichText::new(format!(
                            "Tags apply to exchange {} (click in its text to choose)",
                            exchange + 1
                        ))
                        .small(),
                    );
                }
                // First, where it is seen on opening: what the changed text did to the spans.
                self.reanchored_ui(ui, editable);
                ui.add_enabled_ui(editable, |ui| {
                    if has_question {
                        for applies in [AppliesTo::Question, AppliesTo::Answer] {
                            let title = if applies == AppliesTo::Question {
                                "Question"
                            } else {
                                "Answer"
                            };
                            ui.add_space(6.0);
                            ui.horizontal(|ui| {
                                ui.label(RichText::new(title).strong());
                                let add =
                                    format!("Add a dimension to the {}", title.to_lowercase());
                                let r = ui.small_button("+").on_hover_text(&add);
                                r.widget_info(|| {
                                    egui::WidgetInfo::labeled(egui::Role::Button, true, &add)
                                });
                                if r.clicked() {
                                    self.dialogs.codebook_form = Some(CodebookForm {
                                        new_dimension: Some(applies),
                                        ..CodebookForm::default()
                                    });
                                }
                            });
                            if let Some(c) = self.new_dimension_form_ui(ui, applies, &codebook) {
                                self.act(Action::PreviewCodebookChange(c));
                            }
                            for dim in codebook.part_dimensions(applies) {
                                self.dimension_ui(ui, dim, applies);
                            }
                        }
                    }
                    ui.add_space(6.0);
                    ui.separator();
                    self.span_tools_ui(ui, &codebook);
                });
                self.problems_ui(ui);
            });
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one dimension's buttons, their right-click menus and the add button, laid out in the order seen"
    )]
    fn dimension_ui(&mut self, ui: &mut egui::Ui, dim: &Dimension, applies: AppliesTo) {
        let Some(doc) = &self.ed.doc else { return };
        let kind = if applies == AppliesTo::Question {
            PartKind::Question
        } else {
            PartKind::Answer
        };
        let part = PartId {
            exchange: self.ed.view.exchange,
            kind,
        };
        let chosen = doc.sidecar.part_values(part, &dim.id).to_vec();
        // In vivo: the words selected in the transcript are offered as a new value's label.
        let in_vivo = self
            .ed
            .view
            .selection
            .as_ref()
            .and_then(|(part, r)| {
                let t = doc.transcript.part(*part)?;
                let words: String = t.text().chars().skip(r.start).take(r.len()).collect();
                let words = words.trim().to_string();
                (words.chars().count() <= 60 && !words.contains('\n')).then_some(words)
            })
            .unwrap_or_default();
        let kind_note = match dim.kind {
            DimensionKind::OneChoice => "one choice",
            DimensionKind::SeveralChoices => "several choices",
            DimensionKind::Entity => "free values",
        };
        // The header names what is chosen, so a folded dimension still says it.
        let chosen_labels: Vec<&str> = chosen
            .iter()
            .map(|c| dim.value(c).map_or(c.as_str(), |v| v.label.as_str()))
            .collect();
        let mut header = RichText::new(&dim.label).color(color32(&dim.color));
        if !chosen_labels.is_empty() {
            header = RichText::new(format!("{} — {}", dim.label, chosen_labels.join(", ")))
                .color(color32(&dim.color));
        }
        let mut toggled = None;
        let mut form: Option<CodebookForm> = None;
        let mut change: Option<Change> = None;
        let mut split: Option<String> = None;
        let shown = egui::CollapsingHeader::new(header)
            .id_salt(("dimension", &dim.id))
            .default_open(true)
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    for v in &dim.values {
                        let on = chosen.contains(&v.id);
                        let color = color32(&v.color);
                        // Laid out once, unwrapped: a long label takes a line of its own and
                        // every row keeps the height of one line.
                        let text_color = if on {
                            contrast(color)
                        } else {
                            ui.visuals().widgets.inactive.text_color()
                        };
                        let font = egui::TextStyle::Button.resolve(ui.style());
                        let galley =
                            ui.fonts_mut(|f| f.layout_no_wrap(v.label.clone(), font, text_color));
                        let mut button = egui::Button::selectable(on, galley);
                        if let Some(k) = &v.key {
                            // On a filled (chosen) button the hint takes the label's colour.
                            let hint = if on {
                                contrast(color)
                            } else {
                                super::style::secondary(ui)
                            };
                            button = button.shortcut_text(RichText::new(k).small().color(hint));
                        }
                        if on {
                            button = button.fill(color);
                        } else {
                            button = button.stroke(egui::Stroke::new(1.0, color));
                        }
                        let mut hover = v.description.clone();
                        if let Some(k) = &v.key {
                            hover.push_str(&format!("\nShortcut: {k}"));
                        }
                        let label = match &v.key {
                            Some(k) => format!("{} ({k})", v.label),
                            None => v.label.clone(),
                        };
                        let r = ui.add(button).on_hover_text(hover);
                        // The accessible name carries the dimension, so two "Neutral" buttons differ.
                        r.widget_info(|| {
                            egui::WidgetInfo::selected(
                                egui::Role::Button,
                                true,
                                on,
                                format!("{}: {label}", dim.label),
                            )
                        });
                        if r.clicked() {
                            toggled = Some(v.id.clone());
                        }
                        // The codebook grows while coding: rename or merge from the value itself.
                        r.context_menu(|ui| {
                            if ui.button("Rename…").clicked() {
                                form = Some(CodebookForm {
                                    dimension: dim.id.clone(),
                                    value: Some(v.id.clone()),
                                    text: v.label.clone(),
                                    ..CodebookForm::default()
                                });
                                ui.close();
                            }
                            if ui.button("Describe…").clicked() {
                                form = Some(CodebookForm {
                                    dimension: dim.id.clone(),
                                    value: Some(v.id.clone()),
                                    text: v.description.clone(),
                                    describe: true,
                                    ..CodebookForm::default()
                                });
                                ui.close();
                            }
                            if ui.button("Set key…").clicked() {
                                form = Some(CodebookForm {
                                    dimension: dim.id.clone(),
                                    value: Some(v.id.clone()),
                                    text: v.key.clone().unwrap_or_default(),
                                    key: true,
                                    ..CodebookForm::default()
                                });
                                ui.close();
                            }
                            ui.menu_button("Colour", |ui| {
                                for [r, g, b] in crate::analysis::chart::PALETTE {
                                    let swatch = egui::Button::new("      ")
                                        .fill(Color32::from_rgb(r, g, b));
                                    if ui.add(swatch).clicked() {
                                        change = Some(Change::Recolour {
                                            dimension: dim.id.clone(),
                                            value: Some(v.id.clone()),
                                            color: format!("#{r:02x}{g:02x}{b:02x}"),
                                        });
                                        ui.close();
                                    }
                                }
                            });
                            if ui.button("Split…").clicked() {
                                split = Some(v.id.clone());
                                ui.close();
                            }
                            ui.menu_button("Merge into", |ui| {
                                for other in dim.values.iter().filter(|o| o.id != v.id) {
                                    if ui.button(&other.label).clicked() {
                                        change = Some(Change::MergeValues {
                                            dimension: dim.id.clone(),
                                            from: v.id.clone(),
                                            into: other.id.clone(),
                                        });
                                        ui.close();
                                    }
                                }
                            });
                        });
                    }
                    let add = format!("Add a value to {}", dim.label);
                    if dim.kind != DimensionKind::Entity && {
                        let r = ui.small_button("+").on_hover_text(&add);
                        r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &add));
                        r.clicked()
                    } {
                        form = Some(CodebookForm {
                            dimension: dim.id.clone(),
                            value: None,
                            text: in_vivo.clone(),
                            ..CodebookForm::default()
                        });
                    }
                });
                change = change.take().or_else(|| self.codebook_form_ui(ui, dim));
            });
        let header = shown
            .header_response
            .on_hover_text(format!("{}\n({kind_note}; click to fold)", dim.description));
        // The dimension itself is described from its header, as a value is from its button.
        header.context_menu(|ui| {
            if ui.button("Describe the dimension…").clicked() {
                form = Some(describe_dimension_form(dim));
                ui.close();
            }
        });
        if let Some(v) = split {
            self.act(Action::StartSplit {
                dimension: dim.id.clone(),
                value: v,
            });
        }
        if let Some(f) = form {
            self.dialogs.codebook_form = Some(f);
        }
        if let Some(c) = change {
            self.act(Action::PreviewCodebookChange(c));
        }
        if let Some(v) = toggled {
            self.act(Action::ToggleValue {
                dimension: dim.id.clone(),
                value: v,
            });
        }
    }

    /// The inline form that adds a dimension to the question, the answer or the spans: its label,
    /// how values are chosen, its first values, and (for a part) the value of another dimension
    /// it applies with; the change once "Add dimension" is pressed.
    fn new_dimension_form_ui(
        &mut self,
        ui: &mut egui::Ui,
        applies: AppliesTo,
        codebook: &crate::codebook::Codebook,
    ) -> Option<Change> {
        let form = self.dialogs.codebook_form.as_mut()?;
        if form.new_dimension != Some(applies) {
            return None;
        }
        let span = applies == AppliesTo::Span;
        // A span dimension takes free values unless told otherwise; a part one choice.
        let kind = form.kind.unwrap_or(if span {
            DimensionKind::Entity
        } else {
            DimensionKind::OneChoice
        });
        let mut done = None;
        let mut cancel = false;
        egui::Grid::new(("new-dimension", format!("{applies:?}"))).show(ui, |ui| {
            let l = ui.label("Dimension");
            ui.add(egui::TextEdit::singleline(&mut form.text).desired_width(150.0))
                .labelled_by(l.id);
            ui.end_row();
            ui.label("Values are");
            ui.horizontal(|ui| {
                let kinds: &[(DimensionKind, &str)] = if span {
                    &[
                        (DimensionKind::Entity, "free"),
                        (DimensionKind::OneChoice, "one of a list"),
                    ]
                } else {
                    &[
                        (DimensionKind::OneChoice, "one choice"),
                        (DimensionKind::SeveralChoices, "several choices"),
                    ]
                };
                for (k, name) in kinds {
                    if ui.radio(kind == *k, *name).clicked() {
                        form.kind = Some(*k);
                    }
                }
            });
            ui.end_row();
            let l = ui.label("Values");
            let hint = if kind == DimensionKind::Entity {
                "suggestions, comma-separated"
            } else {
                "comma-separated"
            };
            ui.add(
                egui::TextEdit::singleline(&mut form.values)
                    .hint_text(hint)
                    .desired_width(150.0),
            )
            .labelled_by(l.id);
            ui.end_row();
            if !span {
                requires_ui(ui, &mut form.requires, codebook, applies);
                ui.end_row();
            }
        });
        ui.horizontal(|ui| {
            let ready = !form.text.trim().is_empty()
                && (kind == DimensionKind::Entity || !form.values.trim().is_empty());
            if ui
                .add_enabled(ready, egui::Button::new("Add dimension"))
                .clicked()
            {
                done = Some(Change::AddDimension {
                    applies_to: applies,
                    label: form.text.trim().to_string(),
                    color: "#5a7fb0".to_string(),
                    values: form
                        .values
                        .split(',')
                        .map(|v| v.trim().to_string())
                        .filter(|v| !v.is_empty())
                        .collect(),
                    kind,
                    requires: form
                        .requires
                        .clone()
                        .map(|(dimension, value)| crate::codebook::Requires { dimension, value }),
                });
            }
            if ui.button("Cancel").clicked() {
                cancel = true;
            }
        });
        if cancel {
            self.dialogs.codebook_form = None;
        }
        done
    }

    /// The inline box that adds a value to, or renames one in, this dimension; the change once
    /// Enter is pressed.
    fn codebook_form_ui(&mut self, ui: &mut egui::Ui, dim: &Dimension) -> Option<Change> {
        let form = self.dialogs.codebook_form.as_mut()?;
        if form.dimension != dim.id {
            return None;
        }
        let mut done = None;
        let mut cancel = false;
        ui.horizontal(|ui| {
            let l = ui.label(match (&form.value, form.key, form.describe) {
                _ if form.describe_dimension => "Dimension description",
                (_, true, _) => "Key",
                (_, _, true) => "Description",
                (Some(_), false, false) => "New label",
                (None, false, false) => "New value",
            });
            let r = ui
                .add(egui::TextEdit::singleline(&mut form.text).desired_width(150.0))
                .labelled_by(l.id);
            if !r.has_focus() && form.text.is_empty() {
                r.request_focus();
            }
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let ok = ui.button("OK").clicked() || enter;
            if ok && form.describe_dimension {
                done = Some(Change::DescribeDimension {
                    dimension: dim.id.clone(),
                    description: form.text.trim().to_string(),
                });
            } else if ok && form.key {
                // A key a command already has would never reach the code.
                let typed = form.text.trim().to_string();
                let taken = crate::shortcut::Shortcut::parse(&typed).ok().and_then(|s| {
                    super::commands::all()
                        .into_iter()
                        .find(|c| c.shortcuts.contains(&s))
                        .map(|c| c.name)
                });
                match (taken, &form.value) {
                    (Some(name), _) => {
                        form.error = Some(format!("{typed} is the key of \"{name}\""));
                    }
                    (None, Some(v)) => {
                        done = Some(Change::SetKey {
                            dimension: dim.id.clone(),
                            value: v.clone(),
                            key: Some(typed).filter(|k| !k.is_empty()),
                        });
                    }
                    (None, None) => {}
                }
            } else if ok && form.describe {
                if let Some(v) = &form.value {
                    done = Some(Change::Describe {
                        dimension: dim.id.clone(),
                        value: v.clone(),
                        description: form.text.trim().to_string(),
                    });
                }
            } else if ok && !form.text.trim().is_empty() {
                done = Some(match &form.value {
                    Some(v) => Change::Relabel {
                        dimension: dim.id.clone(),
                        value: Some(v.clone()),
                        label: form.text.trim().to_string(),
                    },
                    None => Change::AddValue {
                        dimension: dim.id.clone(),
                        label: form.text.trim().to_string(),
                        // A colour unlike the dimension's others.
                        color: {
                            let [r, g, b] = crate::analysis::chart::PALETTE
                                [dim.values.len() % crate::analysis::chart::PALETTE.len()];
                            format!("#{r:02x}{g:02x}{b:02x}")
                        },
                    },
                });
            }
            if ui.button("Cancel").clicked() || ui.input(|i| i.key_pressed(egui::Key::Escape)) {
                cancel = true;
            }
        });
        if let Some(e) = &form.error {
            ui.colored_label(Color32::from_rgb(200, 60, 60), e);
        }
        if cancel {
            self.dialogs.codebook_form = None;
        }
        done
    }

    fn span_tools_ui(&mut self, ui: &mut egui::Ui, codebook: &crate::codebook::Codebook) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Tag the selected text").strong());
            let add = "Add a span dimension";
            let r = ui.small_button("+").on_hover_text(add);
            r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, add));
            if r.clicked() {
                self.dialogs.codebook_form = Some(CodebookForm {
                    new_dimension: Some(AppliesTo::Span),
                    ..CodebookForm::default()
                });
            }
        });
        let mut change = self.new_dimension_form_ui(ui, AppliesTo::Span, codebook);
        match &self.ed.view.selection {
            Some((part, r)) => ui.label(
                RichText::new(format!(
                    "{} chars selected in the {}",
                    r.len(),
                    part.kind.as_str()
                ))
                .small(),
            ),
            None => ui.label(
                RichText::new(
                    "Select text in the question or the answer, then press a key or click.",
                )
                .small(),
            ),
        };
        let mut group: Option<&str> = None;
        let mut start = None;
        for dim in codebook.span_dimensions() {
            if dim.group.as_deref() != group {
                group = dim.group.as_deref();
                if let Some(g) = group {
                    ui.label(
                        RichText::new(g)
                            .small()
                            .color(ui.visuals().weak_text_color()),
                    );
                }
            }
            let label = match &dim.key {
                Some(k) => format!("{}  ({k})", dim.label),
                None => dim.label.clone(),
            };
            let button = egui::Button::new(RichText::new(label))
                .stroke(egui::Stroke::new(1.5, color32(&dim.color)));
            let enabled = self.ed.view.selection.is_some();
            let r = ui
                .add_enabled(enabled, button)
                .on_hover_text(&dim.description);
            if r.clicked() {
                start = Some(dim.id.clone());
            }
            // Described from a right click, with or without a selection (a disabled button
            // senses nothing, so the click is taken over its place).
            let menu = if enabled {
                r
            } else {
                ui.interact(r.rect, r.id.with("menu"), egui::Sense::click())
            };
            menu.context_menu(|ui| {
                if ui.button("Describe the dimension…").clicked() {
                    self.dialogs.codebook_form = Some(describe_dimension_form(dim));
                    ui.close();
                }
            });
            change = change.or_else(|| self.codebook_form_ui(ui, dim));
        }
        if let Some(c) = change {
            self.act(Action::PreviewCodebookChange(c));
        }
        if let Some(d) = start {
            let selection = self.ed.view.selection.clone();
            self.act(Action::StartSpan {
                dimension: d,
                selection,
            });
        }
    }

    /// Spans moved after the transcript changed (to look at) and orphans (to place or delete).
    fn reanchored_ui(&mut self, ui: &mut egui::Ui, editable: bool) {
        let Some(d) = self.highlights() else { return };
        let (moved, orphans) = (d.moved.clone(), d.orphans.clone());
        if moved.is_empty() && orphans.is_empty() {
            return;
        }
        let mut edit = None;
        ui.separator();
        if !moved.is_empty() {
            ui.label(
                RichText::new(format!("Moved after the text changed ({})", moved.len())).strong(),
            )
            .on_hover_text(
                "The transcript was edited: these spans were placed again. Check each one.",
            );
            // An edit near the top moves every span after it: checking them is reading the list,
            // confirming them should not be one click each.
            if moved.len() > 1
                && ui
                    .add_enabled(
                        editable,
                        egui::Button::new(format!("All look right ({})", moved.len())),
                    )
                    .on_hover_text("Clear the flag of every span in this list, as one step to undo")
                    .clicked()
            {
                edit = Some(crate::document::Edit::Batch(
                    moved.iter().map(looks_right).collect(),
                ));
            }
            for s in moved.iter() {
                ui.horizontal_wrapped(|ui| {
                    let r = ui.link(format!(
                        "“{}” · {}",
                        crate::sidecar::ellipsize(&s.quote, 40),
                        s.part
                    ));
                    if r.clicked() {
                        self.ed.view.selected_span = Some(s.id.clone());
                        self.ed.view.scroll_to = Some((s.part, s.start));
                    }
                    if ui
                        .add_enabled(editable, egui::Button::new("Looks right"))
                        .clicked()
                    {
                        edit = Some(looks_right(s));
                    }
                });
            }
        }
        if !orphans.is_empty() {
            ui.label(
                RichText::new(format!("Orphans: text no longer found ({})", orphans.len()))
                    .strong()
                    .color(Color32::from_rgb(200, 60, 60)),
            )
            .on_hover_text("Kept in your sidecar until you place or delete them.");
            let selection = self.ed.view.selection.clone();
            for s in orphans.iter() {
                ui.label(format!(
                    "“{}” · {} · {}",
                    crate::sidecar::ellipsize(&s.quote, 60),
                    s.dimension,
                    s.value
                ));
                ui.horizontal(|ui| {
                    let place = ui
                        .add_enabled(
                            editable && selection.is_some(),
                            egui::Button::new("Place on the selection"),
                        )
                        .on_disabled_hover_text("Select the text where it belongs first");
                    if place.clicked()
                        && let Some((part, range)) = &selection
                        && let Some(text) = self
                            .ed
                            .doc
                            .as_ref()
                            .and_then(|d| d.transcript.part(*part))
                            .map(|p| p.text().to_string())
                        && let Some(n) = crate::sidecar::Span::new(
                            s.id.clone(),
                            *part,
                            &text,
                            range.start,
                            range.end,
                            "",
                            "",
                        )
                    {
                        if *part == s.part {
                            edit = Some(crate::document::Edit::Relocate {
                                id: s.id.clone(),
                                start: n.start,
                                end: n.end,
                                quote: n.quote,
                                prefix: n.prefix,
                                suffix: n.suffix,
                                flag: None,
                            });
                        } else {
                            self.notice = Some(format!(
                                "This span belongs in the {}; select text there",
                                s.part
                            ));
                        }
                    }
                    if ui
                        .add_enabled(editable, egui::Button::new("Delete"))
                        .clicked()
                    {
                        edit = Some(crate::document::Edit::RemoveSpan { id: s.id.clone() });
                    }
                });
            }
        }
        if let Some(e) = edit {
            self.act(Action::Edit(e));
        }
    }

    fn problems_ui(&mut self, ui: &mut egui::Ui) {
        let Some(doc) = &self.ed.doc else { return };
        if doc.problems.is_empty() {
            return;
        }
        ui.separator();
        ui.label(
            RichText::new(format!("Problems in your sidecar ({})", doc.problems.len())).strong(),
        )
        .on_hover_text("Kept in the file as they are; nothing is dropped.");
        for p in &doc.problems {
            let color = if p.is_error {
                Color32::from_rgb(200, 60, 60)
            } else {
                Color32::from_rgb(200, 140, 0)
            };
            ui.colored_label(color, &p.message);
        }
    }
}

/// "Only when": a new dimension of a part applies only with a value of another dimension of the
/// same part (Bull's non-reply types only with a non-reply), or always.
fn requires_ui(
    ui: &mut egui::Ui,
    requires: &mut Option<(String, String)>,
    codebook: &crate::codebook::Codebook,
    applies: AppliesTo,
) {
    let l = ui.label("Only when");
    let shown = requires.as_ref().map_or("always".to_string(), |(d, v)| {
        let dim = codebook.dimension(d);
        format!(
            "{} = {}",
            dim.map_or(d.as_str(), |x| x.label.as_str()),
            dim.and_then(|x| x.value(v))
                .map_or(v.as_str(), |x| x.label.as_str())
        )
    });
    egui::ComboBox::from_id_salt(("new-dimension-requires", format!("{applies:?}")))
        .selected_text(shown)
        .show_ui(ui, |ui| {
            if ui.selectable_label(requires.is_none(), "always").clicked() {
                *requires = None;
            }
            for d in codebook.part_dimensions(applies) {
                for v in &d.values {
                    let pair = (d.id.clone(), v.id.clone());
                    let on = requires.as_ref() == Some(&pair);
                    if ui
                        .selectable_label(on, format!("{} = {}", d.label, v.label))
                        .clicked()
                    {
                        *requires = Some(pair);
                    }
                }
            }
        })
        .response
        .labelled_by(l.id);
}

/// The codings of a value being split, a tick each, only the rows in view laid out.
fn split_rows_ui(ui: &mut egui::Ui, listed: &ValueCodings, ticked: &mut [bool]) {
    let row = ui.spacing().interact_size.y;
    egui::ScrollArea::vertical().max_height(300.0).show_rows(
        ui,
        row,
        listed.codings.len(),
        |ui, rows| {
            // One line a row, as `show_rows` counts them: a long quote is cut, not wrapped.
            ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
            for i in rows {
                let c = &listed.codings[i];
                let what = if matches!(c.id, CodingId::Span { .. }) {
                    format!("“{}”", crate::sidecar::ellipsize(&c.text, 70))
                } else {
                    crate::sidecar::ellipsize(&c.text, 70)
                };
                let text = format!("{} · {} · {}: {what}", c.document, c.annotator, c.part);
                if let Some(t) = ticked.get_mut(i) {
                    ui.checkbox(t, text);
                }
            }
        },
    );
}

/// The form that writes a dimension's description, holding the one it has.
fn describe_dimension_form(dim: &Dimension) -> CodebookForm {
    CodebookForm {
        dimension: dim.id.clone(),
        text: dim.description.clone(),
        describe_dimension: true,
        ..CodebookForm::default()
    }
}

/// Black or white, whichever reads better on the colour.
fn contrast(c: Color32) -> Color32 {
    let luma = 0.299 * c.r() as f32 + 0.587 * c.g() as f32 + 0.114 * c.b() as f32;
    if luma > 150.0 {
        Color32::BLACK
    } else {
        Color32::WHITE
    }
}

/// The edit that clears a moved span's flag, leaving it where it was placed.
fn looks_right(s: &crate::sidecar::Span) -> crate::document::Edit {
    crate::document::Edit::Relocate {
        id: s.id.clone(),
        start: s.start,
        end: s.end,
        quote: s.quote.clone(),
        prefix: s.prefix.clone(),
        suffix: s.suffix.clone(),
        flag: None,
    }
}

/// A value being split: the codings of it across the folder (read in a task), those ticked move.
pub struct SplitForm {
    /// The dimension's id.
    pub dimension: String,
    /// The value split.
    pub from: String,
    /// The new value's label, as typed.
    pub label: String,
    /// Reading the folder's codings of the value.
    pub task: Option<Task<Result<ValueCodings, String>>>,
    /// The codings, once read.
    pub listed: Option<ValueCodings>,
    /// Which of them move, in the order listed.
    pub ticked: Vec<bool>,
    /// Why they could not be read.
    pub error: Option<String>,
    /// The label box takes the keyboard when the window opens, so typing never codes.
    pub focus_pending: bool,
}

/// A merge's or a split's preview in the making: the change and the sidecars it would rewrite.
pub type PreviewTask = Task<(Change, Result<Vec<Affected>, String>)>;

/// A confirmed merge or split writing the sidecars and the codebook.
pub type CommitTask = Task<Result<crate::codebook_edit::Report, String>>;

impl MarginaliaApp {
    /// Opens the split window and lists the value's codings across the folder in a task.
    pub(super) fn start_split(&mut self, dimension: String, value: String) {
        let Some(root) = self.ws.root.clone() else {
            return;
        };
        let (d, v) = (dimension.clone(), value.clone());
        let task = Task::spawn("codebook-split-list", self.repaint.clone(), move |r| {
            r.send(crate::codebook_edit::codings_of(&root, &d, &v).map_err(|e| e.to_string()));
        });
        let (task, error) = match task {
            Ok(t) => (Some(t), None),
            Err(e) => (None, Some(e)),
        };
        self.dialogs.codebook_split = Some(SplitForm {
            dimension,
            from: value,
            label: String::new(),
            task,
            listed: None,
            ticked: Vec::new(),
            error,
            focus_pending: true,
        });
    }

    /// Reads, in a task, the sidecars a merge or a split would rewrite; the question is asked
    /// when they are known (a folder of 10,000 pages never freezes the window).
    pub(super) fn start_codebook_preview(&mut self, change: Change) {
        let Some(root) = self.ws.root.clone() else {
            return;
        };
        let task = Task::spawn("codebook-preview", self.repaint.clone(), move |r| {
            let affected = crate::codebook_edit::preview(&root, &change).map_err(|e| e.to_string());
            r.send((change, affected));
        });
        match task {
            Ok(t) => {
                self.dialogs.codebook_preview = Some(t);
                self.notice = Some("Reading the folder's sidecars for the preview…".to_string());
            }
            Err(e) => self.notice = Some(format!("Codebook not changed: {e}")),
        }
    }

    /// Takes what the split's list and the preview have read; once per frame.
    pub(super) fn poll_codebook_tasks(&mut self) {
        if let Some(form) = &mut self.dialogs.codebook_split
            && let Some(task) = &mut form.task
            && let Some(result) = task.poll_once()
        {
            form.task = None;
            match result {
                Some(Ok(listed)) => {
                    // Nothing moves until the user says so.
                    form.ticked = vec![false; listed.codings.len()];
                    form.listed = Some(listed);
                }
                Some(Err(e)) => form.error = Some(e),
                None => form.error = Some("the list of codings stopped".to_string()),
            }
        }
        if let Some(task) = &mut self.dialogs.codebook_preview
            && let Some(result) = task.poll_once()
        {
            self.dialogs.codebook_preview = None;
            match result {
                Some((change, Ok(affected))) => {
                    self.notice = None;
                    self.dialogs.codebook_confirm = Some((change, affected));
                }
                Some((_, Err(e))) => self.notice = Some(format!("Codebook not changed: {e}")),
                None => self.notice = Some("The codebook preview stopped".to_string()),
            }
        }
    }

    /// Blocks until the split's list and the preview have been read (tests, leaving).
    pub(super) fn wait_codebook_tasks(&mut self) {
        if let Some((t, _)) = &mut self.dialogs.codebook_commit {
            t.wait();
        }
        if let Some(t) = self
            .dialogs
            .codebook_split
            .as_mut()
            .and_then(|f| f.task.as_mut())
        {
            t.wait();
        }
        if let Some(t) = &mut self.dialogs.codebook_preview {
            t.wait();
        }
    }

    /// A codebook task is still reading.
    pub(super) fn codebook_tasks_running(&self) -> bool {
        self.dialogs.codebook_preview.is_some()
            || self.dialogs.codebook_commit.is_some()
            || self
                .dialogs
                .codebook_split
                .as_ref()
                .is_some_and(|f| f.task.is_some())
    }

    /// The split window: the new value's label, the value's codings across the folder with a
    /// tick each (all or none at once), what would change, and the button that asks for the
    /// preview.
    pub(super) fn split_ui(&mut self, ctx: &egui::Context) {
        let Some(corpus) = &self.ws.corpus else {
            return;
        };
        let Some(form) = &mut self.dialogs.codebook_split else {
            return;
        };
        let Some(dim) = corpus.codebook.dimension(&form.dimension) else {
            self.dialogs.codebook_split = None;
            return;
        };
        let from_label = dim
            .value(&form.from)
            .map_or(form.from.clone(), |v| v.label.clone());
        let color = {
            let [r, g, b] = crate::analysis::chart::PALETTE
                [dim.values.len() % crate::analysis::chart::PALETTE.len()];
            format!("#{r:02x}{g:02x}{b:02x}")
        };
        let mut close = false;
        let mut split: Option<Change> = None;
        egui::Modal::new(egui::Id::unique("codebook-split")).show(ctx, |ui| {
            ui.set_width(620.0);
            ui.heading(format!("Split {}: {from_label}", dim.label));
            ui.label("A new value takes the codings you tick; the others keep their value.");
            ui.horizontal(|ui| {
                let l = ui.label("New value");
                let r = ui
                    .add(egui::TextEdit::singleline(&mut form.label).desired_width(220.0))
                    .labelled_by(l.id);
                if form.focus_pending {
                    r.request_focus();
                    form.focus_pending = false;
                }
            });
            if form.task.is_some() {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Reading the folder's codings…");
                });
            }
            if let Some(e) = &form.error {
                ui.colored_label(Color32::from_rgb(200, 60, 60), e);
            }
            if let Some(listed) = &form.listed {
                ui.horizontal(|ui| {
                    ui.label(format!(
                        "{} codings of {from_label} in the folder",
                        listed.codings.len()
                    ));
                    if ui.button("Move all").clicked() {
                        form.ticked.iter_mut().for_each(|t| *t = true);
                    }
                    if ui.button("None").clicked() {
                        form.ticked.iter_mut().for_each(|t| *t = false);
                    }
                });
                split_rows_ui(ui, listed, &mut form.ticked);
                for (path, why) in &listed.unreadable {
                    ui.colored_label(
                        Color32::from_rgb(200, 140, 0),
                        format!("{}: cannot be read, left as it is ({why})", path.display()),
                    );
                }
                let moved: Vec<CodingId> = listed
                    .codings
                    .iter()
                    .zip(&form.ticked)
                    .filter(|(_, t)| **t)
                    .map(|(c, _)| c.id.clone())
                    .collect();
                let mut files: Vec<&str> = moved.iter().map(CodingId::sidecar).collect();
                files.sort_unstable();
                files.dedup();
                ui.label(format!(
                    "{} codings in {} sidecars move to the new value",
                    moved.len(),
                    files.len()
                ));
                ui.horizontal(|ui| {
                    let ready = !moved.is_empty() && !form.label.trim().is_empty();
                    if ui
                        .add_enabled(ready, egui::Button::new("Split…"))
                        .on_disabled_hover_text("Name the new value and tick a coding")
                        .clicked()
                    {
                        split = Some(Change::SplitValue {
                            dimension: form.dimension.clone(),
                            from: form.from.clone(),
                            label: form.label.trim().to_string(),
                            color: color.clone(),
                            moved,
                        });
                    }
                    if ui.button("Cancel").clicked() {
                        close = true;
                    }
                });
            } else if ui.button("Cancel").clicked() {
                close = true;
            }
            if ui.input(|i| i.key_pressed(egui::Key::Escape)) {
                close = true;
            }
        });
        if close || split.is_some() {
            self.dialogs.codebook_split = None;
        }
        if let Some(c) = split {
            self.act(Action::PreviewCodebookChange(c));
        }
    }
}
