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
    let unified = unify_line_endings(text);
    normalize_lines(unified.split('\n'))
}

/// Normalizes a sequence of lines (already split at LF) as [`normalize`] does.
pub fn normalize_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    let mut pending_blank = false;
    for line in lines {
        let line = line.trim_end_matches(is_trailing_space);
        if line.is_empty() {
            pending_blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
            if pending_blank {
                out.push('\n');
            }
        }
        pending_blank = false;
        out.push_str(line);
    }
    out
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

    #[test]
    fn idempotent() {
        let once = normalize("a\r\n\r\n\r\nb  \n\nc");
        assert_eq!(normalize(&once), once);
    }
}
