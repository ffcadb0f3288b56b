//! The normalized form of text that all positions refer to.

/// Converts CRLF and lone CR to LF (borrowing when there is nothing to change).
pub fn unify_line_endings(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\r') {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
}

/// True for the whitespace that is removed at the end of lines: spaces, tabs and the
/// non-breaking spaces that web pages leave after labels.
pub fn is_trailing_space(c: char) -> bool {
    c.is_whitespace() && c != '\n'
}

/// Normalizes text: LF line endings, trailing spaces removed from every line, paragraphs
/// separated by exactly one blank line, no leading or trailing blank lines.
///
/// Char offsets everywhere in Marginalia count into text in this form.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    if text.contains('\r') {
        // A CR before an LF ends the line with it; any other CR ends a line of its own: as
        // [`unify_line_endings`] reads them, without copying the text twice first.
        let lines = text
            .split('\n')
            .flat_map(|l| l.strip_suffix('\r').unwrap_or(l).split('\r'));
        normalize_lines_into(&mut out, lines);
    } else {
        normalize_lines_into(&mut out, text.split('\n'));
    }
    out
}

/// [`normalize`] of an owned text, which is given back as it is when it is already normalized (the
/// usual case for a file this app or a tidy tool wrote): no second copy of a 60 MB transcript.
pub fn normalize_owned(mut text: String) -> String {
    // Nearly every file ends with a line feed, which normalizing drops: cut off, not copied
    // (trailing whitespace, blank lines included, normalizes to nothing).
    let end = text.trim_end().len();
    if is_normalized(&text[..end]) {
        text.truncate(end);
        text
    } else {
        normalize(&text)
    }
}

/// True when [`normalize`] would return the text unchanged.
fn is_normalized(text: &str) -> bool {
    if text.is_empty() {
        return true;
    }
    if text.contains('\r') {
        return false;
    }
    let mut previous_blank = true; // no blank line first
    for line in text.split('\n') {
        if line.is_empty() {
            if previous_blank {
                return false;
            }
            previous_blank = true;
        } else {
            if line.ends_with(is_trailing_space) {
                return false;
            }
            previous_blank = false;
        }
    }
    !previous_blank
}

/// Normalizes a sequence of lines (already split at LF) as [`normalize`] does.
pub fn normalize_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    normalize_lines_into(&mut out, lines);
    out
}

/// [`normalize_lines`] appended to `out`, whose text before is left alone: the turns of a long
/// transcript are normalized one after another into the one text their parts share.
pub fn normalize_lines_into<'a>(out: &mut String, lines: impl IntoIterator<Item = &'a str>) {
    let start = out.len();
    let mut pending_blank = false;
    for line in lines {
        let line = line.trim_end_matches(is_trailing_space);
        if line.is_empty() {
            pending_blank = out.len() > start;
            continue;
        }
        if out.len() > start {
            out.push('\n');
            if pending_blank {
                out.push('\n');
            }
        }
        pending_blank = false;
        out.push_str(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(
            normalize("\r\n\r\na \u{a0}\r\nb\r\r\r\n\n c  \n\n"),
            "a\nb\n\n c"
        );
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("\n \n\t\n"), "");
        assert_eq!(normalize("x"), "x");
    }

    /// Every text of up to seven characters of letters, spaces, no-break spaces, CRs and LFs
    /// normalizes as it did when its line endings were unified first.
    #[test]
    fn line_endings_read_in_one_pass_as_unified_first() {
        let alphabet = ['a', ' ', '\u{a0}', '\r', '\n'];
        let mut text = String::new();
        for len in 0..=7u32 {
            for mut n in 0..alphabet.len().pow(len) {
                text.clear();
                for _ in 0..len {
                    text.push(alphabet[n % alphabet.len()]);
                    n /= alphabet.len();
                }
                let unified = unify_line_endings(&text);
                assert_eq!(
                    normalize(&text),
                    normalize_lines(unified.split('\n')),
                    "{text:?}"
                );
            }
        }
    }

    #[test]
    fn owned_texts_are_kept_only_when_already_normalized() {
        for text in [
            "",
            "a",
            "a\nb",
            "a\n\nb",
            "a\n\n\nb",
            "\na",
            "a\n",
            "a \nb",
            "a\n \nb",
            "a\r\nb",
            "\n",
            " ",
            "a\u{a0}",
            "x\n\ny\nz",
            "a\t",
            "\t a",
            "a\n\n",
            "a b \r\n",
            "a\nb\n \n\u{a0}\n",
            "\n\na\n",
        ] {
            assert_eq!(
                normalize_owned(text.to_string()),
                normalize(text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn idempotent() {
        let once = normalize("a\r\n\r\n\r\nb  \n\nc");
        assert_eq!(normalize(&once), once);
    }
}
