//! The one place where Marginalia writes files.
//!
//! Every write in the project (sidecars, codebooks, exports, generated corpora) goes through
//! [`atomic_write`], so a crash, a full disk or a power cut leaves either the old file or the new
//! one on disk, never a partial one.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A file could not be written; the previous content, if any, is untouched.
#[derive(Debug, Error)]
pub enum WriteError {
    /// The user made the file read-only: it is never replaced.
    #[error("{} is read-only: not replaced (make it writable to save over it)", path.display())]
    ReadOnly {
        /// The file.
        path: PathBuf,
    },
    /// The content is bigger than Marginalia reads back for such a file: writing it would make a
    /// file the app then refuses.
    #[error(
        "{} would be {size} bytes, over the limit of {limit} bytes for such a file: not written",
        path.display()
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The size it would have.
        size: u64,
        /// The limit of [`crate::limits::read_limit_for`].
        limit: u64,
    },
    /// The file system refused.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: io::Error,
    },
}

impl WriteError {
    /// The file that was to be written.
    pub fn path(&self) -> &Path {
        match self {
            WriteError::ReadOnly { path }
            | WriteError::TooLarge { path, .. }
            | WriteError::Io { path, .. } => path,
        }
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder is written, synced,
/// given the permissions of the file it replaces, and renamed over the target; then the folder
/// is synced so the rename itself survives a power cut. A file the user made read-only is never
/// replaced, and nothing is written that Marginalia would refuse to read back
/// ([`crate::limits::read_limit_for`]).
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    if let Some(limit) = crate::limits::read_limit_for(path)
        && bytes.len() as u64 > limit
    {
        return Err(WriteError::TooLarge {
            path: path.to_path_buf(),
            size: bytes.len() as u64,
            limit,
        });
    }
    write_inner(path, &mut |f| f.write_all(bytes), &|_| Ok(()))
        .map_err(|source| io_error(path, source))
}

/// Why a streamed atomic write ([`atomic_write_with`]) failed: the file could not be written, or
/// the producer of its content failed. Either way the previous content, if any, is untouched.
#[derive(Debug, Error)]
pub enum StreamWriteError<E: std::error::Error + 'static> {
    /// The file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The content could not be produced.
    #[error(transparent)]
    Content(E),
}

/// [`atomic_write`] for content too large to hold in memory (an export of 100,000 pages): `fill`
/// writes it front to back into the temporary file, which is then synced, checked against the
/// read limit and renamed over `path` exactly as [`atomic_write`] does. When `fill` fails nothing
/// is renamed and the temporary file is removed.
pub fn atomic_write_with<E: std::error::Error + 'static>(
    path: &Path,
    fill: impl FnOnce(&mut StreamedFile<'_>) -> Result<(), E>,
) -> Result<(), StreamWriteError<E>> {
    let limit = crate::limits::read_limit_for(path);
    let mut fill = Some(fill);
    let mut failed: Option<E> = None;
    let mut too_large: Option<u64> = None;
    let written = write_inner(
        path,
        &mut |file| {
            let Some(fill) = fill.take() else {
                return Err(io::Error::other("the content was already written"));
            };
            if let Err(e) = fill(&mut StreamedFile::new(file)) {
                failed = Some(e);
                return Err(io::Error::other("the content could not be produced"));
            }
            let size = file.metadata()?.len();
            if limit.is_some_and(|limit| size > limit) {
                too_large = Some(size);
                return Err(io::Error::other("over the read limit"));
            }
            Ok(())
        },
        &|_| Ok(()),
    );
    if let Some(e) = failed {
        return Err(StreamWriteError::Content(e));
    }
    if let (Some(size), Some(limit)) = (too_large, limit) {
        return Err(WriteError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit,
        }
        .into());
    }
    written.map_err(|source| io_error(path, source).into())
}

