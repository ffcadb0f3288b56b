//! A zip written front to back from entries deflated elsewhere (APPNOTE 6.3.10), for `.qdpx`.
//!
//! The cores that render a project's documents also frame their sources as zip entries in memory
//! ([`Block`], stored); the writer appends each block in one write and keeps what the central
//! directory needs, and `project.qde` is appended from pieces deflated on every core. The zip crate's writer took each source's bytes on the writing
//! thread and made a new deflater per entry, and data deflated elsewhere could only go in through
//! a framed copy read back as an archive: the writer's thread ran while the cores waited, and
//! a project's 8 MB of `project.qde` was copied three times. Zip64 records are written where a
//! count, size or offset needs them, as the zip crate and `unzip` read them.

use std::io::{self, Read, Seek, SeekFrom, Write};

use super::pieces::{Piece, Spool};

/// Compression methods (APPNOTE 4.4.5).
const DEFLATED: u16 = 8;
const STORED: u16 = 0;
/// Version needed to extract: 2.0 (deflate), 4.5 (zip64).
const VERSION: u16 = 20;
const VERSION_ZIP64: u16 = 45;
/// General purpose flag bit 11: the name is UTF-8.
const UTF8_NAME: u16 = 1 << 11;
/// A field of 32 bits that says "see the zip64 extra field".
const MARK32: u32 = u32::MAX;

/// What the central directory says of an entry, but its name.
#[derive(Debug, Clone)]
struct Entry {
    /// [`DEFLATED`] or [`STORED`].
    method: u16,
    crc: u32,
    compressed: u64,
    len: u64,
    /// Where its local header starts: in its [`Block`] until appended, then in the file.
    offset: u64,
}

/// Entries framed one after another in memory, appended to a [`ZipOut`] in one write, then
/// emptied to be used again: blocks made on the cores and freed on the writer's thread cost that
/// thread a fifth of its time in the allocator.
#[derive(Debug, Default)]
pub(crate) struct Block {
    bytes: Vec<u8>,
    /// Each entry with its name's place in `names`.
    entries: Vec<(std::ops::Range<usize>, Entry)>,
    names: String,
}

impl Block {
    /// Frames `data` as the entry named by the `name` pieces one after another, stored as it
    /// is: a project's sources are small pages, and deflating each one (its deflater reset for
    /// each, which zeroes a 128 kB table) was a tenth of a `.qdpx` export's time, to save a
    /// third of the file's size.
    pub(crate) fn push_stored(&mut self, name: &[&str], data: &[u8]) {
        let mut crc = crc32fast::Hasher::new();
        crc.update(data);
        let entry = Entry {
            method: STORED,
            crc: crc.finalize(),
            compressed: data.len() as u64,
            len: data.len() as u64,
            offset: self.bytes.len() as u64,
        };
        let start = self.names.len();
        for piece in name {
            self.names.push_str(piece);
        }
        let name = start..self.names.len();
        local_header(&mut self.bytes, &self.names[name.clone()], &entry);
        self.bytes.extend_from_slice(data);
        self.entries.push((name, entry));
    }

    /// Bytes of room the block holds, empty or not.
    pub(crate) fn room(&self) -> usize {
        self.bytes.capacity() + self.names.capacity()
    }
}

/// A zip archive written front to back into `out`.
pub(crate) struct ZipOut<W: Write> {
    out: W,
    written: u64,
    /// The central directory, a record appended with each entry: kept as bytes, since an entry
    /// kept whole (its name allocated by the core that made it) pinned that core's heap and
    /// grew the export's memory with the corpus (257 MB at 100,000 pages, 114 MB before).
    directory: Vec<u8>,
    /// Entries in the directory.
    count: u64,
    /// MS-DOS time and date of every entry.
    when: (u16, u16),
}

