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

/// A reliability table with its values numbered: one code per cell, row by row, [`MISSING`] where
/// a coder gave no value. Every coefficient is computed from it in one or two passes over the units,
/// counting values within each unit: nothing looks at pairs of units, so the cost grows with the
/// number of cells, and a million units × five coders take 20 MB.
#[derive(Debug, Clone, PartialEq)]
pub struct Coded {
    coders: usize,
    values: Vec<String>,
    cells: Vec<u32>,
}

/// The code of a missing value in [`Coded`].
pub const MISSING: u32 = u32::MAX;

/// A [`Coded`] table made row by row, its values numbered in the order they are first met, as
/// [`Coded::from_table`] numbers them, so that a corpus's tables are kept as codes: kept as a
/// string per cell (and a vector per row), the tables of 100,000 pages were most of what
/// `agreement` allocated and freed, and it grew faster than the pages.
#[derive(Debug, Clone, Default)]
pub struct CodedRows {
    /// Cells per row, set by the first row.
    coders: usize,
    values: Vec<String>,
    index: crate::fasthash::FxHashMap<String, u32>,
    cells: Vec<u32>,
}

impl CodedRows {
    fn code(&mut self, value: &str) -> u32 {
        if let Some(&code) = self.index.get(value) {
            return code;
        }
        let code = u32::try_from(self.values.len()).unwrap_or(MISSING - 1);
        self.values.push(value.to_string());
        self.index.insert(value.to_string(), code);
        code
    }

    /// Adds a row. Every row of a table has as many cells as its first (a shorter one is
    /// missing values at its end).
    pub fn push_row<'a>(&mut self, row: impl IntoIterator<Item = Option<&'a str>>) {
        let start = self.cells.len();
        for v in row {
            let code = match v {
                None => MISSING,
                Some(v) => self.code(v),
            };
            self.cells.push(code);
        }
        let len = self.cells.len() - start;
        if start == 0 && self.coders == 0 {
            self.coders = len;
        }
        debug_assert!(len <= self.coders, "a row longer than the table's first");
        self.cells.extend(std::iter::repeat_n(
            MISSING,
            self.coders.saturating_sub(len),
        ));
    }

    /// Appends the rows of `other`, its values numbered into this table's.
    pub fn append(&mut self, other: CodedRows) {
        if self.cells.is_empty() && self.values.is_empty() {
            *self = other;
            return;
        }
        if other.cells.is_empty() {
            return;
        }
        debug_assert_eq!(self.coders, other.coders, "tables of other widths");
        // `other` numbered its values as first met, so taking them in its order numbers the new
        // ones as the joined table meets them.
        let codes: Vec<u32> = other.values.iter().map(|v| self.code(v)).collect();
        self.cells.extend(other.cells.iter().map(|&c| {
            if c == MISSING {
                MISSING
            } else {
                codes[c as usize]
            }
        }));
    }

    /// Number of rows.
    pub fn units(&self) -> usize {
        self.cells.len().checked_div(self.coders).unwrap_or(0)
    }

    /// The value of row `unit`'s cell `coder`.
    pub fn value(&self, unit: usize, coder: usize) -> Option<&str> {
        let code = *self.cells.get(unit * self.coders + coder)?;
        (code != MISSING).then(|| self.values[code as usize].as_str())
    }

    /// The table.
    pub fn into_coded(self) -> Coded {
        Coded {
            coders: self.coders,
            values: self.values,
            cells: self.cells,
        }
    }
}

impl Coded {
    /// A table of `cells.len() / coders` units; codes index `values`, [`MISSING`] is no value.
    /// `None` when the cells do not fill whole rows or a code has no value.
    pub fn new(coders: usize, values: Vec<String>, cells: Vec<u32>) -> Option<Coded> {
        let whole = if coders == 0 {
            cells.is_empty()
        } else {
            cells.len().is_multiple_of(coders)
        };
        (whole
            && cells
                .iter()
                .all(|&c| c == MISSING || (c as usize) < values.len()))
        .then_some(Coded {
            coders,
            values,
            cells,
        })
    }

