//! The analysis commands: `retrieve`, `crosstab` and `codes`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;

use crate::analysis::Scope;
use crate::analysis::codes::{cooccurrence, frequencies};
use crate::analysis::crosstab::{Axis, CrossTab, crosstab};
use crate::analysis::retrieve::{CodeQuery, Coding, retrieve};
use crate::corpus::Filter;
use crate::dataset::{Dataset, Selection};
use crate::transcript::{AnswerStatus, PartKind};

/// The corpus list's filters, for the analysis commands.
#[derive(Debug, Clone, Default, Args)]
pub struct FilterArgs {
    /// Only documents with all these words in title, file name, member, party or office-holder.
    #[arg(long = "match", value_name = "WORDS")]
    pub words: Option<String>,
    /// Only questions by this member (exactly).
    #[arg(long)]
    pub member: Option<String>,
    /// Only this party or organisation (exactly).
    #[arg(long)]
    pub party: Option<String>,
    /// Only questions asked of this office-holder (exactly).
    #[arg(long)]
    pub asked_of: Option<String>,
    /// Only meetings on or after this date (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date)]
    pub from: Option<chrono::NaiveDate>,
    /// Only meetings on or before this date (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date)]
    pub to: Option<chrono::NaiveDate>,
    /// Only answered, holding or unanswered questions.
    #[arg(long, value_parser = ["answered", "holding", "unanswered"])]
    pub answer_status: Option<String>,
    /// Only sidecars with this status: not-started, in-progress or done.
    #[arg(long, value_parser = ["not-started", "in-progress", "done"])]
    pub status: Option<String>,
    /// Only sidecars whose codes match this tag query, e.g. `topic=housing cites:"Home Office"`.
    #[arg(long, value_name = "QUERY")]
    pub tags: Option<String>,
}

fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("\"{s}\" is not a date; write YYYY-MM-DD"))
}

impl FilterArgs {
    /// The corpus filter, or `None` when no option narrows anything.
    pub fn to_filter(&self) -> Option<Filter> {
        let f = Filter {
            text: self.words.clone().unwrap_or_default(),
            members: self.member.clone().into_iter().collect(),
            party: self.party.clone(),
            asked_of: self.asked_of.clone(),
            from: self.from,
            to: self.to,
            answer_status: self.answer_status.as_deref().map(|s| match s {
                "holding" => AnswerStatus::Holding,
                "unanswered" => AnswerStatus::Unanswered,
                _ => AnswerStatus::Answered,
            }),
            status: self.status.as_deref().map(|s| match s {
                "not-started" => crate::sidecar::Status::NotStarted,
                "in-progress" => crate::sidecar::Status::InProgress,
                _ => crate::sidecar::Status::Done,
            }),
            tags: self.tags.clone().unwrap_or_default(),
        };
        (f != Filter::default()).then_some(f)
    }
}

/// Parses `question`, `answer` or `text`.
pub fn parse_part(s: &str) -> Result<PartKind, String> {
    match s {
        "question" => Ok(PartKind::Question),
        "answer" => Ok(PartKind::Answer),
        "text" => Ok(PartKind::Text),
        _ => Err(format!(
            "unknown part \"{s}\"; use question, answer or text"
        )),
    }
}

/// Reads the corpus with the sidecars of the annotators asked for (all when none were).
fn load(dir: &Path, annotators: &Option<Vec<String>>) -> Result<Dataset> {
    let dataset = Dataset::load(
        dir,
        &Selection {
            annotators: annotators.clone(),
            ..Selection::default()
        },
        &|_, _| {},
    )?;
    for w in &dataset.warnings {
        eprintln!("warning: {w}");
    }
    Ok(dataset)
}

fn scope(annotators: Option<Vec<String>>, part: Option<PartKind>, filter: &FilterArgs) -> Scope {
    Scope {
        annotators,
        part,
        filter: filter.to_filter(),
    }
}

/// Tabs and line breaks would break the one-line, tab-separated output.
fn cell(s: &str) -> String {
    s.chars()
        .map(|c| if c == '\t' || c.is_control() { ' ' } else { c })
        .collect()
}

