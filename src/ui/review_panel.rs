//! Review mode: colleagues' annotations side by side, the agreement table and chart, the corpus-wide
//! disagreement list, and adjudication into a reconciled sidecar.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use egui::{Color32, RichText};

use super::MarginaliaApp;
use super::action::Action;
use super::task::Task;
use super::text_view::{self, Mark, PartViewOutput};
use crate::agreement::corpus::{
    AgreementReport, DimensionAgreement, Disagreement, Plan, Subject, compute_stream,
};
use crate::codebook::Codebook;
use crate::dataset::{DatasetStream, DocumentData, Selection};
use crate::review::{DEFAULT_GOLD, Decision, Progress};
use crate::sidecar::{Sidecar, check_annotator_id, sidecar_path};
use crate::transcript::{Format, PartId, PartKind};

/// Colours of annotators' lanes, in order of choice.
const LANE_COLORS: &[Color32] = &[
    Color32::from_rgb(66, 133, 244),
    Color32::from_rgb(234, 67, 53),
    Color32::from_rgb(52, 168, 83),
    Color32::from_rgb(251, 188, 5),
    Color32::from_rgb(171, 71, 188),
    Color32::from_rgb(0, 172, 193),
];

/// Widget id of the disagreement filter box.
pub fn review_filter_id() -> egui::Id {
    egui::Id::unique("review-filter")
}

/// Widget id of the reconciled set's id box.
pub fn gold_id_field() -> egui::Id {
    egui::Id::unique("review-gold")
}

/// The tabs of review mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewTab {
    /// One document, annotators side by side.
    Document,
    /// Every disagreement of the corpus.
    Disagreements,
    /// The coefficients.
    Agreement,
}

type Computed = (Arc<Reviewed>, Arc<AgreementReport>);

/// What review mode compares: the corpus listed with the chosen annotators' sidecars, each
/// document read when it is shown. The corpus was read whole into memory for the agreement and
/// kept for the document tab: 1.4 GB more for 100,000 pages, beside the app's own.
pub struct Reviewed {
    stream: DatasetStream,
    /// The document shown (its path, and the document when it could be read), read once.
    shown: std::sync::Mutex<Option<(PathBuf, Option<Arc<DocumentData>>)>>,
}

impl Reviewed {
    /// The codebook in force.
    pub fn codebook(&self) -> &Codebook {
        &self.stream.codebook
    }

    /// The document at `path` with the chosen annotators' sidecars, read when first asked for
    /// (then kept until another is asked for); `None` when its transcript cannot be read.
    pub fn document(&self, path: &Path) -> Option<Arc<DocumentData>> {
        let mut shown = self
            .shown
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &*shown {
            Some((p, doc)) if p == path => doc.clone(),
            _ => {
                let doc = self.stream.read_document(path).map(Arc::new);
                *shown = Some((path.to_path_buf(), doc.clone()));
                doc
            }
        }
    }
}

/// The agreement among `chosen` over the corpus at `root`, read a document at a time on every
/// core (as `marginalia agreement` reads it), only the documents two of them coded.
fn review_corpus(root: &Path, chosen: &[String]) -> Result<Computed, String> {
    let selection = Selection {
        annotators: Some(chosen.to_vec()),
        ..Selection::default()
    };
    let mut stream = DatasetStream::open(root, &selection).map_err(|e| e.to_string())?;
    stream.keep_coded_by(2);
    // The warnings of reading are not shown here, as they were not when the corpus was read whole
    // (`validate` and the command line's `agreement` name them).
    let report = compute_stream(
        &stream,
        &Plan::new(&stream.codebook, chosen),
        &mut Vec::new(),
    );
    let reviewed = Reviewed {
        stream,
        shown: std::sync::Mutex::new(None),
    };
    Ok((Arc::new(reviewed), Arc::new(report)))
}

/// Review mode's state.
pub struct ReviewState {
    /// Every annotator of the corpus and whether it is compared.
    pub annotators: Vec<(String, bool)>,
    /// Id of the reconciled set.
    pub gold: String,
    /// The tab shown.
    pub tab: ReviewTab,
    job: Option<Task<Result<Computed, String>>>,
    data: Option<Computed>,
    /// Decisions taken so far, written with the reconciled set.
    pub(super) progress: Option<Progress>,
    filter: String,
    only_open: bool,
    /// Why the last computation or decision failed.
    pub(super) error: Option<String>,
    other: HashMap<String, String>,
    gold_cache: Option<(PathBuf, Option<Sidecar>)>,
    /// The per-document table's sort column and direction (descending when true).
    per_document_sort: (usize, bool),
}

