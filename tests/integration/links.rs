//! Links where the tool keeps its state, or swapped into a pack while a run writes it: the
//! journal, the backups, the hash cache and the lock stay in the pack, nothing outside it is
//! ever written, and nothing waits on a FIFO.

use crate::support::*;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::Duration;

/// A directory outside the packs, with a file in it that must survive.
fn outside(packs: &Packs) -> std::path::PathBuf {
    let dir = packs.dir.path().join("outside");
    write_file(&dir.join("precious.txt"), b"precious", 0o644);
    dir
}

#[test]
fn a_state_directory_that_is_a_link_is_refused_and_nothing_goes_where_it_leads() {
    let packs = Packs::standard();
    let elsewhere = outside(&packs);
    symlink(&elsewhere, packs.new.join(".apim-migrate")).expect("link");
    let message = packs
        .test("run", SCRIPT)
        .unchanged(&packs.new)
        .unchanged(&elsewhere)
        .run()
        .stderr_line("is a symbolic link")
        .stderr();
    assert!(message.contains(".apim-migrate"), "{message}");
}

#[test]
fn a_runs_directory_that_is_a_link_is_refused_and_nothing_goes_where_it_leads() {
    let packs = Packs::standard();
    let elsewhere = outside(&packs);
    std::fs::create_dir(packs.new.join(".apim-migrate")).expect("state dir");
    symlink(&elsewhere, packs.new.join(".apim-migrate/runs")).expect("link");
    let message = packs
        .test("run", SCRIPT)
        .unchanged(&packs.new)
        .unchanged(&elsewhere)
        .run()
        .stderr_line("is a symbolic link")
        .stderr();
    assert!(message.contains(".apim-migrate/runs"), "{message}");
    // The same for a rollback and the history.
    Test::new()
        .args(["rollback", "--new"])
        .arg(&packs.new)
        .unchanged(&elsewhere)
        .run()
        .stderr_line("is a symbolic link");
    Test::new()
        .arg("history")
        .arg(&packs.new)
        .run()
        .stderr_line("is a symbolic link");
}

#[test]
fn a_lock_that_is_a_link_to_a_file_outside_is_refused_and_the_file_kept() {
    let packs = Packs::standard();
    let elsewhere = outside(&packs);
    std::fs::create_dir(packs.new.join(".apim-migrate")).expect("state dir");
    symlink(
        elsewhere.join("precious.txt"),
        packs.new.join(".apim-migrate/lock"),
    )
    .expect("link");
    packs
        .test("run", SCRIPT)
        .unchanged(&packs.new)
        .run()
        .stderr_line("lock");
    assert_eq!(read(elsewhere.join("precious.txt")), "precious");
}

#[test]
fn a_lock_with_a_second_name_elsewhere_is_refused_and_that_file_kept() {
    let packs = Packs::standard();
    let elsewhere = outside(&packs);
    std::fs::create_dir(packs.new.join(".apim-migrate")).expect("state dir");
    std::fs::hard_link(
        elsewhere.join("precious.txt"),
        packs.new.join(".apim-migrate/lock"),
    )
    .expect("hard link");
    packs.test("run", SCRIPT).run().stderr_line("other names");
    assert_eq!(read(elsewhere.join("precious.txt")), "precious");
}

