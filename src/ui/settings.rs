//! The user's settings: who is annotating, and recently opened folders. Kept in the user's config
//! folder as RON, written atomically like every other file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fsutil::atomic_write;
use crate::sidecar::{Annotator, check_annotator_id, ron_options, to_pretty_ron};

/// Environment variable that points the app at another config folder (tests, screenshots, a
/// second identity on one machine).
pub const CONFIG_DIR_ENV: &str = "MARGINALIA_CONFIG_DIR";

/// The user's data folder, where the sample corpus is copied: `$MARGINALIA_CONFIG_DIR` when set,
/// else the platform's data folder (`~/.local/share/marginalia` on Linux).
pub fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV) {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("org", "Marginalia", "Marginalia")
        .map(|d| d.data_dir().to_path_buf())
}

/// How many recent folders are remembered.
const MAX_RECENT: usize = 8;

/// The settings file's content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Who annotates; `None` until the first start asks.
    #[serde(default)]
    pub annotator: Option<Annotator>,
    /// Folders opened recently, newest first.
    #[serde(default)]
    pub recent: Vec<PathBuf>,
}

/// Settings together with the file they live in.
#[derive(Debug, Clone)]
pub struct SettingsStore {
    /// The settings.
    pub settings: Settings,
    /// Where they are saved; `None` when no config folder could be found.
    pub path: Option<PathBuf>,
    /// Why the file could not be read, if it could not.
    pub error: Option<String>,
}

impl SettingsStore {
    /// The settings file in the user's config folder (or `$MARGINALIA_CONFIG_DIR`).
    pub fn default_path() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV) {
            return Some(PathBuf::from(dir).join("settings.ron"));
        }
        directories::ProjectDirs::from("org", "Marginalia", "Marginalia")
            .map(|d| d.config_dir().join("settings.ron"))
    }

    /// The folder eframe keeps the window and view state in: the config folder given by
    /// `$MARGINALIA_CONFIG_DIR` when set (so a test or a second identity touches nothing else),
    /// else eframe's own choice.
    pub fn view_state_dir() -> Option<PathBuf> {
        std::env::var_os(CONFIG_DIR_ENV).map(PathBuf::from)
    }

    /// Reads the settings; a missing file gives defaults, a broken one gives defaults and an error
    /// (and is not overwritten until the user saves new settings).
    pub fn load(path: Option<PathBuf>) -> SettingsStore {
        let mut store = SettingsStore {
            settings: Settings::default(),
            path,
            error: None,
        };
        let Some(path) = &store.path else {
            return store;
        };
        match std::fs::read_to_string(path) {
            Ok(text) => match ron_options().from_str::<Settings>(&text) {
                Ok(s) => {
                    let valid = s
                        .annotator
                        .as_ref()
                        .is_none_or(|a| check_annotator_id(&a.id).is_ok());
                    if valid {
                        store.settings = s;
                    } else {
                        store.error = Some(format!("invalid annotator id in {}", path.display()));
                    }
                }
                Err(e) => {
                    store.error = Some(format!(
                        "cannot read settings {}: {}",
                        path.display(),
                        crate::sidecar::ron_error_message(&e)
                    ))
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => store.error = Some(format!("cannot read settings {}: {e}", path.display())),
        }
        store
    }

    /// Writes the settings atomically, creating the config folder when needed.
    pub fn save(&mut self) -> Result<(), String> {
        let Some(path) = &self.path else {
            return Err("no config folder for settings".to_string());
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        atomic_write(path, to_pretty_ron(&self.settings).as_bytes()).map_err(|e| e.to_string())?;
        self.error = None;
        Ok(())
    }

    /// Puts a folder first in the recent list.
    pub fn add_recent(&mut self, folder: &Path) {
        let folder = folder
            .canonicalize()
            .unwrap_or_else(|_| folder.to_path_buf());
        self.settings.recent.retain(|p| *p != folder);
        self.settings.recent.insert(0, folder);
        self.settings.recent.truncate(MAX_RECENT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_recent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cfg/settings.ron");
        let mut store = SettingsStore::load(Some(path.clone()));
        assert!(store.settings.annotator.is_none() && store.error.is_none());
        store.settings.annotator = Some(Annotator {
            id: "alice".into(),
            name: "Alice".into(),
        });
        for i in 0..10 {
            store.add_recent(Path::new(&format!("/f{i}")));
        }
        store.add_recent(Path::new("/f3"));
        store.save().unwrap();
        let again = SettingsStore::load(Some(path.clone()));
        assert_eq!(again.settings, store.settings);
        assert_eq!(again.settings.recent.len(), 8);
        assert_eq!(again.settings.recent[0], Path::new("/f3"));
        std::fs::write(&path, "(annotator: Some((id: \"../x\", name: \"\")))").unwrap();
        assert!(SettingsStore::load(Some(path)).error.is_some());
    }
}
