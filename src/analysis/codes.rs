//! Code frequencies per dimension and value, and codes that occur together within a part.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::stats::{Share, Z_95, wilson};
use super::{
    AnalysisError, Scope, exchanges, part_allowed, select, value_label, value_order, values_in,
};
use crate::dataset::Dataset;
use crate::transcript::PartId;

/// A code: (dimension id, value).
type Code<'a> = (&'a str, &'a str);

/// A value's (units, documents).
type ValueCounts<'a> = HashMap<&'a str, (u64, u64)>;

/// How often one value was coded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueFrequency {
    /// The value id, or the entity.
    pub value: String,
    /// Its label.
    pub label: String,
    /// Units (annotator × exchange) coded with it.
    pub units: u64,
    /// Documents where any chosen annotator coded it.
    pub documents: u64,
    /// Its share of the units coded on the dimension, with the Wilson 95% interval. Shares of a
    /// several-choice dimension can add up to more than 1.
    pub share: Share,
}

/// The values coded on one dimension.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DimensionFrequency {
    /// The dimension id.
    pub dimension: String,
    /// Its label.
    pub label: String,
    /// Units (annotator × exchange) with any value of it.
    pub units: u64,
    /// Its values in codebook order (values only the sidecars know after them), coded at least
    /// once.
    pub values: Vec<ValueFrequency>,
}

/// Frequencies of every dimension coded in the scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Frequencies {
    /// The annotators counted.
    pub annotators: Vec<String>,
    /// Dimensions in codebook order, then dimensions only the sidecars know; uncoded ones left out.
    pub dimensions: Vec<DimensionFrequency>,
}

/// Counts, for every dimension and value, the units coded with it and the documents.
pub fn frequencies(dataset: &Dataset, scope: &Scope) -> Result<Frequencies, AnalysisError> {
    let (selected, annotators) = select(dataset, scope)?;
    // dimension -> (units, value -> (units, documents))
    let mut dims: HashMap<&str, (u64, ValueCounts)> = HashMap::new();
    for sel in &selected {
        let mut seen_in_doc: BTreeSet<(&str, &str)> = BTreeSet::new();
        for s in &sel.sidecars {
            let mut names: BTreeSet<&str> = BTreeSet::new();
            for d in s.tags.values() {
                names.extend(d.keys().map(String::as_str));
            }
            names.extend(s.spans.iter().map(|x| x.dimension.as_str()));
            for e in exchanges(sel.doc) {
                for &dim in &names {
                    let values = values_in(s, dim, e, scope.part);
                    if values.is_empty() {
                        continue;
                    }
                    let entry = dims.entry(dim).or_default();
                    entry.0 += 1;
                    for v in values {
                        let slot = entry.1.entry(v).or_default();
                        slot.0 += 1;
                        if seen_in_doc.insert((dim, v)) {
                            slot.1 += 1;
                        }
                    }
                }
            }
        }
    }
    let cb = &dataset.codebook;
    let mut out: Vec<DimensionFrequency> = dims
        .into_iter()
        .map(|(dim, (units, values))| {
            let def = cb.dimension(dim);
            let mut values: Vec<ValueFrequency> = values
                .into_iter()
                .map(|(v, (n, docs))| ValueFrequency {
                    value: v.to_string(),
                    label: value_label(cb, dim, v),
                    units: n,
                    documents: docs,
                    share: wilson(n, units, Z_95).expect("a coded dimension has units"),
                })
                .collect();
            values.sort_by_cached_key(|v| value_order(def, &v.value));
            DimensionFrequency {
                dimension: dim.to_string(),
                label: def.map_or_else(|| dim.to_string(), |d| d.label.clone()),
                units,
                values,
            }
        })
        .collect();
    out.sort_by_key(|d| {
        (
            cb.dimensions
                .iter()
                .position(|x| x.id == d.dimension)
                .unwrap_or(usize::MAX),
            d.dimension.clone(),
        )
    });
    Ok(Frequencies {
        annotators,
        dimensions: out,
    })
}

/// A code: a value of a dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeCount {
    /// The dimension id.
    pub dimension: String,
    /// The value id, or the entity.
    pub value: String,
    /// The value's label.
    pub label: String,
    /// Parts (annotator × part) coded with it.
    pub parts: u64,
}

/// Two codes found together in parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodePair {
    /// Index of the first code in [`Cooccurrence::codes`].
    pub a: usize,
    /// Index of the second code (after the first).
    pub b: usize,
    /// Parts (annotator × part) coded with both.
    pub parts: u64,
}

/// Which codes occur together within a part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cooccurrence {
    /// The annotators counted.
    pub annotators: Vec<String>,
    /// Every code found, in codebook order.
    pub codes: Vec<CodeCount>,
    /// Every pair of different codes found together, most frequent first.
    pub pairs: Vec<CodePair>,
}

