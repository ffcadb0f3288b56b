//! Killing the process in the middle of writing, many times, never leaves a partial or empty
//! sidecar or transcript: every write goes through the atomic write (temporary file, fsync, rename).
#![cfg(unix)]

use std::process::{Command, Stdio};
use std::time::Duration;

use marginalia::corpus::scan;
use marginalia::sidecar::Sidecar;
use marginalia::transcript::{Format, Transcript};

#[test]
fn kill_during_writes_leaves_every_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("corpus");
    let mut kills = 0;
    for round in 0..30u64 {
        // Each round rewrites the same files with another seed: old or new, never in between.
        let mut child = Command::new(env!("CARGO_BIN_EXE_marginalia"))
            .args([
                "generate-corpus",
                out.to_str().unwrap(),
                "--docs",
                "300",
                "--annotators",
                "ann,ben",
                "--coverage",
                "0.8",
                "--seed",
            ])
            .arg((round % 3).to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(5 + (round * 37) % 120));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
        let Ok(files) = scan(&out) else { continue };
        for sc in &files.sidecars {
            let loaded = Sidecar::load(&sc.path);
            assert!(loaded.is_ok(), "round {round}: {}", loaded.unwrap_err());
        }
        for t in &files.transcripts {
            let page = Transcript::load(t).unwrap();
            assert_eq!(
                page.format,
                Format::GlaMqt,
                "round {round}: {} is not a whole page",
                t.display()
            );
            assert!(
                !page.question().is_empty(),
                "round {round}: {}",
                t.display()
            );
        }
    }
    assert!(
        kills >= 10,
        "the writer was killed mid-way in {kills} rounds only"
    );
}
