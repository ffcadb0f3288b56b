//! Growing the codebook while coding: a value or a dimension added, a label, colour, description
//! or key changed, two values merged, one value split. Ids stay stable (labels are free), so only a
//! merge or a split touches sidecars: each sidecar of the folder that it changes is backed up
//! beside itself and rewritten atomically, and every change goes into the folder's codebook history
//! (`.marginalia/codebook-history.ron`: who, when, what), so an old sidecar can still be read.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::codebook::{AppliesTo, CodeValue, Codebook, Dimension, DimensionKind, Requires};
use crate::transcript::PartId;

/// The folder's record of codebook changes.
pub const HISTORY_FILE: &str = ".marginalia/codebook-history.ron";

/// One change to the codebook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// A new value of a choice dimension; its id is made from the label.
    AddValue {
        /// The dimension's id.
        dimension: String,
        /// The new value's label.
        label: String,
        /// Its colour, `#rrggbb`.
        color: String,
    },
    /// A new dimension with its first values; its id is made from the label.
    AddDimension {
        /// Where it is coded.
        applies_to: AppliesTo,
        /// Its label.
        label: String,
        /// Its colour, `#rrggbb`.
        color: String,
        /// The labels of its first values (a choice dimension has at least one); for free values
        /// (an entity span dimension), the suggestions offered.
        values: Vec<String>,
        /// How its values are chosen (histories written before kinds were offered: one choice).
        #[serde(default = "one_choice")]
        kind: DimensionKind,
        /// The value of another dimension of the same part it applies with, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        requires: Option<Requires>,
    },
    /// What a dimension means, shown on hover.
    DescribeDimension {
        /// The dimension's id.
        dimension: String,
        /// The description.
        description: String,
    },
    /// What a value means, shown on hover.
    Describe {
        /// The dimension's id.
        dimension: String,
        /// The value's id.
        value: String,
        /// The description.
        description: String,
    },
    /// A new label for a dimension (`value: None`) or one of its values.
    Relabel {
        /// The dimension's id.
        dimension: String,
        /// The value's id, or `None` for the dimension itself.
        value: Option<String>,
        /// The new label.
        label: String,
    },
    /// A new colour.
    Recolour {
        /// The dimension's id.
        dimension: String,
        /// The value's id, or `None` for the dimension itself.
        value: Option<String>,
        /// `#rrggbb`.
        color: String,
    },
    /// A keyboard shortcut for a value (`None`: none).
    SetKey {
        /// The dimension's id.
        dimension: String,
        /// The value's id.
        value: String,
        /// Such as `8`, `Shift+9`, `K`.
        key: Option<String>,
    },
    /// Every coding of `from` becomes `into`, and `from` leaves the codebook.
    MergeValues {
        /// The dimension's id.
        dimension: String,
        /// The value merged away.
        from: String,
        /// The value kept.
        into: String,
    },
    /// A new value made from an existing one: the codings listed in `moved` (and only those)
    /// take the new value; `from` stays, with its other codings.
    SplitValue {
        /// The dimension's id.
        dimension: String,
        /// The value split.
        from: String,
        /// The new value's label (its id is made from it).
        label: String,
        /// The new value's colour, `#rrggbb`.
        color: String,
        /// The codings that move to the new value.
        moved: Vec<CodingId>,
    },
}

fn one_choice() -> DimensionKind {
    DimensionKind::OneChoice
}

/// One coding in the folder, named so that it can be found again: the sidecar (relative to the
/// folder, `/`-separated) and the part of a part tag, or the id of a span.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CodingId {
    /// A value tagged on a whole part.
    Tag {
        /// The sidecar, relative to the folder.
        sidecar: String,
        /// The part, as `answer` or `question.2`.
        part: String,
    },
    /// A span.
    Span {
        /// The sidecar, relative to the folder.
        sidecar: String,
        /// The span's id in that sidecar.
        id: String,
    },
}

impl CodingId {
    /// The sidecar it is in, relative to the folder.
    pub fn sidecar(&self) -> &str {
        match self {
            CodingId::Tag { sidecar, .. } | CodingId::Span { sidecar, .. } => sidecar,
        }
    }
}

/// Why a change was refused or could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// No such dimension.
    #[error("no dimension \"{0}\" in the codebook")]
    NoDimension(String),
    /// No such value.
    #[error("no value \"{1}\" in {0}")]
    NoValue(String, String),
    /// Values belong to choice dimensions.
    #[error("{0} takes free values: nothing to add")]
    NotAChoice(String),
    /// A label that is empty or already taken.
    #[error("{0}")]
    BadLabel(String),
    /// Not a colour.
    #[error("\"{0}\" is not a colour; write #rrggbb")]
    BadColor(String),
    /// A value merged into itself.
    #[error("a value cannot be merged into itself")]
    SameValue,
    /// A split that moves no coding.
    #[error("choose at least one coding to move to the new value")]
    NothingMoved,
    /// A kind of dimension that cannot be coded where it was asked for.
    #[error("{0}")]
    BadKind(String),
    /// The codebook would break one of its rules (a shortcut used twice, one that is not a key).
    #[error("{0}")]
    Rule(String),
    /// A file could not be read or written.
    #[error("{0}")]
    File(String),
}

impl Change {
    /// One line for the history and the status bar.
    pub fn describe(&self, cb: &Codebook) -> String {
        let dim = |d: &str| cb.dimension(d).map_or(d.to_string(), |x| x.label.clone());
        match self {
            Change::AddValue {
                dimension, label, ..
            } => format!("added \"{label}\" to {}", dim(dimension)),
            Change::Relabel {
                dimension,
                value: Some(v),
                label,
            } => format!("renamed {} value {v} to \"{label}\"", dim(dimension)),
            Change::Relabel {
                dimension, label, ..
            } => format!("renamed dimension {dimension} to \"{label}\""),
            Change::Recolour {
                dimension,
                value,
                color,
            } => format!(
                "recoloured {}{} to {color}",
                dim(dimension),
                value
                    .as_ref()
                    .map(|v| format!(" value {v}"))
                    .unwrap_or_default()
            ),
            Change::AddDimension {
                applies_to,
                label,
                kind,
                ..
            } => format!("added the dimension \"{label}\" ({applies_to:?}, {kind:?})"),
            Change::DescribeDimension { dimension, .. } => {
                format!("described the dimension {}", dim(dimension))
            }
            Change::Describe {
                dimension, value, ..
            } => format!("described {} value {value}", dim(dimension)),
            Change::SetKey {
                dimension,
                value,
                key,
            } => format!(
                "set the key of {} value {value} to {}",
                dim(dimension),
                key.as_deref().unwrap_or("none")
            ),
            Change::MergeValues {
                dimension,
                from,
                into,
            } => {
                // Labels as the user knows them, ids for the history (labels may change later).
                let val = |v: &str| {
                    cb.dimension(dimension)
                        .and_then(|d| d.value(v))
                        .map_or(v.to_string(), |x| format!("\"{}\" ({v})", x.label))
                };
                format!(
                    "merged {} value {} into {}",
                    dim(dimension),
                    val(from),
                    val(into)
                )
            }
            Change::SplitValue {
                dimension,
                from,
                label,
                moved,
                ..
            } => {
                // The label the user knows the value by (the id when the codebook lacks it).
                let from_label = cb
                    .dimension(dimension)
                    .and_then(|d| d.value(from))
                    .map_or(from.as_str(), |v| v.label.as_str());
                format!(
                    "split {} value \"{from_label}\": {} codings moved to the new value \"{label}\"",
                    dim(dimension),
                    moved.len()
                )
            }
        }
    }
}

