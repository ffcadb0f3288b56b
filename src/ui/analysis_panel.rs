//! Analysis (Ctrl+Shift+A): every coding of a code across the corpus, code frequencies, and a
//! cross-tab of any two fields or dimensions with its statistics and chart. The sidecars are read
//! once in a task; each question is answered in a task too, over the list's filter.

use std::path::PathBuf;
use std::sync::Arc;

use egui::{Color32, RichText};

use super::MarginaliaApp;
use super::action::Action;
use super::task::Task;
use crate::analysis::Scope;
use crate::analysis::chart::{self, BarChart};
use crate::analysis::codes::Frequencies;
use crate::analysis::crosstab::{Axis, CrossTab, Field};
use crate::analysis::retrieve::{CodeQuery, Coding, CodingSort};
use crate::corpus::Filter;
use crate::dataset::{Dataset, Selection};
use crate::transcript::PartKind;

/// The views of analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalysisTab {
    /// Every coding of a code.
    Retrieve,
    /// How often each value was coded.
    Frequencies,
    /// Two fields or dimensions against each other.
    CrossTab,
    /// Codes found together within a part.
    Cooccurrence,
}

/// An answer computed in a task.
pub enum Answer {
    /// Codings found.
    Codings(Vec<Coding>),
    /// Code frequencies.
    Frequencies(Frequencies),
    /// A cross-tab.
    Table(Box<CrossTab>),
    /// Codes found together.
    Cooccurrence(crate::analysis::codes::Cooccurrence),
}

/// Analysis' state, kept while the user looks at documents in between.
pub struct AnalysisState {
    /// Shown (false while a document opened from a coding is looked at).
    pub open: bool,
    /// The view.
    pub tab: AnalysisTab,
    load: Option<Task<Result<Arc<Dataset>, String>>>,
    data: Option<Arc<Dataset>>,
    job: Option<Task<Result<Answer, String>>>,
    /// Why the last question failed.
    error: Option<String>,
    /// Annotators and reconciled sets of the folder, and whether they count.
    annotators: Vec<(String, bool)>,
    part: Option<PartKind>,
    dimension: String,
    value: Option<String>,
    codings: Vec<Coding>,
    /// A retrieval has run (an empty list is then an answer, not a start).
    retrieved: bool,
    sort: (CodingSort, bool),
    frequencies: Option<Frequencies>,
    rows: String,
    cols: String,
    table: Option<CrossTab>,
    cooccurrence: Option<crate::analysis::codes::Cooccurrence>,
    /// The cross-tab's chart: `None` stacks each row's shares; `Some(j)` shows column j's share of
    /// each row with its interval (a reply rate per office-holder).
    chart_column: Option<usize>,
    /// Bytes waiting for the file dialog's answer, and what they are.
    saving: Option<(Task<Option<PathBuf>>, Vec<u8>)>,
}

impl AnalysisState {
    /// Analysis of the folder at `root` by these annotators (the reconciled set left out until
    /// chosen); the sidecars are read in a task.
    pub(super) fn start(
        root: PathBuf,
        annotators: Vec<String>,
        repaint: Option<egui::Context>,
    ) -> AnalysisState {
        let load = Task::spawn("analysis-load", repaint, move |r| {
            r.send(
                Dataset::load(&root, &Selection::default(), &|_, _| {})
                    .map(Arc::new)
                    .map_err(|e| e.to_string()),
            );
        });
        let (load, error) = match load {
            Ok(t) => (Some(t), None),
            Err(e) => (None, Some(e)),
        };
        AnalysisState {
            open: true,
            tab: AnalysisTab::Retrieve,
            load,
            data: None,
            job: None,
            error,
            annotators: crate::review::coders_ticked(annotators),
            part: None,
            dimension: String::new(),
            value: None,
            codings: Vec::new(),
            retrieved: false,
            sort: (CodingSort::Document, false),
            frequencies: None,
            rows: Field::AskedOf.name().to_string(),
            cols: String::new(),
            table: None,
            cooccurrence: None,
            chart_column: None,
            saving: None,
        }
    }

