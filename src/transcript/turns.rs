//! Speaker-turn transcripts: interviews and hearings with `Q:` / `A:`, `INTERVIEWER:` /
//! `RESPONDENT:` or `Jane Smith:` labels, select-committee oral evidence with question-numbered
//! labels (`Q369 Chairman:`), Hansard committee style with dashes (`CHAIR —`, `Senator SMITH—`),
//! and the turns of timed transcripts (subtitles, Otter exports). A run of question turns and the
//! answer turns after it form one exchange.
//!
//! A line is taken as a speaker label only where it looks like a turn: a name's shape, not page
//! furniture (`Note:`, `Representations:`, roman-numeral list items), and either at the start of a
//! paragraph, carrying a question number, a known role, or a label used more than once.

use std::borrow::Cow;
use std::collections::HashMap;

use super::normalize::normalize_lines;
use super::{Metadata, Part, PartId, PartKind};

pub(super) struct Turns {
    pub meta: Metadata,
    pub parts: Vec<Part>,
}

/// Labels of the one asking, compared case-insensitively; they are roles, not people.
const QUESTION_ROLES: &[&str] = &["q", "question", "interviewer", "int", "i", "iv"];

/// Labels of the one answering; roles, not people.
const ANSWER_ROLES: &[&str] = &[
    "a",
    "answer",
    "respondent",
    "interviewee",
    "r",
    "resp",
    "ie",
    "participant",
];

/// Labels of those who chair a hearing or a meeting: people (`Chair` names the chair), who ask.
const CHAIR_WORDS: &[&str] = &[
    "chair",
    "chairman",
    "chairwoman",
    "chairperson",
    "convener",
    "convenor",
    "moderator",
    "host",
    "presiding",
];

/// Words before a colon that are page furniture, never a speaker.
const FURNITURE: &[&str] = &[
    "note",
    "notes",
    "nb",
    "n.b",
    "representations",
    "source",
    "sources",
    "see",
    "see also",
    "date",
    "time",
    "place",
    "location",
    "venue",
    "present",
    "members present",
    "also present",
    "in attendance",
    "apologies",
    "witness",
    "witnesses",
    "subject",
    "title",
    "topic",
    "summary",
    "background",
    "recommendation",
    "recommendations",
    "conclusion",
    "conclusions",
    "annex",
    "appendix",
    "table",
    "figure",
    "chart",
    "example",
    "examples",
    "warning",
    "update",
    "tel",
    "telephone",
    "fax",
    "email",
    "e-mail",
    "web",
    "website",
    "url",
    "page",
    "ref",
    "reference",
    "contact",
    "address",
    "ps",
    "p.s",
    "key",
    "action",
    "actions",
    "agenda",
    "item",
    "minutes",
    "transcript",
    "interview",
    "duration",
    "recorded",
    "language",
    "keywords",
];

/// Honorifics that open a dash-style Hansard label (`Mr Douglas —`).
const HONORIFICS: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "dr",
    "prof",
    "professor",
    "sir",
    "dame",
    "lord",
    "lady",
    "baroness",
    "senator",
    "hon",
    "the",
    "cllr",
    "councillor",
    "rev",
    "judge",
    "commissioner",
    "deputy",
    "acting",
];

/// Words allowed in lower case inside a speaker's name.
const NAME_PARTICLES: &[&str] = &[
    "de", "van", "von", "der", "da", "di", "le", "la", "of", "the", "du", "and", "for",
];

/// A line that opens a header block of a hearing: `Some(true)` for the witnesses' (the
/// examination's heading, a witness list), `Some(false)` for the members present.
fn header_line(line: &str) -> Option<bool> {
    let l = line.trim_start();
    let starts = |p: &str| l.get(..p.len()).is_some_and(|s| s.eq_ignore_ascii_case(p));
    if starts("examination of witness")
        || starts("further examination of witness")
        || starts("witnesses:")
        || starts("witness:")
    {
        Some(true)
    } else if starts("members present:") || starts("present:") {
        Some(false)
    } else {
        None
    }
}

/// One speaker's turn: the label, its question number, the text and (timed transcripts) when.
pub(super) struct Turn<'a> {
    pub speaker: Cow<'a, str>,
    pub qnum: Option<Cow<'a, str>>,
    pub lines: Vec<Cow<'a, str>>,
    pub start_ms: Option<u64>,
    pub end_ms: Option<u64>,
}

/// A speaker label found at the start of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Label<'a> {
    speaker: &'a str,
    qnum: Option<&'a str>,
    rest: &'a str,
    dash: bool,
}

