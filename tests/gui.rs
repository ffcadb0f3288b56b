//! The real app, driven headlessly with egui_kittest: tag by click and by key, tag a span with a
//! value, undo and redo, switch documents (autosave) and reopen.
#![cfg(feature = "gui")]
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "a bench or test crate: an unwrap that fails stops the run and says where; a bench's steps read top to bottom"
)]

use std::path::{Path, PathBuf};

use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use marginalia::sidecar::{Annotator, Sidecar};
use marginalia::transcript::PartId;
use marginalia::ui::action::Action;
use marginalia::ui::settings::{Settings, SettingsStore};
use marginalia::ui::text_view::{paragraph_id, paragraphs};
use marginalia::ui::{AppOptions, MarginaliaApp};

struct Fixture {
    _dir: tempfile::TempDir,
    corpus: PathBuf,
    settings: PathBuf,
}

fn fixture(annotator: Option<&str>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    for f in [
        "prevent.txt",
        "prevent.txt.alice.ron",
        "fares-freeze.txt",
        "housing-zones.txt",
    ] {
        std::fs::copy(src.join(f), corpus.join(f)).unwrap();
    }
    let settings = dir.path().join("config/settings.ron");
    if let Some(id) = annotator {
        let mut store = SettingsStore::load(Some(settings.clone()));
        store.settings = Settings {
            annotator: Some(Annotator {
                id: id.into(),
                name: "Carol Test".into(),
            }),
            recent: Vec::new(),
        };
        store.save().unwrap();
    }
    Fixture {
        _dir: dir,
        corpus,
        settings,
    }
}

fn harness(f: &Fixture, path: &Path) -> Harness<'static, MarginaliaApp> {
    let options = AppOptions {
        path: Some(path.to_path_buf()),
        settings_path: Some(f.settings.clone()),
        fallback: None,
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_max_steps(12)
        .build_eframe(move |cc| MarginaliaApp::new(cc, options));
    wait_for_corpus(&mut h);
    h
}

/// The folder loads in a background task: wait for the task, not for a time.
fn wait_for_corpus(h: &mut Harness<'static, MarginaliaApp>) {
    wait_for_tasks(h);
    assert!(h.state().loading_progress().is_none());
}

/// Blocks until every background task of the app (loader, export, agreement, import) has
/// ended and its result is taken, then lets the window settle.
fn wait_for_tasks(h: &mut Harness<'static, MarginaliaApp>) {
    // Input given just before (a click) is taken first: it may start the task.
    h.step();
    let ctx = h.ctx.clone();
    h.state_mut().wait_for_tasks(&ctx);
    h.run_ok();
}

/// Blocks until the folder's watcher reports the next batch of changes on disk (and the reload
/// it starts has ended); false when none came in half a minute.
fn wait_for_disk_change(h: &mut Harness<'static, MarginaliaApp>) -> bool {
    let ctx = h.ctx.clone();
    let seen = h
        .state_mut()
        .wait_for_disk_change(&ctx, std::time::Duration::from_secs(30));
    h.run_ok();
    seen
}

/// Where a paragraph starting with `start` is on screen.
fn paragraph_rect(h: &Harness<'static, MarginaliaApp>, start: &str) -> egui::Rect {
    h.query_all_by_role(egui::accesskit::Role::MultilineTextInput)
        .find(|n| n.value().is_some_and(|v| v.starts_with(start)))
        .map(|n| n.rect())
        .expect("the paragraph is on screen")
}

/// Drags the mouse from `from` to `to` in small steps, as a hand does.
fn drag(h: &mut Harness<'static, MarginaliaApp>, from: egui::Pos2, to: egui::Pos2) {
    h.hover_at(from);
    h.step();
    h.drag_at(from);
    h.step();
    for k in 1..=6 {
        h.hover_at(from + (to - from) * (k as f32 / 6.0));
        h.step();
    }
    h.drop_at(to);
    h.run_ok();
}

/// The fixture with alice's and bob's codings of two pages, for review.
fn review_fixture() -> Fixture {
    let f = fixture(Some("carol"));
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    for file in [
        "prevent.txt.bob.ron",
        "fares-freeze.txt.alice.ron",
        "fares-freeze.txt.bob.ron",
    ] {
        std::fs::copy(src.join(file), f.corpus.join(file)).unwrap();
    }
    f
}

/// Shift+P (a person span) as a real keyboard sends it: the key, then the character it types.
fn press_person_key(h: &Harness<'static, MarginaliaApp>) {
    h.event(egui::Event::Key {
        key: Key::P,
        physical_key: Some(Key::P),
        pressed: true,
        repeat: false,
        modifiers: Modifiers::SHIFT,
    });
    h.event(egui::Event::Text("P".into()));
}

/// Clicks a code's button in the codebook panel, scrolling to it first as a user would.
fn click_code(h: &mut Harness<'static, MarginaliaApp>, label: &str) {
    h.get_by_label(label).scroll_to_me();
    h.run_ok();
    h.get_by_label(label).click();
}

/// Runs a command as the menus do.
fn command(h: &mut Harness<'static, MarginaliaApp>, c: marginalia::ui::commands::Command) {
    h.state_mut().act(Action::Command(c));
    h.run_ok();
}

fn answer_tone(h: &Harness<'_, MarginaliaApp>) -> Vec<String> {
    h.state()
        .document()
        .unwrap()
        .sidecar
        .part_values(PartId::ANSWER, "tone_answer")
        .to_vec()
}

/// After a codebook change the app has read the folder again; the watcher then reports the same
/// writes (codebook, history, sidecars, the reopened document's save) once more and the list is
/// read again: wait until the folder is quiet, so a click is never taken by a list being rebuilt.
fn wait_for_codebook_change(h: &mut Harness<'static, MarginaliaApp>) {
    wait_for_tasks(h);
    // Until the folder is quiet: a second of no batch (the watcher's quiet time is half that).
    for _ in 0..6 {
        let ctx = h.ctx.clone();
        let seen = h
            .state_mut()
            .wait_for_disk_change(&ctx, std::time::Duration::from_secs(1));
        h.run_ok();
        if !seen {
            break;
        }
    }
}

/// Selects `needle` in a part as a user would with the mouse: focus on its paragraph and a char
/// range in that paragraph's text view. Returns the char range in the part.
fn select_in(h: &mut Harness<'_, MarginaliaApp>, part: PartId, needle: &str) -> (usize, usize) {
    let text = h
        .state()
        .document()
        .unwrap()
        .transcript
        .part(part)
        .unwrap()
        .text()
        .to_string();
    let paras = paragraphs(&text);
    let (index, para) = paras
        .iter()
        .enumerate()
        .find(|(_, p)| p.text.contains(needle))
        .unwrap();
    let local = para.text[..para.text.find(needle).unwrap()].chars().count();
    let len = needle.chars().count();
    let id = paragraph_id(part, index);
    let ctx = h.ctx.clone();
    let mut state = egui::text_edit::TextEditState::load(&ctx, id).unwrap_or_default();
    state
        .cursor
        .set_char_range(Some(egui::text::CCursorRange::two(
            egui::text::CCursor::new(local),
            egui::text::CCursor::new(local + len),
        )));
    state.store(&ctx, id);
    ctx.memory_mut(|m| m.request_focus(id));
    h.run_ok();
    (para.start + local, para.start + local + len)
}

fn select_in_answer(h: &mut Harness<'_, MarginaliaApp>, needle: &str) -> (usize, usize) {
    select_in(h, PartId::ANSWER, needle)
}

