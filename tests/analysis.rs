//! Retrieval, cross-tabs and code counts checked against an independent computation: the test walks
//! the folder itself, reads each sidecar file and its transcript, and counts with plain loops,
//! without the dataset, the selection or the analysis code. Then the commands as scripts use them.
#![allow(
    clippy::unwrap_used,
    reason = "a test crate: an unwrap that fails is a failing test, and says where"
)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use marginalia::analysis::crosstab::{Axis, CrossTab, Field, crosstab};
use marginalia::analysis::retrieve::{CodeQuery, retrieve};
use marginalia::analysis::{Scope, codes};
use marginalia::corpus::Filter;
use marginalia::dataset::{Dataset, Selection};
use marginalia::generate::{GenerateOptions, generate};
use marginalia::sidecar::Sidecar;
use marginalia::transcript::{PartId, PartKind, Transcript};

fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data")
}

/// Every sidecar file under `root`, found by walking the folders and reading the file names
/// (`<transcript>.<annotator>.ron`), with its transcript.
struct Files {
    sidecars: Vec<(PathBuf, Sidecar)>,
    transcripts: HashMap<PathBuf, Transcript>,
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn read_files(root: &Path) -> Files {
    let mut paths = Vec::new();
    walk(root, &mut paths);
    paths.sort();
    let mut files = Files {
        sidecars: Vec::new(),
        transcripts: HashMap::new(),
    };
    for p in &paths {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".txt") {
            files
                .transcripts
                .insert(p.clone(), Transcript::load(p).unwrap());
        }
    }
    for p in &paths {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let Some((transcript, _annotator)) =
            name.strip_suffix(".ron").and_then(|s| s.rsplit_once('.'))
        else {
            continue;
        };
        if !transcript.ends_with(".txt") {
            continue;
        }
        let s = Sidecar::load(p).unwrap().sidecar;
        files.sidecars.push((p.with_file_name(transcript), s));
    }
    files
}

fn load(root: &Path) -> Dataset {
    Dataset::load(root, &Selection::default(), &|_, _| {}).unwrap()
}

/// The counts of a cross-tab as a map of the non-zero cells.
fn cells(t: &CrossTab) -> BTreeMap<(String, String), u64> {
    let mut out = BTreeMap::new();
    for (i, r) in t.rows.iter().enumerate() {
        for (j, c) in t.cols.iter().enumerate() {
            if t.counts[i][j] > 0 {
                out.insert((r.clone(), c.clone()), t.counts[i][j]);
            }
        }
    }
    out
}

/// Pearson's statistic and Cramér's V of a map of cells, from the textbook formula.
fn pearson(cells: &BTreeMap<(String, String), u64>) -> (f64, f64) {
    let mut rows: BTreeMap<&str, u64> = BTreeMap::new();
    let mut cols: BTreeMap<&str, u64> = BTreeMap::new();
    for ((r, c), n) in cells {
        *rows.entry(r).or_default() += n;
        *cols.entry(c).or_default() += n;
    }
    let n: u64 = rows.values().sum();
    let mut x2 = 0.0;
    for (r, nr) in &rows {
        for (c, nc) in &cols {
            let e = *nr as f64 * *nc as f64 / n as f64;
            let o = cells
                .get(&(r.to_string(), c.to_string()))
                .copied()
                .unwrap_or(0) as f64;
            x2 += (o - e) * (o - e) / e;
        }
    }
    let k = rows.len().min(cols.len()) - 1;
    (x2, (x2 / (n as f64 * k as f64)).sqrt())
}

/// Who answered an exchange: its answer's speaker, else the page's field; `(none)` when empty.
fn answerer(t: &Transcript, exchange: u32) -> String {
    t.part(PartId {
        exchange,
        kind: PartKind::Answer,
    })
    .and_then(|p| p.speaker().map(str::to_string))
    .or_else(|| t.meta.answered_by.clone())
    .filter(|s| !s.trim().is_empty())
    .unwrap_or_else(|| "(none)".to_string())
}

