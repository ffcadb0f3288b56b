//! A corpus folder: its transcripts, their sidecars and its codebook; and `validate`.

use std::path::{Path, PathBuf};

use crate::codebook::{CODEBOOK_FILE_NAME, Codebook};
use crate::sidecar::{Sidecar, parse_sidecar_name};
use crate::transcript::{TRANSCRIPT_EXTENSIONS, Transcript};

/// A sidecar file found in a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidecarFile {
    /// The sidecar's path.
    pub path: PathBuf,
    /// The transcript it belongs to (which may be missing).
    pub transcript: PathBuf,
    /// The annotator id from the file name.
    pub annotator: String,
}

/// The files of a corpus folder, found by [`scan`]. Paths are sorted.
#[derive(Debug, Clone, Default)]
pub struct CorpusFiles {
    /// The folder.
    pub root: PathBuf,
    /// Transcript files.
    pub transcripts: Vec<PathBuf>,
    /// Sidecar files, including those whose transcript is missing.
    pub sidecars: Vec<SidecarFile>,
    /// The folder's `codebook.ron`, when there is one.
    pub codebook: Option<PathBuf>,
    /// Entries left out, with the reason (symlinks leaving the folder, unreadable folders).
    pub skipped: Vec<(PathBuf, String)>,
    /// Hidden temporary files that writes of sidecars or transcripts left when they were killed
    /// half-way (`.<name>.<random>.tmp`).
    pub temps: Vec<PathBuf>,
}

impl CorpusFiles {
    /// The annotator ids found in the corpus, sorted.
    pub fn annotators(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.sidecars.iter().map(|s| s.annotator.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

/// True for a file name Marginalia reads as a transcript (including `file.xml#id` items).
pub fn is_transcript_name(name: &str) -> bool {
    if let Some((file, id)) = name.split_once(".xml#") {
        return !file.is_empty() && !id.is_empty() && !id.contains('.') && !name.starts_with('.');
    }
    !name.starts_with('.')
        && Path::new(name)
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| {
                TRANSCRIPT_EXTENSIONS
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(e))
            })
}

/// What one walk found.
#[derive(Default)]
struct Walked {
    codebook: Option<PathBuf>,
    transcripts: Vec<PathBuf>,
    sidecars: Vec<SidecarFile>,
    skipped: Vec<(PathBuf, String)>,
    temps: Vec<PathBuf>,
}

/// True for a hidden temporary file that a write of a sidecar or transcript left (see
/// [`crate::fsutil::temp_target`]).
fn is_corpus_temp(name: &str) -> bool {
    crate::fsutil::temp_target(name)
        .is_some_and(|t| is_transcript_name(t) || parse_sidecar_name(t).is_some())
}

/// An entry met by [`walk_sorted`].
struct Met<'a> {
    path: &'a Path,
    name: &'a std::ffi::OsStr,
    kind: std::fs::FileType,
    depth: usize,
}

