//! Hostile and broken input: each gets a one-line error naming the file, nothing is overwritten,
//! nothing hangs.

use std::path::Path;

use marginalia::corpus::{scan, validate};
use marginalia::sidecar::Sidecar;
use marginalia::transcript::Transcript;

#[test]
fn enormous_files_are_refused_without_reading_them() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.txt");
    // Sparse: takes no disk.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(65 * 1024 * 1024)
        .unwrap();
    let e = Transcript::load(&big).unwrap_err().to_string();
    assert!(
        e.contains("over the limit") && e.ends_with("big.txt"),
        "{e}"
    );
    let side = dir.path().join("big.txt.alice.ron");
    std::fs::File::create(&side)
        .unwrap()
        .set_len(40 * 1024 * 1024)
        .unwrap();
    let e = Sidecar::load(&side).unwrap_err().to_string();
    assert!(
        e.contains("over the limit") && e.ends_with("big.txt.alice.ron"),
        "{e}"
    );
    assert!(!e.contains('\n'));
}

#[cfg(unix)]
#[test]
fn a_fifo_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.txt");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        panic!("mkfifo is needed for this test");
    }
    // Would block forever if opened for reading.
    let e = Transcript::load(&fifo).unwrap_err().to_string();
    assert!(e.contains("not a regular file"), "{e}");
    let report = validate(dir.path()).unwrap();
    assert_eq!(report.transcripts, 0);
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_corpus_are_left_out() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.txt");
    std::fs::write(&secret, "not part of the corpus").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&secret, dir.path().join("link.txt")).unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("missing.txt"),
        dir.path().join("broken.txt"),
    )
    .unwrap();
    std::fs::write(dir.path().join("inside.txt"), "a page").unwrap();
    std::os::unix::fs::symlink(dir.path().join("inside.txt"), dir.path().join("alias.txt"))
        .unwrap();
    let files = scan(dir.path()).unwrap();
    let names: Vec<String> = files
        .transcripts
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["alias.txt", "inside.txt"]);
    let reasons: Vec<&str> = files.skipped.iter().map(|(_, r)| r.as_str()).collect();
    assert!(
        reasons.contains(&"symlink leads outside the folder"),
        "{reasons:?}"
    );
    assert!(reasons.contains(&"broken symlink"), "{reasons:?}");
}

#[test]
fn a_sidecar_from_a_newer_version_is_never_overwritten_by_the_app_model() {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    std::fs::copy(src.join("prevent.txt"), dir.path().join("prevent.txt")).unwrap();
    let newer = std::fs::read_to_string(src.join("prevent.txt.alice.ron"))
        .unwrap()
        .replacen("schema: 1,", "schema: 2,", 1);
    std::fs::write(dir.path().join("prevent.txt.alice.ron"), &newer).unwrap();
    let alice = marginalia::sidecar::Annotator {
        id: "alice".into(),
        name: "Alice".into(),
    };
    let mut doc = marginalia::document::Document::open(
        &dir.path().join("prevent.txt"),
        &alice,
        &marginalia::codebook::Codebook::builtin(),
    )
    .unwrap();
    assert!(doc.load_error.as_deref().unwrap_or("").contains("schema 2"));
    assert!(
        doc.apply(marginalia::document::Edit::SetMemo("x".into()))
            .is_err()
    );
    doc.save().unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("prevent.txt.alice.ron")).unwrap(),
        newer
    );
}

#[test]
fn temporary_files_of_killed_writes_are_reported_not_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/sample_data/prevent.txt"),
        dir.path().join("prevent.txt"),
    )
    .unwrap();
    let sub = dir.path().join("2015");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(
        dir.path().join(".prevent.txt.alice.ron.a1B2c3.tmp"),
        "(schema: 1,",
    )
    .unwrap();
    std::fs::write(sub.join(".p.txt.bob.ron.x9Y8z7.tmp"), "(sch").unwrap();
    // Someone's own hidden file is not ours to report.
    std::fs::write(dir.path().join(".notes.tmp"), "mine").unwrap();
    let files = scan(dir.path()).unwrap();
    assert!(files.sidecars.is_empty());
    assert_eq!(files.temps.len(), 2, "{:?}", files.temps);
    let report = validate(dir.path()).unwrap();
    let temps: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.message.contains("left by a write that was interrupted"))
        .map(|f| f.to_string())
        .collect();
    assert_eq!(temps.len(), 2, "{:?}", report.findings);
    assert_eq!(report.errors(), 0);
}
