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
use super::{Metadata, Part, PartId, PartKind, Role, SpeakerRole};

pub(super) struct Turns {
    pub meta: Metadata,
    pub parts: Vec<Part>,
    pub layout: TurnLayout,
}

/// A speaker of a turn-based transcript as first read: the label and the guessed role.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Speaker {
    label: String,
    guessed: Role,
}

/// One turn, kept to build the exchanges again with other roles.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeptTurn {
    /// Index in [`TurnLayout::speakers`].
    speaker: u32,
    qnum: Option<String>,
    /// The turn's words, normalized.
    body: String,
    /// `body`'s length in chars.
    chars: u32,
    start_ms: Option<u64>,
    end_ms: Option<u64>,
}

/// The speaker turns a transcript's exchanges were built from, kept so the exchanges can be built
/// again when the user says a speaker asks or answers ([`super::Transcript::with_roles`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnLayout {
    title: String,
    speakers: Vec<Speaker>,
    turns: Vec<KeptTurn>,
    /// For each turn: the index of its part and the char offset of its words there.
    placed: Vec<(u32, u32)>,
    overrides: std::collections::BTreeMap<String, Role>,
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
    // Counted without collecting: this runs on every line of every document opened.
    let count = base.split_whitespace().take(max_words + 1).count();
    if count == 0 || count > max_words {
        return false;
    }
    base.split_whitespace().all(|w| {
        let Some(first) = w.chars().next() else {
            return false;
        };
        let chars_ok = w
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '.' | '\'' | '’' | '-' | ','));
        chars_ok && (first.is_uppercase() || NAME_PARTICLES.contains(&w))
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
    // Each label's lower-case name, made once.
    let keys: Vec<Option<String>> = candidates
        .iter()
        .map(|c| c.map(|l| lower_base(l.speaker)))
        .collect();
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for k in keys.iter().flatten() {
        *uses.entry(k.as_str()).or_default() += 1;
    }
    // Roman numerals are list items as soon as one beyond `I` appears (`I:` alone is an
    // interviewer).
    let romans_are_items = uses.keys().any(|k| *k != "i" && is_roman(k));
    let is_furniture = |b: &str| FURNITURE.contains(&b) || (romans_are_items && is_roman(b));
    let is_role = |b: &str| QUESTION_ROLES.contains(&b) || ANSWER_ROLES.contains(&b);

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
            let b = keys[i].as_deref().unwrap_or_default();
            !is_furniture(b)
                && (l.qnum.is_some()
                    || at_paragraph_start
                    || previous_was_label
                    || is_role(b)
                    || uses[b] >= 2)
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
/// Who asks is guessed per speaker ([`roles`]); the turns are kept in the returned layout so the
/// exchanges can be built again when the user swaps a speaker's role.
pub(super) fn build(preamble: &[&str], turns: Vec<Turn>, headers: &str) -> Option<Turns> {
    let mut distinct: Vec<&str> = turns.iter().map(|t| t.speaker.as_ref()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if turns.len() < 2 || distinct.len() < 2 {
        return None;
    }
    let asks_by_speaker = roles(&turns, headers);
    let mut speakers: Vec<Speaker> = Vec::new();
    let mut index: HashMap<&str, u32> = HashMap::new();
    for t in &turns {
        if !index.contains_key(t.speaker.as_ref()) {
            index.insert(t.speaker.as_ref(), speakers.len() as u32);
            speakers.push(Speaker {
                label: t.speaker.to_string(),
                guessed: if asks_by_speaker[t.speaker.as_ref()] {
                    Role::Asker
                } else {
                    Role::Answerer
                },
            });
        }
    }
    let kept: Vec<KeptTurn> = turns
        .iter()
        .map(|t| {
            let body = normalize_lines(t.lines.iter().map(|l| l.as_ref()));
            KeptTurn {
                speaker: index[t.speaker.as_ref()],
                qnum: t.qnum.as_ref().map(|q| q.to_string()),
                chars: body.chars().count() as u32,
                body,
                start_ms: t.start_ms,
                end_ms: t.end_ms,
            }
        })
        .collect();
    let title = normalize_lines(preamble.iter().copied());
    let mut layout = TurnLayout {
        title: title.lines().next().unwrap_or("").to_string(),
        speakers,
        placed: vec![(0, 0); kept.len()],
        turns: kept,
        overrides: std::collections::BTreeMap::new(),
    };
    let (meta, parts) = layout.assemble();
    Some(Turns {
        meta,
        parts,
        layout,
    })
}

impl TurnLayout {
    /// The speakers in order of first turn, with their role now and whether the user set it.
    pub fn speakers(&self) -> Vec<SpeakerRole> {
        self.speakers
            .iter()
            .map(|s| SpeakerRole {
                speaker: s.label.clone(),
                guessed: s.guessed,
                role: self.overrides.get(&s.label).copied().unwrap_or(s.guessed),
                set: self.overrides.contains_key(&s.label),
            })
            .collect()
    }

    /// The user's roles in force (only those of speakers this transcript has).
    pub fn overrides(&self) -> &std::collections::BTreeMap<String, Role> {
        &self.overrides
    }

    /// True when a turn has this speaker label.
    pub fn has_speaker(&self, label: &str) -> bool {
        self.speakers.iter().any(|s| s.label == label)
    }

    /// Sets the user's roles: those of speakers not in the transcript are left out.
    pub(super) fn set_overrides(&mut self, roles: &std::collections::BTreeMap<String, Role>) {
        self.overrides = roles
            .iter()
            .filter(|(name, _)| self.has_speaker(name))
            .map(|(n, r)| (n.clone(), *r))
            .collect();
    }

    /// Where each turn's words stand in the parts built last: the part's index and the char
    /// offset of the turn's text (after its label) in the part's text, and the text's length.
    pub(super) fn turn_places(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        self.placed
            .iter()
            .zip(&self.turns)
            .map(|(&(part, at), t)| (part as usize, at as usize, t.chars as usize))
    }

    fn asks(&self, speaker: u32) -> bool {
        let s = &self.speakers[speaker as usize];
        self.overrides.get(&s.label).copied().unwrap_or(s.guessed) == Role::Asker
    }

    /// Builds the exchanges with the roles in force: a run of question turns and the answer
    /// turns after it. Records where each turn's words land.
    pub(super) fn assemble(&mut self) -> (Metadata, Vec<Part>) {
        let mut parts = Vec::new();
        let mut i = 0;
        let mut exchange = 0u32;
        let n = self.turns.len();
        while i < n {
            let q_start = i;
            while i < n && self.asks(self.turns[i].speaker) {
                i += 1;
            }
            let a_start = i;
            while i < n && !self.asks(self.turns[i].speaker) {
                i += 1;
            }
            let qnums: Vec<&str> = self.turns[q_start..i]
                .iter()
                .filter_map(|t| t.qnum.as_deref())
                .collect();
            let reference = (!qnums.is_empty()).then(|| qnums.join(", "));
            let mut q = self.make_part(exchange, PartKind::Question, q_start, a_start, parts.len());
            let mut a = self.make_part(exchange, PartKind::Answer, a_start, i, parts.len() + 1);
            q.reference = reference.clone();
            a.reference = reference;
            // An exchange with no question turn starts when its answer does.
            if q_start == a_start {
                q.start_ms = a.start_ms;
                q.end_ms = a.start_ms;
            }
            if a_start == i {
                a.start_ms = q.end_ms;
                a.end_ms = q.end_ms;
            }
            parts.push(q);
            parts.push(a);
            exchange += 1;
        }

        let first_named = |kind: PartKind| {
            parts
                .iter()
                .filter(|p: &&Part| p.id.kind == kind)
                .find_map(|p| p.speaker.clone())
        };
        let meta = Metadata {
            title: self.title.clone(),
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
        (meta, parts)
    }

    /// The part of turns `from..to`. Text: the turn's words alone, or, when the part holds
    /// several turns, each turn as `Label: words`, a blank line between turns (exactly what
    /// normalizing those lines gives, so offsets saved before this was written still hold).
    fn make_part(
        &mut self,
        exchange: u32,
        kind: PartKind,
        from: usize,
        to: usize,
        part_index: usize,
    ) -> Part {
        let turns = &self.turns[from..to];
        let mut people: Vec<&str> = Vec::new();
        for t in turns {
            let name = base_name(&self.speakers[t.speaker as usize].label);
            if !is_role_label(name) && !people.contains(&name) {
                people.push(name);
            }
        }
        // Every turn of a part made of several keeps its label, even when one speaker has
        // consecutive turns: the turns stay told apart.
        let labelled = turns.len() > 1;
        let mut text = String::new();
        let mut chars = 0usize;
        for (k, t) in turns.iter().enumerate() {
            if k > 0 {
                text.push_str("\n\n");
                chars += 2;
            }
            if labelled {
                let label = &self.speakers[t.speaker as usize].label;
                text.push_str(label);
                text.push(':');
                chars += label.chars().count() + 1;
                if !t.body.is_empty() {
                    text.push(' ');
                    chars += 1;
                }
            }
            self.placed[from + k] = (part_index as u32, chars as u32);
            text.push_str(&t.body);
            chars += t.chars as usize;
        }
        Part {
            id: PartId { exchange, kind },
            speaker: (!people.is_empty()).then(|| people.join(" and ")),
            text,
            reference: None,
            start_ms: turns.iter().filter_map(|t| t.start_ms).min(),
            end_ms: turns.iter().filter_map(|t| t.end_ms).max(),
        }
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
