//! REFI-QDA: the project exchange format (`.qdpx`) and the codebook format (`.qdc`) that NVivo,
//! ATLAS.ti, MAXQDA and QualCoder read; and turning a `.qdc` into a Marginalia codebook.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::{ExportError, ExportSummary};
use crate::codebook::{AppliesTo, Codebook, DimensionKind};
use crate::dataset::DocumentData;
use crate::transcript::{PartId, PartKind};

/// `write!` into a `String`, which cannot fail: `fmt::Write` for `String` always returns `Ok`, but
/// its signature cannot say so.
macro_rules! put {
    ($($arg:tt)*) => {{
        let written: std::fmt::Result = write!($($arg)*);
        debug_assert!(written.is_ok(), "writing into a String failed");
    }};
}

/// A GUID (8-4-4-4-12 hex digits) derived from a key, so the same project exports identically.
pub fn guid(key: &str) -> String {
    let mut out = String::with_capacity(36);
    push_guid(&mut out, &[key]);
    out
}

/// Appends [`guid`] of the key the `pieces` make one after another, without building the key: a
/// project has a GUID for every selection and coding, and the export spent a tenth of its time
/// formatting keys and GUIDs.
fn push_guid(out: &mut String, pieces: &[&str]) {
    push_guid_of(out, pieces.iter().copied());
}

/// [`push_guid`] of pieces given one after another.
fn push_guid_of<'a>(out: &mut String, pieces: impl Iterator<Item = &'a str> + Clone) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // Keys are short: hashed from the stack in one call (a streaming hasher is 2 kB to set up).
    let mut key = [0u8; 512];
    let len: usize = pieces.clone().map(str::len).sum();
    let hash = if len <= key.len() {
        let mut at = 0;
        for p in pieces {
            key[at..at + p.len()].copy_from_slice(p.as_bytes());
            at += p.len();
        }
        blake3::hash(&key[..len])
    } else {
        let mut hasher = blake3::Hasher::new();
        for p in pieces {
            hasher.update(p.as_bytes());
        }
        hasher.finalize()
    };
    let mut text = [b'-'; 36];
    let mut at = 0;
    for (i, byte) in hash.as_bytes()[..16].iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1;
        }
        text[at] = HEX[usize::from(byte >> 4)];
        text[at + 1] = HEX[usize::from(byte & 15)];
        at += 2;
    }
    out.push_str(std::str::from_utf8(&text).unwrap_or_default());
}

/// Escapes text for XML content and attribute values. Characters XML 1.0 forbids are dropped.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s);
    out
}

/// Appends [`xml_escape`] of `s`; text with nothing to escape is copied whole.
fn push_escaped(out: &mut String, s: &str) {
    // 0xEF starts U+FFFE and U+FFFF (and other characters, which then take the slow path).
    let plain = s
        .bytes()
        .all(|b| b >= 0x20 && !matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'' | 0xEF));
    if plain {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

/// The machine-readable last line of a code's description, so Marginalia's ids, kinds and
/// shortcuts survive a round trip through a `.qdpx` or `.qdc` while other tools show a readable
/// description above it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CodeMarker {
    /// Dimension id.
    pub dimension: String,
    /// Value id (an entity for entity dimensions); absent on a dimension's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The label in Marginalia, when the code's name was made unique by a suffix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Where a dimension is coded: `Question`, `Answer` or `Span`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_to: Option<AppliesTo>,
    /// How a dimension's values are chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<DimensionKind>,
    /// Keyboard shortcut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Group heading of a dimension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// False for codes used in sidecars but missing from the codebook.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub in_codebook: bool,
    /// Id of the codebook (on dimension codes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codebook: Option<(String, String)>,
}

impl Default for CodeMarker {
    fn default() -> Self {
        CodeMarker {
            dimension: String::new(),
            value: None,
            label: None,
            applies_to: None,
            kind: None,
            key: None,
            group: None,
            in_codebook: true,
            codebook: None,
        }
    }
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// The prefix of the marker line in a description.
pub const MARKER_PREFIX: &str = "marginalia:";

impl CodeMarker {
    /// The marker of a codebook dimension's code: what a `.qdpx`, a `.qdc` and a Taguette CSV all
    /// carry, so that an import gets the dimension back whole.
    pub fn of_dimension(
        codebook: &crate::codebook::Codebook,
        d: &crate::codebook::Dimension,
    ) -> CodeMarker {
        CodeMarker {
            dimension: d.id.clone(),
            applies_to: Some(d.applies_to),
            kind: Some(d.kind),
            key: d.key.clone(),
            group: d.group.clone(),
            in_codebook: true,
            codebook: Some((codebook.id.clone(), codebook.name.clone())),
            ..CodeMarker::default()
        }
    }

    /// The marker line.
    pub fn line(&self) -> String {
        format!(
            "{MARKER_PREFIX}{}",
            serde_json::to_string(self).expect("a marker always serializes")
        )
    }

