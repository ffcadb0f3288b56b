//! Re-anchoring: placing a span again when the transcript's text changed under it (a typo fixed, a
//! paragraph added, quotes straightened). The spans of a part are placed together, each at one of
//! its candidate places, so that they keep their order and the text between them changes length only
//! where an edit fell ([`anchor_all`]). A span is placed silently only where its stored offsets still
//! hold its quote with its context and the quote occurs nowhere else; anything else is flagged, and
//! what cannot be placed is an orphan, kept until the user decides.

use std::collections::BinaryHeap;

use rayon::prelude::*;

use crate::annotation::Span;
use crate::fasthash::FxHashMap;
use crate::search::fold_char;

/// How a span was placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// At its stored offsets, text and context unchanged.
    Unchanged,
    /// At an exact occurrence of its quote, elsewhere, or at its offsets where the quote also
    /// occurs elsewhere: flagged for a look.
    Moved,
    /// By approximate matching (quote edited, quotes or spaces changed): flagged for a look.
    Approximate,
    /// Nowhere (its text is gone, or was left out as deleted): an orphan.
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
    let first = needle[0];
    (0..=hay.len() - needle.len())
        .filter(|&i| hay[i] == first && hay[i..i + needle.len()] == *needle)
        .collect()
}

/// Longest run of chars hashed as one key of a [`GramIndex`].
const GRAM: usize = 8;

/// Distinct needles looked up by scanning the whole text before the text is indexed instead: a
/// part with a handful of spans is never indexed, one with thousands is indexed once.
const SCANS_BEFORE_INDEX: usize = 16;

fn gram_hash(chars: &[char]) -> u64 {
    chars.iter().fold(0u64, |h, &c| {
        (h.rotate_left(5) ^ u64::from(c)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
    })
}

/// Every position of the text, bucketed by the hash of the `q` chars starting there (a counting
/// sort, so each bucket lists its positions in order): the occurrences of a needle are among the
/// positions of its rarest `q`-gram, checked char by char.
struct GramIndex {
    q: usize,
    shift: u32,
    starts: Vec<u32>,
    positions: Vec<u32>,
}

impl GramIndex {
    fn new(hay: &[char], q: usize) -> GramIndex {
        let count = (hay.len() + 1).saturating_sub(q);
        let buckets = count.next_power_of_two().max(2);
        let shift = 64 - buckets.trailing_zeros();
        let bucket = |h: u64| (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> shift) as usize;
        let keys: Vec<u32> = (0..count)
            .map(|i| bucket(gram_hash(&hay[i..i + q])) as u32)
            .collect();
        let mut starts = vec![0u32; buckets + 1];
        for &k in &keys {
            starts[k as usize + 1] += 1;
        }
        for b in 0..buckets {
            starts[b + 1] += starts[b];
        }
        let mut fill = starts.clone();
        let mut positions = vec![0u32; count];
        for (i, &k) in keys.iter().enumerate() {
            positions[fill[k as usize] as usize] = i as u32;
            fill[k as usize] += 1;
        }
        GramIndex {
            q,
            shift,
            starts,
            positions,
        }
    }

    fn bucket(&self, gram: &[char]) -> &[u32] {
        let b = (gram_hash(gram).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize;
        &self.positions[self.starts[b] as usize..self.starts[b + 1] as usize]
    }

    /// Occurrences of `needle` (at least `q` chars long), in order.
    fn find(&self, hay: &[char], needle: &[char]) -> Vec<usize> {
        let q = self.q;
        // The needle's rarest q-gram, at offset `at`, has the fewest positions to check.
        let (at, bucket) = (0..=needle.len() - q)
            .map(|j| (j, self.bucket(&needle[j..j + q])))
            .min_by_key(|(_, b)| b.len())
            .expect("needle at least q long");
        bucket
            .iter()
            .filter_map(|&p| {
                let start = (p as usize).checked_sub(at)?;
                (hay.get(start..start + needle.len())? == needle).then_some(start)
            })
            .collect()
    }
}

/// Finds every occurrence of a needle in the text, remembering the answers: the spans of a part
/// often share their quote and context (a name cited again and again). The first few needles are
/// found by scanning the text; after that the text is indexed by its q-grams, so that a part with
/// 100,000 spans is not scanned 100,000 times.
struct Finder<'a> {
    hay: &'a [char],
    found: FxHashMap<Vec<char>, Vec<usize>>,
    /// Whether each quote occurs char for char exactly once (see [`unchanged_here`]).
    unique_quotes: FxHashMap<Vec<char>, bool>,
    scans: usize,
    /// Index by gram length − 1, made when first needed.
    grams: Vec<Option<GramIndex>>,
}

impl<'a> Finder<'a> {
    fn new(hay: &'a [char]) -> Finder<'a> {
        Finder {
            hay,
            found: FxHashMap::default(),
            unique_quotes: FxHashMap::default(),
            scans: 0,
            grams: (0..GRAM).map(|_| None).collect(),
        }
    }

    fn all(&mut self, needle: &[char]) -> &[usize] {
        if !self.found.contains_key(needle) {
            let hay = self.hay;
            let places = if needle.is_empty() || needle.len() > hay.len() {
                Vec::new()
            } else if self.scans < SCANS_BEFORE_INDEX {
                self.scans += 1;
                find_all(hay, needle)
            } else {
                let q = needle.len().min(GRAM);
                self.grams[q - 1]
                    .get_or_insert_with(|| GramIndex::new(hay, q))
                    .find(hay, needle)
            };
            self.found.insert(needle.to_vec(), places);
        }
        &self.found[needle]
    }

    /// Occurrences of a needle already looked up with [`Finder::all`].
    fn get(&self, needle: &[char]) -> &[usize] {
        self.found.get(needle).map_or(&[], Vec::as_slice)
    }

    /// Whether `quote` occurs char for char exactly once in the text (`chars`, unfolded).
    fn unique(&mut self, chars: &[char], quote: &[char], folded_quote: &[char]) -> bool {
        if let Some(&u) = self.unique_quotes.get(quote) {
            return u;
        }
        let once = self
            .all(folded_quote)
            .iter()
            .filter(|&&h| chars[h..h + quote.len()] == *quote)
            .take(2)
            .count()
            == 1;
        self.unique_quotes.insert(quote.to_vec(), once);
        once
    }
}

/// Edit distance between two strings: insertions, deletions, substitutions and swaps of
/// neighbouring chars (the commonest typo) each count one.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let m = b.len();
    // Three rows; on the stack for the usual short quote (refining one window takes 25 distances,
    // and a page of 100,000 spans refines many).
    const ON_STACK: usize = 48;
    if m < ON_STACK {
        let mut rows = [0usize; 3 * ON_STACK];
        edit_distance_in(a, b, &mut rows[..3 * (m + 1)])
    } else {
        edit_distance_in(a, b, &mut vec![0; 3 * (m + 1)])
    }
}

/// [`edit_distance`] with its three rows in `rows` (3 × (b's length + 1) zeros).
fn edit_distance_in(a: &[char], b: &[char], rows: &mut [usize]) -> usize {
    let m = b.len();
    let (before, rest) = rows.split_at_mut(m + 1);
    let (prev, cur) = rest.split_at_mut(m + 1);
    let (mut before, mut prev, mut cur) = (before, prev, cur);
    for (j, x) in prev.iter_mut().enumerate() {
        *x = j;
    }
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(before[j - 2] + 1);
            }
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[m]
}

