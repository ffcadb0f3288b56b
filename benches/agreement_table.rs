//! `agreement --table` side by side with the peer a researcher would use instead: the Python
//! `krippendorff` package (0.9, numpy), installed by this bench into a virtual environment under
//! `target/`. Both run on the same CSV (100,000 units × 3 coders, 10% missing) in one run; alpha must
//! agree to 6 decimals at every level, and ours must be at least 10x faster (wall time of each whole
//! process: reading the CSV and computing). Then 1,000,000 units × 5 coders must take under 3 s and
//! 1 GB. Exits non-zero when a bound fails.
//!
//! `cargo bench --bench agreement_table` (needs `python3` with `venv` and network access for pip
//! the first time).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "a bench or test crate: an unwrap that fails stops the run and says where; a bench's steps read top to bottom"
)]

#[path = "common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{best_of, marginalia, mb, run};

/// Reliability data: each unit has a true value 1-5; a coder gives it (70%), a neighbour (20%) or
/// any value (10%), or nothing (`missing` percent).
fn write_table(path: &Path, units: usize, coders: usize, missing: u64, seed: u64) {
    let mut s = seed;
    let mut next = move |n: u64| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s % n
    };
    let mut out = String::with_capacity(units * coders * 16);
    out.push_str("unit,coder,value\n");
    for u in 0..units {
        let truth = 1 + next(5);
        for c in 0..coders {
            let v = match next(100) {
                x if x < missing => None,
                x if x < missing + 70 => Some(truth),
                x if x < missing + 90 => Some((truth % 5) + 1),
                _ => Some(1 + next(5)),
            };
            writeln!(
                out,
                "u{u},coder{c},{}",
                v.map_or(String::new(), |v| v.to_string())
            )
            .expect("writing into a String cannot fail");
        }
    }
    std::fs::write(path, out).expect("write table");
}

const PYTHON: &str = r#"
import csv, json, sys, time
import numpy as np
import krippendorff
t0 = time.perf_counter()
units, coders, cells = {}, {}, []
with open(sys.argv[1], newline="") as f:
    for row in csv.DictReader(f):
        u = units.setdefault(row["unit"], len(units))
        c = coders.setdefault(row["coder"], len(coders))
        v = row["value"].strip()
        if v:
            cells.append((c, u, float(v)))
data = np.full((len(coders), len(units)), np.nan)
for c, u, v in cells:
    data[c, u] = v
t1 = time.perf_counter()
alphas = {}
for level in sys.argv[2:]:
    alphas[level] = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
t2 = time.perf_counter()
print(json.dumps({"alpha": alphas, "read": t1 - t0, "alpha_secs": t2 - t1,
                  "version": getattr(krippendorff, "__version__", "")}))
"#;

/// A virtual environment with `krippendorff` 0.9 and numpy, made once under `target/`.
fn python() -> (PathBuf, String) {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-venv");
    let py = venv.join("bin/python");
    if !py.exists() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "python3 -m venv failed");
    }
    let have = |py: &Path| {
        Command::new(py)
            .args(["-c", "import krippendorff, numpy"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !have(&py) {
        let pip = venv.join("bin/pip");
        let pinned = Command::new(&pip)
            .args(["install", "-q", "krippendorff==0.9.0", "numpy"])
            .status()
            .is_ok_and(|s| s.success());
        if !pinned {
            eprintln!("krippendorff 0.9.0 not available; installing the newest");
            let ok = Command::new(&pip)
                .args(["install", "-q", "krippendorff", "numpy"])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "pip install krippendorff numpy failed");
        }
    }
    let version = Command::new(venv.join("bin/pip"))
        .args(["show", "krippendorff"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Version: ").map(str::to_string))
        .unwrap_or_default();
    (py, version)
}

fn our_alpha(table: &Path, level: &str) -> (f64, common::Run) {
    let r = run(marginalia()
        .args(["agreement", "--json", "--level", level, "--table"])
        .arg(table));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    (v["krippendorff_alpha"].as_f64().expect("alpha"), r)
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failed = Vec::new();
    let (py, version) = python();
    let script = dir.path().join("peer.py");
    std::fs::write(&script, PYTHON).expect("script");

    let table = dir.path().join("100k.csv");
    write_table(&table, 100_000, 3, 10, 1);
    let size = std::fs::metadata(&table).map_or(0, |m| m.len());
    println!(
        "table: 100,000 units × 3 coders, 10% missing ({:.1} MB); krippendorff {version}",
        mb(size)
    );
    // Same results at every level.
    let levels = ["nominal", "ordinal", "interval", "ratio"];
    let peer = run(Command::new(&py).arg(&script).arg(&table).args(levels));
    let pv: serde_json::Value = serde_json::from_str(peer.stdout.trim()).expect("python json");
    for level in levels {
        let theirs = pv["alpha"][level].as_f64().expect("python alpha");
        let (ours, _) = our_alpha(&table, level);
        let agree = (ours - theirs).abs() < 5e-7;
        println!(
            "  alpha {level:<8} ours {ours:.9}  krippendorff {theirs:.9}  {}",
            if agree {
                "agree to 6 decimals"
            } else {
                "DIFFER"
            }
        );
        if !agree {
            failed.push(format!("{level} alpha differs"));
        }
    }
    // Speed: each whole process, nominal, best of 3.
    let ours = best_of(3, || {
        let mut c = marginalia();
        c.args(["agreement", "--json", "--level", "nominal", "--table"])
            .arg(&table);
        c
    });
    let theirs = best_of(3, || {
        let mut c = Command::new(&py);
        c.arg(&script).arg(&table).arg("nominal");
        c
    });
    let tv: serde_json::Value = serde_json::from_str(theirs.stdout.trim()).expect("python json");
    let ratio = theirs.secs / ours.secs;
    println!(
        "  ours {:.3} s ({:.0} MB peak); krippendorff {:.3} s (of which reading the CSV {:.3} s, alpha {:.3} s; {:.0} MB peak): {ratio:.1}x faster (bound: 10x)",
        ours.secs,
        mb(ours.peak),
        theirs.secs,
        tv["read"].as_f64().unwrap_or(f64::NAN),
        tv["alpha_secs"].as_f64().unwrap_or(f64::NAN),
        mb(theirs.peak)
    );
    if ratio < 10.0 {
        failed.push(format!("only {ratio:.1}x faster than krippendorff"));
    }

    let big = dir.path().join("1m.csv");
    write_table(&big, 1_000_000, 5, 10, 2);
    let size = std::fs::metadata(&big).map_or(0, |m| m.len());
    let r = best_of(3, || {
        let mut c = marginalia();
        c.args(["agreement", "--json", "--level", "nominal", "--table"])
            .arg(&big);
        c
    });
    println!(
        "1,000,000 units × 5 coders ({:.0} MB): {:.3} s, {:.0} MB peak (bounds: 3 s, 1 GB)",
        mb(size),
        r.secs,
        mb(r.peak)
    );
    if r.secs > 3.0 || r.peak > 1_000_000_000 {
        failed.push("1,000,000 × 5 over 3 s or 1 GB".to_string());
    }
    if !failed.is_empty() {
        eprintln!("FAILED: {}", failed.join("; "));
        std::process::exit(1);
    }
}