#[test]
fn tag_by_click_key_and_span_then_undo_redo_switch_and_reopen() {
    let f = fixture(Some("carol"));
    let prevent = f.corpus.join("prevent.txt");
    let mut h = harness(&f, &prevent);
    {
        let doc = h.state().document().expect("the seed page is open");
        assert_eq!(doc.transcript.meta.title, "Prevent strategy");
        assert!(
            doc.sidecar.tags.is_empty(),
            "blind: alice's tags are not shown to carol"
        );
    }
    // The question and the answer are both on screen.
    h.get_by_label_contains("QUESTION · Roger Evans");
    h.get_by_label_contains("ANSWER · The Mayor");

    // Tone of answer by click, then by shortcut.
    click_code(&mut h, "Tone of answer: Evasive (5)");
    h.run_ok();
    assert_eq!(answer_tone(&h), ["evasive"]);
    h.key_press(Key::Num4);
    h.run_ok();
    assert_eq!(answer_tone(&h), ["hostile"]);
    // A topic by click and one by key: several choices.
    click_code(&mut h, "Topics: Counter-terrorism (C)");
    h.run_ok();
    h.key_press(Key::P);
    h.run_ok();
    let topics = h
        .state()
        .document()
        .unwrap()
        .sidecar
        .part_values(PartId::QUESTION, "topic")
        .to_vec();
    assert_eq!(topics, ["counter_terrorism", "policing"]);

    // A span: select "Sir Peter Fahy", Shift+P opens the value popup with the selection as value.
    let (start, end) = select_in_answer(&mut h, "Sir Peter Fahy");
    assert_eq!(
        h.state().selection().cloned(),
        Some((PartId::ANSWER, start..end))
    );
    h.key_press_modifiers(Modifiers::SHIFT, Key::P);
    h.run_ok();
    h.get_by_label("Value");
    h.key_press(Key::Enter);
    h.run_ok();
    let spans = h.state().document().unwrap().sidecar.spans.clone();
    assert_eq!(spans.len(), 1);
    assert_eq!((spans[0].start, spans[0].end), (start, end));
    assert_eq!(spans[0].quote, "Sir Peter Fahy");
    assert_eq!(spans[0].value, "Sir Peter Fahy");
    assert_eq!(spans[0].dimension, "authority_person");

    // Undo the span and the hostile tone, redo both.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    assert!(h.state().document().unwrap().sidecar.spans.is_empty());
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    assert_eq!(answer_tone(&h), ["evasive"]);
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Y);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Y);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Y);
    h.run_ok();
    assert_eq!(answer_tone(&h), ["hostile"]);
    assert_eq!(h.state().document().unwrap().sidecar.spans.len(), 1);

    // Another document (prevent.txt is last in the list, so the previous one): the sidecar is
    // written on the way.
    let sidecar_path = f.corpus.join("prevent.txt.carol.ron");
    h.key_press_modifiers(Modifiers::COMMAND, Key::ArrowUp);
    h.run_ok();
    assert_ne!(
        h.state().document().unwrap().transcript.file_name,
        "prevent.txt"
    );
    let saved = Sidecar::load(&sidecar_path).unwrap().sidecar;
    assert_eq!(saved.annotator.id, "carol");
    assert_eq!(
        saved.part_values(PartId::ANSWER, "tone_answer"),
        ["hostile"]
    );
    assert_eq!(
        saved.part_values(PartId::QUESTION, "topic"),
        ["counter_terrorism", "policing"]
    );
    assert_eq!(
        saved.tags.values().map(|d| d.len()).sum::<usize>(),
        2,
        "exactly those tags"
    );
    assert_eq!(saved.spans.len(), 1);
    assert_eq!(saved.spans[0].quote, "Sir Peter Fahy");
    // Alice's sidecar is untouched.
    let alice = std::fs::read(f.corpus.join("prevent.txt.alice.ron")).unwrap();
    let original = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/prevent.txt.alice.ron"),
    )
    .unwrap();
    assert_eq!(alice, original);
    drop(h);

    // Reopen: the tags are back.
    let h = harness(&f, &prevent);
    let doc = h.state().document().unwrap();
    assert_eq!(
        doc.sidecar.part_values(PartId::ANSWER, "tone_answer"),
        ["hostile"]
    );
    assert_eq!(doc.sidecar.spans.len(), 1);
    h.get_by_label_contains("Person: Sir Peter Fahy");
}

#[test]
fn autosave_writes_after_a_pause() {
    let f = fixture(Some("carol"));
    let mut h = harness(&f, &f.corpus.join("fares-freeze.txt"));
    h.key_press(Key::Num1);
    h.run_ok();
    assert_eq!(answer_tone(&h), ["neutral"]);
    let path = f.corpus.join("fares-freeze.txt.carol.ron");
    // Each kittest step is a quarter of a second: a few steps pass the one-second delay.
    for _ in 0..8 {
        h.step();
    }
    let saved = Sidecar::load(&path).expect("autosaved").sidecar;
    assert_eq!(
        saved.part_values(PartId::ANSWER, "tone_answer"),
        ["neutral"]
    );
}

#[test]
fn first_start_asks_who_is_annotating() {
    let f = fixture(None);
    let mut h = harness(&f, &f.corpus);
    assert!(h.state().annotator().is_none());
    h.get_by_label("Welcome to Marginalia");
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Annotator id")
        .focus();
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Annotator id")
        .type_text("../evil");
    h.get_by_label("Save").click();
    h.run_ok();
    assert!(h.state().annotator().is_none(), "a path-like id is refused");
    h.get_by_label_contains("invalid annotator id");
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Annotator id")
        .focus();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Annotator id")
        .type_text("dana");
    h.get_by_label("Save").click();
    wait_for_corpus(&mut h);
    assert_eq!(h.state().annotator().map(|a| a.id.as_str()), Some("dana"));
    let stored = SettingsStore::load(Some(f.settings.clone()));
    assert_eq!(stored.settings.annotator.unwrap().id, "dana");
    assert!(
        h.state().document().is_some(),
        "the first document opens once the id is known"
    );
}

#[test]
fn unreadable_sidecar_is_shown_and_never_overwritten() {
    let f = fixture(Some("carol"));
    let broken = f.corpus.join("prevent.txt.carol.ron");
    std::fs::write(&broken, "(schema: 1, this is not").unwrap();
    let mut h = harness(&f, &f.corpus.join("prevent.txt"));
    assert!(h.state().document().unwrap().load_error.is_some());
    h.get_by_label_contains("cannot be read, so it is read-only");
    h.key_press(Key::Num4);
    h.key_press_modifiers(Modifiers::COMMAND, Key::S);
    h.key_press_modifiers(Modifiers::COMMAND, Key::ArrowDown);
    h.run_ok();
    assert_eq!(
        std::fs::read_to_string(&broken).unwrap(),
        "(schema: 1, this is not"
    );
}

#[test]
fn filter_and_help_and_palette() {
    let f = fixture(Some("carol"));
    let mut h = harness(&f, &f.corpus);
    h.key_press_modifiers(Modifiers::COMMAND, Key::F);
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Filter")
        .type_text("housing");
    h.run_ok();
    h.get_by_label_contains("1 of 3 documents");
    h.key_press(Key::F1);
    h.run_ok();
    h.get_by_label("Tag selection: Person");
    h.key_press(Key::Escape);
    h.key_press_modifiers(Modifiers::COMMAND, Key::K);
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Command")
        .type_text("dark");
    h.run_ok();
    let before = h.ctx.theme();
    h.key_press(Key::Enter);
    h.run_ok();
    assert_ne!(h.ctx.theme(), before, "the palette ran Switch light/dark");
}

#[test]
fn selections_map_to_char_offsets_across_curly_quotes_and_pound_signs() {
    let f = fixture(Some("carol"));
    let mut h = harness(&f, &f.corpus.join("fares-freeze.txt"));
    let (start, end) = select_in(&mut h, PartId::QUESTION, "“not pay a penny more”");
    h.get_by_label("Other authority  (Shift+X)").scroll_to_me();
    h.run_ok();
    h.get_by_label("Other authority  (Shift+X)").click();
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Value")
        .focus();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Value")
        .type_text("Mayor's manifesto");
    h.key_press(Key::Enter);
    h.run_ok();
    let doc = h.state().document().unwrap();
    let span = &doc.sidecar.spans[0];
    assert_eq!(span.quote, "“not pay a penny more”");
    assert_eq!(span.value, "Mayor's manifesto");
    let chars: Vec<char> = doc.transcript.question().chars().collect();
    assert_eq!(chars[start..end].iter().collect::<String>(), span.quote);
    assert_eq!((span.start, span.end), (start, end));
    // Later in the same paragraph, after the £ sign.
    select_in(&mut h, PartId::QUESTION, "£640 million");
    h.key_press_modifiers(Modifiers::SHIFT, Key::R);
    h.run_ok();
    h.key_press(Key::Enter);
    h.run_ok();
    let doc = h.state().document().unwrap();
    let s = doc
        .sidecar
        .spans
        .iter()
        .find(|s| s.dimension == "authority_report")
        .unwrap();
    assert_eq!(s.quote, "£640 million");
    assert_eq!(
        doc.transcript
            .question()
            .chars()
            .skip(s.start)
            .take(s.end - s.start)
            .collect::<String>(),
        "£640 million"
    );
}

