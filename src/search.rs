//! Full-text search across a corpus: case- and accent-insensitive words and "quoted phrases", in the
//! question, the answer or both. Text is folded char by char (one char in, one char out), so a hit's
//! position in the folded text is its char offset in the original part.

use crate::transcript::{PartId, PartKind, Transcript};

/// Folds one char for matching: lower case, accents removed, curly quotes and dashes made plain,
/// any whitespace a space. Always exactly one char, so offsets are preserved.
pub fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return if c.is_ascii_whitespace() {
            ' '
        } else {
            c.to_ascii_lowercase()
        };
    }
    if c.is_whitespace() {
        return ' ';
    }
    let lower = c.to_lowercase().next().unwrap_or(c);
    match lower {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => 'c',
        'ď' | 'đ' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => 'e',
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => 'g',
        'ĥ' | 'ħ' => 'h',
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => 'i',
        'ĵ' => 'j',
        'ķ' => 'k',
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => 'l',
        'ñ' | 'ń' | 'ņ' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => 'o',
        'ŕ' | 'ŗ' | 'ř' => 'r',
        'ś' | 'ŝ' | 'ş' | 'š' => 's',
        'ţ' | 'ť' | 'ŧ' => 't',
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => 'u',
        'ŵ' => 'w',
        'ý' | 'ÿ' | 'ŷ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        '‘' | '’' | '‚' | '′' => '\'',
        '“' | '”' | '„' | '″' => '"',
        '–' | '—' | '‐' | '‑' | '−' => '-',
        other => other,
    }
}

/// Folds a string char by char (ASCII bytes on a fast path: most transcript text is ASCII).
pub fn fold(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    fold_bytes(&mut out, s);
    folded_string(out)
}

/// [`fold`] appended to `out` as UTF-8 bytes. Runs of ASCII are mapped a byte at a time into
/// the buffer (pushed as `char`s, they cost a tenth of opening a folder of Word files).
fn fold_bytes(out: &mut Vec<u8>, s: &str) {
    let mut rest = s;
    while !rest.is_empty() {
        let ascii = rest
            .bytes()
            .position(|b| !b.is_ascii())
            .unwrap_or(rest.len());
        out.extend(rest[..ascii].bytes().map(|b| {
            if b.is_ascii_whitespace() {
                b' '
            } else {
                b.to_ascii_lowercase()
            }
        }));
        rest = &rest[ascii..];
        if let Some(c) = rest.chars().next() {
            out.extend_from_slice(fold_char(c).encode_utf8(&mut [0; 4]).as_bytes());
            rest = &rest[c.len_utf8()..];
        }
    }
}

/// The bytes [`fold_bytes`] wrote, as text: ASCII mapped to ASCII and whole chars to whole
/// chars, so always UTF-8.
fn folded_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("folding maps ASCII to ASCII and chars to whole chars")
}

/// The parts of one document folded for the index, in one string: made on any thread while a
/// folder loads, then added with [`SearchIndex::add_document`] (one allocation a document, not
/// one a part).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoldedDocument {
    /// Each part folded, followed by the separator the index keeps between parts.
    folded: String,
    /// Each part and the byte offset of its folded text.
    parts: Vec<(PartId, usize)>,
}

impl FoldedDocument {
    /// Folds every part of a transcript.
    pub fn of(transcript: &Transcript) -> FoldedDocument {
        let bytes: usize = transcript.parts.iter().map(|p| p.text().len() + 1).sum();
        let mut folded = Vec::with_capacity(bytes);
        let mut parts = Vec::with_capacity(transcript.parts.len());
        for p in &transcript.parts {
            parts.push((p.id, folded.len()));
            fold_bytes(&mut folded, p.text());
            folded.push(SEPARATOR as u8);
        }
        let folded = folded_string(folded);
        FoldedDocument { folded, parts }
    }
}

/// Where to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Questions and answers (and plain text).
    #[default]
    Both,
    /// Questions only.
    Question,
    /// Answers only.
    Answer,
}

impl Scope {
    /// Parses `both`, `question`, `answer`.
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "both" => Some(Scope::Both),
            "question" => Some(Scope::Question),
            "answer" => Some(Scope::Answer),
            _ => None,
        }
    }

    fn admits(self, kind: PartKind) -> bool {
        match self {
            Scope::Both => true,
            Scope::Question => kind == PartKind::Question,
            Scope::Answer => kind == PartKind::Answer,
        }
    }
}

