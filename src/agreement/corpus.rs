//! Agreement over a corpus: which units each dimension has, the coefficients per dimension, per
//! document and per pair of annotators, span matching, and the list of disagreements that review
//! and adjudication work through. `docs/agreement.md` describes the units and missing data.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use serde::Serialize;

use super::stats::{self, BinaryCounts, Coded, CodedRows, Level};
use crate::codebook::{AppliesTo, DimensionKind};
use crate::dataset::{Dataset, DatasetStream, DocumentData};
use crate::sidecar::{Sidecar, Span};
use crate::transcript::{PartId, PartKind};

/// Agreement on one dimension (or one value of a several-choice dimension, or spans).
#[derive(Debug, Clone, Serialize)]
pub struct DimensionAgreement {
    /// Dimension id.
    pub dimension: String,
    /// `question`, `answer`, or `span characters`.
    pub scope: String,
    /// For several-choice dimensions: the value whose presence is compared.
    pub value: Option<String>,
    /// Pairable units (parts, or characters for spans).
    pub units: u64,
    /// Share of agreeing pairs.
    pub percent_agreement: Option<f64>,
    /// Cohen's kappa (two annotators only).
    pub cohen_kappa: Option<f64>,
    /// Fleiss' kappa over units coded by all.
    pub fleiss_kappa: Option<f64>,
    /// Krippendorff's alpha, nominal.
    pub krippendorff_alpha: Option<f64>,
}

/// Precision, recall and F1 of one annotator's spans against another's.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Prf {
    /// Share of b's spans matched by a span of a.
    pub precision: Option<f64>,
    /// Share of a's spans matched by a span of b.
    pub recall: Option<f64>,
    /// Harmonic mean.
    pub f1: Option<f64>,
}

/// Span matching between a pair of annotators on one dimension.
#[derive(Debug, Clone, Serialize)]
pub struct SpanMatching {
    /// Dimension id.
    pub dimension: String,
    /// Reference annotator.
    pub a: String,
    /// Compared annotator.
    pub b: String,
    /// Spans of a and of b.
    pub spans: (usize, usize),
    /// Same part, start and end.
    pub exact: Prf,
    /// Same part and overlapping.
    pub overlap: Prf,
}

/// Agreement of a pair of annotators over all one-choice part tags.
#[derive(Debug, Clone, Serialize)]
pub struct PairAgreement {
    /// First annotator.
    pub a: String,
    /// Second annotator.
    pub b: String,
    /// Units both coded.
    pub units: u64,
    /// Share of agreement.
    pub percent_agreement: Option<f64>,
    /// Cohen's kappa.
    pub cohen_kappa: Option<f64>,
}

/// Agreement within one document, over its part tags.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentAgreementRow {
    /// Document, relative to the corpus folder.
    pub document: String,
    /// Part-tag units (dimension × part) with at least two annotators.
    pub units: usize,
    /// Of those, units where everyone agreed.
    pub agreed: usize,
    /// Disagreements, spans included.
    pub disagreements: usize,
}

/// What a disagreement is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Subject {
    /// A dimension on a whole part.
    Tag,
    /// Spans of a dimension around `range` (the union of the overlapping spans).
    Span {
        /// Char range covered by the spans in question.
        start: usize,
        /// End of that range.
        end: usize,
    },
}

/// Annotators who did not say the same thing.
#[derive(Debug, Clone, Serialize)]
pub struct Disagreement {
    /// Stable key, for adjudication progress.
    pub key: String,
    /// Document, relative to the corpus folder.
    pub document: String,
    /// Part.
    pub part: String,
    /// Dimension id.
    pub dimension: String,
    /// Tag or span.
    pub subject: Subject,
    /// Each annotator's version: tag values, or spans in the range (empty: said nothing).
    pub versions: Vec<(String, Vec<String>)>,
    /// For spans: each annotator's spans in the range, to adopt them.
    #[serde(skip)]
    pub spans: Vec<(String, Vec<Span>)>,
}

/// Everything computed for a set of annotators.
#[derive(Debug, Clone, Serialize)]
pub struct AgreementReport {
    /// The annotators compared.
    pub annotators: Vec<String>,
    /// Documents coded by at least two of them.
    pub documents: usize,
    /// Per dimension (and value, and spans).
    pub dimensions: Vec<DimensionAgreement>,
    /// All one-choice part tags together.
    pub overall: DimensionAgreement,
    /// Span matching per dimension and pair.
    pub span_matching: Vec<SpanMatching>,
    /// Per pair of annotators.
    pub pairwise: Vec<PairAgreement>,
    /// Per document.
    pub per_document: Vec<DocumentAgreementRow>,
    /// Every disagreement, in document order (none listed when the plan only counts them:
    /// [`Plan::counting_disagreements`]).
    pub disagreements: Vec<Disagreement>,
    /// How many disagreements there are, listed or not.
    pub disagreement_count: usize,
}

fn sidecars_of<'a>(doc: &'a DocumentData, annotators: &[String]) -> Vec<Option<&'a Sidecar>> {
    annotators
        .iter()
        .map(|a| doc.sidecars.iter().find(|s| &s.annotator.id == a))
        .collect()
}

fn parts_for(doc: &DocumentData, applies: AppliesTo) -> Vec<PartId> {
    let kind = match applies {
        AppliesTo::Question => PartKind::Question,
        AppliesTo::Answer => PartKind::Answer,
        AppliesTo::Span => return doc.transcript.parts.iter().map(|p| p.id).collect(),
    };
    doc.transcript
        .parts
        .iter()
        .filter(|p| p.id.kind == kind)
        .map(|p| p.id)
        .collect()
}

