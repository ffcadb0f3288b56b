//! The menu bar, the status bar and the corpus list.

use egui::{Color32, RichText};

use super::MarginaliaApp;
use super::action::Action;
use super::commands::{self, Command, Menu};
use crate::document::SaveState;
use crate::sidecar::Status;

/// Widget id of the corpus filter box.
pub fn filter_id() -> egui::Id {
    egui::Id::unique("corpus-filter")
}

impl MarginaliaApp {
    fn command_button(&mut self, ui: &mut egui::Ui, command: Command) {
        let info = commands::info(command);
        let shortcut = info
            .shortcuts
            .first()
            .map(|s| s.to_string())
            .unwrap_or_default();
        let enabled = match command {
            Command::Undo => self.ed.doc.as_ref().is_some_and(|d| d.history_len().0 > 0),
            Command::Redo => self.ed.doc.as_ref().is_some_and(|d| d.history_len().1 > 0),
            Command::Save | Command::ToggleDone => {
                self.ed.doc.as_ref().is_some_and(|d| d.is_editable())
            }
            Command::NextDocument | Command::PreviousDocument | Command::NextNotDone => {
                !self.ws.visible.is_empty()
            }
            _ => true,
        };
        let button = egui::Button::new(info.name).shortcut_text(shortcut);
        if ui
            .add_enabled(enabled, button)
            .on_hover_text(info.help)
            .clicked()
        {
            self.act(Action::Command(command));
        }
    }