    /// Splits a description into its readable text and the marker of its last line, if any.
    pub fn split(description: &str) -> (String, Option<CodeMarker>) {
        let trimmed = description.trim_end();
        let (head, last) = match trimmed.rsplit_once('\n') {
            Some((h, l)) => (h, l),
            None => ("", trimmed),
        };
        match last
            .trim()
            .strip_prefix(MARKER_PREFIX)
            .and_then(|j| serde_json::from_str::<CodeMarker>(j).ok())
        {
            Some(m) => (head.trim_end().to_string(), Some(m)),
            None => (description.to_string(), None),
        }
    }
}

/// A code of the export before its name is made unique.
struct OutCode {
    guid: String,
    name: String,
    codable: bool,
    color: Option<String>,
    description: String,
    children: Vec<OutCode>,
}

impl OutCode {
    fn write(&self, xml: &mut String) {
        put!(
            xml,
            "<Code guid=\"{}\" name=\"{}\" isCodable=\"{}\"",
            self.guid,
            xml_escape(&self.name),
            self.codable
        );
        if let Some(c) = &self.color {
            put!(xml, " color=\"{}\"", xml_escape(c));
        }
        if self.description.is_empty() && self.children.is_empty() {
            xml.push_str("/>");
            return;
        }
        xml.push('>');
        if !self.description.is_empty() {
            put!(
                xml,
                "<Description>{}</Description>",
                xml_escape(&self.description)
            );
        }
        for c in &self.children {
            c.write(xml);
        }
        xml.push_str("</Code>");
    }
}

/// Makes every code name unique across the whole codebook (compared without case), as
/// QualCoder keys codes by name and drops the codings of a second code of the same name: a
/// clashing name gets its parent's name in brackets ("Neutral (Tone of answer)"), then a number.
/// Top-level codes (dimensions, cases) keep their names where they can.
fn unique_names(roots: &mut [OutCode]) {
    fn count(codes: &[OutCode], seen: &mut BTreeMap<String, usize>) {
        for c in codes {
            *seen.entry(c.name.to_lowercase()).or_default() += 1;
            count(&c.children, seen);
        }
    }
    fn claim(name: String, taken: &mut BTreeSet<String>) -> String {
        let mut candidate = name.clone();
        let mut n = 2;
        while !taken.insert(candidate.to_lowercase()) {
            candidate = format!("{name} {n}");
            n += 1;
        }
        candidate
    }
    fn rename(
        codes: &mut [OutCode],
        parent: &str,
        clashes: &BTreeMap<String, usize>,
        taken: &mut BTreeSet<String>,
    ) {
        for c in codes.iter_mut() {
            let original = c.name.clone();
            let wanted = if clashes.get(&original.to_lowercase()).copied().unwrap_or(0) > 1 {
                format!("{original} ({parent})")
            } else {
                original.clone()
            };
            c.name = claim(wanted, taken);
            rename(&mut c.children, &original, clashes, taken);
        }
    }
    let mut clashes = BTreeMap::new();
    count(roots, &mut clashes);
    let mut taken = BTreeSet::new();
    for c in roots.iter_mut() {
        c.name = claim(c.name.clone(), &mut taken);
    }
    for c in roots.iter_mut() {
        let parent = c.name.clone();
        rename(&mut c.children, &parent, &clashes, &mut taken);
    }
}

/// The codes of the export: every dimension as a non-codable parent, its values (for entity
/// dimensions: known and used values) as codable children. Codes used in sidecars but missing
/// from the codebook are added under their dimension or under "Not in codebook", so nothing is
/// dropped. Each code's description says which dimension it belongs to and ends with a
/// [`CodeMarker`] line; names are unique across the codebook. `cases` are extra top-level
/// codes (guid, name) by which QualCoder and NVivo link a case to its text.
struct CodeTree {
    /// dimension id -> (dimension guid, value -> value guid); a test holds [`code_guid`] to it.
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "codings name their codes by code_guid, tested equal"
        )
    )]
    guids: BTreeMap<String, (String, BTreeMap<String, String>)>,
    xml: String,
}

#[expect(
    clippy::too_many_lines,
    reason = "builds the code tree and its XML together, so that names and GUIDs stay paired"
)]
fn code_tree(
    codebook: &Codebook,
    used: &BTreeMap<String, BTreeSet<String>>,
    cases: &[(String, String)],
) -> CodeTree {
    let mut guids = BTreeMap::new();
    let mut roots: Vec<OutCode> = Vec::new();
    let with_marker = |text: &str, marker: &CodeMarker| {
        if text.is_empty() {
            marker.line()
        } else {
            format!("{text}\n\n{}", marker.line())
        }
    };
    let value_code = |d_id: &str,
                      d_label: &str,
                      value: &str,
                      label: &str,
                      color: Option<String>,
                      description: &str,
                      key: Option<String>,
                      in_codebook: bool| {
        let marker = CodeMarker {
            dimension: d_id.to_string(),
            value: Some(value.to_string()),
            label: Some(label.to_string()),
            key,
            in_codebook,
            ..CodeMarker::default()
        };
        let text = if description.is_empty() {
            format!("{d_label}: {label}")
        } else {
            format!("{d_label}: {description}")
        };
        OutCode {
            guid: code_guid(d_id, value),
            name: label.to_string(),
            codable: true,
            color,
            description: with_marker(&text, &marker),
            children: Vec::new(),
        }
    };
    for d in &codebook.dimensions {
        let dg = guid(&format!("dimension:{}", d.id));
        let marker = CodeMarker::of_dimension(codebook, d);
        let mut code = OutCode {
            guid: dg.clone(),
            name: d.label.clone(),
            codable: false,
            color: Some(d.color.clone()),
            description: with_marker(&d.description, &marker),
            children: Vec::new(),
        };
        let mut values = BTreeMap::new();
        match d.kind {
            DimensionKind::Entity => {
                let known: BTreeSet<&String> = d.known_values.iter().collect();
                let mut names: BTreeSet<String> = d.known_values.iter().cloned().collect();
                names.extend(used.get(&d.id).into_iter().flatten().cloned());
                for n in names {
                    let c = value_code(&d.id, &d.label, &n, &n, None, "", None, known.contains(&n));
                    values.insert(n, c.guid.clone());
                    code.children.push(c);
                }
            }
            _ => {
                for v in &d.values {
                    let c = value_code(
                        &d.id,
                        &d.label,
                        &v.id,
                        &v.label,
                        Some(v.color.clone()),
                        &v.description,
                        v.key.clone(),
                        true,
                    );
                    values.insert(v.id.clone(), c.guid.clone());
                    code.children.push(c);
                }
                for v in used.get(&d.id).into_iter().flatten() {
                    if d.value(v).is_none() {
                        let c = value_code(
                            &d.id,
                            &d.label,
                            v,
                            v,
                            None,
                            "Used in annotations; not in the codebook",
                            None,
                            false,
                        );
                        values.insert(v.clone(), c.guid.clone());
                        code.children.push(c);
                    }
                }
            }
        }
        roots.push(code);
        guids.insert(d.id.clone(), (dg, values));
    }
    let unknown: Vec<(&String, &BTreeSet<String>)> = used
        .iter()
        .filter(|(d, _)| codebook.dimension(d).is_none())
        .collect();
    if !unknown.is_empty() {
        let mut parent = OutCode {
            guid: guid("dimension:not-in-codebook"),
            name: "Not in codebook".to_string(),
            codable: false,
            color: None,
            description: "Codes found in annotations but not in the codebook".to_string(),
            children: Vec::new(),
        };
        for (dim, vals) in unknown {
            let dg = guid(&format!("dimension:{dim}"));
            let marker = CodeMarker {
                dimension: dim.clone(),
                in_codebook: false,
                ..CodeMarker::default()
            };
            let mut code = OutCode {
                guid: dg.clone(),
                name: dim.clone(),
                codable: false,
                color: None,
                description: marker.line(),
                children: Vec::new(),
            };
            let mut values = BTreeMap::new();
            for v in vals {
                let c = value_code(dim, dim, v, v, None, "", None, false);
                values.insert(v.clone(), c.guid.clone());
                code.children.push(c);
            }
            parent.children.push(code);
            guids.insert(dim.clone(), (dg, values));
        }
        roots.push(parent);
    }
    for (case_guid, name) in cases {
        roots.push(OutCode {
            guid: case_guid.clone(),
            name: name.clone(),
            codable: true,
            color: None,
            description: format!(
                "Case: {name}. Codes the documents of this case, as NVivo and QualCoder link cases to text."
            ),
            children: Vec::new(),
        });
    }
    unique_names(&mut roots);
    let mut xml = String::new();
    for c in &roots {
        c.write(&mut xml);
    }
    CodeTree { guids, xml }
}

