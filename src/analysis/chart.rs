//! Charts of the analysis view: a cross-tab's rows as stacked shares, one column's share per row
//! with its Wilson interval (reply rates per office-holder), and a dimension's code frequencies.
//! Toolkit-free: the app draws this model with egui_plot, and [`to_svg`] writes the same chart to a
//! file (the app renders that SVG for PNG), so what is on screen and what goes into a paper agree.

use std::fmt::Write as _;

use super::codes::DimensionFrequency;
use super::crosstab::CrossTab;
use crate::codebook::Codebook;

/// Colours of the columns, in order (Okabe & Ito's palette, readable by most colour-blind readers).
pub const PALETTE: [[u8; 3]; 8] = [
    [230, 159, 0],
    [86, 180, 233],
    [0, 158, 115],
    [240, 228, 66],
    [0, 114, 178],
    [213, 94, 0],
    [204, 121, 167],
    [120, 120, 120],
];

/// One bar: a row of a cross-tab or a value of a dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// What the bar stands for.
    pub label: String,
    /// The units it counts.
    pub n: u64,
    /// Its share of each series of the legend, in the legend's order (0 where it has none).
    pub shares: Vec<f64>,
    /// The Wilson 95% interval of its share, drawn as a whisker (charts of one share per bar).
    pub interval: Option<(f64, f64)>,
}

/// A horizontal bar chart of shares.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// What it shows.
    pub title: String,
    /// One bar per row, top to bottom.
    pub bars: Vec<Bar>,
    /// The series: label and colour.
    pub legend: Vec<(String, [u8; 3])>,
    /// Segments of a bar stack to 1 and the legend names them; otherwise each bar is one share with
    /// its interval and the bar's own label says what it is.
    pub stacked: bool,
}

/// Long names (two witnesses and their titles) would run off the chart's left edge.
fn bar_label(label: &str) -> String {
    crate::sidecar::ellipsize(label, 34)
}

fn palette(i: usize) -> [u8; 3] {
    PALETTE[i % PALETTE.len()]
}

/// The colour of column `j`: its value's colour in the codebook when the columns are a dimension's
/// values (Non-reply keeps the red it has while coding), else the palette's.
fn column_color(t: &CrossTab, j: usize, codebook: &Codebook) -> [u8; 3] {
    codebook
        .dimension(&t.col_axis)
        .and_then(|d| d.value(t.cols.get(j)?))
        .and_then(|v| crate::codebook::parse_color(&v.color))
        .unwrap_or_else(|| palette(j))
}

/// The chart of a cross-tab's row shares, stacked.
pub fn of_crosstab(t: &CrossTab, codebook: &Codebook) -> BarChart {
    let bars = t
        .row_labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let n = t.row_totals[i];
            let shares = t.counts[i]
                .iter()
                .map(|&c| if n == 0 { 0.0 } else { c as f64 / n as f64 })
                .collect();
            Bar {
                label: bar_label(label),
                n,
                shares,
                interval: None,
            }
        })
        .collect();
    let legend = t
        .col_labels
        .iter()
        .enumerate()
        .map(|(j, l)| (l.clone(), column_color(t, j, codebook)))
        .collect();
    BarChart {
        title: format!("{} by {} (share of each row)", t.col_axis, t.row_axis),
        bars,
        legend,
        stacked: true,
    }
}

/// The share of one column in each row, with its Wilson 95% interval: a reply rate per
/// office-holder is this chart of the reply column. `None` when the column does not exist.
pub fn of_crosstab_column(t: &CrossTab, column: usize, codebook: &Codebook) -> Option<BarChart> {
    let col_label = t.col_labels.get(column)?;
    let bars = t
        .row_labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let n = t.row_totals[i];
            let share = t.row_shares.get(i).and_then(|r| r.get(column));
            Bar {
                label: bar_label(label),
                n,
                shares: vec![share.map_or(0.0, |s| s.share)],
                interval: share.filter(|_| n > 0).map(|s| (s.low, s.high)),
            }
        })
        .collect();
    Some(BarChart {
        title: format!(
            "{col_label} as a share of each {} (95% Wilson interval)",
            t.row_axis
        ),
        bars,
        legend: vec![(col_label.clone(), column_color(t, column, codebook))],
        stacked: false,
    })
}

