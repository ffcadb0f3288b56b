#![no_main]
//! The transcript reader on arbitrary bytes: decoding, normalizing, every layout, ParlParse XML.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = marginalia::transcript::Transcript::from_bytes("fuzz.txt", data) {
        for p in &t.parts {
            assert!(!p.text().contains('\r'));
        }
    }
    // Every container: web page, subtitles, Word, OpenDocument.
    for name in ["fuzz.html", "fuzz.vtt", "fuzz.srt", "fuzz.docx", "fuzz.odt"] {
        if let Ok(t) = marginalia::transcript::Transcript::from_file_bytes(name, data.to_vec()) {
            for p in &t.parts {
                assert!(!p.text().contains('\r'));
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = marginalia::transcript::parlparse::parse(text);
    }
});