    /// The menu bar, made from the command list: every command is in its menu, grouped as
    /// `Command::menu` says, with the recent folders and the theme choice added where they belong.
    pub(super) fn menu_ui(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            for menu in <Menu as strum::IntoEnumIterator>::iter() {
                ui.menu_button(menu.title(), |ui| {
                    let mut group = None;
                    for command in Command::iter().filter(|c| c.menu().0 == menu) {
                        let g = command.menu().1;
                        if group.is_some_and(|last| last != g) {
                            ui.separator();
                        }
                        group = Some(g);
                        if command == Command::ToggleTheme {
                            self.theme_menu_ui(ui);
                        }
                        self.command_button(ui, command);
                        if command == Command::OpenFolder {
                            self.recent_menu_ui(ui);
                        }
                    }
                });
            }
        });
    }

    fn recent_menu_ui(&mut self, ui: &mut egui::Ui) {
        let recent = self.settings.settings.recent.clone();
        ui.menu_button("Recent folders", |ui| {
            if recent.is_empty() {
                ui.label("No folder opened yet");
            }
            for folder in recent {
                if ui.button(folder.display().to_string()).clicked() {
                    self.act(Action::OpenPath(folder));
                }
            }
        });
    }

    fn theme_menu_ui(&mut self, ui: &mut egui::Ui) {
        ui.menu_button("Theme", |ui| {
            for (name, id) in [
                ("Follow the system", "system"),
                ("Light", "light"),
                ("Dark", "dark"),
            ] {
                let current = self.view_state.theme == id
                    || (id == "system" && self.view_state.theme.is_empty());
                if ui.radio(current, name).clicked() {
                    self.act(Action::SetTheme(id.to_string()));
                }
            }
        });
    }

    pub(super) fn status_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            match self.annotator() {
                Some(a) => ui.label(format!("Annotator: {} ({})", a.name, a.id)),
                None => ui
                    .label(RichText::new("No annotator yet").color(Color32::from_rgb(200, 120, 0))),
            };
            ui.separator();
            if let Some(doc) = &self.ed.doc {
                let (text, color) = match &doc.save_state {
                    _ if !doc.is_editable() => (
                        format!("Read-only: {}", doc.read_only_reason().unwrap_or_default()),
                        Color32::from_rgb(200, 60, 60),
                    ),
                    SaveState::Saved => ("Saved".to_string(), ui.visuals().weak_text_color()),
                    SaveState::Unsaved => ("Unsaved".to_string(), Color32::from_rgb(200, 140, 0)),
                    SaveState::Saving => ("Saving…".to_string(), Color32::from_rgb(200, 140, 0)),
                    SaveState::Failed(e) => {
                        (format!("Save failed: {e}"), Color32::from_rgb(200, 60, 60))
                    }
                };
                ui.label(RichText::new(text).color(color));
                ui.separator();
            }
            if let (Some(c), Some(corpus)) = (self.ws.current, &self.ws.corpus) {
                let pos = self.ws.visible.iter().position(|&i| i == c).map(|p| p + 1);
                match pos {
                    Some(p) => ui.label(format!("Document {p} of {}", self.ws.visible.len())),
                    None => ui.label(format!(
                        "Document {} of {} (outside the filter)",
                        c + 1,
                        corpus.entries.len()
                    )),
                };
            }
            if let Some((part, range)) = &self.ed.view.selection {
                ui.separator();
                ui.label(format!(
                    "Selected: {part} {}–{} ({} chars)",
                    range.start,
                    range.end,
                    range.len()
                ));
            }
            if let Some(n) = &self.notice {
                ui.separator();
                ui.label(RichText::new(n).color(Color32::from_rgb(200, 120, 0)));
            }
        });
    }

    #[expect(
        clippy::too_many_lines,
        reason = "the left panel top to bottom: filter, filters, sort, search, counts and the lazily drawn list"
    )]
    pub(super) fn corpus_ui(&mut self, ui: &mut egui::Ui) {
        let Some(corpus) = &self.ws.corpus else {
            if let Some((done, total)) = self.loading_progress() {
                ui.heading("Opening…");
                ui.add(
                    egui::ProgressBar::new(if total > 0 {
                        done as f32 / total as f32
                    } else {
                        0.0
                    })
                    .text(format!("{done} of {total}")),
                );
                return;
            }
            ui.heading("No folder open");
            if let Some(e) = &self.ws.corpus_error {
                ui.colored_label(Color32::from_rgb(200, 60, 60), e);
            }
            ui.label(
                "Open a folder of transcripts with File > Open folder… or drop one on the window.",
            );
            return;
        };
        let root_name = corpus
            .files
            .root
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| corpus.files.root.display().to_string());
        ui.heading(root_name);
        if let Some((done, total)) = self.loading_progress() {
            ui.add(
                egui::ProgressBar::new(if total > 0 {
                    done as f32 / total as f32
                } else {
                    0.0
                })
                .text(format!("Reading {done} of {total} documents…")),
            );
        }
        if let Some(e) = &corpus.codebook_error {
            ui.colored_label(
                Color32::from_rgb(200, 60, 60),
                format!("{e} (using the built-in codebook)"),
            );
        }
        if let Some(e) = &self.ws.corpus_error {
            ui.colored_label(Color32::from_rgb(200, 60, 60), e);
        }
        let mut changed = false;
        ui.horizontal(|ui| {
            let l = ui.label("Filter");
            let filter = egui::TextEdit::singleline(&mut self.ws.filter.text)
                .id(filter_id())
                .hint_text("title, member, party… (Ctrl+F)")
                .desired_width(f32::INFINITY);
            let r = ui.add(filter).labelled_by(l.id);
            if self.ws.focus_filter {
                r.request_focus();
                self.ws.focus_filter = false;
            }
            changed |= r.changed();
        });
        changed |= self.filters_ui(ui);
        changed |= self.sort_ui(ui);
        if changed {
            self.refilter();
        }
        self.search_box_ui(ui);
        let Some(corpus) = &self.ws.corpus else {
            return;
        };
        if let Some(e) = &self.ws.filter_error {
            ui.colored_label(Color32::from_rgb(200, 60, 60), e);
        }
        let total = corpus.entries.len();
        let done = corpus
            .entries
            .iter()
            .filter(|e| e.status == Status::Done)
            .count();
        ui.label(
            RichText::new(format!(
                "{} of {total} documents · {done} done",
                self.ws.visible.len()
            ))
            .small()
            .color(ui.visuals().weak_text_color()),
        );
        ui.separator();
        // A search shows its hits in place of the list; the list stays a click away.
        if !self.ws.search.query.trim().is_empty() {
            let (hits, docs) = (self.ws.search.shown.len(), self.ws.visible.len());
            ui.horizontal(|ui| {
                ui.selectable_value(&mut self.ws.show_documents, false, format!("Hits ({hits})"));
                ui.selectable_value(
                    &mut self.ws.show_documents,
                    true,
                    format!("Documents ({docs})"),
                );
            });
            if !self.ws.show_documents {
                self.hits_ui(ui);
                return;
            }
        }
        let corpus = self.ws.corpus.as_ref().expect("checked above");
        let row_height = ui.text_style_height(&egui::TextStyle::Body) * 2.0 + 10.0;
        let mut clicked = None;
        let visible = &self.ws.visible;
        let mut area = egui::ScrollArea::vertical()
            .id_salt("document-list")
            .auto_shrink([false, false]);
        // The list follows the document opened by a command (next, previous, a search hit), so the
        // highlighted row is always in view.
        if std::mem::take(&mut self.ws.list_follows)
            && let Some(k) = self
                .ws
                .current
                .and_then(|c| visible.iter().position(|&i| i == c))
        {
            let pitch = row_height + ui.spacing().item_spacing.y;
            let view = ui.available_height();
            let top = k as f32 * pitch;
            let shown = self.ws.list_offset..self.ws.list_offset + view - pitch;
            if !shown.contains(&top) {
                area = area.vertical_scroll_offset((top - view / 3.0).max(0.0));
            }
        }
        let shown = area.show_rows(ui, row_height, visible.len(), |ui, rows| {
            for &i in &visible[rows] {
                let e = &corpus.entries[i];
                let selected = self.ws.current == Some(i);
                let (mark, mark_color) = match (&e.error, e.status) {
                    (Some(_), _) => ("!", Color32::from_rgb(200, 60, 60)),
                    (None, Status::Done) => ("•", Color32::from_rgb(60, 160, 90)),
                    (None, Status::InProgress) => ("•", Color32::from_rgb(220, 150, 0)),
                    (None, Status::NotStarted) => ("•", ui.visuals().weak_text_color()),
                };
                let date = e.date.map(|d| d.to_string()).unwrap_or_default();
                let details: Vec<&str> = [date.as_str(), e.member.as_str(), e.party.as_str()]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect();
                let r = list_row(
                    ui,
                    row_height,
                    selected,
                    (mark, mark_color),
                    &e.title,
                    &details.join(" · "),
                );
                // The document's codes at a glance: a small square per coded value, in
                // codebook colours, at the row's right.
                if ui.is_rect_visible(r.rect) {
                    let colors: Vec<Color32> = e
                        .tags
                        .iter()
                        .filter_map(|(d, v)| {
                            let dim = corpus.codebook.dimension(d)?;
                            let value = dim.value(v)?;
                            Some(super::document_panel::color32(&value.color))
                        })
                        .take(8)
                        .collect();
                    let size = 7.0;
                    for (k, c) in colors.iter().enumerate() {
                        let x = r.rect.right() - 8.0 - (colors.len() - k) as f32 * (size + 3.0);
                        let square = egui::Rect::from_min_size(
                            egui::pos2(x, r.rect.top() + 8.0),
                            egui::vec2(size, size),
                        );
                        ui.painter().rect_filled(square, 1.5, *c);
                    }
                }
                let r = match &e.error {
                    Some(err) => r.on_hover_text(err),
                    None => r.on_hover_text(format!(
                        "{} · {} codings · {}",
                        e.file_name,
                        e.codings,
                        e.status.as_str()
                    )),
                };
                if r.clicked() {
                    clicked = Some(i);
                }
            }
        });
        self.ws.list_offset = shown.state.clamped_offset().y;
        if let Some(i) = clicked {
            self.act(Action::OpenEntry(i));
            // Clicked in view: no scrolling.
            self.ws.list_follows = false;
        }
    }

    /// The filters beyond the text box; true when one changed.
    #[expect(
        clippy::too_many_lines,
        reason = "one grid row per filter, in the order shown"
    )]
    fn filters_ui(&mut self, ui: &mut egui::Ui) -> bool {
        let Some(corpus) = &self.ws.corpus else {
            return false;
        };
        let mut changed = false;
        let active = self.ws.filter
            != crate::corpus::Filter {
                text: self.ws.filter.text.clone(),
                ..Default::default()
            };
        let title = if active {
            "Filters (active)"
        } else {
            "Filters"
        };
        let me = self.annotator().map(|a| a.id.clone()).unwrap_or_default();
        let mut run_tag_query = false;
        egui::CollapsingHeader::new(title)
            .id_salt("filters")
            .show(ui, |ui| {
                let members = corpus.distinct(|e| &e.member);
                let parties = corpus.distinct(|e| &e.party);
                let asked = corpus.distinct(|e| &e.asked_of);
                egui::Grid::new("filter-grid")
                    .num_columns(2)
                    .show(ui, |ui| {
                        let named = |v: &[String]| -> Vec<(String, String)> {
                            v.iter().map(|x| (x.clone(), x.clone())).collect()
                        };
                        changed |= members_ui(
                            ui,
                            &mut self.ws.filter.members,
                            &mut self.ws.member_text,
                            &members,
                        );
                        changed |=
                            choice_ui(ui, "Party", &mut self.ws.filter.party, &named(&parties));
                        changed |=
                            choice_ui(ui, "Asked of", &mut self.ws.filter.asked_of, &named(&asked));
                        changed |= date_ui(
                            ui,
                            "From",
                            &mut self.ws.filter.from,
                            &mut self.ws.date_text.0,
                        );
                        changed |=
                            date_ui(ui, "To", &mut self.ws.filter.to, &mut self.ws.date_text.1);
                        use crate::transcript::AnswerStatus as A;
                        let answers: Vec<(A, String)> = [A::Answered, A::Holding, A::Unanswered]
                            .into_iter()
                            .map(|s| (s, s.as_str().to_string()))
                            .collect();
                        changed |=
                            choice_ui(ui, "Answer", &mut self.ws.filter.answer_status, &answers);
                        let statuses: Vec<(Status, String)> =
                            [Status::NotStarted, Status::InProgress, Status::Done]
                                .into_iter()
                                .map(|s| (s, s.as_str().to_string()))
                                .collect();
                        changed |=
                            choice_ui(ui, "My status", &mut self.ws.filter.status, &statuses);
                        let l = ui.label("Tags");
                        let r = ui
                            .add(
                                egui::TextEdit::singleline(&mut self.ws.filter.tags)
                                    .id(tag_query_id())
                                    .hint_text("tone_answer=evasive cites:\"Home Office\""),
                            )
                            .labelled_by(l.id)
                            .on_hover_text(
                                "dimension=value terms and cites:\"name\", all required, over the codes chosen below",
                            );
                        let tags_changed = r.changed();
                        ui.end_row();
                        // Whose codes the tag query reads: the user's own by default, said so.
                        let l = ui.label("Codes of");
                        let shown = match &self.ws.tags_of {
                            None => format!("mine ({me})"),
                            Some(a) if a == crate::review::DEFAULT_GOLD => {
                                "the reconciled set".to_string()
                            }
                            Some(a) => a.clone(),
                        };
                        let mut who = self.ws.tags_of.clone();
                        egui::ComboBox::new("tags-of", "")
                            .selected_text(shown)
                            .width(170.0)
                            .show_ui(ui, |ui| {
                                ui.selectable_value(&mut who, None, format!("mine ({me})"));
                                for a in corpus.files.annotators() {
                                    if a != me {
                                        let name = if a == crate::review::DEFAULT_GOLD {
                                            "the reconciled set".to_string()
                                        } else {
                                            a.clone()
                                        };
                                        ui.selectable_value(&mut who, Some(a), name);
                                    }
                                }
                            })
                            .response
                            .labelled_by(l.id);
                        ui.end_row();
                        let who_changed = who != self.ws.tags_of;
                        self.ws.tags_of = who;
                        if self.ws.tag_task.is_some() {
                            ui.label("");
                            ui.horizontal(|ui| {
                                ui.spinner();
                                ui.label(RichText::new("reading their sidecars…").small());
                            });
                            ui.end_row();
                        }
                        if who_changed || (tags_changed && self.ws.tags_of.is_some()) {
                            run_tag_query = true;
                        } else {
                            changed |= tags_changed;
                        }
                    });
                if active && ui.button("Clear filters").clicked() {
                    let text = std::mem::take(&mut self.ws.filter.text);
                    self.ws.filter = crate::corpus::Filter {
                        text,
                        ..Default::default()
                    };
                    self.ws.date_text = Default::default();
                    changed = true;
                }
            });
        if run_tag_query {
            self.act(Action::RunTagQuery);
        }
        changed
    }

    /// Sort buttons; true when the order changed.
    fn sort_ui(&mut self, ui: &mut egui::Ui) -> bool {
        use crate::corpus::SortKey as K;
        let mut changed = false;
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Sort").small());
            for (key, name) in [
                (K::Path, "File"),
                (K::Date, "Date"),
                (K::Title, "Title"),
                (K::Member, "Member"),
                (K::Party, "Party"),
                (K::AskedOf, "Asked of"),
                (K::Status, "Status"),
                (K::Tags, "Tags"),
            ] {
                let on = self.ws.sort.0 == key;
                // Room after the name for the direction, drawn as a triangle: the app's fonts
                // have no arrow glyphs, and "^"/"v" read as letters.
                let text = if on {
                    format!("{name}     ")
                } else {
                    name.to_string()
                };
                let descending = self.ws.sort.1;
                let r = ui
                    .selectable_label(on, RichText::new(text).small())
                    .on_hover_text(match (on, descending) {
                        (true, false) => format!(
                            "Sorted by {} ascending: click to reverse",
                            name.to_lowercase()
                        ),
                        (true, true) => format!(
                            "Sorted by {} descending: click to reverse",
                            name.to_lowercase()
                        ),
                        (false, _) => format!("Sort by {}", name.to_lowercase()),
                    });
                if on {
                    let c = egui::pos2(r.rect.right() - 9.0, r.rect.center().y);
                    let (h, w) = (4.0, 4.5);
                    let points = if descending {
                        vec![
                            egui::pos2(c.x - w, c.y - h),
                            egui::pos2(c.x + w, c.y - h),
                            egui::pos2(c.x, c.y + h),
                        ]
                    } else {
                        vec![
                            egui::pos2(c.x - w, c.y + h),
                            egui::pos2(c.x + w, c.y + h),
                            egui::pos2(c.x, c.y - h),
                        ]
                    };
                    let color = ui.visuals().selection.stroke.color;
                    ui.painter().add(egui::Shape::convex_polygon(
                        points,
                        color,
                        egui::Stroke::NONE,
                    ));
                }
                if r.clicked() {
                    self.ws.sort = if on {
                        (key, !self.ws.sort.1)
                    } else {
                        (key, false)
                    };
                    self.view_state.sort = Some(self.ws.sort);
                    changed = true;
                }
            }
        });
        changed
    }
}

