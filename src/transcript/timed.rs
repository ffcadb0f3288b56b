//! Timed transcripts: WebVTT subtitles (Zoom's `Name: text` cues, Teams' `<v Name>text</v>`),
//! SubRip (`.srt`) and Otter-style text exports (`Speaker 1  0:03` on its own line, then the
//! text). Consecutive cues of one speaker form one turn; each part keeps its start and end.

use std::borrow::Cow;
use std::collections::HashMap;

use super::turns::{self, Turn};
use super::{Format, Metadata, Part, PartId};

/// One subtitle cue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Cue {
    pub start_ms: u64,
    pub end_ms: u64,
    /// From a `<v Name>` voice tag.
    pub voice: Option<String>,
    /// The cue's text on one line, tags removed.
    pub text: String,
}

/// What a timed file was read as.
pub(super) struct Timed {
    pub format: Format,
    pub meta: Metadata,
    pub parts: Vec<Part>,
    pub warnings: Vec<String>,
    /// The turns, when the file names its speakers.
    pub layout: Option<turns::TurnLayout>,
}

/// `01:02:03.456`, `02:03.456`, `01:02:03,456` (SubRip) -> milliseconds.
pub(super) fn timestamp_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    let (clock, frac) = match s.rfind(['.', ',']) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    };
    let fields: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&fields.len()) || fields.iter().any(|f| f.is_empty() || f.len() > 4) {
        return None;
    }
    let mut total: u64 = 0;
    for f in &fields {
        if !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        total = total * 60 + f.parse::<u64>().ok()?;
    }
    let ms = if frac.is_empty() {
        0
    } else {
        if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        frac.parse::<u64>().ok()? * 10u64.pow(3 - frac.len() as u32)
    };
    Some(total * 1000 + ms)
}

/// `00:00:01.000 --> 00:00:04.000 align:start` -> (start, end).
fn timing_line(line: &str) -> Option<(u64, u64)> {
    let (a, b) = line.split_once("-->")?;
    let end = b.split_whitespace().next()?;
    Some((timestamp_ms(a)?, timestamp_ms(end)?))
}

