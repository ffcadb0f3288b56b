//! Analysis across the corpus: retrieval of every coding of a code, code frequencies, cross-tabs of
//! metadata and dimensions with chi-square, Cramér's V and Wilson intervals, and co-occurrence of
//! codes within a part. Everything works on a [`Dataset`] already in memory, as the app holds it,
//! and never changes a file. Formulas and sources: `docs/analysis.md`.
//!
//! The unit of the tables is one annotator's coding of one exchange (a question and its answer; a
//! GLA page has one): a question or answer dimension takes its values from that part, a span
//! dimension the distinct values of the annotator's spans in the exchange. A several-choice
//! dimension counts each value. With several annotators each counts, so the same exchange can count
//! once per annotator; choosing one annotator (or the reconciled `gold` set) gives independent units.

pub mod chart;
pub mod codes;
pub mod crosstab;
pub mod retrieve;
pub mod stats;

use std::collections::BTreeSet;
use std::path::Path;

use crate::codebook::{Codebook, Dimension};
use crate::corpus::{CorpusIndex, Entry, Filter};
use crate::dataset::{Dataset, DocumentData};
use crate::search::fold;
use crate::sidecar::Sidecar;
use crate::transcript::{PartId, PartKind};

/// Label of a metadata field that a document leaves empty.
pub const NONE_LABEL: &str = "(none)";

/// Why an analysis could not be made; each message is one line for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalysisError {
    /// No dimension of the codebook (or of the sidecars) has this id or label.
    #[error("unknown dimension \"{name}\"; the codebook has {known}")]
    UnknownDimension {
        /// What was asked for.
        name: String,
        /// The dimension ids, comma-separated.
        known: String,
    },
    /// A choice dimension has no such value, in the codebook or in any sidecar.
    #[error("dimension \"{dimension}\" has no value \"{value}\"; it has {known}")]
    UnknownValue {
        /// The dimension id.
        dimension: String,
        /// What was asked for.
        value: String,
        /// The value ids, comma-separated.
        known: String,
    },
    /// Neither a metadata field nor a dimension.
    #[error(
        "unknown field \"{0}\": use question_by, organisation, asked_of, answered_by, year, meeting, status or a dimension"
    )]
    UnknownAxis(String),
    /// Rows and columns are the same.
    #[error(
        "rows and columns are both \"{0}\"; for codes that occur together use `marginalia codes --cooccurrence`"
    )]
    SameAxis(String),
    /// An annotator was asked for who has no sidecar in the folder.
    #[error("no sidecar of annotator \"{id}\" in the folder; found: {found}")]
    UnknownAnnotator {
        /// The id asked for.
        id: String,
        /// The annotators found, comma-separated.
        found: String,
    },
    /// The filter cannot be read (a bad tag query).
    #[error("bad filter: {0}")]
    Filter(#[from] crate::corpus::FilterError),
}

/// What an analysis looks at: whose codings, which parts, which documents.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// These annotators (ids; `gold` for the reconciled set). `None`: every annotator except
    /// reconciled sets ([`reconciled_sets`]).
    pub annotators: Option<Vec<String>>,
    /// Only codings on parts of this kind (in any exchange).
    pub part: Option<PartKind>,
    /// Only documents (and annotators' sidecars) passing the corpus filters, as in the app's list.
    pub filter: Option<Filter>,
}

/// The ids of reconciled sets in a folder: `gold`, and every id with adjudication progress in
/// `.marginalia/` (see [`crate::review::progress_path`]).
pub fn reconciled_sets(root: &Path) -> BTreeSet<String> {
    let mut ids = BTreeSet::from([crate::review::DEFAULT_GOLD.to_string()]);
    if let Ok(entries) = std::fs::read_dir(root.join(".marginalia")) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(id) = name
                .strip_prefix("adjudication-")
                .and_then(|s| s.strip_suffix(".ron"))
            {
                ids.insert(id.to_string());
            }
        }
    }
    ids
}

/// The annotators an analysis counts: those asked for (each must have a sidecar), or every
/// annotator of the dataset except reconciled sets (all of them when there is nothing else).
pub fn chosen_annotators(dataset: &Dataset, scope: &Scope) -> Result<Vec<String>, AnalysisError> {
    let found: Vec<String> = dataset.annotators().into_iter().map(|(id, _)| id).collect();
    if let Some(asked) = &scope.annotators {
        for id in asked {
            if !found.contains(id) {
                return Err(AnalysisError::UnknownAnnotator {
                    id: id.clone(),
                    found: if found.is_empty() {
                        "none".to_string()
                    } else {
                        found.join(", ")
                    },
                });
            }
        }
        let mut ids = asked.clone();
        ids.sort();
        ids.dedup();
        return Ok(ids);
    }
    let reconciled = reconciled_sets(&dataset.root);
    let coders: Vec<String> = found
        .iter()
        .filter(|id| !reconciled.contains(*id))
        .cloned()
        .collect();
    Ok(if coders.is_empty() { found } else { coders })
}

