//! What the document view draws from the open document's spans: the highlights of each part, the
//! spans placed again after the text changed and the orphans. Toolkit-free, so it is tested
//! without the GUI, and keyed by everything it is made from: the document's revision and the
//! codebook's generation (a `codebook.ron` changed on disk gives new colours and labels).

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use crate::codebook::{Codebook, parse_color};
use crate::contrast::Rgb;
use crate::document::Document;
use crate::sidecar::Span;
use crate::transcript::PartId;

/// Grey: a span whose dimension the codebook does not have.
pub const UNKNOWN_COLOR: Rgb = [128, 128, 128];

/// A highlight to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// The span's id (or a hit's).
    pub id: String,
    /// Char range in the part.
    pub range: Range<usize>,
    /// The dimension's colour.
    pub color: Rgb,
    /// What hovering shows: dimension, value, note.
    pub tooltip: String,
    /// A code's span or a search hit, which look unlike each other.
    pub kind: MarkKind,
}

/// What a mark is: each has its own look, so a search hit is never taken for a code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MarkKind {
    /// A coded span: a fill of its dimension's colour.
    #[default]
    Code,
    /// A search hit: inverse video.
    Hit,
    /// The search hit Ctrl+G went to: inverse video, underlined.
    CurrentHit,
}

/// What the highlights were made from; a different key means they are made again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HighlightKey {
    /// The document's codings revision (bumped by every edit of a coding, undo and reload; not by
    /// the memo).
    pub revision: u64,
    /// The codebook's generation (bumped whenever the corpus, and so its codebook, is read).
    pub codebook_generation: u64,
}

/// The highlights of an open document.
#[derive(Debug)]
pub struct Highlights {
    /// What they were made from.
    pub key: HighlightKey,
    /// The marks of each part, in span order, shared with the frames that draw them (a page of
    /// 40,000 spans was copied every frame).
    pub marks: HashMap<PartId, Arc<PartMarks>>,
    /// Spans flagged after the transcript's text changed, waiting for a look.
    pub moved: Arc<[Span]>,
    /// Spans whose text is not at their offsets: listed, never drawn.
    pub orphans: Arc<[Span]>,
}

impl Highlights {
    /// Makes the highlights of `doc` with the colours and labels of `codebook`.
    pub fn build(doc: &Document, codebook: &Codebook, key: HighlightKey) -> Highlights {
        let orphans: Vec<Span> = doc.orphans().into_iter().cloned().collect();
        // By id, not by address: the orphans' old offsets now hold other text.
        let placed_nowhere: HashSet<&str> = orphans.iter().map(|s| s.id.as_str()).collect();
        let marks = doc
            .transcript
            .parts
            .iter()
            .map(|p| {
                (
                    p.id,
                    Arc::new(PartMarks::new(marks_of(
                        &doc.sidecar.spans,
                        codebook,
                        p.id,
                        &placed_nowhere,
                    ))),
                )
            })
            .collect();
        let moved: Vec<Span> = doc
            .sidecar
            .spans
            .iter()
            .filter(|s| s.flag.is_some())
            .cloned()
            .collect();
        Highlights {
            key,
            marks,
            moved: moved.into(),
            orphans: orphans.into(),
        }
    }
}

/// The marks of a part and an index of them by position.
#[derive(Debug, Default)]
pub struct PartMarks {
    /// The marks, in span order (the first over a stretch is drawn over the others).
    pub marks: Vec<Mark>,
    /// Mark numbers by start.
    by_start: Vec<u32>,
    /// The furthest end of the marks up to each place of `by_start`.
    reach: Vec<usize>,
}

impl PartMarks {
    /// Indexes `marks`.
    pub fn new(marks: Vec<Mark>) -> PartMarks {
        let mut by_start: Vec<u32> = (0..marks.len() as u32).collect();
        by_start.sort_by_key(|&i| marks[i as usize].range.start);
        let mut furthest = 0;
        let reach = by_start
            .iter()
            .map(|&i| {
                furthest = furthest.max(marks[i as usize].range.end);
                furthest
            })
            .collect();
        PartMarks {
            marks,
            by_start,
            reach,
        }
    }

    /// The marks that overlap `range` (start before its end, end after its start), in span
    /// order: those of one paragraph, found without looking at every mark of a long part.
    pub fn overlapping(&self, range: Range<usize>) -> Vec<&Mark> {
        let starts_before = self
            .by_start
            .partition_point(|&i| self.marks[i as usize].range.start < range.end);
        let mut found: Vec<u32> = Vec::new();
        // Back from the last mark starting before the end, while some mark at or before this
        // place reaches past the start.
        for at in (0..starts_before).rev() {
            if self.reach[at] <= range.start {
                break;
            }
            let i = self.by_start[at];
            if self.marks[i as usize].range.end > range.start {
                found.push(i);
            }
        }
        found.sort_unstable();
        found.into_iter().map(|i| &self.marks[i as usize]).collect()
    }
}

