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

/// True for a file name Marginalia reads as a transcript.
pub fn is_transcript_name(name: &str) -> bool {
    !name.starts_with('.')
        && Path::new(name)
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| TRANSCRIPT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
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
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    let mut ron_files = Vec::new();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| root.to_path_buf());
                files.skipped.push((path, e.to_string()));
                continue;
            }
        };
        let path = entry.path();
        if entry.file_type().is_symlink() {
            match path.canonicalize() {
                Ok(target) if target.starts_with(&canonical_root) && target.is_file() => {}
                Ok(_) => {
                    files.skipped.push((
                        path.to_path_buf(),
                        "symlink leads outside the folder".to_string(),
                    ));
                    continue;
                }
                Err(_) => {
                    files
                        .skipped
                        .push((path.to_path_buf(), "broken symlink".to_string()));
                    continue;
                }
            }
        } else if !entry.file_type().is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if entry.depth() == 1 && name == CODEBOOK_FILE_NAME {
            files.codebook = Some(path.to_path_buf());
        } else if is_transcript_name(&name) {
            files.transcripts.push(path.to_path_buf());
        } else if name.ends_with(".ron") {
            ron_files.push(path.to_path_buf());
        }
    }
    for path in ron_files {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if let Some((transcript, annotator)) = parse_sidecar_name(&name)
            && is_transcript_name(transcript)
        {
            files.sidecars.push(SidecarFile {
                transcript: path.with_file_name(transcript),
                annotator: annotator.to_string(),
                path,
            });
        }
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
pub fn validate(root: &Path) -> std::io::Result<ValidationReport> {
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
    let mut loaded: Vec<(PathBuf, Transcript)> = Vec::new();
    for path in &files.transcripts {
        match Transcript::load(path) {
            Ok(t) => {
                for w in &t.warnings {
                    add(Severity::Warning, path, w.clone());
                }
                loaded.push((path.clone(), t));
            }
            Err(e) => add(Severity::Error, path, strip_path(&e.to_string(), path)),
        }
    }
    report.transcripts = loaded.len();
    for sc in &files.sidecars {
        let sidecar = match Sidecar::load(&sc.path) {
            Ok(l) => l.sidecar,
            Err(e) => {
                add(
                    Severity::Error,
                    &sc.path,
                    strip_path(&e.to_string(), &sc.path),
                );
                continue;
            }
        };
        report.sidecars += 1;
        if sidecar.annotator.id != sc.annotator {
            add(
                Severity::Error,
                &sc.path,
                format!(
                    "the file name says annotator \"{}\" but the file says \"{}\"",
                    sc.annotator, sidecar.annotator.id
                ),
            );
        }
        if sidecar.codebook != codebook.id {
            add(
                Severity::Warning,
                &sc.path,
                format!(
                    "coded with codebook \"{}\", the folder uses \"{}\"",
                    sidecar.codebook, codebook.id
                ),
            );
        }
        let Some((_, transcript)) = loaded.iter().find(|(p, _)| *p == sc.transcript) else {
            if !sc.transcript.exists() {
                add(
                    Severity::Error,
                    &sc.path,
                    format!(
                        "its transcript {} is missing",
                        sc.transcript
                            .file_name()
                            .unwrap_or_default()
                            .to_string_lossy()
                    ),
                );
            }
            continue;
        };
        for p in sidecar.check(transcript, &codebook) {
            let severity = if p.is_error {
                Severity::Error
            } else {
                Severity::Warning
            };
            add(severity, &sc.path, p.message);
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
    /// This annotator's status on it.
    pub status: crate::sidecar::Status,
    /// This annotator's number of codings.
    pub codings: usize,
    /// Why the transcript or this annotator's sidecar could not be read.
    pub error: Option<String>,
}

impl Entry {
    /// True when every word of the query appears (case-insensitively) in the title, file name,
    /// member, party or asked-of.
    pub fn matches(&self, query: &str) -> bool {
        let haystack = format!(
            "{} {} {} {} {}",
            self.title, self.file_name, self.member, self.party, self.asked_of
        )
        .to_lowercase();
        query
            .to_lowercase()
            .split_whitespace()
            .all(|word| haystack.contains(word))
    }
}

/// A corpus opened for one annotator: its rows, its codebook and the entity values in use.
#[derive(Debug, Clone)]
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
}

impl CorpusIndex {
    /// Reads the folder: every transcript's header and every sidecar's tags.
    pub fn load(root: &Path, annotator: &str) -> std::io::Result<CorpusIndex> {
        let files = scan(root)?;
        let (codebook, codebook_error) = match &files.codebook {
            Some(path) => match Codebook::load(path) {
                Ok(cb) => (cb, None),
                Err(e) => (Codebook::builtin(), Some(e.to_string())),
            },
            None => (Codebook::builtin(), None),
        };
        let mut entity_values: std::collections::BTreeMap<_, std::collections::BTreeSet<_>> =
            Default::default();
        let mut mine = std::collections::HashMap::new();
        for sc in &files.sidecars {
            let Ok(loaded) = Sidecar::load(&sc.path) else {
                if sc.annotator == annotator {
                    mine.insert(sc.transcript.clone(), Err(()));
                }
                continue;
            };
            for span in &loaded.sidecar.spans {
                if let Some(d) = codebook.dimension(&span.dimension)
                    && d.kind == crate::codebook::DimensionKind::Entity
                    && !span.value.is_empty()
                {
                    entity_values
                        .entry(span.dimension.clone())
                        .or_default()
                        .insert(span.value.clone());
                }
            }
            if sc.annotator == annotator {
                mine.insert(sc.transcript.clone(), Ok(loaded.sidecar));
            }
        }
        let entries = files
            .transcripts
            .iter()
            .map(|path| {
                let file_name = path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                let mut entry = Entry {
                    path: path.clone(),
                    title: file_name.clone(),
                    file_name,
                    date: None,
                    member: String::new(),
                    party: String::new(),
                    asked_of: String::new(),
                    format: crate::transcript::Format::Plain,
                    status: crate::sidecar::Status::NotStarted,
                    codings: 0,
                    error: None,
                };
                match Transcript::load(path) {
                    Ok(t) => entry.fill_from(&t),
                    Err(e) => entry.error = Some(e.to_string()),
                }
                match mine.get(path) {
                    Some(Ok(s)) => {
                        entry.status = s.status;
                        entry.codings = s.coding_count();
                    }
                    Some(Err(())) => {
                        entry.error = Some("this annotator's sidecar cannot be read".to_string())
                    }
                    None => {}
                }
                entry
            })
            .collect();
        Ok(CorpusIndex {
            files,
            entries,
            codebook,
            codebook_error,
            entity_values,
        })
    }

    /// Indices of the entries matching a filter query, in order.
    pub fn filter(&self, query: &str) -> Vec<usize> {
        (0..self.entries.len())
            .filter(|&i| self.entries[i].matches(query))
            .collect()
    }

    /// Suggestions for an entity dimension: the codebook's known values and the values used in the
    /// corpus, those containing `typed` (case-insensitively), known values first.
    pub fn suggestions(&self, dimension: &str, typed: &str) -> Vec<String> {
        let typed = typed.to_lowercase();
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
            if v.to_lowercase().contains(&typed) && !out.contains(&v) {
                out.push(v);
            }
        }
        out
    }
}

impl Entry {
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
    }
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
}
