//! Every export format on sample_data, checked for content: counts equal to the annotations, offsets
//! whose text equals the quote, CSV that parses back, REFI-QDA valid against the official schemas.
#![allow(
    clippy::unwrap_used,
    reason = "a test crate: an unwrap that fails is a failing test, and says where"
)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use marginalia::dataset::{Dataset, Selection};
use marginalia::export::{ExportFormat, render, write_output};
use marginalia::transcript::PartId;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data")
}

fn dataset(selection: &Selection) -> Dataset {
    Dataset::load(&sample(), selection, &|_, _| {}).unwrap()
}

/// Codings in sample_data: part tag values plus spans, over every sidecar.
fn total_codings(d: &Dataset) -> usize {
    d.documents
        .iter()
        .flat_map(|doc| &doc.sidecars)
        .map(|s| s.coding_count())
        .sum()
}

fn xmllint(schema: &str, file: &Path) -> Option<(bool, String)> {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/refi-qda")
        .join(schema);
    if !schema.exists() {
        return None;
    }
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(file)
        .output();
    match out {
        Ok(o) => Some((
            o.status.success(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )),
        // xmllint is installed by .ci/run; on a machine without it, say so instead of passing.
        Err(e) => panic!(
            "xmllint is needed to validate REFI-QDA exports (apt-get install libxml2-utils): {e}"
        ),
    }
}

#[test]
fn csv_has_one_row_per_coding_with_matching_quotes() {
    let d = dataset(&Selection::default());
    let (bytes, summary) = render(&d, ExportFormat::Csv, true).unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        [
            "document",
            "title",
            "meeting_date",
            "reference",
            "question_by",
            "organisation",
            "asked_of",
            "answered_by",
            "annotator",
            "part",
            "dimension",
            "value",
            "start",
            "end",
            "quote",
            "note"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), total_codings(&d));
    assert_eq!(summary.annotations, rows.len());
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    let mut spans = 0;
    for r in &rows {
        if r[12].is_empty() {
            continue;
        }
        spans += 1;
        let doc = d.documents.iter().find(|x| x.relative == r[0]).unwrap();
        let part: PartId = r[9].parse().unwrap();
        let (start, end): (usize, usize) = (r[12].parse().unwrap(), r[13].parse().unwrap());
        let text: String = doc
            .transcript
            .part(part)
            .unwrap()
            .text()
            .chars()
            .skip(start)
            .take(end - start)
            .collect();
        assert_eq!(text, r[14], "offsets of {:?}", r);
    }
    let span_total: usize = d
        .documents
        .iter()
        .flat_map(|x| &x.sidecars)
        .map(|s| s.spans.len())
        .sum();
    assert_eq!(spans, span_total);
    // The seed page's row for alice's Sir Peter Fahy, with its note (a comma inside).
    assert!(rows.iter().any(|r| &r[0] == "prevent.txt"
        && &r[8] == "alice"
        && &r[14] == "Sir Peter Fahy"
        && r[15].contains("communities")));
}

#[test]
fn documents_csv_is_a_code_matrix() {
    let d = dataset(&Selection::default());
    let (bytes, _) = render(&d, ExportFormat::DocumentsCsv, true).unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    for h in [
        "tone_question",
        "tone_answer",
        "reply",
        "topic:housing",
        "topic:policing",
        "spans:authority_person",
        "memo",
        "status",
    ] {
        assert!(headers.contains(&h.to_string()), "{h} in {headers:?}");
    }
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    // One row per document, annotator and exchange.
    let expected: usize = d
        .documents
        .iter()
        .map(|x| x.sidecars.len() * x.transcript.exchange_count().max(1) as usize)
        .sum();
    assert_eq!(rows.len(), expected);
    let alice_prevent = rows
        .iter()
        .find(|r| &r[0] == "prevent.txt" && &r[col("annotator")] == "alice")
        .unwrap();
    assert_eq!(&alice_prevent[col("tone_answer")], "defensive");
    assert_eq!(&alice_prevent[col("topic:counter_terrorism")], "1");
    assert_eq!(&alice_prevent[col("topic:housing")], "0");
    assert_eq!(&alice_prevent[col("spans:authority_person")], "2");
    assert_eq!(&alice_prevent[col("status")], "done");
}

