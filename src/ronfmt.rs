//! The project's RON style, for every RON file Marginalia reads or writes (sidecars, codebooks,
//! gold sets, journals, settings): bounded nesting for untrusted input, errors in words for users,
//! one pretty-printing.

use serde::Serialize;

/// Deepest nesting accepted in a RON file; ours never goes past 5.
const RON_RECURSION_LIMIT: usize = 32;

/// RON options used for every file Marginalia reads: bounded nesting for untrusted input.
pub fn ron_options() -> ron::Options {
    ron::Options::default().with_recursion_limit(RON_RECURSION_LIMIT)
}

/// A RON parse error in words for the user: where, and what. The parser's own advice for the
/// nesting limit speaks to programmers (`ron::Options`, `serde_stacker`), so that one is said
/// plainly.
pub fn ron_error_message(e: &ron::error::SpannedError) -> String {
    match &e.code {
        ron::Error::ExceededRecursionLimit => format!(
            "nested more than {RON_RECURSION_LIMIT} levels deep at line {}, column {}",
            e.span.start.line, e.span.start.col
        ),
        _ => e.to_string(),
    }
}

/// Serializes with the project's RON style: 4-space indent, `\n`, no struct names.
pub fn to_pretty_ron<T: Serialize>(value: &T) -> String {
    let config = ron::ser::PrettyConfig::new()
        .new_line("\n")
        .indentor("    ")
        .struct_names(false)
        .separate_tuple_members(false);
    let mut s = ron::ser::to_string_pretty(value, config)
        .expect("plain data structs always serialize to RON");
    s.push('\n');
    s
}
