//! Annotation sidecars: one RON file per transcript and annotator, beside the transcript, named
//! `<transcript file name>.<annotator id>.ron`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::anchor::{Anchored, Placement, anchor_all};
// The data model and the RON style are re-exported so that `sidecar::Span` and the like, used
// across the tests, benches, fuzz targets and the app, keep working.
pub use crate::annotation::{
    Annotator, AnnotatorIdError, CONTEXT_CHARS, PartTags, SIDECAR_SCHEMA, Sidecar, Span, Status,
    TranscriptRef, check_annotator_id, ellipsize, now, shorten,
};
use crate::codebook::{AppliesTo, Codebook, DimensionKind};
use crate::fsutil::{WriteError, atomic_write};
pub use crate::ronfmt::{ron_error_message, ron_options, to_pretty_ron};

pub mod fast;
use crate::transcript::{PartId, PartKind, Transcript};

/// Largest sidecar read, in bytes (a sidecar with 10,000 spans is about 1.3 MB).
pub const MAX_SIDECAR_BYTES: u64 = crate::limits::SIDECAR_BYTES;

/// Why a sidecar could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SidecarError {
    /// The file could not be read.
    #[error("cannot read sidecar: {source}: {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a sidecar Marginalia can read.
    #[error("cannot read sidecar: {message}: {}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The file was written by a newer version; re-saving it would lose what this one ignores.
    #[error(
        "cannot read sidecar: written with schema {found}, this version reads up to {SIDECAR_SCHEMA}; update Marginalia: {}",
        path.display()
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// The schema found.
        found: u32,
    },
    /// The annotator id is not allowed.
    #[error("{0}")]
    AnnotatorId(#[from] AnnotatorIdError),
    /// The file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// The sidecar path of a transcript for an annotator.
pub fn sidecar_path(transcript: &Path, annotator: &str) -> PathBuf {
    let mut name = transcript.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(annotator);
    name.push(".ron");
    transcript.with_file_name(name)
}

/// Splits a sidecar file name into the transcript's file name and the annotator id.
pub fn parse_sidecar_name(file_name: &str) -> Option<(&str, &str)> {
    let stem = file_name.strip_suffix(".ron")?;
    let (transcript, annotator) = stem.rsplit_once('.')?;
    if transcript.is_empty() || check_annotator_id(annotator).is_err() {
        return None;
    }
    Some((transcript, annotator))
}

/// The fields of a sidecar this version knows, in the order they are written.
const SIDECAR_FIELDS: &[&str] = &[
    "schema",
    "annotator",
    "transcript",
    "codebook",
    "status",
    "created",
    "modified",
    "tags",
    "spans",
    "memo",
    "roles",
];

/// Read by hand rather than derived, so that a field this version does not know is kept, as the
/// RON text it was written in, instead of being dropped on the next save (serde's `flatten` would
/// keep it, but RON then writes the whole sidecar as a map).
impl<'de> Deserialize<'de> for Sidecar {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Sidecar, D::Error> {
        use serde::de::{Error, MapAccess, Visitor};

        struct SidecarVisitor;

        fn set<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
            slot: &mut Option<T>,
            name: &'static str,
            map: &mut A,
        ) -> Result<(), A::Error> {
            if slot.is_some() {
                return Err(A::Error::duplicate_field(name));
            }
            *slot = Some(map.next_value()?);
            Ok(())
        }

        impl<'de> Visitor<'de> for SidecarVisitor {
            type Value = Sidecar;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("struct Sidecar")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Sidecar, A::Error> {
                let (mut schema, mut annotator, mut transcript, mut codebook) =
                    (None, None, None, None);
                let (mut status, mut created, mut modified) = (None, None, None);
                let (mut tags, mut spans, mut memo, mut roles) = (None, None, None, None);
                let mut unknown: Vec<(String, String)> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "schema" => set(&mut schema, "schema", &mut map)?,
                        "annotator" => set(&mut annotator, "annotator", &mut map)?,
                        "transcript" => set(&mut transcript, "transcript", &mut map)?,
                        "codebook" => set(&mut codebook, "codebook", &mut map)?,
                        "status" => set(&mut status, "status", &mut map)?,
                        "created" => set(&mut created, "created", &mut map)?,
                        "modified" => set(&mut modified, "modified", &mut map)?,
                        "tags" => set(&mut tags, "tags", &mut map)?,
                        "spans" => set(&mut spans, "spans", &mut map)?,
                        "memo" => set(&mut memo, "memo", &mut map)?,
                        "roles" => set(&mut roles, "roles", &mut map)?,
                        _ => {
                            let raw: Box<ron::value::RawValue> = map.next_value()?;
                            if unknown.iter().any(|(k, _)| *k == key) {
                                return Err(A::Error::custom(format!(
                                    "duplicate field `{}`",
                                    shorten(&key)
                                )));
                            }
                            unknown.push((key, raw.get_ron().trim().to_string()));
                        }
                    }
                }
                Ok(Sidecar {
                    schema: schema.ok_or_else(|| A::Error::missing_field("schema"))?,
                    annotator: annotator.ok_or_else(|| A::Error::missing_field("annotator"))?,
                    transcript: transcript.ok_or_else(|| A::Error::missing_field("transcript"))?,
                    codebook: codebook.ok_or_else(|| A::Error::missing_field("codebook"))?,
                    status: status.unwrap_or_default(),
                    created: created.ok_or_else(|| A::Error::missing_field("created"))?,
                    modified: modified.ok_or_else(|| A::Error::missing_field("modified"))?,
                    tags: tags.unwrap_or_default(),
                    spans: spans.unwrap_or_default(),
                    memo: memo.unwrap_or_default(),
                    roles: roles.unwrap_or_default(),
                    unknown,
                })
            }
        }

        deserializer.deserialize_struct("Sidecar", SIDECAR_FIELDS, SidecarVisitor)
    }
}

