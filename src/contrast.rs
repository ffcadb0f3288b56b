//! Colours of highlighted text that stay readable: WCAG 2 contrast, highlight fills dimmed until
//! the text on them reaches AA (4.5:1), and a selection colour unlike any code's. Toolkit-free, so
//! every codebook colour is checked by unit tests without the GUI.

/// An sRGB colour.
pub type Rgb = [u8; 3];

/// The contrast WCAG 2 AA asks of body text.
pub const AA: f64 = 4.5;

/// Relative luminance of an sRGB colour (WCAG 2).
pub fn luminance(c: Rgb) -> f64 {
    let channel = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2])
}

/// Contrast ratio of two colours, 1 to 21 (WCAG 2).
pub fn contrast(a: Rgb, b: Rgb) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// `top` laid over `bottom` with opacity `alpha` (0 to 1).
pub fn blend(top: Rgb, bottom: Rgb, alpha: f64) -> Rgb {
    let mix = |t: u8, b: u8| (f64::from(t) * alpha + f64::from(b) * (1.0 - alpha)).round() as u8;
    [
        mix(top[0], bottom[0]),
        mix(top[1], bottom[1]),
        mix(top[2], bottom[2]),
    ]
}

/// A theme's colours for text on highlights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// The page behind the text.
    pub page: Rgb,
    /// Text on a highlight: the theme's strongest (black or near-white).
    pub text: Rgb,
    /// Dark theme.
    pub dark: bool,
}

impl Theme {
    /// egui's light theme: a near-white page, black text on highlights.
    pub const LIGHT: Theme = Theme {
        page: [248, 248, 248],
        text: [0, 0, 0],
        dark: false,
    };
    /// egui's dark theme: a near-black page, white text on highlights.
    pub const DARK: Theme = Theme {
        page: [27, 27, 27],
        text: [255, 255, 255],
        dark: true,
    };
}

/// The fill of a span of a code's colour: the code's colour over the page, as strong as it can be
/// (up to `strength`, 0 to 1) while the theme's text on it keeps [`AA`] contrast.
pub fn highlight(code: Rgb, theme: Theme, strength: f64) -> Rgb {
    let mut alpha = strength;
    loop {
        let fill = blend(code, theme.page, alpha);
        if contrast(theme.text, fill) >= AA || alpha <= 0.0 {
            return fill;
        }
        alpha = (alpha - 0.02).max(0.0);
    }
}

/// A search hit: inverse video (the text colour as the fill, the page colour as the text), which no
/// code's fill can look like; the current hit is the same, with a thick underline.
pub fn search_hit(theme: Theme) -> (Rgb, Rgb) {
    (theme.text, theme.page)
}

/// Candidates for the text selection, from which the one least like any code is taken.
const SELECTION_CANDIDATES: [Rgb; 4] =
    [[0, 120, 215], [200, 60, 200], [0, 170, 170], [90, 60, 200]];

/// Distance between two colours as seen (the "redmean" approximation of perceived difference).
pub fn distance(a: Rgb, b: Rgb) -> f64 {
    let r = (f64::from(a[0]) + f64::from(b[0])) / 2.0;
    let (dr, dg, db) = (
        f64::from(a[0]) - f64::from(b[0]),
        f64::from(a[1]) - f64::from(b[1]),
        f64::from(a[2]) - f64::from(b[2]),
    );
    ((2.0 + r / 256.0) * dr * dr + 4.0 * dg * dg + (2.0 + (255.0 - r) / 256.0) * db * db).sqrt()
}

/// The fill of the text selection: of a few distinct colours, the one whose fill is farthest from
/// the fill of every code, so a selection never looks like a coded span (the default selection
/// blue was the police code's colour).
pub fn selection(codes: &[Rgb], theme: Theme, strength: f64) -> Rgb {
    let fills: Vec<Rgb> = codes
        .iter()
        .map(|c| highlight(*c, theme, strength))
        .collect();
    SELECTION_CANDIDATES
        .iter()
        .map(|c| highlight(*c, theme, strength))
        .max_by(|a, b| {
            let nearest = |x: &Rgb| {
                fills
                    .iter()
                    .map(|f| distance(*x, *f))
                    .fold(f64::INFINITY, f64::min)
            };
            nearest(a).total_cmp(&nearest(b))
        })
        .unwrap_or(SELECTION_CANDIDATES[0])
}

/// Parses `#rrggbb`.
pub fn parse_hex(color: &str) -> Option<Rgb> {
    let hex = color.strip_prefix('#')?;
    if hex.len() != 6 {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codebook_colors() -> Vec<Rgb> {
        let cb = crate::codebook::Codebook::builtin();
        cb.dimensions
            .iter()
            .flat_map(|d| {
                std::iter::once(d.color.as_str()).chain(d.values.iter().map(|v| v.color.as_str()))
            })
            .map(|c| parse_hex(c).unwrap())
            .collect()
    }

    #[test]
    fn wcag_reference_values() {
        assert!((contrast([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 1e-9);
        assert!((contrast([119, 119, 119], [255, 255, 255]) - 4.48).abs() < 0.01);
        assert!((contrast([255, 255, 255], [255, 255, 255]) - 1.0).abs() < 1e-9);
    }

    /// Every text-on-highlight pair of the default codebook meets AA in both themes, at the
    /// strengths the app uses (plain and selected spans); before, Person was 1.9:1 and Other
    /// authority 1.4:1 in the dark theme.
    #[test]
    fn every_code_fill_keeps_text_readable_in_both_themes() {
        for theme in [Theme::LIGHT, Theme::DARK] {
            for code in codebook_colors() {
                for strength in [0.35, 0.45, 0.75] {
                    let fill = highlight(code, theme, strength);
                    let ratio = contrast(theme.text, fill);
                    assert!(ratio >= AA, "{code:?} in {theme:?}: {ratio:.2}");
                    // Still visibly a colour, not the page.
                    assert!(distance(fill, theme.page) > 20.0, "{code:?} in {theme:?}");
                }
            }
            let (fill, text) = search_hit(theme);
            assert!(contrast(fill, text) >= AA);
        }
    }

    /// Search hits and the selection are never taken for a code (the selection was the police
    /// code's blue).
    #[test]
    fn hits_and_selection_look_unlike_any_code() {
        let cb = crate::codebook::Codebook::builtin();
        let codes: Vec<Rgb> = cb
            .span_dimensions()
            .map(|d| parse_hex(&d.color).unwrap())
            .collect();
        for theme in [Theme::LIGHT, Theme::DARK] {
            let fills: Vec<Rgb> = codes.iter().map(|c| highlight(*c, theme, 0.45)).collect();
            let (hit, _) = search_hit(theme);
            let sel = selection(&codes, theme, 0.45);
            for f in &fills {
                assert!(distance(hit, *f) > 150.0, "hit vs {f:?} in {theme:?}");
                assert!(
                    distance(sel, *f) > 40.0,
                    "selection {sel:?} vs {f:?} in {theme:?}"
                );
            }
        }
    }
}
