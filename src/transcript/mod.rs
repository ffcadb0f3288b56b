//! Reading transcripts: decoding, normalizing, and recognising the layout (a GLA "questions to the
//! Mayor" page, a speaker-turn interview, or plain text).

pub mod decode;
mod gla;
pub mod html;
pub mod normalize;
pub mod office;
pub mod parlparse;
mod roles;
mod timed;
mod turns;

pub use roles::Relayout;
pub use turns::TurnLayout;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use decode::{DecodeError, Decoded, decode, decode_owned};
pub use normalize::normalize;
pub use timed::SubtitleError;

/// Largest transcript file read, in bytes; a bigger file is refused rather than freezing the app.
pub const MAX_TRANSCRIPT_BYTES: u64 = crate::limits::TRANSCRIPT_BYTES;

pub use crate::names::TRANSCRIPT_EXTENSIONS;

/// The kind of file a transcript's text was read from (its layout is [`Format`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Container {
    /// Plain text (`.txt`, `.text`).
    Txt,
    /// A web page (`.html`, `.htm`).
    Html,
    /// A Word document (`.docx`).
    Docx,
    /// An OpenDocument text (`.odt`).
    Odt,
    /// WebVTT subtitles (`.vtt`).
    Vtt,
    /// SubRip subtitles (`.srt`).
    Srt,
    /// An item of a ParlParse XML file.
    Xml,
}

impl Container {
    /// The name used in JSON output: `txt`, `html`, `docx`, `odt`, `vtt`, `srt`, `xml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Container::Txt => "txt",
            Container::Html => "html",
            Container::Docx => "docx",
            Container::Odt => "odt",
            Container::Vtt => "vtt",
            Container::Srt => "srt",
            Container::Xml => "xml",
        }
    }

    /// The container a file name's extension says (text for anything unknown).
    pub fn of_name(name: &str) -> Container {
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "html" | "htm" => Container::Html,
            "docx" => Container::Docx,
            "odt" => Container::Odt,
            "vtt" => Container::Vtt,
            "srt" => Container::Srt,
            "xml" => Container::Xml,
            _ => Container::Txt,
        }
    }
}

/// Why a transcript could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    /// The file could not be read from disk.
    #[error("cannot read transcript: {source}: {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The path is a folder, a FIFO, a device...
    #[error("cannot read transcript: not a regular file: {}", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// The file is larger than [`MAX_TRANSCRIPT_BYTES`].
    #[error("cannot read transcript: {size} bytes is over the limit of {limit} bytes: {}", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// An item of a ParlParse XML file could not be read.
    #[error("cannot read transcript: {message}: {}", path.display())]
    Xml {
        /// The virtual path `file.xml#id`.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A Word, OpenDocument, web page or subtitle file could not be read.
    #[error("cannot read transcript: {source}: {}", path.display())]
    Container {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        #[source]
        source: ContainerError,
    },
    /// The bytes are not text.
    #[error("cannot read transcript: {source}: {}", path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        #[source]
        source: DecodeError,
    },
}

/// The layout a transcript was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Format {
    /// A London Assembly "questions to the Mayor" page.
    GlaMqt,
    /// An interview or hearing with speaker labels.
    SpeakerTurns,
    /// Anything else: one part of text.
    Plain,
    /// A heading with its questions and replies from a ParlParse XML file.
    ParlParse,
}

impl Format {
    /// The name used in JSON output: `gla-mqt`, `speaker-turns`, `plain`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::GlaMqt => "gla-mqt",
            Format::SpeakerTurns => "speaker-turns",
            Format::Plain => "plain",
            Format::ParlParse => "parlparse",
        }
    }
}

/// Whether a speaker of a turn-based transcript asks or answers: their turns make the questions
/// or the answers of the exchanges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    /// Their turns are questions (a chair, a member, an interviewer).
    Asker,
    /// Their turns are answers (a witness, a respondent).
    Answerer,
}

