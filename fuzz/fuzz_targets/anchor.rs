#![no_main]
//! Re-anchoring on arbitrary texts: the bytes are an old text, a new text and span positions; spans
//! of the old text are placed in the new one. Nothing may panic, and every placement must lie in
//! the new text, with a silent one exactly on its quote.
use libfuzzer_sys::fuzz_target;
use marginalia::anchor::{Placement, anchor_all};
use marginalia::sidecar::Span;
use marginalia::transcript::PartId;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut pieces = text.splitn(3, '\u{1}');
    let (Some(old), Some(new)) = (pieces.next(), pieces.next()) else {
        return;
    };
    let positions: Vec<usize> = pieces
        .next()
        .unwrap_or("")
        .bytes()
        .map(usize::from)
        .collect();
    let n = old.chars().count();
    if n == 0 {
        return;
    }
    let spans: Vec<Span> = positions
        .chunks(2)
        .enumerate()
        .filter_map(|(i, p)| {
            let start = p[0] * 7 % n;
            let len = 1 + p.get(1).copied().unwrap_or(3) % 40;
            Span::new(format!("s{i}"), PartId::ANSWER, old, start, (start + len).min(n), "d", "v")
        })
        .take(64)
        .collect();
    let refs: Vec<&Span> = spans.iter().collect();
    let chars: Vec<char> = new.chars().collect();
    for (s, a) in spans.iter().zip(anchor_all(&refs, new, Some(n))) {
        if a.placement == Placement::Orphan {
            continue;
        }
        assert!(a.start < a.end && a.end <= chars.len());
        if a.placement != Placement::Approximate {
            assert_eq!(chars[a.start..a.end].iter().collect::<String>(), s.quote);
        }
    }
});
