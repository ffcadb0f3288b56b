//! Every page variant and encoding the reader must handle, checked field by field.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use marginalia::transcript::{AnswerStatus, Format, PartId, Transcript, TranscriptError};

const NB: &str = "\u{a0}";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn page(text: &str) -> Transcript {
    Transcript::from_text("t.txt", text, "UTF-8".into(), Vec::new())
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

#[test]
fn seed_page() {
    let seed =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds/000_546147aac543dcf0.txt");
    let path = if seed.exists() {
        seed
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/prevent.txt")
    };
    let t = Transcript::load(&path).unwrap();
    assert_eq!(t.format, Format::GlaMqt);
    let m = &t.meta;
    assert_eq!(m.title, "Prevent strategy");
    assert_eq!(m.meeting.as_deref(), Some("MQT"));
    assert_eq!(m.meeting_date, date(2015, 3, 25));
    assert_eq!(m.session_date, date(2015, 3, 25));
    assert_eq!(m.question_by.as_deref(), Some("Roger Evans"));
    assert_eq!(m.organisation.as_deref(), Some("GLA Conservatives"));
    assert_eq!(m.asked_of.as_deref(), Some("The Mayor"));
    assert_eq!(m.answered_by.as_deref(), Some("The Mayor"));
    assert!(!m.supplementary);
    assert_eq!(m.status, AnswerStatus::Answered);
    assert!(
        t.question()
            .starts_with("Former Metropolitan Police Service Chief Superintendent")
    );
    assert!(t.question().ends_with("effectively protects Londoners?"));
    let paragraphs: Vec<&str> = t.answer().split("\n\n").collect();
    assert_eq!(paragraphs.len(), 5);
    assert!(paragraphs[0].starts_with("MPS and MOPAC recognise"));
    assert!(paragraphs[3].contains("Sir Peter Fahy"));
    assert!(paragraphs[4].ends_with("better connected to local needs."));
    // The non-breaking space at the end of a paragraph is trimmed.
    assert!(paragraphs[1].ends_with("support their efforts."));
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);
}

/// A page in the first layout, with the separator after each label given.
fn layout1(sep: &str) -> String {
    format!(
        "Bus fares\n\nMQT on 2017-01-18\nSession date:{sep}\nJanuary 18, 2017\nQuestion By:{sep}\nKeith Prince\nGLA Conservatives\nAsked Of:{sep}\nThe Mayor\n\n\nWill fares rise?\n\n\nAnswer for Bus fares\n\nAnswer for Bus fares\n\nAnswered By:{sep}\nThe Mayor\n\nNo.\n\nThey are frozen."
    )
}

#[test]
fn labels_followed_by_nothing_a_space_or_nbsp_space() {
    for sep in ["", " ", &format!("{NB} ")] {
        let t = page(&layout1(sep));
        assert_eq!(
            t.meta.question_by.as_deref(),
            Some("Keith Prince"),
            "{sep:?}"
        );
        assert_eq!(t.meta.organisation.as_deref(), Some("GLA Conservatives"));
        assert_eq!(t.meta.asked_of.as_deref(), Some("The Mayor"));
        assert_eq!(t.meta.answered_by.as_deref(), Some("The Mayor"));
        assert_eq!(t.meta.session_date, date(2017, 1, 18));
        assert_eq!(t.question(), "Will fares rise?");
        assert_eq!(t.answer(), "No.\n\nThey are frozen.");
    }
}

#[test]
fn supplementary_without_meeting_line() {
    let t = page(&format!(
        "Housing (Supplementary) [2]\n\nSession date:{NB} \nFebruary 24, 2016\nQuestion By:{NB} \nDarren Johnson\nGreen Party\nAsked Of:{NB} \nThe Mayor\n\n\nHow many were for social rent?\n\nSupplementary To:{NB} \n\nAnswer for Housing (Supplementary) [2]\n\nAnswer for Housing (Supplementary) [2]\n\nAnswered By:{NB} \nThe Mayor\n\nI will write to you."
    ));
    assert_eq!(t.meta.title, "Housing (Supplementary) [2]");
    assert!(t.meta.supplementary);
    assert_eq!(t.meta.meeting, None);
    assert_eq!(t.meta.meeting_date, None);
    assert_eq!(t.meta.session_date, date(2016, 2, 24));
    assert_eq!(t.question(), "How many were for social rent?");
    assert_eq!(t.answer(), "I will write to you.");
}