impl Role {
    /// `asks` or `answers`, as the command line prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Asker => "asks",
            Role::Answerer => "answers",
        }
    }

    /// The other role.
    pub fn swapped(self) -> Role {
        match self {
            Role::Asker => Role::Answerer,
            Role::Answerer => Role::Asker,
        }
    }
}

/// A speaker's role in a turn-based transcript: as guessed on reading, and in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeakerRole {
    /// The speaker's label as written (`Mr Smith`, `Q369 Chairman:` gives `Chairman`).
    pub speaker: String,
    /// What the reader guessed (the chair and members ask, witnesses answer...).
    pub guessed: Role,
    /// The role in force.
    pub role: Role,
    /// True when the user set it (it may equal the guess).
    pub set: bool,
}

/// Whether an answer has been given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum AnswerStatus {
    /// A final answer is there (possibly after a holding answer).
    #[default]
    Answered,
    /// Only a holding answer ("Officers are drafting a response...").
    Holding,
    /// No answer text at all.
    Unanswered,
}

impl AnswerStatus {
    /// The name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerStatus::Answered => "answered",
            AnswerStatus::Holding => "holding",
            AnswerStatus::Unanswered => "unanswered",
        }
    }
}

/// What a part of a transcript is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PartKind {
    /// The question of an exchange.
    Question,
    /// The answer of an exchange.
    Answer,
    /// The whole text of a file that is not in a question/answer layout.
    Text,
}

impl PartKind {
    /// Lower-case name: `question`, `answer`, `text`.
    pub fn as_str(self) -> &'static str {
        match self {
            PartKind::Question => "question",
            PartKind::Answer => "answer",
            PartKind::Text => "text",
        }
    }
}

/// Names a part: its kind and the exchange it belongs to (0-based).
///
/// Written as `question`, `answer` or `text` for the first exchange and `question.3` for the
/// question of the third, so single-exchange pages read naturally in sidecars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartId {
    /// 0-based index of the exchange.
    pub exchange: u32,
    /// Question, answer or text.
    pub kind: PartKind,
}

impl PartId {
    /// The question of the first exchange.
    pub const QUESTION: PartId = PartId {
        exchange: 0,
        kind: PartKind::Question,
    };
    /// The answer of the first exchange.
    pub const ANSWER: PartId = PartId {
        exchange: 0,
        kind: PartKind::Answer,
    };
    /// The single part of a plain text file.
    pub const TEXT: PartId = PartId {
        exchange: 0,
        kind: PartKind::Text,
    };
}

impl fmt::Display for PartId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.exchange == 0 {
            f.write_str(self.kind.as_str())
        } else {
            write!(f, "{}.{}", self.kind.as_str(), self.exchange + 1)
        }
    }
}

/// A part id that is not `question`, `answer`, `text`, or one of them with `.N` (N from 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown part \"{0}\"")]
pub struct PartIdError(pub String);

impl FromStr for PartId {
    type Err = PartIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, number) = match s.split_once('.') {
            Some((k, n)) => (k, Some(n)),
            None => (s, None),
        };
        let kind = match kind {
            "question" => PartKind::Question,
            "answer" => PartKind::Answer,
            "text" => PartKind::Text,
            _ => return Err(PartIdError(s.to_string())),
        };
        let exchange = match number {
            None => 0,
            Some(n) => match n.parse::<u32>() {
                Ok(n) if n >= 2 => n - 1,
                _ => return Err(PartIdError(s.to_string())),
            },
        };
        Ok(PartId { exchange, kind })
    }
}

impl Serialize for PartId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PartId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One annotatable stretch of text.
///
/// A part does not own its text: it points into the text its transcript's parts share (one
/// allocation for the parts of a turn-based transcript, whose millions of short turns would
/// otherwise cost more in `String`s than in words), and its speaker's name is shared by every
/// part that speaker speaks. Cloning a part, or a transcript, copies neither.
#[derive(Clone)]
pub struct Part {
    /// Which part this is.
    pub id: PartId,
    /// Who speaks in it, when known.
    speaker: Option<Arc<str>>,
    /// The text shared with other parts; this part's is `shared[start..end]` (bytes).
    shared: Arc<String>,
    start: u32,
    end: u32,
    /// The exchange's reference where the layout numbers exchanges (a hearing's question
    /// numbers, `369, 370`).
    pub reference: Option<String>,
    /// When the part starts in the recording, in milliseconds (timed transcripts).
    pub start_ms: Option<u64>,
    /// When the part ends in the recording, in milliseconds (timed transcripts).
    pub end_ms: Option<u64>,
}

