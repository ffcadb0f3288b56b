//! A corpus read whole: every transcript with the sidecars chosen, loaded on all cores. The input of
//! exports (and, later, of agreement statistics).

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::codebook::Codebook;
use crate::corpus::{CorpusFiles, scan};
use crate::sidecar::{Sidecar, Status};
use crate::transcript::Transcript;

/// Which sidecars to take.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these annotators (all when `None`).
    pub annotators: Option<Vec<String>>,
    /// Only sidecars marked done.
    pub only_done: bool,
    /// Only these transcripts (all when `None`), e.g. the documents in the app's current filter.
    pub only_paths: Option<Vec<PathBuf>>,
}

impl Selection {
    /// True when no filter narrows the sidecars, so uncoded documents belong in the output too.
    pub fn takes_everything(&self) -> bool {
        self.annotators.is_none() && !self.only_done
    }
}

/// One transcript and its chosen sidecars.
#[derive(Debug, Clone)]
pub struct DocumentData {
    /// The transcript file.
    pub path: PathBuf,
    /// Its path relative to the corpus folder, with `/` separators.
    pub relative: String,
    /// The transcript.
    pub transcript: Transcript,
    /// The chosen sidecars, by annotator id.
    pub sidecars: Vec<Sidecar>,
}

/// A corpus read for export or statistics.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The folder.
    pub root: PathBuf,
    /// The codebook in force.
    pub codebook: Codebook,
    /// Documents in path order.
    pub documents: Vec<DocumentData>,
    /// Files that could not be read, each as a one-line message naming the file.
    pub warnings: Vec<String>,
}

/// Why a dataset could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The folder cannot be read.
    #[error("cannot read folder {}: {source}", path.display())]
    Folder {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The folder's codebook is broken.
    #[error(transparent)]
    Codebook(#[from] crate::codebook::CodebookError),
}

/// Puts every sidecar's tags and spans in the same exchanges (turn-based transcripts, where an
/// annotator may have set who asks and who answers): the annotators' when they all set the same
/// roles, else the guessed ones, into which each other sidecar's codings are carried; what cannot
/// follow is said. Without this an export would read a sidecar's parts in exchanges it was not
/// coded in.
fn align_roles(
    transcript: &mut Transcript,
    sidecars: &mut [Sidecar],
    path: &Path,
    warnings: &mut Vec<String>,
) {
    let Some(first) = sidecars.first() else {
        return;
    };
    if transcript.layout.is_none() || sidecars.iter().all(|s| s.roles.is_empty()) {
        return;
    }
    if sidecars.iter().all(|s| s.roles == first.roles) {
        let roles = first.roles.clone();
        transcript.set_roles(&roles);
        return;
    }
    for s in sidecars.iter_mut().filter(|s| !s.roles.is_empty()) {
        let theirs = transcript.with_roles(&s.roles);
        let Some(carried) = crate::document::carry_codings(&theirs, transcript, &s.tags, &s.spans)
        else {
            continue;
        };
        warnings.push(format!(
            "{} set speaker roles that other annotators did not: their codings are read in the guessed exchanges{}: {}",
            s.annotator.id,
            if carried.unplaced.is_empty() {
                String::new()
            } else {
                format!("; not carried: {}", carried.unplaced.join("; "))
            },
            path.display()
        ));
        s.tags = carried.tags;
        s.spans = carried.spans;
    }
}

/// Relative path with `/` separators.
pub fn relative_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

impl Dataset {
    /// Reads the corpus under `root` with the chosen sidecars, reporting progress as
    /// (documents read, total).
    pub fn load(
        root: &Path,
        selection: &Selection,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Dataset, DatasetError> {
        let files = scan(root).map_err(|source| DatasetError::Folder {
            path: root.to_path_buf(),
            source,
        })?;
        let codebook = match &files.codebook {
            Some(p) => Codebook::load(p)?,
            None => Codebook::builtin(),
        };
        Ok(Dataset::from_files(
            root, files, codebook, selection, progress,
        ))
    }

    fn from_files(
        root: &Path,
        files: CorpusFiles,
        codebook: Codebook,
        selection: &Selection,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Dataset {
        // A set, not a scan of the list per transcript: exporting a selection of thousands of
        // documents would be quadratic.
        let only: Option<std::collections::HashSet<&Path>> = selection
            .only_paths
            .as_ref()
            .map(|only| only.iter().map(PathBuf::as_path).collect());
        let wanted: Vec<&PathBuf> = files
            .transcripts
            .iter()
            .filter(|p| only.as_ref().is_none_or(|only| only.contains(p.as_path())))
            .collect();
        let mut by_transcript: std::collections::HashMap<&Path, Vec<&crate::corpus::SidecarFile>> =
            std::collections::HashMap::new();
        for sc in &files.sidecars {
            by_transcript
                .entry(sc.transcript.as_path())
                .or_default()
                .push(sc);
        }
        let total = wanted.len();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<(Option<DocumentData>, Vec<String>)> = wanted
            .par_iter()
            .map(|path| {
                let mut warnings = Vec::new();
                let transcript = match Transcript::load(path) {
                    Ok(t) => t,
                    Err(e) => {
                        warnings.push(e.to_string());
                        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                        progress(n, total);
                        return (None, warnings);
                    }
                };
                let mut sidecars = Vec::new();
                for sc in by_transcript.get(path.as_path()).into_iter().flatten() {
                    if selection
                        .annotators
                        .as_ref()
                        .is_some_and(|a| !a.contains(&sc.annotator))
                    {
                        continue;
                    }
                    match Sidecar::load(&sc.path) {
                        Ok(l) if l.sidecar.annotator.id != sc.annotator => warnings.push(format!(
                            "skipped: the file name says annotator \"{}\" but the file says \"{}\": {}",
                            sc.annotator,
                            l.sidecar.annotator.id,
                            sc.path.display()
                        )),
                        Ok(l) if selection.only_done && l.sidecar.status != Status::Done => {}
                        Ok(l) => sidecars.push(l.sidecar),
                        Err(e) => warnings.push(e.to_string()),
                    }
                }
                sidecars.sort_by(|a, b| a.annotator.id.cmp(&b.annotator.id));
                let mut transcript = transcript;
                align_roles(&mut transcript, &mut sidecars, path, &mut warnings);
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress(n, total);
                let doc = DocumentData {
                    relative: relative_path(root, path),
                    path: (*path).clone(),
                    transcript,
                    sidecars,
                };
                (Some(doc), warnings)
            })
            .collect();
        let mut documents = Vec::new();
        let mut warnings: Vec<String> = files
            .skipped
            .iter()
            .map(|(p, why)| format!("skipped: {why}: {}", p.display()))
            .collect();
        for (doc, w) in results {
            warnings.extend(w);
            if let Some(d) = doc {
                documents.push(d);
            }
        }
        Dataset {
            root: root.to_path_buf(),
            codebook,
            documents,
            warnings,
        }
    }

    /// The annotator ids present, sorted.
    pub fn annotators(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .documents
            .iter()
            .flat_map(|d| {
                d.sidecars
                    .iter()
                    .map(|s| (s.annotator.id.clone(), s.annotator.name.clone()))
            })
            .collect();
        out.sort();
        out.dedup_by(|a, b| a.0 == b.0);
        out
    }
}