/// Extra text read past the stored context, so that chars inserted into it cost one edit each
/// instead of the rest of the context ([`ContextPattern::distance`]).
const CONTEXT_SLACK: usize = 8;

/// A span's context made ready for [`ContextPattern::distance`]: the positions of each of its chars
/// as bits (Myers' Peq), made once per span instead of once per place compared, since a span on a
/// page of 100,000 spans is compared with dozens of places.
struct ContextPattern<'p> {
    chars: &'p [char],
    /// Bits of each ASCII char's positions; other chars in `other`.
    ascii: [u64; 128],
    other: Vec<(char, u64)>,
}

impl<'p> ContextPattern<'p> {
    fn new(chars: &'p [char]) -> ContextPattern<'p> {
        let mut ascii = [0u64; 128];
        let mut other: Vec<(char, u64)> = Vec::new();
        // Longer contexts go through the table; their masks are never read.
        if chars.len() <= 64 {
            for (i, &c) in chars.iter().enumerate() {
                let bit = 1u64 << i;
                if c.is_ascii() {
                    ascii[c as usize] |= bit;
                } else if let Some(x) = other.iter_mut().find(|x| x.0 == c) {
                    x.1 |= bit;
                } else {
                    other.push((c, bit));
                }
            }
        }
        ContextPattern {
            chars,
            ascii,
            other,
        }
    }

    /// Edits that turn the pattern into the start of `text` (where the text's matched part ends
    /// is free): how much of a span's context an edit spoilt. The prefix is compared reversed,
    /// reading the text backwards from the span.
    fn distance(&self, text: impl Iterator<Item = char> + Clone) -> usize {
        let p = self.chars.len();
        if p == 0 {
            return 0;
        }
        let text = text.take(p + CONTEXT_SLACK);
        // Most contexts are intact: no table needed.
        if text.clone().take(p).eq(self.chars.iter().copied()) {
            return 0;
        }
        if p <= 64 {
            return self.bits(text);
        }
        context_distance_table(self.chars, &text.collect::<Vec<char>>())
    }

    /// [`ContextPattern::distance`] one text char at a time with the pattern's column held in
    /// two machine words (Myers 1999, in Hyyrö's form for a pattern aligned from its first char):
    /// 40 steps instead of a 32 × 40 table. A page with 100,000 spans compares millions of
    /// contexts.
    fn bits(&self, text: impl Iterator<Item = char>) -> usize {
        let m = self.chars.len();
        let mask = if m == 64 { u64::MAX } else { (1u64 << m) - 1 };
        let high = 1u64 << (m - 1);
        // Vertical differences of the column (all +1: D[i][0] = i), and the last row's value.
        let (mut pv, mut mv) = (mask, 0u64);
        let mut score = m;
        let mut best = m;
        for c in text {
            let eq = if c.is_ascii() {
                self.ascii[c as usize]
            } else {
                self.other.iter().find(|x| x.0 == c).map_or(0, |x| x.1)
            };
            let xv = eq | mv;
            let xh = ((eq & pv).wrapping_add(pv) ^ pv) | eq;
            let ph = mv | !(xh | pv);
            let mh = pv & xh;
            if ph & high != 0 {
                score += 1;
            } else if mh & high != 0 {
                score -= 1;
            }
            // The first row grows by one per text char (D[0][j] = j): a +1 carried in.
            let ph = (ph << 1) | 1;
            let mh = mh << 1;
            pv = (mh | !(xv | ph)) & mask;
            mv = ph & xv & mask;
            best = best.min(score);
            if best == 0 {
                break;
            }
        }
        best
    }
}

/// [`ContextPattern::bits`] for a pattern of at most 64 chars, made on the spot (tests).
#[cfg(test)]
fn context_distance_bits(pattern: &[char], text: &[char]) -> usize {
    ContextPattern::new(pattern).bits(text.iter().copied())
}

/// [`ContextPattern::distance`] by the plain table, for contexts longer than a machine word.
fn context_distance_table(pattern: &[char], text: &[char]) -> usize {
    let p = pattern.len();
    // col[i]: edits for the first i pattern chars against the text read so far.
    let mut col: Vec<usize> = (0..=p).collect();
    let mut best = col[p];
    for (j, &t) in text.iter().enumerate() {
        let mut diag = col[0];
        col[0] = j + 1;
        for i in 1..=p {
            let up = col[i];
            col[i] = (diag + usize::from(pattern[i - 1] != t))
                .min(up + 1)
                .min(col[i - 1] + 1);
            diag = up;
        }
        best = best.min(col[p]);
        if best == 0 {
            break;
        }
    }
    best
}

/// Lowest similarity accepted for an approximate placement.
pub const MIN_SIMILARITY: f64 = 0.75;

/// Cost of a char of context that no longer matches, against the cost of an edit between spans.
const CONTEXT_WEIGHT: u64 = 2;

/// Cost of an edit inside the quote (after folding case, accents, quote marks and spaces): more
/// than an edit between spans, so that a window shifted by a char never beats the quote itself.
const QUOTE_EDIT_WEIGHT: u64 = 30;

/// Cost of a quote that differs only by folding (curly vs straight quotes, case).
const FOLD_COST: u64 = 1;

/// Cost of placing spans out of their old order: edits never reorder text.
const ORDER_BREAK: u64 = 1_000;

/// Most places considered for one span; the cheapest and nearest are kept. 16 places as many
/// spans exactly as 64 did on the edited corpus of the reanchor bench (the same 99.51%, the same
/// flags and orphans), and the choice among them costs the square of this per span: 64 made a page
/// of 100,000 spans take 11-15 s, 16 takes 2-3 s.
const MAX_CANDIDATES: usize = 16;

/// Cost of a stretch of text whose length changed by `delta` chars: one edit explains any change,
/// so the cost is mostly for there being an edit at all.
fn gap_cost(delta: i64) -> u64 {
    if delta == 0 {
        0
    } else {
        40 + delta.unsigned_abs() / 8
    }
}

/// One possible place for a span.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    start: usize,
    end: usize,
    /// How badly quote and context fit here.
    cost: u64,
    /// The quote is here char for char.
    exact: bool,
}

