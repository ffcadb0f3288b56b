//! Re-anchoring: placing a span again when the transcript's text changed under it (a typo fixed, a
//! paragraph added, quotes straightened). A span is placed silently only where its stored offsets
//! still hold its quote with its context; anything else is flagged, and what cannot be placed is an
//! orphan, kept until the user decides.

use crate::search::fold_char;
use crate::sidecar::Span;

/// How a span was placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// At its stored offsets, text and context unchanged.
    Unchanged,
    /// At an exact occurrence of its quote elsewhere: flagged for a look.
    Moved,
    /// By approximate matching (quote edited, quotes or spaces changed): flagged for a look.
    Approximate,
    /// Nowhere: an orphan.
    Orphan,
}

/// Where a span goes in the new text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchored {
    /// How it was placed.
    pub placement: Placement,
    /// The new char range (the old one for orphans).
    pub start: usize,
    /// End of the new range.
    pub end: usize,
}

/// Chars of `a`'s end that equal `b`'s end.
fn common_suffix(a: &[char], b: &[char]) -> usize {
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// Chars of `a`'s start that equal `b`'s start.
fn common_prefix(a: &[char], b: &[char]) -> usize {
    a.iter().zip(b.iter()).take_while(|(x, y)| x == y).count()
}

fn find_all(hay: &[char], needle: &[char]) -> Vec<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return Vec::new();
    }
    (0..=hay.len() - needle.len())
        .filter(|&i| hay[i..i + needle.len()] == *needle)
        .collect()
}

/// Similarity of two strings from 0 to 1: 1 − edit distance / longer length.
fn similarity(a: &[char], b: &[char]) -> f64 {
    let (n, m) = (a.len(), b.len());
    if n.max(m) == 0 {
        return 1.0;
    }
    // Plain dynamic programming: quotes are short.
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut cur = vec![0; m + 1];
    for i in 1..=n {
        cur[0] = i;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    1.0 - prev[m] as f64 / n.max(m) as f64
}

/// Lowest similarity accepted for an approximate placement.
pub const MIN_SIMILARITY: f64 = 0.75;

/// Places every span of one part. Where a span's quote and context occur more than once (a sentence
/// repeated), the places are chosen together: edits never reorder text, so spans keep their order,
/// and the gaps between neighbouring spans change only by the edits between them. Among the tied
/// places, the choice that keeps spans in order with the smallest total change of gaps wins.
pub fn anchor_all(spans: &[&Span], text: &str) -> Vec<Anchored> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<Anchored> = spans.iter().map(|s| anchor_chars(s, &chars)).collect();
    // The spans placed at an exact occurrence, with their tied candidates, in old order.
    let mut chain: Vec<(usize, Vec<(usize, u64)>)> = (0..spans.len())
        .filter_map(|i| match out[i].placement {
            Placement::Unchanged => Some((i, vec![(out[i].start, 0)])),
            Placement::Moved => Some((i, candidates(spans[i], &chars))),
            _ => None,
        })
        .filter(|(_, c)| !c.is_empty())
        .collect();
    chain.sort_by_key(|(i, _)| (spans[*i].start, spans[*i].end));
    if chain.iter().all(|(_, c)| c.len() == 1) {
        return out;
    }
    // cost[k][j]: least total change of gaps for the first k+1 spans, span k at candidate j.
    let mut cost: Vec<Vec<u64>> = Vec::with_capacity(chain.len());
    let mut from: Vec<Vec<usize>> = Vec::with_capacity(chain.len());
    for (k, (i, cands)) in chain.iter().enumerate() {
        let old = spans[*i].start as i64;
        let mut row = Vec::with_capacity(cands.len());
        let mut back = Vec::with_capacity(cands.len());
        for &(c, lost) in cands {
            if k == 0 {
                row.push(gap_cost(c as i64 - old) + lost);
                back.push(0);
                continue;
            }
            let (pi, pc) = &chain[k - 1];
            let old_gap = old - spans[*pi].start as i64;
            let mut best = (u64::MAX, 0);
            for (pj, &(p, _)) in pc.iter().enumerate() {
                if p > c || cost[k - 1][pj] == u64::MAX {
                    continue;
                }
                let total = cost[k - 1][pj] + gap_cost((c as i64 - p as i64) - old_gap) + lost;
                if total < best.0 {
                    best = (total, pj);
                }
            }
            row.push(best.0);
            back.push(best.1);
        }
        cost.push(row);
        from.push(back);
    }
    let last = cost.len() - 1;
    let Some((mut j, _)) = cost[last]
        .iter()
        .enumerate()
        .filter(|(_, c)| **c != u64::MAX)
        .min_by_key(|(_, c)| **c)
    else {
        return out;
    };
    for k in (0..chain.len()).rev() {
        let (i, cands) = &chain[k];
        let len = out[*i].end - out[*i].start;
        out[*i].start = cands[j].0;
        out[*i].end = cands[j].0 + len;
        j = from[k][j];
    }
    out
}

