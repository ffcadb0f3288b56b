//! A fast reading of the sidecars Marginalia writes, beside the full RON parser.
//!
//! Reading a corpus is mostly reading sidecars, and the RON parser spent about 17 µs on each
//! 2 kB one (130 MB/s): a third of `validate` and of `agreement DIR`. This reader takes the
//! layout Marginalia writes (`to_pretty_ron`: anonymous structs, quoted strings with the common
//! escapes, decimal numbers, bare enum variants, no comments) and gives up, returning `None`, at
//! anything else: other whitespace or a comment, a named struct, a raw string or identifier, an
//! escape it does not know, a duplicate or unknown field, a missing field, trailing text. The
//! caller then parses the text with RON, which reads everything RON allows, keeps unknown fields
//! and words the errors. So what this reader accepts, it reads as RON does (a property test holds
//! the two equal on generated sidecars, and a test on every sidecar of the repository).

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, Utc};

use crate::annotation::{Annotator, Sidecar, Span, Status, TranscriptRef};
use crate::transcript::{PartId, Role};

/// The sidecar in `text`, or `None` where the text leaves the layout this reader knows.
pub fn parse(text: &str) -> Option<Sidecar> {
    let mut p = Reader { text, at: 0 };
    let (mut schema, mut annotator, mut transcript, mut codebook) = (None, None, None, None);
    let (mut status, mut created, mut modified) = (None, None, None);
    let (mut tags, mut spans, mut memo, mut roles) = (None, None, None, None);
    p.fields(|p, name| match name {
        "schema" => set(&mut schema, p.number::<u32>()?),
        "annotator" => set(&mut annotator, p.annotator()?),
        "transcript" => set(&mut transcript, p.transcript()?),
        "codebook" => set(&mut codebook, p.string()?),
        "status" => set(&mut status, p.status()?),
        "created" => set(&mut created, p.time()?),
        "modified" => set(&mut modified, p.time()?),
        "tags" => set(&mut tags, p.tags()?),
        "spans" => set(&mut spans, p.list(Reader::span)?),
        "memo" => set(&mut memo, p.string()?),
        "roles" => set(&mut roles, p.roles()?),
        _ => None,
    })?;
    p.skip_ws();
    if p.at != text.len() {
        return None;
    }
    Some(Sidecar {
        schema: schema?,
        annotator: annotator?,
        transcript: transcript?,
        codebook: codebook?,
        status: status.unwrap_or_default(),
        created: created?,
        modified: modified?,
        tags: tags.unwrap_or_default(),
        spans: spans.unwrap_or_default(),
        memo: memo.unwrap_or_default(),
        roles: roles.unwrap_or_default(),
        unknown: Vec::new(),
    })
}