/// Just enough of a sidecar to learn its schema before parsing the rest.
#[derive(Deserialize)]
struct SchemaProbe {
    schema: u32,
}

/// A sidecar read from disk, with what is odd about it.
#[derive(Debug, Clone)]
pub struct LoadedSidecar {
    /// The content.
    pub sidecar: Sidecar,
    /// The exact bytes read, to notice later changes on disk.
    pub bytes: Vec<u8>,
}

impl Sidecar {
    /// Reads a sidecar. Refuses files that are too big, not UTF-8, not RON, from a newer
    /// schema, or with an invalid annotator id.
    pub fn load(path: &Path) -> Result<LoadedSidecar, SidecarError> {
        let io = |source| SidecarError::Io {
            path: path.to_path_buf(),
            source,
        };
        let invalid = |message: String| SidecarError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let bytes = match crate::fsutil::read_limited(path, MAX_SIDECAR_BYTES) {
            Ok(b) => b,
            Err(crate::fsutil::ReadError::Io(e)) => return Err(io(e)),
            Err(other) => return Err(invalid(other.to_string())),
        };
        let sidecar = Sidecar::parse(&bytes, path)?;
        Ok(LoadedSidecar { sidecar, bytes })
    }

    /// Parses sidecar bytes; `path` is only used in messages.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Sidecar, SidecarError> {
        let invalid = |message: String| SidecarError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(invalid("the file is empty".to_string()));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|e| invalid(format!("not UTF-8 text (byte {})", e.valid_up_to())))?;
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
        let text = crate::transcript::normalize::unify_line_endings(text).into_owned();
        let options = ron_options();
        let newer = |found: u32| SidecarError::NewerSchema {
            path: path.to_path_buf(),
            found,
        };
        // One full parse in the common case; the schema probe only explains a failure.
        // The layout Marginalia writes is read by the fast reader; anything else by RON.
        let parsed = fast::parse(&text).map_or_else(|| options.from_str::<Sidecar>(&text), Ok);
        let sidecar: Sidecar = match parsed {
            Ok(s) => s,
            Err(e) => {
                if let Ok(probe) = options.from_str::<SchemaProbe>(&text)
                    && probe.schema > SIDECAR_SCHEMA
                {
                    return Err(newer(probe.schema));
                }
                return Err(invalid(format!(
                    "not a valid sidecar ({})",
                    ron_error_message(&e)
                )));
            }
        };
        if sidecar.schema > SIDECAR_SCHEMA {
            return Err(newer(sidecar.schema));
        }
        if sidecar.schema == 0 {
            return Err(invalid("schema 0 is not a Marginalia schema".to_string()));
        }
        check_annotator_id(&sidecar.annotator.id).map_err(|e| invalid(e.to_string()))?;
        Ok(sidecar)
    }

    /// The RON text written to disk: sorted, deduplicated, `\n` line endings; fields this version
    /// does not know follow the known ones, as they were read.
    pub fn to_ron(&self) -> String {
        self.clone().into_ron()
    }

    /// [`Sidecar::to_ron`] of a sidecar no longer needed, sorted where it is rather than copied
    /// first (a save copies the sidecar once to stamp it; a page of 40,000 spans is some 30 MB in
    /// memory).
    pub fn into_ron(mut self) -> String {
        self.canonicalize();
        let mut text = to_pretty_ron(&self);
        if !self.unknown.is_empty() && text.ends_with(")\n") {
            text.truncate(text.len() - 2);
            for (key, raw) in &self.unknown {
                text.push_str(&format!("    {key}: {raw},\n"));
            }
            text.push_str(")\n");
        }
        text
    }

    /// The bytes written to disk, after checking the annotator id that names the file.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SidecarError> {
        check_annotator_id(&self.annotator.id)?;
        Ok(self.to_ron().into_bytes())
    }

    /// [`Sidecar::to_bytes`] of a sidecar no longer needed (see [`Sidecar::into_ron`]).
    pub fn into_bytes(self) -> Result<Vec<u8>, SidecarError> {
        check_annotator_id(&self.annotator.id)?;
        Ok(self.into_ron().into_bytes())
    }

    /// Writes the sidecar atomically to `path` and returns the bytes written.
    pub fn save(&self, path: &Path) -> Result<Vec<u8>, SidecarError> {
        let bytes = self.to_bytes()?;
        atomic_write(path, &bytes)?;
        Ok(bytes)
    }

    /// Where re-anchoring places each span (in the order of `spans`) on a transcript whose text
    /// changed: each part's spans together, with the part's length when the sidecar was saved.
    /// `None` for spans on a part the transcript does not have.
    pub fn placements(&self, transcript: &Transcript) -> Vec<Option<Anchored>> {
        // Spans count in the exchanges built with this annotator's roles.
        let transcript = &*transcript.with_roles(&self.roles);
        let mut out = vec![None; self.spans.len()];
        // Spans grouped by part once: a transcript of thousands of exchanges is not filtered
        // once per part.
        let mut by_part: std::collections::HashMap<PartId, Vec<usize>> =
            std::collections::HashMap::new();
        for (i, s) in self.spans.iter().enumerate() {
            by_part.entry(s.part).or_default().push(i);
        }
        for part in &transcript.parts {
            let Some(index) = by_part.get(&part.id) else {
                continue;
            };
            let spans: Vec<&Span> = index.iter().map(|&i| &self.spans[i]).collect();
            let old_len = self.transcript.parts.get(&part.id).copied();
            for (&i, a) in index.iter().zip(anchor_all(&spans, part.text(), old_len)) {
                out[i] = Some(a);
            }
        }
        out
    }

    /// Checks the sidecar against its transcript and codebook, listing every problem found.
    /// Nothing is removed: the caller shows the problems.
    pub fn check(&self, transcript: &Transcript, codebook: &Codebook) -> Vec<Problem> {
        // Tags and spans count in the exchanges built with this annotator's roles.
        let transcript = &*transcript.with_roles(&self.roles);
        let mut problems = Vec::new();
        let text_changed = self.transcript.hash != transcript.hash;
        if text_changed {
            problems.push(Problem::warning(
                "the transcript's text changed since these annotations were saved".to_string(),
            ));
        }
        if self.transcript.file != transcript.file_name {
            problems.push(Problem::warning(format!(
                "made for \"{}\", found beside \"{}\"",
                self.transcript.file, transcript.file_name
            )));
        }
        let mut lookup = PartLookup::new(transcript);
        for (part, dims) in &self.tags {
            if lookup.part(*part).is_none() {
                problems.push(Problem::error(format!(
                    "tags on part \"{part}\", which the transcript does not have"
                )));
            }
            for (dim, values) in dims {
                problems.extend(check_tag(codebook, Some(*part), dim, values));
            }
            let values_of = |d: &str| dims.get(d).map_or(&[][..], Vec::as_slice);
            for (d, r) in codebook.unmet_requirements(values_of) {
                problems.push(Problem::warning(format!(
                    "\"{}\" on {part} applies only when \"{}\" is \"{}\"",
                    d.id, r.dimension, r.value
                )));
            }
        }
        // After an edit of the transcript, what opening it will do to each span, as the app does it.
        let placed: Vec<Option<Anchored>> = if text_changed {
            self.placements(transcript)
        } else {
            vec![None; self.spans.len()]
        };
        let mut ids = std::collections::HashSet::new();
        for (span, placed) in self.spans.iter().zip(placed) {
            if !ids.insert(span.id.as_str()) {
                problems.push(Problem::error(format!(
                    "two spans have the id \"{}\"",
                    span.id
                )));
            }
            problems.extend(check_span(span, &mut lookup, codebook, placed));
        }
        problems
    }
}

