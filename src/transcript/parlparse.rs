//! TheyWorkForYou's ParlParse XML (`<publicwhip>` files such as `lmqs2019-04-10.xml` or
//! `answers2026-02-23.xml`): every minor heading with its questions and replies is one
//! question/answer transcript, addressed as `<file>.xml#<item id>`.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use quick_xml::events::Event;

use super::{AnswerStatus, Format, Metadata, Transcript, content_hash};

/// One item of a ParlParse file, before it becomes a transcript.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item {
    /// Id used after `#` in the virtual path: the heading's number, e.g. `112103`.
    pub id: String,
    /// The minor heading (title).
    pub title: String,
    /// The major heading (department or subject).
    pub department: String,
    /// Askers, in order.
    pub askers: Vec<String>,
    /// Answerers, in order.
    pub answerers: Vec<String>,
    /// Question numbers (`qnum`).
    pub qnums: Vec<String>,
    /// Question paragraphs (a blank paragraph separates questions).
    pub questions: Vec<String>,
    /// Reply paragraphs.
    pub replies: Vec<String>,
}

/// True for a file name that holds ParlParse XML.
pub fn is_parlparse_name(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".xml")
}

/// Splits a virtual path `dir/file.xml#id` into the file and the id.
pub fn split_virtual(path: &Path) -> Option<(PathBuf, String)> {
    let name = path.file_name()?.to_str()?;
    let (file, id) = name.split_once(".xml#")?;
    Some((path.with_file_name(format!("{file}.xml")), id.to_string()))
}

/// The virtual path of an item.
pub fn virtual_path(file: &Path, id: &str) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push("#");
    name.push(id);
    file.with_file_name(name)
}

/// `uk.org.publicwhip/wrans/2026-02-23.112103.h` -> `112103`.
fn short_id(id: &str) -> Option<String> {
    let last = id.rsplit('/').next()?;
    let mut pieces: Vec<&str> = last.split('.').collect();
    if pieces.len() >= 2 {
        pieces.remove(0); // the date
        pieces.pop(); // h, q0, r0...
    }
    // No dots in ids: `file.xml#id.annotator.ron` must split unambiguously.
    let s = pieces.join("-").replace('.', "-");
    (!s.is_empty()).then_some(s)
}

fn attr(e: &quick_xml::events::BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::default())
                .ok()
                .map(|v| v.into_owned())
        })
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum In {
    Nothing,
    Major,
    Minor,
    Question,
    Reply,
}

/// Parses a ParlParse file into its items. Inline markup (`<i>`, `<a>`, tables) becomes plain text;
/// entities are resolved.
pub fn parse(xml: &str) -> Result<Vec<Item>, String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut items: Vec<Item> = Vec::new();
    let mut department = String::new();
    let mut state = In::Nothing;
    let mut text = String::new();
    let mut paragraph = String::new();
    let mut saw_root = false;
    let mut depth_p = 0usize;
    let mut open = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("not valid XML at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(e) => {
                open += 1;
                let name = e.local_name().as_ref().to_string();
                match name.as_str() {
                    "publicwhip" => saw_root = true,
                    "major-heading" => {
                        state = In::Major;
                        text.clear();
                    }
                    "minor-heading" => {
                        state = In::Minor;
                        text.clear();
                        let id = attr(&e, "id")
                            .and_then(|i| short_id(&i))
                            .unwrap_or_else(|| format!("item{}", items.len() + 1));
                        items.push(Item {
                            id,
                            department: department.clone(),
                            ..Item::default()
                        });
                    }
                    "ques" | "reply" => {
                        state = if name == "ques" {
                            In::Question
                        } else {
                            In::Reply
                        };
                        if items.is_empty() {
                            let id = attr(&e, "id")
                                .and_then(|i| short_id(&i))
                                .unwrap_or_else(|| "item1".to_string());
                            items.push(Item {
                                id,
                                department: department.clone(),
                                ..Item::default()
                            });
                        }
                        let item = items.last_mut().expect("pushed above");
                        let who = attr(&e, "speakername").unwrap_or_default();
                        let list = if state == In::Question {
                            &mut item.askers
                        } else {
                            &mut item.answerers
                        };
                        if !who.is_empty() && !list.contains(&who) {
                            list.push(who);
                        }
                        if state == In::Question && !item.questions.is_empty() {
                            item.questions.push(String::new());
                        }
                    }
                    "p" => {
                        depth_p += 1;
                        paragraph.clear();
                        if state == In::Question
                            && let (Some(q), Some(item)) = (attr(&e, "qnum"), items.last_mut())
                            && !item.qnums.contains(&q)
                        {
                            item.qnums.push(q);
                        }
                    }
                    "table" => {
                        depth_p += 1;
                        paragraph.clear();
                    }
                    "tr" | "br" => paragraph.push('\n'),
                    "td" | "th" => paragraph.push(' '),
                    _ => {}
                }
            }
            Event::Empty(e) => {
                if matches!(e.local_name().as_ref(), "br" | "tr") {
                    paragraph.push('\n');
                }
            }
            Event::End(e) => {
                open = open.saturating_sub(1);
                let name = e.local_name().as_ref().to_string();
                match name.as_str() {
                    "major-heading" => {
                        department = clean(&text);
                        state = In::Nothing;
                    }
                    "minor-heading" => {
                        if let Some(item) = items.last_mut() {
                            item.title = clean(&text);
                        }
                        state = In::Nothing;
                    }
                    "ques" | "reply" => state = In::Nothing,
                    "p" | "table" => {
                        depth_p = depth_p.saturating_sub(1);
                        let p = clean(&paragraph);
                        if let Some(item) = items.last_mut()
                            && !p.is_empty()
                        {
                            match state {
                                In::Question => item.questions.push(p),
                                In::Reply => item.replies.push(p),
                                _ => {}
                            }
                        }
                        paragraph.clear();
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                let s = t.xml10_content();
                push_text(state, depth_p, &mut text, &mut paragraph, &s);
            }
            Event::CData(t) => {
                let s = t.into_inner().into_owned();
                push_text(state, depth_p, &mut text, &mut paragraph, &s);
            }
            Event::GeneralRef(r) => {
                if let Some(c) = resolve_entity(&r) {
                    push_text(
                        state,
                        depth_p,
                        &mut text,
                        &mut paragraph,
                        c.encode_utf8(&mut [0; 4]),
                    );
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err("not a ParlParse file (no <publicwhip> element)".to_string());
    }
    if open > 0 {
        return Err("the file ends inside an element (truncated?)".to_string());
    }
    // Keep ids unique within the file.
    let mut seen = std::collections::HashSet::new();
    for (i, item) in items.iter_mut().enumerate() {
        if !seen.insert(item.id.clone()) {
            item.id = format!("{}-{}", item.id, i + 1);
            seen.insert(item.id.clone());
        }
    }
    Ok(items)
}

/// The char of an entity or character reference: the XML ones and the few HTML ones these files use.
pub(crate) fn resolve_entity(r: &quick_xml::events::BytesRef) -> Option<char> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c);
    }
    match &**r {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some('\u{a0}'),
        "pound" => Some('£'),
        _ => None,
    }
}

