//! Crash safety: a real `apim-migrate run` on a large generated pack is stopped at random
//! moments, by SIGKILL (or power loss), by Ctrl-C (SIGINT), by SIGTERM (a service manager),
//! or by Ctrl-C twice, and so is its rollback. Each time, no half-written file may be visible
//! under its real name, and the documented recovery must restore the pack byte for byte and
//! mode for mode: after SIGINT or SIGTERM a run has taken itself back (exit 130) and a new run
//! goes ahead; after a kill, or a second Ctrl-C, a new run refuses and names `rollback`, which
//! restores the pack; a rollback stopped part-way is run again. A new run must then complete.
//!
//! The moments are drawn from a seeded xorshift generator, in [0, 1.1 x) the time an
//! uninterrupted run (or rollback) took, and so are the signals. The seed is printed; replay a
//! failure with `APIM_MIGRATE_CRASH_SEED=<seed> cargo test --test integration crash --
//! --nocapture`. The seed fixes each moment as a share of that measured time, so a replay
//! lands at about the same point of the run even on a faster or slower disk, or beside other
//! tests, not at exactly the same instant.

use crate::support::library::is_temp_file;
use crate::support::*;
use sample_packs::PackBuilder;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Rounds of signal, check, recovery, re-run, signalled rollback, recovery.
const ROUNDS: usize = 20;

/// How many differing paths an assertion message shows.
const SHOWN: usize = 8;

// Size of the generated pack. With these numbers one uninterrupted `run` of the debug binary
// applies about 450 changes (tenant user stores in new tenant folders, super-tenant user
// stores, sequences, keystores, a driver, deployment.toml) and takes about a second on a
// 2-core VM, of which a fifth is planning; `rollback` takes a third of that. The whole test
// took about 60-90 s there (20 rounds of five or six commands). Larger packs make each
// round longer without catching more: a signal lands part-way through a run or a rollback
// in most rounds already.
const TENANTS: u32 = 60;
const CUSTOM_SEQUENCES: usize = 30;
const KEYSTORES: usize = 6;

/// The large 3.0.0 pack of these tests.
fn large_old_pack() -> PackBuilder {
    sample_packs::large_api_manager_3_0_0(TENANTS, CUSTOM_SEQUENCES, KEYSTORES)
}

/// Where the moment of a stop is counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Moment {
    /// The command's start: it may still be planning (or checking, for a rollback).
    Start,
    /// A run's journal appeared: it is changing the pack.
    Applying,
    /// A rollback recorded its start: it is changing the pack.
    RollingBack,
}

/// The windows in which the stops of a command are drawn: from its start, and from when it
/// began to change the pack, each up to 1.1 x how long the command took from there.
#[derive(Debug, Clone, Copy)]
struct Windows {
    from_start: Duration,
    changing: Duration,
}

impl Windows {
    fn of(finished: &Finished, changing_after: Duration) -> Windows {
        Windows {
            from_start: finished.took.mul_f64(1.1),
            changing: finished.took.saturating_sub(changing_after).mul_f64(1.1),
        }
    }

    /// A moment: one stop in seven anywhere from the start, the others while the pack is
    /// changed, where a stop has the most to take back.
    fn draw(&self, rng: &mut XorShift, changing: Moment) -> (Moment, Duration) {
        if rng.next().is_multiple_of(7) {
            (Moment::Start, rng.duration_below(self.from_start))
        } else {
            (changing, rng.duration_below(self.changing))
        }
    }
}

/// How a command is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// SIGKILL: no chance to do anything.
    Kill,
    /// Ctrl-C: stop at the next boundary.
    Interrupt,
    /// SIGTERM: the same, as a service manager sends it.
    Terminate,
    /// Ctrl-C twice: the second ends the process at once.
    InterruptTwice,
}

impl Stop {
    fn pick(rng: &mut XorShift) -> Stop {
        match rng.next() % 7 {
            0 | 1 => Stop::Kill,
            2 | 3 => Stop::Interrupt,
            4 | 5 => Stop::Terminate,
            _ => Stop::InterruptTwice,
        }
    }

    fn send(self, child: &Child) {
        use nix::sys::signal::{kill, Signal};
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let signal = match self {
            Stop::Kill => Signal::SIGKILL,
            Stop::Interrupt | Stop::InterruptTwice => Signal::SIGINT,
            Stop::Terminate => Signal::SIGTERM,
        };
        let _ = kill(pid, signal);
        if self == Stop::InterruptTwice {
            std::thread::sleep(Duration::from_millis(2));
            let _ = kill(pid, Signal::SIGINT);
        }
    }

