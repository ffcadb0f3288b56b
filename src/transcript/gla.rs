//! The London Assembly "questions to the Mayor" page, in the layouts found in the archive.
//!
//! The page is a header of labelled fields (`Question By:` and the value on the next line), the
//! question, one or more `Answer for <title>` headings, `Answered By:` and the answer. A second
//! layout has `Meeting:`, `Reference:`, `Organisation:` and `Category:` labels and `Question` /
//! `Answer` section headings. The parser is a forgiving line scanner: any field may be missing.

use super::normalize::normalize_lines;
use super::{AnswerStatus, Metadata, Part, parse_date};

pub(super) struct Page {
    pub meta: Metadata,
    pub parts: Vec<Part>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    SessionDate,
    QuestionBy,
    AskedOf,
    AnsweredBy,
    Meeting,
    Reference,
    Organisation,
    Category,
    SupplementaryTo,
}

/// Phrases that mark a holding answer.
const HOLDING_PHRASES: &[&str] = &[
    "officers are drafting a response",
    "a response will be sent shortly",
    "a holding answer",
];

/// Label names as they appear on pages (compared ignoring ASCII case).
const LABELS: &[(&str, Label)] = &[
    ("session date", Label::SessionDate),
    ("question by", Label::QuestionBy),
    ("asked by", Label::QuestionBy),
    ("asked of", Label::AskedOf),
    ("answered by", Label::AnsweredBy),
    ("meeting", Label::Meeting),
    ("reference", Label::Reference),
    ("question number", Label::Reference),
    ("question no", Label::Reference),
    ("question no.", Label::Reference),
    ("organisation", Label::Organisation),
    ("organization", Label::Organisation),
    ("party", Label::Organisation),
    ("category", Label::Category),
    ("supplementary to", Label::SupplementaryTo),
];

fn label_of(line: &str) -> Option<(Label, &str)> {
    // Labels are short: most lines are ruled out without looking further.
    let colon = line.as_bytes().iter().take(24).position(|&b| b == b':')?;
    let (key, rest) = (&line[..colon], &line[colon + 1..]);
    let key = key.trim();
    let label = LABELS
        .iter()
        .find(|(name, _)| key.eq_ignore_ascii_case(name))?
        .1;
    Some((label, rest.trim_matches(|c: char| c.is_whitespace())))
}

fn answer_heading(line: &str) -> Option<&str> {
    // An `Answer for ` heading whose title is empty loses its space when normalized.
    if matches!(line.trim_end(), "Answer for" | "Answer For") {
        return Some("");
    }
    line.strip_prefix("Answer for ")
        .or_else(|| line.strip_prefix("Answer For "))
        .map(str::trim)
}

/// `MQT on 2015-03-25` -> (`MQT`, date).
fn meeting_line(line: &str) -> Option<(String, chrono::NaiveDate)> {
    let (kind, date) = line.rsplit_once(" on ")?;
    let kind = kind.trim();
    if kind.is_empty() || kind.len() > 40 || kind.contains(':') {
        return None;
    }
    let date = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
    Some((kind.to_string(), date))
}

fn is_section(line: &str, name: &str) -> bool {
    line.trim() == name
}

/// A line that ends a label's value lines: another label, a heading, a blank.
fn is_structural(line: &str) -> bool {
    line.trim().is_empty()
        || label_of(line).is_some()
        || answer_heading(line).is_some()
        || is_section(line, "Question")
        || is_section(line, "Answer")
}