/// A byte offset of a part's text as stored: transcripts are read up to 64 MiB
/// ([`MAX_TRANSCRIPT_BYTES`]), and what is extracted from them is smaller than 4 GiB.
fn offset32(at: usize) -> u32 {
    u32::try_from(at).expect("a transcript's text is under 4 GiB: files are read up to 64 MiB")
}

impl Part {
    /// A part with no reference and no times, owning its text alone.
    pub fn new(id: PartId, speaker: Option<String>, text: String) -> Part {
        let end = offset32(text.len());
        Part {
            id,
            speaker: speaker.map(Arc::from),
            shared: Arc::new(text),
            start: 0,
            end,
            reference: None,
            start_ms: None,
            end_ms: None,
        }
    }

    /// A part whose text is `shared[range]` (a byte range on char boundaries), with a speaker
    /// name shared with other parts.
    pub(crate) fn shared(
        id: PartId,
        speaker: Option<Arc<str>>,
        shared: &Arc<String>,
        range: std::ops::Range<usize>,
    ) -> Part {
        debug_assert!(
            shared.get(range.clone()).is_some(),
            "a part's range is on char boundaries"
        );
        Part {
            id,
            speaker,
            shared: Arc::clone(shared),
            start: offset32(range.start),
            end: offset32(range.end),
            reference: None,
            start_ms: None,
            end_ms: None,
        }
    }

    /// Normalized text; span offsets are char offsets into it.
    pub fn text(&self) -> &str {
        // The range was checked against the shared text when the part was made.
        &self.shared[self.start as usize..self.end as usize]
    }

    /// Who speaks in it, when known.
    pub fn speaker(&self) -> Option<&str> {
        self.speaker.as_deref()
    }
}

impl PartialEq for Part {
    /// Parts are equal when what they say is: the same id, speaker, text, reference and times,
    /// wherever their text is stored.
    fn eq(&self, other: &Part) -> bool {
        self.id == other.id
            && self.speaker == other.speaker
            && self.text() == other.text()
            && self.reference == other.reference
            && self.start_ms == other.start_ms
            && self.end_ms == other.end_ms
    }
}

impl Eq for Part {}

impl fmt::Debug for Part {
    // The part's own text, not the whole shared text it points into.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Part")
            .field("id", &self.id)
            .field("speaker", &self.speaker)
            .field("text", &self.text())
            .field("reference", &self.reference)
            .field("start_ms", &self.start_ms)
            .field("end_ms", &self.end_ms)
            .finish()
    }
}

/// The question and answer parts of a single-exchange transcript, with their speakers.
pub(crate) fn question_and_answer(meta: &Metadata, question: String, answer: String) -> Vec<Part> {
    vec![
        Part::new(PartId::QUESTION, meta.question_by.clone(), question),
        Part::new(PartId::ANSWER, meta.answered_by.clone(), answer),
    ]
}

/// The fields of a page's header. All optional: real pages leave many out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// The question's title ("" when absent).
    pub title: String,
    /// Meeting kind: `MQT`, `Plenary`, ...
    pub meeting: Option<String>,
    /// Date of the meeting.
    pub meeting_date: Option<NaiveDate>,
    /// Date of the session.
    pub session_date: Option<NaiveDate>,
    /// Question reference, e.g. `2013/1341`.
    pub reference: Option<String>,
    /// Who asked.
    pub question_by: Option<String>,
    /// The asker's party or organisation.
    pub organisation: Option<String>,
    /// Who the question was put to.
    pub asked_of: Option<String>,
    /// Who answered.
    pub answered_by: Option<String>,
    /// Whether this is a supplementary question.
    pub supplementary: bool,
    /// Whether the question has been answered.
    pub status: AnswerStatus,
    /// The date a final answer was provided after a holding answer.
    pub answer_date: Option<NaiveDate>,
}

