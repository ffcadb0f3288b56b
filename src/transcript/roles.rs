//! The user's say on who asks and who answers in a turn-based transcript (a hearing, an
//! interview, subtitles): building the exchanges again with a speaker's role swapped, and
//! carrying positions from one set of exchanges to the other.
//!
//! Swapping a role moves whole turns between questions and answers, so parts are made and
//! unmade and exchanges renumbered; a turn's words never change. A position inside a turn's
//! words is carried exactly; a stretch over several turns is carried only when the same text
//! stands between them in the new part (checked, never assumed).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use super::{PartId, PartKind, Role, SpeakerRole, Transcript};

impl Transcript {
    /// The speakers of a turn-based transcript with their roles, in order of first turn; empty
    /// for the layouts whose parts are not made of speaker turns (GLA pages, written answers,
    /// plain text).
    pub fn speaker_roles(&self) -> Vec<SpeakerRole> {
        self.layout.as_ref().map_or_else(Vec::new, |l| l.speakers())
    }

    /// The user's roles in force.
    pub fn roles(&self) -> BTreeMap<String, Role> {
        self.layout
            .as_ref()
            .map_or_else(BTreeMap::new, |l| l.overrides().clone())
    }

    /// True when the roles given are those in force (roles of speakers the transcript does not
    /// have are not counted).
    pub fn has_roles(&self, roles: &BTreeMap<String, Role>) -> bool {
        match &self.layout {
            None => true,
            Some(l) => {
                let wanted = roles.iter().filter(|(name, _)| l.has_speaker(name));
                wanted.eq(l.overrides().iter())
            }
        }
    }

    /// Builds the exchanges again with these roles (the user's; a speaker not named keeps the
    /// guessed role, a name the transcript does not have is ignored). Returns false when nothing
    /// changed. The text, its hash and length do not change: only how it is cut into parts.
    pub fn set_roles(&mut self, roles: &BTreeMap<String, Role>) -> bool {
        if self.has_roles(roles) {
            return false;
        }
        let Some(layout) = self.layout.as_mut() else {
            return false;
        };
        layout.set_overrides(roles);
        let (meta, parts) = layout.assemble();
        // Only what the exchanges give changes; the rest (a title, a ParlParse debate's date
        // and department) was read from the file.
        self.meta.question_by = meta.question_by;
        self.meta.answered_by = meta.answered_by;
        self.meta.reference = meta.reference;
        self.meta.status = meta.status;
        self.parts = parts;
        true
    }

    /// This transcript with these roles: borrowed when they are already in force.
    pub fn with_roles(&self, roles: &BTreeMap<String, Role>) -> Cow<'_, Transcript> {
        if self.has_roles(roles) {
            Cow::Borrowed(self)
        } else {
            let mut t = self.clone();
            t.set_roles(roles);
            Cow::Owned(t)
        }
    }
}

/// Where each turn's words stand in one set of exchanges.
struct Places {
    /// Per turn: part index, char offset of the words in the part, their length.
    turns: Vec<(usize, usize, usize)>,
    /// Per part index: the turns in it, in order.
    by_part: Vec<Vec<usize>>,
    /// Part index by id.
    index: HashMap<PartId, usize>,
}

impl Places {
    fn of(t: &Transcript) -> Option<Places> {
        let layout = t.layout.as_ref()?;
        let turns: Vec<(usize, usize, usize)> = layout.turn_places().collect();
        let mut by_part = vec![Vec::new(); t.parts.len()];
        for (k, &(p, _, _)) in turns.iter().enumerate() {
            by_part.get_mut(p)?.push(k);
        }
        let index = t.parts.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
        Some(Places {
            turns,
            by_part,
            index,
        })
    }
}

/// Carries positions and parts from a transcript's exchanges under one set of roles to the
/// same transcript's exchanges under another.
pub struct Relayout<'t> {
    from: &'t Transcript,
    to: &'t Transcript,
    old: Places,
    new: Places,
    /// Where every 64th char of each part starts, in `from` and in `to`.
    old_chars: Vec<CharMarks>,
    new_chars: Vec<CharMarks>,
}

