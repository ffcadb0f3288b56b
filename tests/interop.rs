//! Moving between tools: exports that QualCoder, NVivo, ATLAS.ti and MAXQDA keep whole, REFI-QDA
//! projects imported as they write them, codebooks from .qdc/.qdpx/Taguette CSV, hostile .qdpx.
//!
//! The fixture projects are written here from the REFI-QDA schema in the layouts each tool
//! writes (see ../shared/refi-qda/README.md): uppercase GUIDs and UTF-16 positions (NVivo), CRLF
//! counted as one (ATLAS.ti), nameless cases carrying document variables (MAXQDA), a BOM and
//! categories (QualCoder). The wording is invented.
#![allow(
    clippy::unwrap_used,
    reason = "a test crate: an unwrap that fails is a failing test, and says where"
)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use marginalia::dataset::{Dataset, Selection};
use marginalia::export::{ExportFormat, render, span_is_placed};
use marginalia::interop::{Element, import_project, parse_xml, read_codebook};
use proptest::prelude::*;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data")
}

fn xmllint_ok(schema: &str, file: &Path) {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/refi-qda")
        .join(schema);
    if !schema.exists() {
        return;
    }
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(file)
        .output()
        .expect("xmllint is needed to validate REFI-QDA exports (apt-get install libxml2-utils)");
    assert!(
        out.status.success(),
        "{} does not validate: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every coding of a folder, comparable across an export and an import: (document, annotator,
/// part, dimension, value, quote; "" for part tags) with how many times it occurs.
type Codings = BTreeMap<(String, String, String, String, String, String, bool), usize>;

fn codings(root: &Path, only_exportable: bool) -> Codings {
    let d = Dataset::load(root, &Selection::default(), &|_, _| {}).unwrap();
    let mut out = Codings::new();
    for doc in &d.documents {
        for s in &doc.sidecars {
            for (part, dims) in &s.tags {
                let empty = doc
                    .transcript
                    .part(*part)
                    .is_none_or(|p| p.text().is_empty());
                if only_exportable && empty {
                    continue;
                }
                for (dim, values) in dims {
                    for v in values {
                        *out.entry((
                            doc.relative.clone(),
                            s.annotator.id.clone(),
                            part.to_string(),
                            dim.clone(),
                            v.clone(),
                            String::new(),
                            true,
                        ))
                        .or_default() += 1;
                    }
                }
            }
            for x in &s.spans {
                if only_exportable && !span_is_placed(&doc.transcript, x) {
                    continue;
                }
                *out.entry((
                    doc.relative.clone(),
                    s.annotator.id.clone(),
                    x.part.to_string(),
                    x.dimension.clone(),
                    x.value.clone(),
                    x.quote.clone(),
                    false,
                ))
                .or_default() += 1;
            }
        }
    }
    out
}

fn export_qdpx(root: &Path, out: &Path) -> Vec<u8> {
    let d = Dataset::load(root, &Selection::default(), &|_, _| {}).unwrap();
    let (bytes, _) = render(&d, ExportFormat::Qdpx, true).unwrap();
    std::fs::write(out, &bytes).unwrap();
    bytes
}

fn qde_of(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut qde = String::new();
    zip.by_name("project.qde")
        .unwrap()
        .read_to_string(&mut qde)
        .unwrap();
    qde
}

fn walk<'a>(e: &'a Element, name: &str, out: &mut Vec<&'a Element>) {
    for c in &e.children {
        if c.name == name {
            out.push(c);
        }
        walk(c, name, out);
    }
}

fn all<'a>(e: &'a Element, name: &str) -> Vec<&'a Element> {
    let mut out = Vec::new();
    walk(e, name, &mut out);
    out
}