    /// Takes the read sidecars, an answer, a chosen file; true when a file waits to be written.
    pub(super) fn poll(&mut self) -> Option<(PathBuf, Vec<u8>)> {
        if let Some(load) = &mut self.load
            && let Some(result) = load.poll_once()
        {
            self.load = None;
            match result {
                Some(Ok(d)) => {
                    if self.dimension.is_empty()
                        && let Some(first) = d.codebook.dimensions.first()
                    {
                        self.dimension = first.id.clone();
                    }
                    if self.cols.is_empty()
                        && let Some(d) = d
                            .codebook
                            .dimensions
                            .iter()
                            .find(|d| d.applies_to == crate::codebook::AppliesTo::Answer)
                    {
                        self.cols = d.id.clone();
                    }
                    self.data = Some(d);
                }
                Some(Err(e)) => self.error = Some(e),
                None => self.error = Some("reading the sidecars stopped".to_string()),
            }
        }
        if let Some(job) = &mut self.job
            && let Some(result) = job.poll_once()
        {
            self.job = None;
            match result {
                Some(Ok(Answer::Codings(mut c))) => {
                    crate::analysis::retrieve::sort_codings(&mut c, self.sort.0, self.sort.1);
                    self.codings = c;
                    self.retrieved = true;
                    self.error = None;
                }
                Some(Ok(Answer::Frequencies(f))) => {
                    self.frequencies = Some(f);
                    self.error = None;
                }
                Some(Ok(Answer::Table(t))) => {
                    self.table = Some(*t);
                    self.error = None;
                }
                Some(Ok(Answer::Cooccurrence(c))) => {
                    self.cooccurrence = Some(c);
                    self.error = None;
                }
                Some(Err(e)) => self.error = Some(e),
                None => self.error = Some("the analysis stopped".to_string()),
            }
        }
        if let Some((dialog, _)) = &mut self.saving
            && let Some(picked) = dialog.poll_once()
        {
            let (_, bytes) = self.saving.take()?;
            return picked.flatten().map(|p| (p, bytes));
        }
        None
    }

    /// Blocks until the reading and the answer have ended.
    pub(super) fn wait(&mut self) {
        if let Some(t) = &mut self.load {
            t.wait();
        }
        if let Some(t) = &mut self.job {
            t.wait();
        }
    }

    /// True while sidecars are read or a question is answered.
    pub(super) fn is_running(&self) -> bool {
        self.load.is_some() || self.job.is_some()
    }

    /// The codings found by the last retrieval.
    pub fn codings(&self) -> &[Coding] {
        &self.codings
    }

    /// The last cross-tab.
    pub fn table(&self) -> Option<&CrossTab> {
        self.table.as_ref()
    }

    fn scope(&self, filter: &Filter) -> Scope {
        let chosen: Vec<String> = self
            .annotators
            .iter()
            .filter(|(_, on)| *on)
            .map(|(a, _)| a.clone())
            .collect();
        Scope {
            annotators: Some(chosen),
            part: self.part,
            filter: Some(filter.clone()),
        }
    }

    /// Answers the current tab's question over the list's filter, in a task.
    fn run(&mut self, filter: &Filter, repaint: Option<egui::Context>) {
        let Some(data) = self.data.clone() else {
            return;
        };
        let scope = self.scope(filter);
        let tab = self.tab;
        let spec = match &self.value {
            Some(v) => format!("{}={v}", self.dimension),
            None => self.dimension.clone(),
        };
        let (rows, cols) = (self.rows.clone(), self.cols.clone());
        let task = Task::spawn("analysis", repaint, move |r| {
            let answer = match tab {
                AnalysisTab::Retrieve => CodeQuery::parse(&spec, &data)
                    .and_then(|q| crate::analysis::retrieve::retrieve(&data, &q, &scope))
                    .map(Answer::Codings),
                AnalysisTab::Frequencies => {
                    crate::analysis::codes::frequencies(&data, &scope).map(Answer::Frequencies)
                }
                AnalysisTab::CrossTab => Axis::parse(&rows, &data)
                    .and_then(|a| Axis::parse(&cols, &data).map(|b| (a, b)))
                    .and_then(|(a, b)| crate::analysis::crosstab::crosstab(&data, &a, &b, &scope))
                    .map(|t| Answer::Table(Box::new(t))),
                AnalysisTab::Cooccurrence => {
                    crate::analysis::codes::cooccurrence(&data, &scope, None)
                        .map(Answer::Cooccurrence)
                }
            };
            r.send(answer.map_err(|e| e.to_string()));
        });
        match task {
            Ok(t) => self.job = Some(t),
            Err(e) => self.error = Some(e),
        }
    }

