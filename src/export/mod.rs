//! Exports of the tagged dataset: CSV (one row per coding), a document-level CSV (one row per
//! document, annotator and exchange), JSON Lines, and REFI-QDA (`qdpx`, `qdc`, see [`refi`]), and
//! Taguette's codebook CSV ([`taguette`]).
//! Exports read the corpus and never change it; the output is written atomically.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

mod pieces;
pub mod refi;
pub mod taguette;
mod zipout;

use crate::codebook::Codebook;
use crate::codebook::{AppliesTo, DimensionKind};
use crate::dataset::{CHUNK_DOCUMENTS, Dataset, DatasetStream, DocumentData};
use crate::fsutil::{StreamWriteError, atomic_write, atomic_write_with};
use crate::sidecar::Span;
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
    /// An Excel workbook of the codings, every cell a string or a number, never a formula.
    Xlsx,
    /// The codebook as Taguette's codebook CSV.
    CodebookCsv,
}

impl ExportFormat {
    /// All formats, in menu order.
    pub const ALL: [ExportFormat; 7] = [
        ExportFormat::Csv,
        ExportFormat::Xlsx,
        ExportFormat::DocumentsCsv,
        ExportFormat::Jsonl,
        ExportFormat::Qdpx,
        ExportFormat::Qdc,
        ExportFormat::CodebookCsv,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::DocumentsCsv => "documents-csv",
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Qdpx => "qdpx",
            ExportFormat::Qdc => "qdc",
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::CodebookCsv => "codebook-csv",
        }
    }

    /// What the format is for, in a few words.
    pub fn description(self) -> &'static str {
        match self {
            ExportFormat::Csv => "CSV, one row per coding, values as they are (R, pandas)",
            ExportFormat::Xlsx => {
                "Excel workbook, one row per coding (spreadsheets: no cell runs as a formula)"
            }
            ExportFormat::DocumentsCsv => "CSV, one row per document and annotator (code matrix)",
            ExportFormat::Jsonl => "JSON Lines, one document per line",
            ExportFormat::Qdpx => "REFI-QDA project (NVivo, ATLAS.ti, MAXQDA, QualCoder)",
            ExportFormat::Qdc => "REFI-QDA codebook only",
            ExportFormat::CodebookCsv => "Codebook as CSV for Taguette",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv | ExportFormat::DocumentsCsv | ExportFormat::CodebookCsv => "csv",
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Qdpx => "qdpx",
            ExportFormat::Qdc => "qdc",
            ExportFormat::Xlsx => "xlsx",
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
    /// Writing the output as it was built failed (a full disk).
    #[error("cannot write the export: {0}")]
    Output(#[source] std::io::Error),
    /// The output would replace or add a file of a corpus (a transcript, a sidecar, a codebook, a
    /// backup): exports never change a corpus, whatever `--force` says.
    #[error("{path} is named like a {kind}: an export never writes one; choose a name ending in .{ext}", path = .0.display(), kind = .1, ext = .2)]
    CorpusFile(std::path::PathBuf, &'static str, &'static str),
}

/// Renders a dataset in a format.
pub fn render(
    dataset: &Dataset,
    format: ExportFormat,
    include_uncoded: bool,
) -> Result<(Vec<u8>, ExportSummary), ExportError> {
    if streams(format) {
        let mut out = std::io::Cursor::new(Vec::new());
        let summary = write_documents(
            &mut out,
            &Documents::Loaded(dataset),
            format,
            include_uncoded,
        )?;
        return Ok((out.into_inner(), summary));
    }
    let mut summary = ExportSummary {
        warnings: dataset.warnings.clone(),
        ..ExportSummary::default()
    };
    for doc in &dataset.documents {
        summary.warnings.extend(doc_span_warnings(doc, format));
    }
    let bytes = match format {
        ExportFormat::Xlsx => {
            let table = codings_table(dataset, &mut summary);
            table_xlsx(&table, &mut summary)?
        }
        ExportFormat::DocumentsCsv => documents_csv(dataset, &mut summary)?,
        ExportFormat::Qdc => refi::qdc(&dataset.codebook).into_bytes(),
        ExportFormat::CodebookCsv => taguette::taguette_csv(&dataset.codebook)
            .map_err(|e| ExportError::Build(e.to_string()))?,
        ExportFormat::Csv | ExportFormat::Jsonl | ExportFormat::Qdpx => {
            unreachable!("streamed formats are written above")
        }
    };
    Ok((bytes, summary))
}

/// True for the formats written document by document as they are read ([`export_stream`]): the
/// others need the whole dataset at once (a workbook, a code matrix) or none of it.
fn streams(format: ExportFormat) -> bool {
    matches!(
        format,
        ExportFormat::Csv | ExportFormat::Jsonl | ExportFormat::Qdpx
    )
}

/// Exports the corpus of `stream` to `path` (atomically, as [`write_output`] does), reading it a
/// chunk of documents at a time for csv, jsonl and qdpx: their memory is bounded by the chunk,
/// not the corpus, and each chunk is written before the next is read. Other formats read the
/// whole dataset first. `progress` is told (documents read, documents in all) as they are read
/// (the app's export dialog shows it).
pub fn export_stream(
    stream: &mut DatasetStream,
    format: ExportFormat,
    include_uncoded: bool,
    path: &Path,
    force: bool,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<ExportSummary, ExportError> {
    if !streams(format) {
        let dataset = stream.collect(|_| true, progress);
        let (bytes, summary) = render(&dataset, format, include_uncoded)?;
        write_output(path, format, &bytes, force)?;
        return Ok(summary);
    }
    check_output_path(path, format)?;
    if path.exists() && !force {
        return Err(ExportError::Exists(path.to_path_buf()));
    }
    remove_stale_export_temps(path);
    // A qdpx writes each text file as its source: kept as it is read, not read again.
    stream.keep_sources(format == ExportFormat::Qdpx);
    let stream = &*stream;
    let mut summary = None;
    atomic_write_with(path, |file| {
        summary = Some(write_streamed(
            stream,
            format,
            include_uncoded,
            file,
            progress,
        )?);
        Ok(())
    })
    .map_err(|e| match e {
        StreamWriteError::Write(e) => ExportError::Write(e),
        StreamWriteError::Content(e) => e,
    })?;
    summary.ok_or_else(|| ExportError::Build("nothing was written".to_string()))
}

/// Writes the export of `stream` in `format` into `out` as it is read (standard output, for
/// `-o -`): no file is made, so nothing is replaced and nothing is synced.
pub fn export_stream_to(
    stream: &mut DatasetStream,
    format: ExportFormat,
    include_uncoded: bool,
    out: &mut dyn Write,
) -> Result<ExportSummary, ExportError> {
    if !streams(format) {
        let dataset = stream.collect(|_| true, &|_, _| {});
        let (bytes, summary) = render(&dataset, format, include_uncoded)?;
        out.write_all(&bytes).map_err(ExportError::Output)?;
        out.flush().map_err(ExportError::Output)?;
        return Ok(summary);
    }
    stream.keep_sources(format == ExportFormat::Qdpx);
    write_streamed(stream, format, include_uncoded, out, &|_, _| {})
}

/// Writes a streamed format of `stream` into `out` through one buffer, flushed at the end.
fn write_streamed(
    stream: &DatasetStream,
    format: ExportFormat,
    include_uncoded: bool,
    out: &mut dyn Write,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<ExportSummary, ExportError> {
    let mut buffered = std::io::BufWriter::with_capacity(1 << 20, out);
    let summary = write_documents(
        &mut buffered,
        &Documents::Stream(stream, progress),
        format,
        include_uncoded,
    )?;
    buffered.flush().map_err(ExportError::Output)?;
    Ok(summary)
}

/// Where an export reads its documents.
pub(crate) enum Documents<'a> {
    /// A dataset already read whole (the app's, which shows progress while it reads).
    Loaded(&'a Dataset),
    /// A corpus read as it is written, at most a chunk ahead (the command line's and the app's),
    /// and who is told the documents read.
    Stream(&'a DatasetStream, &'a (dyn Fn(usize, usize) + Sync)),
}

impl Documents<'_> {
    fn codebook(&self) -> &Codebook {
        match self {
            Documents::Loaded(d) => &d.codebook,
            Documents::Stream(s, _) => &s.codebook,
        }
    }

    fn root(&self) -> &Path {
        match self {
            Documents::Loaded(d) => &d.root,
            Documents::Stream(s, _) => &s.root,
        }
    }

    /// Maps every document on every core, at most a chunk ahead, and gives the results to `sink` in
    /// path order; the warnings of reading the files are appended to `warnings` in the same order
    /// (a loaded dataset's all at once, first).
    fn for_each<T: Send, E>(
        &self,
        map: impl Fn(&DocumentData) -> T + Sync,
        mut sink: impl FnMut(T) -> Result<(), E>,
        warnings: &mut Vec<String>,
    ) -> Result<(), E> {
        self.for_each_group(
            crate::dataset::FOR_EACH_GROUP,
            |docs| docs.iter().map(&map).collect::<Vec<T>>(),
            |results| results.into_iter().try_for_each(&mut sink),
            warnings,
        )
    }

    /// [`Documents::for_each`] by groups of up to `group` consecutive documents, each group mapped
    /// together on one core.
    fn for_each_group<T: Send, E>(
        &self,
        group: usize,
        map: impl Fn(&[DocumentData]) -> T + Sync,
        mut sink: impl FnMut(T) -> Result<(), E>,
        warnings: &mut Vec<String>,
    ) -> Result<(), E> {
        match self {
            Documents::Loaded(dataset) => {
                warnings.extend(dataset.warnings.iter().cloned());
                crate::ordered::map_groups_in_order(
                    &dataset.documents,
                    group,
                    CHUNK_DOCUMENTS,
                    map,
                    sink,
                )
            }
            Documents::Stream(stream, progress) => {
                warnings.extend(stream.skipped.iter().cloned());
                stream.for_each_group(
                    group,
                    |loaded| {
                        let mut read = Vec::new();
                        let mut docs = Vec::with_capacity(loaded.len());
                        for l in loaded {
                            read.extend(l.warnings);
                            docs.extend(l.document);
                        }
                        let result = map(&docs);
                        (read, result)
                    },
                    |(read, result)| {
                        warnings.extend(read);
                        sink(result)
                    },
                    *progress,
                )
            }
        }
    }
}

/// Writes a streamed format ([`streams`]) of `docs` into `out`. The summary's warnings come in
/// the order of an export of a dataset read whole: reading the files, then the spans, then the
/// format's own.
fn write_documents<W: Write>(
    out: &mut W,
    docs: &Documents<'_>,
    format: ExportFormat,
    include_uncoded: bool,
) -> Result<ExportSummary, ExportError> {
    let mut read = Vec::new();
    let mut spans = Vec::new();
    let mut summary = ExportSummary::default();
    match format {
        ExportFormat::Csv => codings_csv(out, docs, &mut read, &mut spans, &mut summary)?,
        ExportFormat::Jsonl => jsonl(
            out,
            docs,
            include_uncoded,
            &mut read,
            &mut spans,
            &mut summary,
        )?,
        ExportFormat::Qdpx => refi::qdpx(
            out,
            docs,
            include_uncoded,
            &mut read,
            &mut spans,
            &mut summary,
        )?,
        other => {
            return Err(ExportError::Build(format!(
                "{} is not written document by document",
                other.name()
            )));
        }
    }
    read.extend(spans);
    read.append(&mut summary.warnings);
    summary.warnings = read;
    Ok(summary)
}

/// Extensions of the files a corpus is made of besides transcripts: sidecars, codebooks and gold
/// sets (`ron`), the copies kept when a version is replaced (`bak`).
const CORPUS_EXTENSIONS: &[(&str, &str)] =
    &[("ron", "sidecar or codebook"), ("bak", "backup copy")];

/// Refuses an output path named like a file of a corpus: a transcript (any format Marginalia
/// reads), a sidecar, a codebook, a gold set or a backup. Such a name would replace a
/// researcher's file, or add one to the corpus; no export is ever written under it.
pub fn check_output_path(path: &Path, format: ExportFormat) -> Result<(), ExportError> {
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let kind = if crate::transcript::TRANSCRIPT_EXTENSIONS.contains(&extension.as_str())
        || extension == "xml"
    {
        Some("transcript")
    } else {
        CORPUS_EXTENSIONS
            .iter()
            .find(|(e, _)| *e == extension)
            .map(|(_, kind)| *kind)
    };
    match kind {
        Some(kind) => Err(ExportError::CorpusFile(
            path.to_path_buf(),
            kind,
            format.extension(),
        )),
        None => Ok(()),
    }
}

/// Refuses a codebook output that would replace a transcript, a sidecar of a transcript beside it
/// or a backup; `codebook.ron` itself is what the command is for.
pub fn check_codebook_output(path: &Path) -> Result<(), ExportError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some((transcript, _)) = crate::sidecar::parse_sidecar_name(&name)
        && path.with_file_name(transcript).exists()
    {
        return Err(ExportError::CorpusFile(
            path.to_path_buf(),
            "sidecar",
            "ron",
        ));
    }
    match check_output_path(path, ExportFormat::Qdc) {
        Err(ExportError::CorpusFile(_, "sidecar or codebook", _)) => Ok(()),
        Err(ExportError::CorpusFile(p, kind, _)) => Err(ExportError::CorpusFile(p, kind, "ron")),
        other => other,
    }
}

/// Writes export bytes atomically; an existing file is kept unless `force`, and a file of a corpus
/// never ([`check_output_path`]). Temporary files that killed exports left beside the output are
/// removed once old enough.
pub fn write_output(
    path: &Path,
    format: ExportFormat,
    bytes: &[u8],
    force: bool,
) -> Result<(), ExportError> {
    check_output_path(path, format)?;
    if path.exists() && !force {
        return Err(ExportError::Exists(path.to_path_buf()));
    }
    remove_stale_export_temps(path);
    atomic_write(path, bytes)?;
    Ok(())
}

/// Removes the abandoned temporary files of exports (`.<name>.<random>.tmp`, older than
/// [`crate::fsutil::STALE_TEMP_AGE`]) in the output's folder: an export killed half-way leaves one,
/// and outside a corpus nothing else tidies it. Only temporaries of export outputs are touched.
fn remove_stale_export_temps(output: &Path) {
    let dir = match output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(target) = name.to_str().and_then(crate::fsutil::temp_target) else {
            continue;
        };
        let is_export = Path::new(target)
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ExportFormat::ALL.iter().any(|f| f.extension() == e));
        if is_export {
            crate::fsutil::remove_if_stale(&entry.path());
        }
    }
}

