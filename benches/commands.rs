//! Corpus commands side by side with the read floor, in one run: `validate` and `export` csv, jsonl
//! and qdpx of the generated corpus (10,000 pages, 30% annotated by three annotators), each run as
//! the release binary, must take at most 3x the time to read every file's bytes once on one
//! thread (read beside it: each run follows a pass of that read, and the fastest run is taken to
//! the fastest of its passes). Also: the library's corpus open and a search (issue 5's 100,000 pages with
//! MARGINALIA_BENCH_DOCS=100000), `inspect` of a 60 MB interview of short speaker turns (memory
//! under 5x the file), and the deflate levels a `.qdpx` could use. Exits non-zero when a bound fails.
//!
//! `cargo bench --bench commands`
//!
//! At 100,000 pages: generate the corpus once (`marginalia generate-corpus --docs 100000 DIR`,
//! the same 30%, three-annotator setting) and run
//! `MARGINALIA_BENCH_CORPUS=DIR MARGINALIA_BENCH_RUNS=1 cargo bench --bench commands`: the
//! commands run once each on it, and the deflate levels and the interview (which do not depend
//! on the corpus's size) are left out.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "a bench or test crate: an unwrap that fails stops the run and says where; a bench's steps read top to bottom"
)]

#[path = "common/mod.rs"]
mod common;

use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use common::{best_of, best_of_beside_floor, marginalia, mb, read_floor};
use marginalia::generate::{GenerateOptions, generate};
use rayon::prelude::*;

fn peak_rss() -> u64 {
    common::vm_hwm("self")
}

/// An interview of `bytes` bytes of short speaker turns (the growth bench writes the same).
fn interview(path: &Path, bytes: usize) {
    let questions = [
        "And then?",
        "Who was in the room when the decision was taken?",
        "Did the borough agree?",
        "Why not?",
    ];
    let answers = [
        "Yes.",
        "The leader of the council and two officers from the housing team.",
        "Not at first; they wanted the money up front.",
        "I don't remember.",
        "We met again in March and signed it then.",
    ];
    let mut out = String::from("Interview with a former council officer\n\n");
    let mut i = 0;
    while out.len() < bytes {
        out.push_str("Interviewer: ");
        out.push_str(questions[i % questions.len()]);
        out.push_str("\nRespondent: ");
        out.push_str(answers[(i * 7 + 3) % answers.len()]);
        out.push('\n');
        i += 1;
    }
    std::fs::write(path, out).expect("write interview");
}

