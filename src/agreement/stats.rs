//! Reliability coefficients on a units × coders table: percent agreement, Cohen's kappa, Fleiss'
//! kappa and Krippendorff's alpha (nominal, ordinal, interval, ratio; missing values allowed).
//! Formulas and their sources are in `docs/agreement.md`.

use std::collections::BTreeMap;

/// Level of measurement for Krippendorff's alpha.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Categories without order.
    Nominal,
    /// Ranks.
    Ordinal,
    /// Numbers with meaningful differences.
    Interval,
    /// Numbers with a meaningful zero.
    Ratio,
}

impl Level {
    /// Parses `nominal`, `ordinal`, `interval`, `ratio`.
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "nominal" => Some(Level::Nominal),
            "ordinal" => Some(Level::Ordinal),
            "interval" => Some(Level::Interval),
            "ratio" => Some(Level::Ratio),
            _ => None,
        }
    }
}

/// Reliability data: for each unit, each coder's value or `None` when the coder gave none.
/// Every row has one entry per coder.
pub type Table = Vec<Vec<Option<String>>>;

/// Share of agreeing pairs of values within units, averaged over units with at least two values.
/// `None` when no unit has two values.
pub fn percent_agreement(table: &Table) -> Option<f64> {
    let mut sum = 0.0;
    let mut units = 0usize;
    for row in table {
        let values: Vec<&String> = row.iter().flatten().collect();
        let m = values.len();
        if m < 2 {
            continue;
        }
        let mut agree = 0usize;
        for i in 0..m {
            for j in i + 1..m {
                agree += (values[i] == values[j]) as usize;
            }
        }
        sum += agree as f64 / (m * (m - 1) / 2) as f64;
        units += 1;
    }
    (units > 0).then(|| sum / units as f64)
}

/// Number of units with at least two values (pairable units).
pub fn pairable_units(table: &Table) -> usize {
    table
        .iter()
        .filter(|row| row.iter().flatten().count() >= 2)
        .count()
}

/// Cohen's kappa of coders `a` and `b` over the units both coded: (p_o − p_e) / (1 − p_e) with
/// p_e = Σ_k p_a(k) p_b(k). `None` when no unit was coded by both, or when p_e = 1 (both coders
/// used one and the same category throughout: kappa is undefined).
pub fn cohen_kappa(table: &Table, a: usize, b: usize) -> Option<f64> {
    let pairs: Vec<(&String, &String)> = table
        .iter()
        .filter_map(|row| Some((row.get(a)?.as_ref()?, row.get(b)?.as_ref()?)))
        .collect();
    let n = pairs.len() as f64;
    if pairs.is_empty() {
        return None;
    }
    let mut pa: BTreeMap<&String, f64> = BTreeMap::new();
    let mut pb: BTreeMap<&String, f64> = BTreeMap::new();
    let mut agree = 0.0;
    for (x, y) in &pairs {
        *pa.entry(x).or_default() += 1.0 / n;
        *pb.entry(y).or_default() += 1.0 / n;
        if x == y {
            agree += 1.0;
        }
    }
    let po = agree / n;
    let pe: f64 = pa
        .iter()
        .map(|(k, p)| p * pb.get(k).copied().unwrap_or(0.0))
        .sum();
    if (1.0 - pe).abs() < 1e-12 {
        return None;
    }
    Some((po - pe) / (1.0 - pe))
}

/// Fleiss' kappa over the units where every coder gave a value (Fleiss requires the same number of
/// ratings per unit). `None` when there is no such unit, fewer than two coders, or P_e = 1.
pub fn fleiss_kappa(table: &Table) -> Option<f64> {
    let full: Vec<Vec<&String>> = table
        .iter()
        .filter(|row| row.len() >= 2 && row.iter().all(Option::is_some))
        .map(|row| row.iter().flatten().collect())
        .collect();
    let first = full.first()?;
    let raters = first.len() as f64;
    let units = full.len() as f64;
    let mut totals: BTreeMap<&String, f64> = BTreeMap::new();
    let mut p_bar = 0.0;
    for row in &full {
        let mut counts: BTreeMap<&String, f64> = BTreeMap::new();
        for v in row {
            *counts.entry(v).or_default() += 1.0;
            *totals.entry(v).or_default() += 1.0;
        }
        let s: f64 = counts.values().map(|c| c * c).sum();
        p_bar += (s - raters) / (raters * (raters - 1.0));
    }
    p_bar /= units;
    let pe: f64 = totals
        .values()
        .map(|t| (t / (units * raters)).powi(2))
        .sum();
    if (1.0 - pe).abs() < 1e-12 {
        return None;
    }
    Some((p_bar - pe) / (1.0 - pe))
}

