//! Every command of the app as a value: name, shortcuts and help. The one list feeds the menus,
//! the command palette, the keyboard handling and the help overlay, so they cannot drift apart.

use crate::shortcut::{Key, NamedKey, Shortcut};

/// A command the user can give. Its variants, in order, are the menus' order: `Command::iter()`
/// comes from the enum itself, so a new command is in the menus, the palette, the keys and the help
/// as soon as `describe` (an exhaustive match) gives it a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::EnumIter)]
pub enum Command {
    /// Pick a transcript file to open.
    OpenFile,
    /// Pick a folder to open as a corpus.
    OpenFolder,
    /// Save the sidecar now.
    Save,
    /// Export the tagged dataset.
    Export,
    /// Make a Marginalia folder from a REFI-QDA project.
    ImportProject,
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
    /// Put the keyboard in the full-text search.
    FocusSearch,
    /// Next search hit.
    NextHit,
    /// Previous search hit.
    PreviousHit,
    /// Larger text.
    ZoomIn,
    /// Smaller text.
    ZoomOut,
    /// Default text size.
    ZoomReset,
    /// Switch between light and dark.
    ToggleTheme,
    /// Show or hide the document list.
    ToggleDocumentList,
    /// Show or hide the codebook panel.
    ToggleCodebookPanel,
    /// Open the command palette.
    Palette,
    /// Enter or leave review mode.
    Review,
    /// Enter or leave analysis: retrieval, frequencies, cross-tabs.
    Analysis,
    /// Show every shortcut.
    Help,
    /// Change the annotator's id and name.
    Settings,
    /// Version, licence and the codebook's sources.
    About,
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

/// The menus of the menu bar, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::EnumIter)]
pub enum Menu {
    /// Opening, saving, exporting, importing, quitting.
    File,
    /// Undo and redo.
    Edit,
    /// Moving through the corpus and its search.
    Document,
    /// Zoom, theme, panels, modes.
    View,
    /// Who is annotating.
    Settings,
    /// Help and about.
    Help,
}

impl Menu {
    /// The menu's title.
    pub fn title(self) -> &'static str {
        match self {
            Menu::File => "File",
            Menu::Edit => "Edit",
            Menu::Document => "Document",
            Menu::View => "View",
            Menu::Settings => "Settings",
            Menu::Help => "Help",
        }
    }
}

impl Command {
    /// Every command, in menu order.
    pub fn iter() -> impl Iterator<Item = Command> {
        <Command as strum::IntoEnumIterator>::iter()
    }

    /// The menu a command is in, and its group there (groups are parted by a separator).
    pub fn menu(self) -> (Menu, u8) {
        use Command::*;
        match self {
            OpenFile | OpenFolder => (Menu::File, 0),
            Save | Export | ImportProject => (Menu::File, 1),
            Quit => (Menu::File, 2),
            Undo | Redo => (Menu::Edit, 0),
            NextDocument | PreviousDocument | NextNotDone | ToggleDone => (Menu::Document, 0),
            FocusFilter | FocusSearch | NextHit | PreviousHit => (Menu::Document, 1),
            ZoomIn | ZoomOut | ZoomReset => (Menu::View, 0),
            ToggleTheme => (Menu::View, 1),
            ToggleDocumentList | ToggleCodebookPanel => (Menu::View, 2),
            Review | Analysis => (Menu::View, 3),
            Settings => (Menu::Settings, 0),
            Palette | Help => (Menu::Help, 0),
            About => (Menu::Help, 1),
        }
    }
}

