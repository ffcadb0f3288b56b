//! The sample corpus shipped inside the binary, so an installed app can offer it on first start
//! without a source tree beside it.

use std::path::{Path, PathBuf};

use crate::fsutil::{WriteError, atomic_write};

/// Name of the folder the sample corpus is written to, inside the user's data folder.
pub const FOLDER_NAME: &str = "sample_data";

macro_rules! sample_files {
    ($($name:literal),* $(,)?) => {
        /// Every file of `sample_data/`: name and contents.
        pub const FILES: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../sample_data/", $name))),)*
        ];
    };
}

sample_files![
    "air-quality-schools.txt",
    "air-quality-schools.txt.alice.ron",
    "air-quality-schools.txt.bob.ron",
    "cost-of-living.txt",
    "crossrail-delay.txt",
    "crossrail-delay.txt.alice.ron",
    "crossrail-delay.txt.bob.ron",
    "cycle-superhighway.txt",
    "fares-freeze.txt",
    "fares-freeze.txt.alice.ron",
    "fares-freeze.txt.bob.ron",
    "fire-safety-review.txt",
    "housing-supplementary.txt",
    "housing-zones.txt",
    "housing-zones.txt.alice.ron",
    "housing-zones.txt.bob.ron",
    "interview-community-officer.txt",
    "interview-community-officer.txt.alice.ron",
    "interview-transport-planner.txt",
    "knife-crime-funding.txt",
    "knife-crime-funding.txt.alice.ron",
    "knife-crime-funding.txt.bob.ron",
    "night-tube.txt",
    "olympic-legacy.txt",
    "police-numbers.txt",
    "police-numbers.txt.alice.ron",
    "police-numbers.txt.bob.ron",
    "prevent.txt",
    "prevent.txt.alice.ron",
    "prevent.txt.bob.ron",
];

/// What [`install`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The folder holding the sample corpus.
    pub folder: PathBuf,
    /// Files written now; the others were there already and were left as they are.
    pub written: usize,
}

/// Writes the sample corpus into `parent/sample_data`, creating folders as needed. A file already
/// there is never replaced: it may hold the user's own annotations of the sample, made on an
/// earlier start; only missing files are written.
pub fn install(parent: &Path) -> Result<Installed, WriteError> {
    let folder = parent.join(FOLDER_NAME);
    std::fs::create_dir_all(&folder).map_err(|source| WriteError::Io {
        path: folder.clone(),
        source,
    })?;
    let mut written = 0;
    for (name, contents) in FILES {
        let path = folder.join(name);
        if std::fs::symlink_metadata(&path).is_ok() {
            continue;
        }
        atomic_write(&path, contents.as_bytes())?;
        written += 1;
    }
    Ok(Installed { folder, written })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded list must follow the folder: a file added to `sample_data/` and not here would
    /// be missing from installed copies.
    #[test]
    fn embedded_files_are_the_sample_folder() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
        let mut on_disk: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|(n, _)| n.to_string()).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk);
        for (name, contents) in FILES {
            assert_eq!(std::fs::read_to_string(root.join(name)).unwrap(), *contents);
        }
    }

    #[test]
    fn install_writes_missing_files_and_keeps_existing_ones() {
        let dir = tempfile::tempdir().unwrap();
        let first = install(dir.path()).unwrap();
        assert_eq!(first.written, FILES.len());
        let sidecar = first.folder.join("prevent.txt.alice.ron");
        std::fs::write(&sidecar, "(edited by the user)").unwrap();
        std::fs::remove_file(first.folder.join("night-tube.txt")).unwrap();
        let second = install(dir.path()).unwrap();
        assert_eq!(second.written, 1);
        assert_eq!(
            std::fs::read_to_string(&sidecar).unwrap(),
            "(edited by the user)"
        );
        assert!(first.folder.join("night-tube.txt").is_file());
    }
}