/// A stretch of a part's text found in a source text: the `len` chars at `src` in the source are
/// the chars at `off` in the part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Char offset in the source text.
    pub src: usize,
    /// The part.
    pub part: PartId,
    /// Char offset in the part's text.
    pub off: usize,
    /// Length in chars.
    pub len: usize,
}

/// Where the parts' text lies in `text`, each found after the one before, so exporter and
/// importer, running this on the same text, agree: a whole part where it is found whole, else
/// each of its paragraphs (speaker turns drop the speaker's label from a part). The flag says
/// whether every paragraph of every part was found.
pub fn part_segments(text: &str, parts: &[crate::transcript::Part]) -> (Vec<Segment>, bool) {
    let mut byte = 0;
    let mut chars = 0;
    let mut out = Vec::with_capacity(parts.len());
    let mut complete = true;
    let find = |needle: &str, byte: &mut usize, chars: &mut usize| -> Option<usize> {
        let found = *byte + find_text(&text[*byte..], needle)?;
        *chars += text[*byte..found].chars().count();
        let at = *chars;
        *chars += needle.chars().count();
        *byte = found + needle.len();
        Some(at)
    };
    for p in parts {
        if p.text().is_empty() {
            continue;
        }
        if let Some(at) = find(p.text(), &mut byte, &mut chars) {
            out.push(Segment {
                src: at,
                part: p.id,
                off: 0,
                len: p.text().chars().count(),
            });
            continue;
        }
        let mut off = 0;
        for para in p.text().split("\n\n") {
            let len = para.chars().count();
            if !para.is_empty() {
                match find(para, &mut byte, &mut chars) {
                    Some(at) => out.push(Segment {
                        src: at,
                        part: p.id,
                        off,
                        len,
                    }),
                    None => complete = false,
                }
            }
            off += len + 2;
        }
    }
    (out, complete)
}

/// The first occurrence of `needle` in `hay`, as `str::find` gives it. A part's text is long,
/// and preparing `str::find`'s searcher for it cost more than the search (a twentieth of a
/// `.qdpx` export): occurrences of its first bytes are found instead and the rest compared in
/// place. Comparisons are bounded by a few times the text, after which `str::find` finishes the
/// search, so a text of repeats stays linear.
fn find_text(hay: &str, needle: &str) -> Option<usize> {
    const PREFIX: usize = 32;
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.len() <= PREFIX {
        return memchr::memmem::find(h, n);
    }
    let mut budget = 4 * h.len() + 4096;
    for at in memchr::memmem::find_iter(h, &n[..PREFIX]) {
        let compared = n.len().min(h.len() - at);
        if compared > budget {
            return hay[at..].find(needle).map(|i| at + i);
        }
        budget -= compared;
        if h[at..].starts_with(n) {
            return Some(at);
        }
    }
    None
}

/// The source position of char `p` of a part, given the part's segments. A position in the gap
/// between two paragraphs (the part's `\n\n`, the source's own blank lines) goes as far into the
/// source's gap as it is into the part's, up to the source gap's length, so a span that ends on a
/// paragraph's line break keeps it (import maps it back the same way: `gap_position`). Before the
/// first paragraph or after the last, it goes to the nearest one.
fn to_source(mine: &[Segment], p: usize, end: bool) -> Option<usize> {
    for s in mine {
        let inside = if end {
            s.off < p && p <= s.off + s.len
        } else {
            s.off <= p && p < s.off + s.len
        };
        if inside {
            return Some(s.src + p - s.off);
        }
    }
    for w in mine.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        if a.off + a.len <= p && p <= b.off {
            let source_gap = b.src.saturating_sub(a.src + a.len);
            return Some(a.src + a.len + (p - a.off - a.len).min(source_gap));
        }
    }
    if end {
        mine.iter()
            .rev()
            .find(|s| s.off + s.len <= p)
            .map(|s| s.src + s.len)
    } else {
        mine.iter().find(|s| s.off >= p).map(|s| s.src)
    }
}

/// The part position of source position `x` in the gap after segment `a`, before `b` (of the
/// same part): as far into the part's gap as `x` is into the source's, up to the part gap's
/// length. The inverse of [`to_source`] in a gap.
pub fn gap_position(a: &Segment, b: &Segment, x: usize) -> usize {
    let part_gap = b.off.saturating_sub(a.off + a.len);
    a.off + a.len + x.saturating_sub(a.src + a.len).min(part_gap)
}

/// Each part's segments, which lie together in `segments` (they are made part by part): a
/// coding looks its part's up instead of scanning every part's, which made a long interview's
/// export cost its parts times its codings.
fn segments_by_part(segments: &[Segment]) -> std::collections::HashMap<PartId, &[Segment]> {
    let mut out = std::collections::HashMap::new();
    for run in segments.chunk_by(|a, b| a.part == b.part) {
        out.insert(run[0].part, run);
    }
    out
}

/// The text of a source and where the parts lie in it. The transcript's own normalized text when
/// its parts can be found in it (so Marginalia reads the same layout back on import, and the
/// source is the document the researcher knows); otherwise a short header, then each part under
/// its heading.
fn source_text(doc: &DocumentData) -> (std::borrow::Cow<'_, str>, Vec<Segment>) {
    if let Some(found) = original_text(doc) {
        return found;
    }
    let t = &doc.transcript;
    let m = &t.meta;
    let mut text = String::new();
    let title = if m.title.is_empty() {
        doc.relative.as_str()
    } else {
        m.title.as_str()
    };
    text.push_str(title);
    text.push('\n');
    let mut line: Vec<String> = Vec::new();
    if let Some(k) = &m.meeting {
        line.push(match m.meeting_date {
            Some(d) => format!("{k} on {d}"),
            None => k.clone(),
        });
    }
    if let Some(q) = &m.question_by {
        line.push(match &m.organisation {
            Some(o) => format!("{q} ({o})"),
            None => q.clone(),
        });
    }
    if let Some(a) = &m.asked_of {
        line.push(format!("to {a}"));
    }
    if !line.is_empty() {
        text.push_str(&line.join(" · "));
        text.push('\n');
    }
    let mut segments = Vec::new();
    let several = t.exchange_count() > 1;
    for p in &t.parts {
        let heading = match p.id.kind {
            PartKind::Question => "QUESTION",
            PartKind::Answer => "ANSWER",
            PartKind::Text => "TEXT",
        };
        text.push('\n');
        text.push_str(heading);
        if several {
            put!(text, " {}", p.id.exchange + 1);
        }
        if let Some(s) = p.speaker() {
            put!(text, " ({s})");
        }
        text.push_str("\n\n");
        segments.push(Segment {
            src: text.chars().count(),
            part: p.id,
            off: 0,
            len: p.text().chars().count(),
        });
        text.push_str(p.text());
        text.push('\n');
    }
    (std::borrow::Cow::Owned(text), segments)
}

