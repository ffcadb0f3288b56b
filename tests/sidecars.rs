//! Sidecars: round trips, awkward files from colleagues' machines, and never losing the old file.
#![allow(
    clippy::unwrap_used,
    reason = "a test crate: an unwrap that fails is a failing test, and says where"
)]

use std::path::Path;

use marginalia::codebook::Codebook;
use marginalia::sidecar::{
    Annotator, Sidecar, SidecarError, Span, Status, check_annotator_id, parse_sidecar_name,
    sidecar_path,
};
use marginalia::transcript::{PartId, Transcript};
use proptest::prelude::*;

fn seed() -> Transcript {
    Transcript::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/sample_data/prevent.txt"
    )))
    .unwrap()
}

fn alice() -> Annotator {
    Annotator {
        id: "alice".into(),
        name: "Alice Archer".into(),
    }
}

fn tagged_sidecar(t: &Transcript) -> Sidecar {
    let cb = Codebook::builtin();
    let mut s = Sidecar::new(alice(), t, &cb);
    s.status = Status::InProgress;
    s.tags
        .entry(PartId::ANSWER)
        .or_default()
        .insert("tone_answer".into(), vec!["defensive".into()]);
    s.tags.entry(PartId::QUESTION).or_default().insert(
        "topic".into(),
        vec!["policing".into(), "counter_terrorism".into()],
    );
    let answer = &t.part(PartId::ANSWER).unwrap().text();
    let start = answer
        .find("Sir Peter Fahy")
        .map(|b| answer[..b].chars().count())
        .unwrap();
    let span = Span::new(
        "s1".into(),
        PartId::ANSWER,
        answer,
        start,
        start + "Sir Peter Fahy".chars().count(),
        "authority_person",
        "Sir Peter Fahy",
    )
    .unwrap();
    s.spans.push(span);
    s.memo = "Deflects to \"communities\".\nSecond line.".into();
    s
}

#[test]
fn naming() {
    assert_eq!(
        sidecar_path(Path::new("dir/prevent.txt"), "alice"),
        Path::new("dir/prevent.txt.alice.ron")
    );
    assert_eq!(
        parse_sidecar_name("prevent.txt.alice.ron"),
        Some(("prevent.txt", "alice"))
    );
    assert_eq!(parse_sidecar_name("prevent.txt.Alice.ron"), None);
    assert_eq!(parse_sidecar_name("codebook.ron"), None);
    for bad in ["", "../x", "a/b", "Alice", "a b", "é", &"x".repeat(33)] {
        assert!(check_annotator_id(bad).is_err(), "{bad:?}");
    }
    for good in ["alice", "bob_2", "x-y", &"x".repeat(32)] {
        assert!(check_annotator_id(good).is_ok(), "{good:?}");
    }
}

#[test]
fn save_load_round_trip_and_clean_check() {
    let t = seed();
    let s = tagged_sidecar(&t);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prevent.txt.alice.ron");
    let written = s.save(&path).unwrap();
    let loaded = Sidecar::load(&path).unwrap();
    assert_eq!(loaded.bytes, written);
    let mut expected = s.clone();
    expected.canonicalize();
    assert_eq!(loaded.sidecar, expected);
    assert!(loaded.sidecar.check(&t, &Codebook::builtin()).is_empty());
    // Deterministic: saving again gives the same bytes, with LF only.
    assert_eq!(loaded.sidecar.to_ron().into_bytes(), written);
    assert!(!written.contains(&b'\r'));
    let text = String::from_utf8(written).unwrap();
    assert!(text.starts_with("(\n    schema: 1,"), "{text}");
    assert!(text.contains("quote: \"Sir Peter Fahy\""), "{text}");
}

#[test]
fn bom_and_crlf_are_accepted() {
    let t = seed();
    let text = tagged_sidecar(&t).to_ron().replace('\n', "\r\n");
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(text.as_bytes());
    let s = Sidecar::parse(&bytes, Path::new("x.alice.ron")).unwrap();
    assert_eq!(s.memo, "Deflects to \"communities\".\nSecond line.");
    assert_eq!(s.spans.len(), 1);
}

