//! Exports of the tagged dataset: CSV (one row per coding), a document-level CSV (one row per
//! document, annotator and exchange), JSON Lines, and REFI-QDA (`qdpx`, `qdc`, see [`crate::refi`]).
//! Exports read the corpus and never change it; the output is written atomically.

use std::collections::BTreeSet;
use std::path::Path;

use rayon::prelude::*;
use serde_json::{Value, json};

use crate::codebook::{AppliesTo, DimensionKind};
use crate::dataset::{Dataset, DocumentData};
use crate::fsutil::atomic_write;
use crate::sidecar::{PartLookup, Span};
use crate::transcript::{PartId, PartKind, Transcript};

/// The formats Marginalia writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    /// One row per coding.
    Csv,
    /// One row per document, annotator and exchange.
    DocumentsCsv,
    /// One JSON object per document.
    Jsonl,
    /// A REFI-QDA project.
    Qdpx,
    /// A REFI-QDA codebook.
    Qdc,
}

impl ExportFormat {
    /// All formats, in menu order.
    pub const ALL: [ExportFormat; 5] = [
        ExportFormat::Csv,
        ExportFormat::DocumentsCsv,
        ExportFormat::Jsonl,
        ExportFormat::Qdpx,
        ExportFormat::Qdc,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::DocumentsCsv => "documents-csv",
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Qdpx => "qdpx",
            ExportFormat::Qdc => "qdc",
        }
    }

    /// What the format is for, in a few words.
    pub fn description(self) -> &'static str {
        match self {
            ExportFormat::Csv => "CSV, one row per coding (R, pandas, spreadsheets)",
            ExportFormat::DocumentsCsv => "CSV, one row per document and annotator (code matrix)",
            ExportFormat::Jsonl => "JSON Lines, one document per line",
            ExportFormat::Qdpx => "REFI-QDA project (NVivo, ATLAS.ti, MAXQDA, QualCoder)",
            ExportFormat::Qdc => "REFI-QDA codebook only",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv | ExportFormat::DocumentsCsv => "csv",
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Qdpx => "qdpx",
            ExportFormat::Qdc => "qdc",
        }
    }

    /// Parses a command-line name.
    pub fn parse(name: &str) -> Option<ExportFormat> {
        ExportFormat::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Documents written.
    pub documents: usize,
    /// Codings written (part tag values and spans).
    pub annotations: usize,
    /// Things the user should know, one line each.
    pub warnings: Vec<String>,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The output exists and `force` was not given.
    #[error("{} exists; choose another name or overwrite it (--force)", .0.display())]
    Exists(std::path::PathBuf),
    /// Writing failed.
    #[error(transparent)]
    Write(#[from] crate::fsutil::WriteError),
    /// Building the output failed.
    #[error("cannot build the export: {0}")]
    Build(String),
}

/// Renders a dataset in a format.
pub fn render(
    dataset: &Dataset,
    format: ExportFormat,
    include_uncoded: bool,
) -> Result<(Vec<u8>, ExportSummary), ExportError> {
    let mut summary = ExportSummary {
        warnings: dataset.warnings.clone(),
        ..ExportSummary::default()
    };
    let bytes = match format {
        ExportFormat::Csv => codings_csv(dataset, &mut summary)?,
        ExportFormat::DocumentsCsv => documents_csv(dataset, &mut summary)?,
        ExportFormat::Jsonl => jsonl(dataset, include_uncoded, &mut summary),
        ExportFormat::Qdpx => crate::refi::qdpx(dataset, include_uncoded, &mut summary)?,
        ExportFormat::Qdc => crate::refi::qdc(&dataset.codebook).into_bytes(),
    };
    Ok((bytes, summary))
}

/// Writes export bytes atomically; an existing file is kept unless `force`.
pub fn write_output(path: &Path, bytes: &[u8], force: bool) -> Result<(), ExportError> {
    if path.exists() && !force {
        return Err(ExportError::Exists(path.to_path_buf()));
    }
    atomic_write(path, bytes)?;
    Ok(())
}

/// True when the span lies inside its part and the text there equals its quote. For many spans of
/// one transcript, [`PartLookup::placed`] does this without a pass over the text per span.
pub fn span_is_placed(t: &Transcript, span: &Span) -> bool {
    PartLookup::new(t).placed(span)
}

fn date(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

fn csv_error(e: impl std::fmt::Display) -> ExportError {
    ExportError::Build(e.to_string())
}

/// Documents rendered together on one core by the exports that render in parallel.
const DOCUMENTS_PER_PIECE: usize = 64;

/// Part of an export rendered on one core, put together in document order.
#[derive(Default)]
struct Piece {
    bytes: Vec<u8>,
    documents: usize,
    annotations: usize,
    warnings: Vec<String>,
}

/// Renders the documents in pieces on every core and joins the pieces in order after `head`, so
/// the output is the one a single thread would write.
fn in_pieces(
    dataset: &Dataset,
    head: Vec<u8>,
    summary: &mut ExportSummary,
    render: impl Fn(&DocumentData, &mut Piece) -> Result<(), ExportError> + Sync,
) -> Result<Vec<u8>, ExportError> {
    let pieces: Vec<Result<Piece, ExportError>> = dataset
        .documents
        .par_chunks(DOCUMENTS_PER_PIECE)
        .map(|chunk| {
            let mut piece = Piece::default();
            for doc in chunk {
                render(doc, &mut piece)?;
            }
            Ok(piece)
        })
        .collect();
    let mut out = head;
    let mut pieces_ok = Vec::with_capacity(pieces.len());
    for p in pieces {
        pieces_ok.push(p?);
    }
    out.reserve(pieces_ok.iter().map(|p| p.bytes.len()).sum());
    for p in pieces_ok {
        out.extend_from_slice(&p.bytes);
        summary.documents += p.documents;
        summary.annotations += p.annotations;
        summary.warnings.extend(p.warnings);
    }
    Ok(out)
}

fn codings_csv(dataset: &Dataset, summary: &mut ExportSummary) -> Result<Vec<u8>, ExportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "document",
        "title",
        "meeting_date",
        "reference",
        "question_by",
        "organisation",
        "asked_of",
        "answered_by",
        "annotator",
        "part",
        "dimension",
        "value",
        "start",
        "end",
        "quote",
        "note",
    ])
    .map_err(csv_error)?;
    let head = w.into_inner().map_err(csv_error)?;
    in_pieces(dataset, head, summary, |doc, piece| {
        if doc.sidecars.is_empty() {
            return Ok(());
        }
        piece.documents += 1;
        let mut w = csv::Writer::from_writer(std::mem::take(&mut piece.bytes));
        let m = &doc.transcript.meta;
        let meta = [
            doc.relative.clone(),
            m.title.clone(),
            date(m.meeting_date.or(m.session_date)),
            opt(&m.reference).to_string(),
            opt(&m.question_by).to_string(),
            opt(&m.organisation).to_string(),
            opt(&m.asked_of).to_string(),
            opt(&m.answered_by).to_string(),
        ];
        let mut lookup = PartLookup::new(&doc.transcript);
        for s in &doc.sidecars {
            for (part, dims) in &s.tags {
                for (dim, values) in dims {
                    for v in values {
                        let mut row = meta.to_vec();
                        row.extend([
                            s.annotator.id.clone(),
                            part.to_string(),
                            dim.clone(),
                            v.clone(),
                            String::new(),
                            String::new(),
                            String::new(),
                            String::new(),
                        ]);
                        w.write_record(&row).map_err(csv_error)?;
                        piece.annotations += 1;
                    }
                }
            }
            for span in &s.spans {
                if !lookup.placed(span) {
                    piece.warnings.push(format!(
                        "span {} of {} does not match the transcript's text; exported with its stored offsets and quote: {}",
                        span.id, s.annotator.id, doc.relative
                    ));
                }
                let mut row = meta.to_vec();
                row.extend([
                    s.annotator.id.clone(),
                    span.part.to_string(),
                    span.dimension.clone(),
                    span.value.clone(),
                    span.start.to_string(),
                    span.end.to_string(),
                    span.quote.clone(),
                    span.note.clone(),
                ]);
                w.write_record(&row).map_err(csv_error)?;
                piece.annotations += 1;
            }
        }
        piece.bytes = w.into_inner().map_err(csv_error)?;
        Ok(())
    })
}

