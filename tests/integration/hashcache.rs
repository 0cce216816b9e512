//! The hash cache (`.apim-migrate/hashes`): a run that finds its copies in place reads them
//! from the cache, and no state of the cache (stale, damaged, from another pack) can make a
//! run or a plan miss a file that changed. The same for the tenants' gateway folders it
//! keeps: a file added to one, or renamed in it, is found.

use crate::support::library::{hash_cache_covers, hash_cache_listed_tenants};
use crate::support::*;
use std::fs::{self, File};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const USERSTORE: &str = "repository/tenants/1/userstores/partner_example_com.xml";
const SEQUENCE: &str =
    "repository/deployment/server/synapse-configs/default/sequences/audit_log.xml";

/// Packs whose old files were last modified an hour ago, as in a real old pack.
fn aged() -> Packs {
    let packs = Packs::standard();
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    for entry in walkdir::WalkDir::new(&packs.old) {
        let entry = entry.expect("walk");
        if entry.file_type().is_file() {
            File::options()
                .write(true)
                .open(entry.path())
                .and_then(|file| file.set_modified(hour_ago))
                .expect("set the time");
        }
    }
    packs
}

fn cache(packs: &Packs) -> PathBuf {
    packs.new.join(".apim-migrate").join("hashes")
}

/// The keys (device, inode) of the file entries of the hash cache of the new pack, in the
/// order of the file: after its magic and their count, 88 bytes each, the key first.
fn cache_keys(packs: &Packs) -> Vec<(u64, u64)> {
    let bytes = fs::read(cache(packs)).expect("read the cache");
    let number = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let count = number(8) as usize;
    (0..count)
        .map(|index| (number(16 + index * 88), number(16 + index * 88 + 8)))
        .collect()
}

fn run(packs: &Packs) -> String {
    let output = packs.test("run", SCRIPT).run();
    output.success();
    stdout(&output)
}

/// `plan` after a file was changed: the change must be planned back.
fn assert_planned_back(packs: &Packs, path: &str, context: &str) {
    let text = packs.test("plan", SCRIPT).run().success().stdout();
    assert!(
        text.contains(&format!("replace  new:{path}")),
        "{context}: the plan must put `{path}` back:\n{text}"
    );
}

/// A run names `path` in the new pack and leaves there the old pack's bytes.
fn assert_run_copies(packs: &Packs, path: &str) {
    let text = run(packs);
    assert!(text.contains(&format!("new:{path}")), "{text}");
    assert_eq!(
        fs::read(packs.new.join(path)).expect("read the copy"),
        fs::read(packs.old.join(path)).expect("read the source")
    );
}

/// Rewrites `path` with other bytes of the same size and gives it back its modification
/// time, as a careless `cp -p` or an editor that keeps times would: only the change time
/// tells.
fn rewrite_keeping_size_and_time(path: &Path) {
    let before = fs::metadata(path).expect("stat");
    let mut bytes = fs::read(path).expect("read");
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'x' { b'y' } else { b'x' };
    fs::write(path, &bytes).expect("write");
    File::options()
        .write(true)
        .open(path)
        .and_then(|file| file.set_modified(before.modified().expect("mtime")))
        .expect("set the time");
    let after = fs::metadata(path).expect("stat");
    assert_eq!(after.len(), before.len());
    assert_eq!(after.modified().ok(), before.modified().ok());
}

#[test]
fn copies_keep_their_source_time_and_a_no_op_run_reads_them_from_the_cache() {
    let packs = aged();
    run(&packs);
    let source = fs::metadata(packs.old.join(USERSTORE)).expect("stat");
    let copy = fs::metadata(packs.new.join(USERSTORE)).expect("stat");
    assert_eq!(copy.modified().ok(), source.modified().ok());
    assert!(cache(&packs).is_file(), "a run leaves its cache");
    // The copy it wrote is in it already.
    assert!(hash_cache_covers(&packs.new, &copy), "the copy is cached");

    // The second run changes nothing, and says so.
    let text = run(&packs);
    assert!(text.contains("nothing to do"), "{text}");
}

