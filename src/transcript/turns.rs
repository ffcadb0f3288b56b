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

/// A turn: its speaker, and the text on its label line (`first`) and on the lines after it up to
/// the next turn (`more`, indices into the lines). Plain ranges rather than a list of lines per
/// turn: a 60 MB interview has millions of turns.
struct Turn<'a> {
    speaker: &'a str,
    first: &'a str,
    more: std::ops::Range<usize>,
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
    let mut preamble_end = lines.len();
    let mut turns: Vec<Turn> = Vec::new();
    for (i, &line) in lines.iter().enumerate() {
        if let Some((speaker, text)) = speaker_label(line) {
            if let Some(t) = turns.last_mut() {
                t.more.end = i;
            } else {
                preamble_end = i;
            }
            turns.push(Turn {
                speaker,
                first: text,
                more: i + 1..lines.len(),
            });
        }
    }
    let preamble = &lines[..preamble_end];
    let two_speakers = turns.iter().any(|t| t.speaker != turns[0].speaker);
    let preamble_paragraphs = preamble.iter().filter(|l| l.is_empty()).count() + 1;
    if turns.len() < 2 || !two_speakers || preamble_paragraphs > 4 {
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
    let asking: Vec<bool> = turns.iter().map(asks).collect();

    // One exchange per run of asking turns (possibly none) and the answering turns after it.
    let exchanges = 1
        + (1..turns.len())
            .filter(|&i| asking[i] && !asking[i - 1])
            .count();
    let mut parts = Vec::with_capacity(2 * exchanges);
    let mut i = 0;
    let mut exchange = 0u32;
    while i < turns.len() {
        let q_start = i;
        while i < turns.len() && asking[i] {
            i += 1;
        }
        let a_start = i;
        while i < turns.len() && !asking[i] {
            i += 1;
        }
        let question = &turns[q_start..a_start];
        let answer = &turns[a_start..i];
        parts.push(make_part(exchange, PartKind::Question, question, lines));
        parts.push(make_part(exchange, PartKind::Answer, answer, lines));
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

fn make_part(exchange: u32, kind: PartKind, turns: &[Turn], lines: &[&str]) -> Part {
    let mut speakers: Vec<&str> = Vec::new();
    for t in turns {
        if !speakers.contains(&t.speaker) {
            speakers.push(t.speaker);
        }
    }
    let several = speakers.len() > 1;
    let body = |t: &Turn| {
        let first = (!t.first.is_empty()).then_some(t.first);
        normalize_lines(
            first
                .into_iter()
                .chain(lines[t.more.clone()].iter().copied()),
        )
    };
    let mut text = if let [t] = turns
        && !several
    {
        // One turn's normalized text is already what normalizing it again gives.
        body(t)
    } else {
        let mut joined: Vec<String> = Vec::new();
        for t in turns {
            if !joined.is_empty() {
                joined.push(String::new());
            }
            if several {
                joined.push(format!("{}: {}", t.speaker, body(t)));
            } else {
                joined.push(body(t));
            }
        }
        normalize_lines(joined.iter().flat_map(|l| l.split('\n')))
    };
    text.shrink_to_fit();
    Part {
        id: PartId { exchange, kind },
        speaker: (!speakers.is_empty()).then(|| speakers.join(" and ")),
        text,
    }
}
