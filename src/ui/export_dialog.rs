//! File > Export…: choose a format, annotators, "done only" and "current filter only", a file; the
//! export runs on a background thread, as the command line's does (read as it is written, on
//! every core), with a progress bar, and ends with a summary.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use egui::RichText;

use super::MarginaliaApp;
use super::task::Task;
use crate::dataset::{DatasetStream, Selection};
use crate::export::{ExportFormat, ExportSummary, export_stream};

/// Widget id of the output path box.
pub fn export_path_id() -> egui::Id {
    egui::Id::unique("export-path")
}

struct Job {
    done: Arc<AtomicUsize>,
    total: Arc<AtomicUsize>,
    task: Task<Result<ExportSummary, String>>,
}

/// The dialog's state.
pub struct ExportDialog {
    format: ExportFormat,
    annotators: Vec<(String, bool)>,
    only_done: bool,
    only_filter: bool,
    path: String,
    confirm_overwrite: bool,
    picking: Option<Task<Option<PathBuf>>>,
    job: Option<Job>,
    result: Option<Result<ExportSummary, String>>,
}

impl ExportDialog {
    /// A dialog for a corpus folder with these annotators.
    pub fn new(root: &std::path::Path, annotators: Vec<String>) -> ExportDialog {
        let mut dialog = ExportDialog {
            format: ExportFormat::Csv,
            // The reconciled set is exported when chosen, not by default: it would count as one
            // more coder in R.
            annotators: crate::review::coders_ticked(annotators),
            only_done: false,
            only_filter: false,
            path: String::new(),
            confirm_overwrite: false,
            picking: None,
            job: None,
            result: None,
        };
        dialog.path = default_output(root, dialog.format).display().to_string();
        dialog
    }

    /// True while an export runs.
    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// Takes the chosen file and the export's result, once there.
    pub(super) fn poll_jobs(&mut self) {
        if let Some(picking) = &mut self.picking
            && let Some(picked) = picking.poll_once()
        {
            if let Some(p) = picked.flatten() {
                self.path = p.display().to_string();
                self.confirm_overwrite = false;
            }
            self.picking = None;
        }
        if let Some(job) = &mut self.job
            && let Some(result) = job.task.poll_once()
        {
            self.result =
                Some(result.unwrap_or_else(|| Err("the export stopped unexpectedly".to_string())));
            self.job = None;
        }
    }

    /// Blocks until the export has ended (the file dialog is never waited on).
    pub(super) fn wait_job(&mut self) {
        if let Some(job) = &mut self.job {
            job.task.wait();
        }
    }
}

/// Beside the corpus folder, never inside it: `<folder>-export.<ext>`.
fn default_output(root: &std::path::Path, format: ExportFormat) -> PathBuf {
    let abs = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let name = abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "corpus".into());
    let parent = abs
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| PathBuf::from("."));
    let suffix = match format {
        ExportFormat::DocumentsCsv => "-documents",
        ExportFormat::Qdc | ExportFormat::CodebookCsv => "-codebook",
        _ => "",
    };
    parent.join(format!("{name}{suffix}.{}", format.extension()))
}