#[test]
fn export_survives_tools_that_key_codes_by_name_and_link_cases_by_codes() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = export_qdpx(&sample(), &dir.path().join("p.qdpx"));
    let qde = qde_of(&bytes);
    let qde_path = dir.path().join("project.qde");
    std::fs::write(&qde_path, &qde).unwrap();
    xmllint_ok("Project.xsd", &qde_path);
    let root = parse_xml(qde.as_bytes()).unwrap();

    // Code names unique across the codebook, compared as QualCoder does (and without case).
    let codes = all(&root, "Code");
    let mut names: Vec<String> = codes
        .iter()
        .map(|c| c.attr("name").unwrap().to_lowercase())
        .collect();
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n, "duplicate code names");
    let neutral = codes
        .iter()
        .find(|c| c.attr("name") == Some("Neutral (Tone of answer)"))
        .expect("the answer's Neutral is told apart");
    assert!(
        neutral
            .child_text("Description")
            .starts_with("Tone of answer: "),
        "the dimension is kept in the description"
    );

    // Every case is also a code coding the text of each of its documents.
    let cases = all(&root, "Case");
    assert!(!cases.is_empty());
    let selections = all(&root, "PlainTextSelection");
    for case in &cases {
        let g = case.attr("guid").unwrap();
        assert!(
            codes.iter().any(|c| c.attr("guid") == Some(g)),
            "case {} has no code",
            case.attr("name").unwrap()
        );
        let sources: Vec<&str> = case
            .all("SourceRef")
            .map(|s| s.attr("targetGUID").unwrap())
            .collect();
        assert!(!sources.is_empty());
        for s in &sources {
            let source = all(&root, "TextSource")
                .into_iter()
                .find(|t| t.attr("guid") == Some(s))
                .unwrap();
            assert!(
                source
                    .all("PlainTextSelection")
                    .any(|sel| sel.all("Coding").any(|c| c
                        .child("CodeRef")
                        .unwrap()
                        .attr("targetGUID")
                        == Some(g))),
                "case {} does not code source {s}",
                case.attr("name").unwrap()
            );
        }
    }
    assert!(selections.len() > 97);

    // Document and case variables are separate.
    let variables: BTreeMap<&str, &str> = all(&root, "Variable")
        .iter()
        .map(|v| (v.attr("guid").unwrap(), v.attr("name").unwrap()))
        .collect();
    let var_names = |parent: &str| -> Vec<&str> {
        let mut v: Vec<&str> = all(&root, parent)
            .iter()
            .flat_map(|p| p.all("VariableValue"))
            .map(|vv| variables[vv.child("VariableRef").unwrap().attr("targetGUID").unwrap()])
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let on_cases = var_names("Case");
    let on_sources = var_names("TextSource");
    assert_eq!(on_cases, ["member organisation"]);
    assert!(on_sources.contains(&"organisation") && on_sources.contains(&"path"));
    assert!(on_cases.iter().all(|v| !on_sources.contains(v)));

    // Source names are file names without folder or doubled extension.
    for s in all(&root, "TextSource") {
        let name = s.attr("name").unwrap();
        assert!(!name.contains('/') && !name.ends_with(".txt"), "{name}");
    }
    assert!(
        all(&root, "TextSource")
            .iter()
            .any(|s| s.attr("name") == Some("prevent"))
    );
}

#[test]
fn export_of_a_corpus_with_subfolders_keeps_the_folder_in_a_variable() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir_all(corpus.join("2015/march")).unwrap();
    for f in ["prevent.txt", "prevent.txt.alice.ron"] {
        std::fs::copy(sample().join(f), corpus.join("2015/march").join(f)).unwrap();
    }
    let bytes = export_qdpx(&corpus, &dir.path().join("p.qdpx"));
    let qde = qde_of(&bytes);
    assert!(qde.contains("name=\"prevent\""));
    assert!(qde.contains("<TextValue>2015/march/prevent.txt</TextValue>"));
    let out = dir.path().join("back");
    import_project(&dir.path().join("p.qdpx"), &out).unwrap();
    assert!(out.join("2015/march/prevent.txt").is_file());
    assert!(out.join("2015/march/prevent.txt.alice.ron").is_file());
    assert_eq!(codings(&corpus, true), codings(&out, false));
}

#[test]
fn sample_data_comes_back_whole_through_a_qdpx() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sample.qdpx");
    export_qdpx(&sample(), &file);
    let out = dir.path().join("imported");
    let report = import_project(&file, &out).unwrap();
    let before = codings(&sample(), true);
    let after = codings(&out, false);
    assert_eq!(before, after);
    // Memos come back too, as Notes the sources refer to.
    let memos = |root: &Path| -> Vec<(String, String, String)> {
        let d = Dataset::load(root, &Selection::default(), &|_, _| {}).unwrap();
        let mut v: Vec<(String, String, String)> = d
            .documents
            .iter()
            .flat_map(|doc| {
                doc.sidecars
                    .iter()
                    .filter(|s| !s.memo.trim().is_empty())
                    .map(|s| {
                        (
                            doc.relative.clone(),
                            s.annotator.id.clone(),
                            s.memo.trim().to_string(),
                        )
                    })
            })
            .collect();
        v.sort();
        v
    };
    let original_memos = memos(&sample());
    assert!(!original_memos.is_empty());
    assert_eq!(original_memos, memos(&out));
    assert_eq!(report.tags + report.spans, before.values().sum::<usize>());
    // The codebook keeps Marginalia's ids, kinds and shortcuts.
    let (original, _) = marginalia::codebook::Codebook::for_folder(&sample()).unwrap();
    let (imported, _) = marginalia::codebook::Codebook::for_folder(&out).unwrap();
    assert_eq!(imported.id, original.id);
    for d in &original.dimensions {
        let i = imported.dimension(&d.id).unwrap();
        assert_eq!(
            (i.applies_to, i.kind, &i.key),
            (d.applies_to, d.kind, &d.key)
        );
        assert_eq!(i.label, d.label);
        assert_eq!(i.values, d.values, "{}", d.id);
    }
    // The transcripts are read in the same layout, so the sidecars match their hashes.
    let report = marginalia::corpus::validate(&out).unwrap();
    assert_eq!(report.errors(), 0, "{:?}", report.findings);
    let text = std::fs::read_to_string(out.join(marginalia::interop::REPORT_FILE)).unwrap();
    assert!(text.contains("documents"), "{text}");
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn import_fixture(
    entries: &[(&str, &[u8])],
) -> (
    tempfile::TempDir,
    PathBuf,
    marginalia::interop::ImportReport,
) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fixture.qdpx");
    std::fs::write(&file, zip_of(entries)).unwrap();
    let out = dir.path().join("out");
    let report = import_project(&file, &out).unwrap();
    (dir, out, report)
}