#[test]
fn export_from_the_app_with_progress_and_summary() {
    let f = fixture(Some("carol"));
    let mut h = harness(&f, &f.corpus);
    h.key_press_modifiers(Modifiers::COMMAND, Key::E);
    h.run_ok();
    assert!(h.query_by_label("Format").is_some(), "dialog open");
    h.get_by_label_contains("jsonl — JSON Lines").click();
    h.run_ok();
    let out = f.corpus.parent().unwrap().join("corpus.jsonl");
    assert_eq!(
        h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Save to")
            .value()
            .as_deref(),
        Some(out.to_str().unwrap()),
        "the default output is beside the corpus folder, not inside it"
    );
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Export")
        .click();
    h.step();
    wait_for_tasks(&mut h);
    h.get_by_label_contains("Exported 3 documents, 9 annotations, 0 warnings");
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(text.contains("\"annotator\":\"alice\""));
    // Exporting again asks before overwriting.
    h.run_ok();
    h.get_by_label_contains("exists: overwrite it");
    // A REFI-QDA project, written as the command line writes it: every page a source.
    h.get_by_label_contains("qdpx — ").click();
    h.run_ok();
    let project = f.corpus.parent().unwrap().join("corpus.qdpx");
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Export")
        .click();
    h.step();
    wait_for_tasks(&mut h);
    h.get_by_label_contains("Exported 3 documents");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&project).unwrap()).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    assert_eq!(
        names.iter().filter(|n| n.starts_with("sources/")).count(),
        3,
        "{names:?}"
    );
    let mut qde = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("project.qde").unwrap(), &mut qde).unwrap();
    assert_eq!(qde.matches("<TextSource ").count(), 3);
}

#[test]
fn review_mode_compares_measures_and_adjudicates_into_gold() {
    let f = review_fixture();
    let mut h = harness(&f, &f.corpus.join("prevent.txt"));
    h.key_press_modifiers(Modifiers::COMMAND, Key::R);
    wait_for_tasks(&mut h);
    let report = h
        .state()
        .review()
        .unwrap()
        .report()
        .expect("agreement computed")
        .clone();
    assert_eq!(report.annotators, ["alice", "bob"]);
    assert_eq!(report.documents, 2);
    let open = report.disagreements.len();
    assert!(open > 3);
    // The document: both annotators' tags side by side, disagreements marked.
    h.get_by_label_contains("≠ Tone of answer (answer)");
    // Take bob's version of the answer's tone.
    let tone_key = report
        .disagreements
        .iter()
        .find(|d| d.document == "prevent.txt" && d.dimension == "tone_answer")
        .unwrap()
        .key
        .clone();
    h.get_by_label("Tone of answer on answer").scroll_to_me();
    h.run_ok();
    let buttons = h.get_all_by_label("Take bob's").count();
    assert!(buttons >= 2);
    // The document's disagreements are listed in order; tone_answer is its first.
    let first = report
        .disagreements
        .iter()
        .find(|d| d.document == "prevent.txt")
        .unwrap();
    assert_eq!(first.dimension, "tone_answer");
    h.get_all_by_label("Take bob's").next().unwrap().click();
    h.run_ok();
    let gold = Sidecar::load(&f.corpus.join("prevent.txt.gold.ron"))
        .expect("gold written")
        .sidecar;
    assert_eq!(gold.annotator.id, "gold");
    assert_eq!(gold.part_values(PartId::ANSWER, "tone_answer"), ["evasive"]);
    let progress = marginalia::review::Progress::load(&f.corpus, "gold").unwrap();
    assert!(progress.decisions.contains_key(&tone_key));
    h.get_by_label_contains(&format!("1 of {open} disagreements settled"));
    // The agreement table and chart.
    h.get_by_label("Agreement").click();
    h.run_ok();
    h.get_by_label("Krippendorff's alpha by dimension");
    // The corpus-wide list jumps to a document.
    h.get_by_label("Disagreements").click();
    h.run_ok();
    h.get_by_label_contains(&format!("{} of {open} disagreements", open - 1));
    h.get_all_by_label("fares-freeze.txt")
        .next()
        .unwrap()
        .click();
    h.run_ok();
    assert_eq!(
        h.state().review().unwrap().tab,
        marginalia::ui::review_panel::ReviewTab::Document
    );
    assert_eq!(
        h.get_all_by_label("Bus fares freeze").count(),
        2,
        "the list row and the document's heading"
    );
    // Colleagues' sidecars were never written.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    for file in ["prevent.txt.alice.ron", "prevent.txt.bob.ron"] {
        assert_eq!(
            std::fs::read(f.corpus.join(file)).unwrap(),
            std::fs::read(src.join(file)).unwrap()
        );
    }
}

#[test]
fn search_filters_and_sort_in_the_list() {
    let f = fixture(Some("carol"));
    let mut h = harness(&f, &f.corpus);
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::F);
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Search")
        .type_text("\"home office\"");
    h.run_ok();
    h.get_by_label_contains("1 hit in 1 document ");
    // Its row shows the words around the match, the match in brackets.
    assert!(
        h.state().search_hits()[0]
            .context
            .contains("the agreement of [Home Office] minister"),
        "{:?}",
        h.state().search_hits()
    );
    // Ctrl+G opens the document of the first hit with the hit highlighted.
    h.key_press_modifiers(Modifiers::COMMAND, Key::G);
    h.run_ok();
    let doc = h.state().document().unwrap();
    assert_eq!(doc.transcript.file_name, "prevent.txt");
    h.key_press_modifiers(Modifiers::COMMAND, Key::G);
    h.run_ok();
    // Tag filter: carol has no tags yet, so nothing matches; then clear it.
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Search")
        .focus();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.key_press(Key::Backspace);
    h.run_ok();
    h.get_by_label_contains("3 of 3 documents");
    h.get_by_label("Filters").click();
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Tags")
        .focus();
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Tags")
        .type_text("topic=housing");
    h.run_ok();
    h.get_by_label_contains("0 of 3 documents");
    // The same query over alice's codes: read from her sidecars, in a task.
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Tags")
        .focus();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.key_press(Key::Backspace);
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Tags")
        .type_text("topic=counter_terrorism");
    h.run_ok();
    h.get_by_label_contains("0 of 3 documents");
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Codes of")
        .click();
    h.run_ok();
    h.get_by_label("alice").click();
    wait_for_tasks(&mut h);
    h.get_by_label_contains("1 of 3 documents");
    // A search keeps to the filtered documents, and its rows name date and member.
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Search")
        .focus();
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Search")
        .type_text("the");
    h.run_ok();
    h.get_by_label_contains("in 1 document ");
    h.get_by_label_contains("more in documents outside the filter");
    // Rows of the open document take their words from it: the same as from the file.
    let shown: Vec<&str> = h
        .state()
        .search_hits()
        .iter()
        .map(|hit| hit.context.as_str())
        .filter(|c| !c.is_empty())
        .collect();
    assert!(
        shown.len() > 1
            && shown
                .iter()
                .all(|c| c.contains("[the]") || c.contains("[The]")),
        "{shown:?}"
    );
    assert!(
        h.query_all_by_label_contains("Prevent strategy · 2015-03-25 · Roger Evans")
            .count()
            > 1
    );
    // The list is a click away while the search shows.
    h.get_by_label("Documents (1)").click();
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Prevent strategy");
}

