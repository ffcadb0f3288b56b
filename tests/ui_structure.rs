//! The GUI's structure, checked over its source: panels draw and push actions; `apply.rs` alone
//! saves, journals, opens and switches documents; `task.rs` alone starts threads. The compiler
//! already keeps `apply`'s methods private to it; this catches a panel doing the same work by hand.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "a bench or test crate: an unwrap that fails stops the run and says where; a bench's steps read top to bottom"
)]

use std::path::Path;

/// Code of a file without its comments, string literals and `#[cfg(test)]` module.
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
                out.push_str("\"\"");
            }
            _ => out.push(c),
        }
    }
    out
}

/// (file, line) of each occurrence of `needle` in the GUI's files other than `allowed`.
fn offenders(needle: &str, allowed: &[&str]) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".rs") || allowed.contains(&name.as_str()) {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(&path).unwrap());
        for (i, line) in code.lines().enumerate() {
            if line.contains(needle) {
                found.push(format!("src/ui/{name}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn only_apply_saves_journals_and_opens_documents() {
    for needle in [
        "doc.save(",
        ".keep_mine(",
        ".take_theirs(",
        ".merge_theirs(",
        "Document::open(",
        "journal.record(",
        "j.record(",
        ".restore(",
        "settings.save(",
        "progress.save(",
    ] {
        let found = offenders(needle, &["apply.rs"]);
        assert!(
            found.is_empty(),
            "`{needle}` outside apply.rs (push an Action instead):\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn only_the_task_type_starts_threads() {
    for needle in [
        "thread::spawn",
        "thread::Builder",
        "mpsc::channel",
        "channel()",
    ] {
        let found = offenders(needle, &["task.rs", "watch.rs"]);
        assert!(
            found.is_empty(),
            "`{needle}` outside task.rs (use ui::task::Task):\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn the_checker_sees_code_but_not_comments_or_strings() {
    let code = code_of("let a = 1; // doc.save(\nlet s = \"doc.save(\";\ndoc.save(x);\n");
    assert_eq!(code.matches("doc.save(").count(), 1, "{code}");
}
