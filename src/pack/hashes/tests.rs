//! Unit tests of the hash cache: what is recorded, believed, saved and read back.

use super::*;
use std::fs::{self, File};
use std::path::Path;

fn file_with(dir: &Path, name: &str, bytes: &[u8]) -> (SourceFile, Stat) {
    let path = dir.join(name);
    fs::write(&path, bytes).expect("write");
    let metadata = fs::metadata(&path).expect("stat");
    (SourceFile::outside(path), Stat::of(&metadata))
}

#[test]
fn a_listing_is_recorded_only_of_settled_directories_and_believed_only_as_recorded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fresh = Stat::of(&fs::metadata(dir.path()).expect("stat"));
    let mut old = fresh;
    old.mtime.0 -= 3600;
    old.ctime.0 -= 3600;
    let listed = Listed {
        context: 7,
        tenant: 3,
        folders: 1,
        stock: 2,
        api_own: 1,
        stamps: [0; 16],
    };
    let cache = HashCache::default();
    // Changed a moment ago: a change after the listing could show the same times.
    cache.record_listed(listed, &[old, fresh]);
    assert!(cache.seen_listed.lock().expect("lock").is_empty());
    cache.record_listed(listed, &[old, old]);
    let mut bytes = Vec::new();
    assert!(cache.write_to(&mut bytes).expect("written"));
    let saved = decode(&bytes).expect("a whole cache file").listed;
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].stamps, Listed::stamps_of(7, 3, &[old, old]));

    // Read back, it is found by its context and tenant, and each field of each `stat`
    // counts.
    let loaded = HashCache {
        known_listed: saved,
        ..HashCache::default()
    };
    let (index, found) = loaded.listed(7, 3).expect("recorded");
    assert_eq!((found.stock, found.api_own), (2, 1));
    assert!(loaded.listed(8, 3).is_none() && loaded.listed(7, 4).is_none());
    for change in 0..5 {
        let mut other = old;
        match change {
            0 => other.ino += 1,
            1 => other.dev += 1,
            2 => other.mtime.1 += 1,
            3 => other.ctime.1 += 1,
            _ => other.kind = Kind::Link,
        }
        assert_ne!(
            Listed::stamps_of(7, 3, &[old, other]),
            found.stamps,
            "{change}"
        );
    }
    // Confirmed, it is kept for the next run; not confirmed, it is dropped.
    let saved_again = |cache: &HashCache| {
        let mut bytes = Vec::new();
        assert!(cache.write_to(&mut bytes).expect("written"));
        decode(&bytes).expect("a whole cache file").listed.len()
    };
    assert_eq!(saved_again(&loaded), 0);
    loaded.confirm_listed(index);
    assert_eq!(saved_again(&loaded), 1);
}

#[test]
fn of_entries_with_one_key_the_last_learnt_is_kept() {
    let stamp = |size| Stamp {
        size,
        mtime: 1_000_000_000,
        ctime: 2_000_000_000,
    };
    let entry = |key, size, byte| Entry {
        key,
        stamp: stamp(size),
        sha256: [byte; 32],
    };
    let entries = Entries::of(vec![
        entry((9, 9), 1, 1),
        entry((1, 5), 2, 2),
        entry((9, 9), 3, 3),
        entry((1, 4), 4, 4),
        entry((9, 9), 5, 5),
    ]);
    assert_eq!(
        entries.0,
        vec![
            entry((1, 4), 4, 4),
            entry((1, 5), 2, 2),
            entry((9, 9), 5, 5)
        ]
    );
    assert_eq!(entries.get((9, 9)), Some(&entry((9, 9), 5, 5)));
    assert_eq!(entries.get((9, 8)), None);

    // Saved: what this run learnt of a file wins over what an earlier run said of it.
    let cache = HashCache {
        known: Known::Memory(Entries::of(vec![entry((1, 4), 4, 4), entry((7, 7), 7, 7)])),
        confirmed: Mutex::new(vec![1, 0, 1]),
        ..HashCache::default()
    };
    for learnt in [entry((1, 4), 8, 8), entry((1, 4), 9, 9)] {
        let mut seen = cache.seen.lock().expect("lock");
        seen.push(&entry_bytes(&learnt));
    }
    let mut bytes = Vec::new();
    assert!(cache.write_to(&mut bytes).expect("written"));
    assert_eq!(
        decode(&bytes).expect("a whole cache file").entries.0,
        vec![entry((1, 4), 9, 9), entry((7, 7), 7, 7)]
    );
}

