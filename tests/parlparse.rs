//! A folder of ParlParse XML opens as a corpus whose items are annotated like pages.

use std::path::Path;

use marginalia::codebook::Codebook;
use marginalia::corpus::{CorpusIndex, scan, validate};
use marginalia::document::{Document, Edit};
use marginalia::sidecar::Annotator;
use marginalia::transcript::{Format, PartId, Transcript};

#[test]
fn items_are_transcripts_with_their_own_sidecars() {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/parlparse/answers2026-02-23.xml");
    std::fs::copy(&src, dir.path().join("answers2026-02-23.xml")).unwrap();
    let files = scan(dir.path()).unwrap();
    let names: Vec<String> = files
        .transcripts
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "answers2026-02-23.xml#112103",
            "answers2026-02-23.xml#112200"
        ]
    );

    let item = &files.transcripts[0];
    let t = Transcript::load(item).unwrap();
    assert_eq!(t.format, Format::ParlParse);
    assert_eq!(t.meta.title, "Police: Recruitment & Retention");

    let alice = Annotator {
        id: "alice".into(),
        name: "Alice".into(),
    };
    let mut doc = Document::open(item, &alice, &Codebook::builtin()).unwrap();
    doc.apply(Edit::SetPartValues {
        part: PartId::ANSWER,
        dimension: "tone_answer".into(),
        values: vec!["neutral".into()],
    })
    .unwrap();
    doc.save().unwrap();
    assert!(
        dir.path()
            .join("answers2026-02-23.xml#112103.alice.ron")
            .exists()
    );

    let files = scan(dir.path()).unwrap();
    assert_eq!(files.sidecars.len(), 1);
    assert_eq!(files.sidecars[0].transcript, *item);
    let report = validate(dir.path()).unwrap();
    assert_eq!(report.errors(), 0, "{:?}", report.findings);
    assert_eq!((report.transcripts, report.sidecars), (2, 1));
    let index = CorpusIndex::load(dir.path(), "alice").unwrap();
    assert_eq!(index.entries[0].codings, 1);
    assert_eq!(index.entries[0].asked_of, "Home Office");
    assert_eq!(
        index
            .search
            .search("retention", marginalia::search::Scope::Question, 10)
            .len(),
        1
    );

    // The CLI reads an item by its virtual path.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_marginalia"))
        .args(["inspect", item.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format"], "parlparse");
    assert_eq!(v["question_by"], "Jane Smith and Ali Khan");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_marginalia"))
        .args([
            "inspect",
            dir.path()
                .join("answers2026-02-23.xml#999")
                .to_str()
                .unwrap(),
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("no item \"999\""));
}

#[test]
fn a_broken_xml_file_is_listed_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.xml"), "<publicwhip><minor-heading>").unwrap();
    std::fs::write(dir.path().join("page.txt"), "Plain text").unwrap();
    let files = scan(dir.path()).unwrap();
    assert_eq!(files.transcripts.len(), 1);
    assert_eq!(files.skipped.len(), 1);
    assert!(
        files.skipped[0].1.contains("ParlParse"),
        "{:?}",
        files.skipped
    );
}
