//! REFI-QDA: the project exchange format (`.qdpx`) and the codebook format (`.qdc`) that NVivo,
//! ATLAS.ti, MAXQDA and QualCoder read; and turning a `.qdc` into a Marginalia codebook.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;

use crate::codebook::{AppliesTo, CodeValue, Codebook, Dimension, DimensionKind};
use crate::dataset::{Dataset, DocumentData};
use rayon::prelude::*;

use crate::export::{ExportError, ExportSummary};
use crate::sidecar::PartLookup;
use crate::transcript::{PartId, PartKind};

/// A GUID (8-4-4-4-12 hex digits) derived from a key, so the same project exports identically.
pub fn guid(key: &str) -> String {
    let h = blake3::hash(key.as_bytes()).to_hex();
    let h = h.as_str();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Escapes text for XML content and attribute values. Characters XML 1.0 forbids are dropped.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
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
    out
}

/// The codes of the export: every dimension as a non-codable parent, its values (for entity
/// dimensions: known and used values) as codable children. Codes used in sidecars but missing
/// from the codebook are added under their dimension or under "Not in codebook", so nothing is
/// dropped.
struct CodeTree {
    /// dimension id -> (dimension guid, value -> value guid)
    guids: BTreeMap<String, (String, BTreeMap<String, String>)>,
    xml: String,
}

fn code_tree(codebook: &Codebook, used: &BTreeMap<String, BTreeSet<String>>) -> CodeTree {
    let mut guids = BTreeMap::new();
    let mut xml = String::new();
    let code_open = |xml: &mut String,
                     guid: &str,
                     name: &str,
                     codable: bool,
                     color: Option<&str>,
                     description: &str,
                     empty: bool| {
        let _ = write!(
            xml,
            "<Code guid=\"{guid}\" name=\"{}\" isCodable=\"{codable}\"",
            xml_escape(name)
        );
        if let Some(c) = color {
            let _ = write!(xml, " color=\"{}\"", xml_escape(c));
        }
        if empty && description.is_empty() {
            xml.push_str("/>");
            return;
        }
        xml.push('>');
        if !description.is_empty() {
            let _ = write!(
                xml,
                "<Description>{}</Description>",
                xml_escape(description)
            );
        }
        if empty {
            xml.push_str("</Code>");
        }
    };
    for d in &codebook.dimensions {
        let dg = guid(&format!("dimension:{}", d.id));
        code_open(
            &mut xml,
            &dg,
            &d.label,
            false,
            Some(&d.color),
            &d.description,
            false,
        );
        let mut values = BTreeMap::new();
        let mut children: Vec<(String, String, Option<String>, String)> = Vec::new();
        match d.kind {
            DimensionKind::Entity => {
                let mut names: BTreeSet<String> = d.known_values.iter().cloned().collect();
                names.extend(used.get(&d.id).into_iter().flatten().cloned());
                for n in names {
                    children.push((n.clone(), n, None, String::new()));
                }
            }
            _ => {
                for v in &d.values {
                    children.push((
                        v.id.clone(),
                        v.label.clone(),
                        Some(v.color.clone()),
                        v.description.clone(),
                    ));
                }
                for v in used.get(&d.id).into_iter().flatten() {
                    if d.value(v).is_none() {
                        children.push((
                            v.clone(),
                            v.clone(),
                            None,
                            "Used in annotations; not in the codebook".to_string(),
                        ));
                    }
                }
            }
        }
        for (value, name, color, description) in children {
            let vg = guid(&format!("value:{}:{value}", d.id));
            code_open(
                &mut xml,
                &vg,
                &name,
                true,
                color.as_deref(),
                &description,
                true,
            );
            values.insert(value, vg);
        }
        xml.push_str("</Code>");
        guids.insert(d.id.clone(), (dg, values));
    }
    let unknown: Vec<(&String, &BTreeSet<String>)> = used
        .iter()
        .filter(|(d, _)| codebook.dimension(d).is_none())
        .collect();
    if !unknown.is_empty() {
        let pg = guid("dimension:not-in-codebook");
        code_open(
            &mut xml,
            &pg,
            "Not in codebook",
            false,
            None,
            "Codes found in annotations but not in the codebook",
            false,
        );
        for (dim, vals) in unknown {
            let dg = guid(&format!("dimension:{dim}"));
            code_open(&mut xml, &dg, dim, false, None, "", false);
            let mut values = BTreeMap::new();
            for v in vals {
                let vg = guid(&format!("value:{dim}:{v}"));
                code_open(&mut xml, &vg, v, true, None, "", true);
                values.insert(v.clone(), vg);
            }
            xml.push_str("</Code>");
            guids.insert(dim.clone(), (dg, values));
        }
        xml.push_str("</Code>");
    }
    CodeTree { guids, xml }
}