/// Warnings every export gives about the spans of a document it carries, whatever the format: a
/// span whose offsets do not hold its quote (impossible offsets among them), and span ids used
/// twice in one sidecar. The REFI-QDA project leaves unplaced spans out and says so itself.
fn doc_span_warnings(doc: &DocumentData, format: ExportFormat) -> Vec<String> {
    let mut warnings = Vec::new();
    if matches!(format, ExportFormat::Qdc | ExportFormat::CodebookCsv) {
        return warnings;
    }
    // Each part indexed once for all its spans: walking a part to each span's start made a long
    // page's export cost its spans times its length.
    let mut lookup = crate::sidecar::PartLookup::new(&doc.transcript);
    for s in &doc.sidecars {
        let mut seen = std::collections::HashSet::new();
        for span in &s.spans {
            if !seen.insert(span.id.as_str()) {
                warnings.push(format!(
                    "span id {} is used twice by {}; both are exported: {}",
                    crate::sidecar::shorten(&span.id),
                    s.annotator.id,
                    doc.relative
                ));
            }
            if format != ExportFormat::Qdpx && !lookup.placed(span) {
                warnings.push(format!(
                    "span {} of {} does not match the transcript's text (offsets {}..{}); exported with its stored offsets and quote: {}",
                    crate::sidecar::shorten(&span.id),
                    s.annotator.id,
                    span.start,
                    span.end,
                    doc.relative
                ));
            }
        }
    }
    warnings
}

