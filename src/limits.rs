//! One set of size limits for everything Marginalia writes and reads: a reader refuses a file over
//! its limit, and [`crate::fsutil::atomic_write`] refuses to write one, so no command can make a
//! file that the app then will not open.

use std::path::Path;

/// Largest transcript read, in bytes (a long hearing is a few MB).
pub const TRANSCRIPT_BYTES: u64 = 64 * 1024 * 1024;

/// Largest sidecar (or other RON file: gold sets, settings) read, in bytes; a sidecar with 10,000
/// spans is about 1.3 MB.
pub const SIDECAR_BYTES: u64 = 32 * 1024 * 1024;

/// Largest codebook read, in bytes; the default codebook is 9 kB.
pub const CODEBOOK_BYTES: u64 = 4 * 1024 * 1024;

/// The limit Marginalia reads a file of this name with; `None` for files it never reads back
/// (exports).
pub fn read_limit_for(path: &Path) -> Option<u64> {
    let name = path.file_name()?.to_str()?;
    if name == crate::names::CODEBOOK_FILE_NAME {
        return Some(CODEBOOK_BYTES);
    }
    let extension = name.rsplit_once('.')?.1.to_ascii_lowercase();
    if extension == "ron" {
        Some(SIDECAR_BYTES)
    } else if crate::names::TRANSCRIPT_EXTENSIONS.contains(&extension.as_str())
        || extension == "xml"
    {
        Some(TRANSCRIPT_BYTES)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_by_name() {
        assert_eq!(
            read_limit_for(Path::new("x/codebook.ron")),
            Some(CODEBOOK_BYTES)
        );
        assert_eq!(
            read_limit_for(Path::new("p.txt.alice.ron")),
            Some(SIDECAR_BYTES)
        );
        assert_eq!(read_limit_for(Path::new("p.TXT")), Some(TRANSCRIPT_BYTES));
        assert_eq!(
            read_limit_for(Path::new("debates.xml")),
            Some(TRANSCRIPT_BYTES)
        );
        assert_eq!(read_limit_for(Path::new("out.csv")), None);
        assert_eq!(read_limit_for(Path::new("noextension")), None);
    }
}