fn spans_of(out: &Path) -> Vec<(String, String, String, String, String)> {
    let d = Dataset::load(out, &Selection::default(), &|_, _| {}).unwrap();
    let mut v = Vec::new();
    for doc in &d.documents {
        for s in &doc.sidecars {
            for x in &s.spans {
                v.push((
                    doc.relative.clone(),
                    s.annotator.id.clone(),
                    x.dimension.clone(),
                    x.value.clone(),
                    x.quote.clone(),
                ));
            }
        }
    }
    v.sort();
    v
}

#[test]
fn nvivo_project_utf16_positions_uppercase_guids_cases_as_codes_and_nesting() {
    // NVivo on Windows: CRLF and a BOM in the text, Sources/ capitalised, a .docx beside the
    // .txt, positions in UTF-16 units, uppercase GUIDs, the code's creator on Coding and who
    // applied it on the selection, a case linked by a code of the same GUID.
    let text = "Interviewer: How did the 😀 campaign land?\r\nRespondent: Badly, at first.\r\nRespondent: Then the buses came.\r\n";
    let mut src = vec![0xEF, 0xBB, 0xBF];
    src.extend_from_slice(text.as_bytes());
    let u16_of = |needle: &str| -> (usize, usize) {
        let at = text.find(needle).unwrap();
        let start = text[..at].encode_utf16().count();
        (start, start + needle.encode_utf16().count())
    };
    let (s1, e1) = u16_of("campaign land");
    let (s2, e2) = u16_of("Then the buses came.");
    let qde = format!(
        r##"<?xml version="1.0" encoding="utf-8"?>
<Project name="Transport" origin="NVivo 12.6" xmlns="urn:QDA-XML:project:1.0">
<Users><User guid="AAAAAAAA-0000-0000-0000-000000000001" name="Dana Ortiz"/><User guid="AAAAAAAA-0000-0000-0000-000000000002" name="Eli Park"/></Users>
<CodeBook><Codes>
 <Code guid="C0000000-0000-0000-0000-000000000001" name="Themes" isCodable="true" color="#AA3300">
  <Code guid="C0000000-0000-0000-0000-000000000002" name="Transport" isCodable="false">
   <Code guid="C0000000-0000-0000-0000-000000000003" name="Buses" isCodable="true"><Description>Bus services</Description>
    <Code guid="C0000000-0000-0000-0000-000000000004" name="Night buses" isCodable="true"/>
   </Code>
  </Code>
 </Code>
 <Code guid="CA5E0000-0000-0000-0000-000000000001" name="Respondent A" isCodable="true"/>
</Codes></CodeBook>
<Cases><Case guid="CA5E0000-0000-0000-0000-000000000001" name="Respondent A"/></Cases>
<Sources>
<TextSource guid="50000000-0000-0000-0000-00000000000A" name="Interview A" richTextPath="internal://50000000-0000-0000-0000-00000000000A.docx" plainTextPath="internal://50000000-0000-0000-0000-00000000000A.txt" creatingUser="AAAAAAAA-0000-0000-0000-000000000001">
 <Description>First interview</Description>
 <PlainTextSelection guid="5E000000-0000-0000-0000-000000000001" name="campaign land" startPosition="{s1}" endPosition="{e1}" creatingUser="AAAAAAAA-0000-0000-0000-000000000002">
  <Coding guid="D0000000-0000-0000-0000-000000000001" creatingUser="AAAAAAAA-0000-0000-0000-000000000001"><CodeRef targetGUID="C0000000-0000-0000-0000-000000000001"/></Coding>
 </PlainTextSelection>
 <PlainTextSelection guid="5E000000-0000-0000-0000-000000000002" name="Then the buses came." startPosition="{s2}" endPosition="{e2}" creatingUser="AAAAAAAA-0000-0000-0000-000000000001">
  <Coding guid="D0000000-0000-0000-0000-000000000002" creatingUser="AAAAAAAA-0000-0000-0000-000000000001"><CodeRef targetGUID="C0000000-0000-0000-0000-000000000004"/></Coding>
 </PlainTextSelection>
 <PlainTextSelection guid="5E000000-0000-0000-0000-000000000003" name="" startPosition="0" endPosition="{all}">
  <Coding guid="D0000000-0000-0000-0000-000000000003"><CodeRef targetGUID="CA5E0000-0000-0000-0000-000000000001"/></Coding>
 </PlainTextSelection>
 <NoteRef targetGUID="E0000000-0000-0000-0000-000000000001"/>
</TextSource>
</Sources>
<Notes><Note guid="E0000000-0000-0000-0000-000000000001" name="Memo A" creatingUser="AAAAAAAA-0000-0000-0000-000000000001"><PlainTextContent>Follow up on the buses.</PlainTextContent></Note></Notes>
</Project>"##,
        all = text.encode_utf16().count()
    );
    let (_dir, out, report) = import_fixture(&[
        ("project.qde", qde.as_bytes()),
        ("Sources/50000000-0000-0000-0000-00000000000A.txt", &src),
        (
            "Sources/50000000-0000-0000-0000-00000000000A.docx",
            b"PK not really a docx",
        ),
    ]);
    let cb = marginalia::codebook::Codebook::load(&out.join("codebook.ron")).unwrap();
    let themes = cb.dimensions.iter().find(|d| d.label == "Themes").unwrap();
    let labels: Vec<&str> = themes.values.iter().map(|v| v.label.as_str()).collect();
    // The codable parent is a value of its own; nesting is kept in the labels.
    assert_eq!(
        labels,
        [
            "Themes",
            "Transport / Buses",
            "Transport / Buses / Night buses"
        ]
    );
    assert_eq!(themes.color, "#aa3300");
    assert_eq!(themes.values[1].description, "Bus services");
    assert!(
        cb.dimensions.iter().all(|d| d.label != "Respondent A"),
        "cases are not codes"
    );
    let spans = spans_of(&out);
    assert_eq!(
        spans,
        [
            (
                "Interview A.txt".to_string(),
                "dana-ortiz".to_string(),
                "themes".to_string(),
                "transport_buses_night_buses".to_string(),
                "Then the buses came.".to_string()
            ),
            (
                "Interview A.txt".to_string(),
                "eli-park".to_string(),
                "themes".to_string(),
                "themes".to_string(),
                "campaign land".to_string()
            ),
        ]
    );
    assert!(
        report.lines.iter().any(|l| l.contains("UTF-16")),
        "the unit guessed is said: {:?}",
        report.lines
    );
    // NVivo's memo, a Note the source refers to, is its author's memo.
    let d = Dataset::load(&out, &Selection::default(), &|_, _| {}).unwrap();
    let dana = d.documents[0]
        .sidecars
        .iter()
        .find(|s| s.annotator.id == "dana-ortiz")
        .unwrap();
    assert_eq!(dana.memo, "Follow up on the buses.");
    let attrs = std::fs::read_to_string(out.join("attributes.csv")).unwrap();
    assert!(
        attrs.contains("Interview A.txt,case,Respondent A"),
        "{attrs}"
    );
    assert!(
        attrs.contains("Interview A.txt,description,First interview"),
        "{attrs}"
    );
}