/// An id for a new value: its label folded to `a-z0-9_`, made unique in the dimension.
fn new_id(label: &str, taken: &[CodeValue]) -> String {
    let mut id: String = crate::search::fold(label)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    id = id.trim_matches('_').to_string();
    if id.is_empty() {
        id = "value".to_string();
    }
    let base = id.clone();
    let mut n = 2;
    while taken.iter().any(|v| v.id == id) {
        id = format!("{base}_{n}");
        n += 1;
    }
    id
}

/// Applies a change to the codebook in memory (checked; nothing is written).
pub fn apply(cb: &mut Codebook, change: &Change) -> Result<(), EditError> {
    if let Change::AddDimension {
        applies_to,
        label,
        color,
        values,
        kind,
        requires,
    } = change
    {
        let new = NewDimension {
            applies_to: *applies_to,
            label,
            color,
            values,
            kind: *kind,
            requires: requires.as_ref(),
        };
        add_dimension(cb, &new)?;
        return cb.check().map_err(|e| EditError::Rule(e.to_string()));
    }
    let dim_id = match change {
        Change::AddDimension { .. } => unreachable!("handled above"),
        Change::AddValue { dimension, .. }
        | Change::Relabel { dimension, .. }
        | Change::Recolour { dimension, .. }
        | Change::SetKey { dimension, .. }
        | Change::Describe { dimension, .. }
        | Change::DescribeDimension { dimension, .. }
        | Change::MergeValues { dimension, .. }
        | Change::SplitValue { dimension, .. } => dimension.clone(),
    };
    let dim = cb
        .dimensions
        .iter_mut()
        .find(|d| d.id == dim_id)
        .ok_or_else(|| EditError::NoDimension(dim_id.clone()))?;
    let label_of = dim.label.clone();
    let find = |values: &mut Vec<CodeValue>, v: &str| -> Result<usize, EditError> {
        values
            .iter()
            .position(|x| x.id == v)
            .ok_or_else(|| EditError::NoValue(label_of.clone(), v.to_string()))
    };
    match change {
        Change::AddValue { label, color, .. } => add_value(dim, label, color)?,
        Change::Relabel { value, label, .. } => match value {
            None => {
                dim.label = label.trim().to_string();
            }
            Some(v) => {
                let i = find(&mut dim.values, v)?;
                let others = dim
                    .values
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k != i)
                    .map(|(_, x)| x.label.as_str());
                check_label(label, others)?;
                dim.values[i].label = label.trim().to_string();
            }
        },
        Change::Recolour { value, color, .. } => {
            check_color(color)?;
            match value {
                None => dim.color = color.clone(),
                Some(v) => {
                    let i = find(&mut dim.values, v)?;
                    dim.values[i].color = color.clone();
                }
            }
        }
        Change::AddDimension { .. } => {}
        Change::Describe {
            value, description, ..
        } => {
            let i = find(&mut dim.values, value)?;
            dim.values[i].description = description.trim().to_string();
        }
        Change::DescribeDimension { description, .. } => {
            dim.description = description.trim().to_string();
        }
        Change::SetKey { value, key, .. } => {
            let i = find(&mut dim.values, value)?;
            dim.values[i].key = key
                .as_ref()
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty());
        }
        Change::MergeValues { from, into, .. } => {
            if from == into {
                return Err(EditError::SameValue);
            }
            find(&mut dim.values, into)?;
            let i = find(&mut dim.values, from)?;
            dim.values.remove(i);
        }
        Change::SplitValue {
            from,
            label,
            color,
            moved,
            ..
        } => {
            find(&mut dim.values, from)?;
            if moved.is_empty() {
                return Err(EditError::NothingMoved);
            }
            add_value(dim, label, color)?;
        }
    }
    // The codebook's own rules hold after every change (a key used twice, one that is no key).
    cb.check().map_err(|e| EditError::Rule(e.to_string()))
}

/// A new value of a choice dimension, its id made from its label.
fn add_value(dim: &mut Dimension, label: &str, color: &str) -> Result<(), EditError> {
    if dim.kind == DimensionKind::Entity {
        return Err(EditError::NotAChoice(dim.label.clone()));
    }
    check_label(label, dim.values.iter().map(|v| v.label.as_str()))?;
    check_color(color)?;
    let id = new_id(label, &dim.values);
    dim.values.push(CodeValue {
        id,
        label: label.trim().to_string(),
        description: String::new(),
        color: color.to_string(),
        key: None,
    });
    Ok(())
}

/// The id a split's new value gets: made from its label as [`apply`] makes it, so the sidecars
/// are written with the id the codebook will hold.
pub fn split_id(cb: &Codebook, dimension: &str, label: &str) -> Option<String> {
    cb.dimension(dimension).map(|d| new_id(label, &d.values))
}

/// What [`Change::AddDimension`] asks for, borrowed.
struct NewDimension<'a> {
    applies_to: AppliesTo,
    label: &'a str,
    color: &'a str,
    values: &'a [String],
    kind: DimensionKind,
    requires: Option<&'a Requires>,
}