#[test]
fn files_of_any_size_hash_as_their_bytes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = HashCache::default().without_recording();
    for size in [0, 1, 64 * 1024, 64 * 1024 + 1, 200 * 1024] {
        let bytes: Vec<u8> = (0..size).map(|index| (index % 251) as u8).collect();
        let (path, metadata) = file_with(dir.path(), &format!("{size}.bin"), &bytes);
        assert_eq!(
            cache.sha256_file(&path, &metadata).expect("hash"),
            ContentHash::of(&bytes),
            "{size} bytes"
        );
    }
}

#[test]
fn times_before_the_epoch_split_like_stat() {
    assert_eq!(split(SystemTime::UNIX_EPOCH), (0, 0));
    let before = SystemTime::UNIX_EPOCH - Duration::from_millis(1500);
    assert_eq!(split(before), (-2, 500_000_000));
    let after = SystemTime::UNIX_EPOCH + Duration::new(3, 25);
    assert_eq!(split(after), (3, 25));
}

#[test]
fn a_file_changed_just_now_is_hashed_but_never_recorded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, metadata) = file_with(dir.path(), "fresh.xml", b"<fresh/>");
    let cache = HashCache::default();
    assert_eq!(
        cache.sha256_file(&path, &metadata).expect("hash"),
        crate::pack::files::sha256_bytes(b"<fresh/>")
    );
    assert!(cache.seen.lock().expect("lock").is_empty());
}

#[test]
fn times_are_held_as_nanoseconds_where_they_fit_and_a_file_beyond_is_never_cached() {
    const SECOND: i64 = 1_000_000_000;
    for time in [
        (0, 0),
        (-5, 999_999_999),
        (1_700_000_000, 1),
        (i64::MAX / SECOND, i64::MAX % SECOND),
        (i64::MIN / SECOND, 0),
    ] {
        let total = nanos(time).expect("fits");
        assert_eq!(parts(total), time);
    }
    for beyond in [
        (i64::MAX / SECOND, i64::MAX % SECOND + 1),
        (i64::MIN / SECOND - 1, 0),
        (1, SECOND),
        (1, -1),
    ] {
        assert_eq!(nanos(beyond), None, "{beyond:?}");
    }
    // A file modified in 2300 is read, and nothing is learnt of it.
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, _) = file_with(dir.path(), "far.xml", b"<far/>");
    let far = SystemTime::UNIX_EPOCH + Duration::from_secs(10_430_000_000);
    fs::File::options()
        .write(true)
        .open(path.path())
        .and_then(|file| file.set_modified(far))
        .expect("set the time");
    let stat = Stat::of(&fs::metadata(path.path()).expect("stat"));
    assert_eq!(Stamp::of(&stat), None);
    let cache = HashCache {
        since: SystemTime::now() + Duration::from_secs(60),
        ..HashCache::default()
    };
    assert_eq!(
        cache.sha256_file(&path, &stat).expect("hash"),
        crate::pack::files::sha256_bytes(b"<far/>")
    );
    assert!(cache.seen.lock().expect("lock").is_empty());
}

#[test]
fn an_entry_is_believed_only_while_every_field_of_the_stat_matches() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, metadata) = file_with(dir.path(), "a.xml", b"<a/>");
    // An entry that claims another hash for this very stat: believed, which shows that
    // the cache is used at all.
    let mut cache = HashCache::default();
    cache.known.insert(
        key(&metadata),
        (Stamp::of(&metadata).expect("a stamp"), [0xab; 32]),
    );
    assert_eq!(
        cache.sha256_file(&path, &metadata).expect("hash"),
        "ab".repeat(32)
    );
    // Any change moves the change time; past the clock's tick it is another stamp.
    std::thread::sleep(Duration::from_millis(30));
    fs::write(path.path(), b"<b/>").expect("write");
    let changed = Stat::of(&fs::metadata(path.path()).expect("stat"));
    assert_eq!(changed.size, metadata.size);
    assert_eq!(
        cache.sha256_file(&path, &changed).expect("hash"),
        crate::pack::files::sha256_bytes(b"<b/>")
    );
}