fn push_text(state: In, depth_p: usize, heading: &mut String, paragraph: &mut String, s: &str) {
    match state {
        In::Major | In::Minor => heading.push_str(s),
        In::Question | In::Reply if depth_p > 0 => paragraph.push_str(s),
        _ => {}
    }
}

/// Collapses runs of spaces and trims each line.
fn clean(s: &str) -> String {
    s.split('\n')
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `answers2026-02-23.xml` -> 2026-02-23.
fn date_of(file: &Path) -> Option<chrono::NaiveDate> {
    let name = file.file_stem()?.to_str()?;
    let start = name.find(|c: char| c.is_ascii_digit())?;
    let d = name.get(start..start + 10)?;
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()
}

/// The transcript of an item of a file.
pub fn transcript(file: &Path, item: &Item) -> Transcript {
    let question = super::normalize(&item.questions.join("\n\n"));
    let answer = super::normalize(&item.replies.join("\n\n"));
    let joined = |v: &[String]| (!v.is_empty()).then(|| v.join(" and "));
    let meta = Metadata {
        title: item.title.clone(),
        meeting: None,
        meeting_date: None,
        session_date: date_of(file),
        reference: (!item.qnums.is_empty()).then(|| item.qnums.join(", ")),
        question_by: joined(&item.askers),
        organisation: None,
        asked_of: (!item.department.is_empty()).then(|| item.department.clone()),
        answered_by: joined(&item.answerers),
        supplementary: false,
        status: if answer.is_empty() {
            AnswerStatus::Unanswered
        } else {
            AnswerStatus::Answered
        },
        answer_date: None,
    };
    let full = format!(
        "{}\n\n{}\n\n{}\n\n{}",
        item.title, item.department, question, answer
    );
    let parts = super::question_and_answer(&meta, question, answer);
    let name = virtual_path(file, &item.id)
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let normalized = super::normalize(&full);
    Transcript {
        file_name: name,
        format: Format::ParlParse,
        meta,
        parts,
        encoding: "UTF-8 (XML)".to_string(),
        warnings: Vec::new(),
        hash: content_hash(&normalized),
        chars: normalized.chars().count(),
    }
}

/// A parsed file: its path, modification time and items.
type Parsed = (PathBuf, std::time::SystemTime, Arc<Vec<Item>>);

thread_local! {
    /// The last file parsed on this thread: items of one file are usually read one after another.
    static LAST: RefCell<Option<Parsed>> = const { RefCell::new(None) };
}

/// The items of a file, parsed once per thread while the file is unchanged.
pub fn items(file: &Path) -> Result<Arc<Vec<Item>>, String> {
    let modified = std::fs::metadata(file)
        .and_then(|m| m.modified())
        .map_err(|e| e.to_string())?;
    let cached = LAST.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(p, t, _)| p == file && *t == modified)
            .map(|(_, _, items)| items.clone())
    });
    if let Some(items) = cached {
        return Ok(items);
    }
    let bytes = crate::fsutil::read_limited(file, super::MAX_TRANSCRIPT_BYTES)
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 XML".to_string())?;
    let items = Arc::new(parse(&text)?);
    LAST.with(|c| *c.borrow_mut() = Some((file.to_path_buf(), modified, items.clone())));
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<publicwhip>
<major-heading id="uk.org.publicwhip/wrans/2026-02-23.112100.mh" nospeaker="true">Home Office</major-heading>
<minor-heading id="uk.org.publicwhip/wrans/2026-02-23.112103.h">Police: Recruitment &amp; Retention</minor-heading>
<ques id="uk.org.publicwhip/wrans/2026-02-23.112103.q0" person_id="uk.org.publicwhip/person/25000" speakername="Jane Smith" url="https://example.org/1">
<p qnum="112103">To ask the Secretary of State for the Home Department, how many police officers were recruited in <i>London</i> in 2025.</p>
</ques>
<ques id="uk.org.publicwhip/wrans/2026-02-23.112103.q1" person_id="uk.org.publicwhip/person/25001" speakername="Ali Khan" url="https://example.org/2">
<p qnum="112104">To ask the Secretary of State, what the retention rate was.</p>
</ques>
<reply id="uk.org.publicwhip/wrans/2026-02-23.112103.r0" person_id="uk.org.publicwhip/person/24000" speakername="Dame Diana Johnson">
<p>The Government publishes figures twice a year; see <a href="https://example.org">the statistics</a>.</p>
<table><tr><td>2024</td><td>1,200</td></tr><tr><td>2025</td><td>1,350</td></tr></table>
<p>Retention is &#8220;stable&#8221;.</p>
</reply>
<minor-heading id="uk.org.publicwhip/wrans/2026-02-23.112200.h">Visas</minor-heading>
<ques id="uk.org.publicwhip/wrans/2026-02-23.112200.q0" speakername="Jane Smith"><p qnum="112200">To ask about visas.</p></ques>
</publicwhip>"#;

    #[test]
    fn items_of_a_file() {
        let items = parse(SAMPLE).unwrap();
        assert_eq!(items.len(), 2);
        let a = &items[0];
        assert_eq!(a.id, "112103");
        assert_eq!(a.title, "Police: Recruitment & Retention");
        assert_eq!(a.department, "Home Office");
        assert_eq!(a.askers, ["Jane Smith", "Ali Khan"]);
        assert_eq!(a.answerers, ["Dame Diana Johnson"]);
        assert_eq!(a.qnums, ["112103", "112104"]);
        let t = transcript(Path::new("d/answers2026-02-23.xml"), a);
        assert_eq!(t.format, Format::ParlParse);
        assert_eq!(t.file_name, "answers2026-02-23.xml#112103");
        assert_eq!(
            t.meta.session_date,
            chrono::NaiveDate::from_ymd_opt(2026, 2, 23)
        );
        assert_eq!(
            t.meta.question_by.as_deref(),
            Some("Jane Smith and Ali Khan")
        );
        assert_eq!(t.meta.asked_of.as_deref(), Some("Home Office"));
        assert_eq!(
            t.question(),
            "To ask the Secretary of State for the Home Department, how many police officers were recruited in London in 2025.\n\nTo ask the Secretary of State, what the retention rate was."
        );
        assert!(
            t.answer()
                .starts_with("The Government publishes figures twice a year; see the statistics.")
        );
        assert!(t.answer().contains("Retention is “stable”."));
        assert!(t.answer().contains("2024 1,200"), "{}", t.answer());
        let b = transcript(Path::new("d/answers2026-02-23.xml"), &items[1]);
        assert_eq!(b.meta.status, AnswerStatus::Unanswered);
        assert_eq!(b.meta.title, "Visas");
    }

    #[test]
    fn virtual_paths_and_errors() {
        let v = virtual_path(Path::new("d/answers2026-02-23.xml"), "112103");
        assert_eq!(v, Path::new("d/answers2026-02-23.xml#112103"));
        assert_eq!(
            split_virtual(&v),
            Some((PathBuf::from("d/answers2026-02-23.xml"), "112103".into()))
        );
        assert!(
            parse("<html></html>")
                .unwrap_err()
                .contains("not a ParlParse file")
        );
        assert!(
            parse("<publicwhip><p>a</b></publicwhip>")
                .unwrap_err()
                .contains("not valid XML")
        );
    }
}