/// The member filter takes several members, found by typing part of a name.
#[test]
fn members_are_chosen_by_typing() {
    let f = fixture(Some("carol"));
    let mut h = harness(&f, &f.corpus);
    h.get_by_label("Filters").click();
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Members")
        .focus();
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Members")
        .type_text("evans");
    h.run_ok();
    h.get_by_label("Roger Evans").click();
    h.run_ok();
    h.get_by_label_contains("1 of 3 documents");
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Members")
        .focus();
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Members")
        .type_text("prince");
    h.run_ok();
    h.get_by_label("Keith Prince").click();
    h.run_ok();
    h.get_by_label_contains("2 of 3 documents");
    h.get_by_label("Roger Evans ×").click();
    h.run_ok();
    h.get_by_label_contains("1 of 3 documents");
}

#[test]
fn files_added_or_removed_on_disk_appear_without_restarting() {
    let f = fixture(Some("carol"));
    let mut h = harness(&f, &f.corpus.join("prevent.txt"));
    assert_eq!(h.state().corpus().unwrap().entries.len(), 3);
    h.key_press(Key::Num4);
    h.run_ok();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    std::fs::copy(
        src.join("air-quality-schools.txt"),
        f.corpus.join("air-quality-schools.txt"),
    )
    .unwrap();
    std::fs::remove_file(f.corpus.join("housing-zones.txt")).unwrap();
    let mut seen = false;
    for _ in 0..20 {
        if !wait_for_disk_change(&mut h) {
            break;
        }
        let names: Vec<String> = h
            .state()
            .corpus()
            .unwrap()
            .entries
            .iter()
            .map(|e| e.file_name.clone())
            .collect();
        if h.state().loading_progress().is_none()
            && names.contains(&"air-quality-schools.txt".to_string())
            && !names.contains(&"housing-zones.txt".to_string())
        {
            seen = true;
            break;
        }
    }
    assert!(seen, "the list follows the folder");
    // The open document stayed open, with its edit, at its new place in the list.
    let doc = h.state().document().unwrap();
    assert_eq!(doc.transcript.file_name, "prevent.txt");
    assert_eq!(
        doc.sidecar.part_values(PartId::ANSWER, "tone_answer"),
        ["hostile"]
    );
    h.get_by_label_contains("Document 3 of 3");
}

/// Tags names in the seed page's answer (each with `Shift+key`, the value as offered), saves, closes
/// the app, edits the page with `edit`, and opens it again.
fn tag_then_edit_page(
    f: &Fixture,
    tags: &[(&str, Key)],
    edit: impl Fn(String) -> String,
) -> Harness<'static, MarginaliaApp> {
    let page = f.corpus.join("prevent.txt");
    let mut h = harness(f, &page);
    for &(name, key) in tags {
        select_in_answer(&mut h, name);
        h.key_press_modifiers(Modifiers::SHIFT, key);
        h.run_ok();
        h.key_press(Key::Enter);
        h.run_ok();
    }
    h.key_press_modifiers(Modifiers::COMMAND, Key::S);
    h.run_ok();
    drop(h);
    let text = std::fs::read_to_string(&page).unwrap();
    std::fs::write(&page, edit(text)).unwrap();
    harness(f, &page)
}

#[test]
fn orphans_are_listed_and_can_be_placed_again_or_deleted() {
    let f = fixture(Some("carol"));
    // Someone edits the page: the name is now spelt out differently.
    let mut h = tag_then_edit_page(&f, &[("Sir Peter Fahy", Key::P)], |text| {
        text.replace(
            "As Sir Peter Fahy, national police lead",
            "As the national police lead",
        )
    });
    assert_eq!(h.state().document().unwrap().orphans().len(), 1);
    h.get_by_label_contains("Orphans: text no longer found (1)");
    // Said on opening, not only in the panel.
    h.get_by_label_contains("The transcript's text changed: 1 span no longer found.");
    // Place it on "the national police lead".
    let (start, end) = select_in_answer(&mut h, "the national police lead");
    h.get_by_label("Place on the selection").scroll_to_me();
    h.run_ok();
    h.get_by_label("Place on the selection").click();
    h.run_ok();
    let doc = h.state().document().unwrap();
    assert!(doc.orphans().is_empty());
    assert_eq!(
        (doc.sidecar.spans[0].start, doc.sidecar.spans[0].end),
        (start, end)
    );
    assert_eq!(doc.sidecar.spans[0].quote, "the national police lead");
}

#[test]
fn spans_moved_by_an_edit_are_confirmed_together_and_undone_together() {
    let f = fixture(Some("carol"));
    // A paragraph added at the top of the answer moves both.
    let tags = [("Sir Peter Fahy", Key::P), ("Home Office", Key::G)];
    let mut h = tag_then_edit_page(&f, &tags, |text| {
        text.replace(
            "MPS and MOPAC recognise",
            "The Deputy Mayor has written to you separately.\n\nMPS and MOPAC recognise",
        )
    });
    assert_eq!(h.state().document().unwrap().sidecar.spans.len(), 2);
    h.get_by_label_contains("The transcript's text changed: 2 spans placed again.");
    let flagged = |h: &Harness<'_, MarginaliaApp>| {
        h.state()
            .document()
            .unwrap()
            .sidecar
            .spans
            .iter()
            .filter(|s| s.flag.is_some())
            .count()
    };
    assert_eq!(flagged(&h), 2);
    h.get_by_label("All look right (2)").click();
    h.run_ok();
    assert_eq!(flagged(&h), 0);
    assert!(
        h.query_by_label_contains("Moved after the text changed")
            .is_none()
    );
    // One step to undo.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    assert_eq!(flagged(&h), 2);
}

#[test]
fn a_colleague_writing_the_open_sidecar_is_noticed() {
    let f = fixture(Some("carol"));
    let page = f.corpus.join("prevent.txt");
    let sidecar = f.corpus.join("prevent.txt.carol.ron");
    let mut h = harness(&f, &page);
    h.key_press(Key::Num4);
    h.key_press_modifiers(Modifiers::COMMAND, Key::S);
    h.run_ok();
    // Quietly reloaded when nothing is unsaved.
    let mut theirs = Sidecar::load(&sidecar).unwrap().sidecar;
    theirs.memo = "from the other machine".into();
    theirs.save(&sidecar).unwrap();
    let wait = |h: &mut Harness<'static, MarginaliaApp>, done: &dyn Fn(&MarginaliaApp) -> bool| {
        for _ in 0..20 {
            if done(h.state()) {
                return true;
            }
            if !wait_for_disk_change(h) {
                return false;
            }
        }
        done(h.state())
    };
    assert!(wait(&mut h, &|a| a
        .document()
        .is_some_and(|d| d.sidecar.memo == "from the other machine")));
    // With an unsaved change, the user is asked.
    h.key_press(Key::Num5);
    h.run_ok();
    theirs.memo = "second edit elsewhere".into();
    theirs.save(&sidecar).unwrap();
    let mut asked = false;
    for _ in 0..20 {
        if h.query_by_label("Merge by annotation id").is_some() {
            asked = true;
            break;
        }
        if !wait_for_disk_change(&mut h) {
            break;
        }
    }
    assert!(asked, "the user is asked what to do");
    h.get_by_label("Merge by annotation id").click();
    h.run_ok();
    let on_disk = Sidecar::load(&sidecar).unwrap().sidecar;
    assert_eq!(
        on_disk.part_values(PartId::ANSWER, "tone_answer"),
        ["evasive"],
        "ours wins on the same tag"
    );
    assert_eq!(
        on_disk.memo, "from the other machine",
        "ours wins on the memo too"
    );
}