/// Says how many cells a spreadsheet would take for a formula (a first character `=`, `+`, `-`,
/// `@`, tab or carriage return): the CSV keeps values as they are, for R and pandas.
fn warn_formula_count(risky: usize, summary: &mut ExportSummary) {
    if risky > 0 {
        summary.warnings.push(format!(
            "{risky} cells begin with =, +, -, @, a tab or a carriage return: a spreadsheet may run them as formulas; the CSV keeps them as they are for R and pandas, open the xlsx export in a spreadsheet"
        ));
    }
}

/// True when the span lies inside its part and the text there equals its quote. For one span:
/// the spans of a whole transcript are checked with [`crate::sidecar::PartLookup::placed`], which
/// indexes each part once (this walks the part to the span's start).
pub fn span_is_placed(t: &Transcript, span: &Span) -> bool {
    let Some(part) = t.part(span.part) else {
        return false;
    };
    if span.start >= span.end {
        return false;
    }
    // Walked to the span's start once, compared in place: neither the quote's chars collected nor
    // the whole part counted for every span.
    let Some((byte, _)) = part.text().char_indices().nth(span.start) else {
        return false;
    };
    part.text()[byte..].starts_with(span.quote.as_str())
        && span.quote.chars().count() == span.end - span.start
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

/// A table of strings: a header and rows of the same width.
#[derive(Debug, Clone, Default)]
struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    /// Columns holding numbers (written as numbers in xlsx).
    numeric: Vec<usize>,
}