/// A new dimension with its first values, ids made from the labels. Free values are for spans
/// (a part takes values it can show as buttons); a dependency only for a dimension of a part.
fn add_dimension(cb: &mut Codebook, new: &NewDimension<'_>) -> Result<(), EditError> {
    check_label(new.label, cb.dimensions.iter().map(|d| d.label.as_str()))?;
    check_color(new.color)?;
    if new.kind == DimensionKind::Entity && new.applies_to != AppliesTo::Span {
        return Err(EditError::BadKind(
            "free values are for span dimensions: a question or an answer takes choices"
                .to_string(),
        ));
    }
    if new.requires.is_some() && new.applies_to == AppliesTo::Span {
        return Err(EditError::BadKind(
            "only a dimension of the question or the answer can depend on another".to_string(),
        ));
    }
    let taken: Vec<CodeValue> = cb
        .dimensions
        .iter()
        .map(|d| CodeValue {
            id: d.id.clone(),
            label: String::new(),
            description: String::new(),
            color: String::new(),
            key: None,
        })
        .collect();
    let labels: Vec<&str> = new
        .values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    let mut made: Vec<CodeValue> = Vec::new();
    let mut known_values = Vec::new();
    for (i, v) in labels.into_iter().enumerate() {
        check_label(v, made.iter().map(|x| x.label.as_str()))?;
        let [r, g, b] = crate::analysis::chart::PALETTE[i % crate::analysis::chart::PALETTE.len()];
        made.push(CodeValue {
            id: new_id(v, &made),
            label: v.to_string(),
            description: String::new(),
            color: format!("#{r:02x}{g:02x}{b:02x}"),
            key: None,
        });
        known_values.push(v.to_string());
    }
    // An entity dimension's first values are suggestions, not a closed list.
    let (values, known_values) = if new.kind == DimensionKind::Entity {
        (Vec::new(), known_values)
    } else {
        (made, Vec::new())
    };
    cb.dimensions.push(Dimension {
        id: new_id(new.label, &taken),
        label: new.label.trim().to_string(),
        description: String::new(),
        color: new.color.to_string(),
        applies_to: new.applies_to,
        kind: new.kind,
        values,
        known_values,
        key: None,
        group: None,
        requires: new.requires.cloned(),
    });
    Ok(())
}

fn check_label<'a>(label: &str, others: impl Iterator<Item = &'a str>) -> Result<(), EditError> {
    let label = label.trim();
    if label.is_empty() {
        return Err(EditError::BadLabel("a label cannot be empty".to_string()));
    }
    let folded = crate::search::fold(label);
    for o in others {
        if crate::search::fold(o) == folded {
            return Err(EditError::BadLabel(format!(
                "\"{label}\" is already a value here"
            )));
        }
    }
    Ok(())
}

fn check_color(color: &str) -> Result<(), EditError> {
    crate::codebook::parse_color(color)
        .map(|_| ())
        .ok_or_else(|| EditError::BadColor(color.to_string()))
}

/// A sidecar a change rewrites, with how many of its codings change; or one it cannot read,
/// which is left as it is and named, so a coding there is never migrated silently or lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affected {
    /// The sidecar.
    pub path: PathBuf,
    /// Part tags and spans that change.
    pub codings: usize,
    /// Why it could not be read (it is not rewritten).
    pub unreadable: Option<String>,
}

/// The sidecars of the folder a change rewrites (only a merge or a split rewrites any). A merge
/// reads every sidecar of the folder; a split only those its moved codings are in.
pub fn preview(root: &Path, change: &Change) -> Result<Vec<Affected>, EditError> {
    match change {
        Change::MergeValues {
            dimension, from, ..
        } => {
            let files = crate::corpus::scan(root).map_err(|e| EditError::File(e.to_string()))?;
            let mut out = Vec::new();
            for f in &files.sidecars {
                match crate::sidecar::Sidecar::load(&f.path) {
                    Ok(loaded) => {
                        let n = count(&loaded.sidecar, dimension, from);
                        if n > 0 {
                            out.push(Affected {
                                path: f.path.clone(),
                                codings: n,
                                unreadable: None,
                            });
                        }
                    }
                    // Never rewritten: named, so the user knows it keeps the old value.
                    Err(e) => out.push(unreadable(&f.path, &e)),
                }
            }
            Ok(out)
        }
        Change::SplitValue {
            dimension,
            from,
            moved,
            ..
        } => {
            let mut by_sidecar: Vec<&str> = moved.iter().map(CodingId::sidecar).collect();
            by_sidecar.sort_unstable();
            by_sidecar.dedup();
            let mut out = Vec::new();
            for rel in by_sidecar {
                let path = sidecar_in(root, rel)?;
                match crate::sidecar::Sidecar::load(&path) {
                    Ok(loaded) => {
                        let n = moved_in(&loaded.sidecar, rel, dimension, from, moved).len();
                        if n > 0 {
                            out.push(Affected {
                                path,
                                codings: n,
                                unreadable: None,
                            });
                        }
                    }
                    Err(e) => out.push(unreadable(&path, &e)),
                }
            }
            Ok(out)
        }
        _ => Ok(Vec::new()),
    }
}

fn unreadable(path: &Path, e: &impl std::fmt::Display) -> Affected {
    Affected {
        path: path.to_path_buf(),
        codings: 0,
        unreadable: Some(e.to_string()),
    }
}

/// A sidecar named relative to the folder: refused when the name climbs out of it (a history or
/// a change from elsewhere never rewrites a file outside the folder).
fn sidecar_in(root: &Path, rel: &str) -> Result<PathBuf, EditError> {
    let mut path = root.to_path_buf();
    for part in rel.split('/') {
        if part.is_empty() || part == "." || part == ".." || part.contains('\\') {
            return Err(EditError::File(format!(
                "{rel}: not a sidecar of this folder"
            )));
        }
        path.push(part);
    }
    Ok(path)
}