#[test]
fn unknown_tags_are_reported_and_kept() {
    let t = seed();
    let mut s = tagged_sidecar(&t);
    s.tags
        .entry(PartId::ANSWER)
        .or_default()
        .insert("irony".into(), vec!["high".into()]);
    s.tags
        .entry(PartId::ANSWER)
        .or_default()
        .insert("tone_answer".into(), vec!["sarcastic".into()]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prevent.txt.alice.ron");
    s.save(&path).unwrap();
    let loaded = Sidecar::load(&path).unwrap().sidecar;
    let problems = loaded.check(&t, &Codebook::builtin());
    let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
    assert!(
        messages.iter().any(|m| m.contains("unknown tag \"irony\"")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("unknown tag \"tone_answer: sarcastic\"")),
        "{messages:?}"
    );
    assert!(problems.iter().all(|p| !p.is_error));
    // Saving again keeps them.
    loaded.save(&path).unwrap();
    let again = Sidecar::load(&path).unwrap().sidecar;
    assert_eq!(again.part_values(PartId::ANSWER, "irony"), ["high"]);
    assert_eq!(
        again.part_values(PartId::ANSWER, "tone_answer"),
        ["sarcastic"]
    );
}

#[test]
fn newer_schema_is_refused_clearly() {
    let t = seed();
    let text = tagged_sidecar(&t)
        .to_ron()
        .replacen("schema: 1,", "schema: 7,", 1);
    let err = Sidecar::parse(text.as_bytes(), Path::new("d/p.txt.alice.ron")).unwrap_err();
    assert!(matches!(err, SidecarError::NewerSchema { found: 7, .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("schema 7") && msg.ends_with("d/p.txt.alice.ron"),
        "{msg}"
    );
    // Even when the rest has fields this version does not know.
    let text = text.replacen("memo:", "future_field: [1, 2],\n    memo:", 1);
    assert!(matches!(
        Sidecar::parse(text.as_bytes(), Path::new("x")).unwrap_err(),
        SidecarError::NewerSchema { .. }
    ));
}

#[test]
fn hostile_sidecars_get_one_line_errors() {
    let t = seed();
    let good = tagged_sidecar(&t).to_ron();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "path-like annotator",
            good.replacen("id: \"alice\"", "id: \"../x\"", 1)
                .into_bytes(),
            "invalid annotator id \"../x\"",
        ),
        ("empty", Vec::new(), "the file is empty"),
        (
            "truncated",
            good.as_bytes()[..good.len() / 2].to_vec(),
            "not a valid sidecar",
        ),
        (
            "not RON",
            b"{\"schema\": 1}".to_vec(),
            "not a valid sidecar",
        ),
        ("invalid UTF-8", vec![b'(', 0xFF, 0xFE, b')'], "not UTF-8"),
        (
            "deeply nested",
            format!(
                "(schema: 1, memo: {}{})",
                "[".repeat(10_000),
                "]".repeat(10_000)
            )
            .into_bytes(),
            "not a valid sidecar",
        ),
    ];
    for (what, bytes, expected) in cases {
        let err = Sidecar::parse(&bytes, Path::new("d/p.txt.alice.ron"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{what}: {err}");
        assert!(err.ends_with("d/p.txt.alice.ron"), "{what}: {err}");
        assert!(!err.contains('\n'), "{what}: one line: {err}");
    }
}

#[test]
fn spans_that_cannot_be_placed_are_listed() {
    let t = seed();
    let mut s = tagged_sidecar(&t);
    let mut reversed = s.spans[0].clone();
    reversed.id = "s2".into();
    std::mem::swap(&mut reversed.start, &mut reversed.end);
    let mut beyond = s.spans[0].clone();
    beyond.id = "s3".into();
    beyond.start = 5000;
    beyond.end = 5010;
    let mut wrong = s.spans[0].clone();
    wrong.id = "s4".into();
    wrong.start += 1;
    wrong.end += 1;
    s.spans.extend([reversed, beyond, wrong]);
    let problems = s.check(&t, &Codebook::builtin());
    let errors: Vec<&str> = problems
        .iter()
        .filter(|p| p.is_error)
        .map(|p| p.message.as_str())
        .collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].contains("s2") && errors[0].contains("start is not before end"));
    assert!(errors[1].contains("s3") && errors[1].contains("beyond the end"));
    assert!(errors[2].contains("s4") && errors[2].contains("not the quoted \"Sir Peter Fahy\""));
}

#[test]
fn failed_save_keeps_the_previous_sidecar() {
    let t = seed();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prevent.txt.alice.ron");
    let first = tagged_sidecar(&t);
    first.save(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    // An annotator id that is not allowed is refused before anything is written.
    let mut bad = first.clone();
    bad.annotator.id = "../../etc".into();
    bad.memo = "changed".into();
    assert!(bad.save(&path).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // A folder in the way of the file: the error names the path.
    let blocked = dir.path().join("blocked.txt.alice.ron");
    std::fs::create_dir(&blocked).unwrap();
    let err = first.save(&blocked).unwrap_err().to_string();
    assert!(err.contains("blocked.txt.alice.ron"), "{err}");
    assert!(blocked.is_dir());
}

fn text_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ]{0,12}",
        "\\PC{0,20}",
        Just("quote \" backslash \\ newline \n tab \t nbsp \u{a0} £ “” 🚌".to_string()),
    ]
}

