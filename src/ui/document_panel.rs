//! The centre: the document's metadata, then question and answer side by side.

use egui::{Color32, RichText};

use super::MarginaliaApp;
use super::action::Action;
use super::text_view::{self, Mark, PartViewOutput, TextStyle};
use crate::codebook::parse_color;
use crate::document::Document;
use crate::highlights::{HighlightKey, Highlights};
use crate::transcript::{Format, PartId, PartKind};

/// A codebook colour as an egui colour (grey when it cannot be read).
pub fn color32(hex: &str) -> Color32 {
    parse_color(hex).map_or(Color32::GRAY, |[r, g, b]| Color32::from_rgb(r, g, b))
}

/// Longest line of a part's text, in characters of average width.
const MAX_MEASURE_CHARS: f32 = 85.0;

/// Narrowest share of the question or the answer column.
pub(super) const MIN_SPLIT: f32 = 0.2;

impl MarginaliaApp {
    /// What the panels draw from the open document's spans, made again when the document or the
    /// codebook changed.
    pub(super) fn highlights(&mut self) -> Option<&Highlights> {
        let (doc, corpus) = (self.ed.doc.as_ref()?, self.ws.corpus.as_ref()?);
        let key = HighlightKey {
            revision: doc.codings_revision(),
            codebook_generation: self.ws.codebook_generation,
        };
        if self
            .ed
            .view
            .highlights
            .as_ref()
            .is_none_or(|h| h.key != key)
        {
            self.ed.view.highlights = Some(Highlights::build(doc, &corpus.codebook, key));
        }
        self.ed.view.highlights.as_ref()
    }

    pub(super) fn text_style(&self, ui: &egui::Ui) -> TextStyle {
        let font = egui::TextStyle::Body.resolve(ui.style());
        let size = font.size * 1.12;
        TextStyle {
            font: egui::FontId::new(size, font.family),
            line_height: size * 1.5,
            color: ui.visuals().text_color(),
            dark: ui.visuals().dark_mode,
        }
    }