/// Recognises the page; `None` when the lines do not look like one.
#[expect(
    clippy::too_many_lines,
    reason = "one pass over the page's lines with the state of the GLA layout"
)]
pub(super) fn parse(lines: &[&str]) -> Option<Page> {
    let labels: Vec<Label> = lines
        .iter()
        .filter_map(|l| label_of(l))
        .map(|l| l.0)
        .collect();
    let has = |l: Label| labels.contains(&l);
    let key_labels = [
        Label::SessionDate,
        Label::QuestionBy,
        Label::AskedOf,
        Label::AnsweredBy,
        Label::Meeting,
    ]
    .iter()
    .filter(|&&l| has(l))
    .count();
    let has_heading = lines.iter().any(|l| answer_heading(l).is_some());
    if key_labels < 2 && !(key_labels == 1 && has_heading) {
        return None;
    }

    let mut meta = Metadata::default();
    let mut warnings = Vec::new();
    let mut i = 0;
    let n = lines.len();
    let skip_blank = |i: &mut usize| {
        while *i < n && lines[*i].trim().is_empty() {
            *i += 1;
        }
    };

    // --- Header: title, meeting line, labelled fields.
    skip_blank(&mut i);
    if i < n && !is_structural(lines[i]) && meeting_line(lines[i]).is_none() {
        meta.title = lines[i].trim().to_string();
        i += 1;
    }
    loop {
        skip_blank(&mut i);
        if i >= n {
            break;
        }
        let line = lines[i];
        if meta.meeting.is_none()
            && let Some((kind, date)) = meeting_line(line)
        {
            meta.meeting = Some(kind);
            meta.meeting_date = Some(date);
            i += 1;
            continue;
        }
        let Some((label, inline)) = label_of(line) else {
            break;
        };
        if matches!(label, Label::AnsweredBy | Label::SupplementaryTo) {
            // These belong after the question; an empty question precedes them.
            break;
        }
        i += 1;
        let mut values: Vec<&str> = Vec::new();
        if !inline.is_empty() {
            values.push(inline);
        } else {
            while i < n && !is_structural(lines[i]) && values.len() < 2 {
                // Only the asker's label carries a second line (the organisation); a second
                // line after any other label is the start of the question.
                if !values.is_empty() && label != Label::QuestionBy {
                    break;
                }
                values.push(lines[i].trim());
                i += 1;
            }
        }
        apply_label(&mut meta, label, &values, &mut warnings);
        if label == Label::AskedOf && i < n && !is_structural(lines[i]) {
            // The question follows the value directly, with no blank line.
            break;
        }
    }

    // --- Question body.
    skip_blank(&mut i);
    if i < n && is_section(lines[i], "Question") {
        i += 1;
    }
    let question_start = i;
    while i < n {
        let line = lines[i];
        if answer_heading(line).is_some() || is_section(line, "Answer") {
            break;
        }
        if let Some((Label::AnsweredBy | Label::SupplementaryTo, _)) = label_of(line) {
            break;
        }
        // Some pages head the answer with the bare title, without "Answer for".
        if !meta.title.is_empty() && i > question_start && line.trim() == meta.title {
            break;
        }
        i += 1;
    }
    let question = normalize_lines(lines[question_start..i].iter().copied());

    // --- Answer headings, supplementary marker, answerer.
    let mut heading_title: Option<&str> = None;
    let mut saw_answer_heading = false;
    while i < n {
        let line = lines[i];
        if line.trim().is_empty() {
            i += 1;
        } else if let Some(t) = answer_heading(line) {
            if !t.is_empty() {
                heading_title.get_or_insert(t);
            }
            saw_answer_heading = true;
            i += 1;
        } else if is_section(line, "Answer") {
            saw_answer_heading = true;
            i += 1;
        } else if let Some((label, inline)) = label_of(line) {
            i += 1;
            let mut values = Vec::new();
            if !inline.is_empty() {
                values.push(inline);
            } else if i < n && !is_structural(lines[i]) {
                values.push(lines[i].trim());
                i += 1;
            }
            apply_label(&mut meta, label, &values, &mut warnings);
        } else if (saw_answer_heading || !meta.title.is_empty())
            && (line.trim() == meta.title || Some(line.trim()) == heading_title)
        {
            // "Answer for <title>" followed by the title, once or twice; or the bare title as
            // the answer's heading.
            saw_answer_heading = true;
            i += 1;
        } else {
            break;
        }
    }
    if meta.title.is_empty()
        && let Some(t) = heading_title
    {
        meta.title = t.to_string();
    }
    let answer_lines = &lines[i.min(n)..];
    let answer = normalize_lines(answer_lines.iter().copied());

    if meta.title.contains("(Supplementary)") {
        meta.supplementary = true;
    }
    meta.status = answer_status(answer_lines, &mut meta);
    if question.is_empty() {
        warnings.push("the question is empty".to_string());
    }
    if !saw_answer_heading && meta.answered_by.is_none() {
        warnings.push("no \"Answer for\" heading or \"Answered By\" label found".to_string());
    }

    let parts = super::question_and_answer(&meta, question, answer);
    Some(Page {
        meta,
        parts,
        warnings,
    })
}

fn apply_label(meta: &mut Metadata, label: Label, values: &[&str], warnings: &mut Vec<String>) {
    let first = values.first().map(|v| v.to_string());
    match label {
        Label::SessionDate => {
            if let Some(v) = &first {
                meta.session_date = parse_date(v);
                if meta.session_date.is_none() {
                    warnings.push(format!("session date \"{v}\" is not a date"));
                }
            }
        }
        Label::QuestionBy => {
            meta.question_by = first;
            if let Some(org) = values.get(1) {
                meta.organisation = Some(org.to_string());
            }
        }
        Label::AskedOf => meta.asked_of = first,
        Label::AnsweredBy => meta.answered_by = first,
        Label::Meeting => {
            if let Some(v) = first {
                if let Some((kind, date)) = meeting_line(&v) {
                    meta.meeting = Some(kind);
                    meta.meeting_date = Some(date);
                } else {
                    meta.meeting = Some(v);
                }
            }
        }
        Label::Reference => meta.reference = first,
        Label::Organisation => {
            if first.is_some() {
                meta.organisation = first;
            }
        }
        Label::Category => {}
        Label::SupplementaryTo => meta.supplementary = true,
    }
}

fn answer_status(answer_lines: &[&str], meta: &mut Metadata) -> AnswerStatus {
    if answer_lines.iter().all(|l| l.trim().is_empty()) {
        return AnswerStatus::Unanswered;
    }
    let holding = answer_lines.iter().position(|l| {
        // Cheap test first: every holding phrase contains "response" or "holding".
        (l.contains("esponse") || l.contains("olding")) && {
            let lower = l.to_lowercase();
            HOLDING_PHRASES.iter().any(|p| lower.contains(p))
        }
    });
    let from = holding.map_or(0, |h| h + 1);
    for line in &answer_lines[from..] {
        let line = line.trim();
        // The final answer after a holding one: "Answer provided on 12 March 2015:" or
        // "Written response received 29/11/2012".
        if let Some(rest) = line.strip_prefix("Answer provided on ") {
            meta.answer_date = parse_date(rest);
            return AnswerStatus::Answered;
        }
        let written = line
            .strip_prefix("Written response received on ")
            .or_else(|| line.strip_prefix("Written response received "));
        if let Some(date) = written.and_then(parse_date) {
            meta.answer_date = Some(date);
            return AnswerStatus::Answered;
        }
    }
    if holding.is_some() {
        AnswerStatus::Holding
    } else {
        AnswerStatus::Answered
    }
}