    /// Asks where to save `bytes` (a file dialog in a task).
    fn save_as(&mut self, name: &str, bytes: Vec<u8>, repaint: Option<egui::Context>) {
        let name = name.to_string();
        let task = Task::spawn("analysis-save", repaint, move |r| {
            r.send(
                rfd::FileDialog::new()
                    .set_title("Save")
                    .set_file_name(name)
                    .save_file(),
            );
        });
        match task {
            Ok(t) => self.saving = Some((t, bytes)),
            Err(e) => self.error = Some(e),
        }
    }
}

impl MarginaliaApp {
    /// The analysis view, in the centre.
    pub(super) fn analysis_ui(&mut self, ui: &mut egui::Ui) {
        let filter = self.ws.filter.clone();
        let filtered = self
            .ws
            .corpus
            .as_ref()
            .is_some_and(|c| self.ws.visible.len() != c.entries.len());
        let repaint = self.repaint.clone();
        let mut open_coding = None;
        let Some(a) = &mut self.analysis else { return };
        let mut rerun = false;
        ui.horizontal_wrapped(|ui| {
            ui.heading("Analysis");
            for (tab, name) in [
                (AnalysisTab::Retrieve, "Retrieve codings"),
                (AnalysisTab::Frequencies, "Code frequencies"),
                (AnalysisTab::CrossTab, "Cross-tab"),
                (AnalysisTab::Cooccurrence, "Co-occurrence"),
            ] {
                if ui.selectable_label(a.tab == tab, name).clicked() && a.tab != tab {
                    a.tab = tab;
                    rerun = true;
                }
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.label("Codings of");
            for (id, on) in &mut a.annotators {
                let name = if id == crate::review::DEFAULT_GOLD {
                    "reconciled set".to_string()
                } else {
                    id.clone()
                };
                rerun |= ui.checkbox(on, name).changed();
            }
            ui.separator();
            ui.label("in");
            for (part, name) in [
                (None, "both parts"),
                (Some(PartKind::Question), "questions"),
                (Some(PartKind::Answer), "answers"),
            ] {
                rerun |= ui.radio_value(&mut a.part, part, name).changed();
            }
            if filtered {
                ui.label(
                    RichText::new("· documents in the list's filter")
                        .color(super::style::secondary(ui)),
                );
            }
        });
        if let Some(e) = &a.error {
            ui.colored_label(Color32::from_rgb(200, 60, 60), e);
        }
        if a.load.is_some() || a.job.is_some() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(if a.load.is_some() {
                    "Reading every sidecar…"
                } else {
                    "Counting…"
                });
            });
        }
        ui.separator();
        let Some(data) = a.data.clone() else { return };
        match a.tab {
            AnalysisTab::Retrieve => {
                rerun |= retrieve_controls(ui, a, &data);
                open_coding = codings_ui(ui, a, repaint.clone());
            }
            AnalysisTab::Frequencies => frequencies_ui(ui, a, &data, repaint.as_ref()),
            AnalysisTab::CrossTab => {
                rerun |= crosstab_controls(ui, a, &data);
                crosstab_ui(ui, a, &data.codebook, repaint.clone());
            }
            AnalysisTab::Cooccurrence => cooccurrence_ui(ui, a, &data, repaint.as_ref()),
        }
        let first = match a.tab {
            AnalysisTab::Retrieve => !a.retrieved,
            AnalysisTab::Frequencies => a.frequencies.is_none(),
            AnalysisTab::CrossTab => a.table.is_none(),
            AnalysisTab::Cooccurrence => a.cooccurrence.is_none(),
        };
        // A changed question runs at once; a tab shown for the first time fills itself.
        if rerun || (first && a.job.is_none() && a.error.is_none()) {
            a.run(&filter, repaint);
        }
        if let Some(c) = open_coding {
            self.act(Action::OpenCoding(Box::new(c)));
        }
    }
}

