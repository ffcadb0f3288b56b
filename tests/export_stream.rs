//! Exports read a chunk of documents at a time (`export_stream`, what the command line and the
//! app's export run) write what an export of the dataset read whole writes (`render`): csv and jsonl
//! byte for byte, qdpx entry for entry (dates aside), over a corpus of more than one chunk with
//! unreadable files among it, and the same summary and warnings in the same order.
#![allow(
    clippy::unwrap_used,
    reason = "a test crate: an unwrap that fails is a failing test, and says where"
)]

use std::io::Read;
use std::path::Path;

use marginalia::dataset::{CHUNK_DOCUMENTS, Dataset, DatasetStream, Selection};
use marginalia::export::{ExportFormat, export_stream, render};
use marginalia::generate::{GenerateOptions, generate};

/// A generated corpus of a chunk and a half, with a broken sidecar and a transcript that is not
/// text, so that warnings come from reading as well as from exporting.
fn corpus(dir: &Path) -> std::path::PathBuf {
    let root = dir.join("corpus");
    generate(
        &root,
        &GenerateOptions {
            docs: CHUNK_DOCUMENTS + CHUNK_DOCUMENTS / 2,
            annotators: vec!["ann".into(), "ben".into(), "cai".into()],
            coverage: 0.3,
            seed: 7,
        },
    )
    .unwrap();
    let mut sidecars: Vec<_> = walkdir::WalkDir::new(&root)
        .into_iter()
        .flatten()
        .filter(|e| e.path().to_string_lossy().ends_with(".ann.ron"))
        .map(|e| e.into_path())
        .collect();
    sidecars.sort();
    std::fs::write(&sidecars[sidecars.len() / 2], "(broken").unwrap();
    std::fs::write(root.join("zz-binary.txt"), [0u8, 159, 146, 150, 0, 0, 1]).unwrap();
    root
}

/// Every entry of a zip, inflated, with the export's date-times blanked.
fn entries(bytes: &[u8]) -> Vec<(String, String)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut text = String::new();
        f.read_to_string(&mut text).unwrap();
        let mut blanked = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find("creationDateTime=\"") {
            let (head, tail) = rest.split_at(at + "creationDateTime=\"".len());
            blanked.push_str(head);
            rest = &tail[tail.find('"').unwrap()..];
        }
        blanked.push_str(rest);
        out.push((f.name().unwrap().to_string(), blanked));
    }
    out.sort();
    out
}

#[test]
fn streamed_exports_equal_the_whole_datasets() {
    let dir = tempfile::tempdir().unwrap();
    let root = corpus(dir.path());
    let selection = Selection::default();
    let dataset = Dataset::load(&root, &selection, &|_, _| {}).unwrap();
    assert!(dataset.documents.len() > CHUNK_DOCUMENTS);
    assert!(
        dataset.warnings.len() >= 2,
        "reading gives warnings: {:?}",
        dataset.warnings
    );
    let mut stream = DatasetStream::open(&root, &selection).unwrap();
    for format in [ExportFormat::Csv, ExportFormat::Jsonl, ExportFormat::Qdpx] {
        for include_uncoded in [false, true] {
            let (whole, whole_summary) = render(&dataset, format, include_uncoded).unwrap();
            let out = dir.path().join(format!("out.{}", format.extension()));
            let summary =
                export_stream(&mut stream, format, include_uncoded, &out, true, &|_, _| {})
                    .unwrap();
            let streamed = std::fs::read(&out).unwrap();
            assert_eq!(summary, whole_summary, "{format:?} {include_uncoded}");
            if format == ExportFormat::Qdpx {
                assert_eq!(entries(&streamed), entries(&whole), "{include_uncoded}");
            } else {
                assert!(streamed == whole, "{format:?} {include_uncoded}");
            }
        }
    }
}

#[test]
fn a_streamed_export_keeps_an_existing_file_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("corpus");
    generate(
        &root,
        &GenerateOptions {
            docs: 5,
            annotators: vec!["ann".into(), "ben".into()],
            coverage: 1.0,
            seed: 1,
        },
    )
    .unwrap();
    let out = dir.path().join("out.csv");
    std::fs::write(&out, "mine").unwrap();
    let mut stream = DatasetStream::open(&root, &Selection::default()).unwrap();
    assert!(
        export_stream(
            &mut stream,
            ExportFormat::Csv,
            true,
            &out,
            false,
            &|_, _| {}
        )
        .is_err()
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "mine");
    export_stream(&mut stream, ExportFormat::Csv, true, &out, true, &|_, _| {}).unwrap();
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("document,")
    );
    // No temporary file is left beside the output.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

/// The progress an export's reader is told comes from every document it reads, whatever walks
/// them: the streamed formats' own walks and the whole reading of the others (what the app's
/// export dialog shows).
#[test]
fn an_export_tells_its_progress_as_it_reads() {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("corpus");
    generate(
        &root,
        &GenerateOptions {
            docs: 40,
            annotators: vec!["ann".into(), "ben".into()],
            coverage: 0.5,
            seed: 3,
        },
    )
    .unwrap();
    for format in [ExportFormat::Csv, ExportFormat::Qdpx, ExportFormat::Xlsx] {
        let calls = AtomicUsize::new(0);
        let last = Mutex::new((0, 0));
        let mut stream = DatasetStream::open(&root, &Selection::default()).unwrap();
        let out = dir.path().join(format!("out.{}", format.extension()));
        export_stream(&mut stream, format, true, &out, true, &|n, of| {
            calls.fetch_add(1, Ordering::Relaxed);
            let mut last = last.lock().unwrap();
            *last = (last.0.max(n), of);
        })
        .unwrap();
        assert_eq!(
            calls.load(Ordering::Relaxed),
            40,
            "{format:?}: once a document"
        );
        assert_eq!(*last.lock().unwrap(), (40, 40), "{format:?}");
    }
}
