//! The transcripts researchers actually have (issue 11): select-committee hearings, Hansard
//! committee style, interviews, timed transcripts (Zoom and Teams WebVTT, SubRip, Otter), Word,
//! OpenDocument and saved web pages, every ParlParse archive, the GLA page variants, and the bad
//! input each container can bring. Every fixture is written for these tests in the real layouts.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "a test crate: an unwrap that fails is a failing test, and says where"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use marginalia::codebook::Codebook;
use marginalia::corpus::{CorpusIndex, scan};
use marginalia::document::{Document, Edit};
use marginalia::sidecar::{Annotator, Span};
use marginalia::transcript::{AnswerStatus, Container, Format, Part, PartId, PartKind, Transcript};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats")
        .join(name)
}

fn parlparse(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/parlparse")
        .join(name)
}

fn load(name: &str) -> Transcript {
    Transcript::load(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn part(t: &Transcript, exchange: u32, kind: PartKind) -> &Part {
    t.part(PartId { exchange, kind })
        .unwrap_or_else(|| panic!("no {kind:?} in exchange {exchange}"))
}

fn speakers(t: &Transcript) -> Vec<String> {
    t.parts
        .iter()
        .filter_map(|p| p.speaker().map(str::to_string))
        .collect()
}

#[test]
fn select_committee_oral_evidence() {
    let t = load("hearing-oral-evidence.txt");
    assert_eq!(t.format, Format::SpeakerTurns);
    assert_eq!(t.container, Container::Txt);
    assert_eq!(
        t.meta.title,
        "Oral evidence taken before the Transport Committee"
    );
    assert_eq!(t.exchange_count(), 4);
    assert_eq!(t.meta.reference.as_deref(), Some("369"));
    assert_eq!(t.meta.question_by.as_deref(), Some("Chairman"));
    assert_eq!(
        t.meta.answered_by.as_deref(),
        Some("Mr Ashdown and Ms Pryce")
    );
    // Wrapped lines stay in their turn; the question number is the exchange's reference.
    let q = part(&t, 0, PartKind::Question);
    assert_eq!(
        q.text(),
        "Good morning, and welcome. Would you introduce\nyourselves for the record?"
    );
    assert_eq!(q.reference.as_deref(), Some("369"));
    // Two turns in an answer keep their labels; so do consecutive turns of one speaker.
    let a = part(&t, 0, PartKind::Answer);
    assert!(
        a.text().starts_with("Mr Ashdown: Robert Ashdown"),
        "{}",
        a.text()
    );
    assert!(
        a.text().contains("\n\nMs Pryce: Helen Pryce"),
        "{}",
        a.text()
    );
    let a2 = part(&t, 1, PartKind::Answer);
    assert!(
        a2.text().starts_with("Mr Ashdown: The flood damage"),
        "{}",
        a2.text()
    );
    assert!(
        a2.text().contains("\n\nMr Ashdown: I should add"),
        "{}",
        a2.text()
    );
    assert_eq!(a2.speaker(), Some("Mr Ashdown"));
    // `Q371<spaces>Mr Scott:` is a member's question.
    let q3 = part(&t, 2, PartKind::Question);
    assert_eq!(q3.speaker(), Some("Mr Scott"));
    assert_eq!(q3.reference.as_deref(), Some("371"));
    assert_eq!(q3.text(), "Who decided the order of the repairs?");
    // Furniture is never a speaker: Note, Representations, the roman-numeral list.
    let all = speakers(&t);
    for junk in ["Note", "Representations", "I", "II", "III"] {
        assert!(!all.iter().any(|s| s == junk), "{junk} in {all:?}");
    }
    let a3 = part(&t, 2, PartKind::Answer);
    assert!(
        a3.text().contains("\nI: the number of people"),
        "{}",
        a3.text()
    );
    assert!(a3.text().contains("Representations: none received."));
    assert!(a2.text().contains("Note: the Trust later supplied"));
    // The witness header is not in any exchange.
    assert!(!t.parts.iter().any(|p| p.text().contains("gave\nevidence")));
    assert_eq!(
        part(&t, 3, PartKind::Question).speaker(),
        Some("Mr Clelland")
    );
}

#[test]
fn hansard_committee_dash_labels() {
    let t = load("hearing-hansard-dash.txt");
    assert_eq!(t.format, Format::SpeakerTurns);
    assert_eq!(t.exchange_count(), 4);
    assert_eq!(t.meta.question_by.as_deref(), Some("CHAIR"));
    assert_eq!(t.meta.answered_by.as_deref(), Some("Mr Douglas"));
    assert_eq!(
        part(&t, 0, PartKind::Question).text(),
        "I declare open this public hearing. I welcome the officers of the department."
    );
    let q = part(&t, 2, PartKind::Question);
    assert_eq!(q.speaker(), Some("Senator SMITH"));
    assert_eq!(
        q.text(),
        "How many of those projects are still operating today?"
    );
    let a = part(&t, 3, PartKind::Answer);
    assert_eq!(a.speaker(), Some("Mr HAYES"));
    // A dash inside a turn is prose.
    assert_eq!(
        a.text(),
        "They were, in writing — each of them received a letter in March."
    );
}

#[test]
fn interview_roles_are_not_people_and_turns_keep_labels() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    let qa = Transcript::load(&root.join("interview-transport-planner.txt")).unwrap();
    assert_eq!(qa.format, Format::SpeakerTurns);
    assert_eq!(qa.meta.question_by, None);
    assert_eq!(qa.meta.answered_by, None);
    assert!(speakers(&qa).is_empty(), "{:?}", speakers(&qa));

    let t = Transcript::load(&root.join("interview-community-officer.txt")).unwrap();
    assert_eq!(t.meta.question_by, None);
    let a = part(&t, 1, PartKind::Answer);
    assert!(a.text().starts_with("RESPONDENT: Yes, a great deal."));
    assert!(a.text().contains("\n\nRESPONDENT: To be fair,"));
}

#[test]
fn zoom_webvtt() {
    let t = load("zoom-meeting.vtt");
    assert_eq!(
        (t.format, t.container),
        (Format::SpeakerTurns, Container::Vtt)
    );
    assert_eq!(t.exchange_count(), 2);
    assert_eq!(t.meta.question_by.as_deref(), Some("Priya Natarajan"));
    assert_eq!(t.meta.answered_by.as_deref(), Some("Tom Edwards"));
    // Consecutive cues of one speaker form one turn.
    let q = part(&t, 0, PartKind::Question);
    assert_eq!(
        q.text(),
        "Welcome, everyone. Shall we start with the housing figures? I know the draft went round on Friday."
    );
    assert_eq!((q.start_ms, q.end_ms), (Some(1200), Some(9400)));
    let a = part(&t, 0, PartKind::Answer);
    assert_eq!(
        a.text(),
        "Yes. Completions were down by about a fifth on last year, mostly because two large sites stalled."
    );
    assert_eq!((a.start_ms, a.end_ms), (Some(10_000), Some(16_500)));
    assert_eq!(part(&t, 1, PartKind::Answer).end_ms, Some(27_000));
}

#[test]
fn teams_webvtt() {
    let t = load("teams-meeting.vtt");
    assert_eq!(
        (t.format, t.container),
        (Format::SpeakerTurns, Container::Vtt)
    );
    assert_eq!(t.exchange_count(), 2);
    assert_eq!(t.meta.question_by.as_deref(), Some("Alex Morgan"));
    assert_eq!(t.meta.answered_by.as_deref(), Some("Dana Whitfield"));
    let a = part(&t, 0, PartKind::Answer);
    assert_eq!(
        a.text(),
        "We closed three of the seven centres and moved staff to outreach work. Attendance fell at first, then partly recovered."
    );
    assert_eq!((a.start_ms, a.end_ms), (Some(10_000), Some(19_000)));
    let last = part(&t, 1, PartKind::Answer);
    assert_eq!(
        last.text(),
        "The cabinet member, on a report from officers & the youth board."
    );
    assert_eq!(last.end_ms, Some(62_750));
    assert!(
        !t.parts
            .iter()
            .any(|p| p.text().contains("<v") || p.text().contains("3f2a"))
    );
}

#[test]
fn subrip() {
    let t = load("captions.srt");
    assert_eq!(
        (t.format, t.container),
        (Format::SpeakerTurns, Container::Srt)
    );
    assert_eq!(t.exchange_count(), 2);
    assert_eq!(t.meta.question_by, None, "INTERVIEWER is a role");
    let q = part(&t, 0, PartKind::Question);
    assert_eq!(q.text(), "What did the review find about the night buses?");
    assert_eq!((q.start_ms, q.end_ms), (Some(500), Some(4000)));
    assert_eq!(
        part(&t, 1, PartKind::Answer).text(),
        "Two were merged. None were cut."
    );
}

#[test]
fn otter_text_export() {
    let t = load("otter-interview.txt");
    assert_eq!(
        (t.format, t.container),
        (Format::SpeakerTurns, Container::Txt)
    );
    assert_eq!(t.meta.title, "Library opening hours interview");
    assert_eq!(t.exchange_count(), 2);
    assert_eq!(t.meta.question_by.as_deref(), Some("Speaker 1"));
    let q = part(&t, 0, PartKind::Question);
    assert_eq!((q.start_ms, q.end_ms), (Some(3000), Some(11_000)));
    let a = part(&t, 0, PartKind::Answer);
    assert!(a.text().starts_with("Sure. We surveyed"));
    assert!(
        a.text()
            .contains("\n\nWe also looked at the footfall counters")
    );
    assert_eq!((a.start_ms, a.end_ms), (Some(11_000), Some(31_000)));
    // The last turn's end is not known.
    let last = part(&t, 1, PartKind::Answer);
    assert_eq!((last.start_ms, last.end_ms), (Some(35_000), None));
}

#[test]
fn gla_written_response_received() {
    let t = load("gla-written-response.txt");
    assert_eq!(t.format, Format::GlaMqt);
    assert_eq!(t.meta.status, AnswerStatus::Answered);
    assert_eq!(
        t.meta.answer_date,
        chrono::NaiveDate::from_ymd_opt(2012, 11, 29)
    );
    assert!(t.answer().contains("In October 412 street lights"));
}

#[test]
fn gla_bare_title_answer_heading() {
    let t = load("gla-bare-title-heading.txt");
    assert_eq!(t.format, Format::GlaMqt);
    assert_eq!(
        t.question(),
        "How many new docking stations will open in the south-east of the city this year?"
    );
    assert_eq!(t.meta.answered_by.as_deref(), Some("The Mayor"));
    assert_eq!(
        t.answer(),
        "Twenty-four docking stations will open by December, most of them near rail stations."
    );
    assert_eq!(t.meta.status, AnswerStatus::Answered);
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);
}