/// Fills a field once: a second value is RON's "duplicate field" error, left to RON.
fn set<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// Skips the whitespace Marginalia writes; other whitespace and comments end the reading at
    /// the next token.
    fn skip_ws(&mut self) {
        let b = self.bytes();
        while self.at < b.len() && matches!(b[self.at], b' ' | b'\n' | b'\t' | b'\r') {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes().get(self.at).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.at += 1)
    }

    /// `open item, item, ... close`, a trailing comma allowed: the one shape of RON's structs,
    /// lists and maps. `item` reads one item, `None` to give up.
    fn items(
        &mut self,
        open: u8,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        self.eat(open)?;
        loop {
            if self.peek()? == close {
                self.at += 1;
                return Some(());
            }
            item(self)?;
            match self.peek()? {
                b',' => self.at += 1,
                c if c == close => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A plain identifier (not a raw one, `r#name`).
    fn ident(&mut self) -> Option<&'a str> {
        self.skip_ws();
        let b = self.bytes();
        let start = self.at;
        if !b
            .get(start)
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
        {
            return None;
        }
        let mut end = start + 1;
        while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'_') {
            end += 1;
        }
        if matches!(b.get(end), Some(b'#' | b'"')) {
            return None;
        }
        self.at = end;
        Some(&self.text[start..end])
    }

    /// A quoted string with the escapes `\\`, `\"`, `\n`, `\r`, `\t`, `\'`, `\0` and `\u{…}`; any
    /// other escape (and a raw string) is left to RON.
    fn string(&mut self) -> Option<String> {
        self.eat(b'"')?;
        let b = self.bytes();
        let mut out = String::new();
        let mut run = self.at;
        loop {
            let i = run + memchr::memchr2(b'"', b'\\', &b[run..])?;
            out.push_str(&self.text[run..i]);
            if b[i] == b'"' {
                self.at = i + 1;
                return Some(out);
            }
            let (c, len) = match b.get(i + 1)? {
                b'\\' => ('\\', 2),
                b'"' => ('"', 2),
                b'n' => ('\n', 2),
                b'r' => ('\r', 2),
                b't' => ('\t', 2),
                b'\'' => ('\'', 2),
                b'0' => ('\0', 2),
                // `\u{1a58}`, as RON writes a character it does not print.
                b'u' if b.get(i + 2) == Some(&b'{') => {
                    let close = i + 3 + memchr::memchr(b'}', b.get(i + 3..)?)?;
                    let hex = &self.text[i + 3..close];
                    if hex.is_empty()
                        || hex.len() > 6
                        || !hex.bytes().all(|h| h.is_ascii_hexdigit())
                    {
                        return None;
                    }
                    let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                    (c, close + 1 - i)
                }
                _ => return None,
            };
            out.push(c);
            run = i + len;
        }
    }

    /// A decimal number without sign, underscores or suffix, that fits `T`.
    fn number<T: TryFrom<u64>>(&mut self) -> Option<T> {
        self.skip_ws();
        let b = self.bytes();
        let start = self.at;
        let mut value: u64 = 0;
        while let Some(d) = b.get(self.at).filter(|c| c.is_ascii_digit()) {
            value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            self.at += 1;
        }
        // A leading zero (`007`) is left to RON, as is anything glued to the digits.
        if self.at == start
            || (b[start] == b'0' && self.at > start + 1)
            || b.get(self.at)
                .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.'))
        {
            return None;
        }
        T::try_from(value).ok()
    }

    /// `(name: value, ...)`: `field` reads each value, `None` to give up.
    fn fields(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.items(b'(', b')', |p| {
            let name = p.ident()?;
            p.eat(b':')?;
            field(p, name)
        })
    }

    /// `[item, ...]`.
    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let mut out = Vec::new();
        self.items(b'[', b']', |p| {
            out.push(item(p)?);
            Some(())
        })?;
        Some(out)
    }

    /// `{"key": value, ...}` with string keys; a key met twice keeps its last value, as serde's
    /// maps do.
    fn map<K: Ord, V>(
        &mut self,
        key: impl Fn(String) -> Option<K>,
        mut value: impl FnMut(&mut Self) -> Option<V>,
    ) -> Option<BTreeMap<K, V>> {
        let mut out = BTreeMap::new();
        self.items(b'{', b'}', |p| {
            let k = key(p.string()?)?;
            p.eat(b':')?;
            out.insert(k, value(p)?);
            Some(())
        })?;
        Some(out)
    }

    fn time(&mut self) -> Option<DateTime<Utc>> {
        // As chrono's serde reads a `DateTime<Utc>`: any RFC 3339 offset, turned to UTC. Its
        // strict RFC 3339 reader first (what Marginalia writes; chrono's relaxed one, which
        // serde uses, went through its general format machinery), the relaxed one for the rest.
        let s = self.string()?;
        let time = DateTime::parse_from_rfc3339(&s)
            .or_else(|_| s.parse::<DateTime<FixedOffset>>())
            .ok()?;
        Some(time.with_timezone(&Utc))
    }

    fn status(&mut self) -> Option<Status> {
        match self.ident()? {
            "NotStarted" => Some(Status::NotStarted),
            "InProgress" => Some(Status::InProgress),
            "Done" => Some(Status::Done),
            _ => None,
        }
    }

    fn annotator(&mut self) -> Option<Annotator> {
        let (mut id, mut name) = (None, None);
        self.fields(|p, field| match field {
            "id" => set(&mut id, p.string()?),
            "name" => set(&mut name, p.string()?),
            _ => None,
        })?;
        Some(Annotator {
            id: id?,
            name: name?,
        })
    }

    fn transcript(&mut self) -> Option<TranscriptRef> {
        let (mut file, mut hash, mut chars, mut parts) = (None, None, None, None);
        self.fields(|p, field| match field {
            "file" => set(&mut file, p.string()?),
            "hash" => set(&mut hash, p.string()?),
            "chars" => set(&mut chars, p.number::<usize>()?),
            "parts" => set(
                &mut parts,
                p.map(|k| k.parse::<PartId>().ok(), |p| p.number::<usize>())?,
            ),
            _ => None,
        })?;
        Some(TranscriptRef {
            file: file?,
            hash: hash?,
            chars: chars?,
            parts: parts.unwrap_or_default(),
        })
    }

    fn tags(&mut self) -> Option<crate::annotation::PartTags> {
        self.map(
            |k| k.parse::<PartId>().ok(),
            |p| p.map(Some, |p| p.list(Reader::string)),
        )
    }

    fn roles(&mut self) -> Option<BTreeMap<String, Role>> {
        self.map(Some, |p| match p.ident()? {
            "Asker" => Some(Role::Asker),
            "Answerer" => Some(Role::Answerer),
            _ => None,
        })
    }

    fn span(&mut self) -> Option<Span> {
        let (mut id, mut part, mut start, mut end) = (None, None, None, None);
        let (mut quote, mut prefix, mut suffix) = (None, None, None);
        let (mut dimension, mut value, mut note, mut flag) = (None, None, None, None);
        self.fields(|p, field| match field {
            "id" => set(&mut id, p.string()?),
            "part" => set(&mut part, p.string()?.parse::<PartId>().ok()?),
            "start" => set(&mut start, p.number::<usize>()?),
            "end" => set(&mut end, p.number::<usize>()?),
            "quote" => set(&mut quote, p.string()?),
            "prefix" => set(&mut prefix, p.string()?),
            "suffix" => set(&mut suffix, p.string()?),
            "dimension" => set(&mut dimension, p.string()?),
            "value" => set(&mut value, p.string()?),
            "note" => set(&mut note, p.string()?),
            "flag" => set(&mut flag, p.option_string()?),
            _ => None,
        })?;
        Some(Span {
            id: id?,
            part: part?,
            start: start?,
            end: end?,
            quote: quote?,
            prefix: prefix.unwrap_or_default(),
            suffix: suffix.unwrap_or_default(),
            dimension: dimension?,
            value: value.unwrap_or_default(),
            note: note.unwrap_or_default(),
            flag: flag.flatten(),
        })
    }

    /// `None` or `Some("...")`.
    fn option_string(&mut self) -> Option<Option<String>> {
        match self.ident()? {
            "None" => Some(None),
            "Some" => {
                // `Some(` as written, with nothing between.
                if self.bytes().get(self.at) != Some(&b'(') {
                    return None;
                }
                self.at += 1;
                let s = self.string()?;
                self.eat(b')')?;
                Some(Some(s))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Times read as chrono's serde reads them, in every form it takes: RFC 3339 with `Z`, an
    /// offset, fractions of a second, and the relaxed forms (a space for the `T`).
    #[test]
    fn times_read_as_chrono_reads_them() {
        for text in [
            "2026-11-30T12:53:01Z",
            "2026-11-30T12:53:01.123456789Z",
            "2026-11-30T13:53:01+01:00",
            "2026-11-30t12:53:01z",
            "2026-11-30 12:53:01Z",
            "2026-11-30T12:53:01 +01:00",
            "2026-11-30T25:53:01Z",
            "yesterday",
        ] {
            let quoted = format!("\"{text}\"");
            let mut reader = Reader {
                text: &quoted,
                at: 0,
            };
            let chrono = text
                .parse::<DateTime<FixedOffset>>()
                .ok()
                .map(|t| t.with_timezone(&Utc));
            assert_eq!(reader.time(), chrono, "{text}");
        }
    }

    /// Every sidecar in the repository (the sample corpus, the test fixtures: hand-written,
    /// hostile, older schemas) is read as RON reads it, or left to RON; the sample corpus's,
    /// which Marginalia wrote, are all read here.
    #[test]
    fn the_repositorys_sidecars_read_as_ron_reads_them() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (mut read, mut left) = (0, 0);
        for dir in ["sample_data", "tests/fixtures"] {
            for e in walkdir::WalkDir::new(root.join(dir)).into_iter().flatten() {
                let path = e.path();
                if path.extension().is_none_or(|x| x != "ron") {
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(path) else {
                    continue;
                };
                let text = crate::transcript::normalize::unify_line_endings(&text).into_owned();
                match parse(&text) {
                    Some(fast) => {
                        let by_ron: Sidecar = crate::sidecar::ron_options()
                            .from_str(&text)
                            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                        assert_eq!(fast, by_ron, "{}", path.display());
                        read += 1;
                    }
                    None => {
                        assert!(
                            !path.starts_with(root.join("sample_data"))
                                || path.file_name().is_some_and(|n| n == "codebook.ron"),
                            "a sample sidecar left to RON: {}",
                            path.display()
                        );
                        left += 1;
                    }
                }
            }
        }
        assert!(read >= 10, "{read} read, {left} left to RON");
    }

    /// What the reader gives up on: RON's own forms it does not take, and text RON refuses.
    #[test]
    fn other_forms_are_left_to_ron() {
        let base = "(schema: 1, annotator: (id: \"a\", name: \"A\"), transcript: (file: \"f.txt\", hash: \"h\", chars: 3), codebook: \"c\", created: \"2026-01-01T00:00:00Z\", modified: \"2026-01-01T00:00:00Z\")";
        let read = parse(base).expect("the written layout");
        assert_eq!(read.annotator.id, "a");
        assert_eq!(read.status, Status::NotStarted);
        for other in [
            base.replace("(schema", "Sidecar(schema"),
            base.replace("schema: 1", "schema: 1, schema: 1"),
            base.replace("schema: 1", "future: 1, schema: 1"),
            base.replace("schema: 1", "// note\nschema: 1"),
            base.replace("schema: 1", "schema: 01"),
            base.replace("schema: 1", "schema: 0x1"),
            base.replace("\"c\"", "r\"c\""),
            base.replace("\"c\"", "\"\\x41\""),
            base.replace("codebook: \"c\", ", ""),
            format!("{base} trailing"),
            format!("{base})"),
        ] {
            assert!(parse(&other).is_none(), "{other}");
        }
    }
}
