//! Full-text search in the left panel: the query, its scope, the hits with context, and moving from
//! hit to hit in the documents.

use egui::{Color32, RichText};

use super::MarginaliaApp;
use super::action::Action;
use crate::search::{Hit, Scope};

/// Most hits kept for one query.
pub const MAX_HITS: usize = 5_000;

/// Widget id of the search box.
pub fn search_id() -> egui::Id {
    egui::Id::unique("corpus-search")
}

/// The search's state.
#[derive(Debug, Default)]
pub struct SearchState {
    /// The query as typed.
    pub query: String,
    /// Question, answer or both.
    pub scope: Scope,
    /// Hits of the last query run, with their context once shown.
    pub hits: Vec<Hit>,
    /// The hit shown in the document.
    pub current: Option<usize>,
    /// Indices into `hits` of those in documents that pass the list's filter, in order.
    pub shown: Vec<usize>,
    /// Put the keyboard in the search box next frame.
    pub focus: bool,
    /// How long the last query took, in milliseconds.
    pub millis: f64,
}

impl MarginaliaApp {
    /// Runs the query in the search box over the corpus index.
    pub fn run_search(&mut self) {
        let Some(corpus) = &self.ws.corpus else {
            return;
        };
        let started = std::time::Instant::now();
        self.ws.search.hits =
            corpus
                .search
                .search(&self.ws.search.query, self.ws.search.scope, MAX_HITS);
        self.ws.search.millis = started.elapsed().as_secs_f64() * 1000.0;
        self.ws.search.current = None;
        self.filter_hits();
    }

    /// Keeps the hits in documents that pass the list's filter: the filter narrows the search
    /// as it narrows the list.
    pub(super) fn filter_hits(&mut self) {
        let Some(corpus) = &self.ws.corpus else {
            return;
        };
        let hits = &self.ws.search.hits;
        self.ws.search.shown = if self.ws.visible.len() == corpus.entries.len() {
            (0..hits.len()).collect()
        } else {
            let mut allowed = vec![false; corpus.entries.len()];
            for &i in &self.ws.visible {
                allowed[i] = true;
            }
            (0..hits.len())
                .filter(|&k| allowed.get(hits[k].doc).copied().unwrap_or(false))
                .collect()
        };
    }

    /// The hits of the search in a document (by entry index).
    pub fn hits_in(&self, entry: usize) -> impl Iterator<Item = (usize, &Hit)> {
        self.ws
            .search
            .hits
            .iter()
            .enumerate()
            .filter(move |(_, h)| h.doc == entry)
    }

