//! Moving between tools: a REFI-QDA project (`.qdpx`, from NVivo, ATLAS.ti, MAXQDA, QualCoder or
//! Marginalia) made into a Marginalia folder; codebooks read from a `.qdc`, a `.qdpx` or Taguette's
//! codebook CSV, with Marginalia's ids kept and a mapping file onto existing ids; Taguette's CSV
//! written.
//!
//! Files from other tools are untrusted: the zip is read entry by entry with a cap on what each
//! entry may unpack to, entry names are never used as paths, `project.qde` may not declare a
//! DTD (so no entity expansion and no external entities), and whatever cannot be placed or mapped
//! is listed in the report rather than dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::codebook::{AppliesTo, CodeValue, Codebook, Dimension, DimensionKind};
use crate::export::refi::CodeMarker;
use crate::sidecar::{Annotator, Sidecar, Span, Status, check_annotator_id, sidecar_path};
use crate::transcript::{PartId, Transcript};

/// Largest `project.qde` unpacked, in bytes.
pub const MAX_QDE_BYTES: u64 = 256 * 1024 * 1024;
/// Largest codebook file read (`.qdc`, CSV), in bytes.
pub const MAX_CODEBOOK_FILE_BYTES: u64 = 32 * 1024 * 1024;
/// Most entries in a `.qdpx`.
pub const MAX_ZIP_ENTRIES: usize = 200_000;
/// Deepest element nesting read from XML.
const MAX_XML_DEPTH: usize = 256;
/// File name of the report written beside the imported folder's files.
pub const REPORT_FILE: &str = "import-report.md";
/// File name of the document attributes (REFI-QDA variables and cases) of an imported project.
pub const ATTRIBUTES_FILE: &str = "attributes.csv";

/// Why an import failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The input file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The input is not what was expected; the message says what it is.
    #[error("cannot import {}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The output folder is not new or empty.
    #[error("{} is not empty: import into a new or empty folder", .0.display())]
    NotEmpty(PathBuf),
    /// Writing the output failed.
    #[error(transparent)]
    Write(#[from] crate::fsutil::WriteError),
    /// Writing a sidecar failed.
    #[error(transparent)]
    Sidecar(#[from] crate::sidecar::SidecarError),
}

// ---------------------------------------------------------------------------------------------
// A small bounded XML tree.

/// An XML element: local name, attributes, children and its own text.
#[derive(Debug, Default, Clone)]
pub struct Element {
    /// Local name, without namespace prefix.
    pub name: String,
    /// Attributes by local name, unescaped.
    pub attrs: Vec<(String, String)>,
    /// Child elements in order.
    pub children: Vec<Element>,
    /// The element's text (character data directly inside it).
    pub text: String,
}

impl Element {
    /// The value of an attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child of this name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The children of this name.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child of this name ("" when absent).
    pub fn child_text(&self, name: &str) -> &str {
        self.child(name).map_or("", |c| c.text.as_str())
    }
}

/// Why XML could not be read into an [`Element`] tree (one line each).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// The bytes are not UTF-8; the valid prefix ends at this byte.
    #[error("not UTF-8 text (byte {0})")]
    NotUtf8(usize),
    /// An attribute cannot be read.
    #[error("bad attribute: {0}")]
    Attribute(String),
    /// An attribute's value cannot be read.
    #[error("bad attribute value: {0}")]
    AttributeValue(String),
    /// The parser's own error.
    #[error("not valid XML at byte {at}: {message}")]
    Syntax {
        /// Where.
        at: u64,
        /// The parser's message.
        message: String,
    },
    /// A `<!DOCTYPE>`, refused so that no entity is declared or fetched.
    #[error(
        "the XML declares a DTD (<!DOCTYPE>): entity declarations and external entities are refused"
    )]
    Doctype,
    /// Nesting deeper than the limit.
    #[error("elements are nested more than {MAX_XML_DEPTH} deep")]
    TooDeep,
    /// An end tag without its start.
    #[error("an end tag closes nothing")]
    StrayEndTag,
    /// An entity other than XML's five.
    #[error(
        "the XML uses the entity &{0}; which XML does not define (entity declarations are refused)"
    )]
    UnknownEntity(String),
    /// The text ends inside an element.
    #[error("the file ends inside an element")]
    Unclosed,
    /// No element at all.
    #[error("no XML element in the file")]
    NoElement,
    /// More than one top-level element.
    #[error("more than one root element")]
    SeveralRoots,
}