/// A span's quote and context, as chars and folded.
struct Needle {
    quote: Vec<char>,
    prefix: Vec<char>,
    suffix: Vec<char>,
    folded_quote: Vec<char>,
    /// Folded and reversed, to read backwards from a place.
    folded_prefix_rev: Vec<char>,
    folded_suffix: Vec<char>,
}

impl Needle {
    fn of(span: &Span) -> Needle {
        let quote: Vec<char> = span.quote.chars().collect();
        let prefix: Vec<char> = span.prefix.chars().collect();
        let suffix: Vec<char> = span.suffix.chars().collect();
        Needle {
            folded_quote: quote.iter().map(|&c| fold_char(c)).collect(),
            folded_prefix_rev: prefix.iter().rev().map(|&c| fold_char(c)).collect(),
            folded_suffix: suffix.iter().map(|&c| fold_char(c)).collect(),
            quote,
            prefix,
            suffix,
        }
    }

    /// Context chars spoilt around `start..end` of the folded text, with the span's context
    /// patterns prepared by [`Needle::patterns`].
    fn context_cost(
        (before, after): &(ContextPattern<'_>, ContextPattern<'_>),
        folded: &[char],
        start: usize,
        end: usize,
    ) -> u64 {
        let before = before.distance(folded[..start].iter().rev().copied());
        let after = after.distance(folded[end..].iter().copied());
        (before + after) as u64 * CONTEXT_WEIGHT
    }