/// The values used per dimension in the dataset's sidecars.
fn used_values(dataset: &Dataset) -> BTreeMap<String, BTreeSet<String>> {
    let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in dataset.documents.iter().flat_map(|d| &d.sidecars) {
        for dims in s.tags.values() {
            for (d, vals) in dims {
                used.entry(d.clone())
                    .or_default()
                    .extend(vals.iter().cloned());
            }
        }
        for x in &s.spans {
            used.entry(x.dimension.clone())
                .or_default()
                .insert(x.value.clone());
        }
    }
    used
}

/// The text of a source: a short header, then each part under its heading; and where each part
/// starts, in chars.
fn source_text(doc: &DocumentData) -> (String, BTreeMap<PartId, usize>) {
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
    let mut starts = BTreeMap::new();
    let several = t.exchange_count() > 1;
    // Chars counted as the text grows, not from the start for each part.
    let (mut counted_bytes, mut chars) = (0usize, 0usize);
    for p in &t.parts {
        let heading = match p.id.kind {
            PartKind::Question => "QUESTION",
            PartKind::Answer => "ANSWER",
            PartKind::Text => "TEXT",
        };
        text.push('\n');
        text.push_str(heading);
        if several {
            let _ = write!(text, " {}", p.id.exchange + 1);
        }
        if let Some(s) = &p.speaker {
            let _ = write!(text, " ({s})");
        }
        text.push_str("\n\n");
        chars += text[counted_bytes..].chars().count();
        counted_bytes = text.len();
        starts.insert(p.id, chars);
        text.push_str(&p.text);
        text.push('\n');
    }
    (text, starts)
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
];

fn variable_value(name: &str, kind: &str, value: &str) -> String {
    let element = match kind {
        "Date" => "DateValue",
        "Boolean" => "BooleanValue",
        _ => "TextValue",
    };
    format!(
        "<VariableValue><VariableRef targetGUID=\"{}\"/><{element}>{}</{element}></VariableValue>",
        guid(&format!("variable:{name}")),
        xml_escape(value)
    )
}