fn documents_csv(dataset: &Dataset, summary: &mut ExportSummary) -> Result<Vec<u8>, ExportError> {
    let cb = &dataset.codebook;
    let one: Vec<&crate::codebook::Dimension> = cb
        .dimensions
        .iter()
        .filter(|d| d.applies_to != AppliesTo::Span && d.kind == DimensionKind::OneChoice)
        .collect();
    let several: Vec<(&str, &str)> = cb
        .dimensions
        .iter()
        .filter(|d| d.applies_to != AppliesTo::Span && d.kind == DimensionKind::SeveralChoices)
        .flat_map(|d| d.values.iter().map(move |v| (d.id.as_str(), v.id.as_str())))
        .collect();
    let entity_parts: Vec<&crate::codebook::Dimension> = cb
        .dimensions
        .iter()
        .filter(|d| d.applies_to != AppliesTo::Span && d.kind == DimensionKind::Entity)
        .collect();
    let span_dims: Vec<&str> = cb.span_dimensions().map(|d| d.id.as_str()).collect();

    let mut header: Vec<String> = [
        "document",
        "title",
        "meeting",
        "meeting_date",
        "session_date",
        "reference",
        "question_by",
        "organisation",
        "asked_of",
        "answered_by",
        "supplementary",
        "answer_status",
        "annotator",
        "status",
        "exchange",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(one.iter().map(|d| d.id.clone()));
    header.extend(several.iter().map(|(d, v)| format!("{d}:{v}")));
    header.extend(entity_parts.iter().map(|d| d.id.clone()));
    header.extend(span_dims.iter().map(|d| format!("spans:{d}")));
    header.push("memo".to_string());
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).map_err(csv_error)?;
    for doc in &dataset.documents {
        if doc.sidecars.is_empty() {
            continue;
        }
        summary.documents += 1;
        let t = &doc.transcript;
        let m = &t.meta;
        let exchanges = t.exchange_count().max(1);
        for s in &doc.sidecars {
            summary.annotations += s.coding_count();
            for exchange in 0..exchanges {
                let part_of = |applies: AppliesTo| PartId {
                    exchange,
                    kind: if applies == AppliesTo::Question {
                        PartKind::Question
                    } else {
                        PartKind::Answer
                    },
                };
                let mut row: Vec<String> = vec![
                    doc.relative.clone(),
                    m.title.clone(),
                    opt(&m.meeting).to_string(),
                    date(m.meeting_date),
                    date(m.session_date),
                    opt(&m.reference).to_string(),
                    opt(&m.question_by).to_string(),
                    opt(&m.organisation).to_string(),
                    opt(&m.asked_of).to_string(),
                    opt(&m.answered_by).to_string(),
                    m.supplementary.to_string(),
                    m.status.as_str().to_string(),
                    s.annotator.id.clone(),
                    s.status.as_str().to_string(),
                    (exchange + 1).to_string(),
                ];
                for d in &one {
                    row.push(s.part_values(part_of(d.applies_to), &d.id).join(";"));
                }
                for (d, v) in &several {
                    let applies = cb
                        .dimension(d)
                        .map_or(AppliesTo::Question, |x| x.applies_to);
                    let on = s.part_values(part_of(applies), d).iter().any(|x| x == v);
                    row.push(if on { "1" } else { "0" }.to_string());
                }
                for d in &entity_parts {
                    row.push(s.part_values(part_of(d.applies_to), &d.id).join(";"));
                }
                for d in &span_dims {
                    let n = s
                        .spans
                        .iter()
                        .filter(|x| x.dimension == *d && x.part.exchange == exchange)
                        .count();
                    row.push(n.to_string());
                }
                row.push(s.memo.clone());
                w.write_record(&row).map_err(csv_error)?;
            }
        }
    }
    w.into_inner().map_err(csv_error)
}

