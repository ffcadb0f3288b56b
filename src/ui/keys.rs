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
                // A typing key also sends the character it types, right after the key; taken
                // with it, so a focused text view does not take it as typing (a read-only one
                // would drop the selection the shortcut is about to code).
                if !s.ctrl
                    && !s.alt
                    && let Some(t) = i.events[index..]
                        .iter()
                        .position(|e| matches!(e, egui::Event::Text(t) if t.chars().count() == 1))
                {
                    i.events.remove(index + t);
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn press(
        key: egui::Key,
        physical: Option<egui::Key>,
        modifiers: egui::Modifiers,
    ) -> egui::Event {
        egui::Event::Key {
            key,
            physical_key: physical,
            pressed: true,
            repeat: false,
            modifiers,
        }
    }

    /// Runs one frame with `events` and reports whether `s` was taken, and how many events remain.
    fn take_in_frame(events: Vec<egui::Event>, s: &Shortcut) -> (bool, usize) {
        let ctx = egui::Context::default();
        let input = egui::RawInput {
            events,
            ..Default::default()
        };
        let mut taken = false;
        let mut left = 0;
        let mut output = ctx.run_ui(input, |ui| {
            taken = take(ui.ctx(), s);
            left = ui.ctx().input(|i| i.events.len());
        });
        // No painter here: the font atlas is dropped on purpose.
        output.textures_delta.clear();
        (taken, left)
    }

    #[test]
    fn every_key_a_shortcut_can_name_has_an_egui_key() {
        for c in 'A'..='Z' {
            assert_eq!(egui_keys(Key::Letter(c)).len(), 1, "{c}");
        }
        for d in 0..=9 {
            assert_eq!(egui_keys(Key::Digit(d)).len(), 1);
        }
        for n in 1..=12 {
            assert_eq!(egui_keys(Key::F(n)).len(), 1);
        }
        assert_eq!(egui_keys(Key::Digit(3)), [egui::Key::Num3]);
        assert_eq!(egui_keys(Key::F(1)), [egui::Key::F1]);
        assert_eq!(egui_keys(Key::Letter('Z')), [egui::Key::Z]);
        assert_eq!(
            egui_keys(Key::Named(NamedKey::Plus)),
            [egui::Key::Plus, egui::Key::Equals]
        );
    }

    #[test]
    fn modifiers_must_match_exactly() {
        let undo = Shortcut::parse("Ctrl+Z").unwrap();
        let ctrl = egui::Modifiers::COMMAND;
        let ctrl_shift = egui::Modifiers::COMMAND | egui::Modifiers::SHIFT;
        assert_eq!(
            take_in_frame(vec![press(egui::Key::Z, None, ctrl)], &undo),
            (true, 0)
        );
        // Ctrl+Shift+Z is redo, never undo.
        assert_eq!(
            take_in_frame(vec![press(egui::Key::Z, None, ctrl_shift)], &undo),
            (false, 1)
        );
        // A plain Z is typing, not undo.
        let plain = egui::Modifiers::NONE;
        assert!(!take_in_frame(vec![press(egui::Key::Z, None, plain)], &undo).0);
        assert_eq!(
            egui_modifiers(&undo),
            egui::Modifiers::CTRL | egui::Modifiers::COMMAND
        );
    }

    #[test]
    fn a_digit_matches_by_position_under_shift() {
        // Shift+1 gives `!` as the logical key on most layouts; the physical key is still 1.
        let s = Shortcut::parse("Shift+1").unwrap();
        let shift = egui::Modifiers::SHIFT;
        assert!(
            take_in_frame(
                vec![press(
                    egui::Key::Exclamationmark,
                    Some(egui::Key::Num1),
                    shift
                )],
                &s
            )
            .0
        );
        // Letters do not: a layout that moves Z moves its shortcut with it.
        let z = Shortcut::parse("Ctrl+Z").unwrap();
        assert!(
            !take_in_frame(
                vec![press(
                    egui::Key::Y,
                    Some(egui::Key::Z),
                    egui::Modifiers::COMMAND
                )],
                &z
            )
            .0
        );
    }

    #[test]
    fn the_character_a_shortcut_types_is_taken_with_it() {
        let s = Shortcut::parse("Shift+P").unwrap();
        let events = vec![
            press(egui::Key::P, None, egui::Modifiers::SHIFT),
            egui::Event::Text("P".into()),
        ];
        assert_eq!(take_in_frame(events, &s), (true, 0));
        // With Ctrl no character is typed: a text event after it is someone else's.
        let s = Shortcut::parse("Ctrl+S").unwrap();
        let events = vec![
            press(egui::Key::S, None, egui::Modifiers::COMMAND),
            egui::Event::Text("x".into()),
        ];
        assert_eq!(take_in_frame(events, &s), (true, 1));
    }

    #[test]
    fn a_press_is_taken_once() {
        let s = Shortcut::parse("5").unwrap();
        let events = vec![
            press(egui::Key::Num5, None, egui::Modifiers::NONE),
            press(egui::Key::Num6, None, egui::Modifiers::NONE),
        ];
        assert_eq!(take_in_frame(events, &s), (true, 1));
    }
}
