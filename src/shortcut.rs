//! Keyboard shortcuts as data, independent of the GUI toolkit, so the codebook can be checked
//! without one.

use std::fmt;

/// A key with modifiers, written like `Ctrl+Shift+Z`, `Shift+3`, `H` or `F2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shortcut {
    /// Ctrl (Cmd on macOS).
    pub ctrl: bool,
    /// Shift.
    pub shift: bool,
    /// Alt (Option on macOS).
    pub alt: bool,
    /// The key itself.
    pub key: Key,
}

/// The keys a shortcut can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    /// A letter, upper case.
    Letter(char),
    /// A digit.
    Digit(u8),
    /// A function key F1 to F12.
    F(u8),
    /// Others by name.
    Named(NamedKey),
}

/// Keys with names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NamedKey {
    /// Enter / Return.
    Enter,
    /// Escape.
    Escape,
    /// Tab.
    Tab,
    /// Delete.
    Delete,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
    /// Arrow up.
    ArrowUp,
    /// Arrow down.
    ArrowDown,
    /// Arrow left.
    ArrowLeft,
    /// Arrow right.
    ArrowRight,
    /// `+` (and `=`, which shares its key).
    Plus,
    /// `-`.
    Minus,
    /// `/`.
    Slash,
    /// `?` is written as Shift+/.
    Comma,
    /// `.`.
    Period,
    /// Space bar.
    Space,
}

const NAMES: &[(NamedKey, &str)] = &[
    (NamedKey::Enter, "Enter"),
    (NamedKey::Escape, "Esc"),
    (NamedKey::Tab, "Tab"),
    (NamedKey::Delete, "Delete"),
    (NamedKey::PageUp, "PageUp"),
    (NamedKey::PageDown, "PageDown"),
    (NamedKey::ArrowUp, "Up"),
    (NamedKey::ArrowDown, "Down"),
    (NamedKey::ArrowLeft, "Left"),
    (NamedKey::ArrowRight, "Right"),
    (NamedKey::Plus, "Plus"),
    (NamedKey::Minus, "Minus"),
    (NamedKey::Slash, "/"),
    (NamedKey::Comma, ","),
    (NamedKey::Period, "."),
    (NamedKey::Space, "Space"),
];

/// Why a shortcut's text (in a codebook) could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShortcutError {
    /// Nothing to read.
    #[error("empty shortcut \"{0}\"")]
    Empty(String),
    /// A modifier other than Ctrl, Shift or Alt.
    #[error("unknown modifier \"{modifier}\" in shortcut \"{shortcut}\"")]
    UnknownModifier {
        /// The modifier as written.
        modifier: String,
        /// The whole shortcut.
        shortcut: String,
    },
    /// A key name that is not known.
    #[error("unknown key in shortcut \"{0}\"")]
    UnknownKey(String),
}

impl Shortcut {
    /// A shortcut without modifiers.
    pub const fn plain(key: Key) -> Shortcut {
        Shortcut {
            ctrl: false,
            shift: false,
            alt: false,
            key,
        }
    }

    /// The same with Ctrl.
    pub const fn ctrl(key: Key) -> Shortcut {
        Shortcut {
            ctrl: true,
            shift: false,
            alt: false,
            key,
        }
    }

    /// The same with Ctrl and Shift.
    pub const fn ctrl_shift(key: Key) -> Shortcut {
        Shortcut {
            ctrl: true,
            shift: true,
            alt: false,
            key,
        }
    }

    /// Parses `Ctrl+Shift+Z`, `shift+3`, `h`, `F2`, `Esc`.
    pub fn parse(s: &str) -> Result<Shortcut, ShortcutError> {
        let mut sc = Shortcut::plain(Key::Digit(0));
        let pieces: Vec<&str> = s.split('+').map(str::trim).collect();
        let Some((key, mods)) = pieces.split_last() else {
            return Err(ShortcutError::Empty(s.to_string()));
        };
        for m in mods {
            match m.to_ascii_lowercase().as_str() {
                "ctrl" | "control" | "cmd" => sc.ctrl = true,
                "shift" => sc.shift = true,
                "alt" | "option" => sc.alt = true,
                _ => {
                    return Err(ShortcutError::UnknownModifier {
                        modifier: (*m).to_string(),
                        shortcut: s.to_string(),
                    });
                }
            }
        }
        sc.key = parse_key(key).ok_or_else(|| ShortcutError::UnknownKey(s.to_string()))?;
        Ok(sc)
    }

    /// True for a shortcut without Ctrl or Alt, which typing in a text box would trigger.
    pub fn is_typing_key(&self) -> bool {
        !self.ctrl && !self.alt
    }
}

fn parse_key(k: &str) -> Option<Key> {
    let mut chars = k.chars();
    let first = chars.next()?;
    if chars.next().is_none() {
        if first.is_ascii_alphabetic() {
            return Some(Key::Letter(first.to_ascii_uppercase()));
        }
        if let Some(d) = first.to_digit(10) {
            return Some(Key::Digit(d as u8));
        }
        if first == '+' || first == '=' {
            return Some(Key::Named(NamedKey::Plus));
        }
        if first == '-' {
            return Some(Key::Named(NamedKey::Minus));
        }
    }
    if let Some(n) = k
        .strip_prefix(['F', 'f'])
        .and_then(|n| n.parse::<u8>().ok())
        && (1..=12).contains(&n)
    {
        return Some(Key::F(n));
    }
    let lower = k.to_ascii_lowercase();
    let alias = match lower.as_str() {
        "return" => "enter",
        "escape" => "esc",
        "del" => "delete",
        "pgup" => "pageup",
        "pgdown" => "pagedown",
        other => other,
    };
    NAMES
        .iter()
        .find(|(_, n)| n.to_ascii_lowercase() == alias)
        .map(|(k, _)| Key::Named(*k))
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Letter(c) => write!(f, "{c}"),
            Key::Digit(d) => write!(f, "{d}"),
            Key::F(n) => write!(f, "F{n}"),
            Key::Named(k) => {
                let name = NAMES.iter().find(|(n, _)| n == k).map_or("?", |(_, s)| s);
                f.write_str(name)
            }
        }
    }
}

impl fmt::Display for Shortcut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl+")?;
        }
        if self.alt {
            f.write_str("Alt+")?;
        }
        if self.shift {
            f.write_str("Shift+")?;
        }
        write!(f, "{}", self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for (input, shown) in [
            ("ctrl+shift+z", "Ctrl+Shift+Z"),
            ("Shift+3", "Shift+3"),
            ("h", "H"),
            ("F2", "F2"),
            ("Escape", "Esc"),
            ("Ctrl+=", "Ctrl+Plus"),
            ("Ctrl+-", "Ctrl+Minus"),
        ] {
            assert_eq!(
                Shortcut::parse(input).unwrap().to_string(),
                shown,
                "{input}"
            );
        }
        assert!(Shortcut::parse("Hyper+x").is_err());
        assert!(Shortcut::parse("F13").is_err());
        assert!(Shortcut::parse("").is_err());
    }
}