/// The temporary file of [`atomic_write_with`], written front to back: every
/// [`WRITEBACK_EVERY`] bytes it asks the system to start writing what came before to the disk,
/// so the `fsync` at the end waits for the last stretch only (RocksDB's `bytes_per_sync` and
/// PostgreSQL's `backend_flush_after` do the same). Without it, the `fsync` of a 32 MB export
/// waited 10-15 ms on one thread after every core had finished.
pub struct StreamedFile<'a> {
    file: &'a mut fs::File,
    written: u64,
    /// Where the stretch not yet handed to writeback starts.
    pending: u64,
}

/// Bytes between two requests of [`StreamedFile`] to start writing to the disk: a megabyte, as
/// RocksDB's usual `bytes_per_sync` (4 MB left the `fsync` of a 32 MB qdpx about 2 ms longer).
const WRITEBACK_EVERY: u64 = 1 << 20;

impl<'a> StreamedFile<'a> {
    fn new(file: &'a mut fs::File) -> StreamedFile<'a> {
        StreamedFile {
            file,
            written: 0,
            pending: 0,
        }
    }
}

impl Write for StreamedFile<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.pending >= WRITEBACK_EVERY {
            start_writeback(self.file, self.pending, self.written - self.pending);
            self.pending = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Asks Linux to start writing `len` bytes of `file` from `offset` to the disk, without waiting
/// for them. Only a hint: where it fails or does not exist, the `fsync` that follows does it all.
#[cfg(target_os = "linux")]
fn start_writeback(file: &fs::File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd as _;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: the descriptor is open for the duration of the call, which reads only its
    // arguments; its result is a hint's and is not needed.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &fs::File, _offset: u64, _len: u64) {}

/// The error of a failed write, read-only targets told apart.
fn io_error(path: &Path, source: io::Error) -> WriteError {
    if source.get_ref().is_some_and(|e| e.is::<ReadOnlyTarget>()) {
        WriteError::ReadOnly {
            path: path.to_path_buf(),
        }
    } else {
        WriteError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Marks the refusal to replace a read-only file inside an `io::Error`.
#[derive(Debug, Error)]
#[error("the file is read-only")]
struct ReadOnlyTarget;

/// Name of the hidden file in a folder whose advisory lock writers of that folder's sidecars hold
/// while they compare and replace (see [`replace_if_unchanged`]).
pub const LOCK_FILE_NAME: &str = ".marginalia.lock";

/// The advisory write lock of a folder, released when dropped.
#[derive(Debug)]
pub struct FolderLock {
    _file: fs::File,
}

/// Takes the advisory write lock of `dir`, waiting for another holder (a holder keeps it for the
/// milliseconds of one compare-and-replace). The lock file is created when missing and left in
/// place: removing it would let a waiting writer lock a file no longer in the folder.
pub fn lock_folder(dir: &Path) -> io::Result<FolderLock> {
    let path = dir.join(LOCK_FILE_NAME);
    let file = match fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
    {
        Ok(f) => f,
        // A folder we may not write to can still hold a lock file made by someone who may.
        Err(e) => fs::File::open(&path).map_err(|_| e)?,
    };
    file.lock()?;
    Ok(FolderLock { _file: file })
}

/// Why [`replace_if_unchanged`] did not replace a file.
#[derive(Debug, Error)]
pub enum ReplaceError {
    /// Someone else changed the file since it was last read or written here.
    #[error("{} was changed on disk by someone else; not overwritten", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
    },
    /// The write itself failed.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Replaces `path` with `bytes` only if it is still what `known` says (`None`: the file must not
/// exist), holding the folder's lock across the comparison and the rename, so two writers of one
/// file can never both succeed on the same version: the second is told the file changed. Returns
/// the fingerprint of what was written.
pub fn replace_if_unchanged(
    path: &Path,
    bytes: &[u8],
    known: Option<&Fingerprint>,
) -> Result<Fingerprint, ReplaceError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let _lock = lock_folder(dir).map_err(|source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let unchanged = match known {
        Some(fp) => fp.matches_disk(path),
        None => fs::symlink_metadata(path).is_err(),
    };
    if !unchanged {
        return Err(ReplaceError::Changed {
            path: path.to_path_buf(),
        });
    }
    atomic_write(path, bytes)?;
    Ok(Fingerprint::of(path, bytes))
}

/// Steps of [`atomic_write`], where tests inject failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Written,
    Synced,
}

fn write_inner(
    path: &Path,
    fill: &mut dyn FnMut(&mut fs::File) -> io::Result<()>,
    fault: &dyn Fn(Step) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    // Permissions of the file being replaced; tempfile creates 0600 files otherwise.
    let old_permissions = match fs::metadata(path) {
        Ok(meta) => {
            if !meta.is_file() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "target exists and is not a regular file",
                ));
            }
            // A rename replaces a read-only file as easily as any other when the folder is
            // writable: the user's choice is honoured here, for every writer.
            if meta.permissions().readonly() {
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    ReadOnlyTarget,
                ));
            }
            Some(meta.permissions())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    // Named so that [`temp_target`] knows it again.
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(file_name);
    prefix.push(".");
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(dir)?;
    fill(tmp.as_file_mut())?;
    tmp.flush()?;
    fault(Step::Written)?;
    match old_permissions {
        Some(perms) => tmp.as_file().set_permissions(perms)?,
        None => set_default_permissions(tmp.as_file())?,
    }
    tmp.as_file().sync_all()?;
    fault(Step::Synced)?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

/// Age after which a temporary file of [`atomic_write`] is certainly abandoned: a write takes
/// milliseconds, so one this old was left by a process killed in the middle of writing.
pub const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(600);

/// The file a temporary file of [`atomic_write`] was going to replace, from its name
/// (`.<name>.<random>.tmp`); `None` for any other name.
pub fn temp_target(temp_name: &str) -> Option<&str> {
    let inner = temp_name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (target, random) = inner.rsplit_once('.')?;
    (!target.is_empty() && !random.is_empty()).then_some(target)
}

/// Removes a temporary file of [`atomic_write`] when it is older than [`STALE_TEMP_AGE`], so shared
/// folders do not fill with what killed writes left; a younger one may belong to a write under
/// way and is left. True when removed; errors are ignored, as the file is hidden and harmless.
pub fn remove_if_stale(temp: &Path) -> bool {
    let old = fs::symlink_metadata(temp)
        .ok()
        .filter(fs::Metadata::is_file)
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > STALE_TEMP_AGE);
    old && fs::remove_file(temp).is_ok()
}

#[cfg(unix)]
fn set_default_permissions(file: &fs::File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    // A new file gets what a plain create would give it under a usual umask, so colleagues sharing
    // the folder can read it.
    file.set_permissions(fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_default_permissions(_file: &fs::File) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) {
    // Best effort: some file systems refuse fsync on a directory, and the data itself is synced.
    if let Ok(d) = fs::File::open(dir) {
        #[expect(clippy::let_underscore_must_use, reason = "best effort, said above")]
        let _ = d.sync_all();
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) {}

/// Writes `bytes` as a dated copy beside `path` (`<name>.<what>-<time>.bak`), so that a version about
/// to be replaced is never lost; returns the copy's path. Sidecar scans ignore such files.
pub fn write_backup(path: &Path, what: &str, bytes: &[u8]) -> Result<PathBuf, WriteError> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S").to_string();
    // Two changes within one second (a merge, then a split) must not overwrite the first backup.
    let copy = (1..)
        .map(|n| {
            let mut name = path.file_name().unwrap_or_default().to_os_string();
            match n {
                1 => name.push(format!(".{what}-{stamp}.bak")),
                _ => name.push(format!(".{what}-{stamp}-{n}.bak")),
            }
            path.with_file_name(name)
        })
        .find(|p| !p.exists())
        .unwrap_or_else(|| path.with_extension("bak"));
    atomic_write(&copy, bytes)?;
    Ok(copy)
}

/// Why [`read_limited`] could not read a file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file system refused.
    #[error("{0}")]
    Io(#[source] io::Error),
    /// A folder, a FIFO, a device...
    #[error("not a regular file")]
    NotAFile,
    /// Bigger than the limit.
    #[error("{size} bytes is over the limit of {limit} bytes")]
    TooLarge {
        /// The file's size.
        size: u64,
        /// The limit.
        limit: u64,
    },
}

/// Opens a file for reading. Opening a FIFO for reading would wait for a writer: on Unix it is
/// opened without waiting (a regular file reads as usual with the flag), elsewhere it is looked at
/// first.
#[cfg(unix)]
fn open_without_waiting(path: &Path) -> Result<fs::File, ReadError> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(ReadError::Io)
}

#[cfg(not(unix))]
fn open_without_waiting(path: &Path) -> Result<fs::File, ReadError> {
    open_after_checking(path)
}

/// Where opening without waiting does not exist (Windows has no FIFOs in folders, but devices and
/// folders are refused all the same): the path is looked at first. Compiled everywhere so that its
/// test runs on the platform CI has.
#[cfg_attr(unix, allow(dead_code))]
fn open_after_checking(path: &Path) -> Result<fs::File, ReadError> {
    if !fs::metadata(path).map_err(ReadError::Io)?.is_file() {
        return Err(ReadError::NotAFile);
    }
    fs::File::open(path).map_err(ReadError::Io)
}

/// Opens a regular file for reading (never waiting on a FIFO), for readers that stream it.
pub fn open_regular(path: &Path) -> Result<fs::File, ReadError> {
    open_regular_with_metadata(path).map(|(file, _)| file)
}

/// [`open_regular`] with the metadata it checked (one `fstat` per file read: a corpus command
/// reads tens of thousands).
fn open_regular_with_metadata(path: &Path) -> Result<(fs::File, fs::Metadata), ReadError> {
    let file = open_without_waiting(path)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile);
    }
    Ok((file, meta))
}