#[test]
fn gla_empty_answer_for_heading() {
    let t = load("gla-empty-answer-heading.txt");
    assert_eq!(
        t.question(),
        "What share of bus stops meet the accessibility standard?"
    );
    assert_eq!(t.meta.title, "Bus stop accessibility");
    assert_eq!(
        t.answer(),
        "Ninety-five per cent of stops met the standard at the end of March."
    );
    assert_eq!(t.meta.status, AnswerStatus::Answered);
}

#[test]
fn gla_page_saved_from_the_browser_gives_the_fields_of_its_text() {
    let t = load("gla-question-saved.html");
    assert_eq!((t.format, t.container), (Format::GlaMqt, Container::Html));
    let text = Transcript::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/fares-freeze.txt"),
    )
    .unwrap();
    let (m, r) = (&t.meta, &text.meta);
    assert_eq!(m.title, r.title);
    assert_eq!((&m.meeting, m.meeting_date), (&r.meeting, r.meeting_date));
    assert_eq!(m.session_date, r.session_date);
    assert_eq!(m.question_by, r.question_by);
    assert_eq!(m.organisation, r.organisation);
    assert_eq!(m.asked_of, r.asked_of);
    assert_eq!(m.answered_by, r.answered_by);
    assert_eq!(m.status, r.status);
    assert!(
        t.question()
            .starts_with("Your manifesto promised that Londoners would “not pay")
    );
    assert!(t.question().contains("£640 million"));
    assert!(
        t.answer()
            .starts_with("The fares freeze is putting money back")
    );
    assert!(t.answer().contains("my promise — the previous Mayor"));
    // Navigation, header, footer, scripts, styles and the skip link are not text.
    for part in &t.parts {
        for junk in [
            "Skip to main",
            "Who we are",
            "Privacy",
            "gtag",
            "font-weight",
            "©",
        ] {
            assert!(!part.text().contains(junk), "{junk} in {}", part.text());
        }
    }
}