/// Why codes could not be read from a REFI-QDA codebook or project, Taguette's CSV, or a mapping
/// file (one line each; the caller names the file).
#[derive(Debug, thiserror::Error)]
pub enum CodesError {
    /// The XML cannot be read.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// The XML's root is not `<CodeBook>`.
    #[error("not a REFI-QDA codebook (no CodeBook element)")]
    NotACodebook,
    /// A project file whose root is not `<Project>`.
    #[error("project.qde's root is <{0}>, not a REFI-QDA <Project>")]
    NotAProject(String),
    /// No codes.
    #[error("the codebook has no codes")]
    NoCodes,
    /// A Taguette CSV without tags.
    #[error("the codebook has no tags")]
    NoTags,
    /// The CSV reader failed on the header.
    #[error("not CSV: {0}")]
    NotCsv(String),
    /// A row that cannot be read or used.
    #[error("row {row}: {message}")]
    Row {
        /// The row's line number, the header being 1.
        row: usize,
        /// What is wrong.
        message: String,
    },
    /// A mapping file without its four columns.
    #[error("a mapping file needs the columns dimension,value,dimension_id,value_id")]
    MappingColumns,
    /// A Taguette CSV without a tag column.
    #[error("not a Taguette codebook: no 'tag', 'name' or 'path' column")]
    NoTagColumn,
    /// A Taguette CSV with more than one tag column.
    #[error("not a Taguette codebook: more than one of the columns 'tag', 'name', 'path'")]
    SeveralTagColumns,
    /// The codes make a codebook that breaks a rule.
    #[error(transparent)]
    Rules(#[from] crate::codebook::RuleError),
    /// The codebook after applying a mapping breaks a rule.
    #[error("after mapping: {0}")]
    AfterMapping(#[source] crate::codebook::RuleError),
}

/// Why an entry of a zip file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// The zip reader failed.
    #[error(transparent)]
    Zip(#[from] zip::result::ZipError),
    /// Reading the entry failed.
    #[error("{name}: {source}")]
    Read {
        /// The entry's name.
        name: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The entry says it unpacks to more than the limit.
    #[error("{name} unpacks to {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// The entry's name.
        name: String,
        /// Its size as the header says.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The entry unpacked to more than its header said, and more than the limit.
    #[error("{name} unpacks to more than {limit} bytes (its header claimed less: a zip bomb?)")]
    Bomb {
        /// The entry's name.
        name: String,
        /// The limit.
        limit: u64,
    },
    /// No `project.qde` in the zip.
    #[error("a zip file without project.qde: not a REFI-QDA project")]
    NoProject,
}

/// Parses XML into a tree. Refuses a DTD (entity declarations, external entities), entities
/// other than XML's five and character references, nesting deeper than 256, and text that is
/// not UTF-8 (a BOM is allowed).
pub fn parse_xml(bytes: &[u8]) -> Result<Element, XmlError> {
    use quick_xml::events::Event;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| XmlError::NotUtf8(e.valid_up_to()))?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Element> = vec![Element::default()];
    let element = |e: &quick_xml::events::BytesStart| -> Result<Element, XmlError> {
        let mut el = Element {
            name: e.local_name().as_ref().to_string(),
            ..Element::default()
        };
        for a in e.attributes() {
            let a = a.map_err(|e| XmlError::Attribute(e.to_string()))?;
            let value = a
                .normalized_value(quick_xml::XmlVersion::default())
                .map_err(|e| XmlError::AttributeValue(e.to_string()))?
                .into_owned();
            el.attrs
                .push((a.key.local_name().as_ref().to_string(), value));
        }
        Ok(el)
    };
    loop {
        let event = reader.read_event().map_err(|e| XmlError::Syntax {
            at: reader.buffer_position(),
            message: e.to_string(),
        })?;
        match event {
            Event::DocType(_) => {
                return Err(XmlError::Doctype);
            }
            Event::Start(e) => {
                if stack.len() > MAX_XML_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                stack.push(element(&e)?);
            }
            Event::Empty(e) => {
                let el = element(&e)?;
                if let Some(top) = stack.last_mut() {
                    top.children.push(el);
                }
            }
            Event::End(_) => {
                if stack.len() < 2 {
                    return Err(XmlError::StrayEndTag);
                }
                let el = stack.pop().expect("checked above");
                if let Some(top) = stack.last_mut() {
                    top.children.push(el);
                }
            }
            Event::Text(t) => {
                let inside = stack.len() > 1;
                if let Some(top) = stack.last_mut()
                    && inside
                {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                let c = r.resolve_char_ref().ok().flatten().or(match &*r {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    _ => None,
                });
                match c {
                    Some(c) => {
                        if let Some(top) = stack.last_mut() {
                            top.text.push(c);
                        }
                    }
                    None => {
                        return Err(XmlError::UnknownEntity((*r).to_string()));
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err(XmlError::Unclosed);
    }
    let mut doc = stack.pop().expect("one left");
    match doc.children.len() {
        1 => Ok(doc.children.remove(0)),
        0 => Err(XmlError::NoElement),
        _ => Err(XmlError::SeveralRoots),
    }
}

// ---------------------------------------------------------------------------------------------
// Codes and codebooks.

/// A code of a REFI-QDA codebook.
#[derive(Debug, Default, Clone)]
pub struct RefiCode {
    /// Its GUID, lower case.
    pub guid: String,
    /// Its name.
    pub name: String,
    /// Whether text can be coded with it.
    pub codable: bool,
    /// `#rrggbb` or `#rgb`, when given.
    pub color: Option<String>,
    /// Its description, without the marker line.
    pub description: String,
    /// Marginalia's ids, when the code was written by Marginalia.
    pub marker: Option<CodeMarker>,
    /// Child codes.
    pub children: Vec<RefiCode>,
}

/// The codes under a `Codes` element.
pub fn codes_of(codes: &Element) -> Vec<RefiCode> {
    codes
        .all("Code")
        .map(|c| {
            let (description, marker) = CodeMarker::split(c.child_text("Description"));
            RefiCode {
                guid: c.attr("guid").unwrap_or("").to_ascii_lowercase(),
                name: c.attr("name").unwrap_or("").trim().to_string(),
                // REFI-QDA makes isCodable required; a missing one is read as codable, as
                // QualCoder does.
                codable: c.attr("isCodable").is_none_or(|v| v == "true" || v == "1"),
                color: c.attr("color").map(str::to_string),
                description,
                marker,
                children: codes_of(c),
            }
        })
        .collect()
}

/// What a code of the imported codebook stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeTarget {
    /// Dimension id.
    pub dimension: String,
    /// Value id or entity.
    pub value: String,
}

/// A codebook read from another tool, with what each code became.
#[derive(Debug, Clone)]
pub struct ImportedCodebook {
    /// The codebook.
    pub codebook: Codebook,
    /// Code GUID (lower case) -> what it stands for.
    pub targets: BTreeMap<String, CodeTarget>,
    /// What could not be mapped, or was guessed, one line each.
    pub notes: Vec<String>,
}

fn slug(name: &str, max: usize) -> String {
    let mut s = String::new();
    for c in name.to_lowercase().chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '_' };
        if !(c == '_' && (s.is_empty() || s.ends_with('_'))) {
            s.push(c);
        }
    }
    let s: String = s.trim_matches('_').chars().take(max).collect();
    let s = s.trim_end_matches('_').to_string();
    if s.is_empty() { "code".to_string() } else { s }
}

fn unique(id: String, taken: &mut BTreeSet<String>) -> String {
    let mut candidate = id.clone();
    let mut n = 2;
    while !taken.insert(candidate.clone()) {
        candidate = format!("{id}_{n}");
        n += 1;
    }
    candidate
}

fn normalize_color(c: Option<&str>, fallback: &str) -> String {
    match c {
        Some(c) if c.len() == 7 && crate::codebook::parse_color(c).is_some() => c.to_lowercase(),
        Some(c) if c.len() == 4 && c.starts_with('#') && c.is_ascii() => {
            let expanded: String = c[1..].chars().flat_map(|x| [x, x]).collect();
            let full = format!("#{expanded}");
            if crate::codebook::parse_color(&full).is_some() {
                full.to_lowercase()
            } else {
                fallback.to_string()
            }
        }
        _ => fallback.to_string(),
    }
}

const PALETTE: &[&str] = &[
    "#5b7db1", "#b1755b", "#4f8a5b", "#a14f4f", "#5b9fb1", "#e6a23c", "#409eff", "#67c23a",
    "#b37feb", "#f56c6c",
];

/// A value id valid in a codebook: the marker's when it is a valid id, else one from the label.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Turns REFI-QDA codes into a Marginalia codebook.
///
/// Codes written by Marginalia (with a marker line) come back with their ids, kinds, where they
/// apply, shortcuts and groups. Other top-level codes with children become span dimensions with
/// one value per descendant (nested names joined with " / ", a codable parent a value of its
/// own); codable top-level codes without children are gathered in one dimension, "Codes"; an
/// empty non-codable code is listed and left out. Codes whose GUID is in `skip` (cases) are left
/// out.
#[expect(
    clippy::too_many_lines,
    reason = "one pass over the codes that fills dimensions, values and targets together"
)]
pub fn codebook_from_codes(
    roots: &[RefiCode],
    name: &str,
    skip: &BTreeSet<String>,
) -> Result<ImportedCodebook, crate::codebook::RuleError> {
    let mut notes = Vec::new();
    let mut targets = BTreeMap::new();
    let mut dim_ids = BTreeSet::new();
    let mut dimensions: Vec<Dimension> = Vec::new();
    let mut leaves: Vec<&RefiCode> = Vec::new();
    let mut codebook_id: Option<(String, String)> = None;
    let roots: Vec<&RefiCode> = roots.iter().filter(|c| !skip.contains(&c.guid)).collect();
    // The parent of codes used in sidecars but missing from Marginalia's codebook.
    let mut expanded: Vec<&RefiCode> = Vec::new();
    for r in &roots {
        let marginalia_group = r.marker.is_none()
            && !r.children.is_empty()
            && r.children
                .iter()
                .all(|c| c.marker.as_ref().is_some_and(|m| !m.in_codebook));
        if marginalia_group {
            expanded.extend(r.children.iter());
        } else {
            expanded.push(r);
        }
    }
    for (i, root) in expanded.iter().enumerate() {
        if root.name.is_empty() {
            notes.push(format!(
                "a top-level code without a name (guid {}) and its {} sub-codes are left out",
                root.guid,
                count_codes(&root.children)
            ));
            continue;
        }
        if let Some(m) = &root.marker
            && let (Some(applies_to), Some(kind), true) = (m.applies_to, m.kind, m.value.is_none())
        {
            if codebook_id.is_none() {
                codebook_id = m.codebook.clone();
            }
            let mut values = Vec::new();
            let mut known = Vec::new();
            let mut value_ids = BTreeSet::new();
            let id = unique(
                if valid_id(&m.dimension) {
                    m.dimension.clone()
                } else {
                    slug(&root.name, 48)
                },
                &mut dim_ids,
            );
            let color = normalize_color(root.color.as_deref(), PALETTE[i % PALETTE.len()]);
            for c in &root.children {
                let vm = c.marker.clone().unwrap_or_default();
                let label = vm.label.clone().unwrap_or_else(|| c.name.clone());
                let description = strip_dimension_prefix(&c.description, &root.name, &label);
                if kind == DimensionKind::Entity {
                    let entity = vm.value.clone().unwrap_or_else(|| label.clone());
                    if vm.in_codebook {
                        known.push(entity.clone());
                    }
                    targets.insert(
                        c.guid.clone(),
                        CodeTarget {
                            dimension: id.clone(),
                            value: entity,
                        },
                    );
                } else {
                    let value_id = vm
                        .value
                        .clone()
                        .filter(|v| valid_id(v))
                        .unwrap_or_else(|| slug(&label, 48));
                    targets.insert(
                        c.guid.clone(),
                        CodeTarget {
                            dimension: id.clone(),
                            value: value_id.clone(),
                        },
                    );
                    if vm.in_codebook && value_ids.insert(value_id.clone()) {
                        values.push(CodeValue {
                            id: value_id,
                            label,
                            description,
                            color: normalize_color(c.color.as_deref(), &color),
                            key: vm.key.clone(),
                        });
                    }
                }
                if !c.children.is_empty() {
                    notes.push(format!(
                        "{} codes nested under \"{}\" in \"{}\" are left out: Marginalia's values have no sub-values",
                        count_codes(&c.children),
                        c.name,
                        root.name
                    ));
                }
            }
            if values.is_empty() && kind != DimensionKind::Entity {
                notes.push(format!(
                    "dimension \"{}\" has no values in the codebook: left out of codebook.ron, its codings keep their ids",
                    root.name
                ));
                continue;
            }
            let description = root.description.clone();
            dimensions.push(Dimension {
                requires: None,
                id,
                label: root.name.clone(),
                description,
                color,
                applies_to,
                kind,
                values,
                known_values: known,
                key: m.key.clone(),
                group: m.group.clone(),
            });
            continue;
        }
        if let Some(m) = &root.marker
            && !m.in_codebook
            && m.value.is_none()
        {
            // A dimension used in sidecars but not in Marginalia's codebook: its codings keep
            // their ids; the codebook does not gain it.
            for c in &root.children {
                let vm = c.marker.clone().unwrap_or_default();
                targets.insert(
                    c.guid.clone(),
                    CodeTarget {
                        dimension: m.dimension.clone(),
                        value: vm.value.unwrap_or_else(|| c.name.clone()),
                    },
                );
            }
            notes.push(format!(
                "dimension \"{}\" was used in annotations but is not in the codebook: its codings keep their ids",
                m.dimension
            ));
            continue;
        }
        if root.children.is_empty() {
            if root.codable {
                leaves.push(root);
            } else {
                notes.push(format!(
                    "\"{}\" is an empty category (not codable, no sub-codes): left out",
                    root.name
                ));
            }
            continue;
        }
        let color = normalize_color(root.color.as_deref(), PALETTE[i % PALETTE.len()]);
        let id = unique(slug(&root.name, 48), &mut dim_ids);
        let mut values = Vec::new();
        let mut value_ids = BTreeSet::new();
        if root.codable {
            let v = value_of(root, &root.name, &color, &mut value_ids);
            targets.insert(
                root.guid.clone(),
                CodeTarget {
                    dimension: id.clone(),
                    value: v.id.clone(),
                },
            );
            values.push(v);
        }
        flatten(
            &root.children,
            "",
            &color,
            &id,
            &mut values,
            &mut value_ids,
            &mut targets,
        );
        if values.is_empty() {
            notes.push(format!(
                "\"{}\" has only categories under it, nothing codable: left out",
                root.name
            ));
            continue;
        }
        dimensions.push(Dimension {
            requires: None,
            id,
            label: root.name.clone(),
            description: root.description.clone(),
            color,
            applies_to: AppliesTo::Span,
            kind: DimensionKind::OneChoice,
            values,
            known_values: Vec::new(),
            key: None,
            group: None,
        });
    }
    if !leaves.is_empty() {
        let id = unique("codes".to_string(), &mut dim_ids);
        let mut value_ids = BTreeSet::new();
        let mut values = Vec::new();
        for (i, c) in leaves.iter().enumerate() {
            let v = value_of(c, &c.name, PALETTE[i % PALETTE.len()], &mut value_ids);
            targets.insert(
                c.guid.clone(),
                CodeTarget {
                    dimension: id.clone(),
                    value: v.id.clone(),
                },
            );
            values.push(v);
        }
        dimensions.push(Dimension {
            requires: None,
            id,
            label: "Codes".to_string(),
            description: "Top-level codes of the imported codebook".to_string(),
            color: "#7f8c8d".to_string(),
            applies_to: AppliesTo::Span,
            kind: DimensionKind::OneChoice,
            values,
            known_values: Vec::new(),
            key: None,
            group: None,
        });
    }
    let (id, cb_name, description) = match codebook_id {
        Some((id, n)) if valid_id(&id) => (id, n, String::new()),
        _ => (
            format!("imported-{}", slug(name, 40)),
            name.to_string(),
            "Imported from another tool".to_string(),
        ),
    };
    let mut codebook = Codebook {
        schema: crate::codebook::CODEBOOK_SCHEMA,
        id,
        name: cb_name,
        description,
        dimensions,
    };
    // Shortcuts that clash (two tools' conventions merged) are dropped rather than refusing
    // the codebook.
    if codebook.check().is_err() {
        for d in &mut codebook.dimensions {
            d.key = None;
            for v in &mut d.values {
                v.key = None;
            }
        }
    }
    codebook.check()?;
    Ok(ImportedCodebook {
        codebook,
        targets,
        notes,
    })
}

/// Turns a REFI-QDA codebook (`.qdc` XML) into a Marginalia codebook; see
/// [`codebook_from_codes`] for how codes become dimensions and values.
pub fn import_qdc(xml: &str, name: &str) -> Result<Codebook, CodesError> {
    let root = parse_xml(xml.as_bytes())?;
    if root.name != "CodeBook" {
        return Err(CodesError::NotACodebook);
    }
    let codes = root.child("Codes").map(codes_of).unwrap_or_default();
    if codes.is_empty() {
        return Err(CodesError::NoCodes);
    }
    Ok(codebook_from_codes(&codes, name, &BTreeSet::new())?.codebook)
}

fn count_codes(codes: &[RefiCode]) -> usize {
    codes.iter().map(|c| 1 + count_codes(&c.children)).sum()
}

/// Marginalia writes a value's description as "<dimension>: <description>"; takes the prefix off.
fn strip_dimension_prefix(description: &str, dimension: &str, label: &str) -> String {
    let d = description
        .strip_prefix(dimension)
        .and_then(|r| r.strip_prefix(": "))
        .unwrap_or(description);
    if d == label {
        String::new()
    } else {
        d.to_string()
    }
}

fn value_of(
    code: &RefiCode,
    label: &str,
    fallback: &str,
    taken: &mut BTreeSet<String>,
) -> CodeValue {
    CodeValue {
        id: unique(slug(label, 60), taken),
        label: label.to_string(),
        description: code.description.clone(),
        color: normalize_color(code.color.as_deref(), fallback),
        key: None,
    }
}

fn flatten(
    codes: &[RefiCode],
    prefix: &str,
    color: &str,
    dimension: &str,
    out: &mut Vec<CodeValue>,
    taken: &mut BTreeSet<String>,
    targets: &mut BTreeMap<String, CodeTarget>,
) {
    for c in codes {
        let label = if prefix.is_empty() {
            c.name.clone()
        } else {
            format!("{prefix} / {}", c.name)
        };
        if c.codable || c.children.is_empty() {
            let v = value_of(c, &label, color, taken);
            targets.insert(
                c.guid.clone(),
                CodeTarget {
                    dimension: dimension.to_string(),
                    value: v.id.clone(),
                },
            );
            out.push(v);
        }
        flatten(&c.children, &label, color, dimension, out, taken, targets);
    }
}

/// Applies a mapping file (CSV with columns `dimension,value,dimension_id,value_id`): the
/// imported dimension labelled `dimension` gets the id `dimension_id`; with `value` set, its
/// value labelled `value` gets the id `value_id`. Lets an imported codebook keep the ids that
/// existing sidecars use.
pub fn apply_mapping(imported: &mut ImportedCodebook, csv_text: &str) -> Result<usize, CodesError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(csv_text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| CodesError::NotCsv(e.to_string()))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(cd), Some(cv), Some(cdi), Some(cvi)) = (
        col("dimension"),
        col("value"),
        col("dimension_id"),
        col("value_id"),
    ) else {
        return Err(CodesError::MappingColumns);
    };
    let mut applied = 0;
    for (n, row) in reader.records().enumerate() {
        let row = row.map_err(|e| CodesError::Row {
            row: n + 2,
            message: e.to_string(),
        })?;
        let get = |i: usize| row.get(i).unwrap_or("").trim().to_string();
        let (dim_label, value_label, dim_id, value_id) = (get(cd), get(cv), get(cdi), get(cvi));
        if dim_label.is_empty() {
            continue;
        }
        let Some(d) = imported
            .codebook
            .dimensions
            .iter_mut()
            .find(|d| d.label == dim_label || d.id == dim_label)
        else {
            return Err(CodesError::Row {
                row: n + 2,
                message: format!("no imported dimension \"{dim_label}\""),
            });
        };
        let old_dim = d.id.clone();
        if !dim_id.is_empty() {
            d.id = dim_id.clone();
        }
        let mut renamed_value: Option<(String, String)> = None;
        if !value_label.is_empty() && !value_id.is_empty() {
            let Some(v) = d
                .values
                .iter_mut()
                .find(|v| v.label == value_label || v.id == value_label)
            else {
                return Err(CodesError::Row {
                    row: n + 2,
                    message: format!("dimension \"{dim_label}\" has no value \"{value_label}\""),
                });
            };
            renamed_value = Some((v.id.clone(), value_id.clone()));
            v.id = value_id;
        }
        let new_dim = d.id.clone();
        for t in imported.targets.values_mut() {
            if t.dimension == old_dim {
                if let Some((old_v, new_v)) = &renamed_value
                    && &t.value == old_v
                {
                    t.value = new_v.clone();
                }
                t.dimension = new_dim.clone();
            }
        }
        applied += 1;
    }
    imported
        .codebook
        .check()
        .map_err(CodesError::AfterMapping)?;
    Ok(applied)
}