/// What [`walk_sorted`] hands its visitor: an entry, or a path it could not read.
type Step<'a> = Result<Met<'a>, (&'a Path, std::io::Error)>;

/// A folder's entries still to visit, sorted last first (`pop` takes them in order).
struct Listing {
    dir: PathBuf,
    depth: usize,
    entries: Vec<(std::ffi::OsString, std::fs::FileType)>,
}

impl Listing {
    /// The entries of `dir` (at `depth`) but hidden ones that are not files; what cannot be read
    /// goes to `visit`.
    fn of(dir: PathBuf, depth: usize, visit: &mut impl FnMut(Step<'_>)) -> Listing {
        let mut entries = Vec::new();
        match std::fs::read_dir(&dir) {
            Err(e) => visit(Err((&dir, e))),
            Ok(read) => {
                for entry in read {
                    let entry = match entry {
                        Ok(e) => e,
                        Err(e) => {
                            visit(Err((&dir, e)));
                            break;
                        }
                    };
                    let name = entry.file_name();
                    match entry.file_type() {
                        Ok(kind)
                            if name.as_encoded_bytes().first() == Some(&b'.')
                                && !kind.is_file() => {}
                        Ok(kind) => entries.push((name, kind)),
                        Err(e) => visit(Err((&entry.path(), e))),
                    }
                }
            }
        }
        entries.sort_unstable_by(|a, b| b.0.cmp(&a.0));
        Listing {
            dir,
            depth,
            entries,
        }
    }
}

/// Visits `start` and, when it is a folder (not a symlink to one), everything below it, depth
/// first, each folder's entries in file-name order (bytes), a folder before its contents. Hidden
/// folders are not entered and hidden entries other than files not visited. A folder that cannot
/// be read is passed to `visit` as an error with its path, and the walk goes on.
///
/// Not walkdir's sorted walk: its comparison took each entry's name out of its path again, and
/// sorting spent a third of the listing of a 10,000-page corpus parsing paths.
fn walk_sorted(start: &Path, visit: &mut impl FnMut(Step<'_>)) {
    let kind = match std::fs::symlink_metadata(start) {
        Ok(m) => m.file_type(),
        Err(e) => return visit(Err((start, e))),
    };
    visit(Ok(Met {
        path: start,
        name: start.file_name().unwrap_or(start.as_os_str()),
        kind,
        depth: 0,
    }));
    if !kind.is_dir() {
        return;
    }
    let mut stack = vec![Listing::of(start.to_path_buf(), 1, visit)];
    while let Some(listing) = stack.last_mut() {
        let Some((name, kind)) = listing.entries.pop() else {
            stack.pop();
            continue;
        };
        let depth = listing.depth;
        let path = listing.dir.join(&name);
        visit(Ok(Met {
            path: &path,
            name: &name,
            kind,
            depth,
        }));
        if kind.is_dir() {
            stack.push(Listing::of(path, depth + 1, visit));
        }
    }
}

/// Walks one top-level entry of the corpus (a file at depth 1, or a folder and all below it).
fn walk(start: &Path, is_dir: bool, canonical_root: &Path) -> Walked {
    let mut out = Walked::default();
    walk_sorted(start, &mut |entry| {
        let entry = match entry {
            Ok(entry) => entry,
            Err((path, e)) => {
                out.skipped
                    .push((path.to_path_buf(), format!("could not be read: {e}")));
                return;
            }
        };
        let path = entry.path;
        if entry.kind.is_symlink() {
            match path.canonicalize() {
                Ok(target) if target.starts_with(canonical_root) && target.is_file() => {}
                Ok(target) if target.starts_with(canonical_root) && target.is_dir() => {
                    // `loop -> .` is the common case: following it would read the corpus twice.
                    out.skipped.push((
                            path.to_path_buf(),
                            "symlink to a folder inside the corpus: not followed (its files are read where they are)".to_string(),
                        ));
                    return;
                }
                Ok(target) if target.starts_with(canonical_root) => {
                    out.skipped.push((
                        path.to_path_buf(),
                        "symlink to something that is not a file (a FIFO, a device)".to_string(),
                    ));
                    return;
                }
                Ok(_) => {
                    out.skipped.push((
                        path.to_path_buf(),
                        "symlink leads outside the folder".to_string(),
                    ));
                    return;
                }
                Err(_) => {
                    out.skipped
                        .push((path.to_path_buf(), "broken symlink".to_string()));
                    return;
                }
            }
        } else if !entry.kind.is_file() {
            // A folder or a FIFO named like a transcript or a sidecar is what a user meant to
            // be one: said, never silently passed over. Other folders are simply walked into.
            let name = entry.name.to_string_lossy();
            let looks_like_data = is_transcript_name(&name) || parse_sidecar_name(&name).is_some();
            if looks_like_data {
                let what = if entry.kind.is_dir() {
                    "is a folder, not a file: not read"
                } else {
                    "is not a regular file (a FIFO, a socket or a device): not read"
                };
                out.skipped.push((path.to_path_buf(), what.to_string()));
            }
            return;
        }
        let name = entry.name.to_string_lossy();
        if name.starts_with('.') {
            if is_corpus_temp(&name) {
                out.temps.push(path.to_path_buf());
            }
            return;
        }
        if !is_dir && entry.depth == 0 && name == CODEBOOK_FILE_NAME {
            out.codebook = Some(path.to_path_buf());
        } else if is_transcript_name(&name) {
            out.transcripts.push(path.to_path_buf());
        } else if crate::transcript::parlparse::is_parlparse_name(&name) {
            match crate::transcript::parlparse::items(path) {
                Ok(items) => out.transcripts.extend(
                    items
                        .iter()
                        .map(|i| crate::transcript::parlparse::virtual_path(path, &i.id)),
                ),
                Err(e) => out.skipped.push((
                    path.to_path_buf(),
                    format!("not read as ParlParse XML: {e}"),
                )),
            }
        } else if let Some((transcript, annotator)) = parse_sidecar_name(&name)
            && is_transcript_name(transcript)
        {
            // Named on the core that walked the folder: on the calling thread, after the walk,
            // this was a third of the time before a 100,000-page corpus's first page was read.
            out.sidecars.push(SidecarFile {
                transcript: path.with_file_name(transcript),
                annotator: annotator.to_string(),
                path: path.to_path_buf(),
            });
        }
    });
    out
}

/// Finds the transcripts, sidecars and codebook under `root`, recursively. Hidden folders and
/// symlinks that lead out of the folder are left out.
pub fn scan(root: &Path) -> std::io::Result<CorpusFiles> {
    let canonical_root = root.canonicalize()?;
    if !canonical_root.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            format!("not a folder: {}", root.display()),
        ));
    }
    let mut files = CorpusFiles {
        root: root.to_path_buf(),
        ..CorpusFiles::default()
    };
    // Each top-level folder (a year, a session) is walked on its own core; the results are joined
    // in name order, which is the order one sorted walk would give.
    let mut top: Vec<(std::ffi::OsString, PathBuf, bool)> = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                files.skipped.push((root.to_path_buf(), e.to_string()));
                continue;
            }
        };
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            if is_corpus_temp(&name.to_string_lossy())
                && entry.file_type().is_ok_and(|t| t.is_file())
            {
                files.temps.push(entry.path());
            }
            continue;
        }
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        top.push((name, entry.path(), is_dir));
    }
    top.sort_by(|a, b| a.0.cmp(&b.0));
    use rayon::prelude::*;
    let walked: Vec<Walked> = top
        .par_iter()
        .map(|(_, path, is_dir)| walk(path, *is_dir, &canonical_root))
        .collect();
    for w in walked {
        if let Some(cb) = w.codebook {
            files.codebook = Some(cb);
        }
        files.transcripts.extend(w.transcripts);
        files.sidecars.extend(w.sidecars);
        files.skipped.extend(w.skipped);
        files.temps.extend(w.temps);
    }
    Ok(files)
}

