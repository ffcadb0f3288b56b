//! Matching the toolkit-free [`Shortcut`]s against egui's key events.

use crate::shortcut::{Key, NamedKey, Shortcut};

/// The egui keys a shortcut key stands for (`Plus` also answers to `=`, which shares its key).
pub fn egui_keys(key: Key) -> Vec<egui::Key> {
    use egui::Key as K;
    match key {
        Key::Letter(c) => egui::Key::from_name(&c.to_string()).into_iter().collect(),
        Key::Digit(d) => vec![
            [
                K::Num0,
                K::Num1,
                K::Num2,
                K::Num3,
                K::Num4,
                K::Num5,
                K::Num6,
                K::Num7,
                K::Num8,
                K::Num9,
            ][d.min(9) as usize],
        ],
        Key::F(n) => vec![
            [
                K::F1,
                K::F2,
                K::F3,
                K::F4,
                K::F5,
                K::F6,
                K::F7,
                K::F8,
                K::F9,
                K::F10,
                K::F11,
                K::F12,
            ][(n.clamp(1, 12) - 1) as usize],
        ],
        Key::Named(n) => match n {
            NamedKey::Enter => vec![K::Enter],
            NamedKey::Escape => vec![K::Escape],
            NamedKey::Tab => vec![K::Tab],
            NamedKey::Delete => vec![K::Delete],
            NamedKey::PageUp => vec![K::PageUp],
            NamedKey::PageDown => vec![K::PageDown],
            NamedKey::ArrowUp => vec![K::ArrowUp],
            NamedKey::ArrowDown => vec![K::ArrowDown],
            NamedKey::ArrowLeft => vec![K::ArrowLeft],
            NamedKey::ArrowRight => vec![K::ArrowRight],
            NamedKey::Plus => vec![K::Plus, K::Equals],
            NamedKey::Minus => vec![K::Minus],
            NamedKey::Slash => vec![K::Slash],
            NamedKey::Comma => vec![K::Comma],
            NamedKey::Period => vec![K::Period],
            NamedKey::Space => vec![K::Space],
        },
    }
}

fn modifiers_match(s: &Shortcut, m: egui::Modifiers) -> bool {
    s.ctrl == (m.ctrl || m.command || m.mac_cmd) && s.shift == m.shift && s.alt == m.alt
}

/// Consumes a press of the shortcut from this frame's input; true when there was one.
///
/// Modifiers must match exactly (egui's own matching ignores extra Shift, which would make
/// Ctrl+Z fire for Ctrl+Shift+Z). Digits also match by physical key, because with Shift held
/// the logical key of `1` is `!` on most layouts.
pub fn take(ctx: &egui::Context, s: &Shortcut) -> bool {
    let wanted = egui_keys(s.key);
    let by_position = matches!(s.key, Key::Digit(_));
    ctx.input_mut(|i| {
        let found = i.events.iter().position(|e| match e {
            egui::Event::Key {
                key,
                physical_key,
                pressed: true,
                modifiers,
                ..
            } => {
                let key_ok = wanted.contains(key)
                    || (by_position && physical_key.is_some_and(|p| wanted.contains(&p)));
                key_ok && modifiers_match(s, *modifiers)
            }
            _ => false,
        });
        match found {
            Some(index) => {
                i.events.remove(index);
                true
            }
            None => false,
        }
    })
}

/// The egui modifiers of a shortcut, for tests that press it.
pub fn egui_modifiers(s: &Shortcut) -> egui::Modifiers {
    egui::Modifiers {
        alt: s.alt,
        ctrl: s.ctrl,
        shift: s.shift,
        mac_cmd: false,
        command: s.ctrl,
    }
}