/// One stretch of folded text: a part of a document.
#[derive(Debug, Clone)]
struct Segment {
    doc: usize,
    part: PartId,
    /// Byte offset of the part in the folded text.
    start: usize,
}

/// All parts of a corpus, folded into one string, searched with SIMD substring search.
#[derive(Debug, Clone, Default)]
pub struct SearchIndex {
    folded: String,
    segments: Vec<Segment>,
}

/// A hit: where a query matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Index of the document (as given when indexing).
    pub doc: usize,
    /// The part.
    pub part: PartId,
    /// Char offset of the match in the part's normalized text.
    pub start: usize,
    /// Char offset after the match.
    pub end: usize,
    /// The text around the match, on one line.
    pub context: String,
}

/// Separates parts in the folded text; never produced by folding.
const SEPARATOR: char = '\u{1}';
// Written as one byte into folded documents.
const _: () = assert!(SEPARATOR.is_ascii());

/// Characters of context on each side of a hit.
const CONTEXT: usize = 40;

/// The words and phrases of a query, folded; `"quoted text"` is one phrase.
pub fn terms(query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = query;
    while !rest.trim().is_empty() {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('"') {
            let (phrase, tail) = after.split_once('"').unwrap_or((after, ""));
            let f = fold(phrase.trim());
            if !f.is_empty() {
                out.push(f);
            }
            rest = tail;
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push(fold(&rest[..end]));
            rest = &rest[end..];
        }
    }
    out
}

impl SearchIndex {
    /// Adds the parts of a transcript as document `doc`.
    pub fn add(&mut self, doc: usize, transcript: &Transcript) {
        for part in &transcript.parts {
            self.add_part(doc, part.id, part.text());
        }
    }

    /// Adds one part's text.
    pub fn add_part(&mut self, doc: usize, part: PartId, text: &str) {
        self.add_folded(doc, part, &fold(text));
    }

    /// Adds one part's text already folded with [`fold`] (folding can then run in parallel).
    pub fn add_folded(&mut self, doc: usize, part: PartId, folded: &str) {
        self.segments.push(Segment {
            doc,
            part,
            start: self.folded.len(),
        });
        self.folded.push_str(folded);
        self.folded.push(SEPARATOR);
    }

    /// Adds a document's parts folded with [`FoldedDocument::of`].
    pub fn add_document(&mut self, doc: usize, folded: &FoldedDocument) {
        let base = self.folded.len();
        self.segments
            .extend(folded.parts.iter().map(|&(part, start)| Segment {
                doc,
                part,
                start: base + start,
            }));
        self.folded.push_str(&folded.folded);
    }

    /// Bytes of folded text held.
    pub fn size(&self) -> usize {
        self.folded.len()
    }

    fn segment_at(&self, byte: usize) -> usize {
        self.segments.partition_point(|s| s.start <= byte) - 1
    }

    fn segment_text(&self, i: usize) -> &str {
        let start = self.segments[i].start;
        let end = self
            .segments
            .get(i + 1)
            .map_or(self.folded.len(), |s| s.start)
            - SEPARATOR.len_utf8();
        &self.folded[start..end]
    }

    /// Parts (segment indices) containing a folded term.
    fn parts_with(&self, term: &str, scope: Scope) -> Vec<usize> {
        let finder = memchr::memmem::Finder::new(term.as_bytes());
        let mut out: Vec<usize> = Vec::new();
        let mut from = 0;
        let bytes = self.folded.as_bytes();
        while let Some(pos) = finder.find(&bytes[from..]) {
            let at = from + pos;
            let seg = self.segment_at(at);
            if scope.admits(self.segments[seg].part.kind) && out.last() != Some(&seg) {
                out.push(seg);
            }
            // Continue after this part: one entry per part is enough for the AND.
            from = self.segments.get(seg + 1).map_or(bytes.len(), |s| s.start);
        }
        out
    }

    /// Runs a query: parts containing every term; one hit per occurrence of the first term in them,
    /// at most `limit` hits.
    pub fn search(&self, query: &str, scope: Scope, limit: usize) -> Vec<Hit> {
        let terms = terms(query);
        let Some(first) = terms.first() else {
            return Vec::new();
        };
        let mut parts = self.parts_with(first, scope);
        for t in &terms[1..] {
            let other = self.parts_with(t, scope);
            parts.retain(|p| other.binary_search(p).is_ok());
        }
        let mut hits = Vec::new();
        'parts: for seg in parts {
            let text = self.segment_text(seg);
            // Chars counted on from the hit before: a long part's thousands of hits are not each
            // counted from its start (an answer of 8,000 paragraphs took 110 ms a query).
            let (mut counted_to, mut chars_before) = (0, 0);
            for (byte, m) in text.match_indices(first.as_str()) {
                chars_before += text[counted_to..byte].chars().count();
                counted_to = byte;
                let start = chars_before;
                let len = m.chars().count();
                hits.push(Hit {
                    doc: self.segments[seg].doc,
                    part: self.segments[seg].part,
                    start,
                    end: start + len,
                    context: String::new(),
                });
                if hits.len() >= limit {
                    break 'parts;
                }
            }
        }
        hits
    }
}

