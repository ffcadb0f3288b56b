//! Adjudication: settling each disagreement into a reconciled sidecar (annotator `gold` by default),
//! never into a colleague's, with the progress kept in the corpus folder between sessions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::agreement::corpus::{Disagreement, Subject};
use crate::codebook::Codebook;
use crate::dataset::DocumentData;
use crate::document::{Document, Edit};
use crate::fsutil::atomic_write;
use crate::sidecar::{Annotator, Span, check_annotator_id, ron_options, to_pretty_ron};
use crate::transcript::PartId;

/// The default id of the reconciled set.
pub const DEFAULT_GOLD: &str = "gold";

/// Annotators with whether they count by default: everyone but the reconciled set, which would be
/// one more coder in a table or a count unless chosen.
pub fn coders_ticked(annotators: impl IntoIterator<Item = String>) -> Vec<(String, bool)> {
    annotators
        .into_iter()
        .map(|a| {
            let on = a != DEFAULT_GOLD;
            (a, on)
        })
        .collect()
}

/// How a disagreement was settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    /// One annotator's version.
    Take(String),
    /// Everything any annotator said (union).
    Both,
    /// Nothing.
    Neither,
    /// Another value, chosen by the adjudicator (tags), or the adopted spans' value changed.
    Value(String),
}

impl Decision {
    /// Short description for lists.
    pub fn describe(&self) -> String {
        match self {
            Decision::Take(a) => format!("took {a}'s"),
            Decision::Both => "took both".to_string(),
            Decision::Neither => "took neither".to_string(),
            Decision::Value(v) => format!("set to {v}"),
        }
    }
}

/// Adjudication progress of one reconciled set: the decision for each disagreement key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Schema version.
    pub schema: u32,
    /// The reconciled set's annotator id.
    pub gold: String,
    /// Disagreement key -> decision.
    pub decisions: BTreeMap<String, Decision>,
}

/// Where the progress of a reconciled set is kept: a hidden folder of the corpus, which corpus scans
/// skip.
pub fn progress_path(root: &Path, gold: &str) -> PathBuf {
    root.join(".marginalia")
        .join(format!("adjudication-{gold}.ron"))
}