/// A dimension's code frequencies: each value's share of the units coded on it, with its interval,
/// in the value's codebook colour.
pub fn of_frequency(d: &DimensionFrequency, codebook: &Codebook) -> BarChart {
    let dim = codebook.dimension(&d.dimension);
    let count = d.values.len();
    let mut legend = Vec::with_capacity(count);
    let mut bars = Vec::with_capacity(count);
    for (i, v) in d.values.iter().enumerate() {
        let color = dim
            .and_then(|x| x.value(&v.value))
            .and_then(|x| crate::codebook::parse_color(&x.color))
            .unwrap_or_else(|| palette(i));
        legend.push((v.label.clone(), color));
        let mut shares = vec![0.0; count];
        shares[i] = v.share.share;
        bars.push(Bar {
            label: bar_label(&v.label),
            n: v.units,
            shares,
            interval: Some((v.share.low, v.share.high)),
        });
    }
    BarChart {
        title: format!(
            "{}: share of the {} units coded (95% Wilson interval)",
            d.label, d.units
        ),
        bars,
        legend,
        stacked: false,
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The chart as a standalone SVG document: bars, a 0–100% axis with grid lines, whiskers for
/// intervals, and the legend of a stacked chart.
pub fn to_svg(chart: &BarChart) -> String {
    const IN_MEMORY: &str = "writing into a String cannot fail";
    let (label_w, bar_w, row_h, top) = (230.0, 420.0, 24.0, 40.0);
    let plot_h = row_h * chart.bars.len() as f64;
    let legend_h = if chart.stacked {
        20.0 * chart.legend.len() as f64
    } else {
        0.0
    };
    let height = top + plot_h + 40.0 + legend_h;
    let width = label_w + bar_w + 40.0;
    let mut s = String::new();
    writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    ).expect(IN_MEMORY);
    writeln!(
        s,
        r#"<rect width="100%" height="100%" fill="white"/><text x="10" y="22" font-size="14" font-weight="bold">{}</text>"#,
        escape(&chart.title)
    ).expect(IN_MEMORY);
    for tick in 0..=4 {
        let x = label_w + bar_w * f64::from(tick) / 4.0;
        writeln!(
            s,
            r##"<line x1="{x}" y1="{top}" x2="{x}" y2="{}" stroke="#d0d0d0"/><text x="{x}" y="{}" text-anchor="middle" fill="#404040">{}%</text>"##,
            top + plot_h,
            top + plot_h + 16.0,
            tick * 25
        )
        .expect(IN_MEMORY);
    }
    for (i, bar) in chart.bars.iter().enumerate() {
        let y = top + row_h * i as f64;
        writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{} (n={})</text>"#,
            label_w - 8.0,
            y + row_h * 0.65,
            escape(&bar.label),
            bar.n
        )
        .expect(IN_MEMORY);
        let mut x = label_w;
        for (j, share) in bar.shares.iter().enumerate() {
            let w = bar_w * share;
            if w > 0.0 {
                let [r, g, b] = chart.legend.get(j).map_or([0, 0, 0], |l| l.1);
                writeln!(
                    s,
                    r#"<rect x="{x:.2}" y="{:.2}" width="{w:.2}" height="{:.2}" fill="rgb({r},{g},{b})"><title>{}: {:.1}%</title></rect>"#,
                    y + 3.0,
                    row_h - 6.0,
                    escape(chart.legend.get(j).map_or("", |l| l.0.as_str())),
                    share * 100.0
                ).expect(IN_MEMORY);
            }
            if chart.stacked {
                x += w;
            }
        }
        if let Some((low, high)) = bar.interval {
            let (x1, x2, c) = (
                label_w + bar_w * low,
                label_w + bar_w * high,
                y + row_h / 2.0,
            );
            writeln!(
                s,
                r##"<path d="M{x1:.2} {c:.2}H{x2:.2}M{x1:.2} {:.2}V{:.2}M{x2:.2} {:.2}V{:.2}" stroke="#202020" stroke-width="1.5" fill="none"><title>95% CI {:.1}–{:.1}%</title></path>"##,
                c - 5.0,
                c + 5.0,
                c - 5.0,
                c + 5.0,
                low * 100.0,
                high * 100.0
            )
            .expect(IN_MEMORY);
        }
    }
    if chart.stacked {
        let legend_top = top + plot_h + 30.0;
        for (j, (label, [r, g, b])) in chart.legend.iter().enumerate() {
            let y = legend_top + 20.0 * j as f64;
            writeln!(
                s,
                r#"<rect x="{label_w}" y="{y}" width="12" height="12" fill="rgb({r},{g},{b})"/><text x="{}" y="{}">{}</text>"#,
                label_w + 18.0,
                y + 10.0,
                escape(label)
            ).expect(IN_MEMORY);
        }
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> CrossTab {
        CrossTab {
            row_axis: "asked_of".into(),
            col_axis: "reply".into(),
            annotators: vec!["alice".into()],
            rows: vec!["mayor".into(), "deputy".into()],
            row_labels: vec!["The Mayor".into(), "Deputy <Mayor>".into()],
            cols: vec!["full".into(), "non".into()],
            col_labels: vec!["Full reply".into(), "Non-reply".into()],
            counts: vec![vec![3, 1], vec![0, 0]],
            row_totals: vec![4, 0],
            col_totals: vec![3, 1],
            total: 4,
            units: 4,
            row_shares: Vec::new(),
            col_shares: Vec::new(),
            chi_square: None,
            df: None,
            p_value: None,
            cramers_v: None,
            low_expected_cells: 0,
        }
    }

    #[test]
    fn bars_are_row_shares_and_an_empty_row_is_empty() {
        let c = of_crosstab(&table(), &Codebook::default());
        assert_eq!(
            (
                c.bars[0].label.as_str(),
                c.bars[0].n,
                c.bars[0].shares.clone()
            ),
            ("The Mayor", 4, vec![0.75, 0.25])
        );
        assert_eq!(c.bars[1].shares, vec![0.0, 0.0]);
        assert!(c.stacked);
        assert_eq!(c.legend.len(), 2);
    }

    #[test]
    fn the_svg_has_a_segment_per_nonzero_cell_and_escapes_labels() {
        let svg = to_svg(&of_crosstab(&table(), &Codebook::default()));
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<title>").count(), 2, "{svg}");
        assert!(svg.contains("Full reply: 75.0%"));
        assert!(svg.contains("Deputy &lt;Mayor&gt;"));
        assert!(!svg.contains("<Mayor>"));
    }

    #[test]
    fn one_column_per_row_carries_its_wilson_interval_and_draws_whiskers() {
        use crate::analysis::stats::{Z_95, wilson};
        let mut t = table();
        let none = crate::analysis::stats::Share {
            share: 0.0,
            low: 0.0,
            high: 0.0,
        };
        let w = |k, n| wilson(k, n, Z_95).unwrap_or(none);
        t.row_shares = vec![vec![w(3, 4), w(1, 4)], vec![w(0, 0), w(0, 0)]];
        let c = of_crosstab_column(&t, 1, &Codebook::default()).expect("column 1 exists");
        assert!(!c.stacked);
        assert_eq!(c.legend[0].0, "Non-reply");
        assert_eq!(c.bars[0].shares, vec![0.25]);
        let expected = wilson(1, 4, Z_95).expect("n > 0");
        assert_eq!(c.bars[0].interval, Some((expected.low, expected.high)));
        assert_eq!(c.bars[1].interval, None, "an empty row has no interval");
        assert!(of_crosstab_column(&t, 2, &Codebook::default()).is_none());
        let svg = to_svg(&c);
        assert_eq!(svg.matches("95% CI").count(), 1, "{svg}");
        assert!(svg.contains("100%</text>"));
        // No legend swatch: the title names the one series.
        assert!(!svg.contains("width=\"12\" height=\"12\""));
    }
}
