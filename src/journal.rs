//! Crash recovery: after every edit the unsaved sidecar is also written to a journal in the user's
//! data folder; a save removes the entry. After a crash or `kill -9`, what is left in the journal is
//! what was not saved, and the next start offers to restore it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fsutil::atomic_write;
use crate::sidecar::{Sidecar, Status, ron_options, to_pretty_ron};

/// Why the journal could not record or restore a sidecar.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The journal's folder could not be made.
    #[error("cannot create {}: {source}", path.display())]
    CreateFolder {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The sidecar on disk, to be kept as a backup before restoring, could not be read.
    #[error("cannot read {}: {source}", path.display())]
    ReadSidecar {
        /// The sidecar.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing the journal entry or the backup failed.
    #[error(transparent)]
    Write(#[from] crate::fsutil::WriteError),
    /// Saving the restored sidecar failed.
    #[error(transparent)]
    Save(#[from] crate::sidecar::SidecarError),
}

/// One unsaved document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Where the sidecar belongs.
    pub sidecar_path: PathBuf,
    /// The sidecar with the unsaved changes.
    pub sidecar: Sidecar,
    /// The sidecar's fields this version does not know (name, RON text), which its nested form
    /// above cannot carry: restoring puts them back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<(String, String)>,
}

/// An [`Entry`] written from borrowed parts: the same fields, the same text.
#[derive(Serialize)]
#[serde(rename = "Entry")]
struct EntryOf<'a> {
    sidecar_path: &'a Path,
    sidecar: &'a Sidecar,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    unknown: &'a [(String, String)],
}

impl Entry {
    /// What restoring would change in the file on disk, in one line: codings added and removed,
    /// memo and status changed (or that the file is missing or unreadable).
    pub fn changes(&self) -> String {
        let disk = match Sidecar::load(&self.sidecar_path) {
            Ok(l) => l.sidecar,
            Err(_) if !self.sidecar_path.exists() => {
                return format!("{} codings; the file is gone", self.sidecar.coding_count());
            }
            Err(_) => return "the file on disk cannot be read".to_string(),
        };
        let codings = |s: &Sidecar| -> std::collections::BTreeSet<String> {
            let tags = s.tags.iter().flat_map(|(part, dims)| {
                dims.iter()
                    .flat_map(move |(d, vs)| vs.iter().map(move |v| format!("{part} {d} {v}")))
            });
            let spans = s.spans.iter().map(|x| {
                format!(
                    "{} {} {}..{} {} {} {} {:?}",
                    x.id, x.part, x.start, x.end, x.dimension, x.value, x.note, x.flag
                )
            });
            tags.chain(spans).collect()
        };
        let (mine, theirs) = (codings(&self.sidecar), codings(&disk));
        let added = mine.difference(&theirs).count();
        let removed = theirs.difference(&mine).count();
        let mut parts = Vec::new();
        if added > 0 {
            parts.push(format!("{added} coding{} added or changed", plural(added)));
        }
        if removed > 0 {
            parts.push(format!("{removed} removed or changed"));
        }
        if self.sidecar.memo != disk.memo {
            parts.push("memo changed".to_string());
        }
        if self.sidecar.status != disk.status {
            parts.push(format!("status {}", self.sidecar.status.as_str()));
        }
        if parts.is_empty() {
            "the same as the file on disk".to_string()
        } else {
            parts.join(", ")
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The journal folder.
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    /// A journal in this folder (created when first written).
    pub fn new(dir: PathBuf) -> Journal {
        Journal { dir }
    }

    fn file_for(&self, sidecar_path: &Path) -> PathBuf {
        let abs = sidecar_path
            .canonicalize()
            .unwrap_or_else(|_| sidecar_path.to_path_buf());
        let key = blake3::hash(abs.to_string_lossy().as_bytes()).to_hex();
        self.dir.join(format!("{}.ron", &key[..16]))
    }

    /// Records the unsaved state of a sidecar.
    pub fn record(&self, sidecar_path: &Path, sidecar: &Sidecar) -> Result<(), JournalError> {
        std::fs::create_dir_all(&self.dir).map_err(|source| JournalError::CreateFolder {
            path: self.dir.clone(),
            source,
        })?;
        let abs = sidecar_path.canonicalize().unwrap_or_else(|_| {
            // A sidecar not written yet: its folder exists.
            sidecar_path
                .parent()
                .and_then(|p| p.canonicalize().ok())
                .map(|p| p.join(sidecar_path.file_name().unwrap_or_default()))
                .unwrap_or_else(|| sidecar_path.to_path_buf())
        });
        // Written from the sidecar as it is, not from a copy made for the entry (a page of 40,000
        // spans is a few tens of megabytes in memory).
        let entry = EntryOf {
            sidecar_path: &abs,
            sidecar,
            unknown: &sidecar.unknown,
        };
        atomic_write(
            &self.file_for(sidecar_path),
            to_pretty_ron(&entry).as_bytes(),
        )?;
        Ok(())
    }

    /// Forgets a sidecar once it is saved (or its changes discarded).
    pub fn clear(&self, sidecar_path: &Path) {
        // Best effort: an entry left behind is offered again, and matching the sidecar on disk
        // it is then removed by `pending`.
        #[expect(clippy::let_underscore_must_use, reason = "best effort, said above")]
        let _ = std::fs::remove_file(self.file_for(sidecar_path));
        if let Some(parent) = sidecar_path.parent()
            && let Ok(dir) = parent.canonicalize()
        {
            #[expect(clippy::let_underscore_must_use, reason = "best effort, as above")]
            let _ = std::fs::remove_file(
                self.file_for(&dir.join(sidecar_path.file_name().unwrap_or_default())),
            );
        }
    }

    /// What is left from earlier runs: entries whose sidecar on disk differs from the journal.
    /// Unreadable journal files are skipped (and left alone).
    pub fn pending(&self) -> Vec<Entry> {
        let Ok(read) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for e in read.flatten() {
            let Ok(text) = std::fs::read_to_string(e.path()) else {
                continue;
            };
            let Ok(mut entry) = ron_options().from_str::<Entry>(&text) else {
                continue;
            };
            entry.sidecar.unknown = std::mem::take(&mut entry.unknown);
            let on_disk = Sidecar::load(&entry.sidecar_path).ok().map(|l| l.sidecar);
            let same = on_disk.is_some_and(|d| d.to_ron() == entry.sidecar.to_ron());
            if same {
                #[expect(
                    clippy::let_underscore_must_use,
                    reason = "an entry equal to the sidecar is harmless if it stays"
                )]
                let _ = std::fs::remove_file(e.path());
            } else {
                out.push(entry);
            }
        }
        out.sort_by(|a, b| a.sidecar_path.cmp(&b.sidecar_path));
        out
    }

    /// Writes a journal entry back to its sidecar, keeping what was on disk as a `.bak` copy.
    pub fn restore(&self, entry: &Entry) -> Result<(), JournalError> {
        if entry.sidecar_path.exists() {
            let bytes =
                std::fs::read(&entry.sidecar_path).map_err(|source| JournalError::ReadSidecar {
                    path: entry.sidecar_path.clone(),
                    source,
                })?;
            crate::fsutil::write_backup(&entry.sidecar_path, "before-restore", &bytes)?;
        }
        entry.sidecar.save(&entry.sidecar_path)?;
        self.clear(&entry.sidecar_path);
        Ok(())
    }

    /// Drops a journal entry without restoring it.
    pub fn discard(&self, entry: &Entry) {
        self.clear(&entry.sidecar_path);
    }
}

/// What the writer thread is asked to do, in order.
enum Job {
    /// The whole state of a sidecar, which the thread then holds.
    Record(PathBuf, Box<Sidecar>),
    /// The memo and status of the sidecar the thread holds: a keystroke in the memo of a page
    /// of tens of thousands of spans does not copy them all on the window's thread.
    Notes(PathBuf, String, Status),
    Clear(PathBuf),
    Flush(std::sync::mpsc::Sender<()>),
}

/// Writes the journal on a thread of its own, so that an edit (a keystroke in the memo) never waits
/// for the two fsyncs of a journal write. Requests are kept in order; of several records of one
/// sidecar waiting together only the last is written, as it holds all the others. A record is
/// written as soon as the thread is free (milliseconds), so a crash a second after an edit finds
/// it in the journal.
#[derive(Debug)]
pub struct JournalWriter {
    journal: Journal,
    jobs: Option<std::sync::mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The last write error, taken by [`JournalWriter::take_error`].
    error: std::sync::Arc<std::sync::Mutex<Option<String>>>,
    /// The sidecar whose whole state the thread holds (the last one recorded and not cleared),
    /// with the caller's key of its codings (see [`JournalWriter::record_notes`]).
    held: std::sync::Mutex<Option<(PathBuf, (u64, u64))>>,
}

impl JournalWriter {
    /// Starts the writer thread of `journal`; without a thread (the system refused one), writes
    /// happen on the caller's thread.
    pub fn start(journal: Journal) -> JournalWriter {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let error = std::sync::Arc::new(std::sync::Mutex::new(None));
        let (j, e) = (journal.clone(), error.clone());
        let thread = std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || writer_loop(&j, &rx, &e))
            .ok();
        JournalWriter {
            journal,
            jobs: thread.is_some().then_some(tx),
            thread,
            error,
            held: std::sync::Mutex::new(None),
        }
    }

    /// The journal written to.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Records the unsaved state of a sidecar, in the background.
    pub fn record(&self, sidecar_path: &Path, sidecar: &Sidecar) {
        self.record_keyed(sidecar_path, sidecar, None);
    }

    /// [`JournalWriter::record`] of a sidecar whose codings the caller knows by `key` (a
    /// document and its codings revision, [`crate::document::Document::codings_key`]), for
    /// [`JournalWriter::record_notes`] to come.
    pub fn record_keyed(&self, sidecar_path: &Path, sidecar: &Sidecar, key: Option<(u64, u64)>) {
        let job = Job::Record(sidecar_path.to_path_buf(), Box::new(sidecar.clone()));
        let taken = self.send(job);
        self.hold(match key {
            Some(key) if taken => Some((sidecar_path.to_path_buf(), key)),
            _ => None,
        });
    }

    /// Records a sidecar whose codings are those recorded last with the same `key` and whose
    /// memo or status may have changed: only the memo and status are sent then (the whole
    /// sidecar otherwise). A key changes with any change of the codings and with a document opened
    /// again, so a sidecar reloaded from disk is never written from the thread's older copy.
    pub fn record_notes(&self, sidecar_path: &Path, sidecar: &Sidecar, key: (u64, u64)) {
        let held = self.held.lock().is_ok_and(|h| {
            h.as_ref()
                .is_some_and(|(p, k)| p == sidecar_path && *k == key)
        });
        let notes = Job::Notes(
            sidecar_path.to_path_buf(),
            sidecar.memo.clone(),
            sidecar.status,
        );
        // A writer thread that is gone (it panicked) holds nothing: the whole sidecar is written
        // here instead.
        if !held
            || self
                .jobs
                .as_ref()
                .is_none_or(|jobs| jobs.send(notes).is_err())
        {
            self.record_keyed(sidecar_path, sidecar, Some(key));
        }
    }

    /// Forgets a sidecar, after the records asked for before.
    pub fn clear(&self, sidecar_path: &Path) {
        self.send(Job::Clear(sidecar_path.to_path_buf()));
        let held = self
            .held
            .lock()
            .is_ok_and(|h| h.as_ref().is_some_and(|(p, _)| p == sidecar_path));
        if held {
            self.hold(None);
        }
    }

    fn hold(&self, held: Option<(PathBuf, (u64, u64))>) {
        if let Ok(mut h) = self.held.lock() {
            *h = held;
        }
    }

    /// Waits until everything asked for so far is on disk.
    pub fn flush(&self) {
        let (tx, rx) = std::sync::mpsc::channel();
        if let Some(jobs) = &self.jobs
            && jobs.send(Job::Flush(tx)).is_ok()
        {
            #[expect(
                clippy::let_underscore_must_use,
                reason = "an error means the writer thread is gone: nothing left to wait for"
            )]
            let _ = rx.recv();
        }
    }

    /// The last error of a journal write, once.
    pub fn take_error(&self) -> Option<String> {
        self.error.lock().ok().and_then(|mut e| e.take())
    }

    /// Hands a job to the writer thread, or does it here when there is none; true when the
    /// thread took it.
    fn send(&self, job: Job) -> bool {
        let job = match &self.jobs {
            Some(jobs) => match jobs.send(job) {
                Ok(()) => return true,
                Err(std::sync::mpsc::SendError(job)) => job,
            },
            None => job,
        };
        run_job(&self.journal, job, &self.error);
        false
    }
}