/// The transcript file's normalized text, when it is still the text the dataset read (same
/// hash) and every part is found in it. The text kept when the document was read serves when
/// there is one; otherwise the file is read again.
fn original_text(doc: &DocumentData) -> Option<(std::borrow::Cow<'_, str>, Vec<Segment>)> {
    let t = &doc.transcript;
    if crate::transcript::parlparse::split_virtual(&doc.path).is_some() {
        return None;
    }
    let normalized = match &doc.source {
        // Read with the transcript: its hash is the transcript's.
        Some(text) => std::borrow::Cow::Borrowed(text.as_str()),
        None => {
            let bytes =
                crate::fsutil::read_limited(&doc.path, crate::transcript::MAX_TRANSCRIPT_BYTES)
                    .ok()?;
            let decoded = crate::transcript::decode_owned(bytes).ok()?;
            let normalized = crate::transcript::normalize(&decoded.text);
            if crate::transcript::content_hash(&normalized) != t.hash {
                return None;
            }
            std::borrow::Cow::Owned(normalized)
        }
    };
    let (segments, complete) = part_segments(&normalized, &t.parts);
    complete.then_some((normalized, segments))
}

const VARIABLES: &[(&str, &str)] = &[
    ("title", "Text"),
    ("meeting", "Text"),
    ("meeting_date", "Date"),
    ("session_date", "Date"),
    ("reference", "Text"),
    ("question_by", "Text"),
    ("organisation", "Text"),
    ("asked_of", "Text"),
    ("answered_by", "Text"),
    ("supplementary", "Boolean"),
    ("answer_status", "Text"),
    ("path", "Text"),
];

/// The variable of cases, kept apart from the documents' `organisation`: QualCoder keeps one
/// kind (document or case) per variable name.
const CASE_VARIABLE: &str = "member organisation";

fn variable_value(name: &str, kind: &str, value: &str) -> String {
    let mut out = String::new();
    push_variable_value(&mut out, &guid(&format!("variable:{name}")), kind, value);
    out
}

/// Appends a `VariableValue` of the variable with GUID `variable`.
fn push_variable_value(out: &mut String, variable: &str, kind: &str, value: &str) {
    let element = match kind {
        "Date" => "DateValue",
        "Boolean" => "BooleanValue",
        _ => "TextValue",
    };
    for piece in [
        "<VariableValue><VariableRef targetGUID=\"",
        variable,
        "\"/><",
        element,
        ">",
    ] {
        out.push_str(piece);
    }
    push_escaped(out, value);
    for piece in ["</", element, "></VariableValue>"] {
        out.push_str(piece);
    }
}

/// The GUIDs of the documents' variables, in the order of [`VARIABLES`]: the same for every
/// document, made once.
fn variable_guids() -> &'static [String] {
    static GUIDS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        VARIABLES
            .iter()
            .map(|(name, _)| guid(&format!("variable:{name}")))
            .collect()
    });
    &GUIDS
}

/// The name of a document in other tools: its file name without folder (QualCoder copies each
/// source to `documents/<name>.txt`, so a `/` fails and `.txt` would be doubled).
pub fn source_name(relative: &str) -> String {
    let file = relative.rsplit('/').next().unwrap_or(relative);
    let stem = file
        .strip_suffix(".txt")
        .or_else(|| file.strip_suffix(".text"))
        .unwrap_or(file);
    if stem.is_empty() {
        file.to_string()
    } else {
        stem.to_string()
    }
}

/// The GUID of the code of value `value` of dimension `dimension`: the one [`code_tree`] gives it,
/// whether the value is in the codebook, only used in sidecars, or of a dimension the codebook
/// lacks. A document's codings name their codes by it before the tree (which needs every
/// document's values) is built.
fn code_guid(dimension: &str, value: &str) -> String {
    let mut out = String::with_capacity(36);
    push_code_guid(&mut out, dimension, value);
    out
}

/// Appends [`code_guid`].
fn push_code_guid(out: &mut String, dimension: &str, value: &str) {
    push_guid(out, &["value:", dimension, ":", value]);
}

/// The GUIDs of the codes a group of documents' codings refer to, each hashed once.
#[derive(Default)]
struct CodeGuids<'a> {
    known: std::collections::HashMap<(&'a str, &'a str), String>,
}

impl<'a> CodeGuids<'a> {
    /// [`code_guid`] of the value `value` of `dimension`.
    fn get(&mut self, dimension: &'a str, value: &'a str) -> &str {
        self.known
            .entry((dimension, value))
            .or_insert_with(|| code_guid(dimension, value))
    }
}

/// A time as `creationDateTime` gives it, to the second in UTC (`chrono`'s `format` parsed its
/// pattern again for every sidecar).
fn iso_seconds(t: &chrono::DateTime<chrono::Utc>) -> String {
    use chrono::Timelike as _;
    let mut out = String::with_capacity(20);
    push_date(&mut out, t.date_naive());
    out.push('T');
    for (i, n) in [t.hour(), t.minute(), t.second()].into_iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        push_two_digits(&mut out, n);
    }
    out.push('Z');
    out
}

/// Appends a date as `chrono` shows it (`2024-03-05`), its digits put in place: `format!` and
/// `to_string` were a tenth of rendering a document's `TextSource`.
fn push_date(out: &mut String, d: chrono::NaiveDate) {
    use chrono::Datelike as _;
    match u32::try_from(d.year()) {
        Ok(year) if year <= 9999 => {
            for div in [1000, 100, 10, 1] {
                out.push(char::from(
                    b'0' + u8::try_from(year / div % 10).unwrap_or(0),
                ));
            }
            out.push('-');
            push_two_digits(out, d.month());
            out.push('-');
            push_two_digits(out, d.day());
        }
        // Years chrono shows with a sign.
        _ => put!(out, "{d}"),
    }
}

/// Appends `n` (under 100) in two digits.
fn push_two_digits(out: &mut String, n: u32) {
    out.push(char::from(b'0' + u8::try_from(n / 10 % 10).unwrap_or(0)));
    out.push(char::from(b'0' + u8::try_from(n % 10).unwrap_or(0)));
}