/// Krippendorff's alpha at a level of measurement, with missing values: 1 − D_o / D_e computed
/// from the coincidence matrix of the pairable values. `None` when fewer than two pairable values
/// exist, when D_e = 0 (a single category throughout), or, at the interval and ratio levels, when a
/// value is not a number.
pub fn krippendorff_alpha(table: &Table, level: Level) -> Option<f64> {
    // Coincidences o_ck, keyed by value index.
    let mut index: BTreeMap<&String, usize> = BTreeMap::new();
    for v in table.iter().flatten().flatten() {
        let n = index.len();
        index.entry(v).or_insert(n);
    }
    let categories: Vec<&String> = {
        let mut c: Vec<(&String, usize)> = index.iter().map(|(k, v)| (*k, *v)).collect();
        c.sort_by_key(|x| x.1);
        c.into_iter().map(|x| x.0).collect()
    };
    let k = categories.len();
    let mut o = vec![vec![0.0f64; k]; k];
    for row in table {
        let values: Vec<usize> = row.iter().flatten().map(|v| index[v]).collect();
        let m = values.len();
        if m < 2 {
            continue;
        }
        let w = 1.0 / (m - 1) as f64;
        for i in 0..m {
            for j in 0..m {
                if i != j {
                    o[values[i]][values[j]] += w;
                }
            }
        }
    }
    alpha_from_coincidences(&categories, &o, level)
}

/// Alpha from a coincidence matrix over `categories` (same order as the matrix).
pub fn alpha_from_coincidences(
    categories: &[&String],
    o: &[Vec<f64>],
    level: Level,
) -> Option<f64> {
    let k = categories.len();
    let n_c: Vec<f64> = o.iter().map(|row| row.iter().sum()).collect();
    let n: f64 = n_c.iter().sum();
    if n < 2.0 || k == 0 {
        return None;
    }
    let numbers: Option<Vec<f64>> = match level {
        Level::Interval | Level::Ratio => categories
            .iter()
            .map(|c| c.trim().parse::<f64>().ok())
            .collect(),
        _ => Some(Vec::new()),
    };
    let numbers = numbers?;
    // Ordinal ranks: categories in numeric order when all are numbers, else in text order.
    let order: Vec<usize> = {
        let mut idx: Vec<usize> = (0..k).collect();
        let nums: Option<Vec<f64>> = categories
            .iter()
            .map(|c| c.trim().parse::<f64>().ok())
            .collect();
        match nums {
            Some(v) => idx.sort_by(|a, b| v[*a].total_cmp(&v[*b])),
            None => idx.sort_by(|a, b| categories[*a].cmp(categories[*b])),
        }
        idx
    };
    let mut rank = vec![0usize; k];
    for (r, &c) in order.iter().enumerate() {
        rank[c] = r;
    }
    let delta2 = |c: usize, d: usize| -> f64 {
        if c == d {
            return 0.0;
        }
        match level {
            Level::Nominal => 1.0,
            Level::Interval => (numbers[c] - numbers[d]).powi(2),
            Level::Ratio => {
                let s = numbers[c] + numbers[d];
                if s == 0.0 {
                    0.0
                } else {
                    ((numbers[c] - numbers[d]) / s).powi(2)
                }
            }
            Level::Ordinal => {
                let (lo, hi) = if rank[c] < rank[d] {
                    (rank[c], rank[d])
                } else {
                    (rank[d], rank[c])
                };
                let between: f64 = (lo..=hi).map(|r| n_c[order[r]]).sum();
                (between - (n_c[c] + n_c[d]) / 2.0).powi(2)
            }
        }
    };
    let mut observed = 0.0;
    let mut expected = 0.0;
    for c in 0..k {
        for d in 0..k {
            let d2 = delta2(c, d);
            observed += o[c][d] * d2;
            expected += n_c[c] * n_c[d] * d2;
        }
    }
    if expected == 0.0 {
        return None;
    }
    Some(1.0 - (n - 1.0) * observed / expected)
}