fn prf(matched_b: usize, nb: usize, matched_a: usize, na: usize) -> Prf {
    let precision = (nb > 0).then(|| matched_b as f64 / nb as f64);
    let recall = (na > 0).then(|| matched_a as f64 / na as f64);
    let f1 = match (precision, recall) {
        (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
        (Some(_), Some(_)) => Some(0.0),
        _ => None,
    };
    Prf {
        precision,
        recall,
        f1,
    }
}

fn dimension_row(
    dimension: &str,
    scope: &str,
    value: Option<&str>,
    coded: &Coded,
    coders: usize,
) -> DimensionAgreement {
    DimensionAgreement {
        dimension: dimension.to_string(),
        scope: scope.to_string(),
        value: value.map(String::from),
        units: coded.pairable_units() as u64,
        percent_agreement: coded.percent_agreement(),
        cohen_kappa: if coders == 2 {
            coded.cohen_kappa(0, 1)
        } else {
            None
        },
        fleiss_kappa: coded.fleiss_kappa(),
        krippendorff_alpha: coded.krippendorff_alpha(Level::Nominal),
    }
}

/// Computes agreement among `annotators` (at least two) over the documents at least two of them
/// coded.
pub fn compute(dataset: &Dataset, annotators: &[String]) -> AgreementReport {
    let plan = Plan::new(&dataset.codebook, annotators);
    let documents: Vec<Option<DocumentAgreement>> = dataset
        .documents
        .par_iter()
        .map(|d| plan.document(d))
        .collect();
    let mut totals = plan.totals();
    for d in documents.into_iter().flatten() {
        totals.add(d);
    }
    plan.report(totals)
}

/// The report of `plan` over the documents of `stream`, each read and compared on a core and let
/// go of (what `marginalia agreement DIR` and review mode run); the warnings of reading them are
/// appended to `warnings`, in path order. The report is the one [`compute`] gives over the same
/// documents read whole.
pub fn compute_stream(
    stream: &DatasetStream,
    plan: &Plan<'_>,
    warnings: &mut Vec<String>,
) -> AgreementReport {
    let mut totals = plan.totals();
    warnings.extend(stream.skipped.iter().cloned());
    let read: Result<(), std::convert::Infallible> = stream.for_each(
        |loaded| {
            let compared = loaded.document.as_ref().and_then(|d| plan.document(d));
            (loaded.warnings, compared)
        },
        |(read, compared)| {
            warnings.extend(read);
            if let Some(d) = compared {
                totals.add(d);
            }
            Ok(())
        },
        &|_, _| {},
    );
    let Ok(()) = read;
    plan.report(totals)
}

/// Agreement computed document by document, so a corpus is compared as it is read and no
/// document need stay in memory: [`Plan::document`] on any core, [`Totals::add`] in document
/// order, then [`Plan::report`]. The report is the one [`compute`] gives.
pub struct Plan<'c> {
    /// The codebook's dimensions: those coded on parts, then those coded on spans (`true`).
    jobs: Vec<(&'c crate::codebook::Dimension, bool)>,
    annotators: Vec<String>,
    /// Whether the disagreements are listed (for review) or only counted.
    list_disagreements: bool,
}

/// What one document adds to the report.
pub struct DocumentAgreement {
    relative: String,
    /// One per dimension of the plan.
    partials: Vec<Partial>,
}

/// The documents added so far.
pub struct Totals {
    partials: Vec<Partial>,
    per_document: Vec<DocumentAgreementRow>,
}

impl Totals {
    /// Adds a document's part, in document order.
    pub fn add(&mut self, d: DocumentAgreement) {
        let mut row = DocumentAgreementRow {
            document: d.relative,
            units: 0,
            agreed: 0,
            disagreements: 0,
        };
        for (total, partial) in self.partials.iter_mut().zip(d.partials) {
            row.units += partial.units;
            row.agreed += partial.agreed;
            row.disagreements += partial.disagreement_count;
            total.merge(partial);
        }
        self.per_document.push(row);
    }
}

impl<'c> Plan<'c> {
    /// The dimensions of `codebook` compared among `annotators`.
    pub fn new(codebook: &'c crate::codebook::Codebook, annotators: &[String]) -> Plan<'c> {
        let jobs = codebook
            .dimensions
            .iter()
            .filter(|d| d.applies_to != AppliesTo::Span)
            .map(|d| (d, false))
            .chain(codebook.span_dimensions().map(|d| (d, true)))
            .collect();
        Plan {
            jobs,
            annotators: annotators.to_vec(),
            list_disagreements: true,
        }
    }

    /// Counts the disagreements without listing them (the command line prints how many): each
    /// is let go of on the core that found it, instead of a corpus's worth held to the end.
    pub fn counting_disagreements(mut self) -> Plan<'c> {
        self.list_disagreements = false;
        self
    }

    /// Nothing added yet.
    pub fn totals(&self) -> Totals {
        Totals {
            partials: self.jobs.iter().map(|_| Partial::default()).collect(),
            per_document: Vec::new(),
        }
    }

    /// What `doc` adds; `None` when fewer than two of the annotators coded it.
    pub fn document(&self, doc: &DocumentData) -> Option<DocumentAgreement> {
        let sidecars = sidecars_of(doc, &self.annotators);
        if sidecars.iter().flatten().count() < 2 {
            return None;
        }
        // Each part's length in characters, counted once for every span dimension.
        let lens: Vec<usize> = if self.jobs.iter().any(|&(_, span)| span) {
            doc.transcript
                .parts
                .iter()
                .map(|p| p.text().chars().count())
                .collect()
        } else {
            Vec::new()
        };
        let partials = self
            .jobs
            .iter()
            .map(|&(dim, span)| {
                let mut partial = if span {
                    span_partial(dim, doc, &lens, &sidecars, &self.annotators)
                } else {
                    part_partial(dim, doc, &sidecars, &self.annotators)
                };
                partial.disagreement_count = partial.disagreements.len();
                if !self.list_disagreements {
                    partial.disagreements = Vec::new();
                }
                partial
            })
            .collect();
        Some(DocumentAgreement {
            relative: doc.relative.clone(),
            partials,
        })
    }

    /// The report of the documents added.
    pub fn report(&self, totals: Totals) -> AgreementReport {
        let annotators = &self.annotators;
        // Each dimension's statistics on its own core, put together in the codebook's order.
        let finished: Vec<Finished> = self
            .jobs
            .par_iter()
            .zip(totals.partials)
            .map(|(&(dim, span), partial)| finish(dim, span, partial, annotators))
            .collect();
        let mut dimensions = Vec::new();
        let mut overall = CodedRows::default();
        let mut disagreements: Vec<Disagreement> = Vec::new();
        let mut span_matching = Vec::new();
        for f in finished {
            dimensions.extend(f.rows);
            overall.append(f.overall);
            disagreements.extend(f.disagreements);
            span_matching.extend(f.span_matching);
        }
        let mut pairwise = Vec::new();
        for i in 0..annotators.len() {
            for j in i + 1..annotators.len() {
                let mut t = CodedRows::default();
                for u in 0..overall.units() {
                    t.push_row([overall.value(u, i), overall.value(u, j)]);
                }
                let t = t.into_coded();
                pairwise.push(PairAgreement {
                    a: annotators[i].clone(),
                    b: annotators[j].clone(),
                    units: t.pairable_units() as u64,
                    percent_agreement: t.percent_agreement(),
                    cohen_kappa: t.cohen_kappa(0, 1),
                });
            }
        }
        let overall = dimension_row(
            "overall",
            "one-choice part tags",
            None,
            &overall.into_coded(),
            annotators.len(),
        );
        let disagreement_count = totals.per_document.iter().map(|d| d.disagreements).sum();
        AgreementReport {
            annotators: annotators.clone(),
            disagreement_count,
            documents: totals.per_document.len(),
            dimensions,
            overall,
            span_matching,
            pairwise,
            per_document: totals.per_document,
            disagreements,
        }
    }
}

/// What documents add to one dimension; [`Partial::merge`] puts them together in document order.
#[derive(Default)]
struct Partial {
    /// One choice: a row per part, and the rows of the overall table (`dimension=value`).
    table: CodedRows,
    overall: CodedRows,
    /// Several choices: each coder's values per part, and the values met.
    sets: Vec<Vec<Option<BTreeSet<String>>>>,
    values: BTreeSet<String>,
    /// Spans: characters by coders and marks, the 2x2 counts of two coders, matching per pair.
    counts: BinaryCounts,
    two: [f64; 4],
    pairs: BTreeMap<(usize, usize), [usize; 6]>,
    disagreements: Vec<Disagreement>,
    disagreement_count: usize,
    /// One choice: units with two or more coders, and those where all agreed.
    units: usize,
    agreed: usize,
}

impl Partial {
    fn merge(&mut self, other: Partial) {
        self.table.append(other.table);
        self.overall.append(other.overall);
        self.sets.extend(other.sets);
        self.values.extend(other.values);
        for (key, n) in other.counts.counts {
            *self.counts.counts.entry(key).or_default() += n;
        }
        // Whole numbers of characters: the sums are exact in any order.
        for (mine, theirs) in self.two.iter_mut().zip(other.two) {
            *mine += theirs;
        }
        for (pair, e) in other.pairs {
            let mine = self.pairs.entry(pair).or_default();
            for (m, t) in mine.iter_mut().zip(e) {
                *m += t;
            }
        }
        self.disagreements.extend(other.disagreements);
        self.disagreement_count += other.disagreement_count;
        self.units += other.units;
        self.agreed += other.agreed;
    }
}

/// A dimension's rows of the report.
struct Finished {
    rows: Vec<DimensionAgreement>,
    overall: CodedRows,
    disagreements: Vec<Disagreement>,
    span_matching: Vec<SpanMatching>,
}

/// What a document adds to a dimension coded on whole parts.
fn part_partial(
    dim: &crate::codebook::Dimension,
    doc: &DocumentData,
    sidecars: &[Option<&Sidecar>],
    annotators: &[String],
) -> Partial {
    let mut out = Partial::default();
    match dim.kind {
        DimensionKind::OneChoice => {
            for part in parts_for(doc, dim.applies_to) {
                let row: Vec<Option<String>> = sidecars
                    .iter()
                    .map(|s| s.and_then(|s| s.part_values(part, &dim.id).first().cloned()))
                    .collect();
                let given: Vec<&String> = row.iter().flatten().collect();
                let present = sidecars.iter().flatten().count();
                if given.len() >= 2 {
                    out.units += 1;
                    if given.iter().all(|v| *v == given[0]) {
                        out.agreed += 1;
                    }
                }
                let differs = !given.is_empty()
                    && (given.iter().any(|v| *v != given[0]) || given.len() < present);
                if differs {
                    out.disagreements
                        .push(tag_disagreement(doc, part, &dim.id, annotators, sidecars));
                }
                let overall: Vec<Option<String>> = row
                    .iter()
                    .map(|v| v.as_ref().map(|v| format!("{}={v}", dim.id)))
                    .collect();
                out.overall.push_row(overall.iter().map(Option::as_deref));
                out.table.push_row(row.iter().map(Option::as_deref));
            }
        }
        DimensionKind::SeveralChoices | DimensionKind::Entity => {
            for part in parts_for(doc, dim.applies_to) {
                let sets: Vec<Option<BTreeSet<String>>> = sidecars
                    .iter()
                    .map(|s| {
                        s.and_then(|s| {
                            let v = s.part_values(part, &dim.id);
                            (!v.is_empty()).then(|| v.iter().cloned().collect())
                        })
                    })
                    .collect();
                for set in sets.iter().flatten() {
                    out.values.extend(set.iter().cloned());
                }
                let given: Vec<&BTreeSet<String>> = sets.iter().flatten().collect();
                let present = sidecars.iter().flatten().count();
                if !given.is_empty()
                    && (given.iter().any(|s| *s != given[0]) || given.len() < present)
                {
                    out.disagreements
                        .push(tag_disagreement(doc, part, &dim.id, annotators, sidecars));
                }
                out.sets.push(sets);
            }
        }
    }
    out
}

/// What a document adds to a span dimension: characters as units, and span matching per pair
/// of coders.
fn span_partial(
    dim: &crate::codebook::Dimension,
    doc: &DocumentData,
    lens: &[usize],
    sidecars: &[Option<&Sidecar>],
    annotators: &[String],
) -> Partial {
    let mut out = Partial::default();
    // Each coder's spans of this dimension by part, gathered once per document: a part
    // looks up its own instead of scanning every span (an interview has thousands of
    // parts). Spans keep their order in the sidecar.
    let by_part: Vec<BTreeMap<PartId, Vec<&Span>>> = sidecars
        .iter()
        .map(|s| {
            let mut m: BTreeMap<PartId, Vec<&Span>> = BTreeMap::new();
            for x in s
                .iter()
                .flat_map(|s| &s.spans)
                .filter(|x| x.dimension == dim.id)
            {
                m.entry(x.part).or_default().push(x);
            }
            m
        })
        .collect();
    let m = sidecars.iter().flatten().count();
    for (part, &len) in doc.transcript.parts.iter().zip(lens) {
        // Most parts carry no span of this dimension: every character is a unit no coder
        // marked, counted at once instead of character by character.
        let marked = by_part.iter().any(|b| b.contains_key(&part.id));
        if !marked {
            if len > 0 {
                out.counts.add(m, 0, len as u64);
            }
            if annotators.len() == 2 && sidecars[0].is_some() && sidecars[1].is_some() {
                out.two[3] += len as f64;
            }
            // The pair compared here, with nothing to match (as the full path records it).
            for i in 0..annotators.len() {
                for j in i + 1..annotators.len() {
                    if sidecars[i].is_some() && sidecars[j].is_some() {
                        out.pairs.entry((i, j)).or_default();
                    }
                }
            }
            continue;
        }
        // The part's spans of this dimension, per coder (empty for a coder without).
        let spans: Vec<&[&Span]> = by_part
            .iter()
            .map(|b| b.get(&part.id).map_or(&[][..], Vec::as_slice))
            .collect();
        let covered: Vec<Option<Vec<bool>>> = sidecars
            .iter()
            .zip(&spans)
            .map(|(s, own)| {
                s.map(|_| {
                    let mut c = vec![false; len];
                    for x in *own {
                        for flag in c.iter_mut().take(x.end.min(len)).skip(x.start) {
                            *flag = true;
                        }
                    }
                    c
                })
            })
            .collect();
        let present: Vec<&Vec<bool>> = covered.iter().flatten().collect();
        // Characters by how many coders marked them: a slot per count, not a map entry
        // per character.
        let mut hist = vec![0u64; m + 1];
        for i in 0..len {
            let ones = present.iter().filter(|c| c[i]).count();
            hist[ones] += 1;
            if annotators.len() == 2
                && let (Some(a), Some(b)) = (&covered[0], &covered[1])
            {
                let idx = match (a[i], b[i]) {
                    (true, true) => 0,
                    (true, false) => 1,
                    (false, true) => 2,
                    (false, false) => 3,
                };
                out.two[idx] += 1.0;
            }
        }
        for (ones, n) in hist.into_iter().enumerate().filter(|(_, n)| *n > 0) {
            out.counts.add(m, ones, n);
        }
        // Span matching per pair.
        for i in 0..annotators.len() {
            for j in i + 1..annotators.len() {
                if sidecars[i].is_none() || sidecars[j].is_none() {
                    continue;
                }
                let e = out.pairs.entry((i, j)).or_default();
                let (a, b) = (&spans[i], &spans[j]);
                e[0] += a.len();
                e[1] += b.len();
                e[2] += b
                    .iter()
                    .filter(|y| a.iter().any(|x| x.start == y.start && x.end == y.end))
                    .count();
                e[3] += a
                    .iter()
                    .filter(|x| b.iter().any(|y| x.start == y.start && x.end == y.end))
                    .count();
                e[4] += b
                    .iter()
                    .filter(|y| a.iter().any(|x| x.start < y.end && y.start < x.end))
                    .count();
                e[5] += a
                    .iter()
                    .filter(|x| b.iter().any(|y| x.start < y.end && y.start < x.end))
                    .count();
            }
        }
        out.disagreements.extend(span_disagreements(
            doc, part.id, &dim.id, annotators, sidecars, &spans,
        ));
    }
    out
}

/// A dimension's statistics from what every document added.
fn finish(
    dim: &crate::codebook::Dimension,
    span: bool,
    partial: Partial,
    annotators: &[String],
) -> Finished {
    let mut rows = Vec::new();
    let mut span_matching = Vec::new();
    if span {
        let (counts, two) = (&partial.counts, partial.two);
        rows.push(DimensionAgreement {
            dimension: dim.id.clone(),
            scope: "span characters".to_string(),
            value: None,
            units: counts.units(),
            percent_agreement: counts.percent_agreement(),
            cohen_kappa: if annotators.len() == 2 {
                stats::cohen_kappa_2x2(two[0], two[1], two[2], two[3])
            } else {
                None
            },
            fleiss_kappa: counts.fleiss(annotators.len()),
            krippendorff_alpha: counts.alpha(),
        });
        for ((i, j), e) in &partial.pairs {
            span_matching.push(SpanMatching {
                dimension: dim.id.clone(),
                a: annotators[*i].clone(),
                b: annotators[*j].clone(),
                spans: (e[0], e[1]),
                exact: prf(e[2], e[1], e[3], e[0]),
                overlap: prf(e[4], e[1], e[5], e[0]),
            });
        }
        return Finished {
            rows,
            overall: CodedRows::default(),
            disagreements: partial.disagreements,
            span_matching,
        };
    }
    let scope = if dim.applies_to == AppliesTo::Question {
        "question"
    } else {
        "answer"
    };
    match dim.kind {
        DimensionKind::OneChoice => {
            rows.push(dimension_row(
                &dim.id,
                scope,
                None,
                &partial.table.into_coded(),
                annotators.len(),
            ));
        }
        DimensionKind::SeveralChoices | DimensionKind::Entity => {
            // Every value's table has a row for every part: a value first met in a later
            // document still counts the parts before it, where the coders agreed it was absent.
            let mut values: BTreeSet<String> = dim.values.iter().map(|v| v.id.clone()).collect();
            values.extend(partial.values);
            for v in &values {
                rows.push(dimension_row(
                    &dim.id,
                    scope,
                    Some(v),
                    &presence_table(&partial.sets, v),
                    annotators.len(),
                ));
            }
        }
    }
    Finished {
        rows,
        overall: partial.overall,
        disagreements: partial.disagreements,
        span_matching,
    }
}

/// The table of whether each coder gave `value` on each part ("1" or "0"; missing where the coder
/// gave no value there).
fn presence_table(sets: &[Vec<Option<BTreeSet<String>>>], value: &str) -> Coded {
    let mut table = CodedRows::default();
    for row in sets {
        table.push_row(row.iter().map(|s| {
            s.as_ref()
                .map(|s| if s.contains(value) { "1" } else { "0" })
        }));
    }
    table.into_coded()
}

fn tag_disagreement(
    doc: &DocumentData,
    part: PartId,
    dim: &str,
    annotators: &[String],
    sidecars: &[Option<&Sidecar>],
) -> Disagreement {
    Disagreement {
        key: format!("{}#{part}#{dim}", doc.relative),
        document: doc.relative.clone(),
        part: part.to_string(),
        dimension: dim.to_string(),
        subject: Subject::Tag,
        versions: annotators
            .iter()
            .zip(sidecars)
            .filter_map(|(a, s)| Some((a.clone(), s.as_ref()?.part_values(part, dim).to_vec())))
            .collect(),
        spans: Vec::new(),
    }
}

/// Clusters of overlapping spans of one dimension in one part; a cluster where the annotators'
/// spans (range and value) are not all the same is a disagreement.
fn span_disagreements(
    doc: &DocumentData,
    part: PartId,
    dim: &str,
    annotators: &[String],
    sidecars: &[Option<&Sidecar>],
    spans: &[&[&Span]],
) -> Vec<Disagreement> {
    // `spans`: each coder's spans of `dim` in `part`, found once per document by the caller.
    let mut all: Vec<(usize, &Span)> = Vec::new();
    for (i, s) in sidecars.iter().enumerate() {
        if s.is_some() {
            all.extend(spans[i].iter().map(|x| (i, *x)));
        }
    }
    all.sort_by_key(|(_, x)| (x.start, x.end));
    let mut out = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let (start, mut end) = (all[i].1.start, all[i].1.end);
        let mut j = i + 1;
        while j < all.len() && all[j].1.start < end {
            end = end.max(all[j].1.end);
            j += 1;
        }
        let cluster = &all[i..j];
        let signature = |k: usize| -> BTreeSet<(usize, usize, &str)> {
            cluster
                .iter()
                .filter(|(c, _)| *c == k)
                .map(|(_, x)| (x.start, x.end, x.value.as_str()))
                .collect()
        };
        let present: Vec<usize> = (0..annotators.len())
            .filter(|k| sidecars[*k].is_some())
            .collect();
        let first = signature(present[0]);
        if present.iter().any(|&k| signature(k) != first) {
            out.push(Disagreement {
                key: format!("{}#{part}#{dim}#{start}-{end}", doc.relative),
                document: doc.relative.clone(),
                part: part.to_string(),
                dimension: dim.to_string(),
                subject: Subject::Span { start, end },
                versions: present
                    .iter()
                    .map(|&k| {
                        let texts = cluster
                            .iter()
                            .filter(|(c, _)| *c == k)
                            .map(|(_, x)| {
                                format!(
                                    "“{}” = {} ({}–{})",
                                    crate::sidecar::ellipsize(&x.quote, 50),
                                    x.value,
                                    x.start,
                                    x.end
                                )
                            })
                            .collect();
                        (annotators[k].clone(), texts)
                    })
                    .collect(),
                spans: present
                    .iter()
                    .map(|&k| {
                        (
                            annotators[k].clone(),
                            cluster
                                .iter()
                                .filter(|(c, _)| *c == k)
                                .map(|(_, x)| (*x).clone())
                                .collect(),
                        )
                    })
                    .collect(),
            });
        }
        i = j;
    }
    out
}