/// Byte offsets of every [`CharMarks::EVERY`]th char of a text (none when every char is one
/// byte): a char position is found from the mark before it, not by walking the text from its
/// start, which made carrying a long part's spans cost its spans times its length. A sixteenth
/// of the text's size at most.
struct CharMarks {
    marks: Option<Vec<u32>>,
}

impl CharMarks {
    const EVERY: usize = 64;

    fn of(text: &str) -> CharMarks {
        if text.is_ascii() {
            return CharMarks { marks: None };
        }
        let marks = text
            .char_indices()
            .step_by(Self::EVERY)
            .map(|(b, _)| b as u32)
            .collect();
        CharMarks { marks: Some(marks) }
    }

    /// The text of chars `start..end` (`start <= end`), or `None` when it runs past the end.
    fn slice<'a>(&self, text: &'a str, start: usize, end: usize) -> Option<&'a str> {
        self.bytes(text, start, end).map(|(a, b)| &text[a..b])
    }

    /// The byte range of chars `start..end` (`start <= end`), or `None` past the end.
    fn bytes(&self, text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
        if self.marks.is_none() {
            return (end <= text.len()).then_some((start, end));
        }
        let a = self.byte(text, start)?;
        let len = end - start;
        let b = match text[a..].char_indices().nth(len) {
            Some((b, _)) => a + b,
            // Fewer than `len + 1` chars after `a`: the span ends at the text's end or past it.
            None => (text[a..].chars().count() == len).then_some(text.len())?,
        };
        Some((a, b))
    }

    fn byte(&self, text: &str, pos: usize) -> Option<usize> {
        match &self.marks {
            None => (pos <= text.len()).then_some(pos),
            Some(marks) => {
                let rest = pos % Self::EVERY;
                let from = match marks.get(pos / Self::EVERY) {
                    Some(&b) => b as usize,
                    // The end of a text whose length in chars is a multiple of the step: past
                    // the last mark, and still a position.
                    None if rest == 0 && pos / Self::EVERY == marks.len() => {
                        return Some(text.len());
                    }
                    None => return None,
                };
                match text[from..].char_indices().nth(rest) {
                    Some((b, _)) => Some(from + b),
                    None => (text[from..].chars().count() == rest).then_some(text.len()),
                }
            }
        }
    }
}

