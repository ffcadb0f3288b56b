//! Killing the process in the middle of writing, many times, never leaves a partial or empty
//! sidecar or transcript: every write goes through the atomic write (temporary file, fsync, rename).
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    reason = "a test crate: an unwrap that fails is a failing test, and says where"
)]

use std::process::{Command, Stdio};
use std::time::Duration;

use marginalia::corpus::scan;
use marginalia::sidecar::Sidecar;
use marginalia::transcript::{Format, Transcript};

/// Starts the command, waits `ms` milliseconds and kills it with `SIGKILL` if it is still running;
/// true when it was killed.
fn run_and_kill(command: &mut Command, ms: u64) -> bool {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(ms));
    let killed = child.try_wait().unwrap().is_none();
    if killed {
        child.kill().unwrap(); // SIGKILL
    }
    child.wait().unwrap();
    killed
}

#[test]
fn kill_during_writes_leaves_every_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("corpus");
    let mut kills = 0;
    for round in 0..30u64 {
        // Each round rewrites the same files with another seed: old or new, never in between.
        let mut child = Command::new(env!("CARGO_BIN_EXE_marginalia"));
        child
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
            .arg((round % 3).to_string());
        kills += usize::from(run_and_kill(&mut child, 5 + (round * 37) % 120));
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

/// Spans in the sidecar the app saves.
const SPANS: usize = 200;

/// The app's save path in a child process: `marginalia save-loop` (a hidden subcommand) edits the
/// memo (about 400 kB, so that most of a save's time goes into writing the file), journals and
/// saves the document as the app does on every autosave, again and again, `rounds` times or until
/// killed.
fn save_loop(page: &std::path::Path, rounds: Option<u64>) -> Command {
    let mut child = Command::new(env!("CARGO_BIN_EXE_marginalia"));
    child.arg("save-loop").arg(page).arg("--journal").arg(
        page.parent()
            .expect("the page is in a folder")
            .join("journal"),
    );
    if let Some(n) = rounds {
        child.args(["--rounds", &n.to_string()]);
    }
    child
}

#[test]
fn kill_during_the_apps_saves_leaves_the_sidecar_whole() {
    use marginalia::sidecar::{Annotator, Span, sidecar_path};
    use marginalia::transcript::PartId;
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("prevent.txt");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/sample_data/prevent.txt"),
        &page,
    )
    .unwrap();
    let t = Transcript::load(&page).unwrap();
    let who = Annotator {
        id: "ann".into(),
        name: "Ann".into(),
    };
    let mut s = Sidecar::new(who, &t, &marginalia::codebook::Codebook::builtin());
    let answer = t.answer().to_string();
    let n = answer.chars().count();
    for i in 0..SPANS {
        let start = (i * 7) % (n - 20);
        s.spans.push(
            Span::new(
                format!("ann-{i:04}"),
                PartId::ANSWER,
                &answer,
                start,
                start + 12,
                "authority_other",
                "x",
            )
            .unwrap(),
        );
    }
    let path = sidecar_path(&page, "ann");
    s.save(&path).unwrap();
    // The child does what the loop below assumes: run to the end, it saves every span and the
    // last round's memo, and clears its journal entry.
    let status = save_loop(&page, Some(2)).status().unwrap();
    assert!(status.success(), "{status}");
    let saved = Sidecar::load(&path).unwrap().sidecar;
    assert_eq!(saved.spans.len(), SPANS);
    assert!(
        saved.memo.starts_with("memo 1 xxx") && saved.memo.ends_with(" end"),
        "{}",
        &saved.memo[..20]
    );
    let journal = marginalia::journal::Journal::new(dir.path().join("journal"));
    assert!(journal.pending().is_empty());
    // Back to no memo, so that a memo seen below was saved between kills.
    s.save(&path).unwrap();
    let mut kills = 0;
    let mut memos = std::collections::HashSet::new();
    for round in 0..30u64 {
        let mut child = save_loop(&page, None);
        // Long enough now and then for a save to finish even on a loaded machine.
        kills += usize::from(run_and_kill(&mut child, 80 + (round * 53) % 920));
        // Old or new, never partial: every span there, whichever memo was last saved.
        let loaded = Sidecar::load(&path);
        assert!(loaded.is_ok(), "round {round}: {}", loaded.unwrap_err());
        let loaded = loaded.unwrap().sidecar;
        assert_eq!(loaded.spans.len(), SPANS, "round {round}");
        assert!(
            loaded.memo.is_empty() || loaded.memo.ends_with(" end"),
            "round {round}: a torn memo: {} chars, ends {:?}",
            loaded.memo.len(),
            &loaded.memo[loaded.memo.len().saturating_sub(30)..]
        );
        memos.insert(loaded.memo.split(' ').take(2).collect::<Vec<_>>().join(" "));
        // Nothing else beside it but the journal folder, the folder's write lock and hidden
        // temporary files of killed writes.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "prevent.txt" && n != "prevent.txt.ann.ron" && n != "journal")
            .filter(|n| n != marginalia::fsutil::LOCK_FILE_NAME)
            .filter(|n| !(n.starts_with(".prevent.txt.ann.ron.") && n.ends_with(".tmp")))
            .collect();
        assert!(names.is_empty(), "round {round}: left behind {names:?}");
        // The journal holds whole sidecars too: the next start can read what it offers.
        let journal = marginalia::journal::Journal::new(dir.path().join("journal"));
        for e in journal.pending() {
            assert_eq!(e.sidecar.spans.len(), SPANS, "round {round}");
        }
    }
    assert!(
        kills >= 25,
        "the app was killed mid-way in {kills} rounds only"
    );
    assert!(
        memos.iter().any(|m| m.starts_with("memo ")),
        "no save finished between kills: {memos:?}"
    );
    // Temporary files of killed writes, once old, are removed when the folder is next opened in the
    // app. One is made here too, as a kill lands in the middle of a write only now and then.
    std::fs::write(
        dir.path().join(".prevent.txt.ann.ron.k1LL3d.tmp"),
        "(schema: 1, ann",
    )
    .unwrap();
    let temps = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "tmp"))
            .collect()
    };
    let mut found = marginalia::corpus::scan(dir.path()).unwrap().temps;
    let mut listed = temps();
    found.sort();
    listed.sort();
    assert_eq!(found, listed, "the corpus scan finds them");
    let old =
        std::time::SystemTime::now() - marginalia::fsutil::STALE_TEMP_AGE - Duration::from_secs(60);
    for t in temps() {
        std::fs::File::options()
            .write(true)
            .open(&t)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    marginalia::corpus::load_streaming(dir.path(), "ann", &mut |_| {}).unwrap();
    assert!(temps().is_empty(), "{:?}", temps());
}
