//! Web pages (`.html`, `.htm`): a question page or a committee's oral evidence saved from the
//! browser. The page is tokenized by html5ever (the HTML5 standard's tokenizer, so entities,
//! broken markup and `<script>` contents are read as browsers read them); the text of its
//! block elements becomes paragraphs, and navigation, header, footer, forms and scripts are
//! left out. The text is then read like a `.txt` file, so a saved GLA page gives the same fields
//! as its text.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

use super::Extracted;

/// Elements whose content is not the page's text: scripts, styles, the site's navigation,
/// header, footer, forms.
const SKIPPED: &[&str] = &[
    "head", "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
    "button", "select", "svg", "iframe", "object", "canvas", "math",
];

/// Classes that hide an element from readers of the page (skip links, screen-reader text).
const HIDDEN_CLASSES: &[&str] = &[
    "visually-hidden",
    "sr-only",
    "skip-link",
    "element-invisible",
    "screen-reader-text",
    "hidden",
];

/// Elements that have no end tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// Elements that start and end a paragraph.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "dl",
    "table",
    "tr",
    "section",
    "article",
    "main",
    "blockquote",
    "pre",
    "address",
    "figure",
    "figcaption",
    "hr",
    "body",
    "center",
    "caption",
    "details",
    "summary",
];

#[derive(Default)]
struct State {
    out: String,
    /// The open skipped elements (innermost last).
    skipping: Vec<String>,
    /// Inside `<pre>`: spaces kept.
    pre: usize,
    /// A space is owed before the next word.
    space: bool,
    /// Inside a `<dt>`: its text gets a colon at the end, as a label.
    in_dt: bool,
    skipped_chars: usize,
}

impl State {
    fn at_line_start(&self) -> bool {
        self.out.is_empty() || self.out.ends_with('\n')
    }

    fn newline(&mut self) {
        trim_end_spaces(&mut self.out);
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        self.space = false;
    }

    fn paragraph(&mut self) {
        trim_end_spaces(&mut self.out);
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            if !self.out.ends_with('\n') {
                self.out.push('\n');
            }
            self.out.push('\n');
        }
        self.space = false;
    }

    fn text(&mut self, s: &str) {
        if !self.skipping.is_empty() {
            self.skipped_chars += s.len();
            return;
        }
        if self.pre > 0 {
            self.out.push_str(s);
            return;
        }
        // A non-breaking space reads as a space (pages put them after labels and in figures).
        let s = s.replace('\u{a0}', " ");
        for (i, word) in s.split(is_html_space).enumerate() {
            if i > 0 {
                self.space = true;
            }
            if word.is_empty() {
                continue;
            }
            if self.space && !self.at_line_start() {
                self.out.push(' ');
            }
            self.space = false;
            self.out.push_str(word);
        }
    }
}

fn is_html_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{c}')
}

fn trim_end_spaces(s: &mut String) {
    let kept = s.trim_end_matches([' ', '\t']).len();
    s.truncate(kept);
}

struct Sink {
    state: RefCell<State>,
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line_number: u64) -> TokenSinkResult<()> {
        let mut st = self.state.borrow_mut();
        match token {
            Token::CharacterTokens(t) => st.text(&t),
            Token::TagToken(tag) => {
                let name: &str = &tag.name;
                let start = tag.kind == TagKind::StartTag;
                let hidden = start
                    && !tag.self_closing
                    && !VOID.contains(&name)
                    && tag.attrs.iter().any(|a| match &*a.name.local {
                        "hidden" => true,
                        "aria-hidden" => &*a.value == "true",
                        "class" => a
                            .value
                            .split_whitespace()
                            .any(|c| HIDDEN_CLASSES.contains(&c)),
                        _ => false,
                    });
                if hidden || (start && !tag.self_closing && SKIPPED.contains(&name)) {
                    st.skipping.push(name.to_string());
                } else if !start && let Some(i) = st.skipping.iter().rposition(|n| n == name) {
                    st.skipping.truncate(i);
                } else if name == "body" && start {
                    // A page without `</head>` still has its body read.
                    st.skipping.retain(|n| n != "head");
                }
                if start {
                    // The tokenizer reads these elements' contents as raw text, as browsers do.
                    match name {
                        "script" => return TokenSinkResult::RawData(RawKind::ScriptData),
                        "style" | "noscript" | "iframe" | "xmp" | "noembed" | "noframes" => {
                            return TokenSinkResult::RawData(RawKind::Rawtext);
                        }
                        "title" | "textarea" => {
                            return TokenSinkResult::RawData(RawKind::Rcdata);
                        }
                        "plaintext" => return TokenSinkResult::Plaintext,
                        _ => {}
                    }
                }
                if !st.skipping.is_empty() {
                    return TokenSinkResult::Continue;
                }
                match name {
                    "br" => st.newline(),
                    "td" | "th" => st.space = true,
                    "dt" => {
                        if start {
                            st.paragraph();
                            st.in_dt = true;
                        } else {
                            // A term and its definition read as a label and its value.
                            trim_end_spaces(&mut st.out);
                            if st.in_dt && !st.out.ends_with(':') && !st.at_line_start() {
                                st.out.push(':');
                            }
                            st.in_dt = false;
                            st.newline();
                        }
                    }
                    "dd" => {
                        if !start {
                            st.paragraph();
                        } else if !st.at_line_start() {
                            st.newline();
                        }
                    }
                    "pre" => {
                        st.paragraph();
                        if start {
                            st.pre += 1;
                        } else {
                            st.pre = st.pre.saturating_sub(1);
                        }
                    }
                    _ if BLOCKS.contains(&name) => st.paragraph(),
                    _ => {}
                }
            }
            Token::NullCharacterToken
            | Token::CommentToken(_)
            | Token::DoctypeToken(_)
            | Token::EOFToken
            | Token::ParseError(_) => {}
        }
        TokenSinkResult::Continue
    }
}