/// Why a reliability table could not be read from CSV (one line, the caller names the file).
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The header cannot be read.
    #[error("not CSV: {0}")]
    NotCsv(#[source] csv::Error),
    /// A required column is missing.
    #[error("no \"{0}\" column (columns: unit,coder,value)")]
    NoColumn(String),
    /// A record the CSV reader refuses.
    #[error("line {line}: {source}")]
    Line {
        /// The line, the header being 1.
        line: usize,
        /// The reader's error.
        #[source]
        source: csv::Error,
    },
    /// A record without unit or coder.
    #[error("line {0}: unit and coder must not be empty")]
    Empty(usize),
    /// A coder giving a unit two values.
    #[error("line {line}: coder \"{coder}\" has two values for unit \"{unit}\"")]
    TwoValues {
        /// The line of the second value.
        line: usize,
        /// The coder.
        coder: String,
        /// The unit.
        unit: String,
    },
}

/// Reads reliability data from CSV with columns `unit`, `coder` and `value` (any order, other columns
/// ignored, names compared case-insensitively); an empty value is a missing one. Returns the table
/// with its values numbered, units in the order they first appear, and the coders in the order they
/// first appear. One pass over the records with hashed lookups, so a million units cost seconds,
/// not hours.
pub fn coded_from_csv(bytes: &[u8]) -> Result<(Coded, Vec<String>), TableError> {
    if let Some(plain) = coded_from_plain_csv(bytes) {
        return Ok(plain);
    }
    coded_from_any_csv(bytes)
}

