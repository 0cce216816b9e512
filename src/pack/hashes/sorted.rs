//! Sorting what the hash cache holds by key, without a second copy of it: at 100,000 tenants
//! a cache file holds 270,000 entries, and a buffer the size of half of them was once the
//! peak of memory of a first run.

/// Sorts `items` by `key` and keeps, of those with the same key, the one given last. Their
/// positions are sorted, not the items, which are then moved in place: a stable sort of the
/// items themselves took a buffer of half of them (12 MB at the peak of a first run at
/// 100,000 tenants, as its 270,000 hashes were saved).
pub(super) fn keep_last_of_each<T: Copy, K: Ord>(items: &mut Vec<T>, key: impl Fn(&T) -> K) {
    let Ok(len) = u32::try_from(items.len()) else {
        // Beyond any cache file (`MAX_CACHE_FILE`): the plain way.
        items.reverse();
        items.sort_by_key(&key);
        items.dedup_by(|later, first| key(later) == key(first));
        return;
    };
    // By key, and of one key the last given first.
    let mut order: Vec<u32> = (0..len).collect();
    order.sort_unstable_by_key(|&at| (key(&items[at as usize]), std::cmp::Reverse(at)));
    // Those kept first, in order; the others after them.
    let mut dropped = Vec::new();
    let mut previous: Option<K> = None;
    order.retain(|&at| {
        let this = key(&items[at as usize]);
        let first = previous.as_ref() != Some(&this);
        previous = Some(this);
        if !first {
            dropped.push(at);
        }
        first
    });
    let kept = order.len();
    order.extend(dropped);
    // `items[j]` becomes `items[order[j]]`, one cycle of the permutation at a time; a
    // position done is marked by pointing at itself.
    for start in 0..order.len() {
        if order[start] as usize == start {
            continue;
        }
        let first = items[start];
        let mut at = start;
        loop {
            let from = order[at] as usize;
            order[at] = at as u32;
            if from == start {
                items[at] = first;
                break;
            }
            items[at] = items[from];
            at = from;
        }
    }
    items.truncate(kept);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn of_many_items_sorted_in_place_the_last_of_each_key_is_kept_in_order() {
        // Against the plain way (a stable sort, then the last of each run of one key), on
        // lengths and key ranges with no duplicates, a few and many.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for (len, keys) in [
            (0, 1),
            (1, 1),
            (2, 1),
            (7, 3),
            (100, 1000),
            (1000, 50),
            (5000, 5000),
        ] {
            let items: Vec<(u64, usize)> = (0..len).map(|at| (next() % keys, at)).collect();
            let mut expected = items.clone();
            expected.sort_by_key(|item| item.0);
            let mut plain: Vec<(u64, usize)> = Vec::new();
            for item in expected {
                match plain.last_mut() {
                    Some(last) if last.0 == item.0 => *last = item,
                    _ => plain.push(item),
                }
            }
            let mut sorted = items.clone();
            keep_last_of_each(&mut sorted, |item| item.0);
            assert_eq!(sorted, plain, "{len} items, {keys} keys");
        }
    }
}