fn main() {
    let docs: usize = std::env::var("MARGINALIA_BENCH_DOCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let runs: usize = std::env::var("MARGINALIA_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let given = std::env::var_os("MARGINALIA_BENCH_CORPUS").map(std::path::PathBuf::from);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failed = Vec::new();
    let root = match &given {
        Some(root) => {
            println!(
                "corpus: {} (given); {} threads",
                root.display(),
                rayon::current_num_threads()
            );
            root.clone()
        }
        None => {
            let root = dir.path().join("corpus");
            let t = Instant::now();
            let g = generate(
                &root,
                &GenerateOptions {
                    docs,
                    annotators: vec!["ann".into(), "ben".into(), "cai".into()],
                    coverage: 0.3,
                    seed: 1,
                },
            )
            .expect("generate");
            println!(
                "corpus: {} pages, {} sidecars, generated in {:.1} s; {} threads",
                g.pages,
                g.sidecars,
                t.elapsed().as_secs_f64(),
                rayon::current_num_threads()
            );
            root
        }
    };

    // The read floor first, so that every figure after it meets a warm page cache (a corpus
    // generated earlier, or another bench's, may have been pushed out); then the library's
    // open, while this process has used little memory (the floor keeps no file).
    let (floor, bytes, files) = read_floor(&root, runs.max(2));
    let before = peak_rss();
    let mut open = f64::INFINITY;
    let mut index = None;
    for _ in 0..runs {
        let t = Instant::now();
        index = Some(marginalia::corpus::CorpusIndex::load(&root, "ann").expect("open"));
        open = open.min(t.elapsed().as_secs_f64());
    }
    let index = index.expect("opened");
    let memory = peak_rss();
    println!(
        "read floor: {files} files, {:.1} MB in {floor:.3} s (one thread, best of {})",
        mb(bytes),
        runs.max(2)
    );
    println!(
        "corpus open (list and full-text index, in process): {open:.3} s = {:.2}x the read floor; peak memory {:.0} MB (before opening {:.0} MB)",
        open / floor,
        mb(memory),
        mb(before)
    );
    let mut slowest = (0.0f64, "");
    for q in ["the", "police", "\"home office\"", "housing target"] {
        let t = Instant::now();
        let n = index
            .search
            .search(q, marginalia::search::Scope::Both, 5_000)
            .len();
        let secs = t.elapsed().as_secs_f64();
        if secs > slowest.0 {
            slowest = (secs, q);
        }
        let _ = n;
    }
    println!(
        "slowest of four searches: {:.1} ms ({})",
        slowest.0 * 1e3,
        slowest.1
    );
    drop(index);

    println!();
    // Each command's runs alternate with passes of the read floor, which its ratio is taken to.
    println!(
        "| command | output | time | read floor beside it | × read floor (bound 3) | peak memory |"
    );
    println!("|---|---|---|---|---|---|");
    let mut row =
        |what: &str, cmd: &dyn Fn() -> std::process::Command, out: Option<&Path>, bound: bool| {
            let (r, floor) = best_of_beside_floor(runs, &root, cmd);
            let size = out
                .and_then(|o| std::fs::metadata(o).ok())
                .map_or(String::from("—"), |m| format!("{:.1} MB", mb(m.len())));
            let x = r.secs / floor;
            println!(
                "| {what} | {size} | {:.3} s | {floor:.3} s | {x:.2}{} | {:.0} MB |",
                r.secs,
                if !bound {
                    " (no bound)"
                } else if x <= 3.0 {
                    ""
                } else {
                    " FAIL"
                },
                mb(r.peak)
            );
            if bound && x > 3.0 {
                failed.push(format!("{what}: {x:.2}x the read floor"));
            }
        };
    row(
        "validate",
        &|| {
            let mut c = marginalia();
            c.arg("validate").arg(&root);
            c
        },
        None,
        true,
    );
    for format in ["csv", "jsonl", "qdpx"] {
        let out = dir.path().join(format!("out.{format}"));
        row(
            &format!("export {format}"),
            &|| {
                let mut c = marginalia();
                c.args(["export", "--force", "--format", format, "-o"])
                    .arg(&out)
                    .arg(&root);
                c
            },
            Some(&out),
            true,
        );
    }
    row(
        "agreement DIR",
        &|| {
            let mut c = marginalia();
            c.arg("agreement").arg(&root);
            c
        },
        None,
        true,
    );
    // The command line's search: open, index, query and print every hit with its context (up
    // to the default 10,000); no bound of its own here (the app's search is timed above).
    row(
        "search police (CLI)",
        &|| {
            let mut c = marginalia();
            c.arg("search").arg(&root).arg("police");
            c
        },
        None,
        false,
    );
    if given.is_some() || docs != 10_000 {
        println!();
        println!("deflate levels and the interview left out (not the 10,000-page run)");
        if !failed.is_empty() {
            eprintln!("FAILED: {}", failed.join("; "));
            std::process::exit(1);
        }
        return;
    }

    // Deflate levels for the sources of a .qdpx: all pages compressed on every core at each level,
    // and stored as the export stores them (level 0 here).
    let texts: Vec<String> = walkdir::WalkDir::new(&root)
        .into_iter()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "txt"))
        .filter_map(|e| marginalia::transcript::Transcript::load(e.path()).ok())
        .map(|t| {
            t.parts
                .iter()
                .map(|p| p.text())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    let raw: usize = texts.iter().map(String::len).sum();
    println!();
    println!(
        "deflate level for {} sources ({:.1} MB), on {} threads:",
        texts.len(),
        mb(raw as u64),
        rayon::current_num_threads()
    );
    for level in [0i64, 1, 3, 6, 9] {
        let mut best = f64::INFINITY;
        let mut size = 0;
        for _ in 0..3 {
            let t = Instant::now();
            size = texts
                .par_chunks(256)
                .map(|chunk| {
                    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
                    let o = if level == 0 {
                        zip::write::SimpleFileOptions::default()
                            .compression_method(zip::CompressionMethod::Stored)
                    } else {
                        zip::write::SimpleFileOptions::default()
                            .compression_method(zip::CompressionMethod::Deflated)
                            .compression_level(Some(level))
                    };
                    for (i, text) in chunk.iter().enumerate() {
                        z.start_file(format!("{i}.txt"), o).expect("zip");
                        z.write_all(text.as_bytes()).expect("zip");
                    }
                    z.finish().expect("zip").into_inner().len()
                })
                .sum::<usize>();
            best = best.min(t.elapsed().as_secs_f64());
        }
        let what = if level == 0 {
            "stored".to_string()
        } else {
            format!("level {level}")
        };
        println!("  {what}: {:.1} MB in {best:.3} s", mb(size as u64));
    }

    let file = dir.path().join("interview.txt");
    interview(&file, 60_000_000);
    let size = std::fs::metadata(&file).map_or(0, |m| m.len());
    let r = best_of(3, || {
        let mut c = marginalia();
        c.arg("inspect").arg(&file);
        c
    });
    let x = r.peak as f64 / size as f64;
    println!();
    println!(
        "inspect of a {:.0} MB interview of short speaker turns: {:.2} s, {:.0} MB peak = {x:.1}x the file (bound 5x)",
        mb(size),
        r.secs,
        mb(r.peak)
    );
    if x > 5.0 {
        failed.push(format!("inspect memory {x:.1}x the file"));
    }
    if !failed.is_empty() {
        eprintln!("FAILED: {}", failed.join("; "));
        std::process::exit(1);
    }
}