#[test]
fn committee_page_saved_as_html_reads_as_a_hearing() {
    let t = load("committee-oral-evidence.htm");
    assert_eq!(
        (t.format, t.container),
        (Format::SpeakerTurns, Container::Html)
    );
    assert!(t.encoding.starts_with("windows-1252"), "{}", t.encoding);
    assert_eq!(t.exchange_count(), 3);
    assert_eq!(t.meta.reference.as_deref(), Some("40"));
    assert_eq!(t.meta.answered_by.as_deref(), Some("Ms Holloway"));
    assert!(
        part(&t, 0, PartKind::Answer)
            .text()
            .contains("“family ticket” cost £12")
    );
    assert_eq!(
        part(&t, 1, PartKind::Question).speaker(),
        Some("Mr Fenwick")
    );
    assert_eq!(part(&t, 1, PartKind::Answer).speaker(), Some("Mr Ferris"));
}

#[test]
fn word_document() {
    let t = load("interview-housing.docx");
    assert_eq!(
        (t.format, t.container),
        (Format::SpeakerTurns, Container::Docx)
    );
    assert_eq!(
        t.meta.title,
        "Interview with a housing officer, Hackney, 4 May 2021"
    );
    assert_eq!(t.exchange_count(), 2);
    // Bold labels and typed ones alike; Interviewer is a role.
    assert_eq!(t.meta.question_by, None);
    assert_eq!(t.meta.answered_by.as_deref(), Some("Officer"));
    assert_eq!(
        t.question(),
        "How long have you worked on the estate renewal programme?"
    );
    assert_eq!(
        t.answer(),
        "Since it started in 2016. Before that I was in lettings."
    );
    let a = part(&t, 1, PartKind::Answer);
    assert_eq!(
        a.text(),
        "Officer: Most of them wanted it. The turnout was 71 per cent & the vote was clear.\n\nOfficer: The ones who objected were mostly leaseholders."
    );
}

#[test]
fn opendocument_text() {
    let t = load("interview-governor.odt");
    assert_eq!(
        (t.format, t.container),
        (Format::SpeakerTurns, Container::Odt)
    );
    assert_eq!(
        t.meta.title,
        "Interview with a school governor, Lewisham, 2 February 2022"
    );
    assert_eq!(t.exchange_count(), 2);
    assert_eq!(
        t.answer(),
        "The two schools are a mile apart  and the\tconsultation came in the holidays."
    );
    // Footnotes are not the interview.
    assert!(!t.parts.iter().any(|p| p.text().contains("20 July")));
    assert_eq!(
        part(&t, 1, PartKind::Answer).text(),
        "Eventually, in October."
    );
}

/// Every bad container: one line, naming the file, no panic.
#[test]
fn bad_containers_get_one_line_errors() {
    for (name, says) in [
        ("corrupt.docx", "not a readable zip archive"),
        ("not-a-zip.docx", "not a readable zip archive"),
        ("zip-bomb.docx", "zip bomb"),
        ("path-traversal.docx", "leaves the archive"),
        ("entity-bomb.docx", "DOCTYPE"),
    ] {
        let e = Transcript::load(&fixture(name)).unwrap_err().to_string();
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(e.contains(says), "{name}: {e}");
        assert!(e.ends_with(name), "{e}");
    }
}

#[test]
fn a_500_mb_web_page_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("enormous.html");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(500 * 1024 * 1024).unwrap();
    let e = Transcript::load(&big).unwrap_err().to_string();
    assert_eq!(e.lines().count(), 1);
    assert!(
        e.contains("over the limit") && e.ends_with("enormous.html"),
        "{e}"
    );
}

#[test]
fn unclosed_and_broken_markup_is_read_as_browsers_do() {
    let html = "<p>CHAIR: Is it <b>broken?<p>Witness Jones: It is &amp; it isn&#x27;t &zzzq; <script>x=\"<p>\"";
    let t = Transcript::from_file_bytes("broken.html", html.as_bytes().to_vec()).unwrap();
    assert_eq!(t.format, Format::SpeakerTurns);
    assert_eq!(t.answer(), "It is & it isn't &zzzq;");
}

#[test]
fn parlparse_declared_iso_8859_1_with_doctype_entities() {
    let file = parlparse("answers2004-03-15.xml");
    let items = marginalia::transcript::parlparse::items(&file).unwrap();
    assert_eq!(items.len(), 1);
    let t = Transcript::load(&marginalia::transcript::parlparse::virtual_path(
        &file,
        &items.items[0].id,
    ))
    .unwrap();
    assert_eq!((t.format, t.container), (Format::ParlParse, Container::Xml));
    assert!(t.encoding.starts_with("windows-1252"), "{}", t.encoding);
    assert!(t.question().contains("in 2002–03."), "{}", t.question());
    let a = t.answer();
    assert!(
        a.contains("allowance—mid-range for the industry—was"),
        "{a}"
    );
    assert!(
        a.contains("was €60 million; the domestic share was £12 million."),
        "{a}"
    );
    assert!(a.contains("Café services"), "{a}");
    // Table cells keep their columns: an entity no longer vanishes.
    assert!(a.contains("Franchise £ per journey\nNorthern 2·40"), "{a}");
}