/// The label's name without a parenthesised role or time: `Jane Smith (Director)` -> `Jane Smith`.
fn base_name(label: &str) -> &str {
    label.split('(').next().unwrap_or(label).trim()
}

fn name_like(base: &str, max_words: usize) -> bool {
    let words: Vec<&str> = base.split_whitespace().collect();
    if words.is_empty() || words.len() > max_words {
        return false;
    }
    words.iter().all(|w| {
        let Some(first) = w.chars().next() else {
            return false;
        };
        let chars_ok = w
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '.' | '\'' | '’' | '-' | ','));
        chars_ok && (first.is_uppercase() || NAME_PARTICLES.contains(w))
    })
}

/// `Name (Role): text` -> (label, text).
fn colon_label(line: &str) -> Option<(&str, &str)> {
    let colon = line.find(':')?;
    if colon == 0 || colon > 80 {
        return None;
    }
    let label = line[..colon].trim_end();
    let rest = &line[colon + 1..];
    // "10:30" and URLs have no space after the colon.
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    if label.contains('(') && !label.ends_with(')') {
        return None;
    }
    name_like(base_name(label), 5).then_some((label, rest.trim()))
}

/// `CHAIR —Welcome`, `Mr Douglas — I think`, `Senator SMITH—Thank you` -> (label, text).
fn dash_label(line: &str) -> Option<(&str, &str)> {
    let (at, dash) = line
        .char_indices()
        .take(70)
        .find(|&(_, c)| c == '—' || c == '–')?;
    if at == 0 {
        return None;
    }
    let label = line[..at].trim_end();
    let rest = line[at + dash.len_utf8()..].trim();
    if label.contains('(') && !label.ends_with(')') {
        return None;
    }
    let base = base_name(label);
    if !name_like(base, 6) {
        return None;
    }
    // A dash after capitalised words is also ordinary prose ("Yes — of course"): a Hansard label
    // opens with an honorific or has a name in capitals.
    let first = base.split_whitespace().next().unwrap_or("");
    let honorific = HONORIFICS.contains(&first.trim_end_matches('.').to_lowercase().as_str());
    let capitals = base.split_whitespace().any(|w| {
        w.chars().filter(|c| c.is_alphabetic()).count() >= 2 && w.chars().all(|c| !c.is_lowercase())
    });
    (honorific || capitals).then_some((label, rest))
}

/// A speaker label at the start of a line, before checking that it looks like a turn.
fn find_label(line: &str) -> Option<Label<'_>> {
    let s = line.trim_start();
    let mut qnum = None;
    let mut body = s;
    if let Some(after_q) = s.strip_prefix('Q') {
        let digits = after_q.bytes().take_while(u8::is_ascii_digit).count();
        let tail = &after_q[digits..];
        let tail_trimmed = tail.strip_prefix('.').unwrap_or(tail);
        if digits > 0 && tail_trimmed.starts_with(char::is_whitespace) {
            qnum = Some(&after_q[..digits]);
            body = tail_trimmed.trim_start();
        }
    }
    if let Some((speaker, rest)) = colon_label(body) {
        return Some(Label {
            speaker,
            qnum,
            rest,
            dash: false,
        });
    }
    dash_label(body).map(|(speaker, rest)| Label {
        speaker,
        qnum,
        rest,
        dash: true,
    })
}

fn lower_base(speaker: &str) -> String {
    base_name(speaker).trim_end_matches('.').to_lowercase()
}

fn is_roman(s: &str) -> bool {
    !s.is_empty() && s.len() <= 6 && s.chars().all(|c| matches!(c, 'i' | 'v' | 'x' | 'l'))
}

/// True for a label that names a role (`Q`, `A`, `INTERVIEWER`), not a person.
pub(super) fn is_role_label(speaker: &str) -> bool {
    let b = lower_base(speaker);
    QUESTION_ROLES.contains(&b.as_str()) || ANSWER_ROLES.contains(&b.as_str())
}

fn is_chair(speaker: &str) -> bool {
    lower_base(speaker)
        .split_whitespace()
        .any(|w| CHAIR_WORDS.contains(&w))
}

