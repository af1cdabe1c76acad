//! Data parallelism for the phases that work item by item (parsing declarations,
//! checking declarations): the items are split into contiguous runs, a few per core,
//! which the threads take in turn as each finishes its last, so that one slow run does
//! not leave the other cores idle; the results come back in item order, so output does
//! not depend on the thread count.

use std::num::NonZeroUsize;
use std::sync::{Mutex, OnceLock};

/// Below this many items, work stays on the calling thread.
const MIN_PARALLEL: usize = 64;

/// How many runs each thread gets on average: enough for the threads to even out runs
/// of unequal cost (and a core the host stalls for a while), few enough that each run's
/// fixed costs stay small (docs/performance.md: eight measured a little faster than
/// four once a run of declarations was parsed in one piece).
const RUNS_PER_THREAD: usize = 8;

/// How many threads to use: the cores available, or `SORCHAC_THREADS` when set (read
/// once per process).
pub fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        std::env::var("SORCHAC_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(NonZeroUsize::get)
                    .unwrap_or(1)
            })
            .min(16)
    })
}

/// The length of the runs `len` items are split into on `n` threads.
fn run_len(len: usize, n: usize) -> usize {
    len.div_ceil(n * RUNS_PER_THREAD).max(1)
}

/// Applies `f` to contiguous runs of `items` on several threads and returns the
/// results of the runs in order. `f` sees each run with the index of its first item.
pub fn runs<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &[T]) -> R + Sync) -> Vec<R> {
    let n = threads();
    if n <= 1 || items.len() < MIN_PARALLEL {
        return vec![f(0, items)];
    }
    let size = run_len(items.len(), n);
    on_threads(items.chunks(size), size, &f)
}

/// Like `runs`, with each run mutable.
pub fn runs_mut<T: Send, R: Send>(
    items: &mut [T],
    f: impl Fn(usize, &mut [T]) -> R + Sync,
) -> Vec<R> {
    let n = threads();
    if n <= 1 || items.len() < MIN_PARALLEL {
        return vec![f(0, items)];
    }
    let size = run_len(items.len(), n);
    on_threads(items.chunks_mut(size), size, &f)
}

/// Applies `f` to each of a few heavy items (environments, say) on several threads,
/// however few they are, each thread taking the next item when it is done with one;
/// results in order.
pub fn each<'a, T: Sync, R: Send>(items: &'a [T], f: impl Fn(&'a T) -> R + Sync) -> Vec<R> {
    if threads() <= 1 || items.len() <= 1 {
        return items.iter().map(f).collect();
    }
    on_threads(items.iter(), 1, &|_, item: &'a T| f(item))
}

/// Like `each`, with the items moved into `f`.
pub fn each_owned<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    if threads() <= 1 || items.len() <= 1 {
        return items.into_iter().map(f).collect();
    }
    on_threads(items.into_iter(), 1, &|_, item: T| f(item))
}

/// Runs `f` on every run on up to `threads()` threads, the calling thread among them,
/// each taking the next run not yet taken; results in run order.
fn on_threads<C: Send, R: Send>(
    runs: impl Iterator<Item = C>,
    size: usize,
    f: &(impl Fn(usize, C) -> R + Sync),
) -> Vec<R> {
    let runs: Vec<(usize, C)> = runs.enumerate().map(|(i, run)| (i * size, run)).collect();
    let count = runs.len();
    let queue = Mutex::new(runs.into_iter());
    // A run is taken under the lock and worked on outside it; a thread that panics
    // does so outside the lock, so the queue is never left poisoned midway.
    let next = || match queue.lock() {
        Ok(mut q) => q.next(),
        Err(poisoned) => poisoned.into_inner().next(),
    };
    let work = || {
        let mut done = Vec::new();
        while let Some((start, run)) = next() {
            done.push((start, f(start, run)));
        }
        done
    };
    let mut done: Vec<(usize, R)> = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads().min(count)).map(|_| s.spawn(work)).collect();
        let mut done = work();
        for h in helpers {
            match h.join() {
                Ok(d) => done.extend(d),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        done
    });
    done.sort_unstable_by_key(|(start, _)| *start);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Runs `a` and `b` at once, `b` on another thread when there is a core for it;
/// returns both results.
pub fn join<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if threads() <= 1 {
        return (a(), b());
    }
    std::thread::scope(|s| {
        let other = s.spawn(b);
        let first = a();
        match other.join() {
            Ok(second) => (first, second),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order() {
        let items: Vec<usize> = (0..1000).collect();
        let sums = runs(&items, |start, run| (start, run.iter().sum::<usize>()));
        assert_eq!(sums.iter().map(|(_, s)| s).sum::<usize>(), 499_500);
        let starts: Vec<usize> = sums.iter().map(|(s, _)| *s).collect();
        let mut sorted = starts.clone();
        sorted.sort_unstable();
        assert_eq!(starts, sorted);
    }

    #[test]
    fn every_item_is_in_exactly_one_run_in_order() {
        let items: Vec<usize> = (0..1000).collect();
        let runs = runs(&items, |start, run| {
            assert_eq!(run.first(), Some(&start));
            run.to_vec()
        });
        assert_eq!(runs.concat(), items);
    }

    #[test]
    fn results_keep_their_order_whichever_finishes_first() {
        // The first items are the slowest: the threads take the later ones meanwhile.
        let items: Vec<u64> = vec![40, 30, 20, 10, 0, 0, 0, 0];
        let out = each_owned(items.clone(), |ms| {
            std::thread::sleep(std::time::Duration::from_millis(ms));
            ms
        });
        assert_eq!(out, items);
        assert_eq!(each(&items, |ms| *ms), items);
    }

    #[test]
    fn join_returns_both_results_in_place() {
        let (a, b) = join(
            || {
                std::thread::sleep(std::time::Duration::from_millis(20));
                "first"
            },
            || 2 + 2,
        );
        assert_eq!((a, b), ("first", 4));
    }
}
