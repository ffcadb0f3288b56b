//! Corpus-scale benchmark (issue 4), on the 10,000-page generated corpus, 30% annotated by three
//! annotators:
//! - opening the corpus (decode, parse, load sidecars, build the list and the search index) beside
//!   reading all its bytes (the read floor), in the same run;
//! - full-text queries over the 10,000 pages;
//! - GUI frames with the 10,000-row list and a 400-paragraph answer with 2,000 highlighted spans
//!   (`MARGINALIA_BENCH_PARAGRAPHS` for another length, five spans a paragraph)
//!   (headless kittest harness, CPU time per frame);
//! - peak memory with the corpus open.
//!
//! `cargo bench --bench corpus`; `MARGINALIA_BENCH_DOCS=100000` for issue 13's 100,000 pages (which
//! also holds the open under 3 s and memory under 2 GB), with `MARGINALIA_BENCH_CORPUS=DIR` to reuse a
//! corpus made by `marginalia generate-corpus DIR --docs N` (generating 100,000 pages takes minutes;
//! the bench adds its long document to DIR and removes it at the end).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "a bench or test crate: an unwrap that fails stops the run and says where; a bench's steps read top to bottom"
)]

#[path = "common/mod.rs"]
mod common;

use std::path::Path;
use std::time::Instant;

use marginalia::codebook::Codebook;
use marginalia::corpus::CorpusIndex;
use marginalia::generate::{GenerateOptions, generate};
use marginalia::search::Scope;
use marginalia::sidecar::{Annotator, Sidecar, Span, sidecar_path};
use marginalia::transcript::{PartId, Transcript};

fn read_floor(root: &Path) -> (u64, f64) {
    let t = Instant::now();
    let mut bytes = 0u64;
    for e in walkdir::WalkDir::new(root).into_iter().flatten() {
        if e.file_type().is_file() {
            bytes += std::fs::read(e.path()).map(|b| b.len() as u64).unwrap_or(0);
        }
    }
    (bytes, t.elapsed().as_secs_f64())
}

