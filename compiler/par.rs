//! Data parallelism for the phases that work item by item (parsing declarations,
//! checking declarations): the items are split into contiguous runs, one per core, and
//! the results come back in item order, so output does not depend on the thread count.

use std::num::NonZeroUsize;
use std::sync::OnceLock;

/// Below this many items, work stays on the calling thread.
const MIN_PARALLEL: usize = 64;

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

/// Applies `f` to contiguous runs of `items` on several threads and returns the
/// results of the runs in order. `f` sees each run with the index of its first item.
pub fn runs<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &[T]) -> R + Sync) -> Vec<R> {
    let n = threads();
    if n <= 1 || items.len() < MIN_PARALLEL {
        return vec![f(0, items)];
    }
    let size = items.len().div_ceil(n);
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
    let size = items.len().div_ceil(n);
    on_threads(items.chunks_mut(size), size, &f)
}

/// Applies `f` to each of a few heavy items (environments, say) on several threads,
/// however few they are; results in order.
pub fn each<'a, T: Sync, R: Send>(items: &'a [T], f: impl Fn(&'a T) -> R + Sync) -> Vec<R> {
    let n = threads();
    if n <= 1 || items.len() <= 1 {
        return items.iter().map(f).collect();
    }
    let size = items.len().div_ceil(n);
    let runs = on_threads(items.chunks(size), size, &|_, run: &'a [T]| {
        run.iter().map(&f).collect::<Vec<R>>()
    });
    runs.into_iter().flatten().collect()
}

/// Runs `f` on every run, the last on the calling thread and each other on a thread of
/// its own; results in order.
fn on_threads<C: Send, R: Send>(
    runs: impl Iterator<Item = C>,
    size: usize,
    f: &(impl Fn(usize, C) -> R + Sync),
) -> Vec<R> {
    let mut runs: Vec<(usize, C)> = runs.enumerate().map(|(i, run)| (i * size, run)).collect();
    let Some((at, last)) = runs.pop() else {
        return Vec::new();
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = runs
            .into_iter()
            .map(|(start, run)| s.spawn(move || f(start, run)))
            .collect();
        let last = f(at, last);
        let mut out: Vec<R> = handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect();
        out.push(last);
        out
    })
}

/// Drops `items` on all cores (large trees of small allocations take a while to free).
pub fn drop_all<T: Send>(mut items: Vec<T>) {
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    runs_mut(&mut slots, |_, run| {
        for slot in run {
            drop(slot.take());
        }
    });
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
}