/// Binary data summarized by counts: for each number of coders m and number of them that said 1,
/// how many units. Character-level span agreement over millions of characters is computed from this
/// without materializing a table.
#[derive(Debug, Clone, Default)]
pub struct BinaryCounts {
    /// (coders with a value, coders who said 1) -> units.
    pub counts: BTreeMap<(usize, usize), u64>,
}

impl BinaryCounts {
    /// Adds `units` units where `m` coders gave a value and `ones` of them said 1.
    pub fn add(&mut self, m: usize, ones: usize, units: u64) {
        if units > 0 {
            *self.counts.entry((m, ones)).or_default() += units;
        }
    }

    /// Pairable units.
    pub fn units(&self) -> u64 {
        self.counts
            .iter()
            .filter(|((m, _), _)| *m >= 2)
            .map(|(_, n)| n)
            .sum()
    }

    /// Percent agreement (share of agreeing pairs, averaged over units).
    pub fn percent_agreement(&self) -> Option<f64> {
        let mut sum = 0.0;
        let mut units = 0u64;
        for (&(m, k), &n) in &self.counts {
            if m < 2 {
                continue;
            }
            let pairs = (m * (m - 1) / 2) as f64;
            let agree =
                (k * k.saturating_sub(1) / 2 + (m - k) * (m - k).saturating_sub(1) / 2) as f64;
            sum += n as f64 * agree / pairs;
            units += n;
        }
        (units > 0).then(|| sum / units as f64)
    }

    /// Krippendorff's alpha (nominal = binary).
    pub fn alpha(&self) -> Option<f64> {
        let mut o = vec![vec![0.0f64; 2]; 2];
        for (&(m, k), &n) in &self.counts {
            if m < 2 {
                continue;
            }
            let w = n as f64 / (m - 1) as f64;
            let (k, z) = (k as f64, (m - k) as f64);
            o[1][1] += w * k * (k - 1.0);
            o[0][0] += w * z * (z - 1.0);
            o[0][1] += w * k * z;
            o[1][0] += w * k * z;
        }
        let zero = "0".to_string();
        let one = "1".to_string();
        alpha_from_coincidences(&[&zero, &one], &o, Level::Nominal)
    }

    /// Fleiss' kappa over units where all `coders` gave a value.
    pub fn fleiss(&self, coders: usize) -> Option<f64> {
        if coders < 2 {
            return None;
        }
        let r = coders as f64;
        let mut units = 0.0;
        let mut p_bar = 0.0;
        let mut ones = 0.0;
        for (&(m, k), &n) in &self.counts {
            if m != coders {
                continue;
            }
            let (k, n) = (k as f64, n as f64);
            units += n;
            p_bar += n * (k * k + (r - k) * (r - k) - r) / (r * (r - 1.0));
            ones += n * k;
        }
        if units == 0.0 {
            return None;
        }
        p_bar /= units;
        let p1 = ones / (units * r);
        let pe = p1 * p1 + (1.0 - p1) * (1.0 - p1);
        if (1.0 - pe).abs() < 1e-12 {
            return None;
        }
        Some((p_bar - pe) / (1.0 - pe))
    }
}