/// [`coded_from_csv`] of the usual file, read without copying a field: UTF-8 without a byte order
/// mark, no quotes, `\n` or `\r\n` line ends, no blank line, every record as wide as the header and
/// every unit and coder given once. `None` for anything else, which the CSV reader then reads (and
/// explains), so the two agree on every file.
fn coded_from_plain_csv(bytes: &[u8]) -> Option<(Coded, Vec<String>)> {
    if bytes.starts_with(b"\xef\xbb\xbf") || memchr::memchr(b'"', bytes).is_some() {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    let header_end = memchr::memchr(b'\n', text.as_bytes()).unwrap_or(text.len());
    let header_line = &text[..header_end];
    let header: Vec<String> = header_line
        .strip_suffix('\r')
        .unwrap_or(header_line)
        .split(',')
        .map(|h| h.trim().to_lowercase())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (u, c, v) = (col("unit")?, col("coder")?, col("value")?);
    let width = header.len();
    // Lists sized from the records before reading them, not grown by doubling. Two coders or
    // more per unit are the usual, so half the records is room enough for the runs of units.
    let estimate = memchr::memchr_iter(b'\n', bytes).count() + 1;
    // Each run of records of one unit is numbered as it comes, with its name's hash; runs of the
    // same name are found afterwards by sorting the hashes (see `units_of_runs`): a map of a
    // million units does not fit the cache, and inserting each unit into it cost several trips
    // to memory, which made the reading grow half as fast again as the table.
    let mut run_names: Vec<&str> = Vec::with_capacity(estimate / 2);
    let mut runs: Vec<(u64, u32)> = Vec::with_capacity(estimate / 2);
    let mut coders = Names::default();
    let mut values = Names::default();
    let mut cells: Vec<(u32, u32, u32)> = Vec::with_capacity(estimate);
    let mut last_unit: Option<(u64, &str, u32)> = None;
    // Records, each scanned once for its commas: splitting lines and then fields, and asking a
    // map for each record's coder and value, was most of the time of a 300,000-record table.
    if header_end < text.len() {
        let body = &text[header_end + 1..];
        let b = body.as_bytes();
        let mut start = 0;
        loop {
            let end = memchr::memchr(b'\n', &b[start..]).map_or(b.len(), |i| start + i);
            let line_end = if end > start && b[end - 1] == b'\r' {
                end - 1
            } else {
                end
            };
            if line_end == start {
                return None;
            }
            let mut fields: [&str; 3] = [""; 3];
            let mut n = 0;
            let mut from = start;
            for i in start..=line_end {
                if i < line_end {
                    match b[i] {
                        b',' => {}
                        b'\r' => return None,
                        _ => continue,
                    }
                }
                // Commas and line ends are ASCII: the slice is on char boundaries.
                let f = trimmed(&body[from..i]);
                if n == u {
                    fields[0] = f;
                } else if n == c {
                    fields[1] = f;
                } else if n == v {
                    fields[2] = f;
                }
                n += 1;
                from = i + 1;
            }
            let [unit, coder, value] = fields;
            if n != width || unit.is_empty() || coder.is_empty() {
                return None;
            }
            // Records usually come unit by unit: the unit of the record before is not looked
            // up again (a million units' map does not fit the cache, and its lookups made the
            // reading grow faster than the file).
            let key = short_key(unit);
            let ui = match last_unit {
                Some((k, name, i)) if k == key && (unit.len() < 8 || name == unit) => i,
                _ => {
                    let i = run_names.len() as u32;
                    runs.push((fx_hash(unit), i));
                    run_names.push(unit);
                    last_unit = Some((key, unit, i));
                    i
                }
            };
            let ci = coders.index(coder);
            let vi = if value.is_empty() {
                EMPTY
            } else {
                values.index(value)
            };
            cells.push((ui, ci, vi));
            if end == b.len() {
                break;
            }
            start = end + 1;
        }
    }
    let (unit_of_run, units) = units_of_runs(runs, &run_names);
    if let Some(unit_of_run) = unit_of_run {
        for cell in &mut cells {
            cell.0 = unit_of_run[cell.0 as usize];
        }
    }
    let coders = coders.owned();
    let table = place(&cells, coders.len(), &vec![""; units], &coders).ok()?;
    Some((Coded::new(coders.len(), values.owned(), table)?, coders))
}

/// The unit of each run of records (runs numbered in order, `runs` holding each one's name's
/// hash): runs of the same name are one unit, and units are numbered in the order first met.
/// `None` when every run is a unit of its own (the usual table, its records unit by unit), and the
/// number of units.
fn units_of_runs(mut runs: Vec<(u64, u32)>, names: &[&str]) -> (Option<Vec<u32>>, usize) {
    runs.sort_unstable();
    // The earliest run of each run's name.
    let mut first: Vec<u32> = Vec::new();
    for group in runs.chunk_by(|a, b| a.0 == b.0) {
        if group.len() < 2 {
            continue;
        }
        if first.is_empty() {
            first = (0..names.len() as u32).collect();
        }
        // Sorted by run within a hash: each name's earliest run comes first.
        for (j, &(_, run)) in group.iter().enumerate().skip(1) {
            let name = names[run as usize];
            let earlier = if names[group[0].1 as usize] == name {
                Some(group[0].1)
            } else {
                // Another name with the same hash: compared with the rest.
                group[1..j]
                    .iter()
                    .find(|&&(_, e)| names[e as usize] == name)
                    .map(|&(_, e)| first[e as usize])
            };
            if let Some(e) = earlier {
                first[run as usize] = e;
            }
        }
    }
    if first.iter().enumerate().all(|(r, &f)| r == f as usize) {
        return (None, names.len());
    }
    let mut unit = vec![0u32; names.len()];
    let mut units = 0u32;
    for (r, &f) in first.iter().enumerate() {
        unit[r] = if f as usize == r {
            units += 1;
            units - 1
        } else {
            unit[f as usize]
        };
    }
    (Some(unit), units as usize)
}

/// A name's first seven bytes and its length (255 from eight bytes on) in a word: two names
/// shorter than eight bytes are equal when their keys are, longer ones only if their keys are
/// (the comparison of short names was a call to `memcmp` for each record's unit, coder and value).
fn short_key(name: &str) -> u64 {
    let b = name.as_bytes();
    let mut key = [0u8; 8];
    for (k, &byte) in key.iter_mut().zip(b.iter().take(7)) {
        *k = byte;
    }
    key[7] = u8::try_from(b.len()).ok().filter(|&n| n < 8).unwrap_or(255);
    u64::from_le_bytes(key)
}

/// [`FxHasher`](crate::fasthash::FxHasher)'s hash of a name.
fn fx_hash(name: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = crate::fasthash::FxHasher::default();
    h.write(name.as_bytes());
    h.finish()
}

/// A field without the whitespace around it, as `str::trim` gives it; most fields have none,
/// which two bytes show.
fn trimmed(f: &str) -> &str {
    match (f.as_bytes().first(), f.as_bytes().last()) {
        (Some(a), Some(z)) if a.is_ascii_graphic() && z.is_ascii_graphic() => f,
        _ => f.trim(),
    }
}

/// Names numbered in the order met: coders and values, which are few, are found by comparing
/// them in turn (a map's hash of each record's coder and value cost more than the comparisons),
/// and through a map once there are many.
#[derive(Default)]
struct Names<'a> {
    list: Vec<&'a str>,
    /// Each name's [`short_key`].
    keys: Vec<u64>,
    map: crate::fasthash::FxHashMap<&'a str, u32>,
}

