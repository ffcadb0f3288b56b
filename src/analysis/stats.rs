//! Statistics of contingency tables: Pearson's chi-square test of independence with its p-value,
//! Cramér's V, and Wilson score intervals for shares. Formulas and their sources are in
//! `docs/analysis.md`; the tests reproduce published worked examples.

use serde::Serialize;

/// The normal quantile for a two-sided 95% interval (the 0.975 quantile of N(0, 1)).
pub const Z_95: f64 = 1.959_963_984_540_054;

/// A share with its Wilson score 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Share {
    /// The observed share `k / n`.
    pub share: f64,
    /// Lower bound of the 95% interval.
    pub low: f64,
    /// Upper bound of the 95% interval.
    pub high: f64,
}

/// The share `k / n` with its Wilson (1927) score interval at the normal quantile `z`; `None` when
/// `n` is 0.
pub fn wilson(k: u64, n: u64, z: f64) -> Option<Share> {
    if n == 0 {
        return None;
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    // At k = 0 (k = n) the lower (upper) bound is exactly 0 (1); rounding would leave a hair off.
    Some(Share {
        share: p,
        low: if k == 0.0 {
            0.0
        } else {
            (centre - half).max(0.0)
        },
        high: if k == n {
            1.0
        } else {
            (centre + half).min(1.0)
        },
    })
}

/// Pearson's chi-square test of independence on a table of counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChiSquare {
    /// The statistic, Σ (observed − expected)² / expected.
    pub statistic: f64,
    /// Degrees of freedom, (rows − 1)(columns − 1), over rows and columns with a count.
    pub df: u64,
    /// The probability of a statistic at least this large under independence.
    pub p_value: f64,
    /// Cramér's V, √(χ² / (N · (min(rows, columns) − 1))).
    pub cramers_v: f64,
    /// Cells whose expected count is under 5, where the chi-square approximation is doubtful.
    pub low_expected_cells: usize,
}

/// The chi-square test of a table of counts (rows of equal length). Rows and columns that are all
/// zero are left out; `None` when fewer than two rows or two columns remain.
pub fn chi_square(counts: &[Vec<u64>]) -> Option<ChiSquare> {
    let cols = counts.first().map_or(0, Vec::len);
    let row_totals: Vec<u64> = counts.iter().map(|r| r.iter().sum()).collect();
    let col_totals: Vec<u64> = (0..cols)
        .map(|j| counts.iter().map(|r| r[j]).sum())
        .collect();
    let rows: Vec<usize> = (0..counts.len()).filter(|&i| row_totals[i] > 0).collect();
    let columns: Vec<usize> = (0..cols).filter(|&j| col_totals[j] > 0).collect();
    if rows.len() < 2 || columns.len() < 2 {
        return None;
    }
    let n: u64 = row_totals.iter().sum();
    let n_f = n as f64;
    let mut statistic = 0.0;
    let mut low_expected_cells = 0;
    for &i in &rows {
        for &j in &columns {
            let expected = row_totals[i] as f64 * col_totals[j] as f64 / n_f;
            let diff = counts[i][j] as f64 - expected;
            statistic += diff * diff / expected;
            if expected < 5.0 {
                low_expected_cells += 1;
            }
        }
    }
    let df = ((rows.len() - 1) * (columns.len() - 1)) as u64;
    let k = rows.len().min(columns.len()) - 1;
    Some(ChiSquare {
        statistic,
        df,
        p_value: chi_square_sf(statistic, df as f64),
        // Rounding can push V a hair over 1 for a perfect association.
        cramers_v: (statistic / (n_f * k as f64)).sqrt().min(1.0),
        low_expected_cells,
    })
}

/// The survival function of the chi-square distribution: P(X ≥ x) for `df` degrees of freedom,
/// which is Q(df/2, x/2), the regularized upper incomplete gamma function.
pub fn chi_square_sf(x: f64, df: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    gamma_q(df / 2.0, x / 2.0)
}

/// Most terms of the series or steps of the continued fraction; both converge in far fewer for the
/// arguments tables give (a = df/2 up to thousands).
const MAX_ITERATIONS: usize = 10_000;
const EPSILON: f64 = 1e-15;
/// Guards the continued fraction against division by zero (modified Lentz).
const TINY: f64 = 1e-300;

