//! Word (`.docx`) and OpenDocument (`.odt`) files: a zip archive whose main XML part holds the
//! paragraphs. Each paragraph becomes a paragraph of text; in Word files a paragraph that opens
//! with a short bold run (`Jane Smith` in bold, then the words) reads as a speaker label, as a
//! colon-terminated one does. The text is then read like a `.txt` file.
//!
//! Archives come from others: the number of entries, the size an entry claims and the bytes it
//! really inflates to are bounded, entry names that would leave the archive are refused, and
//! entities are never expanded beyond XML's own.

use std::io::{Cursor, Read};

use quick_xml::events::Event;
use zip::ZipArchive;

use super::Extracted;

/// Most entries an archive may have (a Word file has about a dozen).
const MAX_ENTRIES: usize = 10_000;
/// Largest XML part read, inflated.
const MAX_PART_BYTES: u64 = 64 * 1024 * 1024;
/// Longest bold run read as a speaker label.
const MAX_LABEL_CHARS: usize = 60;

/// Why a Word or OpenDocument file could not be read (one line; the caller names the file).
#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    /// Not a zip archive.
    #[error("not a readable zip archive (corrupt or truncated?): {0}")]
    NotZip(#[source] zip::result::ZipError),
    /// More entries than the limit.
    #[error("the archive has {0} entries, over the limit of {MAX_ENTRIES}: refused")]
    TooManyEntries(usize),
    /// An entry the zip reader cannot read.
    #[error("a corrupt zip entry: {0}")]
    CorruptEntry(#[source] zip::result::ZipError),
    /// An entry name such as `../x`.
    #[error("an entry name leaves the archive ({0:?}): refused")]
    EscapingName(String),
    /// The document part is missing.
    #[error("no {name} in the archive: not {what}")]
    NoPart {
        /// The part's entry name.
        name: String,
        /// What kind of document has it.
        what: String,
    },
    /// The part claims more bytes than the limit.
    #[error(
        "{name} claims {size} bytes, over the limit of {MAX_PART_BYTES} (a zip bomb?): refused"
    )]
    PartTooLarge {
        /// The part.
        name: String,
        /// Its claimed size.
        size: u64,
    },
    /// The part cannot be inflated.
    #[error("{name} cannot be inflated (corrupt archive?): {source}")]
    Inflate {
        /// The part.
        name: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The part inflates past the limit though its header claimed less.
    #[error("{0} inflates to more than {MAX_PART_BYTES} bytes (a zip bomb?): refused")]
    Bomb(String),
    /// The part is not UTF-8.
    #[error("{0} is not UTF-8 XML")]
    NotUtf8(String),
    /// The part's XML is broken.
    #[error("the document's XML is not valid at byte {at}: {message}")]
    Xml {
        /// Where.
        at: u64,
        /// The parser's message.
        message: String,
    },
    /// A DOCTYPE, refused so that no entity is declared or fetched.
    #[error("the document's XML declares a DOCTYPE: refused")]
    Doctype,
}

fn open(bytes: &[u8]) -> Result<ZipArchive<Cursor<&[u8]>>, OfficeError> {
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(OfficeError::NotZip)?;
    if archive.len() > MAX_ENTRIES {
        return Err(OfficeError::TooManyEntries(archive.len()));
    }
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(OfficeError::CorruptEntry)?;
        if entry.enclosed_name().is_none() {
            return Err(OfficeError::EscapingName(
                entry.name().unwrap_or_default().to_string(),
            ));
        }
    }
    Ok(archive)
}

/// Reads one entry, never more than [`MAX_PART_BYTES`] whatever its header claims.
fn read_part(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    name: &str,
    what: &str,
) -> Result<String, OfficeError> {
    let entry = archive.by_name(name).map_err(|_| OfficeError::NoPart {
        name: name.to_string(),
        what: what.to_string(),
    })?;
    if entry.size() > MAX_PART_BYTES {
        return Err(OfficeError::PartTooLarge {
            name: name.to_string(),
            size: entry.size(),
        });
    }
    let mut buf = Vec::with_capacity(entry.size() as usize);
    entry
        .take(MAX_PART_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|source| OfficeError::Inflate {
            name: name.to_string(),
            source,
        })?;
    if buf.len() as u64 > MAX_PART_BYTES {
        return Err(OfficeError::Bomb(name.to_string()));
    }
    String::from_utf8(buf).map_err(|_| OfficeError::NotUtf8(name.to_string()))
}

/// One paragraph as read: its text, and how much of its start is bold. One buffer, reused for
/// every paragraph of a document: a paragraph costs no allocation of its own.
#[derive(Default)]
struct Paragraph {
    text: String,
    /// Bytes of `text` in the bold runs it opens with, until the first run that is not bold.
    bold: usize,
    /// Whether a bold run opened the paragraph.
    opens_bold: bool,
    /// Whether a run that is not bold has been read.
    plain_seen: bool,
}

impl Paragraph {
    fn clear(&mut self) {
        self.text.clear();
        self.bold = 0;
        self.opens_bold = false;
        self.plain_seen = false;
    }

    fn push(&mut self, s: &str, bold: bool) {
        if bold && !self.plain_seen {
            self.opens_bold = true;
            self.text.push_str(s);
            self.bold = self.text.len();
        } else {
            self.plain_seen |= !bold;
            self.text.push_str(s);
        }
    }