#[test]
fn atlas_ti_project_counts_crlf_as_one() {
    let text =
        "Q: Why the delay?\r\nA: The signalling was late.\r\nQ: And now?\r\nA: Trains run.\r\n";
    let one = text.replace("\r\n", "\n");
    let pos = |needle: &str| {
        let at = one.find(needle).unwrap();
        let s = one[..at].chars().count();
        (s, s + needle.chars().count())
    };
    let (s1, e1) = pos("signalling was late");
    let (s2, e2) = pos("Trains run.");
    let qde = format!(
        r##"<?xml version="1.0" encoding="utf-8"?>
<Project name="Rail" origin="ATLAS.ti 23" xmlns="urn:QDA-XML:project:1.0">
<Users><User guid="b0000000-0000-0000-0000-000000000001" name="Fran"/></Users>
<CodeBook><Codes>
 <Code guid="c0000000-0000-0000-0000-000000000001" name="Causes" isCodable="true"/>
 <Code guid="c0000000-0000-0000-0000-000000000002" name="Outcomes" isCodable="true"/>
 <Code guid="c0000000-0000-0000-0000-000000000003" name="Empty group" isCodable="false"/>
</Codes></CodeBook>
<Sources>
<TextSource guid="d0000000-0000-0000-0000-000000000001" name="rail hearing.txt" plainTextPath="internal://d0000000-0000-0000-0000-000000000001.txt">
 <PlainTextSelection guid="e0000000-0000-0000-0000-000000000001" name="signalling was late" startPosition="{s1}" endPosition="{e1}" creatingUser="b0000000-0000-0000-0000-000000000001"><Coding guid="f0000000-0000-0000-0000-000000000001"><CodeRef targetGUID="c0000000-0000-0000-0000-000000000001"/></Coding></PlainTextSelection>
 <PlainTextSelection guid="e0000000-0000-0000-0000-000000000002" name="Trains run." startPosition="{s2}" endPosition="{e2}" creatingUser="b0000000-0000-0000-0000-000000000001"><Coding guid="f0000000-0000-0000-0000-000000000002"><CodeRef targetGUID="c0000000-0000-0000-0000-000000000002"/></Coding></PlainTextSelection>
</TextSource>
</Sources></Project>"##
    );
    let (_dir, out, report) = import_fixture(&[
        ("project.qde", qde.as_bytes()),
        (
            "sources/d0000000-0000-0000-0000-000000000001.txt",
            text.as_bytes(),
        ),
    ]);
    let spans = spans_of(&out);
    let quotes: Vec<&str> = spans.iter().map(|s| s.4.as_str()).collect();
    assert_eq!(quotes, ["signalling was late", "Trains run."]);
    assert!(
        spans
            .iter()
            .all(|s| s.0 == "rail hearing.txt" && s.1 == "fran")
    );
    assert!(report.lines.iter().any(|l| l.contains("CRLF")));
    assert!(report.lines.iter().any(|l| l.contains("Empty group")));
    // Spans landed in the answers of the speaker-turn layout Marginalia recognised.
    let d = Dataset::load(&out, &Selection::default(), &|_, _| {}).unwrap();
    let parts: Vec<String> = d.documents[0].sidecars[0]
        .spans
        .iter()
        .map(|s| s.part.to_string())
        .collect();
    assert_eq!(parts, ["answer", "answer.2"]);
}