    /// The last 16 folded chars of the prefix and the first 16 of the suffix: the keys a span is
    /// looked up by where its quote was edited.
    fn context_keys(&self) -> (Vec<char>, &[char]) {
        let tail = self.folded_prefix_rev[..self.folded_prefix_rev.len().min(16)]
            .iter()
            .rev()
            .copied()
            .collect();
        (
            tail,
            &self.folded_suffix[..self.folded_suffix.len().min(16)],
        )
    }

    /// Looks up the occurrences [`candidates`] reads (quote and context keys), so that the spans'
    /// candidates can then be found on every core from the shared answers.
    fn look_up(&self, finder: &mut Finder<'_>) {
        if self.quote.is_empty() {
            return;
        }
        let (tail, head) = self.context_keys();
        finder.all(&self.folded_quote);
        if tail.len() >= MIN_CONTEXT {
            finder.all(&tail);
        }
        if head.len() >= MIN_CONTEXT {
            finder.all(head);
        }
    }

    /// The folded prefix (reversed) and suffix, ready to be compared with many places.
    fn patterns(&self) -> (ContextPattern<'_>, ContextPattern<'_>) {
        (
            ContextPattern::new(&self.folded_prefix_rev),
            ContextPattern::new(&self.folded_suffix),
        )
    }

    /// Cost of the quote against `start..end`, or `None` when it is too different.
    fn quote_cost(&self, chars: &[char], folded: &[char], start: usize, end: usize) -> Option<u64> {
        if chars[start..end] == *self.quote {
            return Some(0);
        }
        let here = &folded[start..end];
        if *here == *self.folded_quote {
            return Some(FOLD_COST);
        }
        let longer = self.folded_quote.len().max(here.len());
        // The edit distance is at least the difference in length: too different already.
        let apart = longer - self.folded_quote.len().min(here.len());
        if 1.0 - apart as f64 / (longer as f64) < MIN_SIMILARITY {
            return None;
        }
        let distance = edit_distance(&self.folded_quote, here);
        if 1.0 - distance as f64 / (longer as f64) < MIN_SIMILARITY {
            return None;
        }
        Some(FOLD_COST + QUOTE_EDIT_WEIGHT * distance as u64)
    }
}

/// A list of places, sorted by where they start, walked outward from a target: nearest first.
struct Outward<'l, F: Fn(usize) -> usize> {
    list: &'l [usize],
    start_of: F,
    target: usize,
    /// Next index to the left is `left − 1`; next to the right is `right`.
    left: usize,
    right: usize,
}

impl<'l, F: Fn(usize) -> usize> Outward<'l, F> {
    fn new(list: &'l [usize], target: usize, start_of: F) -> Self {
        let i = list.partition_point(|&p| start_of(p) < target);
        Outward {
            list,
            start_of,
            target,
            left: i,
            right: i,
        }
    }

    /// Distance from the target to the next place, and whether it is on the right.
    fn peek(&self) -> Option<(usize, bool)> {
        let l = (self.left > 0).then(|| self.target - (self.start_of)(self.list[self.left - 1]));
        let r = (self.right < self.list.len())
            .then(|| (self.start_of)(self.list[self.right]) - self.target);
        match (l, r) {
            (Some(a), Some(b)) if a <= b => Some((a, false)),
            (_, Some(b)) => Some((b, true)),
            (Some(a), None) => Some((a, false)),
            (None, None) => None,
        }
    }

    fn pop(&mut self) -> Option<usize> {
        let (_, right) = self.peek()?;
        if right {
            self.right += 1;
            Some(self.list[self.right - 1])
        } else {
            self.left -= 1;
            Some(self.list[self.left])
        }
    }
}

/// At least this many chars of context are needed to look a quote up by its context.
const MIN_CONTEXT: usize = 8;