/// Name, shortcuts and help of a command. The match is exhaustive, so a new command cannot be
/// left without them.
#[expect(
    clippy::too_many_lines,
    reason = "one arm per command, its name, keys and help side by side"
)]
fn describe(command: Command) -> (&'static str, Vec<Shortcut>, &'static str) {
    use Command::*;
    match command {
        OpenFile => (
            "Open file…",
            vec![Shortcut::ctrl(letter('O'))],
            "Open a transcript file (and the folder it is in)",
        ),
        OpenFolder => (
            "Open folder…",
            vec![Shortcut::ctrl_shift(letter('O'))],
            "Open a folder of transcripts as a corpus",
        ),
        Save => (
            "Save",
            vec![Shortcut::ctrl(letter('S'))],
            "Write this document's annotations now (autosave does it after a second)",
        ),
        Export => (
            "Export…",
            vec![Shortcut::ctrl(letter('E'))],
            "Export the tagged dataset: CSV, JSON Lines, REFI-QDA",
        ),
        ImportProject => (
            "Import project…",
            vec![],
            "Make a folder from a REFI-QDA project (.qdpx from NVivo, ATLAS.ti, MAXQDA, QualCoder) and open it",
        ),
        Quit => (
            "Quit",
            vec![Shortcut::ctrl(letter('Q'))],
            "Save and close the window",
        ),
        Undo => (
            "Undo",
            vec![Shortcut::ctrl(letter('Z'))],
            "Undo the last change",
        ),
        Redo => (
            "Redo",
            vec![
                Shortcut::ctrl_shift(letter('Z')),
                Shortcut::ctrl(letter('Y')),
            ],
            "Redo the last undone change",
        ),
        NextDocument => (
            "Next document",
            vec![
                Shortcut::ctrl(Key::Named(NamedKey::ArrowDown)),
                Shortcut::ctrl(Key::Named(NamedKey::PageDown)),
            ],
            "Open the next document in the list",
        ),
        PreviousDocument => (
            "Previous document",
            vec![
                Shortcut::ctrl(Key::Named(NamedKey::ArrowUp)),
                Shortcut::ctrl(Key::Named(NamedKey::PageUp)),
            ],
            "Open the previous document in the list",
        ),
        NextNotDone => (
            "Next document not done",
            vec![Shortcut::ctrl_shift(Key::Named(NamedKey::ArrowDown))],
            "Open the next document you have not marked done",
        ),
        ToggleDone => (
            "Mark done",
            vec![Shortcut::ctrl(Key::Named(NamedKey::Enter))],
            "Mark this document done, or in progress again",
        ),
        FocusSearch => (
            "Search the corpus",
            vec![Shortcut::ctrl_shift(letter('F'))],
            "Full-text search in questions and answers: words or \"a phrase\"",
        ),
        NextHit => (
            "Next search hit",
            vec![Shortcut::ctrl(letter('G'))],
            "Go to the next hit of the search",
        ),
        PreviousHit => (
            "Previous search hit",
            vec![Shortcut::ctrl_shift(letter('G'))],
            "Go to the previous hit of the search",
        ),
        FocusFilter => (
            "Filter documents",
            vec![Shortcut::ctrl(letter('F'))],
            "Type in the filter above the document list",
        ),
        ZoomIn => (
            "Zoom in",
            vec![Shortcut::ctrl(Key::Named(NamedKey::Plus))],
            "Larger text",
        ),
        ZoomOut => (
            "Zoom out",
            vec![Shortcut::ctrl(Key::Named(NamedKey::Minus))],
            "Smaller text",
        ),
        ZoomReset => (
            "Reset zoom",
            vec![Shortcut::ctrl(Key::Digit(0))],
            "Default text size",
        ),
        ToggleTheme => (
            "Switch light/dark",
            vec![Shortcut::ctrl_shift(letter('L'))],
            "Switch between the light and the dark theme",
        ),
        ToggleDocumentList => (
            "Show/hide the document list",
            vec![Shortcut::ctrl_shift(Key::Digit(1))],
            "More room for the text: hide the list on the left (again: show it)",
        ),
        ToggleCodebookPanel => (
            "Show/hide the codebook panel",
            vec![Shortcut::ctrl_shift(Key::Digit(2))],
            "More room for the text: hide the codebook on the right (keys still tag)",
        ),
        Review => (
            "Review mode",
            vec![Shortcut::ctrl(letter('R'))],
            "Compare annotators, measure agreement, adjudicate into a reconciled set",
        ),
        Analysis => (
            "Analysis",
            vec![Shortcut::ctrl_shift(letter('A'))],
            "Retrieve coded passages, count codes and cross-tabulate across the corpus",
        ),
        Palette => (
            "Command palette…",
            vec![
                Shortcut::ctrl(letter('K')),
                Shortcut::ctrl_shift(letter('P')),
            ],
            "Find and run any command by name",
        ),
        Help => (
            "Keyboard shortcuts",
            vec![Shortcut::plain(Key::F(1))],
            "Show every shortcut, the codebook's too",
        ),
        Settings => (
            "Annotator…",
            vec![Shortcut::ctrl(Key::Named(NamedKey::Comma))],
            "Change your annotator id and name",
        ),
        About => (
            "About Marginalia",
            vec![],
            "Version, licence and the sources of the default codebook",
        ),
    }
}

/// All commands, in menu order.
pub fn all() -> Vec<CommandInfo> {
    Command::iter().map(info).collect()
}

/// The info of one command.
pub fn info(command: Command) -> CommandInfo {
    let (name, shortcuts, help) = describe(command);
    CommandInfo {
        command,
        name,
        shortcuts,
        help,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_name_a_menu_and_help() {
        let mut names = std::collections::HashSet::new();
        for c in Command::iter() {
            let info = info(c);
            assert!(names.insert(info.name), "{} twice", info.name);
            assert!(!info.help.is_empty(), "{c:?} has no help");
        }
        // Every menu has a command.
        for m in <Menu as strum::IntoEnumIterator>::iter() {
            assert!(Command::iter().any(|c| c.menu().0 == m), "{m:?} is empty");
        }
    }

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