    /// Whether the process may have ended at once (killed, or by the second Ctrl-C).
    fn abrupt(self) -> bool {
        matches!(self, Stop::Kill | Stop::InterruptTwice)
    }
}

/// A small xorshift64 generator: enough to pick kill moments, and replayable from its seed.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        // Mix the seed so that small seeds do not start with a run of tiny numbers.
        let mixed = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x2545_F491_4F6C_DD1D;
        XorShift(if mixed == 0 { 1 } else { mixed })
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A duration in `[0, limit)`: a share of `limit` that depends on the seed only.
    fn duration_below(&mut self, limit: Duration) -> Duration {
        let share = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        limit.mul_f64(share)
    }
}

/// `APIM_MIGRATE_CRASH_SEED` when set (and not empty), else the clock.
fn seed() -> u64 {
    match std::env::var("APIM_MIGRATE_CRASH_SEED") {
        Ok(text) if !text.trim().is_empty() => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("APIM_MIGRATE_CRASH_SEED={text:?} is not a number")),
        _ => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos() as u64)
            .unwrap_or(1),
    }
}

/// The test's view of the packs and where the commands' output goes.
struct Bench {
    packs: Packs,
    logs: PathBuf,
    seed: u64,
    pristine: Tree,
    reference: Tree,
    /// Every state a complete write of the run leaves a path in, by path: a file the run
    /// writes twice (the configuration, then the skip lists of deployment.toml) may be left
    /// as its first write.
    writes: BTreeMap<String, BTreeSet<String>>,
}