#[test]
fn no_organisation_line() {
    let t = page(
        "Cost of living\n\nMQT on 2022-11-17\nQuestion By:\nLéonie Cooper\nAsked Of:\nThe Mayor\n\nWhat help?\n\nAnswer for Cost of living\n\nAnswered By:\nThe Mayor\n\nWarm spaces.",
    );
    assert_eq!(t.meta.question_by.as_deref(), Some("Léonie Cooper"));
    assert_eq!(t.meta.organisation, None);
    assert_eq!(t.question(), "What help?");
    assert_eq!(t.answer(), "Warm spaces.");
}

#[test]
fn second_labelled_layout() {
    let t = page(&format!(
        "Fire safety\n\nMeeting:{NB} \nMQT on 2017-07-19\nSession date:{NB} \nJuly 19, 2017\nReference:{NB} \n2017/2931\nQuestion By:{NB} \nAndrew Dismore\nOrganisation:{NB} \nLabour\nAsked Of:{NB} \nThe Mayor\nCategory:{NB} \nQuestion\nWill you review the policy?\nAnswer\nAnswered By:{NB} \nThe Mayor\nYes.\n\nResults will be published."
    ));
    let m = &t.meta;
    assert_eq!(m.title, "Fire safety");
    assert_eq!(m.meeting.as_deref(), Some("MQT"));
    assert_eq!(m.meeting_date, date(2017, 7, 19));
    assert_eq!(m.reference.as_deref(), Some("2017/2931"));
    assert_eq!(m.question_by.as_deref(), Some("Andrew Dismore"));
    assert_eq!(m.organisation.as_deref(), Some("Labour"));
    assert_eq!(m.asked_of.as_deref(), Some("The Mayor"));
    assert_eq!(m.answered_by.as_deref(), Some("The Mayor"));
    assert_eq!(t.question(), "Will you review the policy?");
    assert_eq!(t.answer(), "Yes.\n\nResults will be published.");
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);
}

#[test]
fn answer_heading_single_doubled_or_followed_by_title_twice() {
    let head = "Crossrail\n\nMQT on 2018-09-13\nQuestion By:\nGareth Bacon\nAsked Of:\nThe Mayor\n\nWhen did you know?\n\n";
    for heading in [
        "Answer for Crossrail\n\n",
        "Answer for Crossrail\n\nAnswer for Crossrail\n\n",
        "Answer for Crossrail\n\nCrossrail\n\nCrossrail\n\n",
    ] {
        let t = page(&format!(
            "{head}{heading}Answered By:\nThe Mayor\n\nIn July."
        ));
        assert_eq!(t.question(), "When did you know?", "{heading:?}");
        assert_eq!(t.answer(), "In July.", "{heading:?}");
        assert_eq!(t.meta.title, "Crossrail");
    }
}

#[test]
fn no_title_line() {
    let t = page(
        "MQT on 2015-03-25\nSession date:\nMarch 25, 2015\nQuestion By:\nRoger Evans\nAsked Of:\nThe Mayor\n\nA question?\n\nAnswer for Prevent strategy\n\nAnswered By:\nThe Mayor\n\nAn answer.",
    );
    // The title is taken from the answer heading.
    assert_eq!(t.meta.title, "Prevent strategy");
    assert_eq!(t.meta.meeting_date, date(2015, 3, 25));
    assert_eq!(t.question(), "A question?");
    let bare = page(
        "Question By:\nRoger Evans\nAsked Of:\nThe Mayor\n\nA question?\n\nAnswered By:\nThe Mayor\n\nAn answer.",
    );
    assert_eq!(bare.meta.title, "");
    assert_eq!(bare.question(), "A question?");
    assert_eq!(bare.answer(), "An answer.");
}

#[test]
fn empty_question() {
    let t = page(
        "Policing\n\nMQT on 2015-03-25\nQuestion By:\nRoger Evans\nAsked Of:\nThe Mayor\n\n\nAnswer for Policing\n\nAnswered By:\nThe Mayor\n\nAn answer.",
    );
    assert_eq!(t.question(), "");
    assert_eq!(t.answer(), "An answer.");
    assert!(t.warnings.iter().any(|w| w.contains("question is empty")));
}