#[test]
fn unsaved_work_survives_a_crash_through_the_journal() {
    let f = fixture(Some("carol"));
    let page = f.corpus.join("prevent.txt");
    let sidecar = f.corpus.join("prevent.txt.carol.ron");
    let mut h = harness(&f, &page);
    h.key_press(Key::Num4);
    h.step();
    assert_eq!(answer_tone(&h), ["hostile"]);
    assert!(!sidecar.exists(), "not saved yet");
    // The process dies a moment after the edit: no save, no exit handler. The journal's own
    // thread has written it by then; wait for that write, not for a time.
    h.state().flush_journal();
    std::mem::forget(h);
    let journal = f.settings.parent().unwrap().join("journal");
    let written = || {
        std::fs::read_dir(&journal)
            .map(|d| {
                d.flatten()
                    .any(|e| e.path().extension().is_some_and(|x| x == "ron"))
            })
            .unwrap_or(false)
    };
    assert!(written(), "the journal thread wrote the edit");
    let mut h = harness(&f, &page);
    h.get_by_label("Unsaved work from the last session");
    h.get_by_label("Restore").click();
    h.run_ok();
    let saved = Sidecar::load(&sidecar).expect("restored").sidecar;
    assert_eq!(
        saved.part_values(PartId::ANSWER, "tone_answer"),
        ["hostile"]
    );
    assert_eq!(answer_tone(&h), ["hostile"], "the open document shows it");
}

/// First start of an installed app: no folder given, none remembered, no source tree. The welcome
/// screen offers the sample corpus shipped in the binary; it is copied into the data folder (beside
/// the settings here), opened and coded; About tells the version.
#[test]
fn first_start_anywhere_offers_the_sample_corpus() {
    let f = fixture(Some("carol"));
    let options = AppOptions {
        path: None,
        settings_path: Some(f.settings.clone()),
        fallback: None,
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1024.0, 700.0))
        .with_max_steps(12)
        .build_eframe(move |cc| MarginaliaApp::new(cc, options));
    h.run_ok();
    assert!(h.state().is_welcome());
    h.get_by_label("Open folder…");
    h.get_by_label("Open file…");
    h.get_by_label("Open the sample corpus").click();
    h.run_ok();
    wait_for_corpus(&mut h);
    assert!(!h.state().is_welcome());
    let sample = f.settings.parent().unwrap().join("sample_data");
    assert_eq!(
        h.state().corpus().unwrap().entries.len(),
        marginalia::sample::FILES
            .iter()
            .filter(|(n, _)| n.ends_with(".txt"))
            .count()
    );
    assert!(sample.join("prevent.txt.alice.ron").is_file());
    // Code the first document and save: the copy is the user's to work in.
    h.key_press(Key::Num5);
    h.run_ok();
    h.key_press_modifiers(Modifiers::COMMAND, Key::S);
    h.run_ok();
    let path = h.state().document().unwrap().sidecar_path.clone();
    assert!(path.starts_with(&sample), "{}", path.display());
    let saved = Sidecar::load(&path).unwrap().sidecar;
    assert!(
        saved.tags.values().any(|d| d.contains_key("tone_answer")),
        "{saved:?}"
    );
    // Help > About.
    command(&mut h, marginalia::ui::commands::Command::About);
    assert!(h.state().about_is_open());
    h.get_by_label_contains(&format!("Marginalia {}", env!("CARGO_PKG_VERSION")));
    h.get_by_label_contains("Bull, P. (1994)");
}

fn part_values(h: &Harness<'_, MarginaliaApp>, dim: &str) -> Vec<String> {
    h.state()
        .document()
        .unwrap()
        .sidecar
        .part_values(PartId::ANSWER, dim)
        .to_vec()
}

fn part_values_of(h: &Harness<'_, MarginaliaApp>, part: PartId, dim: &str) -> Vec<String> {
    h.state()
        .document()
        .unwrap()
        .sidecar
        .part_values(part, dim)
        .to_vec()
}

/// Bull's typology in the codebook: a non-reply type only on a non-reply; changing the reply
/// removes it in the same undoable step, and the status line says so, as it does when a second
/// press of a one-choice key removes a code.
#[test]
fn codebook_dependencies_and_removals_are_said() {
    let f = fixture(Some("carol"));
    let mut h = harness(&f, &f.corpus.join("prevent.txt"));
    h.key_press(Key::F2);
    h.run_ok();
    assert!(part_values(&h, "non_reply").is_empty());
    assert!(
        h.state()
            .notice()
            .unwrap()
            .contains("applies only with Reply (Bull): Non-reply"),
        "{:?}",
        h.state().notice()
    );
    h.key_press(Key::N);
    h.run_ok();
    h.key_press(Key::F2);
    h.run_ok();
    assert_eq!(part_values(&h, "reply"), ["non_reply"]);
    assert_eq!(part_values(&h, "non_reply"), ["ignores"]);
    // A full reply: the non-reply type goes, said, in one step that one undo brings back.
    h.key_press(Key::F);
    h.run_ok();
    assert_eq!(part_values(&h, "reply"), ["full_reply"]);
    assert!(part_values(&h, "non_reply").is_empty());
    assert!(
        h.state()
            .notice()
            .unwrap()
            .contains("Non-reply type removed")
    );
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    assert_eq!(part_values(&h, "non_reply"), ["ignores"]);
    // A second press of a one-choice key removes the code, and says so.
    h.key_press(Key::Num5);
    h.run_ok();
    h.key_press(Key::Num5);
    h.run_ok();
    assert!(answer_tone(&h).is_empty());
    assert!(
        h.state()
            .notice()
            .unwrap()
            .starts_with("Removed Tone of answer: Evasive"),
        "{:?}",
        h.state().notice()
    );
}

/// The palette finds codes as well as commands, and applies them.
#[test]
fn the_palette_finds_codes() {
    let f = fixture(Some("carol"));
    let mut h = harness(&f, &f.corpus.join("prevent.txt"));
    h.key_press_modifiers(Modifiers::COMMAND, Key::K);
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Command")
        .type_text("answer: evasive");
    h.run_ok();
    // The palette's line beside the codebook's button.
    assert!(
        h.query_all_by_label_contains("Tone of answer: Evasive")
            .count()
            >= 2
    );
    h.key_press(Key::Enter);
    h.run_ok();
    assert_eq!(answer_tone(&h), ["evasive"]);
}

/// Moving through a long list by keyboard keeps the open document's row in view.
#[test]
fn the_list_follows_the_current_document() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    let text = std::fs::read_to_string(src.join("prevent.txt")).unwrap();
    for i in 0..40 {
        std::fs::write(corpus.join(format!("page-{i:02}.txt")), &text).unwrap();
    }
    let settings = dir.path().join("config/settings.ron");
    let mut store = SettingsStore::load(Some(settings.clone()));
    store.settings.annotator = Some(Annotator {
        id: "carol".into(),
        name: "Carol".into(),
    });
    store.save().unwrap();
    let options = AppOptions {
        path: Some(corpus.clone()),
        settings_path: Some(settings),
        fallback: None,
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1024.0, 640.0))
        .with_max_steps(12)
        .build_eframe(move |cc| MarginaliaApp::new(cc, options));
    wait_for_corpus(&mut h);
    assert_eq!(h.state().list_offset(), 0.0);
    for _ in 0..30 {
        h.key_press_modifiers(Modifiers::COMMAND, Key::ArrowDown);
        h.run_ok();
    }
    h.run_ok();
    let path = h.state().document().unwrap().path.clone();
    assert!(path.ends_with("page-30.txt"), "{}", path.display());
    assert!(h.state().list_offset() > 0.0, "the list stayed at the top");
}

