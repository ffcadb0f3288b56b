//! One zip entry deflated in pieces on every core, as `pigz` does: each piece is raw deflate ended
//! by a sync flush (so it ends on a byte boundary and the next piece's blocks can follow it), only
//! the last one final; the CRC-32 of the whole is combined from the pieces'. The `project.qde` of
//! a `.qdpx` (53 MB for 10,000 pages) was deflated on one thread, after every document was read;
//! its pieces are now deflated by the cores that render them, and only copied at the end.
//!
//! The pieces start fresh (no dictionary carried from the one before), so the entry is a little
//! larger than one stream would be; what it inflates to is the same bytes.

use std::io::{self, Write};

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
    deflate_piece_into(data, level, last, Vec::new())
}

/// [`deflate_piece`] into `bytes`, emptied first: a piece's room used again (a piece freed by
/// the thread that writes it, not the one that made it, cost the writer's thread more).
pub(crate) fn deflate_piece_into(
    data: &[u8],
    level: u32,
    last: bool,
    mut bytes: Vec<u8>,
) -> io::Result<Piece> {
    thread_local! {
        /// Each thread's deflater and its level, reset for each piece: one made per piece
        /// allocated and zeroed some 300 kB each time.
        static DEFLATER: std::cell::RefCell<Option<(u32, Compress)>> =
            const { std::cell::RefCell::new(None) };
    }
    bytes.clear();
    bytes.reserve(data.len() / 4 + 64);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    DEFLATER.with_borrow_mut(|slot| {
        let c = match slot {
            Some((kept, c)) if *kept == level => {
                c.reset();
                c
            }
            _ => {
                &mut slot
                    .insert((level, Compress::new(Compression::new(level), false)))
                    .1
            }
        };
        deflate_into(c, data, &mut bytes, flush)
    })?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(data);
    Ok(Piece {
        bytes,
        crc,
        len: data.len() as u64,
    })
}

/// Runs `data` through `deflater` into the spare room of `out`, then `flush`es: the input first
/// without flushing, then the flush alone (handed the input with the flush, zlib-rs's fastest
/// level compressed XML to 79% instead of 88%). Returns when the flush is complete.
fn deflate_into(
    deflater: &mut Compress,
    data: &[u8],
    out: &mut Vec<u8>,
    flush: FlushCompress,
) -> io::Result<()> {
    let start = deflater.total_in();
    let room = |out: &mut Vec<u8>| {
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(1024));
        }
    };
    loop {
        let consumed = usize::try_from(deflater.total_in() - start).map_err(io::Error::other)?;
        if consumed >= data.len() {
            break;
        }
        room(out);
        deflater
            .compress_vec(&data[consumed..], out, FlushCompress::None)
            .map_err(io::Error::other)?;
    }
    let finish = matches!(flush, FlushCompress::Finish);
    loop {
        room(out);
        let status = deflater
            .compress_vec(&[], out, flush)
            .map_err(io::Error::other)?;
        // A flush is complete when output room is left over (zlib's rule); a finish when the
        // stream has ended.
        let done = if finish {
            status == Status::StreamEnd
        } else {
            out.len() < out.capacity()
        };
        if done {
            return Ok(());
        }
    }
}

/// The middle pieces of an entry, in order, kept in a temporary file until the first and last
/// pieces are known (a project's header needs every document first).
pub(crate) struct Spool {
    pub(super) file: io::BufWriter<std::fs::File>,
    /// CRC-32 of the pieces' data before deflating, combined.
    pub(super) crc: crc32fast::Hasher,
    /// Length of their data before deflating.
    pub(super) len: u64,
    /// Length of their deflated data.
    pub(super) compressed: u64,
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
}