#[test]
fn page_ending_after_answer_heading_is_unanswered() {
    let t = Transcript::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/sample_data/night-tube.txt"
    )))
    .unwrap();
    assert_eq!(t.meta.status, AnswerStatus::Unanswered);
    assert_eq!(t.answer(), "");
    assert!(t.question().starts_with("What early signs"));
    assert_eq!(t.meta.answered_by, None);
}

#[test]
fn holding_answer_then_final_answer() {
    let base = "Cycling\n\nMQT on 2010-06-16\nQuestion By:\nCaroline Pidgeon\nAsked Of:\nThe Mayor\n\nWhen?\n\nAnswer for Cycling\n\nAnswered By:\nThe Mayor\n\nOfficers are drafting a response which will be sent shortly.";
    let holding = page(base);
    assert_eq!(holding.meta.status, AnswerStatus::Holding);
    let answered = page(&format!(
        "{base}\n\nAnswer provided on 1 July 2010:\n\nNext spring."
    ));
    assert_eq!(answered.meta.status, AnswerStatus::Answered);
    assert_eq!(answered.meta.answer_date, date(2010, 7, 1));
    assert!(
        answered
            .answer()
            .ends_with("Answer provided on 1 July 2010:\n\nNext spring.")
    );
}

#[test]
fn other_office_holders_and_two_of_them() {
    let t = Transcript::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/sample_data/crossrail-delay.txt"
    )))
    .unwrap();
    assert_eq!(
        t.meta.asked_of.as_deref(),
        Some("Sir Terry Morgan (Chair, Crossrail Ltd) and Mike Brown (Commissioner, TfL)")
    );
    assert_eq!(
        t.meta.answered_by.as_deref(),
        Some("Mike Brown (Commissioner, TfL)")
    );
    assert!(t.answer().starts_with("I was made aware"));
}

#[test]
fn answer_that_is_itself_a_transcript() {
    let t = Transcript::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/sample_data/housing-supplementary.txt"
    )))
    .unwrap();
    assert_eq!(t.format, Format::GlaMqt);
    assert!(t.answer().starts_with("Darren Johnson AM:  I asked"));
    assert!(
        t.answer()
            .contains("\n\nBoris Johnson (Mayor of London):  And I have")
    );
}

#[test]
fn pound_signs_curly_quotes_and_accents_survive() {
    let t = page(
        "Fares\n\nQuestion By:\nZoë Ångström-Müller\nAsked Of:\nThe Mayor\n\nWill the “freeze” cost £640m?\n\nAnswer for Fares\n\nAnswered By:\nThe Mayor\n\nIt’s funded. 🚌",
    );
    assert_eq!(t.meta.question_by.as_deref(), Some("Zoë Ångström-Müller"));
    assert_eq!(t.question(), "Will the “freeze” cost £640m?");
    assert_eq!(t.answer(), "It’s funded. 🚌");
}

#[test]
fn very_long_answer() {
    let paragraphs: Vec<String> = (0..600)
        .map(|i| format!("Paragraph {i} of the answer, with £{i} and “quotes”."))
        .collect();
    let text = format!(
        "Budget\n\nQuestion By:\nA Member\nAsked Of:\nThe Mayor\n\nQ?\n\nAnswer for Budget\n\nAnswered By:\nThe Mayor\n\n{}",
        paragraphs.join("\r\n\r\n\r\n")
    );
    let t = page(&text);
    assert_eq!(t.answer().split("\n\n").count(), 600);
    assert!(
        t.answer()
            .ends_with("Paragraph 599 of the answer, with £599 and “quotes”.")
    );
}