/// The columns of the codings CSV and xlsx.
const CODINGS_HEADER: [&str; 16] = [
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
];

/// The rows of one annotated document's codings: part tags, then spans.
fn document_rows(doc: &DocumentData, rows: &mut Vec<Vec<String>>) {
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
                    rows.push(row);
                }
            }
        }
        for span in &s.spans {
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
            rows.push(row);
        }
    }
}

/// True for a cell a spreadsheet would take for a formula.
fn formula_like(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// The codings CSV, each document's rows written on every core and joined in order (the same
/// bytes as writing [`codings_table`]'s rows with one writer, without the table held as strings).
fn codings_csv(
    out: &mut dyn Write,
    docs: &Documents<'_>,
    read: &mut Vec<String>,
    spans: &mut Vec<String>,
    summary: &mut ExportSummary,
) -> Result<(), ExportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CODINGS_HEADER).map_err(csv_error)?;
    out.write_all(&w.into_inner().map_err(csv_error)?)
        .map_err(ExportError::Output)?;
    let mut risky = 0;
    docs.for_each(
        |doc| {
            let warnings = doc_span_warnings(doc, ExportFormat::Csv);
            if doc.sidecars.is_empty() {
                return Ok((warnings, None));
            }
            Ok((warnings, Some(document_csv(doc)?)))
        },
        |result: Result<_, ExportError>| -> Result<(), ExportError> {
            let (warnings, rendered) = result?;
            spans.extend(warnings);
            if let Some((bytes, rows, r)) = rendered {
                out.write_all(&bytes).map_err(ExportError::Output)?;
                summary.documents += 1;
                summary.annotations += rows;
                risky += r;
            }
            Ok(())
        },
        read,
    )?;
    warn_formula_count(risky, summary);
    Ok(())
}