impl Cooccurrence {
    /// The pairs as CSV for a spreadsheet: each code's dimension, value and label, the parts
    /// coded with both, and the parts coded with each.
    pub fn to_csv(&self) -> Vec<u8> {
        const IN_MEMORY: &str = "a CSV writer into a Vec cannot fail";
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "dimension_a",
            "value_a",
            "label_a",
            "dimension_b",
            "value_b",
            "label_b",
            "parts_together",
            "parts_a",
            "parts_b",
        ])
        .expect(IN_MEMORY);
        for p in &self.pairs {
            let (a, b) = (&self.codes[p.a], &self.codes[p.b]);
            w.write_record([
                a.dimension.as_str(),
                &a.value,
                &a.label,
                &b.dimension,
                &b.value,
                &b.label,
                &p.parts.to_string(),
                &a.parts.to_string(),
                &b.parts.to_string(),
            ])
            .expect(IN_MEMORY);
        }
        w.into_inner().unwrap_or_default()
    }
}

/// Counts codes that occur together within a part: the part tags on it and the distinct values of
/// the spans in it, per annotator. `dimensions` limits the codes to these dimension ids.
pub fn cooccurrence(
    dataset: &Dataset,
    scope: &Scope,
    dimensions: Option<&[String]>,
) -> Result<Cooccurrence, AnalysisError> {
    let (selected, annotators) = select(dataset, scope)?;
    let wanted = |d: &str| dimensions.is_none_or(|ds| ds.iter().any(|x| x == d));
    let mut singles: HashMap<(&str, &str), u64> = HashMap::new();
    let mut pairs: HashMap<(Code, Code), u64> = HashMap::new();
    for sel in &selected {
        for s in &sel.sidecars {
            let mut by_part: BTreeMap<PartId, BTreeSet<(&str, &str)>> = BTreeMap::new();
            for (part, dims) in &s.tags {
                for (d, values) in dims.iter().filter(|(d, _)| wanted(d.as_str())) {
                    by_part
                        .entry(*part)
                        .or_default()
                        .extend(values.iter().map(|v| (d.as_str(), v.as_str())));
                }
            }
            for x in s.spans.iter().filter(|x| wanted(x.dimension.as_str())) {
                by_part
                    .entry(x.part)
                    .or_default()
                    .insert((x.dimension.as_str(), x.value.as_str()));
            }
            for (part, codes) in by_part {
                if !part_allowed(part, scope.part) {
                    continue;
                }
                let codes: Vec<(&str, &str)> = codes.into_iter().collect();
                for (i, &a) in codes.iter().enumerate() {
                    *singles.entry(a).or_default() += 1;
                    for &b in &codes[i + 1..] {
                        *pairs.entry((a, b)).or_default() += 1;
                    }
                }
            }
        }
    }
    let cb = &dataset.codebook;
    let mut codes: Vec<(&str, &str)> = singles.keys().copied().collect();
    codes.sort_by_cached_key(|(d, v)| {
        (
            cb.dimensions
                .iter()
                .position(|x| x.id == *d)
                .unwrap_or(usize::MAX),
            d.to_string(),
            value_order(cb.dimension(d), v),
        )
    });
    let position: HashMap<(&str, &str), usize> =
        codes.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let mut pair_list: Vec<CodePair> = pairs
        .into_iter()
        .map(|((a, b), n)| {
            let (a, b) = (position[&a], position[&b]);
            CodePair {
                a: a.min(b),
                b: a.max(b),
                parts: n,
            }
        })
        .collect();
    pair_list.sort_by(|x, y| (y.parts, x.a, x.b).cmp(&(x.parts, y.a, y.b)));
    Ok(Cooccurrence {
        annotators,
        codes: codes
            .into_iter()
            .map(|(d, v)| CodeCount {
                dimension: d.to_string(),
                value: v.to_string(),
                label: value_label(cb, d, v),
                parts: singles[&(d, v)],
            })
            .collect(),
        pairs: pair_list,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::analysis::sample_dataset as sample;

    #[test]
    fn one_choice_shares_add_up_to_one() {
        let d = sample();
        let f = frequencies(&d, &Scope::default()).unwrap();
        let tone = f
            .dimensions
            .iter()
            .find(|x| x.dimension == "tone_answer")
            .unwrap();
        assert_eq!(tone.values.iter().map(|v| v.units).sum::<u64>(), tone.units);
        let sum: f64 = tone.values.iter().map(|v| v.share.share).sum();
        assert!((sum - 1.0).abs() < 1e-12);
        assert_eq!(f.dimensions[0].dimension, "tone_question");
    }

    #[test]
    fn pairs_are_within_a_part() {
        let d = sample();
        let c = cooccurrence(&d, &Scope::default(), None).unwrap();
        let find = |dim: &str, v: &str| {
            c.codes
                .iter()
                .position(|x| x.dimension == dim && x.value == v)
                .unwrap()
        };
        // bob's prevent.txt: a non-reply making a political point, on the answer.
        let (a, b) = (
            find("reply", "non_reply"),
            find("non_reply", "political_point"),
        );
        assert!(c.pairs.iter().any(|p| (p.a, p.b) == (a.min(b), a.max(b))));
        // A question tag and an answer tag never share a part.
        let q = find("tone_question", "critical");
        let ans = find("tone_answer", "evasive");
        assert!(
            !c.pairs
                .iter()
                .any(|p| (p.a, p.b) == (q.min(ans), q.max(ans)))
        );
        assert!(c.pairs.windows(2).all(|w| w[0].parts >= w[1].parts));
    }
}