#[test]
fn parlparse_debates_are_speaker_turns_with_names() {
    let file = parlparse("westminhall2005-11-02b.xml");
    let items = marginalia::transcript::parlparse::items(&file).unwrap();
    assert_eq!(items.len(), 2);
    let t = Transcript::load(&marginalia::transcript::parlparse::virtual_path(
        &file,
        &items.items[0].id,
    ))
    .unwrap();
    assert_eq!(t.format, Format::SpeakerTurns);
    assert_eq!(t.meta.title, "Rural Bus Services");
    assert_eq!(t.meta.question_by.as_deref(), Some("Mrs Ann Keller"));
    assert_eq!(t.meta.answered_by.as_deref(), Some("Mr Derek Lowe"));
    assert_eq!(t.exchange_count(), 2);
    assert!(t.question().contains("lost their Sunday buses"));
    // Narrative stays with the turn before it, never lost.
    assert!(t.answer().contains("Sitting suspended."), "{}", t.answer());
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    let second = Transcript::load(&marginalia::transcript::parlparse::virtual_path(
        &file,
        &items.items[1].id,
    ))
    .unwrap();
    assert_eq!(second.meta.title, "Community Transport");
    assert_eq!(second.meta.answered_by.as_deref(), Some("Mr Derek Lowe"));
}

#[test]
fn parlparse_superseded_file_is_flagged() {
    let file = parlparse("debates2005-11-02a.xml");
    let items = marginalia::transcript::parlparse::items(&file).unwrap();
    let t = Transcript::load(&marginalia::transcript::parlparse::virtual_path(
        &file,
        &items.items[0].id,
    ))
    .unwrap();
    assert!(
        t.warnings.iter().any(|w| w.contains("superseded")),
        "{:?}",
        t.warnings
    );
}

#[test]
fn parlparse_entity_bomb_and_external_entities() {
    let bomb = parlparse("answers2004-03-16.xml");
    let e = marginalia::transcript::parlparse::items(&bomb).unwrap_err();
    assert!(
        matches!(
            e,
            marginalia::transcript::parlparse::ParlParseError::EntityBomb
                | marginalia::transcript::parlparse::ParlParseError::NestedEntities(_)
        ),
        "{e}"
    );
    assert!(e.to_string().contains("entit"), "{e}");
    let e = Transcript::load(&marginalia::transcript::parlparse::virtual_path(&bomb, "1"))
        .unwrap_err()
        .to_string();
    assert_eq!(e.lines().count(), 1);

    let external = parlparse("answers2004-03-17.xml");
    let items = marginalia::transcript::parlparse::items(&external).unwrap();
    let t = Transcript::load(&marginalia::transcript::parlparse::virtual_path(
        &external,
        &items.items[0].id,
    ))
    .unwrap();
    assert_eq!(t.question(), "What does the file say?");
    assert!(t.warnings.iter().any(|w| w.contains("never fetched")));
}

#[test]
fn a_parlparse_file_opened_without_an_id_lists_its_items() {
    let e = Transcript::load(&parlparse("answers2026-02-23.xml"))
        .unwrap_err()
        .to_string();
    assert_eq!(e.lines().count(), 1);
    assert!(
        e.contains("2 item(s)")
            && e.contains("answers2026-02-23.xml#112103 (Police: Recruitment & Retention)")
            && e.contains("answers2026-02-23.xml#112200"),
        "{e}"
    );
}