#[test]
fn maxqda_project_document_variables_in_nameless_cases_and_pictures_listed() {
    let text = "Notes from the housing panel.\n\nRents rose again this year.";
    let s = text.find("Rents rose").unwrap();
    let qde = format!(
        r##"<?xml version="1.0" encoding="utf-8"?>
<Project name="Housing" origin="MAXQDA 2022" xmlns="urn:QDA-XML:project:1.0">
<Users><User guid="10000000-0000-0000-0000-000000000001" name="Gus"/></Users>
<CodeBook><Codes>
 <Code guid="20000000-0000-0000-0000-000000000001" name="Costs" isCodable="true" color="#0a0">
  <Code guid="20000000-0000-0000-0000-000000000002" name="Rent" isCodable="true"/>
 </Code>
</Codes></CodeBook>
<Variables><Variable guid="30000000-0000-0000-0000-000000000001" name="Borough" typeOfVariable="Text"/></Variables>
<Cases><Case guid="40000000-0000-0000-0000-000000000001"><VariableValue><VariableRef targetGUID="30000000-0000-0000-0000-000000000001"/><TextValue>Hackney</TextValue></VariableValue><SourceRef targetGUID="50000000-0000-0000-0000-000000000001"/></Case></Cases>
<Sources>
<TextSource guid="50000000-0000-0000-0000-000000000001" name="panel" plainTextPath="internal://50000000-0000-0000-0000-000000000001.txt">
 <PlainTextSelection guid="60000000-0000-0000-0000-000000000001" startPosition="{s}" endPosition="{e}" creatingUser="10000000-0000-0000-0000-000000000001"><Description>rent memo</Description><Coding guid="70000000-0000-0000-0000-000000000001"><CodeRef targetGUID="20000000-0000-0000-0000-000000000002"/></Coding></PlainTextSelection>
 <PlainTextSelection guid="60000000-0000-0000-0000-000000000002" startPosition="5" endPosition="99999" creatingUser="10000000-0000-0000-0000-000000000001"><Coding guid="70000000-0000-0000-0000-000000000002"><CodeRef targetGUID="20000000-0000-0000-0000-000000000001"/></Coding></PlainTextSelection>
</TextSource>
<TextSource guid="50000000-0000-0000-0000-000000000002" name="panel" plainTextPath="internal://50000000-0000-0000-0000-000000000002.txt"/>
<PictureSource guid="80000000-0000-0000-0000-000000000001" name="map.png" path="internal://80000000-0000-0000-0000-000000000001.png"><PictureSelection guid="90000000-0000-0000-0000-000000000001" firstX="1" firstY="1" secondX="5" secondY="5"><Coding guid="a0000000-0000-0000-0000-000000000001"><CodeRef targetGUID="20000000-0000-0000-0000-000000000002"/></Coding></PictureSelection></PictureSource>
</Sources>
<Sets><Set guid="b0000000-0000-0000-0000-000000000001" name="Panels"/></Sets>
</Project>"##,
        e = s + "Rents rose again".len()
    );
    let (_dir, out, report) = import_fixture(&[
        ("project.qde", qde.as_bytes()),
        (
            "sources/50000000-0000-0000-0000-000000000001.txt",
            text.as_bytes(),
        ),
        (
            "sources/50000000-0000-0000-0000-000000000002.txt",
            b"Second panel, same name.",
        ),
    ]);
    // Two sources of the same name are both kept.
    assert!(out.join("panel.txt").is_file() && out.join("panel 2.txt").is_file());
    let d = Dataset::load(&out, &Selection::default(), &|_, _| {}).unwrap();
    let doc = d
        .documents
        .iter()
        .find(|x| x.relative == "panel.txt")
        .unwrap();
    let span = &doc.sidecars[0].spans[0];
    assert_eq!(span.quote, "Rents rose again");
    assert_eq!(span.note, "rent memo");
    let attrs = std::fs::read_to_string(out.join("attributes.csv")).unwrap();
    assert!(attrs.contains("panel.txt,Borough,Hackney"), "{attrs}");
    let joined = report.lines.join("\n");
    assert!(
        joined.contains("picture source \"map.png\" and its 1 codings not imported"),
        "{joined}"
    );
    assert!(joined.contains("1 sets not imported"), "{joined}");
    assert!(joined.contains("outside the text"), "{joined}");
    let written = std::fs::read_to_string(out.join(marginalia::interop::REPORT_FILE)).unwrap();
    assert!(written.contains("map.png"));
}

