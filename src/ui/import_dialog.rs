//! File > Import project…: pick a REFI-QDA project (.qdpx), import it on a background thread into
//! a new folder beside it, then open that folder. What could not be mapped is in the folder's
//! `import-report.md`; the status bar says how much.

use std::path::{Path, PathBuf};

use super::task::Task;

/// An import under way.
pub struct ProjectImport {
    task: Task<Option<Result<(PathBuf, crate::interop::ImportReport), String>>>,
}

/// A folder beside `file` that does not exist yet: `<stem> (imported)`, numbered if taken.
pub fn new_folder_for(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "project".to_string());
    let parent = file.parent().unwrap_or(Path::new("."));
    let mut dir = parent.join(format!("{stem} (imported)"));
    let mut n = 2;
    while dir.exists() {
        dir = parent.join(format!("{stem} (imported {n})"));
        n += 1;
    }
    dir
}

impl ProjectImport {
    /// Blocks until the import has ended.
    pub fn wait(&mut self) {
        self.task.wait();
    }

    /// Asks for the .qdpx, then imports it, all off the UI thread.
    pub fn start(ctx: &egui::Context, start_dir: Option<PathBuf>) -> Result<ProjectImport, String> {
        let task = Task::spawn("import-project", Some(ctx.clone()), move |r| {
            let mut dialog = rfd::FileDialog::new()
                .set_title("Import a REFI-QDA project")
                .add_filter("REFI-QDA project", &["qdpx", "QDPX"]);
            if let Some(dir) = start_dir {
                dialog = dialog.set_directory(dir);
            }
            let result = dialog.pick_file().map(|file| {
                let out = new_folder_for(&file);
                crate::interop::import_project(&file, &out)
                    .map(|r| (out, r))
                    .map_err(|e| e.to_string())
            });
            r.send(result);
        })?;
        Ok(ProjectImport { task })
    }

    /// `None` while running; then the folder to open (if any) and the line for the status bar.
    pub fn poll(&mut self) -> Option<(Option<PathBuf>, Option<String>)> {
        match self.task.poll_once()? {
            None | Some(None) => Some((None, None)),
            Some(Some(Err(e))) => Some((None, Some(e))),
            Some(Some(Ok((out, report)))) => {
                let line = format!(
                    "Imported {} documents ({} part tags, {} spans) into {}; what was not imported or was guessed ({} points) is in {}",
                    report.documents,
                    report.tags,
                    report.spans,
                    out.display(),
                    report.lines.len(),
                    crate::interop::REPORT_FILE
                );
                Some((Some(out), Some(line)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_import_folder_is_new_and_beside_the_project() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("study.qdpx");
        assert_eq!(new_folder_for(&file), dir.path().join("study (imported)"));
        std::fs::create_dir(dir.path().join("study (imported)")).unwrap();
        assert_eq!(new_folder_for(&file), dir.path().join("study (imported 2)"));
    }
}
