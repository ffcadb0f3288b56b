//! Shared by the benches that run the command-line tool as a child process: wall time, peak memory
//! (the child's own maximum resident set, from `wait4`) and its output.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// What one run of a child process took.
pub struct Run {
    /// Wall-clock seconds from spawn to exit.
    pub secs: f64,
    /// Peak resident memory of the child in bytes.
    pub peak: u64,
    /// Its standard output.
    pub stdout: String,
}

/// The release binary cargo built for this bench.
pub fn marginalia() -> Command {
    Command::new(env!("CARGO_BIN_EXE_marginalia"))
}

/// Runs `cmd` to the end; panics with its standard error when it fails.
// The child is reaped by `wait4`, which also gives its peak memory.
#[allow(clippy::zombie_processes)]
pub fn run(cmd: &mut Command) -> Run {
    let out_file = tempfile::NamedTempFile::new().expect("temp file");
    let err_file = tempfile::NamedTempFile::new().expect("temp file");
    let started = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out_file.reopen().expect("reopen"))
        .stderr(err_file.reopen().expect("reopen"))
        .spawn()
        .expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data, filled by the kernel; the child is ours and not waited yet.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let got = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(got, pid, "wait4");
    let stdout = std::fs::read_to_string(out_file.path()).unwrap_or_default();
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let stderr = std::fs::read_to_string(err_file.path()).unwrap_or_default();
        panic!("{cmd:?} failed ({status}): {stderr}");
    }
    Run {
        secs,
        peak: usage.ru_maxrss as u64 * 1024,
        stdout,
    }
}

/// The fastest of `n` runs (peak memory the largest seen).
pub fn best_of(n: usize, mut cmd: impl FnMut() -> Command) -> Run {
    let mut best: Option<Run> = None;
    let mut peak = 0;
    for _ in 0..n {
        let r = run(&mut cmd());
        peak = peak.max(r.peak);
        if best.as_ref().is_none_or(|b| r.secs < b.secs) {
            best = Some(r);
        }
    }
    let mut b = best.expect("at least one run");
    b.peak = peak;
    b
}

/// Reads every file under `dir` once (the read floor a command is compared with), best of `n`.
pub fn read_floor(dir: &Path, n: usize) -> (f64, u64, usize) {
    let mut best = f64::INFINITY;
    let (mut bytes, mut files) = (0u64, 0usize);
    for _ in 0..n {
        let t = Instant::now();
        bytes = 0;
        files = 0;
        for e in walkdir::WalkDir::new(dir).into_iter().flatten() {
            if e.file_type().is_file() {
                bytes += std::fs::read(e.path()).map_or(0, |b| b.len() as u64);
                files += 1;
            }
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    (best, bytes, files)
}

/// Growth exponent between two sizes: how the cost scales with the input (1 = linear).
pub fn exponent(size_a: f64, secs_a: f64, size_b: f64, secs_b: f64) -> f64 {
    (secs_b / secs_a).ln() / (size_b / size_a).ln()
}

/// Megabytes, for printing.
pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}