    /// Numbers the values of a table (in the order they are first met, row by row). Rows shorter
    /// than the longest are missing values at the end.
    pub fn from_table(table: &Table) -> Coded {
        let coders = table.iter().map(Vec::len).max().unwrap_or(0);
        let mut index: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        let mut values = Vec::new();
        let mut cells = Vec::with_capacity(table.len() * coders);
        for row in table {
            for v in row {
                cells.push(match v {
                    None => MISSING,
                    Some(v) => *index.entry(v.as_str()).or_insert_with(|| {
                        values.push(v.clone());
                        (values.len() - 1) as u32
                    }),
                });
            }
            cells.extend(std::iter::repeat_n(MISSING, coders - row.len()));
        }
        Coded {
            coders,
            values,
            cells,
        }
    }

    /// Number of coders (columns).
    pub fn coders(&self) -> usize {
        self.coders
    }

    /// Number of units (rows).
    pub fn units(&self) -> usize {
        self.cells.len().checked_div(self.coders).unwrap_or(0)
    }

    /// The distinct values, indexed by code.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    fn rows(&self) -> std::slice::ChunksExact<'_, u32> {
        self.cells.chunks_exact(self.coders.max(1))
    }

    /// Calls `f` with each unit's values as (code, how many coders gave it), codes ascending, and
    /// the number of values; units with fewer than `min` values are skipped.
    fn for_each_unit(&self, min: usize, mut f: impl FnMut(&[(u32, u64)], u64)) {
        let mut codes: Vec<u32> = Vec::with_capacity(self.coders);
        let mut runs: Vec<(u32, u64)> = Vec::with_capacity(self.coders);
        for row in self.rows() {
            codes.clear();
            codes.extend(row.iter().copied().filter(|&c| c != MISSING));
            if codes.len() < min.max(1) {
                continue;
            }
            codes.sort_unstable();
            runs.clear();
            for &c in &codes {
                match runs.last_mut() {
                    Some((last, n)) if *last == c => *n += 1,
                    _ => runs.push((c, 1)),
                }
            }
            f(&runs, codes.len() as u64);
        }
    }

    /// Number of units with at least two values (pairable units).
    pub fn pairable_units(&self) -> usize {
        self.rows()
            .filter(|row| row.iter().filter(|&&c| c != MISSING).count() >= 2)
            .count()
    }

    /// Share of agreeing pairs of values within units, averaged over units with at least two
    /// values. `None` when no unit has two values.
    pub fn percent_agreement(&self) -> Option<f64> {
        let mut sum = 0.0;
        let mut units = 0usize;
        self.for_each_unit(2, |runs, m| {
            let agree: u64 = runs.iter().map(|&(_, c)| c * (c - 1) / 2).sum();
            sum += agree as f64 / (m * (m - 1) / 2) as f64;
            units += 1;
        });
        (units > 0).then(|| sum / units as f64)
    }

    /// Cohen's kappa of coders `a` and `b` over the units both coded (see [`cohen_kappa`]).
    pub fn cohen_kappa(&self, a: usize, b: usize) -> Option<f64> {
        if a >= self.coders || b >= self.coders {
            return None;
        }
        let k = self.values.len();
        let (mut pa, mut pb) = (vec![0u64; k], vec![0u64; k]);
        let (mut n, mut agree) = (0u64, 0u64);
        for row in self.rows() {
            let (x, y) = (row[a], row[b]);
            if x == MISSING || y == MISSING {
                continue;
            }
            pa[x as usize] += 1;
            pb[y as usize] += 1;
            n += 1;
            agree += u64::from(x == y);
        }
        if n == 0 {
            return None;
        }
        let n = n as f64;
        let po = agree as f64 / n;
        let pe: f64 = pa
            .iter()
            .zip(&pb)
            .map(|(&x, &y)| (x as f64 / n) * (y as f64 / n))
            .sum();
        if (1.0 - pe).abs() < 1e-12 {
            return None;
        }
        Some((po - pe) / (1.0 - pe))
    }

    /// Fleiss' kappa over the units where every coder gave a value (see [`fleiss_kappa`]).
    pub fn fleiss_kappa(&self) -> Option<f64> {
        if self.coders < 2 {
            return None;
        }
        let raters = self.coders as f64;
        let mut totals = vec![0u64; self.values.len()];
        let mut units = 0u64;
        let mut p_bar = 0.0;
        self.for_each_unit(self.coders, |runs, _| {
            let s: u64 = runs.iter().map(|&(_, c)| c * c).sum();
            for &(code, c) in runs {
                totals[code as usize] += c;
            }
            p_bar += (s as f64 - raters) / (raters * (raters - 1.0));
            units += 1;
        });
        if units == 0 {
            return None;
        }
        let units = units as f64;
        p_bar /= units;
        let pe: f64 = totals
            .iter()
            .map(|&t| (t as f64 / (units * raters)).powi(2))
            .sum();
        if (1.0 - pe).abs() < 1e-12 {
            return None;
        }
        Some((p_bar - pe) / (1.0 - pe))
    }

    /// Krippendorff's alpha at a level of measurement (see [`krippendorff_alpha`]).
    ///
    /// α = 1 − (n − 1) · D_o / D_e with D_o = Σ_u Σ_{i≠j} δ²(v_ui, v_uj) / (m_u − 1), the observed
    /// disagreement summed unit by unit (the same sum as over the coincidence matrix), and
    /// D_e = Σ_c Σ_k n_c n_k δ²(c, k) from the counts of values n_c. Nominal and interval sums have
    /// closed forms; ordinal ranks are summed with running totals in exact integers; the ratio
    /// level is the one that loops over pairs of distinct values (k² for k values).
    pub fn krippendorff_alpha(&self, level: Level) -> Option<f64> {
        let k = self.values.len();
        // n_c over pairable units.
        let mut n_c = vec![0u64; k];
        self.for_each_unit(2, |runs, _| {
            for &(code, c) in runs {
                n_c[code as usize] += c;
            }
        });
        let n: u64 = n_c.iter().sum();
        if n < 2 || k == 0 {
            return None;
        }
        let numbers: Vec<f64> = match level {
            Level::Interval | Level::Ratio => self
                .values
                .iter()
                .map(|c| c.trim().parse::<f64>().ok())
                .collect::<Option<Vec<f64>>>()?,
            _ => Vec::new(),
        };
        let (observed, expected) = match level {
            Level::Nominal => {
                let mut observed = 0.0;
                self.for_each_unit(2, |runs, m| {
                    let same: u64 = runs.iter().map(|&(_, c)| c * (c - 1)).sum();
                    observed += (m * (m - 1) - same) as f64 / (m - 1) as f64;
                });
                let squares: u128 = n_c.iter().map(|&c| u128::from(c) * u128::from(c)).sum();
                (observed, (u128::from(n) * u128::from(n) - squares) as f64)
            }
            Level::Interval => {
                let mut observed = 0.0;
                self.for_each_unit(2, |runs, m| {
                    // Σ_{i≠j} (x_i − x_j)² = 2m Σ (x_i − mean)², centred for precision.
                    let mean = runs
                        .iter()
                        .map(|&(code, c)| numbers[code as usize] * c as f64)
                        .sum::<f64>()
                        / m as f64;
                    let spread: f64 = runs
                        .iter()
                        .map(|&(code, c)| c as f64 * (numbers[code as usize] - mean).powi(2))
                        .sum();
                    observed += 2.0 * m as f64 * spread / (m - 1) as f64;
                });
                let mean = n_c
                    .iter()
                    .zip(&numbers)
                    .map(|(&c, x)| c as f64 * x)
                    .sum::<f64>()
                    / n as f64;
                let spread: f64 = n_c
                    .iter()
                    .zip(&numbers)
                    .map(|(&c, x)| c as f64 * (x - mean).powi(2))
                    .sum();
                (observed, 2.0 * n as f64 * spread)
            }
            Level::Ratio => {
                let delta = |c: u32, d: u32| {
                    let (x, y) = (numbers[c as usize], numbers[d as usize]);
                    let s = x + y;
                    if s == 0.0 { 0.0 } else { ((x - y) / s).powi(2) }
                };
                let observed = self.pairwise_observed(delta);
                let present: Vec<usize> = (0..k).filter(|&c| n_c[c] > 0).collect();
                let mut expected = 0.0;
                for (i, &c) in present.iter().enumerate() {
                    for &d in &present[i + 1..] {
                        expected += 2.0 * (n_c[c] * n_c[d]) as f64 * delta(c as u32, d as u32);
                    }
                }
                (observed, expected)
            }
            Level::Ordinal => {
                let rank = ordinal_ranks(&self.values);
                // Counts in rank order and their running totals: cum[r] = Σ of counts below rank r.
                let mut by_rank = vec![0u64; k];
                for c in 0..k {
                    by_rank[rank[c]] = n_c[c];
                }
                let mut cum = vec![0u64; k + 1];
                for r in 0..k {
                    cum[r + 1] = cum[r] + by_rank[r];
                }
                // Twice the ordinal difference of ranks lo <= hi: 2 Σ_{lo..=hi} n − n_lo − n_hi.
                let twice = |lo: usize, hi: usize| -> i128 {
                    2 * i128::from(cum[hi + 1] - cum[lo])
                        - i128::from(by_rank[lo])
                        - i128::from(by_rank[hi])
                };
                let observed = self.pairwise_observed(|c, d| {
                    let (a, b) = (rank[c as usize], rank[d as usize]);
                    let t = twice(a.min(b), a.max(b)) as f64;
                    t * t / 4.0
                });
                // Σ_{lo<hi} n_lo n_hi (A_hi − B_lo)² with A_hi = 2 cum[hi+1] − n_hi and
                // B_lo = 2 cum[lo] + n_lo, expanded into running sums over lo: exact in i128.
                let (mut s0, mut s1, mut s2, mut sum) = (0i128, 0i128, 0i128, 0i128);
                for r in 0..k {
                    let nr = i128::from(by_rank[r]);
                    let a = 2 * i128::from(cum[r + 1]) - nr;
                    sum += nr * (a * a * s0 - 2 * a * s1 + s2);
                    let b = 2 * i128::from(cum[r]) + nr;
                    s0 += nr;
                    s1 += nr * b;
                    s2 += nr * b * b;
                }
                // Both orders of each pair, and the factor 2 inside the square: 2 / 4.
                (observed, sum as f64 / 2.0)
            }
        };
        if expected == 0.0 {
            return None;
        }
        Some(1.0 - (n as f64 - 1.0) * observed / expected)
    }

    /// Σ_u Σ_{i≠j} δ²(v_ui, v_uj) / (m_u − 1) over the distinct values of each unit.
    fn pairwise_observed(&self, delta: impl Fn(u32, u32) -> f64) -> f64 {
        let mut observed = 0.0;
        self.for_each_unit(2, |runs, m| {
            let mut sum = 0.0;
            for (i, &(c, nc)) in runs.iter().enumerate() {
                for &(d, nd) in &runs[i + 1..] {
                    sum += 2.0 * (nc * nd) as f64 * delta(c, d);
                }
            }
            observed += sum / (m - 1) as f64;
        });
        observed
    }
}