/// One document with the sidecars of the chosen annotators that pass the filter.
#[derive(Debug, Clone)]
pub struct Selected<'a> {
    /// The document.
    pub doc: &'a DocumentData,
    /// Its chosen sidecars, by annotator id.
    pub sidecars: Vec<&'a Sidecar>,
}

/// The documents and sidecars a scope selects, in path order; with the annotators chosen.
/// Documents pass the filter on their metadata even without a chosen sidecar (metadata tables
/// count them); a sidecar passes when its annotator's status and codes pass too.
pub fn select<'a>(
    dataset: &'a Dataset,
    scope: &Scope,
) -> Result<(Vec<Selected<'a>>, Vec<String>), AnalysisError> {
    let annotators = chosen_annotators(dataset, scope)?;
    let mut out: Vec<Selected<'a>> = dataset
        .documents
        .iter()
        .map(|doc| Selected {
            doc,
            sidecars: doc
                .sidecars
                .iter()
                .filter(|s| annotators.contains(&s.annotator.id))
                .collect(),
        })
        .collect();
    if let Some(filter) = &scope.filter {
        out = apply_filter(out, filter, &dataset.codebook)?;
    }
    Ok((out, annotators))
}

/// Keeps what passes the corpus filter, with the corpus list's own matching: one row per document
/// and sidecar (the sidecar's status and codes are that row's), and one row without a sidecar for
/// the document's metadata.
fn apply_filter<'a>(
    selected: Vec<Selected<'a>>,
    filter: &Filter,
    codebook: &Codebook,
) -> Result<Vec<Selected<'a>>, AnalysisError> {
    // (index in `selected`, sidecar index or None for the document row)
    let mut rows: Vec<(usize, Option<usize>)> = Vec::new();
    let mut entries: Vec<Entry> = Vec::new();
    for (i, sel) in selected.iter().enumerate() {
        entries.push(entry_for(sel.doc, None));
        rows.push((i, None));
        for (j, s) in sel.sidecars.iter().enumerate() {
            entries.push(entry_for(sel.doc, Some(s)));
            rows.push((i, Some(j)));
        }
    }
    let index = CorpusIndex {
        entries,
        codebook: codebook.clone(),
        ..CorpusIndex::default()
    };
    let passing = index.filter_by(filter).map_err(AnalysisError::Filter)?;
    let mut keep_doc = vec![false; selected.len()];
    let mut keep_sidecar: Vec<Vec<bool>> = selected
        .iter()
        .map(|s| vec![false; s.sidecars.len()])
        .collect();
    for row in passing {
        match rows[row] {
            (i, None) => keep_doc[i] = true,
            (i, Some(j)) => {
                keep_doc[i] = true;
                keep_sidecar[i][j] = true;
            }
        }
    }
    // A document whose metadata fails a filter on status or codes can still pass through a sidecar;
    // a document row passes status and code filters only when they ask for nothing coded.
    Ok(selected
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep_doc[*i])
        .map(|(i, mut sel)| {
            let keep = &keep_sidecar[i];
            let mut j = 0;
            sel.sidecars.retain(|_| {
                j += 1;
                keep[j - 1]
            });
            sel
        })
        .collect())
}

/// A corpus-list row for a document and, when given, one annotator's sidecar of it.
fn entry_for(doc: &DocumentData, sidecar: Option<&Sidecar>) -> Entry {
    let file_name = doc
        .path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let mut entry = Entry {
        path: doc.path.clone(),
        title: file_name.clone(),
        file_name,
        date: None,
        member: String::new(),
        party: String::new(),
        asked_of: String::new(),
        format: doc.transcript.format,
        answer_status: doc.transcript.meta.status,
        status: crate::sidecar::Status::NotStarted,
        codings: 0,
        tags: Vec::new(),
        cites: Vec::new(),
        error: None,
    };
    entry.fill_from(&doc.transcript);
    if let Some(s) = sidecar {
        entry.fill_codes(s);
    }
    entry
}

/// The exchanges of a transcript (0-based), in order; a plain text has exchange 0. Parts number
/// their exchanges from 0 without gaps, so this is 0 up to the largest.
pub fn exchanges(doc: &DocumentData) -> std::ops::Range<u32> {
    let last = doc.transcript.parts.iter().map(|p| p.id.exchange).max();
    0..last.map_or(0, |n| n + 1)
}

/// True when a part passes the scope's part restriction.
pub fn part_allowed(part: PartId, only: Option<PartKind>) -> bool {
    only.is_none_or(|k| part.kind == k)
}