/// One annotated document's rows of the codings CSV (part tags, then spans, as
/// [`document_rows`]), written straight from the sidecars without a row of owned strings: the
/// bytes, the rows and the cells a spreadsheet would take for formulas.
fn document_csv(doc: &DocumentData) -> Result<(Vec<u8>, usize, usize), ExportError> {
    let m = &doc.transcript.meta;
    let meeting_date = date(m.meeting_date.or(m.session_date));
    let meta: [&str; 8] = [
        &doc.relative,
        &m.title,
        &meeting_date,
        opt(&m.reference),
        opt(&m.question_by),
        opt(&m.organisation),
        opt(&m.asked_of),
        opt(&m.answered_by),
    ];
    let meta_risky = meta.iter().filter(|c| formula_like(c)).count();
    let mut w = csv::Writer::from_writer(Vec::new());
    let (mut rows, mut risky) = (0, 0);
    let mut record = |cells: [&str; 8]| -> Result<(), ExportError> {
        rows += 1;
        risky += meta_risky + cells.iter().filter(|c| formula_like(c)).count();
        w.write_record(meta.iter().chain(cells.iter()))
            .map_err(csv_error)
    };
    for s in &doc.sidecars {
        for (part, dims) in &s.tags {
            let part = part.to_string();
            for (dim, values) in dims {
                for v in values {
                    record([&s.annotator.id, &part, dim, v, "", "", "", ""])?;
                }
            }
        }
        for span in &s.spans {
            let (part, start, end) = (
                span.part.to_string(),
                span.start.to_string(),
                span.end.to_string(),
            );
            record([
                &s.annotator.id,
                &part,
                &span.dimension,
                &span.value,
                &start,
                &end,
                &span.quote,
                &span.note,
            ])?;
        }
    }
    Ok((w.into_inner().map_err(csv_error)?, rows, risky))
}