/// Dimension and value pickers; true when the query changed.
fn retrieve_controls(ui: &mut egui::Ui, a: &mut AnalysisState, data: &Dataset) -> bool {
    let mut changed = false;
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Code");
        let label = |id: &str| {
            data.codebook
                .dimension(id)
                .map_or(id.to_string(), |d| d.label.clone())
        };
        egui::ComboBox::new("retrieve-dimension", "")
            .selected_text(label(&a.dimension))
            .width(220.0)
            .show_ui(ui, |ui| {
                for d in &data.codebook.dimensions {
                    if ui
                        .selectable_value(&mut a.dimension, d.id.clone(), &d.label)
                        .changed()
                    {
                        a.value = None;
                        changed = true;
                    }
                }
            })
            .response
            .labelled_by(l.id);
        let dim = data.codebook.dimension(&a.dimension);
        let shown = match (&a.value, dim) {
            (None, _) => "any value".to_string(),
            (Some(v), Some(d)) => d.value(v).map_or(v.clone(), |x| x.label.clone()),
            (Some(v), None) => v.clone(),
        };
        let l = ui.label("=");
        egui::ComboBox::new("retrieve-value", "")
            .selected_text(shown)
            .width(200.0)
            .show_ui(ui, |ui| {
                changed |= ui
                    .selectable_value(&mut a.value, None, "any value")
                    .changed();
                for v in dim.map_or(&[][..], |d| d.values.as_slice()) {
                    changed |= ui
                        .selectable_value(&mut a.value, Some(v.id.clone()), &v.label)
                        .changed();
                }
            })
            .response
            .labelled_by(l.id);
        if ui.button("Find").clicked() {
            changed = true;
        }
    });
    changed
}

/// The codings found, sortable, each opening its document; copy and save as CSV. Returns the
/// coding clicked.
fn codings_ui(
    ui: &mut egui::Ui,
    a: &mut AnalysisState,
    repaint: Option<egui::Context>,
) -> Option<Coding> {
    let mut clicked = None;
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("{} codings", a.codings.len())).strong());
        if ui
            .add_enabled(!a.codings.is_empty(), egui::Button::new("Copy"))
            .on_hover_text("Copy as CSV, to paste into a spreadsheet")
            .clicked()
        {
            let text = String::from_utf8_lossy(&crate::analysis::retrieve::codings_csv(&a.codings))
                .into_owned();
            ui.ctx().copy_text(text);
        }
        if ui
            .add_enabled(!a.codings.is_empty(), egui::Button::new("Save as CSV…"))
            .clicked()
        {
            let bytes = crate::analysis::retrieve::codings_csv(&a.codings);
            a.save_as("codings.csv", bytes, repaint.clone());
        }
    });
    let mut resort = None;
    let columns = [
        (CodingSort::Date, "date"),
        (CodingSort::Member, "member"),
        (CodingSort::Party, "party"),
        (CodingSort::OfficeHolder, "office-holder"),
        (CodingSort::Annotator, "coder"),
        (CodingSort::Value, "value"),
        (CodingSort::Document, "document"),
    ];
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Sort").small());
        for (key, name) in columns {
            let on = a.sort.0 == key;
            let text = if on {
                format!(
                    "{name} ({})",
                    if a.sort.1 { "descending" } else { "ascending" }
                )
            } else {
                name.to_string()
            };
            if ui
                .selectable_label(on, RichText::new(text).small())
                .clicked()
            {
                resort = Some(if on { (key, !a.sort.1) } else { (key, false) });
            }
        }
    });
    if let Some(s) = resort {
        a.sort = s;
        crate::analysis::retrieve::sort_codings(&mut a.codings, s.0, s.1);
    }
    let row_height = ui.text_style_height(&egui::TextStyle::Body) * 2.0 + 10.0;
    egui::ScrollArea::vertical()
        .id_salt("analysis-codings")
        .auto_shrink([false, false])
        .show_rows(ui, row_height, a.codings.len(), |ui, range| {
            for c in &a.codings[range] {
                let title = if c.title.is_empty() {
                    &c.document
                } else {
                    &c.title
                };
                // An interview has no date or member: nothing is left between its separators.
                let part = c.part.to_string();
                let head: Vec<&str> = [
                    Some(title.as_str()),
                    c.date.as_deref(),
                    c.member.as_deref(),
                    c.party.as_deref(),
                    c.office_holder.as_deref().map(|o| o.trim()),
                    Some(part.as_str()),
                    Some(c.annotator.as_str()),
                ]
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect();
                let head = head.join(" · ");
                let body = match &c.quote {
                    Some(_) => format!("{}: {}", c.value_label, c.context),
                    None => format!("{} (tag) · {}", c.value_label, c.context),
                };
                let r = super::corpus_panel::list_row(
                    ui,
                    row_height,
                    false,
                    ("•", Color32::from_rgb(230, 190, 40)),
                    &head,
                    &body,
                );
                let r = match &c.note {
                    Some(n) => r.on_hover_text(n),
                    None => r.on_hover_text("Open the document at this coding"),
                };
                if r.clicked() {
                    clicked = Some(c.clone());
                }
            }
        });
    clicked
}