/// The parts of a transcript by id, each with its length in chars and a map from char positions
/// to byte offsets made when first needed: checking the spans of a long transcript costs one pass
/// over each part's text, not one per span (or one over the list of parts per span).
pub struct PartLookup<'t> {
    parts: std::collections::HashMap<PartId, &'t crate::transcript::Part>,
    offsets: std::collections::HashMap<PartId, CharOffsets>,
}

/// Byte offset of each char of a text and of its end; `None` when every char is one byte.
struct CharOffsets {
    chars: usize,
    bytes: Option<Vec<u32>>,
}

impl<'t> PartLookup<'t> {
    /// Indexes the parts of `transcript` (the first part with an id, as [`Transcript::part`]).
    pub fn new(transcript: &'t Transcript) -> PartLookup<'t> {
        let mut parts = std::collections::HashMap::with_capacity(transcript.parts.len());
        for p in &transcript.parts {
            parts.entry(p.id).or_insert(p);
        }
        PartLookup {
            parts,
            offsets: std::collections::HashMap::new(),
        }
    }

    /// The part with this id.
    pub fn part(&self, id: PartId) -> Option<&'t crate::transcript::Part> {
        self.parts.get(&id).copied()
    }

    fn offsets(&mut self, id: PartId) -> Option<&CharOffsets> {
        let part = self.part(id)?;
        Some(self.offsets.entry(id).or_insert_with(|| {
            let text = part.text();
            if text.is_ascii() {
                CharOffsets {
                    chars: text.len(),
                    bytes: None,
                }
            } else {
                let mut bytes: Vec<u32> = text.char_indices().map(|(b, _)| b as u32).collect();
                let chars = bytes.len();
                bytes.push(text.len() as u32);
                CharOffsets {
                    chars,
                    bytes: Some(bytes),
                }
            }
        }))
    }

