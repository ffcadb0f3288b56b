//! Re-anchoring properties on the seed answer: any edit never makes placement panic or place a span
//! outside the text, an edit away from a span moves it exactly, and nothing is silent unless its
//! text is there.
#![allow(
    clippy::unwrap_used,
    reason = "a test crate: an unwrap that fails is a failing test, and says where"
)]

use std::path::Path;

use marginalia::anchor::{Placement, anchor_all};
use marginalia::sidecar::Span;
use marginalia::transcript::{PartId, Transcript};
use proptest::prelude::*;

fn answer() -> String {
    Transcript::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/sample_data/prevent.txt"
    )))
    .unwrap()
    .answer()
    .to_string()
}

/// `text` with the chars `from..to` replaced by `with`.
fn splice(text: &str, from: usize, to: usize, with: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out: String = chars[..from].iter().collect();
    out.push_str(with);
    out.extend(&chars[to..]);
    out
}

proptest! {
    #[test]
    fn placement_never_panics_and_stays_in_the_text(
        starts in proptest::collection::vec((0usize..1800, 1usize..40), 1..6),
        at in 0usize..1800,
        cut in 0usize..300,
        with in "\\PC{0,80}",
    ) {
        let old = answer();
        let n = old.chars().count();
        let spans: Vec<Span> = starts
            .iter()
            .enumerate()
            .filter_map(|(i, &(s, l))| {
                Span::new(format!("s{i}"), PartId::ANSWER, &old, s % n, (s % n + l).min(n), "d", "v")
            })
            .collect();
        let from = at % n;
        let new = splice(&old, from, (from + cut).min(n), &with);
        let refs: Vec<&Span> = spans.iter().collect();
        let placed = anchor_all(&refs, &new, Some(n));
        prop_assert_eq!(placed.len(), spans.len());
        let chars: Vec<char> = new.chars().collect();
        for (s, a) in spans.iter().zip(placed) {
            if a.placement == Placement::Orphan {
                continue;
            }
            prop_assert!(a.start < a.end && a.end <= chars.len());
            let here: String = chars[a.start..a.end].iter().collect();
            if a.placement == Placement::Unchanged {
                prop_assert_eq!((a.start, a.end), (s.start, s.end));
                prop_assert_eq!(&here, &s.quote);
            }
            if a.placement == Placement::Moved {
                prop_assert_eq!(&here, &s.quote);
            }
        }
    }

    #[test]
    fn an_edit_away_from_a_span_moves_it_exactly(
        start in 0usize..1500,
        len in 8usize..40,
        gap in 40usize..400,
        before in any::<bool>(),
        cut in 0usize..30,
        with in "[a-zA-Z ,.’“”é]{0,60}",
    ) {
        let old = answer();
        let n = old.chars().count();
        prop_assume!(start + len <= n);
        let span = Span::new("s".into(), PartId::ANSWER, &old, start, (start + len).min(n), "d", "v").unwrap();
        // Only quotes found once: a repeated phrase is a matter for the order of several spans.
        prop_assume!(old.matches(span.quote.as_str()).count() == 1);
        let (from, shift) = if before {
            prop_assume!(span.start >= gap + cut);
            (span.start - gap - cut, with.chars().count() as i64 - cut as i64)
        } else {
            prop_assume!(span.end + gap + cut <= n);
            (span.end + gap, 0)
        };
        let new = splice(&old, from, from + cut, &with);
        prop_assume!(new.matches(span.quote.as_str()).count() == 1);
        let a = anchor_all(&[&span], &new, Some(n))[0];
        prop_assert_eq!(
            (a.start as i64, a.end as i64),
            (span.start as i64 + shift, span.end as i64 + shift)
        );
        prop_assert!(a.placement == Placement::Unchanged || a.placement == Placement::Moved);
    }
}

proptest! {
    #[test]
    fn spans_from_untrusted_sidecars_never_make_placement_panic(
        start in 0usize..3000,
        end in 0usize..3000,
        quote in "\\PC{0,20}",
        prefix in "\\PC{0,40}",
        suffix in "\\PC{0,40}",
        at in 0usize..1500,
    ) {
        let text = answer();
        // Offsets, quote and context as a colleague's file may have them: in any order, beyond
        // the text, not matching each other.
        let mut span = Span::new("s".into(), PartId::ANSWER, &text, 10, 20, "d", "v").unwrap();
        span.start = start;
        span.end = end;
        span.quote = if quote.is_empty() {
            text.chars().skip(at).take(12).collect()
        } else {
            quote
        };
        span.prefix = prefix;
        span.suffix = suffix;
        let old_len = Some(text.chars().count());
        let placed = anchor_all(&[&span], &text, old_len)[0];
        if placed.placement != Placement::Orphan {
            prop_assert!(placed.start < placed.end && placed.end <= text.chars().count());
        }
    }

    #[test]
    fn reversed_offsets_on_the_quotes_own_place_are_never_unchanged(
        at in 20usize..1500,
        back in 1usize..20,
    ) {
        let text = answer();
        let mut span = Span::new("s".into(), PartId::ANSWER, &text, at, at + 12, "d", "v").unwrap();
        // The start still where the quote is, the end before it.
        span.end = at - back;
        let placed = anchor_all(&[&span], &text, None)[0];
        prop_assert_ne!(placed.placement, Placement::Unchanged);
        prop_assert!(placed.placement == Placement::Orphan || placed.start < placed.end);
    }
}

#[test]
fn a_page_saved_again_with_crlf_or_windows_1252_moves_nothing() {
    // Line endings and encoding are normalized away: the text, its hash and every offset stay.
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/sample_data/prevent.txt"
    ));
    let original = Transcript::load(path).unwrap();
    let text = std::fs::read_to_string(path).unwrap().replace("\r\n", "\n");
    let crlf = text.replace('\n', "\r\n");
    let (cp1252, _, lossy) = encoding_rs::WINDOWS_1252.encode(&crlf);
    assert!(!lossy);
    for (what, bytes) in [("CRLF", crlf.as_bytes()), ("Windows-1252", &cp1252[..])] {
        let again = Transcript::from_bytes("prevent.txt", bytes).unwrap();
        assert_eq!(again.hash, original.hash, "{what}");
        let answer = original.answer();
        let span = Span::new("s".into(), PartId::ANSWER, answer, 955, 969, "d", "v").unwrap();
        assert_eq!(span.quote, "Sir Peter Fahy");
        let placed = anchor_all(&[&span], again.answer(), None)[0];
        assert_eq!(placed.placement, Placement::Unchanged, "{what}");
    }
}
