//! Cross-tabulation of any two of a metadata field or a dimension: counts, row and column shares
//! with Wilson 95% intervals, chi-square with degrees of freedom and p-value, and Cramér's V.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Serialize;

use super::stats::{Share, Z_95, chi_square, wilson};
use super::{
    AnalysisError, NONE_LABEL, Scope, Selected, exchanges, resolve_dimension, select, value_label,
    value_order, values_in,
};
use crate::dataset::{Dataset, DocumentData};
use crate::search::fold;
use crate::transcript::{PartId, PartKind};

/// A metadata field of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Who asked (the question's speaker, else the page's `Question By`).
    QuestionBy,
    /// The asker's party or organisation.
    Organisation,
    /// Who the question was put to.
    AskedOf,
    /// Who answered (the answer's speaker, else the page's `Answered By`).
    AnsweredBy,
    /// The year of the meeting (or session) date.
    Year,
    /// The meeting kind: MQT, Plenary...
    Meeting,
    /// Answered, holding or unanswered.
    Status,
}

impl Field {
    /// Every field, in the order the command line lists them.
    pub const ALL: [Field; 7] = [
        Field::QuestionBy,
        Field::Organisation,
        Field::AskedOf,
        Field::AnsweredBy,
        Field::Year,
        Field::Meeting,
        Field::Status,
    ];

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Field::QuestionBy => "question_by",
            Field::Organisation => "organisation",
            Field::AskedOf => "asked_of",
            Field::AnsweredBy => "answered_by",
            Field::Year => "year",
            Field::Meeting => "meeting",
            Field::Status => "status",
        }
    }

    /// Parses a field name; `member`, `party` and `office_holder` are the corpus list's words for
    /// three of them.
    pub fn parse(name: &str) -> Option<Field> {
        let name = name.trim().to_ascii_lowercase().replace('-', "_");
        Field::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .or(match name.as_str() {
                "member" => Some(Field::QuestionBy),
                "party" => Some(Field::Organisation),
                "office_holder" => Some(Field::AskedOf),
                _ => None,
            })
    }

    /// The field's value for an exchange of a document; `None` when the document leaves it empty.
    pub fn value<'a>(self, doc: &'a DocumentData, exchange: u32) -> Option<Cow<'a, str>> {
        let t = &doc.transcript;
        let m = &t.meta;
        let speaker = |kind| t.part(PartId { exchange, kind }).and_then(|p| p.speaker());
        let text = |s: Option<&'a str>| s.filter(|s| !s.trim().is_empty()).map(Cow::Borrowed);
        match self {
            Field::QuestionBy => text(speaker(PartKind::Question).or(m.question_by.as_deref())),
            Field::Organisation => text(m.organisation.as_deref()),
            Field::AskedOf => text(m.asked_of.as_deref()),
            Field::AnsweredBy => text(speaker(PartKind::Answer).or(m.answered_by.as_deref())),
            Field::Year => m
                .meeting_date
                .or(m.session_date)
                .map(|d| Cow::Owned(chrono::Datelike::year(&d).to_string())),
            Field::Meeting => text(m.meeting.as_deref()),
            Field::Status => Some(Cow::Borrowed(m.status.as_str())),
        }
    }
}

/// One side of a cross-tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Axis {
    /// A metadata field.
    Field(Field),
    /// A dimension, by id.
    Dimension(String),
}

impl Axis {
    /// A field name, or a dimension by id or label.
    pub fn parse(name: &str, dataset: &Dataset) -> Result<Axis, AnalysisError> {
        if let Some(f) = Field::parse(name) {
            return Ok(Axis::Field(f));
        }
        match resolve_dimension(dataset, name) {
            Ok(id) => Ok(Axis::Dimension(id)),
            Err(_) => Err(AnalysisError::UnknownAxis(name.to_string())),
        }
    }

    /// The field name or dimension id.
    pub fn name(&self) -> &str {
        match self {
            Axis::Field(f) => f.name(),
            Axis::Dimension(d) => d,
        }
    }