fn frequencies_ui(
    ui: &mut egui::Ui,
    a: &mut AnalysisState,
    data: &Dataset,
    repaint: Option<&egui::Context>,
) {
    // A copy, so that the save buttons may borrow the state: a few rows per dimension.
    let Some(f) = a.frequencies.clone() else {
        return;
    };
    egui::ScrollArea::vertical()
        .id_salt("analysis-frequencies")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for d in &f.dimensions {
                ui.add_space(6.0);
                let c = chart::of_frequency(d, &data.codebook);
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new(format!("{} ({} units)", d.label, d.units)).strong());
                    save_chart_buttons(ui, a, &format!("frequencies-{}", d.dimension), &c, repaint);
                });
                egui::Grid::new(("freq", &d.dimension))
                    .striped(true)
                    .num_columns(4)
                    .show(ui, |ui| {
                        for h in ["value", "units", "documents", "share (95% CI)", ""] {
                            ui.label(RichText::new(h).small());
                        }
                        ui.end_row();
                        let dim = data.codebook.dimension(&d.dimension);
                        for v in &d.values {
                            ui.label(&v.label);
                            ui.label(v.units.to_string());
                            ui.label(v.documents.to_string());
                            ui.label(format!(
                                "{:.1}% ({:.1}–{:.1})",
                                v.share.share * 100.0,
                                v.share.low * 100.0,
                                v.share.high * 100.0
                            ));
                            // The share as a bar in the value's colour, its interval as a whisker.
                            let color = dim
                                .and_then(|x| x.value(&v.value))
                                .and_then(|x| crate::codebook::parse_color(&x.color))
                                .map_or(Color32::GRAY, |[r, g, b]| Color32::from_rgb(r, g, b));
                            let (rect, _) = ui
                                .allocate_exact_size(egui::vec2(160.0, 12.0), egui::Sense::hover());
                            let x = |f: f64| rect.left() + rect.width() * f.clamp(0.0, 1.0) as f32;
                            ui.painter().rect_filled(
                                egui::Rect::from_min_max(
                                    rect.left_top(),
                                    egui::pos2(x(v.share.share), rect.bottom()),
                                ),
                                2.0,
                                color,
                            );
                            ui.painter().line_segment(
                                [
                                    egui::pos2(x(v.share.low), rect.center().y),
                                    egui::pos2(x(v.share.high), rect.center().y),
                                ],
                                egui::Stroke::new(1.5, ui.visuals().text_color()),
                            );
                            ui.end_row();
                        }
                    });
                egui::CollapsingHeader::new("Chart")
                    .id_salt(("freq-chart", &d.dimension))
                    .show(ui, |ui| {
                        super::chart_view::plot(ui, &format!("freq-plot-{}", d.dimension), &c);
                    });
            }
        });
}

