//! The annotation data model: who annotated which transcript, the tags on whole parts and on
//! spans, and the document's status and memo. Reading, writing and checking the RON file these
//! live in is [`crate::sidecar`]; placing spans again after the text changed is
//! [`crate::anchor`], which needs [`Span`] alone and so sits between the two.

use std::collections::BTreeMap;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::codebook::Codebook;
use crate::transcript::{PartId, Role, Transcript};

/// Schema version written by this version; newer sidecars are refused, older ones migrated.
pub const SIDECAR_SCHEMA: u32 = 1;

/// Characters of context kept before and after a span's quote, to find it again after edits.
pub const CONTEXT_CHARS: usize = 32;

/// An annotator id that is not 1–32 chars of `a-z 0-9 _ -`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid annotator id \"{}\": use 1 to 32 characters of a-z, 0-9, _ and -", shorten(.0))]
pub struct AnnotatorIdError(pub String);

/// Most chars of an untrusted value (an id, a label) quoted in a message.
const QUOTED_CHARS: usize = 40;

/// An untrusted value as quoted in a one-line message: whole when short, else its start and its
/// length, so a 100,000-char id cannot flood a terminal or a status bar.
pub fn shorten(value: &str) -> std::borrow::Cow<'_, str> {
    let count = value.chars().count();
    if count <= QUOTED_CHARS {
        return std::borrow::Cow::Borrowed(value);
    }
    let start: String = value.chars().take(QUOTED_CHARS).collect();
    std::borrow::Cow::Owned(format!("{start}… ({count} chars)"))
}

/// Checks an annotator id: 1–32 chars of `a-z 0-9 _ -`, so it is safe inside a file name.
pub fn check_annotator_id(id: &str) -> Result<(), AnnotatorIdError> {
    let ok = (1..=32).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(AnnotatorIdError(id.to_string()))
    }
}

/// Who made the annotations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotator {
    /// Short id, also in the file name.
    pub id: String,
    /// Name shown to colleagues.
    #[serde(default)]
    pub name: String,
}

/// Which text the annotations were made on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptRef {
    /// The transcript's file name.
    pub file: String,
    /// Content hash of its normalized text when last saved.
    pub hash: String,
    /// Its length in chars.
    pub chars: usize,
    /// Each part's length in chars when last saved: where a part's text changed, re-anchoring
    /// knows how much longer or shorter it got, which tells repeated sentences apart.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parts: BTreeMap<PartId, usize>,
}

impl TranscriptRef {
    /// What a sidecar records of `transcript`.
    pub fn of(transcript: &Transcript) -> TranscriptRef {
        TranscriptRef {
            file: transcript.file_name.clone(),
            hash: transcript.hash.clone(),
            chars: transcript.chars,
            parts: transcript
                .parts
                .iter()
                .map(|p| (p.id, p.text().chars().count()))
                .collect(),
        }
    }
}

/// How far the annotator has got with a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Status {
    /// Nothing coded yet.
    #[default]
    NotStarted,
    /// Started.
    InProgress,
    /// Finished.
    Done,
}

impl Status {
    /// Lower-case name for tables and CLI output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotStarted => "not started",
            Status::InProgress => "in progress",
            Status::Done => "done",
        }
    }
}

/// A tag on a highlighted stretch of a part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// Stable id, unique within the sidecar.
    pub id: String,
    /// The part the span lies in.
    pub part: PartId,
    /// First char, counted in the part's normalized text.
    pub start: usize,
    /// One past the last char.
    pub end: usize,
    /// The text between start and end when tagged.
    pub quote: String,
    /// Up to [`CONTEXT_CHARS`] chars before the quote.
    #[serde(default)]
    pub prefix: String,
    /// Up to [`CONTEXT_CHARS`] chars after the quote.
    #[serde(default)]
    pub suffix: String,
    /// Dimension id.
    pub dimension: String,
    /// Value: a value id for choice dimensions, the entity for entity dimensions.
    #[serde(default)]
    pub value: String,
    /// The annotator's note.
    #[serde(default)]
    pub note: String,
    /// Set when the span was placed again after the transcript's text changed (`moved`), until the
    /// annotator has looked at it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
}

