//! Codebook benchmark: what a merge's preview and a split's list read on a generated corpus of
//! 10,000 pages (three annotators, 30% of pages annotated), beside the time to read every file's
//! bytes and to load the corpus as a `Dataset` in the same run; and the codebook history asked
//! for at every document open, parsed (a history of 2,000 changes) and cached.
//!
//! The preview and the list run in a task (the window never waits on them); their bound is that
//! they cost no more than loading the corpus for analysis does. The cached history must come back
//! within 1 ms and at least 20x faster than parsing it. Exits 1 when a bound fails.
//!
//! `cargo bench --bench codebook` (MARGINALIA_BENCH_DOCS changes the size).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "a bench or test crate: an unwrap that fails stops the run and says where; a bench's steps read top to bottom"
)]

use std::path::Path;
use std::time::Instant;

use marginalia::codebook_edit::{
    Change, HISTORY_FILE, HistoryCache, HistoryEntry, codings_of, history, preview,
};
use marginalia::dataset::{Dataset, Selection};
use marginalia::generate::{GenerateOptions, generate};

fn best_of<T>(n: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..n {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (best, out.expect("ran at least once"))
}

fn read_floor(root: &Path) -> (usize, u64) {
    let mut files = 0;
    let mut bytes = 0;
    for entry in walkdir::WalkDir::new(root) {
        let entry = entry.expect("walk");
        if entry.file_type().is_file() {
            bytes += std::fs::read(entry.path()).expect("read").len() as u64;
            files += 1;
        }
    }
    (files, bytes)
}

fn main() {
    let docs: usize = std::env::var("MARGINALIA_BENCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let mut failed = false;
    let dir = tempfile::tempdir().unwrap();
    generate(
        dir.path(),
        &GenerateOptions {
            docs,
            annotators: vec!["ann".into(), "ben".into(), "cai".into()],
            coverage: 0.3,
            seed: 1,
        },
    )
    .expect("generate");
    let (floor, (files, bytes)) = best_of(3, || read_floor(dir.path()));
    let (load, _) = best_of(3, || {
        Dataset::load(dir.path(), &Selection::default(), &|_, _| {}).expect("load")
    });
    let merge = Change::MergeValues {
        dimension: "tone_answer".into(),
        from: "hostile".into(),
        into: "critical".into(),
    };
    let (merge_t, affected) = best_of(3, || preview(dir.path(), &merge).expect("preview"));
    let (list_t, listed) = best_of(3, || {
        codings_of(dir.path(), "tone_answer", "hostile").expect("list")
    });
    println!("{docs} pages: {files} files, {:.1} MB", bytes as f64 / 1e6);
    println!("  read floor (every file's bytes)     {:>8.3} s", floor);
    println!("  Dataset::load (analysis)            {:>8.3} s", load);
    println!(
        "  merge preview (every sidecar)       {:>8.3} s  {} sidecars, {} codings",
        merge_t,
        affected.len(),
        affected.iter().map(|a| a.codings).sum::<usize>()
    );
    println!(
        "  split list (codings, with quotes)   {:>8.3} s  {} codings",
        list_t,
        listed.codings.len()
    );
    for (name, t) in [("merge preview", merge_t), ("split list", list_t)] {
        if t > load {
            println!("FAIL: {name} {t:.3} s is slower than loading the corpus ({load:.3} s)");
            failed = true;
        }
    }
    // The history, 2,000 changes long (relabels back and forth), asked for at every open.
    let small = tempfile::tempdir().unwrap();
    let entries: Vec<HistoryEntry> = (0..2_000)
        .map(|i| HistoryEntry {
            when: "2026-11-30T08:00:00+00:00".into(),
            who: "ann".into(),
            change: Change::Relabel {
                dimension: "tone_answer".into(),
                value: Some("evasive".into()),
                label: format!("Evasive {i}"),
            },
            summary: format!("renamed Tone of answer value evasive to \"Evasive {i}\""),
        })
        .collect();
    let path = small.path().join(HISTORY_FILE);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text = ron::ser::to_string_pretty(&entries, ron::ser::PrettyConfig::default()).unwrap();
    std::fs::write(&path, &text).unwrap();
    let made = text.len() as f64 / 1e6;
    let (parse, h) = best_of(5, || history(small.path()).expect("history"));
    let mut cache = HistoryCache::default();
    cache.get(small.path()).expect("first read");
    let (cached, again) = best_of(5, || cache.get(small.path()).expect("cached"));
    assert_eq!(h.len(), again.len());
    println!(
        "history of {} changes ({made:.1} MB): parsed {:.3} ms, cached {:.4} ms ({:.0}x)",
        h.len(),
        parse * 1e3,
        cached * 1e3,
        parse / cached
    );
    if cached > 0.001 || parse / cached < 20.0 {
        println!("FAIL: the cached history is not within 1 ms and 20x faster than parsing");
        failed = true;
    }
    if failed {
        std::process::exit(1);
    }
}
