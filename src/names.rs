//! The file names and extensions Marginalia recognises in a corpus folder. They sit at the bottom
//! of the module graph, below [`crate::limits`] and [`crate::fsutil`], because the size limit a file
//! is read and written with depends on its name; [`crate::codebook`] and [`crate::transcript`]
//! re-export them where they are looked for.

/// File name of a folder's own codebook.
pub const CODEBOOK_FILE_NAME: &str = "codebook.ron";

/// File name extensions read as transcripts when a folder is opened (and `.xml` ParlParse files,
/// whose items are transcripts).
pub const TRANSCRIPT_EXTENSIONS: &[&str] =
    &["txt", "text", "html", "htm", "docx", "odt", "vtt", "srt"];
