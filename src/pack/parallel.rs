//! Work spread over the cores: looking at thousands of tenants' files is system calls, which
//! two threads or more overlap.

/// How many threads such work takes: the available cores, up to four.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| cores.get().min(4))
}

/// `items` mapped by `work` on the available cores (up to four), in order, each thread with
/// a `state` of its own; below 64 items, on this thread.
pub fn on_all_cores<T: Sync, S, R: Send>(
    items: &[T],
    state: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, &T) -> R + Sync,
) -> Vec<R> {
    let threads = threads();
    let part = |part: &[T]| {
        let mut state = state();
        part.iter()
            .map(|item| work(&mut state, item))
            .collect::<Vec<R>>()
    };
    if items.len() < 64 || threads < 2 {
        return part(items);
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|items| scope.spawn(|| part(items)))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}
