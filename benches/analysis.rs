//! Analysis benchmark: retrievals, cross-tabs and code counts over the generated corpus (three
//! annotators, 30% of pages annotated), at 2,500 and 10,000 pages, beside the time to read every
//! file's bytes and to parse the corpus in the same run.
//!
//! Timed twice: from the corpus already in memory (a `Dataset`, as the app holds it), where each
//! query must finish within 200 ms at 10,000 pages; and the cold command line (a new process that
//! reads the folder, computes and prints), where what the command adds to parsing the corpus must
//! stay within the same 200 ms. Growth from 2,500 to 10,000 pages must stay under 6x (linear is 4x,
//! quadratic 16x). Exits 1 when a bound fails.
//!
//! `cargo bench --no-default-features --bench analysis` (MARGINALIA_BENCH_DOCS changes the larger
//! size).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use marginalia::analysis::crosstab::{Axis, Field, crosstab};
use marginalia::analysis::retrieve::{CodeQuery, retrieve};
use marginalia::analysis::{Scope, codes};
use marginalia::corpus::Filter;
use marginalia::dataset::{Dataset, Selection};
use marginalia::generate::{GenerateOptions, generate};

const BOUND_S: f64 = 0.200;
const GROWTH_BOUND: f64 = 6.0;

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

/// One query over the loaded corpus: its name, and a run returning how many rows or counts it gave.
type Query = (&'static str, Box<dyn Fn(&Dataset) -> u64>);

fn queries() -> Vec<Query> {
    let retrieval = |code: &'static str, scope: Scope| -> Box<dyn Fn(&Dataset) -> u64> {
        Box::new(move |d: &Dataset| {
            let q = CodeQuery::parse(code, d).expect("code");
            retrieve(d, &q, &scope).expect("retrieve").len() as u64
        })
    };
    let table = |rows: Axis, cols: Axis, scope: Scope| -> Box<dyn Fn(&Dataset) -> u64> {
        Box::new(move |d: &Dataset| crosstab(d, &rows, &cols, &scope).expect("crosstab").total)
    };
    let ann = || Scope {
        annotators: Some(vec!["ann".to_string()]),
        ..Scope::default()
    };
    vec![
        (
            "retrieve authority_person (every span of a dimension)",
            retrieval("authority_person", Scope::default()),
        ),
        (
            "retrieve tone_answer=evasive",
            retrieval("tone_answer=evasive", Scope::default()),
        ),
        (
            "retrieve topic=housing, ann, Labour, from 2016",
            retrieval(
                "topic=housing",
                Scope {
                    annotators: Some(vec!["ann".to_string()]),
                    filter: Some(Filter {
                        party: Some("Labour".to_string()),
                        from: chrono::NaiveDate::from_ymd_opt(2016, 1, 1),
                        ..Filter::default()
                    }),
                    ..Scope::default()
                },
            ),
        ),
        (
            "crosstab answered_by x reply (all annotators)",
            table(
                Axis::Field(Field::AnsweredBy),
                Axis::Dimension("reply".into()),
                Scope::default(),
            ),
        ),
        (
            "crosstab organisation x tone_answer (ann)",
            table(
                Axis::Field(Field::Organisation),
                Axis::Dimension("tone_answer".into()),
                ann(),
            ),
        ),
        (
            "crosstab topic x year (several choices)",
            table(
                Axis::Dimension("topic".into()),
                Axis::Field(Field::Year),
                Scope::default(),
            ),
        ),
        (
            "crosstab authority_person x organisation (spans)",
            table(
                Axis::Dimension("authority_person".into()),
                Axis::Field(Field::Organisation),
                Scope::default(),
            ),
        ),
        (
            "crosstab year x status (documents)",
            table(
                Axis::Field(Field::Year),
                Axis::Field(Field::Status),
                Scope::default(),
            ),
        ),
        (
            "code frequencies",
            Box::new(|d: &Dataset| {
                codes::frequencies(d, &Scope::default())
                    .expect("frequencies")
                    .dimensions
                    .len() as u64
            }),
        ),
        (
            "co-occurrence within parts",
            Box::new(|d: &Dataset| {
                codes::cooccurrence(d, &Scope::default(), None)
                    .expect("cooccurrence")
                    .pairs
                    .len() as u64
            }),
        ),
    ]
}