/// A transcript as read from disk.
#[derive(Debug, Clone)]
pub struct Transcript {
    /// File name without folder, as sidecars refer to it.
    pub file_name: String,
    /// The recognised layout.
    pub format: Format,
    /// The kind of file the text was read from.
    pub container: Container,
    /// Header fields (for speaker turns: of the first exchange).
    pub meta: Metadata,
    /// The parts, in reading order: question and answer of each exchange, or one text part.
    pub parts: Vec<Part>,
    /// The encoding the file was in.
    pub encoding: String,
    /// Problems met while reading; none stops the file from opening.
    pub warnings: Vec<String>,
    /// BLAKE3 hash of the whole normalized text, hex.
    pub hash: String,
    /// Length of the whole normalized text in chars.
    pub chars: usize,
    /// The speaker turns the exchanges were built from (turn-based layouts only), to build them
    /// again with the user's roles.
    pub layout: Option<Box<TurnLayout>>,
}

/// Why the bytes of a file could not be read as a transcript (the caller names the file).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The bytes are not text.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A container (Word, OpenDocument, web page, subtitles, XML) could not be read.
    #[error(transparent)]
    Container(#[from] ContainerError),
}

/// Why a container's text could not be taken out (one line; the caller names the file).
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// A Word or OpenDocument file.
    #[error(transparent)]
    Office(#[from] office::OfficeError),
    /// A web page's bytes are not text.
    #[error(transparent)]
    Html(DecodeError),
    /// A WebVTT or SubRip file.
    #[error(transparent)]
    Subtitles(#[from] timed::SubtitleError),
    /// A ParlParse XML file opened whole rather than one of its items.
    #[error("a ParlParse XML file: open one of its items (file.xml#id)")]
    WholeXml,
}

/// Text taken out of a container, before it is parsed as a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The text, paragraphs separated by blank lines.
    pub text: String,
    /// The encoding the text was in (`UTF-8` inside Word and OpenDocument files).
    pub encoding: String,
    /// What was guessed or skipped.
    pub warnings: Vec<String>,
}

/// What the text of a transcript was recognised as, before its parts are made.
enum Found {
    /// A layout whose parts are made: GLA page, Otter export.
    Parsed(Format, Metadata, Vec<Part>, Option<Box<TurnLayout>>),
    /// Speaker turns, their parts laid out in their own text.
    Turns(TurnLayout),
    /// None: one part of plain text.
    Plain,
}

impl Transcript {
    /// Reads and parses a transcript file, or an item `file.xml#id` of a ParlParse file.
    pub fn load(path: &Path) -> Result<Transcript, TranscriptError> {
        Transcript::load_with_source(path, false).map(|(t, _)| t)
    }

