//! The module graph of the library is acyclic, and nothing depends on the GUI.
//!
//! Every file under `src/` (except `main.rs`, which is its own crate) is read, comments and string
//! and character literals are blanked out, and every `crate::X` path (in a `use`, grouped as in
//! `use crate::{a, b::c}`, or written inline) becomes an edge from the file's top-level module to
//! `X`. `src/ui/` is one node, `ui`, that may depend on anything; no other module may depend on it.
//! The check is ours rather than `cargo modules` so that it runs in `cargo test` with nothing to
//! install.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Edges between top-level modules: from -> (to -> one place that uses it, for the message).
type Graph = BTreeMap<String, BTreeMap<String, String>>;

/// Replaces comments and string, byte-string, raw-string and character literals by spaces (newlines
/// kept, so that line numbers stay right), leaving code only.
fn strip_comments_and_literals(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            // Block comments nest in Rust.
            let mut depth = 0usize;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if let Some(len) = raw_string_start(&chars, i) {
            // r"..", r#".."#, br#".."#: ends at a quote followed by as many hashes.
            let hashes = chars[i..i + len].iter().filter(|&&h| h == '#').count();
            for _ in 0..len {
                out.push(' ');
            }
            i += len;
            while i < chars.len() {
                if chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#')) {
                    for _ in 0..=hashes {
                        out.push(' ');
                    }
                    i += 1 + hashes;
                    break;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
        } else if c == '"' || (c == 'b' && next == Some('"') && !ident_before(&chars, i)) {
            if c == 'b' {
                out.push(' ');
                i += 1;
            }
            out.push(' ');
            i += 1;
            while i < chars.len() {
                match chars[i] {
                    '\\' => {
                        out.push(' ');
                        if let Some(&escaped) = chars.get(i + 1) {
                            out.push(blank(escaped));
                        }
                        i += 2;
                    }
                    '"' => {
                        out.push(' ');
                        i += 1;
                        break;
                    }
                    other => {
                        out.push(blank(other));
                        i += 1;
                    }
                }
            }
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{..}', '"') or a lifetime ('a, 'static).
            match char_literal_len(&chars, i) {
                Some(len) => {
                    for _ in 0..len {
                        out.push(' ');
                    }
                    i += len;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn ident_before(chars: &[char], i: usize) -> bool {
    i > 0 && is_ident_char(chars[i - 1])
}

/// The length of `r#*"` or `br#*"` at `i`, if a raw string starts there.
fn raw_string_start(chars: &[char], i: usize) -> Option<usize> {
    if ident_before(chars, i) {
        return None;
    }
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    while chars.get(j) == Some(&'#') {
        j += 1;
    }
    (chars.get(j) == Some(&'"')).then_some(j + 1 - i)
}

/// The length of a character literal starting at `i` (a quote), or `None` for a lifetime.
fn char_literal_len(chars: &[char], i: usize) -> Option<usize> {
    match chars.get(i + 1)? {
        '\\' => {
            let mut j = i + 2;
            while j < chars.len() && chars[j] != '\'' && j - i < 12 {
                j += 1;
            }
            (chars.get(j) == Some(&'\'')).then_some(j + 1 - i)
        }
        _ => (chars.get(i + 2) == Some(&'\'')).then_some(3),
    }
}

/// The top-level modules named by `crate::` paths in code (comments and literals already removed).
fn crate_paths(code: &str) -> Vec<String> {
    crate_paths_at(code)
        .into_iter()
        .map(|(_, name)| name)
        .collect()
}

/// [`crate_paths`] with the line (from 1) of each.
fn crate_paths_at(code: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 5 <= chars.len() {
        let is_crate = chars[i..i + 5].iter().copied().eq("crate".chars())
            && !ident_before(&chars, i)
            && (i == 0 || chars[i - 1] != '$')
            && !chars.get(i + 5).copied().is_some_and(is_ident_char);
        if !is_crate {
            i += 1;
            continue;
        }
        let mut j = skip_space(&chars, i + 5);
        if !(chars.get(j) == Some(&':') && chars.get(j + 1) == Some(&':')) {
            i += 5;
            continue;
        }
        j = skip_space(&chars, j + 2);
        if chars.get(j) == Some(&'{') {
            // A group: the first identifier of every item at the group's own depth.
            let mut depth = 0usize;
            let mut expect_item = true;
            while j < chars.len() {
                match chars[j] {
                    '{' => {
                        depth += 1;
                        expect_item = depth == 1;
                        j += 1;
                    }
                    '}' => {
                        depth -= 1;
                        j += 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' => {
                        expect_item = depth == 1;
                        j += 1;
                    }
                    c if is_ident_char(c) => {
                        let start = j;
                        while j < chars.len() && is_ident_char(chars[j]) {
                            j += 1;
                        }
                        if expect_item {
                            found.push((line_of(&chars, start), chars[start..j].iter().collect()));
                            expect_item = false;
                        }
                    }
                    _ => j += 1,
                }
            }
        } else {
            let start = j;
            while j < chars.len() && is_ident_char(chars[j]) {
                j += 1;
            }
            if j > start {
                found.push((line_of(&chars, start), chars[start..j].iter().collect()));
            }
        }
        i = j.max(i + 5);
    }
    found
}

fn line_of(chars: &[char], i: usize) -> usize {
    1 + chars[..i].iter().filter(|&&c| c == '\n').count()
}

fn skip_space(chars: &[char], mut j: usize) -> usize {
    while chars.get(j).is_some_and(|c| c.is_whitespace()) {
        j += 1;
    }
    j
}

/// The top-level module a file under `src/` belongs to (`src/ui/x.rs` and `src/ui.rs` are `ui`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "main").then(|| name.to_string())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable folder entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The graph of `crate::` edges between the top-level modules of the library in `src`.
fn module_graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut graph = Graph::new();
    for file in files {
        let Some(from) = module_of(src, &file) else {
            continue;
        };
        let source = std::fs::read_to_string(&file).expect("a readable source file");
        let code = strip_comments_and_literals(&source);
        let node = graph.entry(from.clone()).or_default();
        for (line, to) in crate_paths_at(&code) {
            if to != from && to != "self" {
                let place = format!("{}:{line}", file.display());
                node.entry(to).or_insert(place);
            }
        }
    }
    graph
}

/// Every cycle's modules, one per strongly connected component of more than one module, each as a
/// path `a -> b -> ... -> a` with the place of each edge.
fn cycles(graph: &Graph) -> Vec<String> {
    // Tarjan's strongly connected components; the graph has a few dozen nodes.
    struct State<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        components: Vec<Vec<&'g str>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(edges) = s.graph.get(v) {
            for w in edges.keys() {
                let w = w.as_str();
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let low = s.low[v].min(s.low[w]);
                    s.low.insert(v, low);
                } else if s.on_stack.contains(w) {
                    let low = s.low[v].min(s.index[w]);
                    s.low.insert(v, low);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w);
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                s.components.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state
        .components
        .iter()
        .map(|component| describe_cycle(graph, component))
        .collect()
}

/// One cycle inside a strongly connected component, found by a breadth-first search back to its
/// smallest module.
fn describe_cycle(graph: &Graph, component: &[&str]) -> String {
    let members: BTreeSet<&str> = component.iter().copied().collect();
    let start = *members.iter().next().expect("a non-empty component");
    let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    let mut last = start;
    'search: while let Some(v) = queue.pop_front() {
        for w in graph.get(v).map(|e| e.keys()).into_iter().flatten() {
            let w = w.as_str();
            if w == start {
                last = v;
                break 'search;
            }
            if members.contains(w) && !previous.contains_key(w) {
                previous.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    let mut path = vec![start, last];
    let mut v = last;
    while v != start {
        v = previous[v];
        path.push(v);
    }
    path.reverse(); // start ... last, start
    let mut text = String::new();
    for pair in path.windows(2) {
        text.push_str(&format!(
            "\n    {} -> {}   ({})",
            pair[0], pair[1], graph[pair[0]][pair[1]]
        ));
    }
    let all: Vec<&str> = members.iter().copied().collect();
    format!(
        "{} (modules in cycles with each other: {}){text}",
        path.join(" -> "),
        all.join(", ")
    )
}

#[test]
fn the_module_graph_is_acyclic_and_nothing_depends_on_the_gui() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = module_graph(&src);
    assert!(
        graph.len() > 10 && graph.values().any(|edges| !edges.is_empty()),
        "the scan found no modules or no edges under {}: {graph:?}",
        src.display()
    );
    let mut problems = Vec::new();
    for (from, edges) in &graph {
        if from != "ui"
            && let Some(place) = edges.get("ui")
        {
            problems.push(format!("{from} depends on the GUI ({place})"));
        }
    }
    for cycle in cycles(&graph) {
        problems.push(format!("cycle: {cycle}"));
    }
    assert!(
        problems.is_empty(),
        "the module graph must be acyclic with nothing depending on `ui`:\n{}",
        problems.join("\n")
    );
}

#[test]
fn comments_strings_and_characters_are_not_code() {
    let source = r####"
        use crate::a::X; // crate::commented
        /* crate::block /* nested crate::inner */ crate::still_comment */
        /// doc: crate::doc_comment
        let s = "crate::in_string \" crate::after_escape";
        let r = r#"crate::raw " crate::raw_quote"#;
        let b = b"crate::bytes";
        let c = '"'; let d = crate::after_char::f(); let e: &'static str = "";
        fn f<'a>(x: &'a str) -> &'a str { crate::after_lifetime::g(x) }
    "####;
    let code = strip_comments_and_literals(source);
    assert_eq!(code.lines().count(), source.lines().count());
    assert_eq!(
        crate_paths(&code),
        ["a", "after_char", "after_lifetime"],
        "{code}"
    );
}

#[test]
fn grouped_and_spaced_paths_are_read() {
    let code = "use crate::{alpha::{A, B}, beta, gamma::C as D};\n\
                let x = crate :: delta::f(); pub(crate) fn g() {} $crate::no::h();\n\
                let y = mycrate::epsilon::i();";
    assert_eq!(crate_paths(code), ["alpha", "beta", "gamma", "delta"]);
}

#[test]
fn a_cycle_is_named_and_a_chain_is_not() {
    let edge = |graph: &mut Graph, a: &str, b: &str| {
        graph
            .entry(a.into())
            .or_default()
            .insert(b.into(), format!("{a}.rs"));
        graph.entry(b.into()).or_default();
    };
    let mut chain = Graph::new();
    edge(&mut chain, "a", "b");
    edge(&mut chain, "b", "c");
    edge(&mut chain, "a", "c");
    assert!(cycles(&chain).is_empty());

    let mut cyclic = chain.clone();
    edge(&mut cyclic, "c", "d");
    edge(&mut cyclic, "d", "b");
    let found = cycles(&cyclic);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("b -> c -> d -> b"), "{}", found[0]);
}