fn peak_rss_mb() -> f64 {
    common::vm_hwm("self") as f64 / (1024.0 * 1024.0)
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// A long answer of `paragraphs` paragraphs with five spans in each, of one annotator.
fn long_document(root: &Path, paragraphs: usize) -> std::path::PathBuf {
    let mut text = String::from(
        "A very long answer\n\nMQT on 2020-01-15\nQuestion By:\nA Member\nGLA Conservatives\nAsked Of:\nThe Mayor\n\nWhat is the plan?\n\nAnswer for A very long answer\n\nAnswered By:\nThe Mayor\n\n",
    );
    for i in 0..paragraphs {
        text.push_str(&format!(
            "Paragraph {i}: the Home Office and the Metropolitan Police Service agreed with MOPAC that CONTEST, the Prevent duty and the London Plan would be reviewed by HM Treasury, as Sir Peter Fahy said, with £{i} million from the Department for Transport.\n\n"
        ));
    }
    let path = root.join("0000-long-answer.txt");
    std::fs::write(&path, &text).unwrap();
    let t = Transcript::load(&path).unwrap();
    let answer = t.answer().to_string();
    let cb = Codebook::builtin();
    let mut s = Sidecar::new(
        Annotator {
            id: "ann".into(),
            name: "Ann".into(),
        },
        &t,
        &cb,
    );
    let names = [
        ("Home Office", "authority_government"),
        ("Metropolitan Police Service", "authority_police"),
        ("CONTEST", "authority_legislation"),
        ("Sir Peter Fahy", "authority_person"),
        ("HM Treasury", "authority_government"),
    ];
    let mut n = 0;
    for (name, dim) in names {
        // Chars counted from the match before, not from the start: a long answer is not walked
        // once per span.
        let (mut byte_at, mut char_at) = (0, 0);
        for (byte, _) in answer.match_indices(name) {
            char_at += answer[byte_at..byte].chars().count();
            byte_at = byte;
            n += 1;
            s.spans.push(
                Span::new_at(
                    format!("ann-{n:04}"),
                    PartId::ANSWER,
                    &answer,
                    char_at,
                    char_at + name.chars().count(),
                    byte,
                    dim,
                    name,
                )
                .unwrap(),
            );
        }
    }
    assert_eq!(s.spans.len(), 5 * paragraphs);
    s.save(&sidecar_path(&path, "ann")).unwrap();
    path
}

fn main() {
    let docs: usize = std::env::var("MARGINALIA_BENCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let reused = std::env::var_os("MARGINALIA_BENCH_CORPUS").map(std::path::PathBuf::from);
    let root = reused.clone().unwrap_or_else(|| dir.path().join("corpus"));
    if reused.is_none() {
        generate(
            &root,
            &GenerateOptions {
                docs,
                annotators: vec!["ann".into(), "ben".into(), "cai".into()],
                coverage: 0.3,
                seed: 1,
            },
        )
        .expect("generate");
    }
    // `MARGINALIA_BENCH_PARAGRAPHS` for a longer answer (five spans a paragraph): the frames and
    // the typing with a page of tens of thousands of spans.
    let paragraphs: usize = std::env::var("MARGINALIA_BENCH_PARAGRAPHS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let spans = 5 * paragraphs;
    let long = long_document(&root, paragraphs);
    let sidecars = walkdir::WalkDir::new(&root)
        .into_iter()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "ron"))
        .count();
    println!(
        "corpus: {docs} pages + one {paragraphs}-paragraph answer with {spans} spans; {sidecars} sidecars; {} threads{}",
        rayon::current_num_threads(),
        reused
            .as_ref()
            .map(|r| format!("; reused {}", r.display()))
            .unwrap_or_default()
    );

    // Warm the page cache once, then measure the floor and the open side by side, best of 3 each.
    let (bytes, _) = read_floor(&root);
    let mut floor = f64::INFINITY;
    let mut open = f64::INFINITY;
    let mut all = f64::INFINITY;
    let mut index = None;
    for _ in 0..5 {
        floor = floor.min(read_floor(&root).1);
        let t = Instant::now();
        let mut i = CorpusIndex::default();
        let mut ready = 0.0;
        marginalia::corpus::load_streaming(&root, "ann", &mut |e| {
            let finished = matches!(e, marginalia::corpus::LoadEvent::Finished(_));
            i.apply(e);
            if finished {
                ready = t.elapsed().as_secs_f64();
            }
        })
        .expect("open");
        open = open.min(ready);
        all = all.min(t.elapsed().as_secs_f64());
        index = Some(i);
    }
    let index = index.expect("opened");
    println!(
        "read floor (every file's bytes, one thread): {:.1} MB in {floor:.3} s",
        bytes as f64 / 1e6
    );
    println!(
        "open: list and search index ready (decode and parse every page, this annotator's sidecars, fold {:.1} MB of text): {open:.3} s = {:.2} x the read floor",
        index.search.size() as f64 / 1e6,
        open / floor
    );
    println!(
        "  then colleagues' sidecars read for value completion: done at {all:.3} s = {:.2} x",
        all / floor
    );

    let queries = [
        "\"home office\"",
        "housing",
        "fares freeze",
        "\"Sir Peter Fahy\"",
        "radicalisation prevent",
        "zzzz-not-there",
        "the",
    ];
    println!();
    println!("| query | hits | time (best of 5) |");
    println!("|---|---|---|");
    let mut worst: f64 = 0.0;
    for q in queries {
        let mut best = f64::INFINITY;
        let mut n = 0;
        for _ in 0..5 {
            let t = Instant::now();
            n = index.search.search(q, Scope::Both, 5_000).len();
            best = best.min(t.elapsed().as_secs_f64() * 1000.0);
        }
        worst = worst.max(best);
        println!("| `{q}` | {n} | {best:.2} ms |");
    }
    println!("slowest query: {worst:.2} ms");
    let rss_open = peak_rss_mb();

    // GUI frames.
    let cfg = dir.path().join("cfg");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("settings.ron"),
        "(annotator: Some((id: \"ann\", name: \"Ann\")), recent: [])",
    )
    .unwrap();
    let options = marginalia::ui::AppOptions {
        path: Some(long.clone()),
        settings_path: Some(cfg.join("settings.ron")),
        fallback: None,
    };
    let mut h = egui_kittest::Harness::builder()
        .with_size(egui::vec2(1400.0, 860.0))
        .with_max_steps(100)
        .build_eframe(move |cc| marginalia::ui::MarginaliaApp::new(cc, options));
    for _ in 0..6000 {
        h.step();
        if h.state().loading_progress().is_none() && h.state().document().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(h.state().corpus().unwrap().entries.len(), docs + 1);
    assert_eq!(h.state().document().unwrap().sidecar.spans.len(), spans);
    let mut frames = Vec::new();
    for i in 0..300 {
        // Move the pointer over the text and scroll now and then, so every frame has work to do.
        h.hover_at(egui::pos2(
            700.0 + (i % 50) as f32,
            300.0 + (i % 40) as f32 * 5.0,
        ));
        if i % 10 == 0 {
            h.event(egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Line,
                delta: egui::vec2(0.0, -3.0),
                modifiers: egui::Modifiers::NONE,
                phase: egui::TouchPhase::Move,
                source: egui::MouseWheelSource::Wheel,
            });
        }
        let t = Instant::now();
        h.step();
        frames.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let frames = frames[20..].to_vec();
    let frame_p95 = percentile(frames.clone(), 0.95);

    // Typing in the memo of that document (its sidecar is about 400 kB): every keystroke is an edit
    // that is journalled (on the journal's own thread) and schedules an autosave.
    let sidecar_kb = std::fs::metadata(&h.state().document().unwrap().sidecar_path)
        .map(|m| m.len() as f64 / 1024.0)
        .unwrap_or(0.0);
    // The memo may lie below the codebook, out of the panel's view: focus it by its id.
    let ctx = h.ctx.clone();
    ctx.memory_mut(|m| m.request_focus(marginalia::ui::memo_id()));
    h.step();
    let mut typing = Vec::new();
    for i in 0..200 {
        let c = if i % 7 == 6 {
            ' '
        } else {
            (b'a' + (i % 26) as u8) as char
        };
        h.event(egui::Event::Text(c.to_string()));
        let t = Instant::now();
        h.step();
        typing.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let typed = h.state().document().unwrap().sidecar.memo.chars().count();
    let typing_p95 = percentile(typing.clone(), 0.95);
    println!(
        "typing 200 characters into the memo ({sidecar_kb:.0} kB sidecar, {typed} chars in the memo): median {:.2} ms, p95 {typing_p95:.2} ms, max {:.2} ms",
        percentile(typing.clone(), 0.5),
        percentile(typing, 1.0)
    );
    println!();
    println!(
        "GUI frame ({}-row list, {paragraphs}-paragraph answer, {spans} spans; {} frames): median {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        docs + 1,
        frames.len(),
        percentile(frames.clone(), 0.5),
        frame_p95,
        percentile(frames, 1.0)
    );
    let disk: u64 = walkdir::WalkDir::new(&root)
        .into_iter()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    let rss = peak_rss_mb();
    println!();
    println!(
        "peak memory: {rss_open:.0} MB after opening, {rss:.0} MB with the app open too; corpus on disk {:.0} MB: bound 3 x {:.0} + 100 = {:.0} MB",
        disk as f64 / 1e6 / 1.048576,
        disk as f64 / 1048576.0,
        3.0 * disk as f64 / 1048576.0 + 100.0
    );

    // The bounds: the bench fails when one is not met.
    let bound_mb = 3.0 * disk as f64 / 1048576.0 + 100.0;
    // Issue 13's 100,000 pages add absolute bounds: a researcher waits seconds, not ratios.
    let large = docs >= 100_000;
    if reused.is_some() {
        for p in [long.clone(), sidecar_path(&long, "ann")] {
            std::fs::remove_file(p).unwrap();
        }
    }
    let checks = [
        ("open within 2 x the read floor", open / floor <= 2.0),
        ("open under 3 s (100,000 pages)", !large || open < 3.0),
        ("memory under 2 GB (100,000 pages)", !large || rss < 2048.0),
        ("slowest query under 50 ms", worst < 50.0),
        ("GUI frame p95 under 8 ms", frame_p95 < 8.0),
        ("typing in the memo: frame p95 under 8 ms", typing_p95 < 8.0),
        ("every character typed reached the memo", typed >= 200),
        ("peak memory within the bound", rss <= bound_mb),
    ];
    let failed: Vec<&str> = checks
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(n, _)| *n)
        .collect();
    if !failed.is_empty() {
        eprintln!("bounds not met: {}", failed.join("; "));
        std::process::exit(1);
    }
    println!("all bounds met");
}
