//! Every command of the app as a value: name, shortcuts and help. The one list feeds the menus,
//! the command palette, the keyboard handling and the help overlay, so they cannot drift apart.

use crate::shortcut::{Key, NamedKey, Shortcut};

/// A command the user can give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// Pick a transcript file to open.
    OpenFile,
    /// Pick a folder to open as a corpus.
    OpenFolder,
    /// Save the sidecar now.
    Save,
    /// Close the window (saving first).
    Quit,
    /// Undo the last change.
    Undo,
    /// Redo the last undone change.
    Redo,
    /// Next document in the list.
    NextDocument,
    /// Previous document in the list.
    PreviousDocument,
    /// Next document not marked done.
    NextNotDone,
    /// Mark the document done (or in progress again).
    ToggleDone,
    /// Put the keyboard in the corpus filter.
    FocusFilter,
    /// Larger text.
    ZoomIn,
    /// Smaller text.
    ZoomOut,
    /// Default text size.
    ZoomReset,
    /// Switch between light and dark.
    ToggleTheme,
    /// Open the command palette.
    Palette,
    /// Show every shortcut.
    Help,
    /// Change the annotator's id and name.
    Settings,
}

/// Name, shortcuts and help of a command.
#[derive(Debug, Clone)]
pub struct CommandInfo {
    /// The command.
    pub command: Command,
    /// Name in menus and the palette.
    pub name: &'static str,
    /// Shortcuts; the first is shown in menus.
    pub shortcuts: Vec<Shortcut>,
    /// One line of help.
    pub help: &'static str,
}

fn letter(c: char) -> Key {
    Key::Letter(c)
}

/// All commands, in menu order.
pub fn all() -> Vec<CommandInfo> {
    use Command::*;
    let info = |command, name, shortcuts, help| CommandInfo {
        command,
        name,
        shortcuts,
        help,
    };
    vec![
        info(
            OpenFile,
            "Open file…",
            vec![Shortcut::ctrl(letter('O'))],
            "Open a transcript file (and the folder it is in)",
        ),
        info(
            OpenFolder,
            "Open folder…",
            vec![Shortcut::ctrl_shift(letter('O'))],
            "Open a folder of transcripts as a corpus",
        ),
        info(
            Save,
            "Save",
            vec![Shortcut::ctrl(letter('S'))],
            "Write this document's annotations now (autosave does it after a second)",
        ),
        info(
            Quit,
            "Quit",
            vec![Shortcut::ctrl(letter('Q'))],
            "Save and close the window",
        ),
        info(
            Undo,
            "Undo",
            vec![Shortcut::ctrl(letter('Z'))],
            "Undo the last change",
        ),
        info(
            Redo,
            "Redo",
            vec![
                Shortcut::ctrl_shift(letter('Z')),
                Shortcut::ctrl(letter('Y')),
            ],
            "Redo the last undone change",
        ),
        info(
            NextDocument,
            "Next document",
            vec![
                Shortcut::ctrl(Key::Named(NamedKey::ArrowDown)),
                Shortcut::ctrl(Key::Named(NamedKey::PageDown)),
            ],
            "Open the next document in the list",
        ),
        info(
            PreviousDocument,
            "Previous document",
            vec![
                Shortcut::ctrl(Key::Named(NamedKey::ArrowUp)),
                Shortcut::ctrl(Key::Named(NamedKey::PageUp)),
            ],
            "Open the previous document in the list",
        ),
        info(
            NextNotDone,
            "Next document not done",
            vec![Shortcut::ctrl_shift(Key::Named(NamedKey::ArrowDown))],
            "Open the next document you have not marked done",
        ),
        info(
            ToggleDone,
            "Mark done",
            vec![Shortcut::ctrl(Key::Named(NamedKey::Enter))],
            "Mark this document done, or in progress again",
        ),
        info(
            FocusFilter,
            "Filter documents",
            vec![Shortcut::ctrl(letter('F'))],
            "Type in the filter above the document list",
        ),
        info(
            ZoomIn,
            "Zoom in",
            vec![Shortcut::ctrl(Key::Named(NamedKey::Plus))],
            "Larger text",
        ),
        info(
            ZoomOut,
            "Zoom out",
            vec![Shortcut::ctrl(Key::Named(NamedKey::Minus))],
            "Smaller text",
        ),
        info(
            ZoomReset,
            "Reset zoom",
            vec![Shortcut::ctrl(Key::Digit(0))],
            "Default text size",
        ),
        info(
            ToggleTheme,
            "Switch light/dark",
            vec![Shortcut::ctrl_shift(letter('L'))],
            "Switch between the light and the dark theme",
        ),
        info(
            Palette,
            "Command palette…",
            vec![
                Shortcut::ctrl(letter('K')),
                Shortcut::ctrl_shift(letter('P')),
            ],
            "Find and run any command by name",
        ),
        info(
            Help,
            "Keyboard shortcuts",
            vec![Shortcut::plain(Key::F(1))],
            "Show every shortcut, the codebook's too",
        ),
        info(
            Settings,
            "Annotator…",
            vec![Shortcut::ctrl(Key::Named(NamedKey::Comma))],
            "Change your annotator id and name",
        ),
    ]
}

/// The info of one command.
pub fn info(command: Command) -> CommandInfo {
    all()
        .into_iter()
        .find(|c| c.command == command)
        .expect("every command is in the list")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_are_unique_and_do_not_clash_with_the_codebook() {
        let mut seen = std::collections::HashSet::new();
        for c in all() {
            for s in &c.shortcuts {
                assert!(seen.insert(*s), "{s} used twice");
            }
        }
        let cb = crate::codebook::Codebook::builtin();
        for d in &cb.dimensions {
            let keys = d
                .values
                .iter()
                .filter_map(|v| v.key.as_ref())
                .chain(d.key.as_ref());
            for k in keys {
                let s = Shortcut::parse(k).unwrap();
                assert!(
                    !seen.contains(&s),
                    "codebook shortcut {s} is also a command"
                );
            }
        }
    }
}