/// Builds a `.qdpx` project: `project.qde` and `sources/<guid>.txt` in a zip.
pub fn qdpx(
    dataset: &Dataset,
    include_uncoded: bool,
    summary: &mut ExportSummary,
) -> Result<Vec<u8>, ExportError> {
    let build = |e: &dyn std::fmt::Display| ExportError::Build(e.to_string());
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let tree = code_tree(&dataset.codebook, &used_values(dataset));
    let annotators = dataset.annotators();
    let user_guid = |id: &str| guid(&format!("user:{id}"));
    let name = dataset
        .root
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "Marginalia project".to_string());

    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let _ = write!(
        x,
        "<Project xmlns=\"urn:QDA-XML:project:1.0\" name=\"{}\" origin=\"Marginalia {}\" creationDateTime=\"{now}\">",
        xml_escape(&name),
        env!("CARGO_PKG_VERSION")
    );
    if !annotators.is_empty() {
        x.push_str("<Users>");
        for (id, display) in &annotators {
            let _ = write!(
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
        let _ = write!(x, "<CodeBook><Codes>{}</Codes></CodeBook>", tree.xml);
    }
    x.push_str("<Variables>");
    for (v, kind) in VARIABLES {
        let _ = write!(
            x,
            "<Variable guid=\"{}\" name=\"{v}\" typeOfVariable=\"{kind}\"/>",
            guid(&format!("variable:{v}"))
        );
    }
    x.push_str("</Variables>");

    let docs: Vec<&DocumentData> = dataset
        .documents
        .iter()
        .filter(|d| include_uncoded || !d.sidecars.is_empty())
        .collect();
    // One case per member, with the member's organisation and their questions.
    let mut cases: BTreeMap<String, (Option<String>, Vec<String>)> = BTreeMap::new();
    for d in &docs {
        if let Some(q) = &d.transcript.meta.question_by {
            let entry = cases.entry(q.clone()).or_default();
            if entry.0.is_none() {
                entry.0 = d.transcript.meta.organisation.clone();
            }
            entry.1.push(guid(&format!("source:{}", d.relative)));
        }
    }
    if !cases.is_empty() {
        x.push_str("<Cases>");
        for (member, (org, sources)) in &cases {
            let _ = write!(
                x,
                "<Case guid=\"{}\" name=\"{}\">",
                guid(&format!("case:{member}")),
                xml_escape(member)
            );
            if let Some(o) = org {
                x.push_str(&variable_value("organisation", "Text", o));
            }
            for s in sources {
                let _ = write!(x, "<SourceRef targetGUID=\"{s}\"/>");
            }
            x.push_str("</Case>");
        }
        x.push_str("</Cases>");
    }

    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(COMPRESSION_LEVEL));
    if !docs.is_empty() {
        x.push_str("<Sources>");
    }
    // Sources are compressed and described on every core, a few hundred per piece; the pieces are
    // put together in order, so the project is the same as one made on one thread.
    let pieces: Vec<Result<Piece, ExportError>> = docs
        .par_chunks(SOURCES_PER_PIECE)
        .map(|chunk| {
            let mut piece = Piece::default();
            let mut part = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            for d in chunk {
                let (xml, text) = source(d, &tree, &now, &mut piece);
                part.start_file(
                    format!("sources/{}.txt", guid(&format!("source:{}", d.relative))),
                    options,
                )
                .map_err(|e| build(&e))?;
                part.write_all(text.as_bytes()).map_err(|e| build(&e))?;
                piece.xml.push_str(&xml);
            }
            piece.zip = part.finish().map_err(|e| build(&e))?.into_inner();
            Ok(piece)
        })
        .collect();
    for piece in pieces {
        let piece = piece?;
        summary.documents += piece.documents;
        summary.annotations += piece.annotations;
        summary.warnings.extend(piece.warnings);
        zip.merge_archive(
            zip::ZipArchive::new(std::io::Cursor::new(piece.zip)).map_err(|e| build(&e))?,
        )
        .map_err(|e| build(&e))?;
        x.push_str(&piece.xml);
    }
    if !docs.is_empty() {
        x.push_str("</Sources>");
    }
    x.push_str("</Project>\n");
    zip.start_file("project.qde", options)
        .map_err(|e| build(&e))?;
    zip.write_all(x.as_bytes()).map_err(|e| build(&e))?;
    let cursor = zip.finish().map_err(|e| build(&e))?;
    Ok(cursor.into_inner())
}

/// Deflate level of the sources in a `.qdpx`, chosen by measurement (BENCHMARKS.md, "Corpus
/// commands"): the project of the 10,000-page corpus at each level, time against size.
const COMPRESSION_LEVEL: i64 = 6;

/// Sources compressed together on one core.
const SOURCES_PER_PIECE: usize = 256;

/// Part of a project made on one core: compressed sources, their XML, and what was counted.
#[derive(Default)]
struct Piece {
    zip: Vec<u8>,
    xml: String,
    documents: usize,
    annotations: usize,
    warnings: Vec<String>,
}

