//! Retrieval: every coding of a dimension, or of one of its values, across the corpus, with where
//! it is, who coded it, the document's metadata and the coded text in context.

use std::collections::HashMap;

use serde::Serialize;

use super::{AnalysisError, Scope, part_allowed, resolve_dimension, select, value_label};
use crate::dataset::Dataset;
use crate::search::fold;
use crate::transcript::{PartId, Transcript};

/// What to retrieve: a dimension, and optionally one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeQuery {
    /// The dimension id.
    pub dimension: String,
    /// The value ids (or entity values) that match, when one value was asked for: a label names
    /// the value with that label.
    pub value: Option<String>,
}

impl CodeQuery {
    /// Parses `DIM` or `DIM=VALUE`, each by id or label (case and accents ignored). An entity value
    /// matches spans whose value is the same ignoring case and accents.
    pub fn parse(spec: &str, dataset: &Dataset) -> Result<CodeQuery, AnalysisError> {
        let (dim, value) = match spec.split_once('=') {
            Some((d, v)) => (d.trim(), Some(v.trim())),
            None => (spec.trim(), None),
        };
        let dimension = resolve_dimension(dataset, dim)?;
        let Some(value) = value else {
            return Ok(CodeQuery {
                dimension,
                value: None,
            });
        };
        let wanted = fold(value);
        let def = dataset.codebook.dimension(&dimension);
        if let Some(v) = def.and_then(|d| {
            d.values
                .iter()
                .find(|v| fold(&v.id) == wanted || fold(&v.label) == wanted)
        }) {
            return Ok(CodeQuery {
                dimension,
                value: Some(v.id.clone()),
            });
        }
        let is_choice = def.is_some_and(|d| d.kind != crate::codebook::DimensionKind::Entity);
        let used = dataset.documents.iter().flat_map(|d| &d.sidecars).any(|s| {
            s.tags
                .values()
                .filter_map(|dims| dims.get(&dimension))
                .flatten()
                .any(|v| fold(v) == wanted)
                || s.spans
                    .iter()
                    .any(|x| x.dimension == dimension && fold(&x.value) == wanted)
        });
        if is_choice && !used {
            return Err(AnalysisError::UnknownValue {
                known: def
                    .map(|d| {
                        d.values
                            .iter()
                            .map(|v| v.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default(),
                dimension,
                value: value.to_string(),
            });
        }
        // An entity value, or a value only the sidecars know: matched as written, folded.
        Ok(CodeQuery {
            dimension,
            value: Some(value.to_string()),
        })
    }

    fn matches(&self, dimension: &str, value: &str) -> bool {
        dimension == self.dimension
            && self
                .value
                .as_ref()
                .is_none_or(|v| v == value || fold(v) == fold(value))
    }
}

/// One coding found: a part tag (no offsets, no quote) or a span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coding {
    /// The transcript, relative to the corpus folder.
    pub document: String,
    /// Its title ("" when it has none).
    pub title: String,
    /// Who coded.
    pub annotator: String,
    /// The part: `question`, `answer`, `text`, `answer.2` in the second exchange.
    pub part: String,
    /// The dimension id.
    pub dimension: String,
    /// The value id, or the entity for entity dimensions.
    pub value: String,
    /// The value's label in the codebook (the value itself when it has none).
    pub value_label: String,
    /// First char of a span in the part's normalized text; `None` for a part tag.
    pub start: Option<usize>,
    /// One past its last char; `None` for a part tag.
    pub end: Option<usize>,
    /// The span's text; `None` for a part tag.
    pub quote: Option<String>,
    /// The span's note; `None` for a part tag (which has none) or an empty note.
    pub note: Option<String>,
    /// False for a span whose stored offsets no longer hold its quote (the transcript changed and
    /// it was not placed again yet); its context is then empty.
    pub placed: bool,
    /// Meeting or session date, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Who asked (the exchange's questioner).
    pub member: Option<String>,
    /// The asker's party or organisation.
    pub party: Option<String>,
    /// Who the question was put to.
    pub office_holder: Option<String>,
    /// Who answered (the exchange's answerer).
    pub answered_by: Option<String>,
    /// For a span, the text around it on one line with the quote in brackets; for a part tag, the
    /// start of the part.
    pub context: String,
}

/// Chars of a part shown as the context of a part tag.
const OPENING_CHARS: usize = 120;
/// Chars each side of a span in its context.
const CONTEXT_CHARS: usize = 40;

/// Every coding matching the query, in document order, then annotator, part and position.
pub fn retrieve(
    dataset: &Dataset,
    query: &CodeQuery,
    scope: &Scope,
) -> Result<Vec<Coding>, AnalysisError> {
    let (selected, _) = select(dataset, scope)?;
    let mut out = Vec::new();
    for sel in &selected {
        let t = &sel.doc.transcript;
        // Each part's chars, collected once per document for all spans found in it.
        let mut chars: HashMap<PartId, Vec<char>> = HashMap::new();
        for s in &sel.sidecars {
            let mut found: Vec<(PartId, Option<usize>, Coding)> = Vec::new();
            for (part, dims) in &s.tags {
                if !part_allowed(*part, scope.part) {
                    continue;
                }
                for (dim, values) in dims {
                    for v in values.iter().filter(|v| query.matches(dim, v)) {
                        let mut c = base(dataset, sel.doc, &s.annotator.id, *part, dim, v);
                        c.context = opening(t, *part);
                        found.push((*part, None, c));
                    }
                }
            }
            for span in &s.spans {
                if !part_allowed(span.part, scope.part)
                    || !query.matches(&span.dimension, &span.value)
                {
                    continue;
                }
                let mut c = base(
                    dataset,
                    sel.doc,
                    &s.annotator.id,
                    span.part,
                    &span.dimension,
                    &span.value,
                );
                c.start = Some(span.start);
                c.end = Some(span.end);
                c.quote = Some(span.quote.clone());
                c.note = (!span.note.is_empty()).then(|| span.note.clone());
                let text = t.part(span.part).map(|p| {
                    chars
                        .entry(span.part)
                        .or_insert_with(|| p.text().chars().collect())
                        .as_slice()
                });
                c.placed = text.is_some_and(|text| {
                    span.start < span.end
                        && span.end <= text.len()
                        && text[span.start..span.end]
                            .iter()
                            .copied()
                            .eq(span.quote.chars())
                });
                if c.placed
                    && let Some(text) = text
                {
                    c.context = context(text, span.start, span.end);
                }
                found.push((span.part, Some(span.start), c));
            }
            found.sort_by(|a, b| {
                (a.0, a.1, &a.2.dimension, &a.2.value).cmp(&(b.0, b.1, &b.2.dimension, &b.2.value))
            });
            out.extend(found.into_iter().map(|(_, _, c)| c));
        }
    }
    Ok(out)
}

/// A coding with the document's fields filled and no position.
fn base(
    dataset: &Dataset,
    doc: &crate::dataset::DocumentData,
    annotator: &str,
    part: PartId,
    dimension: &str,
    value: &str,
) -> Coding {
    let t = &doc.transcript;
    let m = &t.meta;
    let speaker = |kind| {
        t.part(PartId {
            exchange: part.exchange,
            kind,
        })
        .and_then(|p| p.speaker().map(str::to_string))
    };
    Coding {
        document: doc.relative.clone(),
        title: m.title.clone(),
        annotator: annotator.to_string(),
        part: part.to_string(),
        dimension: dimension.to_string(),
        value: value.to_string(),
        value_label: value_label(&dataset.codebook, dimension, value),
        start: None,
        end: None,
        quote: None,
        note: None,
        placed: true,
        date: m
            .meeting_date
            .or(m.session_date)
            .map(|d| d.format("%Y-%m-%d").to_string()),
        member: speaker(crate::transcript::PartKind::Question).or_else(|| m.question_by.clone()),
        party: m.organisation.clone(),
        office_holder: m.asked_of.clone(),
        answered_by: speaker(crate::transcript::PartKind::Answer).or_else(|| m.answered_by.clone()),
        context: String::new(),
    }
}

/// One line: whitespace (line breaks, paragraph breaks) as single spaces.
fn one_line(chars: impl Iterator<Item = char>) -> String {
    chars
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect()
}

/// The text around `start..end` on one line, the quote in brackets, `…` where the part goes on.
fn context(text: &[char], start: usize, end: usize) -> String {
    let from = start.saturating_sub(CONTEXT_CHARS);
    let to = (end + CONTEXT_CHARS).min(text.len());
    format!(
        "{}{}[{}]{}{}",
        if from > 0 { "…" } else { "" },
        one_line(text[from..start].iter().copied()),
        one_line(text[start..end].iter().copied()),
        one_line(text[end..to].iter().copied()),
        if to < text.len() { "…" } else { "" }
    )
}

/// The start of a part on one line, for a tag on the whole part.
fn opening(t: &Transcript, part: PartId) -> String {
    let Some(p) = t.part(part) else {
        return String::new();
    };
    let mut chars = p.text().chars();
    let mut out = one_line(chars.by_ref().take(OPENING_CHARS));
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// Columns the retrieval list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodingSort {
    /// Document path, then annotator, part and position (the order found).
    Document,
    /// Date (undated last).
    Date,
    /// Who asked.
    Member,
    /// Party.
    Party,
    /// Office-holder asked.
    OfficeHolder,
    /// Annotator.
    Annotator,
    /// Value label.
    Value,
}

/// Sorts codings by a column; ties keep the order found (the sort is stable).
pub fn sort_codings(codings: &mut [Coding], key: CodingSort, descending: bool) {
    let text = |s: &Option<String>| s.as_deref().map(fold);
    match key {
        CodingSort::Document => codings.sort_by(|a, b| a.document.cmp(&b.document)),
        CodingSort::Date => {
            codings.sort_by(|a, b| (a.date.is_none(), &a.date).cmp(&(b.date.is_none(), &b.date)))
        }
        CodingSort::Member => codings.sort_by_cached_key(|c| (c.member.is_none(), text(&c.member))),
        CodingSort::Party => codings.sort_by_cached_key(|c| (c.party.is_none(), text(&c.party))),
        CodingSort::OfficeHolder => {
            codings.sort_by_cached_key(|c| (c.office_holder.is_none(), text(&c.office_holder)))
        }
        CodingSort::Annotator => codings.sort_by(|a, b| a.annotator.cmp(&b.annotator)),
        CodingSort::Value => codings.sort_by_cached_key(|c| fold(&c.value_label)),
    }
    if descending {
        codings.reverse();
    }
}

/// The codings as CSV, one per row, with the columns of the JSON output; for R, pandas or a
/// spreadsheet (cells starting `=`, `+`, `-` or `@` get a leading apostrophe, so a quote is never
/// run as a formula).
pub fn codings_csv(codings: &[Coding]) -> Vec<u8> {
    let cell = |s: &str| -> String {
        if s.starts_with(['=', '+', '-', '@']) {
            format!("'{s}")
        } else {
            s.to_string()
        }
    };
    let opt = |s: &Option<String>| cell(s.as_deref().unwrap_or(""));
    const IN_MEMORY: &str = "a CSV writer into a Vec cannot fail";
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "document",
        "title",
        "date",
        "member",
        "party",
        "office_holder",
        "answered_by",
        "annotator",
        "part",
        "dimension",
        "value",
        "value_label",
        "start",
        "end",
        "quote",
        "note",
        "context",
    ])
    .expect(IN_MEMORY);
    for c in codings {
        w.write_record([
            cell(&c.document),
            cell(&c.title),
            opt(&c.date),
            opt(&c.member),
            opt(&c.party),
            opt(&c.office_holder),
            opt(&c.answered_by),
            cell(&c.annotator),
            c.part.clone(),
            c.dimension.clone(),
            cell(&c.value),
            cell(&c.value_label),
            c.start.map(|x| x.to_string()).unwrap_or_default(),
            c.end.map(|x| x.to_string()).unwrap_or_default(),
            opt(&c.quote),
            opt(&c.note),
            cell(&c.context),
        ])
        .expect(IN_MEMORY);
    }
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codings_csv_has_a_row_per_coding_and_no_formula_cells() {
        let c = Coding {
            document: "a.txt".into(),
            title: "A".into(),
            annotator: "alice".into(),
            part: "answer".into(),
            dimension: "authority".into(),
            value: "=HYPERLINK(1)".into(),
            value_label: "x".into(),
            start: Some(3),
            end: Some(9),
            quote: Some("-5 per cent".into()),
            note: None,
            placed: true,
            date: Some("2015-03-25".into()),
            member: None,
            party: None,
            office_holder: None,
            answered_by: None,
            context: "ctx".into(),
        };
        let text = String::from_utf8(codings_csv(&[c.clone(), c])).unwrap();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][10], "'=HYPERLINK(1)");
        assert_eq!(&rows[0][14], "'-5 per cent");
        assert_eq!(&rows[0][12], "3");
    }

    use crate::analysis::sample_dataset as sample;

    #[test]
    fn values_by_label_and_entities_folded() {
        let d = sample();
        let q = CodeQuery::parse("Tone of answer=Evasive", &d).unwrap();
        assert_eq!(
            (q.dimension.as_str(), q.value.as_deref()),
            ("tone_answer", Some("evasive"))
        );
        let q = CodeQuery::parse("authority_person=sir peter fahy", &d).unwrap();
        let found = retrieve(&d, &q, &Scope::default()).unwrap();
        assert!(!found.is_empty());
        assert!(found.iter().all(|c| c.value == "Sir Peter Fahy"));
        assert!(matches!(
            CodeQuery::parse("tone_answer=grumpy", &d),
            Err(AnalysisError::UnknownValue { .. })
        ));
    }

    #[test]
    fn spans_carry_quote_and_context_part_tags_the_opening() {
        let d = sample();
        let q = CodeQuery::parse("authority_person", &d).unwrap();
        let found = retrieve(&d, &q, &Scope::default()).unwrap();
        let fahy = found
            .iter()
            .find(|c| c.document == "prevent.txt" && c.annotator == "bob")
            .unwrap();
        assert_eq!(
            fahy.quote.as_deref(),
            Some("Sir Peter Fahy, national police lead for Prevent")
        );
        assert!(
            fahy.context
                .contains("[Sir Peter Fahy, national police lead for Prevent]")
        );
        assert!(fahy.placed);
        assert_eq!(fahy.member.as_deref(), Some("Roger Evans"));
        assert_eq!(fahy.date.as_deref(), Some("2015-03-25"));
        let q = CodeQuery::parse("reply=non_reply", &d).unwrap();
        let found = retrieve(&d, &q, &Scope::default()).unwrap();
        let tag = found.iter().find(|c| c.document == "prevent.txt").unwrap();
        assert_eq!((tag.start, tag.end, tag.quote.as_ref()), (None, None, None));
        assert!(tag.context.starts_with("MPS and MOPAC recognise"));
        // Only questions: no answer tag comes back.
        let scope = Scope {
            part: Some(crate::transcript::PartKind::Question),
            ..Scope::default()
        };
        assert!(retrieve(&d, &q, &scope).unwrap().is_empty());
    }

    #[test]
    fn sorting_is_stable_and_reversible() {
        let d = sample();
        let q = CodeQuery::parse("tone_answer", &d).unwrap();
        let mut found = retrieve(&d, &q, &Scope::default()).unwrap();
        sort_codings(&mut found, CodingSort::Date, false);
        let dates: Vec<_> = found.iter().map(|c| c.date.clone()).collect();
        let mut sorted = dates.clone();
        sorted.sort_by(|a, b| (a.is_none(), a).cmp(&(b.is_none(), b)));
        assert_eq!(dates, sorted);
        sort_codings(&mut found, CodingSort::Member, true);
        let keys: Vec<_> = found
            .iter()
            .map(|c| (c.member.is_none(), c.member.as_deref().map(fold)))
            .collect();
        assert!(keys.windows(2).all(|w| w[0] >= w[1]));
    }
}