/// Rank of each value for the ordinal level: numeric order when every value is a number, else
/// text order (ties in the order the values were first met).
fn ordinal_ranks(categories: &[String]) -> Vec<usize> {
    let k = categories.len();
    let mut idx: Vec<usize> = (0..k).collect();
    let nums: Option<Vec<f64>> = categories
        .iter()
        .map(|c| c.trim().parse::<f64>().ok())
        .collect();
    match nums {
        Some(v) => idx.sort_by(|a, b| v[*a].total_cmp(&v[*b])),
        None => idx.sort_by(|a, b| categories[*a].cmp(&categories[*b])),
    }
    let mut rank = vec![0usize; k];
    for (r, &c) in idx.iter().enumerate() {
        rank[c] = r;
    }
    rank
}

/// Share of agreeing pairs of values within units, averaged over units with at least two values.
/// `None` when no unit has two values.
pub fn percent_agreement(table: &Table) -> Option<f64> {
    Coded::from_table(table).percent_agreement()
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
    Coded::from_table(table).cohen_kappa(a, b)
}

/// Fleiss' kappa over the units where every coder gave a value (Fleiss requires the same number of
/// ratings per unit). `None` when there is no such unit, fewer than two coders, or P_e = 1.
pub fn fleiss_kappa(table: &Table) -> Option<f64> {
    Coded::from_table(table).fleiss_kappa()
}

