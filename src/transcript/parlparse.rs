//! TheyWorkForYou's ParlParse XML (`<publicwhip>` files such as `lmqs2019-04-10.xml` or
//! `answers2026-02-23.xml`): every minor heading with its questions and replies is one
//! question/answer transcript, addressed as `<file>.xml#<item id>`.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use quick_xml::events::Event;

use super::turns::Turn;
use super::{AnswerStatus, Container, Format, Metadata, Transcript, content_hash};

/// One item of a ParlParse file, before it becomes a transcript.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item {
    /// Id used after `#` in the virtual path: the heading's number, e.g. `112103`.
    pub id: String,
    /// The minor heading (title).
    pub title: String,
    /// The major heading (department or subject).
    pub department: String,
    /// Askers, in order.
    pub askers: Vec<String>,
    /// Answerers, in order.
    pub answerers: Vec<String>,
    /// Question numbers (`qnum`).
    pub qnums: Vec<String>,
    /// Question paragraphs (a blank paragraph separates questions).
    pub questions: Vec<String>,
    /// Reply paragraphs.
    pub replies: Vec<String>,
    /// Speeches of a debate (`<speech>`): the speaker (empty for narrative) and the paragraphs.
    pub speeches: Vec<(String, Vec<String>)>,
}

/// A parsed ParlParse file: its items, looked up by id in constant time.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// The items in file order.
    pub items: Vec<Item>,
    /// Item id -> index in `items`.
    index: HashMap<String, usize>,
    /// What every item of the file should say (a superseded file, external entities).
    pub warnings: Vec<String>,
    /// The encoding the file declared (or UTF-8).
    pub encoding: String,
}

impl Parsed {
    /// The item with this id.
    pub fn get(&self, id: &str) -> Option<&Item> {
        self.index.get(id).map(|&i| &self.items[i])
    }

    /// The items in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, Item> {
        self.items.iter()
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when the file has no item.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// True for a file name that holds ParlParse XML.
pub fn is_parlparse_name(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".xml")
}

/// Splits a virtual path `dir/file.xml#id` into the file and the id.
pub fn split_virtual(path: &Path) -> Option<(PathBuf, String)> {
    // Asked of every document read: one search of the bytes answers for nearly all of them
    // before the name is taken out of the path.
    memchr::memmem::find(path.as_os_str().as_encoded_bytes(), b".xml#")?;
    let name = path.file_name()?.to_str()?;
    let (file, id) = name.split_once(".xml#")?;
    Some((path.with_file_name(format!("{file}.xml")), id.to_string()))
}

/// The virtual path of an item.
pub fn virtual_path(file: &Path, id: &str) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push("#");
    name.push(id);
    file.with_file_name(name)
}

/// What opening the file itself says: its items are the transcripts.
pub fn listing(file: &Path, parsed: &Parsed) -> String {
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    if parsed.is_empty() {
        return "a ParlParse file with no items (no headings, questions or speeches)".to_string();
    }
    let shown: Vec<String> = parsed
        .iter()
        .take(5)
        .map(|i| format!("{name}#{} ({})", i.id, i.title))
        .collect();
    let more = if parsed.len() > 5 {
        format!(" and {} more", parsed.len() - 5)
    } else {
        String::new()
    };
    format!(
        "a ParlParse file of {} item(s), each a transcript: open one as {}{more}",
        parsed.len(),
        shown.join(", ")
    )
}

/// `uk.org.publicwhip/wrans/2026-02-23.112103.h` -> `112103`.
fn short_id(id: &str) -> Option<String> {
    let last = id.rsplit('/').next()?;
    let mut pieces: Vec<&str> = last.split('.').collect();
    if pieces.len() >= 2 {
        pieces.remove(0); // the date
        pieces.pop(); // h, q0, r0...
    }
    // No dots in ids: `file.xml#id.annotator.ron` must split unambiguously.
    let s = pieces.join("-").replace('.', "-");
    (!s.is_empty()).then_some(s)
}

/// Most characters that entities declared in a file may expand to, all together: a
/// "billion laughs" file is refused instead of filling memory.
const MAX_ENTITY_EXPANSION: usize = 8 * 1024 * 1024;
/// Deepest nesting of entities inside entities.
const MAX_ENTITY_DEPTH: usize = 16;