    pub(super) fn search_box_ui(&mut self, ui: &mut egui::Ui) {
        let mut changed = false;
        ui.horizontal(|ui| {
            let l = ui.label("Search");
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut self.ws.search.query)
                        .id(search_id())
                        .hint_text("words or \"a phrase\" (Ctrl+Shift+F)")
                        .desired_width(150.0),
                )
                .labelled_by(l.id);
            if self.ws.search.focus {
                r.request_focus();
                self.ws.search.focus = false;
            }
            changed |= r.changed();
            egui::ComboBox::new("search-scope", "")
                .selected_text(match self.ws.search.scope {
                    Scope::Both => "both",
                    Scope::Question => "questions",
                    Scope::Answer => "answers",
                })
                .width(80.0)
                .show_ui(ui, |ui| {
                    changed |= ui
                        .selectable_value(&mut self.ws.search.scope, Scope::Both, "both")
                        .changed();
                    changed |= ui
                        .selectable_value(&mut self.ws.search.scope, Scope::Question, "questions")
                        .changed();
                    changed |= ui
                        .selectable_value(&mut self.ws.search.scope, Scope::Answer, "answers")
                        .changed();
                })
                .response
                .on_hover_text("Search in questions, answers or both")
                .labelled_by(l.id);
        });
        if changed {
            self.run_search();
        }
    }

    pub(super) fn hits_ui(&mut self, ui: &mut egui::Ui) {
        let Some(corpus) = &self.ws.corpus else {
            return;
        };
        let n = self.ws.search.shown.len();
        let all = self.ws.search.hits.len();
        let docs = {
            let mut d: Vec<usize> = self
                .ws
                .search
                .shown
                .iter()
                .map(|&k| self.ws.search.hits[k].doc)
                .collect();
            d.dedup();
            d.len()
        };
        let more = if all >= MAX_HITS { " (first)" } else { "" };
        let plural =
            |k: usize, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
        ui.label(
            RichText::new(format!(
                "{}{more} in {} · {:.1} ms · Ctrl+G next, Ctrl+Shift+G previous",
                plural(n, "hit", "hits"),
                plural(docs, "document", "documents"),
                self.ws.search.millis
            ))
            .small(),
        );
        if n < all {
            ui.label(
                RichText::new(format!("{} more in documents outside the filter", all - n))
                    .small()
                    .color(super::style::secondary(ui)),
            );
        }
        if !corpus.complete {
            ui.label(
                RichText::new("Still reading the folder: hits so far are incomplete")
                    .small()
                    .color(Color32::from_rgb(200, 140, 0)),
            );
        }
        let row_height = ui.text_style_height(&egui::TextStyle::Body) * 2.0 + 10.0;
        let mut clicked = None;
        egui::ScrollArea::vertical()
            .id_salt("hit-list")
            .auto_shrink([false, false])
            .show_rows(ui, row_height, n, |ui, rows| {
                let missing: Vec<usize> = rows
                    .clone()
                    .map(|row| self.ws.search.shown[row])
                    .filter(|&i| self.ws.search.hits[i].context.is_empty())
                    .collect();
                if !missing.is_empty() {
                    // The open document's text is the one searched unless its annotator set
                    // who asks and who answers: then its parts are not the file's.
                    let open = self.ws.current.zip(
                        self.ed
                            .doc
                            .as_ref()
                            .filter(|d| d.sidecar.roles.is_empty())
                            .map(|d| &d.transcript),
                    );
                    fill_contexts(corpus, open, &mut self.ws.search.hits, &missing);
                }
                for row in rows {
                    let i = self.ws.search.shown[row];
                    let hit = &self.ws.search.hits[i];
                    let Some(entry) = corpus.entries.get(hit.doc) else {
                        continue;
                    };
                    let selected = self.ws.search.current == Some(i);
                    // Pages with one title (supplementaries) differ by date and member.
                    let date = entry.date.map(|d| d.to_string()).unwrap_or_default();
                    let title: Vec<&str> =
                        [entry.title.as_str(), date.as_str(), entry.member.as_str()]
                            .into_iter()
                            .filter(|s| !s.is_empty())
                            .collect();
                    let r = super::corpus_panel::list_row(
                        ui,
                        row_height,
                        selected,
                        ("•", Color32::from_rgb(230, 190, 40)),
                        &title.join(" · "),
                        &format!("{}: {}", hit.part, hit.context),
                    )
                    .on_hover_text(&entry.file_name);
                    if r.clicked() {
                        clicked = Some(i);
                    }
                }
            });
        if let Some(i) = clicked {
            self.act(Action::GoToHit(i));
        }
    }
}

/// The contexts of the hits numbered `which`: each document read once (the open one not at
/// all), and each hit's context taken from a window around it, reached by walking its part
/// once in the hits' order (a row of the list read and walked its whole page: rows of a long
/// page's hits took a second to show).
fn fill_contexts(
    corpus: &crate::corpus::CorpusIndex,
    open: Option<(usize, &crate::transcript::Transcript)>,
    hits: &mut [Hit],
    which: &[usize],
) {
    let mut by_doc: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for &i in which {
        by_doc.entry(hits[i].doc).or_default().push(i);
    }
    for (doc, mut of_doc) in by_doc {
        let read;
        let transcript = match open {
            Some((current, t)) if current == doc => Some(t),
            _ => {
                read = corpus
                    .entries
                    .get(doc)
                    .and_then(|e| crate::transcript::Transcript::load(&e.path).ok());
                read.as_ref()
            }
        };
        let mut keyed: Vec<(crate::transcript::PartId, usize, usize)> = of_doc
            .drain(..)
            .map(|i| (hits[i].part, hits[i].start, i))
            .collect();
        keyed.sort_unstable();
        for of_part in keyed.chunk_by(|a, b| a.0 == b.0) {
            let text = transcript
                .and_then(|t| t.part(of_part[0].0))
                .map_or("", |p| p.text());
            let mut contexts = crate::search::Contexts::default();
            for &(_, _, i) in of_part {
                let hit = &mut hits[i];
                hit.context = contexts.of(text, hit.start, hit.end);
            }
        }
    }
}