impl<'a> Names<'a> {
    /// Names up to which a search goes through the list.
    const FEW: usize = 16;

    fn index(&mut self, name: &'a str) -> u32 {
        let found = if self.list.len() <= Self::FEW {
            let key = short_key(name);
            self.keys
                .iter()
                .zip(&self.list)
                .position(|(&k, &n)| k == key && (name.len() < 8 || n == name))
                .map(|i| i as u32)
        } else {
            self.map.get(name).copied()
        };
        found.unwrap_or_else(|| {
            let i = self.list.len() as u32;
            self.list.push(name);
            self.keys.push(short_key(name));
            self.map.insert(name, i);
            i
        })
    }

    fn owned(&self) -> Vec<String> {
        self.list.iter().map(|n| (*n).to_string()).collect()
    }
}

/// [`coded_from_csv`] through the CSV reader: quotes, other line ends, and the errors.
fn coded_from_any_csv(bytes: &[u8]) -> Result<(Coded, Vec<String>), TableError> {
    use crate::fasthash::FxHashMap;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(TableError::NotCsv)?
        .iter()
        .map(|h| h.to_lowercase())
        .collect();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| TableError::NoColumn(name.to_string()))
    };
    let (u, c, v) = (col("unit")?, col("coder")?, col("value")?);
    let mut units: FxHashMap<Box<str>, u32> = FxHashMap::default();
    let mut coders: Vec<String> = Vec::new();
    let mut coder_index: FxHashMap<Box<str>, u32> = FxHashMap::default();
    let mut values: Vec<String> = Vec::new();
    let mut value_index: FxHashMap<Box<str>, u32> = FxHashMap::default();
    // (unit, coder, value) of each record, placed in the table once every coder is known.
    let mut cells: Vec<(u32, u32, u32)> = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut line = 0usize;
    fn intern(map: &mut FxHashMap<Box<str>, u32>, key: &str, mut new: impl FnMut() -> u32) -> u32 {
        if let Some(&i) = map.get(key) {
            return i;
        }
        let i = new();
        map.insert(key.into(), i);
        i
    }
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                // An earlier line's error is reported first, as reading line by line would.
                place(&cells, coders.len(), &names_of(&units), &coders)?;
                return Err(TableError::Line {
                    line: line + 2,
                    source: e,
                });
            }
        }
        let get = |i: usize| record.get(i).unwrap_or("");
        let (unit, coder, value) = (get(u), get(c), get(v));
        if unit.is_empty() || coder.is_empty() {
            place(&cells, coders.len(), &names_of(&units), &coders)?;
            return Err(TableError::Empty(line + 2));
        }
        let next_unit = units.len() as u32;
        let ui = intern(&mut units, unit, || next_unit);
        let ci = intern(&mut coder_index, coder, || {
            coders.push(coder.to_string());
            (coders.len() - 1) as u32
        });
        let vi = if value.is_empty() {
            EMPTY
        } else {
            intern(&mut value_index, value, || {
                values.push(value.to_string());
                (values.len() - 1) as u32
            })
        };
        cells.push((ui, ci, vi));
        line += 1;
    }
    let table = place(&cells, coders.len(), &names_of(&units), &coders)?;
    let coded = Coded::new(coders.len(), values, table).expect("codes index the values");
    Ok((coded, coders))
}