#[test]
fn encodings() {
    let reference = Transcript::load(&fixture("../../sample_data/fares-freeze.txt")).unwrap();
    for (file, encoding) in [
        ("utf8-bom-crlf.txt", "UTF-8"),
        ("utf16le-bom.txt", "UTF-16LE"),
        ("utf16be-bom.txt", "UTF-16BE"),
        ("utf16le-nobom.txt", "UTF-16LE (no BOM)"),
        ("windows-1252-crlf.txt", "windows-1252 (guessed, likely)"),
        ("lone-cr.txt", "UTF-8"),
    ] {
        let t = Transcript::load(&fixture(file)).unwrap();
        assert_eq!(t.encoding, encoding, "{file}");
        assert_eq!(t.hash, reference.hash, "{file}: same normalized text");
        assert_eq!(t.meta, reference.meta, "{file}");
        assert!(t.question().contains("“not pay a penny more”"), "{file}");
        assert!(t.question().contains("£640 million"), "{file}");
        assert!(t.warnings.is_empty(), "{file}: {:?}", t.warnings);
    }
}

#[test]
fn binary_and_empty_files() {
    let err = Transcript::load(&fixture("png-renamed.txt")).unwrap_err();
    assert!(matches!(err, TranscriptError::Decode { .. }));
    let msg = err.to_string();
    assert!(msg.contains("not a text file (PNG image)"), "{msg}");
    assert!(msg.ends_with("png-renamed.txt"), "{msg}");

    let empty = Transcript::load(&fixture("empty.txt")).unwrap();
    assert_eq!(empty.format, Format::Plain);
    assert!(empty.warnings.iter().any(|w| w.contains("empty")));

    let err = Transcript::load(&fixture("")).unwrap_err().to_string();
    assert!(err.contains("not a regular file"), "{err}");
    let err = Transcript::load(&fixture("missing.txt"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("cannot read transcript:") && err.ends_with("missing.txt"),
        "{err}"
    );
}

#[test]
fn speaker_turn_transcripts() {
    let t = Transcript::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/sample_data/interview-community-officer.txt"
    )))
    .unwrap();
    assert_eq!(t.format, Format::SpeakerTurns);
    assert_eq!(t.exchange_count(), 3);
    assert_eq!(
        t.meta.title,
        "Interview with a community engagement officer, east London, 12 October 2015"
    );
    assert_eq!(
        t.question(),
        "How long have you worked on Prevent in the borough?"
    );
    // Two answer turns in a row form one answer.
    let second = t
        .part(PartId {
            exchange: 1,
            kind: marginalia::transcript::PartKind::Answer,
        })
        .unwrap();
    // Each of the two turns keeps its label; RESPONDENT is a role, not a person.
    assert!(second.text().starts_with("RESPONDENT: Yes, a great deal."));
    assert!(
        second
            .text()
            .contains("\n\nRESPONDENT: To be fair, the Home Office guidance")
    );
    assert_eq!(second.speaker(), None);

    // Named speakers: the first one to speak asks.
    let named = page(
        "Jane Smith: Why did you resign?\n\nJohn O'Neill: I had no choice.\nIt was time.\n\nJane Smith: Do you regret it?\n\nJohn O'Neill: No.",
    );
    assert_eq!(named.format, Format::SpeakerTurns);
    assert_eq!(named.exchange_count(), 2);
    assert_eq!(named.meta.question_by.as_deref(), Some("Jane Smith"));
    assert_eq!(named.answer(), "I had no choice.\nIt was time.");

    let qa = page("Q: One?\nA: Yes.\nQ: Two?\nA: No.");
    assert_eq!(qa.exchange_count(), 2);
    assert_eq!(qa.question(), "One?");
}

#[test]
fn anything_else_is_plain_text() {
    let t = page("Minutes of the meeting.\n\nThe committee agreed the budget: it rose by 2%.\n");
    assert_eq!(t.format, Format::Plain);
    assert_eq!(t.parts.len(), 1);
    assert_eq!(t.parts[0].id, PartId::TEXT);
    assert!(t.warnings.iter().any(|w| w.contains("plain text")));
}

#[test]
fn normalized_text_rules() {
    let t = page(
        "Title\n\n\n\nQuestion By:   \r\nX\r\nAsked Of:\nThe Mayor\n\n\n\n  Indented line  \nnext line\t\n\n\n\n\nsecond para\n\nAnswer for Title\nAnswered By:\nThe Mayor\n\nA.",
    );
    assert_eq!(t.question(), "  Indented line\nnext line\n\nsecond para");
}