/// Reads Taguette's codebook CSV: one column of tag paths named `tag`, `name` or `path`
/// (exactly one of them, as Taguette requires), an optional `description`, and the
/// `marginalia` column Marginalia adds so its ids survive. A path's parts are separated by `.`;
/// the first part is the dimension.
pub fn codes_from_taguette_csv(text: &str) -> Result<Vec<RefiCode>, CodesError> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| CodesError::NotCsv(e.to_string()))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let path_cols: Vec<usize> = ["tag", "name", "path"]
        .iter()
        .filter_map(|n| col(n))
        .collect();
    let path_col = match path_cols.as_slice() {
        [c] => *c,
        [] => {
            return Err(CodesError::NoTagColumn);
        }
        _ => {
            return Err(CodesError::SeveralTagColumns);
        }
    };
    let desc_col = col("description");
    let marker_col = col("marginalia");
    let mut roots: Vec<RefiCode> = Vec::new();
    for (n, row) in reader.records().enumerate() {
        let row = row.map_err(|e| CodesError::Row {
            row: n + 2,
            message: e.to_string(),
        })?;
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let path = row.get(path_col).unwrap_or("").trim();
        if path.is_empty() {
            return Err(CodesError::Row {
                row: n + 2,
                message: "empty tag name".to_string(),
            });
        }
        let description = desc_col.and_then(|c| row.get(c)).unwrap_or("").to_string();
        let marker = marker_col
            .and_then(|c| row.get(c))
            .and_then(|m| serde_json::from_str::<CodeMarker>(m).ok());
        let parts: Vec<&str> = path.split('.').map(str::trim).collect();
        let mut level = &mut roots;
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let pos = match level.iter().position(|c| c.name == *part) {
                Some(p) => p,
                None => {
                    level.push(RefiCode {
                        guid: format!("taguette:{}", parts[..=i].join(".")),
                        name: part.to_string(),
                        codable: false,
                        ..RefiCode::default()
                    });
                    level.len() - 1
                }
            };
            if last {
                let c = &mut level[pos];
                c.codable = true;
                c.description = description.clone();
                c.marker = marker.clone();
                if let Some(m) = &c.marker
                    && m.value.is_none()
                {
                    // A dimension row: the dimension itself is not codable in Marginalia.
                    c.codable = false;
                }
            }
            level = &mut level[pos].children;
        }
    }
    if roots.is_empty() {
        return Err(CodesError::NoTags);
    }
    Ok(roots)
}

/// For a REFI-QDA file given where a transcript is expected: what it is and which command
/// reads it, by its extension.
pub fn refi_file_hint(path: &Path) -> Option<&'static str> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "qdpx" => Some(
            "a REFI-QDA project, not a transcript: make a Marginalia folder from it with `marginalia import-project FILE.qdpx OUT_DIR`",
        ),
        "qdc" => Some(
            "a REFI-QDA codebook, not a transcript: make a codebook.ron from it with `marginalia import-codebook FILE.qdc`",
        ),
        _ => None,
    }
}

