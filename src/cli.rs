//! The command line: `marginalia [PATH]` starts the app; subcommands work headless.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use serde::Serialize;

use crate::corpus;

mod analysis;
use crate::dataset::{DatasetStream, Selection};
use crate::export::{ExportFormat, export_stream};
use crate::transcript::{Format, PartKind, Transcript};

/// Annotate question-and-answer transcripts.
#[derive(Debug, Parser)]
#[command(
    name = "marginalia",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// A transcript file or a folder to open in the app (default: the one open last; on a first
    /// start, a welcome screen offers the sample corpus).
    pub path: Option<PathBuf>,
    /// What to do without the app.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Headless subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the fields Marginalia reads from a transcript.
    Inspect {
        /// The transcript file.
        file: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// List the speakers of a hearing, interview or subtitles with who asks and who answers,
        /// and whether each role was guessed or set.
        #[arg(long)]
        roles: bool,
        /// Read the exchanges as this annotator's sidecar has them (the roles they set).
        #[arg(long)]
        annotator: Option<String>,
        /// Set a speaker's role in the annotator's sidecar: `NAME=asks`, `NAME=answers` or
        /// `NAME=guess` (back to the reader's guess); tags and spans follow their words.
        #[arg(long, value_name = "NAME=ROLE", requires = "annotator")]
        set_role: Option<String>,
        /// With --set-role: apply even when some tags or spans cannot follow (they are listed).
        #[arg(long, requires = "set_role")]
        force: bool,
    },
    /// Check every transcript, sidecar and codebook in a folder; exit status 1 on errors.
    Validate {
        /// The folder.
        dir: PathBuf,
    },
    /// Export the tagged dataset: csv, xlsx, documents-csv, jsonl, qdpx (REFI-QDA project), qdc or
    /// codebook-csv (Taguette).
    Export {
        /// The corpus folder.
        dir: PathBuf,
        /// csv, xlsx, documents-csv, jsonl, qdpx, qdc or codebook-csv.
        #[arg(long, value_parser = parse_format)]
        format: ExportFormat,
        /// The file to write; `-` writes to standard output.
        #[arg(short, long)]
        output: PathBuf,
        /// Only these annotators (comma-separated ids).
        #[arg(long, value_delimiter = ',')]
        annotators: Option<Vec<String>>,
        /// Only sidecars with this status (`done`).
        #[arg(long, value_parser = ["done"])]
        status: Option<String>,
        /// Overwrite the output if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Full-text search: one hit per line (file, part, char offset, context).
    Search {
        /// The corpus folder.
        dir: PathBuf,
        /// Words (all required) and "quoted phrases"; case and accents are ignored.
        query: String,
        /// Where to search: both, question or answer.
        #[arg(long, default_value = "both", value_parser = ["both", "question", "answer"])]
        scope: String,
        /// Print one JSON object per hit.
        #[arg(long)]
        json: bool,
        /// Most hits printed.
        #[arg(long, default_value_t = 10_000)]
        limit: usize,
    },
    /// Inter-coder agreement per dimension (or on a unit,coder,value table with --table).
    Agreement {
        /// The corpus folder.
        #[arg(required_unless_present = "table", conflicts_with = "table")]
        dir: Option<PathBuf>,
        /// Reliability data from anywhere: CSV with columns unit,coder,value (empty value: missing).
        #[arg(long)]
        table: Option<PathBuf>,
        /// Level of measurement for alpha with --table: nominal, ordinal, interval or ratio.
        #[arg(long, default_value = "nominal", value_parser = ["nominal", "ordinal", "interval", "ratio"], requires = "table")]
        level: String,
        /// Only these annotators (comma-separated; default: all found).
        #[arg(long, value_delimiter = ',', conflicts_with = "table")]
        annotators: Option<Vec<String>>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Every coding of a dimension or value across the corpus: one per line (document, annotator,
    /// part, dimension, value, start, end, quote, note, date, member, party, office-holder, context).
    Retrieve {
        /// The corpus folder.
        dir: PathBuf,
        /// DIM or DIM=VALUE, by id or label, e.g. `tone_answer=evasive`, `authority_person="Sir Peter Fahy"`.
        #[arg(long)]
        code: String,
        /// Only these annotators (comma-separated ids; `gold` for the reconciled set). Default: every
        /// annotator except reconciled sets.
        #[arg(long, value_delimiter = ',')]
        annotators: Option<Vec<String>>,
        /// Only codings on questions, answers or (plain) text.
        #[arg(long, value_parser = analysis::parse_part)]
        part: Option<PartKind>,
        /// Print one JSON object per line.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        filter: analysis::FilterArgs,
    },
    /// Cross-tabulate two of: question_by, organisation, asked_of, answered_by, year, meeting,
    /// status, or a dimension; counts, shares with 95% intervals, chi-square, Cramér's V.
    Crosstab {
        /// The corpus folder.
        dir: PathBuf,
        /// The rows: a metadata field or a dimension (id or label).
        #[arg(long)]
        rows: String,
        /// The columns: a metadata field or a dimension (id or label).
        #[arg(long)]
        cols: String,
        /// Only these annotators (comma-separated ids; `gold` for the reconciled set). Default: every
        /// annotator except reconciled sets, each counting.
        #[arg(long, value_delimiter = ',')]
        annotators: Option<Vec<String>>,
        /// Only codings on questions, answers or (plain) text.
        #[arg(long, value_parser = analysis::parse_part)]
        part: Option<PartKind>,
        /// Print one JSON object.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print the counts as CSV.
        #[arg(long)]
        csv: bool,
        #[command(flatten)]
        filter: analysis::FilterArgs,
    },
    /// Code frequencies per dimension and value (with 95% intervals), or with --cooccurrence the
    /// codes found together within a part.
    Codes {
        /// The corpus folder.
        dir: PathBuf,
        /// Only these annotators (comma-separated ids; `gold` for the reconciled set).
        #[arg(long, value_delimiter = ',')]
        annotators: Option<Vec<String>>,
        /// Only codings on questions, answers or (plain) text.
        #[arg(long, value_parser = analysis::parse_part)]
        part: Option<PartKind>,
        /// List pairs of codes found together in a part instead of frequencies.
        #[arg(long)]
        cooccurrence: bool,
        /// Only these dimensions (comma-separated ids or labels).
        #[arg(long, value_delimiter = ',')]
        dimensions: Option<Vec<String>>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        filter: analysis::FilterArgs,
    },
    /// Write a realistic generated corpus (GLA pages and sidecars) for benchmarks and tests.
    GenerateCorpus {
        /// The folder to write into.
        out: PathBuf,
        /// Number of pages.
        #[arg(long, default_value_t = 1000)]
        docs: usize,
        /// Annotator ids (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "ann,ben,cai")]
        annotators: Vec<String>,
        /// Share of pages annotated (0 to 1).
        #[arg(long, default_value_t = 0.3)]
        coverage: f64,
        /// Seed; the same seed gives the same corpus.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Edit, journal and save one sidecar again and again as the app's autosave does, until killed
    /// or `--rounds` are done: the child process `tests/kill_loop.rs` kills mid-save. Hidden from
    /// help; a test of the real save path needs a real process to kill.
    #[command(hide = true)]
    SaveLoop {
        /// The transcript whose sidecar is saved.
        file: PathBuf,
        /// The annotator id.
        #[arg(long, default_value = "ann")]
        annotator: String,
        /// The journal folder.
        #[arg(long)]
        journal: PathBuf,
        /// Size of the memo written each round, in bytes (most of a save's time goes into writing
        /// it, which is where a kill could tear the file).
        #[arg(long, default_value_t = 400_000)]
        memo_bytes: usize,
        /// Stop after this many rounds instead of running until killed.
        #[arg(long)]
        rounds: Option<u64>,
    },
    /// Place spans again in every sidecar whose transcript's text changed, as opening each in the app
    /// does: moved spans flagged for a look, orphans kept and listed; each sidecar written atomically.
    Reanchor {
        /// The corpus folder.
        dir: PathBuf,
        /// Only these annotators (comma-separated ids).
        #[arg(long, value_delimiter = ',')]
        annotators: Option<Vec<String>>,
        /// Say what would change without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Make a Marginalia codebook.ron from a REFI-QDA codebook (.qdc), the codebook of a REFI-QDA
    /// project (.qdpx) or a Taguette codebook (.csv).
    ImportCodebook {
        /// The .qdc, .qdpx or .csv file.
        file: PathBuf,
        /// Where to write (default: codebook.ron in the current folder).
        #[arg(short, long, default_value = "codebook.ron")]
        output: PathBuf,
        /// CSV with columns dimension,value,dimension_id,value_id: give imported codes the ids
        /// existing sidecars use.
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// Overwrite the output if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Make a Marginalia folder from a REFI-QDA project (.qdpx from NVivo, ATLAS.ti, MAXQDA,
    /// QualCoder or Marginalia): transcripts, codebook.ron, one sidecar per coder, and a report of
    /// what could not be mapped (import-report.md).
    ImportProject {
        /// The .qdpx file.
        file: PathBuf,
        /// The folder to create (new or empty).
        out_dir: PathBuf,
    },
}

fn parse_format(s: &str) -> Result<ExportFormat, String> {
    ExportFormat::parse(s).ok_or_else(|| {
        let names: Vec<&str> = ExportFormat::ALL.iter().map(|f| f.name()).collect();
        format!("unknown format \"{s}\"; use one of {}", names.join(", "))
    })
}

/// The sample folder of the source checkout, when the app was started by `cargo run` (cargo sets
/// `CARGO_MANIFEST_DIR` for the program it runs). Read at run time, never at build time, so an
/// installed binary holds no path of the machine it was built on.
pub fn checkout_sample() -> Option<PathBuf> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")?;
    let sample = Path::new(&dir).join("sample_data");
    sample.is_dir().then_some(sample)
}

/// Runs a headless subcommand; returns the process exit status.
#[expect(
    clippy::too_many_lines,
    reason = "one arm per subcommand, each short; the match is the list of commands"
)]
pub fn run(command: Command) -> Result<i32> {
    match command {
        Command::Inspect {
            file,
            json,
            roles,
            annotator,
            set_role,
            force,
        } => {
            if let Some(hint) = crate::interop::refi_file_hint(&file) {
                anyhow::bail!("{}: {hint}", file.display());
            }
            let mut transcript = Transcript::load(&file)?;
            if let Some(id) = &annotator {
                crate::sidecar::check_annotator_id(id)?;
                let path = crate::sidecar::sidecar_path(&file, id);
                if let Some(assignment) = &set_role {
                    set_speaker_role(&file, id, assignment, force)?;
                }
                if path.exists() {
                    let sidecar = crate::sidecar::Sidecar::load(&path)?.sidecar;
                    transcript.set_roles(&sidecar.roles);
                }
            }
            if roles {
                let mut out = std::io::stdout().lock();
                let speakers = transcript.speaker_roles();
                if speakers.is_empty() {
                    writeln!(
                        out,
                        "{}: not a transcript of speaker turns ({}): no roles to set",
                        file.display(),
                        transcript.format.as_str()
                    )?;
                }
                for s in speakers {
                    let how = match (s.set, annotator.as_deref()) {
                        (true, Some(id)) if s.role != s.guessed => {
                            format!("set by {id} (guessed: {})", s.guessed.as_str())
                        }
                        (true, Some(id)) => format!("set by {id}"),
                        _ => "guessed".to_string(),
                    };
                    writeln!(out, "{}\t{}\t{how}", s.speaker, s.role.as_str())?;
                }
                return Ok(0);
            }
            // Buffered: stdout flushes at every line, a write call per line of a long transcript.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            if json {
                serde_json::to_writer_pretty(&mut out, &InspectJson::from(&transcript))?;
                writeln!(out)?;
            } else {
                write_readable(&mut out, &transcript)?;
            }
            out.flush()?;
            Ok(0)
        }
        Command::Validate { dir } => {
            let report = corpus::validate(&dir)
                .with_context(|| format!("cannot read folder {}", dir.display()))?;
            let out = std::io::stdout();
            let mut out = out.lock();
            for f in &report.findings {
                writeln!(out, "{f}")?;
            }
            let errors = report.errors();
            let warnings = report.findings.len() - errors;
            writeln!(
                out,
                "{} transcripts, {} sidecars: {errors} errors, {warnings} warnings",
                report.transcripts, report.sidecars
            )?;
            Ok(if errors > 0 { 1 } else { 0 })
        }
        Command::Export {
            dir,
            format,
            output,
            annotators,
            status,
            force,
        } => {
            let to_stdout = output.as_os_str() == "-";
            if to_stdout {
                use std::io::IsTerminal as _;
                if matches!(format, ExportFormat::Qdpx | ExportFormat::Xlsx)
                    && std::io::stdout().is_terminal()
                {
                    anyhow::bail!(
                        "{} is a binary file: not written to a terminal; redirect it (-o - > FILE.{}) or give a file name",
                        format.name(),
                        format.extension()
                    );
                }
            } else {
                crate::export::check_output_path(&output, format)?;
                refuse_overwrite(&output, force)?;
            }
            let selection = Selection {
                annotators,
                only_done: status.is_some(),
                only_paths: None,
            };
            // Read a chunk of documents at a time and written as it is read: an export of
            // 100,000 pages holds a chunk in memory, not the corpus.
            let mut stream = DatasetStream::open(&dir, &selection)?;
            let summary = if to_stdout {
                crate::export::export_stream_to(
                    &mut stream,
                    format,
                    selection.takes_everything(),
                    &mut std::io::stdout().lock(),
                )?
            } else {
                export_stream(
                    &mut stream,
                    format,
                    selection.takes_everything(),
                    &output,
                    force,
                    &|_, _| {},
                )?
            };
            for w in &summary.warnings {
                eprintln!("warning: {w}");
            }
            let said = format!(
                "wrote {}: {} documents, {} annotations, {} warnings",
                if to_stdout {
                    "standard output".into()
                } else {
                    output.display().to_string()
                },
                summary.documents,
                summary.annotations,
                summary.warnings.len()
            );
            // When standard output holds the export, what was written is said on standard error.
            if to_stdout {
                eprintln!("{said}");
            } else {
                println!("{said}");
            }
            Ok(0)
        }
        Command::Reanchor {
            dir,
            annotators,
            dry_run,
        } => reanchor(&dir, annotators.as_deref(), dry_run),
        Command::Search {
            dir,
            query,
            scope,
            json,
            limit,
        } => {
            let index = crate::corpus::CorpusIndex::load(&dir, "")
                .with_context(|| format!("cannot read folder {}", dir.display()))?;
            let scope = crate::search::Scope::parse(&scope).unwrap_or_default();
            let hits = index.search.search(&query, scope, limit);
            let out = std::io::stdout();
            let mut out = out.lock();
            let mut texts: std::collections::HashMap<usize, Transcript> =
                std::collections::HashMap::new();
            // Each part walked once for its hits' contexts: a context found by walking its part
            // from the start made a part with k hits cost k times its length.
            let mut contexts: std::collections::HashMap<
                (usize, crate::transcript::PartId),
                crate::search::Contexts,
            > = std::collections::HashMap::new();
            for h in &hits {
                let entry = &index.entries[h.doc];
                if let std::collections::hash_map::Entry::Vacant(v) = texts.entry(h.doc) {
                    v.insert(Transcript::load(&entry.path)?);
                }
                let text = texts[&h.doc].part(h.part).map_or("", |p| p.text());
                let context = contexts
                    .entry((h.doc, h.part))
                    .or_default()
                    .of(text, h.start, h.end);
                let file = crate::dataset::relative_path(&dir, &entry.path);
                if json {
                    let v = serde_json::json!({"file": file, "part": h.part.to_string(), "start": h.start, "end": h.end, "context": context});
                    writeln!(out, "{v}")?;
                } else {
                    writeln!(out, "{file}\t{}\t{}\t{context}", h.part, h.start)?;
                }
            }
            if !json {
                eprintln!("{} hits", hits.len());
            }
            Ok(0)
        }
        Command::Agreement {
            dir,
            table,
            level,
            annotators,
            json,
        } => agreement(dir, table, &level, annotators, json),
        Command::Retrieve {
            dir,
            code,
            annotators,
            part,
            json,
            filter,
        } => {
            analysis::check_annotators(&annotators)?;
            analysis::run_retrieve(dir, &code, annotators, part, json, &filter)
        }
        Command::Crosstab {
            dir,
            rows,
            cols,
            annotators,
            part,
            json,
            csv,
            filter,
        } => {
            analysis::check_annotators(&annotators)?;
            let format = if json {
                "json"
            } else if csv {
                "csv"
            } else {
                "table"
            };
            analysis::run_crosstab(dir, &rows, &cols, annotators, part, format, &filter)
        }
        Command::Codes {
            dir,
            annotators,
            part,
            cooccurrence,
            dimensions,
            json,
            filter,
        } => {
            analysis::check_annotators(&annotators)?;
            analysis::run_codes(
                dir,
                annotators,
                part,
                cooccurrence,
                dimensions,
                json,
                &filter,
            )
        }
        Command::SaveLoop {
            file,
            annotator,
            journal,
            memo_bytes,
            rounds,
        } => {
            let who = crate::sidecar::Annotator {
                id: annotator.clone(),
                name: annotator,
            };
            let codebook = crate::codebook::Codebook::builtin();
            let journal = crate::journal::Journal::new(journal);
            let mut doc = crate::document::Document::open(&file, &who, &codebook)?;
            let filler = "x".repeat(memo_bytes);
            for round in 0..rounds.unwrap_or(u64::MAX) {
                let memo = format!("memo {round} {filler} end");
                doc.apply(crate::document::Edit::SetMemo(memo))?;
                journal.record(&doc.sidecar_path, &doc.sidecar)?;
                doc.save()?;
                journal.clear(&doc.sidecar_path);
            }
            Ok(0)
        }
        Command::GenerateCorpus {
            out,
            docs,
            annotators,
            coverage,
            seed,
        } => {
            let options = crate::generate::GenerateOptions {
                docs,
                annotators,
                coverage,
                seed,
            };
            let started = std::time::Instant::now();
            let summary = crate::generate::generate(&out, &options)
                .map_err(|e| anyhow::anyhow!("cannot generate the corpus: {e}"))?;
            println!(
                "wrote {} pages ({:.1} MB) and {} sidecars to {} in {:.1} s",
                summary.pages,
                summary.bytes as f64 / 1e6,
                summary.sidecars,
                out.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(0)
        }
        Command::ImportCodebook {
            file,
            output,
            mapping,
            force,
        } => {
            crate::export::check_codebook_output(&output)?;
            refuse_overwrite(&output, force)?;
            let mut imported = crate::interop::read_codebook(&file)?;
            if let Some(m) = &mapping {
                let text = std::fs::read_to_string(m)
                    .with_context(|| format!("cannot read mapping file {}", m.display()))?;
                crate::interop::apply_mapping(&mut imported, &text)
                    .map_err(|e| anyhow::anyhow!("mapping file {}: {e}", m.display()))?;
            }
            let codebook = &imported.codebook;
            crate::fsutil::atomic_write(&output, codebook.to_ron().as_bytes())?;
            for n in &imported.notes {
                eprintln!("note: {n}");
            }
            println!(
                "wrote {}: {} dimensions, {} values",
                output.display(),
                codebook.dimensions.len(),
                codebook
                    .dimensions
                    .iter()
                    .map(|d| d.values.len())
                    .sum::<usize>()
            );
            Ok(0)
        }
        Command::ImportProject { file, out_dir } => {
            let report = crate::interop::import_project(&file, &out_dir)?;
            for l in &report.lines {
                println!("- {l}");
            }
            println!(
                "wrote {}: {} documents, {} sidecars, {} part tags, {} spans; report in {}",
                out_dir.display(),
                report.documents,
                report.sidecars,
                report.tags,
                report.spans,
                out_dir.join(crate::interop::REPORT_FILE).display()
            );
            Ok(0)
        }
    }
}

/// One exchange in `inspect --json`.
#[derive(Debug, Serialize)]
struct ExchangeJson<'a> {
    question_by: Option<&'a str>,
    answered_by: Option<&'a str>,
    question: &'a str,
    answer: &'a str,
    /// A hearing's question numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<&'a str>,
    /// Seconds into the recording (timed transcripts).
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<f64>,
    /// Seconds into the recording (timed transcripts).
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<f64>,
}

/// Milliseconds as seconds.
fn seconds(ms: Option<u64>) -> Option<f64> {
    ms.map(|ms| ms as f64 / 1000.0)
}

/// The object printed by `inspect --json`.
#[derive(Debug, Serialize)]
struct InspectJson<'a> {
    file: &'a str,
    format: &'static str,
    container: &'static str,
    title: &'a str,
    meeting: Option<&'a str>,
    meeting_date: Option<String>,
    session_date: Option<String>,
    reference: Option<&'a str>,
    question_by: Option<&'a str>,
    organisation: Option<&'a str>,
    asked_of: Option<&'a str>,
    answered_by: Option<&'a str>,
    supplementary: bool,
    status: &'static str,
    answer_date: Option<String>,
    question: &'a str,
    answer: &'a str,
    encoding: &'a str,
    warnings: &'a [String],
    chars: usize,
    hash: &'a str,
    /// Seconds into the recording where the text starts and ends (timed transcripts).
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exchanges: Option<Vec<ExchangeJson<'a>>>,
}