/// The `<TextSource>` element of a document and its plain text, counted into `summary`.
fn source(d: &DocumentData, tree: &CodeTree, now: &str, summary: &mut Piece) -> (String, String) {
    let user_guid = |id: &str| guid(&format!("user:{id}"));
    let mut x = String::new();
    summary.documents += 1;
    let sg = guid(&format!("source:{}", d.relative));
    let (text, starts) = source_text(d);
    let mut lookup = PartLookup::new(&d.transcript);
    let _ = write!(
        x,
        "<TextSource guid=\"{sg}\" name=\"{}\" plainTextPath=\"internal://{sg}.txt\" creationDateTime=\"{now}\">",
        xml_escape(&d.relative)
    );
    let m = &d.transcript.meta;
    let _ = write!(
        x,
        "<Description>{}</Description>",
        xml_escape(&format!(
            "{} ({})",
            d.relative,
            d.transcript.format.as_str()
        ))
    );
    for s in &d.sidecars {
        let user = user_guid(&s.annotator.id);
        let when = s.modified.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let selection = |x: &mut String,
                         key: &str,
                         start: usize,
                         end: usize,
                         label: &str,
                         description: &str,
                         code: &str| {
            let _ = write!(
                x,
                "<PlainTextSelection guid=\"{}\" name=\"{}\" startPosition=\"{start}\" endPosition=\"{end}\" creatingUser=\"{user}\" creationDateTime=\"{when}\">",
                guid(&format!(
                    "selection:{}:{}:{key}",
                    d.relative, s.annotator.id
                )),
                xml_escape(label)
            );
            if !description.is_empty() {
                let _ = write!(x, "<Description>{}</Description>", xml_escape(description));
            }
            let _ = write!(
                x,
                "<Coding guid=\"{}\" creatingUser=\"{user}\" creationDateTime=\"{when}\"><CodeRef targetGUID=\"{code}\"/></Coding></PlainTextSelection>",
                guid(&format!("coding:{}:{}:{key}", d.relative, s.annotator.id))
            );
        };
        for (part, dims) in &s.tags {
            let (Some(start), Some(len)) = (starts.get(part), lookup.char_len(*part)) else {
                summary.warnings.push(format!(
                    "tags of {} on part {part}, which the transcript does not have, are not exported to qdpx: {}",
                    s.annotator.id, d.relative
                ));
                continue;
            };
            for (dim, values) in dims {
                for v in values {
                    let Some(code) = tree.guids.get(dim).and_then(|(_, vals)| vals.get(v)) else {
                        continue;
                    };
                    let label = format!("{part}: {dim} = {v}");
                    selection(
                        &mut x,
                        &format!("tag:{part}:{dim}:{v}"),
                        *start,
                        start + len,
                        &label,
                        "",
                        code,
                    );
                    summary.annotations += 1;
                }
            }
        }
        for span in &s.spans {
            let placed = lookup.placed(span);
            let (Some(start), true) = (starts.get(&span.part), placed) else {
                summary.warnings.push(format!(
                    "span {} of {} does not match the transcript's text and is not exported to qdpx: {}",
                    span.id, s.annotator.id, d.relative
                ));
                continue;
            };
            let Some(code) = tree
                .guids
                .get(&span.dimension)
                .and_then(|(_, vals)| vals.get(&span.value))
            else {
                continue;
            };
            let mut description = span.value.clone();
            if !span.note.is_empty() {
                description.push_str(" — ");
                description.push_str(&span.note);
            }
            let label = crate::sidecar::ellipsize(&span.quote, 60);
            selection(
                &mut x,
                &format!("span:{}", span.id),
                start + span.start,
                start + span.end,
                &label,
                &description,
                code,
            );
            summary.annotations += 1;
        }
    }
    let values: [(&str, String); 11] = [
        ("title", m.title.clone()),
        ("meeting", m.meeting.clone().unwrap_or_default()),
        (
            "meeting_date",
            m.meeting_date.map(|d| d.to_string()).unwrap_or_default(),
        ),
        (
            "session_date",
            m.session_date.map(|d| d.to_string()).unwrap_or_default(),
        ),
        ("reference", m.reference.clone().unwrap_or_default()),
        ("question_by", m.question_by.clone().unwrap_or_default()),
        ("organisation", m.organisation.clone().unwrap_or_default()),
        ("asked_of", m.asked_of.clone().unwrap_or_default()),
        ("answered_by", m.answered_by.clone().unwrap_or_default()),
        ("supplementary", m.supplementary.to_string()),
        ("answer_status", m.status.as_str().to_string()),
    ];
    for ((name, value), (_, kind)) in values.iter().zip(VARIABLES) {
        if !value.is_empty() {
            x.push_str(&variable_value(name, kind, value));
        }
    }
    x.push_str("</TextSource>");
    (x, text)
}

/// The codebook as REFI-QDA codebook XML (`.qdc`).
pub fn qdc(codebook: &Codebook) -> String {
    let tree = code_tree(codebook, &BTreeMap::new());
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<CodeBook xmlns=\"urn:QDA-XML:codebook:1.0\" origin=\"Marginalia {}\"><Codes>{}</Codes></CodeBook>\n",
        env!("CARGO_PKG_VERSION"),
        tree.xml
    )
}

/// A code read from a `.qdc`.
#[derive(Debug, Default, Clone)]
struct QdcCode {
    name: String,
    color: Option<String>,
    codable: bool,
    description: String,
    children: Vec<QdcCode>,
}

