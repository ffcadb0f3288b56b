//! A part's text: laid out per paragraph (only the visible ones), with tagged spans highlighted in
//! their dimension's colour, selectable with mouse and keyboard, selections reported as char
//! offsets into the part.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use egui::text::{LayoutJob, TextFormat};
use egui::{Color32, FontId, Id, Stroke, Ui};

use crate::transcript::PartId;

pub use crate::highlights::{Mark, MarkKind, PartMarks};

/// A paragraph of a part: its first char's offset in the part and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    /// Char offset of the paragraph's first char in the part.
    pub start: usize,
    /// The paragraph's text (no blank lines inside).
    pub text: String,
    /// Length in chars.
    pub chars: usize,
}

/// Splits normalized text into paragraphs at blank lines, keeping char offsets.
pub fn paragraphs(text: &str) -> Vec<Paragraph> {
    let mut out = Vec::new();
    let mut start = 0;
    for p in text.split("\n\n") {
        let chars = p.chars().count();
        if !p.is_empty() {
            out.push(Paragraph {
                start,
                text: p.to_string(),
                chars,
            });
        }
        start += chars + 2;
    }
    out
}

/// The widget id of a paragraph's text view, so tests and code can reach its selection.
pub fn paragraph_id(part: PartId, index: usize) -> Id {
    Id::unique(("paragraph", part.exchange, part.kind.as_str(), index))
}

/// Measured heights of paragraphs at one width, so invisible ones take space without layout.
#[derive(Debug, Default)]
pub struct HeightCache {
    width: f32,
    font_size: f32,
    heights: HashMap<(PartId, usize), f32>,
}

impl HeightCache {
    fn reset_if_changed(&mut self, width: f32, font_size: f32) {
        if (self.width - width).abs() > 0.5 || (self.font_size - font_size).abs() > 0.01 {
            self.width = width;
            self.font_size = font_size;
            self.heights.clear();
        }
    }
}

/// What happened in a part view this frame.
#[derive(Debug, Default)]
pub struct PartViewOutput {
    /// The selection, as a char range in the part, when a paragraph of this part has the focus.
    /// `Some(empty range)` means the focus is here without a selection.
    pub selection: Option<Range<usize>>,
    /// A click landed on this span without selecting text.
    pub clicked_span: Option<String>,
    /// A paragraph of this part has the keyboard focus.
    pub focused: bool,
    /// A drag went on past the paragraph it started in: the selection stops at that paragraph's
    /// edge, as a span lies within one paragraph.
    pub clipped: bool,
}

/// Style of the text.
#[derive(Debug, Clone)]
pub struct TextStyle {
    /// Font.
    pub font: FontId,
    /// Line height in points.
    pub line_height: f32,
    /// Text colour.
    pub color: Color32,
    /// Whether the theme is dark (highlights are mixed differently).
    pub dark: bool,
}

/// Draws the paragraphs of a part with the marks of `indexed` (a document's codes, found by
/// position) and then of `marks` (search hits, a colleague's version), over one another in that
/// order. With `visible`, only paragraphs inside the scroll area's visible rect are laid out;
/// the others take their measured (or estimated) height, each run of them as one space.
#[allow(clippy::too_many_arguments)]
pub fn part_ui(
    ui: &mut Ui,
    part: PartId,
    paragraphs: &[Paragraph],
    indexed: Option<&PartMarks>,
    marks: &[Mark],
    selected_span: Option<&str>,
    style: &TextStyle,
    heights: &mut HeightCache,
    visible: Option<egui::Rect>,
    scroll_to: Option<usize>,
) -> PartViewOutput {
    let mut out = PartViewOutput::default();
    let width = ui.available_width();
    heights.reset_if_changed(width, style.font.size);
    let spacing = style.line_height * 0.6;
    let chars_per_line = (width / (style.font.size * 0.5)).max(10.0);
    let top = ui.min_rect().top();
    let focused = ui.memory(|m| m.focused());
    // Paragraphs out of view, not yet given their space: a long part's thousands of them are
    // one space each run, not a widget each (an 8,000-paragraph answer spent milliseconds a
    // frame placing them). Each would have advanced by its height, the item spacing and `spacing`.
    let item_gap = ui.spacing().item_spacing.y;
    let mut pending = 0.0f32;
    let flush = |ui: &mut Ui, pending: &mut f32| {
        if *pending > 0.0 {
            ui.allocate_space(egui::vec2(width, *pending - item_gap));
            *pending = 0.0;
        }
    };
    for (index, para) in paragraphs.iter().enumerate() {
        let key = (part, index);
        let estimate = heights.heights.get(&key).copied().unwrap_or_else(|| {
            ((para.chars as f32 / chars_per_line).ceil().max(1.0)) * style.line_height
        });
        let y = ui.cursor().top() - top + pending;
        let is_visible = match visible {
            Some(rect) => y + estimate >= rect.top() - 200.0 && y <= rect.bottom() + 200.0,
            None => true,
        };
        let focused_here = focused.is_some() && focused == Some(paragraph_id(part, index));
        let target = scroll_to.is_some_and(|at| para.start <= at && at <= para.start + para.chars);
        if !is_visible && !focused_here {
            if target {
                flush(ui, &mut pending);
                let (_, rect) = ui.allocate_space(egui::vec2(width, estimate));
                ui.scroll_to_rect(rect, Some(egui::Align::Center));
                ui.add_space(spacing);
            } else {
                pending += estimate + item_gap + spacing;
            }
            continue;
        }
        flush(ui, &mut pending);
        let range = para.start..para.start + para.chars;
        let mut para_marks: Vec<&Mark> =
            indexed.map_or_else(Vec::new, |m| m.overlapping(range.clone()));
        para_marks.extend(
            marks
                .iter()
                .filter(|m| m.range.start < range.end && m.range.end > range.start),
        );
        let response = paragraph_ui(ui, part, index, para, &para_marks, selected_span, style);
        heights.heights.insert(key, response.height);
        if target {
            ui.scroll_to_rect(response.rect, Some(egui::Align::Center));
        }
        if response.focused {
            out.focused = true;
            out.selection = Some(response.selection.clone());
        }
        if response.clicked_span.is_some() {
            out.clicked_span = response.clicked_span;
        }
        out.clipped |= response.clipped;
        ui.add_space(spacing);
    }
    flush(ui, &mut pending);
    out
}