/// A finished command: how it ended, what it printed, how long it took.
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Finished {
    fn describe(&self) -> String {
        let how = match (self.status.code(), self.status.signal()) {
            (Some(code), _) => format!("exit {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            _ => "ended somehow".to_string(),
        };
        format!(
            "{how} after {:?}\n--- stderr ---\n{}--- stdout (first 2000 bytes) ---\n{}",
            self.took,
            self.stderr,
            self.stdout.chars().take(2000).collect::<String>()
        )
    }

    /// How it ended, in a word: `done`, `killed`, `interrupted`, or the exit code.
    fn ending(&self) -> String {
        match (self.status.code(), self.status.signal()) {
            (Some(0), _) => "done".to_string(),
            (Some(130), _) => "interrupted".to_string(),
            (Some(code), _) => format!("exit {code}"),
            (None, Some(9)) => "killed".to_string(),
            // SIGINT or SIGTERM in the first milliseconds, before the handlers were set:
            // the default ends the process, before it has done anything.
            (None, Some(2 | 15)) => "killed".to_string(),
            (None, Some(signal)) => format!("signal {signal}"),
            _ => "?".to_string(),
        }
    }
}

impl Bench {
    fn run(&self) -> Test {
        self.packs.test("run", SCRIPT)
    }

    fn rollback(&self) -> Test {
        Test::new().args(["rollback", "--new"]).arg(&self.packs.new)
    }

    /// Starts the real binary with its output going to files (a full pipe would stall it).
    fn spawn(&self, test: Test, label: &str) -> (Child, Instant, PathBuf, PathBuf) {
        let out = self.logs.join(format!("{label}.stdout"));
        let err = self.logs.join(format!("{label}.stderr"));
        let child = test
            .env_remove("APIM_MIGRATE_INJECT_FAILURE")
            .env_remove("APIM_MIGRATE_INJECT_UNDO_FAILURE")
            .command()
            .stdin(Stdio::null())
            .stdout(File::create(&out).expect("stdout file"))
            .stderr(File::create(&err).expect("stderr file"))
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start apim-migrate ({label}): {error}"));
        (child, Instant::now(), out, err)
    }

    fn finish(mut child: Child, started: Instant, out: &Path, err: &Path) -> Finished {
        let status = child.wait().expect("wait for apim-migrate");
        let took = started.elapsed();
        Finished {
            status,
            stdout: std::fs::read_to_string(out).unwrap_or_default(),
            stderr: std::fs::read_to_string(err).unwrap_or_default(),
            took,
        }
    }

    /// Runs a command to its end.
    fn complete(&self, test: Test, label: &str) -> Finished {
        let (child, started, out, err) = self.spawn(test, label);
        Self::finish(child, started, &out, &err)
    }

    /// Starts a command and stops it as `stop` says `delay` after `from` (if it is still
    /// running by then).
    fn stop_after(
        &self,
        test: Test,
        label: &str,
        stop: Stop,
        from: Moment,
        delay: Duration,
    ) -> Finished {
        let mark = self.mark(from);
        let (mut child, started, out, err) = self.spawn(test, label);
        if from != Moment::Start {
            self.wait_for(&mut child, from, &mark);
        }
        std::thread::sleep(delay);
        if child.try_wait().expect("poll").is_none() {
            stop.send(&child);
        }
        Self::finish(child, started, &out, &err)
    }

    /// Runs a command to its end, noting when it began to change the pack (`from`).
    fn timed(&self, test: Test, label: &str, from: Moment) -> (Finished, Duration) {
        let mark = self.mark(from);
        let (mut child, started, out, err) = self.spawn(test, label);
        self.wait_for(&mut child, from, &mark);
        let changing = started.elapsed();
        (Self::finish(child, started, &out, &err), changing)
    }

    /// How many runs the new pack's history holds.
    fn runs(&self) -> usize {
        std::fs::read_dir(self.packs.new.join(".apim-migrate/runs")).map_or(0, |runs| runs.count())
    }

    /// The newest run's directory.
    fn newest_run(&self) -> Option<PathBuf> {
        std::fs::read_dir(self.packs.new.join(".apim-migrate/runs"))
            .ok()?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .max()
    }

    /// What shows that a command has begun to change the pack, as it is before the command:
    /// the newest run (a run makes a newer one), or that run's journal without its
    /// rollback's first record (a rollback writes it).
    fn mark(&self, from: Moment) -> Option<PathBuf> {
        match from {
            Moment::Start | Moment::Applying => self.newest_run(),
            Moment::RollingBack => self.newest_run(),
        }
    }

    /// Waits until the command changes the pack (see `mark`), or ends.
    fn wait_for(&self, child: &mut Child, from: Moment, mark: &Option<PathBuf>) {
        let started = Instant::now();
        loop {
            if child.try_wait().expect("poll").is_some()
                || started.elapsed() > Duration::from_secs(60)
            {
                return;
            }
            let there = match from {
                Moment::Start => true,
                Moment::Applying => self.newest_run() != *mark,
                Moment::RollingBack => mark.as_ref().is_some_and(|run| {
                    std::fs::read_to_string(run.join("journal.jsonl"))
                        .is_ok_and(|text| text.contains("\"rollback_begin\""))
                }),
            };
            if there {
                return;
            }
            std::thread::sleep(Duration::from_micros(500));
        }
    }

    fn new_tree(&self) -> Tree {
        tree(&self.packs.new, false)
    }

    /// Runs recorded in the new pack: (run id, state, changes), oldest first.
    fn history(&self) -> Vec<(String, String, u64)> {
        let output = Test::new()
            .arg("history")
            .arg(&self.packs.new)
            .args(["--all", "--json"])
            .run();
        assert!(
            output.status.success(),
            "seed {}: history failed: {}",
            self.seed,
            stderr(&output)
        );
        let document = json(&output.stdout);
        document["runs"]
            .as_array()
            .expect("history lists runs")
            .iter()
            .map(|run| {
                (
                    run["run_id"].as_str().unwrap_or_default().to_string(),
                    run["state"].as_str().unwrap_or_default().to_string(),
                    run["changes"].as_u64().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Stops a rollback as `stop` says at a moment drawn from `windows`,
    /// checks that no file is torn and what the rollback said, then recovers as documented
    /// (rollback again) to pristine. Returns how the stopped rollback ended.
    fn stop_a_rollback(
        &self,
        rng: &mut XorShift,
        windows: Windows,
        context: &str,
        label: &str,
    ) -> String {
        let stop = Stop::pick(rng);
        let (from, delay) = windows.draw(rng, Moment::RollingBack);
        let context =
            format!("{context}, its rollback stopped ({stop:?}) {delay:?} after {from:?}");
        let stopped = self.stop_after(
            self.rollback(),
            &format!("{label}-stopped"),
            stop,
            from,
            delay,
        );
        let ending = stopped.ending();
        match ending.as_str() {
            "done" => {}
            "interrupted" => assert!(
                stop.abrupt()
                    || stopped.stderr.contains("again to finish")
                    || stopped.stderr.contains("nothing was changed"),
                "{context}: an interrupted rollback says how to finish it: {}",
                stopped.describe()
            ),
            "killed" => {}
            other => panic!(
                "{context}: the rollback ended with {other}: {}",
                stopped.describe()
            ),
        }
        assert_no_torn_files(
            &self.new_tree(),
            &self.pristine,
            &self.reference,
            &self.writes,
            &format!("{context}: after the stopped rollback"),
        );
        self.rollback_to_pristine(&context, label);
        format!("rollback {stop:?} {delay:?} after {from:?}: {ending}")
    }

    /// A rollback that must leave the pack pristine: exit 0, or "nothing to roll back" when
    /// there was nothing left to take back and the pack is pristine already.
    fn rollback_to_pristine(&self, context: &str, label: &str) -> Finished {
        let pristine_before = self.new_tree() == self.pristine;
        let done = self.complete(self.rollback(), label);
        let nothing = done.status.code() == Some(2) && done.stderr.contains("nothing to roll back");
        assert!(
            done.status.success() || (nothing && pristine_before),
            "{context}: rollback failed (pack pristine before it: {pristine_before}): {}",
            done.describe()
        );
        assert_tree(
            &self.new_tree(),
            &self.pristine,
            &format!("{context}: after the rollback ({})", done.describe()),
        );
        done
    }
}

/// The paths at which two trees differ, with both sides, the first few only.
fn differences(actual: &Tree, expected: &Tree) -> (usize, Vec<String>) {
    let paths: BTreeSet<&String> = actual.keys().chain(expected.keys()).collect();
    let differing: Vec<String> = paths
        .into_iter()
        .filter(|path| actual.get(*path) != expected.get(*path))
        .map(|path| {
            format!(
                "  {path}\n      is       {:?}\n      expected {:?}",
                actual.get(path),
                expected.get(path)
            )
        })
        .collect();
    let count = differing.len();
    (count, differing.into_iter().take(SHOWN).collect())
}

fn assert_tree(actual: &Tree, expected: &Tree, context: &str) {
    let (count, shown) = differences(actual, expected);
    assert!(
        count == 0,
        "{context}: {count} paths differ, the first {}:\n{}",
        shown.len(),
        shown.join("\n")
    );
}

/// Every path outside `.apim-migrate/` is as before the run, as after a complete run (bytes,
/// mode, kind), or as one of the run's own complete writes of it left it; only temporary files
/// of atomic writes may be extra. A half-written file under its real name would differ from
/// all of them.
fn assert_no_torn_files(
    current: &Tree,
    pristine: &Tree,
    reference: &Tree,
    writes: &BTreeMap<String, BTreeSet<String>>,
    context: &str,
) {
    let paths: BTreeSet<&String> = current
        .keys()
        .chain(pristine.keys())
        .chain(reference.keys())
        .collect();
    let torn: Vec<String> = paths
        .into_iter()
        .filter(|path| !is_temp_file(path))
        .filter(|path| {
            let now = current.get(*path);
            let written = now.is_some_and(|(kind, sha256, _)| {
                kind == "file"
                    && writes
                        .get(*path)
                        .is_some_and(|states| states.contains(sha256))
            });
            now != pristine.get(*path) && now != reference.get(*path) && !written
        })
        .map(|path| {
            format!(
                "  {path}\n      is        {:?}\n      pristine  {:?}\n      reference {:?}",
                current.get(path),
                pristine.get(path),
                reference.get(path)
            )
        })
        .collect();
    assert!(
        torn.is_empty(),
        "{context}: {} paths are neither as before the run nor as after it, the first {}:\n{}",
        torn.len(),
        torn.len().min(SHOWN),
        torn.iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The tool's own state (journals, backups) without the lock file, which any command rewrites.
fn state_without_lock(home: &Path) -> Tree {
    let mut state = tree(home, true);
    state.remove(".apim-migrate/lock");
    state
}

#[test]
fn a_run_or_rollback_stopped_at_any_moment_by_any_signal_is_recovered_and_run_again() {
    let seed = seed();
    eprintln!(
        "crash test seed {seed} (replay: APIM_MIGRATE_CRASH_SEED={seed} cargo test --test integration crash)"
    );
    let mut rng = XorShift::new(seed);
    let test_started = Instant::now();

    // On a tmpfs of the test's own where it can mount one: a kill cannot tell it from a
    // disk (what a killed process wrote is in the page cache either way; the flushes order
    // what survives a power loss, which no test here can cut), and its flushes do not wait
    // for the writes of whatever else the machine is doing.
    let scratch = tempfile::tempdir().expect("temp dir");
    let tmpfs = Tmpfs::mount(&scratch.path().join("fs"), 512 * 1024);
    let packs = match &tmpfs {
        Ok(tmpfs) => Packs::build_in(&tmpfs.dir, large_old_pack(), new_4_1_0()),
        Err(reason) => {
            eprintln!("crash test on the temp dir's filesystem: {reason}");
            Packs::build(large_old_pack(), new_4_1_0(), None)
        }
    };
    let logs = packs.dir.path().join("logs");
    std::fs::create_dir(&logs).expect("logs dir");
    let old_before = tree(&packs.old, true);
    let pristine = tree(&packs.new, false);
    let mut bench = Bench {
        packs,
        logs,
        seed,
        pristine,
        reference: Tree::new(),
        writes: BTreeMap::new(),
    };
    let plan = bench
        .packs
        .test("plan", SCRIPT)
        .arg("--json")
        .run()
        .success()
        .json();
    for action in plan["actions"].as_array().expect("actions") {
        if let (Some(path), Some(sha256)) =
            (action["path"].as_str(), action["after"]["sha256"].as_str())
        {
            if action["pack"] == "new" {
                bench
                    .writes
                    .entry(path.to_string())
                    .or_default()
                    .insert(sha256.to_string());
            }
        }
    }

    // One uninterrupted run: what a complete run leaves, and how long it takes.
    let (first, applying_after) = bench.timed(bench.run(), "reference-run", Moment::Applying);
    assert!(
        first.status.success(),
        "seed {seed}: the uninterrupted run failed: {}",
        first.describe()
    );
    bench.reference = bench.new_tree();
    // The windows follow the latest uninterrupted run and rollback, so that a disk that was
    // busy once does not stretch every later window past the end of the run.
    let mut run_windows = Windows::of(&first, applying_after);
    let planned = bench.history().last().map(|(_, _, changes)| *changes);
    let (changed, _) = differences(&bench.reference, &bench.pristine);
    assert!(
        changed > 150,
        "seed {seed}: the run changed only {changed} paths; the pack is not large"
    );
    assert!(
        !bench.reference.keys().any(|path| is_temp_file(path)),
        "seed {seed}: a complete run left temporary files"
    );
    let (first_rollback, rolling_back_after) =
        bench.timed(bench.rollback(), "reference-rollback", Moment::RollingBack);
    assert!(
        first_rollback.status.success(),
        "seed {seed}: the uninterrupted rollback failed: {}",
        first_rollback.describe()
    );
    assert_tree(
        &bench.new_tree(),
        &bench.pristine,
        &format!("seed {seed}: after the uninterrupted rollback"),
    );
    let rollback_windows = Windows::of(&first_rollback, rolling_back_after);
    eprintln!(
        "uninterrupted: run {:?} (changing from {applying_after:?}; {planned:?} changes, {changed} paths), rollback {:?} (changing from {rolling_back_after:?})",
        first.took, first_rollback.took
    );

    let mut outcomes = Vec::new();
    let mut part_way = std::collections::BTreeMap::<String, usize>::new();
    let mut refusals = 0;
    for round in 0..ROUNDS {
        let stop = Stop::pick(&mut rng);
        let (from, delay) = run_windows.draw(&mut rng, Moment::Applying);
        let context =
            format!("seed {seed}, round {round}, run stopped ({stop:?}) {delay:?} after {from:?}");
        let runs_before = bench.runs();

        // Stop a run part-way.
        let stopped =
            bench.stop_after(bench.run(), &format!("round{round}-run"), stop, from, delay);
        let ending = stopped.ending();
        assert!(
            matches!(ending.as_str(), "done" | "interrupted" | "killed"),
            "{context}: the run ended with {ending}: {}",
            stopped.describe()
        );
        let after = bench.new_tree();
        assert_no_torn_files(
            &after,
            &bench.pristine,
            &bench.reference,
            &bench.writes,
            &format!("{context}: after the stop"),
        );
        let history = bench.history();
        assert!(
            history.len() <= runs_before + 1,
            "{context}: one run added several history entries: {history:?}"
        );
        let this_run = history.get(runs_before).cloned();
        let state = this_run.as_ref().map(|(_, state, _)| state.clone());
        // The documented recovery, by what the history and the exit say.
        let outcome = match (state.as_deref(), ending.as_str()) {
            (None, _) => {
                // Stopped before its journal existed (while planning): nothing changed.
                assert_tree(
                    &after,
                    &bench.pristine,
                    &format!("{context}: stopped before its journal"),
                );
                "stopped before the journal".to_string()
            }
            (Some("complete"), _) => {
                assert_tree(
                    &after,
                    &bench.reference,
                    &format!("{context}: the journal says complete"),
                );
                bench.stop_a_rollback(
                    &mut rng,
                    rollback_windows,
                    &context,
                    &format!("round{round}-complete"),
                );
                format!("{ending} after completing")
            }
            (Some("interrupted, taken back"), "interrupted") => {
                // It took itself back: the pack is as before, and a run goes ahead at once.
                // (A second Ctrl-C right after may end it before it says so.)
                assert!(
                    stopped.stderr.contains("taken back") || stop.abrupt(),
                    "{context}: {}",
                    stopped.describe()
                );
                assert_tree(
                    &after,
                    &bench.pristine,
                    &format!("{context}: taken back on {stop:?}"),
                );
                *part_way.entry(format!("{stop:?}, taken back")).or_default() += 1;
                "interrupted and taken back".to_string()
            }
            (Some(state), _) => {
                assert!(
                    stop.abrupt(),
                    "{context}: run is `{state}` after {stop:?}: {}",
                    stopped.describe()
                );
                // A new run finds the run that did not finish, says so, names the rollback,
                // and changes nothing (checked the first few times: it does not depend on
                // the moment).
                *part_way.entry(format!("{stop:?}, {state}")).or_default() += 1;
                refusals += 1;
                if refusals <= 3 {
                    let state_before = state_without_lock(&bench.packs.new);
                    let refused = bench.complete(bench.run(), &format!("round{round}-refused"));
                    assert_eq!(
                        refused.status.code(),
                        Some(2),
                        "{context}: a run after an unfinished one must be refused: {}",
                        refused.describe()
                    );
                    let home = bench.packs.new.canonicalize().expect("canonical new pack");
                    let command = format!("apim-migrate rollback --new {}", home.display());
                    assert!(
                        refused.stderr.contains(&command),
                        "{context}: the refusal names `{command}`: {}",
                        refused.describe()
                    );
                    assert_tree(
                        &state_without_lock(&bench.packs.new),
                        &state_before,
                        &format!("{context}: the refused run changed the pack or its history"),
                    );
                }
                let rolled = bench.stop_a_rollback(
                    &mut rng,
                    rollback_windows,
                    &context,
                    &format!("round{round}-recover"),
                );
                format!("{state}; {rolled}")
            }
        };
        // Nothing is left to take back either: the new run below would refuse to start on a
        // run that did not finish, a rollback that did not, or a failed run in place.
        assert_tree(
            &bench.new_tree(),
            &bench.pristine,
            &format!("{context}: after the recovery"),
        );

        // A new run completes and leaves exactly what the uninterrupted one left.
        let (rerun, applying_after) = bench.timed(
            bench.run(),
            &format!("round{round}-rerun"),
            Moment::Applying,
        );
        assert!(
            rerun.status.success(),
            "{context}: the run after the recovery failed: {}",
            rerun.describe()
        );
        assert_tree(
            &bench.new_tree(),
            &bench.reference,
            &format!("{context}: after the new run ({})", rerun.describe()),
        );
        run_windows = Windows::of(&rerun, applying_after);

        // Back to pristine for the next round, stopping that rollback too.
        let rolled = bench.stop_a_rollback(
            &mut rng,
            rollback_windows,
            &format!("{context}, after the re-run"),
            &format!("round{round}-rollback"),
        );

        let outcome = format!("{stop:?} {delay:?} after {from:?}: {outcome}; then {rolled}");
        eprintln!("round {round}: {outcome}");
        outcomes.push(outcome);
    }

    assert_tree(
        &tree(&bench.packs.old, true),
        &old_before,
        &format!("seed {seed}: the old pack changed"),
    );
    eprintln!(
        "crash test: {ROUNDS} rounds in {:?}; runs stopped part-way: {part_way:?}",
        test_started.elapsed()
    );
}

/// A run of several batches of changes (the test above applies one), stopped by each signal
/// in turn at moments spread over the time it changes the pack: no file is torn, `rollback`
/// (with nothing to do when the run took itself back) restores the pack byte for byte, and
/// a new run then completes as an uninterrupted one does.
#[test]
fn a_run_of_many_batches_stopped_while_it_changes_the_pack_is_recovered() {
    const STOPS: u32 = 8;
    let scratch = tempfile::tempdir().expect("temp dir");
    let tmpfs = Tmpfs::mount(&scratch.path().join("fs"), 512 * 1024);
    // The large pack and 2,200 more tenants of a user store each.
    let old = with_tenant_userstores(large_old_pack(), 1000..3200);
    let packs = match &tmpfs {
        Ok(tmpfs) => Packs::build_in(&tmpfs.dir, old, new_4_1_0()),
        Err(_) => Packs::build(old, new_4_1_0(), None),
    };
    let pristine = tree(&packs.new, false);
    let plan = packs
        .test("plan", SCRIPT)
        .arg("--json")
        .run()
        .success()
        .json();
    let mut writes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut changes = 0;
    for action in plan["actions"].as_array().expect("actions") {
        if let (Some(path), Some(sha256)) =
            (action["path"].as_str(), action["after"]["sha256"].as_str())
        {
            changes += 1;
            writes
                .entry(path.to_string())
                .or_default()
                .insert(sha256.to_string());
        }
    }
    assert!(
        changes > 2 * 1024,
        "three batches or more: {changes} changes"
    );
    let rollback = || {
        Test::new()
            .args(["rollback", "--new"])
            .arg(&packs.new)
            .run()
            .success();
    };

    let journals = || {
        std::fs::read_dir(packs.new.join(".apim-migrate/runs"))
            .map(|runs| {
                runs.filter_map(Result::ok)
                    .filter(|run| run.path().join("journal.jsonl").exists())
                    .count()
            })
            .unwrap_or(0)
    };
    let start = || {
        packs
            .test("run", SCRIPT)
            .command()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a run")
    };

    // One uninterrupted run: how long it plans, how long it takes, what it leaves.
    let started = Instant::now();
    let mut child = start();
    let mut planned = None;
    let status = loop {
        if planned.is_none() && journals() > 0 {
            planned = Some(started.elapsed());
        }
        if let Some(status) = child.try_wait().expect("wait for the run") {
            break status;
        }
        std::thread::sleep(Duration::from_micros(500));
    };
    let took = started.elapsed();
    assert!(status.success(), "the uninterrupted run failed: {status:?}");
    let planned = planned.expect("the run journaled its changes");
    let reference = tree(&packs.new, false);
    rollback();
    assert_tree(
        &tree(&packs.new, false),
        &pristine,
        "the first run taken back",
    );

    let stops = [
        Stop::Kill,
        Stop::Interrupt,
        Stop::Terminate,
        Stop::InterruptTwice,
    ];
    let mut while_changing = 0;
    for round in 0..STOPS {
        let stop = stops[round as usize % stops.len()];
        let journals_before = journals();
        // Spread over the time the first run spent changing the pack.
        let after = planned + (took - planned).mul_f64((f64::from(round) + 0.5) / f64::from(STOPS));
        let mut child = start();
        std::thread::sleep(after);
        stop.send(&child);
        let status = child.wait().expect("wait for the run");
        let changing = journals() > journals_before;
        while_changing += u32::from(changing);
        let context = format!(
            "stop {round}: {stop:?} after {after:?} (planned in {planned:?} of {took:?}), {}, {status:?}",
            if changing {
                "changing the pack"
            } else {
                "before changing it"
            }
        );
        eprintln!("{context}");
        assert_no_torn_files(
            &tree(&packs.new, false),
            &pristine,
            &reference,
            &writes,
            &context,
        );
        rollback();
        assert_tree(&tree(&packs.new, false), &pristine, &context);
    }
    // Most stops land while the pack is changed (a slower run may still be planning).
    assert!(
        while_changing * 2 >= STOPS,
        "{while_changing} of {STOPS} stops came while the pack was changed"
    );
    packs.test("run", SCRIPT).run().success();
    assert_tree(
        &tree(&packs.new, false),
        &reference,
        "the run after the stops",
    );
}