impl Span {
    /// A span over `start..end` of `text`, with its quote and context taken from the text.
    /// `None` when the range is empty, reversed or beyond the text. Walks the text to `start`:
    /// callers making many spans of one long text use [`Span::new_at`] with an index.
    pub fn new(
        id: String,
        part: PartId,
        text: &str,
        start: usize,
        end: usize,
        dimension: &str,
        value: &str,
    ) -> Option<Span> {
        let at = match text.char_indices().nth(start) {
            Some((b, _)) => b,
            None if text.chars().count() == start => text.len(),
            None => return None,
        };
        Span::new_at(id, part, text, start, end, at, dimension, value)
    }

    /// [`Span::new`] with `at`, the byte offset of char `start` in `text`, known: costs the
    /// span and its context, not the text before it (collecting the whole text's chars for each
    /// span made carrying or importing a long part's spans cost its spans times its length).
    #[expect(
        clippy::too_many_arguments,
        reason = "Span::new's arguments and the byte offset that spares the walk"
    )]
    pub fn new_at(
        id: String,
        part: PartId,
        text: &str,
        start: usize,
        end: usize,
        at: usize,
        dimension: &str,
        value: &str,
    ) -> Option<Span> {
        if start >= end || !text.is_char_boundary(at) {
            return None;
        }
        let after = &text[at..];
        let len = end - start;
        let quote_end = match after.char_indices().nth(len) {
            Some((b, _)) => b,
            None if after.chars().count() == len => after.len(),
            None => return None,
        };
        let rest = &after[quote_end..];
        let suffix_end = rest
            .char_indices()
            .nth(CONTEXT_CHARS)
            .map_or(rest.len(), |(b, _)| b);
        let before = &text[..at];
        let context = CONTEXT_CHARS.min(start);
        let prefix_start = match context {
            0 => at,
            k => before.char_indices().rev().nth(k - 1).map_or(0, |(b, _)| b),
        };
        Some(Span {
            id,
            part,
            start,
            end,
            quote: after[..quote_end].to_string(),
            prefix: before[prefix_start..].to_string(),
            suffix: rest[..suffix_end].to_string(),
            dimension: dimension.to_string(),
            value: value.to_string(),
            note: String::new(),
            flag: None,
        })
    }
}

/// Tags on whole parts: part -> dimension -> values.
pub type PartTags = BTreeMap<PartId, BTreeMap<String, Vec<String>>>;

/// One annotator's annotations of one transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sidecar {
    /// Schema version.
    pub schema: u32,
    /// Who annotated.
    pub annotator: Annotator,
    /// What was annotated.
    pub transcript: TranscriptRef,
    /// Id of the codebook used.
    pub codebook: String,
    /// Progress.
    #[serde(default)]
    pub status: Status,
    /// When the sidecar was first written.
    pub created: DateTime<Utc>,
    /// When it was last written.
    pub modified: DateTime<Utc>,
    /// Tags on whole parts.
    #[serde(default)]
    pub tags: PartTags,
    /// Tags on spans.
    #[serde(default)]
    pub spans: Vec<Span>,
    /// Free memo on the document.
    #[serde(default)]
    pub memo: String,
    /// Who asks and who answers, where this annotator said otherwise than the reader guessed
    /// (turn-based transcripts): speaker label -> role. Tags and spans count in the exchanges
    /// built with these roles. Written only when set, so files without it stay as they were
    /// (and versions before it keep it as an unknown field).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<String, Role>,
    /// Fields this version does not know (a newer minor version's, another tool's): name and RON
    /// text exactly as read, written back unchanged after the known ones on every save.
    #[serde(skip)]
    pub unknown: Vec<(String, String)>,
}

impl Sidecar {
    /// An empty sidecar for a transcript.
    pub fn new(annotator: Annotator, transcript: &Transcript, codebook: &Codebook) -> Sidecar {
        let now = now();
        Sidecar {
            schema: SIDECAR_SCHEMA,
            annotator,
            transcript: TranscriptRef::of(transcript),
            codebook: codebook.id.clone(),
            status: Status::NotStarted,
            created: now,
            modified: now,
            tags: PartTags::new(),
            spans: Vec::new(),
            memo: String::new(),
            roles: BTreeMap::new(),
            unknown: Vec::new(),
        }
    }

    /// Sorts spans and tag values and removes empty tag lists, so equal content gives equal files.
    pub fn canonicalize(&mut self) {
        for dims in self.tags.values_mut() {
            for values in dims.values_mut() {
                values.sort();
                values.dedup();
            }
            dims.retain(|_, v| !v.is_empty());
        }
        self.tags.retain(|_, dims| !dims.is_empty());
        self.spans.sort_by(|a, b| {
            (a.part, a.start, a.end, &a.dimension, &a.value, &a.id).cmp(&(
                b.part,
                b.start,
                b.end,
                &b.dimension,
                &b.value,
                &b.id,
            ))
        });
    }