struct Run {
    docs: usize,
    load: f64,
    times: Vec<f64>,
}

fn run_size(docs: usize, cold: bool, failures: &mut Vec<String>) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let g = generate(
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
    let (load, dataset) = best_of(3, || {
        Dataset::load(dir.path(), &Selection::default(), &|_, _| {}).expect("load")
    });
    println!();
    println!(
        "{docs} pages, {} sidecars ({files} files, {:.1} MB): read every file {floor:.3} s, parse the corpus {load:.3} s",
        g.sidecars,
        bytes as f64 / 1e6
    );
    println!("from the corpus in memory (best of 5):");
    let mut times = Vec::new();
    for (name, q) in queries() {
        let (t, n) = best_of(5, || q(&dataset));
        let ok = t <= BOUND_S;
        println!(
            "  {name:<55} {:>8.1} ms  ({n} rows or counts){}",
            t * 1e3,
            if ok { "" } else { "  OVER THE BOUND" }
        );
        if !ok && docs >= 10_000 {
            failures.push(format!("{name}: {:.1} ms at {docs} pages", t * 1e3));
        }
        times.push(t);
    }
    if cold {
        println!("cold command line (a new process; best of 3; output to /dev/null):");
        let d = dir.path().to_str().expect("utf-8 temp path");
        let commands: [(&str, Vec<&str>); 3] = [
            (
                "retrieve --code authority_person --json",
                vec!["retrieve", d, "--code", "authority_person", "--json"],
            ),
            (
                "crosstab --rows answered_by --cols reply --json",
                vec![
                    "crosstab",
                    d,
                    "--rows",
                    "answered_by",
                    "--cols",
                    "reply",
                    "--json",
                ],
            ),
            ("codes --json", vec!["codes", d, "--json"]),
        ];
        for (name, args) in commands {
            let (t, ok) = best_of(3, || {
                Command::new(env!("CARGO_BIN_EXE_marginalia"))
                    .args(&args)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .expect("run marginalia")
                    .success()
            });
            assert!(ok, "{name} failed");
            let added = t - load;
            println!(
                "  {name:<55} {:>8.1} ms = {:.2}x the read floor; {:.1} ms more than parsing the corpus",
                t * 1e3,
                t / floor,
                added * 1e3
            );
            if added > BOUND_S {
                failures.push(format!(
                    "cold {name}: {:.1} ms over parsing the corpus",
                    added * 1e3
                ));
            }
        }
    }
    Run { docs, load, times }
}

fn main() {
    let large: usize = std::env::var("MARGINALIA_BENCH_DOCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let small = (large / 4).max(1);
    let mut failures = Vec::new();
    let a = run_size(small, false, &mut failures);
    let b = run_size(large, true, &mut failures);
    println!();
    println!(
        "growth from {} to {} pages (x{:.1} pages): parse x{:.2}",
        a.docs,
        b.docs,
        b.docs as f64 / a.docs as f64,
        b.load / a.load
    );
    for ((name, _), (ta, tb)) in queries().iter().zip(a.times.iter().zip(&b.times)) {
        let g = tb / ta;
        println!("  {name:<55} x{g:.2}");
        // Sub-millisecond queries are too noisy for a ratio to mean anything.
        if g > GROWTH_BOUND && *tb > 0.005 {
            failures.push(format!("{name}: grew x{g:.2}"));
        }
    }
    if failures.is_empty() {
        println!("all bounds hold");
    } else {
        for f in &failures {
            eprintln!("bound failed: {f}");
        }
        std::process::exit(1);
    }
}
