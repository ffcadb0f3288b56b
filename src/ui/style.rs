//! The app's type and colour choices, set once for both themes: readable sizes for secondary
//! text (egui's `Small` is 9 px) and a secondary colour that meets WCAG AA on the panels.

use egui::{Color32, FontFamily, FontId, TextStyle};

/// Size of small text (metadata, hints, shortcut labels): legible at 100% zoom.
pub const SMALL_SIZE: f32 = 11.5;

/// Secondary text in the dark theme: 5.9:1 on egui's dark panel.
const DARK_SECONDARY: Color32 = Color32::from_gray(160);
/// Secondary text in the light theme: 5.6:1 on egui's light panel.
const LIGHT_SECONDARY: Color32 = Color32::from_gray(95);

/// Sets the type sizes and the secondary colour in both themes.
pub fn install(ctx: &egui::Context) {
    for (theme, secondary) in [
        (egui::Theme::Dark, DARK_SECONDARY),
        (egui::Theme::Light, LIGHT_SECONDARY),
    ] {
        ctx.style_mut_of(theme, |style| {
            style.text_styles.insert(
                TextStyle::Small,
                FontId::new(SMALL_SIZE, FontFamily::Proportional),
            );
            style.visuals.weak_text_color = Some(secondary);
            // Rows of buttons that wrap keep one rhythm, whatever a button's line count.
            style.spacing.item_spacing = egui::vec2(6.0, 5.0);
        });
    }
}

/// The colour of secondary text (metadata, counts, hints).
pub fn secondary(ui: &egui::Ui) -> Color32 {
    ui.visuals().weak_text_color()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The secondary colours keep 4.5:1 (WCAG AA) on egui's own panel fills.
    #[test]
    fn secondary_text_meets_aa_on_the_panels() {
        for (visuals, color) in [
            (egui::Visuals::dark(), DARK_SECONDARY),
            (egui::Visuals::light(), LIGHT_SECONDARY),
        ] {
            for bg in [
                visuals.panel_fill,
                visuals.window_fill,
                visuals.extreme_bg_color,
            ] {
                let ratio = crate::contrast::contrast(
                    [color.r(), color.g(), color.b()],
                    [bg.r(), bg.g(), bg.b()],
                );
                assert!(ratio >= 4.5, "{color:?} on {bg:?}: {ratio:.2}");
            }
        }
    }
}
