#![no_main]
//! The codebook loader and the REFI-QDA codebook importer on arbitrary text.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = marginalia::codebook::Codebook::parse(text, std::path::Path::new("codebook.ron"));
        let _ = marginalia::interop::import_qdc(text, "fuzz");
    }
});