    pub(super) fn document_ui(&mut self, ui: &mut egui::Ui) {
        if let Some(e) = &self.ed.doc_error {
            ui.heading("This transcript cannot be opened");
            ui.colored_label(Color32::from_rgb(200, 60, 60), e);
            return;
        }
        if self.annotator().is_none() {
            ui.heading("Who is annotating?");
            ui.label("Enter your annotator id and name to start coding (Settings > Annotator…).");
            return;
        }
        if self.ed.doc.is_none() {
            ui.heading("No document open");
            ui.label("Choose a document in the list on the left.");
            return;
        }
        egui::Panel::top("document-header").show(ui, |ui| {
            if let Some(doc) = &self.ed.doc {
                header_ui(ui, doc);
            }
            self.roles_ui(ui);
        });
        let Some(doc) = &self.ed.doc else { return };
        let style = self.text_style(ui);
        let format = doc.transcript.format;
        let mut outputs: Vec<(PartId, PartViewOutput)> = Vec::new();
        match format {
            Format::GlaMqt | Format::ParlParse => {
                let (q, a) = self.split_columns_ui(ui, &style);
                outputs.push((PartId::QUESTION, q));
                outputs.push((PartId::ANSWER, a));
            }
            Format::Plain => {
                outputs.push((PartId::TEXT, self.column_ui(ui, PartId::TEXT, &style)));
            }
            Format::SpeakerTurns => {
                let exchanges = doc.transcript.exchange_count();
                egui::ScrollArea::vertical()
                    .id_salt("exchanges")
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        for exchange in 0..exchanges {
                            let q = PartId {
                                exchange,
                                kind: PartKind::Question,
                            };
                            let a = PartId {
                                exchange,
                                kind: PartKind::Answer,
                            };
                            let current = exchange == self.ed.view.exchange;
                            let frame = egui::Frame::group(ui.style()).stroke(if current {
                                egui::Stroke::new(1.5, ui.visuals().selection.stroke.color)
                            } else {
                                ui.visuals().widgets.noninteractive.bg_stroke
                            });
                            frame.show(ui, |ui| {
                                // A hearing's question numbers name the exchange.
                                let reference = self
                                    .ed
                                    .doc
                                    .as_ref()
                                    .and_then(|d| d.transcript.part(q))
                                    .and_then(|p| p.reference.as_deref())
                                    .map(|r| format!(" · Q{r}"))
                                    .unwrap_or_default();
                                ui.label(
                                    RichText::new(format!("Exchange {}{reference}", exchange + 1))
                                        .small()
                                        .strong(),
                                );
                                ui.columns(2, |cols| {
                                    outputs.push((
                                        q,
                                        self.part_block_ui(&mut cols[0], q, &style, None),
                                    ));
                                    outputs.push((
                                        a,
                                        self.part_block_ui(&mut cols[1], a, &style, None),
                                    ));
                                });
                            });
                            ui.add_space(6.0);
                        }
                    });
            }
        }
        self.take_view_outputs(outputs);
    }

    /// Updates selection and focus from what the part views reported.
    fn take_view_outputs(&mut self, outputs: Vec<(PartId, PartViewOutput)>) {
        self.ed.view.paragraph_focused = outputs.iter().any(|(_, o)| o.focused);
        for (part, out) in outputs {
            if out.focused {
                self.ed.view.exchange = part.exchange;
                match out.selection {
                    Some(r) if !r.is_empty() => self.ed.view.selection = Some((part, r)),
                    _ => self.ed.view.selection = None,
                }
            }
            if let Some(id) = out.clicked_span {
                self.act(Action::SelectSpan(Some(id)));
            }
            if out.clipped {
                self.notice = Some(
                    "A span stays within one paragraph: the selection ends at this paragraph's edge"
                        .to_string(),
                );
            }
        }
    }

    /// One scrolling column for a part, laid out lazily.
    /// The question and the answer side by side, split by a proportion the user drags (kept as a
    /// proportion, so a smaller window, a larger one or a zoom keeps both columns readable); a
    /// window too narrow for two columns stacks the question over the answer.
    fn split_columns_ui(
        &mut self,
        ui: &mut egui::Ui,
        style: &TextStyle,
    ) -> (PartViewOutput, PartViewOutput) {
        let rect = ui.available_rect_before_wrap();
        let split = self.view_state.split();
        // Two columns need room for about 30 characters each.
        let stacked = rect.width() < 2.0 * 30.0 * style.font.size * 0.55 + 24.0;
        let gap = 10.0;
        let (first, handle, second) = if stacked {
            let h = (rect.height() - gap) * 0.4;
            (
                egui::Rect::from_min_size(rect.min, egui::vec2(rect.width(), h)),
                None,
                egui::Rect::from_min_max(egui::pos2(rect.left(), rect.top() + h + gap), rect.max),
            )
        } else {
            let w = (rect.width() - gap) * split;
            let handle = egui::Rect::from_min_size(
                egui::pos2(rect.left() + w, rect.top()),
                egui::vec2(gap, rect.height()),
            );
            (
                egui::Rect::from_min_size(rect.min, egui::vec2(w, rect.height())),
                Some(handle),
                egui::Rect::from_min_max(egui::pos2(handle.right(), rect.top()), rect.max),
            )
        };
        if let Some(handle) = handle {
            let response = ui
                .interact(handle, ui.scope_id().with("qa-split"), egui::Sense::drag())
                .on_hover_cursor(egui::CursorIcon::ResizeHorizontal);
            if response.dragged() {
                let total = (rect.width() - gap).max(1.0);
                self.view_state.split =
                    (split + response.drag_delta().x / total).clamp(MIN_SPLIT, 1.0 - MIN_SPLIT);
            }
            if response.double_clicked() {
                self.view_state.split = 0.5;
            }
            let stroke = if response.hovered() || response.dragged() {
                ui.visuals().widgets.hovered.fg_stroke
            } else {
                ui.visuals().widgets.noninteractive.bg_stroke
            };
            ui.painter()
                .vline(handle.center().x, handle.y_range(), stroke);
        }
        let q = ui.scope_builder(egui::UiBuilder::new().max_rect(first), |ui| {
            self.column_ui(ui, PartId::QUESTION, style)
        });
        let a = ui.scope_builder(egui::UiBuilder::new().max_rect(second), |ui| {
            self.column_ui(ui, PartId::ANSWER, style)
        });
        ui.allocate_rect(rect, egui::Sense::hover());
        (q.inner, a.inner)
    }

    fn column_ui(&mut self, ui: &mut egui::Ui, part: PartId, style: &TextStyle) -> PartViewOutput {
        let mut out = PartViewOutput::default();
        self.part_header_ui(ui, part);
        ui.separator();
        // A line of about 85 characters at most: longer lines are hard to follow back.
        let measure = MAX_MEASURE_CHARS * style.font.size * 0.55;
        egui::ScrollArea::vertical()
            .id_salt(("column", part.exchange, part.kind.as_str()))
            .auto_shrink([false, false])
            .show_viewport(ui, |ui, viewport| {
                ui.set_max_width(ui.available_width().min(measure));
                out = self.part_block_ui(ui, part, style, Some(viewport));
            });
        out
    }

    fn part_heading(&self, part: PartId) -> RichText {
        let Some(doc) = &self.ed.doc else {
            return RichText::new("");
        };
        let found = doc.transcript.part(part);
        let speaker = found.and_then(|p| p.speaker().map(str::to_string));
        let name = match part.kind {
            PartKind::Question => "QUESTION",
            PartKind::Answer => "ANSWER",
            PartKind::Text => "TEXT",
        };
        let mut text = match speaker {
            Some(s) => format!("{name} · {s}"),
            None => name.to_string(),
        };
        // Timed transcripts: where the part is in the recording.
        if let Some(p) = found
            && let Some(start) = p.start_ms
        {
            let clock = crate::transcript::clock;
            match p.end_ms {
                Some(end) => text.push_str(&format!(" · {}–{}", clock(start), clock(end))),
                None => text.push_str(&format!(" · from {}", clock(start))),
            }
        }
        RichText::new(text).strong()
    }

    /// The codes of a part as (label, colour), in codebook order: the chips at its head.
    fn part_chips(&self, part: PartId) -> Vec<(String, Color32)> {
        let (Some(doc), Some(corpus)) = (&self.ed.doc, &self.ws.corpus) else {
            return Vec::new();
        };
        let Some(tags) = doc.sidecar.tags.get(&part) else {
            return Vec::new();
        };
        let mut chips = Vec::new();
        for dim in &corpus.codebook.dimensions {
            for value in tags.get(&dim.id).map_or(&[][..], Vec::as_slice) {
                let v = dim.value(value);
                chips.push((
                    v.map_or(value.clone(), |v| v.label.clone()),
                    color32(v.map_or(dim.color.as_str(), |v| v.color.as_str())),
                ));
            }
        }
        // Dimensions the codebook lacks are still shown, by id.
        for (dim, values) in tags {
            if corpus.codebook.dimension(dim).is_none() {
                chips.extend(
                    values
                        .iter()
                        .map(|v| (format!("{dim}: {v}"), Color32::GRAY)),
                );
            }
        }
        chips
    }

    /// A part's head: its name and speaker on one line, its codes as chips on the next. Both
    /// lines always take their room, so the question's and the answer's text start level.
    fn part_header_ui(&self, ui: &mut egui::Ui, part: PartId) {
        let line = ui.text_style_height(&egui::TextStyle::Body);
        let height = line * 2.0 + 8.0;
        let (rect, _) = ui.allocate_exact_size(
            egui::vec2(ui.available_width(), height),
            egui::Sense::hover(),
        );
        let mut child = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(rect)
                .layout(egui::Layout::top_down(egui::Align::Min)),
        );
        child.add(egui::Label::new(self.part_heading(part)).truncate());
        let chips = self.part_chips(part);
        child.horizontal(|ui| {
            ui.spacing_mut().item_spacing.x = 4.0;
            if chips.is_empty() {
                ui.label(
                    RichText::new("no codes")
                        .small()
                        .color(super::style::secondary(ui)),
                );
            }
            for (i, (label, color)) in chips.iter().enumerate() {
                // Room for this chip and a "+N" after it, else say how many are left.
                let needed = label.chars().count() as f32 * super::style::SMALL_SIZE * 0.6 + 40.0;
                if ui.available_width() < needed {
                    ui.label(RichText::new(format!("+{}", chips.len() - i)).small())
                        .on_hover_text(
                            chips[i..]
                                .iter()
                                .map(|(l, _)| l.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                        );
                    break;
                }
                chip(ui, label, *color);
            }
        });
    }

    /// The text of a part, or a note when it is empty.
    fn part_block_ui(
        &mut self,
        ui: &mut egui::Ui,
        part: PartId,
        style: &TextStyle,
        viewport: Option<egui::Rect>,
    ) -> PartViewOutput {
        let (Some(doc), Some(_)) = (&self.ed.doc, &self.ws.corpus) else {
            return PartViewOutput::default();
        };
        if viewport.is_none() {
            self.part_header_ui(ui, part);
        }
        let paragraphs = self
            .ed
            .view
            .paragraphs
            .get(&part)
            .cloned()
            .unwrap_or_default();
        if paragraphs.is_empty() {
            let note = match (part.kind, doc.transcript.meta.status) {
                (PartKind::Answer, crate::transcript::AnswerStatus::Unanswered) => {
                    "No answer has been published yet."
                }
                (PartKind::Question, _) => "The page has no question text.",
                _ => "(empty)",
            };
            ui.label(
                RichText::new(note)
                    .italics()
                    .color(ui.visuals().weak_text_color()),
            );
            return PartViewOutput::default();
        }
        let codes = self.highlights().and_then(|d| d.marks.get(&part).cloned());
        let mut marks = Vec::new();
        if let Some(entry) = self.ws.current {
            let current = self.ws.search.current;
            for (i, hit) in self.hits_in(entry).filter(|(_, h)| h.part == part) {
                marks.push(Mark {
                    id: format!("hit:{i}"),
                    range: hit.start..hit.end,
                    color: [240, 200, 40],
                    tooltip: "search hit".to_string(),
                    kind: if current == Some(i) {
                        text_view::MarkKind::CurrentHit
                    } else {
                        text_view::MarkKind::Hit
                    },
                });
            }
        }
        let selected = self.ed.view.selected_span.clone();
        let scroll_to = match self.ed.view.scroll_to {
            Some((p, at)) if p == part => {
                self.ed.view.scroll_to = None;
                Some(at)
            }
            _ => None,
        };
        text_view::part_ui(
            ui,
            part,
            &paragraphs,
            codes.as_deref(),
            &marks,
            selected.as_deref(),
            style,
            &mut self.ed.view.heights,
            viewport,
            scroll_to,
        )
    }
}