/// The entities a file declared in its DOCTYPE, and what expanding them has cost so far.
#[derive(Default)]
struct Entities {
    /// Internal entities: name -> replacement text (may reference other entities).
    declared: HashMap<String, String>,
    /// External entities (`SYSTEM` / `PUBLIC`): never fetched, never read.
    external: Vec<String>,
    expanded: usize,
    external_used: bool,
}

impl Entities {
    /// Reads `<!ENTITY name "value">` declarations from a DOCTYPE's internal subset.
    fn declare(&mut self, doctype: &str) {
        let mut rest = doctype;
        while let Some(at) = rest.find("<!ENTITY") {
            rest = &rest[at + "<!ENTITY".len()..];
            let decl = rest.trim_start();
            if decl.starts_with('%') {
                continue; // parameter entities only shape the DTD
            }
            let name_len = decl.find(|c: char| c.is_whitespace()).unwrap_or(decl.len());
            let name = &decl[..name_len];
            let after = decl[name_len..].trim_start();
            if after.starts_with("SYSTEM") || after.starts_with("PUBLIC") {
                self.external.push(name.to_string());
                continue;
            }
            let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            let body = &after[1..];
            let Some(close) = body.find(quote) else {
                continue;
            };
            // The first declaration of a name wins, as XML says.
            self.declared
                .entry(name.to_string())
                .or_insert_with(|| body[..close].to_string());
        }
    }

    /// Appends what `&name;` stands for to `out`.
    fn expand(&mut self, name: &str, out: &mut String, depth: usize) -> Result<(), ParlParseError> {
        if depth > MAX_ENTITY_DEPTH {
            return Err(ParlParseError::NestedEntities(name.to_string()));
        }
        if let Some(c) = char_ref(name) {
            out.push(c);
            return self.charge(1);
        }
        if let Some(value) = self.declared.get(name).cloned() {
            let mut rest = value.as_str();
            while let Some(amp) = rest.find('&') {
                out.push_str(&rest[..amp]);
                self.charge(amp)?;
                let after = &rest[amp + 1..];
                match after.find(';') {
                    Some(semi) if semi > 0 => {
                        self.expand(&after[..semi], out, depth + 1)?;
                        rest = &after[semi + 1..];
                    }
                    _ => {
                        out.push('&');
                        rest = after;
                    }
                }
            }
            out.push_str(rest);
            return self.charge(rest.len());
        }
        if let Some(s) = named_entity(name) {
            out.push_str(s);
            return self.charge(s.len());
        }
        if self.external.iter().any(|e| e == name) {
            self.external_used = true;
        }
        Ok(())
    }

    fn charge(&mut self, n: usize) -> Result<(), ParlParseError> {
        self.expanded += n;
        if self.expanded > MAX_ENTITY_EXPANSION {
            return Err(ParlParseError::EntityBomb);
        }
        Ok(())
    }