#[test]
fn qualcoder_project_bom_categories_and_whole_lines() {
    // QualCoder writes a BOM at the start of its sources; positions count from after it. Codes
    // under a non-codable category; a selection of whole lines ends after the newline.
    let text = "Member: Will the fares freeze hold?\nMayor: It will hold until May.\n";
    let mut src = "\u{feff}".as_bytes().to_vec();
    src.extend_from_slice(text.as_bytes());
    let line = "Mayor: It will hold until May.\n";
    let s = text.find(line).unwrap();
    let qde = format!(
        r##"<?xml version="1.0" encoding="utf-8"?>
<Project name="fares" origin="QualCoder 3.6" xmlns="urn:QDA-XML:project:1.0">
<Users><User guid="11111111-0000-0000-0000-000000000001" name="default"/></Users>
<CodeBook><Codes>
 <Code guid="22222222-0000-0000-0000-000000000001" name="Answers" isCodable="false">
  <Code guid="22222222-0000-0000-0000-000000000002" name="Commitment" isCodable="true"/>
  <Code guid="22222222-0000-0000-0000-000000000003" name="Hedge" isCodable="true"/>
 </Code>
</Codes></CodeBook>
<Sources>
<TextSource guid="33333333-0000-0000-0000-000000000001" name="fares" plainTextPath="internal://33333333-0000-0000-0000-000000000001.txt">
 <PlainTextSelection guid="44444444-0000-0000-0000-000000000001" name="Mayor: It will hold until May." startPosition="{s}" endPosition="{e}" creatingUser="11111111-0000-0000-0000-000000000001"><Coding guid="55555555-0000-0000-0000-000000000001" creatingUser="11111111-0000-0000-0000-000000000001"><CodeRef targetGUID="22222222-0000-0000-0000-000000000002"/></Coding></PlainTextSelection>
</TextSource>
</Sources></Project>"##,
        e = s + line.chars().count()
    );
    let (_dir, out, _report) = import_fixture(&[
        ("project.qde", qde.as_bytes()),
        ("sources/33333333-0000-0000-0000-000000000001.txt", &src),
    ]);
    let body = std::fs::read(out.join("fares.txt")).unwrap();
    assert!(!body.starts_with(b"\xEF\xBB\xBF"), "the BOM is stripped");
    let cb = marginalia::codebook::Codebook::load(&out.join("codebook.ron")).unwrap();
    let answers = cb.dimension("answers").unwrap();
    assert_eq!(answers.values.len(), 2, "the category is the dimension");
    let d = Dataset::load(&out, &Selection::default(), &|_, _| {}).unwrap();
    let doc = &d.documents[0];
    let span = &doc.sidecars[0].spans[0];
    assert_eq!(doc.sidecars[0].annotator.id, "default");
    assert_eq!(
        (span.dimension.as_str(), span.value.as_str()),
        ("answers", "commitment")
    );
    // The whole answer turn was coded; the newline after it is not text of the part.
    assert_eq!(span.quote, "It will hold until May.");
}