/// Every place where a span could be now: exact occurrences of its quote, occurrences after
/// folding, text between its context that is similar enough to the quote (where an edit changed
/// the quote itself), and its stored offsets when the text there is similar enough; each with how
/// badly quote and context fit. The cheapest are kept, counting the distance moved.
///
/// Places are generated nearest first from the sorted occurrence lists and costed lazily: a quote
/// that occurs 100,000 times costs what its nearest few occurrences cost, not all of them. A place
/// is looked at only when nothing not yet generated could be cheaper, which is the order a sort
/// of every place would give.
fn candidates(span: &Span, needle: &Needle, chars: &[char], found: &Finder<'_>) -> Vec<Candidate> {
    let folded = found.hay;
    let len = needle.quote.len();
    if len == 0 {
        return Vec::new();
    }
    let (tail, head) = needle.context_keys();
    let (by_tail, by_head) = (tail.len() >= MIN_CONTEXT, head.len() >= MIN_CONTEXT);
    let patterns = needle.patterns();
    let none: &[usize] = &[];
    let target = span.start;
    // Exact and folded occurrences of the quote.
    let mut exact = Outward::new(found.get(&needle.folded_quote), target, |p| p);
    // After the end of the prefix: a window of the quote's length, and windows up to the suffix.
    let tail_len = tail.len();
    let mut after_prefix =
        Outward::new(if by_tail { found.get(&tail) } else { none }, target, |p| {
            p + tail_len
        });
    // Before the start of the suffix.
    let mut before_suffix =
        Outward::new(if by_head { found.get(head) } else { none }, target, |q| {
            q.saturating_sub(len)
        });
    let mut stored =
        (span.start < span.end && span.end <= chars.len()).then_some((span.start, span.end));

    let shift_cost = |start: usize| gap_cost(start as i64 - span.start as i64);
    // Room for the windows of the usual span: growing the table was a tenth of the time on a
    // page of 100,000 spans.
    let mut seen: FxHashMap<(usize, usize), ()> =
        FxHashMap::with_capacity_and_hasher(4 * MAX_CANDIDATES, Default::default());
    // Places costed without their context (which only adds), cheapest first.
    let mut pending: BinaryHeap<std::cmp::Reverse<(u64, usize, usize, u64)>> = BinaryHeap::new();
    let mut kept: Vec<(u64, Candidate)> = Vec::new();
    let mut windows: Vec<(usize, usize)> = Vec::new();
    // The dearest kept place, once enough are kept.
    let mut worst = u64::MAX;
    loop {
        // The cheapest any place not yet generated could be: refining moves a start by
        // [`REFINE`] at most.
        let nearest = [exact.peek(), after_prefix.peek(), before_suffix.peek()]
            .into_iter()
            .flatten()
            .map(|(d, _)| d)
            .chain(stored.map(|(s, _)| s.abs_diff(target)))
            .min();
        let floor = nearest.map(|d| gap_cost(d.saturating_sub(REFINE) as i64));
        let full = kept.len() >= MAX_CANDIDATES;
        if full && floor.is_none_or(|f| f >= worst) && pending.peek().is_none_or(|p| p.0.0 >= worst)
        {
            break;
        }
        // Cost the places that nothing ungenerated can beat.
        if let Some(&std::cmp::Reverse((bound, start, end, quote))) = pending.peek()
            && floor.is_none_or(|f| bound < f)
        {
            pending.pop();
            if full && bound >= worst {
                break;
            }
            let cost = quote + Needle::context_cost(&patterns, folded, start, end);
            kept.push((
                cost + shift_cost(start),
                Candidate {
                    start,
                    end,
                    cost,
                    exact: quote == 0,
                },
            ));
            if kept.len() > MAX_CANDIDATES
                && let Some(i) = (0..kept.len()).max_by_key(|&i| kept[i].0)
            {
                kept.swap_remove(i);
            }
            if kept.len() >= MAX_CANDIDATES {
                worst = kept.iter().map(|k| k.0).max().unwrap_or(u64::MAX);
            }
            continue;
        }
        let Some(distance) = nearest else {
            break;
        };
        // Generate the nearest places.
        windows.clear();
        if exact.peek().is_some_and(|(d, _)| d == distance) {
            let p = exact.pop().expect("peeked");
            windows.push((p, p + len));
        } else if after_prefix.peek().is_some_and(|(d, _)| d == distance) {
            let start = after_prefix.pop().expect("peeked") + tail_len;
            windows.push((start, (start + len).min(folded.len())));
            if by_head {
                // The edited quote sits between prefix and suffix: not much longer than it was.
                let window = (start + 2 * len + 40).min(folded.len());
                for q in find_all(&folded[start..window], head).into_iter().take(3) {
                    windows.push((start, start + q));
                }
            }
        } else if before_suffix.peek().is_some_and(|(d, _)| d == distance) {
            let q = before_suffix.pop().expect("peeked");
            windows.push((q.saturating_sub(len), q));
        } else if let Some(place) = stored.take() {
            windows.push(place);
        }
        for &(start, end) in &windows {
            if start >= end || hopeless(len, end - start) || far_off(needle, folded, start, end) {
                continue;
            }
            // A window found from the context can take in a char inserted next to the quote (a
            // second space) or lose one of its own: its ends are moved to where the quote fits
            // best.
            let (start, end) = refine(needle, folded, (start, end));
            if seen.insert((start, end), ()).is_some() {
                continue;
            }
            if let Some(quote) = needle.quote_cost(chars, folded, start, end) {
                pending.push(std::cmp::Reverse((
                    quote + shift_cost(start),
                    start,
                    end,
                    quote,
                )));
            }
        }
    }
    kept.into_iter().map(|(_, c)| c).collect()
}

/// True when a window of `window` chars cannot fit a quote of `quote` chars well enough however
/// [`refine`] moves its ends: refining costs 25 edit distances, and a quote repeated thousands of
/// times has thousands of windows up to the next occurrence.
fn hopeless(quote: usize, window: usize) -> bool {
    let apart = quote.abs_diff(window).saturating_sub(2 * REFINE);
    let longer = quote.max(window) + 2 * REFINE;
    1.0 - apart as f64 / (longer as f64) < MIN_SIMILARITY
}

