//! The welcome screen of a first start with no folder to open, and the About window.

use egui::RichText;

use super::MarginaliaApp;
use super::action::Action;
use super::commands::Command;

/// Where the README of an installed package lies (the `.deb` puts it there), else none is linked.
const INSTALLED_README: &str = "/usr/share/doc/marginalia/README.md";

impl MarginaliaApp {
    /// The central panel when nothing is open: what to open first.
    pub(super) fn welcome_ui(&mut self, ui: &mut egui::Ui) {
        ui.vertical_centered(|ui| {
            ui.add_space((ui.available_height() * 0.12).min(80.0));
            ui.heading(RichText::new("Welcome to Marginalia").size(26.0));
            ui.add_space(4.0);
            ui.label("Code question-and-answer transcripts: tone, replies, topics and cited authorities.");
            ui.add_space(18.0);
            let width = 280.0;
            let big = |text: &str| egui::Button::new(RichText::new(text).size(16.0)).min_size(egui::vec2(width, 34.0));
            if ui.add(big("Open folder…")).on_hover_text("A folder of transcripts, opened as a corpus").clicked() {
                self.act(Action::Command(Command::OpenFolder));
            }
            if ui.add(big("Open file…")).on_hover_text("One transcript, with the folder it is in").clicked() {
                self.act(Action::Command(Command::OpenFile));
            }
            if ui
                .add(big("Open the sample corpus"))
                .on_hover_text("Fifteen London Assembly question pages and interviews, two colleagues' codings; copied into your data folder")
                .clicked()
            {
                self.act(Action::OpenSample);
            }
            let recent: Vec<_> = self.settings.settings.recent.iter().filter(|p| p.is_dir()).cloned().collect();
            if !recent.is_empty() {
                ui.add_space(18.0);
                ui.label(RichText::new("Recent folders").strong());
                for folder in recent {
                    if ui.link(folder.display().to_string()).clicked() {
                        self.act(Action::OpenPath(folder));
                    }
                }
            }
            ui.add_space(18.0);
            ui.label(RichText::new("Files and folders can also be dropped on this window. F1 lists every shortcut.").weak());
        });
    }

    /// Help > About: version, licence, where the default codebook comes from.
    pub(super) fn about_ui(&mut self, ctx: &egui::Context) {
        if !self.dialogs.about_open {
            return;
        }
        let mut open = true;
        egui::Window::new("About Marginalia")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .show(ctx, |ui| {
                ui.set_max_width(460.0);
                ui.heading(format!("Marginalia {}", env!("CARGO_PKG_VERSION")));
                ui.label(env!("CARGO_PKG_DESCRIPTION"));
                ui.add_space(6.0);
                ui.label(format!(
                    "Licence: {} (at your option).",
                    env!("CARGO_PKG_LICENSE").replace(" OR ", " or ")
                ));
                ui.add_space(6.0);
                ui.label(RichText::new("The default codebook").strong());
                for source in CODEBOOK_SOURCES {
                    ui.label(format!("• {source}"));
                }
                ui.add_space(6.0);
                match readme_path() {
                    Some(path) => {
                        ui.hyperlink_to("Read the README", format!("file://{}", path.display()))
                            .on_hover_text(path.display().to_string());
                    }
                    None => {
                        ui.label("The README comes with the package and the source code.");
                    }
                }
                ui.label(
                    RichText::new("F1 lists every shortcut; Ctrl+K finds any command.").weak(),
                );
            });
        if !open || ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape)) {
            self.dialogs.about_open = false;
        }
    }
}

/// The README to link from About: the installed package's copy, else the checkout's when started by
/// `cargo run`.
fn readme_path() -> Option<std::path::PathBuf> {
    let installed = std::path::PathBuf::from(INSTALLED_README);
    if installed.is_file() {
        return Some(installed);
    }
    let checkout =
        std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?).join("README.md");
    checkout.is_file().then_some(checkout)
}

/// Where the default codebook's dimensions come from, as the About window cites them.
pub const CODEBOOK_SOURCES: &[&str] = &[
    "Replies, intermediate replies and non-replies: Bull, P. (1994). On identifying questions, replies, and non-replies in political interviews. Journal of Language and Social Psychology 13(2), 115-131.",
    "Types of non-reply: Bull, P. & Mayer, K. (1993). How not to answer questions in political interviews. Political Psychology 14(4), 651-666; Bull, P. (2003). The Microanalysis of Political Communication. Routledge.",
    "Tone, topics and cited authorities: Marginalia's own categories for the London Assembly's Mayor's Question Time; edit codebook.ron to change them.",
];
