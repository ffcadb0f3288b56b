//! A corpus read whole: every transcript with the sidecars chosen, loaded on all cores. The input of
//! exports (and, later, of agreement statistics).

use std::path::{Path, PathBuf};

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
    /// The file's whole normalized text, when the stream was asked to keep it
    /// ([`DatasetStream::keep_sources`]) and the file is text.
    pub source: Option<String>,
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

/// How many documents a [`DatasetStream`] reads before handing them on: enough for every core to
/// have work, few enough that a chunk's documents (and what is made of them) stay small beside
/// the corpus (512 generated pages are about 10 MB read). The cores read no further than this
/// ahead of the results taken in order ([`crate::ordered::map_in_order`]'s window).
pub const CHUNK_DOCUMENTS: usize = 512;

/// Documents a worker takes at a time in [`DatasetStream::for_each`]: one at a time, handing each
/// on woke the writing thread per page (10,000 pages' JSON Lines 15% slower than by chunks).
pub const FOR_EACH_GROUP: usize = 16;

/// One transcript as read by a [`DatasetStream`]: the document, unless it could not be read, and
/// the warnings its files gave, each one line naming the file.
#[derive(Debug)]
pub struct Loaded {
    /// The document; `None` when its transcript could not be read.
    pub document: Option<DocumentData>,
    /// Warnings of its files (unreadable transcript or sidecars, roles carried).
    pub warnings: Vec<String>,
}

/// A corpus opened for reading document by document: its files listed and its codebook read, its
/// documents read only when [`DatasetStream::for_each`] walks them, at most a chunk ahead. What an
/// export of 100,000 pages reads from, so its memory is bounded by the chunk, not the corpus.
#[derive(Debug)]
pub struct DatasetStream {
    /// The folder.
    pub root: PathBuf,
    /// The codebook in force.
    pub codebook: Codebook,
    /// Files skipped when the folder was listed, one line each (the first warnings of a dataset).
    pub skipped: Vec<String>,
    /// The transcripts to read, in path order.
    wanted: Vec<PathBuf>,
    /// Each transcript's sidecar files, by the transcript's path as the listing made it (hashed
    /// as bytes: a `Path` hashes component by component, parsing it again).
    sidecars: crate::fasthash::FxHashMap<std::ffi::OsString, Vec<crate::corpus::SidecarFile>>,
    selection: Selection,
    keep_sources: bool,
}

impl DatasetStream {
    /// Lists the corpus under `root` and reads its codebook; no transcript is read yet.
    pub fn open(root: &Path, selection: &Selection) -> Result<DatasetStream, DatasetError> {
        let files = scan(root).map_err(|source| DatasetError::Folder {
            path: root.to_path_buf(),
            source,
        })?;
        let codebook = match &files.codebook {
            Some(p) => Codebook::load(p)?,
            None => Codebook::builtin(),
        };
        Ok(DatasetStream::from_files(root, files, codebook, selection))
    }

    fn from_files(
        root: &Path,
        files: CorpusFiles,
        codebook: Codebook,
        selection: &Selection,
    ) -> DatasetStream {
        // A set, not a scan of the list per transcript: exporting a selection of thousands of
        // documents would be quadratic.
        let only: Option<std::collections::HashSet<&Path>> = selection
            .only_paths
            .as_ref()
            .map(|only| only.iter().map(PathBuf::as_path).collect());
        let CorpusFiles {
            transcripts,
            sidecars: sidecar_files,
            skipped,
            ..
        } = files;
        let wanted: Vec<PathBuf> = transcripts
            .into_iter()
            .filter(|p| only.as_ref().is_none_or(|only| only.contains(p.as_path())))
            .collect();
        // Paths hashed with Fx, not SipHash (grouping a 100,000-page corpus's sidecars took a
        // fifth of the time before its first page was read): a folder crafted to collide costs
        // time, never a wrong group.
        let mut sidecars: crate::fasthash::FxHashMap<
            std::ffi::OsString,
            Vec<crate::corpus::SidecarFile>,
        > = crate::fasthash::FxHashMap::default();
        sidecars.reserve(wanted.len().min(sidecar_files.len()));
        for sc in sidecar_files {
            sidecars
                .entry(sc.transcript.clone().into_os_string())
                .or_default()
                .push(sc);
        }
        DatasetStream {
            root: root.to_path_buf(),
            codebook,
            skipped: skipped
                .iter()
                .map(|(p, why)| format!("skipped: {why}: {}", p.display()))
                .collect(),
            wanted,
            sidecars,
            selection: selection.clone(),
            keep_sources: false,
        }
    }

    /// Keeps each text file's normalized text with its document as it is read
    /// ([`DocumentData::source`]), for a writer that copies it out (a `.qdpx`'s sources).
    pub fn keep_sources(&mut self, keep: bool) {
        self.keep_sources = keep;
    }

    /// Keeps only the transcripts with sidecar files of at least `min` chosen annotators (by
    /// their file names), and returns the annotator ids those names give across the whole corpus.
    /// Agreement compares documents coded twice or more: the rest need not be read at all (two
    /// thirds of a generated corpus). A sidecar whose contents name another annotator is still
    /// skipped with a warning when the document is read.
    pub fn keep_coded_by(&mut self, min: usize) -> std::collections::BTreeSet<String> {
        let chosen = |a: &String| {
            self.selection
                .annotators
                .as_ref()
                .is_none_or(|only| only.contains(a))
        };
        let mut present = std::collections::BTreeSet::new();
        let mut coded = std::collections::HashSet::new();
        for (transcript, files) in &self.sidecars {
            let ids: std::collections::BTreeSet<&String> = files
                .iter()
                .map(|f| &f.annotator)
                .filter(|a| chosen(a))
                .collect();
            if ids.len() >= min {
                coded.insert(transcript.as_os_str());
            }
            present.extend(ids.into_iter().cloned());
        }
        let wanted = std::mem::take(&mut self.wanted);
        self.wanted = wanted
            .into_iter()
            .filter(|p| coded.contains(p.as_os_str()))
            .collect();
        present
    }