/// Removes cue markup (`<v Name>`, `<c.x>`, `<i>`, inline timestamps) and reads the few entities
/// WebVTT has; returns the voice of the first `<v>` tag.
fn clean_cue(text: &str) -> (Option<String>, String) {
    let mut voice = None;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let tag = &after[..close];
        if voice.is_none()
            && let Some(v) = tag.strip_prefix('v')
            && (v.starts_with(' ') || v.starts_with('.'))
        {
            // `<v.loud Jane Smith>`: classes, then the name.
            let name = v.split_once(' ').map_or("", |x| x.1).trim();
            if !name.is_empty() {
                voice = Some(name.to_string());
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&lrm;", "")
        .replace("&rlm;", "")
        .replace("&amp;", "&");
    (voice, out.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Why a WebVTT or SubRip file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubtitleError {
    /// A `.vtt` without its header.
    #[error("not WebVTT: the file does not start with WEBVTT")]
    NotWebVtt,
    /// No timing line at all; `separator` is the format's decimal mark, shown in the example.
    #[error("no cues found (no `00:00:01{separator}000 --> 00:00:04{separator}000` timing lines)")]
    NoCues {
        /// `.` for WebVTT, `,` for SubRip.
        separator: char,
    },
}

/// Reads the cues of a WebVTT or SubRip file (already normalized: LF, no trailing spaces).
pub(super) fn cues(text: &str, vtt: bool) -> Result<Vec<Cue>, SubtitleError> {
    let mut blocks = text.split("\n\n");
    if vtt {
        let header = blocks.next().unwrap_or("");
        if !header.trim_start_matches('\u{feff}').starts_with("WEBVTT") {
            return Err(SubtitleError::NotWebVtt);
        }
    }
    let mut out = Vec::new();
    for block in blocks {
        let mut lines = block.lines();
        let Some(mut line) = lines.next() else {
            continue;
        };
        if vtt && (line.starts_with("NOTE") || line == "STYLE" || line == "REGION") {
            continue;
        }
        if !line.contains("-->") {
            // A cue identifier (SubRip's number, Teams' GUID) precedes the timing.
            match lines.next() {
                Some(l) => line = l,
                None => continue,
            }
        }
        let Some((start_ms, end_ms)) = timing_line(line) else {
            continue;
        };
        let body: Vec<&str> = lines.collect();
        let (voice, text) = clean_cue(&body.join("\n"));
        if text.is_empty() {
            continue;
        }
        out.push(Cue {
            start_ms,
            end_ms: end_ms.max(start_ms),
            voice,
            text,
        });
    }
    if out.is_empty() {
        return Err(SubtitleError::NoCues {
            separator: if vtt { '.' } else { ',' },
        });
    }
    Ok(out)
}

/// Zoom writes the speaker into the cue: `Jane Smith: text`.
fn inline_speaker(text: &str) -> Option<(&str, &str)> {
    let colon = text.find(": ")?;
    if colon == 0 || colon > 60 {
        return None;
    }
    let name = &text[..colon];
    let words = name.split_whitespace().count();
    let plain = !name.contains(['.', '?', '!', ',', ';', '"', '“']);
    (words <= 6 && plain).then(|| (name, text[colon + 2..].trim()))
}

fn gap_breaks(previous_end: u64, start: u64) -> bool {
    start.saturating_sub(previous_end) >= 2000
}

/// Reads a subtitle file into turns and exchanges (or one timed text part when no cue names a
/// speaker).
pub(super) fn from_subtitles(text: &str, vtt: bool) -> Result<Timed, SubtitleError> {
    let cues = cues(text, vtt)?;
    // A name before a colon is a speaker when it recurs: a single "So the point is: yes" is not.
    let mut inline_uses: HashMap<&str, usize> = HashMap::new();
    for c in &cues {
        if c.voice.is_none()
            && let Some((name, _)) = inline_speaker(&c.text)
        {
            *inline_uses.entry(name).or_default() += 1;
        }
    }
    let mut turns: Vec<Turn> = Vec::new();
    let mut speakerless = 0usize;
    for c in &cues {
        let (speaker, body): (Option<&str>, &str) = match &c.voice {
            Some(v) => (Some(v.as_str()), c.text.as_str()),
            None => match inline_speaker(&c.text) {
                Some((name, rest)) if inline_uses[name] >= 2 => (Some(name), rest),
                _ => (None, c.text.as_str()),
            },
        };
        let continues = match (turns.last(), speaker) {
            (Some(t), Some(s)) => t.speaker == s,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if speaker.is_none() {
            speakerless += 1;
        }
        if continues {
            let t = turns.last_mut().expect("checked above");
            if let Some(last) = t.lines.last_mut() {
                let mut joined = last.to_string();
                if !joined.is_empty() && !body.is_empty() {
                    joined.push(' ');
                }
                joined.push_str(body);
                *last = Cow::Owned(joined);
            } else {
                t.lines.push(Cow::Owned(body.to_string()));
            }
            t.end_ms = Some(c.end_ms);
        } else {
            turns.push(Turn {
                speaker: Cow::Owned(speaker.unwrap_or("").to_string()),
                qnum: None,
                lines: vec![Cow::Owned(body.to_string())],
                start_ms: Some(c.start_ms),
                end_ms: Some(c.end_ms),
            });
        }
    }
    let mut warnings = Vec::new();
    let named = turns.iter().filter(|t| !t.speaker.is_empty()).count();
    if named > 0 && turns.iter().all(|t| !t.speaker.is_empty()) {
        // Cues before the first name are kept with the first speaker's turn above; names make turns.
        if let Some(t) = turns::build(&[], turns, "") {
            if speakerless > 0 {
                warnings.push(format!(
                    "{speakerless} cue(s) name no speaker: read as the previous speaker's words"
                ));
            }
            return Ok(Timed {
                format: Format::SpeakerTurns,
                meta: t.meta,
                parts: t.parts,
                warnings,
                layout: Some(t.layout),
            });
        }
    }
    // No speakers: one text part, a paragraph per pause of two seconds or more.
    let mut paragraphs: Vec<String> = Vec::new();
    let mut previous_end = None;
    for c in &cues {
        match (paragraphs.last_mut(), previous_end) {
            (Some(p), Some(end)) if !gap_breaks(end, c.start_ms) => {
                p.push(' ');
                p.push_str(&c.text);
            }
            _ => paragraphs.push(c.text.clone()),
        }
        previous_end = Some(c.end_ms);
    }
    warnings.push("no cue names a speaker: opened as timed text, one part".to_string());
    let mut part = Part::new(PartId::TEXT, None, paragraphs.join("\n\n"));
    part.start_ms = cues.first().map(|c| c.start_ms);
    part.end_ms = cues.iter().map(|c| c.end_ms).max();
    Ok(Timed {
        format: Format::Plain,
        meta: Metadata::default(),
        parts: vec![part],
        warnings,
        layout: None,
    })
}

/// `Speaker 1  0:03` (two spaces, then `m:ss` or `h:mm:ss`) -> (speaker, start).
fn otter_header(line: &str) -> Option<(&str, u64)> {
    // Most lines end in a word or a full stop: ruled out before searching them.
    if !line.as_bytes().last().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let (name, time) = line.rsplit_once("  ")?;
    let name = name.trim();
    if name.is_empty() || name.len() > 60 || name.contains(':') {
        return None;
    }
    let time = time.trim();
    if !time.contains(':') || time.contains(['.', ',']) {
        return None;
    }
    Some((name, timestamp_ms(time)?))
}

/// Recognises an Otter-style text export; `None` when the lines are not one.
pub(super) fn otter(lines: &[&str]) -> Option<Timed> {
    let headers = lines
        .iter()
        .enumerate()
        .filter(|(i, l)| (*i == 0 || lines[i - 1].is_empty()) && otter_header(l).is_some())
        .count();
    if headers < 2 {
        return None;
    }
    let mut preamble: Vec<&str> = Vec::new();
    let mut turns: Vec<Turn> = Vec::new();
    for (i, &line) in lines.iter().enumerate() {
        let header = (i == 0 || lines[i - 1].is_empty())
            .then(|| otter_header(line))
            .flatten();
        if let Some((name, start)) = header {
            if let Some(prev) = turns.last_mut() {
                prev.end_ms = Some(start.max(prev.start_ms.unwrap_or(0)));
            }
            turns.push(Turn {
                speaker: Cow::Borrowed(name),
                qnum: None,
                lines: Vec::new(),
                start_ms: Some(start),
                end_ms: None,
            });
        } else if let Some(t) = turns.last_mut() {
            t.lines.push(Cow::Borrowed(line));
        } else {
            preamble.push(line);
        }
    }
    // Consecutive turns of one speaker (Otter splits long turns) become one.
    let mut merged: Vec<Turn> = Vec::new();
    for t in turns {
        match merged.last_mut() {
            Some(m) if m.speaker == t.speaker => {
                m.lines.push(Cow::Borrowed(""));
                m.lines.extend(t.lines);
                m.end_ms = t.end_ms;
            }
            _ => merged.push(t),
        }
    }
    let t = turns::build(&preamble, merged, "")?;
    Some(Timed {
        format: Format::SpeakerTurns,
        meta: t.meta,
        parts: t.parts,
        warnings: Vec::new(),
        layout: Some(t.layout),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(timestamp_ms("00:00:01.500"), Some(1500));
        assert_eq!(timestamp_ms("01:02:03,004"), Some(3_723_004));
        assert_eq!(timestamp_ms("02:03.4"), Some(123_400));
        assert_eq!(timestamp_ms("0:03"), Some(3000));
        assert_eq!(timestamp_ms("1:02:03"), Some(3_723_000));
        assert_eq!(timestamp_ms("soon"), None);
        assert_eq!(timestamp_ms("1:2:3:4"), None);
    }

    #[test]
    fn cue_markup() {
        let (v, t) = clean_cue("<v.loud Jane Smith>Hello &amp; <i>welcome</i></v>");
        assert_eq!(v.as_deref(), Some("Jane Smith"));
        assert_eq!(t, "Hello & welcome");
    }
}