/// True when the text of a window is so far from the quote that no move of its ends by [`REFINE`]
/// can bring it close enough (each char moved changes the edit distance by one at most): one edit
/// distance instead of refining's 25, for the stored offsets of every span after an insertion.
fn far_off(needle: &Needle, folded: &[char], start: usize, end: usize) -> bool {
    let here = &folded[start..end];
    if *here == *needle.folded_quote {
        return false;
    }
    let moved = 2 * REFINE;
    let distance = edit_distance(&needle.folded_quote, here).saturating_sub(moved);
    let longer = needle.folded_quote.len().max(here.len()) + moved;
    1.0 - distance as f64 / (longer as f64) < MIN_SIMILARITY
}

/// Chars an approximate window's ends may move to fit the quote.
const REFINE: usize = 2;

/// Moves each end of `start..end` by up to [`REFINE`] chars to where the folded quote differs
/// least from the text (the nearer end on ties).
fn refine(needle: &Needle, folded: &[char], (start, end): (usize, usize)) -> (usize, usize) {
    if folded[start..end] == *needle.folded_quote {
        return (start, end);
    }
    let mut best = (usize::MAX, 0, (start, end));
    for s in start.saturating_sub(REFINE)..=start + REFINE {
        for e in end.saturating_sub(REFINE)..=(end + REFINE).min(folded.len()) {
            if s >= e {
                continue;
            }
            let d = edit_distance(&needle.folded_quote, &folded[s..e]);
            let off = s.abs_diff(start) + e.abs_diff(end);
            if (d, off) < (best.0, best.1) {
                best = (d, off, (s, e));
            }
        }
    }
    best.2
}

/// Spans in a part from which their candidates are found on every core.
const PARALLEL_SPANS: usize = 256;

/// Places every span of one part of the new `text`. `old_len`, the part's length in chars when
/// the spans were saved, ties the end of the text as the start ties its beginning.
///
/// Each span has candidate places, each with a cost for how badly quote and context fit there.
/// The places are chosen together: edits never reorder text, so spans keep their order, and the
/// stretch of text between neighbouring spans (and between the text's ends and the first and last
/// span) changes length only where an edit fell. The choice with the least total cost wins; where
/// a quote occurs more than once (a sentence repeated), this is what tells the occurrences apart.
/// A span is placed silently only at its stored offsets, with its whole context, where its quote
/// occurs nowhere else; every other placement is flagged; a span with no candidate is an orphan.
pub fn anchor_all(spans: &[&Span], text: &str, old_len: Option<usize>) -> Vec<Anchored> {
    let chars: Vec<char> = text.chars().collect();
    let folded: Vec<char> = chars.iter().map(|&c| fold_char(c)).collect();
    let needles: Vec<Needle> = spans.iter().map(|s| Needle::of(s)).collect();
    let mut finder = Finder::new(&folded);
    for n in &needles {
        n.look_up(&mut finder);
    }
    // Each span's candidates depend only on the occurrences looked up above: on every core when
    // there are enough spans to share out (a page with thousands of spans).
    let cands: Vec<Vec<Candidate>> = if spans.len() >= PARALLEL_SPANS {
        spans
            .par_iter()
            .zip(&needles)
            .with_min_len(PARALLEL_SPANS / 4)
            .map(|(s, n)| candidates(s, n, &chars, &finder))
            .collect()
    } else {
        spans
            .iter()
            .zip(&needles)
            .map(|(s, n)| candidates(s, n, &chars, &finder))
            .collect()
    };
    let mut order: Vec<usize> = (0..spans.len()).filter(|&i| !cands[i].is_empty()).collect();
    order.sort_by_key(|&i| (spans[i].start, spans[i].end));

    let chosen = choose(spans, &order, &cands, chars.len(), old_len);
    spans
        .iter()
        .zip(&needles)
        .zip(chosen)
        .map(|((span, needle), c)| match c {
            None => Anchored {
                placement: Placement::Orphan,
                start: span.start,
                end: span.end,
            },
            Some(c) => Anchored {
                placement: if !c.exact {
                    Placement::Approximate
                } else if c.start == span.start && unchanged_here(span, needle, &chars, &mut finder)
                {
                    Placement::Unchanged
                } else {
                    Placement::Moved
                },
                start: c.start,
                end: c.end,
            },
        })
        .collect()
}

/// A span placed at one of its candidates, after the spans before it were placed or left out.
struct State {
    /// Index in the order of spans.
    k: usize,
    /// The candidate taken.
    j: usize,
    /// Least total cost of the spans up to `k`.
    cost: u64,
    /// The state of the span placed before, if any.
    back: Option<usize>,
}