/// The side panels can be hidden for room (View menu, Ctrl+Shift+1 / Ctrl+Shift+2), and Escape
/// closes the export dialog like every other.
#[test]
fn panels_hide_and_escape_closes_export() {
    let f = fixture(Some("carol"));
    let mut h = harness(&f, &f.corpus.join("prevent.txt"));
    assert!(
        h.query_by_role_and_label(egui::accesskit::Role::TextInput, "Filter")
            .is_some()
    );
    command(
        &mut h,
        marginalia::ui::commands::Command::ToggleDocumentList,
    );
    assert!(
        h.query_by_role_and_label(egui::accesskit::Role::TextInput, "Filter")
            .is_none()
    );
    assert!(h.query_by_label("Tone of answer: Evasive (5)").is_some());
    command(
        &mut h,
        marginalia::ui::commands::Command::ToggleCodebookPanel,
    );
    assert!(h.query_by_label("Tone of answer: Evasive (5)").is_none());
    // Keys still tag with the codebook hidden.
    h.key_press(Key::Num5);
    h.run_ok();
    assert_eq!(answer_tone(&h), ["evasive"]);
    h.key_press_modifiers(Modifiers::COMMAND, Key::E);
    h.run_ok();
    assert!(h.query_by_label("Save to").is_some());
    h.key_press(Key::Escape);
    h.run_ok();
    assert!(h.query_by_label("Save to").is_none());
}

/// A REFI-QDA project dropped on the window or opened is named for what it is, with the way in.
#[test]
fn a_qdpx_opened_in_the_app_says_what_it_is() {
    let f = fixture(Some("carol"));
    let mut h = harness(&f, &f.corpus.join("prevent.txt"));
    let project = f.corpus.join("study.qdpx");
    std::fs::write(&project, b"PK\x03\x04").unwrap();
    h.state_mut().act(Action::OpenPath(project.clone()));
    h.run_ok();
    let notice = h.state().notice().unwrap().to_string();
    assert!(
        notice.contains("study.qdpx is a REFI-QDA project") && notice.contains("Import project"),
        "{notice}"
    );
    assert!(
        h.state().document().is_some(),
        "the open document stays open"
    );
}

/// The document's codings, memo and status have their own place at the foot of the right panel:
/// part tags and spans listed in text order, a tag removed from its row; the codes of each part
/// show as chips at its head, and a folded dimension names what is chosen.
#[test]
fn codings_are_listed_beside_the_codebook_and_shown_at_each_part() {
    let f = fixture(Some("carol"));
    let mut h = harness(&f, &f.corpus.join("prevent.txt"));
    h.key_press(Key::Num5);
    h.key_press(Key::C);
    h.run_ok();
    h.get_by_label_contains("Codings: 2 part tags, 0 spans");
    // Rows name dimension and value, with where they are.
    h.get_by_label("Tone of answer: Evasive");
    h.get_by_label("Topics: Counter-terrorism");
    // Chips at the head of each part.
    assert!(h.query_all_by_label("Evasive").count() >= 1);
    // The dimension's header says what is chosen.
    h.get_by_label_contains("Tone of answer — Evasive");
    // Right-click a row: remove that code.
    h.get_by_label("Topics: Counter-terrorism").scroll_to_me();
    h.run_ok();
    let row = h.get_by_label("Topics: Counter-terrorism");
    row.click_secondary();
    h.run_ok();
    h.get_by_label("Remove this code").click();
    h.run_ok();
    assert!(
        h.state()
            .document()
            .unwrap()
            .sidecar
            .part_values(PartId::QUESTION, "topic")
            .is_empty()
    );
    h.get_by_label_contains("Codings: 1 part tags, 0 spans");
    // Undo brings it back, like any edit.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    h.get_by_label_contains("Codings: 2 part tags, 0 spans");
}

/// Review's corpus-wide tabs take the whole width (adjudication belongs to the document tab), and
/// the per-document agreement table sorts by any column.
#[test]
fn review_tabs_use_the_width_and_the_per_document_table_sorts() {
    let f = review_fixture();
    let mut h = harness(&f, &f.corpus.join("prevent.txt"));
    h.key_press_modifiers(Modifiers::COMMAND, Key::R);
    wait_for_tasks(&mut h);
    assert!(h.query_by_label_contains("disagreements here").is_some());
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Agreement")
        .click();
    h.run_ok();
    assert!(
        h.query_by_label_contains("disagreements here").is_none(),
        "the adjudication panel is for the document tab"
    );
    h.get_by_role_and_label(egui::accesskit::Role::Button, "units")
        .scroll_to_me();
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::Button, "units")
        .click();
    h.run_ok();
    h.get_by_label("units (descending)").click();
    h.run_ok();
    h.get_by_label("units (ascending)");
}

/// Analysis: every coding of a code across the folder, opening a document at a coding and coming
/// back, and a cross-tab with its statistics.
#[test]
fn analysis_retrieves_codings_and_cross_tabulates() {
    let f = fixture(Some("carol"));
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    for file in ["fares-freeze.txt.alice.ron", "fares-freeze.txt.bob.ron"] {
        std::fs::copy(src.join(file), f.corpus.join(file)).unwrap();
    }
    let mut h = harness(&f, &f.corpus.join("housing-zones.txt"));
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::A);
    wait_for_tasks(&mut h);
    h.get_by_label("Retrieve codings");
    // Tone of answer, any value: alice's and bob's codings of both pages.
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Code")
        .click();
    h.run_ok();
    h.get_by_label("Tone of answer").click();
    wait_for_tasks(&mut h);
    let found = h.state().analysis().unwrap().codings().len();
    assert!(found >= 3, "{found} codings");
    h.get_by_label_contains(&format!("{found} codings"));
    // A coding opens its document; Ctrl+Shift+A comes back with the list kept.
    let first = h.state().analysis().unwrap().codings()[0].clone();
    h.state_mut()
        .act(Action::OpenCoding(Box::new(first.clone())));
    h.run_ok();
    let open = h.state().document().unwrap().path.clone();
    assert!(open.ends_with(&first.document), "{}", open.display());
    assert!(h.query_by_label("Retrieve codings").is_none());
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::A);
    h.run_ok();
    h.get_by_label_contains(&format!("{found} codings"));
    // Cross-tab: asked_of by tone of answer, with chi-square and Cramér's V.
    h.get_by_label("Cross-tab").click();
    h.run_ok();
    wait_for_tasks(&mut h);
    let t = h.state().analysis().unwrap().table().expect("a table");
    assert_eq!(t.row_axis, "asked_of");
    assert!(t.total > 0);
    h.get_by_label_contains("Save chart as SVG");
    h.get_by_label_contains("Save chart as PNG");
    h.get_by_label_contains("by asked_of (share of each row)");
    // One column's share of each row, with its Wilson interval: the reply-rate chart.
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Chart")
        .click();
    h.run_ok();
    h.query_all_by_label_contains("in each row, with 95% intervals")
        .next()
        .expect("a column to chart")
        .click();
    h.run_ok();
    h.get_by_label_contains("as a share of each asked_of (95% Wilson interval)");
    // Codes found together within a part, most frequent first.
    h.get_by_label("Co-occurrence").click();
    h.run_ok();
    wait_for_tasks(&mut h);
    h.get_by_label_contains("pairs of codes in the same part");
    h.get_by_label_contains("Save as CSV");
}

/// In an interview the keys tag the exchange clicked last; the next document starts at its first
/// exchange, and the exchange's codes show as chips in its box.
#[test]
fn the_target_exchange_is_per_document_and_exchange_boxes_show_codes() {
    let f = fixture(Some("carol"));
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    for file in [
        "interview-transport-planner.txt",
        "interview-community-officer.txt",
    ] {
        std::fs::copy(src.join(file), f.corpus.join(file)).unwrap();
    }
    let mut h = harness(&f, &f.corpus.join("interview-community-officer.txt"));
    let third_answer = PartId {
        exchange: 2,
        kind: marginalia::transcript::PartKind::Answer,
    };
    h.state_mut().act(Action::GoToPart(third_answer));
    h.run_ok();
    assert_eq!(h.state().target_exchange(), 2);
    h.key_press(Key::Num5);
    h.run_ok();
    assert_eq!(
        h.state()
            .document()
            .unwrap()
            .sidecar
            .part_values(third_answer, "tone_answer"),
        ["evasive"]
    );
    assert!(
        h.query_all_by_label("Evasive").count() >= 1,
        "a chip in the box"
    );
    h.key_press_modifiers(Modifiers::COMMAND, Key::ArrowDown);
    h.run_ok();
    assert!(
        h.state()
            .document()
            .unwrap()
            .path
            .ends_with("interview-transport-planner.txt")
    );
    assert_eq!(h.state().target_exchange(), 0);
}