impl Drop for JournalWriter {
    /// Finishes what was asked before the app goes away.
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            #[expect(
                clippy::let_underscore_must_use,
                reason = "a writer that panicked has nothing left to finish; its last error was kept"
            )]
            let _ = t.join();
        }
    }
}

fn writer_loop(
    journal: &Journal,
    jobs: &std::sync::mpsc::Receiver<Job>,
    error: &std::sync::Mutex<Option<String>>,
) {
    let mut held = Held::default();
    while let Ok(first) = jobs.recv() {
        // Whatever else is waiting is taken too, so a burst of keystrokes becomes one write.
        let mut batch = vec![first];
        batch.extend(jobs.try_iter());
        for job in batch {
            held.run(journal, job, error);
        }
        held.write(journal, error);
    }
    held.write(journal, error);
}

/// The writer's state: the sidecar it holds, and whether its last state is not written yet.
#[derive(Default)]
struct Held {
    sidecar: Option<(PathBuf, Box<Sidecar>)>,
    unwritten: bool,
}

impl Held {
    /// Applies a job; a write waits for the end of the batch, or for a job about another sidecar.
    fn run(&mut self, journal: &Journal, job: Job, error: &std::sync::Mutex<Option<String>>) {
        match job {
            Job::Record(path, sidecar) => {
                if self.sidecar.as_ref().is_some_and(|(p, _)| *p != path) {
                    self.write(journal, error);
                }
                self.sidecar = Some((path, sidecar));
                self.unwritten = true;
            }
            Job::Notes(path, memo, status) => match &mut self.sidecar {
                Some((p, s)) if *p == path => {
                    s.memo = memo;
                    s.status = status;
                    self.unwritten = true;
                }
                _ => report(
                    error,
                    format!(
                        "the journal was sent the memo of {} without the rest of it",
                        path.display()
                    ),
                ),
            },
            Job::Clear(path) => {
                if self.sidecar.as_ref().is_some_and(|(p, _)| *p == path) {
                    self.sidecar = None;
                    self.unwritten = false;
                }
                journal.clear(&path);
            }
            Job::Flush(done) => {
                self.write(journal, error);
                #[expect(
                    clippy::let_underscore_must_use,
                    reason = "the flusher stopped waiting: nobody to tell"
                )]
                let _ = done.send(());
            }
        }
    }

    fn write(&mut self, journal: &Journal, error: &std::sync::Mutex<Option<String>>) {
        if let (true, Some((path, sidecar))) = (self.unwritten, &self.sidecar) {
            if let Err(e) = journal.record(path, sidecar) {
                report(error, e.to_string());
            }
            self.unwritten = false;
        }
    }
}