#[test]
fn jsonl_holds_every_document_and_annotation() {
    let d = dataset(&Selection::default());
    let (bytes, summary) = render(&d, ExportFormat::Jsonl, true).unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 15);
    assert_eq!(summary.documents, 15);
    let mut codings = 0;
    for l in &lines {
        for a in l["annotations"].as_array().unwrap() {
            codings += a["spans"].as_array().unwrap().len();
            for dims in a["tags"].as_object().unwrap().values() {
                codings += dims
                    .as_object()
                    .unwrap()
                    .values()
                    .map(|v| v.as_array().unwrap().len())
                    .sum::<usize>();
            }
        }
    }
    assert_eq!(codings, total_codings(&d));
    let prevent = lines
        .iter()
        .find(|l| l["document"] == "prevent.txt")
        .unwrap();
    assert_eq!(prevent["question_by"], "Roger Evans");
    assert_eq!(prevent["annotations"].as_array().unwrap().len(), 2);
    // Only done sidecars of bob.
    let only = dataset(&Selection {
        annotators: Some(vec!["bob".into()]),
        only_done: true,
        only_paths: None,
    });
    let (bytes, summary) = render(&only, ExportFormat::Jsonl, false).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(!text.contains("\"alice\""));
    assert_eq!(summary.documents, 6, "bob has 7 sidecars, 6 done");
}

#[test]
fn qdpx_is_a_valid_refi_qda_project_with_every_coding() {
    let d = dataset(&Selection::default());
    let (bytes, summary) = render(&d, ExportFormat::Qdpx, true).unwrap();
    assert_eq!(summary.annotations, total_codings(&d));
    let dir = tempfile::tempdir().unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut qde = String::new();
    zip.by_name("project.qde")
        .unwrap()
        .read_to_string(&mut qde)
        .unwrap();
    let qde_path = dir.path().join("project.qde");
    std::fs::write(&qde_path, &qde).unwrap();
    if let Some((ok, err)) = xmllint("Project.xsd", &qde_path) {
        assert!(ok, "project.qde does not validate: {err}");
    }
    // Every coding, plus one selection per document coding it with its case's code (how
    // QualCoder and NVivo link a case to text).
    // (The two interviews' `INTERVIEWER` / `Q` are roles, not people: no case for them.)
    let case_selections = qde.matches("name=\"Case: ").count();
    assert_eq!(case_selections, 13);
    assert_eq!(
        qde.matches("<PlainTextSelection ").count(),
        total_codings(&d) + case_selections
    );
    assert_eq!(
        qde.matches("<Coding ").count(),
        total_codings(&d) + case_selections
    );
    assert!(
        qde.contains("<User guid=") && qde.contains("id=\"alice\"") && qde.contains("id=\"bob\"")
    );
    assert_eq!(qde.matches("<TextSource ").count(), 15);
    // Each selection's positions cut its quote out of the source text.
    let re_sel = "<PlainTextSelection ";
    let mut checked = 0;
    for chunk in qde.split("<TextSource ").skip(1) {
        let guid = attr(chunk, "guid");
        let mut text = String::new();
        zip.by_name(&format!("sources/{guid}.txt"))
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        let chars: Vec<char> = text.chars().collect();
        for sel in chunk.split(re_sel).skip(1) {
            let start: usize = attr(sel, "startPosition").parse().unwrap();
            let end: usize = attr(sel, "endPosition").parse().unwrap();
            assert!(start < end && end <= chars.len());
            if attr(sel, "name").starts_with("Sir Peter Fahy") {
                assert!(
                    chars[start..end]
                        .iter()
                        .collect::<String>()
                        .starts_with("Sir Peter Fahy")
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 2, "alice's and bob's Fahy spans");
}

fn attr<'a>(xml: &'a str, name: &str) -> &'a str {
    let key = format!("{name}=\"");
    let start = xml.find(&key).unwrap() + key.len();
    &xml[start..start + xml[start..].find('"').unwrap()]
}

#[test]
fn qdc_validates_and_imports_back() {
    let d = dataset(&Selection::default());
    let (bytes, _) = render(&d, ExportFormat::Qdc, true).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("codebook.qdc");
    write_output(&path, ExportFormat::Qdc, &bytes, false).unwrap();
    if let Some((ok, err)) = xmllint("Codebook.xsd", &path) {
        assert!(ok, "codebook.qdc does not validate: {err}");
    }
    // An export over an existing file needs force.
    assert!(
        write_output(&path, ExportFormat::Qdc, &bytes, false)
            .unwrap_err()
            .to_string()
            .contains("exists")
    );
    let imported =
        marginalia::interop::import_qdc(&String::from_utf8(bytes).unwrap(), "default").unwrap();
    let tone = imported
        .dimensions
        .iter()
        .find(|x| x.label == "Tone of answer")
        .unwrap();
    let labels: Vec<&str> = tone.values.iter().map(|v| v.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "Neutral",
            "Supportive",
            "Critical",
            "Hostile",
            "Evasive",
            "Defensive",
            "Conciliatory"
        ]
    );
    assert_eq!(tone.color, "#b1755b");
    // Imported codebooks are valid Marginalia codebooks.
    let ron = imported.to_ron();
    marginalia::codebook::Codebook::parse(&ron, Path::new("x")).unwrap();
    assert!(marginalia::interop::import_qdc("<nope/>", "x").is_err());
    assert!(marginalia::interop::import_qdc("<CodeBook><Codes><Code", "x").is_err());
}

