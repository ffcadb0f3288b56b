//! Speaker-turn transcripts: interviews and hearings with `Q:` / `A:`, `INTERVIEWER:` /
//! `RESPONDENT:` or `Jane Smith:` labels. A run of question turns and the answer turns after it
//! form one exchange.

use super::normalize::normalize_lines;
use super::{Metadata, Part, PartId, PartKind};

pub(super) struct Turns {
    pub meta: Metadata,
    pub parts: Vec<Part>,
}

/// Labels that mark the one asking, compared case-insensitively.
const QUESTION_LABELS: &[&str] = &[
    "q",
    "question",
    "interviewer",
    "int",
    "i",
    "chair",
    "chairman",
    "chairwoman",
    "moderator",
    "host",
];

/// Words allowed in lower case inside a speaker's name.
const NAME_PARTICLES: &[&str] = &[
    "de", "van", "von", "der", "da", "di", "le", "la", "of", "the", "du",
];

struct Turn<'a> {
    speaker: &'a str,
    lines: Vec<&'a str>,
}

/// Splits `Name (Role): text` into the speaker label and the text, when the line opens a turn.
fn speaker_label(line: &str) -> Option<(&str, &str)> {
    let colon = line.find(':')?;
    if colon == 0 || colon > 80 {
        return None;
    }
    let label = line[..colon].trim_end();
    let rest = &line[colon + 1..];
    // "Note: see annex" inside a turn would be rare; a URL or a time never has a space after
    // the colon directly followed by digits only, so "10:30" is not a label.
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    let base = match label.find('(') {
        Some(open) => {
            if !label.ends_with(')') {
                return None;
            }
            label[..open].trim_end()
        }
        None => label,
    };
    let words: Vec<&str> = base.split_whitespace().collect();
    if words.is_empty() || words.len() > 5 {
        return None;
    }
    let name_like = words.iter().all(|w| {
        let Some(first) = w.chars().next() else {
            return false;
        };
        let chars_ok = w
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '.' | '\'' | '’' | '-'));
        chars_ok && (first.is_uppercase() || NAME_PARTICLES.contains(w))
    });
    if !name_like {
        return None;
    }
    Some((label, rest.trim()))
}

fn is_question_label(speaker: &str) -> bool {
    let base = speaker.split('(').next().unwrap_or(speaker).trim();
    let base = base.trim_end_matches('.').to_lowercase();
    QUESTION_LABELS.contains(&base.as_str())
}

/// Recognises a speaker-turn transcript; `None` when the lines do not look like one.
pub(super) fn parse(lines: &[&str]) -> Option<Turns> {
    let mut preamble: Vec<&str> = Vec::new();
    let mut turns: Vec<Turn> = Vec::new();
    for &line in lines {
        if let Some((speaker, text)) = speaker_label(line) {
            let mut t = Turn {
                speaker,
                lines: Vec::new(),
            };
            if !text.is_empty() {
                t.lines.push(text);
            }
            turns.push(t);
        } else if let Some(t) = turns.last_mut() {
            t.lines.push(line);
        } else {
            preamble.push(line);
        }
    }
    let mut speakers: Vec<&str> = turns.iter().map(|t| t.speaker).collect();
    speakers.sort_unstable();
    speakers.dedup();
    let preamble_paragraphs = preamble.iter().filter(|l| l.is_empty()).count() + 1;
    if turns.len() < 2 || speakers.len() < 2 || preamble_paragraphs > 4 {
        return None;
    }
    let any_question_label = turns.iter().any(|t| is_question_label(t.speaker));
    let first_speaker = turns[0].speaker;
    let asks = |t: &Turn| {
        if any_question_label {
            is_question_label(t.speaker)
        } else {
            t.speaker == first_speaker
        }
    };

    let mut parts = Vec::new();
    let mut i = 0;
    let mut exchange = 0u32;
    while i < turns.len() {
        let q_start = i;
        while i < turns.len() && asks(&turns[i]) {
            i += 1;
        }
        let a_start = i;
        while i < turns.len() && !asks(&turns[i]) {
            i += 1;
        }
        let question = &turns[q_start..a_start];
        let answer = &turns[a_start..i];
        parts.push(make_part(exchange, PartKind::Question, question));
        parts.push(make_part(exchange, PartKind::Answer, answer));
        exchange += 1;
    }

    let title = normalize_lines(preamble.iter().copied());
    let meta = Metadata {
        title: title.lines().next().unwrap_or("").to_string(),
        question_by: parts[0].speaker.clone(),
        answered_by: parts[1].speaker.clone(),
        status: if parts[1].text.is_empty() {
            super::AnswerStatus::Unanswered
        } else {
            super::AnswerStatus::Answered
        },
        ..Metadata::default()
    };
    Some(Turns { meta, parts })
}

fn make_part(exchange: u32, kind: PartKind, turns: &[Turn]) -> Part {
    let mut speakers: Vec<&str> = Vec::new();
    for t in turns {
        if !speakers.contains(&t.speaker) {
            speakers.push(t.speaker);
        }
    }
    let several = speakers.len() > 1;
    let mut lines: Vec<String> = Vec::new();
    for t in turns {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        let body = normalize_lines(t.lines.iter().copied());
        if several {
            lines.push(format!("{}: {}", t.speaker, body));
        } else {
            lines.push(body);
        }
    }
    Part {
        id: PartId { exchange, kind },
        speaker: (!speakers.is_empty()).then(|| speakers.join(" and ")),
        text: normalize_lines(lines.iter().flat_map(|l| l.split('\n'))),
    }
}
