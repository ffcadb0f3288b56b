//! The corpus folder watched for changes on disk (a colleague's sidecar arriving by git pull, a
//! transcript edited elsewhere), debounced by `notify-debouncer-full`: a pull that writes a
//! thousand files gives one batch, half a second after the last write.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

/// How long the folder must be quiet before its changes are taken.
const QUIET: Duration = Duration::from_millis(500);

/// A watched corpus folder.
pub struct FolderWatch {
    root: PathBuf,
    _debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
    rx: Receiver<DebounceEventResult>,
    /// Batches taken by `wait`, handed out by the next `poll`.
    waited: Vec<DebounceEventResult>,
    /// A change waits for the loader to finish before the list is read again.
    pub rescan_pending: bool,
}

/// What a batch of changes touched.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Changes {
    /// Transcripts, sidecars or the codebook of the folder changed: read the list again.
    pub list: bool,
    /// The open document's sidecar changed (perhaps by our own save).
    pub own_sidecar: bool,
    /// The open document's transcript changed.
    pub own_text: bool,
}

impl FolderWatch {
    /// Watches `root` and everything below it; `repaint` is woken when a batch is ready.
    pub fn start(root: &Path, repaint: Option<egui::Context>) -> Result<FolderWatch, String> {
        let (tx, rx) = channel();
        let mut debouncer = new_debouncer(QUIET, None, move |result: DebounceEventResult| {
            // The window is gone when the send fails; nothing is left to tell.
            if tx.send(result).is_ok()
                && let Some(ctx) = &repaint
            {
                ctx.request_repaint();
            }
        })
        .map_err(|e| e.to_string())?;
        debouncer
            .watch(root, notify::RecursiveMode::Recursive)
            .map_err(|e| e.to_string())?;
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        Ok(FolderWatch {
            root,
            _debouncer: debouncer,
            rx,
            waited: Vec::new(),
            rescan_pending: false,
        })
    }

    /// Blocks until the next batch of changes arrives (true) or `timeout` passes (false): tests
    /// wait on the file system's events, not on a guess of how long they take.
    pub fn wait(&mut self, timeout: Duration) -> bool {
        match self.rx.recv_timeout(timeout) {
            Ok(batch) => {
                self.waited.push(batch);
                true
            }
            Err(_) => false,
        }
    }

    /// The changes of the batches that arrived since the last look. `sidecar` and `text` are the
    /// open document's files.
    pub fn poll(&mut self, sidecar: Option<&Path>, text: Option<&Path>) -> Changes {
        let mut paths = Vec::new();
        let waited = std::mem::take(&mut self.waited);
        for result in waited
            .into_iter()
            .chain(std::iter::from_fn(|| self.rx.try_recv().ok()))
        {
            // Errors of the watcher (an overflowing queue) lose events: read everything again.
            let Ok(events) = result else {
                return Changes {
                    list: true,
                    own_sidecar: sidecar.is_some(),
                    own_text: false,
                };
            };
            for e in events {
                if !matches!(e.event.kind, notify::EventKind::Access(_)) {
                    paths.extend(e.event.paths.iter().cloned());
                }
            }
        }
        classify(&self.root, &paths, sidecar, text)
    }
}

/// What the changed `paths` below `root` touch. Hidden folders below the root (`.git`,
/// `.marginalia`) are not the corpus; our own sidecar is reported apart, not as a list change.
pub fn classify(
    root: &Path,
    paths: &[PathBuf],
    sidecar: Option<&Path>,
    text: Option<&Path>,
) -> Changes {
    let mut changes = Changes::default();
    for p in paths {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let inside = p.strip_prefix(root).unwrap_or(p);
        let hidden = inside
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
        let ours = sidecar.is_some_and(|o| same_file(o, p));
        changes.own_sidecar |= ours;
        changes.own_text |= text.is_some_and(|t| same_file(t, p));
        let kind = crate::corpus::is_transcript_name(&name)
            || crate::transcript::parlparse::is_parlparse_name(&name)
            || name.ends_with(".ron");
        changes.list |= kind && !hidden && !ours;
    }
    changes
}

/// The same file, through links and relative paths.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_sidecar_hidden_folders_and_other_files_are_told_apart() {
        let root = Path::new("/corpus");
        let own = Path::new("/corpus/a.txt.dana.ron");
        let text = Path::new("/corpus/a.txt");
        let c = classify(root, &[own.to_path_buf()], Some(own), Some(text));
        assert_eq!(
            c,
            Changes {
                list: false,
                own_sidecar: true,
                own_text: false
            }
        );
        let c = classify(
            root,
            &[
                PathBuf::from("/corpus/.git/index"),
                PathBuf::from("/corpus/notes.md"),
            ],
            Some(own),
            Some(text),
        );
        assert_eq!(c, Changes::default());
        let c = classify(
            root,
            &[PathBuf::from("/corpus/b.txt.ali.ron"), text.to_path_buf()],
            Some(own),
            Some(text),
        );
        assert!(c.list && c.own_text && !c.own_sidecar);
    }
}