impl<'t> Relayout<'t> {
    /// `None` unless both are the same turn-based transcript (same text, same turns).
    pub fn new(from: &'t Transcript, to: &'t Transcript) -> Option<Relayout<'t>> {
        if from.hash != to.hash {
            return None;
        }
        let old = Places::of(from)?;
        let new = Places::of(to)?;
        if old.turns.len() != new.turns.len() {
            return None;
        }
        let marks = |t: &Transcript| t.parts.iter().map(|p| CharMarks::of(p.text())).collect();
        Some(Relayout {
            from,
            to,
            old,
            new,
            old_chars: marks(from),
            new_chars: marks(to),
        })
    }

    /// Where chars `start..end` of part `part` stand in the new exchanges: the same words,
    /// checked. `None` when they cannot be placed: the stretch runs over turns that the new
    /// exchanges put in different parts, or over labels and blank lines that are not there
    /// any more.
    pub fn span(&self, part: PartId, start: usize, end: usize) -> Option<(PartId, usize, usize)> {
        self.span_at(part, start, end)
            .map(|(part, start, end, _)| (part, start, end))
    }

    /// [`Relayout::span`], with the byte offset of the new start in the new part's text.
    pub fn span_at(
        &self,
        part: PartId,
        start: usize,
        end: usize,
    ) -> Option<(PartId, usize, usize, usize)> {
        if start >= end {
            return None;
        }
        let &p = self.old.index.get(&part)?;
        let quote = self.old_chars[p].slice(self.from.parts[p].text(), start, end)?;
        let (np, ns) = self.point(p, start, false)?;
        let (np2, ne) = self.point(p, end, true)?;
        if np != np2 || ns >= ne {
            return None;
        }
        let new_part = &self.to.parts[np];
        let (a, b) = self.new_chars[np].bytes(new_part.text(), ns, ne)?;
        (&new_part.text()[a..b] == quote).then_some((new_part.id, ns, ne, a))
    }

    /// A char position of old part `p` in the new exchanges, through the turn it belongs to: the
    /// turn whose words hold it or, before a turn's words (its label, the blank line before
    /// it), the turn after. An end position at the end of a turn's words stays with that turn.
    fn point(&self, p: usize, pos: usize, is_end: bool) -> Option<(usize, usize)> {
        let turns = &self.old.by_part[p];
        // A part's turns lie one after another in it: the first that reaches `pos`, found by
        // halving (a scan from the first made a part of many turns cost its turns per span).
        let first = turns.partition_point(|&k| {
            let (_, at, len) = self.old.turns[k];
            if is_end {
                at + len < pos
            } else {
                at + len <= pos
            }
        });
        let k = *turns.get(first)?;
        let (_, at, _) = self.old.turns[k];
        let (np, new_at, _) = self.new.turns[k];
        let moved = new_at as isize + pos as isize - at as isize;
        (moved >= 0).then_some((np, moved as usize))
    }

    /// The part of the new exchanges that a tag on old part `part` belongs on: the part of the
    /// same kind holding every turn of the old one (and perhaps more, when turns joined it).
    /// A part without turns (an exchange's missing answer) goes with its exchange's other part.
    /// `None` when the old part's turns are split over several parts or now make the other
    /// kind of part.
    pub fn part(&self, part: PartId) -> Option<PartId> {
        let &p = self.old.index.get(&part)?;
        let turns = &self.old.by_part[p];
        if turns.is_empty() {
            // The sibling part of the same exchange locates it.
            let sibling = PartId {
                exchange: part.exchange,
                kind: match part.kind {
                    PartKind::Question => PartKind::Answer,
                    PartKind::Answer => PartKind::Question,
                    PartKind::Text => return None,
                },
            };
            let s = self.part(sibling)?;
            let own = PartId {
                exchange: s.exchange,
                kind: part.kind,
            };
            let &np = self.new.index.get(&own)?;
            return self.new.by_part[np].is_empty().then_some(own);
        }
        let np = self.new.turns[turns[0]].0;
        if turns.iter().any(|&k| self.new.turns[k].0 != np) {
            return None;
        }
        let id = self.to.parts[np].id;
        (id.kind == part.kind).then_some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::CharMarks;

    /// Every range of chars of a text, within it and past its end, is found from the marks as
    /// walking the text finds it: ASCII, and text of one-, two-, three- and four-byte chars
    /// longer than several marks apart.
    #[test]
    fn char_ranges_from_marks_are_the_walked_ones() {
        let mixed: String = (0..300)
            .map(|i| ['a', 'é', '“', '𝄞', ' '][i % 5 * (i % 7 + 1) % 5])
            .collect();
        let whole_steps: String = mixed.chars().take(3 * CharMarks::EVERY).collect();
        for text in [
            "plain ASCII text, a little of it".repeat(9),
            mixed,
            whole_steps,
        ] {
            let marks = CharMarks::of(&text);
            let n = text.chars().count();
            assert_eq!(marks.bytes(&text, n, n), Some((text.len(), text.len())));
            let chars = text.chars().count();
            for start in 0..=chars + 2 {
                for end in start..=chars + 2 {
                    let walked = (end <= chars).then(|| {
                        text.chars()
                            .skip(start)
                            .take(end - start)
                            .collect::<String>()
                    });
                    assert_eq!(
                        marks.slice(&text, start, end).map(str::to_string),
                        walked,
                        "{start}..{end} of {chars}"
                    );
                }
            }
        }
    }
}