/// Counts (answerer, value) over every answer tag of `dimension`, one per annotator and part.
fn by_answerer(
    files: &Files,
    dimension: &str,
    only: Option<&str>,
) -> BTreeMap<(String, String), u64> {
    let mut want = BTreeMap::new();
    for (tp, s) in &files.sidecars {
        if only.is_some_and(|a| a != s.annotator.id) || s.annotator.id == "gold" {
            continue;
        }
        let t = &files.transcripts[tp];
        for (part, dims) in &s.tags {
            if part.kind != PartKind::Answer {
                continue;
            }
            for v in dims.get(dimension).into_iter().flatten() {
                *want
                    .entry((answerer(t, part.exchange), v.clone()))
                    .or_default() += 1;
            }
        }
    }
    want
}

fn check_against_pearson(t: &CrossTab, want: &BTreeMap<(String, String), u64>) {
    let (x2, v) = pearson(want);
    let got = t.chi_square.unwrap();
    assert!((got - x2).abs() <= 1e-9 * x2.max(1.0), "{got} vs {x2}");
    assert!((t.cramers_v.unwrap() - v).abs() <= 1e-9);
    let rows: BTreeSet<&String> = want.keys().map(|k| &k.0).collect();
    let cols: BTreeSet<&String> = want.keys().map(|k| &k.1).collect();
    assert_eq!(
        t.df.unwrap(),
        (rows.len() as u64 - 1) * (cols.len() as u64 - 1)
    );
    assert!(t.p_value.unwrap() > 0.0 && t.p_value.unwrap() <= 1.0);
}

#[test]
fn reply_by_answerer_on_sample_data() {
    let root = sample_dir();
    let files = read_files(&root);
    let d = load(&root);
    for only in [None, Some("alice")] {
        let scope = Scope {
            annotators: only.map(|a| vec![a.to_string()]),
            ..Scope::default()
        };
        let t = crosstab(
            &d,
            &Axis::Field(Field::AnsweredBy),
            &Axis::Dimension("reply".into()),
            &scope,
        )
        .unwrap();
        let want = by_answerer(&files, "reply", only);
        assert!(!want.is_empty());
        assert_eq!(cells(&t), want, "annotators {only:?}");
        assert_eq!(t.total, want.values().sum::<u64>());
        if t.rows.len() > 1 && t.cols.len() > 1 {
            check_against_pearson(&t, &want);
        }
    }
}

#[test]
fn retrieval_on_sample_data_lists_every_coding_once() {
    let root = sample_dir();
    let files = read_files(&root);
    let d = load(&root);
    // Every span of a dimension, and its quote at its offsets.
    let q = CodeQuery::parse("authority_police", &d).unwrap();
    let got = retrieve(&d, &q, &Scope::default()).unwrap();
    let want: usize = files
        .sidecars
        .iter()
        .map(|(_, s)| {
            s.spans
                .iter()
                .filter(|x| x.dimension == "authority_police")
                .count()
        })
        .sum();
    assert!(want > 0);
    assert_eq!(got.len(), want);
    for c in &got {
        let (tp, _) = files
            .sidecars
            .iter()
            .find(|(tp, s)| tp.ends_with(&c.document) && s.annotator.id == c.annotator)
            .unwrap();
        let t = &files.transcripts[tp];
        let part = t.part(c.part.parse().unwrap()).unwrap();
        let text: String = part
            .text()
            .chars()
            .skip(c.start.unwrap())
            .take(c.end.unwrap() - c.start.unwrap())
            .collect();
        assert_eq!(Some(text), c.quote);
        assert!(c.placed);
    }
    // Part tags of one value: one per annotator and part that carries it.
    let q = CodeQuery::parse("tone_answer=defensive", &d).unwrap();
    let got = retrieve(&d, &q, &Scope::default()).unwrap();
    let mut want: Vec<(String, String, String)> = Vec::new();
    for (tp, s) in &files.sidecars {
        for (part, dims) in &s.tags {
            if dims
                .get("tone_answer")
                .is_some_and(|v| v.iter().any(|v| v == "defensive"))
            {
                let doc = tp.file_name().unwrap().to_string_lossy().into_owned();
                want.push((doc, s.annotator.id.clone(), part.to_string()));
            }
        }
    }
    want.sort();
    let mut found: Vec<(String, String, String)> = got
        .iter()
        .map(|c| (c.document.clone(), c.annotator.clone(), c.part.clone()))
        .collect();
    found.sort();
    assert_eq!(found, want);
    assert!(got.iter().all(|c| c.quote.is_none() && c.start.is_none()));
}