/// How serious a finding of `validate` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing; the data is usable.
    Warning,
    /// The data cannot be used as it is.
    Error,
}

/// One finding of [`validate`], about one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Warning or error.
    pub severity: Severity,
    /// The file concerned.
    pub path: PathBuf,
    /// One line, without the file.
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let word = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{word}: {}: {}", self.message, self.path.display())
    }
}

/// What `validate` found.
#[derive(Debug, Clone, Default)]
pub struct ValidationReport {
    /// Transcripts read.
    pub transcripts: usize,
    /// Sidecars read.
    pub sidecars: usize,
    /// Everything found, in path order.
    pub findings: Vec<Finding>,
}

impl ValidationReport {
    /// Number of errors.
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }
}

/// Checks every transcript, sidecar and the codebook under `root`.
#[expect(
    clippy::too_many_lines,
    reason = "one pass over the corpus, whose findings keep the order of the walk"
)]
pub fn validate(root: &Path) -> std::io::Result<ValidationReport> {
    use rayon::prelude::*;
    let files = scan(root)?;
    let mut report = ValidationReport::default();
    let mut add = |severity, path: &Path, message: String| {
        report.findings.push(Finding {
            severity,
            path: path.to_path_buf(),
            message,
        })
    };
    for (path, why) in &files.skipped {
        add(Severity::Warning, path, format!("skipped: {why}"));
    }
    for path in &files.temps {
        add(
            Severity::Warning,
            path,
            "a temporary file left by a write that was interrupted; the file it was writing is whole, and the app removes this one when it opens the folder".to_string(),
        );
    }
    let codebook = match &files.codebook {
        Some(path) => match Codebook::load(path) {
            Ok(cb) => cb,
            Err(e) => {
                add(Severity::Error, path, strip_path(&e.to_string(), path));
                Codebook::builtin()
            }
        },
        None => Codebook::builtin(),
    };
    // Transcripts, then sidecars, read and checked on every core; the findings keep the order
    // one thread would give them.
    let loaded: Vec<Result<Transcript, String>> = files
        .transcripts
        .par_iter()
        .map(|path| Transcript::load(path).map_err(|e| strip_path(&e.to_string(), path)))
        .collect();
    let mut by_path: std::collections::HashMap<&Path, &Transcript> =
        std::collections::HashMap::with_capacity(loaded.len());
    for (path, t) in files.transcripts.iter().zip(&loaded) {
        match t {
            Ok(t) => {
                for w in &t.warnings {
                    add(Severity::Warning, path, w.clone());
                }
                by_path.insert(path.as_path(), t);
            }
            Err(e) => add(Severity::Error, path, e.clone()),
        }
    }
    report.transcripts = by_path.len();
    let checked: Vec<(bool, Vec<(Severity, String)>)> = files
        .sidecars
        .par_iter()
        .map(|sc| {
            let mut found = Vec::new();
            let sidecar = match Sidecar::load(&sc.path) {
                Ok(l) => l.sidecar,
                Err(e) => {
                    found.push((Severity::Error, strip_path(&e.to_string(), &sc.path)));
                    return (false, found);
                }
            };
            if !sidecar.unknown.is_empty() {
                let names: Vec<String> = sidecar
                    .unknown
                    .iter()
                    .map(|(k, _)| crate::sidecar::shorten(k).into_owned())
                    .collect();
                found.push((
                    Severity::Warning,
                    format!(
                        "fields this version does not know, kept as they are on every save: {}",
                        names.join(", ")
                    ),
                ));
            }
            if sidecar.annotator.id != sc.annotator {
                found.push((
                    Severity::Error,
                    format!(
                        "the file name says annotator \"{}\" but the file says \"{}\"",
                        sc.annotator, sidecar.annotator.id
                    ),
                ));
            }
            if sidecar.codebook != codebook.id {
                found.push((
                    Severity::Warning,
                    format!(
                        "coded with codebook \"{}\", the folder uses \"{}\"",
                        sidecar.codebook, codebook.id
                    ),
                ));
            }
            let Some(transcript) = by_path.get(sc.transcript.as_path()) else {
                if !sc.transcript.exists() {
                    found.push((
                        Severity::Error,
                        format!(
                            "its transcript {} is missing",
                            sc.transcript
                                .file_name()
                                .unwrap_or_default()
                                .to_string_lossy()
                        ),
                    ));
                }
                return (true, found);
            };
            for p in sidecar.check(transcript, &codebook) {
                let severity = if p.is_error {
                    Severity::Error
                } else {
                    Severity::Warning
                };
                found.push((severity, p.message));
            }
            (true, found)
        })
        .collect();
    for (sc, (counted, found)) in files.sidecars.iter().zip(checked) {
        report.sidecars += usize::from(counted);
        for (severity, message) in found {
            add(severity, &sc.path, message);
        }
    }
    report.findings.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(report)
}

/// Error messages of the core end with `: <path>`; in a finding the path is shown separately.
fn strip_path(message: &str, path: &Path) -> String {
    let suffix = format!(": {}", path.display());
    message.strip_suffix(&suffix).unwrap_or(message).to_string()
}