#[test]
fn a_run_that_learns_nothing_leaves_the_cache_file_as_it_is() {
    let packs = aged();
    run(&packs);
    // Once what the first run wrote, and the folders it listed, are settled, the next run
    // learns them; the one after that finds everything as the cache says.
    std::thread::sleep(Duration::from_millis(2300));
    run(&packs);
    let before = fs::metadata(cache(&packs)).expect("stat the cache");
    let bytes = fs::read(cache(&packs)).expect("read the cache");
    let text = run(&packs);
    assert!(text.contains("nothing to do"), "{text}");
    let after = fs::metadata(cache(&packs)).expect("stat the cache");
    assert_eq!(
        (
            after.ino(),
            after.mtime(),
            after.mtime_nsec(),
            after.ctime(),
            after.ctime_nsec()
        ),
        (
            before.ino(),
            before.mtime(),
            before.mtime_nsec(),
            before.ctime(),
            before.ctime_nsec()
        ),
        "a run that learnt nothing must not write the cache again"
    );
    assert_eq!(fs::read(cache(&packs)).expect("read the cache"), bytes);

    // A run that learns something (the copy it puts back) writes the cache anew.
    rewrite_keeping_size_and_time(&packs.new.join(USERSTORE));
    assert_run_copies(&packs, USERSTORE);
    let rewritten = fs::metadata(cache(&packs)).expect("stat the cache");
    assert_ne!(rewritten.ino(), before.ino(), "the cache is written anew");
    let copy = fs::metadata(packs.new.join(USERSTORE)).expect("stat");
    assert!(
        hash_cache_covers(&packs.new, &copy),
        "the copy put back is cached"
    );
}

#[test]
fn a_file_changed_right_after_a_run_is_seen_whatever_its_size_and_time() {
    let packs = aged();
    run(&packs);
    // At once, in the same second (and likely the same clock tick) as the run wrote it.
    rewrite_keeping_size_and_time(&packs.new.join(USERSTORE));
    assert_planned_back(&packs, USERSTORE, "changed right after the run");
    // And by a run that applies it.
    assert_run_copies(&packs, USERSTORE);
}

#[test]
fn a_stale_cache_from_before_a_change_is_not_believed() {
    let packs = aged();
    run(&packs);
    run(&packs);
    let kept = fs::read(cache(&packs)).expect("read the cache");
    rewrite_keeping_size_and_time(&packs.new.join(SEQUENCE));
    // The cache written before the change, as if the change had happened behind its back.
    fs::write(cache(&packs), &kept).expect("put the old cache back");
    assert_planned_back(&packs, SEQUENCE, "stale cache");
}

#[test]
fn a_damaged_or_foreign_cache_is_ignored() {
    let packs = aged();
    run(&packs);
    rewrite_keeping_size_and_time(&packs.new.join(USERSTORE));

    // Flipped bytes.
    let mut bytes = fs::read(cache(&packs)).expect("read the cache");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    fs::write(cache(&packs), &bytes).expect("damage the cache");
    assert_planned_back(&packs, USERSTORE, "damaged cache");

    // Cut short.
    fs::write(cache(&packs), &bytes[..bytes.len() / 3]).expect("truncate the cache");
    assert_planned_back(&packs, USERSTORE, "truncated cache");

    // Not a cache at all.
    fs::write(cache(&packs), b"not a cache").expect("replace the cache");
    assert_planned_back(&packs, USERSTORE, "foreign cache");

    // Another pack's cache, after a run of its own.
    let other = aged();
    run(&other);
    fs::copy(cache(&other), cache(&packs)).expect("copy the other cache");
    assert_planned_back(&packs, USERSTORE, "another pack's cache");

    // Through all of it, a run still puts the file back.
    let text = run(&packs);
    assert!(text.contains(&format!("new:{USERSTORE}")), "{text}");
}

/// A custom sequence of a tenant, added after the packs were made.
const LATE: &str = "repository/tenants/2/synapse-configs/default/sequences/tenant_late.xml";
/// A tenant's stock-named sequence, and the custom name it is given.
const STOCK_NAMED: &str = "repository/tenants/3/synapse-configs/default/sequences/main.xml";
const RENAMED: &str = "repository/tenants/3/synapse-configs/default/sequences/main_site.xml";
/// The tenants' files of published APIs the standard packs hold (an API and its sequence in
/// each of three tenants), as the reports count them.
const TENANTS_API_FILES: &str = "6 files of the tenants' published APIs";

/// Aged packs whose directories are older than the two seconds a directory's times must be
/// settled for the cache to keep its listing (a directory's change time cannot be set).
fn aged_and_settled() -> Packs {
    let packs = aged();
    std::thread::sleep(Duration::from_millis(2300));
    packs
}

fn plan(packs: &Packs) -> String {
    packs.test("plan", SCRIPT).run().success().stdout()
}