/// The pairs of codes found together within a part, most frequent first, with each code's own
/// count: the codes that go with a Non-reply, the topics that travel together.
fn cooccurrence_ui(
    ui: &mut egui::Ui,
    a: &mut AnalysisState,
    data: &Dataset,
    repaint: Option<&egui::Context>,
) {
    let Some(c) = &a.cooccurrence else { return };
    let name = |k: usize| {
        let code = &c.codes[k];
        let dim = data
            .codebook
            .dimension(&code.dimension)
            .map_or(code.dimension.as_str(), |d| d.label.as_str());
        format!("{dim}: {}", code.label)
    };
    let mut save = false;
    ui.horizontal_wrapped(|ui| {
        ui.label(
            RichText::new(format!(
                "{} pairs of codes in the same part, among {} codes",
                c.pairs.len(),
                c.codes.len()
            ))
            .strong(),
        );
        save = ui.button("Save as CSV…").clicked();
    });
    ui.label(
        RichText::new(
            "A part is one coder's question or answer; each pair counts once per part. \
             Shares are of the rarer code's parts.",
        )
        .color(super::style::secondary(ui)),
    );
    // show_rows adds the item spacing to this height, as the grid does between its rows: the two
    // agree, so the rows drawn fill the view.
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    egui::ScrollArea::both()
        .id_salt("analysis-cooccurrence")
        .auto_shrink([false, false])
        .show_rows(ui, row_height, c.pairs.len() + 1, |ui, rows| {
            egui::Grid::new("cooccurrence")
                .striped(true)
                .num_columns(4)
                .min_row_height(row_height)
                .show(ui, |ui| {
                    for r in rows {
                        if r == 0 {
                            for h in ["code", "with", "parts together", "share"] {
                                ui.label(RichText::new(h).small());
                            }
                            ui.end_row();
                            continue;
                        }
                        let p = &c.pairs[r - 1];
                        ui.label(name(p.a));
                        ui.label(name(p.b));
                        ui.label(p.parts.to_string());
                        let rarer = c.codes[p.a].parts.min(c.codes[p.b].parts);
                        ui.label(if rarer == 0 {
                            "—".to_string()
                        } else {
                            format!("{:.0}% of {rarer}", p.parts as f64 * 100.0 / rarer as f64)
                        });
                        ui.end_row();
                    }
                });
        });
    if save {
        let csv = c.to_csv();
        a.save_as("cooccurrence.csv", csv, repaint.cloned());
    }
}

/// Row and column pickers; true when they changed.
fn crosstab_controls(ui: &mut egui::Ui, a: &mut AnalysisState, data: &Dataset) -> bool {
    let mut changed = false;
    let mut choices: Vec<(String, String)> = Field::ALL
        .iter()
        .map(|f| (f.name().to_string(), f.name().replace('_', " ")))
        .collect();
    choices.extend(
        data.codebook
            .dimensions
            .iter()
            .filter(|d| d.applies_to != crate::codebook::AppliesTo::Span)
            .map(|d| (d.id.clone(), d.label.clone())),
    );
    let name = |id: &str| {
        choices
            .iter()
            .find(|(c, _)| c == id)
            .map_or(id.to_string(), |(_, l)| l.clone())
    };
    ui.horizontal_wrapped(|ui| {
        for (which, salt) in [("Rows", "xt-rows"), ("Columns", "xt-cols")] {
            let l = ui.label(which);
            let target = if which == "Rows" {
                &mut a.rows
            } else {
                &mut a.cols
            };
            egui::ComboBox::new(salt, "")
                .selected_text(name(target))
                .width(200.0)
                .show_ui(ui, |ui| {
                    for (id, label) in &choices {
                        changed |= ui.selectable_value(target, id.clone(), label).changed();
                    }
                })
                .response
                .labelled_by(l.id);
        }
    });
    changed
}