#[test]
fn hostile_projects_get_clear_errors_or_listed_skips_and_nothing_outside_out_dir() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, bytes: Vec<u8>| {
        let file = dir.path().join(format!("{name}.qdpx"));
        std::fs::write(&file, bytes).unwrap();
        let out = dir.path().join(format!("{name}-out"));
        (import_project(&file, &out), out)
    };
    let codebook = r##"<CodeBook><Codes><Code guid="20000000-0000-0000-0000-000000000001" name="A" isCodable="true"/></Codes></CodeBook>"##;
    let project = |sources: &str| {
        format!(
            r##"<?xml version="1.0"?><Project name="x" xmlns="urn:QDA-XML:project:1.0">{codebook}<Sources>{sources}</Sources></Project>"##
        )
    };

    // Entity expansion (a billion laughs) and external entities: refused with one line.
    let laughs = r##"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><Project name="&lol2;"/>"##;
    let (r, out) = run("laughs", zip_of(&[("project.qde", laughs.as_bytes())]));
    let e = r.unwrap_err().to_string();
    assert!(e.contains("DTD") && e.contains("laughs.qdpx"), "{e}");
    assert!(!out.exists());
    let external = r##"<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><Project name="&x;"/>"##;
    let (r, _) = run("external", zip_of(&[("project.qde", external.as_bytes())]));
    assert!(r.unwrap_err().to_string().contains("DTD"));

    // A source that unpacks past the limit (a zip bomb entry): skipped and listed, memory bounded.
    let big = vec![b'a'; (marginalia::transcript::MAX_TRANSCRIPT_BYTES + 1) as usize];
    let qde = project(
        r##"<TextSource guid="50000000-0000-0000-0000-000000000001" name="bomb" plainTextPath="internal://bomb.txt"/>
           <TextSource guid="50000000-0000-0000-0000-000000000002" name="fine" plainTextPath="internal://fine.txt"><PlainTextSelection guid="60000000-0000-0000-0000-000000000001" startPosition="2" endPosition="900"><Coding guid="70000000-0000-0000-0000-000000000001"><CodeRef targetGUID="20000000-0000-0000-0000-000000000001"/></Coding></PlainTextSelection></TextSource>
           <TextSource guid="50000000-0000-0000-0000-000000000003" name="../../escape" plainTextPath="internal://../evil.txt"/>"##,
    );
    let (r, out) = run(
        "bomb",
        zip_of(&[
            ("project.qde", qde.as_bytes()),
            ("sources/bomb.txt", &big),
            ("sources/fine.txt", b"a short fine text"),
            ("../evil.txt", b"escaped"),
        ]),
    );
    drop(big);
    let report = r.unwrap();
    let joined = report.lines.join("\n");
    assert!(
        joined.contains("\"bomb\"") && joined.contains("over the limit"),
        "{joined}"
    );
    assert!(joined.contains("\"../evil.txt\" is ignored"), "{joined}");
    assert!(joined.contains("outside the text or reversed"), "{joined}");
    assert!(out.join("fine.txt").is_file());
    assert!(!dir.path().join("evil.txt").exists());
    // Nothing outside the output folder: only the inputs and output folders are in dir.
    let mut top: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert!(
        top.iter()
            .all(|n| n.ends_with(".qdpx") || n.ends_with("-out")),
        "{top:?}"
    );
    for e in walkdir::WalkDir::new(&out) {
        let e = e.unwrap();
        assert!(e.path().starts_with(&out));
    }

    // Not a zip, no project.qde, not XML: one line each, naming the file.
    let (r, _) = run("notzip", b"just some text".to_vec());
    let e = r.unwrap_err().to_string();
    assert!(e.contains("notzip.qdpx") && e.contains("zip"), "{e}");
    let (r, _) = run("noqde", zip_of(&[("readme.txt", b"hi")]));
    assert!(r.unwrap_err().to_string().contains("without project.qde"));
    let (r, _) = run("badxml", zip_of(&[("project.qde", b"<Project><Sources>")]));
    assert!(r.unwrap_err().to_string().contains("project.qde"));

    // The output folder must be new or empty.
    let file = dir.path().join("fine2.qdpx");
    std::fs::write(&file, zip_of(&[("project.qde", project("").as_bytes())])).unwrap();
    let full = dir.path().join("full-out");
    std::fs::create_dir_all(&full).unwrap();
    std::fs::write(full.join("keep.txt"), "mine").unwrap();
    let e = import_project(&file, &full).unwrap_err().to_string();
    assert!(e.contains("not empty"), "{e}");
    assert_eq!(
        std::fs::read_to_string(full.join("keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn codebooks_from_qdc_qdpx_and_taguette_csv_keep_ids_and_map_onto_existing_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = Dataset::load(&sample(), &Selection::default(), &|_, _| {}).unwrap();
    let original = d.codebook.clone();
    let dims = |cb: &marginalia::codebook::Codebook| -> Vec<(String, Vec<String>)> {
        cb.dimensions
            .iter()
            .map(|d| {
                (
                    d.id.clone(),
                    d.values.iter().map(|v| v.id.clone()).collect(),
                )
            })
            .collect()
    };
    for (format, name) in [
        (ExportFormat::Qdc, "c.qdc"),
        (ExportFormat::CodebookCsv, "c.csv"),
        (ExportFormat::Qdpx, "c.qdpx"),
    ] {
        let (bytes, _) = render(&d, format, true).unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        if format == ExportFormat::Qdc {
            xmllint_ok("Codebook.xsd", &path);
        }
        let imported = read_codebook(&path).unwrap();
        assert_eq!(dims(&imported.codebook), dims(&original), "{name}");
        assert_eq!(imported.codebook.id, original.id, "{name}");
    }

    // Taguette reads exactly one of tag/name/path, and description; hierarchy with dots.
    let (bytes, _) = render(&d, ExportFormat::CodebookCsv, true).unwrap();
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        headers
            .iter()
            .filter(|h| ["tag", "name", "path"].contains(&h.as_str()))
            .count(),
        1
    );
    assert!(headers.contains(&"description".to_string()));
    let paths: Vec<String> = r.records().map(|x| x.unwrap()[0].to_string()).collect();
    assert!(
        paths.contains(&"Tone of answer.Neutral".to_string()),
        "{paths:?}"
    );

    // A codebook from Taguette itself (no marginalia column), and a mapping onto existing ids.
    let taguette = dir.path().join("taguette.csv");
    std::fs::write(
        &taguette,
        "tag,description\ninteresting,\ntone.calm,Calm answer\ntone.angry,\n",
    )
    .unwrap();
    let mut imported = read_codebook(&taguette).unwrap();
    let tone = imported.codebook.dimension("tone").unwrap();
    assert_eq!(tone.values.len(), 2);
    assert_eq!(tone.values[0].description, "Calm answer");
    assert!(
        imported.codebook.dimension("codes").is_some(),
        "the childless tag"
    );
    marginalia::interop::apply_mapping(
        &mut imported,
        "dimension,value,dimension_id,value_id\ntone,,tone_answer,\ntone,calm,tone_answer,neutral\n",
    )
    .unwrap();
    let t = imported.codebook.dimension("tone_answer").unwrap();
    assert_eq!(t.values[0].id, "neutral");
    let e = marginalia::interop::apply_mapping(
        &mut imported,
        "dimension,value,dimension_id,value_id\nnope,,x,\n",
    )
    .unwrap_err();
    assert!(
        matches!(e, marginalia::interop::CodesError::Row { row: 2, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("nope"), "{e}");

    // Files that are no codebook say what they are.
    let cases: [(&str, &[u8], &str); 4] = [
        ("c.ron", b"(schema: 1)", "codebook.ron"),
        ("x.pdf", b"%PDF-1.4", "PDF"),
        (
            "x.csv",
            b"col1,col2\na,b\n",
            "no 'tag', 'name' or 'path' column",
        ),
        ("x.xml", b"<html/>", "<html>"),
    ];
    for (name, bytes, says) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let e = read_codebook(&p).unwrap_err().to_string();
        assert!(e.contains(says) && e.contains(name), "{e}");
    }
}

#[test]
fn cli_import_project_and_import_codebook() {
    let dir = tempfile::tempdir().unwrap();
    let qdpx = dir.path().join("s.qdpx");
    export_qdpx(&sample(), &qdpx);
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_marginalia"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = dir.path().join("out");
    let o = run(&[
        "import-project",
        qdpx.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("15 documents"), "{stdout}");
    let o = run(&[
        "import-project",
        qdpx.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not empty"));
    // A project handed to inspect says what it is and what reads it.
    let o = run(&["inspect", qdpx.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("import-project"));
    let cb = dir.path().join("cb.ron");
    let o = run(&[
        "import-codebook",
        qdpx.to_str().unwrap(),
        "-o",
        cb.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    marginalia::codebook::Codebook::load(&cb).unwrap();
    // Taguette's CSV out and back, with a mapping onto other ids.
    let csv_path = dir.path().join("taguette.csv");
    let o = run(&[
        "export",
        sample().to_str().unwrap(),
        "--format",
        "codebook-csv",
        "-o",
        csv_path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let map = dir.path().join("map.csv");
    std::fs::write(
        &map,
        "dimension,value,dimension_id,value_id\nTone of answer,Neutral,answer_tone,flat\n",
    )
    .unwrap();
    let cb2 = dir.path().join("cb2.ron");
    let o = run(&[
        "import-codebook",
        csv_path.to_str().unwrap(),
        "--mapping",
        map.to_str().unwrap(),
        "-o",
        cb2.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mapped = marginalia::codebook::Codebook::load(&cb2).unwrap();
    let d = mapped.dimension("answer_tone").unwrap();
    assert!(d.value("flat").is_some() && d.value("supportive").is_some());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Export then import gives every coding back: document, annotator, part, dimension, value,
    /// quote; part tags as part tags.
    #[test]
    fn export_then_import_gives_every_coding_back(seed in 0u64..1_000_000, docs in 1usize..6) {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("corpus");
        marginalia::generate::generate(
            &corpus,
            &marginalia::generate::GenerateOptions {
                docs,
                annotators: vec!["ann".into(), "ben".into()],
                coverage: 1.0,
                seed,
            },
        )
        .unwrap();
        let file = dir.path().join("p.qdpx");
        export_qdpx(&corpus, &file);
        let out = dir.path().join("out");
        import_project(&file, &out).unwrap();
        prop_assert_eq!(codings(&corpus, true), codings(&out, false));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Selections from another tool at any positions (past the end, reversed, inside a CRLF or a
    /// surrogate pair) never make the import fail or panic, and every span it writes holds the
    /// text at its offsets.
    #[test]
    fn any_selection_positions_import_safely(
        positions in proptest::collection::vec((0u64..200, 0u64..200), 0..12),
        huge in any::<u64>(),
        origin in prop::sample::select(vec!["NVivo 14", "ATLAS.ti 24", "MAXQDA 2024", "QualCoder 3.6"]),
        bom in any::<bool>(),
    ) {
        let text = "Q: Why now? 😀\r\nA: Because  \r\n\r\n\r\nthe money came.\r\nQ: And?\r\nA: Done.\r\n";
        let mut src = if bom { vec![0xEF, 0xBB, 0xBF] } else { Vec::new() };
        src.extend_from_slice(text.as_bytes());
        let mut sels = String::new();
        let mut all = positions.clone();
        all.push((huge, huge / 2));
        for (i, (a, b)) in all.iter().enumerate() {
            sels.push_str(&format!(
                r##"<PlainTextSelection guid="60000000-0000-0000-0000-{i:012}" name="x" startPosition="{a}" endPosition="{b}"><Coding guid="70000000-0000-0000-0000-{i:012}"><CodeRef targetGUID="20000000-0000-0000-0000-000000000001"/></Coding></PlainTextSelection>"##
            ));
        }
        let qde = format!(
            r##"<?xml version="1.0"?><Project name="p" origin="{origin}" xmlns="urn:QDA-XML:project:1.0"><CodeBook><Codes><Code guid="20000000-0000-0000-0000-000000000001" name="A" isCodable="true"/></Codes></CodeBook><Sources><TextSource guid="50000000-0000-0000-0000-000000000001" name="s" plainTextPath="internal://s.txt">{sels}</TextSource></Sources></Project>"##
        );
        let (_dir, out, _report) = import_fixture(&[("project.qde", qde.as_bytes()), ("sources/s.txt", &src)]);
        let d = Dataset::load(&out, &Selection::default(), &|_, _| {}).unwrap();
        for doc in &d.documents {
            for s in &doc.sidecars {
                for x in &s.spans {
                    prop_assert!(span_is_placed(&doc.transcript, x), "{x:?}");
                }
            }
        }
    }
}