impl<'a> From<&'a Transcript> for InspectJson<'a> {
    fn from(t: &'a Transcript) -> Self {
        let m = &t.meta;
        let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
        let exchanges = (t.format == Format::SpeakerTurns).then(|| {
            t.parts
                .chunks(2)
                .map(|pair| ExchangeJson {
                    question_by: pair[0].speaker(),
                    answered_by: pair.get(1).and_then(|p| p.speaker()),
                    question: pair[0].text(),
                    answer: pair.get(1).map_or("", |p| p.text()),
                    reference: pair[0].reference.as_deref(),
                    start: seconds(pair.iter().filter_map(|p| p.start_ms).min()),
                    end: seconds(pair.iter().filter_map(|p| p.end_ms).max()),
                })
                .collect()
        });
        InspectJson {
            file: &t.file_name,
            format: t.format.as_str(),
            container: t.container.as_str(),
            title: &m.title,
            meeting: m.meeting.as_deref(),
            meeting_date: date(m.meeting_date),
            session_date: date(m.session_date),
            reference: m.reference.as_deref(),
            question_by: m.question_by.as_deref(),
            organisation: m.organisation.as_deref(),
            asked_of: m.asked_of.as_deref(),
            answered_by: m.answered_by.as_deref(),
            supplementary: m.supplementary,
            status: m.status.as_str(),
            answer_date: date(m.answer_date),
            question: t.question(),
            answer: t.answer(),
            encoding: &t.encoding,
            warnings: &t.warnings,
            chars: t.chars,
            hash: &t.hash,
            start: seconds(t.parts.iter().filter_map(|p| p.start_ms).min()),
            end: seconds(t.parts.iter().filter_map(|p| p.end_ms).max()),
            exchanges,
        }
    }
}