fn write_coding_line(out: &mut impl Write, c: &Coding) -> std::io::Result<()> {
    let opt = |s: &Option<String>| cell(s.as_deref().unwrap_or(""));
    let num = |n: Option<usize>| n.map(|n| n.to_string()).unwrap_or_default();
    writeln!(
        out,
        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
        cell(&c.document),
        c.annotator,
        c.part,
        c.dimension,
        cell(&c.value),
        num(c.start),
        num(c.end),
        opt(&c.quote),
        opt(&c.note),
        opt(&c.date),
        opt(&c.member),
        opt(&c.party),
        opt(&c.office_holder),
        cell(&c.context)
    )
}

/// `marginalia retrieve`: one coding per line (tab-separated) or one JSON object per line.
pub fn run_retrieve(
    dir: PathBuf,
    code: &str,
    annotators: Option<Vec<String>>,
    part: Option<PartKind>,
    json: bool,
    filter: &FilterArgs,
) -> Result<i32> {
    let dataset = load(&dir, &annotators)?;
    let query = CodeQuery::parse(code, &dataset)?;
    let codings = retrieve(&dataset, &query, &scope(annotators, part, filter))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut unplaced = 0;
    for c in &codings {
        if json {
            serde_json::to_writer(&mut out, c)?;
            writeln!(out)?;
        } else {
            write_coding_line(&mut out, c)?;
        }
        unplaced += usize::from(!c.placed);
    }
    out.flush()?;
    eprintln!("{} codings", codings.len());
    if unplaced > 0 {
        eprintln!(
            "{unplaced} spans no longer lie on their quote (the transcript changed); listed with their stored offsets and no context: `marginalia reanchor` places them again"
        );
    }
    Ok(0)
}

/// `marginalia crosstab`: a readable table, `--json` or `--csv`.
pub fn run_crosstab(
    dir: PathBuf,
    rows: &str,
    cols: &str,
    annotators: Option<Vec<String>>,
    part: Option<PartKind>,
    format: &str,
    filter: &FilterArgs,
) -> Result<i32> {
    let dataset = load(&dir, &annotators)?;
    let (r, c) = (Axis::parse(rows, &dataset)?, Axis::parse(cols, &dataset)?);
    let t = crosstab(&dataset, &r, &c, &scope(annotators, part, filter))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        "json" => {
            serde_json::to_writer_pretty(&mut out, &t)?;
            writeln!(out)?;
        }
        "csv" => out.write_all(&t.to_csv())?,
        _ => write_crosstab(&mut out, &t)?,
    }
    if t.annotators.len() > 1 {
        eprintln!(
            "note: {} annotators' codings each count, so an exchange can count once per annotator and the units are not independent; for the test, choose one annotator or gold (--annotators)",
            t.annotators.len()
        );
    }
    Ok(0)
}

fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n >= width {
        s.chars().take(width).collect()
    } else {
        format!("{s}{}", " ".repeat(width - n))
    }
}