impl ReviewState {
    /// Review of a corpus with these annotators (ticked: compared).
    pub(super) fn new(annotators: Vec<(String, bool)>) -> ReviewState {
        ReviewState {
            annotators,
            gold: DEFAULT_GOLD.to_string(),
            tab: ReviewTab::Document,
            job: None,
            data: None,
            progress: None,
            filter: String::new(),
            only_open: true,
            error: None,
            other: HashMap::new(),
            gold_cache: None,
            per_document_sort: (0, false),
        }
    }

    /// Reads the chosen annotators' sidecars and computes the agreement in a background task.
    pub(super) fn start_job(&mut self, root: &Path, repaint: Option<egui::Context>) {
        let chosen = self.chosen();
        let gold = self.gold.clone();
        self.data = None;
        self.error = None;
        self.gold_cache = None;
        self.progress = match Progress::load(root, &gold) {
            Ok(p) => Some(p),
            Err(e) => {
                self.error = Some(e.to_string());
                None
            }
        };
        if chosen.len() < 2 {
            self.error = Some("Choose at least two annotators".to_string());
            return;
        }
        let root = root.to_path_buf();
        let task = Task::spawn("agreement", repaint, move |r| {
            r.send(review_corpus(&root, &chosen));
        });
        match task {
            Ok(t) => self.job = Some(t),
            Err(e) => self.error = Some(e),
        }
    }

    /// Takes the computation's result once it is there.
    pub(super) fn poll_job(&mut self) {
        let Some(job) = &mut self.job else { return };
        if let Some(result) = job.poll_once() {
            self.job = None;
            match result {
                Some(Ok(data)) => self.data = Some(data),
                Some(Err(e)) => self.error = Some(e),
                None => self.error = Some("the agreement computation stopped".to_string()),
            }
        }
    }

    /// Blocks until the computation has ended.
    pub(super) fn wait_job(&mut self) {
        if let Some(job) = &mut self.job {
            job.wait();
        }
    }

    /// True while the agreement is computed.
    pub(super) fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// The reconciled set changed on disk: read it again when next drawn.
    pub(super) fn invalidate_gold(&mut self) {
        self.gold_cache = None;
    }

    /// The corpus compared, once its agreement is computed.
    pub(super) fn reviewed(&self) -> Option<Arc<Reviewed>> {
        self.data.as_ref().map(|(d, _)| d.clone())
    }

    /// The annotators ticked.
    pub(super) fn chosen(&self) -> Vec<String> {
        self.annotators
            .iter()
            .filter(|(_, on)| *on)
            .map(|(a, _)| a.clone())
            .collect()
    }

    /// The computed report, once ready.
    pub fn report(&self) -> Option<&AgreementReport> {
        self.data.as_ref().map(|(_, r)| r.as_ref())
    }

    /// Decisions taken so far.
    pub fn progress(&self) -> Option<&Progress> {
        self.progress.as_ref()
    }
}

impl MarginaliaApp {
    /// The review, for tests.
    pub fn review(&self) -> Option<&ReviewState> {
        self.review.as_ref()
    }

