//! The codebook: the dimensions researchers code (tone, reply type, topics, cited authorities)
//! and their values, colours and keyboard shortcuts.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ronfmt::ron_options;

/// The codebook shipped with Marginalia, used when the opened folder has no `codebook.ron`.
pub const DEFAULT_CODEBOOK_RON: &str = include_str!("../assets/codebook.ron");

pub use crate::names::CODEBOOK_FILE_NAME;

/// Newest codebook schema this version reads.
pub const CODEBOOK_SCHEMA: u32 = 1;

/// Largest codebook file read, in bytes.
pub const MAX_CODEBOOK_BYTES: u64 = crate::limits::CODEBOOK_BYTES;

/// Why a codebook could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CodebookError {
    /// The file could not be read.
    #[error("cannot read codebook: {source}: {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid RON for a codebook, or breaks a rule.
    #[error("invalid codebook: {message}: {}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Where a dimension is coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AppliesTo {
    /// The whole question.
    Question,
    /// The whole answer.
    Answer,
    /// A highlighted stretch of text in either part.
    Span,
}

/// How values are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DimensionKind {
    /// Exactly one value (or none yet).
    OneChoice,
    /// Any number of values.
    SeveralChoices,
    /// A free value, such as the name of a cited person, with suggestions.
    Entity,
}

/// One value of a choice dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeValue {
    /// Stable id written into sidecars.
    pub id: String,
    /// Name shown to the user.
    pub label: String,
    /// What the value means; shown on hover.
    #[serde(default)]
    pub description: String,
    /// Colour as `#rrggbb`.
    pub color: String,
    /// Keyboard shortcut, such as `1`, `Shift+3` or `H`.
    #[serde(default)]
    pub key: Option<String>,
}

/// One thing that is coded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimension {
    /// Stable id written into sidecars.
    pub id: String,
    /// Name shown to the user.
    pub label: String,
    /// What is coded and how; shown on hover.
    #[serde(default)]
    pub description: String,
    /// Colour as `#rrggbb`.
    pub color: String,
    /// Where it is coded.
    pub applies_to: AppliesTo,
    /// How values are chosen.
    pub kind: DimensionKind,
    /// The values of a choice dimension.
    #[serde(default)]
    pub values: Vec<CodeValue>,
    /// Suggested values of an entity dimension.
    #[serde(default)]
    pub known_values: Vec<String>,
    /// Keyboard shortcut that tags the selected text with this (span) dimension.
    #[serde(default)]
    pub key: Option<String>,
    /// Optional heading that groups dimensions in the codebook panel.
    #[serde(default)]
    pub group: Option<String>,
    /// The code the same part must have for this dimension to apply (Bull's non-reply types only
    /// on a non-reply); `None`: always applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires: Option<Requires>,
}

/// A value of another part dimension that a dimension depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requires {
    /// The other dimension's id.
    pub dimension: String,
    /// The value it must have.
    pub value: String,
}

impl Dimension {
    /// The value with this id.
    pub fn value(&self, id: &str) -> Option<&CodeValue> {
        self.values.iter().find(|v| v.id == id)
    }
}

/// A codebook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Codebook {
    /// Schema version of the file.
    pub schema: u32,
    /// Stable id recorded in sidecars, e.g. `marginalia-default-1`.
    pub id: String,
    /// Name shown to the user.
    pub name: String,
    /// What the codebook is for.
    #[serde(default)]
    pub description: String,
    /// The dimensions, in display order.
    pub dimensions: Vec<Dimension>,
}

impl Default for Codebook {
    fn default() -> Self {
        Codebook::builtin()
    }
}

impl Codebook {
    /// The codebook shipped with Marginalia.
    pub fn builtin() -> Codebook {
        Codebook::parse(DEFAULT_CODEBOOK_RON, Path::new("assets/codebook.ron"))
            .expect("the built-in codebook is valid (checked by a test)")
    }

