//! The command line as scripts use it: exit statuses, one-line errors, JSON fields.
#![allow(
    clippy::unwrap_used,
    reason = "a test crate: an unwrap that fails is a failing test, and says where"
)]

use std::path::Path;
use std::process::Command;

fn marginalia(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_marginalia"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn inspect_json_of_the_seed_page() {
    let (code, out, err) = marginalia(&["inspect", "sample_data/prevent.txt", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["format"], "gla-mqt");
    assert_eq!(v["title"], "Prevent strategy");
    assert_eq!(v["meeting"], "MQT");
    assert_eq!(v["meeting_date"], "2015-03-25");
    assert_eq!(v["session_date"], "2015-03-25");
    assert_eq!(v["reference"], serde_json::Value::Null);
    assert_eq!(v["question_by"], "Roger Evans");
    assert_eq!(v["organisation"], "GLA Conservatives");
    assert_eq!(v["asked_of"], "The Mayor");
    assert_eq!(v["answered_by"], "The Mayor");
    assert_eq!(v["supplementary"], false);
    assert_eq!(v["status"], "answered");
    assert_eq!(v["encoding"], "UTF-8");
    assert_eq!(v["answer"].as_str().unwrap().split("\n\n").count(), 5);
    assert!(
        v["question"]
            .as_str()
            .unwrap()
            .starts_with("Former Metropolitan Police")
    );
    assert_eq!(v["warnings"], serde_json::json!([]));
}

#[test]
fn inspect_speaker_turns_lists_exchanges() {
    let (code, out, _) = marginalia(&[
        "inspect",
        "sample_data/interview-transport-planner.txt",
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["format"], "speaker-turns");
    assert_eq!(v["container"], "txt");
    assert_eq!(v["title"], "");
    assert_eq!(v["meeting"], serde_json::Value::Null);
    assert_eq!(v["exchanges"].as_array().unwrap().len(), 3);
    assert_eq!(v["question"], v["exchanges"][0]["question"]);
}

#[test]
fn inspect_readable_and_errors() {
    let (code, out, _) = marginalia(&["inspect", "sample_data/crossrail-delay.txt"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("asked of:      Sir Terry Morgan (Chair, Crossrail Ltd) and Mike Brown"),
        "{out}"
    );
    let (code, out, err) = marginalia(&["inspect", "tests/fixtures/png-renamed.txt", "--json"]);
    assert_ne!(code, 0);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("not a text file") && err.contains("png-renamed.txt"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
    let (code, _, err) = marginalia(&["inspect", "no/such/file.txt"]);
    assert_ne!(code, 0);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no/such/file.txt"), "{err}");
}

#[test]
fn validate_sample_data_passes() {
    let (code, out, err) = marginalia(&["validate", "sample_data"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("15 transcripts, 15 sidecars: 0 errors, 0 warnings"),
        "{out}"
    );
}

#[test]
fn validate_reports_each_problem_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    for f in [
        "prevent.txt",
        "prevent.txt.alice.ron",
        "prevent.txt.bob.ron",
    ] {
        std::fs::copy(root.join(f), dir.path().join(f)).unwrap();
    }
    std::fs::write(
        dir.path().join("prevent.txt.carol.ron"),
        "(schema: 1, truncated",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("gone.txt.alice.ron"),
        std::fs::read(root.join("prevent.txt.alice.ron")).unwrap(),
    )
    .unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/png-renamed.txt"),
        dir.path().join("image.txt"),
    )
    .unwrap();
    std::fs::write(dir.path().join("codebook.ron"), "(schema: 1, id: \"x\", name: \"x\", dimensions: [(id: \"a\", label: \"A\", applies_to: Span, kind: Entity)])").unwrap();
    let (code, out, _) = marginalia(&["validate", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("error:")).collect();
    assert!(
        errors
            .iter()
            .any(|l| l.contains("color") && l.ends_with("codebook.ron")),
        "{out}"
    );
    assert!(
        errors
            .iter()
            .any(|l| l.contains("not a valid sidecar") && l.ends_with("prevent.txt.carol.ron")),
        "{out}"
    );
    assert!(
        errors
            .iter()
            .any(|l| l.contains("transcript gone.txt is missing")
                && l.ends_with("gone.txt.alice.ron")),
        "{out}"
    );
    assert!(
        errors
            .iter()
            .any(|l| l.contains("not a text file") && l.ends_with("image.txt")),
        "{out}"
    );
    let (code, _, err) = marginalia(&["validate", "no/such/dir"]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[cfg(all(feature = "gui", target_os = "linux"))]
#[test]
fn without_a_display_the_app_says_so_in_one_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_marginalia"))
        .arg("sample_data")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no display") && err.contains("marginalia --help"),
        "{err}"
    );
}

#[test]
fn agreement_json_on_sample_data() {
    let (code, out, err) = marginalia(&["agreement", "sample_data", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["annotators"], serde_json::json!(["alice", "bob"]));
    let dims = v["dimensions"].as_array().unwrap();
    let tq = dims
        .iter()
        .find(|d| d["dimension"] == "tone_question")
        .unwrap();
    for key in [
        "scope",
        "units",
        "percent_agreement",
        "cohen_kappa",
        "fleiss_kappa",
        "krippendorff_alpha",
    ] {
        assert!(tq.get(key).is_some(), "{key}");
    }
    assert_eq!(tq["units"], 7);
    assert!(tq["cohen_kappa"].is_number());
    // Three annotators: no Cohen's kappa.
    let (code, out, _) = marginalia(&[
        "agreement",
        "sample_data",
        "--annotators",
        "alice,bob,nobody",
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["dimensions"][0]["cohen_kappa"].is_null());
}

#[test]
fn agreement_on_a_table_reproduces_krippendorff_example_c() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.csv");
    let rows = [
        "1 2 3 3 2 1 4 1 2 . . .",
        "1 2 3 3 2 2 4 1 2 5 . 3",
        ". 3 3 3 2 3 4 2 2 5 1 .",
        "1 2 3 3 2 4 4 1 2 5 1 .",
    ];
    let mut csv = String::from("unit,coder,value\n");
    for (c, row) in rows.iter().enumerate() {
        for (u, v) in row.split_whitespace().enumerate() {
            let v = if v == "." { "" } else { v };
            csv.push_str(&format!("{},{},{v}\n", u + 1, ["A", "B", "C", "D"][c]));
        }
    }
    std::fs::write(&path, csv).unwrap();
    // Krippendorff (2011), "Computing Krippendorff's alpha-reliability", example C.
    for (level, alpha) in [
        ("nominal", 0.743),
        ("ordinal", 0.815),
        ("interval", 0.849),
        ("ratio", 0.797),
    ] {
        let (code, out, err) = marginalia(&[
            "agreement",
            "--table",
            path.to_str().unwrap(),
            "--level",
            level,
            "--json",
        ]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(
            (v["krippendorff_alpha"].as_f64().unwrap() - alpha).abs() < 0.0005,
            "{level}: {v}"
        );
        assert!(v["cohen_kappa"].is_null());
    }
    let (code, out, _) = marginalia(&["agreement", "--table", path.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains("Krippendorff alpha  0.743 (nominal)"), "{out}");
}

#[test]
fn search_prints_one_hit_per_line() {
    let (code, out, _) = marginalia(&["search", "sample_data", "\"Home Office\""]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    let prevent = lines
        .iter()
        .find(|l| l.starts_with("prevent.txt\t"))
        .unwrap();
    let fields: Vec<&str> = prevent.split('\t').collect();
    assert_eq!(fields[1], "answer");
    assert_eq!(fields[2], "1417");
    assert!(fields[3].contains("[Home Office]"));
    let (code, out, _) = marginalia(&[
        "search",
        "sample_data",
        "leonie",
        "--json",
        "--scope",
        "question",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.is_empty(),
        "the name is in metadata, not in question text: {out}"
    );
    let (_, out, _) = marginalia(&[
        "search",
        "sample_data",
        "FAHY",
        "--json",
        "--scope",
        "answer",
    ]);
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["file"], "prevent.txt");
    assert_eq!(v["start"], 965);
}

/// `prevent.txt` with its two sidecars, after the transcript was corrected: a sentence added before
/// the answer and the sentence citing Sir Peter Fahy deleted.
fn corrected_prevent() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    for f in ["prevent.txt.alice.ron", "prevent.txt.bob.ron"] {
        std::fs::copy(root.join(f), dir.path().join(f)).unwrap();
    }
    let text = std::fs::read_to_string(root.join("prevent.txt"))
        .unwrap()
        .replace(
            "MPS and MOPAC recognise",
            "The Deputy Mayor has written to you separately.\n\nMPS and MOPAC recognise",
        )
        .replace(
            " As Sir Peter Fahy, national police lead for Prevent said recently, blaming the authorities, police or schools can be ill-advised and create the conditions for a backlash against all Prevent work.",
            "",
        );
    std::fs::write(dir.path().join("prevent.txt"), text).unwrap();
    dir
}

#[test]
fn validate_says_what_reanchoring_will_do_to_a_changed_transcript() {
    let dir = corrected_prevent();
    let (code, out, _) = marginalia(&["validate", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "a changed text is not an error: {out}");
    assert!(
        out.contains("span \"alice-002\" (answer 116..123): the text changed; \"CONTEST\" will be placed again at 165..172 and flagged for a look"),
        "{out}"
    );
    assert!(
        out.contains("\"Sir Peter Fahy\" is no longer found in the changed text"),
        "{out}"
    );
}

#[test]
fn reanchor_places_every_annotators_spans_again_and_keeps_orphans() {
    use marginalia::sidecar::Sidecar;
    use marginalia::transcript::Transcript;
    let dir = corrected_prevent();
    let d = dir.path().to_str().unwrap();
    let alice = dir.path().join("prevent.txt.alice.ron");
    let before = std::fs::read(&alice).unwrap();
    let (code, out, err) = marginalia(&["reanchor", d, "--dry-run"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("2 sidecars of changed transcripts (nothing written)"),
        "{out}"
    );
    assert_eq!(
        std::fs::read(&alice).unwrap(),
        before,
        "a dry run writes nothing"
    );

    let (code, out, err) = marginalia(&["reanchor", d]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("prevent.txt.alice.ron: 2 placed again (flagged), 1 orphans, 1 unchanged"),
        "{out}"
    );
    let t = Transcript::load(&dir.path().join("prevent.txt")).unwrap();
    for who in ["alice", "bob"] {
        let s = Sidecar::load(&dir.path().join(format!("prevent.txt.{who}.ron")))
            .unwrap()
            .sidecar;
        assert_eq!(s.transcript.hash, t.hash, "{who}: the new text is recorded");
        for span in &s.spans {
            let text: String = t
                .part(span.part)
                .unwrap()
                .text()
                .chars()
                .skip(span.start)
                .take(span.end - span.start)
                .collect();
            if span.quote.contains("Sir Peter Fahy") {
                // Kept, for the annotator to place or delete.
                assert_ne!(text, span.quote, "{who}: {}", span.id);
            } else {
                assert_eq!(text, span.quote, "{who}: {}", span.id);
                assert_eq!(
                    span.flag.is_some(),
                    span.part.kind != marginalia::transcript::PartKind::Question,
                    "{who}: {}",
                    span.id
                );
            }
        }
    }
    // Done: nothing left to place; the orphans are what validate still reports.
    let (_, out, _) = marginalia(&["reanchor", d]);
    assert!(out.contains("0 sidecars of changed transcripts"), "{out}");
    let (code, out, _) = marginalia(&["validate", d]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.matches("lists it as an orphan").count(), 2, "{out}");
}

#[test]
fn reanchor_leaves_an_unreadable_sidecar_untouched_and_says_so() {
    let dir = corrected_prevent();
    let broken = dir.path().join("prevent.txt.carol.ron");
    std::fs::write(&broken, "(schema: 1, truncated").unwrap();
    let (code, out, err) = marginalia(&["reanchor", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: cannot read sidecar") && err.contains("prevent.txt.carol.ron"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&broken).unwrap(),
        "(schema: 1, truncated"
    );
    assert!(
        out.contains("2 sidecars of changed transcripts"),
        "the others are done: {out}"
    );
}

/// A command whose output is cut short by the reader (`… | head -3`) ends without a panic or a
/// message: it stops on the closed pipe, as other command-line tools do.
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    use std::io::Read as _;
    use std::os::unix::process::ExitStatusExt as _;
    // Output larger than a pipe holds: the command is still writing when the reader goes.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("corpus");
    marginalia::generate::generate(
        &root,
        &marginalia::generate::GenerateOptions {
            docs: 300,
            annotators: vec!["ann".into(), "ben".into()],
            coverage: 0.5,
            seed: 3,
        },
    )
    .unwrap();
    for args in [
        vec![
            "search".to_string(),
            root.display().to_string(),
            "the".to_string(),
        ],
        vec![
            "search".to_string(),
            "--json".to_string(),
            root.display().to_string(),
            "police".to_string(),
        ],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_marginalia"))
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        // The reading end is closed here, with most of the output unread.
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            out.status.success() || out.status.signal() == Some(libc::SIGPIPE),
            "{args:?}: {:?} {stderr}",
            out.status
        );
    }
}