/// What a file handed to `import-codebook` is, from its first bytes.
fn sniff(bytes: &[u8]) -> &'static str {
    let trimmed = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(bytes)
        .trim_ascii_start();
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        "zip"
    } else if trimmed.starts_with(b"<") {
        "xml"
    } else if trimmed.starts_with(b"(") || trimmed.starts_with(b"//") {
        "ron"
    } else if bytes.starts_with(b"%PDF") {
        "pdf"
    } else {
        "text"
    }
}

/// Reads a codebook from a `.qdc`, the codebook of a `.qdpx`, or Taguette's codebook CSV, told
/// apart by content; any other file gets an error that says what it looks like.
pub fn read_codebook(path: &Path) -> Result<ImportedCodebook, ImportError> {
    let invalid = |message: String| ImportError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "imported".to_string());
    let file = crate::fsutil::open_regular(path).map_err(|e| match e {
        crate::fsutil::ReadError::Io(source) => ImportError::Io {
            path: path.to_path_buf(),
            source,
        },
        other => invalid(other.to_string()),
    })?;
    let mut head = Vec::new();
    (&file)
        .take(8)
        .read_to_end(&mut head)
        .map_err(|source| ImportError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    drop(file);
    if sniff(&head) == "zip" {
        let mut zip = open_zip(path)?;
        let (qde, _) = read_qde(&mut zip).map_err(|e| invalid(e.to_string()))?;
        let root = parse_xml(&qde).map_err(|e| invalid(format!("project.qde: {e}")))?;
        let (codes, cases) = project_codes(&root).map_err(|e| invalid(e.to_string()))?;
        return codebook_from_codes(&codes, &name, &cases).map_err(|e| invalid(e.to_string()));
    }
    let bytes =
        crate::fsutil::read_limited(path, MAX_CODEBOOK_FILE_BYTES).map_err(|e| match e {
            crate::fsutil::ReadError::Io(source) => ImportError::Io {
                path: path.to_path_buf(),
                source,
            },
            other => invalid(other.to_string()),
        })?;
    match sniff(&bytes) {
        "xml" => {
            let root = parse_xml(&bytes).map_err(|e| invalid(e.to_string()))?;
            let codes = match root.name.as_str() {
                "CodeBook" => root
                    .child("Codes")
                    .map(codes_of)
                    .ok_or_else(|| invalid("the codebook has no Codes element".to_string()))?,
                "Project" => project_codes(&root).map_err(|e| invalid(e.to_string()))?.0,
                other => {
                    return Err(invalid(format!(
                        "an XML file whose root is <{other}>, not a REFI-QDA codebook (<CodeBook>)"
                    )));
                }
            };
            if codes.is_empty() {
                return Err(invalid("the codebook has no codes".to_string()));
            }
            codebook_from_codes(&codes, &name, &BTreeSet::new()).map_err(|e| invalid(e.to_string()))
        }
        "ron" => Err(invalid(
            "this looks like a Marginalia codebook.ron already: copy it into the folder instead"
                .to_string(),
        )),
        "pdf" => Err(invalid("a PDF file, not a codebook".to_string())),
        _ => {
            let text = String::from_utf8(bytes)
                .map_err(|_| invalid("neither a REFI-QDA codebook nor UTF-8 CSV".to_string()))?;
            let codes = codes_from_taguette_csv(&text).map_err(|e| invalid(e.to_string()))?;
            codebook_from_codes(&codes, &name, &BTreeSet::new()).map_err(|e| invalid(e.to_string()))
        }
    }
}

/// The codes of a project and the GUIDs of its cases (whose codes link cases to text).
fn project_codes(root: &Element) -> Result<(Vec<RefiCode>, BTreeSet<String>), CodesError> {
    if root.name != "Project" {
        return Err(CodesError::NotAProject(root.name.clone()));
    }
    let codes = root
        .child("CodeBook")
        .and_then(|c| c.child("Codes"))
        .map(codes_of)
        .unwrap_or_default();
    let cases = root
        .child("Cases")
        .map(|c| {
            c.all("Case")
                .filter_map(|c| c.attr("guid"))
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default();
    Ok((codes, cases))
}

// ---------------------------------------------------------------------------------------------
// The zip.

fn open_zip(path: &Path) -> Result<zip::ZipArchive<std::fs::File>, ImportError> {
    let file = crate::fsutil::open_regular(path).map_err(|e| match e {
        crate::fsutil::ReadError::Io(source) => ImportError::Io {
            path: path.to_path_buf(),
            source,
        },
        other => ImportError::Invalid {
            path: path.to_path_buf(),
            message: other.to_string(),
        },
    })?;
    let zip = zip::ZipArchive::new(file).map_err(|e| ImportError::Invalid {
        path: path.to_path_buf(),
        message: format!("not a REFI-QDA project (.qdpx is a zip file): {e}"),
    })?;
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(ImportError::Invalid {
            path: path.to_path_buf(),
            message: format!(
                "{} entries in the zip, over the limit of {MAX_ZIP_ENTRIES}",
                zip.len()
            ),
        });
    }
    Ok(zip)
}

/// Reads a zip entry, at most `limit` bytes unpacked whatever its header claims.
fn read_entry<R: std::io::Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    index: usize,
    limit: u64,
) -> Result<Vec<u8>, EntryError> {
    let entry = zip.by_index(index)?;
    let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
    if entry.size() > limit {
        return Err(EntryError::TooLarge {
            name,
            size: entry.size(),
            limit,
        });
    }
    let mut bytes = Vec::new();
    entry
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| EntryError::Read {
            name: name.clone(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(EntryError::Bomb { name, limit });
    }
    Ok(bytes)
}

/// `project.qde` (or the one `.qde` at the top of the zip) and its entry name.
fn read_qde<R: std::io::Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
) -> Result<(Vec<u8>, String), EntryError> {
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .collect();
    let qde = names
        .iter()
        .find(|n| n.eq_ignore_ascii_case("project.qde"))
        .or_else(|| {
            names
                .iter()
                .find(|n| !n.contains('/') && n.to_ascii_lowercase().ends_with(".qde"))
        })
        .cloned()
        .ok_or(EntryError::NoProject)?;
    let index = zip.index_for_name(&qde).ok_or(EntryError::NoProject)?;
    Ok((read_entry(zip, index, MAX_QDE_BYTES)?, qde))
}

// ---------------------------------------------------------------------------------------------
// Positions.

/// How a tool counted positions in a source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// Unicode code points (the standard).
    CodePoints,
    /// Code points, with CRLF counted as one (ATLAS.ti).
    CrlfAsOne,
    /// UTF-16 code units (NVivo).
    Utf16,
}

impl Unit {
    fn describe(self) -> &'static str {
        match self {
            Unit::CodePoints => "code points",
            Unit::CrlfAsOne => "code points with CRLF counted as one (as ATLAS.ti counts)",
            Unit::Utf16 => "UTF-16 code units (as NVivo counts)",
        }
    }
}

/// Converts positions counted in `unit` (after skipping `skip` leading units) into char indices
/// of `text`; positions past the end give `None`. One pass over the text, whatever the number
/// of positions.
fn to_char_indices(
    text: &str,
    unit: Unit,
    skip: usize,
    positions: &[u64],
) -> Vec<Option<(usize, usize)>> {
    let mut order: Vec<usize> = (0..positions.len()).collect();
    order.sort_by_key(|&i| positions[i]);
    let mut out = vec![None; positions.len()];
    let mut k = 0;
    let mut units: u64 = 0;
    let mut prev_cr = false;
    let mut chars = text.char_indices().peekable();
    let mut ci = 0usize;
    let target = |i: usize| Some(positions[i].saturating_sub(skip as u64));
    let width = |c: char, prev_cr: bool| -> u64 {
        match unit {
            Unit::CodePoints => 1,
            Unit::CrlfAsOne if c == '\n' && prev_cr => 0,
            Unit::CrlfAsOne => 1,
            Unit::Utf16 => c.len_utf16() as u64,
        }
    };
    loop {
        let (bi, c) = match chars.peek() {
            Some(&(bi, c)) => (bi, Some(c)),
            None => (text.len(), None),
        };
        // Every position equal to the units counted so far lands on the current char, unless
        // it counts for nothing (the LF of a CRLF counted as one): then on the next.
        let w = c.map_or(1, |c| width(c, prev_cr));
        if w > 0 {
            while k < order.len() && target(order[k]).is_some_and(|t| t <= units) {
                if target(order[k]) == Some(units) {
                    out[order[k]] = Some((ci, bi));
                }
                k += 1;
            }
        }
        let Some(c) = c else { break };
        prev_cr = c == '\r';
        units += w;
        ci += 1;
        chars.next();
    }
    out
}