/// The codings of `from` in one sidecar (named `rel`) that a split moves.
fn moved_in(
    s: &crate::sidecar::Sidecar,
    rel: &str,
    dimension: &str,
    from: &str,
    moved: &[CodingId],
) -> Vec<CodingId> {
    let wanted: HashSet<&CodingId> = moved.iter().filter(|c| c.sidecar() == rel).collect();
    let mut out = Vec::new();
    for (part, dims) in &s.tags {
        if dims
            .get(dimension)
            .is_some_and(|vals| vals.iter().any(|v| v == from))
        {
            let id = CodingId::Tag {
                sidecar: rel.to_string(),
                part: part.to_string(),
            };
            if wanted.contains(&id) {
                out.push(id);
            }
        }
    }
    for sp in &s.spans {
        if sp.dimension == dimension && sp.value == from {
            let id = CodingId::Span {
                sidecar: rel.to_string(),
                id: sp.id.clone(),
            };
            if wanted.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

/// One coding of a value, as a split lists it for the user to choose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueCoding {
    /// Where it is, to move it.
    pub id: CodingId,
    /// The transcript, relative to the folder.
    pub document: String,
    /// Who coded it.
    pub annotator: String,
    /// The part.
    pub part: PartId,
    /// A span's quote, or the start of a tagged part (empty when the transcript cannot be read).
    pub text: String,
}

/// Every coding of a value in the folder, and the sidecars that could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValueCodings {
    /// In the order of the folder's sidecars, then part tags, then spans.
    pub codings: Vec<ValueCoding>,
    /// Sidecars left out, with why.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// Chars of a part shown for a part tag in a split's list.
const OPENING_CHARS: usize = 90;

/// Every coding of `value` of `dimension` across the folder's sidecars, for a split: document,
/// coder, and the quote of a span or the start of a tagged part. Reads every sidecar (and the
/// transcripts with a tagged part): run it off the window's thread.
pub fn codings_of(root: &Path, dimension: &str, value: &str) -> Result<ValueCodings, EditError> {
    let files = crate::corpus::scan(root).map_err(|e| EditError::File(e.to_string()))?;
    let mut out = ValueCodings::default();
    // Sidecars of one transcript come together: its text is read once for them.
    let mut transcript: Option<(PathBuf, Option<crate::transcript::Transcript>)> = None;
    for f in &files.sidecars {
        let s = match crate::sidecar::Sidecar::load(&f.path) {
            Ok(l) => l.sidecar,
            Err(e) => {
                out.unreadable.push((f.path.clone(), e.to_string()));
                continue;
            }
        };
        let rel = crate::dataset::relative_path(root, &f.path);
        let document = crate::dataset::relative_path(root, &f.transcript);
        let mut tagged: Vec<PartId> = s
            .tags
            .iter()
            .filter(|(_, dims)| {
                dims.get(dimension)
                    .is_some_and(|vals| vals.iter().any(|v| v == value))
            })
            .map(|(p, _)| *p)
            .collect();
        tagged.sort_unstable();
        if !tagged.is_empty() && transcript.as_ref().is_none_or(|(p, _)| *p != f.transcript) {
            let t = crate::transcript::Transcript::load(&f.transcript).ok();
            transcript = Some((f.transcript.clone(), t));
        }
        for part in tagged {
            let text = transcript
                .as_ref()
                .and_then(|(_, t)| t.as_ref())
                .and_then(|t| t.part(part))
                .map(|p| opening(p.text()))
                .unwrap_or_default();
            out.codings.push(ValueCoding {
                id: CodingId::Tag {
                    sidecar: rel.clone(),
                    part: part.to_string(),
                },
                document: document.clone(),
                annotator: s.annotator.id.clone(),
                part,
                text,
            });
        }
        for sp in s
            .spans
            .iter()
            .filter(|x| x.dimension == dimension && x.value == value)
        {
            out.codings.push(ValueCoding {
                id: CodingId::Span {
                    sidecar: rel.clone(),
                    id: sp.id.clone(),
                },
                document: document.clone(),
                annotator: s.annotator.id.clone(),
                part: sp.part,
                text: sp.quote.clone(),
            });
        }
    }
    Ok(out)
}

/// The start of a part on one line, cut at a char boundary.
fn opening(text: &str) -> String {
    let mut s: String = text
        .chars()
        .take(OPENING_CHARS)
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    if text.chars().nth(OPENING_CHARS).is_some() {
        s.push('…');
    }
    s
}

fn count(s: &crate::sidecar::Sidecar, dimension: &str, value: &str) -> usize {
    let tags = s
        .tags
        .values()
        .filter_map(|d| d.get(dimension))
        .filter(|vals| vals.iter().any(|v| v == value))
        .count();
    let spans = s
        .spans
        .iter()
        .filter(|x| x.dimension == dimension && x.value == value)
        .count();
    tags + spans
}

/// What carrying out a change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The line written to the history.
    pub summary: String,
    /// Sidecars rewritten, each with the backup kept beside it.
    pub rewritten: Vec<(PathBuf, PathBuf)>,
    /// The codebook's backup (none when the folder had no `codebook.ron` yet).
    pub codebook_backup: Option<PathBuf>,
    /// Sidecars that could not be read and were left as they are, with why.
    pub skipped: Vec<(PathBuf, String)>,
}

/// One line of the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When, in UTC.
    pub when: String,
    /// The annotator who made it.
    pub who: String,
    /// The change.
    pub change: Change,
    /// In words.
    pub summary: String,
}

/// Carries out a change in the folder: the sidecars a merge or a split touches are backed up and rewritten
/// (each atomically), then the codebook (`codebook.ron`, backed up first), then the history.
pub fn commit(root: &Path, cb: &Codebook, change: &Change, who: &str) -> Result<Report, EditError> {
    let affected = preview(root, change)?;
    commit_previewed(root, cb, change, who, affected)
}

/// [`commit`] of a change whose [`preview`] the user has seen: the folder is not read a second
/// time. A sidecar that took up the merged-away value since (a colleague's, pulled later) is
/// carried onto the merged value when it is opened ([`carry_merges`]).
pub fn commit_previewed(
    root: &Path,
    cb: &Codebook,
    change: &Change,
    who: &str,
    affected: Vec<Affected>,
) -> Result<Report, EditError> {
    let mut changed = cb.clone();
    apply(&mut changed, change)?;
    let summary = change.describe(cb);
    let (rewritten, skipped) = match change {
        Change::MergeValues {
            dimension,
            from,
            into,
        } => rewrite(affected, "before-merge", |s, _| {
            merge_in(s, dimension, from, into);
        })?,
        Change::SplitValue {
            dimension,
            from,
            label,
            moved,
            ..
        } => {
            let new = split_id(cb, dimension, label)
                .ok_or_else(|| EditError::NoDimension(dimension.clone()))?;
            rewrite(affected, "before-split", |s, path| {
                let rel = crate::dataset::relative_path(root, path);
                split_in(s, &rel, dimension, from, &new, moved);
            })?
        }
        _ => (Vec::new(), Vec::new()),
    };
    let path = root.join(crate::codebook::CODEBOOK_FILE_NAME);
    let codebook_backup = match std::fs::read(&path) {
        Ok(bytes) => Some(
            crate::fsutil::write_backup(&path, "before-edit", &bytes)
                .map_err(|e| EditError::File(e.to_string()))?,
        ),
        Err(_) => None,
    };
    crate::fsutil::atomic_write(&path, changed.to_ron().as_bytes())
        .map_err(|e| EditError::File(e.to_string()))?;
    append_history(
        root,
        HistoryEntry {
            when: chrono::Utc::now().to_rfc3339(),
            who: who.to_string(),
            change: change.clone(),
            summary: summary.clone(),
        },
    )?;
    Ok(Report {
        summary,
        rewritten,
        codebook_backup,
        skipped,
    })
}

/// Sidecars rewritten with their backups, and those skipped with why.
type Rewritten = (Vec<(PathBuf, PathBuf)>, Vec<(PathBuf, String)>);

/// Each readable affected sidecar backed up beside itself (`what` names the backup), changed by
/// `migrate` and written atomically; the unreadable ones left as they are.
fn rewrite(
    affected: Vec<Affected>,
    what: &str,
    migrate: impl Fn(&mut crate::sidecar::Sidecar, &Path),
) -> Result<Rewritten, EditError> {
    let mut rewritten = Vec::new();
    let mut skipped = Vec::new();
    for a in affected {
        if let Some(why) = a.unreadable {
            skipped.push((a.path, why));
            continue;
        }
        let loaded =
            crate::sidecar::Sidecar::load(&a.path).map_err(|e| EditError::File(e.to_string()))?;
        let mut s = loaded.sidecar;
        migrate(&mut s, &a.path);
        let backup = crate::fsutil::write_backup(&a.path, what, &loaded.bytes)
            .map_err(|e| EditError::File(e.to_string()))?;
        s.save(&a.path)
            .map_err(|e| EditError::File(e.to_string()))?;
        rewritten.push((a.path, backup));
    }
    Ok((rewritten, skipped))
}

