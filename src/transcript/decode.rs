//! Turning a transcript's bytes into text: BOMs, UTF-16 without BOM, legacy single-byte
//! encodings, binary files refused.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

/// Text decoded from a file, with the encoding it was found to be in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The decoded text, line endings untouched.
    pub text: String,
    /// Name of the encoding, e.g. `UTF-8`, `UTF-16LE`, `windows-1252`.
    pub encoding: String,
    /// Problems met while decoding (malformed bytes replaced by U+FFFD).
    pub warnings: Vec<String>,
}

/// Why bytes could not be read as text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes look like a binary file (an image, an archive, ...), not text.
    #[error("not a text file ({0})")]
    Binary(&'static str),
}

/// Decodes a file's bytes, taking ownership so that UTF-8 text (the usual case) is not copied.
pub fn decode_owned(bytes: Vec<u8>) -> Result<Decoded, DecodeError> {
    if !bytes.starts_with(&[0xEF, 0xBB, 0xBF])
        && utf32_bom(&bytes).is_none()
        && Encoding::for_bom(&bytes).is_none()
        && sniff_utf16(&bytes).is_none()
    {
        refuse_binary(&bytes)?;
        match String::from_utf8(bytes) {
            Ok(text) => {
                return Ok(Decoded {
                    text,
                    encoding: UTF_8.name().to_string(),
                    warnings: Vec::new(),
                });
            }
            Err(e) => return decode(&e.into_bytes()),
        }
    }
    decode(&bytes)
}

/// Decodes a transcript file's bytes, detecting the encoding. What was guessed is said: the
/// encoding's name carries "(guessed, likely)" or "(guessed, uncertain)", and an uncertain guess
/// is also a warning.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    // Before the UTF-16 BOM, which is the first two bytes of the UTF-32LE one.
    if let Some(big_endian) = utf32_bom(bytes) {
        return Ok(decode_utf32(&bytes[4..], big_endian));
    }
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        return Ok(decode_with(encoding, &bytes[bom_len..], ""));
    }
    if let Some(encoding) = sniff_utf16(bytes) {
        return Ok(decode_with(encoding, bytes, " (no BOM)"));
    }
    refuse_binary(bytes)?;
    if std::str::from_utf8(bytes).is_ok() {
        return Ok(decode_with(UTF_8, bytes, ""));
    }
    if has_utf8_letters(bytes) {
        // Some lines are UTF-8 and others not: a file pasted together from two sources, or
        // edited in two programs. Each line is read in the encoding it is in.
        return Ok(decode_lines(bytes));
    }
    Ok(decode_legacy(bytes))
}

/// Bytes with no UTF-8 in them: Windows-1252 when every non-ASCII byte is one English text uses,
/// else the encoding whose letter frequencies fit best.
fn decode_legacy(bytes: &[u8]) -> Decoded {
    if plain_western(bytes) {
        return decode_with(encoding_rs::WINDOWS_1252, bytes, " (guessed, likely)");
    }
    let encoding = guess_legacy(bytes);
    let mut decoded = decode_with(encoding, bytes, " (guessed, uncertain)");
    decoded.warnings.push(format!(
        "the encoding was guessed from letter frequencies as {}: not certain, check accented letters",
        encoding.name()
    ));
    decoded
}

fn guess_legacy(bytes: &[u8]) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    // English text in Windows-1252 took the fast path; what is left is detected from its letters
    // alone, so Central European and Cyrillic text is told apart.
    detector.guess(None, chardetng::Utf8Detection::Deny)
}

