//! Growing the codebook while coding: a value added, a label, colour, description or key changed,
//! two values merged. Ids stay stable (labels are free), so only a merge touches sidecars: each
//! sidecar of the folder that uses the merged value is backed up beside itself and rewritten
//! atomically, and every change goes into the folder's codebook history
//! (`.marginalia/codebook-history.ron`: who, when, what), so an old sidecar can still be read.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::codebook::{AppliesTo, CodeValue, Codebook, Dimension, DimensionKind};

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
    /// A new one-choice dimension of the question or the answer, its values to be added; its id
    /// is made from the label.
    AddDimension {
        /// Where it is coded.
        applies_to: AppliesTo,
        /// Its label.
        label: String,
        /// Its colour, `#rrggbb`.
        color: String,
        /// The labels of its first values (a choice dimension has at least one).
        values: Vec<String>,
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
                applies_to, label, ..
            } => format!("added the dimension \"{label}\" ({applies_to:?})"),
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
            } => format!("merged {} value {from} into {into}", dim(dimension)),
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
    } = change
    {
        add_dimension(cb, *applies_to, label, color, values)?;
        return cb.check().map_err(|e| EditError::Rule(e.to_string()));
    }
    let dim_id = match change {
        Change::AddDimension { .. } => unreachable!("handled above"),
        Change::AddValue { dimension, .. }
        | Change::Relabel { dimension, .. }
        | Change::Recolour { dimension, .. }
        | Change::SetKey { dimension, .. }
        | Change::Describe { dimension, .. }
        | Change::MergeValues { dimension, .. } => dimension.clone(),
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
        Change::AddValue { label, color, .. } => {
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
                color: color.clone(),
                key: None,
            });
        }
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
    }
    // The codebook's own rules hold after every change (a key used twice, one that is no key).
    cb.check().map_err(|e| EditError::Rule(e.to_string()))
}

/// A new one-choice dimension with its first values, ids made from the labels.
fn add_dimension(
    cb: &mut Codebook,
    applies_to: AppliesTo,
    label: &str,
    color: &str,
    values: &[String],
) -> Result<(), EditError> {
    check_label(label, cb.dimensions.iter().map(|d| d.label.as_str()))?;
    check_color(color)?;
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
    let mut made: Vec<CodeValue> = Vec::new();
    for (i, v) in values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .enumerate()
    {
        check_label(v, made.iter().map(|x| x.label.as_str()))?;
        let [r, g, b] = crate::analysis::chart::PALETTE[i % crate::analysis::chart::PALETTE.len()];
        made.push(CodeValue {
            id: new_id(v, &made),
            label: v.to_string(),
            description: String::new(),
            color: format!("#{r:02x}{g:02x}{b:02x}"),
            key: None,
        });
    }
    cb.dimensions.push(Dimension {
        id: new_id(label, &taken),
        label: label.trim().to_string(),
        description: String::new(),
        color: color.to_string(),
        applies_to,
        kind: DimensionKind::OneChoice,
        values: made,
        known_values: Vec::new(),
        key: None,
        group: None,
        requires: None,
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

/// The sidecars of the folder a change rewrites (only a merge rewrites any).
pub fn preview(root: &Path, change: &Change) -> Result<Vec<Affected>, EditError> {
    let Change::MergeValues {
        dimension, from, ..
    } = change
    else {
        return Ok(Vec::new());
    };
    let files = crate::corpus::scan(root).map_err(|e| EditError::File(e.to_string()))?;
    let mut out = Vec::new();
    for f in &files.sidecars {
        // An unreadable sidecar is never rewritten: named, so the user knows it keeps the old value.
        let loaded = match crate::sidecar::Sidecar::load(&f.path) {
            Ok(l) => l,
            Err(e) => {
                out.push(Affected {
                    path: f.path.clone(),
                    codings: 0,
                    unreadable: Some(e.to_string()),
                });
                continue;
            }
        };
        let n = count(&loaded.sidecar, dimension, from);
        if n > 0 {
            out.push(Affected {
                path: f.path.clone(),
                codings: n,
                unreadable: None,
            });
        }
    }
    Ok(out)
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

/// Carries out a change in the folder: the sidecars a merge touches are backed up and rewritten
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
    let mut rewritten = Vec::new();
    let mut skipped = Vec::new();
    if let Change::MergeValues {
        dimension,
        from,
        into,
    } = change
    {
        for a in affected {
            if let Some(why) = a.unreadable {
                skipped.push((a.path, why));
                continue;
            }
            let loaded = crate::sidecar::Sidecar::load(&a.path)
                .map_err(|e| EditError::File(e.to_string()))?;
            let mut s = loaded.sidecar;
            for dims in s.tags.values_mut() {
                if let Some(vals) = dims.get_mut(dimension) {
                    for v in vals.iter_mut() {
                        if v == from {
                            v.clone_from(into);
                        }
                    }
                    // Both values on one part become one.
                    let mut seen = std::collections::HashSet::new();
                    vals.retain(|v| seen.insert(v.clone()));
                }
            }
            for sp in &mut s.spans {
                if sp.dimension == *dimension && sp.value == *from {
                    sp.value.clone_from(into);
                }
            }
            let backup = crate::fsutil::write_backup(&a.path, "before-merge", &loaded.bytes)
                .map_err(|e| EditError::File(e.to_string()))?;
            s.save(&a.path)
                .map_err(|e| EditError::File(e.to_string()))?;
            rewritten.push((a.path, backup));
        }
    }
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
}
