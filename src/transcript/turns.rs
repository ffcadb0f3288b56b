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

use std::sync::Arc;

use super::normalize::normalize_lines_into;
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

/// Marks "none" in the compact `u32` indexes of [`KeptTurn`].
const NONE: u32 = u32::MAX;

/// One turn, kept to build the exchanges again with other roles. Sixteen bytes: a long
/// interview has millions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct KeptTurn {
    /// Index in [`TurnLayout::speakers`].
    speaker: u32,
    /// Index in [`TurnLayout::qnums`], or [`NONE`].
    qnum: u32,
    /// The turn's words, normalized: a byte range of [`TurnLayout::text`].
    start: u32,
    end: u32,
}

/// A part laid out in [`TurnLayout::text`], not yet made ([`TurnLayout::parts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LaidOut {
    id: PartId,
    /// Its turns.
    from: u32,
    to: u32,
    /// Its text: a byte range of [`TurnLayout::text`].
    start: u32,
    end: u32,
}

/// The speaker turns a transcript's exchanges were built from, kept so the exchanges can be built
/// again when the user says a speaker asks or answers ([`super::Transcript::with_roles`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnLayout {
    title: String,
    speakers: Vec<Speaker>,
    turns: Vec<KeptTurn>,
    /// The question numbers of a hearing's turns.
    qnums: Vec<Box<str>>,
    /// Per turn, when the transcript is timed (empty otherwise): start and end in milliseconds.
    times: Vec<(Option<u64>, Option<u64>)>,
    /// The text of the parts built last, which they share: every turn's words are in it.
    text: Arc<String>,
    /// For each turn: the index of its part and the char offset of its words there.
    placed: Vec<(u32, u32)>,
    /// The parts of `text`, until [`TurnLayout::parts`] makes them.
    laid_out: Vec<LaidOut>,
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

/// Who asks: decided per speaker (labels in order of first turn; `with_qnum`: whether one of
/// the speaker's turns has a question number) for the whole document.
fn roles(speakers: &[&str], with_qnum: &[bool], headers: &str) -> Vec<bool> {
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
    let any_qnum = with_qnum.iter().any(|&q| q);
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
    speakers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let senator = lower_base(s).starts_with("senator");
            fixed(s).unwrap_or_else(|| {
                if any_qnum {
                    with_qnum[i]
                } else if witnesses_known {
                    !in_header(s)
                } else if any_fixed_asker {
                    // Senate committees: senators ask, officials answer.
                    senator
                } else {
                    // The first to speak asks.
                    i == 0
                }
            })
        })
        .collect()
}

/// A label kept from the first pass over the lines: its line and, once interned, its
/// lower-case name's number.
struct Candidate<'a> {
    line: u32,
    key: u32,
    label: Label<'a>,
}

/// The lower-case name of a label ([`lower_base`]) written into `out`, without allocating for
/// the ASCII names of nearly every transcript.
fn lower_base_into(out: &mut String, speaker: &str) {
    out.clear();
    let base = base_name(speaker).trim_end_matches('.');
    if base.is_ascii() {
        out.push_str(base);
        out.make_ascii_lowercase();
    } else {
        out.push_str(&base.to_lowercase());
    }
}