/// What a document adds to the project besides its `TextSource`: its case, the values it uses,
/// its annotators and their memos.
struct DocumentPart {
    /// The source's GUID.
    source: String,
    /// Warnings of the export about this document (spans and tags left out).
    warnings: Vec<String>,
    /// Codings written.
    annotations: usize,
    /// (note guid, name, user guid, text) of the annotators' memos.
    memos: Vec<(String, String, String, String)>,
    /// The member who asked and their organisation.
    case: Option<(String, Option<String>)>,
    /// Values used, by dimension.
    used: BTreeMap<String, BTreeSet<String>>,
    /// Annotators (id, name).
    annotators: Vec<(String, String)>,
}

/// What a group of documents adds to the project besides its `TextSource`s, gathered on the
/// core that rendered them: the writer's thread had taken each document's values, annotators
/// and memos apart and freed them one by one (a tenth of the export's CPU was that thread's).
#[derive(Default)]
struct GroupPart {
    /// Warnings of spans that do not fit the text, in document order.
    span_warnings: Vec<String>,
    /// Warnings of codings not exported, in document order.
    warnings: Vec<String>,
    /// Documents and codings written.
    documents: usize,
    annotations: usize,
    /// The memos as `Note` elements.
    notes: String,
    /// (member, organisation, source GUID) of each document that names who asked.
    cases: Vec<(String, Option<String>, String)>,
    /// Values used, by dimension.
    used: BTreeMap<String, BTreeSet<String>>,
    /// Annotators: id -> the smallest of their names.
    annotators: BTreeMap<String, String>,
}

impl GroupPart {
    /// Adds a document's part; `now` dates its memos' notes.
    fn add(&mut self, part: DocumentPart, now: &str) {
        self.documents += 1;
        self.annotations += part.annotations;
        self.warnings.extend(part.warnings);
        for (ng, name, user, text) in part.memos {
            push_note(&mut self.notes, &ng, &name, &user, now, &text);
        }
        if let Some((member, organisation)) = part.case {
            self.cases.push((member, organisation, part.source));
        }
        merge_used(&mut self.used, part.used);
        for (id, name) in part.annotators {
            keep_smallest_name(&mut self.annotators, id, name);
        }
    }
}

/// Adds `values` to the values used, by dimension.
fn merge_used(
    used: &mut BTreeMap<String, BTreeSet<String>>,
    values: BTreeMap<String, BTreeSet<String>>,
) {
    for (d, values) in values {
        match used.get_mut(&d) {
            Some(kept) => kept.extend(values),
            None => {
                used.insert(d, values);
            }
        }
    }
}

/// Keeps the smallest name of an annotator's id, as `Dataset::annotators` does.
fn keep_smallest_name(annotators: &mut BTreeMap<String, String>, id: String, name: String) {
    match annotators.entry(id) {
        std::collections::btree_map::Entry::Vacant(v) => {
            v.insert(name);
        }
        std::collections::btree_map::Entry::Occupied(mut o) => {
            if name < *o.get() {
                o.insert(name);
            }
        }
    }
}

/// Appends a memo as a `Note` element.
fn push_note(notes: &mut String, guid: &str, name: &str, user: &str, now: &str, text: &str) {
    for piece in ["<Note guid=\"", guid, "\" name=\""] {
        notes.push_str(piece);
    }
    push_escaped(notes, name);
    for piece in [
        "\" creatingUser=\"",
        user,
        "\" creationDateTime=\"",
        now,
        "\"><PlainTextContent>",
    ] {
        notes.push_str(piece);
    }
    push_escaped(notes, text);
    notes.push_str("</PlainTextContent></Note>");
}