/// One row per coding: part tags, then spans.
fn codings_table(dataset: &Dataset, summary: &mut ExportSummary) -> Table {
    let header = CODINGS_HEADER.to_vec();
    let mut rows = Vec::new();
    for doc in &dataset.documents {
        if doc.sidecars.is_empty() {
            continue;
        }
        summary.documents += 1;
        let before = rows.len();
        document_rows(doc, &mut rows);
        summary.annotations += rows.len() - before;
    }
    Table {
        header,
        rows,
        numeric: vec![12, 13],
    }
}

/// Most chars an Excel cell holds.
const XLSX_CELL_CHARS: usize = 32_767;

/// The table as an Excel workbook: text as string cells (a spreadsheet never evaluates them),
/// offsets as numbers, the header row frozen.
fn table_xlsx(table: &Table, summary: &mut ExportSummary) -> Result<Vec<u8>, ExportError> {
    use rust_xlsxwriter::{Format, Workbook};
    let xlsx_error = |e: rust_xlsxwriter::XlsxError| ExportError::Build(e.to_string());
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("codings").map_err(xlsx_error)?;
    let bold = Format::new().set_bold();
    for (c, name) in table.header.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *name, &bold)
            .map_err(xlsx_error)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let number = table
                .numeric
                .contains(&c)
                .then(|| cell.parse::<f64>().ok())
                .flatten();
            match number {
                Some(n) => sheet.write_number(r, c as u16, n).map_err(xlsx_error)?,
                None if cell.chars().count() > XLSX_CELL_CHARS => {
                    let cut: String = cell.chars().take(XLSX_CELL_CHARS).collect();
                    summary.warnings.push(format!(
                        "row {r}, column {}: {} chars cut to the {XLSX_CELL_CHARS} a spreadsheet cell holds (the CSV and JSONL keep them whole)",
                        table.header[c],
                        cell.chars().count()
                    ));
                    sheet.write_string(r, c as u16, cut).map_err(xlsx_error)?
                }
                None => sheet.write_string(r, c as u16, cell).map_err(xlsx_error)?,
            };
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    book.save_to_buffer().map_err(xlsx_error)
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

/// The JSON object of a document, one line of the `jsonl` export. Serialized straight from the
/// transcript and sidecars, without a `serde_json::Value` tree; the fields are declared in sorted
/// order, the order the earlier export (built from `json!` maps, which sort their keys) wrote, so
/// the lines are byte for byte the same.
#[derive(serde::Serialize)]
struct DocumentLine<'a> {
    annotations: Vec<AnnotationLine<'a>>,
    answer: &'a str,
    answer_status: &'a str,
    answered_by: &'a Option<String>,
    asked_of: &'a Option<String>,
    document: &'a str,
    exchanges: Vec<ExchangeLine<'a>>,
    format: &'a str,
    hash: &'a str,
    meeting: &'a Option<String>,
    meeting_date: Option<String>,
    organisation: &'a Option<String>,
    question: &'a str,
    question_by: &'a Option<String>,
    reference: &'a Option<String>,
    session_date: Option<String>,
    supplementary: bool,
    text: Option<&'a str>,
    title: &'a str,
}