/// The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a), for a > 0, x ≥ 0.
///
/// Below x = a + 1 the series for the lower function P(a, x) converges fast (DLMF 8.7.1) and
/// Q = 1 − P; above it the continued fraction for Q (DLMF 8.9.2), evaluated with Lentz's method,
/// does, and computing Q directly keeps tiny p-values exact instead of 1 minus nearly 1.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x < a + 1.0 {
        (1.0 - gamma_p_series(a, x)).clamp(0.0, 1.0)
    } else {
        gamma_q_continued_fraction(a, x).clamp(0.0, 1.0)
    }
}

/// P(a, x) = x^a e^−x / Γ(a + 1) · Σ_k x^k / ((a + 1)(a + 2)…(a + k)).
fn gamma_p_series(a: f64, x: f64) -> f64 {
    let mut term = 1.0 / a;
    let mut sum = term;
    let mut denominator = a;
    for _ in 0..MAX_ITERATIONS {
        denominator += 1.0;
        term *= x / denominator;
        sum += term;
        if term.abs() < sum.abs() * EPSILON {
            break;
        }
    }
    sum * (a * x.ln() - x - ln_gamma(a)).exp()
}

/// Q(a, x) = x^a e^−x / Γ(a) · 1 / (x + 1 − a − 1·(1 − a) / (x + 3 − a − 2·(2 − a) / (x + 5 − a − …))).
fn gamma_q_continued_fraction(a: f64, x: f64) -> f64 {
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..=MAX_ITERATIONS {
        let i = i as f64;
        let an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < EPSILON {
            break;
        }
    }
    (a * x.ln() - x - ln_gamma(a)).exp() * h
}