    /// Length of a part in chars.
    pub fn char_len(&mut self, id: PartId) -> Option<usize> {
        self.offsets(id).map(|o| o.chars)
    }

    /// The text of chars `start..end` of a part; `None` when the part is missing or the range is
    /// reversed or beyond its end.
    pub fn text(&mut self, id: PartId, start: usize, end: usize) -> Option<&'t str> {
        let part = self.part(id)?;
        let o = self.offsets(id)?;
        if start > end || end > o.chars {
            return None;
        }
        let (a, b) = match &o.bytes {
            None => (start, end),
            Some(bytes) => (bytes[start] as usize, bytes[end] as usize),
        };
        Some(&part.text()[a..b])
    }

    /// Byte offset of char `pos` of a part (its length in bytes at its end); `None` past it.
    pub fn byte(&mut self, id: PartId, pos: usize) -> Option<usize> {
        let o = self.offsets(id)?;
        if pos > o.chars {
            return None;
        }
        Some(match &o.bytes {
            None => pos,
            Some(bytes) => bytes[pos] as usize,
        })
    }

    /// True when the span lies inside its part and the text there equals its quote.
    pub fn placed(&mut self, span: &Span) -> bool {
        span.start < span.end && self.text(span.part, span.start, span.end) == Some(&span.quote)
    }
}

/// Something wrong or odd in a sidecar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// True when data cannot be used as it is (a span that cannot be placed); false for
    /// something the user should know (an unknown tag kept as it is).
    pub is_error: bool,
    /// One line, without the file name.
    pub message: String,
}