/// Decodes line by line: a line that is UTF-8 (or UTF-8 with a broken sequence among good ones)
/// as UTF-8, any other line in the legacy encoding that the non-UTF-8 lines together suggest.
fn decode_lines(bytes: &[u8]) -> Decoded {
    let lines: Vec<&[u8]> = bytes.split_inclusive(|&b| b == b'\n').collect();
    let is_legacy = |line: &[u8]| std::str::from_utf8(line).is_err() && !has_utf8_letters(line);
    let legacy_bytes: Vec<u8> = lines
        .iter()
        .filter(|l| is_legacy(l))
        .flat_map(|l| l.iter().copied())
        .collect();
    let legacy = if legacy_bytes.is_empty() || plain_western(&legacy_bytes) {
        encoding_rs::WINDOWS_1252
    } else {
        guess_legacy(&legacy_bytes)
    };
    let mut text = String::with_capacity(bytes.len());
    let (mut legacy_lines, mut replaced) = (0usize, 0usize);
    for line in lines {
        if is_legacy(line) {
            legacy_lines += 1;
            text.push_str(&legacy.decode_without_bom_handling(line).0);
        } else {
            let (decoded, had_errors) = UTF_8.decode_without_bom_handling(line);
            if had_errors {
                replaced += decoded.chars().filter(|&c| c == '\u{FFFD}').count();
            }
            text.push_str(&decoded);
        }
    }
    let mut warnings = Vec::new();
    let encoding = if legacy_lines > 0 {
        warnings.push(format!(
            "mixed encodings: {legacy_lines} line(s) are not UTF-8 and were read as {}",
            legacy.name()
        ));
        format!("UTF-8 and {} (line by line)", legacy.name())
    } else {
        UTF_8.name().to_string()
    };
    if replaced > 0 {
        warnings.push(format!(
            "{replaced} malformed byte sequence(s) in UTF-8 replaced by U+FFFD"
        ));
    }
    Decoded {
        text,
        encoding,
        warnings,
    }
}

/// `Some(true)` for a UTF-32BE byte order mark, `Some(false)` for UTF-32LE.
fn utf32_bom(bytes: &[u8]) -> Option<bool> {
    match bytes.get(..4)? {
        [0xFF, 0xFE, 0, 0] => Some(false),
        [0, 0, 0xFE, 0xFF] => Some(true),
        _ => None,
    }
}

/// UTF-32, which `encoding_rs` does not know: four bytes a char; invalid code points and a
/// trailing partial unit become U+FFFD, with a warning.
fn decode_utf32(bytes: &[u8], big_endian: bool) -> Decoded {
    let mut text = String::with_capacity(bytes.len() / 4);
    let mut bad = 0usize;
    let mut units = bytes.chunks_exact(4);
    for unit in &mut units {
        let raw = [unit[0], unit[1], unit[2], unit[3]];
        let code = if big_endian {
            u32::from_be_bytes(raw)
        } else {
            u32::from_le_bytes(raw)
        };
        match char::from_u32(code) {
            Some(c) => text.push(c),
            None => {
                bad += 1;
                text.push('\u{FFFD}');
            }
        }
    }
    if !units.remainder().is_empty() {
        bad += 1;
        text.push('\u{FFFD}');
    }
    let name = if big_endian { "UTF-32BE" } else { "UTF-32LE" };
    let warnings = if bad > 0 {
        vec![format!(
            "{bad} malformed byte sequence(s) in {name} replaced by U+FFFD"
        )]
    } else {
        Vec::new()
    };
    Decoded {
        text,
        encoding: name.to_string(),
        warnings,
    }
}

fn decode_with(encoding: &'static Encoding, bytes: &[u8], note: &str) -> Decoded {
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    let mut warnings = Vec::new();
    if had_errors {
        let count = text.chars().filter(|&c| c == '\u{FFFD}').count();
        warnings.push(format!(
            "{count} malformed byte sequence(s) in {} replaced by U+FFFD",
            encoding.name()
        ));
    }
    Decoded {
        text: text.into_owned(),
        encoding: format!("{}{note}", encoding.name()),
        warnings,
    }
}

/// UTF-16 without a BOM shows as a NUL byte in every other position for Latin text.
fn sniff_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    // Latin text in UTF-16 is full of NUL bytes; without any, it is not UTF-16 we can recognise.
    if sample.len() < 4 || memchr::memchr(0, sample).is_none() {
        return None;
    }
    let pairs = sample.len() / 2;
    let even_nul = sample.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd_nul = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|&&b| b == 0)
        .count();
    // Mostly-NUL in one lane and few in the other; a binary file has NULs in both. A lone
    // surrogate or a U+xx00 char puts a NUL in the other lane: one in ten is allowed.
    if odd_nul * 10 >= pairs * 6 && even_nul * 10 <= odd_nul {
        Some(UTF_16LE)
    } else if even_nul * 10 >= pairs * 6 && odd_nul * 10 <= even_nul {
        Some(UTF_16BE)
    } else {
        None
    }
}