/// A folder mixing every container opens as a corpus, lists each document with its title and
/// speakers, and is tagged, searched, exported and validated alike.
#[test]
fn a_folder_of_every_container() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "hearing-oral-evidence.txt",
        "gla-question-saved.html",
        "committee-oral-evidence.htm",
        "interview-housing.docx",
        "interview-governor.odt",
        "zoom-meeting.vtt",
        "teams-meeting.vtt",
        "captions.srt",
    ] {
        std::fs::copy(fixture(name), dir.path().join(name)).unwrap();
    }
    std::fs::copy(
        parlparse("answers2026-02-23.xml"),
        dir.path().join("answers2026-02-23.xml"),
    )
    .unwrap();
    let files = scan(dir.path()).unwrap();
    assert_eq!(files.transcripts.len(), 10, "{:?}", files.transcripts);
    let index = CorpusIndex::load(dir.path(), "alice").unwrap();
    for entry in &index.entries {
        assert!(entry.error.is_none(), "{:?}", entry.error);
    }
    let docx = dir.path().join("interview-housing.docx");
    let alice = Annotator {
        id: "alice".into(),
        name: "Alice".into(),
    };
    let codebook = Codebook::builtin();
    let mut doc = Document::open(&docx, &alice, &codebook).unwrap();
    let answer = doc.transcript.answer().to_string();
    let start = answer.find("2016").unwrap();
    let span = Span::new(
        "alice-001".into(),
        PartId::ANSWER,
        &answer,
        start,
        start + 4,
        "authority_report",
        "2016",
    )
    .unwrap();
    doc.apply(Edit::AddSpan(span)).unwrap();
    doc.save().unwrap();
    assert!(dir.path().join("interview-housing.docx.alice.ron").exists());
    let vtt = dir.path().join("teams-meeting.vtt");
    let mut doc = Document::open(&vtt, &alice, &codebook).unwrap();
    doc.apply(Edit::SetPartValues {
        part: PartId::ANSWER,
        dimension: "tone_answer".into(),
        values: vec!["neutral".into()],
    })
    .unwrap();
    doc.save().unwrap();

    let bin = env!("CARGO_BIN_EXE_marginalia");
    let run = |args: &[&str]| {
        let out = Command::new(bin).args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let d = dir.path().to_str().unwrap();
    let (code, out, err) = run(&["validate", d]);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, _) = run(&["search", d, "outreach"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("teams-meeting.vtt"), "{out}");
    let (code, out, _) = run(&["search", d, "leaseholders"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("interview-housing.docx"), "{out}");
    for format in ["csv", "jsonl", "qdpx"] {
        let target = dir.path().join(format!("out.{format}"));
        let (code, _, err) = run(&[
            "export",
            d,
            "--format",
            format,
            "-o",
            target.to_str().unwrap(),
        ]);
        assert_eq!(code, Some(0), "{format}: {err}");
        assert!(target.metadata().unwrap().len() > 0);
    }
    let csv = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
    assert!(
        csv.contains("interview-housing.docx") && csv.contains(",2016,"),
        "{csv}"
    );
    let (code, out, _) = run(&["inspect", &vtt.to_string_lossy(), "--json"]);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["container"], "vtt");
    assert_eq!(v["format"], "speaker-turns");
    assert_eq!(v["exchanges"][0]["start"], 2.0);
    assert_eq!(v["exchanges"][0]["end"], 19.0);
    let (_, out, _) = run(&["inspect", &docx.to_string_lossy(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["container"], "docx");
    assert!(v["exchanges"][0].get("start").is_none());
}

/// A changed Word document is re-anchored like a changed text file: offsets are over the
/// extracted text, so a paragraph added before a span moves it and flags it.
#[test]
fn a_changed_office_document_is_reanchored() {
    let dir = tempfile::tempdir().unwrap();
    let docx = dir.path().join("interview-governor.odt");
    std::fs::copy(fixture("interview-governor.odt"), &docx).unwrap();
    let alice = Annotator {
        id: "alice".into(),
        name: "Alice".into(),
    };
    let codebook = Codebook::builtin();
    let mut doc = Document::open(&docx, &alice, &codebook).unwrap();
    let answer = doc.transcript.answer().to_string();
    let start = answer.find("consultation").unwrap();
    let start = answer[..start].chars().count();
    let span = Span::new(
        "alice-001".into(),
        PartId::ANSWER,
        &answer,
        start,
        start + "consultation".len(),
        "authority_report",
        "consultation",
    )
    .unwrap();
    doc.apply(Edit::AddSpan(span)).unwrap();
    doc.save().unwrap();
    drop(doc);

    // The same document edited: words added at the start of the answer.
    let bytes = std::fs::read(fixture("interview-governor.odt")).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut content).unwrap();
        if name == "content.xml" {
            let s = String::from_utf8(content)
                .unwrap()
                .replace("A: The two schools", "A: Put simply, the two schools");
            content = s.into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut out, &content).unwrap();
    }
    std::fs::write(&docx, out.finish().unwrap().into_inner()).unwrap();

    let doc = Document::open(&docx, &alice, &codebook).unwrap();
    let r = doc.reanchored.as_ref().expect("the text changed");
    assert_eq!((r.placed_again, r.orphans), (1, 0));
    let span = &doc.sidecar.spans[0];
    assert_eq!(span.quote, "consultation");
    let answer: Vec<char> = doc.transcript.answer().chars().collect();
    let placed: String = answer[span.start..span.end].iter().collect();
    assert_eq!(placed, "consultation");
}

proptest::proptest! {
    /// No bytes make a container reader panic: web pages, subtitles, Word and OpenDocument files,
    /// ParlParse XML.
    #[test]
    fn container_readers_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1500)) {
        for name in ["x.html", "x.vtt", "x.srt", "x.docx", "x.odt", "x.txt"] {
            if let Ok(t) = Transcript::from_file_bytes(name, bytes.clone()) {
                for p in &t.parts {
                    proptest::prop_assert!(!p.text().contains('\r'));
                }
            }
        }
        if let Ok(text) = std::str::from_utf8(&bytes) {
            #[expect(clippy::let_underscore_must_use, reason = "only that it returns is tested")]
            let _ = marginalia::transcript::parlparse::parse(text);
        }
    }

    /// Mutated real files: a Word document and a Teams transcript with one byte changed or cut.
    #[test]
    fn mutated_containers_never_panic(cut in 0usize..1400, byte in proptest::prelude::any::<u8>(), at in 0usize..1400) {
        for name in ["interview-housing.docx", "teams-meeting.vtt", "gla-question-saved.html", "interview-governor.odt"] {
            let mut bytes = std::fs::read(fixture(name)).unwrap();
            let at = at % bytes.len();
            bytes[at] = byte;
            bytes.truncate(cut.max(1).min(bytes.len()));
            #[expect(clippy::let_underscore_must_use, reason = "only that it returns is tested")]
            let _ = Transcript::from_file_bytes(name, bytes);
        }
    }
}

fn word_span(id: &str, part: &Part, words: &str, dimension: &str, value: &str) -> Span {
    let at = part
        .text()
        .find(words)
        .unwrap_or_else(|| panic!("{words:?} not in {}", part.text()));
    let start = part.text()[..at].chars().count();
    Span::new(
        id.into(),
        part.id,
        part.text(),
        start,
        start + words.chars().count(),
        dimension,
        value,
    )
    .unwrap()
}

fn tag(part: &str, dimension: &str, value: &str) -> Edit {
    Edit::SetPartValues {
        part: part.parse().unwrap(),
        dimension: dimension.into(),
        values: vec![value.into()],
    }
}

