//! Shared by the benches that run the command-line tool as a child process: wall time, peak memory
//! (the child's own high-water resident set, read as it exits) and its output.

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
///
/// Its peak memory is read from `/proc/<pid>/status` (`VmHWM`) when it is about to exit, stopped
/// there by `ptrace`: the `ru_maxrss` that `wait4` gives keeps the largest resident set of the
/// process before its `exec`, which for a child spawned from this bench is the bench's own
/// (a corpus index, a 60 MB text), not the command's.
// The child is reaped by `waitpid` below.
#[allow(clippy::zombie_processes)]
pub fn run(cmd: &mut Command) -> Run {
    use std::os::unix::process::CommandExt as _;
    let out_file = tempfile::NamedTempFile::new().expect("temp file");
    let err_file = tempfile::NamedTempFile::new().expect("temp file");
    // SAFETY: only async-signal-safe calls between fork and exec: ptrace(2).
    unsafe {
        cmd.pre_exec(|| {
            if libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let started = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out_file.reopen().expect("reopen"))
        .stderr(err_file.reopen().expect("reopen"))
        .spawn()
        .expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut peak = 0;
    let mut traced = false;
    loop {
        // SAFETY: the child is ours; waitpid and ptrace take plain integers.
        let got = unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(got, pid, "waitpid");
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            break;
        }
        let mut signal = 0;
        if libc::WIFSTOPPED(status) {
            let stop = libc::WSTOPSIG(status);
            if !traced && stop == libc::SIGTRAP {
                // Stopped at its exec: stop it again when it exits.
                traced = true;
                // SAFETY: the child is ours and stopped; the options are plain flags.
                unsafe {
                    libc::ptrace(
                        libc::PTRACE_SETOPTIONS,
                        pid,
                        0,
                        libc::PTRACE_O_TRACEEXIT as libc::c_long,
                    );
                }
            } else if stop == libc::SIGTRAP && status >> 16 == libc::PTRACE_EVENT_EXIT {
                peak = peak.max(vm_hwm(&pid.to_string()));
            } else {
                signal = stop;
            }
        }
        // SAFETY: the child is ours and stopped; a signal it stopped on is handed back to it.
        unsafe {
            libc::ptrace(libc::PTRACE_CONT, pid, 0, signal as libc::c_long);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let stdout = std::fs::read_to_string(out_file.path()).unwrap_or_default();
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let stderr = std::fs::read_to_string(err_file.path()).unwrap_or_default();
        panic!("{cmd:?} failed ({status}): {stderr}");
    }
    Run { secs, peak, stdout }
}

/// The peak resident memory in bytes (`VmHWM`) of a live process, by pid or `self`; 0 when it
/// cannot be read.
pub fn vm_hwm(process: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{process}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The fastest of `n` runs (peak memory the largest seen).
pub fn best_of(n: usize, cmd: impl FnMut() -> Command) -> Run {
    best_after_each(n, cmd, || {})
}

/// The fastest of `n` runs of `cmd`, `before` called before each (peak memory the largest seen).
fn best_after_each(n: usize, mut cmd: impl FnMut() -> Command, mut before: impl FnMut()) -> Run {
    let mut best: Option<Run> = None;
    let mut peak = 0;
    for _ in 0..n {
        before();
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

/// The fastest of `n` runs of `cmd`, each right after a read floor of `dir` (one pass), and the
/// fastest of those floors: a command and its floor meet the same machine. The host's speed
/// drifts by a fifth from one minute to the next, and a floor read once, before every command,
/// moved the later ratios with it.
#[allow(
    dead_code,
    reason = "not every bench that includes this module runs commands"
)]
pub fn best_of_beside_floor(n: usize, dir: &Path, cmd: impl FnMut() -> Command) -> (Run, f64) {
    let mut floor = f64::INFINITY;
    let best = best_after_each(n, cmd, || floor = floor.min(read_floor(dir, 1).0));
    (best, floor)
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