/// Who asks: decided per speaker for the whole document.
fn roles(turns: &[Turn], headers: &str) -> HashMap<String, bool> {
    let mut speakers: Vec<&str> = Vec::new();
    for t in turns {
        if !speakers.contains(&t.speaker.as_ref()) {
            speakers.push(&t.speaker);
        }
    }
    let mut asks: HashMap<String, bool> = HashMap::new();
    let fixed = |s: &str| -> Option<bool> {
        let b = lower_base(s);
        if QUESTION_ROLES.contains(&b.as_str()) || is_chair(s) {
            Some(true)
        } else if ANSWER_ROLES.contains(&b.as_str()) {
            Some(false)
        } else {
            None
        }
    };
    let any_qnum = turns.iter().any(|t| t.qnum.is_some());
    let headers = headers.to_lowercase();
    let in_header = |s: &str| {
        let b = base_name(s).to_lowercase();
        let surname = b
            .split_whitespace()
            .last()
            .unwrap_or("")
            .trim_matches(|c: char| !c.is_alphabetic());
        surname.len() >= 2 && headers.contains(surname)
    };
    let witnesses_known = !headers.is_empty()
        && speakers.iter().any(|s| fixed(s).is_none() && in_header(s))
        && speakers.iter().any(|s| fixed(s).is_none() && !in_header(s));
    let any_fixed_asker = speakers.iter().any(|s| fixed(s) == Some(true));
    let first = turns.first().map(|t| t.speaker.as_ref());
    for s in &speakers {
        let senator = lower_base(s).starts_with("senator");
        let role = fixed(s).unwrap_or_else(|| {
            if any_qnum {
                turns.iter().any(|t| t.speaker == *s && t.qnum.is_some())
            } else if witnesses_known {
                !in_header(s)
            } else if any_fixed_asker {
                // Senate committees: senators ask, officials answer.
                senator
            } else {
                Some(*s) == first
            }
        });
        asks.insert(s.to_string(), role);
    }
    asks
}

/// Recognises a speaker-turn transcript in text lines; `None` when they do not look like one.
pub(super) fn parse<'a>(lines: &[&'a str]) -> Option<Turns> {
    let candidates: Vec<Option<Label>> = lines.iter().map(|l| find_label(l)).collect();
    if candidates.iter().flatten().count() < 2 {
        return None;
    }
    let mut uses: HashMap<String, usize> = HashMap::new();
    for l in candidates.iter().flatten() {
        *uses.entry(lower_base(l.speaker)).or_default() += 1;
    }
    // Roman numerals are list items as soon as one beyond `I` appears (`I:` alone is an
    // interviewer).
    let romans_are_items = uses.keys().any(|k| k != "i" && is_roman(k));
    let is_furniture = |l: &Label| {
        let b = lower_base(l.speaker);
        FURNITURE.contains(&b.as_str()) || (romans_are_items && is_roman(&b))
    };

    let mut preamble: Vec<&'a str> = Vec::new();
    let mut headers = String::new();
    // At most one turn per label found: one allocation for the millions of turns of a long interview.
    let mut turns: Vec<Turn<'a>> = Vec::with_capacity(candidates.iter().flatten().count());
    // Inside a header block: whether it lists witnesses.
    let mut in_header: Option<bool> = None;
    // Dialogue typed without blank lines: a label right under another turn's label line.
    let mut previous_was_label = false;
    for (i, &line) in lines.iter().enumerate() {
        let at_paragraph_start = i == 0 || lines[i - 1].trim().is_empty();
        let label = candidates[i].filter(|l| {
            !is_furniture(l)
                && (l.qnum.is_some()
                    || at_paragraph_start
                    || previous_was_label
                    || is_role_label(l.speaker)
                    || uses[&lower_base(l.speaker)] >= 2)
        });
        previous_was_label = label.is_some();
        if let Some(l) = label {
            in_header = None;
            let mut t = Turn {
                speaker: Cow::Borrowed(l.speaker),
                qnum: l.qnum.map(Cow::Borrowed),
                lines: Vec::new(),
                start_ms: None,
                end_ms: None,
            };
            if !l.rest.is_empty() {
                // Room for the label line alone, the usual turn of an interview (a first push
                // would make room for four).
                t.lines.reserve_exact(1);
                t.lines.push(Cow::Borrowed(l.rest));
            }
            let _ = l.dash;
            turns.push(t);
            continue;
        }
        if let Some(witnesses) = header_line(line) {
            in_header = Some(witnesses);
        }
        if let Some(witnesses) = in_header {
            if witnesses {
                headers.push_str(line);
                headers.push('\n');
            }
            if turns.is_empty() {
                preamble.push(line);
            }
        } else if let Some(t) = turns.last_mut() {
            t.lines.push(Cow::Borrowed(line));
        } else {
            preamble.push(line);
        }
    }
    let preamble_paragraphs = preamble.iter().filter(|l| l.trim().is_empty()).count() + 1;
    // A long text with a few name-like labels is prose, unless it is a hearing: question
    // numbers or a witness header explain a long preamble.
    let hearing = turns.iter().any(|t| t.qnum.is_some()) || !headers.is_empty();
    if preamble_paragraphs > 4 && !(hearing || turns.len() >= 2 * preamble_paragraphs) {
        return None;
    }
    // The labels found are no longer needed while the parts are built.
    drop(candidates);
    build(&preamble, turns, &headers)
}