/// Weight of a char of lost context against a char of changed gap when choosing among places.
const CONTEXT_WEIGHT: u64 = 2;

/// Cost of a gap between neighbouring spans that changed by `delta` chars: one edit between them
/// explains any change, so the cost is mostly for there being an edit at all.
fn gap_cost(delta: i64) -> u64 {
    if delta == 0 {
        0
    } else {
        40 + delta.unsigned_abs() / 8
    }
}

/// Exact occurrences of the quote, each with the context it lost compared with the best one. An edit
/// next to the true place can spoil some of its context while a repeated sentence elsewhere keeps
/// all of its own, so every occurrence stays a candidate, at a cost.
fn candidates(span: &Span, chars: &[char]) -> Vec<(usize, u64)> {
    let quote: Vec<char> = span.quote.chars().collect();
    let prefix: Vec<char> = span.prefix.chars().collect();
    let suffix: Vec<char> = span.suffix.chars().collect();
    let hits = find_all(chars, &quote);
    let score = |s: usize| {
        common_suffix(&chars[..s], &prefix) + common_prefix(&chars[s + quote.len()..], &suffix)
    };
    let scores: Vec<usize> = hits.iter().map(|&s| score(s)).collect();
    let Some(&top) = scores.iter().max() else {
        return Vec::new();
    };
    hits.into_iter()
        .zip(scores)
        .map(|(h, sc)| (h, (top - sc) as u64 * CONTEXT_WEIGHT))
        .collect()
}

/// Places a span in (possibly changed) part text.
pub fn anchor(span: &Span, text: &str) -> Anchored {
    let chars: Vec<char> = text.chars().collect();
    anchor_chars(span, &chars)
}

/// As [`anchor`], on the text's chars.
pub fn anchor_chars(span: &Span, chars: &[char]) -> Anchored {
    let quote: Vec<char> = span.quote.chars().collect();
    let prefix: Vec<char> = span.prefix.chars().collect();
    let suffix: Vec<char> = span.suffix.chars().collect();
    let orphan = Anchored {
        placement: Placement::Orphan,
        start: span.start,
        end: span.end,
    };
    if quote.is_empty() {
        return orphan;
    }
    let context_at = |start: usize, end: usize| -> usize {
        common_suffix(&chars[..start], &prefix) + common_prefix(&chars[end..], &suffix)
    };
    let hits = find_all(chars, &quote);
    // 1. Stored offsets, with the whole context, and the quote nowhere else: silent. Another
    //    occurrence could be the span's own text moved there by an edit, its context spoilt.
    if span.end <= chars.len() && span.start < span.end && chars[span.start..span.end] == *quote {
        let full = prefix.len().min(span.start) + suffix.len().min(chars.len() - span.end);
        let here = context_at(span.start, span.end);
        if here >= full && hits.len() == 1 {
            return Anchored {
                placement: Placement::Unchanged,
                start: span.start,
                end: span.end,
            };
        }
    }
    // 2. Exact occurrences of the quote: the one whose context fits best, then nearest. An edit
    //    inside the quote (a typo fixed) leaves the quote elsewhere only: then the context, found
    //    around the edited text, wins over a distant exact occurrence with little context.
    let best = |candidates: &[usize], len: usize| -> Option<usize> {
        candidates.iter().copied().max_by_key(|&s| {
            let ctx = context_at(s, s + len);
            let distance = s.abs_diff(span.start);
            (ctx, std::cmp::Reverse(distance))
        })
    };
    let around = between_context(span, chars, &quote, &prefix, &suffix);
    if let Some(s) = best(&hits, quote.len()) {
        let exact_ctx = context_at(s, s + quote.len());
        if let Some((start, end, ctx)) = around
            && ctx > exact_ctx + 8
        {
            // An exact occurrence where the context points (an edit only spoiled its context)
            // is taken as it is; else the edited text between the context.
            if let Some(&h) = hits
                .iter()
                .find(|&&h| h + 2 >= start && h + quote.len() <= end + 2)
            {
                return Anchored {
                    placement: Placement::Moved,
                    start: h,
                    end: h + quote.len(),
                };
            }
            return Anchored {
                placement: Placement::Approximate,
                start,
                end,
            };
        }
        return Anchored {
            placement: Placement::Moved,
            start: s,
            end: s + quote.len(),
        };
    }
    // 3. The quote after folding (curly vs straight quotes, case, accents, any whitespace).
    let folded_text: Vec<char> = chars.iter().map(|&c| fold_char(c)).collect();
    let folded_quote: Vec<char> = quote.iter().map(|&c| fold_char(c)).collect();
    let hits = find_all(&folded_text, &folded_quote);
    if let Some(s) = best(&hits, quote.len()) {
        return Anchored {
            placement: Placement::Approximate,
            start: s,
            end: s + quote.len(),
        };
    }
    // 4. Between the context: the prefix's end and the suffix's start, about the quote's length apart.
    if let Some((start, end, _)) = around {
        return Anchored {
            placement: Placement::Approximate,
            start,
            end,
        };
    }
    orphan
}