fn write_readable(out: &mut impl Write, t: &Transcript) -> std::io::Result<()> {
    let m = &t.meta;
    let field = |out: &mut dyn Write, name: &str, value: Option<&str>| -> std::io::Result<()> {
        writeln!(out, "{:<15}{}", format!("{name}:"), value.unwrap_or("—"))
    };
    field(out, "file", Some(&t.file_name))?;
    field(
        out,
        "format",
        Some(&format!(
            "{} in {} ({})",
            t.format.as_str(),
            t.container.as_str(),
            t.encoding
        )),
    )?;
    field(
        out,
        "title",
        Some(if m.title.is_empty() { "—" } else { &m.title }),
    )?;
    let meeting = match (&m.meeting, m.meeting_date) {
        (Some(k), Some(d)) => Some(format!("{k} on {d}")),
        (Some(k), None) => Some(k.clone()),
        (None, Some(d)) => Some(d.to_string()),
        (None, None) => None,
    };
    field(out, "meeting", meeting.as_deref())?;
    field(
        out,
        "session date",
        m.session_date.map(|d| d.to_string()).as_deref(),
    )?;
    field(out, "reference", m.reference.as_deref())?;
    field(out, "question by", m.question_by.as_deref())?;
    field(out, "organisation", m.organisation.as_deref())?;
    field(out, "asked of", m.asked_of.as_deref())?;
    field(out, "answered by", m.answered_by.as_deref())?;
    field(
        out,
        "supplementary",
        Some(if m.supplementary { "yes" } else { "no" }),
    )?;
    field(out, "status", Some(m.status.as_str()))?;
    for w in &t.warnings {
        writeln!(out, "warning: {w}")?;
    }
    // Counted once: counting per part made a transcript of many exchanges quadratic.
    let numbered = t.exchange_count() > 1;
    for part in &t.parts {
        writeln!(out)?;
        let heading = match part.id.kind {
            PartKind::Question => "QUESTION",
            PartKind::Answer => "ANSWER",
            PartKind::Text => "TEXT",
        };
        let number = if numbered {
            format!(" {}", part.id.exchange + 1)
        } else {
            String::new()
        };
        let mut extra: Vec<String> = Vec::new();
        if let Some(s) = part.speaker() {
            extra.push(s.to_string());
        }
        if part.id.kind == PartKind::Question
            && let Some(r) = &part.reference
        {
            extra.push(format!("Q{r}"));
        }
        if let (Some(a), Some(b)) = (part.start_ms, part.end_ms) {
            extra.push(format!(
                "{}–{}",
                crate::transcript::clock(a),
                crate::transcript::clock(b)
            ));
        } else if let Some(a) = part.start_ms {
            extra.push(format!("from {}", crate::transcript::clock(a)));
        }
        if extra.is_empty() {
            writeln!(out, "{heading}{number}")?;
        } else {
            writeln!(out, "{heading}{number} ({})", extra.join(", "))?;
        }
        if part.text().is_empty() {
            writeln!(out, "(none)")?;
        } else {
            writeln!(out, "{}", part.text())?;
        }
    }
    Ok(())
}