    /// True when nothing has been coded: no tags, spans or memo.
    pub fn is_empty(&self) -> bool {
        self.tags.values().all(|d| d.values().all(Vec::is_empty))
            && self.spans.is_empty()
            && self.memo.trim().is_empty()
    }

    /// Number of codings: part tag values plus spans.
    pub fn coding_count(&self) -> usize {
        self.tags
            .values()
            .flat_map(|d| d.values())
            .map(Vec::len)
            .sum::<usize>()
            + self.spans.len()
    }

    /// The values tagged on a part for a dimension.
    pub fn part_values(&self, part: PartId, dimension: &str) -> &[String] {
        self.tags
            .get(&part)
            .and_then(|d| d.get(dimension))
            .map_or(&[], Vec::as_slice)
    }
}

/// Shortens text for messages.
pub fn ellipsize(s: &str, max_chars: usize) -> String {
    let (kept, mark) = ellipsis_cut(s, max_chars);
    let mut out = String::with_capacity(kept.len() + mark.len());
    out.push_str(kept);
    out.push_str(mark);
    out
}

/// [`ellipsize`] in two pieces, the text kept and the mark after it (`…` or nothing), for a
/// writer that appends them without making the string (a qdpx names every selection so).
pub fn ellipsis_cut(s: &str, max_chars: usize) -> (&str, &'static str) {
    match s.char_indices().nth(max_chars) {
        None => (s, ""),
        Some(_) => {
            let end = s
                .char_indices()
                .nth(max_chars.saturating_sub(1))
                .map_or(s.len(), |(i, _)| i);
            (&s[..end], "…")
        }
    }
}

/// The current time, to the second, as written into sidecars.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The span made by walking the text once to its place is the one made from all its chars
    /// (the way it was made before): quote, prefix and suffix, at every range of a text of
    /// one- to four-byte chars longer than the context, within and past its end.
    /// The text kept by [`ellipsis_cut`] is the first `max - 1` chars whenever the text is
    /// longer than `max`, whole otherwise (as `ellipsize` cut it by counting chars).
    #[test]
    fn ellipsis_cuts_by_chars() {
        for text in ["", "a", "abc", "é“𝄞 x", "𝄞𝄞𝄞𝄞", "one two three"] {
            for max in 0..8 {
                let chars = text.chars().count();
                let expected: String = if chars <= max {
                    text.to_string()
                } else {
                    text.chars()
                        .take(max.saturating_sub(1))
                        .chain(['…'])
                        .collect()
                };
                assert_eq!(ellipsize(text, max), expected, "{text:?} at {max}");
                let (kept, mark) = ellipsis_cut(text, max);
                assert_eq!(mark.is_empty(), chars <= max, "{text:?} at {max}");
                assert_eq!(format!("{kept}{mark}"), expected);
            }
        }
    }

    #[test]
    fn spans_are_made_as_from_all_the_chars() {
        let text: String = (0..CONTEXT_CHARS * 3)
            .map(|i| ['a', 'é', '“', '𝄞', ' ', '\n'][(i * 7 + i / 5) % 6])
            .collect();
        let chars: Vec<char> = text.chars().collect();
        let n = chars.len();
        for start in 0..=n + 1 {
            for end in start..=n + 1 {
                let made = Span::new("s".into(), PartId::ANSWER, &text, start, end, "d", "v");
                if start >= end || end > n {
                    assert!(made.is_none(), "{start}..{end}");
                    continue;
                }
                let made = made.expect("a span");
                let from = start.saturating_sub(CONTEXT_CHARS);
                let to = (end + CONTEXT_CHARS).min(n);
                let of = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
                assert_eq!(made.quote, of(start, end), "{start}..{end}");
                assert_eq!(made.prefix, of(from, start), "{start}..{end}");
                assert_eq!(made.suffix, of(end, to), "{start}..{end}");
                let at = text
                    .char_indices()
                    .nth(start)
                    .map_or(text.len(), |(b, _)| b);
                assert_eq!(
                    Span::new_at("s".into(), PartId::ANSWER, &text, start, end, at, "d", "v"),
                    Some(made)
                );
            }
        }
    }
}