/// A value given as empty, told apart from a cell no record filled while checking for duplicates.
const EMPTY: u32 = stats::MISSING - 1;

/// Unit names by index.
fn names_of(units: &crate::fasthash::FxHashMap<Box<str>, u32>) -> Vec<&str> {
    let mut names: Vec<&str> = vec![""; units.len()];
    for (name, &i) in units {
        names[i as usize] = name;
    }
    names
}

/// The cells of the table, row by row, from (unit, coder, value) records; an error at the first
/// record that gives a coder a second value for a unit.
fn place(
    records: &[(u32, u32, u32)],
    coders: usize,
    units: &[&str],
    coder_names: &[String],
) -> Result<Vec<u32>, TableError> {
    const UNSET: u32 = stats::MISSING;
    let mut table = vec![UNSET; units.len() * coders];
    let mut filled = vec![false; units.len() * coders];
    for (line, &(u, c, v)) in records.iter().enumerate() {
        let at = u as usize * coders + c as usize;
        if filled[at] {
            return Err(TableError::TwoValues {
                line: line + 2,
                coder: coder_names[c as usize].clone(),
                unit: units[u as usize].to_string(),
            });
        }
        filled[at] = true;
        table[at] = if v == EMPTY { stats::MISSING } else { v };
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Selection;

    fn sample() -> AgreementReport {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
        let d = Dataset::load(&root, &Selection::default(), &|_, _| {}).unwrap();
        compute(&d, &["alice".to_string(), "bob".to_string()])
    }

    /// The report made a document at a time over the documents two of the annotators coded (the
    /// command line's and review mode's) is the one made over the corpus read whole, to the
    /// last disagreement: on the sample data and on a generated corpus of three annotators.
    #[test]
    fn the_streamed_report_is_the_whole_corpus_report() {
        let dir = tempfile::tempdir().unwrap();
        let generated = dir.path().join("corpus");
        crate::generate::generate(
            &generated,
            &crate::generate::GenerateOptions {
                docs: 60,
                annotators: vec!["ann".into(), "ben".into(), "cai".into()],
                coverage: 0.6,
                seed: 7,
            },
        )
        .unwrap();
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
        for (root, coders) in [
            (sample.as_path(), vec!["alice", "bob"]),
            (generated.as_path(), vec!["ann", "ben", "cai"]),
            (generated.as_path(), vec!["ben", "cai"]),
        ] {
            let coders: Vec<String> = coders.into_iter().map(String::from).collect();
            let selection = Selection {
                annotators: Some(coders.clone()),
                ..Selection::default()
            };
            let whole = compute(
                &Dataset::load(root, &selection, &|_, _| {}).unwrap(),
                &coders,
            );
            let mut stream = DatasetStream::open(root, &selection).unwrap();
            stream.keep_coded_by(2);
            let streamed = compute_stream(
                &stream,
                &Plan::new(&stream.codebook, &coders),
                &mut Vec::new(),
            );
            assert!(!whole.disagreements.is_empty(), "{coders:?}");
            assert_eq!(
                serde_json::to_string(&streamed).unwrap(),
                serde_json::to_string(&whole).unwrap(),
                "{coders:?}"
            );
        }
    }

    /// Counting the disagreements gives the report of listing them, but for the list.
    #[test]
    fn counting_disagreements_reports_the_same_numbers() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
        let d = Dataset::load(&root, &Selection::default(), &|_, _| {}).unwrap();
        let coders = ["alice".to_string(), "bob".to_string()];
        let listed = compute(&d, &coders);
        let plan = Plan::new(&d.codebook, &coders).counting_disagreements();
        let mut totals = plan.totals();
        for doc in &d.documents {
            if let Some(part) = plan.document(doc) {
                totals.add(part);
            }
        }
        let counted = plan.report(totals);
        assert!(!listed.disagreements.is_empty());
        assert_eq!(listed.disagreement_count, listed.disagreements.len());
        assert!(counted.disagreements.is_empty());
        assert_eq!(counted.disagreement_count, listed.disagreement_count);
        assert_eq!(
            serde_json::to_string(&counted.per_document).unwrap(),
            serde_json::to_string(&listed.per_document).unwrap()
        );
        assert_eq!(
            serde_json::to_string(&counted.dimensions).unwrap(),
            serde_json::to_string(&listed.dimensions).unwrap()
        );
    }

    #[test]
    fn sample_data_alice_and_bob() {
        let r = sample();
        assert_eq!(r.documents, 7, "alice and bob both coded seven pages");
        let tq = r
            .dimensions
            .iter()
            .find(|d| d.dimension == "tone_question")
            .unwrap();
        // tone_question: alice critical,hostile,critical,critical,critical,critical,hostile;
        // bob critical,hostile,critical,critical,neutral,hostile,hostile: 5 of 7 agree.
        assert_eq!(tq.units, 7);
        assert!((tq.percent_agreement.unwrap() - 5.0 / 7.0).abs() < 1e-9);
        assert!(tq.cohen_kappa.is_some() && tq.krippendorff_alpha.is_some());
        let fahy = r
            .disagreements
            .iter()
            .find(|d| {
                d.document == "prevent.txt"
                    && d.dimension == "authority_person"
                    && matches!(d.subject, Subject::Span { .. })
            })
            .expect("alice and bob marked Sir Peter Fahy differently");
        assert_eq!(fahy.versions.len(), 2);
        let spans = r
            .dimensions
            .iter()
            .find(|d| d.dimension == "authority_person" && d.scope == "span characters")
            .unwrap();
        assert!(spans.units > 1000);
        let m = r
            .span_matching
            .iter()
            .find(|m| m.dimension == "authority_person")
            .unwrap();
        assert!(m.overlap.f1.unwrap() > m.exact.f1.unwrap());
        assert_eq!(r.pairwise.len(), 1);
        // Part tags where both agree are not disagreements.
        assert!(
            !r.disagreements
                .iter()
                .any(|d| d.document == "fares-freeze.txt" && d.dimension == "tone_answer")
        );
    }

    /// A value of a several-choice dimension first met in a later document (a value the
    /// codebook lacks) still counts the earlier parts, where both coders left it out: its table
    /// has a row for every part, as a codebook value's has.
    #[test]
    fn a_value_met_late_counts_every_part() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
        let mut d = Dataset::load(&root, &Selection::default(), &|_, _| {}).unwrap();
        let coders = ["alice".to_string(), "bob".to_string()];
        let topic = d.codebook.dimension("topic").unwrap().clone();
        assert_eq!(topic.kind, DimensionKind::SeveralChoices);
        let kind = match topic.applies_to {
            AppliesTo::Question => PartKind::Question,
            _ => PartKind::Answer,
        };
        let part = PartId { exchange: 0, kind };
        let coded: Vec<usize> = (0..d.documents.len())
            .filter(|&i| {
                sidecars_of(&d.documents[i], &coders)
                    .iter()
                    .flatten()
                    .count()
                    == 2
            })
            .collect();
        assert!(coded.len() >= 3);
        let last = *coded.last().unwrap();
        for &i in &coded {
            for s in &mut d.documents[i].sidecars {
                let mut values = vec!["budget".to_string()];
                if i == last {
                    values.push("zz_met_late".to_string());
                }
                s.tags
                    .entry(part)
                    .or_default()
                    .insert("topic".into(), values);
            }
        }
        let r = compute(&d, &coders);
        let units = |value: &str| {
            r.dimensions
                .iter()
                .find(|x| x.dimension == "topic" && x.value.as_deref() == Some(value))
                .unwrap()
                .units
        };
        assert_eq!(units("budget"), coded.len() as u64);
        assert_eq!(units("zz_met_late"), units("budget"));
    }

    #[test]
    fn the_plain_reading_equals_the_csv_reader() {
        let plain: [&[u8]; 5] = [
            b"unit,coder,value\n1,a,x\n1,b,x\n2,a,y\n2,b,\n",
            b"Value, Unit ,coder,note\r\n x ,u1,a,n\r\ny,u1,b,\r\n,u2,a,z\r\n",
            b"unit,coder,value\nu\xc3\xa9,a,\xe2\x80\x9cx\n",
            b"unit,coder,value",
            b"unit,coder,value\n1,a,1\n2,b,2\n3,c,3\n1,c,2",
        ];
        for bytes in plain {
            assert_eq!(
                coded_from_plain_csv(bytes),
                Some(coded_from_any_csv(bytes).unwrap()),
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
        // Left to the CSV reader: quotes, blank lines, lone CR, a BOM, ragged rows, duplicates.
        let other: [&[u8]; 6] = [
            b"unit,coder,value\n\"1\",a,x\n",
            b"unit,coder,value\n1,a,x\n\n2,a,y\n",
            b"unit,coder,value\r1,a,x\r",
            b"\xef\xbb\xbfunit,coder,value\n1,a,x\n",
            b"unit,coder,value\n1,a\n",
            b"unit,coder,value\n1,a,x\n1,a,y\n",
        ];
        for bytes in other {
            assert_eq!(coded_from_plain_csv(bytes), None);
        }
        // Names that share their first seven bytes, or differ only in length; units met again
        // after others; more coders and values than are compared in turn; whitespace of every
        // kind around fields; CRLF.
        let long = "unit,coder,value\nabcdefgh1,c,x\nabcdefgh2,c,x\nabcdefg,c,y\nabcdefgh,c,y\nabcdefgh1,d,y\n";
        let spaces = "unit,coder,value\r\n\u{a0}u1\u{a0},\tc ,x\u{2003}\r\n u1,d,\u{85}x\r\n";
        let mut many = String::from("unit,coder,value\n");
        for u in 0..40 {
            for c in 0..20 {
                if (u + c) % 3 != 0 {
                    many.push_str(&format!("u{},coder-{c},v{}\n", u % 23, (u * 7 + c) % 31));
                }
            }
        }
        for text in [long, spaces, many.as_str()] {
            let bytes = text.as_bytes();
            assert_eq!(
                coded_from_plain_csv(bytes),
                coded_from_any_csv(bytes).ok(),
                "{text}"
            );
        }
        assert!(coded_from_plain_csv(long.as_bytes()).is_some());
        assert!(coded_from_plain_csv(spaces.as_bytes()).is_some());
        // `many` gives some coders two values for a unit met again: both readers refuse it.
        assert!(coded_from_any_csv(many.as_bytes()).is_err());
        let mut once = String::from("unit,coder,value\n");
        for u in 0..40 {
            for c in 0..20 {
                if (u + c) % 3 != 0 {
                    once.push_str(&format!("unit-name-{u},coder-{c},v{}\n", (u * 7 + c) % 31));
                }
            }
        }
        let plain = coded_from_plain_csv(once.as_bytes()).expect("a plain table");
        assert_eq!(plain.1.len(), 20);
        assert_eq!(Some(plain), coded_from_any_csv(once.as_bytes()).ok());
    }

    /// Runs of records are numbered as units as a map of names would number them, whatever
    /// their hashes: real ones, one hash for every name (all collide), or two hashes.
    #[test]
    fn runs_of_one_name_are_one_unit() {
        fn by_map(names: &[&str]) -> (Vec<u32>, usize) {
            let mut seen = std::collections::HashMap::new();
            let unit = names
                .iter()
                .map(|n| {
                    let next = seen.len() as u32;
                    *seen.entry(*n).or_insert(next)
                })
                .collect();
            (unit, seen.len())
        }
        let mut next = crate::testing::xorshift(7u64);
        let pool = [
            "a",
            "b",
            "abcdefgh1",
            "abcdefgh2",
            "abcdefg",
            "",
            "u1",
            "u10",
        ];
        for case in 0..200 {
            let len = next(12) as usize;
            let names: Vec<&str> = (0..len)
                .map(|_| pool[next(pool.len() as u64) as usize])
                .collect();
            let (expected, count) = by_map(&names);
            let hashes: [&dyn Fn(&str) -> u64; 3] =
                [&|n| fx_hash(n), &|_| 0, &|n| (n.len() % 2) as u64];
            for hash in hashes {
                let runs: Vec<(u64, u32)> = names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (hash(n), i as u32))
                    .collect();
                let (unit, units) = units_of_runs(runs, &names);
                let identity = expected.iter().enumerate().all(|(i, &u)| i == u as usize);
                assert_eq!(unit.is_none(), identity, "case {case}: {names:?}");
                let unit = unit.unwrap_or_else(|| (0..names.len() as u32).collect());
                assert_eq!(
                    (unit, units),
                    (expected.clone(), count),
                    "case {case}: {names:?}"
                );
            }
        }
    }

    #[test]
    fn csv_tables() {
        let (t, coders) = coded_from_csv(b"unit,coder,value\n1,a,x\n1,b,x\n2,a,y\n2,b,\n").unwrap();
        assert_eq!(coders, ["a", "b"]);
        assert_eq!(
            t,
            Coded::from_table(&vec![
                vec![Some("x".into()), Some("x".into())],
                vec![Some("y".into()), None]
            ])
        );
        // A coder first met after other units: earlier units have no value from them.
        let (t, coders) =
            coded_from_csv(b"unit,coder,value\n1,a,x\n2,a,y\n2,b,y\n2, c ,\n").unwrap();
        assert_eq!(coders, ["a", "b", "c"]);
        assert_eq!(
            t,
            Coded::from_table(&vec![
                vec![Some("x".into()), None, None],
                vec![Some("y".into()), Some("y".into()), None]
            ])
        );
        assert!(
            coded_from_csv(b"u,c\n1,2\n")
                .unwrap_err()
                .to_string()
                .contains("no \"unit\" column")
        );
        assert_eq!(
            coded_from_csv(b"unit,coder,value\n1,a,x\n2,a,\n2,a,\n3,a,z\n")
                .unwrap_err()
                .to_string(),
            "line 4: coder \"a\" has two values for unit \"2\""
        );
        // A duplicate is reported before a later line that is not CSV.
        assert!(
            coded_from_csv(b"unit,coder,value\n1,a,x\n1,a,y\n2,b\n")
                .unwrap_err()
                .to_string()
                .starts_with("line 3: coder")
        );
        assert!(
            coded_from_csv(b"unit,coder,value\n1,a,x\n,b,y\n")
                .unwrap_err()
                .to_string()
                .starts_with("line 3: unit and coder")
        );
    }
}