#[test]
fn what_is_saved_is_what_this_run_found_true_and_nothing_else() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, metadata) = file_with(dir.path(), "kept.xml", b"<k/>");
    let mut cache = HashCache::default();
    let stamp = Stamp::of(&metadata).expect("a stamp");
    cache.known.insert(key(&metadata), (stamp, [0xab; 32]));
    cache.known.insert((u64::MAX, 1), (stamp, [0xcd; 32]));
    let saved = |cache: &HashCache| {
        let mut bytes = Vec::new();
        assert!(cache.write_to(&mut bytes).expect("written"));
        decode(&bytes).expect("a whole cache file").entries
    };
    // Nothing looked at yet: nothing of the earlier runs is saved.
    assert!(saved(&cache).is_empty());
    // Confirmed: saved as it was known; the entry of a file not seen is dropped.
    cache.sha256_file(&path, &metadata).expect("hash");
    let entries = saved(&cache);
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries
            .get(key(&metadata))
            .map(|entry| (entry.stamp, entry.sha256)),
        Some((stamp, [0xab; 32]))
    );
}

#[test]
fn a_written_file_is_recorded_only_with_a_settled_time_it_still_shows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, _) = file_with(dir.path(), "w.xml", b"<w/>");
    let sha256 = ContentHash::of(b"<w/>");
    let now = SystemTime::now();
    let long_ago = now - Duration::from_secs(3600);
    let file = File::options().write(true).open(path.path()).expect("open");
    file.set_modified(long_ago).expect("set the time");
    let placed = Stat::of(&file.metadata().expect("fstat"));

    let cache = HashCache::default();
    // Kept a moment ago: a later write could stamp the same time.
    cache.record_written(&placed, now - Duration::from_millis(500), now, &sha256);
    // Not the time the file shows.
    cache.record_written(&placed, long_ago + Duration::from_secs(1), now, &sha256);
    assert!(cache.seen.lock().expect("lock").is_empty());
    cache.record_written(&placed, long_ago, now, &sha256);
    assert_eq!(cache.seen.lock().expect("lock").len(), 1);
}

#[test]
fn a_cache_file_is_already_saved_only_when_it_was_the_one_read_and_nothing_was_learnt() {
    let saved_pack = |bytes: &[u8]| {
        let home = tempfile::tempdir().expect("temp dir");
        let state = home.path().join(crate::pack::STATE_DIR);
        fs::create_dir(&state).expect("state dir");
        fs::write(state.join(CACHE_FILE), bytes).expect("write the cache");
        let stat = Stat::of(&fs::metadata(state.join(CACHE_FILE)).expect("stat"));
        (PackRoot::open(home.path()).expect("open"), stat, home)
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, metadata) = file_with(dir.path(), "a.xml", b"<a/>");
    let mut first = HashCache::default();
    let stamp = Stamp::of(&metadata).expect("a stamp");
    first.known.insert(key(&metadata), (stamp, [0xab; 32]));
    let mut bytes = Vec::new();
    assert!(first.write_to(&mut bytes).expect("written"));
    let (root, stat, _home) = saved_pack(&bytes);
    let (other_root, other_stat, _other) = saved_pack(&bytes);

    let cache = HashCache::load([&root]);
    assert!(cache.is_already_saved_in(&stat));
    // Another file, or this one changed since: written.
    assert!(!cache.is_already_saved_in(&other_stat));
    let mut touched = stat;
    touched.ctime.1 += 1;
    assert!(!cache.is_already_saved_in(&touched));
    // Read from two files: each is written with what both said.
    assert!(!HashCache::load([&root, &other_root]).is_already_saved_in(&stat));
    // A damaged file was not read: written.
    let (damaged, damaged_stat, _damaged) = saved_pack(&bytes[..bytes.len() - 1]);
    assert!(!HashCache::load([&damaged]).is_already_saved_in(&damaged_stat));
    // Something learnt: written.
    let long_ago = SystemTime::now() - Duration::from_secs(3600);
    let file = File::options()
        .write(true)
        .open(dir.path().join("a.xml"))
        .expect("open");
    file.set_modified(long_ago).expect("set the time");
    let placed = Stat::of(&file.metadata().expect("fstat"));
    cache.record_written(
        &placed,
        long_ago,
        SystemTime::now(),
        &ContentHash::of(b"<a/>"),
    );
    assert_eq!(cache.seen.lock().expect("lock").len(), 1);
    assert!(!cache.is_already_saved_in(&stat));
}