impl Problem {
    fn error(message: String) -> Problem {
        Problem {
            is_error: true,
            message,
        }
    }

    fn warning(message: String) -> Problem {
        Problem {
            is_error: false,
            message,
        }
    }
}

fn check_tag(
    codebook: &Codebook,
    part: Option<PartId>,
    dim: &str,
    values: &[String],
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let Some(d) = codebook.dimension(dim) else {
        problems.push(Problem::warning(format!(
            "unknown tag \"{dim}\" (not in codebook \"{}\"), kept as it is",
            codebook.id
        )));
        return problems;
    };
    if let Some(part) = part {
        let fits = matches!(
            (d.applies_to, part.kind),
            (AppliesTo::Question, PartKind::Question) | (AppliesTo::Answer, PartKind::Answer)
        );
        if !fits {
            problems.push(Problem::warning(format!(
                "tag \"{dim}\" on part \"{part}\", but the codebook codes it on {:?}",
                d.applies_to
            )));
        }
        if d.kind == DimensionKind::OneChoice && values.len() > 1 {
            problems.push(Problem::warning(format!(
                "\"{dim}\" is one-choice but has {} values on \"{part}\"",
                values.len()
            )));
        }
    }
    if d.kind != DimensionKind::Entity {
        for v in values {
            if d.value(v).is_none() {
                problems.push(Problem::warning(format!(
                    "unknown tag \"{dim}: {v}\" (not in codebook \"{}\"), kept as it is",
                    codebook.id
                )));
            }
        }
    }
    problems
}

fn check_span(
    span: &Span,
    parts: &mut PartLookup<'_>,
    codebook: &Codebook,
    placed: Option<Anchored>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let here = format!(
        "span \"{}\" ({} {}..{})",
        span.id, span.part, span.start, span.end
    );
    if span.start >= span.end {
        problems.push(Problem::error(format!("{here}: start is not before end")));
    }
    match placed.map(|a| (a.placement, a)) {
        Some((Placement::Unchanged, _)) => {}
        Some((Placement::Orphan, _)) => problems.push(Problem::warning(format!(
            "{here}: \"{}\" is no longer found in the changed text; the app lists it as an orphan until it is placed by hand or deleted",
            ellipsize(&span.quote, 40)
        ))),
        Some((_, a)) => problems.push(Problem::warning(format!(
            "{here}: the text changed; \"{}\" will be placed again at {}..{} and flagged for a look",
            ellipsize(&span.quote, 40),
            a.start,
            a.end
        ))),
        None => {}
    }
    match parts.char_len(span.part) {
        None => problems.push(Problem::error(format!(
            "{here}: the transcript has no part \"{}\"",
            span.part
        ))),
        // Placed again after an edit: what happens to it is said above.
        Some(_) if placed.is_some() => {}
        Some(len) => {
            if span.end > len {
                problems.push(Problem::error(format!(
                    "{here}: beyond the end of the part ({len} chars)"
                )));
            } else if span.start < span.end {
                let actual = parts
                    .text(span.part, span.start, span.end)
                    .unwrap_or_default();
                // The text did not change since it was saved (else the span was placed again
                // above): an orphan left for the user, or a damaged sidecar.
                if actual != span.quote {
                    problems.push(Problem::error(format!(
                        "{here}: the text there is \"{}\", not the quoted \"{}\"; the app lists it as an orphan to place again or delete",
                        ellipsize(actual, 40),
                        ellipsize(&span.quote, 40)
                    )));
                }
            }
        }
    }
    match codebook.dimension(&span.dimension) {
        Some(d) if d.applies_to != AppliesTo::Span => problems.push(Problem::warning(format!(
            "{here}: \"{}\" is coded on whole parts in the codebook",
            span.dimension
        ))),
        Some(_) => problems.extend(
            check_tag(
                codebook,
                None,
                &span.dimension,
                std::slice::from_ref(&span.value),
            )
            .into_iter()
            .map(|p| Problem {
                message: format!("{here}: {}", p.message),
                ..p
            }),
        ),
        None => problems.push(Problem::warning(format!(
            "{here}: unknown tag \"{}\" (not in codebook \"{}\"), kept as it is",
            span.dimension, codebook.id
        ))),
    }
    problems
}