fn report(error: &std::sync::Mutex<Option<String>>, message: String) {
    if let Ok(mut slot) = error.lock() {
        *slot = Some(message);
    }
}

/// A job done on the caller's thread, when the system gave the writer none.
fn run_job(journal: &Journal, job: Job, error: &std::sync::Mutex<Option<String>>) {
    match job {
        Job::Record(path, sidecar) => {
            if let Err(e) = journal.record(&path, &sidecar) {
                report(error, e.to_string());
            }
        }
        // Never sent without a thread: `held` stays empty, so notes go as whole records.
        Job::Notes(..) => {}
        Job::Clear(path) => journal.clear(&path),
        Job::Flush(done) => {
            #[expect(
                clippy::let_underscore_must_use,
                reason = "the flusher stopped waiting: nobody to tell"
            )]
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codebook::Codebook;
    use crate::sidecar::Annotator;
    use crate::transcript::Transcript;

    #[test]
    fn record_pending_restore() {
        let dir = tempfile::tempdir().unwrap();
        let t = Transcript::from_text("p.txt", "Just some text.", "UTF-8".into(), Vec::new());
        let mut s = Sidecar::new(
            Annotator {
                id: "a".into(),
                name: "A".into(),
            },
            &t,
            &Codebook::builtin(),
        );
        let path = dir.path().join("p.txt.a.ron");
        s.save(&path).unwrap();
        let journal = Journal::new(dir.path().join("journal"));
        s.memo = "unsaved work".into();
        journal.record(&path, &s).unwrap();
        let pending = journal.pending();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].sidecar.memo, "unsaved work");
        assert_eq!(pending[0].changes(), "memo changed");
        let mut tagged = pending[0].clone();
        tagged
            .sidecar
            .tags
            .entry(crate::transcript::PartId::TEXT)
            .or_default()
            .insert("topic".into(), vec!["housing".into(), "transport".into()]);
        assert_eq!(tagged.changes(), "2 codings added or changed, memo changed");
        journal.restore(&pending[0]).unwrap();
        assert_eq!(Sidecar::load(&path).unwrap().sidecar.memo, "unsaved work");
        assert!(journal.pending().is_empty());
        // Saved normally: nothing to offer.
        journal.record(&path, &s).unwrap();
        assert!(journal.pending().is_empty(), "the disk already has it");
    }

    /// The background writer keeps the order of records and clears, writes the last of a burst,
    /// and keeps fields this version does not know for a restore.
    #[test]
    fn the_writer_thread_keeps_order_and_the_last_state() {
        let dir = tempfile::tempdir().unwrap();
        let t = Transcript::from_text("p.txt", "Just some text.", "UTF-8".into(), Vec::new());
        let who = Annotator {
            id: "a".into(),
            name: "A".into(),
        };
        let mut s = Sidecar::new(who, &t, &Codebook::builtin());
        let path = dir.path().join("p.txt.a.ron");
        s.save(&path).unwrap();
        s.unknown = vec![("later_field".into(), "(x: 1)".into())];
        let writer = JournalWriter::start(Journal::new(dir.path().join("journal")));
        for i in 0..200 {
            s.memo = format!("typed {i}");
            writer.record(&path, &s);
        }
        writer.flush();
        let pending = writer.journal().pending();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].sidecar.memo, "typed 199");
        assert_eq!(pending[0].sidecar.unknown, s.unknown);
        writer.record(&path, &s);
        writer.clear(&path);
        writer.flush();
        assert!(writer.journal().pending().is_empty());
        assert!(writer.take_error().is_none());
        // Dropping the writer finishes what was asked.
        s.memo = "last".into();
        writer.record(&path, &s);
        let journal = writer.journal().clone();
        drop(writer);
        assert_eq!(journal.pending()[0].sidecar.memo, "last");
    }

    /// An entry written from borrowed parts is the text of the entry itself, with fields this
    /// version does not know and without.
    #[test]
    fn entries_are_written_as_entries() {
        let t = Transcript::from_text("p.txt", "Just some text.", "UTF-8".into(), Vec::new());
        let who = Annotator {
            id: "a".into(),
            name: "A".into(),
        };
        let mut s = Sidecar::new(who, &t, &Codebook::builtin());
        for unknown in [
            vec![],
            vec![("later_field".to_string(), "(x: 1)".to_string())],
        ] {
            s.unknown = unknown;
            let path = PathBuf::from("/corpus/p.txt.a.ron");
            let owned = Entry {
                sidecar_path: path.clone(),
                sidecar: s.clone(),
                unknown: s.unknown.clone(),
            };
            let borrowed = EntryOf {
                sidecar_path: &path,
                sidecar: &s,
                unknown: &s.unknown,
            };
            assert_eq!(to_pretty_ron(&borrowed), to_pretty_ron(&owned));
        }
    }

    /// Keystrokes in the memo send the memo and status alone once the writer holds the rest;
    /// what it writes is the whole sidecar as the window has it, through records of another
    /// sidecar, clears and a writer without its snapshot.
    #[test]
    fn memo_keystrokes_journal_the_whole_sidecar() {
        let dir = tempfile::tempdir().unwrap();
        let t = Transcript::from_text(
            "p.txt",
            "Q: Why?\n\nA: Because the Home Office said so.\n",
            "UTF-8".into(),
            Vec::new(),
        );
        let who = Annotator {
            id: "a".into(),
            name: "A".into(),
        };
        let mut s = Sidecar::new(who.clone(), &t, &Codebook::builtin());
        let path = dir.path().join("p.txt.a.ron");
        s.save(&path).unwrap();
        let other_path = dir.path().join("q.txt.a.ron");
        let mut other = Sidecar::new(who, &t, &Codebook::builtin());
        other.save(&other_path).unwrap();
        let writer = JournalWriter::start(Journal::new(dir.path().join("journal")));
        let answer = t.answer().to_string();
        let at = answer.find("Home Office").unwrap();
        s.spans.push(
            crate::sidecar::Span::new(
                "a-1".into(),
                crate::transcript::PartId::ANSWER,
                &answer,
                at,
                at + 11,
                "d",
                "v",
            )
            .unwrap(),
        );
        // Notes before anything is held go whole.
        let key = (7, 0);
        s.memo = "first".into();
        writer.record_notes(&path, &s, key);
        for i in 0..50 {
            s.memo = format!("typed {i}");
            s.status = if i % 2 == 0 {
                Status::InProgress
            } else {
                Status::Done
            };
            writer.record_notes(&path, &s, key);
        }
        writer.flush();
        let entry = |w: &JournalWriter, p: &Path| {
            w.journal()
                .pending()
                .into_iter()
                .find(|e| e.sidecar_path.ends_with(p.file_name().unwrap()))
        };
        assert_eq!(entry(&writer, &path).unwrap().sidecar, s);
        // Another sidecar recorded between keystrokes: each is written whole.
        other.memo = "other".into();
        writer.record(&other_path, &other);
        s.memo = "after the other".into();
        writer.record_notes(&path, &s, key);
        writer.flush();
        assert_eq!(entry(&writer, &path).unwrap().sidecar, s);
        assert_eq!(entry(&writer, &other_path).unwrap().sidecar, other);
        // Saved and cleared: the next keystroke sends the whole sidecar again.
        writer.clear(&path);
        s.memo = "after the save".into();
        writer.record_notes(&path, &s, key);
        writer.flush();
        assert_eq!(entry(&writer, &path).unwrap().sidecar, s);
        // The codings changed without a record (the file taken from disk, another document
        // opened): another key, so the whole sidecar goes, not notes on the older copy.
        s.spans.clear();
        s.memo = "after a reload".into();
        writer.record_notes(&path, &s, (8, 0));
        writer.flush();
        assert_eq!(entry(&writer, &path).unwrap().sidecar, s);
        assert!(writer.take_error().is_none());
    }
}