fn header_ui(ui: &mut egui::Ui, doc: &Document) {
    let t = &doc.transcript;
    let m = &t.meta;
    let title = if m.title.is_empty() {
        t.file_name.as_str()
    } else {
        m.title.as_str()
    };
    ui.horizontal_wrapped(|ui| {
        ui.heading(title);
        if m.supplementary {
            ui.label(
                RichText::new("supplementary")
                    .small()
                    .color(Color32::from_rgb(90, 120, 200)),
            );
        }
        let (status, color) = match m.status {
            crate::transcript::AnswerStatus::Answered => {
                ("answered", Color32::from_rgb(60, 160, 90))
            }
            crate::transcript::AnswerStatus::Holding => {
                ("holding answer", Color32::from_rgb(200, 140, 0))
            }
            crate::transcript::AnswerStatus::Unanswered => {
                ("unanswered", Color32::from_rgb(200, 60, 60))
            }
        };
        if t.format != Format::Plain {
            ui.label(RichText::new(status).small().color(color));
        }
    });
    let mut fields: Vec<(&str, String)> = Vec::new();
    let meeting = match (&m.meeting, m.meeting_date) {
        (Some(k), Some(d)) => Some(format!("{k} on {d}")),
        (Some(k), None) => Some(k.clone()),
        (None, _) => m.session_date.map(|d| d.to_string()),
    };
    if let Some(x) = meeting {
        fields.push(("Meeting", x));
    }
    if let Some(x) = &m.reference {
        fields.push(("Reference", x.clone()));
    }
    if let Some(x) = &m.question_by {
        let who = match &m.organisation {
            Some(org) => format!("{x} ({org})"),
            None => x.clone(),
        };
        fields.push(("Question by", who));
    }
    if let Some(x) = &m.asked_of {
        fields.push(("Asked of", x.clone()));
    }
    if let Some(x) = &m.answered_by {
        fields.push(("Answered by", x.clone()));
    }
    if let Some(d) = m.answer_date {
        fields.push(("Answer provided", d.to_string()));
    }
    fields.push((
        "File",
        format!("{} · {} · {}", t.file_name, t.format.as_str(), t.encoding),
    ));
    egui::Grid::new("metadata")
        .num_columns(2)
        .spacing([12.0, 2.0])
        .show(ui, |ui| {
            for (name, value) in fields {
                ui.label(RichText::new(name).color(ui.visuals().weak_text_color()));
                ui.label(value);
                ui.end_row();
            }
        });
    for w in &t.warnings {
        ui.colored_label(Color32::from_rgb(200, 140, 0), format!("Warning: {w}"));
    }
    if let Some(e) = &doc.load_error {
        ui.colored_label(
            Color32::from_rgb(200, 60, 60),
            format!("Your annotations of this document cannot be read, so it is read-only and the file is left untouched: {e}"),
        );
    }
    ui.add_space(4.0);
}

/// A code as a small filled label in its colour, its text black or white for contrast.
fn chip(ui: &mut egui::Ui, label: &str, color: Color32) {
    let luma = 0.299 * color.r() as f32 + 0.587 * color.g() as f32 + 0.114 * color.b() as f32;
    let text = if luma > 150.0 {
        Color32::BLACK
    } else {
        Color32::WHITE
    };
    egui::Frame::new()
        .fill(color)
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(5, 1))
        .show(ui, |ui| {
            ui.label(RichText::new(label).small().color(text));
        });
}
