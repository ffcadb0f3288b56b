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

/// Decodes a transcript file's bytes, detecting the encoding.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
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
    if mostly_utf8(bytes) {
        return Ok(decode_with(UTF_8, bytes, ""));
    }
    if plain_western(bytes) {
        return Ok(decode_with(encoding_rs::WINDOWS_1252, bytes, ""));
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    // English text in Windows-1252 took the fast path above; what is left is detected from its
    // letters alone, so Central European and Cyrillic text is told apart.
    let encoding = detector.guess(None, chardetng::Utf8Detection::Deny);
    Ok(decode_with(encoding, bytes, ""))
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
    // Mostly-NUL in one lane and nearly none in the other; a binary file has NULs in both.
    if odd_nul * 10 >= pairs * 6 && even_nul * 20 <= pairs {
        Some(UTF_16LE)
    } else if even_nul * 10 >= pairs * 6 && odd_nul * 20 <= pairs {
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
    let control = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
        .count();
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

/// True when the bytes are UTF-8 text with a few broken sequences rather than a legacy encoding:
/// more well-formed multi-byte characters than malformed sequences.
fn mostly_utf8(bytes: &[u8]) -> bool {
    let mut multibyte = 0usize;
    let mut invalid = 0usize;
    for chunk in bytes.utf8_chunks() {
        multibyte += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        if !chunk.invalid().is_empty() {
            invalid += 1;
        }
    }
    multibyte > invalid
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
        assert_eq!(d.encoding, "windows-1252");
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
        assert_eq!(d.encoding, "windows-1250");
        assert!(d.text.starts_with("Zażółć gęślą jaźń"));
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