    /// Number of transcripts to read.
    pub fn len(&self) -> usize {
        self.wanted.len()
    }

    /// True when the corpus has no transcript to read.
    pub fn is_empty(&self) -> bool {
        self.wanted.is_empty()
    }

    /// Reads the transcript at `path` (one of the corpus's, as listed) with its chosen sidecars,
    /// whether or not a walk would read it; `None` when it cannot be read.
    pub fn read_document(&self, path: &Path) -> Option<DocumentData> {
        self.load_one(path).document
    }

    /// Reads one transcript with its chosen sidecars.
    fn load_one(&self, path: &Path) -> Loaded {
        let mut warnings = Vec::new();
        let (transcript, source) = match Transcript::load_with_source(path, self.keep_sources) {
            Ok(t) => t,
            Err(e) => {
                warnings.push(e.to_string());
                return Loaded {
                    document: None,
                    warnings,
                };
            }
        };
        let mut sidecars = Vec::new();
        for sc in self.sidecars.get(path.as_os_str()).into_iter().flatten() {
            if self
                .selection
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
                Ok(l) if self.selection.only_done && l.sidecar.status != Status::Done => {}
                Ok(l) => sidecars.push(l.sidecar),
                Err(e) => warnings.push(e.to_string()),
            }
        }
        sidecars.sort_by(|a, b| a.annotator.id.cmp(&b.annotator.id));
        let mut transcript = transcript;
        align_roles(&mut transcript, &mut sidecars, path, &mut warnings);
        Loaded {
            document: Some(DocumentData {
                relative: relative_path(&self.root, path),
                path: path.to_path_buf(),
                transcript,
                sidecars,
                source,
            }),
            warnings,
        }
    }

    /// Reads the documents on every core, at most [`CHUNK_DOCUMENTS`] ahead of `sink`; `map` turns
    /// each into what the caller keeps (on the core that read it, so a document is dropped as soon
    /// as it is rendered), and `sink` receives the results in path order on the calling thread
    /// while the cores go on reading. Progress is reported as (documents read, total). Stops at the first
    /// error of `sink`.
    pub fn for_each<T: Send, E>(
        &self,
        map: impl Fn(Loaded) -> T + Sync,
        mut sink: impl FnMut(T) -> Result<(), E>,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<(), E> {
        self.for_each_group(
            FOR_EACH_GROUP,
            |group| group.into_iter().map(&map).collect::<Vec<T>>(),
            |results| results.into_iter().try_for_each(&mut sink),
            progress,
        )
    }

    /// [`DatasetStream::for_each`] by groups of `group` consecutive documents: `map` receives a
    /// group's documents together, in path order (a qdpx deflates their XML as one piece).
    pub fn for_each_group<T: Send, E>(
        &self,
        group: usize,
        map: impl Fn(Vec<Loaded>) -> T + Sync,
        mut sink: impl FnMut(T) -> Result<(), E>,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<(), E> {
        let total = self.wanted.len();
        let done = std::sync::atomic::AtomicUsize::new(0);
        crate::ordered::map_groups_in_order(
            &self.wanted,
            group,
            CHUNK_DOCUMENTS,
            |paths| {
                let loaded = paths
                    .iter()
                    .map(|path| {
                        let l = self.load_one(path);
                        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                        progress(n, total);
                        l
                    })
                    .collect();
                map(loaded)
            },
            &mut sink,
        )
    }

    /// Reads every document into memory, keeping those `keep` accepts (the warnings of all).
    pub fn collect(
        &self,
        keep: impl Fn(&DocumentData) -> bool + Sync,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Dataset {
        let mut documents = Vec::new();
        let mut warnings = self.skipped.clone();
        let outcome: Result<(), std::convert::Infallible> = self.for_each(
            |mut l| {
                if l.document.as_ref().is_some_and(|d| !keep(d)) {
                    l.document = None;
                }
                l
            },
            |l| {
                warnings.extend(l.warnings);
                documents.extend(l.document);
                Ok(())
            },
            progress,
        );
        let Ok(()) = outcome;
        Dataset {
            root: self.root.clone(),
            codebook: self.codebook.clone(),
            documents,
            warnings,
        }
    }
}

impl Dataset {
    /// Reads the corpus under `root` with the chosen sidecars, reporting progress as
    /// (documents read, total).
    pub fn load(
        root: &Path,
        selection: &Selection,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Dataset, DatasetError> {
        Ok(DatasetStream::open(root, selection)?.collect(|_| true, progress))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Agreement reads only the documents with sidecars of two or more of the chosen annotators,
    /// and learns the annotators from the sidecars' names across the whole corpus.
    #[test]
    fn keep_coded_by_keeps_the_documents_coded_twice() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
        let mut all = DatasetStream::open(&root, &Selection::default()).unwrap();
        let listed = all.len();
        let present: Vec<String> = all.keep_coded_by(2).into_iter().collect();
        assert_eq!(present, ["alice", "bob"]);
        assert_eq!(
            all.len(),
            7,
            "alice and bob both coded seven of {listed} pages"
        );
        let mut alone = DatasetStream::open(
            &root,
            &Selection {
                annotators: Some(vec!["alice".into()]),
                ..Selection::default()
            },
        )
        .unwrap();
        let present: Vec<String> = alone.keep_coded_by(2).into_iter().collect();
        assert_eq!(present, ["alice"]);
        assert!(alone.is_empty());
    }
}