    /// [`Transcript::load`], also giving the file's whole normalized text when `keep` asks for it
    /// and the file is text (plain or subtitles: the text its hash is of). A `.qdpx` export
    /// writes it as the document's source without reading and normalizing the file again.
    pub fn load_with_source(
        path: &Path,
        keep: bool,
    ) -> Result<(Transcript, Option<String>), TranscriptError> {
        if let Some((file, id)) = parlparse::split_virtual(path) {
            let xml = |message: String| TranscriptError::Xml {
                path: path.to_path_buf(),
                message,
            };
            let parsed = parlparse::items(&file).map_err(|e| xml(e.to_string()))?;
            let item = parsed
                .get(&id)
                .ok_or_else(|| xml(format!("no item \"{id}\" in the file")))?;
            return Ok((parlparse::transcript(&file, item, &parsed), None));
        }
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if Container::of_name(&file_name) == Container::Xml {
            // The items of a ParlParse file are the transcripts; the file itself is not one.
            let message = match parlparse::items(path) {
                Ok(parsed) => parlparse::listing(path, &parsed),
                Err(e) => e.to_string(),
            };
            return Err(TranscriptError::Xml {
                path: path.to_path_buf(),
                message,
            });
        }
        let io = |source| TranscriptError::Io {
            path: path.to_path_buf(),
            source,
        };
        let bytes = match crate::fsutil::read_limited(path, MAX_TRANSCRIPT_BYTES) {
            Ok(b) => b,
            Err(crate::fsutil::ReadError::Io(e)) => return Err(io(e)),
            Err(crate::fsutil::ReadError::NotAFile) => {
                return Err(TranscriptError::NotAFile {
                    path: path.to_path_buf(),
                });
            }
            Err(crate::fsutil::ReadError::TooLarge { size, limit }) => {
                return Err(TranscriptError::TooLarge {
                    path: path.to_path_buf(),
                    size,
                    limit,
                });
            }
        };
        Transcript::read_file_bytes(&file_name, bytes, keep).map_err(|e| match e {
            ReadError::Decode(source) => TranscriptError::Decode {
                path: path.to_path_buf(),
                source,
            },
            ReadError::Container(source) => TranscriptError::Container {
                path: path.to_path_buf(),
                source,
            },
        })
    }

    /// Parses a file's bytes as the container its name says (`.docx`, `.html`, `.vtt`, ...; text
    /// for anything else).
    pub fn from_file_bytes(file_name: &str, bytes: Vec<u8>) -> Result<Transcript, ReadError> {
        Transcript::read_file_bytes(file_name, bytes, false).map(|(t, _)| t)
    }

    /// [`Transcript::from_file_bytes`], with the whole normalized text of a text file when
    /// `keep` asks for it.
    fn read_file_bytes(
        file_name: &str,
        bytes: Vec<u8>,
        keep: bool,
    ) -> Result<(Transcript, Option<String>), ReadError> {
        let container = Container::of_name(file_name);
        let extracted = match container {
            Container::Txt => {
                let decoded = decode_owned(bytes)?;
                // Normalized in place of itself where it already is: a 60 MB file is not held
                // twice while its parts are built.
                return Ok(Transcript::from_normalized_keeping(
                    file_name,
                    normalize::normalize_owned(decoded.text),
                    decoded.encoding,
                    decoded.warnings,
                    keep,
                ));
            }
            Container::Vtt | Container::Srt => {
                let decoded = decode_owned(bytes)?;
                return Transcript::from_subtitles(file_name, container, decoded, keep)
                    .map_err(|e| ReadError::Container(e.into()));
            }
            Container::Html => {
                let mut e = html::extract(&bytes).map_err(ContainerError::Html)?;
                // Extracted text is usually normalized already: not copied again.
                e.text = normalize::normalize_owned(e.text);
                e
            }
            // Word and OpenDocument paragraphs come out normalized.
            Container::Docx => office::docx(&bytes).map_err(ContainerError::from)?,
            Container::Odt => office::odt(&bytes).map_err(ContainerError::from)?,
            Container::Xml => return Err(ContainerError::WholeXml.into()),
        };
        let mut t = Transcript::from_normalized(
            file_name,
            extracted.text,
            extracted.encoding,
            extracted.warnings,
        );
        t.container = container;
        // The text of a Word or web page is extracted from it: the file is not the source.
        Ok((t, None))
    }

    fn from_subtitles(
        file_name: &str,
        container: Container,
        decoded: Decoded,
        keep: bool,
    ) -> Result<(Transcript, Option<String>), timed::SubtitleError> {
        let normalized = normalize(&decoded.text);
        let timed = timed::from_subtitles(&normalized, container == Container::Vtt)?;
        let mut warnings = decoded.warnings;
        warnings.extend(timed.warnings);
        let t = Transcript {
            file_name: file_name.to_string(),
            format: timed.format,
            container,
            meta: timed.meta,
            parts: timed.parts,
            encoding: decoded.encoding,
            warnings,
            hash: content_hash(&normalized),
            chars: normalized.chars().count(),
            layout: timed.layout.map(Box::new),
        };
        Ok((t, keep.then_some(normalized)))
    }