    /// Appends the paragraph's text to `out`; a leading bold label gets the colon a typed label
    /// would have.
    fn write(&self, out: &mut String) {
        let (bold_prefix, rest) = self.text.split_at(self.bold);
        let label = bold_prefix.trim();
        let is_label = self.opens_bold
            && !rest.trim().is_empty()
            && !label.is_empty()
            && label.chars().count() <= MAX_LABEL_CHARS
            && !label.ends_with(':')
            && !rest.trim_start().starts_with(':')
            && !label.ends_with(['.', '?', '!', ','])
            && label.split_whitespace().count() <= 6
            && label.chars().next().is_some_and(char::is_uppercase);
        if is_label {
            out.push_str(label);
            out.push_str(": ");
            out.push_str(rest.trim_start());
        } else {
            out.push_str(&self.text);
        }
    }
}

/// The text of a document as its paragraphs are read: paragraphs separated by blank lines, as
/// joining them would give, written into one buffer.
#[derive(Default)]
struct Output {
    text: String,
    paragraphs: usize,
}

impl Output {
    fn start(&mut self) {
        if self.paragraphs > 0 {
            self.text.push_str("\n\n");
        }
        self.paragraphs += 1;
    }

    fn empty_paragraph(&mut self) {
        self.start();
    }
}

/// Reads paragraphs from a document part. `para` names the paragraph elements, `text` the text
/// runs; Word marks bold with `<w:b/>` in a run's properties.
fn paragraphs(xml: &str, odt: bool) -> Result<String, OfficeError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Output {
        text: String::with_capacity(xml.len() / 2),
        paragraphs: 0,
    };
    let mut buf = Paragraph::default();
    // Whether a paragraph is open; its text is in `buf`.
    let mut para = false;
    let mut bold = false;
    let mut in_text = false;
    let mut in_run_props = false;
    let mut depth_note = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| OfficeError::Xml {
            at: reader.buffer_position(),
            message: e.to_string(),
        })?;
        let push = |para: bool, buf: &mut Paragraph, s: &str, bold: bool| {
            if para {
                buf.push(s, bold);
            }
        };
        match event {
            Event::DocType(_) => {
                return Err(OfficeError::Doctype);
            }
            Event::Start(e) if odt => match e.local_name().as_ref() {
                "p" | "h" if depth_note == 0 => {
                    flush(&mut para, &mut buf, &mut out);
                    para = true;
                }
                "note" => depth_note += 1,
                _ => {}
            },
            Event::Empty(e) if odt => match e.local_name().as_ref() {
                "p" | "h" if depth_note == 0 => {
                    flush(&mut para, &mut buf, &mut out);
                    out.empty_paragraph();
                }
                "s" => {
                    let n = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == "c")
                        .and_then(|a| a.value.parse().ok())
                        .unwrap_or(1usize)
                        .min(1000);
                    push(para, &mut buf, &" ".repeat(n), false);
                }
                "tab" => push(para, &mut buf, "\t", false),
                "line-break" => push(para, &mut buf, "\n", false),
                _ => {}
            },
            Event::Start(e) => match e.local_name().as_ref() {
                "p" => {
                    flush(&mut para, &mut buf, &mut out);
                    para = true;
                }
                "r" => bold = false,
                "rPr" => in_run_props = true,
                "b" if in_run_props => bold = bold_value(&e),
                "t" => in_text = true,
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                "b" if in_run_props => bold = bold_value(&e),
                "tab" => push(para, &mut buf, "\t", bold),
                "br" | "cr" => push(para, &mut buf, "\n", bold),
                "p" => {
                    flush(&mut para, &mut buf, &mut out);
                    out.empty_paragraph();
                }
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "p" | "h" if !odt || depth_note == 0 => flush(&mut para, &mut buf, &mut out),
                "note" if odt => depth_note = depth_note.saturating_sub(1),
                "rPr" => in_run_props = false,
                "t" => in_text = false,
                _ => {}
            },
            Event::Text(t) if (in_text || odt) && depth_note == 0 => {
                push(para, &mut buf, &t.xml10_content(), bold);
            }
            Event::GeneralRef(r) if (in_text || odt) && depth_note == 0 => {
                // XML's own entities and character references; nothing else is expanded.
                let c = match &*r {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    _ => r.resolve_char_ref().ok().flatten(),
                };
                if let Some(c) = c {
                    push(para, &mut buf, c.encode_utf8(&mut [0; 4]), bold);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    flush(&mut para, &mut buf, &mut out);
    Ok(super::normalize::normalize_owned(out.text))
}

fn bold_value(e: &quick_xml::events::BytesStart) -> bool {
    // `<w:b/>` is bold; `<w:b w:val="0"/>` or `"false"` turns it off.
    !e.attributes()
        .flatten()
        .any(|a| a.key.local_name().as_ref() == "val" && matches!(&*a.value, "0" | "false" | "off"))
}

fn flush(para: &mut bool, buf: &mut Paragraph, out: &mut Output) {
    if std::mem::take(para) {
        out.start();
        buf.write(&mut out.text);
        buf.clear();
    }
}

/// The text of a Word document (`word/document.xml`).
pub fn docx(bytes: &[u8]) -> Result<Extracted, OfficeError> {
    let mut archive = open(bytes)?;
    let xml = read_part(&mut archive, "word/document.xml", "a Word document")?;
    let text = paragraphs(&xml, false)?;
    Ok(extracted(text))
}

/// The text of an OpenDocument text (`content.xml`).
pub fn odt(bytes: &[u8]) -> Result<Extracted, OfficeError> {
    let mut archive = open(bytes)?;
    let xml = read_part(&mut archive, "content.xml", "an OpenDocument text")?;
    let text = paragraphs(&xml, true)?;
    Ok(extracted(text))
}

fn extracted(text: String) -> Extracted {
    let mut warnings = Vec::new();
    if text.is_empty() {
        warnings.push("the document has no text".to_string());
    }
    Extracted {
        text,
        encoding: "UTF-8 (XML)".to_string(),
        warnings,
    }
}