struct ParagraphResponse {
    height: f32,
    rect: egui::Rect,
    focused: bool,
    selection: Range<usize>,
    clicked_span: Option<String>,
    clipped: bool,
}

fn paragraph_ui(
    ui: &mut Ui,
    part: PartId,
    index: usize,
    para: &Paragraph,
    marks: &[&Mark],
    selected_span: Option<&str>,
    style: &TextStyle,
) -> ParagraphResponse {
    let byte_of: Vec<usize> = para
        .text
        .char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(para.text.len()))
        .collect();
    // Local char ranges of the marks in this paragraph.
    let local: Vec<LocalMark> = marks
        .iter()
        .map(|m| {
            let s = m.range.start.saturating_sub(para.start).min(para.chars);
            let e = (m.range.end - para.start.min(m.range.end)).min(para.chars);
            LocalMark {
                range: s..e,
                color: color32(m.color),
                selected: selected_span == Some(m.id.as_str()),
                kind: m.kind,
            }
        })
        .collect();
    let mut layouter =
        |ui: &Ui, buf: &dyn egui::TextBuffer, wrap_width: f32| -> Arc<egui::Galley> {
            let text = buf.as_str();
            let job = highlight_job(text, &byte_of, &local, style, wrap_width);
            ui.fonts_mut(|f| f.layout_job(job))
        };
    let mut text: &str = &para.text;
    let id = paragraph_id(part, index);
    let output = egui::TextEdit::multiline(&mut text)
        .id(id)
        .frame(egui::Frame::NONE)
        .margin(egui::Margin::ZERO)
        .desired_width(f32::INFINITY)
        .desired_rows(1)
        .layouter(&mut layouter)
        .show(ui);
    let response = output.response.response.clone();
    let focused = response.has_focus();
    let selection = output
        .cursor_range
        .map(|r| {
            let r = r.as_sorted_char_range();
            (para.start + r.start.0)..(para.start + r.end.0)
        })
        .unwrap_or(para.start..para.start);

    let span_at = |pos: egui::Pos2| -> Option<&Mark> {
        let c = output
            .galley
            .cursor_from_pos(pos - output.galley_pos)
            .index
            .0;
        let at = para.start + c;
        // The innermost (shortest) span under the pointer.
        marks
            .iter()
            .filter(|m| m.range.start <= at && at < m.range.end)
            .min_by_key(|m| m.range.len())
            .copied()
    };
    let mut clicked_span = None;
    if let Some(pos) = response.hover_pos()
        && let Some(mark) = span_at(pos)
    {
        let tip = mark.tooltip.clone();
        let r = response.clone().on_hover_text_at_pointer(tip);
        if r.clicked() && selection.is_empty() {
            clicked_span = Some(mark.id.clone());
        }
    }
    // Dragging above or below the paragraph: the text there is not in this selection.
    let clipped = response.dragged()
        && ui.input(|i| i.pointer.interact_pos()).is_some_and(|p| {
            p.y < response.rect.top() - style.line_height * 0.5
                || p.y > response.rect.bottom() + style.line_height * 0.5
        });
    ParagraphResponse {
        height: response.rect.height(),
        rect: response.rect,
        focused,
        selection,
        clicked_span,
        clipped,
    }
}

/// A mark in a paragraph's own char positions.
struct LocalMark {
    range: Range<usize>,
    color: Color32,
    selected: bool,
    kind: MarkKind,
}