    /// Parses a transcript from its bytes, as text.
    pub fn from_bytes(file_name: &str, bytes: &[u8]) -> Result<Transcript, DecodeError> {
        let decoded = decode(bytes)?;
        Ok(Transcript::from_text(
            file_name,
            &decoded.text,
            decoded.encoding,
            decoded.warnings,
        ))
    }

    /// Parses a transcript from decoded text.
    pub fn from_text(
        file_name: &str,
        text: &str,
        encoding: String,
        warnings: Vec<String>,
    ) -> Transcript {
        Transcript::from_normalized(file_name, normalize(text), encoding, warnings)
    }

    /// [`Transcript::from_text`] of text already normalized, which becomes the part of a plain
    /// text without a copy.
    fn from_normalized(
        file_name: &str,
        normalized: String,
        encoding: String,
        warnings: Vec<String>,
    ) -> Transcript {
        Transcript::from_normalized_keeping(file_name, normalized, encoding, warnings, false).0
    }

    /// [`Transcript::from_normalized`], giving the normalized text back when `keep` asks for it.
    fn from_normalized_keeping(
        file_name: &str,
        normalized: String,
        encoding: String,
        mut warnings: Vec<String>,
        keep: bool,
    ) -> (Transcript, Option<String>) {
        let hash = content_hash(&normalized);
        let chars = normalized.chars().count();
        let lines: Vec<&str> = normalized.split('\n').collect();
        let found = if let Some(page) = gla::parse(&lines) {
            warnings.extend(page.warnings);
            Found::Parsed(Format::GlaMqt, page.meta, page.parts, None)
        } else if let Some(t) = timed::otter(&lines) {
            Found::Parsed(t.format, t.meta, t.parts, t.layout.map(Box::new))
        } else if let Some(layout) = turns::read(&lines) {
            Found::Turns(layout)
        } else {
            Found::Plain
        };
        drop(lines);
        let mut kept = None;
        let (format, meta, parts, layout) = match found {
            Found::Parsed(format, meta, parts, layout) => {
                kept = keep.then_some(normalized);
                (format, meta, parts, layout)
            }
            Found::Turns(mut layout) => {
                // The parts are made once the text read is let go of: their own shared text
                // holds every word (a long interview is not held twice beside its parts),
                // unless the caller keeps the text.
                kept = keep.then_some(normalized);
                let (meta, parts) = layout.parts();
                (Format::SpeakerTurns, meta, parts, Some(Box::new(layout)))
            }
            Found::Plain => {
                if !normalized.is_empty() {
                    warnings.push(
                        "not a recognised question/answer layout: opened as plain text".to_string(),
                    );
                } else {
                    warnings.push("the file is empty".to_string());
                }
                if keep {
                    kept = Some(normalized.clone());
                }
                let parts = vec![Part::new(PartId::TEXT, None, normalized)];
                (Format::Plain, Metadata::default(), parts, None)
            }
        };
        let t = Transcript {
            file_name: file_name.to_string(),
            format,
            container: Container::Txt,
            meta,
            parts,
            encoding,
            warnings,
            hash,
            chars,
            layout,
        };
        (t, kept)
    }

    /// The part with this id.
    pub fn part(&self, id: PartId) -> Option<&Part> {
        // Parts are in reading order, which is the ids' order: a search, not a scan per lookup
        // (an export looks up a part per coding, and an interview has thousands of parts). The
        // scan stays for a layout that ever breaks the order.
        match self.parts.binary_search_by_key(&id, |p| p.id) {
            Ok(i) => Some(&self.parts[i]),
            Err(_) => self.parts.iter().find(|p| p.id == id),
        }
    }

    /// The text of the question of the first exchange ("" when there is none).
    pub fn question(&self) -> &str {
        self.part(PartId::QUESTION).map_or("", Part::text)
    }

    /// The text of the answer of the first exchange ("" when there is none).
    pub fn answer(&self) -> &str {
        self.part(PartId::ANSWER).map_or("", Part::text)
    }

