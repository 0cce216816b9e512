//! Work spread over the cores: looking at thousands of tenants' files is system calls, which
//! two threads or more overlap.

/// How many threads such work takes: the available cores, up to four.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| cores.get().min(4))
}

/// How many items a thread of `in_order` takes at a time.
const TAKEN_AT_ONCE: usize = 8;

/// How far ahead of the one taking the results the threads of `in_order` may go, in items.
const AHEAD: usize = 256;

/// The items a thread of `in_order` takes, and where the one taking the results stands.
struct Queue<I> {
    items: I,
    /// Items handed to threads so far.
    handed: usize,
    /// Results taken so far: no thread goes more than `AHEAD` items past them.
    taken: usize,
    /// Set when the results are no longer wanted.
    stop: bool,
}

/// Runs its function when dropped in a panic.
struct OnPanic<F: Fn()>(F);

impl<F: Fn()> Drop for OnPanic<F> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            (self.0)();
        }
    }
}

/// `items` mapped by `work` on the available cores (up to four) and passed to `take` in
/// order, as they come: the threads live for the whole of it (starting two threads for each
/// slice of a few hundred tenants left the cores idle a third of the time) and stay at most
/// a few hundred items ahead of `take`, so that what waits is bounded and the directories
/// just listed are still among a pack's handles when they are looked at again. `take`
/// runs on this thread, alongside, and keeps what it needs of each result (made anew: see
/// below); its first error stops the threads and is returned.
///
/// The results are freed by the thread that made them: they are handed back to it once
/// taken. Freed here, their small blocks went to this thread's cache of the allocator,
/// which gave them out again for what this thread keeps (the plan), pinning the threads'
/// arenas, which then grew all along (some 7 MB each at 100,000 tenants).
pub fn in_order<T: Send, S, R: Send>(
    items: impl Iterator<Item = T> + Send,
    state: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, T) -> R + Sync,
    mut take: impl FnMut(&mut R) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    use std::sync::{mpsc, Condvar, Mutex, PoisonError};
    let threads = threads();
    if threads < 2 {
        let mut state = state();
        for item in items {
            take(&mut work(&mut state, item))?;
        }
        return Ok(());
    }
    let queue = Mutex::new(Queue {
        items,
        handed: 0,
        taken: 0,
        stop: false,
    });
    let room = Condvar::new();
    let lock = || queue.lock().unwrap_or_else(PoisonError::into_inner);
    let halt = || {
        lock().stop = true;
        room.notify_all();
    };
    std::thread::scope(|scope| {
        let (send, results) = mpsc::channel::<(usize, usize, Vec<R>)>();
        let mut give_back = Vec::with_capacity(threads);
        for thread in 0..threads {
            let send = send.clone();
            let (back, taken_back) = mpsc::channel::<Vec<R>>();
            give_back.push(back);
            let (lock, room, state, work) = (&lock, &room, &state, &work);
            let halt = &halt;
            scope.spawn(move || {
                // A thread that panics stops the others, which could otherwise wait for
                // room that the results it never sends would have made.
                let _halt_on_panic = OnPanic(halt);
                let mut state = state();
                loop {
                    taken_back.try_iter().for_each(drop);
                    let (first, batch) = {
                        let mut queue = lock();
                        while !queue.stop && queue.handed - queue.taken >= AHEAD {
                            queue = room.wait(queue).unwrap_or_else(PoisonError::into_inner);
                        }
                        if queue.stop {
                            return;
                        }
                        let batch: Vec<T> = queue.items.by_ref().take(TAKEN_AT_ONCE).collect();
                        let first = queue.handed;
                        queue.handed += batch.len();
                        (first, batch)
                    };
                    if batch.is_empty() {
                        return;
                    }
                    let done = batch
                        .into_iter()
                        .map(|item| work(&mut state, item))
                        .collect();
                    if send.send((first, thread, done)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(send);
        // A thread that panics drops its sender and stops the others: the loop ends, and
        // the scope passes the panic on. So does a panic of `take`: the scope waits for
        // every thread before it passes it on.
        let _halt_on_panic = OnPanic(&halt);
        let mut waiting = std::collections::BTreeMap::new();
        let mut next = 0;
        for (first, thread, done) in results.iter() {
            waiting.insert(first, (thread, done));
            while let Some((thread, mut done)) = waiting.remove(&next) {
                next += done.len();
                for result in &mut done {
                    if let Err(error) = take(result) {
                        halt();
                        return Err(error);
                    }
                }
                lock().taken = next;
                room.notify_all();
                // A thread that has ended drops it back here: only the last few.
                let _ = give_back[thread].send(done);
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn in_order_gives_every_result_in_the_order_of_the_items() {
        let mut taken = Vec::new();
        in_order(
            0..10_000u32,
            || 0u32,
            |calls, item| {
                *calls += 1;
                // Uneven work, so that the threads finish out of order.
                if item % 97 == 0 {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                item * 2
            },
            |result| {
                taken.push(*result);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(
            taken,
            (0..10_000u32).map(|item| item * 2).collect::<Vec<_>>()
        );
    }

    #[test]
    fn in_order_stops_at_the_first_error_and_stays_a_bounded_way_ahead() {
        let worked = AtomicUsize::new(0);
        let mut taken = 0;
        let error = in_order(
            0..1_000_000usize,
            || (),
            |(), item| {
                worked.fetch_add(1, Ordering::Relaxed);
                item
            },
            |item| {
                taken += 1;
                anyhow::ensure!(*item < 500, "item {item}");
                Ok(())
            },
        )
        .unwrap_err();
        assert_eq!(error.to_string(), "item 500");
        assert_eq!(taken, 501);
        // The threads stop within a few batches of the one taking the results.
        let worked = worked.load(Ordering::Relaxed);
        assert!(
            worked <= 501 + AHEAD + threads() * TAKEN_AT_ONCE,
            "{worked}"
        );
    }

    #[test]
    fn in_order_passes_a_panic_of_take_on() {
        let outcome = std::panic::catch_unwind(|| {
            in_order(
                0..100_000u32,
                || (),
                |(), item| item,
                |item| {
                    assert_ne!(*item, 700);
                    Ok(())
                },
            )
        });
        assert!(outcome.is_err());
    }

    #[test]
    fn in_order_passes_a_threads_panic_on() {
        let outcome = std::panic::catch_unwind(|| {
            in_order(
                0..1_000u32,
                || (),
                |(), item| assert_ne!(item, 700),
                |()| Ok(()),
            )
        });
        assert!(outcome.is_err());
    }
}