/// One row of the corpus list: what is shown and filtered on without opening the document.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The transcript file.
    pub path: PathBuf,
    /// Its file name.
    pub file_name: String,
    /// Title, or the file name when the page has none.
    pub title: String,
    /// Meeting or session date.
    pub date: Option<chrono::NaiveDate>,
    /// Who asked.
    pub member: String,
    /// The asker's party or organisation.
    pub party: String,
    /// Who was asked.
    pub asked_of: String,
    /// The layout.
    pub format: crate::transcript::Format,
    /// Whether the question was answered.
    pub answer_status: crate::transcript::AnswerStatus,
    /// This annotator's status on it.
    pub status: crate::sidecar::Status,
    /// This annotator's number of codings.
    pub codings: usize,
    /// This annotator's part tags: (dimension, value).
    pub tags: Vec<(String, String)>,
    /// This annotator's spans: (dimension, value).
    pub cites: Vec<(String, String)>,
    /// Why the transcript or this annotator's sidecar could not be read.
    pub error: Option<String>,
}

impl Entry {
    /// True when every word of the query appears (case- and accent-insensitively) in the title,
    /// file name, member, party or asked-of.
    pub fn matches(&self, query: &str) -> bool {
        let haystack = crate::search::fold(&format!(
            "{} {} {} {} {}",
            self.title, self.file_name, self.member, self.party, self.asked_of
        ));
        crate::search::fold(query)
            .split_whitespace()
            .all(|word| haystack.contains(word))
    }

    /// Takes the row's fields from a loaded transcript.
    pub fn fill_from(&mut self, t: &Transcript) {
        let m = &t.meta;
        if !m.title.is_empty() {
            self.title = m.title.clone();
        }
        self.date = m.meeting_date.or(m.session_date);
        self.member = m.question_by.clone().unwrap_or_default();
        self.party = m.organisation.clone().unwrap_or_default();
        self.asked_of = m.asked_of.clone().unwrap_or_default();
        self.format = t.format;
        self.answer_status = m.status;
    }

    /// Takes this annotator's status and codes from their sidecar.
    pub fn fill_codes(&mut self, s: &Sidecar) {
        self.status = s.status;
        self.codings = s.coding_count();
        self.tags = s
            .tags
            .values()
            .flat_map(|dims| {
                dims.iter()
                    .flat_map(|(d, vals)| vals.iter().map(move |v| (d.clone(), v.clone())))
            })
            .collect();
        self.cites = s
            .spans
            .iter()
            .map(|x| (x.dimension.clone(), x.value.clone()))
            .collect();
    }

    fn blank(path: &Path) -> Entry {
        let file_name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        Entry {
            path: path.to_path_buf(),
            title: file_name.clone(),
            file_name,
            date: None,
            member: String::new(),
            party: String::new(),
            asked_of: String::new(),
            format: crate::transcript::Format::Plain,
            answer_status: crate::transcript::AnswerStatus::Answered,
            status: crate::sidecar::Status::NotStarted,
            codings: 0,
            tags: Vec::new(),
            cites: Vec::new(),
            error: None,
        }
    }
}

/// A combination of filters on the corpus list; empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Words anywhere in title, file name, member, party, asked of.
    pub text: String,
    /// Any of these members (none: every member).
    pub members: Vec<String>,
    /// Exactly this party.
    pub party: Option<String>,
    /// Exactly this office-holder.
    pub asked_of: Option<String>,
    /// On or after this date.
    pub from: Option<chrono::NaiveDate>,
    /// On or before this date.
    pub to: Option<chrono::NaiveDate>,
    /// This answer status.
    pub answer_status: Option<crate::transcript::AnswerStatus>,
    /// This annotation status.
    pub status: Option<crate::sidecar::Status>,
    /// Tag query: `dimension=value` terms and `cites:"Home Office"` terms, all required.
    pub tags: String,
}

/// A term of a tag query.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TagTerm {
    /// A part tag (dimension id or label, value id or label, compared folded).
    Tag(String, String),
    /// A span whose value contains the text.
    Cites(String),
}

/// A tag query that cannot be used, said so the user can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// A term that is neither `dimension=value` nor `cites:"name"`.
    #[error("\"{0}\": write dimension=value or cites:\"name\"")]
    Syntax(String),
    /// A dimension the codebook does not have.
    #[error("no dimension \"{dimension}\" in the codebook; use one of {known}")]
    NoDimension {
        /// The dimension as written (folded).
        dimension: String,
        /// The part dimensions' ids, comma-separated.
        known: String,
    },
    /// A value the dimension does not have.
    #[error("\"{value}\" is not a value of {dimension}; use one of {known}")]
    NoValue {
        /// The value as written (folded).
        value: String,
        /// The dimension's label.
        dimension: String,
        /// Its values' ids, comma-separated.
        known: String,
    },
}