/// Widget id of the tag query box.
pub fn tag_query_id() -> egui::Id {
    egui::Id::unique("tag-query")
}

/// Widget id of the date boxes.
pub fn date_ids() -> [egui::Id; 2] {
    [egui::Id::unique("date-From"), egui::Id::unique("date-To")]
}

/// A labelled choice of one value or "any"; true when it changed.
fn choice_ui<T: PartialEq + Clone>(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut Option<T>,
    choices: &[(T, String)],
) -> bool {
    let mut changed = false;
    let l = ui.label(label);
    let shown = value
        .as_ref()
        .and_then(|v| choices.iter().find(|(c, _)| c == v))
        .map_or_else(|| "any".to_string(), |(_, name)| name.clone());
    egui::ComboBox::new(("choice", label), "")
        .selected_text(shown)
        .width(170.0)
        .show_ui(ui, |ui| {
            changed |= ui.selectable_value(value, None, "any").changed();
            for (c, name) in choices {
                changed |= ui.selectable_value(value, Some(c.clone()), name).changed();
            }
        })
        .response
        .labelled_by(l.id);
    ui.end_row();
    changed
}

/// Members as a type-ahead: the chosen ones as removable chips, the box suggests matching
/// names; a document passes when any chosen member asked. True when the choice changed.
fn members_ui(
    ui: &mut egui::Ui,
    chosen: &mut Vec<String>,
    typed: &mut String,
    all: &[String],
) -> bool {
    let mut changed = false;
    let l = ui.label("Members");
    ui.vertical(|ui| {
        ui.horizontal_wrapped(|ui| {
            let mut remove = None;
            for (i, m) in chosen.iter().enumerate() {
                if ui
                    .small_button(format!("{m} ×"))
                    .on_hover_text("Remove from the filter")
                    .clicked()
                {
                    remove = Some(i);
                }
            }
            if let Some(i) = remove {
                chosen.remove(i);
                changed = true;
            }
        });
        let r = ui
            .add(
                egui::TextEdit::singleline(typed)
                    .hint_text(if chosen.is_empty() {
                        "any: type a name"
                    } else {
                        "add another"
                    })
                    .desired_width(170.0),
            )
            .labelled_by(l.id);
        let needle = crate::search::fold(typed.trim());
        if !needle.is_empty() {
            let matches: Vec<&String> = all
                .iter()
                .filter(|m| !chosen.contains(m) && crate::search::fold(m).contains(&needle))
                .take(8)
                .collect();
            if matches.is_empty() {
                ui.label(RichText::new("no member by that name").small());
            }
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            for (k, m) in matches.iter().enumerate() {
                if ui.selectable_label(false, m.as_str()).clicked() || (enter && k == 0) {
                    chosen.push((*m).clone());
                    typed.clear();
                    changed = true;
                    break;
                }
            }
        }
    });
    ui.end_row();
    changed
}