#[test]
fn a_tenants_gateway_folders_are_recalled_until_an_entry_is_added_or_renamed() {
    let packs = aged_and_settled();
    let first = run(&packs);
    assert!(first.contains(TENANTS_API_FILES), "{first}");
    assert_eq!(
        hash_cache_listed_tenants(&packs.new),
        vec![1, 2, 3],
        "the run keeps the tenants' listings"
    );
    // Recalled: the same counts, nothing to do, and the listings kept for the next run.
    let text = run(&packs);
    assert!(text.contains("nothing to do"), "{text}");
    assert!(text.contains(TENANTS_API_FILES), "{text}");
    assert_eq!(hash_cache_listed_tenants(&packs.new), vec![1, 2, 3]);
    let kept = fs::read(cache(&packs)).expect("read the cache");

    // A file added to a tenant's folder moves the folder's times: it is found.
    fs::write(
        packs.old.join(LATE),
        "<sequence xmlns=\"http://ws.apache.org/ns/synapse\" name=\"tenant_late\"/>\n",
    )
    .expect("add a sequence");
    let text = plan(&packs);
    assert!(
        text.contains(LATE),
        "the added sequence must be planned:\n{text}"
    );
    // Also with the cache of before the change put back.
    fs::write(cache(&packs), &kept).expect("put the old cache back");
    let text = plan(&packs);
    assert!(text.contains(LATE), "stale cache:\n{text}");

    // A stock name renamed to a custom one, in the same second as the listing was kept.
    run(&packs);
    fs::rename(packs.old.join(STOCK_NAMED), packs.old.join(RENAMED)).expect("rename");
    let text = plan(&packs);
    assert!(
        text.contains(RENAMED),
        "the renamed sequence must be planned:\n{text}"
    );
    assert_run_copies(&packs, RENAMED);
}

#[test]
fn a_listing_is_not_kept_of_folders_changed_just_before_the_run() {
    // Packs made a moment ago: their directories' times are not settled.
    let packs = aged();
    let text = run(&packs);
    assert!(text.contains(TENANTS_API_FILES), "{text}");
    assert_eq!(hash_cache_listed_tenants(&packs.new), Vec::<u32>::new());
}

#[test]
fn what_a_large_run_learns_is_spooled_and_saved_whole() {
    // 1,500 more tenants of one user store each: the run learns some 3,000 hashes (each
    // copy's source and the copy), past the 256 KiB of them it holds before it spools the
    // rest into an unnamed file in the state directory.
    let packs = aged();
    let template = fs::read_to_string(packs.old.join(USERSTORE)).expect("read a user store");
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let store = |id: u32| format!("repository/tenants/{id}/userstores/site_example_com.xml");
    for id in 100..1600 {
        let path = packs.old.join(store(id));
        fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        fs::write(&path, template.replace("partner", &format!("site{id}"))).expect("write");
        File::options()
            .write(true)
            .open(&path)
            .and_then(|file| file.set_modified(hour_ago))
            .expect("set the time");
    }
    // Settled, so that the sources read are learnt too.
    std::thread::sleep(Duration::from_millis(2300));
    let first = run(&packs);
    assert!(first.contains(&format!("new:{}", store(1599))), "{first}");

    // Every copy is in the saved cache: the first learnt (spooled) and the last (held).
    for id in [100, 101, 850, 1598, 1599] {
        let copy = fs::metadata(packs.new.join(store(id))).expect("stat the copy");
        assert!(hash_cache_covers(&packs.new, &copy), "tenant {id}");
    }
    // So are the sources read while planning, and the next run reads nothing to know
    // that there is nothing to do.
    let source = fs::metadata(packs.old.join(store(100))).expect("stat the source");
    assert!(hash_cache_covers(&packs.new, &source), "a source read");
    let learnt = cache_keys(&packs);
    let saved_first = fs::metadata(cache(&packs)).expect("stat the cache");
    // Settled, so that the no-op learns the files the first run edited (it reads them now)
    // and saves the cache again: a run that learns nothing leaves the file as it is.
    std::thread::sleep(Duration::from_millis(2300));
    let text = run(&packs);
    assert!(text.contains("nothing to do"), "{text}");
    // The no-op moved what it loaded to an unnamed file, looked each file up there, and
    // saved what it found true as read back from there, first and in the order of their
    // keys: among them every user store copied and its copy. (A file it had read instead
    // would have been learnt again, and saved after them in the order read.)
    let saved = cache_keys(&packs);
    let saved_again = fs::metadata(cache(&packs)).expect("stat the cache");
    assert_ne!(
        saved_again.ino(),
        saved_first.ino(),
        "the cache is saved again"
    );
    let mut first = learnt.clone();
    first.sort_unstable();
    let known = |key: &(u64, u64)| first.binary_search(key).is_ok();
    let confirmed: Vec<(u64, u64)> = saved.iter().copied().take_while(known).collect();
    assert!(
        confirmed.windows(2).all(|pair| pair[0] < pair[1]),
        "found true, in the order of their keys"
    );
    for id in 100..1600 {
        for pack in [&packs.old, &packs.new] {
            let file = fs::metadata(pack.join(store(id))).expect("stat a user store");
            assert!(
                confirmed.binary_search(&(file.dev(), file.ino())).is_ok(),
                "tenant {id} in {}: found true among {} of {} entries",
                pack.display(),
                confirmed.len(),
                first.len()
            );
        }
    }
    // The spool leaves nothing behind.
    let left: Vec<String> = fs::read_dir(packs.new.join(".apim-migrate"))
        .expect("list the state directory")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name != "hashes" && name != "runs")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