#[test]
fn a_fifo_as_the_lock_is_refused_at_once() {
    let packs = Packs::standard();
    std::fs::create_dir(packs.new.join(".apim-migrate")).expect("state dir");
    nix::unistd::mkfifo(
        &packs.new.join(".apim-migrate/lock"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .expect("mkfifo");
    packs
        .test("run", SCRIPT)
        .timeout(Duration::from_secs(30))
        .unchanged(&packs.new)
        .run()
        .stderr_line("not a regular file");
}

/// Exchanges `dir` with a link to `elsewhere` and back (`renameat2(RENAME_EXCHANGE)`, so
/// that `dir` is always there, as a directory or as a link), again and again while `running`
/// says the run is on; leaves `dir` the real directory and no link beside it. Returns how
/// many times.
fn keep_swapping(dir: &Path, elsewhere: &Path, running: impl Fn() -> bool) -> usize {
    use nix::fcntl::{renameat2, RenameFlags, AT_FDCWD};
    let link = dir.with_extension("link");
    symlink(elsewhere, &link).expect("link");
    let exchange = || renameat2(AT_FDCWD, dir, AT_FDCWD, &link, RenameFlags::RENAME_EXCHANGE);
    let mut swaps = 0;
    while running() {
        exchange().expect("swap in the link");
        swaps += 1;
        std::thread::sleep(Duration::from_millis(1));
        exchange().expect("swap back");
        std::thread::sleep(Duration::from_millis(1));
    }
    std::fs::remove_file(&link).expect("remove the link");
    swaps
}

/// Whether a journal of a run is in `pack` (applying has begun).
fn applying(pack: &Path) -> bool {
    std::fs::read_dir(pack.join(".apim-migrate/runs"))
        .map(|mut runs| runs.next().is_some())
        .unwrap_or(false)
}

#[test]
fn a_directory_swapped_for_a_link_during_a_run_gets_no_write_outside_the_pack() {
    // Six tries, as many as found the write outside before; each swaps the directory while
    // the run applies its changes (a link seen while planning is refused before anything
    // changes, as any link in a target).
    for attempt in 0..6 {
        let packs = Packs::build(
            sample_packs::large_api_manager_3_0_0(400, 20, 2),
            new_4_1_0(),
            None,
        );
        let elsewhere = packs.dir.path().join("outside");
        std::fs::create_dir(&elsewhere).expect("outside");
        // A directory the run writes many files into, made before the run so that it can be
        // swapped from the first change on.
        let tenants = packs.new.join("repository/tenants");
        std::fs::create_dir_all(&tenants).expect("tenants");
        let pristine = tree(&packs.new, false);
        let mut child = packs
            .test("run", SCRIPT)
            .command()
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start the run");
        let done = std::sync::atomic::AtomicBool::new(false);
        let swaps = std::thread::scope(|scope| {
            let swapper = scope.spawn(|| {
                while !applying(&packs.new) && !done.load(std::sync::atomic::Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_micros(200));
                }
                std::thread::sleep(Duration::from_millis(5 * attempt as u64));
                keep_swapping(&tenants, &elsewhere, || {
                    !done.load(std::sync::atomic::Ordering::SeqCst)
                })
            });
            let status = child.wait().expect("wait for the run");
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            (status, swapper.join().expect("swapper"))
        });
        let (status, swaps) = swaps;
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        let written: Vec<_> = walkdir::WalkDir::new(&elsewhere)
            .min_depth(1)
            .into_iter()
            .filter_map(Result::ok)
            .map(|entry| entry.path().display().to_string())
            .collect();
        assert!(
            written.is_empty(),
            "attempt {attempt} ({swaps} swaps): written outside the pack: {written:?}\n{stderr}"
        );
        assert!(
            matches!(status.code(), Some(0 | 1)),
            "attempt {attempt}: {status:?}\n{stderr}"
        );
        // Whatever became of the run (complete; failed at the link and taken back; failed
        // and not taken back while the link was there), `rollback` takes the pack back.
        let rollback = Test::new()
            .args(["rollback", "--new"])
            .arg(&packs.new)
            .run();
        assert!(
            rollback.status.success() || rollback.stderr().contains("nothing to roll back"),
            "attempt {attempt}: {}\n{stderr}",
            rollback.describe()
        );
        let now = tree(&packs.new, false);
        assert!(
            now == pristine,
            "attempt {attempt}: the pack is not as before: {}\n{stderr}",
            tree_difference(&Some(pristine.clone()), &Some(now.clone()))
        );
        eprintln!(
            "attempt {attempt}: {swaps} swaps, run {status:?}: {}",
            stderr.lines().next().unwrap_or("done")
        );
    }
}