/// Builds a `.qdpx` project: `sources/<guid>.txt` and `project.qde` in a zip written into `out`.
/// Documents are read and rendered on every core, a group at a time, and each group's
/// `TextSource`s deflated there; the sources go into the zip (stored) as they come and the
/// deflated `TextSource`s into a temporary file,
/// because the project's header (users, codes, cases) needs every document first. Then
/// `project.qde` is written: the header, the spooled sources streamed in, the notes. Memory is
/// bounded by the groups in flight, the cases, the memos and the zip's directory (80 bytes a
/// source), not the corpus.
#[expect(
    clippy::too_many_lines,
    reason = "writes the project in the order of the REFI-QDA schema, section by section"
)]
pub(crate) fn qdpx<W: std::io::Write>(
    out: &mut W,
    docs: &super::Documents<'_>,
    include_uncoded: bool,
    read: &mut Vec<String>,
    span_warnings: &mut Vec<String>,
    summary: &mut ExportSummary,
) -> Result<(), ExportError> {
    let started = chrono::Utc::now();
    let now = started.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut zip = super::zipout::ZipOut::new(&mut *out, started);
    let mut spool = super::pieces::Spool::new().map_err(ExportError::Output)?;
    // One case per member, with the member's organisation and their questions' sources.
    // Each case's `SourceRef`s and the notes, written as the documents come: the GUIDs and
    // memos the cores made, kept to the end, pinned their heaps (the 100,000-page export's
    // pages cost a quarter more than the 10,000-page one's).
    let mut cases: BTreeMap<String, (Option<String>, String)> = BTreeMap::new();
    let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut annotators: BTreeMap<String, String> = BTreeMap::new();
    let mut notes = String::new();
    // Blocks and pieces' room the writer has emptied, for the cores to fill again (at most a
    // window of groups is in flight, so the list stays short).
    let rooms: std::sync::Mutex<Vec<(super::zipout::Block, Vec<u8>)>> =
        std::sync::Mutex::new(Vec::new());
    // Documents rendered by groups, each group's `TextSource`s deflated as one piece of
    // `project.qde` (a piece per document, with no window of the text before it, made the file
    // twice as large).
    docs.for_each_group(
        QDPX_GROUP,
        |group| {
            // A group's XML is about 170 kB: room for it at once, not by doubling.
            let mut xml = String::with_capacity(256 << 10);
            let mut parts = GroupPart::default();
            // The group's sources framed as zip entries here, stored (see `Block::push_stored`),
            // in a block and a piece's room that the writer has emptied.
            let (mut sources, room) = lock_rooms(&rooms).pop().unwrap_or_default();
            let mut codes = CodeGuids::default();
            for d in group {
                parts
                    .span_warnings
                    .extend(super::doc_span_warnings(d, super::ExportFormat::Qdpx));
                if !include_uncoded && d.sidecars.is_empty() {
                    continue;
                }
                let (part, text) = render_source(d, &now, &mut xml, &mut codes);
                sources.push_stored(&["sources/", &part.source, ".txt"], text.as_bytes());
                parts.add(part, &now);
            }
            let piece = super::pieces::deflate_piece_into(xml.as_bytes(), QDE_LEVEL, false, room)
                .map_err(ExportError::Output)?;
            Ok((parts, piece, sources))
        },
        |result: Result<_, ExportError>| -> Result<(), ExportError> {
            let (parts, piece, mut sources) = result?;
            spool.push(&piece).map_err(ExportError::Output)?;
            zip.append(&mut sources).map_err(ExportError::Output)?;
            // A group with a very long page gives its room back to the allocator, so that the
            // list does not keep its size for the rest of the export.
            if sources.room() + piece.bytes.capacity() <= ROOM_KEPT {
                lock_rooms(&rooms).push((sources, piece.bytes));
            }
            span_warnings.extend(parts.span_warnings);
            summary.documents += parts.documents;
            summary.annotations += parts.annotations;
            summary.warnings.extend(parts.warnings);
            notes.push_str(&parts.notes);
            for (member, organisation, source) in parts.cases {
                let entry = cases.entry(member).or_default();
                if entry.0.is_none() {
                    entry.0 = organisation;
                }
                for piece in ["<SourceRef targetGUID=\"", &source, "\"/>"] {
                    entry.1.push_str(piece);
                }
            }
            merge_used(&mut used, parts.used);
            for (id, name) in parts.annotators {
                keep_smallest_name(&mut annotators, id, name);
            }
            Ok(())
        },
        read,
    )?;

    let case_codes: Vec<(String, String)> =
        cases.keys().map(|m| (case_guid(m), m.clone())).collect();
    let tree = code_tree(docs.codebook(), &used, &case_codes);
    let name = docs
        .root()
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "Marginalia project".to_string());
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    put!(
        x,
        "<Project xmlns=\"urn:QDA-XML:project:1.0\" name=\"{}\" origin=\"Marginalia {}\" creationDateTime=\"{now}\">",
        xml_escape(&name),
        env!("CARGO_PKG_VERSION")
    );
    if !annotators.is_empty() {
        x.push_str("<Users>");
        for (id, display) in &annotators {
            put!(
                x,
                "<User guid=\"{}\" name=\"{}\" id=\"{}\"/>",
                user_guid(id),
                xml_escape(if display.is_empty() { id } else { display }),
                xml_escape(id)
            );
        }
        x.push_str("</Users>");
    }
    if !tree.xml.is_empty() {
        put!(x, "<CodeBook><Codes>{}</Codes></CodeBook>", tree.xml);
    }
    x.push_str("<Variables>");
    for (v, kind) in VARIABLES {
        put!(
            x,
            "<Variable guid=\"{}\" name=\"{v}\" typeOfVariable=\"{kind}\"/>",
            guid(&format!("variable:{v}"))
        );
    }
    if !cases.is_empty() {
        put!(
            x,
            "<Variable guid=\"{}\" name=\"{CASE_VARIABLE}\" typeOfVariable=\"Text\"/>",
            guid(&format!("variable:{CASE_VARIABLE}"))
        );
    }
    x.push_str("</Variables>");
    if !cases.is_empty() {
        x.push_str("<Cases>");
        for (member, (org, sources)) in &cases {
            put!(
                x,
                "<Case guid=\"{}\" name=\"{}\">",
                case_guid(member),
                xml_escape(member)
            );
            if let Some(o) = org {
                x.push_str(&variable_value(CASE_VARIABLE, "Text", o));
            }
            x.push_str(sources);
            x.push_str("</Case>");
        }
        x.push_str("</Cases>");
    }
    if summary.documents > 0 {
        x.push_str("<Sources>");
    }
    let head = super::pieces::deflate_piece(x.as_bytes(), QDE_LEVEL, false)
        .map_err(ExportError::Output)?;
    let mut x = String::new();
    if summary.documents > 0 {
        x.push_str("</Sources>");
    }
    if !notes.is_empty() {
        x.push_str("<Notes>");
        x.push_str(&notes);
        x.push_str("</Notes>");
    }
    x.push_str("</Project>\n");
    let tail =
        super::pieces::deflate_piece(x.as_bytes(), QDE_LEVEL, true).map_err(ExportError::Output)?;
    zip.append_pieces("project.qde", &head, spool, &tail)
        .map_err(ExportError::Output)?;
    zip.finish().map_err(ExportError::Output)?;
    Ok(())
}

/// Most bytes of room a block and its piece give back to be used again (a group of 32 pages
/// takes about 100 kB of sources and 40 kB of deflated XML).
const ROOM_KEPT: usize = 4 << 20;