/// Parses a tag query such as `tone_answer=evasive topic=housing cites:"Home Office"`.
fn tag_terms(query: &str) -> Result<Vec<TagTerm>, FilterError> {
    let mut out = Vec::new();
    let mut rest = query.trim();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("cites:") {
            let (value, tail) = if let Some(q) = after.strip_prefix('"') {
                q.split_once('"').unwrap_or((q, ""))
            } else {
                after.split_once(char::is_whitespace).unwrap_or((after, ""))
            };
            out.push(TagTerm::Cites(crate::search::fold(value.trim())));
            rest = tail.trim_start();
            continue;
        }
        let (term, tail) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let Some((d, v)) = term.split_once('=') else {
            return Err(FilterError::Syntax(term.to_string()));
        };
        out.push(TagTerm::Tag(crate::search::fold(d), crate::search::fold(v)));
        rest = tail.trim_start();
    }
    Ok(out)
}

/// Columns the list can be sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SortKey {
    /// Path order (as found).
    #[default]
    Path,
    /// Date.
    Date,
    /// Title.
    Title,
    /// Member.
    Member,
    /// Party.
    Party,
    /// Asked of.
    AskedOf,
    /// Annotation status.
    Status,
    /// Number of codings.
    Tags,
}

/// A corpus opened for one annotator: its rows, its codebook, the entity values in use and the
/// full-text index.
#[derive(Debug, Clone, Default)]
pub struct CorpusIndex {
    /// The files.
    pub files: CorpusFiles,
    /// One entry per transcript, in path order.
    pub entries: Vec<Entry>,
    /// The codebook in force.
    pub codebook: Codebook,
    /// Why the folder's codebook could not be used (the built-in one is used instead).
    pub codebook_error: Option<String>,
    /// Values used for each entity dimension in any sidecar of the corpus, for completion.
    pub entity_values: std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
    /// Full-text index over every part, by entry index.
    pub search: crate::search::SearchIndex,
    /// True once every transcript has been read.
    pub complete: bool,
}

/// What a streaming load reports, in order: the files, then rows in path order, then the end.
#[derive(Debug)]
pub enum LoadEvent {
    /// The folder was scanned.
    Started(Box<CorpusIndex>),
    /// Rows read, continuing the list; with the entity values found in their sidecars.
    Entries(Vec<Entry>, Vec<(String, String)>),
    /// Everything is read; the full-text index.
    Finished(crate::search::SearchIndex),
}

/// A row read by a batch: the entry, its parts' folded text (for the index) and entity values found.
type LoadedRow = (Entry, crate::search::FoldedDocument, Vec<(String, String)>);

/// Transcripts read per batch: a batch is parsed on all cores, then handed to the list.
const BATCH: usize = 512;

/// Reads a corpus folder in batches on all cores, reporting each batch as it is ready, so a list can
/// fill while the rest loads.
pub fn load_streaming(
    root: &Path,
    annotator: &str,
    send: &mut dyn FnMut(LoadEvent),
) -> std::io::Result<()> {
    use rayon::prelude::*;
    let files = scan(root)?;
    // Opening the folder in the app tidies what killed writes left, once they are surely abandoned.
    for t in &files.temps {
        crate::fsutil::remove_if_stale(t);
    }
    let (codebook, codebook_error) = match &files.codebook {
        Some(path) => match Codebook::load(path) {
            Ok(cb) => (cb, None),
            Err(e) => (Codebook::builtin(), Some(e.to_string())),
        },
        None => (Codebook::builtin(), None),
    };
    // Keyed by the path's bytes: a `Path` hashes component by component, parsing it again.
    let mut by_transcript: std::collections::HashMap<std::ffi::OsString, Vec<SidecarFile>> =
        std::collections::HashMap::new();
    for sc in &files.sidecars {
        by_transcript
            .entry(sc.transcript.clone().into_os_string())
            .or_default()
            .push(sc.clone());
    }
    let paths = files.transcripts.clone();
    let entity_dims: std::collections::HashSet<String> = codebook
        .dimensions
        .iter()
        .filter(|d| d.kind == crate::codebook::DimensionKind::Entity)
        .map(|d| d.id.clone())
        .collect();
    send(LoadEvent::Started(Box::new(CorpusIndex {
        files,
        codebook,
        codebook_error,
        ..CorpusIndex::default()
    })));
    let mut search = crate::search::SearchIndex::default();
    let mut next = 0usize;
    for chunk in paths.chunks(BATCH) {
        let loaded: Vec<LoadedRow> = chunk
            .par_iter()
            .map(|path| {
                let mut entry = Entry::blank(path);
                let mut folded = crate::search::FoldedDocument::default();
                match Transcript::load(path) {
                    Ok(t) => {
                        entry.fill_from(&t);
                        folded = crate::search::FoldedDocument::of(&t);
                    }
                    Err(e) => entry.error = Some(e.to_string()),
                }
                let mut values = Vec::new();
                // Only this annotator's sidecar is needed for the list; colleagues' are read after.
                for sc in by_transcript
                    .get(path.as_os_str())
                    .into_iter()
                    .flatten()
                    .filter(|sc| sc.annotator == annotator)
                {
                    match Sidecar::load(&sc.path) {
                        Ok(l) => {
                            values.extend(entity_values_of(&l.sidecar, &entity_dims));
                            entry.fill_codes(&l.sidecar);
                        }
                        Err(e) => entry.error = Some(e.to_string()),
                    }
                }
                (entry, folded, values)
            })
            .collect();
        let mut entries = Vec::with_capacity(loaded.len());
        let mut values = Vec::new();
        for (entry, folded, v) in loaded {
            search.add_document(next, &folded);
            next += 1;
            entries.push(entry);
            values.extend(v);
        }
        send(LoadEvent::Entries(entries, values));
    }
    send(LoadEvent::Finished(search));
    // Completion values from colleagues' sidecars: useful, not needed to show the list.
    let others: Vec<&SidecarFile> = by_transcript
        .values()
        .flatten()
        .filter(|sc| sc.annotator != annotator)
        .collect();
    let values: Vec<(String, String)> = others
        .par_iter()
        .flat_map_iter(|sc| match Sidecar::load(&sc.path) {
            Ok(l) => entity_values_of(&l.sidecar, &entity_dims),
            Err(_) => Vec::new(),
        })
        .collect();
    send(LoadEvent::Entries(Vec::new(), values));
    Ok(())
}