/// `from` becomes `into` among a part's values of one dimension; both on one part become one.
fn rename_value(vals: &mut Vec<String>, from: &str, into: &str) {
    for v in vals.iter_mut() {
        if v == from {
            *v = into.to_string();
        }
    }
    let mut seen = HashSet::new();
    vals.retain(|v| seen.insert(v.clone()));
}

/// Every coding of `from` becomes `into` in one sidecar.
fn merge_in(s: &mut crate::sidecar::Sidecar, dimension: &str, from: &str, into: &str) {
    for dims in s.tags.values_mut() {
        if let Some(vals) = dims.get_mut(dimension) {
            rename_value(vals, from, into);
        }
    }
    for sp in &mut s.spans {
        if sp.dimension == dimension && sp.value == from {
            sp.value = into.to_string();
        }
    }
}

/// The codings of `from` that a split moves take the new value in one sidecar (named `rel`).
fn split_in(
    s: &mut crate::sidecar::Sidecar,
    rel: &str,
    dimension: &str,
    from: &str,
    new: &str,
    moved: &[CodingId],
) {
    let ids: HashSet<CodingId> = moved_in(s, rel, dimension, from, moved)
        .into_iter()
        .collect();
    for (part, dims) in &mut s.tags {
        let id = CodingId::Tag {
            sidecar: rel.to_string(),
            part: part.to_string(),
        };
        if !ids.contains(&id) {
            continue;
        }
        if let Some(vals) = dims.get_mut(dimension) {
            rename_value(vals, from, new);
        }
    }
    for sp in &mut s.spans {
        let id = CodingId::Span {
            sidecar: rel.to_string(),
            id: sp.id.clone(),
        };
        if sp.dimension == dimension && sp.value == from && ids.contains(&id) {
            sp.value = new.to_string();
        }
    }
}

/// The folder's codebook history, oldest first (empty when there is none).
pub fn history(root: &Path) -> Result<Vec<HistoryEntry>, EditError> {
    let path = root.join(HISTORY_FILE);
    match crate::fsutil::read_limited(&path, 16 << 20) {
        Ok(bytes) => ron::de::from_bytes(&bytes)
            .map_err(|e| EditError::File(format!("{}: {e}", path.display()))),
        Err(_) if !path.exists() => Ok(Vec::new()),
        Err(e) => Err(EditError::File(format!("{}: {e}", path.display()))),
    }
}

/// The folder histories read so far, each kept while its file's size and modification time stay
/// the same: opening a document asks for the history (to carry old sidecars over merges), and a
/// long history is parsed once, not at every opening.
#[derive(Debug, Default)]
pub struct HistoryCache {
    folders: HashMap<PathBuf, CachedHistory>,
}

#[derive(Debug)]
struct CachedHistory {
    modified: Option<std::time::SystemTime>,
    len: u64,
    entries: Arc<Vec<HistoryEntry>>,
}

impl HistoryCache {
    /// The folder's history, read again only when its file changed (or appeared, or went).
    pub fn get(&mut self, root: &Path) -> Result<Arc<Vec<HistoryEntry>>, EditError> {
        let path = root.join(HISTORY_FILE);
        let Ok(meta) = std::fs::metadata(&path) else {
            // No history (yet): nothing to read, nothing to keep.
            self.folders.remove(root);
            return Ok(Arc::new(Vec::new()));
        };
        let modified = meta.modified().ok();
        if let Some(c) = self.folders.get(root)
            && c.modified.is_some()
            && c.modified == modified
            && c.len == meta.len()
        {
            return Ok(Arc::clone(&c.entries));
        }
        let entries = Arc::new(history(root)?);
        self.folders.insert(
            root.to_path_buf(),
            CachedHistory {
                modified,
                len: meta.len(),
                entries: Arc::clone(&entries),
            },
        );
        Ok(entries)
    }
}

/// The merges recorded in a folder's history, oldest first: (dimension, from, into).
pub fn merges(history: &[HistoryEntry]) -> Vec<(String, String, String)> {
    history
        .iter()
        .filter_map(|h| match &h.change {
            Change::MergeValues {
                dimension,
                from,
                into,
            } => Some((dimension.clone(), from.clone(), into.clone())),
            _ => None,
        })
        .collect()
}

/// The edits that carry a sidecar written before recorded merges (a colleague's, pulled later)
/// onto the merged values, in one undoable step; empty when it uses none of them.
pub fn carry_merges(
    sidecar: &crate::sidecar::Sidecar,
    merges: &[(String, String, String)],
) -> Vec<crate::document::Edit> {
    use crate::document::Edit;
    let mut edits = Vec::new();
    for (part, dims) in &sidecar.tags {
        for (dim, values) in dims {
            let mut after = values.clone();
            for (d, from, into) in merges {
                if d == dim {
                    for v in &mut after {
                        if v == from {
                            v.clone_from(into);
                        }
                    }
                }
            }
            let mut seen = std::collections::HashSet::new();
            after.retain(|v| seen.insert(v.clone()));
            if after != *values {
                edits.push(Edit::SetPartValues {
                    part: *part,
                    dimension: dim.clone(),
                    values: after,
                });
            }
        }
    }
    for sp in &sidecar.spans {
        let mut value = sp.value.clone();
        for (d, from, into) in merges {
            if *d == sp.dimension && value == *from {
                value.clone_from(into);
            }
        }
        if value != sp.value {
            edits.push(Edit::UpdateSpan {
                id: sp.id.clone(),
                value,
                note: sp.note.clone(),
            });
        }
    }
    edits
}

