//! Analysis benchmark: retrievals, cross-tabs and code counts over the generated corpus (three
//! annotators, 30% of pages annotated), at 2,500 and 10,000 pages, beside the time to read every
//! file's bytes and to parse the corpus in the same run.
//!
//! Timed twice: from the corpus already in memory (a `Dataset`, as the app holds it), where each
//! query must finish within 200 ms at 10,000 pages; and the cold command line (a new process that
//! reads the folder, computes and prints), where the CPU time the command adds to a peer process
//! reading the same corpus (`export --format qdc`) must stay within the same 200 ms. Growth from
//! 2,500 to 10,000 pages, in CPU time of the thread (the wall clock of a shared machine counts other
//! processes' turns, more of them in a longer run), must stay under 8x (linear is 4x, quadratic
//! 16x). Exits 1 when a bound fails.
//!
//! `cargo bench --no-default-features --bench analysis` (MARGINALIA_BENCH_DOCS changes the larger
//! size).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "a bench or test crate: an unwrap that fails stops the run and says where; a bench's steps read top to bottom"
)]

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
const GROWTH_BOUND: f64 = 8.0;

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

/// A generated corpus on disk, read into memory.
struct Corpus {
    dir: tempfile::TempDir,
    docs: usize,
    dataset: Dataset,
    floor: f64,
    load: f64,
}

fn corpus(docs: usize) -> Corpus {
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
    println!(
        "{docs} pages, {} sidecars ({files} files, {:.1} MB): read every file {:.1} ms, parse the corpus {:.1} ms",
        g.sidecars,
        bytes as f64 / 1e6,
        floor * 1e3,
        load * 1e3
    );
    Corpus {
        dir,
        docs,
        dataset,
        floor,
        load,
    }
}

/// Best time of one command in a new process, its output thrown away.
fn cold(args: &[&str]) -> f64 {
    let t = Instant::now();
    let ok = Command::new(env!("CARGO_BIN_EXE_marginalia"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run marginalia")
        .success();
    assert!(ok, "marginalia {args:?} failed");
    t.elapsed().as_secs_f64()
}

const ROUNDS: usize = 7;

/// CPU time of this thread, in seconds: unlike the wall clock, it does not count the time other
/// processes on a shared machine hold the core, so the two sizes compare fairly.
fn thread_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// User and system CPU time of the finished child processes so far, in seconds.
fn children_cpu() -> f64 {
    // SAFETY: getrusage fills one rusage struct through a valid pointer.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut r) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    tv(r.ru_utime) + tv(r.ru_stime)
}

/// Wall and CPU time of one run of a query.
fn timed(q: &dyn Fn(&Dataset) -> u64, d: &Dataset) -> (f64, f64, u64) {
    let (t, c) = (Instant::now(), thread_cpu());
    let n = std::hint::black_box(q(d));
    (t.elapsed().as_secs_f64(), thread_cpu() - c, n)
}

fn main() {
    let large: usize = std::env::var("MARGINALIA_BENCH_DOCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let small_docs = (large / 4).max(1);
    let mut failures = Vec::new();
    let small = corpus(small_docs);
    let big = corpus(large);
    println!();
    println!(
        "from the corpus in memory, best of {ROUNDS} (the two sizes in turn); wall clock, then CPU time of the thread:"
    );
    println!(
        "  {:<55} {:>19} {:>19} {:>7}",
        "",
        format!("{} pages", small.docs),
        format!("{} pages", big.docs),
        "growth"
    );
    for (name, q) in queries() {
        let (mut ws, mut cs, mut wb, mut cb) =
            (f64::INFINITY, f64::INFINITY, f64::INFINITY, f64::INFINITY);
        let mut rows = 0;
        for _ in 0..ROUNDS {
            let (w, c, _) = timed(&*q, &small.dataset);
            (ws, cs) = (ws.min(w), cs.min(c));
            let (w, c, n) = timed(&*q, &big.dataset);
            (wb, cb, rows) = (wb.min(w), cb.min(c), n);
        }
        let growth = cb / cs;
        let over = wb > BOUND_S;
        println!(
            "  {name:<55} {:>7.1} / {:>5.1} ms {:>7.1} / {:>5.1} ms {:>6.2}x  ({rows} rows or counts){}",
            ws * 1e3,
            cs * 1e3,
            wb * 1e3,
            cb * 1e3,
            growth,
            if over { "  OVER THE BOUND" } else { "" }
        );
        if over {
            failures.push(format!("{name}: {:.1} ms at {} pages", wb * 1e3, big.docs));
        }
        // Sub-millisecond figures are too coarse for a ratio to mean anything.
        if growth > GROWTH_BOUND && cb > 0.001 {
            failures.push(format!("{name}: grew {growth:.2}x"));
        }
    }
    // The cold command line against a peer that reads the same corpus the same way in a new process
    // and writes almost nothing: exporting the codebook (`export --format qdc`).
    let out = tempfile::tempdir().expect("temp dir");
    let peer_out = out.path().join("peer.qdc");
    let d = big.dir.path().to_str().expect("utf-8 temp path");
    let peer = [
        "export",
        d,
        "--format",
        "qdc",
        "-o",
        peer_out.to_str().expect("utf-8 temp path"),
        "--force",
    ];
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
    println!();
    println!(
        "cold command line at {} pages: a new process reads the folder, computes and prints (to /dev/null); best of 5 (wall clock, and CPU time of the process), in turn with the peer, `export --format qdc`, which reads the same corpus and writes a few kB:",
        big.docs
    );
    for (name, args) in commands {
        let (mut tc, mut tp) = (f64::INFINITY, f64::INFINITY);
        let (mut cc, mut cp) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..5 {
            let c = children_cpu();
            tp = tp.min(cold(&peer));
            cp = cp.min(children_cpu() - c);
            let c = children_cpu();
            tc = tc.min(cold(&args));
            cc = cc.min(children_cpu() - c);
        }
        let added = cc - cp;
        println!(
            "  {name:<50} {:>7.1} ms = {:.1}x the read floor, CPU {:>7.1} ms (peer {:.1} ms, CPU {:.1} ms): CPU {:+.1} ms over the peer{}",
            tc * 1e3,
            tc / big.floor,
            cc * 1e3,
            tp * 1e3,
            cp * 1e3,
            added * 1e3,
            if added > BOUND_S {
                "  OVER THE BOUND"
            } else {
                ""
            }
        );
        if added > BOUND_S {
            failures.push(format!(
                "cold {name}: {:.1} ms of CPU over reading the corpus in a new process",
                added * 1e3
            ));
        }
    }
    println!();
    println!(
        "parse grew {:.2}x from {} to {} pages",
        big.load / small.load,
        small.docs,
        big.docs
    );
    if failures.is_empty() {
        println!("all bounds hold");
    } else {
        for f in &failures {
            eprintln!("bound failed: {f}");
        }
        std::process::exit(1);
    }
}