fn entity_values_of(
    s: &Sidecar,
    entity_dims: &std::collections::HashSet<String>,
) -> Vec<(String, String)> {
    s.spans
        .iter()
        .filter(|x| entity_dims.contains(&x.dimension) && !x.value.is_empty())
        .map(|x| (x.dimension.clone(), x.value.clone()))
        .collect()
}

impl CorpusIndex {
    /// Reads the folder: every transcript's header, this annotator's sidecars, the entity values
    /// used by anyone, and the full-text index.
    pub fn load(root: &Path, annotator: &str) -> std::io::Result<CorpusIndex> {
        let mut index = CorpusIndex::default();
        load_streaming(root, annotator, &mut |e| index.apply(e))?;
        Ok(index)
    }

    /// Takes one event of a streaming load.
    pub fn apply(&mut self, event: LoadEvent) {
        match event {
            LoadEvent::Started(start) => *self = *start,
            LoadEvent::Entries(entries, values) => {
                self.entries.extend(entries);
                for (d, v) in values {
                    self.entity_values.entry(d).or_default().insert(v);
                }
            }
            LoadEvent::Finished(search) => {
                self.search = search;
                self.complete = true;
            }
        }
    }

    /// Indices of the entries matching a filter query, in order.
    pub fn filter(&self, query: &str) -> Vec<usize> {
        self.filter_by(&Filter {
            text: query.to_string(),
            ..Filter::default()
        })
        .unwrap_or_default()
    }

    /// Indices of the entries passing every filter, in path order; an error for a bad tag query.
    pub fn filter_by(&self, f: &Filter) -> Result<Vec<usize>, FilterError> {
        let terms = tag_terms(&f.tags)?;
        check_terms(&self.codebook, &terms)?;
        Ok((0..self.entries.len())
            .filter(|&i| {
                let e = &self.entries[i];
                (f.text.is_empty() || e.matches(&f.text))
                    && (f.members.is_empty() || f.members.contains(&e.member))
                    && f.party.as_ref().is_none_or(|p| *p == e.party)
                    && f.asked_of.as_ref().is_none_or(|a| *a == e.asked_of)
                    && f.from.is_none_or(|d| e.date.is_some_and(|x| x >= d))
                    && f.to.is_none_or(|d| e.date.is_some_and(|x| x <= d))
                    && f.answer_status.is_none_or(|s| e.answer_status == s)
                    && f.status.is_none_or(|s| e.status == s)
                    && passes_terms(&self.codebook, e, &terms)
            })
            .collect())
    }

    /// The entries whose sidecar by `annotator` (a colleague, or the reconciled set) passes the
    /// tag query, read from disk on every core: the list's own tags are the user's.
    pub fn tag_matches_of(&self, query: &str, annotator: &str) -> Result<Vec<usize>, FilterError> {
        tag_matches(&self.entries, &self.codebook, query, annotator)
    }

    /// Sorts entry indices by a column.
    pub fn sort(&self, rows: &mut [usize], key: SortKey, descending: bool) {
        let e = &self.entries;
        match key {
            SortKey::Path => rows.sort(),
            SortKey::Date => {
                // Undated rows go last either way.
                rows.sort_by_key(|&i| (e[i].date.is_none(), e[i].date));
                if descending {
                    let dated = rows.iter().take_while(|&&i| e[i].date.is_some()).count();
                    rows[..dated].reverse();
                }
                return;
            }
            SortKey::Title => rows.sort_by_cached_key(|&i| crate::search::fold(&e[i].title)),
            SortKey::Member => rows.sort_by_cached_key(|&i| crate::search::fold(&e[i].member)),
            SortKey::Party => rows.sort_by_cached_key(|&i| crate::search::fold(&e[i].party)),
            SortKey::AskedOf => rows.sort_by_cached_key(|&i| crate::search::fold(&e[i].asked_of)),
            SortKey::Status => rows.sort_by_key(|&i| e[i].status as u8),
            SortKey::Tags => rows.sort_by_key(|&i| e[i].codings),
        }
        if descending {
            rows.reverse();
        }
    }

    /// The distinct values of a column, sorted, for filter choices.
    pub fn distinct(&self, column: impl Fn(&Entry) -> &str) -> Vec<String> {
        let set: std::collections::BTreeSet<&str> = self
            .entries
            .iter()
            .map(&column)
            .filter(|s| !s.is_empty())
            .collect();
        set.into_iter().map(String::from).collect()
    }