/// Builds the exchanges from turns: a run of question turns and the answer turns after it.
pub(super) fn build(preamble: &[&str], turns: Vec<Turn>, headers: &str) -> Option<Turns> {
    let mut speakers: Vec<&str> = turns.iter().map(|t| t.speaker.as_ref()).collect();
    speakers.sort_unstable();
    speakers.dedup();
    if turns.len() < 2 || speakers.len() < 2 {
        return None;
    }
    let asks_by_speaker = roles(&turns, headers);
    let asks = |t: &Turn| asks_by_speaker[t.speaker.as_ref()];

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
        let qnums: Vec<&str> = turns[q_start..i]
            .iter()
            .filter_map(|t| t.qnum.as_deref())
            .collect();
        let reference = (!qnums.is_empty()).then(|| qnums.join(", "));
        let mut q = make_part(exchange, PartKind::Question, question);
        let mut a = make_part(exchange, PartKind::Answer, answer);
        q.reference = reference.clone();
        a.reference = reference;
        // An exchange with no question turn starts when its answer does.
        if question.is_empty() {
            q.start_ms = a.start_ms;
            q.end_ms = a.start_ms;
        }
        if answer.is_empty() {
            a.start_ms = q.end_ms;
            a.end_ms = q.end_ms;
        }
        parts.push(q);
        parts.push(a);
        exchange += 1;
    }

    let title = normalize_lines(preamble.iter().copied());
    let first_named = |kind: PartKind| {
        parts
            .iter()
            .filter(|p: &&Part| p.id.kind == kind)
            .find_map(|p| p.speaker.clone())
    };
    let meta = Metadata {
        title: title.lines().next().unwrap_or("").to_string(),
        question_by: first_named(PartKind::Question),
        answered_by: first_named(PartKind::Answer),
        reference: parts[0].reference.clone(),
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
    let mut people: Vec<&str> = Vec::new();
    for t in turns {
        let name = base_name(&t.speaker);
        if !is_role_label(name) && !people.contains(&name) {
            people.push(name);
        }
    }
    // Every turn of a part made of several keeps its label, even when one speaker has
    // consecutive turns: the turns stay told apart.
    let labelled = turns.len() > 1;
    let mut lines: Vec<String> = Vec::new();
    for t in turns {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        let body = normalize_lines(t.lines.iter().map(|l| l.as_ref()));
        if labelled {
            lines.push(format!("{}: {}", t.speaker, body));
        } else {
            lines.push(body);
        }
    }
    Part {
        id: PartId { exchange, kind },
        speaker: (!people.is_empty()).then(|| people.join(" and ")),
        text: normalize_lines(lines.iter().flat_map(|l| l.split('\n'))),
        reference: None,
        start_ms: turns.iter().filter_map(|t| t.start_ms).min(),
        end_ms: turns.iter().filter_map(|t| t.end_ms).max(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        let l = find_label("Q369 Chairman: Good morning.").unwrap();
        assert_eq!(
            (l.speaker, l.qnum, l.rest),
            ("Chairman", Some("369"), "Good morning.")
        );
        let l = find_label("Q1          Chair: Welcome.").unwrap();
        assert_eq!((l.speaker, l.qnum), ("Chair", Some("1")));
        let l = find_label("CHAIR —Welcome, everyone.").unwrap();
        assert_eq!(
            (l.speaker, l.rest, l.dash),
            ("CHAIR", "Welcome, everyone.", true)
        );
        let l = find_label("Senator SMITH—Thank you.").unwrap();
        assert_eq!(l.speaker, "Senator SMITH");
        let l = find_label("Mr Douglas — I think so.").unwrap();
        assert_eq!(l.speaker, "Mr Douglas");
        assert!(find_label("Yes — of course it was.").is_none());
        assert!(find_label("At 10:30 we met.").is_none());
        assert!(find_label("the council said: no").is_none());
    }
}
