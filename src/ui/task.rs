//! Background work, one type for every job: the corpus loader, the file dialogs, the agreement
//! computation, the export and the project import. A job runs on a named thread, sends what it has
//! through a [`Reporter`] (which wakes the window), and the app takes it in `poll_tasks`, once per
//! frame, for every job.

use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::thread::JoinHandle;

/// Sends a job's messages to the window and wakes it.
pub struct Reporter<T> {
    tx: Sender<T>,
    repaint: Option<egui::Context>,
}

impl<T> Reporter<T> {
    /// Sends one message; false once the window no longer listens (the job may stop).
    pub fn send(&self, message: T) -> bool {
        let sent = self.tx.send(message).is_ok();
        if let Some(ctx) = &self.repaint {
            ctx.request_repaint();
        }
        sent
    }
}

impl<T> Drop for Reporter<T> {
    /// The job ended: the window learns it at its next frame, not at the next input.
    fn drop(&mut self) {
        if let Some(ctx) = &self.repaint {
            ctx.request_repaint();
        }
    }
}

/// A job on its own thread and the messages it sent.
pub struct Task<T> {
    rx: Receiver<T>,
    handle: Option<JoinHandle<()>>,
    finished: bool,
}

/// What a job sent since the last look, and whether it has ended.
pub struct Polled<T> {
    /// The messages, in the order sent.
    pub messages: Vec<T>,
    /// The job ended (its thread returned or panicked): nothing more will come.
    pub finished: bool,
}

impl<T: Send + 'static> Task<T> {
    /// Runs `work` on a thread named `name`; `repaint` is woken by every message and at the end.
    pub fn spawn(
        name: &str,
        repaint: Option<egui::Context>,
        work: impl FnOnce(Reporter<T>) + Send + 'static,
    ) -> Result<Task<T>, String> {
        let (tx, rx) = channel();
        let reporter = Reporter { tx, repaint };
        let handle = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || work(reporter))
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        Ok(Task {
            rx,
            handle: Some(handle),
            finished: false,
        })
    }

    /// Takes what arrived, without waiting.
    pub fn poll(&mut self) -> Polled<T> {
        let mut messages = Vec::new();
        loop {
            match self.rx.try_recv() {
                Ok(m) => messages.push(m),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    self.finished = true;
                    break;
                }
            }
        }
        Polled {
            messages,
            finished: self.finished,
        }
    }

    /// Takes the one result of a single-answer job: `Some(None)` when it ended without one.
    pub fn poll_once(&mut self) -> Option<Option<T>> {
        let Polled { messages, finished } = self.poll();
        match messages.into_iter().next() {
            Some(m) => Some(Some(m)),
            None if finished => Some(None),
            None => None,
        }
    }

    /// Blocks until the job's thread has ended; its messages stay to be polled. For tests and
    /// for leaving: the window waits on the job, never on the clock.
    pub fn wait(&mut self) {
        if let Some(h) = self.handle.take() {
            // A panicked job has ended too; its sender is gone and `poll` says finished.
            drop(h.join());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_arrive_in_order_and_the_end_is_seen() {
        let mut task = Task::spawn("test-job", None, |r: Reporter<u32>| {
            for i in 0..5 {
                r.send(i);
            }
        })
        .unwrap();
        task.wait();
        let polled = task.poll();
        assert_eq!(polled.messages, vec![0, 1, 2, 3, 4]);
        assert!(polled.finished);
    }

    #[test]
    fn a_job_that_panics_ends_without_a_result() {
        let mut task = Task::spawn("test-panic", None, |_r: Reporter<u32>| {
            panic!("the job failed");
        })
        .unwrap();
        task.wait();
        assert_eq!(task.poll_once(), Some(None));
    }

    #[test]
    fn a_single_answer_is_taken_once() {
        let mut task = Task::spawn("test-once", None, |r: Reporter<&'static str>| {
            r.send("done");
        })
        .unwrap();
        task.wait();
        assert_eq!(task.poll_once(), Some(Some("done")));
        assert_eq!(task.poll_once(), Some(None));
    }
}