/// Chooses a candidate for each span in `order` (spans sorted by old place), or none where the
/// span's text is gone: the choice of least total cost, counting how badly each place fits, how
/// much the text between neighbouring places changed length, and each span left out.
fn choose(
    spans: &[&Span],
    order: &[usize],
    cands: &[Vec<Candidate>],
    new_len: usize,
    old_len: Option<usize>,
) -> Vec<Option<Candidate>> {
    let mut states: Vec<State> = Vec::new();
    // First state of each span in `order`, and one past its last.
    let mut first: Vec<usize> = Vec::with_capacity(order.len() + 1);
    // Each span's states by cost (then index), to stop early when looking for the best to follow.
    let mut by_cost: Vec<Vec<usize>> = Vec::with_capacity(order.len());
    // Each span's cheapest state (cost, index) for each shift of its end: the state a candidate
    // moved by the same amount follows at no gap cost, found at once, so that the scan by cost
    // below stops after a few states instead of all 64.
    let mut by_shift: Vec<FxHashMap<i64, (u64, usize)>> = Vec::with_capacity(order.len());
    for (k, &i) in order.iter().enumerate() {
        first.push(states.len());
        let span = spans[i];
        for (j, c) in cands[i].iter().enumerate() {
            let shift = c.start as i64 - span.start as i64;
            // Placed first: every span before it left out. Later spans always have the states of
            // the span just before them to follow, in order or not. The least total wins, the
            // earliest state on ties (none before any).
            let mut best = if k <= MAX_LEFT_OUT {
                (gap_cost(shift) + k as u64 * LEFT_OUT, None)
            } else {
                (u64::MAX, None)
            };
            // The states a span can follow: those of the last few spans (the ones between are left out).
            for g in k.saturating_sub(MAX_LEFT_OUT + 1)..k {
                let prev = spans[order[g]];
                let left_out = (k - g - 1) as u64 * LEFT_OUT;
                let follow = |a: usize| {
                    let st = &states[a];
                    let p = &cands[order[g]][st.j];
                    let in_order = if prev.start < span.start {
                        p.start < c.start
                    } else {
                        p.start <= c.start
                    };
                    let moved = shift - (p.end as i64 - prev.end as i64);
                    st.cost + gap_cost(moved) + left_out + if in_order { 0 } else { ORDER_BREAK }
                };
                if let Some(&(_, a)) = by_shift[g].get(&shift) {
                    let total = follow(a);
                    if (total, Some(a)) < best {
                        best = (total, Some(a));
                    }
                }
                for &a in &by_cost[g] {
                    let st = &states[a];
                    // Every cost added is at least zero: no later state of this span can win.
                    if st.cost + left_out > best.0 {
                        break;
                    }
                    let total = follow(a);
                    if (total, Some(a)) < best {
                        best = (total, Some(a));
                    }
                }
            }
            states.push(State {
                k,
                j,
                cost: best.0 + c.cost,
                back: best.1,
            });
        }
        let mut mine: Vec<usize> = (first[k]..states.len()).collect();
        mine.sort_unstable_by_key(|&a| (states[a].cost, a));
        let mut shifts: FxHashMap<i64, (u64, usize)> = FxHashMap::default();
        for &a in &mine {
            let end_shift = cands[i][states[a].j].end as i64 - span.end as i64;
            shifts.entry(end_shift).or_insert((states[a].cost, a));
        }
        by_cost.push(mine);
        by_shift.push(shifts);
        // The spans after this one look back this far only: the tables of older spans are freed,
        // not kept for every span of a page of 100,000.
        if let Some(old) = k.checked_sub(MAX_LEFT_OUT + 1) {
            by_cost[old] = Vec::new();
            by_shift[old] = FxHashMap::default();
        }
    }
    first.push(states.len());
    let mut chosen = vec![None; spans.len()];
    let tail = first[order.len().saturating_sub(MAX_LEFT_OUT + 1)];
    let end = states
        .iter()
        .enumerate()
        .skip(tail)
        .map(|(a, st)| {
            let span = spans[order[st.k]];
            let c = &cands[order[st.k]][st.j];
            let end_cost = old_len.map_or(0, |old| {
                gap_cost((new_len as i64 - c.end as i64) - (old as i64 - span.end as i64))
            });
            (
                st.cost + end_cost + (order.len() - 1 - st.k) as u64 * LEFT_OUT,
                a,
            )
        })
        .min();
    let mut at = end.map(|(_, a)| a);
    while let Some(a) = at {
        let st = &states[a];
        chosen[order[st.k]] = Some(cands[order[st.k]][st.j]);
        at = st.back;
    }
    chosen
}

/// Cost of leaving a span out (its text deleted): more than the edits that usually surround a
/// surviving span, less than placing it out of order.
const LEFT_OUT: u64 = 120;

/// Most spans in a row left out between two placed ones.
const MAX_LEFT_OUT: usize = 3;

/// The quote at its stored offsets with its whole context, char for char, and nowhere else. Another
/// occurrence could be the span's own text moved there by an edit, its context spoilt, so a quote
/// found twice is never placed silently.
fn unchanged_here(span: &Span, needle: &Needle, chars: &[char], finder: &mut Finder<'_>) -> bool {
    let (start, end) = (span.start, span.end);
    // Offsets come from other people's files: reversed or beyond the text is never unchanged.
    if start >= end || end > chars.len() || chars[start..end] != *needle.quote {
        return false;
    }
    let full = needle.prefix.len().min(start) + needle.suffix.len().min(chars.len() - end);
    let here = common_suffix(&chars[..start], &needle.prefix)
        + common_prefix(&chars[end..], &needle.suffix);
    // Exact occurrences are among the folded ones.
    here >= full && finder.unique(chars, &needle.quote, &needle.folded_quote)
}