/// Reads a regular file of at most `limit` bytes. The checks use the opened file, so nothing can
/// swap the file between check and read, and a FIFO is never read from.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let (file, meta) = open_regular_with_metadata(path)?;
    if meta.len() > limit {
        return Err(ReadError::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    read_expecting(&file, meta.len(), limit)
}

/// Reads `file` whole, `expected` being the size it said it had: the first read asks for one
/// byte more, so a file of that size is known to end there without asking again for its end
/// (which cost one more system call per file, a fifth of a corpus's reads), and a file that is
/// longer than it said (appended meanwhile, or a network share's size out of date) is read on
/// to its end. A size of 0 may be a file that does not say its size (`/proc`): read to its end.
fn read_expecting(mut file: &fs::File, expected: u64, limit: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    if expected > 0 {
        let want = usize::try_from(expected + 1).map_err(|e| ReadError::Io(io::Error::other(e)))?;
        bytes.resize(want, 0);
        let mut got = 0;
        loop {
            let n = match file.read(&mut bytes[got..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ReadError::Io(e)),
            };
            got += n;
            // At the size it said, a read is short of the byte more it asked for: the end.
            // Nothing read: the end, earlier than said.
            let ended = n == 0 || got as u64 == expected;
            if ended || got == want {
                bytes.truncate(got);
                if ended {
                    return Ok(bytes);
                }
                break;
            }
        }
    }
    // Longer than it said, or no size said: the rest, never past the limit.
    let start = bytes.len() as u64;
    file.take((limit + 1).saturating_sub(start))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// What we remember about a file we loaded or saved, to notice when someone else changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Length in bytes.
    pub len: u64,
    /// Modification time, when the file system reports one.
    pub modified: Option<std::time::SystemTime>,
    /// BLAKE3 hash of the content.
    pub hash: [u8; 32],
}

impl Fingerprint {
    /// The fingerprint of bytes just written to or read from `path`.
    pub fn of(path: &Path, bytes: &[u8]) -> Fingerprint {
        let meta = fs::metadata(path).ok();
        Fingerprint {
            len: bytes.len() as u64,
            modified: meta.and_then(|m| m.modified().ok()),
            hash: *blake3::hash(bytes).as_bytes(),
        }
    }

    /// Reads `path` again and tells whether its content still matches. A missing file matches
    /// nothing.
    pub fn matches_disk(&self, path: &Path) -> bool {
        match fs::read(path) {
            Ok(bytes) => {
                bytes.len() as u64 == self.len && *blake3::hash(&bytes).as_bytes() == self.hash
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_files_are_known_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = tempfile::Builder::new()
            .prefix(".p.txt.alice.ron.")
            .suffix(".tmp")
            .tempfile_in(dir.path())
            .unwrap();
        let name = tmp
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(temp_target(&name), Some("p.txt.alice.ron"));
        assert_eq!(temp_target(".p.txt.alice.ron"), None);
        assert_eq!(temp_target("p.txt.tmp"), None);
        // Young: a write may be under way.
        assert!(!remove_if_stale(tmp.path()));
        assert!(tmp.path().exists());
    }

    /// The fallback of platforms without `O_NONBLOCK` reads files and refuses the rest without
    /// opening them (a FIFO would block).
    #[test]
    fn the_fallback_open_checks_first() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        fs::write(&p, b"text").unwrap();
        let mut s = String::new();
        io::Read::read_to_string(&mut open_after_checking(&p).unwrap(), &mut s).unwrap();
        assert_eq!(s, "text");
        assert!(matches!(
            open_after_checking(dir.path()),
            Err(ReadError::NotAFile)
        ));
        assert!(matches!(
            open_after_checking(&dir.path().join("missing")),
            Err(ReadError::Io(_))
        ));
        #[cfg(unix)]
        {
            let fifo = dir.path().join("pipe.txt");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|s| s.success()) {
                assert!(matches!(
                    open_after_checking(&fifo),
                    Err(ReadError::NotAFile)
                ));
            }
        }
    }

    /// Two writers of one file: the second, holding an old fingerprint, is told the file changed
    /// and writes nothing.
    #[test]
    fn replace_if_unchanged_compares_and_replaces_in_one_step() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.txt.alice.ron");
        let first = replace_if_unchanged(&p, b"one", None).unwrap();
        assert!(matches!(
            replace_if_unchanged(&p, b"other", None),
            Err(ReplaceError::Changed { .. })
        ));
        let second = replace_if_unchanged(&p, b"two", Some(&first)).unwrap();
        assert!(matches!(
            replace_if_unchanged(&p, b"stale", Some(&first)),
            Err(ReplaceError::Changed { .. })
        ));
        assert_eq!(fs::read(&p).unwrap(), b"two");
        replace_if_unchanged(&p, b"three", Some(&second)).unwrap();
        // The lock file stays hidden beside it, and the corpus scan ignores it.
        assert!(dir.path().join(LOCK_FILE_NAME).exists());
    }

    #[test]
    fn writes_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.ron");
        atomic_write(&p, b"one").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"one");
        atomic_write(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        // No temporary files left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn keeps_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.ron");
        fs::write(&p, b"old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        atomic_write(&p, b"new").unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o640
        );
        let q = dir.path().join("b.ron");
        atomic_write(&q, b"new").unwrap();
        assert_eq!(
            fs::metadata(&q).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }

    #[test]
    fn backups_in_one_second_do_not_overwrite_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt.alice.ron");
        let first = write_backup(&file, "before-merge", b"one").unwrap();
        let second = write_backup(&file, "before-merge", b"two").unwrap();
        assert_ne!(first, second);
        assert_eq!(std::fs::read(&first).unwrap(), b"one");
        assert_eq!(std::fs::read(&second).unwrap(), b"two");
    }

    #[test]
    fn failed_write_leaves_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("missing-folder").join("a.ron");
        assert!(atomic_write(&p, b"x").is_err());
        // A target that is a directory is refused, and stays a directory.
        let d = dir.path().join("d");
        fs::create_dir(&d).unwrap();
        let err = atomic_write(&d, b"x").unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        assert!(d.is_dir());
    }

    #[test]
    fn failure_at_any_step_keeps_the_previous_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.ron");
        atomic_write(&p, b"previous").unwrap();
        for step in [Step::Written, Step::Synced] {
            let fail = move |s: Step| {
                if s == step {
                    Err(io::Error::other("disk full"))
                } else {
                    Ok(())
                }
            };
            assert!(write_inner(&p, &mut |f| f.write_all(b"new content"), &fail).is_err());
            assert_eq!(fs::read(&p).unwrap(), b"previous", "{step:?}");
            assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "{step:?}");
        }
    }

    #[test]
    fn fingerprint_notices_changes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a");
        atomic_write(&p, b"abc").unwrap();
        let fp = Fingerprint::of(&p, b"abc");
        assert!(fp.matches_disk(&p));
        fs::write(&p, b"abd").unwrap();
        assert!(!fp.matches_disk(&p));
    }

    /// A codebook over the limit is refused by the writer with a message naming the file, and
    /// nothing is left on disk (it was `import-codebook` writing 37 MB codebooks the app refused).
    #[test]
    fn writer_refuses_what_the_reader_would() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("codebook.ron");
        let big = vec![b' '; crate::limits::CODEBOOK_BYTES as usize + 1];
        let err = atomic_write(&path, &big).unwrap_err();
        assert!(matches!(err, WriteError::TooLarge { .. }));
        assert!(err.to_string().contains("codebook.ron"), "{err}");
        assert!(!path.exists());
        let ok = vec![b' '; crate::limits::CODEBOOK_BYTES as usize];
        atomic_write(&path, &ok).unwrap();
    }

    /// A file is read whole, at the limit and over it; a file that does not say its size (a
    /// `/proc` file says 0) is read to its end.
    #[test]
    fn files_are_read_whole_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("page.txt");
        let text: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(&path, &text).unwrap();
        assert_eq!(read_limited(&path, 100_000).unwrap(), text);
        assert!(matches!(
            read_limited(&path, 99_999),
            Err(ReadError::TooLarge {
                size: 100_000,
                limit: 99_999
            })
        ));
        fs::write(&path, b"").unwrap();
        assert!(read_limited(&path, 10).unwrap().is_empty());
        #[cfg(target_os = "linux")]
        {
            let status = read_limited(Path::new("/proc/self/status"), 1 << 20).unwrap();
            assert!(String::from_utf8_lossy(&status).contains("Pid:"));
        }
        // A file longer or shorter than the size it said (appended after it was looked at, a
        // network share's size out of date) is read as it is, within the limit.
        fs::write(&path, &text).unwrap();
        let file = fs::File::open(&path).unwrap();
        for said in [1, 99_999, 100_000, 100_001, 250_000] {
            assert_eq!(
                read_expecting(file_at_start(&file), said, 200_000).unwrap(),
                text,
                "said {said}"
            );
        }
        assert!(matches!(
            read_expecting(file_at_start(&file), 10, 50_000),
            Err(ReadError::TooLarge {
                size: 50_001,
                limit: 50_000
            })
        ));
    }

    fn file_at_start(file: &fs::File) -> &fs::File {
        use std::io::Seek as _;
        let mut f = file;
        f.seek(io::SeekFrom::Start(0)).unwrap();
        file
    }

    /// A streamed write longer than the stretch after which writeback starts comes out whole,
    /// whatever the sizes of the writes.
    #[test]
    fn streamed_writes_come_out_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.jsonl");
        let data: Vec<u8> = (0..(3 * WRITEBACK_EVERY as usize + 12_345))
            .map(|i| (i % 253) as u8)
            .collect();
        atomic_write_with(&path, |out| -> Result<(), io::Error> {
            let mut rest = &data[..];
            let mut size = 1;
            while !rest.is_empty() {
                let n = size.min(rest.len());
                out.write_all(&rest[..n])?;
                rest = &rest[n..];
                size = size * 7 + 13;
            }
            out.flush()
        })
        .unwrap();
        assert_eq!(fs::read(&path).unwrap(), data);
    }
}
