//! Re-anchoring benchmark: realistic edits (spelling fixes, inserted and deleted sentences and
//! paragraphs, whitespace and line-ending changes, curly vs straight quotes) applied to the answers of
//! the annotated generated corpus; every span is placed again and compared with where its text really
//! went, tracked char by char through the edits.
//!
//! `cargo bench --bench reanchor` (MARGINALIA_REANCHOR_SCALE_ONLY=1: only the 100,000-span cases)
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "a bench or test crate: an unwrap that fails stops the run and says where; a bench's steps read top to bottom"
)]

use std::time::Instant;

use marginalia::anchor::{Placement, anchor_all};
use marginalia::dataset::{Dataset, Selection};
use marginalia::generate::{GenerateOptions, Rng, generate};
use marginalia::transcript::PartId;
use marginalia::transcript::normalize::normalize;

/// Text being edited: each char with the position it had in the original, if any.
struct Tracked(Vec<(char, Option<usize>)>);

impl Tracked {
    fn new(text: &str) -> Tracked {
        Tracked(
            text.chars()
                .enumerate()
                .map(|(i, c)| (c, Some(i)))
                .collect(),
        )
    }
    fn text(&self) -> Vec<char> {
        self.0.iter().map(|x| x.0).collect()
    }
    fn insert(&mut self, at: usize, s: &str) {
        let new: Vec<(char, Option<usize>)> = s.chars().map(|c| (c, None)).collect();
        self.0.splice(at..at, new);
    }
    fn delete(&mut self, from: usize, to: usize) {
        self.0.drain(from..to);
    }
    /// Positions where `pat` starts.
    fn find(&self, pat: &str) -> Vec<usize> {
        let p: Vec<char> = pat.chars().collect();
        let t = self.text();
        if p.len() > t.len() {
            return Vec::new();
        }
        (0..=t.len() - p.len())
            .filter(|&i| t[i..i + p.len()] == *p)
            .collect()
    }
}

fn edit(rng: &mut Rng, t: &mut Tracked) -> &'static str {
    match rng.below(8) {
        0 => {
            // Spelling fix: swap two letters inside a long word.
            let text = t.text();
            let words: Vec<usize> = (1..text.len().saturating_sub(6))
                .filter(|&i| text[i - 1] == ' ' && text[i..i + 6].iter().all(|c| c.is_alphabetic()))
                .collect();
            if words.is_empty() {
                return "none";
            }
            let w = words[rng.below(words.len())] + 2;
            t.0.swap(w, w + 1);
            // The chars stay the same ones, swapped: origins follow them.
            "spelling"
        }
        1 => {
            let ends = t.find(". ");
            if ends.is_empty() {
                return "none";
            }
            let at = ends[rng.below(ends.len())] + 2;
            t.insert(at, "This sentence was added in the corrected version. ");
            "insert sentence"
        }
        2 => {
            let ends = t.find(". ");
            if ends.len() < 2 {
                return "none";
            }
            let k = rng.below(ends.len() - 1);
            t.delete(ends[k] + 2, ends[k + 1] + 2);
            "delete sentence"
        }
        3 => {
            let breaks = t.find("\n\n");
            let at = if breaks.is_empty() {
                0
            } else {
                breaks[rng.below(breaks.len())] + 2
            };
            t.insert(at, "A paragraph added when the answer was revised.\n\n");
            "insert paragraph"
        }
        4 => {
            let breaks = t.find("\n\n");
            if breaks.len() < 2 {
                return "none";
            }
            let k = rng.below(breaks.len() - 1);
            t.delete(breaks[k] + 2, breaks[k + 1] + 2);
            "delete paragraph"
        }
        5 => {
            // Whitespace: a double space after some sentences.
            for at in t.find(". ").into_iter().rev().step_by(3) {
                t.insert(at + 1, " ");
            }
            "whitespace"
        }
        6 => {
            // The page saved again with Windows line endings: the app normalizes them away
            // (below), so the text the spans are placed in is checked to be the same.
            for at in t.find("\n").into_iter().rev() {
                t.insert(at, "\r");
            }
            "line endings"
        }
        _ => {
            // Curly quotes straightened, one for one.
            for x in &mut t.0 {
                x.0 = match x.0 {
                    '‘' | '’' => '\'',
                    '“' | '”' => '"',
                    c => c,
                };
            }
            "quotes"
        }
    }
}