    /// Suggestions for an entity dimension: the codebook's known values and the values used in the
    /// corpus, those containing `typed` (case-insensitively), known values first.
    pub fn suggestions(&self, dimension: &str, typed: &str) -> Vec<String> {
        let typed = crate::search::fold(typed);
        let mut out: Vec<String> = Vec::new();
        let known = self
            .codebook
            .dimension(dimension)
            .map(|d| d.known_values.clone())
            .unwrap_or_default();
        let used = self
            .entity_values
            .get(dimension)
            .into_iter()
            .flatten()
            .cloned();
        for v in known.into_iter().chain(used) {
            if crate::search::fold(&v).contains(&typed) && !out.contains(&v) {
                out.push(v);
            }
        }
        out
    }
}

/// The indices of `entries` whose sidecar by `annotator` passes the tag query, read from disk on
/// every core (a missing or unreadable sidecar passes nothing).
pub fn tag_matches(
    entries: &[Entry],
    codebook: &Codebook,
    query: &str,
    annotator: &str,
) -> Result<Vec<usize>, FilterError> {
    use rayon::prelude::*;
    let terms = tag_terms(query)?;
    check_terms(codebook, &terms)?;
    Ok((0..entries.len())
        .into_par_iter()
        .filter(|&i| {
            let path = crate::sidecar::sidecar_path(&entries[i].path, annotator);
            let Ok(loaded) = Sidecar::load(&path) else {
                return false;
            };
            let mut e = entries[i].clone();
            e.fill_codes(&loaded.sidecar);
            passes_terms(codebook, &e, &terms)
        })
        .collect())
}

/// A term naming no dimension or value of the codebook would match nothing, silently: refused.
fn check_terms(codebook: &Codebook, terms: &[TagTerm]) -> Result<(), FilterError> {
    for t in terms {
        let TagTerm::Tag(d, v) = t else { continue };
        let fold = crate::search::fold;
        let Some(def) = codebook
            .dimensions
            .iter()
            .find(|x| fold(&x.id) == *d || fold(&x.label) == *d)
        else {
            let ids: Vec<&str> = codebook
                .dimensions
                .iter()
                .filter(|x| x.applies_to != crate::codebook::AppliesTo::Span)
                .map(|x| x.id.as_str())
                .collect();
            return Err(FilterError::NoDimension {
                dimension: d.clone(),
                known: ids.join(", "),
            });
        };
        let known = def.kind == crate::codebook::DimensionKind::Entity
            || def
                .values
                .iter()
                .any(|x| fold(&x.id) == *v || fold(&x.label) == *v);
        if !known {
            let ids: Vec<&str> = def.values.iter().map(|x| x.id.as_str()).collect();
            return Err(FilterError::NoValue {
                value: v.clone(),
                dimension: def.label.clone(),
                known: ids.join(", "),
            });
        }
    }
    Ok(())
}