fn rgb(c: Color32) -> crate::contrast::Rgb {
    [c.r(), c.g(), c.b()]
}

fn color32(c: crate::contrast::Rgb) -> Color32 {
    Color32::from_rgb(c[0], c[1], c[2])
}

/// The contrast theme of a text style.
pub fn contrast_theme(style: &TextStyle) -> crate::contrast::Theme {
    if style.dark {
        crate::contrast::Theme::DARK
    } else {
        crate::contrast::Theme::LIGHT
    }
}

/// Builds the layout of a paragraph with its highlights: the first span over a stretch fills its
/// background (dimmed until its text keeps AA contrast), a second one underlines it, so overlaps
/// stay visible; search hits are drawn in inverse video over everything.
fn highlight_job(
    text: &str,
    byte_of: &[usize],
    marks: &[LocalMark],
    style: &TextStyle,
    wrap_width: f32,
) -> LayoutJob {
    let theme = contrast_theme(style);
    let mut job = LayoutJob::default();
    job.wrap.max_width = wrap_width;
    let base = TextFormat {
        font_id: style.font.clone(),
        color: style.color,
        line_height: Some(style.line_height),
        ..Default::default()
    };
    let chars = byte_of.len() - 1;
    // The text handed in is the paragraph itself; guard against a mismatch anyway.
    if text.len() != byte_of[chars] {
        job.append(text, 0.0, base);
        return job;
    }
    let mut cuts: Vec<usize> = vec![0, chars];
    for m in marks {
        cuts.push(m.range.start);
        cuts.push(m.range.end);
    }
    cuts.sort_unstable();
    cuts.dedup();
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        if a >= b {
            continue;
        }
        let mut format = base.clone();
        let covering = |kinds: &[MarkKind]| -> Vec<&LocalMark> {
            marks
                .iter()
                .filter(|m| m.range.start <= a && b <= m.range.end && kinds.contains(&m.kind))
                .collect()
        };
        let codes = covering(&[MarkKind::Code]);
        if let Some(m) = codes.first() {
            let strength = if m.selected {
                0.75
            } else if style.dark {
                0.45
            } else {
                0.35
            };
            format.background = color32(crate::contrast::highlight(rgb(m.color), theme, strength));
            format.color = color32(theme.text);
            if m.selected {
                format.underline = Stroke::new(2.0, m.color);
            }
        }
        if let Some(m) = codes.get(1) {
            format.underline = Stroke::new(2.5, m.color);
        }
        let hits = covering(&[MarkKind::Hit, MarkKind::CurrentHit]);
        if !hits.is_empty() {
            let (fill, text_color) = crate::contrast::search_hit(theme);
            format.background = color32(fill);
            format.color = color32(text_color);
            if hits.iter().any(|m| m.kind == MarkKind::CurrentHit) {
                format.underline = Stroke::new(3.0, Color32::from_rgb(230, 80, 20));
            }
        }
        job.append(&text[byte_of[a]..byte_of[b]], 0.0, format);
    }
    job
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_keep_char_offsets() {
        let text = "Zoë said “no”.\nSecond line.\n\n£5 🚌 here.\n\nLast";
        let ps = paragraphs(text);
        assert_eq!(ps.len(), 3);
        let chars: Vec<char> = text.chars().collect();
        for p in &ps {
            let slice: String = chars[p.start..p.start + p.chars].iter().collect();
            assert_eq!(slice, p.text);
        }
    }

    #[test]
    fn highlight_sections_follow_char_ranges() {
        let text = "a “b” 🚌 c";
        let byte_of: Vec<usize> = text
            .char_indices()
            .map(|(b, _)| b)
            .chain([text.len()])
            .collect();
        let style = TextStyle {
            font: FontId::proportional(14.0),
            line_height: 20.0,
            color: Color32::BLACK,
            dark: false,
        };
        let mark = |range: Range<usize>, color, kind| LocalMark {
            range,
            color,
            selected: false,
            kind,
        };
        let marks = vec![
            mark(2..5, Color32::RED, MarkKind::Code),
            mark(4..7, Color32::BLUE, MarkKind::Code),
            mark(8..9, Color32::YELLOW, MarkKind::CurrentHit),
        ];
        let job = highlight_job(text, &byte_of, &marks, &style, 100.0);
        let pieces: Vec<&str> = job
            .sections
            .iter()
            .map(|s| &job.text[s.byte_range.start.0..s.byte_range.end.0])
            .collect();
        assert_eq!(pieces, ["a ", "“b", "”", " 🚌", " ", "c"]);
        assert_eq!(job.sections[2].format.underline.color, Color32::BLUE);
        assert_ne!(
            job.sections[0].format.background,
            job.sections[1].format.background
        );
        // The hit is inverse video, whatever its mark's colour: black fill, page-coloured text.
        assert_eq!(job.sections[5].format.background, Color32::BLACK);
        assert_ne!(job.sections[5].format.color, Color32::BLACK);
    }
}