/// The text around a hit in the original part text, on one line, with the match in brackets. A
/// hit beyond the text (a file changed since it was searched, or gone) is cut at its end.
pub fn context(text: &str, start: usize, end: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let end = end.min(chars.len());
    let start = start.min(end);
    let from = start.saturating_sub(CONTEXT);
    let to = (end + CONTEXT).min(chars.len());
    let piece = |a: usize, b: usize| -> String {
        chars[a..b]
            .iter()
            .map(|&c| if c.is_whitespace() { ' ' } else { c })
            .collect()
    };
    format!(
        "{}{}[{}]{}{}",
        if from > 0 { "…" } else { "" },
        piece(from, start),
        piece(start, end.min(chars.len())),
        piece(end.min(chars.len()), to),
        if to < chars.len() { "…" } else { "" }
    )
}

/// Chars either side of a hit that [`Contexts`] takes its context from: more than the context
/// shows, so it reads as [`context`] of the whole part, ellipses included (a test holds this).
const CONTEXT_WINDOW: usize = 1_000;

/// [`context`] of hits in one text, each from a window around the hit reached by walking on from
/// the hit before: hits in the order of their starts walk the text once (a long part's hits each
/// made to walk or copy the whole part cost its length each).
#[derive(Debug, Default, Clone, Copy)]
pub struct Contexts {
    from: CharCursor,
    to: CharCursor,
}

impl Contexts {
    /// The context of chars `start..end` of `text`, the same text at every call.
    pub fn of(&mut self, text: &str, start: usize, end: usize) -> String {
        let (a, from) = self
            .from
            .byte_of(text, start.saturating_sub(CONTEXT_WINDOW));
        let (b, _) = self.to.byte_of(text, end.saturating_add(CONTEXT_WINDOW));
        context(
            &text[a..b.max(a)],
            start.saturating_sub(from),
            end.saturating_sub(from),
        )
    }
}

/// A char position and its byte offset, moved on through a text.
#[derive(Debug, Default, Clone, Copy)]
struct CharCursor {
    chars: usize,
    byte: usize,
}

