//! Krippendorff's alpha at every level against the published worked example: Krippendorff (2011),
//! "Computing Krippendorff's alpha-reliability", example C (four observers, twelve units, missing
//! values): nominal 0.743, ordinal 0.815, interval 0.849, ratio 0.797. The table is the paper's
//! (the same as the `C` data of R's `irr::kripp.alpha` / `DescTools::KrippAlpha`). Each of the
//! three ways the app computes alpha is checked: from a table, from a CSV of (unit, coder, value)
//! records, and from a coincidence matrix.
#![allow(
    clippy::unwrap_used,
    reason = "a test crate: an unwrap that fails is a failing test, and says where"
)]

use marginalia::agreement::corpus::coded_from_csv;
use marginalia::agreement::stats::{Level, Table, alpha_from_coincidences, krippendorff_alpha};

/// Rows are observers A to D, columns units 1 to 12; `.` is a missing value.
const EXAMPLE_C: [&str; 4] = [
    "1 2 3 3 2 1 4 1 2 . . .",
    "1 2 3 3 2 2 4 1 2 5 . 3",
    ". 3 3 3 2 3 4 2 2 5 1 .",
    "1 2 3 3 2 4 4 1 2 5 1 .",
];

/// The published values, to three decimals.
const PUBLISHED: [(Level, f64); 4] = [
    (Level::Nominal, 0.743),
    (Level::Ordinal, 0.815),
    (Level::Interval, 0.849),
    (Level::Ratio, 0.797),
];

/// Units by observers.
fn table() -> Table {
    let rows: Vec<Vec<&str>> = EXAMPLE_C
        .iter()
        .map(|r| r.split_whitespace().collect())
        .collect();
    (0..12)
        .map(|u| {
            rows.iter()
                .map(|r| (r[u] != ".").then(|| r[u].to_string()))
                .collect()
        })
        .collect()
}

fn assert_published(level: Level, alpha: Option<f64>, how: &str) {
    let expected = PUBLISHED.iter().find(|(l, _)| *l == level).unwrap().1;
    let alpha = alpha.unwrap_or_else(|| panic!("{how}: alpha undefined at {level:?}"));
    assert!(
        (alpha - expected).abs() < 0.0005,
        "{how}: {level:?} alpha {alpha:.4}, published {expected}"
    );
}

#[test]
fn example_c_from_the_table_at_every_level() {
    let t = table();
    for (level, _) in PUBLISHED {
        assert_published(level, krippendorff_alpha(&t, level), "table");
    }
}

#[test]
fn example_c_from_csv_records_at_every_level() {
    // Records in an order other than the table's, so that values are first met out of numeric
    // order: the ordinal level must rank them by number, not by when they were read.
    let mut csv = String::from("unit,coder,value\n");
    for u in (0..12).rev() {
        for (c, row) in EXAMPLE_C.iter().enumerate() {
            let v = row.split_whitespace().nth(u).unwrap();
            let v = if v == "." { "" } else { v };
            csv.push_str(&format!("u{u},{},{v}\n", ["A", "B", "C", "D"][c]));
        }
    }
    let (coded, coders) = coded_from_csv(csv.as_bytes()).unwrap();
    assert_eq!(coders, ["A", "B", "C", "D"]);
    assert_eq!(coded.units(), 12);
    for (level, _) in PUBLISHED {
        assert_published(level, coded.krippendorff_alpha(level), "csv");
    }
}

#[test]
fn example_c_from_the_coincidence_matrix_at_every_level() {
    // o_ck = Σ_u (pairs of values c, k within unit u) / (m_u − 1), over units with two values
    // or more; the paper's matrix for example C has n = 40 pairable values.
    let t = table();
    let categories: Vec<String> = ["1", "2", "3", "4", "5"].map(String::from).to_vec();
    let index = |v: &str| categories.iter().position(|c| c == v).unwrap();
    let mut o = vec![vec![0.0f64; 5]; 5];
    for unit in &t {
        let values: Vec<usize> = unit.iter().flatten().map(|v| index(v)).collect();
        let m = values.len();
        if m < 2 {
            continue;
        }
        for (i, &c) in values.iter().enumerate() {
            for (j, &k) in values.iter().enumerate() {
                if i != j {
                    o[c][k] += 1.0 / (m - 1) as f64;
                }
            }
        }
    }
    let n: f64 = o.iter().flatten().sum();
    assert!((n - 40.0).abs() < 1e-9, "n = {n}");
    let refs: Vec<&String> = categories.iter().collect();
    for (level, _) in PUBLISHED {
        assert_published(
            level,
            alpha_from_coincidences(&refs, &o, level),
            "coincidences",
        );
    }
}