#[test]
fn cli_export_refuses_to_overwrite_without_force_and_never_touches_the_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let before: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(sample())
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_marginalia"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    };
    let o = run(&[
        "export",
        "sample_data",
        "--format",
        "csv",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("8 documents, 97 annotations"));
    let o = run(&[
        "export",
        "sample_data",
        "--format",
        "csv",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--force"));
    let o = run(&[
        "export",
        "sample_data",
        "--format",
        "qdpx",
        "-o",
        out.to_str().unwrap(),
        "--force",
        "--annotators",
        "alice",
    ]);
    assert!(o.status.success());
    let o = run(&["export", "sample_data", "--format", "pdf", "-o", "x"]);
    assert!(!o.status.success());
    for (p, bytes) in before {
        assert_eq!(std::fs::read(&p).unwrap(), bytes, "{} changed", p.display());
    }
}

/// `-o -` writes the export to standard output, the same bytes a file gets (a `.qdpx` too, a zip
/// that reads back), says what it wrote on standard error, and makes no file named `-`.
#[test]
fn cli_export_to_a_dash_writes_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    // Runs an export of the sample in `format` to `output`: its standard output and error.
    let export = |format: &str, output: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_marginalia"))
            .args([
                "export",
                sample.to_str().unwrap(),
                "--format",
                format,
                "-o",
                output,
            ])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "{stderr}");
        (o.stdout, stderr)
    };
    let file = dir.path().join("codings.csv");
    export("csv", file.to_str().unwrap());
    let (stdout, stderr) = export("csv", "-");
    assert_eq!(stdout, std::fs::read(&file).unwrap());
    assert!(
        stderr.contains("wrote standard output: 8 documents, 97 annotations"),
        "{stderr}"
    );
    assert!(!dir.path().join("-").exists(), "a file named - was made");
    let (stdout, _) = export("qdpx", "-");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(stdout)).unwrap();
    let mut qde = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("project.qde").unwrap(), &mut qde).unwrap();
    assert!(
        qde.contains("<TextSource "),
        "{}",
        &qde[..qde.len().min(300)]
    );
    let (stdout, _) = export("qdc", "-");
    assert!(String::from_utf8_lossy(&stdout).contains("<CodeBook"));
    assert!(!dir.path().join("-").exists());
}