proptest! {
    #[test]
    fn sidecar_round_trips(
        memo in text_strategy(),
        note in text_strategy(),
        value in text_strategy(),
        start in 0usize..1500,
        len in 1usize..60,
        status in prop_oneof![Just(Status::NotStarted), Just(Status::InProgress), Just(Status::Done)],
        topics in proptest::collection::vec("[a-z_]{1,10}", 0..4),
    ) {
        let t = seed();
        let mut s = Sidecar::new(alice(), &t, &Codebook::builtin());
        s.memo = memo;
        s.status = status;
        s.tags.entry(PartId::QUESTION).or_default().insert("topic".into(), topics);
        let answer = &t.part(PartId::ANSWER).unwrap().text();
        if let Some(mut span) = Span::new("x1".into(), PartId::ANSWER, answer, start, start + len, "authority_other", &value) {
            span.note = note;
            s.spans.push(span);
        }
        let text = s.to_ron();
        // The fast reader reads what Marginalia writes, and reads it as RON does.
        let by_ron: Sidecar = marginalia::sidecar::ron_options().from_str(&text).unwrap();
        prop_assert_eq!(marginalia::sidecar::fast::parse(&text), Some(by_ron));
        let back = Sidecar::parse(text.as_bytes(), Path::new("p")).unwrap();
        let mut expected = s.clone();
        expected.canonicalize();
        prop_assert_eq!(&back, &expected);
        prop_assert_eq!(back.to_ron(), text);
    }

    /// Fields this version does not know, of any RON shape, come back exactly as written after a
    /// save; whatever is not RON is refused, never a panic.
    #[test]
    fn unknown_fields_round_trip(
        names in proptest::collection::vec("[a-z][a-z_]{0,12}", 1..4),
        values in proptest::collection::vec(prop_oneof![
            Just("3".to_string()), Just("-2.5e3".to_string()), Just("\"text, with (brackets)\"".to_string()),
            Just("[1, 2, [3]]".to_string()), Just("(a: 1, b: Some(\"x\"))".to_string()),
            Just("{\"k\": (1, 2)}".to_string()), Just("Variant(1)".to_string()), Just("None".to_string()),
            "[a-zA-Z0-9 ,()\\[\\]\"]{0,20}",
        ], 1..4),
    ) {
        let base = tagged_sidecar(&seed()).to_ron();
        let mut extra = String::new();
        let known = ["schema", "annotator", "transcript", "codebook", "status", "created", "modified", "tags", "spans", "memo"];
        let mut seen = std::collections::HashSet::new();
        let fields: Vec<(String, String)> = names
            .iter()
            .zip(values.iter().cycle())
            .filter(|(n, _)| !known.contains(&n.as_str()) && seen.insert(n.to_string()))
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        for (n, v) in &fields {
            extra.push_str(&format!("    {n}: {v},\n"));
        }
        let text = base.replacen("    memo:", &format!("{extra}    memo:"), 1);
        // A value that is not RON on its own can join its neighbours into one (`a: ",` then
        // `aa: ",` is the string ",\n    aa: "): then the file says something else, and only
        // the round trip is held.
        let each_is_ron = fields.iter().all(|(_, v)| ron::from_str::<ron::Value>(v).is_ok());
        if let Ok(s) = Sidecar::parse(text.as_bytes(), Path::new("p")) {
            let names: Vec<&str> = s.unknown.iter().map(|(k, _)| k.as_str()).collect();
            let wanted: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
            if each_is_ron {
                prop_assert_eq!(names, wanted);
            }
            let again = Sidecar::parse(s.to_ron().as_bytes(), Path::new("p")).unwrap();
            prop_assert_eq!(&again.unknown, &s.unknown);
            prop_assert_eq!(again.to_ron(), s.to_ron());
        }
    }

    /// Whatever the fast reader accepts of a changed sidecar (a byte replaced, or a snippet of
    /// other RON put in: a comment, a raw string, an escape, other whitespace, a leading zero,
    /// text after the end), RON reads the same; what it gives up on is left to RON.
    #[test]
    fn fast_reader_accepts_only_what_ron_reads_the_same(
        cut in 0usize..4000,
        byte in any::<u8>(),
        snippet in prop_oneof![
            Just("// c\n"), Just("/* c */"), Just("#"), Just("r#"), Just("r\""), Just("0"), Just("00"),
            Just("\\u{41}"), Just("\\'"), Just(" "), Just("\u{a0}"), Just("\u{2028}"), Just(","),
            Just(",,"), Just(")"), Just("("), Just("Some ("), Just("\t"), Just("\r\n"), Just("_"),
            Just("+"), Just("-"), Just("1_0"), Just("0x1"), Just("None"), Just("\""), Just("\\"),
            Just("Sidecar"), Just("x: 1,"), Just("\n)"), Just("]"), Just("}"),
        ],
        replace in any::<bool>(),
    ) {
        let base = tagged_sidecar(&seed()).to_ron();
        let mut at = cut % base.len();
        while !base.is_char_boundary(at) {
            at -= 1;
        }
        let text = if replace {
            let mut bytes = base.clone().into_bytes();
            bytes[at] = byte;
            match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(_) => return Ok(()),
            }
        } else {
            format!("{}{}{}", &base[..at], snippet, &base[at..])
        };
        if let Some(fast) = marginalia::sidecar::fast::parse(&text) {
            let by_ron = marginalia::sidecar::ron_options().from_str::<Sidecar>(&text);
            prop_assert!(by_ron.is_ok(), "the fast reader took what RON refuses: {:?}", text);
            prop_assert_eq!(fast, by_ron.unwrap());
        }
    }

    #[test]
    fn sidecar_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        #[expect(clippy::let_underscore_must_use, reason = "only that it returns is tested")]
        let _ = Sidecar::parse(&bytes, Path::new("p"));
    }

    #[test]
    fn sidecar_parser_never_panics_on_mutated_sidecars(cut in 0usize..1000, byte in any::<u8>()) {
        let mut bytes = tagged_sidecar(&seed()).to_ron().into_bytes();
        let at = cut % bytes.len();
        bytes[at] = byte;
        #[expect(clippy::let_underscore_must_use, reason = "only that it returns is tested")]
        let _ = Sidecar::parse(&bytes, Path::new("p"));
    }

    #[test]
    fn transcript_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        if let Ok(t) = Transcript::from_bytes("x.txt", &bytes) {
            // Every part's text is normalized: no CR, no trailing blank lines.
            for p in &t.parts {
                prop_assert!(!p.text().contains('\r'));
                prop_assert!(!p.text().ends_with('\n'));
            }
        }
    }

    #[test]
    fn transcript_reader_never_panics_on_page_like_text(
        lines in proptest::collection::vec(prop_oneof![
            Just("Question By:".to_string()), Just("Asked Of:\u{a0} ".to_string()),
            Just("Answered By:".to_string()), Just("Answer for X".to_string()),
            Just("Question".to_string()), Just("Answer".to_string()), Just("".to_string()),
            Just("Supplementary To:".to_string()), Just("MQT on 2015-03-25".to_string()),
            Just("Q: a?".to_string()), Just("A: b".to_string()), "\\PC{0,30}",
        ], 0..40)
    ) {
        let text = lines.join("\n");
        let t = Transcript::from_text("x.txt", &text, "UTF-8".into(), Vec::new());
        prop_assert!(!t.parts.is_empty());
    }

    #[test]
    fn codebook_parser_never_panics(cut in 0usize..20000, byte in any::<u8>()) {
        let mut bytes = marginalia::codebook::DEFAULT_CODEBOOK_RON.as_bytes().to_vec();
        let at = cut % bytes.len();
        bytes[at] = byte;
        if let Ok(text) = std::str::from_utf8(&bytes) {
            #[expect(clippy::let_underscore_must_use, reason = "only that it returns is tested")]
            let _ = Codebook::parse(text, Path::new("c"));
        }
    }
}
