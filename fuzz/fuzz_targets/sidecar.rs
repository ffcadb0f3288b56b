#![no_main]
//! The sidecar loader on arbitrary bytes, and checking what it accepts against a transcript.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = marginalia::sidecar::Sidecar::parse(data, std::path::Path::new("fuzz.alice.ron")) {
        let t = marginalia::transcript::Transcript::from_text("fuzz.txt", "Q\n\nQuestion By:\nA\nAsked Of:\nB\n\nWhy?\n\nAnswer for Q\n\nAnswered By:\nB\n\nBecause.", "UTF-8".into(), Vec::new());
        let _ = s.check(&t, &marginalia::codebook::Codebook::builtin());
        for span in &s.spans {
            let _ = marginalia::anchor::anchor(span, t.answer());
        }
        let _ = s.to_ron();
    }
});