/// The room list of [`qdpx`], locked. A panic while it was held leaves a list still whole (a
/// push or a pop), so a poisoned lock is taken as it is.
fn lock_rooms<T>(rooms: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    rooms
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Deflate level of `project.qde`'s pieces, chosen by measurement on the 10,000-page project's
/// 53 MB of XML in its 160 kB pieces, one thread (zlib-rs): level 1 (its quick strategy, fixed
/// codes) 0.080 s for 11.1 MB, level 2 0.137 s for 7.9 MB, 3 0.180 s for 7.6 MB, 6 0.276 s for
/// 6.8 MB. Level 2 made the export's file 16.7 MB and level 1 19.9 MB, but level 2 held the export
/// above three times the read floor (`cargo bench --bench commands`: 3.6-3.9x against 3.0-3.5x in
/// three runs side by side); a fifth larger file is the cheaper of the two for a researcher.
const QDE_LEVEL: u32 = 1;

/// Documents whose `TextSource`s are deflated together as one piece of `project.qde`: about
/// 160 kB of XML, so each piece compresses nearly as well as one stream would.
const QDPX_GROUP: usize = 32;

fn case_guid(member: &str) -> String {
    guid(&format!("case:{member}"))
}

fn user_guid(id: &str) -> String {
    let mut out = String::with_capacity(36);
    push_guid(&mut out, &["user:", id]);
    out
}

/// One document's part of the project: its `TextSource` XML appended to `x`, and its source
/// text, on the core that read it.
#[expect(
    clippy::too_many_lines,
    reason = "writes a TextSource in the order of the REFI-QDA schema: selections, case, notes, variables"
)]
fn render_source<'a>(
    d: &'a DocumentData,
    now: &str,
    x: &mut String,
    codes: &mut CodeGuids<'a>,
) -> (DocumentPart, std::borrow::Cow<'a, str>) {
    let mut warnings: Vec<String> = Vec::new();
    let mut annotations = 0usize;
    let mut memos: Vec<(String, String, String, String)> = Vec::new();
    let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut sg = String::with_capacity(36);
    push_guid(&mut sg, &["source:", &d.relative]);
    let (text, segments) = source_text(d);
    let by_part = segments_by_part(&segments);
    let of_part = |part: PartId| by_part.get(&part).copied().unwrap_or_default();
    for piece in ["<TextSource guid=\"", &sg, "\" name=\""] {
        x.push_str(piece);
    }
    push_escaped(x, &source_name(&d.relative));
    for piece in [
        "\" plainTextPath=\"internal://",
        &sg,
        ".txt\" creationDateTime=\"",
        now,
        "\"><Description>",
    ] {
        x.push_str(piece);
    }
    push_escaped(x, &d.relative);
    x.push_str(" (");
    push_escaped(x, d.transcript.format.as_str());
    x.push_str(")</Description>");
    let m = &d.transcript.meta;
    // Each value once: most codings repeat a value the document already used.
    let mut note_used = |dim: &str, value: &str| match used.get_mut(dim) {
        Some(values) => {
            if !values.contains(value) {
                values.insert(value.to_string());
            }
        }
        None => {
            used.insert(dim.to_string(), BTreeSet::from([value.to_string()]));
        }
    };
    for s in &d.sidecars {
        for dims in s.tags.values() {
            for (dim, vals) in dims {
                for v in vals {
                    note_used(dim, v);
                }
            }
        }
        for x in &s.spans {
            note_used(&x.dimension, &x.value);
        }
    }
    // Each part indexed once for all its spans (see `doc_span_warnings`).
    let mut lookup = crate::sidecar::PartLookup::new(&d.transcript);
    for s in &d.sidecars {
        let user = user_guid(&s.annotator.id);
        let when = iso_seconds(&s.modified);
        let who = s.annotator.id.as_str();
        // A selection and its coding; `key` is in pieces, joined into the GUIDs' keys.
        let mut selection = |x: &mut String,
                             key: &[&str],
                             (start, end): (usize, usize),
                             label: &[&str],
                             description: &str,
                             (dimension, value): (&'a str, &'a str)| {
            let keyed = |x: &mut String, kind: &str| {
                let head = [kind, ":", d.relative.as_str(), ":", who, ":"];
                push_guid_of(x, head.into_iter().chain(key.iter().copied()));
            };
            x.push_str("<PlainTextSelection guid=\"");
            keyed(x, "selection");
            x.push_str("\" name=\"");
            for piece in label {
                push_escaped(x, piece);
            }
            let mut digits = itoa::Buffer::new();
            for piece in [
                "\" startPosition=\"",
                digits.format(start),
                "\" endPosition=\"",
            ] {
                x.push_str(piece);
            }
            x.push_str(digits.format(end));
            x.push_str("\" creatingUser=\"");
            for piece in [user.as_str(), "\" creationDateTime=\"", &when, "\">"] {
                x.push_str(piece);
            }
            if !description.is_empty() {
                x.push_str("<Description>");
                push_escaped(x, description);
                x.push_str("</Description>");
            }
            x.push_str("<Coding guid=\"");
            keyed(x, "coding");
            for piece in [
                "\" creatingUser=\"",
                &user,
                "\" creationDateTime=\"",
                &when,
                "\"><CodeRef targetGUID=\"",
            ] {
                x.push_str(piece);
            }
            x.push_str(codes.get(dimension, value));
            x.push_str("\"/></Coding></PlainTextSelection>");
        };
        for (part, dims) in &s.tags {
            let Some(p) = d.transcript.part(*part) else {
                warnings.push(format!(
                    "tags of {} on part {part}, which the transcript does not have, are not exported to qdpx: {}",
                    s.annotator.id, d.relative
                ));
                continue;
            };
            let len = p.text().chars().count();
            let (Some(start), Some(end)) = (
                to_source(of_part(*part), 0, false),
                to_source(of_part(*part), len, true),
            ) else {
                warnings.push(format!(
                    "tags of {} on part {part}, which is empty, are not exported to qdpx (a selection needs text): {}",
                    s.annotator.id, d.relative
                ));
                continue;
            };
            let part_name = part.to_string();
            for (dim, values) in dims {
                for v in values {
                    selection(
                        x,
                        &["tag:", &part_name, ":", dim, ":", v],
                        (start, end),
                        &[&part_name, ": ", dim, " = ", v],
                        "",
                        (dim, v),
                    );
                    annotations += 1;
                }
            }
        }
        for span in &s.spans {
            let placed = lookup.placed(span);
            let (Some(start), Some(end), true) = (
                to_source(of_part(span.part), span.start, false),
                to_source(of_part(span.part), span.end, true),
                placed,
            ) else {
                warnings.push(format!(
                    "span {} of {} does not match the transcript's text and is not exported to qdpx: {}",
                    span.id, s.annotator.id, d.relative
                ));
                continue;
            };
            let (kept, mark) = crate::annotation::ellipsis_cut(&span.quote, 60);
            selection(
                x,
                &["span:", &span.id],
                (start, end),
                &[kept, mark],
                &span.note,
                (&span.dimension, &span.value),
            );
            annotations += 1;
        }
    }
    // The case's code codes the whole document: how QualCoder and NVivo link a case to text.
    let chars = text.chars().count();
    if let Some(q) = &m.question_by
        && chars > 0
    {
        x.push_str("<PlainTextSelection guid=\"");
        push_guid(x, &["case-selection:", &d.relative]);
        x.push_str("\" name=\"Case: ");
        push_escaped(x, q);
        for piece in [
            "\" startPosition=\"0\" endPosition=\"",
            itoa::Buffer::new().format(chars),
            "\"><Coding guid=\"",
        ] {
            x.push_str(piece);
        }
        push_guid(x, &["case-coding:", &d.relative]);
        x.push_str("\"><CodeRef targetGUID=\"");
        push_guid(x, &["case:", q]);
        x.push_str("\"/></Coding></PlainTextSelection>");
    }
    // Each annotator's memo on the document as a Note the source refers to.
    for sc in &d.sidecars {
        if !sc.memo.trim().is_empty() {
            let ng = guid(&format!("memo:{}:{}", d.relative, sc.annotator.id));
            put!(x, "<NoteRef targetGUID=\"{ng}\"/>");
            memos.push((
                ng,
                format!(
                    "Memo of {} on {}",
                    sc.annotator.id,
                    source_name(&d.relative)
                ),
                user_guid(&sc.annotator.id),
                sc.memo.clone(),
            ));
        }
    }
    let date = |d: Option<chrono::NaiveDate>| {
        d.map_or(std::borrow::Cow::Borrowed(""), |d| {
            let mut out = String::with_capacity(10);
            push_date(&mut out, d);
            std::borrow::Cow::Owned(out)
        })
    };
    let values: [std::borrow::Cow<'_, str>; 12] = [
        m.title.as_str().into(),
        m.meeting.as_deref().unwrap_or_default().into(),
        date(m.meeting_date),
        date(m.session_date),
        m.reference.as_deref().unwrap_or_default().into(),
        m.question_by.as_deref().unwrap_or_default().into(),
        m.organisation.as_deref().unwrap_or_default().into(),
        m.asked_of.as_deref().unwrap_or_default().into(),
        m.answered_by.as_deref().unwrap_or_default().into(),
        if m.supplementary { "true" } else { "false" }.into(),
        m.status.as_str().into(),
        d.relative.as_str().into(),
    ];
    for ((value, (_, kind)), variable) in values.iter().zip(VARIABLES).zip(variable_guids()) {
        if !value.is_empty() {
            push_variable_value(x, variable, kind, value);
        }
    }
    x.push_str("</TextSource>");
    let part = DocumentPart {
        source: sg,
        warnings,
        annotations,
        memos,
        case: m.question_by.clone().map(|q| (q, m.organisation.clone())),
        used,
        annotators: d
            .sidecars
            .iter()
            .map(|s| (s.annotator.id.clone(), s.annotator.name.clone()))
            .collect(),
    };
    (part, text)
}