/// ln Γ(x) for x > 0 by the Lanczos approximation (g = 7, nine coefficients), with the reflection
/// formula below 1/2; accurate to about 15 significant digits.
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Γ(x) Γ(1 − x) = π / sin(πx)
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).abs().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn ln_gamma_at_known_points() {
        // Γ(n) = (n − 1)!, Γ(1/2) = √π.
        assert!(close(ln_gamma(1.0), 0.0, 1e-14));
        assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-13));
        assert!(close(ln_gamma(11.0), 3_628_800f64.ln(), 1e-12));
        assert!(close(
            ln_gamma(0.5),
            std::f64::consts::PI.sqrt().ln(),
            1e-14
        ));
        assert!(close(ln_gamma(0.25), 3.625_609_908_221_908_f64.ln(), 1e-13));
    }

    #[test]
    fn chi_square_tail_against_closed_forms_and_tables() {
        // Two degrees of freedom: P(X ≥ x) = e^(−x/2) exactly.
        for x in [0.1, 1.0, 5.991_464_547, 10.0, 40.0, 200.0] {
            let want = (-x / 2.0f64).exp();
            assert!(
                (chi_square_sf(x, 2.0) - want).abs() <= want * 1e-12,
                "x = {x}"
            );
        }
        // Upper critical values of the chi-square distribution (NIST/SEMATECH e-Handbook of
        // Statistical Methods, table 1.3.6.7.4): P(X ≥ value) is the tabled significance level.
        let table = [
            (1.0, 3.841, 0.05),
            (1.0, 6.635, 0.01),
            (3.0, 7.815, 0.05),
            (5.0, 11.070, 0.05),
            (10.0, 23.209, 0.01),
            (20.0, 31.410, 0.05),
            (50.0, 67.505, 0.05),
            (100.0, 124.342, 0.05),
            (100.0, 135.807, 0.01),
        ];
        for (df, value, level) in table {
            let p = chi_square_sf(value, df);
            assert!(close(p, level, 2e-4), "df {df}, x {value}: {p}");
        }
        // Lower tail, by the series: P(X ≥ 0.004) with one degree of freedom is 0.95.
        assert!(close(chi_square_sf(0.003_932, 1.0), 0.95, 1e-4));
        assert_eq!(chi_square_sf(0.0, 4.0), 1.0);
        // Far in the tail the p-value stays positive and tiny, not 0 from 1 − 1.
        let tiny = chi_square_sf(400.0, 4.0);
        assert!(tiny > 0.0 && tiny < 1e-80, "{tiny}");
    }

    #[test]
    fn navarro_chapek9_example() {
        // Navarro, Learning Statistics with R (2015), sections 12.2 and 12.6: species (robot,
        // human) by choice (puppy, flower, data file): X² = 10.72, df = 2, p = .0047, Cramér's V
        // = 0.244.
        let t = chi_square(&[vec![13, 30, 44], vec![15, 13, 65]]).unwrap();
        assert!(close(t.statistic, 10.72, 0.005), "{}", t.statistic);
        assert_eq!(t.df, 2);
        assert!(close(t.p_value, 0.0047, 0.00005), "{}", t.p_value);
        assert!(close(t.cramers_v, 0.244, 0.0005), "{}", t.cramers_v);
        assert_eq!(t.low_expected_cells, 0);
    }

    #[test]
    fn field_cats_example() {
        // Field, Miles & Field, Discovering Statistics Using R (2012), chapter 18: training
        // (food, affection) by whether the cat danced: χ²(1) = 25.36, p < .001, Cramér's V = .36.
        let t = chi_square(&[vec![28, 10], vec![48, 114]]).unwrap();
        assert!(close(t.statistic, 25.36, 0.005), "{}", t.statistic);
        assert_eq!(t.df, 1);
        assert!(t.p_value < 0.001);
        assert!(close(t.cramers_v, 0.356, 0.0005), "{}", t.cramers_v);
    }

    #[test]
    fn agresti_party_by_gender_example() {
        // Agresti, An Introduction to Categorical Data Analysis, 2nd ed. (2007), table 2.5:
        // gender by party identification, X² = 30.1, df = 2, P-value < 0.001.
        let t = chi_square(&[vec![762, 327, 468], vec![484, 239, 477]]).unwrap();
        assert!(close(t.statistic, 30.1, 0.05), "{}", t.statistic);
        assert_eq!(t.df, 2);
        assert!(t.p_value < 0.001 && t.p_value > 0.0);
    }

    #[test]
    fn empty_rows_and_columns_are_left_out() {
        let t = chi_square(&[vec![13, 0, 30, 44], vec![0, 0, 0, 0], vec![15, 0, 13, 65]]).unwrap();
        assert_eq!(t.df, 2);
        assert!(close(t.statistic, 10.72, 0.005));
        assert!(chi_square(&[vec![3, 4]]).is_none());
        assert!(chi_square(&[vec![3, 0], vec![4, 0]]).is_none());
        assert!(chi_square(&[]).is_none());
        // A perfect association has V = 1 and flags its small expected counts.
        let t = chi_square(&[vec![3, 0], vec![0, 3]]).unwrap();
        assert!(close(t.cramers_v, 1.0, 1e-12));
        assert_eq!(t.low_expected_cells, 4);
    }

    #[test]
    fn wilson_intervals_of_newcombe() {
        // Newcombe (1998), "Two-sided confidence intervals for the single proportion", worked
        // examples of method 3 (the score interval without continuity correction).
        let cases = [
            (81, 263, 0.2553, 0.3662),
            (15, 148, 0.0624, 0.1605),
            (0, 20, 0.0, 0.1611),
            (1, 29, 0.0061, 0.1718),
        ];
        for (k, n, low, high) in cases {
            let s = wilson(k, n, Z_95).unwrap();
            assert!(close(s.low, low, 0.00005), "{k}/{n}: {}", s.low);
            assert!(close(s.high, high, 0.00005), "{k}/{n}: {}", s.high);
            assert!(close(s.share, k as f64 / n as f64, 1e-15));
        }
        let none = wilson(0, 7, Z_95).unwrap();
        assert_eq!((none.share, none.low), (0.0, 0.0));
        let all = wilson(20, 20, Z_95).unwrap();
        assert_eq!(all.high, 1.0);
        assert!(close(all.low, 1.0 - 0.1611, 0.00005));
        assert!(wilson(0, 0, Z_95).is_none());
    }
}