fn crosstab_ui(
    ui: &mut egui::Ui,
    a: &mut AnalysisState,
    codebook: &crate::codebook::Codebook,
    repaint: Option<egui::Context>,
) {
    let Some(t) = a.table.clone() else { return };
    let stats = match (t.chi_square, t.df, t.p_value, t.cramers_v) {
        (Some(x), Some(df), Some(p), Some(v)) => format!(
            "χ² = {x:.2}, df = {df}, p = {}, Cramér's V = {v:.3}",
            if p < 0.001 {
                "< 0.001".to_string()
            } else {
                format!("{p:.3}")
            }
        ),
        _ => "χ² needs at least two rows and two columns".to_string(),
    };
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(format!("{} units · {stats}", t.units)).strong());
        if t.low_expected_cells > 0 {
            ui.label(
                RichText::new(format!(
                    "{} cells expect fewer than 5: read χ² with care",
                    t.low_expected_cells
                ))
                .color(Color32::from_rgb(200, 140, 0)),
            );
        }
        if ui.button("Save table as CSV…").clicked() {
            a.save_as("crosstab.csv", t.to_csv(), repaint.clone());
        }
    });
    let picked = a.chart_column.filter(|j| *j < t.col_labels.len());
    let shown = picked
        .and_then(|j| chart::of_crosstab_column(&t, j, codebook))
        .unwrap_or_else(|| chart::of_crosstab(&t, codebook));
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Chart");
        let name = |j: Option<usize>| match j.and_then(|j| t.col_labels.get(j)) {
            Some(c) => format!("share of {c} in each row, with 95% intervals"),
            None => "each row's shares, stacked".to_string(),
        };
        egui::ComboBox::new("xt-chart", "")
            .selected_text(name(picked))
            .width(280.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut a.chart_column, None, name(None));
                for j in 0..t.col_labels.len() {
                    ui.selectable_value(&mut a.chart_column, Some(j), name(Some(j)));
                }
            })
            .response
            .labelled_by(l.id);
        save_chart_buttons(ui, a, "crosstab", &shown, repaint.as_ref());
    });
    egui::ScrollArea::both()
        .id_salt("analysis-crosstab")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            egui::Grid::new("crosstab").striped(true).show(ui, |ui| {
                ui.label(RichText::new(format!("{} \\ {}", t.row_axis, t.col_axis)).small());
                for c in &t.col_labels {
                    ui.label(RichText::new(c).strong());
                }
                ui.label(RichText::new("total").strong());
                ui.end_row();
                for (i, r) in t.row_labels.iter().enumerate() {
                    ui.label(r);
                    for (j, n) in t.counts[i].iter().enumerate() {
                        let share = t.row_shares.get(i).and_then(|s| s.get(j));
                        let text = match share {
                            Some(s) if t.row_totals[i] > 0 => {
                                format!("{n} ({:.0}%)", s.share * 100.0)
                            }
                            _ => n.to_string(),
                        };
                        let r = ui.label(text);
                        if let Some(s) = share {
                            r.on_hover_text(format!(
                                "{:.1}% of the row, 95% CI {:.1}–{:.1} (Wilson)",
                                s.share * 100.0,
                                s.low * 100.0,
                                s.high * 100.0
                            ));
                        }
                    }
                    ui.label(t.row_totals[i].to_string());
                    ui.end_row();
                }
                ui.label(RichText::new("total").strong());
                for n in &t.col_totals {
                    ui.label(n.to_string());
                }
                ui.label(t.total.to_string());
                ui.end_row();
            });
            ui.add_space(10.0);
            super::chart_view::plot(ui, "crosstab-chart", &shown);
        });
}

/// "Save chart as SVG…" and "…as PNG…" for a chart; the PNG is drawn at twice the SVG's size, for
/// print.
fn save_chart_buttons(
    ui: &mut egui::Ui,
    a: &mut AnalysisState,
    stem: &str,
    c: &BarChart,
    repaint: Option<&egui::Context>,
) {
    if ui.button("Save chart as SVG…").clicked() {
        let svg = chart::to_svg(c).into_bytes();
        a.save_as(&format!("{stem}.svg"), svg, repaint.cloned());
    }
    if ui.button("Save chart as PNG…").clicked() {
        match super::chart_view::to_png(c, 2.0) {
            Ok(png) => a.save_as(&format!("{stem}.png"), png, repaint.cloned()),
            Err(e) => a.error = Some(e.to_string()),
        }
    }
}