impl CharCursor {
    /// The byte offset of char `at` of `text` (the text's end past it) and the char it is at.
    fn byte_of(&mut self, text: &str, at: usize) -> (usize, usize) {
        if at < self.chars || !text.is_char_boundary(self.byte) {
            *self = CharCursor::default();
        }
        for (walked, (b, _)) in text[self.byte..].char_indices().enumerate() {
            if self.chars + walked == at {
                self.byte += b;
                self.chars = at;
                return (self.byte, at);
            }
        }
        self.chars += text[self.byte..].chars().count();
        self.byte = text.len();
        (self.byte, self.chars)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Contexts from a window are those of the whole part, ellipses included: at the start, the
    /// middle and the end of long parts of one- to four-byte chars and of a short and an empty
    /// one, hits in order and out of it; a hit beyond the text is cut at its end.
    #[test]
    fn contexts_from_a_window_are_those_of_the_whole_part() {
        let long: String = (0..5_000)
            .map(|i| ["é", "a", " ", "ß", "\n", "x"][i % 6])
            .collect();
        let emoji = "Zoë said “no” to the 🏛 Home Office; ".repeat(200);
        for text in [long.as_str(), emoji.as_str(), "short é text", ""] {
            let n = text.chars().count();
            let mut cases = vec![(0, n.min(3))];
            for start in (1..n)
                .step_by(97)
                .chain([39, 40, 41, 999, 1_000, 1_001, 2_500])
            {
                if start + 5 <= n {
                    cases.push((start, start + 5));
                }
            }
            cases.push((n.saturating_sub(4), n));
            cases.push((0, 4.min(n)));
            cases.push((n / 2, n / 2));
            let mut contexts = Contexts::default();
            for (start, end) in cases {
                assert_eq!(
                    contexts.of(text, start, end),
                    context(text, start, end),
                    "{start}..{end} of {n}"
                );
            }
            assert_eq!(contexts.of(text, n + 3, n + 8), context(text, n, n));
        }
        assert_eq!(context("", 5, 10), "[]");
        let mut at = CharCursor::default();
        assert_eq!(at.byte_of("aé🏛b", 2), (3, 2));
        assert_eq!(at.byte_of("aé🏛b", 4), (8, 4));
        assert_eq!(at.byte_of("aé🏛b", 9), (8, 4));
        assert_eq!(at.byte_of("aé🏛b", 1), (1, 1));
    }

    fn index(texts: &[(&str, &str)]) -> (SearchIndex, Vec<(String, String)>) {
        let mut idx = SearchIndex::default();
        for (i, (q, a)) in texts.iter().enumerate() {
            idx.add_part(i, PartId::QUESTION, q);
            idx.add_part(i, PartId::ANSWER, a);
        }
        (
            idx,
            texts
                .iter()
                .map(|(q, a)| (q.to_string(), a.to_string()))
                .collect(),
        )
    }

    #[test]
    fn folding_keeps_offsets() {
        let s = "Zoë’s “Café” — £5\nÉTÉ";
        let f = fold(s);
        assert_eq!(f.chars().count(), s.chars().count());
        assert_eq!(f, "zoe's \"cafe\" - £5 ete");
    }

    #[test]
    fn words_phrases_scope_and_offsets() {
        let (idx, texts) = index(&[
            (
                "What about the Home Office?",
                "The Home\nOffice said no. Léonie agreed.",
            ),
            ("Housing", "home and office"),
            ("Transport", "No comment."),
        ]);
        let hits = idx.search("\"home office\"", Scope::Both, 100);
        assert_eq!(hits.len(), 2);
        assert_eq!((hits[0].doc, hits[0].part), (0, PartId::QUESTION));
        let answer_hit = &hits[1];
        let text = &texts[0].1;
        let found: String = text
            .chars()
            .skip(answer_hit.start)
            .take(answer_hit.end - answer_hit.start)
            .collect();
        assert_eq!(found, "Home\nOffice");
        assert_eq!(idx.search("\"home office\"", Scope::Question, 100).len(), 1);
        // Words: all in the same part, any order; accents and case ignored.
        let hits = idx.search("office HOME", Scope::Answer, 100);
        assert_eq!(hits.iter().map(|h| h.doc).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(idx.search("leonie", Scope::Both, 100).len(), 1);
        assert!(idx.search("nothing-here", Scope::Both, 100).is_empty());
        assert!(idx.search("   ", Scope::Both, 100).is_empty());
        assert_eq!(idx.search("o", Scope::Both, 3).len(), 3);
        assert_eq!(
            context("The Home Office said", 4, 15),
            "The [Home Office] said"
        );
    }

    /// Every hit of a part with many, after letters of two and three bytes, is at the chars of
    /// its match.
    #[test]
    fn many_hits_in_one_part_are_each_at_their_chars() {
        let answer = "Zoë told the Home Office — “no”. ".repeat(300);
        let (idx, _) = index(&[("Q", answer.as_str())]);
        let hits = idx.search("\"home office\"", Scope::Answer, 1000);
        assert_eq!(hits.len(), 300);
        let chars: Vec<char> = answer.chars().collect();
        let period = "Zoë told the Home Office — “no”. ".chars().count();
        for (i, h) in hits.iter().enumerate() {
            assert_eq!(h.start, i * period + 13);
            let found: String = chars[h.start..h.end].iter().collect();
            assert_eq!(found, "Home Office");
        }
    }

    #[test]
    fn a_document_folded_whole_indexes_as_its_parts_one_by_one() {
        let t = Transcript::from_text(
            "i.txt",
            "Interview\n\nInterviewer: Was the Café open?\n\nRespondent: Yes, the café was open.\n\nInterviewer: And the home office?\n\nRespondent: No.",
            "UTF-8".to_string(),
            Vec::new(),
        );
        assert!(t.parts.len() >= 4);
        let mut whole = SearchIndex::default();
        let mut by_part = SearchIndex::default();
        for doc in 0..3 {
            whole.add_document(doc, &FoldedDocument::of(&t));
            by_part.add(doc, &t);
        }
        assert_eq!(whole.folded, by_part.folded);
        for q in ["cafe", "\"home office\"", "no", "open"] {
            let a = whole.search(q, Scope::Both, 100);
            assert!(!a.is_empty(), "{q}");
            assert_eq!(a, by_part.search(q, Scope::Both, 100), "{q}");
        }
    }
}