/// Recognises a speaker-turn transcript in text lines; `None` when they do not look like one.
/// The layout returned has its text written and its parts laid out, to be made by
/// [`TurnLayout::parts`] once the caller has let go of the lines (a 60 MB transcript is then not
/// held twice beside its parts).
pub(super) fn read(lines: &[&str]) -> Option<TurnLayout> {
    // Each label's lower-case name interned: the labels of a transcript are a handful of names
    // used again and again, so no line allocates.
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    let mut key_ids: HashMap<String, u32> = HashMap::new();
    let mut uses: Vec<usize> = Vec::new();
    let mut scratch = String::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(label) = find_label(line) else {
            continue;
        };
        lower_base_into(&mut scratch, label.speaker);
        let key = match key_ids.get(scratch.as_str()) {
            Some(&k) => k,
            None => {
                let k = keys.len() as u32;
                key_ids.insert(scratch.clone(), k);
                keys.push(scratch.clone());
                uses.push(0);
                k
            }
        };
        uses[key as usize] += 1;
        candidates.push(Candidate {
            line: i as u32,
            key,
            label,
        });
    }
    if candidates.len() < 2 {
        return None;
    }
    // Roman numerals are list items as soon as one beyond `I` appears (`I:` alone is an
    // interviewer).
    let romans_are_items = keys.iter().any(|k| k != "i" && is_roman(k));
    let furniture: Vec<bool> = keys
        .iter()
        .map(|b| FURNITURE.contains(&b.as_str()) || (romans_are_items && is_roman(b)))
        .collect();
    // A role, or a label used more than once, is a turn wherever it stands.
    let anywhere: Vec<bool> = keys
        .iter()
        .zip(&uses)
        .map(|(b, &n)| {
            QUESTION_ROLES.contains(&b.as_str()) || ANSWER_ROLES.contains(&b.as_str()) || n >= 2
        })
        .collect();

    let mut collected = Collected::with_capacity(candidates.len());
    // Per turn: its label line, where its words start on that line, and the end of its lines.
    let mut spans: Vec<(u32, u32, u32)> = Vec::with_capacity(candidates.len());
    let mut headers = String::new();
    let mut first_turn_line = lines.len();
    // Inside a header block: whether it lists witnesses.
    let mut in_header: Option<bool> = None;
    // Dialogue typed without blank lines: a label right under another turn's label line.
    let mut previous_was_label = false;
    let mut next = candidates.iter().peekable();
    for (i, &line) in lines.iter().enumerate() {
        let candidate = next.next_if(|c| c.line as usize == i);
        let at_paragraph_start = i == 0 || lines[i - 1].trim().is_empty();
        let label = candidate.filter(|c| {
            let k = c.key as usize;
            !furniture[k]
                && (c.label.qnum.is_some()
                    || at_paragraph_start
                    || previous_was_label
                    || anywhere[k])
        });
        previous_was_label = label.is_some();
        if let Some(c) = label {
            in_header = None;
            let l = c.label;
            if collected.turns.is_empty() {
                first_turn_line = i;
            }
            collected.push(l.speaker, l.qnum, None);
            let rest_at = l.rest.as_ptr() as usize - line.as_ptr() as usize;
            spans.push((i as u32, rest_at as u32, i as u32 + 1));
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
        } else if let Some(last) = spans.last_mut() {
            // A turn runs until the next label or header block: its lines are contiguous.
            last.2 = i as u32 + 1;
        }
    }
    // The labels found are no longer needed while the text is written.
    drop(candidates);
    let preamble = &lines[..first_turn_line];
    let preamble_paragraphs = preamble.iter().filter(|l| l.trim().is_empty()).count() + 1;
    // A long text with a few name-like labels is prose, unless it is a hearing: question
    // numbers or a witness header explain a long preamble.
    let hearing = !collected.qnums.is_empty() || !headers.is_empty();
    if preamble_paragraphs > 4 && !(hearing || collected.turns.len() >= 2 * preamble_paragraphs) {
        return None;
    }
    collected.layout(title_of(preamble), &headers, |k, out| {
        let (line, rest_at, end) = spans[k];
        let (line, end) = (line as usize, end as usize);
        let first = &lines[line][rest_at as usize..];
        normalize_lines_into(
            out,
            std::iter::once(first).chain(lines[line + 1..end].iter().copied()),
        );
    })
}

/// The title: the first line of the text before the first turn.
fn title_of(preamble: &[&str]) -> String {
    preamble
        .iter()
        .map(|l| l.trim_end_matches(super::normalize::is_trailing_space))
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

/// Turns as read, before the exchanges are built: speakers and question numbers interned.
struct Collected<'a> {
    /// Distinct labels, in order of first turn.
    speakers: Vec<&'a str>,
    speaker_ids: HashMap<&'a str, u32>,
    /// Per speaker: whether one of their turns has a question number.
    with_qnum: Vec<bool>,
    qnums: Vec<&'a str>,
    turns: Vec<KeptTurn>,
    times: Vec<(Option<u64>, Option<u64>)>,
}