/// A generated corpus with three annotators, shared by the tests below.
fn generated() -> (tempfile::TempDir, Files, Dataset) {
    let dir = tempfile::tempdir().unwrap();
    generate(
        dir.path(),
        &GenerateOptions {
            docs: 400,
            annotators: vec!["ann".into(), "ben".into(), "cai".into()],
            coverage: 0.5,
            seed: 11,
        },
    )
    .unwrap();
    let files = read_files(dir.path());
    let d = load(dir.path());
    (dir, files, d)
}

#[test]
fn generated_corpus_cross_tabs_match_the_sidecars() {
    let (_dir, files, d) = generated();
    // Reply by answerer, every annotator counting, then one.
    for only in [None, Some("ben")] {
        let scope = Scope {
            annotators: only.map(|a| vec![a.to_string()]),
            ..Scope::default()
        };
        let t = crosstab(
            &d,
            &Axis::Field(Field::AnsweredBy),
            &Axis::Dimension("reply".into()),
            &scope,
        )
        .unwrap();
        let want = by_answerer(&files, "reply", only);
        assert_eq!(cells(&t), want);
        check_against_pearson(&t, &want);
    }
    // A several-choice dimension (topics) by year: each value of a unit counts.
    let t = crosstab(
        &d,
        &Axis::Dimension("topic".into()),
        &Axis::Field(Field::Year),
        &Scope::default(),
    )
    .unwrap();
    let mut want: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut units = 0;
    for (tp, s) in &files.sidecars {
        let t = &files.transcripts[tp];
        let year = t
            .meta
            .meeting_date
            .or(t.meta.session_date)
            .map(|d| d.format("%Y").to_string())
            .unwrap();
        let topics = s.part_values(PartId::QUESTION, "topic");
        units += u64::from(!topics.is_empty());
        for v in topics {
            *want.entry((v.clone(), year.clone())).or_default() += 1;
        }
    }
    assert_eq!(cells(&t), want);
    assert_eq!(t.units, units);
    assert!(t.total > t.units, "some questions have two topics");
    check_against_pearson(&t, &want);
    // A span dimension by party: the distinct values of an annotator's spans on a page.
    let t = crosstab(
        &d,
        &Axis::Dimension("authority_person".into()),
        &Axis::Field(Field::Organisation),
        &Scope::default(),
    )
    .unwrap();
    let mut want: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (tp, s) in &files.sidecars {
        let party = files.transcripts[tp]
            .meta
            .organisation
            .clone()
            .unwrap_or_else(|| "(none)".to_string());
        let names: BTreeSet<&String> = s
            .spans
            .iter()
            .filter(|x| x.dimension == "authority_person")
            .map(|x| &x.value)
            .collect();
        for n in names {
            *want.entry((n.clone(), party.clone())).or_default() += 1;
        }
    }
    assert!(!want.is_empty());
    assert_eq!(cells(&t), want);
    // Two metadata fields count pages, coded or not.
    let t = crosstab(
        &d,
        &Axis::Field(Field::Year),
        &Axis::Field(Field::Status),
        &Scope::default(),
    )
    .unwrap();
    let mut want: BTreeMap<(String, String), u64> = BTreeMap::new();
    for t in files.transcripts.values() {
        let year = t
            .meta
            .meeting_date
            .or(t.meta.session_date)
            .map(|d| d.format("%Y").to_string())
            .unwrap();
        *want
            .entry((year, t.meta.status.as_str().to_string()))
            .or_default() += 1;
    }
    assert_eq!(cells(&t), want);
    assert_eq!(t.total, 400);
    assert!(t.annotators.is_empty());
    // Tone of the question by tone of the answer: the same annotator's two parts of one page.
    let t = crosstab(
        &d,
        &Axis::Dimension("tone_question".into()),
        &Axis::Dimension("tone_answer".into()),
        &Scope {
            annotators: Some(vec!["cai".into()]),
            ..Scope::default()
        },
    )
    .unwrap();
    let mut want: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (_, s) in files
        .sidecars
        .iter()
        .filter(|(_, s)| s.annotator.id == "cai")
    {
        for q in s.part_values(PartId::QUESTION, "tone_question") {
            for a in s.part_values(PartId::ANSWER, "tone_answer") {
                *want.entry((q.clone(), a.clone())).or_default() += 1;
            }
        }
    }
    assert_eq!(cells(&t), want);
}