/// The user says a witness the reader took for an answerer asks (issue 11): the exchanges are
/// built again, every tag and span follows its words, what cannot follow is listed and kept,
/// undo and redo restore both the codings and the exchanges, and the roles are saved in the
/// sidecar and applied on the next opening.
#[test]
fn swapping_a_speakers_role_rebuilds_the_exchanges_and_carries_the_codings() {
    use marginalia::transcript::Role;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hearing.txt");
    std::fs::copy(fixture("hearing-oral-evidence.txt"), &path).unwrap();
    let alice = Annotator {
        id: "alice".into(),
        name: "Alice".into(),
    };
    let codebook = Codebook::builtin();
    let mut doc = Document::open(&path, &alice, &codebook).unwrap();
    let roles = doc.speaker_roles();
    let guessed: Vec<(&str, Role, bool)> = roles
        .iter()
        .map(|s| (s.speaker.as_str(), s.role, s.set))
        .collect();
    assert_eq!(
        guessed,
        [
            ("Chairman", Role::Asker, false),
            ("Mr Ashdown", Role::Answerer, false),
            ("Ms Pryce", Role::Answerer, false),
            ("Mr Scott", Role::Asker, false),
            ("Mr Clelland", Role::Asker, false),
        ]
    );
    assert_eq!(doc.transcript.exchange_count(), 4);
    let original_parts = doc.transcript.parts.clone();

    // Codings in the guessed exchanges.
    for e in [
        tag("answer", "tone_answer", "neutral"), // Ashdown and Pryce: split by the swap
        tag("answer.4", "tone_answer", "evasive"), // Ashdown's last answer: renumbered
        tag("question.4", "tone_question", "critical"), // Clelland's: joins Scott's and Pryce's
    ] {
        doc.apply(e).unwrap();
    }
    let a0 = doc.transcript.part(PartId::ANSWER).unwrap().clone();
    for span in [
        word_span(
            "alice-001",
            &a0,
            "Director of Operations",
            "authority_person",
            "x",
        ),
        word_span("alice-002", &a0, "Head of Safety", "authority_person", "y"),
        word_span(
            "alice-003",
            &a0,
            "Trust.\n\nMs Pryce: Helen",
            "authority_person",
            "z",
        ),
    ] {
        doc.apply(Edit::AddSpan(span)).unwrap();
    }
    let before = doc.sidecar.clone();

    // Nothing changes until the edit is applied.
    let change = doc.role_change("Ms Pryce", Some(Role::Asker)).unwrap();
    assert_eq!(doc.sidecar, before);
    assert_eq!(doc.transcript.parts, original_parts);
    assert_eq!(change.unplaced.len(), 2, "{:#?}", change.unplaced);
    assert!(change.unplaced[0].contains("tag \"tone_answer: neutral\" on answer"));
    assert!(change.unplaced[1].contains("span \"alice-003\""));
    assert!(doc.role_change("Nobody", Some(Role::Asker)).is_err());

    doc.apply(change.edit).unwrap();
    let t = &doc.transcript;
    assert_eq!(t.exchange_count(), 3);
    assert_eq!(t.meta.answered_by.as_deref(), Some("Mr Ashdown"));
    assert_eq!(
        part(t, 1, PartKind::Question).speaker(),
        Some("Ms Pryce and Chairman")
    );
    assert_eq!(
        part(t, 2, PartKind::Question).speaker(),
        Some("Mr Scott and Ms Pryce and Mr Clelland")
    );
    assert_eq!(
        t.hash, before.transcript.hash,
        "the text itself is the same"
    );
    let s = &doc.sidecar;
    assert_eq!(s.roles.get("Ms Pryce"), Some(&Role::Asker));
    assert_eq!(
        s.part_values("answer.3".parse().unwrap(), "tone_answer"),
        ["evasive"]
    );
    assert_eq!(
        s.part_values("question.3".parse().unwrap(), "tone_question"),
        ["critical"]
    );
    assert!(s.part_values(PartId::ANSWER, "tone_answer").is_empty());
    assert!(
        s.part_values("answer.4".parse().unwrap(), "tone_answer")
            .is_empty()
    );
    // Each span on its own words, in its new part; the one over two turns kept and flagged.
    let span = |id: &str| s.spans.iter().find(|x| x.id == id).unwrap().clone();
    let quote_at = |x: &Span| -> String {
        t.part(x.part)
            .unwrap()
            .text()
            .chars()
            .skip(x.start)
            .take(x.end - x.start)
            .collect()
    };
    let director = span("alice-001");
    assert_eq!(director.part, PartId::ANSWER);
    assert_eq!(quote_at(&director), "Director of Operations");
    assert_eq!(director.flag, None);
    let safety = span("alice-002");
    assert_eq!(safety.part, "question.2".parse().unwrap());
    assert_eq!(quote_at(&safety), "Head of Safety");
    assert_eq!(safety.prefix, "Ms Pryce: Helen Pryce, ");
    let over = span("alice-003");
    assert_eq!(over.flag.as_deref(), Some("roles"));
    assert_eq!(
        (over.part, over.quote.as_str()),
        (PartId::ANSWER, "Trust.\n\nMs Pryce: Helen")
    );
    let orphans: Vec<&str> = doc.orphans().iter().map(|x| x.id.as_str()).collect();
    assert_eq!(orphans, ["alice-003"]);

    // Undo puts back the codings and the exchanges; redo takes the swap again.
    assert!(doc.undo());
    assert_eq!(doc.sidecar, before);
    assert_eq!(doc.transcript.parts, original_parts);
    assert!(doc.redo());
    assert_eq!(doc.transcript.exchange_count(), 3);

    // Saved with the sidecar, applied when the document is opened again, and checked against
    // the exchanges these roles make (no tag on a part "the transcript does not have").
    doc.save().unwrap();
    let ron = std::fs::read_to_string(dir.path().join("hearing.txt.alice.ron")).unwrap();
    assert!(
        ron.contains("roles: {\n        \"Ms Pryce\": Asker,\n    },"),
        "{ron}"
    );
    let again = Document::open(&path, &alice, &codebook).unwrap();
    assert_eq!(again.transcript.exchange_count(), 3);
    let mut spans = doc.sidecar.spans.clone();
    spans.sort_by(|a, b| a.id.cmp(&b.id));
    let mut reopened = again.sidecar.spans.clone();
    reopened.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(reopened, spans);
    let errors: Vec<&str> = again
        .problems
        .iter()
        .filter(|p| p.is_error)
        .map(|p| p.message.as_str())
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("alice-003"), "{errors:?}");
    // Another annotator's exchanges are the guessed ones.
    let bob = Annotator {
        id: "bob".into(),
        name: String::new(),
    };
    let theirs = Document::open(&path, &bob, &codebook).unwrap();
    assert_eq!(theirs.transcript.parts, original_parts);
    // Back to the guess: the exchanges are the first ones again.
    let mut doc = again;
    let back = doc.role_change("Ms Pryce", None).unwrap();
    doc.apply(back.edit).unwrap();
    assert!(doc.sidecar.roles.is_empty());
    assert_eq!(doc.transcript.parts, original_parts);
}