    /// An attribute's raw value with its references expanded.
    fn unescape(&mut self, raw: &str) -> Result<String, ParlParseError> {
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(amp) = rest.find('&') {
            out.push_str(&rest[..amp]);
            let after = &rest[amp + 1..];
            match after.find(';') {
                Some(semi) if semi > 0 => {
                    self.expand(&after[..semi], &mut out, 0)?;
                    rest = &after[semi + 1..];
                }
                _ => {
                    out.push('&');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// Why a ParlParse file could not be read (one line; the caller names the file).
#[derive(Debug, thiserror::Error)]
pub enum ParlParseError {
    /// The file's times cannot be read.
    #[error("{0}")]
    Io(#[source] std::io::Error),
    /// The file cannot be read, or is too large, or no regular file.
    #[error(transparent)]
    Read(#[from] crate::fsutil::ReadError),
    /// Neither a BOM nor a declaration names an encoding, and the bytes are not UTF-8.
    #[error("not UTF-8 XML (invalid byte at {0}) and no other encoding declared")]
    NotUtf8(usize),
    /// Bytes that are not in the declared encoding.
    #[error("bytes that are not {0} in the file")]
    NotInEncoding(&'static str),
    /// The parser's own error.
    #[error("not valid XML at byte {at}: {message}")]
    Syntax {
        /// Where.
        at: u64,
        /// The parser's message.
        message: String,
    },
    /// Entities within entities past the limit.
    #[error("entities nested more than {MAX_ENTITY_DEPTH} deep (&{0};): refused")]
    NestedEntities(String),
    /// Entities expanding past the limit.
    #[error(
        "entities expand to more than {} MiB (an entity expansion bomb?): refused",
        MAX_ENTITY_EXPANSION / (1024 * 1024)
    )]
    EntityBomb,
    /// No `<publicwhip>` root.
    #[error("not a ParlParse file (no <publicwhip> element)")]
    NotParlParse,
    /// The text ends inside an element.
    #[error("the file ends inside an element (truncated?)")]
    Truncated,
}

/// `#8212` / `#x2014` -> the char.
fn char_ref(name: &str) -> Option<char> {
    let n = name.strip_prefix('#')?;
    let code = match n.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => n.parse().ok()?,
    };
    char::from_u32(code)
}

/// The text of an HTML named entity (`mdash` -> `—`, `euro` -> `€`), from the HTML5 list of
/// every named character reference.
pub fn named_entity(name: &str) -> Option<&'static str> {
    super::html::named_entity(name)
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum In {
    Nothing,
    Major,
    Minor,
    Question,
    Reply,
    Speech,
}

/// The encoding named in an XML declaration (`<?xml version="1.0" encoding="ISO-8859-1"?>`).
fn declared_encoding(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let head = &bytes[..bytes.len().min(200)];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?;
    let rest = rest.trim_start();
    let quote = rest.chars().next()?;
    let value = rest[1..].split(quote).next()?;
    encoding_rs::Encoding::for_label(value.trim().as_bytes())
}

/// Decodes a ParlParse file's bytes: a BOM, else the encoding its XML declaration names, else
/// UTF-8. Returns the text and the encoding's name.
pub fn decode_xml(bytes: &[u8]) -> Result<(String, String), ParlParseError> {
    let (encoding, body) = match encoding_rs::Encoding::for_bom(bytes) {
        Some((e, len)) => (e, &bytes[len..]),
        None => (
            declared_encoding(bytes).unwrap_or(encoding_rs::UTF_8),
            bytes,
        ),
    };
    if encoding == encoding_rs::UTF_8 {
        return match std::str::from_utf8(body) {
            Ok(s) => Ok((s.to_string(), "UTF-8".to_string())),
            Err(e) => Err(ParlParseError::NotUtf8(e.valid_up_to())),
        };
    }
    let (text, had_errors) = encoding.decode_without_bom_handling(body);
    if had_errors {
        return Err(ParlParseError::NotInEncoding(encoding.name()));
    }
    Ok((text.into_owned(), encoding.name().to_string()))
}

/// Parses a ParlParse file into its items. Inline markup (`<i>`, `<a>`, tables) becomes plain
/// text; entities are resolved: XML's, those the DOCTYPE declares and every HTML named one.
/// External entities are never fetched.
#[expect(
    clippy::too_many_lines,
    reason = "one loop over the XML events with the parser's state; split, the state would travel through arguments"
)]
pub fn parse(xml: &str) -> Result<Parsed, ParlParseError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut entities = Entities::default();
    let mut items: Vec<Item> = Vec::new();
    let mut department = String::new();
    let mut state = In::Nothing;
    let mut text = String::new();
    let mut paragraph = String::new();
    let mut saw_root = false;
    let mut superseded = false;
    let mut depth_p = 0usize;
    let mut open = 0usize;
    // A major heading opens an item for the speeches or questions under it until a minor
    // heading comes (debates often have none).
    let mut major_id: Option<String> = None;
    loop {
        let event = reader.read_event().map_err(|e| ParlParseError::Syntax {
            at: reader.buffer_position(),
            message: e.to_string(),
        })?;
        match event {
            Event::DocType(d) => {
                entities.declare(&d.xml10_content());
            }
            Event::Start(e) => {
                open += 1;
                let name = e.local_name().as_ref().to_string();
                let mut attr = |key: &str| -> Result<Option<String>, ParlParseError> {
                    match e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == key)
                    {
                        Some(a) => entities.unescape(&a.value).map(Some),
                        None => Ok(None),
                    }
                };
                match name.as_str() {
                    "publicwhip" => {
                        saw_root = true;
                        superseded = attr("latest")?.is_some_and(|v| v == "no");
                    }
                    "major-heading" => {
                        state = In::Major;
                        text.clear();
                        major_id = Some(
                            attr("id")?
                                .and_then(|i| short_id(&i))
                                .unwrap_or_else(|| format!("item{}", items.len() + 1)),
                        );
                    }
                    "minor-heading" => {
                        state = In::Minor;
                        text.clear();
                        major_id = None;
                        let id = attr("id")?
                            .and_then(|i| short_id(&i))
                            .unwrap_or_else(|| format!("item{}", items.len() + 1));
                        items.push(Item {
                            id,
                            department: department.clone(),
                            ..Item::default()
                        });
                    }
                    "ques" | "reply" | "speech" => {
                        state = match name.as_str() {
                            "ques" => In::Question,
                            "reply" => In::Reply,
                            _ => In::Speech,
                        };
                        if items.is_empty() || major_id.is_some() {
                            let id = major_id
                                .take()
                                .or_else(|| attr("id").ok().flatten().and_then(|i| short_id(&i)))
                                .unwrap_or_else(|| format!("item{}", items.len() + 1));
                            items.push(Item {
                                id,
                                title: department.clone(),
                                department: department.clone(),
                                ..Item::default()
                            });
                        }
                        let who = attr("speakername")?.unwrap_or_default();
                        let item = items.last_mut().expect("pushed above");
                        match state {
                            In::Speech => item.speeches.push((who, Vec::new())),
                            In::Question | In::Reply => {
                                let list = if state == In::Question {
                                    &mut item.askers
                                } else {
                                    &mut item.answerers
                                };
                                if !who.is_empty() && !list.contains(&who) {
                                    list.push(who);
                                }
                                if state == In::Question && !item.questions.is_empty() {
                                    item.questions.push(String::new());
                                }
                            }
                            _ => {}
                        }
                    }
                    "p" => {
                        depth_p += 1;
                        paragraph.clear();
                        if state == In::Question
                            && let Some(q) = attr("qnum")?
                            && let Some(item) = items.last_mut()
                            && !item.qnums.contains(&q)
                        {
                            item.qnums.push(q);
                        }
                    }
                    "table" => {
                        depth_p += 1;
                        paragraph.clear();
                    }
                    "tr" | "br" => paragraph.push('\n'),
                    "td" | "th" => paragraph.push(' '),
                    _ => {}
                }
            }
            Event::Empty(e) => {
                if matches!(e.local_name().as_ref(), "br" | "tr") {
                    paragraph.push('\n');
                }
            }
            Event::End(e) => {
                open = open.saturating_sub(1);
                match e.local_name().as_ref() {
                    "major-heading" => {
                        department = clean(&text);
                        state = In::Nothing;
                    }
                    "minor-heading" => {
                        if let Some(item) = items.last_mut() {
                            item.title = clean(&text);
                        }
                        state = In::Nothing;
                    }
                    "ques" | "reply" | "speech" => state = In::Nothing,
                    "p" | "table" => {
                        depth_p = depth_p.saturating_sub(1);
                        let p = clean(&paragraph);
                        if let Some(item) = items.last_mut()
                            && !p.is_empty()
                        {
                            match state {
                                In::Question => item.questions.push(p),
                                In::Reply => item.replies.push(p),
                                In::Speech => {
                                    if let Some(s) = item.speeches.last_mut() {
                                        s.1.push(p);
                                    }
                                }
                                _ => {}
                            }
                        }
                        paragraph.clear();
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                let s = t.xml10_content();
                push_text(state, depth_p, &mut text, &mut paragraph, &s);
            }
            Event::CData(t) => {
                let s = t.into_inner().into_owned();
                push_text(state, depth_p, &mut text, &mut paragraph, &s);
            }
            Event::GeneralRef(r) => {
                let name: String = r.to_string();
                let mut s = String::new();
                match name.as_str() {
                    "amp" => s.push('&'),
                    "lt" => s.push('<'),
                    "gt" => s.push('>'),
                    "quot" => s.push('"'),
                    "apos" => s.push('\''),
                    _ => entities.expand(&name, &mut s, 0)?,
                }
                push_text(state, depth_p, &mut text, &mut paragraph, &s);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(ParlParseError::NotParlParse);
    }
    if open > 0 {
        return Err(ParlParseError::Truncated);
    }
    // Keep ids unique within the file.
    let mut index = HashMap::with_capacity(items.len());
    for (i, item) in items.iter_mut().enumerate() {
        if index.contains_key(&item.id) {
            item.id = format!("{}-{}", item.id, i + 1);
        }
        index.insert(item.id.clone(), i);
    }
    let mut warnings = Vec::new();
    if superseded {
        warnings.push(
            "this file is superseded (latest=\"no\"): a later version of the same day exists, read that one"
                .to_string(),
        );
    }
    if entities.external_used {
        warnings.push(format!(
            "external entities ({}) are never fetched: left out of the text",
            entities.external.join(", ")
        ));
    }
    Ok(Parsed {
        items,
        index,
        warnings,
        encoding: "UTF-8".to_string(),
    })
}

fn push_text(state: In, depth_p: usize, heading: &mut String, paragraph: &mut String, s: &str) {
    match state {
        In::Major | In::Minor => heading.push_str(s),
        In::Question | In::Reply | In::Speech if depth_p > 0 => paragraph.push_str(s),
        _ => {}
    }
}

/// Collapses runs of spaces and trims each line.
fn clean(s: &str) -> String {
    s.split('\n')
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `answers2026-02-23.xml` -> 2026-02-23.
fn date_of(file: &Path) -> Option<chrono::NaiveDate> {
    let name = file.file_stem()?.to_str()?;
    let start = name.find(|c: char| c.is_ascii_digit())?;
    let d = name.get(start..start + 10)?;
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()
}

/// The transcript of an item of a file; the file's warnings and encoding come from `parsed`.
pub fn transcript(file: &Path, item: &Item, parsed: &Parsed) -> Transcript {
    let encoding = format!("{} (XML)", parsed.encoding);
    let warnings = &parsed.warnings;
    let name = virtual_path(file, &item.id)
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let mut warnings = warnings.to_vec();
    if !item.speeches.is_empty() && item.questions.is_empty() && item.replies.is_empty() {
        return debate(file, name, item, warnings, encoding);
    }
    let question = super::normalize(&item.questions.join("\n\n"));
    let answer = super::normalize(&item.replies.join("\n\n"));
    let joined = |v: &[String]| (!v.is_empty()).then(|| v.join(" and "));
    let meta = Metadata {
        title: item.title.clone(),
        meeting: None,
        meeting_date: None,
        session_date: date_of(file),
        reference: (!item.qnums.is_empty()).then(|| item.qnums.join(", ")),
        question_by: joined(&item.askers),
        organisation: None,
        asked_of: (!item.department.is_empty()).then(|| item.department.clone()),
        answered_by: joined(&item.answerers),
        supplementary: false,
        status: if answer.is_empty() {
            AnswerStatus::Unanswered
        } else {
            AnswerStatus::Answered
        },
        answer_date: None,
    };
    if question.is_empty() && answer.is_empty() {
        warnings.push("the item has no question, answer or speech".to_string());
    }
    let full = format!(
        "{}\n\n{}\n\n{}\n\n{}",
        item.title, item.department, question, answer
    );
    let parts = super::question_and_answer(&meta, question, answer);
    let normalized = super::normalize(&full);
    Transcript {
        file_name: name,
        format: Format::ParlParse,
        container: Container::Xml,
        meta,
        parts,
        encoding,
        warnings,
        hash: content_hash(&normalized),
        chars: normalized.chars().count(),
        layout: None,
    }
}

/// A debate's item: its speeches as speaker turns, exchanges as in an interview.
fn debate(
    file: &Path,
    name: String,
    item: &Item,
    mut warnings: Vec<String>,
    encoding: String,
) -> Transcript {
    let mut turns: Vec<Turn> = Vec::new();
    for (speaker, paragraphs) in &item.speeches {
        // Narrative ("The House divided.") continues the turn before it.
        let who = if speaker.is_empty() {
            match turns.last() {
                Some(t) => t.speaker.to_string(),
                None => "Narrative".to_string(),
            }
        } else {
            speaker.clone()
        };
        let mut lines: Vec<Cow<str>> = Vec::new();
        for p in paragraphs {
            if !lines.is_empty() {
                lines.push(Cow::Borrowed(""));
            }
            lines.extend(p.split('\n').map(|l| Cow::Owned(l.to_string())));
        }
        match turns.last_mut() {
            Some(t) if t.speaker == who => {
                t.lines.push(Cow::Borrowed(""));
                t.lines.extend(lines);
            }
            _ => turns.push(Turn {
                speaker: Cow::Owned(who),
                qnum: None,
                lines,
                start_ms: None,
                end_ms: None,
            }),
        }
    }
    let body: Vec<String> = item
        .speeches
        .iter()
        .map(|(s, ps)| format!("{s}\n{}", ps.join("\n\n")))
        .collect();
    let full = format!(
        "{}\n\n{}\n\n{}",
        item.title,
        item.department,
        body.join("\n\n")
    );
    let normalized = super::normalize(&full);
    let (format, mut meta, parts, layout) = match super::turns::build(&[], turns, "") {
        Some(t) => (
            Format::SpeakerTurns,
            t.meta,
            t.parts,
            Some(Box::new(t.layout)),
        ),
        None => {
            warnings.push(
                "a debate item with a single speaker: opened as one part of text".to_string(),
            );
            let speaker = item
                .speeches
                .iter()
                .map(|s| s.0.clone())
                .find(|s| !s.is_empty());
            let text = super::normalize(
                &item
                    .speeches
                    .iter()
                    .flat_map(|s| s.1.iter().cloned())
                    .collect::<Vec<_>>()
                    .join("\n\n"),
            );
            let part = super::Part::new(super::PartId::TEXT, speaker, text);
            (Format::Plain, Metadata::default(), vec![part], None)
        }
    };
    meta.title = item.title.clone();
    meta.session_date = date_of(file);
    meta.asked_of = (!item.department.is_empty() && item.department != item.title)
        .then(|| item.department.clone());
    Transcript {
        file_name: name,
        format,
        container: Container::Xml,
        meta,
        parts,
        encoding,
        warnings,
        hash: content_hash(&normalized),
        chars: normalized.chars().count(),
        layout,
    }
}

/// A parsed file: its path, modification time and items.
type Cached = (PathBuf, std::time::SystemTime, Arc<Parsed>);

thread_local! {
    /// The last file parsed on this thread: items of one file are usually read one after another.
    static LAST: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

/// The items of a file, parsed once per thread while the file is unchanged.
pub fn items(file: &Path) -> Result<Arc<Parsed>, ParlParseError> {
    let modified = std::fs::metadata(file)
        .and_then(|m| m.modified())
        .map_err(ParlParseError::Io)?;
    let cached = LAST.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(p, t, _)| p == file && *t == modified)
            .map(|(_, _, items)| items.clone())
    });
    if let Some(items) = cached {
        return Ok(items);
    }
    let bytes = crate::fsutil::read_limited(file, super::MAX_TRANSCRIPT_BYTES)?;
    let (text, encoding) = decode_xml(&bytes)?;
    let mut parsed = parse(&text)?;
    parsed.encoding = encoding;
    let parsed = Arc::new(parsed);
    LAST.with(|c| *c.borrow_mut() = Some((file.to_path_buf(), modified, parsed.clone())));
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<publicwhip>
<major-heading id="uk.org.publicwhip/wrans/2026-02-23.112100.mh" nospeaker="true">Home Office</major-heading>
<minor-heading id="uk.org.publicwhip/wrans/2026-02-23.112103.h">Police: Recruitment &amp; Retention</minor-heading>
<ques id="uk.org.publicwhip/wrans/2026-02-23.112103.q0" person_id="uk.org.publicwhip/person/25000" speakername="Jane Smith" url="https://example.org/1">
<p qnum="112103">To ask the Secretary of State for the Home Department, how many police officers were recruited in <i>London</i> in 2025.</p>
</ques>
<ques id="uk.org.publicwhip/wrans/2026-02-23.112103.q1" person_id="uk.org.publicwhip/person/25001" speakername="Ali Khan" url="https://example.org/2">
<p qnum="112104">To ask the Secretary of State, what the retention rate was.</p>
</ques>
<reply id="uk.org.publicwhip/wrans/2026-02-23.112103.r0" person_id="uk.org.publicwhip/person/24000" speakername="Dame Diana Johnson">
<p>The Government publishes figures twice a year; see <a href="https://example.org">the statistics</a>.</p>
<table><tr><td>2024</td><td>1,200</td></tr><tr><td>2025</td><td>1,350</td></tr></table>
<p>Retention is &#8220;stable&#8221;.</p>
</reply>
<minor-heading id="uk.org.publicwhip/wrans/2026-02-23.112200.h">Visas</minor-heading>
<ques id="uk.org.publicwhip/wrans/2026-02-23.112200.q0" speakername="Jane Smith"><p qnum="112200">To ask about visas.</p></ques>
</publicwhip>"#;

    #[test]
    fn items_of_a_file() {
        let parsed = parse(SAMPLE).unwrap();
        let items = &parsed.items;
        assert_eq!(items.len(), 2);
        let a = &items[0];
        assert_eq!(a.id, "112103");
        assert_eq!(a.title, "Police: Recruitment & Retention");
        assert_eq!(a.department, "Home Office");
        assert_eq!(a.askers, ["Jane Smith", "Ali Khan"]);
        assert_eq!(a.answerers, ["Dame Diana Johnson"]);
        assert_eq!(a.qnums, ["112103", "112104"]);
        let t = transcript(Path::new("d/answers2026-02-23.xml"), a, &parsed);
        assert_eq!(t.format, Format::ParlParse);
        assert_eq!(t.file_name, "answers2026-02-23.xml#112103");
        assert_eq!(
            t.meta.session_date,
            chrono::NaiveDate::from_ymd_opt(2026, 2, 23)
        );
        assert_eq!(
            t.meta.question_by.as_deref(),
            Some("Jane Smith and Ali Khan")
        );
        assert_eq!(t.meta.asked_of.as_deref(), Some("Home Office"));
        assert_eq!(
            t.question(),
            "To ask the Secretary of State for the Home Department, how many police officers were recruited in London in 2025.\n\nTo ask the Secretary of State, what the retention rate was."
        );
        assert!(
            t.answer()
                .starts_with("The Government publishes figures twice a year; see the statistics.")
        );
        assert!(t.answer().contains("Retention is “stable”."));
        assert!(t.answer().contains("2024 1,200"), "{}", t.answer());
        let b = transcript(Path::new("d/answers2026-02-23.xml"), &items[1], &parsed);
        assert_eq!(b.meta.status, AnswerStatus::Unanswered);
        assert_eq!(b.meta.title, "Visas");
    }

    #[test]
    fn virtual_paths_and_errors() {
        let v = virtual_path(Path::new("d/answers2026-02-23.xml"), "112103");
        assert_eq!(v, Path::new("d/answers2026-02-23.xml#112103"));
        assert_eq!(
            split_virtual(&v),
            Some((PathBuf::from("d/answers2026-02-23.xml"), "112103".into()))
        );
        let e = parse("<html></html>").unwrap_err();
        assert!(matches!(e, ParlParseError::NotParlParse), "{e}");
        assert!(e.to_string().contains("not a ParlParse file"), "{e}");
        let e = parse("<publicwhip><p>a</b></publicwhip>").unwrap_err();
        assert!(matches!(e, ParlParseError::Syntax { .. }), "{e}");
        assert!(e.to_string().contains("not valid XML"), "{e}");
    }
}