impl<'a> Collected<'a> {
    fn with_capacity(turns: usize) -> Collected<'a> {
        Collected {
            speakers: Vec::new(),
            speaker_ids: HashMap::new(),
            with_qnum: Vec::new(),
            qnums: Vec::new(),
            turns: Vec::with_capacity(turns),
            times: Vec::new(),
        }
    }

    fn push(
        &mut self,
        speaker: &'a str,
        qnum: Option<&'a str>,
        times: Option<(Option<u64>, Option<u64>)>,
    ) {
        let id = match self.speaker_ids.get(speaker) {
            Some(&id) => id,
            None => {
                let id = self.speakers.len() as u32;
                self.speaker_ids.insert(speaker, id);
                self.speakers.push(speaker);
                self.with_qnum.push(false);
                id
            }
        };
        let qnum = match qnum {
            Some(q) => {
                self.with_qnum[id as usize] = true;
                self.qnums.push(q);
                (self.qnums.len() - 1) as u32
            }
            None => NONE,
        };
        if let Some(t) = times {
            self.times.push(t);
        }
        self.turns.push(KeptTurn {
            speaker: id,
            qnum,
            start: 0,
            end: 0,
        });
    }

    /// The layout of these turns with the guessed roles, its text written by `body` (turn `k`'s
    /// words, normalized, appended to the string given); `None` unless there are two turns and
    /// two speakers.
    fn layout(
        self,
        title: String,
        headers: &str,
        body: impl FnMut(usize, &mut String),
    ) -> Option<TurnLayout> {
        if self.turns.len() < 2 || self.speakers.len() < 2 {
            return None;
        }
        let asks = roles(&self.speakers, &self.with_qnum, headers);
        let speakers = self
            .speakers
            .iter()
            .zip(asks)
            .map(|(label, asks)| Speaker {
                label: (*label).to_string(),
                guessed: if asks { Role::Asker } else { Role::Answerer },
            })
            .collect();
        let mut layout = TurnLayout {
            title,
            speakers,
            placed: vec![(0, 0); self.turns.len()],
            turns: self.turns,
            qnums: self.qnums.iter().map(|q| Box::from(*q)).collect(),
            times: self.times,
            text: Arc::default(),
            laid_out: Vec::new(),
            overrides: std::collections::BTreeMap::new(),
        };
        layout.write(body);
        Some(layout)
    }
}