/// Normalizes text as [`crate::transcript::normalize`] does and maps char indices of the raw
/// text to char indices of the normalized one: removed characters (CR, trailing spaces, extra
/// blank lines) map to where they would have been.
fn normalize_mapped(raw: &str, positions: &[usize]) -> (String, Vec<usize>) {
    let mut order: Vec<usize> = (0..positions.len()).collect();
    order.sort_by_key(|&i| positions[i]);
    let mut mapped = vec![0; positions.len()];
    let mut k = 0;
    let mut out = String::with_capacity(raw.len());
    let mut out_chars = 0usize;
    let mut pending_blank = false;
    // Positions in blank lines wait for the next line with text: they fall after as many of the
    // line breaks normalizing writes before it as the raw text had before them (a selection that
    // ends on a paragraph's line break keeps it), or at the end when no text follows. Each is
    // (index into `positions`, line breaks since the last text).
    let mut deferred: Vec<(usize, usize)> = Vec::new();
    let mut breaks = 0usize;
    // Lines split at LF, CRLF or lone CR, with the raw char index where each starts.
    let mut line_start = 0usize;
    let mut line = String::new();
    let mut line_len = 0usize;
    let mut iter = raw.chars().peekable();
    let mut idx = 0usize;
    let mut finish_line = |line: &str,
                           line_len: usize,
                           line_start: usize,
                           end_idx: usize,
                           out: &mut String,
                           out_chars: &mut usize,
                           pending_blank: &mut bool,
                           k: &mut usize,
                           deferred: &mut Vec<(usize, usize)>,
                           breaks: &mut usize| {
        let trimmed = line.trim_end_matches(crate::transcript::normalize::is_trailing_space);
        let trimmed_len = if trimmed.len() == line.len() {
            line_len
        } else {
            trimmed.chars().count()
        };
        let content_start;
        if trimmed.is_empty() {
            *pending_blank = !out.is_empty();
            content_start = *out_chars;
        } else {
            let before = *out_chars;
            if !out.is_empty() {
                out.push('\n');
                *out_chars += 1;
                if *pending_blank {
                    out.push('\n');
                    *out_chars += 1;
                }
            }
            for (i, b) in deferred.drain(..) {
                mapped[i] = before + b.min(*out_chars - before);
            }
            *breaks = 0;
            *pending_blank = false;
            content_start = *out_chars;
            out.push_str(trimmed);
            *out_chars += trimmed_len;
        }
        // Positions in this line (and its line break, up to end_idx exclusive).
        while *k < order.len() && positions[order[*k]] < end_idx {
            let p = positions[order[*k]];
            let offset = p.saturating_sub(line_start).min(trimmed_len);
            if trimmed.is_empty() {
                deferred.push((order[*k], *breaks));
            } else {
                mapped[order[*k]] = content_start + offset;
            }
            *k += 1;
        }
        *breaks += 1;
    };
    while let Some(c) = iter.next() {
        if c == '\n' || c == '\r' {
            let mut end = idx + 1;
            if c == '\r' && iter.peek() == Some(&'\n') {
                iter.next();
                end += 1;
            }
            finish_line(
                &line,
                line_len,
                line_start,
                end,
                &mut out,
                &mut out_chars,
                &mut pending_blank,
                &mut k,
                &mut deferred,
                &mut breaks,
            );
            line.clear();
            line_len = 0;
            idx = end;
            line_start = end;
        } else {
            line.push(c);
            line_len += 1;
            idx += 1;
        }
    }
    finish_line(
        &line,
        line_len,
        line_start,
        usize::MAX,
        &mut out,
        &mut out_chars,
        &mut pending_blank,
        &mut k,
        &mut deferred,
        &mut breaks,
    );
    // Blank lines at the end: normalizing drops them.
    for (i, _) in deferred {
        mapped[i] = out_chars;
    }
    (out, mapped)
}

// ---------------------------------------------------------------------------------------------
// Project import.

/// What an import did, for the report.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    /// Transcripts written.
    pub documents: usize,
    /// Sidecars written.
    pub sidecars: usize,
    /// Part tags written.
    pub tags: usize,
    /// Spans written.
    pub spans: usize,
    /// The tool that wrote the project (`origin`).
    pub origin: String,
    /// Everything that was guessed, could not be placed or could not be mapped, one line each.
    pub lines: Vec<String>,
    /// Notes of the project that no selection referred to, as (name, text).
    pub notes: Vec<(String, String)>,
}

impl ImportReport {
    /// The report as Markdown, as written beside the output.
    pub fn markdown(&self, file: &Path) -> String {
        let mut s = format!(
            "# Import of {}\n\nWritten by: {}\n\n{} documents, {} sidecars, {} part tags, {} spans.\n\n",
            file.display(),
            if self.origin.is_empty() {
                "(the project does not say)"
            } else {
                &self.origin
            },
            self.documents,
            self.sidecars,
            self.tags,
            self.spans
        );
        if self.lines.is_empty() {
            s.push_str("Everything was imported.\n");
        } else {
            s.push_str("## Not imported, changed or guessed\n\n");
            for l in &self.lines {
                s.push_str("- ");
                s.push_str(l);
                s.push('\n');
            }
        }
        if !self.notes.is_empty() {
            s.push_str("\n## Project notes (kept here; Marginalia has no project notes)\n");
            for (name, text) in &self.notes {
                s.push_str(&format!("\n### {name}\n\n{text}\n"));
            }
        }
        s
    }
}

/// A selection read from the project, in the source's units.
struct Selection {
    start: u64,
    end: u64,
    name: String,
    description: String,
    user: Option<String>,
    codes: Vec<String>,
    notes: Vec<String>,
}

fn selection_of(el: &Element, fallback_user: Option<&str>) -> Option<Selection> {
    let start = el.attr("startPosition")?.trim().parse::<u64>().ok()?;
    let end = el.attr("endPosition")?.trim().parse::<u64>().ok()?;
    let mut user = el
        .attr("creatingUser")
        .or_else(|| el.attr("modifyingUser"))
        .map(str::to_ascii_lowercase);
    let mut codes = Vec::new();
    for c in el.all("Coding") {
        if user.is_none() {
            user = c.attr("creatingUser").map(str::to_ascii_lowercase);
        }
        for r in c.all("CodeRef") {
            if let Some(g) = r.attr("targetGUID") {
                codes.push(g.to_ascii_lowercase());
            }
        }
    }
    Some(Selection {
        start,
        end,
        name: el.attr("name").unwrap_or("").to_string(),
        description: el.child_text("Description").trim().to_string(),
        user: user.or(fallback_user.map(str::to_string)),
        codes,
        notes: el
            .all("NoteRef")
            .filter_map(|n| n.attr("targetGUID"))
            .map(str::to_ascii_lowercase)
            .collect(),
    })
}

/// A file name that is safe in one folder: no separators, no `..`, no control characters,
/// not empty, not hidden; Windows' reserved characters replaced.
fn safe_component(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    s = s.trim().trim_start_matches('.').to_string();
    if s.chars().count() > 120 {
        s = s.chars().take(120).collect();
    }
    if s.is_empty() {
        "source".to_string()
    } else {
        s
    }
}

/// The relative path of an imported transcript: the `path` variable Marginalia writes (folders
/// kept, every component made safe), else the source's name with `.txt`.
fn output_relative(name: &str, path_variable: Option<&str>) -> PathBuf {
    if let Some(p) = path_variable {
        let comps: Vec<String> = p
            .split('/')
            .filter(|c| !c.is_empty() && *c != "." && *c != "..")
            .map(safe_component)
            .collect();
        if let Some(last) = comps.last() {
            let mut comps = comps.clone();
            // A ParlParse item (`answers.xml#12`) comes back as a text file of its own.
            if !has_transcript_extension(last) {
                let n = comps.len() - 1;
                comps[n] = format!("{last}.txt");
            }
            return comps.iter().collect();
        }
    }
    let base = safe_component(name);
    let lower = base.to_ascii_lowercase();
    let stem = [".txt", ".text", ".docx", ".doc", ".rtf", ".odt"]
        .iter()
        .find_map(|ext| {
            lower
                .ends_with(ext)
                .then(|| &base[..base.len() - ext.len()])
        })
        .filter(|s| !s.is_empty())
        .unwrap_or(&base);
    PathBuf::from(format!("{stem}.txt"))
}

fn has_transcript_extension(name: &str) -> bool {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| {
            crate::transcript::TRANSCRIPT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str())
        })
}