fn refuse_binary(bytes: &[u8]) -> Result<(), DecodeError> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"\x89PNG", "PNG image"),
        (b"%PDF", "PDF document"),
        (b"PK\x03\x04", "zip archive or office document"),
        (b"\xFF\xD8\xFF", "JPEG image"),
        (b"GIF8", "GIF image"),
        (b"\x7FELF", "executable"),
        (b"\x1F\x8B", "gzip archive"),
    ];
    for (magic, what) in SIGNATURES {
        if bytes.starts_with(magic) {
            return Err(DecodeError::Binary(what));
        }
    }
    let sample = &bytes[..bytes.len().min(8192)];
    if memchr::memchr(0, sample).is_some() {
        return Err(DecodeError::Binary("contains NUL bytes"));
    }
    // Counted without a branch per byte, so that it vectorizes: every file of a corpus is looked at.
    let control: usize = sample
        .iter()
        .map(|&b| usize::from(b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r' && b != 0x0C))
        .sum();
    if !sample.is_empty() && control * 10 > sample.len() {
        return Err(DecodeError::Binary("mostly control bytes"));
    }
    Ok(())
}

/// True when every non-ASCII byte is one that English text in Windows-1252 uses (curly quotes,
/// dashes, ellipsis, non-breaking space, £, é): such files need no statistical detection, which
/// costs far more than the rest of reading them.
fn plain_western(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .filter(|b| !b.is_ascii())
        .all(|b| matches!(b, 0x85 | 0x91..=0x97 | 0xA0 | 0xA3 | 0xE9))
}

/// True when the bytes hold at least one well-formed multi-byte UTF-8 character: such text is
/// (at least partly) UTF-8, as legacy encodings seldom form valid sequences by chance.
fn has_utf8_letters(bytes: &[u8]) -> bool {
    bytes.utf8_chunks().any(|chunk| !chunk.valid().is_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_plain_and_bom() {
        let d = decode("£5 “quoted”".as_bytes()).unwrap();
        assert_eq!(d.encoding, "UTF-8");
        assert_eq!(d.text, "£5 “quoted”");
        let mut with_bom = vec![0xEF, 0xBB, 0xBF];
        with_bom.extend_from_slice("café".as_bytes());
        let d = decode(&with_bom).unwrap();
        assert_eq!(d.text, "café");
        assert_eq!(d.encoding, "UTF-8");
    }

    fn utf16(s: &str, le: bool) -> Vec<u8> {
        s.encode_utf16()
            .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
            .collect()
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let text = "Question By: Zoë Ålund\r\nAnswer £20";
        let mut le = vec![0xFF, 0xFE];
        le.extend(utf16(text, true));
        let d = decode(&le).unwrap();
        assert_eq!((d.text.as_str(), d.encoding.as_str()), (text, "UTF-16LE"));
        let mut be = vec![0xFE, 0xFF];
        be.extend(utf16(text, false));
        let d = decode(&be).unwrap();
        assert_eq!((d.text.as_str(), d.encoding.as_str()), (text, "UTF-16BE"));
        let d = decode(&utf16(text, true)).unwrap();
        assert_eq!(d.text, text);
        assert_eq!(d.encoding, "UTF-16LE (no BOM)");
        let d = decode(&utf16(text, false)).unwrap();
        assert_eq!(d.encoding, "UTF-16BE (no BOM)");
    }

    #[test]
    fn windows_1252() {
        // "The Mayor’s £1bn café plan – “quoted”" in Windows-1252.
        let bytes = b"The Mayor\x92s \xA31bn caf\xE9 plan \x96 \x93quoted\x94 and more text to help the detector.";
        let d = decode(bytes).unwrap();
        assert_eq!(d.encoding, "windows-1252 (guessed, likely)");
        assert!(
            d.text.starts_with("The Mayor’s £1bn café plan – “quoted”"),
            "{}",
            d.text
        );
        assert!(d.warnings.is_empty());
    }

    #[test]
    fn other_legacy_encodings_still_go_through_detection() {
        // Polish in windows-1250: "Zażółć gęślą jaźń" repeated, with letters outside the fast path.
        let text = "Zażółć gęślą jaźń. Pan Wałęsa powiedział, że ścieżka jest długa. ".repeat(4);
        let (bytes, _, _) = encoding_rs::WINDOWS_1250.encode(&text);
        let d = decode(&bytes).unwrap();
        assert_eq!(d.encoding, "windows-1250 (guessed, uncertain)");
        assert!(d.text.starts_with("Zażółć gęślą jaźń"));
        assert!(d.warnings[0].contains("guessed"), "{:?}", d.warnings);
    }

    #[test]
    fn malformed_utf8_is_replaced_with_warning() {
        let mut bytes = "Zoë said “yes” to £5 and ".as_bytes().to_vec();
        bytes.push(0xC3); // truncated sequence
        bytes.extend_from_slice(b" more");
        let d = decode(&bytes).unwrap();
        assert_eq!(d.encoding, "UTF-8");
        assert!(d.text.contains('\u{FFFD}'));
        assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
    }

    /// Invalid UTF-8 with no UTF-8 in it was read as windows-1251 without a word.
    #[test]
    fn a_statistical_guess_is_said() {
        let d = decode(b"\xC0\xE1\xE2 \xD0\xF1\xF2 \xCA\xEB\xEC \xC4\xE5").unwrap();
        assert!(
            d.encoding.ends_with("(guessed, uncertain)"),
            "{}",
            d.encoding
        );
        assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
    }

    /// A file pasted together from a UTF-8 source and a Windows-1252 one became mojibake.
    #[test]
    fn mixed_utf8_and_windows_1252_lines_are_read_line_by_line() {
        let mut bytes = "Question: “Will the Mayor act?” said Zoë\n"
            .as_bytes()
            .to_vec();
        bytes.extend_from_slice(b"Answer: The Mayor\x92s plan costs \xA35m \x96 caf\xE9s too.\n");
        bytes.extend_from_slice("Tail: naïve “quotes” again\n".as_bytes());
        let d = decode(&bytes).unwrap();
        assert_eq!(
            d.text,
            "Question: “Will the Mayor act?” said Zoë\nAnswer: The Mayor’s plan costs £5m – cafés too.\nTail: naïve “quotes” again\n"
        );
        assert_eq!(d.encoding, "UTF-8 and windows-1252 (line by line)");
        assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
        assert!(d.warnings[0].contains("1 line(s)"), "{:?}", d.warnings);
    }

    /// A short UTF-16 text without BOM holding a lone surrogate was refused as "contains NUL bytes".
    #[test]
    fn utf16_without_bom_with_a_lone_surrogate() {
        let mut units: Vec<u16> = "Question: yes".encode_utf16().collect();
        units.push(0xD800);
        units.extend("no".encode_utf16());
        let bytes: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
        let d = decode(&bytes).unwrap();
        assert_eq!(d.encoding, "UTF-16LE (no BOM)");
        assert_eq!(d.text, "Question: yes\u{FFFD}no");
        assert_eq!(d.warnings.len(), 1);
    }

    /// UTF-32 with a BOM was read as UTF-16LE.
    #[test]
    fn utf32_with_bom() {
        let text = "Zoë: “£5” 🚌";
        let mut le = vec![0xFF, 0xFE, 0, 0];
        le.extend(text.chars().flat_map(|c| (c as u32).to_le_bytes()));
        let d = decode(&le).unwrap();
        assert_eq!((d.text.as_str(), d.encoding.as_str()), (text, "UTF-32LE"));
        let mut be = vec![0, 0, 0xFE, 0xFF];
        be.extend(text.chars().flat_map(|c| (c as u32).to_be_bytes()));
        let d = decode(&be).unwrap();
        assert_eq!((d.text.as_str(), d.encoding.as_str()), (text, "UTF-32BE"));
        assert!(d.warnings.is_empty());
        let mut broken = le.clone();
        broken.extend([0xFF, 0xFF, 0xFF, 0x7F, 0x41]);
        assert_eq!(decode(&broken).unwrap().warnings.len(), 1);
    }

    #[test]
    fn binary_is_refused() {
        assert_eq!(
            decode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap_err(),
            DecodeError::Binary("PNG image")
        );
        assert!(decode(b"abc\0\x01\x02\x03\0\0\xff\xfe\x00\x10").is_err());
        assert!(decode(&[1u8, 2, 3, 4, 5, 6, 7, 8, 65, 66]).is_err());
    }

    #[test]
    fn owned_and_borrowed_decoding_agree() {
        let samples: Vec<Vec<u8>> = vec![
            "£5 “quoted”".as_bytes().to_vec(),
            b"\xEF\xBB\xBFcaf\xC3\xA9".to_vec(),
            b"The Mayor\x92s \xA31bn caf\xE9 plan and more text to help the detector.".to_vec(),
            b"abc\0\x01".to_vec(),
            Vec::new(),
        ];
        for b in samples {
            assert_eq!(decode_owned(b.clone()), decode(&b));
        }
    }

    #[test]
    fn empty_is_text() {
        assert_eq!(decode(b"").unwrap().text, "");
    }
}