/// The codebook as REFI-QDA codebook XML (`.qdc`).
pub fn qdc(codebook: &Codebook) -> String {
    let tree = code_tree(codebook, &BTreeMap::new(), &[]);
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<CodeBook xmlns=\"urn:QDA-XML:codebook:1.0\" origin=\"Marginalia {}\"><Codes>{}</Codes></CodeBook>\n",
        env!("CARGO_PKG_VERSION"),
        tree.xml
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A position between two paragraphs of a part maps into the source's gap and back to the
    /// same place, as far as the shorter gap allows; positions in paragraphs map one to one.
    #[test]
    fn positions_between_paragraphs_go_and_come_back() {
        let part = PartId::ANSWER;
        // Part "Ab\n\nCd"; source "…Ab\n\n\n\nCd" with the paragraphs at 10 and 16.
        let a = Segment {
            src: 10,
            part,
            off: 0,
            len: 2,
        };
        let b = Segment {
            src: 16,
            part,
            off: 4,
            len: 2,
        };
        let mine = [a, b];
        for (p, end) in (0..6).map(|p| (p, false)).chain((1..=6).map(|p| (p, true))) {
            let src = to_source(&mine, p, end).unwrap();
            let back = if src >= a.src + a.len && src <= b.src {
                gap_position(&a, &b, src)
            } else if src < b.src {
                a.off + src - a.src
            } else {
                b.off + src - b.src
            };
            assert_eq!(back, p, "p {p} end {end} src {src}");
        }
        // A source gap shorter than the part's: as far as it goes.
        let short = Segment { src: 13, ..b };
        assert_eq!(to_source(&[a, short], 4, true), Some(13));
        assert_eq!(gap_position(&a, &short, 13), 3);
    }

    /// The search for a part's text finds what `str::find` finds: the first whole occurrence,
    /// after false starts, in text of repeats (where its comparisons run out and `str::find`
    /// finishes), with accents, and nothing when the text is absent.
    /// A GUID hashed from pieces is the GUID of the key they make, short keys and long.
    #[test]
    fn guids_of_pieces_are_guids_of_their_key() {
        let long = "x".repeat(700);
        for pieces in [
            vec![
                "selection",
                ":",
                "2004/a.txt",
                ":",
                "dana",
                ":",
                "span:",
                "s1",
            ],
            vec![],
            vec![long.as_str(), "tail"],
        ] {
            let mut out = String::new();
            push_guid(&mut out, &pieces);
            assert_eq!(out, guid(&pieces.concat()));
            let hex = blake3::hash(pieces.concat().as_bytes()).to_hex();
            let hex = &hex.as_str()[..32];
            let dashed = format!(
                "{}-{}-{}-{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            );
            assert_eq!(out, dashed);
        }
    }

    #[test]
    fn find_text_is_str_find() {
        let long = "The Mayor said that the budget was set in March. ".repeat(3);
        let repeats = "Fahy said. ".repeat(2_000);
        let mut repeats_then = repeats.clone();
        repeats_then.push_str("Fahy said no.");
        let needle_of_repeats = format!("{}no.", "Fahy said. ".repeat(40));
        let cases: Vec<(String, String)> = vec![
            (format!("header\n\n{long}"), long.clone()),
            (format!("{}{long}", &long[..60]), long.clone()),
            (
                long.clone(),
                "absent text that is longer than the prefix".into(),
            ),
            (
                format!("Café société é{long}Crème brûlée and more words here"),
                "Crème brûlée and more words here".into(),
            ),
            (repeats.clone(), needle_of_repeats.clone()),
            (
                repeats_then.clone(),
                "Fahy said. Fahy said. Fahy said no.".into(),
            ),
            (
                repeats_then,
                format!("{}Fahy said no.", "Fahy said. ".repeat(500)),
            ),
            ("short".into(), "or".into()),
            (String::new(), "x".into()),
        ];
        for (hay, needle) in &cases {
            assert_eq!(
                find_text(hay, needle),
                hay.find(needle.as_str()),
                "{:?}",
                &needle[..needle.len().min(40)]
            );
        }
    }

    /// Every code a coding can name (a value of the codebook, an entity, a value only used in
    /// sidecars, a dimension the codebook lacks) has the GUID [`code_guid`] gives it, so a
    /// document's selections can be written before the tree is built.
    #[test]
    fn code_guids_are_the_trees() {
        let codebook = Codebook::builtin();
        let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for d in &codebook.dimensions {
            used.entry(d.id.clone())
                .or_default()
                .insert("not-in-the-codebook".to_string());
        }
        used.entry("unknown_dimension".to_string())
            .or_default()
            .insert("x".to_string());
        let tree = code_tree(&codebook, &used, &[]);
        let mut checked = 0;
        for (dimension, (_, values)) in &tree.guids {
            for (value, g) in values {
                assert_eq!(&code_guid(dimension, value), g, "{dimension}={value}");
                checked += 1;
            }
        }
        for (dimension, values) in &used {
            for value in values {
                assert!(
                    tree.guids[dimension].1.contains_key(value),
                    "{dimension}={value}"
                );
            }
        }
        assert!(checked > used.len(), "{checked}");
    }
}