/// A span lies within one paragraph: a drag that goes on into the next paragraph says so.
#[test]
fn a_selection_dragged_past_its_paragraph_is_said_to_stop_there() {
    let f = fixture(Some("carol"));
    let mut h = harness(&f, &f.corpus.join("prevent.txt"));
    let first = paragraph_rect(&h, "MPS and MOPAC recognise");
    let second = paragraph_rect(&h, "Police have a role in Prevent");
    let from = egui::pos2(first.left() + 30.0, first.center().y);
    let to = egui::pos2(second.left() + 60.0, second.center().y);
    drag(&mut h, from, to);
    let notice = h.state().notice().unwrap_or_default().to_string();
    assert!(notice.contains("within one paragraph"), "{notice:?}");
}

/// A real keyboard sends the typed character with a letter key: a span shortcut pressed while a
/// paragraph holds the selection still tags that selection.
#[test]
fn a_span_key_with_its_typed_character_keeps_the_selection() {
    let f = fixture(Some("carol"));
    let mut h = harness(&f, &f.corpus.join("prevent.txt"));
    let (start, end) = select_in_answer(&mut h, "Sir Peter Fahy");
    press_person_key(&h);
    h.run_ok();
    h.get_by_label("Value");
    h.key_press(Key::Enter);
    h.run_ok();
    let spans = h.state().document().unwrap().sidecar.spans.clone();
    assert_eq!(spans.len(), 1);
    assert_eq!((spans[0].start, spans[0].end), (start, end));
}

/// The everyday flow with the mouse: drag over words, press a span key (with the character a real
/// keyboard types), Enter: the span is the words dragged over.
#[test]
fn drag_then_span_key_tags_the_dragged_words() {
    let f = fixture(Some("carol"));
    let mut h = harness(&f, &f.corpus.join("prevent.txt"));
    let para = paragraph_rect(&h, "MPS and MOPAC recognise");
    let from = egui::pos2(para.left() + 2.0, para.top() + 8.0);
    let to = egui::pos2(para.left() + 120.0, para.top() + 8.0);
    drag(&mut h, from, to);
    let sel = h.state().selection().cloned();
    assert!(
        sel.as_ref()
            .is_some_and(|(p, r)| *p == PartId::ANSWER && r.start == 0 && r.len() > 5),
        "a mouse drag selects text for a span, as the keyboard does: {sel:?}"
    );
    let (_, range) = sel.expect("selected");
    press_person_key(&h);
    h.run_ok();
    h.get_by_label("Value");
    h.key_press(Key::Enter);
    h.run_ok();
    let spans = h.state().document().unwrap().sidecar.spans.clone();
    assert_eq!(spans.len(), 1, "{spans:?}");
    assert_eq!(spans[0].start..spans[0].end, range);
}

/// The codebook grows while coding: a value added from the panel, typed without its letters
/// coding anything; a value merged into another with every sidecar migrated after a preview.
#[test]
fn the_codebook_is_edited_from_its_panel() {
    let f = fixture(Some("carol"));
    let mut h = harness(&f, &f.corpus.join("prevent.txt"));
    h.key_press(Key::Num4);
    h.run_ok();
    assert_eq!(answer_tone(&h), ["hostile"]);
    // Add "Sarcastic 2" to the tone of answer: the digit is typed, not coded.
    h.get_by_label("Add a value to Tone of answer")
        .scroll_to_me();
    h.run_ok();
    h.get_by_label("Add a value to Tone of answer").click();
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "New value")
        .type_text("Sarcastic 2");
    h.run_ok();
    assert_eq!(answer_tone(&h), ["hostile"], "typing a value codes nothing");
    h.get_by_label("OK").click();
    h.run_ok();
    wait_for_codebook_change(&mut h);
    let cb = marginalia::codebook::Codebook::for_folder(&f.corpus)
        .unwrap()
        .0;
    let added = cb
        .dimension("tone_answer")
        .unwrap()
        .values
        .iter()
        .find(|v| v.label == "Sarcastic 2")
        .expect("added to codebook.ron");
    assert_eq!(added.id, "sarcastic_2");
    // Merge Hostile into Critical: asked first, then carol's sidecar follows.
    let hostile = "Tone of answer: Hostile (4)";
    h.get_by_label(hostile).scroll_to_me();
    h.run_ok();
    h.get_by_label(hostile).click_secondary();
    h.run_ok();
    h.get_by_label("Merge into").click();
    h.run_ok();
    h.get_by_label("Critical").click();
    // The preview reads the folder in a task: wait on it, not on the clock.
    wait_for_tasks(&mut h);
    h.get_by_label_contains("1 codings in 1 sidecars change");
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Change the codebook")
        .click();
    h.run_ok();
    wait_for_codebook_change(&mut h);
    assert_eq!(answer_tone(&h), ["critical"]);
    // A key for the new value, from its right-click menu; a command's key is refused.
    let sarcastic = "Tone of answer: Sarcastic 2";
    h.get_by_label(sarcastic).scroll_to_me();
    h.run_ok();
    h.get_by_label(sarcastic).click_secondary();
    h.run_ok();
    h.get_by_label("Set key…").click();
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Key")
        .type_text("F1");
    h.get_by_label("OK").click();
    h.run_ok();
    h.get_by_label_contains("F1 is the key of");
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Key")
        .focus();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Key")
        .type_text("9");
    h.get_by_label("OK").click();
    h.run_ok();
    wait_for_codebook_change(&mut h);
    let cb = marginalia::codebook::Codebook::for_folder(&f.corpus)
        .unwrap()
        .0;
    let key = cb
        .dimension("tone_answer")
        .unwrap()
        .value("sarcastic_2")
        .unwrap()
        .key
        .clone();
    assert_eq!(key.as_deref(), Some("9"));
    h.key_press(Key::Num9);
    h.run_ok();
    assert_eq!(answer_tone(&h), ["sarcastic_2"], "the new key codes");
    // A new dimension of the answer, with its values, coded at once.
    let add = "Add a dimension to the answer";
    h.get_by_label(add).scroll_to_me();
    h.run_ok();
    h.get_by_label(add).click();
    h.run_ok();
    for (field, text) in [("Dimension", "Cites evidence"), ("Values", "Yes, No")] {
        h.get_by_role_and_label(egui::accesskit::Role::TextInput, field)
            .focus();
        h.run_ok();
        h.get_by_role_and_label(egui::accesskit::Role::TextInput, field)
            .type_text(text);
        h.run_ok();
    }
    h.run_ok();
    h.get_by_label("Add dimension").click();
    h.run_ok();
    wait_for_codebook_change(&mut h);
    let notice = h.state().notice().unwrap_or_default().to_string();
    assert!(notice.contains("Cites evidence"), "{notice}");
    click_code(&mut h, "Cites evidence: Yes");
    h.run_ok();
    assert_eq!(part_values(&h, "cites_evidence"), ["yes"]);
    let history = marginalia::codebook_edit::history(&f.corpus).unwrap();
    assert_eq!(history.len(), 4);
    assert_eq!(history[2].who, "carol");
    assert!(
        std::fs::read_dir(&f.corpus)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains(".before-merge-"))
    );
}