impl<W: Write> ZipOut<W> {
    /// An empty archive whose entries are dated `when` (UTC, as the project's XML says).
    pub(crate) fn new(out: W, when: chrono::DateTime<chrono::Utc>) -> ZipOut<W> {
        use chrono::{Datelike as _, Timelike as _};
        // MS-DOS dates start in 1980 and end in 2107.
        let year = u16::try_from(when.year().clamp(1980, 2107) - 1980).unwrap_or(0);
        let date = (year << 9) | ((when.month() as u16) << 5) | when.day() as u16;
        let time = ((when.hour() as u16) << 11)
            | ((when.minute() as u16) << 5)
            | (when.second() as u16 / 2);
        ZipOut {
            out,
            written: 0,
            directory: Vec::new(),
            count: 0,
            when: (time, date),
        }
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Appends a block's entries and empties the block, keeping its room.
    pub(crate) fn append(&mut self, block: &mut Block) -> io::Result<()> {
        let base = self.written;
        // The time is stamped here, where it is known, at its place in each local header.
        for (_, e) in &block.entries {
            let at = usize::try_from(e.offset).map_err(io::Error::other)? + 10;
            block.bytes[at..at + 2].copy_from_slice(&self.when.0.to_le_bytes());
            block.bytes[at + 2..at + 4].copy_from_slice(&self.when.1.to_le_bytes());
        }
        self.write(&block.bytes)?;
        for (name, e) in block.entries.drain(..) {
            self.record(
                &block.names[name],
                &Entry {
                    offset: base + e.offset,
                    ..e
                },
            );
        }
        block.bytes.clear();
        block.names.clear();
        Ok(())
    }

    /// Adds an entry's record to the central directory.
    fn record(&mut self, name: &str, e: &Entry) {
        central_header(&mut self.directory, name, e, self.when);
        self.count += 1;
    }

    /// Appends the deflated entry `name` made of `first`, the spooled pieces and `last` (final).
    pub(crate) fn append_pieces(
        &mut self,
        name: &str,
        first: &Piece,
        spool: Spool,
        last: &Piece,
    ) -> io::Result<()> {
        let mut crc = first.crc.clone();
        crc.combine(&spool.crc);
        crc.combine(&last.crc);
        let entry = Entry {
            method: DEFLATED,
            crc: crc.finalize(),
            compressed: first.bytes.len() as u64 + spool.compressed + last.bytes.len() as u64,
            len: first.len + spool.len + last.len,
            offset: self.written,
        };
        let mut header = Vec::new();
        local_header(&mut header, name, &entry);
        stamp(&mut header, self.when);
        self.write(&header)?;
        self.write(&first.bytes)?;
        let mut spooled = spool.file.into_inner().map_err(|e| e.into_error())?;
        spooled.seek(SeekFrom::Start(0))?;
        // A megabyte a read: `io::copy`'s own 8 kB buffer made some 27,000 read and write calls
        // of the 100,000-page project's 110 MB of pieces, on one thread after the cores finished.
        let mut pieces =
            io::BufReader::with_capacity(1 << 20, (&mut spooled).take(spool.compressed));
        let copied = io::copy(&mut pieces, &mut self.out)?;
        if copied != spool.compressed {
            return Err(io::Error::other(format!(
                "{name}: the temporary file of its pieces was cut short"
            )));
        }
        self.written += copied;
        self.write(&last.bytes)?;
        self.record(name, &entry);
        Ok(())
    }

    /// Writes the central directory and returns the output.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        let start = self.written;
        let directory = std::mem::take(&mut self.directory);
        self.write(&directory)?;
        let size = directory.len() as u64;
        let count = self.count;
        let mut end = Vec::with_capacity(98);
        if count >= 0xFFFF || size >= u64::from(MARK32) || start >= u64::from(MARK32) {
            // Zip64 end of central directory record and its locator (APPNOTE 4.3.14, 4.3.15).
            let record_at = self.written;
            end.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
            end.extend_from_slice(&44u64.to_le_bytes());
            end.extend_from_slice(&VERSION_ZIP64.to_le_bytes());
            end.extend_from_slice(&VERSION_ZIP64.to_le_bytes());
            end.extend_from_slice(&0u32.to_le_bytes());
            end.extend_from_slice(&0u32.to_le_bytes());
            end.extend_from_slice(&count.to_le_bytes());
            end.extend_from_slice(&count.to_le_bytes());
            end.extend_from_slice(&size.to_le_bytes());
            end.extend_from_slice(&start.to_le_bytes());
            end.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
            end.extend_from_slice(&0u32.to_le_bytes());
            end.extend_from_slice(&record_at.to_le_bytes());
            end.extend_from_slice(&1u32.to_le_bytes());
        }
        // End of central directory record (4.3.16).
        let count16 = u16::try_from(count).unwrap_or(u16::MAX);
        end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        end.extend_from_slice(&count16.to_le_bytes());
        end.extend_from_slice(&count16.to_le_bytes());
        end.extend_from_slice(&u32::try_from(size).unwrap_or(MARK32).to_le_bytes());
        end.extend_from_slice(&u32::try_from(start).unwrap_or(MARK32).to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        self.write(&end)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes the time and date into a local header.
fn stamp(header: &mut [u8], (time, date): (u16, u16)) {
    header[10..12].copy_from_slice(&time.to_le_bytes());
    header[12..14].copy_from_slice(&date.to_le_bytes());
}

fn flags(name: &str) -> u16 {
    if name.is_ascii() { 0 } else { UTF8_NAME }
}

/// The zip64 extra field (APPNOTE 4.5.3) of the values past 32 bits, in its order, or nothing.
fn zip64_extra(values: &[u64]) -> Vec<u8> {
    let large: Vec<u64> = values
        .iter()
        .copied()
        .filter(|v| *v >= u64::from(MARK32))
        .collect();
    if large.is_empty() {
        return Vec::new();
    }
    let mut extra = Vec::with_capacity(4 + 8 * large.len());
    extra.extend_from_slice(&1u16.to_le_bytes());
    extra.extend_from_slice(&(8 * large.len() as u16).to_le_bytes());
    for v in large {
        extra.extend_from_slice(&v.to_le_bytes());
    }
    extra
}

fn field32(v: u64) -> [u8; 4] {
    u32::try_from(v).unwrap_or(MARK32).to_le_bytes()
}

/// Local file header (APPNOTE 4.3.7), time and date left zero. Past 4 GB both sizes go in the
/// zip64 extra field, as the format requires of a local header.
fn local_header(out: &mut Vec<u8>, name: &str, e: &Entry) {
    let zip64 = e.len >= u64::from(MARK32) || e.compressed >= u64::from(MARK32);
    let extra = if zip64 {
        let mut extra = Vec::with_capacity(20);
        extra.extend_from_slice(&1u16.to_le_bytes());
        extra.extend_from_slice(&16u16.to_le_bytes());
        extra.extend_from_slice(&e.len.to_le_bytes());
        extra.extend_from_slice(&e.compressed.to_le_bytes());
        extra
    } else {
        Vec::new()
    };
    out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    out.extend_from_slice(&(if zip64 { VERSION_ZIP64 } else { VERSION }).to_le_bytes());
    out.extend_from_slice(&flags(name).to_le_bytes());
    out.extend_from_slice(&e.method.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&e.crc.to_le_bytes());
    let (compressed, len) = if zip64 {
        (MARK32.to_le_bytes(), MARK32.to_le_bytes())
    } else {
        (field32(e.compressed), field32(e.len))
    };
    out.extend_from_slice(&compressed);
    out.extend_from_slice(&len);
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&(extra.len() as u16).to_le_bytes());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&extra);
}

/// Central directory file header (APPNOTE 4.3.12).
fn central_header(out: &mut Vec<u8>, name: &str, e: &Entry, (time, date): (u16, u16)) {
    let extra = zip64_extra(&[e.len, e.compressed, e.offset]);
    let version = if extra.is_empty() {
        VERSION
    } else {
        VERSION_ZIP64
    };
    out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    out.extend_from_slice(&version.to_le_bytes()); // made by (MS-DOS attributes)
    out.extend_from_slice(&version.to_le_bytes()); // needed
    out.extend_from_slice(&flags(name).to_le_bytes());
    out.extend_from_slice(&e.method.to_le_bytes());
    out.extend_from_slice(&time.to_le_bytes());
    out.extend_from_slice(&date.to_le_bytes());
    out.extend_from_slice(&e.crc.to_le_bytes());
    out.extend_from_slice(&field32(e.compressed));
    out.extend_from_slice(&field32(e.len));
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&(extra.len() as u16).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // comment
    out.extend_from_slice(&0u16.to_le_bytes()); // disk
    out.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
    out.extend_from_slice(&0u32.to_le_bytes()); // external attributes
    out.extend_from_slice(&field32(e.offset));
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&extra);
}