/// One annotator's codings of a document in its JSON line (fields in sorted order).
#[derive(serde::Serialize)]
struct AnnotationLine<'a> {
    annotator: &'a str,
    annotator_name: &'a str,
    codebook: &'a str,
    memo: &'a str,
    modified: String,
    spans: Vec<SpanLine<'a>>,
    status: &'a str,
    /// Keyed by the part's name, sorted as strings (as the earlier map was).
    tags: BTreeMap<String, &'a BTreeMap<String, Vec<String>>>,
}

/// A span in a JSON line (fields in sorted order).
#[derive(serde::Serialize)]
struct SpanLine<'a> {
    dimension: &'a str,
    end: usize,
    id: &'a str,
    note: &'a str,
    part: String,
    quote: &'a str,
    start: usize,
    value: &'a str,
}

/// A question and its answer in a JSON line (fields in sorted order).
#[derive(serde::Serialize)]
struct ExchangeLine<'a> {
    answer: &'a str,
    answered_by: Option<&'a str>,
    question: &'a str,
    question_by: Option<&'a str>,
}

fn document_line(doc: &DocumentData) -> DocumentLine<'_> {
    let t = &doc.transcript;
    let m = &t.meta;
    let annotations = doc
        .sidecars
        .iter()
        .map(|s| AnnotationLine {
            annotator: &s.annotator.id,
            annotator_name: &s.annotator.name,
            codebook: &s.codebook,
            memo: &s.memo,
            modified: s.modified.to_rfc3339(),
            spans: s
                .spans
                .iter()
                .map(|x| SpanLine {
                    dimension: &x.dimension,
                    end: x.end,
                    id: &x.id,
                    note: &x.note,
                    part: x.part.to_string(),
                    quote: &x.quote,
                    start: x.start,
                    value: &x.value,
                })
                .collect(),
            status: s.status.as_str(),
            tags: s
                .tags
                .iter()
                .map(|(part, dims)| (part.to_string(), dims))
                .collect(),
        })
        .collect();
    let exchanges = t
        .parts
        .chunks(2)
        .filter(|c| c[0].id.kind == PartKind::Question)
        .map(|c| ExchangeLine {
            answer: c.get(1).map_or("", |p| p.text()),
            answered_by: c.get(1).and_then(|p| p.speaker()),
            question: c[0].text(),
            question_by: c[0].speaker(),
        })
        .collect();
    DocumentLine {
        annotations,
        answer: t.answer(),
        answer_status: m.status.as_str(),
        answered_by: &m.answered_by,
        asked_of: &m.asked_of,
        document: &doc.relative,
        exchanges,
        format: t.format.as_str(),
        hash: &t.hash,
        meeting: &m.meeting,
        meeting_date: m.meeting_date.map(|d| d.to_string()),
        organisation: &m.organisation,
        question: t.question(),
        question_by: &m.question_by,
        reference: &m.reference,
        session_date: m.session_date.map(|d| d.to_string()),
        supplementary: m.supplementary,
        text: t.part(PartId::TEXT).map(|p| p.text()),
        title: &m.title,
    }
}

/// The JSON Lines export: each document's line made on every core, written in order.
fn jsonl(
    out: &mut dyn Write,
    docs: &Documents<'_>,
    include_uncoded: bool,
    read: &mut Vec<String>,
    spans: &mut Vec<String>,
    summary: &mut ExportSummary,
) -> Result<(), ExportError> {
    docs.for_each(
        |doc| {
            let warnings = doc_span_warnings(doc, ExportFormat::Jsonl);
            if doc.sidecars.is_empty() && !include_uncoded {
                return Ok((warnings, None));
            }
            let mut line = Vec::new();
            serde_json::to_writer(&mut line, &document_line(doc))
                .map_err(|e| ExportError::Build(e.to_string()))?;
            line.push(b'\n');
            let codings = doc.sidecars.iter().map(|s| s.coding_count()).sum::<usize>();
            Ok((warnings, Some((line, codings))))
        },
        |result: Result<_, ExportError>| -> Result<(), ExportError> {
            let (warnings, rendered) = result?;
            spans.extend(warnings);
            if let Some((line, codings)) = rendered {
                out.write_all(&line).map_err(ExportError::Output)?;
                summary.documents += 1;
                summary.annotations += codings;
            }
            Ok(())
        },
        read,
    )
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