/// The encoding a page declares in its first kilobyte (`<meta charset="...">` or
/// `content="text/html; charset=..."`).
fn declared_charset(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let head = &bytes[..bytes.len().min(2048)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let at = lower.windows(8).position(|w| w == b"charset=")?;
    let rest = &head[at + 8..];
    let rest = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let end = rest
        .iter()
        .position(|b| matches!(b, b'"' | b'\'' | b';' | b'>' | b' ' | b'/'))
        .unwrap_or(rest.len());
    encoding_rs::Encoding::for_label(&rest[..end])
}

/// The text of a web page.
pub fn extract(bytes: &[u8]) -> Result<Extracted, super::DecodeError> {
    let (text, encoding, mut warnings) = match encoding_rs::Encoding::for_bom(bytes) {
        Some((e, len)) => {
            let (t, _) = e.decode_without_bom_handling(&bytes[len..]);
            (t.into_owned(), e.name().to_string(), Vec::new())
        }
        None => match declared_charset(bytes) {
            // A page saved as UTF-8 keeps its old declaration sometimes: valid UTF-8 wins.
            Some(e) if e != encoding_rs::UTF_8 && std::str::from_utf8(bytes).is_err() => {
                let (t, had_errors) = e.decode_without_bom_handling(bytes);
                let mut w = Vec::new();
                if had_errors {
                    w.push(format!(
                        "bytes that are not {} replaced by U+FFFD",
                        e.name()
                    ));
                }
                (t.into_owned(), format!("{} (declared)", e.name()), w)
            }
            _ => {
                let d = super::decode(bytes)?;
                (d.text, d.encoding, d.warnings)
            }
        },
    };
    let sink = Sink {
        state: RefCell::new(State::default()),
    };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from(text));
    #[expect(
        clippy::let_underscore_must_use,
        reason = "the sink runs no scripts, so feeding never pauses for one"
    )]
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    let state = tokenizer.sink.state.into_inner();
    if !state.skipping.is_empty() && state.skipped_chars > 0 {
        warnings.push(format!(
            "a <{}> element is never closed: {} bytes after it were left out as page furniture",
            state.skipping[0], state.skipped_chars
        ));
    }
    let text = super::normalize(&state.out);
    if text.is_empty() {
        warnings.push("the page has no text outside navigation, header, footer and scripts".into());
    }
    Ok(Extracted {
        text,
        encoding,
        warnings,
    })
}

/// The text of an HTML named character reference without its `&` and `;` (`mdash` -> `—`),
/// from the HTML5 list of every named reference.
pub fn named_entity(name: &str) -> Option<&'static str> {
    let mut key = String::with_capacity(name.len() + 1);
    key.push_str(name);
    key.push(';');
    let &(a, b) = html5ever::data::NAMED_ENTITIES.get(key.as_str())?;
    intern(a, b)
}

/// The named references' chars as `&'static str`, built once.
fn intern(a: u32, b: u32) -> Option<&'static str> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static TABLE: OnceLock<Mutex<HashMap<(u32, u32), &'static str>>> = OnceLock::new();
    let table = TABLE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut t = table.lock().ok()?;
    if let Some(s) = t.get(&(a, b)) {
        return Some(s);
    }
    let mut s = String::new();
    s.push(char::from_u32(a)?);
    if b != 0 {
        s.push(char::from_u32(b)?);
    }
    // At most the ~2,200 named references are ever leaked, once each.
    let s: &'static str = Box::leak(s.into_boxed_str());
    t.insert((a, b), s);
    Some(s)
}