fn append_history(root: &Path, entry: HistoryEntry) -> Result<(), EditError> {
    let mut all = history(root)?;
    all.push(entry);
    let text = ron::ser::to_string_pretty(&all, ron::ser::PrettyConfig::default())
        .map_err(|e| EditError::File(e.to_string()))?;
    let path = root.join(HISTORY_FILE);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| EditError::File(format!("{}: {e}", dir.display())))?;
    }
    crate::fsutil::atomic_write(&path, text.as_bytes()).map_err(|e| EditError::File(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sidecar::{Annotator, Sidecar, Span, sidecar_path};
    use crate::transcript::{PartId, Transcript};

    fn folder() -> (tempfile::TempDir, Codebook) {
        let dir = tempfile::tempdir().unwrap();
        let cb = Codebook::builtin();
        for (name, who, value) in [("a.txt", "ann", "evasive"), ("b.txt", "bob", "hostile")] {
            let page = dir.path().join(name);
            std::fs::write(&page, "Q: Why?\n\nA: Because the Home Office said so.\n").unwrap();
            let t = Transcript::load(&page).unwrap();
            let mut s = Sidecar::new(
                Annotator {
                    id: who.into(),
                    name: String::new(),
                },
                &t,
                &cb,
            );
            s.tags
                .entry(PartId::ANSWER)
                .or_default()
                .insert("tone_answer".into(), vec![value.into()]);
            let at = t.answer().find("Home").unwrap();
            s.spans.push(
                Span::new(
                    "x-1".into(),
                    PartId::ANSWER,
                    t.answer(),
                    at,
                    at + 4,
                    "d",
                    "v",
                )
                .unwrap(),
            );
            s.save(&sidecar_path(&page, who)).unwrap();
        }
        (dir, cb)
    }

    #[test]
    fn a_value_added_gets_an_id_from_its_label_and_a_clash_is_refused() {
        let mut cb = Codebook::builtin();
        let add = |label: &str| Change::AddValue {
            dimension: "tone_answer".into(),
            label: label.into(),
            color: "#336699".into(),
        };
        apply(&mut cb, &add("Sarcastic / dry")).unwrap();
        let dim = cb.dimension("tone_answer").unwrap();
        assert_eq!(dim.values.last().unwrap().id, "sarcastic___dry");
        assert!(matches!(
            apply(&mut cb, &add("evasive")),
            Err(EditError::BadLabel(_))
        ));
        assert!(matches!(
            apply(
                &mut cb,
                &Change::AddValue {
                    dimension: "tone_answer".into(),
                    label: "x".into(),
                    color: "blue".into()
                }
            ),
            Err(EditError::BadColor(_))
        ));
    }

    #[test]
    fn a_merge_rewrites_every_sidecar_that_uses_it_with_backups_and_history() {
        let (dir, cb) = folder();
        let merge = Change::MergeValues {
            dimension: "tone_answer".into(),
            from: "hostile".into(),
            into: "critical".into(),
        };
        // A sidecar that cannot be read is named and left alone.
        let broken = sidecar_path(&dir.path().join("a.txt"), "zed");
        std::fs::write(&broken, "not ron at all (").unwrap();
        let seen = preview(dir.path(), &merge).unwrap();
        let readable: Vec<&Affected> = seen.iter().filter(|a| a.unreadable.is_none()).collect();
        assert_eq!(readable.len(), 1);
        assert_eq!(readable[0].codings, 1);
        assert!(
            seen.iter()
                .any(|a| a.path == broken && a.unreadable.is_some())
        );
        let report = commit(dir.path(), &cb, &merge, "ann").unwrap();
        assert_eq!(report.rewritten.len(), 1);
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(
            std::fs::read_to_string(&broken).unwrap(),
            "not ron at all ("
        );
        let (path, backup) = &report.rewritten[0];
        assert!(backup.exists());
        let s = Sidecar::load(path).unwrap().sidecar;
        assert_eq!(s.part_values(PartId::ANSWER, "tone_answer"), ["critical"]);
        // The untouched sidecar was not rewritten.
        let other = sidecar_path(&dir.path().join("a.txt"), "ann");
        assert_eq!(
            Sidecar::load(&other)
                .unwrap()
                .sidecar
                .part_values(PartId::ANSWER, "tone_answer"),
            ["evasive"]
        );
        // The codebook has lost the value and says so in its history.
        let (saved, _) = Codebook::for_folder(dir.path()).unwrap();
        assert!(
            saved
                .dimension("tone_answer")
                .unwrap()
                .value("hostile")
                .is_none()
        );
        let h = history(dir.path()).unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].who, "ann");
        assert_eq!(h[0].change, merge);
    }

    #[test]
    fn a_dimension_added_takes_values_and_a_description() {
        let mut cb = Codebook::builtin();
        apply(
            &mut cb,
            &Change::AddDimension {
                applies_to: AppliesTo::Answer,
                label: "Cites evidence".into(),
                color: "#336699".into(),
                values: vec!["Yes".into(), " ".into(), "No".into()],
                kind: DimensionKind::OneChoice,
                requires: None,
            },
        )
        .unwrap();
        let id = cb.dimensions.last().unwrap().id.clone();
        assert_eq!(id, "cites_evidence");
        let ids: Vec<&str> = cb
            .dimension(&id)
            .unwrap()
            .values
            .iter()
            .map(|v| v.id.as_str())
            .collect();
        assert_eq!(ids, ["yes", "no"]);
        apply(
            &mut cb,
            &Change::Describe {
                dimension: id.clone(),
                value: "yes".into(),
                description: "Names a study or a figure.".into(),
            },
        )
        .unwrap();
        let d = cb.dimension(&id).unwrap();
        assert_eq!(d.applies_to, AppliesTo::Answer);
        assert_eq!(
            d.value("yes").unwrap().description,
            "Names a study or a figure."
        );
        // A second dimension of that label is refused.
        assert!(matches!(
            apply(
                &mut cb,
                &Change::AddDimension {
                    applies_to: AppliesTo::Question,
                    label: "cites evidence".into(),
                    color: "#336699".into(),
                    values: vec!["A".into()],
                    kind: DimensionKind::OneChoice,
                    requires: None,
                }
            ),
            Err(EditError::BadLabel(_))
        ));
    }

    #[test]
    fn a_key_used_twice_or_no_key_is_refused() {
        let mut cb = Codebook::builtin();
        let set = |key: &str| Change::SetKey {
            dimension: "tone_answer".into(),
            value: "evasive".into(),
            key: Some(key.into()),
        };
        // `4` is Hostile's already.
        assert!(matches!(
            apply(&mut cb.clone(), &set("4")),
            Err(EditError::Rule(_))
        ));
        assert!(matches!(
            apply(&mut cb.clone(), &set("Ctrl+Banana")),
            Err(EditError::Rule(_))
        ));
        apply(&mut cb, &set("9")).unwrap();
        assert_eq!(
            cb.dimension("tone_answer")
                .unwrap()
                .value("evasive")
                .unwrap()
                .key
                .as_deref(),
            Some("9")
        );
    }

    #[test]
    fn a_sidecar_from_before_a_merge_is_carried_onto_the_merged_value() {
        let (dir, cb) = folder();
        let merge = Change::MergeValues {
            dimension: "tone_answer".into(),
            from: "hostile".into(),
            into: "critical".into(),
        };
        // bob's sidecar is away (on a colleague's machine) while the merge is made.
        let bob = sidecar_path(&dir.path().join("b.txt"), "bob");
        let away = std::fs::read(&bob).unwrap();
        std::fs::remove_file(&bob).unwrap();
        commit(dir.path(), &cb, &merge, "ann").unwrap();
        std::fs::write(&bob, away).unwrap();
        let old = Sidecar::load(&bob).unwrap().sidecar;
        let edits = carry_merges(&old, &merges(&history(dir.path()).unwrap()));
        assert_eq!(edits.len(), 1);
        assert!(matches!(
            &edits[0],
            crate::document::Edit::SetPartValues { values, .. } if values == &["critical".to_string()]
        ));
    }

    #[test]
    fn a_relabel_keeps_ids_and_touches_no_sidecar() {
        let (dir, cb) = folder();
        let change = Change::Relabel {
            dimension: "tone_answer".into(),
            value: Some("evasive".into()),
            label: "Dodging".into(),
        };
        let report = commit(dir.path(), &cb, &change, "ann").unwrap();
        assert!(report.rewritten.is_empty());
        let (saved, _) = Codebook::for_folder(dir.path()).unwrap();
        assert_eq!(
            saved
                .dimension("tone_answer")
                .unwrap()
                .value("evasive")
                .unwrap()
                .label,
            "Dodging"
        );
    }

    /// Both sidecars tag the answer Hostile; ann's and bob's span `x-1` (same id, two files) are
    /// both of a span dimension's value "claim". Returns the folder, its codebook and the
    /// sidecars' bytes before anything changed.
    fn split_folder() -> (tempfile::TempDir, Codebook, Vec<(PathBuf, Vec<u8>)>) {
        let (dir, mut cb) = folder();
        apply(
            &mut cb,
            &Change::AddDimension {
                applies_to: AppliesTo::Span,
                label: "Claim type".into(),
                color: "#336699".into(),
                values: vec!["Claim".into(), "Fact".into()],
                kind: DimensionKind::OneChoice,
                requires: None,
            },
        )
        .unwrap();
        std::fs::write(dir.path().join("codebook.ron"), cb.to_ron()).unwrap();
        let mut before = Vec::new();
        for (name, who) in [("a.txt", "ann"), ("b.txt", "bob")] {
            let path = sidecar_path(&dir.path().join(name), who);
            let mut s = Sidecar::load(&path).unwrap().sidecar;
            s.tags
                .entry(PartId::ANSWER)
                .or_default()
                .insert("tone_answer".into(), vec!["hostile".into()]);
            s.spans[0].dimension = "claim_type".into();
            s.spans[0].value = "claim".into();
            s.save(&path).unwrap();
            before.push((path.clone(), std::fs::read(&path).unwrap()));
        }
        (dir, cb, before)
    }

    #[test]
    fn a_split_lists_the_codings_and_moves_only_those_chosen() {
        let (dir, cb, before) = split_folder();
        let listed = codings_of(dir.path(), "tone_answer", "hostile").unwrap();
        assert!(listed.unreadable.is_empty());
        let who: Vec<(&str, &str)> = listed
            .codings
            .iter()
            .map(|c| (c.document.as_str(), c.annotator.as_str()))
            .collect();
        assert_eq!(who, [("a.txt", "ann"), ("b.txt", "bob")]);
        assert!(
            listed.codings[0]
                .text
                .starts_with("Because the Home Office")
        );
        // Spans are listed with their quote, and named by their sidecar: the same span id in two
        // sidecars is two codings.
        let spans = codings_of(dir.path(), "claim_type", "claim").unwrap();
        assert_eq!(spans.codings.len(), 2);
        assert!(spans.codings.iter().all(|c| c.text == "Home"));
        let bob_span = spans.codings[1].id.clone();
        assert_eq!(
            bob_span,
            CodingId::Span {
                sidecar: "b.txt.bob.ron".into(),
                id: "x-1".into()
            }
        );
        // Split Hostile: bob's tag moves, ann's stays.
        let split = Change::SplitValue {
            dimension: "tone_answer".into(),
            from: "hostile".into(),
            label: "Openly hostile".into(),
            color: "#aa3333".into(),
            moved: vec![listed.codings[1].id.clone()],
        };
        let seen = preview(dir.path(), &split).unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(
            (seen[0].path.clone(), seen[0].codings),
            (before[1].0.clone(), 1)
        );
        let report = commit_previewed(dir.path(), &cb, &split, "ann", seen).unwrap();
        assert_eq!(report.rewritten.len(), 1);
        let tone = |i: usize| {
            Sidecar::load(&before[i].0)
                .unwrap()
                .sidecar
                .part_values(PartId::ANSWER, "tone_answer")
                .to_vec()
        };
        assert_eq!(tone(0), ["hostile"]);
        assert_eq!(tone(1), ["openly_hostile"]);
        // ann's sidecar was not touched at all.
        assert_eq!(std::fs::read(&before[0].0).unwrap(), before[0].1);
        let (saved, _) = Codebook::for_folder(dir.path()).unwrap();
        let d = saved.dimension("tone_answer").unwrap();
        assert!(d.value("hostile").is_some());
        assert_eq!(d.value("openly_hostile").unwrap().label, "Openly hostile");
        // The history says who split what, and which codings moved.
        let h = history(dir.path()).unwrap();
        assert_eq!(h.last().unwrap().change, split);
        // Bob's span, not ann's of the same id.
        let split_span = Change::SplitValue {
            dimension: "claim_type".into(),
            from: "claim".into(),
            label: "Opinion".into(),
            color: "#33aa33".into(),
            moved: vec![bob_span],
        };
        commit(dir.path(), &saved, &split_span, "ann").unwrap();
        let span_value = |i: usize| {
            Sidecar::load(&before[i].0).unwrap().sidecar.spans[0]
                .value
                .clone()
        };
        assert_eq!(
            (span_value(0), span_value(1)),
            ("claim".into(), "opinion".into())
        );
    }

    #[test]
    fn a_split_is_undone_from_its_backups() {
        let (dir, cb, before) = split_folder();
        let codebook_before = std::fs::read(dir.path().join("codebook.ron")).unwrap();
        let listed = codings_of(dir.path(), "tone_answer", "hostile").unwrap();
        let split = Change::SplitValue {
            dimension: "tone_answer".into(),
            from: "hostile".into(),
            label: "Openly hostile".into(),
            color: "#aa3333".into(),
            moved: listed.codings.iter().map(|c| c.id.clone()).collect(),
        };
        let report = commit(dir.path(), &cb, &split, "ann").unwrap();
        assert_eq!(report.rewritten.len(), 2);
        // Undo: each backup copied back over what it backs up.
        for (path, backup) in &report.rewritten {
            assert!(backup.to_string_lossy().contains(".before-split-"));
            std::fs::copy(backup, path).unwrap();
        }
        let cb_backup = report.codebook_backup.unwrap();
        std::fs::copy(&cb_backup, dir.path().join("codebook.ron")).unwrap();
        for (path, bytes) in &before {
            assert_eq!(&std::fs::read(path).unwrap(), bytes);
        }
        assert_eq!(
            std::fs::read(dir.path().join("codebook.ron")).unwrap(),
            codebook_before
        );
        let (restored, _) = Codebook::for_folder(dir.path()).unwrap();
        assert!(
            restored
                .dimension("tone_answer")
                .unwrap()
                .value("openly_hostile")
                .is_none()
        );
    }

    #[test]
    fn a_merge_is_undone_from_its_backups() {
        let (dir, cb, before) = split_folder();
        let merge = Change::MergeValues {
            dimension: "tone_answer".into(),
            from: "hostile".into(),
            into: "critical".into(),
        };
        let report = commit(dir.path(), &cb, &merge, "ann").unwrap();
        assert_eq!(report.rewritten.len(), 2);
        for (path, backup) in &report.rewritten {
            std::fs::copy(backup, path).unwrap();
        }
        std::fs::copy(
            report.codebook_backup.unwrap(),
            dir.path().join("codebook.ron"),
        )
        .unwrap();
        for (path, bytes) in &before {
            assert_eq!(&std::fs::read(path).unwrap(), bytes);
        }
        let (restored, _) = Codebook::for_folder(dir.path()).unwrap();
        assert!(
            restored
                .dimension("tone_answer")
                .unwrap()
                .value("hostile")
                .is_some()
        );
    }

    #[test]
    fn a_split_moving_nothing_or_outside_the_folder_is_refused() {
        let (dir, cb, _) = split_folder();
        let mut split = Change::SplitValue {
            dimension: "tone_answer".into(),
            from: "hostile".into(),
            label: "Openly hostile".into(),
            color: "#aa3333".into(),
            moved: Vec::new(),
        };
        assert!(matches!(
            apply(&mut cb.clone(), &split),
            Err(EditError::NothingMoved)
        ));
        if let Change::SplitValue { moved, .. } = &mut split {
            moved.push(CodingId::Tag {
                sidecar: "../elsewhere.ron".into(),
                part: "answer".into(),
            });
        }
        assert!(matches!(
            preview(dir.path(), &split),
            Err(EditError::File(_))
        ));
    }

    #[test]
    fn dimensions_of_every_kind_and_a_dependency() {
        let mut cb = Codebook::builtin();
        let add = |applies_to, label: &str, kind, values: &[&str], requires| Change::AddDimension {
            applies_to,
            label: label.into(),
            color: "#336699".into(),
            values: values.iter().map(|v| v.to_string()).collect(),
            kind,
            requires,
        };
        apply(
            &mut cb,
            &add(
                AppliesTo::Question,
                "Framing",
                DimensionKind::SeveralChoices,
                &["Economic", "Moral"],
                None,
            ),
        )
        .unwrap();
        assert_eq!(
            cb.dimension("framing").unwrap().kind,
            DimensionKind::SeveralChoices
        );
        // Free values on a span: the values typed are suggestions, not a closed list.
        apply(
            &mut cb,
            &add(
                AppliesTo::Span,
                "Place",
                DimensionKind::Entity,
                &["Croydon"],
                None,
            ),
        )
        .unwrap();
        let place = cb.dimension("place").unwrap();
        assert!(place.values.is_empty());
        assert_eq!(place.known_values, ["Croydon"]);
        assert!(cb.span_dimensions().any(|d| d.id == "place"));
        // Free values on a part are refused.
        assert!(matches!(
            apply(
                &mut cb,
                &add(AppliesTo::Answer, "Who", DimensionKind::Entity, &[], None)
            ),
            Err(EditError::BadKind(_))
        ));
        // A one-choice dimension of the answer that applies only with a non-reply.
        let needs = |value: &str| {
            Some(Requires {
                dimension: "reply".into(),
                value: value.into(),
            })
        };
        apply(
            &mut cb,
            &add(
                AppliesTo::Answer,
                "Deflection",
                DimensionKind::OneChoice,
                &["Blames others"],
                needs("non_reply"),
            ),
        )
        .unwrap();
        assert_eq!(
            cb.dimension("deflection").unwrap().requires,
            needs("non_reply")
        );
        // One on a value that is not there, or on a dimension of the other part, is refused.
        for (applies, value) in [
            (AppliesTo::Answer, "nope"),
            (AppliesTo::Question, "non_reply"),
        ] {
            assert!(matches!(
                apply(
                    &mut cb.clone(),
                    &add(
                        applies,
                        "Other",
                        DimensionKind::OneChoice,
                        &["A"],
                        needs(value)
                    )
                ),
                Err(EditError::Rule(_))
            ));
        }
        // A dimension's description.
        apply(
            &mut cb,
            &Change::DescribeDimension {
                dimension: "place".into(),
                description: " Where it happens. ".into(),
            },
        )
        .unwrap();
        assert_eq!(
            cb.dimension("place").unwrap().description,
            "Where it happens."
        );
    }

    #[test]
    fn a_history_from_before_kinds_reads_as_one_choice() {
        let old = r##"[(when: "2026-01-01T00:00:00Z", who: "ann", change: AddDimension(applies_to: Answer, label: "Cites", color: "#336699", values: ["Yes"]), summary: "added")]"##;
        let h: Vec<HistoryEntry> = ron::de::from_str(old).unwrap();
        assert!(matches!(
            &h[0].change,
            Change::AddDimension {
                kind: DimensionKind::OneChoice,
                requires: None,
                ..
            }
        ));
    }

    #[test]
    fn the_history_is_read_again_only_when_its_file_changed() {
        let (dir, cb) = folder();
        let mut cache = HistoryCache::default();
        assert!(cache.get(dir.path()).unwrap().is_empty());
        let relabel = |label: &str| Change::Relabel {
            dimension: "tone_answer".into(),
            value: Some("evasive".into()),
            label: label.into(),
        };
        commit(dir.path(), &cb, &relabel("Dodging"), "ann").unwrap();
        let first = cache.get(dir.path()).unwrap();
        assert_eq!(first.len(), 1);
        let again = cache.get(dir.path()).unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "the same file is not parsed twice"
        );
        // A longer history (another change) is read again.
        let (cb2, _) = Codebook::for_folder(dir.path()).unwrap();
        commit(dir.path(), &cb2, &relabel("Slippery"), "bob").unwrap();
        let after = cache.get(dir.path()).unwrap();
        assert!(!Arc::ptr_eq(&first, &after));
        assert_eq!(after.len(), 2);
        assert_eq!(after[1].who, "bob");
        // Gone: empty again.
        std::fs::remove_file(dir.path().join(HISTORY_FILE)).unwrap();
        assert!(cache.get(dir.path()).unwrap().is_empty());
    }
}