fn write_crosstab(out: &mut dyn Write, t: &CrossTab) -> std::io::Result<()> {
    if t.rows.is_empty() {
        writeln!(
            out,
            "nothing to count: no unit has both {} and {}",
            t.row_axis, t.col_axis
        )?;
        return Ok(());
    }
    let first = t
        .row_labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(8, 32);
    let width = t
        .col_labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(7, 20);
    let header = |out: &mut dyn Write, title: &str, total: bool| -> std::io::Result<()> {
        write!(out, "{} ", pad(title, first))?;
        for l in &t.col_labels {
            write!(out, "{:>width$} ", pad(l, width))?;
        }
        if total {
            write!(out, "{:>width$}", "total")?;
        }
        writeln!(out)
    };
    header(
        &mut *out,
        &format!("{} \\ {}", t.row_axis, t.col_axis),
        true,
    )?;
    for (i, l) in t.row_labels.iter().enumerate() {
        write!(out, "{} ", pad(l, first))?;
        for n in &t.counts[i] {
            write!(out, "{n:>width$} ")?;
        }
        writeln!(out, "{:>width$}", t.row_totals[i])?;
    }
    write!(out, "{} ", pad("total", first))?;
    for n in &t.col_totals {
        write!(out, "{n:>width$} ")?;
    }
    writeln!(out, "{:>width$}", t.total)?;
    writeln!(out)?;
    header(&mut *out, "% of row [95% CI]", false)?;
    for (i, l) in t.row_labels.iter().enumerate() {
        write!(out, "{} ", pad(l, first))?;
        for s in &t.row_shares[i] {
            write!(out, "{:>width$} ", format!("{:.1}", s.share * 100.0))?;
        }
        writeln!(out)?;
        write!(out, "{} ", pad("", first))?;
        for s in &t.row_shares[i] {
            write!(
                out,
                "{:>width$} ",
                format!("{:.0}–{:.0}", s.low * 100.0, s.high * 100.0)
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out)?;
    match (t.chi_square, t.df, t.p_value, t.cramers_v) {
        (Some(x), Some(df), Some(p), Some(v)) => {
            writeln!(
                out,
                "chi-square = {x:.3}, df = {df}, p = {}, Cramér's V = {v:.3}; {} units, {} counts",
                format_p(p),
                t.units,
                t.total
            )?;
            if t.low_expected_cells > 0 {
                writeln!(
                    out,
                    "{} of {} cells have an expected count under 5: the chi-square p-value is approximate",
                    t.low_expected_cells,
                    t.rows.len() * t.cols.len()
                )?;
            }
        }
        _ => writeln!(
            out,
            "chi-square: needs at least two rows and two columns; {} units, {} counts",
            t.units, t.total
        )?,
    }
    Ok(())
}

fn format_p(p: f64) -> String {
    if p < 0.0001 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}

/// `marginalia codes`: frequencies per dimension and value, or co-occurrence within parts.
pub fn run_codes(
    dir: PathBuf,
    annotators: Option<Vec<String>>,
    part: Option<PartKind>,
    cooccur: bool,
    dimensions: Option<Vec<String>>,
    json: bool,
    filter: &FilterArgs,
) -> Result<i32> {
    let dataset = load(&dir, &annotators)?;
    let scope = scope(annotators, part, filter);
    let dims = match dimensions {
        Some(names) => Some(
            names
                .iter()
                .map(|n| crate::analysis::resolve_dimension(&dataset, n))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        None => None,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if cooccur {
        let c = cooccurrence(&dataset, &scope, dims.as_deref())?;
        if json {
            serde_json::to_writer_pretty(&mut out, &c)?;
            writeln!(out)?;
            return Ok(0);
        }
        writeln!(out, "annotators: {}", c.annotators.join(", "))?;
        writeln!(out, "{:>7}  codes found together in a part", "parts")?;
        for p in &c.pairs {
            let (a, b) = (&c.codes[p.a], &c.codes[p.b]);
            writeln!(
                out,
                "{:>7}  {}={}  +  {}={}",
                p.parts, a.dimension, a.label, b.dimension, b.label
            )?;
        }
        return Ok(0);
    }
    let mut f = frequencies(&dataset, &scope)?;
    if let Some(ds) = &dims {
        f.dimensions.retain(|d| ds.contains(&d.dimension));
    }
    if json {
        serde_json::to_writer_pretty(&mut out, &f)?;
        writeln!(out)?;
        return Ok(0);
    }
    writeln!(out, "annotators: {}", f.annotators.join(", "))?;
    for d in &f.dimensions {
        writeln!(out)?;
        writeln!(
            out,
            "{} ({}): {} units coded",
            d.label, d.dimension, d.units
        )?;
        for v in &d.values {
            writeln!(
                out,
                "  {} {:>6} {:>6.1}%  [{:.1}–{:.1}]  documents: {}",
                pad(&v.label, 32),
                v.units,
                v.share.share * 100.0,
                v.share.low * 100.0,
                v.share.high * 100.0,
                v.documents
            )?;
        }
    }
    Ok(0)
}

/// Refuses `--annotators` lists that are empty after splitting (`--annotators ""`).
pub fn check_annotators(annotators: &Option<Vec<String>>) -> Result<()> {
    if annotators
        .as_ref()
        .is_some_and(|a| a.is_empty() || a.iter().any(|s| s.trim().is_empty()))
    {
        bail!("--annotators needs ids, comma-separated");
    }
    Ok(())
}
