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

/// One paragraph as read: its runs, with whether each is bold.
#[derive(Default)]
struct Paragraph {
    runs: Vec<(String, bool)>,
}

impl Paragraph {
    /// The paragraph's text; a leading bold label gets the colon a typed label would have.
    fn text(&self) -> String {
        let mut bold_prefix = String::new();
        let mut rest_start = 0;
        for (i, (t, bold)) in self.runs.iter().enumerate() {
            if !*bold {
                break;
            }
            bold_prefix.push_str(t);
            rest_start = i + 1;
        }
        let rest: String = self.runs[rest_start..]
            .iter()
            .map(|r| r.0.as_str())
            .collect();
        let label = bold_prefix.trim();
        let is_label = rest_start > 0
            && !rest.trim().is_empty()
            && !label.is_empty()
            && label.chars().count() <= MAX_LABEL_CHARS
            && !label.ends_with(':')
            && !rest.trim_start().starts_with(':')
            && !label.ends_with(['.', '?', '!', ','])
            && label.split_whitespace().count() <= 6
            && label.chars().next().is_some_and(char::is_uppercase);
        if is_label {
            format!("{label}: {}", rest.trim_start())
        } else {
            let mut all = bold_prefix;
            all.push_str(&rest);
            all
        }
    }
}

/// Reads paragraphs from a document part. `para` names the paragraph elements, `text` the text
/// runs; Word marks bold with `<w:b/>` in a run's properties.
fn paragraphs(xml: &str, odt: bool) -> Result<String, OfficeError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out: Vec<String> = Vec::new();
    let mut para: Option<Paragraph> = None;
    let mut bold = false;
    let mut in_text = false;
    let mut in_run_props = false;
    let mut depth_note = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| OfficeError::Xml {
            at: reader.buffer_position(),
            message: e.to_string(),
        })?;
        let push = |para: &mut Option<Paragraph>, s: &str, bold: bool| {
            if let Some(p) = para.as_mut() {
                match p.runs.last_mut() {
                    Some(last) if last.1 == bold => last.0.push_str(s),
                    _ => p.runs.push((s.to_string(), bold)),
                }
            }
        };
        match event {
            Event::DocType(_) => {
                return Err(OfficeError::Doctype);
            }
            Event::Start(e) if odt => match e.local_name().as_ref() {
                "p" | "h" if depth_note == 0 => {
                    flush(&mut para, &mut out);
                    para = Some(Paragraph::default());
                }
                "note" => depth_note += 1,
                _ => {}
            },
            Event::Empty(e) if odt => match e.local_name().as_ref() {
                "p" | "h" if depth_note == 0 => {
                    flush(&mut para, &mut out);
                    out.push(String::new());
                }
                "s" => {
                    let n = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == "c")
                        .and_then(|a| a.value.parse().ok())
                        .unwrap_or(1usize)
                        .min(1000);
                    push(&mut para, &" ".repeat(n), false);
                }
                "tab" => push(&mut para, "\t", false),
                "line-break" => push(&mut para, "\n", false),
                _ => {}
            },
            Event::Start(e) => match e.local_name().as_ref() {
                "p" => {
                    flush(&mut para, &mut out);
                    para = Some(Paragraph::default());
                }
                "r" => bold = false,
                "rPr" => in_run_props = true,
                "b" if in_run_props => bold = bold_value(&e),
                "t" => in_text = true,
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                "b" if in_run_props => bold = bold_value(&e),
                "tab" => push(&mut para, "\t", bold),
                "br" | "cr" => push(&mut para, "\n", bold),
                "p" => {
                    flush(&mut para, &mut out);
                    out.push(String::new());
                }
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "p" | "h" if !odt || depth_note == 0 => flush(&mut para, &mut out),
                "note" if odt => depth_note = depth_note.saturating_sub(1),
                "rPr" => in_run_props = false,
                "t" => in_text = false,
                _ => {}
            },
            Event::Text(t) if (in_text || odt) && depth_note == 0 => {
                push(&mut para, &t.xml10_content(), bold);
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
                    push(&mut para, c.encode_utf8(&mut [0; 4]), bold);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    flush(&mut para, &mut out);
    Ok(super::normalize(&out.join("\n\n")))
}

fn bold_value(e: &quick_xml::events::BytesStart) -> bool {
    // `<w:b/>` is bold; `<w:b w:val="0"/>` or `"false"` turns it off.
    !e.attributes()
        .flatten()
        .any(|a| a.key.local_name().as_ref() == "val" && matches!(&*a.value, "0" | "false" | "off"))
}

fn flush(para: &mut Option<Paragraph>, out: &mut Vec<String>) {
    if let Some(p) = para.take() {
        out.push(p.text());
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