fn slug(name: &str) -> String {
    let mut s: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    let s = s.trim_matches('_');
    let s: String = s.chars().take(48).collect();
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
        Some(c) if c.len() == 4 && c.starts_with('#') => {
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

/// Turns a REFI-QDA codebook into a Marginalia codebook. Each top-level code with children
/// becomes a dimension coded on spans with one choice among its descendants; top-level codes
/// without children are gathered in one dimension, "Codes".
pub fn import_qdc(xml: &str, name: &str) -> Result<Codebook, String> {
    let roots = parse_qdc(xml)?;
    if roots.is_empty() {
        return Err("the codebook has no codes".to_string());
    }
    let mut dim_ids = BTreeSet::new();
    let mut dimensions = Vec::new();
    let mut leaves = Vec::new();
    for (i, root) in roots.iter().enumerate() {
        if root.children.is_empty() {
            leaves.push(root.clone());
            continue;
        }
        let color = normalize_color(root.color.as_deref(), PALETTE[i % PALETTE.len()]);
        let mut values = Vec::new();
        let mut value_ids = BTreeSet::new();
        if root.codable {
            values.push(value_of(root, &root.name, &color, &mut value_ids));
        }
        flatten(&root.children, "", &color, &mut values, &mut value_ids);
        dimensions.push(Dimension {
            id: unique(slug(&root.name), &mut dim_ids),
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
        let mut value_ids = BTreeSet::new();
        let values = leaves
            .iter()
            .enumerate()
            .map(|(i, c)| {
                value_of(
                    c,
                    &c.name,
                    &normalize_color(c.color.as_deref(), PALETTE[i % PALETTE.len()]),
                    &mut value_ids,
                )
            })
            .collect();
        dimensions.push(Dimension {
            id: unique("codes".to_string(), &mut dim_ids),
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
    let codebook = Codebook {
        schema: crate::codebook::CODEBOOK_SCHEMA,
        id: format!("imported-{}", slug(name)),
        name: name.to_string(),
        description: "Imported from a REFI-QDA codebook".to_string(),
        dimensions,
    };
    codebook.check()?;
    Ok(codebook)
}

fn value_of(
    code: &QdcCode,
    label: &str,
    fallback: &str,
    taken: &mut BTreeSet<String>,
) -> CodeValue {
    CodeValue {
        id: unique(slug(label), taken),
        label: label.to_string(),
        description: code.description.clone(),
        color: normalize_color(code.color.as_deref(), fallback),
        key: None,
    }
}

fn flatten(
    codes: &[QdcCode],
    prefix: &str,
    color: &str,
    out: &mut Vec<CodeValue>,
    taken: &mut BTreeSet<String>,
) {
    for c in codes {
        let label = if prefix.is_empty() {
            c.name.clone()
        } else {
            format!("{prefix} / {}", c.name)
        };
        if c.codable || c.children.is_empty() {
            out.push(value_of(c, &label, color, taken));
        }
        flatten(&c.children, &label, color, out, taken);
    }
}

fn parse_qdc(xml: &str) -> Result<Vec<QdcCode>, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<QdcCode> = Vec::new();
    let mut roots = Vec::new();
    let mut in_description = false;
    let mut saw_codebook = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("not valid XML at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "CodeBook" => {
                saw_codebook = true;
                let _ = e;
            }
            Event::Start(ref e) | Event::Empty(ref e) if e.local_name().as_ref() == "Code" => {
                if stack.len() > 64 {
                    return Err("codes are nested more than 64 levels deep".to_string());
                }
                let mut code = QdcCode::default();
                for a in e.attributes().flatten() {
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::default())
                        .map_err(|e| format!("bad attribute: {e}"))?
                        .into_owned();
                    match a.key.local_name().as_ref() {
                        "name" => code.name = value,
                        "color" => code.color = Some(value),
                        "isCodable" => code.codable = value == "true" || value == "1",
                        _ => {}
                    }
                }
                if code.name.trim().is_empty() {
                    return Err("a code has no name".to_string());
                }
                if matches!(event, Event::Empty(_)) {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(code),
                        None => roots.push(code),
                    }
                } else {
                    stack.push(code);
                }
            }
            Event::End(e) if e.local_name().as_ref() == "Code" => {
                let code = stack.pop().ok_or("unbalanced </Code>")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(code),
                    None => roots.push(code),
                }
            }
            Event::Start(e) if e.local_name().as_ref() == "Description" => in_description = true,
            Event::End(e) if e.local_name().as_ref() == "Description" => in_description = false,
            Event::Text(t) if in_description => {
                if let Some(code) = stack.last_mut() {
                    let text = t.xml10_content();
                    code.description.push_str(&text);
                }
            }
            Event::GeneralRef(r) if in_description => {
                if let (Some(code), Some(c)) = (
                    stack.last_mut(),
                    crate::transcript::parlparse::resolve_entity(&r),
                ) {
                    code.description.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_codebook {
        return Err("not a REFI-QDA codebook (no CodeBook element)".to_string());
    }
    if !stack.is_empty() {
        return Err("the file ends inside a code".to_string());
    }
    Ok(roots)
}
