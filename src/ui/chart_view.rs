//! The analysis charts on screen (egui_plot) and as PNG (the chart's SVG rendered with resvg).
//! Both draw the toolkit-free [`BarChart`] that [`chart::to_svg`] writes, so the three agree.

use egui::Color32;
use egui_plot::{GridMark, Line, Plot};

use crate::analysis::chart::{self, BarChart};

/// The chart in a plot: horizontal bars, the first row at the top, shares in percent on the x axis,
/// each bar's label on the y axis, whiskers for intervals, a legend for stacked series. Zoom and
/// drag are off so that the wheel scrolls the page it sits in.
pub(super) fn plot(ui: &mut egui::Ui, id: &str, c: &BarChart) {
    ui.label(egui::RichText::new(&c.title).strong());
    let rows = c.bars.len();
    let labels: Vec<String> = c
        .bars
        .iter()
        .map(|b| format!("{} (n={})", b.label, b.n))
        .collect();
    let font = egui::TextStyle::Small.resolve(ui.style());
    let label_width = labels
        .iter()
        .map(|l| {
            ui.fonts_mut(|f| {
                f.layout_no_wrap(l.clone(), font.clone(), Color32::WHITE)
                    .size()
                    .x
            })
        })
        .fold(40.0_f32, f32::max);
    let series = bar_series(ui, id, c, &labels);
    let whiskers = whisker_lines(ui, id, c);
    let names = labels.clone();
    // Within the visible width, also inside a horizontally scrolled table's area (whose available
    // width is the table's): a chart cut at the window's edge hides its right end.
    let visible = (ui.clip_rect().right() - ui.cursor().left() - 8.0).clamp(320.0, 1100.0);
    let p = Plot::new(id)
        .width(visible)
        .height(28.0 * rows as f32 + 48.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .show_grid([true, false])
        .include_x(0.0)
        .include_x(100.0)
        .include_y(-0.6)
        .include_y(rows as f64 - 0.4)
        .x_axis_formatter(|mark, _| format!("{}%", mark.value))
        // Every 10%, the halves stronger: egui_plot shows the labels that fit the width.
        .x_grid_spacer(|_| {
            (0..=10)
                .map(|k| GridMark {
                    value: f64::from(k * 10),
                    step_size: if k % 5 == 0 { 50.0 } else { 10.0 },
                })
                .collect()
        })
        .y_axis_min_width(label_width + 8.0)
        .y_grid_spacer(move |_| {
            (0..rows)
                .map(|i| GridMark {
                    value: i as f64,
                    step_size: 1.0,
                })
                .collect()
        })
        .y_axis_formatter(move |mark, _| {
            let v = mark.value.round();
            if (mark.value - v).abs() > 1e-6 || v < 0.0 || v >= rows as f64 {
                return String::new();
            }
            names
                .get(rows - 1 - v as usize)
                .cloned()
                .unwrap_or_default()
        });
    p.show(ui, |pu| {
        for s in series {
            pu.add(s);
        }
        for w in whiskers {
            pu.add(w);
        }
    });
    // The legend below the plot in the series' order, as in the SVG: egui_plot's own sits on top of
    // the bars and sorts the series by name.
    if c.stacked {
        ui.horizontal_wrapped(|ui| {
            for (label, [r, g, b]) in &c.legend {
                let (dot, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
                ui.painter()
                    .rect_filled(dot, 2.0, Color32::from_rgb(*r, *g, *b));
                ui.label(label);
            }
        });
    }
}

/// Argument of bar `i` of `rows`: the table's first row is the top bar.
fn at(rows: usize, i: usize) -> f64 {
    (rows - 1 - i) as f64
}

/// One egui_plot bar chart per series of the legend, stacked when the chart is.
fn bar_series(
    ui: &egui::Ui,
    id: &str,
    c: &BarChart,
    labels: &[String],
) -> Vec<egui_plot::BarChart> {
    let rows = c.bars.len();
    // Solid fills parted by a hairline of the background, as the SVG draws them (egui_plot's
    // default is a translucent fill under a strong outline).
    let edge = egui::Stroke::new(1.0, ui.visuals().extreme_bg_color);
    let mut series: Vec<egui_plot::BarChart> = Vec::with_capacity(c.legend.len());
    for (j, (name, [r, g, b])) in c.legend.iter().enumerate() {
        let color = Color32::from_rgb(*r, *g, *b);
        let bars = c
            .bars
            .iter()
            .enumerate()
            .filter(|(_, bar)| c.stacked || bar.shares.get(j).is_some_and(|s| *s > 0.0))
            .map(|(i, bar)| {
                egui_plot::Bar::new(
                    at(rows, i),
                    bar.shares.get(j).copied().unwrap_or(0.0) * 100.0,
                )
                .width(0.7)
                .fill(color)
                .stroke(edge)
                .name(&labels[i])
            })
            .collect();
        let mut s = egui_plot::BarChart::new(format!("{id}-{j}"), bars)
            .name(name)
            .color(color)
            .horizontal()
            .element_formatter({
                let series = name.clone();
                Box::new(move |bar, _| format!("{}\n{series}: {:.1}%", bar.name, bar.value))
            });
        if c.stacked {
            let below: Vec<&egui_plot::BarChart> = series.iter().collect();
            s = s.stack_on(&below);
        }
        series.push(s);
    }
    series
}

/// The whiskers of the bars' intervals.
fn whisker_lines(ui: &egui::Ui, id: &str, c: &BarChart) -> Vec<Line<'static>> {
    let rows = c.bars.len();
    let whisker = ui.visuals().strong_text_color();
    // Each whisker as three two-point lines: one path that doubles back on itself is drawn by
    // egui_plot as a filled band.
    c.bars
        .iter()
        .enumerate()
        .filter_map(|(i, bar)| bar.interval.map(|iv| (i, iv)))
        .flat_map(|(i, (low, high))| {
            let (y, x1, x2, cap) = (at(rows, i), low * 100.0, high * 100.0, 0.15);
            [
                ("ci", [[x1, y], [x2, y]]),
                ("lo", [[x1, y - cap], [x1, y + cap]]),
                ("hi", [[x2, y - cap], [x2, y + cap]]),
            ]
            .into_iter()
            .map(move |(k, seg)| {
                Line::new(format!("{id}-{k}-{i}"), seg.to_vec())
                    .name("95% interval")
                    .color(whisker)
                    .width(1.5)
            })
        })
        .collect()
}

/// Errors of rendering a chart to PNG.
#[derive(Debug, thiserror::Error)]
pub enum PngError {
    /// The SVG could not be read back (a bug: we wrote it).
    #[error("the chart's SVG could not be read: {0}")]
    Svg(#[from] resvg::usvg::Error),
    /// The image would be empty or too large to allocate.
    #[error("the chart is too large to draw as an image")]
    Size,
    /// The PNG encoder failed.
    #[error("the chart could not be encoded as PNG: {0}")]
    Encode(String),
}

/// The chart as a PNG at `scale` times its SVG size, on white, with egui's own fonts (the same on
/// every machine: no system font is looked up).
pub fn to_png(c: &BarChart, scale: f32) -> Result<Vec<u8>, PngError> {
    let svg = chart::to_svg(c);
    let mut options = resvg::usvg::Options::default();
    let fonts = egui::FontDefinitions::default();
    // SVG asks for "sans-serif": egui's proportional font answers it, so it is loaded first and
    // its family named; the rest (symbols, emoji) are fallbacks.
    let first = fonts
        .families
        .get(&egui::FontFamily::Proportional)
        .and_then(|names| names.first())
        .cloned();
    let mut order: Vec<&String> = fonts.font_data.keys().collect();
    order.sort_by_key(|k| Some(*k) != first.as_ref());
    let db = options.fontdb_mut();
    for key in order {
        if let Some(data) = fonts.font_data.get(key) {
            db.load_font_data((*data.font).as_ref().to_vec());
        }
    }
    let sans = db
        .faces()
        .next()
        .and_then(|f| f.families.first().map(|(name, _)| name.clone()));
    if let Some(family) = sans {
        db.set_sans_serif_family(family);
    }
    let tree = resvg::usvg::Tree::from_str(&svg, &options)?;
    let size = tree.size();
    let (w, h) = (
        (size.width() * scale).ceil() as u32,
        (size.height() * scale).ceil() as u32,
    );
    let mut pixmap = resvg::tiny_skia::Pixmap::new(w, h).ok_or(PngError::Size)?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| PngError::Encode(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use crate::analysis::chart::{Bar, PALETTE};

    fn chart() -> BarChart {
        BarChart {
            title: "Reply by asked_of (share of each row)".into(),
            bars: vec![Bar {
                label: "The Mayor".into(),
                n: 4,
                shares: vec![1.0],
                interval: None,
            }],
            legend: vec![("Full reply".into(), PALETTE[0])],
            stacked: true,
        }
    }

    /// The PNG is the SVG drawn: twice its size, the bar in its colour, and the title's text drawn
    /// with egui's font (no system font is needed: without a font the title would be blank).
    #[test]
    fn the_png_draws_the_bars_and_the_text_of_the_svg() {
        let c = chart();
        let png = to_png(&c, 2.0).unwrap();
        let img = resvg::tiny_skia::Pixmap::decode_png(&png).unwrap();
        let svg = chart::to_svg(&c);
        let width: f32 = svg
            .split("width=\"")
            .nth(1)
            .and_then(|w| w.split('"').next())
            .and_then(|w| w.parse().ok())
            .unwrap();
        assert_eq!(img.width(), (width * 2.0).ceil() as u32);
        let at = |x: u32, y: u32| img.pixel(x, y).unwrap();
        // The bar spans the plot from x 230 at row 0 (y 40..64), drawn at scale 2.
        let bar = at(2 * 300, 2 * 52);
        assert_eq!(
            [bar.red(), bar.green(), bar.blue()],
            PALETTE[0],
            "bar colour"
        );
        let dark_in_title = (2 * 10..2 * 200)
            .flat_map(|x| (2 * 10..2 * 28).map(move |y| (x, y)))
            .filter(|&(x, y)| at(x, y).red() < 100)
            .count();
        assert!(
            dark_in_title > 200,
            "title drawn: {dark_in_title} dark pixels"
        );
    }
}