/// The marks of one part: the spans coloured by dimension, with label, value and note to hover.
pub fn marks_of(
    spans: &[Span],
    codebook: &Codebook,
    part: PartId,
    orphans: &HashSet<&str>,
) -> Vec<Mark> {
    spans
        .iter()
        .filter(|s| s.part == part && s.start < s.end && !orphans.contains(s.id.as_str()))
        .map(|s| {
            let dim = codebook.dimension(&s.dimension);
            let label = dim.map_or(s.dimension.as_str(), |d| d.label.as_str());
            let value = dim
                .and_then(|d| d.value(&s.value))
                .map_or(s.value.as_str(), |v| v.label.as_str());
            let mut tooltip = format!("{label}: {value}");
            if !s.note.is_empty() {
                tooltip.push('\n');
                tooltip.push_str(&s.note);
            }
            if s.flag.is_some() {
                tooltip.push_str(
                    "\nPlaced again after the text changed: check it (\"Looks right\" at the top of the right panel)",
                );
            }
            Mark {
                id: s.id.clone(),
                range: s.start..s.end,
                color: dim
                    .and_then(|d| parse_color(&d.color))
                    .unwrap_or(UNKNOWN_COLOR),
                tooltip,
                kind: MarkKind::Code,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sidecar::{Annotator, Sidecar, sidecar_path};
    use crate::transcript::Transcript;

    fn open_with_spans(dir: &std::path::Path) -> (Document, Codebook) {
        let page = dir.join("p.txt");
        std::fs::write(&page, "Q: Why?\n\nA: Because the Home Office said so.\n").unwrap();
        let t = Transcript::load(&page).unwrap();
        let cb = Codebook::builtin();
        let who = Annotator {
            id: "ann".into(),
            name: String::new(),
        };
        let mut s = Sidecar::new(who.clone(), &t, &cb);
        let answer = t.answer();
        let at = answer.find("Home Office").unwrap();
        let dim = cb.span_dimensions().next().unwrap().id.clone();
        let kept = Span::new(
            "ann-1".into(),
            PartId::ANSWER,
            answer,
            at,
            at + 11,
            &dim,
            "v",
        )
        .unwrap();
        let mut gone = kept.clone();
        gone.id = "ann-2".into();
        gone.quote = "Treasury".into();
        s.spans = vec![kept, gone];
        s.save(&sidecar_path(&page, "ann")).unwrap();
        (Document::open(&page, &who, &cb).unwrap(), cb)
    }

    /// The marks found by position are those a look at every mark finds, in span order: marks
    /// nested, overlapping, empty, long and short, and ranges before, between, over and after.
    #[test]
    fn marks_by_position_are_the_marks_that_overlap() {
        let mut next = crate::testing::xorshift(11u64);
        for case in 0..300 {
            let count = next(30) as usize;
            let marks: Vec<Mark> = (0..count)
                .map(|i| {
                    let start = next(100) as usize;
                    let len = if next(10) == 0 { next(80) } else { next(6) } as usize;
                    Mark {
                        id: format!("m{i}"),
                        range: start..start + len,
                        color: [0, 0, 0],
                        tooltip: String::new(),
                        kind: MarkKind::Code,
                    }
                })
                .collect();
            let indexed = PartMarks::new(marks.clone());
            for _ in 0..20 {
                let start = next(120) as usize;
                let range = start..start + next(20) as usize;
                let expected: Vec<&Mark> = marks
                    .iter()
                    .filter(|m| m.range.start < range.end && m.range.end > range.start)
                    .collect();
                assert_eq!(
                    indexed.overlapping(range.clone()),
                    expected,
                    "case {case}, {range:?}"
                );
            }
        }
        assert!(PartMarks::default().overlapping(0..10).is_empty());
    }

    #[test]
    fn orphans_are_listed_and_not_highlighted_at_their_old_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let (doc, cb) = open_with_spans(dir.path());
        let key = HighlightKey {
            revision: doc.revision(),
            codebook_generation: 1,
        };
        let h = Highlights::build(&doc, &cb, key);
        let ids: Vec<&str> = h.marks[&PartId::ANSWER]
            .marks
            .iter()
            .map(|m| m.id.as_str())
            .collect();
        assert_eq!(ids, ["ann-1"]);
        assert_eq!(h.orphans.len(), 1);
        assert_eq!(h.orphans[0].id, "ann-2");
    }

    #[test]
    fn colours_and_labels_come_from_the_codebook_given() {
        let dir = tempfile::tempdir().unwrap();
        let (doc, cb) = open_with_spans(dir.path());
        let key = HighlightKey {
            revision: doc.revision(),
            codebook_generation: 1,
        };
        let before = Highlights::build(&doc, &cb, key);
        let mut changed = cb.clone();
        let dim_id = doc.sidecar.spans[0].dimension.clone();
        let dim = changed
            .dimensions
            .iter_mut()
            .find(|d| d.id == dim_id)
            .unwrap();
        dim.color = "#102030".into();
        dim.label = "Renamed".into();
        let after = Highlights::build(&doc, &changed, key);
        let (b, a) = (
            &before.marks[&PartId::ANSWER].marks[0],
            &after.marks[&PartId::ANSWER].marks[0],
        );
        assert_ne!(b.color, a.color);
        assert_eq!(a.color, [0x10, 0x20, 0x30]);
        assert!(a.tooltip.starts_with("Renamed: "), "{}", a.tooltip);
    }

    #[test]
    fn a_dimension_the_codebook_lacks_is_grey_and_named_by_its_id() {
        let dir = tempfile::tempdir().unwrap();
        let (mut doc, cb) = open_with_spans(dir.path());
        doc.sidecar.spans[0].dimension = "not_in_codebook".into();
        let key = HighlightKey {
            revision: 0,
            codebook_generation: 0,
        };
        let h = Highlights::build(&doc, &cb, key);
        let m = &h.marks[&PartId::ANSWER].marks[0];
        assert_eq!(m.color, UNKNOWN_COLOR);
        assert!(m.tooltip.starts_with("not_in_codebook: "));
    }
}