/// Imports a REFI-QDA project into `out_dir` (new or empty): transcripts, `codebook.ron`, one
/// sidecar per document and user, `attributes.csv`, and the report `import-report.md`, which
/// is also returned. Nothing is written outside `out_dir`.
#[expect(
    clippy::too_many_lines,
    reason = "reads the project in the order of the REFI-QDA schema, section by section, into one report"
)]
pub fn import_project(file: &Path, out_dir: &Path) -> Result<ImportReport, ImportError> {
    let invalid = |message: String| ImportError::Invalid {
        path: file.to_path_buf(),
        message,
    };
    if out_dir.exists() {
        let mut entries = std::fs::read_dir(out_dir).map_err(|source| ImportError::Io {
            path: out_dir.to_path_buf(),
            source,
        })?;
        if entries.next().is_some() {
            return Err(ImportError::NotEmpty(out_dir.to_path_buf()));
        }
    }
    let mut zip = open_zip(file)?;
    let (qde, qde_name) = read_qde(&mut zip).map_err(|e| invalid(e.to_string()))?;
    let root = parse_xml(&qde).map_err(|e| invalid(format!("{qde_name}: {e}")))?;
    drop(qde);
    let (codes, case_guids) = project_codes(&root).map_err(|e| invalid(e.to_string()))?;
    let name = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "imported".to_string());
    let imported = codebook_from_codes(&codes, &name, &case_guids)
        .map_err(|e| invalid(format!("its codebook: {e}")))?;
    let mut report = ImportReport {
        origin: root.attr("origin").unwrap_or("").to_string(),
        ..ImportReport::default()
    };
    report.lines.extend(imported.notes.iter().cloned());
    let from_marginalia = report.origin.starts_with("Marginalia");
    let origin_lower = report.origin.to_ascii_lowercase();

    // Entries by lower-case name, without folder; unsafe names are listed and never read.
    let mut entries: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..zip.len() {
        let Ok(e) = zip.by_index_raw(i) else { continue };
        let n = String::from_utf8_lossy(e.name_raw()).into_owned();
        if e.enclosed_name().is_none() {
            report.lines.push(format!(
                "zip entry \"{n}\" is ignored: its name points outside the project"
            ));
            continue;
        }
        if e.is_dir() {
            continue;
        }
        let lower = n.to_ascii_lowercase();
        let key = lower.strip_prefix("sources/").unwrap_or(&lower).to_string();
        entries.entry(key).or_insert(i);
    }

    // Users: guid -> annotator.
    let mut users: BTreeMap<String, Annotator> = BTreeMap::new();
    let mut taken_ids = BTreeSet::new();
    for u in root.child("Users").into_iter().flat_map(|u| u.all("User")) {
        let Some(g) = u.attr("guid") else { continue };
        let display = u.attr("name").unwrap_or("").trim().to_string();
        let wanted = u
            .attr("id")
            .filter(|id| check_annotator_id(id).is_ok())
            .map(str::to_string)
            .unwrap_or_else(|| {
                slug(if display.is_empty() { "user" } else { &display }, 28).replace('_', "-")
            });
        let id = unique_annotator(&wanted, &mut taken_ids);
        users.insert(g.to_ascii_lowercase(), Annotator { id, name: display });
    }
    let project_user = root.attr("creatingUserGUID").map(str::to_ascii_lowercase);

    // Variables and cases.
    let variables: BTreeMap<String, String> = root
        .child("Variables")
        .into_iter()
        .flat_map(|v| v.all("Variable"))
        .filter_map(|v| {
            Some((
                v.attr("guid")?.to_ascii_lowercase(),
                v.attr("name")?.to_string(),
            ))
        })
        .collect();
    let value_of_var = |vv: &Element| -> Option<(String, String)> {
        let guid = vv
            .child("VariableRef")?
            .attr("targetGUID")?
            .to_ascii_lowercase();
        let name = variables.get(&guid).cloned().unwrap_or(guid);
        let value = vv
            .children
            .iter()
            .find(|c| c.name.ends_with("Value"))
            .map(|c| c.text.trim().to_string())
            .unwrap_or_default();
        Some((name, value))
    };
    // source guid -> attribute rows (name, value)
    let mut attributes: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut case_names: BTreeMap<String, String> = BTreeMap::new();
    for c in root.child("Cases").into_iter().flat_map(|c| c.all("Case")) {
        let guid = c.attr("guid").unwrap_or("").to_ascii_lowercase();
        let case_name = c.attr("name").map(str::to_string);
        let vars: Vec<(String, String)> = c.all("VariableValue").filter_map(value_of_var).collect();
        if let Some(n) = &case_name {
            case_names.insert(guid.clone(), n.clone());
        }
        for s in c.all("SourceRef").filter_map(|s| s.attr("targetGUID")) {
            let rows = attributes.entry(s.to_ascii_lowercase()).or_default();
            match &case_name {
                Some(n) => {
                    rows.push(("case".to_string(), n.clone()));
                    rows.extend(vars.iter().map(|(k, v)| (format!("case {k}"), v.clone())));
                }
                // MAXQDA and Quirkos attach a document's variables through a nameless case.
                None => rows.extend(vars.iter().cloned()),
            }
        }
    }

    // Notes: guid -> (name, text).
    // guid -> (name, text, creating user)
    let mut notes: BTreeMap<String, (String, String, Option<String>)> = BTreeMap::new();
    for n in root.child("Notes").into_iter().flat_map(|n| n.all("Note")) {
        let guid = n.attr("guid").unwrap_or("").to_ascii_lowercase();
        let mut text = n.child_text("PlainTextContent").to_string();
        if text.is_empty()
            && let Some(p) = n.attr("plainTextPath")
            && let Some(&i) = entries.get(&internal_name(p).to_ascii_lowercase())
            && let Ok(bytes) = read_entry(&mut zip, i, crate::transcript::MAX_TRANSCRIPT_BYTES)
        {
            text = String::from_utf8_lossy(&bytes)
                .trim_start_matches('\u{FEFF}')
                .to_string();
        }
        notes.insert(
            guid,
            (
                n.attr("name").unwrap_or("Note").to_string(),
                text,
                n.attr("creatingUser").map(str::to_ascii_lowercase),
            ),
        );
    }
    let mut used_notes: BTreeSet<String> = BTreeSet::new();

    for (what, count) in [
        ("Links", root.child("Links").map_or(0, |l| l.children.len())),
        ("Sets", root.child("Sets").map_or(0, |l| l.children.len())),
        (
            "Graphs",
            root.child("Graphs").map_or(0, |l| l.children.len()),
        ),
    ] {
        if count > 0 {
            report.lines.push(format!(
                "{count} {} not imported: Marginalia has no {}",
                what.to_lowercase(),
                what.to_lowercase()
            ));
        }
    }

    std::fs::create_dir_all(out_dir).map_err(|source| ImportError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let codebook = &imported.codebook;
    crate::fsutil::atomic_write(
        &out_dir.join(crate::codebook::CODEBOOK_FILE_NAME),
        codebook.to_ron().as_bytes(),
    )?;

    let mut written_paths: BTreeSet<String> = BTreeSet::new();
    let mut layouts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut attribute_rows: Vec<[String; 3]> = Vec::new();
    let sources = root.child("Sources");
    for s in sources.into_iter().flat_map(|s| s.children.iter()) {
        let sname = s.attr("name").unwrap_or("").to_string();
        let sguid = s.attr("guid").unwrap_or("").to_ascii_lowercase();
        let label = if sname.is_empty() {
            sguid.clone()
        } else {
            sname.clone()
        };
        let coded = count_selections(s);
        if s.name != "TextSource" {
            let kind = match s.name.as_str() {
                "PictureSource" => "picture",
                "PDFSource" => "PDF",
                "AudioSource" => "audio",
                "VideoSource" => "video",
                other => other,
            };
            report.lines.push(format!(
                "{kind} source \"{label}\" and its {coded} codings not imported: Marginalia codes text only"
            ));
            continue;
        }
        // The text.
        let text_bytes = if let Some(p) = s.attr("plainTextPath") {
            if p.starts_with("relative://")
                || p.starts_with("absolute://")
                || p.starts_with("file:")
            {
                report.lines.push(format!(
                    "source \"{label}\" and its {coded} codings not imported: its text is outside the project ({p})"
                ));
                continue;
            }
            let key = internal_name(p).to_ascii_lowercase();
            let Some(&i) = entries.get(&key) else {
                report.lines.push(format!(
                    "source \"{label}\" and its {coded} codings not imported: {p} is not in the project"
                ));
                continue;
            };
            match read_entry(&mut zip, i, crate::transcript::MAX_TRANSCRIPT_BYTES) {
                Ok(b) => b,
                Err(e) => {
                    report.lines.push(format!(
                        "source \"{label}\" and its {coded} codings not imported: {e}"
                    ));
                    continue;
                }
            }
        } else if let Some(c) = s.child("PlainTextContent") {
            c.text.clone().into_bytes()
        } else {
            report.lines.push(format!(
                "source \"{label}\" and its {coded} codings not imported: it has no plain text"
            ));
            continue;
        };
        let had_bom = text_bytes.starts_with(b"\xEF\xBB\xBF");
        let decoded = match crate::transcript::decode_owned(text_bytes) {
            Ok(d) => d,
            Err(e) => {
                report.lines.push(format!(
                    "source \"{label}\" and its {coded} codings not imported: {e}"
                ));
                continue;
            }
        };
        for w in &decoded.warnings {
            report.lines.push(format!("source \"{label}\": {w}"));
        }
        let raw = decoded
            .text
            .strip_prefix('\u{FEFF}')
            .unwrap_or(&decoded.text);
        let fallback_user = s
            .attr("creatingUser")
            .map(str::to_ascii_lowercase)
            .or_else(|| project_user.clone());
        let mut selections: Vec<Selection> = s
            .all("PlainTextSelection")
            .filter_map(|el| selection_of(el, fallback_user.as_deref()))
            .collect();
        let bad = s.all("PlainTextSelection").count() - selections.len();
        if bad > 0 {
            report.lines.push(format!(
                "source \"{label}\": {bad} selections without valid start and end positions skipped"
            ));
        }
        // Codings of the whole source.
        let whole: Vec<String> = s
            .all("Coding")
            .flat_map(|c| c.all("CodeRef"))
            .filter_map(|r| r.attr("targetGUID"))
            .map(str::to_ascii_lowercase)
            .collect();
        if !whole.is_empty() {
            selections.push(Selection {
                start: 0,
                end: u64::MAX,
                name: String::new(),
                description: String::new(),
                user: fallback_user.clone(),
                codes: whole,
                notes: Vec::new(),
            });
        }
        // Which unit the positions count in: the one under which most selection names equal
        // the text they select; the tool's known habit on a tie.
        let (unit, skip) = guess_unit(raw, had_bom, &selections, &origin_lower);
        if unit != Unit::CodePoints || skip > 0 {
            report.lines.push(format!(
                "source \"{label}\": positions read as {}{}",
                unit.describe(),
                if skip > 0 { ", counting the BOM" } else { "" }
            ));
        }
        let mut raw_positions: Vec<u64> = Vec::with_capacity(selections.len() * 2);
        for sel in &selections {
            raw_positions.push(sel.start);
            raw_positions.push(if sel.end == u64::MAX { 0 } else { sel.end });
        }
        let char_idx = to_char_indices(raw, unit, skip, &raw_positions);
        let raw_len = raw.chars().count();
        let mut in_raw: Vec<usize> = Vec::with_capacity(char_idx.len());
        let mut in_bytes: Vec<usize> = Vec::with_capacity(char_idx.len());
        for (i, c) in char_idx.iter().enumerate() {
            let is_whole_end = i % 2 == 1 && selections[i / 2].end == u64::MAX;
            let (ci, bi) = if is_whole_end {
                (raw_len, raw.len())
            } else {
                c.unwrap_or((usize::MAX, usize::MAX))
            };
            in_raw.push(ci);
            in_bytes.push(bi);
        }
        let clamped: Vec<usize> = in_raw.iter().map(|&p| p.min(raw_len)).collect();
        let (normalized, norm_pos) = normalize_mapped(raw, &clamped);
        debug_assert_eq!(normalized, crate::transcript::normalize(raw));

        // Where the transcript goes, and its layout.
        let path_var = s
            .all("VariableValue")
            .filter_map(value_of_var)
            .find(|(n, _)| n == "path")
            .map(|(_, v)| v)
            .filter(|_| from_marginalia);
        let mut rel = output_relative(&label, path_var.as_deref());
        let mut n = 2;
        while !written_paths.insert(rel.to_string_lossy().to_lowercase()) {
            let stem = rel
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            rel.set_file_name(format!("{stem} {n}.txt"));
            n += 1;
        }
        let rel_str = crate::dataset::relative_path(Path::new(""), &rel);
        let out_path = out_dir.join(&rel);
        let file_name = out_path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let transcript =
            Transcript::from_text(&file_name, &normalized, "UTF-8".to_string(), Vec::new());
        let (segments, _) = crate::export::refi::part_segments(&normalized, &transcript.parts);
        *layouts.entry(transcript.format.as_str()).or_default() += 1;

        // Codings per user. Each part indexed once for all its codings: counting a part's chars
        // and walking to each coding's start made a long document's import quadratic.
        let mut lookup = crate::sidecar::PartLookup::new(&transcript);
        let mut sidecars: BTreeMap<String, Sidecar> = BTreeMap::new();
        let mut quote_mismatch = 0usize;
        let mut skipped_range = 0usize;
        let mut skipped_outside = 0usize;
        let mut split = 0usize;
        let mut unknown_code = 0usize;
        let mut cases_here: BTreeSet<String> = BTreeSet::new();
        for (si, sel) in selections.iter().enumerate() {
            let (a, b) = (in_raw[si * 2], in_raw[si * 2 + 1]);
            if a == usize::MAX || b == usize::MAX || a >= b {
                skipped_range += sel.codes.len().max(1);
                continue;
            }
            let (start, end) = (norm_pos[si * 2], norm_pos[si * 2 + 1]);
            // The selection's name is often its text (ATLAS.ti, Marginalia): checked once, when
            // it becomes a span (a part tag's or a case's selection is named otherwise).
            let mut quote_checked = false;
            let mut note = sel.description.clone();
            for g in &sel.notes {
                if let Some((_, text, _)) = notes.get(g) {
                    used_notes.insert(g.clone());
                    if !note.is_empty() {
                        note.push_str("\n\n");
                    }
                    note.push_str(text.trim());
                }
            }
            for code in &sel.codes {
                if case_guids.contains(code) {
                    if let Some(n) = case_names.get(code) {
                        cases_here.insert(n.clone());
                    }
                    continue;
                }
                let Some(target) = imported.targets.get(code) else {
                    unknown_code += 1;
                    continue;
                };
                let user_key = sel.user.clone().unwrap_or_default();
                let annotator = users.get(&user_key).cloned().unwrap_or_else(|| {
                    let id = if user_key.is_empty() {
                        "imported".to_string()
                    } else {
                        format!("user-{}", &user_key.chars().take(8).collect::<String>())
                    };
                    let a = Annotator {
                        id: unique_annotator(&id, &mut taken_ids),
                        name: String::new(),
                    };
                    users.insert(user_key.clone(), a.clone());
                    a
                });
                let sidecar = sidecars.entry(annotator.id.clone()).or_insert_with(|| {
                    let mut s = Sidecar::new(annotator.clone(), &transcript, codebook);
                    s.status = Status::InProgress;
                    s
                });
                let pieces = pieces(&segments, start, end);
                if pieces.is_empty() {
                    skipped_outside += 1;
                    continue;
                }
                if pieces.len() > 1 {
                    split += 1;
                }
                let dim = codebook.dimension(&target.dimension);
                for (part, from, to) in pieces {
                    let text = lookup.part(part).expect("segments are of its parts").text();
                    let whole_part = from == 0 && Some(to) == lookup.char_len(part);
                    let tag_here = dim.is_some_and(|d| match d.applies_to {
                        AppliesTo::Question => part.kind == crate::transcript::PartKind::Question,
                        AppliesTo::Answer => part.kind == crate::transcript::PartKind::Answer,
                        AppliesTo::Span => false,
                    });
                    if tag_here && whole_part {
                        sidecar
                            .tags
                            .entry(part)
                            .or_default()
                            .entry(target.dimension.clone())
                            .or_default()
                            .push(target.value.clone());
                        report.tags += 1;
                        continue;
                    }
                    if !quote_checked {
                        quote_checked = true;
                        if sel.end != u64::MAX && looks_like_quote(&sel.name) {
                            let got = &raw[in_bytes[si * 2]..in_bytes[si * 2 + 1]];
                            if !quote_matches(&sel.name, got) {
                                quote_mismatch += 1;
                            }
                        }
                    }
                    let id = format!("{}-{:03}", annotator.id, sidecar.spans.len() + 1);
                    if let Some(mut span) = lookup.byte(part, from).and_then(|at| {
                        Span::new_at(
                            id,
                            part,
                            text,
                            from,
                            to,
                            at,
                            &target.dimension,
                            &target.value,
                        )
                    }) {
                        span.note = note.clone();
                        sidecar.spans.push(span);
                        report.spans += 1;
                    }
                }
            }
        }
        if skipped_range > 0 {
            report.lines.push(format!(
                "source \"{label}\": {skipped_range} codings skipped: their positions are outside the text or reversed"
            ));
        }
        if skipped_outside > 0 {
            report.lines.push(format!(
                "source \"{label}\": {skipped_outside} codings skipped: they select only text outside the question and answer parts (headings, labels)"
            ));
        }
        if split > 0 {
            report.lines.push(format!(
                "source \"{label}\": {split} codings crossed parts and became one span per part"
            ));
        }
        if unknown_code > 0 {
            report.lines.push(format!(
                "source \"{label}\": {unknown_code} codings skipped: their code is not in the codebook (or is a category)"
            ));
        }
        if quote_mismatch > 0 {
            report.lines.push(format!(
                "source \"{label}\": {quote_mismatch} selections' names differ from the text at their positions (imported at the positions)"
            ));
        }
        // Notes on the source (NVivo's memos, Marginalia's) become the memo of their user's
        // sidecar.
        for g in s
            .all("NoteRef")
            .filter_map(|n| n.attr("targetGUID"))
            .map(str::to_ascii_lowercase)
        {
            let Some((_, text, user)) = notes.get(&g) else {
                continue;
            };
            if text.trim().is_empty() {
                continue;
            }
            used_notes.insert(g.clone());
            let user_key = user
                .clone()
                .or_else(|| fallback_user.clone())
                .unwrap_or_default();
            let annotator = match users.get(&user_key) {
                Some(a) => a.clone(),
                None => {
                    let a = Annotator {
                        id: unique_annotator("imported", &mut taken_ids),
                        name: String::new(),
                    };
                    users.insert(user_key, a.clone());
                    a
                }
            };
            let sc = sidecars
                .entry(annotator.id.clone())
                .or_insert_with(|| Sidecar::new(annotator.clone(), &transcript, codebook));
            if !sc.memo.is_empty() {
                sc.memo.push_str("\n\n");
            }
            sc.memo.push_str(text.trim());
        }
        // Descriptions and variables.
        let description = s.child_text("Description").trim().to_string();
        for sc in sidecars.values_mut() {
            if !description.is_empty() && !from_marginalia && sc.memo.is_empty() {
                sc.memo = description.clone();
            }
        }
        if !description.is_empty() && !from_marginalia {
            attribute_rows.push([rel_str.clone(), "description".to_string(), description]);
        }
        for (k, v) in s.all("VariableValue").filter_map(value_of_var) {
            attribute_rows.push([rel_str.clone(), k, v]);
        }
        for (k, v) in attributes.get(&sguid).into_iter().flatten() {
            attribute_rows.push([rel_str.clone(), k.clone(), v.clone()]);
        }
        for c in &cases_here {
            if !attributes
                .get(&sguid)
                .is_some_and(|rows| rows.iter().any(|(k, v)| k == "case" && v == c))
            {
                attribute_rows.push([rel_str.clone(), "case".to_string(), c.clone()]);
            }
        }
        if let Some(parent) = out_path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| ImportError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        crate::fsutil::atomic_write(&out_path, normalized.as_bytes())?;
        report.documents += 1;
        for sc in sidecars.values() {
            sc.save(&sidecar_path(&out_path, &sc.annotator.id))?;
            report.sidecars += 1;
        }
    }
    if !layouts.is_empty() {
        let list: Vec<String> = layouts.iter().map(|(k, n)| format!("{n} {k}")).collect();
        report.lines.push(format!(
            "layouts recognised in the sources: {} (plain: one part, no question or answer)",
            list.join(", ")
        ));
    }
    for (g, (n, text, _)) in &notes {
        if !used_notes.contains(g) {
            report.notes.push((n.clone(), text.clone()));
        }
    }
    if !attribute_rows.is_empty() {
        let mut w = csv::Writer::from_writer(Vec::new());
        let csv_err = |e: csv::Error| invalid(format!("cannot write {ATTRIBUTES_FILE}: {e}"));
        w.write_record(["document", "attribute", "value"])
            .map_err(csv_err)?;
        for r in &attribute_rows {
            w.write_record(r).map_err(csv_err)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| invalid(format!("cannot write {ATTRIBUTES_FILE}: {e}")))?;
        crate::fsutil::atomic_write(&out_dir.join(ATTRIBUTES_FILE), &bytes)?;
        report.lines.push(format!(
            "{} document attributes (variables, cases, descriptions) written to {ATTRIBUTES_FILE}: Marginalia reads a document's fields from its text",
            attribute_rows.len()
        ));
    }
    crate::fsutil::atomic_write(&out_dir.join(REPORT_FILE), report.markdown(file).as_bytes())?;
    Ok(report)
}