impl MarginaliaApp {
    #[expect(
        clippy::too_many_lines,
        reason = "the dialog top to bottom: format, annotators, scope, file, progress, summary, then the job"
    )]
    pub(super) fn export_ui(&mut self, ctx: &egui::Context) {
        let Some(dialog) = &mut self.export else {
            return;
        };
        let Some(corpus) = &self.ws.corpus else {
            return;
        };
        let root = corpus.files.root.clone();
        let filtered: Vec<PathBuf> = self
            .ws
            .visible
            .iter()
            .map(|&i| corpus.entries[i].path.clone())
            .collect();
        let filter_active = filtered.len() != corpus.entries.len();
        let mut open = true;
        let mut start = false;
        egui::Window::new("Export")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .default_width(460.0)
            .pivot(egui::Align2::CENTER_CENTER)
            .default_pos(ctx.content_rect().center())
            .show(ctx, |ui| {
                ui.add_enabled_ui(dialog.job.is_none(), |ui| {
                    ui.label(RichText::new("Format").strong());
                    for f in ExportFormat::ALL {
                        let r = ui.radio(
                            dialog.format == f,
                            format!("{} — {}", f.name(), f.description()),
                        );
                        if r.clicked() && dialog.format != f {
                            dialog.format = f;
                            dialog.path = default_output(&root, f).display().to_string();
                            dialog.confirm_overwrite = false;
                        }
                    }
                    ui.separator();
                    ui.label(RichText::new("Annotators").strong());
                    if dialog.annotators.is_empty() {
                        ui.label("No annotations in this folder yet.");
                    }
                    ui.horizontal_wrapped(|ui| {
                        for (id, on) in &mut dialog.annotators {
                            ui.checkbox(on, id.as_str());
                        }
                    });
                    ui.checkbox(&mut dialog.only_done, "Only documents marked done");
                    let label = format!(
                        "Only the documents in the current filter ({} of {})",
                        filtered.len(),
                        corpus.entries.len()
                    );
                    ui.add_enabled(
                        filter_active,
                        egui::Checkbox::new(&mut dialog.only_filter, label),
                    );
                    ui.separator();
                    ui.horizontal(|ui| {
                        let l = ui.label("Save to");
                        let r = ui
                            .add(
                                egui::TextEdit::singleline(&mut dialog.path)
                                    .id(export_path_id())
                                    .desired_width(280.0),
                            )
                            .labelled_by(l.id);
                        if r.changed() {
                            dialog.confirm_overwrite = false;
                        }
                        if ui.button("Choose…").clicked() && dialog.picking.is_none() {
                            let current = PathBuf::from(&dialog.path);
                            let task = Task::spawn("export-dialog", Some(ctx.clone()), move |r| {
                                let mut d = rfd::FileDialog::new().set_title("Export to");
                                if let Some(dir) = current.parent() {
                                    d = d.set_directory(dir);
                                }
                                if let Some(name) = current.file_name() {
                                    d = d.set_file_name(name.to_string_lossy());
                                }
                                r.send(d.save_file());
                            });
                            match task {
                                Ok(t) => dialog.picking = Some(t),
                                Err(e) => dialog.result = Some(Err(e)),
                            }
                        }
                    });
                    let target = PathBuf::from(dialog.path.trim());
                    let refused = crate::export::check_output_path(&target, dialog.format).err();
                    let exists = target.exists();
                    if let Some(e) = &refused {
                        ui.colored_label(egui::Color32::from_rgb(200, 60, 60), e.to_string());
                    } else if exists {
                        ui.checkbox(
                            &mut dialog.confirm_overwrite,
                            format!("{} exists: overwrite it", target.display()),
                        );
                    }
                    let ready = !dialog.path.trim().is_empty()
                        && refused.is_none()
                        && (!exists || dialog.confirm_overwrite);
                    if ui.add_enabled(ready, egui::Button::new("Export")).clicked() {
                        start = true;
                    }
                });
                if let Some(job) = &dialog.job {
                    let total = job.total.load(Ordering::Relaxed).max(1);
                    let done = job.done.load(Ordering::Relaxed);
                    ui.add(
                        egui::ProgressBar::new(done as f32 / total as f32)
                            .text(format!("Exporting {done} of {total} documents…")),
                    );
                    ctx.request_repaint_after(std::time::Duration::from_millis(100));
                }
                match &dialog.result {
                    Some(Ok(s)) => {
                        ui.label(
                            RichText::new(format!(
                                "Exported {} documents, {} annotations, {} warnings.",
                                s.documents,
                                s.annotations,
                                s.warnings.len()
                            ))
                            .strong(),
                        );
                        egui::ScrollArea::vertical()
                            .max_height(120.0)
                            .show(ui, |ui| {
                                for w in &s.warnings {
                                    ui.label(
                                        RichText::new(w)
                                            .small()
                                            .color(egui::Color32::from_rgb(200, 140, 0)),
                                    );
                                }
                            });
                    }
                    Some(Err(e)) => {
                        ui.colored_label(
                            egui::Color32::from_rgb(200, 60, 60),
                            format!("Export failed: {e}"),
                        );
                    }
                    None => {}
                }
            });
        if start {
            let selected: Vec<String> = dialog
                .annotators
                .iter()
                .filter(|(_, on)| *on)
                .map(|(a, _)| a.clone())
                .collect();
            let all_chosen = selected.len() == dialog.annotators.len();
            let selection = Selection {
                annotators: if all_chosen { None } else { Some(selected) },
                only_done: dialog.only_done,
                only_paths: (dialog.only_filter && filter_active).then_some(filtered),
            };
            let format = dialog.format;
            let out = PathBuf::from(dialog.path.trim());
            let done = Arc::new(AtomicUsize::new(0));
            let total = Arc::new(AtomicUsize::new(0));
            let (d2, t2) = (done.clone(), total.clone());
            // The command line's export, read as it is written on every core: the app read the
            // whole corpus into memory, then made the whole file there (100,000 pages to qdpx:
            // 5.2 s and 1.16 GB, against the command's 2.7 s and 0.1 GB).
            let task = Task::spawn("export", Some(ctx.clone()), move |r| {
                let result = (|| {
                    let mut stream =
                        DatasetStream::open(&root, &selection).map_err(|e| e.to_string())?;
                    // The user confirmed overwriting in the dialog.
                    export_stream(
                        &mut stream,
                        format,
                        selection.takes_everything(),
                        &out,
                        true,
                        &|n, of| {
                            d2.store(n, Ordering::Relaxed);
                            t2.store(of, Ordering::Relaxed);
                        },
                    )
                    .map_err(|e| e.to_string())
                })();
                r.send(result);
            });
            match task {
                Ok(task) => {
                    dialog.result = None;
                    dialog.confirm_overwrite = false;
                    dialog.job = Some(Job { done, total, task });
                }
                Err(e) => dialog.result = Some(Err(e)),
            }
        }
        // Escape closes it, as every other dialog (not while it writes).
        let escape = ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape));
        if (!open || escape) && !dialog.is_running() {
            self.export = None;
        }
    }
}