#[cfg(test)]
mod tests {
    use super::super::pieces::deflate_piece;
    use super::*;

    fn read_back(bytes: Vec<u8>) -> Vec<(String, Vec<u8>)> {
        let mut archive = zip::ZipArchive::new(io::Cursor::new(bytes)).expect("a zip");
        (0..archive.len())
            .map(|i| {
                let mut f = archive.by_index(i).expect("an entry");
                let mut data = Vec::new();
                // The reader checks each entry's CRC-32 as it reaches the end.
                f.read_to_end(&mut data).expect("inflates");
                (f.name().expect("a name").to_string(), data)
            })
            .collect()
    }

    fn when() -> chrono::DateTime<chrono::Utc> {
        "2026-11-30T13:45:58Z".parse().expect("a time")
    }

    /// Entries of blocks (stored, empty ones) and one made of pieces (deflated) read back as
    /// they were written, with their names, methods, time and date.
    #[test]
    fn blocks_and_pieces_read_back() {
        let data: Vec<u8> = (0..200_000u32)
            .map(|i| b"<Source guid=\"x\">text &amp; more</Source>"[(i * 7 % 41) as usize])
            .collect();
        let mut zip = ZipOut::new(io::Cursor::new(Vec::new()), when());
        let mut block = Block::default();
        block.push_stored(&["sources/a.txt"], b"first page");
        block.push_stored(&["sources/", "é", ".txt"], b"");
        block.push_stored(&["sources/b", ".txt"], &data);
        zip.append(&mut block).unwrap();
        zip.append(&mut Block::default()).unwrap();
        let cuts = [0usize, 1, 100, 5_000, 5_000, 70_000, 199_990, 200_000];
        let first = deflate_piece(&data[..cuts[1]], 2, false).unwrap();
        let last = deflate_piece(&data[cuts[cuts.len() - 2]..], 2, true).unwrap();
        let mut spool = Spool::new().unwrap();
        for w in cuts[1..cuts.len() - 1].windows(2) {
            spool
                .push(&deflate_piece(&data[w[0]..w[1]], 2, false).unwrap())
                .unwrap();
        }
        zip.append_pieces("project.qde", &first, spool, &last)
            .unwrap();
        // The block appended first, emptied and used again.
        block.push_stored(&["after.txt"], b"last");
        zip.append(&mut block).unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let entries = read_back(bytes.clone());
        let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "sources/a.txt",
                "sources/é.txt",
                "sources/b.txt",
                "project.qde",
                "after.txt"
            ]
        );
        assert_eq!(entries[0].1, b"first page");
        assert!(entries[1].1.is_empty());
        assert_eq!(entries[2].1, data);
        assert_eq!(entries[3].1, data);
        assert_eq!(entries[4].1, b"last");
        let mut archive = zip::ZipArchive::new(io::Cursor::new(bytes)).unwrap();
        let methods: Vec<zip::CompressionMethod> = (0..archive.len())
            .map(|i| archive.by_index(i).unwrap().compression())
            .collect();
        use zip::CompressionMethod::{Deflated, Stored};
        assert_eq!(methods, [Stored, Stored, Stored, Deflated, Stored]);
        let t = archive
            .by_index(3)
            .unwrap()
            .last_modified()
            .expect("a date");
        assert_eq!(
            (
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            (2026, 11, 30, 13, 45, 58)
        );
    }

    /// An entry of empty pieces and no middle ones is an empty entry, and an archive of nothing
    /// is an empty archive.
    #[test]
    fn empty_pieces_and_archives_read_back() {
        let first = deflate_piece(b"", 2, false).unwrap();
        let last = deflate_piece(b"", 2, true).unwrap();
        let mut zip = ZipOut::new(io::Cursor::new(Vec::new()), when());
        zip.append_pieces("e", &first, Spool::new().unwrap(), &last)
            .unwrap();
        let entries = read_back(zip.finish().unwrap().into_inner());
        assert_eq!(entries, [("e".to_string(), Vec::new())]);
        let empty = ZipOut::new(io::Cursor::new(Vec::new()), when());
        assert!(read_back(empty.finish().unwrap().into_inner()).is_empty());
    }

    /// More entries than the 16-bit count holds: the zip64 end records say how many.
    #[test]
    fn seventy_thousand_entries_need_zip64_and_read_back() {
        let mut zip = ZipOut::new(io::Cursor::new(Vec::new()), when());
        let mut block = Block::default();
        for i in 0..70_000u32 {
            block.push_stored(
                &["sources/", &i.to_string(), ".txt"],
                i.to_string().as_bytes(),
            );
        }
        zip.append(&mut block).unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let mut archive = zip::ZipArchive::new(io::Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 70_000);
        let mut last = String::new();
        archive
            .by_name("sources/69999.txt")
            .unwrap()
            .read_to_string(&mut last)
            .unwrap();
        assert_eq!(last, "69999");
    }

    /// Past 4 GB, the central directory gives sizes and offsets in a zip64 extra field and marks
    /// the 32-bit fields; below, it has none.
    #[test]
    fn large_values_go_in_the_zip64_extra_field() {
        let entry = |len: u64, compressed: u64, offset: u64| Entry {
            method: DEFLATED,
            crc: 7,
            compressed,
            len,
            offset,
        };
        let mut small = Vec::new();
        central_header(&mut small, "project.qde", &entry(10, 5, 100), (0, 0));
        assert_eq!(small.len(), 46 + "project.qde".len());
        let mut large = Vec::new();
        central_header(
            &mut large,
            "project.qde",
            &entry(5 << 30, 100, 6 << 30),
            (0, 0),
        );
        let extra = &large[46 + "project.qde".len()..];
        assert_eq!(&extra[..4], &[1, 0, 16, 0]);
        assert_eq!(&extra[4..12], &(5u64 << 30).to_le_bytes());
        assert_eq!(&extra[12..20], &(6u64 << 30).to_le_bytes());
        assert_eq!(&large[24..28], &MARK32.to_le_bytes(), "the size marked");
        assert_eq!(
            &large[20..24],
            &100u32.to_le_bytes(),
            "the deflated size as it is"
        );
        assert_eq!(&large[42..46], &MARK32.to_le_bytes(), "the offset marked");
        let mut local = Vec::new();
        local_header(&mut local, "project.qde", &entry(5 << 30, 100, 0));
        assert_eq!(&local[18..26], &[0xFF; 8]);
        assert_eq!(
            &local[30 + "project.qde".len()..][4..12],
            &(5u64 << 30).to_le_bytes()
        );
    }
}