    /// The codebook of a folder: its `codebook.ron` when there is one, else the built-in one.
    pub fn for_folder(dir: &Path) -> Result<(Codebook, Option<PathBuf>), CodebookError> {
        let path = dir.join(CODEBOOK_FILE_NAME);
        if path.is_file() {
            Ok((Codebook::load(&path)?, Some(path)))
        } else {
            Ok((Codebook::builtin(), None))
        }
    }

    /// Reads and checks a codebook file.
    pub fn load(path: &Path) -> Result<Codebook, CodebookError> {
        let io = |source| CodebookError::Io {
            path: path.to_path_buf(),
            source,
        };
        let invalid = |message: String| CodebookError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let bytes = match crate::fsutil::read_limited(path, MAX_CODEBOOK_BYTES) {
            Ok(b) => b,
            Err(crate::fsutil::ReadError::Io(e)) => return Err(io(e)),
            Err(other) => return Err(invalid(other.to_string())),
        };
        let text = String::from_utf8(bytes).map_err(|_| CodebookError::Invalid {
            path: path.to_path_buf(),
            message: "not UTF-8 text".to_string(),
        })?;
        Codebook::parse(&text, path)
    }

    /// Parses and checks codebook RON; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Codebook, CodebookError> {
        let invalid = |message: String| CodebookError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
        let codebook: Codebook = ron_options()
            .from_str(text)
            .map_err(|e| invalid(crate::ronfmt::ron_error_message(&e)))?;
        if codebook.schema > CODEBOOK_SCHEMA {
            return Err(invalid(format!(
                "schema {} is newer than this version of Marginalia reads ({CODEBOOK_SCHEMA})",
                codebook.schema
            )));
        }
        codebook.check().map_err(|e| invalid(e.to_string()))?;
        Ok(codebook)
    }

    /// Checks the rules serde cannot: unique ids and shortcuts, colours, values present.
    pub fn check(&self) -> Result<(), RuleError> {
        if self.id.trim().is_empty() {
            return Err(RuleError::NoId);
        }
        let mut dim_ids = HashSet::new();
        let mut keys: Vec<(String, String)> = Vec::new();
        let mut add_key = |key: &Option<String>, owner: String| -> Result<(), RuleError> {
            if let Some(k) = key {
                let norm = match crate::shortcut::Shortcut::parse(k) {
                    Ok(shortcut) => shortcut.to_string(),
                    Err(source) => return Err(RuleError::Shortcut { owner, source }),
                };
                if let Some((_, other)) = keys.iter().find(|(k2, _)| *k2 == norm) {
                    return Err(RuleError::SharedShortcut {
                        shortcut: norm,
                        first: other.clone(),
                        second: owner,
                    });
                }
                keys.push((norm, owner));
            }
            Ok(())
        };
        for d in &self.dimensions {
            let owner = format!("dimension \"{}\"", d.id);
            check_id(&d.id).map_err(|problem| RuleError::Id {
                owner: owner.clone(),
                problem,
            })?;
            if !dim_ids.insert(d.id.as_str()) {
                return Err(RuleError::DuplicateDimension(d.id.clone()));
            }
            check_color(&owner, &d.color)?;
            add_key(&d.key, owner)?;
            if matches!(
                d.kind,
                DimensionKind::OneChoice | DimensionKind::SeveralChoices
            ) && d.values.is_empty()
            {
                return Err(RuleError::NoValues(d.id.clone()));
            }
            let mut value_ids = HashSet::new();
            for v in &d.values {
                let owner = format!("value \"{}\" of dimension \"{}\"", v.id, d.id);
                check_id(&v.id).map_err(|problem| RuleError::Id {
                    owner: owner.clone(),
                    problem,
                })?;
                if !value_ids.insert(v.id.as_str()) {
                    return Err(RuleError::DuplicateValue {
                        value: v.id.clone(),
                        dimension: d.id.clone(),
                    });
                }
                check_color(&owner, &v.color)?;
                add_key(&v.key, owner)?;
            }
        }
        for d in &self.dimensions {
            let Some(r) = &d.requires else { continue };
            let target = self.dimension(&r.dimension).filter(|t| {
                t.id != d.id && t.applies_to == d.applies_to && d.applies_to != AppliesTo::Span
            });
            match target {
                Some(t) if t.value(&r.value).is_some() => {}
                _ => {
                    return Err(RuleError::Requirement {
                        dimension: d.id.clone(),
                        requires: r.dimension.clone(),
                        value: r.value.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The codes of a part that break a dependency of the codebook: (dimension, what it requires),
    /// e.g. a non-reply type on an answer coded as a full reply.
    pub fn unmet_requirements<'a>(
        &'a self,
        values_of: impl Fn(&str) -> &'a [String],
    ) -> Vec<(&'a Dimension, &'a Requires)> {
        self.dimensions
            .iter()
            .filter_map(|d| d.requires.as_ref().map(|r| (d, r)))
            .filter(|(d, r)| {
                !values_of(&d.id).is_empty() && !values_of(&r.dimension).contains(&r.value)
            })
            .collect()
    }

    /// The dimension with this id.
    pub fn dimension(&self, id: &str) -> Option<&Dimension> {
        self.dimensions.iter().find(|d| d.id == id)
    }

    /// The dimensions coded on a whole part of this kind.
    pub fn part_dimensions(&self, applies: AppliesTo) -> impl Iterator<Item = &Dimension> {
        self.dimensions
            .iter()
            .filter(move |d| d.applies_to == applies)
    }

    /// The dimensions coded on spans.
    pub fn span_dimensions(&self) -> impl Iterator<Item = &Dimension> {
        self.part_dimensions(AppliesTo::Span)
    }

    /// Writes the codebook as RON (deterministic, `\n` line endings).
    pub fn to_ron(&self) -> String {
        crate::ronfmt::to_pretty_ron(self)
    }
}

fn check_id(id: &str) -> Result<(), IdProblem> {
    if id.is_empty() || id.len() > 64 {
        return Err(IdProblem::Length);
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    {
        return Err(IdProblem::Characters(id.to_string()));
    }
    Ok(())
}

/// Parses `#rrggbb` into its three bytes.
pub fn parse_color(color: &str) -> Option<[u8; 3]> {
    let hex = color.strip_prefix('#')?;
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

fn check_color(owner: &str, color: &str) -> Result<(), RuleError> {
    match parse_color(color) {
        Some(_) => Ok(()),
        None => Err(RuleError::Colour {
            owner: owner.to_string(),
            colour: color.to_string(),
        }),
    }
}

/// A rule of the codebook format that serde cannot check, broken (one line, naming what broke it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The codebook's own id is empty.
    #[error("the codebook has no id")]
    NoId,
    /// A dimension's or value's id is malformed.
    #[error("{owner}: {problem}")]
    Id {
        /// The dimension or value, as said in messages.
        owner: String,
        /// What is wrong with the id.
        problem: IdProblem,
    },
    /// Two dimensions share an id.
    #[error("duplicate dimension id \"{0}\"")]
    DuplicateDimension(String),
    /// Two values of a dimension share an id.
    #[error("duplicate value id \"{value}\" in dimension \"{dimension}\"")]
    DuplicateValue {
        /// The value id.
        value: String,
        /// The dimension id.
        dimension: String,
    },
    /// A colour is not `#rrggbb`.
    #[error("{owner}: colour \"{colour}\" is not of the form #rrggbb")]
    Colour {
        /// The dimension or value.
        owner: String,
        /// The colour as written.
        colour: String,
    },
    /// A shortcut cannot be read.
    #[error("{owner}: {source}")]
    Shortcut {
        /// The dimension or value.
        owner: String,
        /// Why.
        #[source]
        source: crate::shortcut::ShortcutError,
    },
    /// One shortcut given to two codes.
    #[error("shortcut {shortcut} is used by both {first} and {second}")]
    SharedShortcut {
        /// The shortcut, normalized.
        shortcut: String,
        /// The code that had it first.
        first: String,
        /// The code that has it again.
        second: String,
    },
    /// A choice dimension without values.
    #[error("dimension \"{0}\" has no values")]
    NoValues(String),
    /// A dependency on something that is not a value of another dimension of the same part.
    #[error(
        "dimension \"{dimension}\" requires \"{requires}\" = \"{value}\", which is not a value of another dimension of the same part"
    )]
    Requirement {
        /// The dimension with the dependency.
        dimension: String,
        /// The dimension it requires.
        requires: String,
        /// The value it requires.
        value: String,
    },
}

/// What is wrong with an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdProblem {
    /// Empty or longer than 64 bytes.
    #[error("an id must have 1 to 64 characters")]
    Length,
    /// Holds something other than `a-z 0-9 _ -`.
    #[error("id \"{0}\" may only hold a-z, 0-9, _ and -")]
    Characters(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_is_valid_and_useful() {
        let cb = Codebook::parse(DEFAULT_CODEBOOK_RON, Path::new("assets/codebook.ron")).unwrap();
        for id in [
            "tone_question",
            "tone_answer",
            "reply",
            "non_reply",
            "topic",
        ] {
            assert!(cb.dimension(id).is_some(), "{id}");
        }
        let tone = cb.dimension("tone_answer").unwrap();
        for v in [
            "neutral",
            "supportive",
            "critical",
            "hostile",
            "evasive",
            "defensive",
            "conciliatory",
        ] {
            assert!(tone.value(v).is_some(), "{v}");
        }
        assert_eq!(cb.dimension("non_reply").unwrap().values.len(), 11);
        assert!(cb.span_dimensions().count() >= 6);
        assert!(
            cb.span_dimensions()
                .all(|d| d.kind == DimensionKind::Entity)
        );
        // Round-trips through our own writer.
        let again = Codebook::parse(&cb.to_ron(), Path::new("x")).unwrap();
        assert_eq!(again, cb);
    }

    fn broken(edit: impl Fn(&mut Codebook)) -> String {
        let mut cb = Codebook::builtin();
        edit(&mut cb);
        Codebook::parse(&cb.to_ron(), Path::new("dir/codebook.ron"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn broken_codebooks_get_clear_errors() {
        let e = broken(|cb| {
            let d = cb.dimensions[0].clone();
            cb.dimensions.push(d);
        });
        assert!(
            e.contains("duplicate dimension id \"tone_question\""),
            "{e}"
        );
        assert!(e.ends_with("dir/codebook.ron"), "{e}");
        let e = broken(|cb| cb.dimensions[1].values[0].color = "red".into());
        assert!(e.contains("colour \"red\""), "{e}");
        let e = broken(|cb| {
            let v = cb.dimensions[1].values[0].clone();
            cb.dimensions[1].values.push(v);
        });
        assert!(e.contains("duplicate value id"), "{e}");
        let e =
            broken(|cb| cb.dimensions[1].values[1].key = cb.dimensions[1].values[0].key.clone());
        assert!(e.contains("is used by both"), "{e}");

        let text = DEFAULT_CODEBOOK_RON.replacen("kind: OneChoice", "kind: Sometimes", 1);
        let e = Codebook::parse(&text, Path::new("c.ron"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("Sometimes"), "{e}");
        let text = DEFAULT_CODEBOOK_RON.replacen("color: \"#", "colour_typo: \"#", 1);
        let e = Codebook::parse(&text, Path::new("c.ron"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("color"), "{e}");
        let e = Codebook::parse("not ron at all", Path::new("c.ron"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("invalid codebook:"), "{e}");
    }

    #[test]
    fn colors() {
        assert_eq!(parse_color("#ff8000"), Some([255, 128, 0]));
        assert_eq!(parse_color("ff8000"), None);
        assert_eq!(parse_color("#ff80"), None);
    }
}
