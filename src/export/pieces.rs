//! One zip entry deflated in pieces on every core, as `pigz` does: each piece is raw deflate ended
//! by a sync flush (so it ends on a byte boundary and the next piece's blocks can follow it), only
//! the last one final; the CRC-32 of the whole is combined from the pieces'. The `project.qde` of
//! a `.qdpx` (53 MB for 10,000 pages) was deflated on one thread, after every document was read;
//! its pieces are now deflated by the cores that render them, and only copied at the end.
//!
//! The pieces start fresh (no dictionary carried from the one before), so the entry is a little
//! larger than one stream would be; what it inflates to is the same bytes.

use std::io::{self, Seek, SeekFrom, Write};

use flate2::{Compress, Compression, FlushCompress, Status};

/// A piece of an entry, deflated.
#[derive(Debug)]
pub(crate) struct Piece {
    /// Raw deflate data: ends with a sync flush, or with the final block for the last piece.
    pub bytes: Vec<u8>,
    /// CRC-32 of the data before deflating.
    pub crc: crc32fast::Hasher,
    /// Length of the data before deflating.
    pub len: u64,
}

/// Deflates `data` at `level` as a piece of an entry; `last` ends the entry's stream.
pub(crate) fn deflate_piece(data: &[u8], level: u32, last: bool) -> io::Result<Piece> {
    let mut c = Compress::new(Compression::new(level), false);
    let mut bytes = Vec::with_capacity(data.len() / 4 + 64);
    // The input first without flushing, then the flush alone: handed the whole input with the
    // flush, zlib-rs's fastest level compressed this XML to 79% instead of 88%.
    while c.total_in() < data.len() as u64 {
        if bytes.capacity() - bytes.len() < 64 {
            bytes.reserve(bytes.capacity().max(1024));
        }
        let consumed = usize::try_from(c.total_in()).map_err(io::Error::other)?;
        c.compress_vec(&data[consumed..], &mut bytes, FlushCompress::None)
            .map_err(io::Error::other)?;
    }
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    loop {
        if bytes.capacity() - bytes.len() < 64 {
            bytes.reserve(bytes.capacity().max(1024));
        }
        let status = c
            .compress_vec(&[], &mut bytes, flush)
            .map_err(io::Error::other)?;
        // A flush is complete when output room is left over (zlib's rule); the last piece when
        // the stream has ended.
        let done = if last {
            status == Status::StreamEnd
        } else {
            bytes.len() < bytes.capacity()
        };
        if done {
            break;
        }
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(data);
    Ok(Piece {
        bytes,
        crc,
        len: data.len() as u64,
    })
}

/// The middle pieces of an entry, in order, kept in a temporary file until the first and last
/// pieces are known (a project's header needs every document first).
pub(crate) struct Spool {
    file: io::BufWriter<std::fs::File>,
    crc: crc32fast::Hasher,
    len: u64,
    compressed: u64,
}

impl Spool {
    /// An empty spool in the system's temporary folder (removed when dropped).
    pub(crate) fn new() -> io::Result<Spool> {
        Ok(Spool {
            file: io::BufWriter::with_capacity(1 << 20, tempfile::tempfile()?),
            crc: crc32fast::Hasher::new(),
            len: 0,
            compressed: 0,
        })
    }

    /// Appends a (non-final) piece.
    pub(crate) fn push(&mut self, piece: &Piece) -> io::Result<()> {
        self.file.write_all(&piece.bytes)?;
        self.crc.combine(&piece.crc);
        self.len += piece.len;
        self.compressed += piece.bytes.len() as u64;
        Ok(())
    }

    /// Writes `first`, the spooled pieces and `last` (final) as the deflated entry `name` of
    /// `zip`. The entry is framed as a one-entry archive in a temporary file and copied in raw,
    /// the only way the zip writer takes data deflated elsewhere without inflating it.
    pub(crate) fn finish<W: Write + Seek>(
        self,
        zip: &mut zip::ZipWriter<W>,
        name: &str,
        first: &Piece,
        last: &Piece,
    ) -> Result<(), zip::result::ZipError> {
        let mut crc = first.crc.clone();
        crc.combine(&self.crc);
        crc.combine(&last.crc);
        let crc = crc.finalize();
        let len = first.len + self.len + last.len;
        let compressed = first.bytes.len() as u64 + self.compressed + last.bytes.len() as u64;
        let too_large = |what: &str| {
            zip::result::ZipError::Io(io::Error::other(format!(
                "{name} is over 4 GB {what}; not written"
            )))
        };
        let len = u32::try_from(len).map_err(|_| too_large("inflated"))?;
        let compressed = u32::try_from(compressed).map_err(|_| too_large("deflated"))?;
        let name_len = u16::try_from(name.len()).map_err(|_| too_large("of name"))?;
        let mut spooled = self.file.into_inner().map_err(|e| e.into_error())?;
        spooled.seek(SeekFrom::Start(0))?;
        let when = zip::DateTime::default_for_write();
        let mut framed = io::BufWriter::with_capacity(1 << 20, tempfile::tempfile()?);
        // Local file header (APPNOTE 4.3.7): version 2.0, no flags, deflated.
        let mut header = Vec::with_capacity(30 + name.len());
        header.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        header.extend_from_slice(&20u16.to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes());
        header.extend_from_slice(&8u16.to_le_bytes());
        header.extend_from_slice(&when.timepart().to_le_bytes());
        header.extend_from_slice(&when.datepart().to_le_bytes());
        header.extend_from_slice(&crc.to_le_bytes());
        header.extend_from_slice(&compressed.to_le_bytes());
        header.extend_from_slice(&len.to_le_bytes());
        header.extend_from_slice(&name_len.to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes());
        header.extend_from_slice(name.as_bytes());
        framed.write_all(&header)?;
        framed.write_all(&first.bytes)?;
        io::copy(
            &mut io::BufReader::with_capacity(1 << 20, spooled),
            &mut framed,
        )?;
        framed.write_all(&last.bytes)?;
        // Central directory header (4.3.12) and end of central directory (4.3.16).
        let directory_at = u32::try_from(header.len() as u64 + u64::from(compressed))
            .map_err(|_| too_large("framed"))?;
        let mut directory = Vec::with_capacity(46 + name.len());
        directory.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        directory.extend_from_slice(&20u16.to_le_bytes());
        directory.extend_from_slice(&header[4..30]);
        directory.extend_from_slice(&0u16.to_le_bytes()); // comment length
        directory.extend_from_slice(&0u16.to_le_bytes()); // disk
        directory.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        directory.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        directory.extend_from_slice(&0u32.to_le_bytes()); // local header at 0
        directory.extend_from_slice(name.as_bytes());
        framed.write_all(&directory)?;
        let mut end = Vec::with_capacity(22);
        end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        end.extend_from_slice(&1u16.to_le_bytes());
        end.extend_from_slice(&1u16.to_le_bytes());
        end.extend_from_slice(&(directory.len() as u32).to_le_bytes());
        end.extend_from_slice(&directory_at.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        framed.write_all(&end)?;
        let mut framed = framed.into_inner().map_err(|e| e.into_error())?;
        framed.seek(SeekFrom::Start(0))?;
        let mut archive = zip::ZipArchive::new(io::BufReader::with_capacity(1 << 20, framed))?;
        let entry = archive.by_index_raw(0)?;
        zip.raw_copy_file(entry)
    }
}

/// Reads an entry back whole (tests).
#[cfg(test)]
fn inflate_entry(bytes: Vec<u8>, name: &str) -> Vec<u8> {
    use std::io::Read as _;
    let mut archive = zip::ZipArchive::new(io::Cursor::new(bytes)).unwrap();
    let mut out = Vec::new();
    archive
        .by_name(name)
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pieces of every size, empty ones among them, inflate (CRC checked by the reader) to the
    /// data they were cut from, beside an entry written by the zip writer itself.
    #[test]
    fn pieces_inflate_to_the_whole() {
        let data: Vec<u8> = (0..200_000u32)
            .map(|i| b"<Source guid=\"x\">text &amp; more</Source>"[(i * 7 % 41) as usize])
            .collect();
        let cuts = [0usize, 0, 1, 100, 5_000, 5_000, 70_000, 199_990, 200_000];
        let first = deflate_piece(&data[..cuts[2]], 1, false).unwrap();
        let last = deflate_piece(&data[cuts[cuts.len() - 2]..], 1, true).unwrap();
        let mut spool = Spool::new().unwrap();
        for w in cuts[2..cuts.len() - 1].windows(2) {
            spool
                .push(&deflate_piece(&data[w[0]..w[1]], 1, false).unwrap())
                .unwrap();
        }
        let mut zip = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        zip.start_file("a.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"before").unwrap();
        spool
            .finish(&mut zip, "project.qde", &first, &last)
            .unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        assert_eq!(inflate_entry(bytes.clone(), "project.qde"), data);
        assert_eq!(inflate_entry(bytes, "a.txt"), b"before");
    }

    /// An empty entry (no middle pieces, empty first and last) is still a valid one.
    #[test]
    fn empty_pieces_make_an_empty_entry() {
        let first = deflate_piece(b"", 1, false).unwrap();
        let last = deflate_piece(b"", 1, true).unwrap();
        let mut zip = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        Spool::new()
            .unwrap()
            .finish(&mut zip, "e", &first, &last)
            .unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        assert!(inflate_entry(bytes, "e").is_empty());
    }
}