/// A value split from the codebook panel: its codings across the folder listed (read in a
/// task), the ones ticked moved to a new value in every sidecar after a preview (also a task),
/// the others left; the history records which codings moved, and each sidecar has its backup.
#[test]
fn a_value_is_split_from_its_panel() {
    let f = review_fixture();
    let mut h = harness(&f, &f.corpus.join("prevent.txt"));
    h.key_press(Key::Num6);
    h.run_ok();
    assert_eq!(answer_tone(&h), ["defensive"]);
    let defensive = "Tone of answer: Defensive (6)";
    h.get_by_label(defensive).scroll_to_me();
    h.run_ok();
    h.get_by_label(defensive).click_secondary();
    h.run_ok();
    h.get_by_label("Split…").click();
    wait_for_tasks(&mut h);
    // carol's coding (saved first), alice's two and bob's one.
    h.get_by_label_contains("4 codings of Defensive in the folder");
    // The label box has the keyboard as the window opens: typing names the value, codes nothing.
    h.event(egui::Event::Text("Self-justifying".into()));
    h.run_ok();
    let typed = h
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "New value")
        .value();
    assert_eq!(typed.as_deref(), Some("Self-justifying"));
    h.get_by_label_contains("0 codings in 0 sidecars move");
    h.get_by_label("Move all").click();
    h.run_ok();
    h.get_by_label_contains("4 codings in 4 sidecars move");
    h.get_by_label("None").click();
    h.run_ok();
    // A button has the keyboard now, not a text box: a code's key still codes nothing behind.
    h.key_press(Key::T);
    h.run_ok();
    assert!(
        !part_values_of(&h, PartId::QUESTION, "topic").contains(&"transport".to_string()),
        "T under the split window codes no topic"
    );
    for who in ["fares-freeze.txt · bob", "prevent.txt · carol"] {
        h.get_by_label_contains(who).click();
        h.run_ok();
    }
    h.get_by_label_contains("2 codings in 2 sidecars move");

    h.get_by_label("Split…").click();
    wait_for_tasks(&mut h);
    h.get_by_label_contains("2 codings in 2 sidecars change");
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Change the codebook")
        .click();
    h.run_ok();
    wait_for_codebook_change(&mut h);
    assert_eq!(answer_tone(&h), ["self_justifying"]);
    let tone = |file: &str| {
        Sidecar::load(&f.corpus.join(file))
            .unwrap()
            .sidecar
            .part_values(PartId::ANSWER, "tone_answer")
            .to_vec()
    };
    assert_eq!(tone("fares-freeze.txt.bob.ron"), ["self_justifying"]);
    assert_eq!(tone("fares-freeze.txt.alice.ron"), ["defensive"]);
    assert_eq!(tone("prevent.txt.alice.ron"), ["defensive"]);
    let history = marginalia::codebook_edit::history(&f.corpus).unwrap();
    let Some(marginalia::codebook_edit::Change::SplitValue { moved, .. }) =
        history.last().map(|h| &h.change)
    else {
        panic!("the split is in the history: {history:?}");
    };
    let mut files: Vec<&str> = moved.iter().map(|m| m.sidecar()).collect();
    files.sort_unstable();
    assert_eq!(files, ["fares-freeze.txt.bob.ron", "prevent.txt.carol.ron"]);
    let backups = std::fs::read_dir(&f.corpus)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".before-split-"))
        .count();
    assert_eq!(backups, 2);
}

/// Dimensions of every kind from the panel: several choices on the question, one choice on the
/// answer that applies only with a non-reply, free values on spans; a dimension described.
#[test]
fn dimensions_of_every_kind_are_made_from_the_panel() {
    let f = fixture(Some("carol"));
    let mut h = harness(&f, &f.corpus.join("prevent.txt"));
    let fill = |h: &mut Harness<'static, MarginaliaApp>, fields: &[(&str, &str)]| {
        for (field, text) in fields {
            h.get_by_role_and_label(egui::accesskit::Role::TextInput, field)
                .focus();
            h.run_ok();
            h.get_by_role_and_label(egui::accesskit::Role::TextInput, field)
                .type_text(text);
            h.run_ok();
        }
    };
    let open_form = |h: &mut Harness<'static, MarginaliaApp>, add: &str| {
        h.get_by_label(add).scroll_to_me();
        h.run_ok();
        h.get_by_label(add).click();
        h.run_ok();
    };
    // Several choices on the question.
    open_form(&mut h, "Add a dimension to the question");
    fill(
        &mut h,
        &[("Dimension", "Framing"), ("Values", "Economic, Moral")],
    );
    h.get_by_label("several choices").click();
    h.run_ok();
    h.get_by_label("Add dimension").click();
    h.run_ok();
    wait_for_codebook_change(&mut h);
    // One choice on the answer, only with a non-reply.
    open_form(&mut h, "Add a dimension to the answer");
    fill(
        &mut h,
        &[("Dimension", "Deflection"), ("Values", "Blames others")],
    );
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Only when")
        .click();
    h.run_ok();
    h.get_by_label("Reply (Bull) = Non-reply").scroll_to_me();
    h.run_ok();
    h.get_by_label("Reply (Bull) = Non-reply").click();
    h.run_ok();
    let chosen = h
        .get_by_role_and_label(egui::accesskit::Role::ComboBox, "Only when")
        .value();
    assert_eq!(chosen.as_deref(), Some("Reply (Bull) = Non-reply"));
    h.get_by_label("Add dimension").click();
    h.run_ok();
    wait_for_codebook_change(&mut h);
    // Free values on spans, with suggestions.
    open_form(&mut h, "Add a span dimension");
    fill(
        &mut h,
        &[("Dimension", "Place"), ("Values", "Croydon, Brixton")],
    );
    h.get_by_label("Add dimension").click();
    h.run_ok();
    wait_for_codebook_change(&mut h);
    let cb = marginalia::codebook::Codebook::for_folder(&f.corpus)
        .unwrap()
        .0;
    use marginalia::codebook::{AppliesTo, DimensionKind};
    let framing = cb.dimension("framing").unwrap();
    assert_eq!(
        (framing.applies_to, framing.kind),
        (AppliesTo::Question, DimensionKind::SeveralChoices)
    );
    let deflection = cb.dimension("deflection").unwrap();
    let requires = deflection.requires.as_ref().unwrap();
    assert_eq!(
        (requires.dimension.as_str(), requires.value.as_str()),
        ("reply", "non_reply")
    );
    let place = cb.dimension("place").unwrap();
    assert_eq!(
        (place.applies_to, place.kind),
        (AppliesTo::Span, DimensionKind::Entity)
    );
    assert_eq!(place.known_values, ["Croydon", "Brixton"]);
    // Both framings at once: several choices.
    click_code(&mut h, "Framing: Economic");
    h.run_ok();
    click_code(&mut h, "Framing: Moral");
    h.run_ok();
    assert_eq!(
        part_values_of(&h, PartId::QUESTION, "framing"),
        ["economic", "moral"]
    );
    // The new span dimension is described from its right-click menu, with nothing selected.
    h.get_by_label("Place").scroll_to_me();
    h.run_ok();
    h.get_by_label("Place").click_secondary();
    h.run_ok();
    h.get_by_label("Describe the dimension…").click();
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Dimension description")
        .focus();
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Dimension description")
        .type_text("Where it happens");
    h.run_ok();
    h.get_by_label("OK").click();
    h.run_ok();
    wait_for_codebook_change(&mut h);
    let cb = marginalia::codebook::Codebook::for_folder(&f.corpus)
        .unwrap()
        .0;
    assert_eq!(
        cb.dimension("place").unwrap().description,
        "Where it happens"
    );
}

/// In a hearing the user can swap who asks and who answers, per document: the sidecar records it,
/// the exchanges are built again, and undo brings the guess back.
#[test]
fn a_speakers_role_is_swapped_in_the_app() {
    let f = fixture(Some("carol"));
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats");
    std::fs::copy(
        src.join("hearing-hansard-dash.txt"),
        f.corpus.join("hearing-hansard-dash.txt"),
    )
    .unwrap();
    let mut h = harness(&f, &f.corpus.join("hearing-hansard-dash.txt"));
    h.get_by_label_contains("Speakers (4)").click();
    h.run_ok();
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Mr HAYES")
        .click();
    h.run_ok();
    h.get_by_label("asks").click();
    h.run_ok();
    if h.query_by_label("Change the role").is_some() {
        h.get_by_label("Change the role").click();
        h.run_ok();
    }
    let roles = h.state().document().unwrap().sidecar.roles.clone();
    assert_eq!(
        roles.get("Mr HAYES"),
        Some(&marginalia::transcript::Role::Asker)
    );
    h.get_by_label_contains("Speakers (4): 1 set by you");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    assert!(h.state().document().unwrap().sidecar.roles.is_empty());
}
