//! Export benchmark: the 10,000-page generated corpus (30% annotated by three annotators) exported to
//! each format, set beside the time to read the corpus's bytes, measured in the same run.
//!
//! `cargo bench --bench export` (set MARGINALIA_BENCH_DOCS to change the size).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "a bench or test crate: an unwrap that fails stops the run and says where; a bench's steps read top to bottom"
)]

use std::path::Path;
use std::time::Instant;

use marginalia::dataset::{Dataset, Selection};
use marginalia::export::{ExportFormat, render, write_output};
use marginalia::generate::{GenerateOptions, generate};

fn read_all_bytes(root: &Path) -> (usize, u64) {
    let mut files = 0;
    let mut bytes = 0;
    for entry in walkdir::WalkDir::new(root).into_iter().flatten() {
        if entry.file_type().is_file() {
            bytes += std::fs::read(entry.path())
                .map(|b| b.len() as u64)
                .unwrap_or(0);
            files += 1;
        }
    }
    (files, bytes)
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let out = f();
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(out);
    }
    (best, last.expect("at least one run"))
}

fn main() {
    let docs: usize = std::env::var("MARGINALIA_BENCH_DOCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let corpus = dir.path().join("corpus");
    let t = Instant::now();
    let g = generate(
        &corpus,
        &GenerateOptions {
            docs,
            annotators: vec!["ann".into(), "ben".into(), "cai".into()],
            coverage: 0.3,
            seed: 1,
        },
    )
    .expect("generate");
    println!(
        "corpus: {} pages, {} sidecars, generated in {:.2} s; {} threads",
        g.pages,
        g.sidecars,
        t.elapsed().as_secs_f64(),
        rayon::current_num_threads()
    );
    let (read_s, (files, bytes)) = best_of(3, || read_all_bytes(&corpus));
    println!(
        "read every file's bytes: {files} files, {:.1} MB: {:.3} s (best of 3)",
        bytes as f64 / 1e6,
        read_s
    );
    let (load_s, dataset) = best_of(3, || {
        Dataset::load(&corpus, &Selection::default(), &|_, _| {}).expect("load")
    });
    println!("parse the corpus (transcripts and sidecars): {load_s:.3} s (best of 3)");
    println!();
    println!("| format | output | render + write | load + render + write | × reading the bytes |");
    println!("|---|---|---|---|---|");
    for format in ExportFormat::ALL {
        let out = dir.path().join(format!("out.{}", format.extension()));
        let (render_s, size) = best_of(3, || {
            let (bytes, _) = render(&dataset, format, true).expect("render");
            write_output(&out, format, &bytes, true).expect("write");
            bytes.len()
        });
        let total = load_s + render_s;
        println!(
            "| {} | {:.1} MB | {:.3} s | {:.3} s | {:.1} |",
            format.name(),
            size as f64 / 1e6,
            render_s,
            total,
            total / read_s
        );
    }
}