/// The JSON object of a document, as one line of the `jsonl` export.
pub fn document_json(doc: &DocumentData) -> Value {
    let t = &doc.transcript;
    let m = &t.meta;
    let annotations: Vec<Value> = doc
        .sidecars
        .iter()
        .map(|s| {
            let tags: serde_json::Map<String, Value> = s
                .tags
                .iter()
                .map(|(part, dims)| (part.to_string(), json!(dims)))
                .collect();
            let spans: Vec<Value> = s
                .spans
                .iter()
                .map(|x| {
                    json!({
                        "id": x.id, "part": x.part.to_string(), "start": x.start, "end": x.end,
                        "quote": x.quote, "dimension": x.dimension, "value": x.value, "note": x.note,
                    })
                })
                .collect();
            json!({
                "annotator": s.annotator.id, "annotator_name": s.annotator.name, "status": s.status.as_str(),
                "codebook": s.codebook, "modified": s.modified.to_rfc3339(),
                "tags": tags, "spans": spans, "memo": s.memo,
            })
        })
        .collect();
    let exchanges: Vec<Value> = t
        .parts
        .chunks(2)
        .filter(|c| c[0].id.kind == PartKind::Question)
        .map(|c| {
            json!({
                "question_by": c[0].speaker, "answered_by": c.get(1).and_then(|p| p.speaker.clone()),
                "question": c[0].text, "answer": c.get(1).map_or("", |p| p.text.as_str()),
            })
        })
        .collect();
    let text = t.part(PartId::TEXT).map(|p| p.text.as_str());
    json!({
        "document": doc.relative, "format": t.format.as_str(), "title": m.title,
        "meeting": m.meeting, "meeting_date": m.meeting_date.map(|d| d.to_string()),
        "session_date": m.session_date.map(|d| d.to_string()), "reference": m.reference,
        "question_by": m.question_by, "organisation": m.organisation, "asked_of": m.asked_of,
        "answered_by": m.answered_by, "supplementary": m.supplementary, "answer_status": m.status.as_str(),
        "question": t.question(), "answer": t.answer(), "text": text,
        "exchanges": exchanges, "hash": t.hash, "annotations": annotations,
    })
}

fn jsonl(dataset: &Dataset, include_uncoded: bool, summary: &mut ExportSummary) -> Vec<u8> {
    in_pieces(dataset, Vec::new(), summary, |doc, piece| {
        if doc.sidecars.is_empty() && !include_uncoded {
            return Ok(());
        }
        piece.documents += 1;
        piece.annotations += doc.sidecars.iter().map(|s| s.coding_count()).sum::<usize>();
        let line = document_json(doc);
        serde_json::to_writer(&mut piece.bytes, &line).expect("JSON values always serialize");
        piece.bytes.push(b'\n');
        Ok(())
    })
    .expect("rendering JSON lines never fails")
}

/// The annotators of a dataset's documents that are not known to the codebook, for warnings.
pub fn unknown_dimensions(dataset: &Dataset) -> BTreeSet<String> {
    dataset
        .documents
        .iter()
        .flat_map(|d| d.sidecars.iter())
        .flat_map(|s| {
            s.tags
                .values()
                .flat_map(|d| d.keys().cloned())
                .chain(s.spans.iter().map(|x| x.dimension.clone()))
                .collect::<Vec<_>>()
        })
        .filter(|d| dataset.codebook.dimension(d).is_none())
        .collect()
}