/// The entry's tags pass every term; a term may name a dimension or value by id or label.
fn passes_terms(codebook: &Codebook, e: &Entry, terms: &[TagTerm]) -> bool {
    let matches_tag = |e: &Entry, d: &str, v: &str| {
        e.tags.iter().any(|(dim, val)| {
            let def = codebook.dimension(dim);
            let dim_ok = crate::search::fold(dim) == d
                || def.is_some_and(|x| crate::search::fold(&x.label) == d);
            let val_ok = crate::search::fold(val) == v
                || def
                    .and_then(|x| x.value(val))
                    .is_some_and(|x| crate::search::fold(&x.label) == v);
            dim_ok && val_ok
        })
    };
    terms.iter().all(|t| match t {
        TagTerm::Tag(d, v) => matches_tag(e, d, v),
        TagTerm::Cites(text) => e
            .cites
            .iter()
            .any(|(_, v)| crate::search::fold(v).contains(text.as_str())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_of_sample_data() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
        let index = CorpusIndex::load(&root, "alice").unwrap();
        assert_eq!(index.entries.len(), 15);
        let prevent = index
            .entries
            .iter()
            .find(|e| e.file_name == "prevent.txt")
            .unwrap();
        assert_eq!(prevent.title, "Prevent strategy");
        assert_eq!(prevent.member, "Roger Evans");
        assert_eq!(prevent.status, crate::sidecar::Status::Done);
        assert_eq!(prevent.codings, 9);
        assert_eq!(index.filter("conservatives").len(), 4);
        assert_eq!(index.filter("roger prevent").len(), 1);
        let s = index.suggestions("authority_person", "fahy");
        assert_eq!(s, ["Sir Peter Fahy"]);
        // Values used only in sidecars are offered too.
        assert!(
            index
                .suggestions("authority_report", "")
                .contains(&"KPMG review".to_string())
        );
    }

    #[test]
    fn filters_combine_and_sort() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
        let index = CorpusIndex::load(&root, "alice").unwrap();
        assert!(index.complete);
        assert!(
            !index
                .search
                .search("Sir Peter Fahy", crate::search::Scope::Answer, 10)
                .is_empty()
        );
        let names = |rows: &[usize]| {
            rows.iter()
                .map(|&i| index.entries[i].file_name.clone())
                .collect::<Vec<_>>()
        };
        let f = Filter {
            tags: "tone_answer=defensive".into(),
            ..Filter::default()
        };
        assert_eq!(
            names(&index.filter_by(&f).unwrap()),
            ["crossrail-delay.txt", "fares-freeze.txt", "prevent.txt"]
        );
        let f = Filter {
            tags: "topic=housing".into(),
            ..Filter::default()
        };
        assert_eq!(names(&index.filter_by(&f).unwrap()), ["housing-zones.txt"]);
        // A citation and a party, and a tag named by its labels.
        let f = Filter {
            tags: "cites:\"Home Office\" Tone=Defensive".into(),
            party: Some("GLA Conservatives".into()),
            ..Filter::default()
        };
        assert!(
            index.filter_by(&f).is_err(),
            "labels must match whole: Tone is not a dimension, and saying so beats 0 results"
        );
        let f = Filter {
            tags: "cites:\"Home Office\" tone_answer=Defensive".into(),
            party: Some("GLA Conservatives".into()),
            ..Filter::default()
        };
        assert_eq!(names(&index.filter_by(&f).unwrap()), ["prevent.txt"]);
        let f = Filter {
            from: chrono::NaiveDate::from_ymd_opt(2016, 1, 1),
            to: chrono::NaiveDate::from_ymd_opt(2016, 12, 31),
            ..Filter::default()
        };
        assert_eq!(index.filter_by(&f).unwrap().len(), 3);
        let f = Filter {
            answer_status: Some(crate::transcript::AnswerStatus::Unanswered),
            ..Filter::default()
        };
        assert_eq!(names(&index.filter_by(&f).unwrap()), ["night-tube.txt"]);
        let f = Filter {
            status: Some(crate::sidecar::Status::Done),
            members: vec!["Roger Evans".into()],
            ..Filter::default()
        };
        assert_eq!(names(&index.filter_by(&f).unwrap()), ["prevent.txt"]);
        assert!(
            index
                .filter_by(&Filter {
                    tags: "nonsense".into(),
                    ..Filter::default()
                })
                .is_err()
        );
        // An unknown dimension or value is an error naming what exists, never 0 results.
        for (query, said) in [
            ("tone=angry", "no dimension \"tone\""),
            (
                "tone_answer=angry",
                "\"angry\" is not a value of Tone of answer",
            ),
        ] {
            let e = index
                .filter_by(&Filter {
                    tags: query.into(),
                    ..Filter::default()
                })
                .unwrap_err();
            assert!(e.to_string().contains(said), "{e}");
        }
        let mut rows = index.filter("");
        index.sort(&mut rows, SortKey::Date, false);
        assert_eq!(index.entries[rows[0]].file_name, "police-numbers.txt");
        index.sort(&mut rows, SortKey::Date, true);
        assert_eq!(index.entries[rows[0]].file_name, "cost-of-living.txt");
        assert!(
            index
                .distinct(|e| &e.party)
                .contains(&"Green Party".to_string())
        );
    }

    /// The listing walks folders depth first in file-name order (bytes), as a sorted walkdir walk
    /// does (the oracle here), leaves hidden folders out and says what it passes over.
    #[test]
    fn the_listing_is_in_the_order_of_a_sorted_walk() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let files = [
            "b.txt",
            "B.txt",
            "a.txt",
            "a.txt.ann.ron",
            "ab/c.txt",
            "ab/Z/d.txt",
            "ab/Z/d.txt.ben.ron",
            "ab/a-b.txt",
            "a b/e.txt",
            "a0/e.txt",
            "2019/mqt-2019-01-02-00002.txt",
            "2019/mqt-2019-01-02-00001.txt",
            "2019/sub/x.vtt",
            ".git/hidden.txt",
            "ab/.cache/hidden.txt",
            "ab/.page.txt.k3j9.tmp",
            "notes.md",
            "ab/Z/codebook.ron",
            "codebook.ron",
        ];
        for f in files {
            let path = root.join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "Q: a question\nA: an answer\n").unwrap();
        }
        std::fs::create_dir_all(root.join("ab/folder.txt")).unwrap();
        let found = scan(root).unwrap();
        let mut expected = Vec::new();
        let walk = walkdir::WalkDir::new(root)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        for e in walk {
            let e = e.unwrap();
            if e.file_type().is_file() && is_transcript_name(&e.file_name().to_string_lossy()) {
                expected.push(e.path().to_path_buf());
            }
        }
        assert_eq!(found.transcripts, expected);
        assert_eq!(found.transcripts.len(), 11);
        assert_eq!(found.codebook, Some(root.join("codebook.ron")));
        let sidecars: Vec<(&Path, &str)> = found
            .sidecars
            .iter()
            .map(|s| (s.transcript.as_path(), s.annotator.as_str()))
            .collect();
        assert_eq!(
            sidecars,
            [
                (root.join("a.txt").as_path(), "ann"),
                (root.join("ab/Z/d.txt").as_path(), "ben")
            ]
        );
        assert_eq!(found.temps, [root.join("ab/.page.txt.k3j9.tmp")]);
        assert_eq!(
            found.skipped,
            [(
                root.join("ab/folder.txt"),
                "is a folder, not a file: not read".to_string()
            )]
        );
        // A folder given as a file's parent that vanished is said, not a panic.
        let gone = root.join("gone");
        let mut said = Vec::new();
        walk_sorted(&gone, &mut |m| {
            if let Err((path, e)) = m {
                said.push((path.to_path_buf(), e.kind()));
            }
        });
        assert_eq!(said, [(gone, std::io::ErrorKind::NotFound)]);
    }
}