/// A sidecar with no roles set is written as before (no `roles` line), and one with roles is
/// read back with them; a sidecar from before roles existed reads with none.
#[test]
fn roles_in_the_sidecar_are_written_only_when_set() {
    use marginalia::sidecar::Sidecar;
    use marginalia::transcript::Role;
    let t = load("hearing-oral-evidence.txt");
    let alice = Annotator {
        id: "alice".into(),
        name: String::new(),
    };
    let mut s = Sidecar::new(alice, &t, &Codebook::builtin());
    let plain = s.to_ron();
    assert!(!plain.contains("roles"), "{plain}");
    let read = Sidecar::parse(plain.as_bytes(), Path::new("x.ron")).unwrap();
    assert!(read.roles.is_empty());
    s.roles.insert("Mr Ashdown".into(), Role::Asker);
    let with = s.to_ron();
    let read = Sidecar::parse(with.as_bytes(), Path::new("x.ron")).unwrap();
    assert_eq!(read.roles, s.roles);
    assert!(read.unknown.is_empty());
    assert_eq!(read.to_ron(), with);
}

/// For every speaker of every turn-based fixture: a swap and the swap back give the first
/// exchanges again, and every word coded before is where it was after the round trip.
#[test]
fn swapping_every_speaker_and_back_keeps_every_word_span() {
    use std::collections::BTreeSet;
    let names = [
        "hearing-oral-evidence.txt",
        "hearing-hansard-dash.txt",
        "otter-interview.txt",
        "zoom-meeting.vtt",
        "teams-meeting.vtt",
        "interview-housing.docx",
        "interview-governor.odt",
        "committee-oral-evidence.htm",
    ];
    let alice = Annotator {
        id: "alice".into(),
        name: String::new(),
    };
    for name in names {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::copy(fixture(name), &path).unwrap();
        let mut doc = Document::open(&path, &alice, &Codebook::builtin()).unwrap();
        let speakers = doc.speaker_roles();
        assert!(speakers.len() >= 2, "{name}");
        // A span on every word of every part.
        let mut n = 0;
        for p in doc.transcript.parts.clone() {
            let mut from = 0;
            for w in p.text().split(|c: char| c.is_whitespace()) {
                let len = w.chars().count();
                if len > 0 {
                    n += 1;
                    let span = Span::new(
                        format!("alice-{n:04}"),
                        p.id,
                        p.text(),
                        from,
                        from + len,
                        "authority_person",
                        "x",
                    )
                    .unwrap();
                    doc.apply(Edit::AddSpan(span)).unwrap();
                }
                from += len + 1;
            }
        }
        let before: BTreeSet<_> = doc
            .sidecar
            .spans
            .iter()
            .map(|s| (s.id.clone(), s.part, s.start, s.end))
            .collect();
        let parts = doc.transcript.parts.clone();
        for s in &speakers {
            let change = doc.role_change(&s.speaker, Some(s.role.swapped())).unwrap();
            let unplaced = change.unplaced.len();
            doc.apply(change.edit).unwrap();
            // Every span still on its quote, or flagged as not carried.
            let orphans = doc.orphans().len();
            let flagged = doc
                .sidecar
                .spans
                .iter()
                .filter(|x| x.flag.is_some())
                .count();
            assert!(orphans <= flagged, "{name}: {} swapped", s.speaker);
            assert!(unplaced < n, "{name}");
            let back = doc.role_change(&s.speaker, None).unwrap();
            doc.apply(back.edit).unwrap();
            assert_eq!(doc.transcript.parts, parts, "{name}: {} back", s.speaker);
            // Undo both: the first codings exactly (flags included).
            assert!(doc.undo() && doc.undo());
            let after: BTreeSet<_> = doc
                .sidecar
                .spans
                .iter()
                .map(|s| (s.id.clone(), s.part, s.start, s.end))
                .collect();
            assert_eq!(after, before, "{name}");
        }
    }
}

