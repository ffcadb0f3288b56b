//! Crash recovery: after every edit the unsaved sidecar is also written to a journal in the user's
//! data folder; a save removes the entry. After a crash or `kill -9`, what is left in the journal is
//! what was not saved, and the next start offers to restore it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fsutil::atomic_write;
use crate::sidecar::{Sidecar, ron_options, to_pretty_ron};

/// One unsaved document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Where the sidecar belongs.
    pub sidecar_path: PathBuf,
    /// The sidecar with the unsaved changes.
    pub sidecar: Sidecar,
}

/// The journal folder.
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    /// A journal in this folder (created when first written).
    pub fn new(dir: PathBuf) -> Journal {
        Journal { dir }
    }

    fn file_for(&self, sidecar_path: &Path) -> PathBuf {
        let abs = sidecar_path
            .canonicalize()
            .unwrap_or_else(|_| sidecar_path.to_path_buf());
        let key = blake3::hash(abs.to_string_lossy().as_bytes()).to_hex();
        self.dir.join(format!("{}.ron", &key[..16]))
    }

    /// Records the unsaved state of a sidecar.
    pub fn record(&self, sidecar_path: &Path, sidecar: &Sidecar) -> Result<(), String> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let abs = sidecar_path.canonicalize().unwrap_or_else(|_| {
            // A sidecar not written yet: its folder exists.
            sidecar_path
                .parent()
                .and_then(|p| p.canonicalize().ok())
                .map(|p| p.join(sidecar_path.file_name().unwrap_or_default()))
                .unwrap_or_else(|| sidecar_path.to_path_buf())
        });
        let entry = Entry {
            sidecar_path: abs,
            sidecar: sidecar.clone(),
        };
        atomic_write(
            &self.file_for(sidecar_path),
            to_pretty_ron(&entry).as_bytes(),
        )
        .map_err(|e| e.to_string())
    }

    /// Forgets a sidecar once it is saved (or its changes discarded).
    pub fn clear(&self, sidecar_path: &Path) {
        let _ = std::fs::remove_file(self.file_for(sidecar_path));
        if let Some(parent) = sidecar_path.parent()
            && let Ok(dir) = parent.canonicalize()
        {
            let _ = std::fs::remove_file(
                self.file_for(&dir.join(sidecar_path.file_name().unwrap_or_default())),
            );
        }
    }

    /// What is left from earlier runs: entries whose sidecar on disk differs from the journal.
    /// Unreadable journal files are skipped (and left alone).
    pub fn pending(&self) -> Vec<Entry> {
        let Ok(read) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for e in read.flatten() {
            let Ok(text) = std::fs::read_to_string(e.path()) else {
                continue;
            };
            let Ok(entry) = ron_options().from_str::<Entry>(&text) else {
                continue;
            };
            let on_disk = Sidecar::load(&entry.sidecar_path).ok().map(|l| l.sidecar);
            let same = on_disk.is_some_and(|d| d.to_ron() == entry.sidecar.to_ron());
            if same {
                let _ = std::fs::remove_file(e.path());
            } else {
                out.push(entry);
            }
        }
        out.sort_by(|a, b| a.sidecar_path.cmp(&b.sidecar_path));
        out
    }

    /// Writes a journal entry back to its sidecar, keeping what was on disk as a `.bak` copy.
    pub fn restore(&self, entry: &Entry) -> Result<(), String> {
        if entry.sidecar_path.exists() {
            let bytes = std::fs::read(&entry.sidecar_path).map_err(|e| e.to_string())?;
            crate::fsutil::write_backup(&entry.sidecar_path, "before-restore", &bytes)
                .map_err(|e| e.to_string())?;
        }
        entry
            .sidecar
            .save(&entry.sidecar_path)
            .map_err(|e| e.to_string())?;
        self.clear(&entry.sidecar_path);
        Ok(())
    }

    /// Drops a journal entry without restoring it.
    pub fn discard(&self, entry: &Entry) {
        self.clear(&entry.sidecar_path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codebook::Codebook;
    use crate::sidecar::Annotator;
    use crate::transcript::Transcript;

    #[test]
    fn record_pending_restore() {
        let dir = tempfile::tempdir().unwrap();
        let t = Transcript::from_text("p.txt", "Just some text.", "UTF-8".into(), Vec::new());
        let mut s = Sidecar::new(
            Annotator {
                id: "a".into(),
                name: "A".into(),
            },
            &t,
            &Codebook::builtin(),
        );
        let path = dir.path().join("p.txt.a.ron");
        s.save(&path).unwrap();
        let journal = Journal::new(dir.path().join("journal"));
        s.memo = "unsaved work".into();
        journal.record(&path, &s).unwrap();
        let pending = journal.pending();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].sidecar.memo, "unsaved work");
        journal.restore(&pending[0]).unwrap();
        assert_eq!(Sidecar::load(&path).unwrap().sidecar.memo, "unsaved work");
        assert!(journal.pending().is_empty());
        // Saved normally: nothing to offer.
        journal.record(&path, &s).unwrap();
        assert!(journal.pending().is_empty(), "the disk already has it");
    }
}