/// Krippendorff's alpha at a level of measurement, with missing values: 1 − D_o / D_e computed
/// from the coincidences of the pairable values. `None` when fewer than two pairable values
/// exist, when D_e = 0 (a single category throughout), or, at the interval and ratio levels, when a
/// value is not a number.
pub fn krippendorff_alpha(table: &Table, level: Level) -> Option<f64> {
    Coded::from_table(table).krippendorff_alpha(level)
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
    use std::collections::BTreeSet;

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

    /// A table made row by row, whole or in pieces appended one after another (some empty, some
    /// meeting values again, some new), is the one `from_table` numbers: the same codes, cells
    /// and values, so every coefficient is computed on the same table.
    #[test]
    fn rows_coded_as_they_come_are_the_table_coded_at_once() {
        let t = table(&[
            "a b . c a d b . a e",
            "a . b c c d . . e e",
            "b b b . a d a . a .",
        ]);
        let rows = |from: usize, to: usize| {
            let mut r = CodedRows::default();
            for row in &t[from..to] {
                r.push_row(row.iter().map(Option::as_deref));
            }
            r
        };
        let expected = Coded::from_table(&t);
        for cuts in [
            vec![0, 10],
            vec![0, 0, 10],
            vec![0, 3, 3, 7, 10],
            vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        ] {
            let mut joined = CodedRows::default();
            for w in cuts.windows(2) {
                joined.append(rows(w[0], w[1]));
            }
            assert_eq!(joined.units(), t.len(), "{cuts:?}");
            for (u, row) in t.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    assert_eq!(joined.value(u, c), v.as_deref(), "{cuts:?}");
                }
            }
            assert_eq!(joined.into_coded(), expected, "{cuts:?}");
        }
        let mut short = CodedRows::default();
        short.push_row([Some("x"), None, Some("y")]);
        short.push_row([Some("y")]);
        assert_eq!(
            short.into_coded(),
            Coded::from_table(&vec![
                vec![Some("x".to_string()), None, Some("y".to_string())],
                vec![Some("y".to_string())],
            ])
        );
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

    /// The textbook computation: the full coincidence matrix, pairs of values within each unit.
    fn naive_alpha(table: &Table, level: Level) -> Option<f64> {
        let mut index: BTreeMap<&String, usize> = BTreeMap::new();
        for v in table.iter().flatten().flatten() {
            let n = index.len();
            index.entry(v).or_insert(n);
        }
        let mut categories: Vec<(&String, usize)> = index.iter().map(|(k, v)| (*k, *v)).collect();
        categories.sort_by_key(|x| x.1);
        let categories: Vec<&String> = categories.into_iter().map(|x| x.0).collect();
        let k = categories.len();
        let mut o = vec![vec![0.0f64; k]; k];
        for row in table {
            let values: Vec<usize> = row.iter().flatten().map(|v| index[v]).collect();
            let m = values.len();
            if m < 2 {
                continue;
            }
            for i in 0..m {
                for j in 0..m {
                    if i != j {
                        o[values[i]][values[j]] += 1.0 / (m - 1) as f64;
                    }
                }
            }
        }
        alpha_from_coincidences(&categories, &o, level)
    }

    fn naive_percent(table: &Table) -> Option<f64> {
        let mut sum = 0.0;
        let mut units = 0;
        for row in table {
            let v: Vec<&String> = row.iter().flatten().collect();
            let m = v.len();
            if m < 2 {
                continue;
            }
            let mut agree = 0;
            for i in 0..m {
                for j in i + 1..m {
                    agree += usize::from(v[i] == v[j]);
                }
            }
            sum += agree as f64 / (m * (m - 1) / 2) as f64;
            units += 1;
        }
        (units > 0).then(|| sum / units as f64)
    }

    fn naive_cohen(table: &Table) -> Option<f64> {
        let pairs: Vec<(&String, &String)> = table
            .iter()
            .filter_map(|r| Some((r[0].as_ref()?, r[1].as_ref()?)))
            .collect();
        let n = pairs.len() as f64;
        let po = pairs.iter().filter(|(a, b)| a == b).count() as f64 / n;
        let cats: BTreeSet<&String> = pairs.iter().flat_map(|(a, b)| [*a, *b]).collect();
        let pe: f64 = cats
            .iter()
            .map(|c| {
                let a = pairs.iter().filter(|p| p.0 == *c).count() as f64 / n;
                let b = pairs.iter().filter(|p| p.1 == *c).count() as f64 / n;
                a * b
            })
            .sum();
        Some((po - pe) / (1.0 - pe))
    }

    fn naive_fleiss(table: &Table) -> Option<f64> {
        let full: Vec<&Vec<Option<String>>> = table
            .iter()
            .filter(|r| r.iter().all(Option::is_some))
            .collect();
        let r = table[0].len() as f64;
        let cats: BTreeSet<&String> = full.iter().flat_map(|row| row.iter().flatten()).collect();
        let units = full.len() as f64;
        let mut p_bar = 0.0;
        for row in &full {
            let s: f64 = cats
                .iter()
                .map(|c| (row.iter().flatten().filter(|v| v == c).count() as f64).powi(2))
                .sum();
            p_bar += (s - r) / (r * (r - 1.0));
        }
        p_bar /= units;
        let pe: f64 = cats
            .iter()
            .map(|c| {
                let t = full
                    .iter()
                    .flat_map(|row| row.iter().flatten())
                    .filter(|v| v == c)
                    .count() as f64;
                (t / (units * r)).powi(2)
            })
            .sum();
        Some((p_bar - pe) / (1.0 - pe))
    }

    /// Random tables of thousands of units: the unit-by-unit counting gives what the textbook
    /// computation gives, at every level, with missing values and categories met in any order.
    #[test]
    fn large_random_tables_equal_the_naive_computation() {
        let mut next = crate::testing::xorshift(0x9e37_79b9_7f4a_7c15u64);
        for round in 0..12 {
            let coders = 2 + (round % 5) as usize;
            let categories = 2 + next(9);
            let units = 500 + next(3000) as usize;
            let missing = next(40);
            let t: Table = (0..units)
                .map(|_| {
                    let truth = next(categories);
                    (0..coders)
                        .map(|_| {
                            if next(100) < missing {
                                return None;
                            }
                            // Mostly the unit's own value, sometimes a neighbour or any.
                            let v = match next(10) {
                                0..=5 => truth,
                                6 | 7 => (truth + 1) % categories,
                                _ => next(categories),
                            };
                            // Numbers out of order of first appearance, some negative or zero.
                            Some(format!("{}", v as i64 * 3 - 4))
                        })
                        .collect()
                })
                .collect();
            let coded = Coded::from_table(&t);
            for level in [
                Level::Nominal,
                Level::Ordinal,
                Level::Interval,
                Level::Ratio,
            ] {
                let (fast, slow) = (coded.krippendorff_alpha(level), naive_alpha(&t, level));
                match (fast, slow) {
                    (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9, "{level:?}: {a} vs {b}"),
                    (a, b) => assert_eq!(a, b, "{level:?}"),
                }
            }
            let pa = coded.percent_agreement().unwrap();
            assert!((pa - naive_percent(&t).unwrap()).abs() < 1e-12);
            let fk = coded.fleiss_kappa().unwrap();
            assert!((fk - naive_fleiss(&t).unwrap()).abs() < 1e-9, "fleiss");
            let ck = coded.cohen_kappa(0, 1).unwrap();
            assert!((ck - naive_cohen(&t).unwrap()).abs() < 1e-9, "cohen");
            assert_eq!(coded.pairable_units(), pairable_units(&t));
        }
    }

    #[test]
    fn text_values_at_the_ordinal_level_and_the_worked_example_through_codes() {
        let t = table(&["a b c a . b c", "a c c b a . c", "b b c a a b ."]);
        let fast = Coded::from_table(&t)
            .krippendorff_alpha(Level::Ordinal)
            .unwrap();
        assert!((fast - naive_alpha(&t, Level::Ordinal).unwrap()).abs() < 1e-12);
        assert!(Coded::new(2, vec!["x".into()], vec![0, 1]).is_none());
        assert!(Coded::new(2, vec!["x".into()], vec![0, MISSING, 0]).is_none());
        assert_eq!(
            Coded::new(2, vec!["x".into()], vec![0, MISSING])
                .unwrap()
                .units(),
            1
        );
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