/// `inspect --roles` says who asks and who answers and whether each was guessed or set;
/// `--set-role` sets one in an annotator's sidecar, refusing when codings cannot follow.
#[test]
fn inspect_roles_and_set_role_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hearing.txt");
    std::fs::copy(fixture("hearing-oral-evidence.txt"), &path).unwrap();
    let f = path.to_str().unwrap();
    let bin = env!("CARGO_BIN_EXE_marginalia");
    let run = |args: &[&str]| {
        let out = Command::new(bin).args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, _) = run(&["inspect", f, "--roles"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        out,
        "Chairman\tasks\tguessed\nMr Ashdown\tanswers\tguessed\nMs Pryce\tanswers\tguessed\nMr Scott\tasks\tguessed\nMr Clelland\tasks\tguessed\n"
    );

    // A coding that cannot follow: refused, nothing written.
    let alice = Annotator {
        id: "alice".into(),
        name: String::new(),
    };
    let mut doc = Document::open(&path, &alice, &Codebook::builtin()).unwrap();
    doc.apply(tag("answer", "tone_answer", "neutral")).unwrap();
    doc.save().unwrap();
    let sidecar = dir.path().join("hearing.txt.alice.ron");
    let saved = std::fs::read(&sidecar).unwrap();
    let (code, _, err) = run(&[
        "inspect",
        f,
        "--annotator",
        "alice",
        "--set-role",
        "Ms Pryce=asks",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("cannot follow: tag \"tone_answer: neutral\" on answer"),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&sidecar).unwrap(), saved);

    let (code, _, err) = run(&[
        "inspect",
        f,
        "--annotator",
        "alice",
        "--set-role",
        "Ms Pryce=asks",
        "--force",
    ]);
    assert_eq!(code, Some(0), "{err}");
    // A role set on a document not started leaves it not started.
    let bob = dir.path().join("hearing.txt.bob.ron");
    let (code, _, err) = run(&[
        "inspect",
        f,
        "--annotator",
        "bob",
        "--set-role",
        "Mr Ashdown=asks",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let sidecar = marginalia::sidecar::Sidecar::load(&bob).unwrap().sidecar;
    assert_eq!(sidecar.status, marginalia::sidecar::Status::NotStarted);
    assert_eq!(
        sidecar.roles.get("Mr Ashdown"),
        Some(&marginalia::transcript::Role::Asker)
    );
    let (_, out, _) = run(&["inspect", f, "--roles", "--annotator", "alice"]);
    assert!(
        out.contains("Ms Pryce\tasks\tset by alice (guessed: answers)\n"),
        "{out}"
    );
    let (_, out, _) = run(&["inspect", f, "--json", "--annotator", "alice"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["exchanges"].as_array().unwrap().len(), 3);
    let (_, out, _) = run(&["inspect", f, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["exchanges"].as_array().unwrap().len(),
        4,
        "others see the guess"
    );
    let (code, out, _) = run(&["validate", dir.path().to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    let (code, _, err) = run(&[
        "inspect",
        f,
        "--annotator",
        "alice",
        "--set-role",
        "Nobody=asks",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no speaker \"Nobody\""), "{err}");
    let (code, out, _) = run(&[
        "inspect",
        fixture("gla-written-response.txt").to_str().unwrap(),
        "--roles",
    ]);
    assert_eq!(code, Some(0));
    assert!(out.contains("no roles to set"), "{out}");
}

/// Exports read each sidecar's codings in the exchanges they were made in: the annotators' roles
/// when they all set the same, else the guessed exchanges with the others' codings carried there
/// (and said).
#[test]
fn exports_read_codings_in_the_exchanges_they_were_made_in() {
    use marginalia::dataset::{Dataset, Selection};
    use marginalia::transcript::Role;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hearing.txt");
    std::fs::copy(fixture("hearing-oral-evidence.txt"), &path).unwrap();
    let codebook = Codebook::builtin();
    let code = |id: &str, swap: bool| {
        let who = Annotator {
            id: id.into(),
            name: String::new(),
        };
        let mut doc = Document::open(&path, &who, &codebook).unwrap();
        if swap {
            let change = doc.role_change("Ms Pryce", Some(Role::Asker)).unwrap();
            doc.apply(change.edit).unwrap();
        }
        // Pryce's words: in an answer as guessed, in a question after the swap.
        let p = doc
            .transcript
            .parts
            .iter()
            .find(|p| p.text().contains("Head of Safety"))
            .unwrap()
            .clone();
        let span = word_span(
            &format!("{id}-001"),
            &p,
            "Head of Safety",
            "authority_person",
            "x",
        );
        doc.apply(Edit::AddSpan(span)).unwrap();
        doc.save().unwrap();
    };
    let placed = |d: &Dataset| {
        let doc = &d.documents[0];
        for s in doc.sidecars.iter().flat_map(|s| &s.spans) {
            let text: String = doc
                .transcript
                .part(s.part)
                .unwrap()
                .text()
                .chars()
                .skip(s.start)
                .take(s.end - s.start)
                .collect();
            assert_eq!(text, s.quote, "{}", s.id);
        }
        doc.transcript.exchange_count()
    };
    code("alice", true);
    let d = Dataset::load(dir.path(), &Selection::default(), &|_, _| {}).unwrap();
    assert_eq!(placed(&d), 3, "alice's exchanges");
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    code("bob", false);
    let d = Dataset::load(dir.path(), &Selection::default(), &|_, _| {}).unwrap();
    assert_eq!(placed(&d), 4, "the guessed exchanges");
    assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
    assert!(
        d.warnings[0].starts_with("alice set speaker roles"),
        "{:?}",
        d.warnings
    );
    let alice = &d.documents[0].sidecars[0];
    assert_eq!(
        alice.spans[0].part,
        PartId::ANSWER,
        "carried back to the guessed answer"
    );
}

/// Merging a version of the sidecar that set other roles (the same annotator on another
/// machine) carries its codings into the exchanges open here: no tag or span lands on another
/// part.
#[test]
fn merging_a_sidecar_with_other_roles_carries_its_codings() {
    use marginalia::transcript::Role;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hearing.txt");
    std::fs::copy(fixture("hearing-oral-evidence.txt"), &path).unwrap();
    let alice = Annotator {
        id: "alice".into(),
        name: String::new(),
    };
    let codebook = Codebook::builtin();
    let mut here = Document::open(&path, &alice, &codebook).unwrap();
    here.apply(tag("answer.4", "tone_answer", "evasive"))
        .unwrap();
    here.save().unwrap();
    // Elsewhere: Ms Pryce made an asker, a span on her words (now in a question) saved.
    let mut there = Document::open(&path, &alice, &codebook).unwrap();
    let change = there.role_change("Ms Pryce", Some(Role::Asker)).unwrap();
    there.apply(change.edit).unwrap();
    let p = there
        .transcript
        .parts
        .iter()
        .find(|p| p.text().contains("Head of Safety"))
        .unwrap()
        .clone();
    assert_eq!(p.id.kind, PartKind::Question);
    let span = word_span("alice-009", &p, "Head of Safety", "authority_person", "x");
    there.apply(Edit::AddSpan(span)).unwrap();
    there.save().unwrap();
    // Here, an unsaved change, then the merge.
    here.apply(Edit::SetMemo("mine".into())).unwrap();
    here.merge_theirs().unwrap();
    assert!(here.sidecar.roles.is_empty(), "ours win");
    let s = here
        .sidecar
        .spans
        .iter()
        .find(|s| s.id == "alice-009")
        .unwrap();
    assert_eq!(s.part, PartId::ANSWER);
    let text: String = here
        .transcript
        .part(s.part)
        .unwrap()
        .text()
        .chars()
        .skip(s.start)
        .take(s.end - s.start)
        .collect();
    assert_eq!(text, "Head of Safety");
    assert_eq!(
        here.sidecar
            .part_values("answer.4".parse().unwrap(), "tone_answer"),
        ["evasive"]
    );
    assert!(here.orphans().is_empty());
}