/// Prints an error as one line on stderr, with its causes when they add something.
pub fn report_error(err: &anyhow::Error) {
    let mut line = err.to_string();
    for cause in err.chain().skip(1) {
        let c = cause.to_string();
        if !line.contains(&c) {
            line.push_str(": ");
            line.push_str(&c);
        }
    }
    eprintln!("marginalia: {line}");
}

fn fmt_stat(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_string(), |v| format!("{v:.3}"))
}

#[expect(
    clippy::too_many_lines,
    reason = "reads the dataset or table and prints both report formats; each step is short and in order"
)]
fn agreement(
    dir: Option<PathBuf>,
    table: Option<PathBuf>,
    level: &str,
    annotators: Option<Vec<String>>,
    json: bool,
) -> Result<i32> {
    use crate::agreement::{corpus, stats};
    if let Some(file) = table {
        let bytes =
            std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let (t, coders) = corpus::coded_from_csv(&bytes)
            .map_err(|e| anyhow::anyhow!("cannot read table: {e}: {}", file.display()))?;
        drop(bytes);
        let lvl = stats::Level::parse(level).unwrap_or(stats::Level::Nominal);
        let cohen = (coders.len() == 2).then(|| t.cohen_kappa(0, 1)).flatten();
        let units = t.pairable_units();
        let percent = t.percent_agreement();
        let fleiss = t.fleiss_kappa();
        let alpha = t.krippendorff_alpha(lvl);
        if json {
            let value = serde_json::json!({
                "coders": coders,
                "units": units,
                "level": level,
                "percent_agreement": percent,
                "cohen_kappa": cohen,
                "fleiss_kappa": fleiss,
                "krippendorff_alpha": alpha,
            });
            println!("{}", serde_json::to_string_pretty(&value)?);
        } else {
            println!("coders: {} · pairable units: {units}", coders.join(", "),);
            println!("percent agreement   {}", fmt_stat(percent));
            println!("Cohen's kappa       {}", fmt_stat(cohen));
            println!("Fleiss' kappa       {}", fmt_stat(fleiss));
            println!("Krippendorff alpha  {} ({level})", fmt_stat(alpha));
        }
        return Ok(0);
    }
    let dir = dir.expect("clap requires a folder without --table");
    let mut stream = DatasetStream::open(
        &dir,
        &Selection {
            annotators: annotators.clone(),
            ..Selection::default()
        },
    )?;
    // Only documents with sidecars of two or more of the chosen annotators are compared, so only
    // those are read (a third of a generated corpus); the annotators are gathered from the
    // sidecars' names across the corpus.
    let present = stream.keep_coded_by(2);
    let chosen = match annotators {
        Some(a) => a,
        None => present.into_iter().collect(),
    };
    if chosen.len() < 2 {
        anyhow::bail!(
            "agreement needs at least two annotators; found {} in {}",
            chosen.len(),
            dir.display()
        );
    }
    // Each document is compared on the core that read it and let go of: the totals grow with
    // the units compared, not with the corpus's text.
    let plan = corpus::Plan::new(&stream.codebook, &chosen).counting_disagreements();
    let mut warnings = Vec::new();
    let r = corpus::compute_stream(&stream, &plan, &mut warnings);
    // A sidecar that could not be read is left out of the comparison: said, as the export says.
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    if json {
        let value = serde_json::json!({
            "annotators": r.annotators,
            "documents": r.documents,
            "dimensions": r.dimensions,
            "overall": r.overall,
            "span_matching": r.span_matching,
            "pairwise": r.pairwise,
            "per_document": r.per_document,
            "disagreements": r.disagreement_count,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(0);
    }
    println!(
        "annotators: {} · documents coded by at least two: {}",
        r.annotators.join(", "),
        r.documents
    );
    println!();
    println!(
        "{:<22} {:<20} {:<18} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "dimension", "scope", "value", "units", "agree", "cohen", "fleiss", "alpha"
    );
    for d in std::iter::once(&r.overall).chain(&r.dimensions) {
        println!(
            "{:<22} {:<20} {:<18} {:>8} {:>8} {:>8} {:>8} {:>8}",
            d.dimension,
            d.scope,
            d.value.as_deref().unwrap_or(""),
            d.units,
            fmt_stat(d.percent_agreement),
            fmt_stat(d.cohen_kappa),
            fmt_stat(d.fleiss_kappa),
            fmt_stat(d.krippendorff_alpha)
        );
    }
    if !r.span_matching.is_empty() {
        println!();
        println!("span matching (precision / recall / F1 of b against a)");
        for m in &r.span_matching {
            println!(
                "{:<22} {} vs {} ({} / {} spans): exact {} / {} / {}, overlap {} / {} / {}",
                m.dimension,
                m.a,
                m.b,
                m.spans.0,
                m.spans.1,
                fmt_stat(m.exact.precision),
                fmt_stat(m.exact.recall),
                fmt_stat(m.exact.f1),
                fmt_stat(m.overlap.precision),
                fmt_stat(m.overlap.recall),
                fmt_stat(m.overlap.f1)
            );
        }
    }
    println!();
    println!("pairwise (all one-choice part tags)");
    for p in &r.pairwise {
        println!(
            "{} – {}: {} units, agreement {}, Cohen's kappa {}",
            p.a,
            p.b,
            p.units,
            fmt_stat(p.percent_agreement),
            fmt_stat(p.cohen_kappa)
        );
    }
    println!();
    println!("{} disagreements to review", r.disagreement_count);
    Ok(0)
}

/// The `reanchor` command: one line per sidecar of a changed transcript, then a summary; exit status
/// 1 when a sidecar or transcript could not be read (those are left untouched).
fn reanchor(dir: &Path, annotators: Option<&[String]>, dry_run: bool) -> Result<i32> {
    let files =
        corpus::scan(dir).with_context(|| format!("cannot read folder {}", dir.display()))?;
    let (codebook, _) = crate::codebook::Codebook::for_folder(dir)?;
    let (mut changed, mut failed) = (0, 0);
    let mut totals = crate::document::Reanchored::default();
    for sc in &files.sidecars {
        if annotators.is_some_and(|a| !a.contains(&sc.annotator)) {
            continue;
        }
        // A sidecar without its transcript is for `validate` to report.
        if !sc.transcript.exists()
            && crate::transcript::parlparse::split_virtual(&sc.transcript).is_none()
        {
            continue;
        }
        // Opened as the app opens it, which places the spans again; written only by `save`.
        let who = crate::sidecar::Annotator {
            id: sc.annotator.clone(),
            name: String::new(),
        };
        let mut doc = match crate::document::Document::open(&sc.transcript, &who, &codebook) {
            Ok(doc) => doc,
            Err(e) => {
                eprintln!("error: {e}");
                failed += 1;
                continue;
            }
        };
        if let Some(e) = &doc.load_error {
            eprintln!("error: {e}");
            failed += 1;
            continue;
        }
        let Some(r) = doc.reanchored else { continue };
        if doc.read_only {
            // The user's choice is honoured: the file is reported, never rewritten.
            eprintln!(
                "error: {} is read-only: its {} spans were not placed again",
                sc.path.display(),
                r.placed_again + r.orphans
            );
            failed += 1;
            continue;
        }
        // Counted only once written: a failed write (a full disk) places nothing.
        if !dry_run && let Err(e) = doc.save() {
            eprintln!("error: {e}");
            failed += 1;
            continue;
        }
        changed += 1;
        totals.placed_again += r.placed_again;
        totals.orphans += r.orphans;
        totals.unchanged += r.unchanged;
        println!(
            "{}: {} placed again (flagged), {} orphans, {} unchanged",
            sc.path.display(),
            r.placed_again,
            r.orphans,
            r.unchanged
        );
    }
    println!(
        "{changed} sidecars of changed transcripts{}: {} spans placed again (flagged for a look), {} orphans, {} unchanged{}",
        if dry_run { " (nothing written)" } else { "" },
        totals.placed_again,
        totals.orphans,
        totals.unchanged,
        if failed > 0 {
            format!("; {failed} sidecars not placed again or not written (errors above)")
        } else {
            String::new()
        }
    );
    Ok(if failed > 0 { 1 } else { 0 })
}

/// Stops before any work when the output exists and `--force` was not given.
/// `inspect --set-role NAME=ROLE`: the role change a user makes in the app, on the annotator's
/// sidecar, saved as the app saves.
fn set_speaker_role(file: &Path, annotator: &str, assignment: &str, force: bool) -> Result<()> {
    use crate::transcript::Role;
    let (name, role) = assignment
        .rsplit_once('=')
        .with_context(|| format!("--set-role wants NAME=ROLE, got \"{assignment}\""))?;
    let role = match role.trim().to_ascii_lowercase().as_str() {
        "asks" | "asker" | "question" => Some(Role::Asker),
        "answers" | "answerer" | "answer" => Some(Role::Answerer),
        "guess" | "guessed" => None,
        other => anyhow::bail!("unknown role \"{other}\": use asks, answers or guess"),
    };
    let who = crate::sidecar::Annotator {
        id: annotator.to_string(),
        name: String::new(),
    };
    // The codebook only words the problems listed on opening; a broken one is not this command's.
    let codebook = crate::codebook::Codebook::for_folder(file.parent().unwrap_or(Path::new(".")))
        .map_or_else(|_| crate::codebook::Codebook::builtin(), |(c, _)| c);
    let mut doc = crate::document::Document::open(file, &who, &codebook)?;
    if let Some(reason) = doc.read_only_reason() {
        anyhow::bail!("{}: {reason}", doc.sidecar_path.display());
    }
    let change = doc.role_change(name.trim(), role)?;
    let mut err = std::io::stderr().lock();
    for line in &change.unplaced {
        writeln!(err, "cannot follow: {line}")?;
    }
    if !change.unplaced.is_empty() && !force {
        anyhow::bail!(
            "{} tag(s) or span(s) cannot follow the new roles (listed above); nothing changed; add --force to apply anyway",
            change.unplaced.len()
        );
    }
    doc.apply(change.edit)?;
    doc.save()?;
    writeln!(
        err,
        "{}: {} now {}; {} tag(s) or span(s) carried to their words' new place",
        doc.sidecar_path.display(),
        name.trim(),
        role.map_or("as guessed", |r| r.as_str()),
        change.moved
    )?;
    Ok(())
}

fn refuse_overwrite(output: &Path, force: bool) -> Result<()> {
    if output.exists() && !force {
        anyhow::bail!(
            "{} exists; choose another name or overwrite it with --force",
            output.display()
        );
    }
    Ok(())
}