fn main() {
    if std::env::var_os("MARGINALIA_REANCHOR_SCALE_ONLY").is_some() {
        let failed = scale();
        if !failed.is_empty() {
            eprintln!("FAILED: {}", failed.join("; "));
            std::process::exit(1);
        }
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let g = generate(
        dir.path(),
        &GenerateOptions {
            docs: 10_000,
            annotators: vec!["ann".into(), "ben".into(), "cai".into()],
            coverage: 0.3,
            seed: 3,
        },
    )
    .expect("generate");
    let data = Dataset::load(dir.path(), &Selection::default(), &|_, _| {}).expect("load");
    let mut rng = Rng(42);
    let (
        mut spans,
        mut survived,
        mut exact,
        mut unflagged_wrong,
        mut flagged_wrong,
        mut orphaned_survivors,
    ) = (0, 0, 0, 0, 0, 0);
    let (mut destroyed, mut destroyed_orphaned) = (0, 0);
    let mut by_placement = std::collections::BTreeMap::new();
    let mut edits = std::collections::BTreeMap::new();
    let started = Instant::now();
    for doc in &data.documents {
        if doc.sidecars.iter().all(|s| s.spans.is_empty()) {
            continue;
        }
        let answer = doc.transcript.answer();
        let mut t = Tracked::new(answer);
        for _ in 0..1 + rng.below(4) {
            *edits.entry(edit(&mut rng, &mut t)).or_insert(0) += 1;
        }
        // What the app reads: line endings normalized (the '\r's are new chars, dropped again).
        let read = normalize(&t.text().iter().collect::<String>());
        t.0.retain(|(c, _)| *c != '\r');
        let new_text = t.text();
        assert_eq!(
            read,
            new_text.iter().collect::<String>(),
            "tracked as the app reads it"
        );
        // Where each original char went.
        let mut moved_to = vec![None; answer.chars().count()];
        for (pos, (_, origin)) in t.0.iter().enumerate() {
            if let Some(o) = origin {
                moved_to[*o] = Some(pos);
            }
        }
        let new_string: String = new_text.iter().collect();
        for sidecar in &doc.sidecars {
            // As the app does: one annotator's spans of one part together.
            let part_spans: Vec<&marginalia::sidecar::Span> = sidecar
                .spans
                .iter()
                .filter(|s| s.part == PartId::ANSWER)
                .collect();
            // The part's length when the sidecar was saved, as the app reads it.
            let old_len = sidecar.transcript.parts.get(&PartId::ANSWER).copied();
            let placed = anchor_all(&part_spans, &new_string, old_len);
            for (s, a) in part_spans.iter().zip(placed) {
                spans += 1;
                *by_placement
                    .entry(format!("{:?}", a.placement))
                    .or_insert(0) += 1;
                let targets: Vec<Option<usize>> = moved_to[s.start..s.end].to_vec();
                if targets.iter().any(Option::is_none) {
                    destroyed += 1;
                    destroyed_orphaned += usize::from(a.placement == Placement::Orphan);
                    continue;
                }
                survived += 1;
                let first = targets.iter().flatten().min().copied().unwrap_or(0);
                let last = targets.iter().flatten().max().copied().unwrap_or(0);
                let truth = (first, last + 1);
                if a.placement == Placement::Orphan {
                    orphaned_survivors += 1;
                } else if (a.start, a.end) == truth {
                    exact += 1;
                } else if a.placement == Placement::Unchanged {
                    unflagged_wrong += 1;
                } else {
                    flagged_wrong += 1;
                }
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "corpus: {} pages, {} sidecars; edits applied: {edits:?}",
        g.pages, g.sidecars
    );
    println!("spans: {spans}; placements: {by_placement:?}; {secs:.2} s");
    println!(
        "spans whose text survived the edits: {survived}; put back on exactly the right text: {exact} = {:.2}%",
        100.0 * exact as f64 / survived.max(1) as f64
    );
    println!(
        "placed on the wrong text without a flag: {unflagged_wrong}; with a flag: {flagged_wrong}; orphaned although their text survived: {orphaned_survivors}"
    );
    println!(
        "spans whose text was deleted or cut: {destroyed}, of which orphaned: {destroyed_orphaned} (the rest placed with a flag)"
    );
    let mut failed = Vec::new();
    let share = exact as f64 / survived.max(1) as f64;
    if share < 0.99 {
        failed.push(format!("exact {:.2}% < 99%", 100.0 * share));
    }
    if unflagged_wrong > 0 {
        failed.push(format!("{unflagged_wrong} placed wrong without a flag"));
    }
    worst_case();
    failed.extend(scale());
    if !failed.is_empty() {
        eprintln!("FAILED: {}", failed.join("; "));
        std::process::exit(1);
    }
}

/// A span over `start..end` of `chars` with its context, made without collecting the text's chars
/// again for each span (as `Span::new` does), so that the bench can make 100,000 of them.
fn span_at(chars: &[char], i: usize, start: usize, end: usize) -> marginalia::sidecar::Span {
    let c = marginalia::sidecar::CONTEXT_CHARS;
    marginalia::sidecar::Span {
        id: format!("s{i}"),
        part: PartId::ANSWER,
        start,
        end,
        quote: chars[start..end].iter().collect(),
        prefix: chars[start.saturating_sub(c)..start].iter().collect(),
        suffix: chars[end..(end + c).min(chars.len())].iter().collect(),
        dimension: "d".into(),
        value: "v".into(),
        note: String::new(),
        flag: None,
    }
}

/// Places `spans` in `edited` and counts those put exactly where `truth` says.
fn place(
    what: &str,
    spans: &[marginalia::sidecar::Span],
    old_len: usize,
    edited: &str,
    truth: impl Fn(&marginalia::sidecar::Span) -> (usize, usize),
) -> (f64, usize, usize) {
    let refs: Vec<&marginalia::sidecar::Span> = spans.iter().collect();
    let t = Instant::now();
    let placed = anchor_all(&refs, edited, Some(old_len));
    let secs = t.elapsed().as_secs_f64();
    let exact = spans
        .iter()
        .zip(&placed)
        .filter(|(s, a)| (a.start, a.end) == truth(s))
        .count();
    let silent_wrong = spans
        .iter()
        .zip(&placed)
        .filter(|(s, a)| a.placement == Placement::Unchanged && (a.start, a.end) != truth(s))
        .count();
    println!(
        "{what}: {} spans placed in {secs:.2} s, {exact} exactly, {silent_wrong} wrong without a flag",
        spans.len()
    );
    (secs, exact, silent_wrong)
}

/// Issue 13: 100,000 spans on one page, and a quote repeated 100,000 times, each placed in under
/// 2 s, all exactly. Each page gets a sentence inserted near its start, so every span moves.
fn scale() -> Vec<String> {
    let mut failed = Vec::new();
    let inserted = "This sentence was added in the corrected version. ";
    // 20,000 paragraphs, five names in each: 100,000 spans, each name occurring 20,000 times.
    let mut answer = String::new();
    for i in 0..20_000 {
        answer.push_str(&format!(
            "Paragraph {i}: the Home Office and the Metropolitan Police Service agreed with MOPAC that CONTEST, the Prevent duty and the London Plan would be reviewed by HM Treasury, as Sir Peter Fahy said, with £{i} million from the Department for Transport.\n\n"
        ));
    }
    let answer = answer.trim_end().to_string();
    let chars: Vec<char> = answer.chars().collect();
    let names: Vec<Vec<char>> = [
        "Home Office",
        "Metropolitan Police Service",
        "CONTEST",
        "Sir Peter Fahy",
        "HM Treasury",
    ]
    .iter()
    .map(|n| n.chars().collect())
    .collect();
    let mut spans = Vec::new();
    for p in 0..chars.len() {
        for n in &names {
            if chars[p..].starts_with(n) {
                spans.push(span_at(&chars, spans.len(), p, p + n.len()));
            }
        }
    }
    let marker = "Paragraph 3: ";
    let at = answer[..answer.find(marker).expect("paragraph 3") + marker.len()]
        .chars()
        .count();
    let edited = answer.replacen(marker, &format!("{marker}{inserted}"), 1);
    let shift = inserted.chars().count();
    let moved = |s: &marginalia::sidecar::Span| {
        let by = if s.start >= at { shift } else { 0 };
        (s.start + by, s.end + by)
    };
    let (secs, exact, wrong) = place(
        &format!("one page of {} chars", chars.len()),
        &spans,
        chars.len(),
        &edited,
        moved,
    );
    if secs > 2.0 || exact < spans.len() || wrong > 0 {
        failed.push(format!(
            "100,000 spans on one page: {secs:.2} s, {exact} exact"
        ));
    }

    // "Fahy said. " 100,000 times, a sentence inserted first: 10, 200 and 100,000 spans on it.
    let answer = "Fahy said. ".repeat(100_000).trim_end().to_string();
    let chars: Vec<char> = answer.chars().collect();
    let edited = format!("{inserted}{answer}");
    let shift = inserted.chars().count();
    for count in [10, 200, 100_000] {
        let step = 100_000 / count;
        let spans: Vec<marginalia::sidecar::Span> = (0..count)
            .map(|k| {
                let start = 11 * step * k + 11 * (step / 2);
                span_at(&chars, k, start, start + "Fahy said.".len())
            })
            .collect();
        let (secs, exact, wrong) = place(
            "a quote repeated 100,000 times",
            &spans,
            chars.len(),
            &edited,
            |s| (s.start + shift, s.end + shift),
        );
        if secs > 2.0 || wrong > 0 {
            failed.push(format!("{count} spans on a repeated quote: {secs:.2} s"));
        }
        let _ = exact;
    }
    failed
}

/// The largest part the app is measured with (issue 4's 400-paragraph answer, 2,000 spans on names
/// that occur 400 times each), after a sentence is inserted near its start: the time the app takes
/// to place its spans again when it opens the changed transcript.
fn worst_case() {
    let mut answer = String::new();
    for i in 0..400 {
        answer.push_str(&format!(
            "Paragraph {i}: the Home Office and the Metropolitan Police Service agreed with MOPAC that CONTEST, the Prevent duty and the London Plan would be reviewed by HM Treasury, as Sir Peter Fahy said, with £{i} million from the Department for Transport.\n\n"
        ));
    }
    let answer = answer.trim_end().to_string();
    let mut spans = Vec::new();
    for name in [
        "Home Office",
        "Metropolitan Police Service",
        "CONTEST",
        "Sir Peter Fahy",
        "HM Treasury",
    ] {
        for (byte, _) in answer.match_indices(name) {
            let start = answer[..byte].chars().count();
            let id = format!("s{}", spans.len());
            spans.extend(marginalia::sidecar::Span::new(
                id,
                PartId::ANSWER,
                &answer,
                start,
                start + name.chars().count(),
                "d",
                "v",
            ));
        }
    }
    let edited = answer.replacen(
        "Paragraph 3: ",
        "Paragraph 3: This sentence was added in the corrected version. ",
        1,
    );
    let refs: Vec<&marginalia::sidecar::Span> = spans.iter().collect();
    let t = Instant::now();
    let placed = anchor_all(&refs, &edited, Some(answer.chars().count()));
    let secs = t.elapsed().as_secs_f64();
    let shift = "This sentence was added in the corrected version. ".len();
    let byte = answer.find("Paragraph 3: ").expect("paragraph 3") + "Paragraph 3: ".len();
    let at = answer[..byte].chars().count();
    let exact = spans
        .iter()
        .zip(&placed)
        .filter(|(s, a)| {
            let by = if s.start >= at { shift } else { 0 };
            (a.start, a.end) == (s.start + by, s.end + by)
        })
        .count();
    println!(
        "worst case: {} spans in a {}-char answer, a sentence inserted: placed in {secs:.2} s, {exact} exactly",
        spans.len(),
        answer.chars().count()
    );
}
