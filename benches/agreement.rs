//! Agreement benchmark: all statistics and the disagreement list for three annotators on the
//! 10,000-page generated corpus (30% annotated), beside the time to parse the corpus.
//!
//! `cargo bench --bench agreement` (MARGINALIA_BENCH_DOCS changes the size).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "a bench or test crate: an unwrap that fails stops the run and says where; a bench's steps read top to bottom"
)]

use std::time::Instant;

use marginalia::agreement::corpus::compute;
use marginalia::dataset::{Dataset, Selection};
use marginalia::generate::{GenerateOptions, generate};

fn main() {
    let docs: usize = std::env::var("MARGINALIA_BENCH_DOCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let annotators = vec!["ann".to_string(), "ben".to_string(), "cai".to_string()];
    let g = generate(
        dir.path(),
        &GenerateOptions {
            docs,
            annotators: annotators.clone(),
            coverage: 0.3,
            seed: 1,
        },
    )
    .expect("generate");
    let t = Instant::now();
    let dataset = Dataset::load(dir.path(), &Selection::default(), &|_, _| {}).expect("load");
    let load = t.elapsed().as_secs_f64();
    let mut best = f64::INFINITY;
    let mut report = None;
    for _ in 0..3 {
        let t = Instant::now();
        report = Some(compute(&dataset, &annotators));
        best = best.min(t.elapsed().as_secs_f64());
    }
    let r = report.expect("ran");
    let chars: u64 = r
        .dimensions
        .iter()
        .filter(|d| d.scope == "span characters")
        .map(|d| d.units)
        .max()
        .unwrap_or(0);
    println!(
        "corpus: {} pages, {} sidecars; {} documents coded by at least two",
        g.pages, g.sidecars, r.documents
    );
    println!("parse the corpus: {load:.3} s");
    println!(
        "compute every statistic and {} disagreements ({} character units per span dimension): {best:.3} s (best of 3)",
        r.disagreements.len(),
        chars
    );
    let two = compute(&dataset, &annotators[..2]);
    println!(
        "two annotators: overall alpha {:.3}, Cohen's kappa {:.3}",
        two.overall.krippendorff_alpha.unwrap_or(f64::NAN),
        two.overall.cohen_kappa.unwrap_or(f64::NAN)
    );
}