/// Why adjudication progress could not be read or written, or a decision not applied.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// The reconciled set's id is not a valid annotator id.
    #[error(transparent)]
    AnnotatorId(#[from] crate::sidecar::AnnotatorIdError),
    /// The progress file could not be read.
    #[error("cannot read adjudication progress: {source}: {}", path.display())]
    ReadProgress {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The progress file is not valid RON.
    #[error("cannot read adjudication progress: {message}: {}", path.display())]
    InvalidProgress {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The progress file's folder could not be made.
    #[error("cannot create {}: {source}", path.display())]
    CreateFolder {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing the progress failed.
    #[error(transparent)]
    Write(#[from] crate::fsutil::WriteError),
    /// The reconciled set would overwrite one of the compared annotators.
    #[error("\"{0}\" is one of the annotators compared; choose another id for the reconciled set")]
    GoldIsAnnotator(String),
    /// The transcript could not be opened.
    #[error(transparent)]
    Transcript(#[from] crate::transcript::TranscriptError),
    /// The reconciled sidecar exists but cannot be read.
    #[error("{0}")]
    GoldUnreadable(String),
    /// The disagreement names a part the transcript does not have.
    #[error(transparent)]
    Part(#[from] crate::transcript::PartIdError),
    /// The decision takes an annotator who is not in the disagreement.
    #[error("{0} is not among the annotators of this disagreement")]
    NotAnAnnotator(String),
    /// Both values chosen for a one-choice dimension.
    #[error("{0} takes one value: take one annotator's, or choose another value")]
    OneValue(String),
    /// An edit of the reconciled set was refused.
    #[error(transparent)]
    Edit(#[from] crate::document::EditError),
    /// Saving the reconciled set failed.
    #[error(transparent)]
    Save(#[from] crate::document::SaveError),
}

impl Progress {
    /// Reads the progress, or starts an empty one when there is none.
    pub fn load(root: &Path, gold: &str) -> Result<Progress, ReviewError> {
        check_annotator_id(gold)?;
        let path = progress_path(root, gold);
        match std::fs::read_to_string(&path) {
            Ok(text) => ron_options()
                .from_str(&text)
                .map_err(|e| ReviewError::InvalidProgress {
                    message: crate::ronfmt::ron_error_message(&e),
                    path,
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Progress {
                schema: 1,
                gold: gold.to_string(),
                decisions: BTreeMap::new(),
            }),
            Err(source) => Err(ReviewError::ReadProgress { path, source }),
        }
    }

    /// Writes the progress atomically.
    pub fn save(&self, root: &Path) -> Result<(), ReviewError> {
        let path = progress_path(root, &self.gold);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| ReviewError::CreateFolder {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        atomic_write(&path, to_pretty_ron(self).as_bytes())?;
        Ok(())
    }
}

/// Edits that put into an empty reconciled sidecar everything the annotators agree on: the values
/// of a part dimension that all of them gave (for a several-choice dimension, the values they share
/// even when some added others: both chose counter-terrorism, one also policing), and spans all of
/// them have (same range, dimension and value).
pub fn agreed_edits(doc: &DocumentData, annotators: &[String], gold_prefix: &str) -> Vec<Edit> {
    let sidecars: Vec<_> = doc
        .sidecars
        .iter()
        .filter(|s| annotators.contains(&s.annotator.id))
        .collect();
    let Some(first) = sidecars.first() else {
        return Vec::new();
    };
    let mut edits = Vec::new();
    let mut keys: BTreeSet<(PartId, String)> = BTreeSet::new();
    for s in &sidecars {
        for (part, dims) in &s.tags {
            for dim in dims.keys() {
                keys.insert((*part, dim.clone()));
            }
        }
    }
    for (part, dim) in keys {
        let mut sets = sidecars.iter().map(|s| {
            let mut v = s.part_values(part, &dim).to_vec();
            v.sort();
            v
        });
        let mut shared = sets.next().unwrap_or_default();
        for v in sets {
            shared.retain(|x| v.contains(x));
        }
        if !shared.is_empty() {
            edits.push(Edit::SetPartValues {
                part,
                dimension: dim,
                values: shared,
            });
        }
    }
    let mut n = 0;
    for span in &first.spans {
        let shared = sidecars.iter().all(|s| {
            s.spans.iter().any(|x| {
                x.part == span.part
                    && x.start == span.start
                    && x.end == span.end
                    && x.dimension == span.dimension
                    && x.value == span.value
            })
        });
        if shared {
            n += 1;
            let mut copy = span.clone();
            copy.id = format!("{gold_prefix}-agreed-{n:03}");
            copy.note.clear();
            edits.push(Edit::AddSpan(copy));
        }
    }
    edits
}

/// Applies a decision to the reconciled sidecar of the disagreement's document, creating it from the
/// agreed codes when it does not exist yet; records the decision in `progress` (saved by the
/// caller).
pub fn settle(
    doc: &DocumentData,
    annotators: &[String],
    disagreement: &Disagreement,
    decision: Decision,
    gold: &Annotator,
    codebook: &Codebook,
    progress: &mut Progress,
) -> Result<(), ReviewError> {
    check_annotator_id(&gold.id)?;
    if annotators.contains(&gold.id) {
        return Err(ReviewError::GoldIsAnnotator(gold.id.clone()));
    }
    let mut gold_doc = Document::open(&doc.path, gold, codebook)?;
    if let Some(e) = &gold_doc.load_error {
        return Err(ReviewError::GoldUnreadable(e.clone()));
    }
    let fresh = !gold_doc.sidecar_path.exists();
    if fresh {
        for e in agreed_edits(doc, annotators, &gold.id) {
            gold_doc.apply(e)?;
        }
    }
    let part: PartId = disagreement.part.parse()?;
    let dim = disagreement.dimension.clone();
    match &disagreement.subject {
        Subject::Tag => {
            let values: Vec<String> = match &decision {
                Decision::Take(a) => disagreement
                    .versions
                    .iter()
                    .find(|(who, _)| who == a)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| ReviewError::NotAnAnnotator(a.clone()))?,
                Decision::Both => {
                    let set: BTreeSet<String> = disagreement
                        .versions
                        .iter()
                        .flat_map(|(_, v)| v.iter().cloned())
                        .collect();
                    let one_choice = codebook
                        .dimension(&dim)
                        .is_some_and(|d| d.kind == crate::codebook::DimensionKind::OneChoice);
                    if one_choice && set.len() > 1 {
                        return Err(ReviewError::OneValue(dim));
                    }
                    set.into_iter().collect()
                }
                Decision::Neither => Vec::new(),
                Decision::Value(v) => vec![v.clone()],
            };
            gold_doc.apply(Edit::SetPartValues {
                part,
                dimension: dim,
                values,
            })?;
        }
        Subject::Span { start, end } => {
            let mut edits = Vec::new();
            // Clear what the reconciled set has of this dimension in the range, then adopt.
            for s in gold_doc.sidecar.spans.iter().filter(|s| {
                s.part == part && s.dimension == dim && s.start < *end && *start < s.end
            }) {
                edits.push(Edit::RemoveSpan { id: s.id.clone() });
            }
            let adopted: Vec<Span> = match &decision {
                Decision::Take(a) => disagreement
                    .spans
                    .iter()
                    .find(|(who, _)| who == a)
                    .map(|(_, s)| s.clone())
                    .unwrap_or_default(),
                Decision::Both | Decision::Value(_) => {
                    let mut seen = BTreeSet::new();
                    disagreement
                        .spans
                        .iter()
                        .flat_map(|(_, s)| s.iter().cloned())
                        .filter(|s| seen.insert((s.start, s.end, s.value.clone())))
                        .collect()
                }
                Decision::Neither => Vec::new(),
            };
            let first = next_number(&gold_doc, &gold.id);
            for (number, mut s) in (first..).zip(adopted) {
                s.id = format!("{}-{number:03}", gold.id);
                if let Decision::Value(v) = &decision {
                    s.value = v.clone();
                }
                s.note.clear();
                edits.push(Edit::AddSpan(s));
            }
            if !edits.is_empty() {
                gold_doc.apply(Edit::Batch(edits))?;
            }
        }
    }
    gold_doc.save()?;
    progress
        .decisions
        .insert(disagreement.key.clone(), decision);
    Ok(())
}

fn next_number(doc: &Document, prefix: &str) -> u64 {
    let p = format!("{prefix}-");
    doc.sidecar
        .spans
        .iter()
        .filter_map(|s| s.id.strip_prefix(&p)?.parse::<u64>().ok())
        .max()
        .unwrap_or(0)
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::corpus::compute;

    /// Both chose counter-terrorism, one also policing: the reconciled set starts with
    /// counter-terrorism, and the disagreement on policing is left to settle.
    #[test]
    fn the_gold_set_starts_with_the_values_every_annotator_gave() {
        let dir = tempfile::tempdir().unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
        std::fs::copy(src.join("prevent.txt"), dir.path().join("prevent.txt")).unwrap();
        let t = crate::transcript::Transcript::load(&dir.path().join("prevent.txt")).unwrap();
        let cb = Codebook::builtin();
        for (who, topics) in [
            ("ann", vec!["counter_terrorism", "policing"]),
            ("ben", vec!["counter_terrorism"]),
        ] {
            let mut s = crate::sidecar::Sidecar::new(
                Annotator {
                    id: who.into(),
                    name: String::new(),
                },
                &t,
                &cb,
            );
            s.tags.entry(PartId::QUESTION).or_default().insert(
                "topic".into(),
                topics.iter().map(|x| x.to_string()).collect(),
            );
            s.save(&crate::sidecar::sidecar_path(
                &dir.path().join("prevent.txt"),
                who,
            ))
            .unwrap();
        }
        let data = Dataset::load(dir.path(), &Selection::default(), &|_, _| {}).unwrap();
        let who = vec!["ann".to_string(), "ben".to_string()];
        let edits = agreed_edits(&data.documents[0], &who, "gold");
        assert_eq!(
            edits,
            vec![Edit::SetPartValues {
                part: PartId::QUESTION,
                dimension: "topic".into(),
                values: vec!["counter_terrorism".into()],
            }]
        );
    }
    use crate::dataset::{Dataset, Selection};
    use crate::sidecar::Sidecar;

    #[test]
    fn settling_writes_only_the_gold_sidecar_and_keeps_progress() {
        let dir = tempfile::tempdir().unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
        for f in [
            "prevent.txt",
            "prevent.txt.alice.ron",
            "prevent.txt.bob.ron",
        ] {
            std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
        }
        let before_alice = std::fs::read(dir.path().join("prevent.txt.alice.ron")).unwrap();
        let data = Dataset::load(dir.path(), &Selection::default(), &|_, _| {}).unwrap();
        let who = vec!["alice".to_string(), "bob".to_string()];
        let report = compute(&data, &who);
        let gold = Annotator {
            id: "gold".into(),
            name: "Reconciled".into(),
        };
        let mut progress = Progress::load(dir.path(), "gold").unwrap();
        let doc = &data.documents[0];
        let tone = report
            .disagreements
            .iter()
            .find(|d| d.dimension == "tone_answer")
            .unwrap();
        settle(
            doc,
            &who,
            tone,
            Decision::Take("bob".into()),
            &gold,
            &data.codebook,
            &mut progress,
        )
        .unwrap();
        let fahy = report
            .disagreements
            .iter()
            .find(|d| {
                d.dimension == "authority_person"
                    && d.versions
                        .iter()
                        .any(|(_, v)| v.iter().any(|x| x.contains("Fahy")))
            })
            .unwrap();
        settle(
            doc,
            &who,
            fahy,
            Decision::Take("alice".into()),
            &gold,
            &data.codebook,
            &mut progress,
        )
        .unwrap();
        progress.save(dir.path()).unwrap();

        let g = Sidecar::load(&dir.path().join("prevent.txt.gold.ron"))
            .unwrap()
            .sidecar;
        assert_eq!(g.part_values(PartId::ANSWER, "tone_answer"), ["evasive"]);
        // Agreed codes were seeded: both said critical for the question's tone.
        assert_eq!(
            g.part_values(PartId::QUESTION, "tone_question"),
            ["critical"]
        );
        let fahy_spans: Vec<&Span> = g
            .spans
            .iter()
            .filter(|s| s.dimension == "authority_person" && s.value == "Sir Peter Fahy")
            .collect();
        assert_eq!(fahy_spans.len(), 1);
        assert_eq!(fahy_spans[0].quote, "Sir Peter Fahy");
        assert_eq!(
            std::fs::read(dir.path().join("prevent.txt.alice.ron")).unwrap(),
            before_alice
        );

        // "Both" would put two values into a one-choice dimension: refused, nothing written.
        let before_gold = std::fs::read(dir.path().join("prevent.txt.gold.ron")).unwrap();
        let e = settle(
            doc,
            &who,
            tone,
            Decision::Both,
            &gold,
            &data.codebook,
            &mut progress,
        )
        .unwrap_err();
        assert!(matches!(e, ReviewError::OneValue(_)), "{e}");
        assert!(e.to_string().contains("takes one value"), "{e}");
        assert_eq!(
            std::fs::read(dir.path().join("prevent.txt.gold.ron")).unwrap(),
            before_gold
        );

        let again = Progress::load(dir.path(), "gold").unwrap();
        assert_eq!(again.decisions.len(), 2);
        assert_eq!(again.decisions[&tone.key], Decision::Take("bob".into()));
        // The reconciled set never takes a compared annotator's id.
        let alice = Annotator {
            id: "alice".into(),
            name: String::new(),
        };
        assert!(
            settle(
                doc,
                &who,
                tone,
                Decision::Both,
                &alice,
                &data.codebook,
                &mut progress
            )
            .is_err()
        );
        // Progress files are hidden from corpus scans.
        assert!(
            crate::corpus::scan(dir.path())
                .unwrap()
                .sidecars
                .iter()
                .all(|s| !s.path.to_string_lossy().contains(".marginalia"))
        );
    }
}