/// The text between the end of the span's prefix and the start of its suffix, when it is similar
/// enough to the quote; with the length of context matched there.
fn between_context(
    span: &Span,
    chars: &[char],
    quote: &[char],
    prefix: &[char],
    suffix: &[char],
) -> Option<(usize, usize, usize)> {
    let tail = &prefix[prefix.len().saturating_sub(16)..];
    let head = &suffix[..suffix.len().min(16)];
    let mut candidates: Vec<(usize, usize, f64)> = Vec::new();
    if tail.len() >= 8 {
        for p in find_all(chars, tail) {
            let start = p + tail.len();
            if head.len() >= 8 {
                // The quote's text sits between prefix and suffix: not much longer than it was.
                let window = (start + 2 * quote.len() + 40).min(chars.len());
                for q in find_all(&chars[start..window], head).into_iter().take(3) {
                    let end = start + q;
                    candidates.push((start, end, similarity(quote, &chars[start..end])));
                }
            } else {
                let end = (start + quote.len()).min(chars.len());
                candidates.push((start, end, similarity(quote, &chars[start..end])));
            }
        }
    } else if head.len() >= 8 {
        for q in find_all(chars, head) {
            let start = q.saturating_sub(quote.len());
            candidates.push((start, q, similarity(quote, &chars[start..q])));
        }
    }
    let &(start, end, sim) = candidates.iter().max_by(|a, b| {
        a.2.total_cmp(&b.2)
            .then(b.0.abs_diff(span.start).cmp(&a.0.abs_diff(span.start)))
    })?;
    if sim < MIN_SIMILARITY || start >= end {
        return None;
    }
    let ctx = common_suffix(&chars[..start], prefix) + common_prefix(&chars[end..], suffix);
    Some((start, end, ctx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::PartId;

    fn span(text: &str, quote: &str) -> Span {
        let b = text.find(quote).unwrap();
        let s = text[..b].chars().count();
        Span::new(
            "x".into(),
            PartId::ANSWER,
            text,
            s,
            s + quote.chars().count(),
            "d",
            "v",
        )
        .unwrap()
    }

    fn placed(text: &str, a: Anchored) -> String {
        text.chars().skip(a.start).take(a.end - a.start).collect()
    }

    const TEXT: &str = "MPS and MOPAC recognise it. As Sir Peter Fahy, national police lead for Prevent said recently, blaming “the authorities” can backfire.";

    #[test]
    fn unchanged_text_is_silent() {
        let s = span(TEXT, "Sir Peter Fahy");
        assert_eq!(anchor(&s, TEXT).placement, Placement::Unchanged);
    }

    #[test]
    fn inserted_text_moves_the_span_with_a_flag() {
        let s = span(TEXT, "Sir Peter Fahy");
        let edited = format!("A new opening sentence. {TEXT}");
        let a = anchor(&s, &edited);
        assert_eq!(a.placement, Placement::Moved);
        assert_eq!(placed(&edited, a), "Sir Peter Fahy");
    }

    #[test]
    fn same_words_elsewhere_are_told_apart_by_context() {
        let text = "The police said no. Later, the police said yes, according to the report.";
        let b = text.rfind("the police").unwrap();
        let s = Span::new("x".into(), PartId::ANSWER, text, b, b + 10, "d", "v").unwrap();
        let edited = text.replace("Later,", "Much later,");
        let a = anchor(&s, &edited);
        assert_eq!(a.placement, Placement::Moved);
        assert_eq!(a.start, edited.rfind("the police").unwrap());
    }

    #[test]
    fn straightened_quotes_and_spelling_fixes() {
        let s = span(TEXT, "“the authorities”");
        let edited = TEXT.replace(['“', '”'], "\"");
        let a = anchor(&s, &edited);
        assert_eq!(a.placement, Placement::Approximate);
        assert_eq!(placed(&edited, a), "\"the authorities\"");
        let s = span(TEXT, "national police lead for Prevent");
        let edited = TEXT.replace("national police lead", "national polcie lead");
        let a = anchor(&s, &edited);
        assert_eq!(a.placement, Placement::Approximate);
        assert_eq!(placed(&edited, a), "national polcie lead for Prevent");
    }

    #[test]
    fn deleted_text_is_an_orphan() {
        let s = span(TEXT, "Sir Peter Fahy");
        let edited = TEXT.replace(
            "As Sir Peter Fahy, national police lead for Prevent said recently, ",
            "",
        );
        assert_eq!(anchor(&s, &edited).placement, Placement::Orphan);
    }
}