fn date_ui(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut Option<chrono::NaiveDate>,
    text: &mut String,
) -> bool {
    let l = ui.label(label);
    let id = egui::Id::unique(format!("date-{label}"));
    let r = ui
        .add(
            egui::TextEdit::singleline(text)
                .id(id)
                .hint_text("YYYY-MM-DD")
                .desired_width(110.0),
        )
        .labelled_by(l.id);
    ui.end_row();
    if !r.changed() {
        return false;
    }
    let parsed = crate::transcript::parse_date(text);
    let new = if text.trim().is_empty() {
        None
    } else {
        parsed.or(*value)
    };
    let changed = new != *value;
    *value = new;
    changed
}

/// One row of the document list: a status dot and the title on the first line, date, member and
/// party on the second, both cut to the width.
pub(super) fn list_row(
    ui: &mut egui::Ui,
    height: f32,
    selected: bool,
    (mark, mark_color): (&str, Color32),
    title: &str,
    details: &str,
) -> egui::Response {
    let width = ui.available_width();
    let (rect, response) = ui.allocate_exact_size(egui::vec2(width, height), egui::Sense::click());
    response.widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, selected, title));
    if !ui.is_rect_visible(rect) {
        return response;
    }
    let visuals = ui.visuals();
    let fill = if selected {
        visuals.selection.bg_fill
    } else if response.hovered() {
        visuals.widgets.hovered.weak_bg_fill
    } else {
        Color32::TRANSPARENT
    };
    ui.painter().rect_filled(rect, 4.0, fill);
    let text_color = if selected {
        visuals.selection.stroke.color
    } else {
        visuals.strong_text_color()
    };
    let weak = if selected {
        visuals.selection.stroke.color
    } else {
        visuals.weak_text_color()
    };
    let body = egui::TextStyle::Body.resolve(ui.style());
    let small = egui::TextStyle::Small.resolve(ui.style());
    let inner = rect.shrink2(egui::vec2(6.0, 4.0));
    let line = |text: &str, font: egui::FontId, color: Color32, max_width: f32| {
        let mut job = egui::text::LayoutJob::simple_singleline(text.to_string(), font, color);
        job.wrap = egui::text::TextWrapping::truncate_at_width(max_width);
        ui.fonts_mut(|f| f.layout_job(job))
    };
    // The status as a dot big enough to tell its colour at a glance (an error as "!").
    const DOT_RADIUS: f32 = 5.0;
    let dot_width = 2.0 * DOT_RADIUS + 8.0;
    let title_galley = line(title, body.clone(), text_color, inner.width() - dot_width);
    let details_galley = line(details, small, weak, inner.width() - dot_width);
    let painter = ui.painter();
    let dot_center = inner.left_top() + egui::vec2(DOT_RADIUS + 1.0, title_galley.size().y / 2.0);
    if mark == "!" {
        let bang = line(mark, body.clone(), mark_color, 20.0);
        painter.galley(dot_center - bang.size() / 2.0, bang, mark_color);
    } else {
        painter.circle_filled(dot_center, DOT_RADIUS, mark_color);
    }
    painter.galley(
        inner.left_top() + egui::vec2(dot_width, 0.0),
        title_galley.clone(),
        text_color,
    );
    painter.galley(
        inner.left_top() + egui::vec2(dot_width, title_galley.size().y + 1.0),
        details_galley,
        weak,
    );
    response
}