fn unique_annotator(wanted: &str, taken: &mut BTreeSet<String>) -> String {
    let base: String = wanted.chars().take(28).collect();
    let base = if check_annotator_id(&base).is_ok() {
        base
    } else {
        "user".to_string()
    };
    let mut id = base.clone();
    let mut n = 2;
    while !taken.insert(id.clone()) {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

/// The file name in an `internal://` path (or a bare file name, as some tools write).
fn internal_name(path: &str) -> &str {
    let p = path.strip_prefix("internal://").unwrap_or(path);
    p.rsplit(['/', '\\']).next().unwrap_or(p)
}

fn count_selections(el: &Element) -> usize {
    el.children
        .iter()
        .map(|c| {
            if c.name.ends_with("Selection") {
                c.all("Coding").count().max(1)
            } else if c.name == "Representation" || c.name == "Transcript" {
                count_selections(c)
            } else {
                0
            }
        })
        .sum()
}

fn looks_like_quote(name: &str) -> bool {
    let n = name.trim();
    !n.is_empty() && n.chars().count() >= 4
}

/// A selection's name matches its text: equal, or (Marginalia, ATLAS.ti shorten long quotes) a
/// prefix before an ellipsis; whitespace compared loosely.
fn quote_matches(name: &str, text: &str) -> bool {
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let n = squash(name);
    let t = squash(text);
    if n == t {
        return true;
    }
    for ellipsis in ["…", "..."] {
        if let Some(head) = n.strip_suffix(ellipsis)
            && !head.is_empty()
            && t.starts_with(head.trim_end())
        {
            return true;
        }
    }
    false
}

/// Picks the unit of positions (and whether a BOM was counted): the candidate under which most
/// selections' names equal their text; on a tie, what the tool is known to do.
fn guess_unit(raw: &str, had_bom: bool, selections: &[Selection], origin: &str) -> (Unit, usize) {
    let has_crlf = raw.contains("\r\n");
    let has_astral = raw.chars().any(|c| c.len_utf16() > 1);
    let mut candidates = vec![(Unit::CodePoints, 0)];
    if has_crlf {
        candidates.push((Unit::CrlfAsOne, 0));
    }
    if has_astral {
        candidates.push((Unit::Utf16, 0));
    }
    if had_bom {
        let more: Vec<(Unit, usize)> = candidates.iter().map(|&(u, _)| (u, 1)).collect();
        candidates.extend(more);
    }
    let preferred = if origin.contains("nvivo") && has_astral {
        (Unit::Utf16, 0)
    } else if origin.contains("atlas") && has_crlf {
        (Unit::CrlfAsOne, 0)
    } else {
        (Unit::CodePoints, 0)
    };
    if candidates.len() == 1 {
        return candidates[0];
    }
    let named: Vec<&Selection> = selections
        .iter()
        .filter(|s| s.end != u64::MAX && looks_like_quote(&s.name))
        .take(2000)
        .collect();
    if named.is_empty() {
        return preferred;
    }
    let positions: Vec<u64> = named.iter().flat_map(|s| [s.start, s.end]).collect();
    let score = |(unit, skip): (Unit, usize)| -> usize {
        let idx = to_char_indices(raw, unit, skip, &positions);
        named
            .iter()
            .enumerate()
            .filter(|(i, s)| match (idx[i * 2], idx[i * 2 + 1]) {
                (Some((a, ba)), Some((b, bb))) if a < b => quote_matches(&s.name, &raw[ba..bb]),
                _ => false,
            })
            .count()
    };
    let preferred_score = score(preferred);
    let mut best = (preferred, preferred_score);
    for c in candidates {
        let sc = score(c);
        if sc > best.1 {
            best = (c, sc);
        }
    }
    best.0
}

/// The pieces of a selection `start..end` of the source text on the transcript's parts, as
/// (part, from, to) in the part's chars; consecutive pieces of one part (paragraphs of a turn)
/// are joined. Where the selection begins or ends between two paragraphs of a part, it keeps as
/// much of the part's line breaks as it took of the source's (the export writes a span ending on
/// a line break that way).
fn pieces(
    segments: &[crate::export::refi::Segment],
    start: usize,
    end: usize,
) -> Vec<(PartId, usize, usize)> {
    let mut out: Vec<(PartId, usize, usize)> = Vec::new();
    let mut add = |piece: (PartId, usize, usize)| {
        if piece.1 >= piece.2 {
            return;
        }
        match out.last_mut() {
            Some(last) if last.0 == piece.0 => last.2 = piece.2,
            _ => out.push(piece),
        }
    };
    for (i, s) in segments.iter().enumerate() {
        let (from, to) = (start.max(s.src), end.min(s.src + s.len));
        if from < to {
            add((s.part, s.off + from - s.src, s.off + to - s.src));
        }
        // The source between this paragraph and the next of the same part.
        if let Some(n) = segments.get(i + 1)
            && n.part == s.part
        {
            let (from, to) = (start.max(s.src + s.len), end.min(n.src));
            if from < to {
                let gap = |x| crate::export::refi::gap_position(s, n, x);
                add((s.part, gap(from), gap(to)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_mapped_agrees_with_normalize() {
        for raw in [
            "",
            "a",
            "\n\n  a  \r\n\r\n\r\nb\t\n\n",
            "line one  \r\nline two\rline three\n\n\n\nend  ",
            "x\u{a0}\n y",
        ] {
            let n = raw.chars().count();
            let positions: Vec<usize> = (0..=n).collect();
            let (out, map) = normalize_mapped(raw, &positions);
            assert_eq!(out, crate::transcript::normalize(raw), "{raw:?}");
            assert!(map.windows(2).all(|w| w[0] <= w[1]), "monotone: {map:?}");
            assert!(map.iter().all(|&m| m <= out.chars().count()));
        }
        // A position after a paragraph's line break keeps it; blank lines beyond the one
        // normalizing keeps, and blank lines at the end, add nothing.
        let (out, map) = normalize_mapped("a\n\nb", &[1, 2, 3, 4]);
        assert_eq!((out.as_str(), map), ("a\n\nb", vec![1, 2, 3, 4]));
        let (out, map) = normalize_mapped("a\n\n\n\nb", &[2, 3, 4, 5]);
        assert_eq!((out.as_str(), map), ("a\n\nb", vec![2, 3, 3, 3]));
        let (out, map) = normalize_mapped("a\n\n", &[1, 2, 3]);
        assert_eq!((out.as_str(), map), ("a", vec![1, 1, 1]));
        // A selection of a word keeps selecting that word.
        let raw = "  \r\nHello  \r\n\r\n\r\nworld of text\r\n";
        let start = raw.find("world").unwrap();
        let start = raw[..start].chars().count();
        let (out, map) = normalize_mapped(raw, &[start, start + 5]);
        let got: String = out.chars().skip(map[0]).take(map[1] - map[0]).collect();
        assert_eq!(got, "world");
    }

    #[test]
    fn units_convert() {
        let text = "a😀b\r\nc";
        // Code points: a=0 😀=1 b=2 \r=3 \n=4 c=5.
        let chars = |v: Vec<Option<(usize, usize)>>| -> Vec<Option<usize>> {
            v.into_iter().map(|x| x.map(|(c, _)| c)).collect()
        };
        assert_eq!(
            chars(to_char_indices(text, Unit::CodePoints, 0, &[0, 2, 5, 6, 7])),
            [Some(0), Some(2), Some(5), Some(6), None]
        );
        // Byte offsets come along: b is after the 4-byte emoji.
        assert_eq!(
            to_char_indices(text, Unit::CodePoints, 0, &[2]),
            [Some((2, 5))]
        );
        // UTF-16: the emoji is two units.
        assert_eq!(
            chars(to_char_indices(text, Unit::Utf16, 0, &[3, 6])),
            [Some(2), Some(5)]
        );
        // CRLF as one: c is at 4.
        assert_eq!(
            chars(to_char_indices(text, Unit::CrlfAsOne, 0, &[4])),
            [Some(5)]
        );
        // A counted BOM shifts every position by one.
        assert_eq!(
            chars(to_char_indices(text, Unit::CodePoints, 1, &[1])),
            [Some(0)]
        );
    }

    #[test]
    fn hostile_xml_is_refused() {
        let e = parse_xml(b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>")
            .unwrap_err();
        assert_eq!(e, XmlError::Doctype);
        assert!(e.to_string().contains("DTD"), "{e}");
        let e = parse_xml(b"<x>&a;</x>").unwrap_err();
        assert!(e.to_string().contains("&a;"), "{e}");
        let deep = "<a>".repeat(1000) + &"</a>".repeat(1000);
        assert_eq!(parse_xml(deep.as_bytes()).unwrap_err(), XmlError::TooDeep);
        assert!(
            parse_xml(b"\xff\xfe<x/>")
                .unwrap_err()
                .to_string()
                .contains("UTF-8")
        );
        let ok = parse_xml("\u{feff}<x a=\"1 &amp; 2\">t &#233;<y/></x>".as_bytes()).unwrap();
        assert_eq!(ok.attr("a"), Some("1 & 2"));
        assert_eq!(ok.text, "t é");
    }

    #[test]
    fn output_names_stay_inside() {
        assert_eq!(
            output_relative("../../etc/passwd", None),
            PathBuf::from("_.._etc_passwd.txt")
        );
        assert_eq!(
            output_relative("Interview 1.docx", None),
            PathBuf::from("Interview 1.txt")
        );
        assert_eq!(
            output_relative("x", Some("../a/./b.txt")),
            PathBuf::from("a/b.txt")
        );
        assert_eq!(output_relative("", None), PathBuf::from("source.txt"));
        assert_eq!(
            output_relative("x", Some("debates/answers.xml#12")),
            PathBuf::from("debates/answers.xml#12.txt")
        );
    }
}
