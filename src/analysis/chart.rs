//! The chart of a cross-tab: one stacked bar per row, its segments the row's shares of each
//! column. Toolkit-free: the app paints this model, and [`to_svg`] writes the same chart to a file,
//! so what is on screen and what goes into a paper agree.

use std::fmt::Write as _;

use super::crosstab::CrossTab;

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

/// A stacked bar chart of shares.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// What it shows.
    pub title: String,
    /// One bar per row: its label, its count, and the share of each column (summing to 1).
    pub bars: Vec<(String, u64, Vec<f64>)>,
    /// The columns: label and colour.
    pub legend: Vec<(String, [u8; 3])>,
}

/// The chart of a cross-tab's row shares.
pub fn of_crosstab(t: &CrossTab) -> BarChart {
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
            // Long names (two witnesses and their titles) would run off the chart's left edge.
            (crate::sidecar::ellipsize(label, 34), n, shares)
        })
        .collect();
    let legend = t
        .col_labels
        .iter()
        .enumerate()
        .map(|(j, l)| (l.clone(), PALETTE[j % PALETTE.len()]))
        .collect();
    BarChart {
        title: format!("{} by {} (share of each row)", t.col_axis, t.row_axis),
        bars,
        legend,
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The chart as a standalone SVG document.
pub fn to_svg(chart: &BarChart) -> String {
    const IN_MEMORY: &str = "writing into a String cannot fail";
    let (label_w, bar_w, row_h, top) = (220.0, 420.0, 24.0, 40.0);
    let legend_h = 20.0 * chart.legend.len() as f64;
    let height = top + row_h * chart.bars.len() as f64 + 30.0 + legend_h;
    let width = label_w + bar_w + 80.0;
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
    for (i, (label, n, shares)) in chart.bars.iter().enumerate() {
        let y = top + row_h * i as f64;
        writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{} (n={n})</text>"#,
            label_w - 8.0,
            y + row_h * 0.65,
            escape(label)
        )
        .expect(IN_MEMORY);
        let mut x = label_w;
        for (j, share) in shares.iter().enumerate() {
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
            x += w;
        }
    }
    let legend_top = top + row_h * chart.bars.len() as f64 + 20.0;
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
        let c = of_crosstab(&table());
        assert_eq!(c.bars[0], ("The Mayor".into(), 4, vec![0.75, 0.25]));
        assert_eq!(c.bars[1].2, vec![0.0, 0.0]);
        assert_eq!(c.legend.len(), 2);
    }

    #[test]
    fn the_svg_has_a_segment_per_nonzero_cell_and_escapes_labels() {
        let svg = to_svg(&of_crosstab(&table()));
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<title>").count(), 2, "{svg}");
        assert!(svg.contains("Full reply: 75.0%"));
        assert!(svg.contains("Deputy &lt;Mayor&gt;"));
        assert!(!svg.contains("<Mayor>"));
    }
}