    /// The categories of this axis in one unit: one (or none) for a field, the distinct values the
    /// annotator gave for a dimension.
    fn categories<'a>(
        &self,
        doc: &'a DocumentData,
        sidecar: Option<&'a crate::sidecar::Sidecar>,
        exchange: u32,
        only: Option<PartKind>,
    ) -> Vec<Cow<'a, str>> {
        match self {
            Axis::Field(f) => vec![f.value(doc, exchange).unwrap_or(Cow::Borrowed(NONE_LABEL))],
            Axis::Dimension(d) => sidecar
                .map(|s| {
                    values_in(s, d, exchange, only)
                        .into_iter()
                        .map(Cow::Borrowed)
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// A cross-tab with its statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrossTab {
    /// The rows' field name or dimension id.
    pub row_axis: String,
    /// The columns' field name or dimension id.
    pub col_axis: String,
    /// The annotators whose codings count (empty for two metadata fields: documents count).
    pub annotators: Vec<String>,
    /// Row categories: value ids of a dimension, values of a field.
    pub rows: Vec<String>,
    /// Their labels.
    pub row_labels: Vec<String>,
    /// Column categories.
    pub cols: Vec<String>,
    /// Their labels.
    pub col_labels: Vec<String>,
    /// Counts, rows × columns.
    pub counts: Vec<Vec<u64>>,
    /// Sum of each row.
    pub row_totals: Vec<u64>,
    /// Sum of each column.
    pub col_totals: Vec<u64>,
    /// Sum of all counts.
    pub total: u64,
    /// Units that gave at least one count (a unit with several values of a several-choice
    /// dimension gives several counts).
    pub units: u64,
    /// Each count as a share of its row, with its Wilson 95% interval.
    pub row_shares: Vec<Vec<Share>>,
    /// Each count as a share of its column, with its Wilson 95% interval.
    pub col_shares: Vec<Vec<Share>>,
    /// Pearson's chi-square; `None` with fewer than two rows or columns.
    pub chi_square: Option<f64>,
    /// Its degrees of freedom.
    pub df: Option<u64>,
    /// Its p-value.
    pub p_value: Option<f64>,
    /// Cramér's V.
    pub cramers_v: Option<f64>,
    /// Cells with an expected count under 5.
    pub low_expected_cells: usize,
}

/// Cross-tabulates two axes over the scope. Two metadata fields count exchanges of documents; with a
/// dimension the unit is one annotator's coding of one exchange, counted for each pair of its
/// categories; units where either side has no category are left out.
pub fn crosstab(
    dataset: &Dataset,
    rows: &Axis,
    cols: &Axis,
    scope: &Scope,
) -> Result<CrossTab, AnalysisError> {
    if rows == cols {
        return Err(AnalysisError::SameAxis(rows.name().to_string()));
    }
    let (selected, annotators) = select(dataset, scope)?;
    let metadata_only = matches!((rows, cols), (Axis::Field(_), Axis::Field(_)));
    // Each unit: a document's exchange, with one annotator's sidecar unless both axes are metadata.
    let mut unit_list: Vec<(&DocumentData, Option<&crate::sidecar::Sidecar>, u32)> = Vec::new();
    for Selected { doc, sidecars } in &selected {
        for e in exchanges(doc) {
            if metadata_only {
                unit_list.push((*doc, None, e));
            } else {
                unit_list.extend(sidecars.iter().map(|s| (*doc, Some(*s), e)));
            }
        }
    }
    let mut cells: HashMap<(Cow<str>, Cow<str>), u64> = HashMap::new();
    let mut units = 0u64;
    for (doc, sidecar, exchange) in unit_list {
        let a = rows.categories(doc, sidecar, exchange, scope.part);
        if a.is_empty() {
            continue;
        }
        let b = cols.categories(doc, sidecar, exchange, scope.part);
        if b.is_empty() {
            continue;
        }
        units += 1;
        for x in &a {
            for y in &b {
                *cells.entry((x.clone(), y.clone())).or_default() += 1;
            }
        }
    }
    let order = |axis: &Axis, values: Vec<&str>| -> Vec<String> {
        let mut values: Vec<String> = values.into_iter().map(String::from).collect();
        values.sort();
        values.dedup();
        match axis {
            Axis::Dimension(d) => {
                let def = dataset.codebook.dimension(d);
                values.sort_by_cached_key(|v| value_order(def, v));
            }
            Axis::Field(_) => values.sort_by_cached_key(|v| (v == NONE_LABEL, fold(v))),
        }
        values
    };
    let row_ids = order(rows, cells.keys().map(|(r, _)| &**r).collect());
    let col_ids = order(cols, cells.keys().map(|(_, c)| &**c).collect());
    let index = |ids: &[String]| -> HashMap<String, usize> {
        ids.iter()
            .enumerate()
            .map(|(i, v)| (v.clone(), i))
            .collect()
    };
    let (row_index, col_index) = (index(&row_ids), index(&col_ids));
    let mut counts = vec![vec![0u64; col_ids.len()]; row_ids.len()];
    for ((r, c), n) in &cells {
        counts[row_index[&**r]][col_index[&**c]] += *n;
    }
    let row_totals: Vec<u64> = counts.iter().map(|r| r.iter().sum()).collect();
    let col_totals: Vec<u64> = (0..col_ids.len())
        .map(|j| counts.iter().map(|r| r[j]).sum())
        .collect();
    let share = |k: u64, n: u64| {
        wilson(k, n, Z_95).unwrap_or(Share {
            share: 0.0,
            low: 0.0,
            high: 0.0,
        })
    };
    let row_shares = counts
        .iter()
        .zip(&row_totals)
        .map(|(r, &n)| r.iter().map(|&k| share(k, n)).collect())
        .collect();
    let col_shares = counts
        .iter()
        .map(|r| {
            r.iter()
                .zip(&col_totals)
                .map(|(&k, &n)| share(k, n))
                .collect()
        })
        .collect();
    let test = chi_square(&counts);
    let labels = |axis: &Axis, ids: &[String]| -> Vec<String> {
        ids.iter()
            .map(|v| match axis {
                Axis::Dimension(d) => value_label(&dataset.codebook, d, v),
                Axis::Field(_) => v.clone(),
            })
            .collect()
    };
    Ok(CrossTab {
        row_axis: rows.name().to_string(),
        col_axis: cols.name().to_string(),
        annotators: if metadata_only {
            Vec::new()
        } else {
            annotators
        },
        row_labels: labels(rows, &row_ids),
        col_labels: labels(cols, &col_ids),
        rows: row_ids,
        cols: col_ids,
        total: row_totals.iter().sum(),
        units,
        row_totals,
        col_totals,
        counts,
        row_shares,
        col_shares,
        chi_square: test.map(|t| t.statistic),
        df: test.map(|t| t.df),
        p_value: test.map(|t| t.p_value),
        cramers_v: test.map(|t| t.cramers_v),
        low_expected_cells: test.map_or(0, |t| t.low_expected_cells),
    })
}

impl CrossTab {
    /// The table as CSV: a header of the column labels, one row per row label with its counts and
    /// total, and a row of column totals.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let corner = format!("{} \\ {}", self.row_axis, self.col_axis);
        let mut header = vec![corner];
        header.extend(self.col_labels.iter().cloned());
        header.push("total".to_string());
        // Writing to a Vec cannot fail.
        const IN_MEMORY: &str = "a CSV writer into a Vec cannot fail";
        w.write_record(&header).expect(IN_MEMORY);
        for (i, label) in self.row_labels.iter().enumerate() {
            let mut row = vec![label.clone()];
            row.extend(self.counts[i].iter().map(u64::to_string));
            row.push(self.row_totals[i].to_string());
            w.write_record(&row).expect(IN_MEMORY);
        }
        let mut last = vec!["total".to_string()];
        last.extend(self.col_totals.iter().map(u64::to_string));
        last.push(self.total.to_string());
        w.write_record(&last).expect(IN_MEMORY);
        w.into_inner().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::analysis::sample_dataset as sample;

    #[test]
    fn fields_by_name_and_alias() {
        assert_eq!(Field::parse("question_by"), Some(Field::QuestionBy));
        assert_eq!(Field::parse("party"), Some(Field::Organisation));
        assert_eq!(Field::parse("Office-Holder"), Some(Field::AskedOf));
        assert_eq!(Field::parse("tone"), None);
        let d = sample();
        assert_eq!(
            Axis::parse("Reply", &d).unwrap(),
            Axis::Dimension("reply".into())
        );
        assert!(matches!(
            Axis::parse("nonsense", &d),
            Err(AnalysisError::UnknownAxis(_))
        ));
    }

    #[test]
    fn totals_add_up_and_the_same_axis_is_refused() {
        let d = sample();
        let t = crosstab(
            &d,
            &Axis::Field(Field::Organisation),
            &Axis::Dimension("tone_answer".into()),
            &Scope::default(),
        )
        .unwrap();
        assert_eq!(t.counts.len(), t.rows.len());
        assert_eq!(t.row_totals.iter().sum::<u64>(), t.total);
        assert_eq!(t.col_totals.iter().sum::<u64>(), t.total);
        // One-choice against a field: one count per unit.
        assert_eq!(t.units, t.total);
        for (i, r) in t.row_shares.iter().enumerate() {
            let sum: f64 = r.iter().map(|s| s.share).sum();
            assert!((sum - 1.0).abs() < 1e-12, "row {i}");
            for s in r {
                assert!(s.low <= s.share && s.share <= s.high);
            }
        }
        let csv = String::from_utf8(t.to_csv()).unwrap();
        assert_eq!(csv.lines().count(), t.rows.len() + 2);
        assert!(matches!(
            crosstab(
                &d,
                &Axis::Field(Field::Year),
                &Axis::Field(Field::Year),
                &Scope::default()
            ),
            Err(AnalysisError::SameAxis(_))
        ));
    }
}
