//! Work on every core with the results taken in order, without waiting between batches.
//!
//! The corpus commands read documents a chunk at a time on every core and then handed the
//! chunk's results to one writer while the cores waited; the writer's share (copying a `.qdpx`'s
//! pieces, writing lines) and the slowest document of each chunk left a core idle for a tenth of
//! the run. Here the workers take the next index as soon as they are free, up to a window ahead
//! of the writer, so the results held are bounded by the window, not by the input.

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Condvar, Mutex, mpsc};

/// Where the workers are: the next index to take, how many results the sink has taken, and
/// whether to stop (the sink failed or a worker panicked).
struct Progress {
    next: usize,
    sunk: usize,
    stop: bool,
    /// Workers waiting for the sink to move: waking nobody is a system call per result saved.
    waiting: usize,
}

/// Calls `map(i)` for every `i` in `0..count` on `threads` worker threads and hands each result
/// to `sink` on the calling thread in the order of `i`. No worker starts `i` before the sink
/// has taken `i - window` (so at most `window` results wait). Stops at the first error of `sink`
/// and returns it; a panic in `map` is resumed on the calling thread once the workers stopped.
pub fn map_in_order<T: Send, E>(
    count: usize,
    threads: usize,
    window: usize,
    map: impl Fn(usize) -> T + Sync,
    mut sink: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E> {
    let window = window.max(1);
    let progress = Mutex::new(Progress {
        next: 0,
        sunk: 0,
        stop: false,
        waiting: 0,
    });
    let moved = Condvar::new();
    // A poisoned lock only means a worker panicked while holding it, which `take` never does
    // (the map runs outside the lock); its state is still whole.
    let lock = || {
        progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    let stop = || {
        lock().stop = true;
        moved.notify_all();
    };
    let take = || -> Option<usize> {
        let mut p = lock();
        loop {
            if p.stop || p.next >= count {
                return None;
            }
            if p.next < p.sunk + window {
                p.next += 1;
                return Some(p.next - 1);
            }
            p.waiting += 1;
            p = moved
                .wait(p)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            p.waiting -= 1;
        }
    };
    std::thread::scope(|scope| {
        // However this thread leaves (the sink's error, a worker's panic resumed, a panic in the
        // sink), the workers are told to stop: one waiting for the sink to move would otherwise
        // keep the scope, and the command, from ever ending.
        let _stop_on_leaving = OnDrop(&stop);
        let (tx, rx) = mpsc::channel();
        for _ in 0..threads.clamp(1, count.max(1)) {
            let tx = tx.clone();
            let (take, map) = (&take, &map);
            scope.spawn(move || {
                while let Some(i) = take() {
                    let result = panic::catch_unwind(AssertUnwindSafe(|| map(i)));
                    if tx.send((i, result)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let mut waiting = BTreeMap::new();
        let mut next = 0;
        // Ends when every worker has returned (every index taken, or stopped).
        while let Ok((i, result)) = rx.recv() {
            waiting.insert(i, result);
            while let Some(result) = waiting.remove(&next) {
                match result {
                    Ok(value) => sink(value)?,
                    Err(payload) => panic::resume_unwind(payload),
                }
                next += 1;
                let mut p = lock();
                p.sunk = next;
                if p.waiting > 0 {
                    moved.notify_all();
                }
            }
        }
        Ok(())
    })
}

/// Calls its function when dropped, unwinding included.
struct OnDrop<F: Fn()>(F);

impl<F: Fn()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// [`map_in_order`] over `items` by groups of up to `group` consecutive items, on every core
/// (rayon's thread count), no core more than `ahead` items ahead of `sink`.
pub fn map_groups_in_order<I: Sync, T: Send, E>(
    items: &[I],
    group: usize,
    ahead: usize,
    map: impl Fn(&[I]) -> T + Sync,
    sink: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E> {
    let group = group.max(1);
    let groups: Vec<&[I]> = items.chunks(group).collect();
    map_in_order(
        groups.len(),
        rayon::current_num_threads(),
        ahead.div_ceil(group),
        |i| map(groups[i]),
        sink,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn results_come_in_order_whatever_finishes_first() {
        for threads in [1, 2, 3, 8] {
            let mut seen = Vec::new();
            let outcome: Result<(), ()> = map_in_order(
                200,
                threads,
                7,
                |i| {
                    // Early indices take longest, so later ones finish first.
                    std::thread::sleep(std::time::Duration::from_micros(
                        ((200 - i) % 13) as u64 * 50,
                    ));
                    i * 3
                },
                |v| {
                    seen.push(v);
                    Ok(())
                },
            );
            assert_eq!(outcome, Ok(()));
            assert_eq!(
                seen,
                (0..200).map(|i| i * 3).collect::<Vec<_>>(),
                "{threads} threads"
            );
        }
    }

    #[test]
    fn no_worker_runs_further_ahead_than_the_window() {
        let sunk = AtomicUsize::new(0);
        let ahead = AtomicUsize::new(0);
        let outcome: Result<(), ()> = map_in_order(
            300,
            4,
            5,
            |i| {
                let s = sunk.load(Ordering::SeqCst);
                ahead.fetch_max(i - s.min(i), Ordering::SeqCst);
            },
            |()| {
                sunk.fetch_add(1, Ordering::SeqCst);
                Ok(())
            },
        );
        assert_eq!(outcome, Ok(()));
        assert_eq!(sunk.load(Ordering::SeqCst), 300);
        // Index i starts only once i - 5 results were taken: at most 4 ahead of the count.
        assert!(
            ahead.load(Ordering::SeqCst) < 5,
            "{}",
            ahead.load(Ordering::SeqCst)
        );
    }

    #[test]
    fn the_first_error_of_the_sink_stops_the_work() {
        let mapped = AtomicUsize::new(0);
        let mut taken = 0;
        let outcome = map_in_order(
            10_000,
            2,
            4,
            |i| {
                mapped.fetch_add(1, Ordering::SeqCst);
                i
            },
            |i| {
                taken += 1;
                if i == 10 { Err("full disk") } else { Ok(()) }
            },
        );
        assert_eq!(outcome, Err("full disk"));
        assert_eq!(taken, 11);
        assert!(
            mapped.load(Ordering::SeqCst) <= 11 + 4,
            "{}",
            mapped.load(Ordering::SeqCst)
        );
    }

    #[test]
    fn a_panic_in_the_map_reaches_the_caller() {
        let caught = panic::catch_unwind(|| {
            let _outcome: Result<(), ()> = map_in_order(
                100,
                2,
                3,
                |i| assert!(i != 40, "document 40 is broken"),
                |()| Ok(()),
            );
        });
        let payload = caught.expect_err("the panic is resumed");
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
            .unwrap_or_default();
        assert!(message.contains("document 40"), "{message}");
    }

    /// A sink that panics while workers wait for it to move ends the run with its panic, not a
    /// hang.
    #[test]
    fn a_panic_in_the_sink_reaches_the_caller() {
        let caught = panic::catch_unwind(|| {
            let _outcome: Result<(), ()> = map_in_order(
                1_000,
                2,
                2,
                |i| i,
                |i| {
                    assert!(i != 5, "the writer failed at 5");
                    Ok(())
                },
            );
        });
        assert!(caught.is_err());
    }

    #[test]
    fn nothing_to_do_is_done() {
        let outcome: Result<(), ()> = map_in_order(0, 2, 4, |_| unreachable!(), |()| Ok(()));
        assert_eq!(outcome, Ok(()));
    }
}