    /// Number of question/answer exchanges (0 for plain text).
    pub fn exchange_count(&self) -> u32 {
        self.parts
            .iter()
            .filter(|p| p.id.kind == PartKind::Question)
            .count() as u32
    }
}

/// The content hash recorded in sidecars: `blake3:` and the hex digest of the normalized text.
pub fn content_hash(normalized: &str) -> String {
    format!("blake3:{}", blake3::hash(normalized.as_bytes()).to_hex())
}

/// A time in a recording for people: `m:ss`, or `h:mm:ss` from an hour on.
pub fn clock(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Parses the dates found on pages: `March 25, 2015`, `25 March 2015`, `1 July 2010`,
/// `2015-03-25`, `25/03/2015`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim().trim_end_matches(['.', ':']);
    const FORMATS: &[&str] = &[
        "%B %d, %Y",
        "%B %d %Y",
        "%d %B %Y",
        "%b %d, %Y",
        "%d %b %Y",
        "%Y-%m-%d",
        "%d/%m/%Y",
        "%A, %d %B %Y",
        "%A %d %B %Y",
    ];
    FORMATS
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_ids_round_trip() {
        for s in ["question", "answer", "text", "question.2", "answer.17"] {
            assert_eq!(s.parse::<PartId>().unwrap().to_string(), s);
        }
        for bad in ["", "Question", "answer.1", "answer.0", "answer.x", "q"] {
            assert!(bad.parse::<PartId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn dates() {
        let d = NaiveDate::from_ymd_opt(2015, 3, 25);
        assert_eq!(parse_date("March 25, 2015"), d);
        assert_eq!(parse_date("25 March 2015"), d);
        assert_eq!(parse_date("2015-03-25"), d);
        assert_eq!(
            parse_date("1 July 2010:"),
            NaiveDate::from_ymd_opt(2010, 7, 1)
        );
        assert_eq!(parse_date("soon"), None);
    }

    #[test]
    fn turn_parts_share_one_text_and_their_speakers_names() {
        let text = "Jane Smith: Was it agreed?\nMr Brown: Not at first.\nJane Smith: And then?\nMr Brown: In March.\nMr Brown: We signed.";
        let mut t = Transcript::from_text("i.txt", text, "UTF-8".to_string(), Vec::new());
        assert_eq!(t.format, Format::SpeakerTurns);
        let texts: Vec<&str> = t.parts.iter().map(Part::text).collect();
        assert_eq!(
            texts,
            [
                "Was it agreed?",
                "Not at first.",
                "And then?",
                "Mr Brown: In March.\n\nMr Brown: We signed."
            ]
        );
        let shared = |t: &Transcript| {
            t.parts
                .windows(2)
                .all(|w| Arc::ptr_eq(&w[0].shared, &w[1].shared))
                // The shared text is the parts' texts and nothing else.
                && t.parts.iter().map(|p| p.text().len()).sum::<usize>() == t.parts[0].shared.len()
        };
        assert!(shared(&t));
        let name = |i: usize| t.parts[i].speaker.clone().unwrap();
        assert!(Arc::ptr_eq(&name(0), &name(2)));
        assert!(Arc::ptr_eq(&name(1), &name(3)));
        assert_eq!(t.parts[3].speaker(), Some("Mr Brown"));

        // Roles swapped: the exchanges are built again, in a new shared text.
        let roles = [
            ("Mr Brown".to_string(), Role::Asker),
            ("Jane Smith".to_string(), Role::Answerer),
        ];
        assert!(t.set_roles(&roles.into_iter().collect()));
        assert!(shared(&t));
        let texts: Vec<&str> = t.parts.iter().map(Part::text).collect();
        assert_eq!(
            texts,
            [
                "",
                "Was it agreed?",
                "Not at first.",
                "And then?",
                "Mr Brown: In March.\n\nMr Brown: We signed.",
                ""
            ]
        );
        assert_eq!(t.parts[1].speaker(), Some("Jane Smith"));
    }
}