/// Builds the exchanges from turns: a run of question turns and the answer turns after it.
/// Who asks is guessed per speaker ([`roles`]); the turns are kept in the returned layout so the
/// exchanges can be built again when the user swaps a speaker's role.
pub(super) fn build(preamble: &[&str], turns: Vec<Turn>, headers: &str) -> Option<Turns> {
    let mut collected = Collected::with_capacity(turns.len());
    for t in &turns {
        collected.push(&t.speaker, t.qnum.as_deref(), Some((t.start_ms, t.end_ms)));
    }
    let mut layout = collected.layout(title_of(preamble), headers, |k, out| {
        normalize_lines_into(out, turns[k].lines.iter().map(|l| l.as_ref()));
    })?;
    let (meta, parts) = layout.parts();
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
        self.placed.iter().zip(&self.turns).map(|(&(part, at), t)| {
            let words = &self.text[t.start as usize..t.end as usize];
            (part as usize, at as usize, words.chars().count())
        })
    }

    fn asks(&self, speaker: u32) -> bool {
        let s = &self.speakers[speaker as usize];
        self.overrides.get(&s.label).copied().unwrap_or(s.guessed) == Role::Asker
    }

    fn time(&self, turn: usize) -> (Option<u64>, Option<u64>) {
        self.times.get(turn).copied().unwrap_or((None, None))
    }

    /// Builds the exchanges with the roles in force: a run of question turns and the answer
    /// turns after it. Records where each turn's words land.
    pub(super) fn assemble(&mut self) -> (Metadata, Vec<Part>) {
        // The turns' words are taken from the text the parts built last share.
        let old = Arc::clone(&self.text);
        let words: Vec<(u32, u32)> = self.turns.iter().map(|t| (t.start, t.end)).collect();
        self.write(|k, out| {
            let (start, end) = words[k];
            out.push_str(&old[start as usize..end as usize]);
        });
        self.parts()
    }

    /// Writes the text of the exchanges with the roles in force into a new shared text, `body`
    /// giving each turn's words, and lays out their parts ([`TurnLayout::parts`] makes them).
    fn write(&mut self, mut body: impl FnMut(usize, &mut String)) {
        let mut text = String::with_capacity(self.text.len());
        self.laid_out.clear();
        let n = self.turns.len();
        let mut i = 0;
        let mut exchange = 0u32;
        while i < n {
            let q_start = i;
            while i < n && self.asks(self.turns[i].speaker) {
                i += 1;
            }
            let a_start = i;
            while i < n && !self.asks(self.turns[i].speaker) {
                i += 1;
            }
            for (kind, from, to) in [
                (PartKind::Question, q_start, a_start),
                (PartKind::Answer, a_start, i),
            ] {
                self.write_part(&mut text, PartId { exchange, kind }, from, to, &mut body);
            }
            exchange += 1;
        }
        // Room asked for by a long text's doubling is given back (in place for a large one).
        text.shrink_to_fit();
        self.text = Arc::new(text);
    }

    /// The text of the part of turns `from..to`: the turn's words alone, or, when the part holds
    /// several turns, each turn as `Label: words`, a blank line between turns (exactly what
    /// normalizing those lines gives, so offsets saved before this was written still hold).
    fn write_part(
        &mut self,
        text: &mut String,
        id: PartId,
        from: usize,
        to: usize,
        body: &mut impl FnMut(usize, &mut String),
    ) {
        let part_index = self.laid_out.len() as u32;
        let start = text.len();
        // Every turn of a part made of several keeps its label, even when one speaker has
        // consecutive turns: the turns stay told apart.
        let labelled = to - from > 1;
        let mut chars = 0usize;
        for k in from..to {
            if k > from {
                text.push_str("\n\n");
                chars += 2;
            }
            if labelled {
                let label = &self.speakers[self.turns[k].speaker as usize].label;
                text.push_str(label);
                text.push_str(": ");
                chars += label.chars().count() + 2;
            }
            let mut at = text.len();
            body(k, text);
            if labelled && text.len() == at {
                // No space after the label of a turn without words.
                text.pop();
                chars -= 1;
                at -= 1;
            }
            let t = &mut self.turns[k];
            t.start = super::offset32(at);
            t.end = super::offset32(text.len());
            self.placed[k] = (part_index, chars as u32);
            chars += text[at..].chars().count();
        }
        self.laid_out.push(LaidOut {
            id,
            from: from as u32,
            to: to as u32,
            start: super::offset32(start),
            end: super::offset32(text.len()),
        });
    }

    /// Makes the parts laid out by the last write, with their speakers' names shared.
    pub(super) fn parts(&mut self) -> (Metadata, Vec<Part>) {
        let laid_out = std::mem::take(&mut self.laid_out);
        // A speaker's name as parts give it (their label without a role in brackets; none for a
        // role such as `Q`), one shared string each.
        let persons: Vec<Option<Arc<str>>> = self
            .speakers
            .iter()
            .map(|s| {
                let name = base_name(&s.label);
                (!is_role_label(name)).then(|| Arc::from(name))
            })
            .collect();
        let mut joined: HashMap<String, Arc<str>> = HashMap::new();
        let mut people: Vec<&Arc<str>> = Vec::new();
        let mut parts = Vec::with_capacity(laid_out.len());
        let mut reference: Option<String> = None;
        for p in &laid_out {
            let turns = p.from as usize..p.to as usize;
            people.clear();
            for t in &self.turns[turns.clone()] {
                if let Some(name) = &persons[t.speaker as usize]
                    && !people.contains(&name)
                {
                    people.push(name);
                }
            }
            let speaker = match people.as_slice() {
                [] => None,
                [one] => Some(Arc::clone(one)),
                many => {
                    let key = many
                        .iter()
                        .map(|n| &***n)
                        .collect::<Vec<&str>>()
                        .join(" and ");
                    Some(Arc::clone(
                        joined
                            .entry(key)
                            .or_insert_with_key(|k| Arc::from(k.as_str())),
                    ))
                }
            };
            let mut part =
                Part::shared(p.id, speaker, &self.text, p.start as usize..p.end as usize);
            if p.id.kind == PartKind::Question {
                // The exchange's reference: the question numbers of its questions.
                let qnums: Vec<&str> = self.turns[turns.clone()]
                    .iter()
                    .filter(|t| t.qnum != NONE)
                    .map(|t| &*self.qnums[t.qnum as usize])
                    .collect();
                reference = (!qnums.is_empty()).then(|| qnums.join(", "));
            }
            part.reference = reference.clone();
            part.start_ms = turns.clone().filter_map(|k| self.time(k).0).min();
            part.end_ms = turns.filter_map(|k| self.time(k).1).max();
            parts.push(part);
        }
        // An exchange with no question turn starts when its answer does; one with no answer
        // turn ends when its question does.
        for (pair, laid) in parts.chunks_exact_mut(2).zip(laid_out.chunks_exact(2)) {
            let [q, a] = pair else { continue };
            if laid[0].from == laid[0].to {
                q.start_ms = a.start_ms;
                q.end_ms = a.start_ms;
            }
            if laid[1].from == laid[1].to {
                a.start_ms = q.end_ms;
                a.end_ms = q.end_ms;
            }
        }

        let first_named = |kind: PartKind| {
            parts
                .iter()
                .filter(|p: &&Part| p.id.kind == kind)
                .find_map(|p| p.speaker().map(str::to_string))
        };
        let meta = Metadata {
            title: self.title.clone(),
            question_by: first_named(PartKind::Question),
            answered_by: first_named(PartKind::Answer),
            reference: parts[0].reference.clone(),
            status: if parts[1].text().is_empty() {
                super::AnswerStatus::Unanswered
            } else {
                super::AnswerStatus::Answered
            },
            ..Metadata::default()
        };
        (meta, parts)
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