/// The distinct values one annotator gave a dimension in one exchange, sorted: the part tags of that
/// dimension and the values of its spans (a dimension is one or the other; an unknown one may be
/// either).
pub fn values_in<'a>(
    s: &'a Sidecar,
    dimension: &str,
    exchange: u32,
    only: Option<PartKind>,
) -> Vec<&'a str> {
    let mut out: Vec<&'a str> = Vec::new();
    for (part, dims) in &s.tags {
        if part.exchange == exchange
            && part_allowed(*part, only)
            && let Some(values) = dims.get(dimension)
        {
            out.extend(values.iter().map(String::as_str));
        }
    }
    for span in &s.spans {
        if span.part.exchange == exchange
            && span.dimension == dimension
            && part_allowed(span.part, only)
        {
            out.push(&span.value);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Finds a dimension by id or label (case and accents ignored); dimensions that only sidecars use
/// are found by id. Returns the dimension id.
pub fn resolve_dimension(dataset: &Dataset, name: &str) -> Result<String, AnalysisError> {
    let cb = &dataset.codebook;
    if let Some(d) = cb.dimension(name) {
        return Ok(d.id.clone());
    }
    let wanted = fold(name.trim());
    if let Some(d) = cb
        .dimensions
        .iter()
        .find(|d| fold(&d.id) == wanted || fold(&d.label) == wanted)
    {
        return Ok(d.id.clone());
    }
    let used = dataset.documents.iter().flat_map(|d| &d.sidecars).any(|s| {
        s.tags.values().any(|dims| dims.contains_key(name))
            || s.spans.iter().any(|x| x.dimension == name)
    });
    if used {
        return Ok(name.to_string());
    }
    Err(AnalysisError::UnknownDimension {
        name: name.to_string(),
        known: cb
            .dimensions
            .iter()
            .map(|d| d.id.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// The label of a value of a dimension (the codebook's, else the value itself).
pub fn value_label(codebook: &Codebook, dimension: &str, value: &str) -> String {
    codebook
        .dimension(dimension)
        .and_then(|d| d.value(value))
        .map_or_else(
            || {
                if value.is_empty() {
                    "(no value)".to_string()
                } else {
                    value.to_string()
                }
            },
            |v| v.label.clone(),
        )
}

/// Orders values of a dimension: the codebook's order first, then others alphabetically.
pub fn value_order(dimension: Option<&Dimension>, value: &str) -> (usize, String) {
    let position = dimension
        .and_then(|d| d.values.iter().position(|v| v.id == value))
        .unwrap_or(usize::MAX);
    (position, fold(value))
}

/// The dataset of `sample_data/`, which the unit tests of every analysis compute on.
#[cfg(test)]
pub(crate) fn sample_dataset() -> Dataset {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    Dataset::load(&root, &crate::dataset::Selection::default(), &|_, _| {}).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::analysis::sample_dataset as sample;

    #[test]
    fn annotators_default_to_every_coder_and_unknown_ones_are_refused() {
        let d = sample();
        assert_eq!(
            chosen_annotators(&d, &Scope::default()).unwrap(),
            ["alice", "bob"]
        );
        let err = chosen_annotators(
            &d,
            &Scope {
                annotators: Some(vec!["gold".into()]),
                ..Scope::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no sidecar of annotator \"gold\" in the folder; found: alice, bob"
        );
    }

    #[test]
    fn dimensions_by_id_or_label() {
        let d = sample();
        assert_eq!(resolve_dimension(&d, "tone_answer").unwrap(), "tone_answer");
        assert_eq!(
            resolve_dimension(&d, "Tone of answer").unwrap(),
            "tone_answer"
        );
        assert!(matches!(
            resolve_dimension(&d, "tone"),
            Err(AnalysisError::UnknownDimension { .. })
        ));
    }

    #[test]
    fn filters_select_documents_and_sidecars() {
        let d = sample();
        let scope = Scope {
            filter: Some(Filter {
                party: Some("GLA Conservatives".into()),
                ..Filter::default()
            }),
            ..Scope::default()
        };
        let (sel, _) = select(&d, &scope).unwrap();
        assert!(!sel.is_empty());
        assert!(sel.iter().all(|s| s.doc.transcript.meta.organisation.as_deref()
            == Some("GLA Conservatives")));
        // A status filter keeps only the sidecars with that status.
        let scope = Scope {
            filter: Some(Filter {
                status: Some(crate::sidecar::Status::Done),
                ..Filter::default()
            }),
            ..Scope::default()
        };
        let (sel, _) = select(&d, &scope).unwrap();
        assert!(
            sel.iter()
                .flat_map(|s| &s.sidecars)
                .all(|s| s.status == crate::sidecar::Status::Done)
        );
        assert!(sel.iter().any(|s| !s.sidecars.is_empty()));
    }
}