/// Cohen's kappa of two binary coders from the 2×2 table [[both 1, a only], [b only, both 0]].
pub fn cohen_kappa_2x2(both: f64, a_only: f64, b_only: f64, neither: f64) -> Option<f64> {
    let n = both + a_only + b_only + neither;
    if n == 0.0 {
        return None;
    }
    let po = (both + neither) / n;
    let pa1 = (both + a_only) / n;
    let pb1 = (both + b_only) / n;
    let pe = pa1 * pb1 + (1.0 - pa1) * (1.0 - pb1);
    if (1.0 - pe).abs() < 1e-12 {
        return None;
    }
    Some((po - pe) / (1.0 - pe))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(coders: &[&str]) -> Table {
        let cols: Vec<Vec<&str>> = coders
            .iter()
            .map(|c| c.split_whitespace().collect())
            .collect();
        (0..cols[0].len())
            .map(|u| {
                cols.iter()
                    .map(|c| (c[u] != ".").then(|| c[u].to_string()))
                    .collect()
            })
            .collect()
    }

    fn close(x: Option<f64>, y: f64) {
        let x = x.expect("defined");
        assert!((x - y).abs() < 0.0005, "{x} != {y}");
    }

    #[test]
    fn krippendorff_2011_example_a_binary_two_observers() {
        let t = table(&["0 1 0 0 0 0 0 0 1 0", "1 1 1 0 0 1 0 0 0 0"]);
        close(krippendorff_alpha(&t, Level::Nominal), 0.095);
    }

    #[test]
    fn krippendorff_2011_example_b_nominal_two_observers() {
        let t = table(&["1 1 2 2 4 3 3 3 5 4 4 1", "2 1 2 2 2 3 3 3 5 4 4 4"]);
        close(krippendorff_alpha(&t, Level::Nominal), 0.692);
    }

    #[test]
    fn krippendorff_2011_example_c_four_observers_missing_data() {
        let t = table(&[
            "1 2 3 3 2 1 4 1 2 . . .",
            "1 2 3 3 2 2 4 1 2 5 . 3",
            ". 3 3 3 2 3 4 2 2 5 1 .",
            "1 2 3 3 2 4 4 1 2 5 1 .",
        ]);
        close(krippendorff_alpha(&t, Level::Nominal), 0.743);
        close(krippendorff_alpha(&t, Level::Interval), 0.849);
        assert_eq!(pairable_units(&t), 11);
    }

    #[test]
    fn cohen_kappa_on_the_20_5_10_15_table() {
        close(cohen_kappa_2x2(20.0, 5.0, 10.0, 15.0), 0.4);
        // The same through a table of units.
        let mut t: Table = Vec::new();
        for (n, a, b) in [
            (20, "y", "y"),
            (5, "y", "n"),
            (10, "n", "y"),
            (15, "n", "n"),
        ] {
            for _ in 0..n {
                t.push(vec![Some(a.to_string()), Some(b.to_string())]);
            }
        }
        close(cohen_kappa(&t, 0, 1), 0.4);
        close(percent_agreement(&t), 0.7);
    }

    #[test]
    fn fleiss_kappa_on_fleiss_1971_style_data() {
        // Wikipedia's worked example of Fleiss' kappa (10 subjects, 14 raters, 5 categories): 0.210.
        let counts = [
            [0, 0, 0, 0, 14],
            [0, 2, 6, 4, 2],
            [0, 0, 3, 5, 6],
            [0, 3, 9, 2, 0],
            [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0],
            [3, 2, 6, 3, 0],
            [2, 5, 3, 2, 2],
            [6, 5, 2, 1, 0],
            [0, 2, 2, 3, 7],
        ];
        let t: Table = counts
            .iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .flat_map(|(cat, &n)| std::iter::repeat_n(Some(cat.to_string()), n))
                    .collect()
            })
            .collect();
        close(fleiss_kappa(&t), 0.210);
    }

    #[test]
    fn binary_counts_match_the_table_formulas() {
        let t = table(&["0 1 0 0 0 0 0 0 1 0", "1 1 1 0 0 1 0 0 0 0"]);
        let mut c = BinaryCounts::default();
        for row in &t {
            let ones = row.iter().flatten().filter(|v| *v == "1").count();
            c.add(2, ones, 1);
        }
        close(c.alpha(), 0.095);
        close(c.percent_agreement(), percent_agreement(&t).unwrap());
        close(c.fleiss(2), fleiss_kappa(&t).unwrap());
    }

    #[test]
    fn undefined_cases_are_none() {
        let same = table(&["1 1 1", "1 1 1"]);
        assert_eq!(krippendorff_alpha(&same, Level::Nominal), None);
        assert_eq!(cohen_kappa(&same, 0, 1), None);
        close(percent_agreement(&same), 1.0);
        let none = table(&["1 . .", ". 2 ."]);
        assert_eq!(krippendorff_alpha(&none, Level::Nominal), None);
        assert_eq!(percent_agreement(&none), None);
        let words = table(&["a b", "a c"]);
        assert_eq!(krippendorff_alpha(&words, Level::Interval), None);
    }
}