#[test]
fn generated_corpus_retrieval_filters_and_frequencies_match_the_sidecars() {
    let (_dir, files, d) = generated();
    // Housing questions coded by ann, among Labour members' questions from 2016 on.
    let scope = Scope {
        annotators: Some(vec!["ann".into()]),
        filter: Some(Filter {
            party: Some("Labour".into()),
            from: chrono::NaiveDate::from_ymd_opt(2016, 1, 1),
            ..Filter::default()
        }),
        ..Scope::default()
    };
    let q = CodeQuery::parse("topic=housing", &d).unwrap();
    let got = retrieve(&d, &q, &scope).unwrap();
    let mut want: Vec<String> = Vec::new();
    for (tp, s) in &files.sidecars {
        let t = &files.transcripts[tp];
        let date = t.meta.meeting_date.or(t.meta.session_date).unwrap();
        if s.annotator.id == "ann"
            && t.meta.organisation.as_deref() == Some("Labour")
            && date >= chrono::NaiveDate::from_ymd_opt(2016, 1, 1).unwrap()
            && s.part_values(PartId::QUESTION, "topic")
                .iter()
                .any(|v| v == "housing")
        {
            want.push(
                tp.strip_prefix(&d.root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
    want.sort();
    let mut found: Vec<String> = got.iter().map(|c| c.document.clone()).collect();
    found.sort();
    assert!(!want.is_empty());
    assert_eq!(found, want);
    // Every span of a dimension, each on its quote.
    let q = CodeQuery::parse("authority_report", &d).unwrap();
    let got = retrieve(&d, &q, &Scope::default()).unwrap();
    let want: usize = files
        .sidecars
        .iter()
        .map(|(_, s)| {
            s.spans
                .iter()
                .filter(|x| x.dimension == "authority_report")
                .count()
        })
        .sum();
    assert!(want > 0);
    assert_eq!(got.len(), want);
    for c in &got {
        let quote: String = c
            .quote
            .as_ref()
            .unwrap()
            .chars()
            .map(|ch| if ch.is_whitespace() { ' ' } else { ch })
            .collect();
        assert!(
            c.placed && c.context.contains(&format!("[{quote}]")),
            "{c:?}"
        );
    }
    // Frequencies of tone of answer: units per value.
    let f = codes::frequencies(&d, &Scope::default()).unwrap();
    let tone = f
        .dimensions
        .iter()
        .find(|x| x.dimension == "tone_answer")
        .unwrap();
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for (_, s) in &files.sidecars {
        for v in s.part_values(PartId::ANSWER, "tone_answer") {
            *want.entry(v.clone()).or_default() += 1;
        }
    }
    let got: BTreeMap<String, u64> = tone
        .values
        .iter()
        .map(|v| (v.value.clone(), v.units))
        .collect();
    assert_eq!(got, want);
    // Co-occurrence: reply and tone of the answer found together, per annotator and answer.
    let c = codes::cooccurrence(
        &d,
        &Scope::default(),
        Some(&["reply".to_string(), "tone_answer".to_string()]),
    )
    .unwrap();
    let mut want: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (_, s) in &files.sidecars {
        for r in s.part_values(PartId::ANSWER, "reply") {
            for t in s.part_values(PartId::ANSWER, "tone_answer") {
                *want.entry((r.clone(), t.clone())).or_default() += 1;
            }
        }
    }
    let mut got: BTreeMap<(String, String), u64> = BTreeMap::new();
    for p in &c.pairs {
        let (a, b) = (&c.codes[p.a], &c.codes[p.b]);
        assert_ne!(a.dimension, b.dimension, "one-choice values never pair");
        let (r, t) = if a.dimension == "reply" {
            (a, b)
        } else {
            (b, a)
        };
        got.insert((r.value.clone(), t.value.clone()), p.parts);
    }
    assert_eq!(got, want);
    // Its CSV: a header, then one row per pair in the same order, with the same counts.
    let csv = String::from_utf8(c.to_csv()).unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let read: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(read.len(), c.pairs.len());
    for (row, p) in read.iter().zip(&c.pairs) {
        assert_eq!(&row[1], c.codes[p.a].value);
        assert_eq!(&row[4], c.codes[p.b].value);
        assert_eq!(row[6].parse::<u64>().unwrap(), p.parts);
    }
}

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
fn crosstab_command_json_csv_and_table() {
    let (code, out, err) = marginalia(&[
        "crosstab",
        "sample_data",
        "--rows",
        "answered_by",
        "--cols",
        "reply",
        "--annotators",
        "alice",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = v["rows"].as_array().unwrap();
    let cols = v["cols"].as_array().unwrap();
    let counts = v["counts"].as_array().unwrap();
    assert_eq!(counts.len(), rows.len());
    assert!(
        counts
            .iter()
            .all(|r| r.as_array().unwrap().len() == cols.len())
    );
    for key in ["chi_square", "df", "p_value", "cramers_v"] {
        assert!(v.get(key).is_some(), "{key}");
    }
    assert!(cols.contains(&serde_json::json!("non_reply")));
    let files = read_files(&sample_dir());
    let total: u64 = by_answerer(&files, "reply", Some("alice")).values().sum();
    assert_eq!(v["total"], total);

    let (code, out, _) = marginalia(&[
        "crosstab",
        "sample_data",
        "--rows",
        "party",
        "--cols",
        "Tone of answer",
        "--csv",
    ]);
    assert_eq!(code, 0);
    let mut r = csv::Reader::from_reader(out.as_bytes());
    let header = r.headers().unwrap().clone();
    assert_eq!(header.get(0), Some("organisation \\ tone_answer"));
    assert_eq!(header.iter().next_back(), Some("total"));
    let records: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let last = records.last().unwrap();
    assert_eq!(last.get(0), Some("total"));
    // Every row's cells add up to its total.
    for rec in &records {
        let n = rec.len();
        let sum: u64 = (1..n - 1).map(|i| rec[i].parse::<u64>().unwrap()).sum();
        assert_eq!(sum, rec[n - 1].parse::<u64>().unwrap());
    }

    let (code, out, err) = marginalia(&[
        "crosstab",
        "sample_data",
        "--rows",
        "answered_by",
        "--cols",
        "reply",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("chi-square") && out.contains("Cramér's V"),
        "{out}"
    );
    assert!(err.contains("not independent"), "{err}");

    let (code, out, err) = marginalia(&[
        "crosstab",
        "sample_data",
        "--rows",
        "tone",
        "--cols",
        "year",
    ]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("marginalia: unknown field \"tone\""),
        "{err}"
    );
}

#[test]
fn retrieve_command_lines_and_json() {
    let (code, out, err) = marginalia(&[
        "retrieve",
        "sample_data",
        "--code",
        "authority_person=Sir Peter Fahy",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!lines.is_empty());
    for v in &lines {
        for key in [
            "document",
            "annotator",
            "part",
            "dimension",
            "value",
            "start",
            "end",
            "quote",
            "note",
            "date",
            "member",
            "party",
            "office_holder",
            "context",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        assert_eq!(v["value"], "Sir Peter Fahy");
        assert!(v["start"].is_u64() && v["quote"].is_string());
    }
    assert!(err.contains(&format!("{} codings", lines.len())));
    // Part tags: null positions and quote; only questions with --part.
    let (code, out, _) = marginalia(&[
        "retrieve",
        "sample_data",
        "--code",
        "topic",
        "--part",
        "question",
        "--json",
    ]);
    assert_eq!(code, 0);
    for l in out.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert!(v["quote"].is_null() && v["start"].is_null());
        assert!(v["part"].as_str().unwrap().starts_with("question"));
    }
    // One line per coding, tab-separated, 14 fields.
    let (code, out, _) = marginalia(&[
        "retrieve",
        "sample_data",
        "--code",
        "reply",
        "--party",
        "Labour",
    ]);
    assert_eq!(code, 0);
    assert!(!out.is_empty());
    for l in out.lines() {
        let f: Vec<&str> = l.split('\t').collect();
        assert_eq!(f.len(), 14, "{l}");
        assert_eq!(f[11], "Labour");
    }
    let (code, _, err) = marginalia(&["retrieve", "sample_data", "--code", "tone_answer=grumpy"]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1);
    assert!(err.contains("has no value \"grumpy\""), "{err}");
}

#[test]
fn the_reconciled_set_counts_only_when_chosen() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(sample_dir()).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    // A reconciled sidecar, as adjudication writes it.
    let alice = std::fs::read_to_string(dir.path().join("prevent.txt.alice.ron")).unwrap();
    let gold = alice.replacen("id: \"alice\"", "id: \"gold\"", 1);
    assert_ne!(gold, alice);
    std::fs::write(dir.path().join("prevent.txt.gold.ron"), gold).unwrap();
    let d = dir.path().to_str().unwrap();
    let annotators = |out: &str| -> BTreeSet<String> {
        out.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["annotator"].as_str().unwrap().to_string()
            })
            .collect()
    };
    let (code, out, _) = marginalia(&["retrieve", d, "--code", "tone_answer", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(
        annotators(&out),
        BTreeSet::from(["alice".into(), "bob".into()])
    );
    let (code, out, _) = marginalia(&[
        "retrieve",
        d,
        "--code",
        "tone_answer",
        "--annotators",
        "gold",
        "--json",
    ]);
    assert_eq!(code, 0);
    assert_eq!(annotators(&out), BTreeSet::from(["gold".into()]));
    let (code, out, _) = marginalia(&[
        "crosstab",
        d,
        "--rows",
        "answered_by",
        "--cols",
        "tone_answer",
        "--annotators",
        "gold",
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["total"], 1);
    assert_eq!(v["annotators"], serde_json::json!(["gold"]));
}

#[test]
fn codes_command_frequencies_and_cooccurrence() {
    let (code, out, err) = marginalia(&["codes", "sample_data", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let dims = v["dimensions"].as_array().unwrap();
    let reply = dims.iter().find(|d| d["dimension"] == "reply").unwrap();
    let sum: u64 = reply["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["units"].as_u64().unwrap())
        .sum();
    assert_eq!(reply["units"].as_u64().unwrap(), sum);
    let (code, out, _) = marginalia(&[
        "codes",
        "sample_data",
        "--cooccurrence",
        "--dimensions",
        "reply,non_reply",
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["codes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["dimension"] == "reply" || c["dimension"] == "non_reply")
    );
    assert!(!v["pairs"].as_array().unwrap().is_empty());
}

#[test]
fn spans_off_their_quote_are_listed_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(sample_dir()).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    // The answer gets a new opening sentence: every stored offset now points at other text.
    let page = dir.path().join("prevent.txt");
    let text = std::fs::read_to_string(&page).unwrap();
    let edited = text.replacen("MPS and MOPAC", "We have reviewed this. MPS and MOPAC", 1);
    assert_ne!(edited, text);
    std::fs::write(&page, edited).unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, out, err) = marginalia(&["retrieve", d, "--code", "authority_police", "--json"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let moved: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|v| v["document"] == "prevent.txt")
        .collect();
    assert!(!moved.is_empty());
    for v in &moved {
        assert_eq!(v["placed"], false);
        assert_eq!(v["context"], "");
        assert!(v["quote"].is_string());
    }
    assert!(err.contains("no longer lie on their quote"), "{err}");
}