    pub(super) fn review_ui(&mut self, ui: &mut egui::Ui) {
        let Some(review) = &mut self.review else {
            return;
        };
        let mut recompute = false;
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Review").strong());
            for (i, (id, on)) in review.annotators.iter_mut().enumerate() {
                let color = LANE_COLORS[i % LANE_COLORS.len()];
                if ui
                    .checkbox(on, RichText::new(id.as_str()).color(color))
                    .changed()
                {
                    recompute = true;
                }
            }
            ui.separator();
            let l = ui.label("Reconciled set");
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut review.gold)
                        .id(gold_id_field())
                        .desired_width(90.0),
                )
                .labelled_by(l.id);
            if r.lost_focus() {
                if check_annotator_id(&review.gold).is_ok() {
                    recompute = true;
                } else {
                    review.error = Some(format!("\"{}\" is not a valid annotator id", review.gold));
                }
            }
            if let (Some((_, report)), Some(progress)) = (&review.data, &review.progress) {
                let settled = report
                    .disagreements
                    .iter()
                    .filter(|d| progress.decisions.contains_key(&d.key))
                    .count();
                ui.separator();
                ui.label(format!(
                    "{settled} of {} disagreements settled",
                    report.disagreements.len()
                ));
            }
        });
        ui.horizontal(|ui| {
            for (tab, name) in [
                (ReviewTab::Document, "Document"),
                (ReviewTab::Disagreements, "Disagreements"),
                (ReviewTab::Agreement, "Agreement"),
            ] {
                if ui.selectable_label(review.tab == tab, name).clicked() {
                    review.tab = tab;
                }
            }
        });
        if let Some(e) = &review.error {
            ui.colored_label(Color32::from_rgb(200, 60, 60), e);
        }
        ui.separator();
        if recompute {
            let root = self.ws.corpus.as_ref().map(|c| c.files.root.clone());
            if let (Some(review), Some(root)) = (&mut self.review, root) {
                review.start_job(&root, self.repaint.clone());
            }
            return;
        }
        let Some(review) = &self.review else { return };
        let Some((dataset, report)) = review.data.clone() else {
            if review.job.is_some() {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Computing agreement…");
                });
            }
            return;
        };
        match review.tab {
            ReviewTab::Document => self.review_document_ui(ui, &dataset),
            ReviewTab::Disagreements => self.disagreements_ui(ui, &report, dataset.codebook()),
            ReviewTab::Agreement => {
                let mut sort = self
                    .review
                    .as_ref()
                    .map_or((0, false), |r| r.per_document_sort);
                agreement_ui(ui, &report, dataset.codebook(), &mut sort);
                if let Some(r) = &mut self.review {
                    r.per_document_sort = sort;
                }
            }
        }
    }

    /// The document chosen in the list, as review reads it.
    fn review_document(&self, reviewed: &Reviewed) -> Option<Arc<DocumentData>> {
        let corpus = self.ws.corpus.as_ref()?;
        let path = &corpus.entries.get(self.ws.current?)?.path;
        reviewed.document(path)
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one document's annotators side by side: header, columns and lanes in one layout"
    )]
    fn review_document_ui(&mut self, ui: &mut egui::Ui, dataset: &Arc<Reviewed>) {
        let Some(doc) = self.review_document(dataset) else {
            ui.label("Choose a document in the list. Documents coded by at least two of the chosen annotators can be compared.");
            return;
        };
        let chosen = self.review.as_ref().map(|r| r.chosen()).unwrap_or_default();
        ui.horizontal_wrapped(|ui| {
            ui.heading(if doc.transcript.meta.title.is_empty() {
                &doc.relative
            } else {
                &doc.transcript.meta.title
            });
            for (i, a) in chosen.iter().enumerate() {
                let has = doc.sidecars.iter().any(|s| &s.annotator.id == a);
                let text = if has {
                    a.clone()
                } else {
                    format!("{a} (not coded)")
                };
                ui.label(
                    RichText::new(text)
                        .color(LANE_COLORS[i % LANE_COLORS.len()])
                        .strong(),
                );
            }
        });
        let style = self.text_style(ui);
        let marks: HashMap<PartId, Vec<Mark>> = doc
            .transcript
            .parts
            .iter()
            .map(|p| {
                let mut marks = Vec::new();
                for (i, a) in chosen.iter().enumerate() {
                    let Some(s) = doc.sidecars.iter().find(|s| &s.annotator.id == a) else {
                        continue;
                    };
                    for x in s.spans.iter().filter(|x| x.part == p.id && x.start < x.end) {
                        let label = dataset
                            .codebook()
                            .dimension(&x.dimension)
                            .map_or(x.dimension.as_str(), |d| d.label.as_str());
                        marks.push(Mark {
                            id: format!("{a}/{}", x.id),
                            range: x.start..x.end,
                            color: {
                                let c = LANE_COLORS[i % LANE_COLORS.len()];
                                [c.r(), c.g(), c.b()]
                            },
                            tooltip: format!("{a} · {label}: {}", x.value),
                            kind: super::text_view::MarkKind::Code,
                        });
                    }
                }
                (p.id, marks)
            })
            .collect();
        let paragraphs: HashMap<PartId, Vec<text_view::Paragraph>> = doc
            .transcript
            .parts
            .iter()
            .map(|p| (p.id, text_view::paragraphs(p.text())))
            .collect();
        let heights = &mut self.ed.view.heights;
        let mut outputs: Vec<PartViewOutput> = Vec::new();
        let mut column = |ui: &mut egui::Ui, part: PartId| {
            let name = match part.kind {
                PartKind::Question => "QUESTION",
                PartKind::Answer => "ANSWER",
                PartKind::Text => "TEXT",
            };
            ui.label(
                RichText::new(format!(
                    "{name} {}",
                    if doc.transcript.exchange_count() > 1 {
                        format!("{}", part.exchange + 1)
                    } else {
                        String::new()
                    }
                ))
                .small()
                .strong(),
            );
            let empty = Vec::new();
            outputs.push(text_view::part_ui(
                ui,
                part,
                paragraphs.get(&part).unwrap_or(&empty),
                None,
                marks.get(&part).unwrap_or(&empty_marks()),
                None,
                &style,
                heights,
                None,
                None,
            ));
        };
        egui::ScrollArea::vertical()
            .id_salt("review-doc")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                if doc.transcript.format == Format::Plain {
                    column(ui, PartId::TEXT);
                } else {
                    for exchange in 0..doc.transcript.exchange_count() {
                        ui.columns(2, |cols| {
                            column(
                                &mut cols[0],
                                PartId {
                                    exchange,
                                    kind: PartKind::Question,
                                },
                            );
                            column(
                                &mut cols[1],
                                PartId {
                                    exchange,
                                    kind: PartKind::Answer,
                                },
                            );
                        });
                        ui.separator();
                    }
                }
            });
    }

    fn disagreements_ui(
        &mut self,
        ui: &mut egui::Ui,
        report: &Arc<AgreementReport>,
        codebook: &crate::codebook::Codebook,
    ) {
        let Some(review) = &mut self.review else {
            return;
        };
        ui.horizontal(|ui| {
            let l = ui.label("Filter");
            ui.add(
                egui::TextEdit::singleline(&mut review.filter)
                    .id(review_filter_id())
                    .hint_text("document, dimension, annotator, value…"),
            )
            .labelled_by(l.id);
            ui.checkbox(&mut review.only_open, "Only not yet settled");
        });
        let words: Vec<String> = review
            .filter
            .to_lowercase()
            .split_whitespace()
            .map(String::from)
            .collect();
        let progress = review.progress.clone().unwrap_or_default();
        let rows: Vec<&Disagreement> = report
            .disagreements
            .iter()
            .filter(|d| !review.only_open || !progress.decisions.contains_key(&d.key))
            .filter(|d| {
                let hay = format!("{} {} {} {:?}", d.document, d.part, d.dimension, d.versions)
                    .to_lowercase();
                words.iter().all(|w| hay.contains(w))
            })
            .collect();
        ui.label(
            RichText::new(format!(
                "{} of {} disagreements",
                rows.len(),
                report.disagreements.len()
            ))
            .small(),
        );
        let mut jump = None;
        egui::ScrollArea::vertical()
            .id_salt("review-disagreements")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                egui::Grid::new("disagreements")
                    .striped(true)
                    .num_columns(5)
                    .show(ui, |ui| {
                        ui.label(RichText::new("Document").strong());
                        ui.label(RichText::new("Part").strong());
                        ui.label(RichText::new("Dimension").strong());
                        ui.label(RichText::new("Who said what").strong());
                        ui.label(RichText::new("Settled").strong());
                        ui.end_row();
                        for d in rows {
                            if ui.link(&d.document).clicked() {
                                jump = Some(d.document.clone());
                            }
                            ui.label(&d.part);
                            ui.label(dimension_label(codebook, &d.dimension));
                            ui.label(describe_versions(d, codebook));
                            ui.label(
                                progress
                                    .decisions
                                    .get(&d.key)
                                    .map(Decision::describe)
                                    .unwrap_or_default(),
                            );
                            ui.end_row();
                        }
                    });
            });
        if let Some(doc) = jump
            && let Some(corpus) = &self.ws.corpus
        {
            let root = corpus.files.root.clone();
            if let Some(i) = corpus
                .entries
                .iter()
                .position(|e| crate::dataset::relative_path(&root, &e.path) == doc)
            {
                self.act(Action::ReviewDocument(i));
            }
        }
    }

    /// The right panel in review mode: the document's tags side by side and the adjudication of
    /// each of its disagreements.
    #[expect(
        clippy::too_many_lines,
        reason = "the adjudication panel top to bottom: the tags compared, then each disagreement's card and choices"
    )]
    pub(super) fn adjudication_ui(&mut self, ui: &mut egui::Ui) {
        let Some(review) = &self.review else { return };
        let Some((dataset, report)) = review.data.clone() else {
            ui.heading("Adjudication");
            return;
        };
        ui.heading("Adjudication");
        let Some(doc) = self.review_document(&dataset) else {
            ui.label("Choose a document.");
            return;
        };
        let chosen = review.chosen();
        let gold_id = review.gold.clone();
        let gold_path = sidecar_path(&doc.path, &gold_id);
        let gold_sidecar = match &review.gold_cache {
            Some((p, s)) if *p == gold_path => s.clone(),
            _ => {
                let s = Sidecar::load(&gold_path).ok().map(|l| l.sidecar);
                if let Some(r) = &mut self.review {
                    r.gold_cache = Some((gold_path.clone(), s.clone()));
                }
                s
            }
        };
        let Some(review) = &self.review else { return };
        let progress = review.progress.clone().unwrap_or_default();
        let mine: Vec<&Disagreement> = report
            .disagreements
            .iter()
            .filter(|d| d.document == doc.relative)
            .collect();
        let settled = mine
            .iter()
            .filter(|d| progress.decisions.contains_key(&d.key))
            .count();
        ui.label(format!(
            "{} disagreements here, {settled} settled; decisions go to {}",
            mine.len(),
            gold_path.file_name().unwrap_or_default().to_string_lossy()
        ));
        ui.separator();
        let mut action: Option<(Disagreement, Decision)> = None;
        egui::ScrollArea::vertical()
            .id_salt("review-adjudication")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.label(RichText::new("Part tags").strong());
                egui::Grid::new("tags-compared")
                    .striped(true)
                    .show(ui, |ui| {
                        ui.label("");
                        for (i, a) in chosen.iter().enumerate() {
                            ui.label(
                                RichText::new(a)
                                    .color(LANE_COLORS[i % LANE_COLORS.len()])
                                    .strong(),
                            );
                        }
                        ui.label(RichText::new(&gold_id).strong());
                        ui.end_row();
                        for dim in dataset
                            .codebook()
                            .dimensions
                            .iter()
                            .filter(|d| d.applies_to != crate::codebook::AppliesTo::Span)
                        {
                            let kind = if dim.applies_to == crate::codebook::AppliesTo::Question {
                                PartKind::Question
                            } else {
                                PartKind::Answer
                            };
                            for part in doc.transcript.parts.iter().filter(|p| p.id.kind == kind) {
                                let values: Vec<Vec<String>> = chosen
                                    .iter()
                                    .map(|a| {
                                        doc.sidecars
                                            .iter()
                                            .find(|s| &s.annotator.id == a)
                                            .map(|s| s.part_values(part.id, &dim.id).to_vec())
                                            .unwrap_or_default()
                                    })
                                    .collect();
                                if values.iter().all(Vec::is_empty) {
                                    continue;
                                }
                                let differs = values.iter().any(|v| *v != values[0]);
                                let name = format!("{} ({})", dim.label, part.id);
                                ui.label(if differs {
                                    RichText::new(format!("≠ {name}"))
                                        .color(Color32::from_rgb(200, 60, 60))
                                } else {
                                    RichText::new(name)
                                });
                                // Labels, as the codebook panel shows them, not ids.
                                let labels = |vals: &[String]| {
                                    vals.iter()
                                        .map(|v| dim.value(v).map_or(v.as_str(), |x| &x.label))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                };
                                for v in &values {
                                    ui.label(labels(v));
                                }
                                ui.label(
                                    gold_sidecar
                                        .as_ref()
                                        .map(|g| labels(g.part_values(part.id, &dim.id)))
                                        .unwrap_or_default(),
                                );
                                ui.end_row();
                            }
                        }
                    });
                ui.separator();
                ui.label(RichText::new("Settle each disagreement").strong());
                let coders = doc
                    .sidecars
                    .iter()
                    .filter(|s| chosen.contains(&s.annotator.id) && !s.is_empty())
                    .count();
                if mine.is_empty() && coders < 2 {
                    ui.label(format!(
                        "{coders} of the chosen annotators coded this document: nothing to compare."
                    ));
                } else if mine.is_empty() {
                    ui.label("The annotators agree on everything in this document.");
                }
                let review = self.review.as_mut().expect("checked above");
                for d in mine {
                    ui.group(|ui| {
                        let done = progress.decisions.get(&d.key);
                        let title = match &d.subject {
                            Subject::Tag => format!(
                                "{} on {}",
                                dimension_label(dataset.codebook(), &d.dimension),
                                d.part
                            ),
                            Subject::Span { start, end } => format!(
                                "{} spans in {} {start}–{end}",
                                dimension_label(dataset.codebook(), &d.dimension),
                                d.part
                            ),
                        };
                        ui.horizontal(|ui| {
                            ui.label(RichText::new(title).strong());
                            if let Some(dec) = done {
                                ui.label(
                                    RichText::new(format!("settled: {}", dec.describe()))
                                        .color(Color32::from_rgb(60, 160, 90)),
                                );
                            }
                        });
                        for (who, said) in &d.versions {
                            let i = chosen.iter().position(|a| a == who).unwrap_or(0);
                            ui.label(
                                RichText::new(format!(
                                    "{who}: {}",
                                    if said.is_empty() {
                                        "(nothing)".to_string()
                                    } else {
                                        said.iter()
                                            .map(|v| {
                                                value_label(dataset.codebook(), &d.dimension, v)
                                            })
                                            .collect::<Vec<_>>()
                                            .join("; ")
                                    }
                                ))
                                .color(LANE_COLORS[i % LANE_COLORS.len()]),
                            );
                        }
                        ui.horizontal_wrapped(|ui| {
                            for (who, _) in &d.versions {
                                if ui.button(format!("Take {who}'s")).clicked() {
                                    action = Some((d.clone(), Decision::Take(who.clone())));
                                }
                            }
                            // Both values on a one-choice dimension would make an invalid
                            // code: not offered there.
                            let one_choice = matches!(d.subject, Subject::Tag)
                                && dataset.codebook().dimension(&d.dimension).is_some_and(|x| {
                                    x.kind == crate::codebook::DimensionKind::OneChoice
                                });
                            if !one_choice && ui.button("Both").clicked() {
                                action = Some((d.clone(), Decision::Both));
                            }
                            if ui.button("Neither").clicked() {
                                action = Some((d.clone(), Decision::Neither));
                            }
                        });
                        let other = review.other.entry(d.key.clone()).or_default();
                        ui.horizontal(|ui| {
                            match (&d.subject, dataset.codebook().dimension(&d.dimension)) {
                                (Subject::Tag, Some(dim)) if !dim.values.is_empty() => {
                                    egui::ComboBox::new(("other", &d.key), "Other value")
                                        .selected_text(if other.is_empty() {
                                            "choose…".to_string()
                                        } else {
                                            other.clone()
                                        })
                                        .show_ui(ui, |ui| {
                                            for v in &dim.values {
                                                ui.selectable_value(other, v.id.clone(), &v.label);
                                            }
                                        });
                                }
                                _ => {
                                    let l = ui.label("Value");
                                    ui.add(
                                        egui::TextEdit::singleline(other)
                                            .hint_text("another value")
                                            .desired_width(160.0),
                                    )
                                    .labelled_by(l.id);
                                }
                            }
                            if ui
                                .add_enabled(!other.trim().is_empty(), egui::Button::new("Set"))
                                .clicked()
                            {
                                action =
                                    Some((d.clone(), Decision::Value(other.trim().to_string())));
                            }
                        });
                    });
                }
            });
        if let Some((d, decision)) = action {
            self.act(Action::Settle {
                path: doc.path.clone(),
                disagreement: Box::new(d),
                decision,
            });
        }
    }
}

