//! Nothing lost, round two: the ways a hostile probe found to overwrite, drop or bend a
//! researcher's data, one test each (each failed before its fix).
#![allow(
    clippy::unwrap_used,
    reason = "a test crate: an unwrap that fails is a failing test, and says where"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use marginalia::codebook::Codebook;
use marginalia::document::{Document, Edit, SaveError};
use marginalia::sidecar::{Annotator, Sidecar, Span};
use marginalia::transcript::PartId;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data")
}

fn marginalia(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_marginalia"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A copy of `sample_data/` to harm.
fn corpus_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(sample()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

fn alice() -> Annotator {
    Annotator {
        id: "alice".into(),
        name: "Alice".into(),
    }
}

/// A colleague with no sidecar in the sample yet.
fn dana() -> Annotator {
    Annotator {
        id: "dana".into(),
        name: "Dana".into(),
    }
}

/// Finding 1: `export --force` replaced a transcript with CSV and a sidecar with JSONL, exit 0.
#[test]
fn no_export_replaces_a_file_of_a_corpus_even_with_force() {
    let dir = corpus_copy();
    let d = dir.path().to_str().unwrap();
    let targets = [
        ("prevent.txt", "csv"),
        ("prevent.txt.alice.ron", "jsonl"),
        ("codebook.ron", "qdc"),
        ("new-page.txt", "csv"),
        ("prevent.txt.alice.ron.theirs-20260101T000000.bak", "csv"),
        ("debates2004-01-01.xml", "jsonl"),
    ];
    for (name, format) in targets {
        let out = dir.path().join(name);
        let before = std::fs::read(&out).ok();
        let (code, _, err) = marginalia(&[
            "export",
            d,
            "--format",
            format,
            "-o",
            out.to_str().unwrap(),
            "--force",
        ]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains("an export never writes one"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert_eq!(std::fs::read(&out).ok(), before, "{name} changed");
    }
    // The same check guards the app's export, which goes through the same write.
    let e = marginalia::export::write_output(
        &dir.path().join("prevent.txt"),
        marginalia::export::ExportFormat::Csv,
        b"x",
        true,
    )
    .unwrap_err();
    assert!(e.to_string().contains("transcript"), "{e}");
    // import-codebook may write a codebook, never over a colleague's sidecar or a transcript.
    let qdc = dir.path().join("book.qdc");
    let (code, _, err) = marginalia(&["export", d, "--format", "qdc", "-o", qdc.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for name in ["prevent.txt.bob.ron", "prevent.txt"] {
        let out = dir.path().join(name);
        let before = std::fs::read(&out).unwrap();
        let (code, _, err) = marginalia(&[
            "import-codebook",
            qdc.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--force",
        ]);
        assert_eq!(code, 2, "{err}");
        assert_eq!(std::fs::read(&out).unwrap(), before);
    }
}

/// Finding 2: Two windows of one annotator on one page: check-then-rename was not one step, so both
/// saved "successfully" and one edit vanished. Two writers now race in a loop; every span any
/// of them saw saved is in the final file.
#[test]
fn two_writers_of_one_sidecar_never_lose_a_saved_edit() {
    let dir = corpus_copy();
    let page = dir.path().join("prevent.txt");
    let codebook = Codebook::builtin();
    let rounds = 60;
    let handles: Vec<_> = (0..2)
        .map(|w| {
            let page = page.clone();
            let codebook = codebook.clone();
            std::thread::spawn(move || {
                let mut doc = Document::open(&page, &dana(), &codebook).unwrap();
                let mut saved: Vec<String> = Vec::new();
                let mut conflicts = 0;
                for n in 0..rounds {
                    let text = doc
                        .transcript
                        .part(PartId::ANSWER)
                        .unwrap()
                        .text()
                        .to_string();
                    let id = format!("w{w}-{n}");
                    let span = Span::new(
                        id.clone(),
                        PartId::ANSWER,
                        &text,
                        n,
                        n + 3,
                        "topic",
                        "transport",
                    )
                    .unwrap();
                    doc.apply(Edit::AddSpan(span)).unwrap();
                    loop {
                        match doc.save() {
                            Ok(()) => break,
                            Err(SaveError::ChangedOnDisk { .. }) => {
                                // What the app's Merge does: theirs and ours together.
                                conflicts += 1;
                                match doc.merge_theirs() {
                                    Ok(_) => break,
                                    Err(SaveError::ChangedOnDisk { .. }) => continue,
                                    Err(e) => panic!("{e}"),
                                }
                            }
                            Err(e) => panic!("{e}"),
                        }
                    }
                    saved.push(id);
                    // What the app does on noticing a change on disk with nothing unsaved: it takes
                    // theirs. Had a racing writer replaced our "saved" version, our edit would be
                    // gone from both the file and the window here.
                    if doc.changed_on_disk() {
                        doc.take_theirs(&codebook).unwrap();
                    }
                }
                (saved, conflicts)
            })
        })
        .collect();
    let mut every_saved = std::collections::BTreeSet::new();
    for h in handles {
        let (saved, _) = h.join().unwrap();
        every_saved.extend(saved);
    }
    let on_disk: std::collections::BTreeSet<String> =
        Sidecar::load(&marginalia::sidecar::sidecar_path(&page, "dana"))
            .unwrap()
            .sidecar
            .spans
            .into_iter()
            .map(|s| s.id)
            .collect();
    let lost: Vec<_> = every_saved.difference(&on_disk).collect();
    assert!(lost.is_empty(), "saved, then lost: {lost:?}");
    assert_eq!(on_disk.len(), 2 * rounds);
}

/// Finding 3: A sidecar with a field this version does not know (a newer minor version, a colleague's
/// tool) lost it on every rewrite, and `validate` said nothing.
#[test]
fn unknown_sidecar_fields_survive_rewrites_and_validate_names_them() {
    let dir = corpus_copy();
    let path = dir.path().join("prevent.txt.alice.ron");
    let text = std::fs::read_to_string(&path).unwrap();
    let with_extra = text.replacen(
        "    memo:",
        "    review_round: 3,\n    tool_data: (confidence: 0.8, source: \"other tool\"),\n    memo:",
        1,
    );
    assert_ne!(with_extra, text, "the sample sidecar has a memo field");
    std::fs::write(&path, &with_extra).unwrap();
    let (_, out, _) = marginalia(&["validate", dir.path().to_str().unwrap()]);
    assert!(
        out.contains("review_round") && out.contains("tool_data") && out.contains("kept"),
        "{out}"
    );
    // The app's save path.
    let mut doc = Document::open(
        &dir.path().join("prevent.txt"),
        &alice(),
        &Codebook::builtin(),
    )
    .unwrap();
    doc.apply(Edit::SetMemo("a new memo".into())).unwrap();
    doc.save().unwrap();
    let rewritten = std::fs::read_to_string(&path).unwrap();
    assert!(rewritten.contains("review_round: 3"), "{rewritten}");
    assert!(rewritten.contains("confidence: 0.8"), "{rewritten}");
    assert!(rewritten.contains("a new memo"));
    let again = Sidecar::load(&path).unwrap().sidecar;
    assert_eq!(again.memo, "a new memo");
}

/// Finding 4: `reanchor` rewrote a sidecar the user had made read-only (exit 0); the app would too.
#[cfg(unix)]
#[test]
fn a_read_only_sidecar_is_never_replaced() {
    use std::os::unix::fs::PermissionsExt;
    let dir = corpus_copy();
    let text = std::fs::read_to_string(dir.path().join("prevent.txt")).unwrap();
    std::fs::write(
        dir.path().join("prevent.txt"),
        text.replace(
            "MPS and MOPAC recognise",
            "A new first sentence.\n\nMPS and MOPAC recognise",
        ),
    )
    .unwrap();
    let path = dir.path().join("prevent.txt.alice.ron");
    let before = std::fs::read(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let (code, _, err) = marginalia(&["reanchor", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("prevent.txt.alice.ron is read-only"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // The app shows it read-only and refuses edits, saying why.
    let mut doc = Document::open(
        &dir.path().join("prevent.txt"),
        &alice(),
        &Codebook::builtin(),
    )
    .unwrap();
    assert!(!doc.is_editable());
    assert_eq!(
        doc.read_only_reason(),
        Some("the sidecar file is read-only")
    );
    assert!(doc.apply(Edit::SetMemo("x".into())).is_err());
    // Any writer, through the one write function.
    let e = marginalia::fsutil::atomic_write(&path, b"()").unwrap_err();
    assert!(
        matches!(e, marginalia::fsutil::WriteError::ReadOnly { .. }),
        "{e}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// Finding 7: JSONL exported impossible offsets without the warning CSV and QDPX give, and duplicate ids
/// without a word; CSV cells that a spreadsheet runs as formulas went out unannounced.
#[test]
fn exports_warn_alike_and_xlsx_never_holds_a_formula() {
    let dir = corpus_copy();
    let path = dir.path().join("prevent.txt.alice.ron");
    let mut sidecar = Sidecar::load(&path).unwrap().sidecar;
    let mut twin = sidecar.spans[0].clone();
    twin.note = "=HYPERLINK(\"http://example.invalid\",\"click\")".into();
    sidecar.spans.push(twin);
    sidecar.spans[1].start = usize::MAX;
    sidecar.memo = "@SUM(A1:A2)".into();
    sidecar.save(&path).unwrap();
    let d = dir.path().to_str().unwrap();
    for format in ["jsonl", "csv", "xlsx", "documents-csv"] {
        let out = dir.path().join(format!("out.{format}"));
        let (code, stdout, err) =
            marginalia(&["export", d, "--format", format, "-o", out.to_str().unwrap()]);
        assert_eq!(code, 0, "{format}: {err}");
        assert!(err.contains("is used twice by alice"), "{format}: {err}");
        assert!(
            err.contains(&format!("offsets {}..", usize::MAX)),
            "{format}: {err}"
        );
        assert!(stdout.contains("warnings"), "{stdout}");
        if format == "csv" {
            assert!(err.contains("may run them as formulas"), "{err}");
        }
    }
    // The workbook's cells are strings: no <f> (formula) element anywhere, the text kept.
    let file = std::fs::File::open(dir.path().join("out.xlsx")).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut all = String::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(&mut entry, &mut s).unwrap();
        all.push_str(&s);
    }
    assert!(
        !all.contains("<f>") && !all.contains("<f "),
        "a formula cell"
    );
    assert!(all.contains("HYPERLINK"), "the note's text is kept as text");
}

/// Finding 8: Leftovers and messages.
#[test]
fn leftovers_and_messages() {
    let dir = corpus_copy();
    // A hidden temporary file of a killed export, old enough to be abandoned, is removed by the
    // next export into that folder; a young one (a live export) is left.
    let out_dir = tempfile::tempdir().unwrap();
    let stale = out_dir.path().join(".codings.csv.a1b2c3.tmp");
    let young = out_dir.path().join(".codings.csv.d4e5f6.tmp");
    std::fs::write(&stale, b"half").unwrap();
    std::fs::write(&young, b"half").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let out = out_dir.path().join("other.csv");
    let (code, _, err) = marginalia(&[
        "export",
        dir.path().to_str().unwrap(),
        "--format",
        "csv",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!stale.exists() && young.exists());

    // A sidecar that is a folder is named by validate, not passed over.
    std::fs::create_dir(dir.path().join("night-tube.txt.carol.ron")).unwrap();
    // A symlink looping to the corpus itself is not called "outside the folder".
    #[cfg(unix)]
    std::os::unix::fs::symlink(".", dir.path().join("loop")).unwrap();
    let (_, stdout, _) = marginalia(&["validate", dir.path().to_str().unwrap()]);
    assert!(
        stdout.contains("night-tube.txt.carol.ron") && stdout.contains("is a folder"),
        "{stdout}"
    );
    #[cfg(unix)]
    assert!(
        stdout.contains("loop") && stdout.contains("symlink to a folder inside the corpus"),
        "{stdout}"
    );
    assert!(!stdout.contains("outside the folder"), "{stdout}");

    // A 100,000-char annotator id is not echoed whole.
    let long_id = "a".repeat(100_000);
    let bad = std::fs::read_to_string(dir.path().join("prevent.txt.alice.ron"))
        .unwrap()
        .replacen("id: \"alice\"", &format!("id: \"{long_id}\""), 1);
    let bad_path = dir.path().join("prevent.txt.alice.ron");
    std::fs::write(&bad_path, bad).unwrap();
    let e = Sidecar::load(&bad_path).unwrap_err().to_string();
    assert!(e.len() < 300, "{} chars", e.len());
    assert!(e.contains("100000 chars"), "{e}");

    // Deep nesting is said plainly, without the parser's advice to programmers.
    let deep = format!("(schema: 1, x: {}{})", "[".repeat(200), "]".repeat(200));
    std::fs::write(&bad_path, deep).unwrap();
    let e = Sidecar::load(&bad_path).unwrap_err().to_string();
    assert!(e.contains("nested more than 32 levels"), "{e}");
    assert!(
        !e.contains("serde_stacker") && !e.contains("Options"),
        "{e}"
    );
}

/// Finding 5: One set of limits: a codebook over what the reader takes is refused by the writer.
#[test]
fn nothing_is_written_that_would_not_be_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("codebook.ron");
    let size = marginalia::limits::CODEBOOK_BYTES as usize + 10;
    let e = marginalia::fsutil::atomic_write(&path, &vec![b' '; size]).unwrap_err();
    assert!(e.to_string().contains("over the limit"), "{e}");
    assert!(!path.exists());
}