/// Places a span in (possibly changed) part text, on its own.
pub fn anchor(span: &Span, text: &str) -> Anchored {
    anchor_all(&[span], text, None)[0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::PartId;

    fn span(text: &str, quote: &str) -> Span {
        nth(text, quote, 0)
    }

    fn placed(text: &str, a: Anchored) -> String {
        text.chars().skip(a.start).take(a.end - a.start).collect()
    }

    const TEXT: &str = "MPS and MOPAC recognise it. As Sir Peter Fahy, national police lead for Prevent said recently, blaming “the authorities” can backfire.";

    #[test]
    fn context_distance_by_bits_equals_the_table() {
        let mut next = crate::testing::xorshift(0x1234_5678_9abc_def1u64);
        let alphabet = ['a', 'b', 'c', ' ', 'é', '“'];
        for _ in 0..5_000 {
            let p = 1 + next(64) as usize;
            let pattern: Vec<char> = (0..p).map(|_| alphabet[next(6) as usize]).collect();
            let mut text: Vec<char> = pattern.clone();
            for _ in 0..next(6) {
                let at = next(text.len() as u64 + 1) as usize;
                match next(3) {
                    0 => text.insert(at, alphabet[next(6) as usize]),
                    1 if at < text.len() => {
                        text.remove(at);
                    }
                    _ if at < text.len() => text[at] = alphabet[next(6) as usize],
                    _ => {}
                }
            }
            text.truncate(p + CONTEXT_SLACK);
            assert_eq!(
                context_distance_bits(&pattern, &text),
                context_distance_table(&pattern, &text),
                "{pattern:?} {text:?}"
            );
        }
    }

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

    const HOUSING: &str = "I would gently remind the Member that the last Labour Government built fewer social homes. The Housing Zones programme has unlocked the delivery of more than 75,000 homes across London.\n\nThe Housing Zones programme has unlocked the delivery of more than 75,000 homes across London. The London Plan sets a strategic target, and boroughs negotiate the tenure mix on each site.\n\nThe London Plan sets a strategic target, and boroughs negotiate the tenure mix on each site. The Housing Zones programme has unlocked the delivery of more than 75,000 homes across London. The London Plan sets a strategic target, and boroughs negotiate the tenure mix on each site.";

    fn nth(text: &str, quote: &str, n: usize) -> Span {
        let b = text.match_indices(quote).nth(n).unwrap().0;
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

    #[test]
    fn repeated_sentences_keep_their_order_and_shift() {
        // Second spaces after two sentences: each repeated quote moves by the spaces before it,
        // and never onto a window that takes in the new space.
        let edited = HOUSING.replacen("homes. ", "homes.  ", 1).replacen(
            "across London. The London Plan sets a strategic target, and boroughs negotiate the tenure mix on each site.\n\nThe London Plan sets a strategic target, and boroughs negotiate the tenure mix on each site. The Housing Zones programme has unlocked the delivery of more than 75,000 homes across London. ",
            "across London. The London Plan sets a strategic target, and boroughs negotiate the tenure mix on each site.\n\nThe London Plan sets a strategic target, and boroughs negotiate the tenure mix on each site. The Housing Zones programme has unlocked the delivery of more than 75,000 homes across London.  ",
            1,
        );
        let a = nth(HOUSING, "The London Plan", 0);
        let b = nth(HOUSING, "The London Plan", 2);
        let old_len = Some(HOUSING.chars().count());
        let placed = anchor_all(&[&a, &b], &edited, old_len);
        assert_eq!((placed[0].start, placed[0].end), (a.start + 1, a.end + 1));
        assert_eq!((placed[1].start, placed[1].end), (b.start + 2, b.end + 2));
        assert!(placed.iter().all(|p| p.placement == Placement::Moved));
    }

    #[test]
    fn a_span_whose_text_was_deleted_is_an_orphan_not_a_neighbours_place() {
        let text = "The fares freeze is fully funded. The Department for Transport controls the price of Travelcards. I have written to the Secretary of State about it, twice this year. Londoners have saved hundreds of pounds. The Department for Transport controls the price of Travelcards.";
        let gone = nth(text, "Department for Transport", 0);
        let kept = nth(text, "Department for Transport", 1);
        let edited = text.replacen(
            " The Department for Transport controls the price of Travelcards.",
            "",
            1,
        );
        let placed = anchor_all(&[&gone, &kept], &edited, Some(text.chars().count()));
        assert_eq!(placed[0].placement, Placement::Orphan);
        let cut = " The Department for Transport controls the price of Travelcards.".len();
        assert_eq!(placed[1].start, kept.start - cut);
        assert_eq!(placed[1].placement, Placement::Moved);
    }
}