fn empty_marks() -> Vec<Mark> {
    Vec::new()
}

fn describe_versions(d: &Disagreement, codebook: &crate::codebook::Codebook) -> String {
    d.versions
        .iter()
        .map(|(who, said)| {
            format!(
                "{who}: {}",
                if said.is_empty() {
                    "—".to_string()
                } else {
                    said.iter()
                        .map(|v| value_label(codebook, &d.dimension, v))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )
        })
        .collect::<Vec<_>>()
        .join("   ")
}

/// A dimension as the codebook names it (its id when the codebook does not know it).
fn dimension_label(codebook: &crate::codebook::Codebook, id: &str) -> String {
    codebook
        .dimension(id)
        .map_or_else(|| id.to_string(), |d| d.label.clone())
}

/// A value as the codebook names it (as stored for entities and unknown values).
fn value_label(codebook: &crate::codebook::Codebook, dimension: &str, value: &str) -> String {
    codebook
        .dimension(dimension)
        .and_then(|d| d.value(value))
        .map_or_else(|| value.to_string(), |v| v.label.clone())
}

/// A coefficient to three decimals; a value that rounds to zero is shown as 0.000, never -0.000.
fn fmt(x: Option<f64>) -> String {
    x.map_or_else(
        || "—".to_string(),
        |v| {
            let s = format!("{v:.3}");
            if s == "-0.000" {
                "0.000".to_string()
            } else {
                s
            }
        },
    )
}

fn agreement_ui(
    ui: &mut egui::Ui,
    report: &AgreementReport,
    codebook: &crate::codebook::Codebook,
    sort: &mut (usize, bool),
) {
    // Its own scroll state, so each tab opens at its top.
    egui::ScrollArea::both().id_salt("review-agreement").auto_shrink([false, false]).show(ui, |ui| {
        ui.label(format!(
            "{} annotators ({}), {} documents coded by at least two. Coefficients as defined in docs/agreement.md.",
            report.annotators.len(),
            report.annotators.join(", "),
            report.documents
        ));
        ui.add_space(4.0);
        ui.label(RichText::new("Krippendorff's alpha by dimension").strong());
        alpha_chart(ui, report, codebook);
        ui.add_space(8.0);
        egui::Grid::new("agreement-table").striped(true).num_columns(8).show(ui, |ui| {
            for h in ["dimension", "scope", "value", "units", "agreement", "Cohen", "Fleiss", "alpha"] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for d in std::iter::once(&report.overall).chain(&report.dimensions) {
                ui.label(dimension_label(codebook, &d.dimension));
                ui.label(&d.scope);
                ui.label(
                    d.value
                        .as_ref()
                        .map(|v| value_label(codebook, &d.dimension, v))
                        .unwrap_or_default(),
                );
                ui.label(d.units.to_string());
                ui.label(fmt(d.percent_agreement));
                ui.label(fmt(d.cohen_kappa));
                ui.label(fmt(d.fleiss_kappa));
                ui.label(fmt(d.krippendorff_alpha));
                ui.end_row();
            }
        });
        ui.add_space(8.0);
        ui.label(RichText::new("Pairs of annotators (one-choice part tags)").strong());
        egui::Grid::new("pairwise").striped(true).show(ui, |ui| {
            for h in ["pair", "units", "agreement", "Cohen's kappa"] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for p in &report.pairwise {
                ui.label(format!("{} – {}", p.a, p.b));
                ui.label(p.units.to_string());
                ui.label(fmt(p.percent_agreement));
                ui.label(fmt(p.cohen_kappa));
                ui.end_row();
            }
        });
        ui.add_space(8.0);
        ui.label(RichText::new("Per document (one-choice part tags)").strong());
        egui::Grid::new("per-document").striped(true).show(ui, |ui| {
            // Click a heading to sort by it, again to reverse.
            for (k, h) in ["document", "units", "agreed", "agreement", "disagreements"].into_iter().enumerate() {
                let on = sort.0 == k;
                let text = if on { format!("{h} {}", if sort.1 { "(descending)" } else { "(ascending)" }) } else { h.to_string() };
                if ui.selectable_label(on, RichText::new(text).strong()).on_hover_text("Sort by this column").clicked() {
                    *sort = if on { (k, !sort.1) } else { (k, k != 0) };
                }
            }
            ui.end_row();
            let share = |d: &crate::agreement::corpus::DocumentAgreementRow| {
                if d.units > 0 { d.agreed as f64 / d.units as f64 } else { -1.0 }
            };
            let mut rows: Vec<_> = report.per_document.iter().collect();
            match sort.0 {
                1 => rows.sort_by_key(|d| d.units),
                2 => rows.sort_by_key(|d| d.agreed),
                3 => rows.sort_by(|a, b| share(a).total_cmp(&share(b))),
                4 => rows.sort_by_key(|d| d.disagreements),
                _ => rows.sort_by(|a, b| a.document.cmp(&b.document)),
            }
            if sort.1 {
                rows.reverse();
            }
            for d in rows {
                ui.label(&d.document);
                ui.label(d.units.to_string());
                ui.label(d.agreed.to_string());
                ui.label(if d.units > 0 { format!("{:.3}", d.agreed as f64 / d.units as f64) } else { "—".to_string() });
                ui.label(d.disagreements.to_string());
                ui.end_row();
            }
        });
        ui.add_space(8.0);
        ui.label(RichText::new("Span matching (precision / recall / F1 of the second against the first)").strong());
        egui::Grid::new("span-matching").striped(true).show(ui, |ui| {
            for h in ["dimension", "pair", "spans", "exact", "overlapping"] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for m in &report.span_matching {
                ui.label(dimension_label(codebook, &m.dimension));
                ui.label(format!("{} – {}", m.a, m.b));
                ui.label(format!("{} / {}", m.spans.0, m.spans.1));
                ui.label(format!("{} / {} / {}", fmt(m.exact.precision), fmt(m.exact.recall), fmt(m.exact.f1)));
                ui.label(format!("{} / {} / {}", fmt(m.overlap.precision), fmt(m.overlap.recall), fmt(m.overlap.f1)));
                ui.end_row();
            }
        });
    });
}

/// Horizontal bars of alpha per one-choice and span dimension, with Krippendorff's 0.667 and 0.8
/// thresholds marked.
fn alpha_chart(ui: &mut egui::Ui, report: &AgreementReport, codebook: &crate::codebook::Codebook) {
    let rows: Vec<&DimensionAgreement> = report
        .dimensions
        .iter()
        .filter(|d| d.value.is_none())
        .collect();
    let row_h = 18.0;
    let width = ui.available_width().clamp(480.0, 720.0);
    let font = egui::FontId::proportional(12.0);
    let text = ui.visuals().text_color();
    let labels: Vec<String> = rows
        .iter()
        .map(|d| format!("{} ({})", dimension_label(codebook, &d.dimension), d.scope))
        .collect();
    // The label column as wide as its widest label, up to half the chart; a longer label ends
    // in "…" (it ran into its bar's value).
    let widest = labels
        .iter()
        .map(|l| {
            ui.fonts_mut(|f| f.layout_no_wrap(l.clone(), font.clone(), text))
                .size()
                .x
        })
        .fold(0.0f32, f32::max);
    let label_w = (widest + 12.0).clamp(160.0, width * 0.5);
    let (rect, _) = ui.allocate_exact_size(
        egui::vec2(width, row_h * rows.len() as f32 + 18.0),
        egui::Sense::hover(),
    );
    let painter = ui.painter_at(rect);
    let bar_w = width - label_w - 60.0;
    let x0 = rect.left() + label_w;
    for (i, (d, label)) in rows.iter().zip(&labels).enumerate() {
        let y = rect.top() + i as f32 * row_h;
        let mut job = egui::text::LayoutJob::simple_singleline(label.clone(), font.clone(), text);
        job.wrap = egui::text::TextWrapping::truncate_at_width(label_w - 8.0);
        let galley = ui.fonts_mut(|f| f.layout_job(job));
        painter.galley(
            egui::pos2(rect.left(), y + (row_h - galley.size().y) / 2.0),
            galley,
            text,
        );
        if let Some(a) = d.krippendorff_alpha {
            let w = bar_w * a.clamp(0.0, 1.0) as f32;
            let color = if a >= 0.8 {
                Color32::from_rgb(60, 160, 90)
            } else if a >= 0.667 {
                Color32::from_rgb(220, 150, 0)
            } else {
                Color32::from_rgb(200, 70, 60)
            };
            painter.rect_filled(
                egui::Rect::from_min_size(
                    egui::pos2(x0, y + 3.0),
                    egui::vec2(w.max(1.0), row_h - 6.0),
                ),
                2.0,
                color,
            );
            painter.text(
                egui::pos2(x0 + w + 4.0, y + row_h / 2.0),
                egui::Align2::LEFT_CENTER,
                // A tiny negative alpha rounds to 0.00, never "-0.00".
                format!("{:.2}", if a.abs() < 0.005 { 0.0 } else { a }),
                font.clone(),
                text,
            );
        } else {
            painter.text(
                egui::pos2(x0, y + row_h / 2.0),
                egui::Align2::LEFT_CENTER,
                "undefined",
                font.clone(),
                ui.visuals().weak_text_color(),
            );
        }
    }
    let bottom = rect.top() + row_h * rows.len() as f32;
    // The two thresholds sit close: their labels lean away from each other.
    for (t, label, align, dx) in [
        (0.667f32, "0.667", egui::Align2::RIGHT_TOP, -2.0),
        (0.8, "0.8", egui::Align2::LEFT_TOP, 2.0),
        (1.0, "1", egui::Align2::LEFT_TOP, 2.0),
    ] {
        let x = x0 + bar_w * t;
        painter.line_segment(
            [egui::pos2(x, rect.top()), egui::pos2(x, bottom)],
            egui::Stroke::new(1.0, ui.visuals().weak_text_color()),
        );
        painter.text(
            egui::pos2(x + dx, bottom + 2.0),
            align,
            label,
            font.clone(),
            ui.visuals().weak_text_color(),
        );
    }
}
