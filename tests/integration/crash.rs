//! Crash safety: a real `apim-migrate run` on a large generated pack is killed (SIGKILL) at
//! random moments. Each time, no half-written file may be visible under its real name, a new
//! run must refuse and name the rollback, `rollback` must restore the pack byte for byte and
//! mode for mode, and a new run must then complete. Some rounds also kill the rollback.
//!
//! The moments are drawn from a seeded xorshift generator, in [0, 1.1 x) the time an
//! uninterrupted run (or rollback) took. The seed is printed; replay a failure with
//! `APIM_MIGRATE_CRASH_SEED=<seed> cargo test --test integration crash -- --nocapture`. The
//! seed fixes each moment as a share of that measured time, so a replay lands at about the
//! same point of the run even on a faster or slower disk, or beside other tests, not at
//! exactly the same instant.

use crate::support::library::is_temp_file;
use crate::support::*;
use sample_packs::PackBuilder;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Rounds of kill, check, rollback, re-run.
const ROUNDS: usize = 6;

/// A kill often lands while the run is still planning, or after it (or a rollback) has
/// finished; up to `EXTRA_ROUNDS` more rounds are played until `MID_RUN_KILLS` kills caught a
/// run part-way and `ROLLBACK_KILLS` caught a rollback. The extra rounds kill rollbacks too
/// while too few were caught.
const MID_RUN_KILLS: usize = 3;
const ROLLBACK_KILLS: usize = 2;
const EXTRA_ROUNDS: usize = 4;

/// Rounds in which the rollbacks are killed too (after the killed run, and after the
/// complete re-run).
const ROLLBACK_KILL_ROUNDS: [usize; 2] = [1, 4];

/// How many differing paths an assertion message shows.
const SHOWN: usize = 8;

// Size of the generated pack. With these numbers one uninterrupted `run` of the debug binary
// applies 1,046 changes (934 tenant user stores in 467 new tenant folders, 2 super-tenant user
// stores, 100 sequences, 6 keystores, a driver, deployment.toml; 1,982 paths in all with the
// directories) and took 1.3-2.5 s on a 2-core VM, of which about 0.3 s is planning; `rollback`
// took about 0.4 s. Every change is fsync'ed several times, so the times follow the disk more
// than the CPU (with the disk busy they once reached 4.4 s and 8.6 s). The whole test took
// 34-48 s there. 1,500 tenants made a run take 2-4.5 s and the test 95 s, with re-runs
// slowing to 5-15 s as the history grew.
const TENANTS: u32 = 700;
const CUSTOM_SEQUENCES: usize = 100;
const KEYSTORES: usize = 6;

/// The large 3.0.0 pack of these tests.
fn large_old_pack() -> PackBuilder {
    sample_packs::large_api_manager_3_0_0(TENANTS, CUSTOM_SEQUENCES, KEYSTORES)
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
    fn killed(&self) -> bool {
        self.status.signal() == Some(9)
    }

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

    /// Starts a command and SIGKILLs it after `delay` (if it is still running by then).
    fn kill_after(&self, test: Test, label: &str, delay: Duration) -> Finished {
        let (mut child, started, out, err) = self.spawn(test, label);
        std::thread::sleep(delay);
        // Kills a running child; one that already ended keeps its own exit status.
        let _ = child.kill();
        Self::finish(child, started, &out, &err)
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

    /// A rollback that must leave the pack pristine: exit 0, or "nothing to roll back" when
    /// there was nothing left to take back and the pack is pristine already.
    /// Kills a rollback at a random moment in [0, 1.1 x `rollback_time`), checks that no file
    /// is torn, then rolls back to pristine. Returns whether the kill caught the rollback
    /// part-way, and when it came.
    fn kill_a_rollback(
        &self,
        rng: &mut XorShift,
        rollback_time: Duration,
        context: &str,
        label: &str,
    ) -> (bool, Duration) {
        let delay = rng.duration_below(rollback_time.mul_f64(1.1));
        let context = format!("{context}, its rollback killed after {delay:?}");
        let killed_rollback = self.kill_after(self.rollback(), &format!("{label}-killed"), delay);
        assert!(
            killed_rollback.killed() || killed_rollback.status.success(),
            "{context}: the rollback neither completed nor was killed: {}",
            killed_rollback.describe()
        );
        assert_no_torn_files(
            &self.new_tree(),
            &self.pristine,
            &self.reference,
            &self.writes,
            &format!("{context}: after the killed rollback"),
        );
        self.rollback_to_pristine(&context, label);
        (killed_rollback.killed(), delay)
    }

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
fn a_killed_run_or_rollback_is_always_taken_back_and_run_again() {
    let seed = seed();
    eprintln!(
        "crash test seed {seed} (replay: APIM_MIGRATE_CRASH_SEED={seed} cargo test --test integration crash)"
    );
    let mut rng = XorShift::new(seed);
    let test_started = Instant::now();

    let packs = Packs::build(large_old_pack(), new_4_1_0(), None);
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
    let first = bench.complete(bench.run(), "reference-run");
    assert!(
        first.status.success(),
        "seed {seed}: the uninterrupted run failed: {}",
        first.describe()
    );
    bench.reference = bench.new_tree();
    // The kill windows follow the latest uninterrupted run and rollback, so that a disk that
    // was busy once does not stretch every later window past the end of the run.
    let mut run_time = first.took;
    let planned = bench.history().last().map(|(_, _, changes)| *changes);
    let (changed, _) = differences(&bench.reference, &bench.pristine);
    assert!(
        changed > 1000,
        "seed {seed}: the run changed only {changed} paths; the pack is not large"
    );
    assert!(
        !bench.reference.keys().any(|path| is_temp_file(path)),
        "seed {seed}: a complete run left temporary files"
    );
    let first_rollback = bench.rollback_to_pristine(&format!("seed {seed}"), "reference-rollback");
    let mut rollback_time = first_rollback.took;
    eprintln!(
        "uninterrupted: run {run_time:?} ({planned:?} changes, {changed} paths), rollback {rollback_time:?}"
    );

    let mut outcomes = Vec::new();
    let mut mid_run_kills = 0;
    let mut rollback_kills = 0;
    let mut round = 0;
    while round < ROUNDS
        || ((mid_run_kills < MID_RUN_KILLS || rollback_kills < ROLLBACK_KILLS)
            && round < ROUNDS + EXTRA_ROUNDS)
    {
        let kill_rollbacks = ROLLBACK_KILL_ROUNDS.contains(&round)
            || (round >= ROUNDS && rollback_kills < ROLLBACK_KILLS);
        let delay = rng.duration_below(run_time.mul_f64(1.1));
        let context = format!("seed {seed}, round {round}, run kill sent after {delay:?}");
        let runs_before = bench.history().len();

        // Kill a run part-way.
        let killed = bench.kill_after(bench.run(), &format!("round{round}-run"), delay);
        assert!(
            killed.killed() || killed.status.success(),
            "{context}: the run neither completed nor was killed: {}",
            killed.describe()
        );
        let after_kill = bench.new_tree();
        assert_no_torn_files(
            &after_kill,
            &bench.pristine,
            &bench.reference,
            &bench.writes,
            &format!("{context}: after the kill"),
        );
        let history = bench.history();
        let this_run = history.get(runs_before).cloned();
        assert!(
            history.len() <= runs_before + 1,
            "{context}: one run added several history entries: {history:?}"
        );
        let mut outcome = match &this_run {
            None => {
                // Killed before its journal existed: nothing may have changed.
                assert_tree(
                    &after_kill,
                    &bench.pristine,
                    &format!("{context}: killed before its journal was written"),
                );
                "killed before the journal".to_string()
            }
            Some((_, state, _)) if state == "complete" => {
                assert_tree(
                    &after_kill,
                    &bench.reference,
                    &format!("{context}: the journal says complete"),
                );
                if killed.killed() {
                    "killed after completing".to_string()
                } else {
                    "completed before the kill".to_string()
                }
            }
            Some((run_id, state, changes)) => {
                assert!(
                    killed.killed(),
                    "{context}: run {run_id} is `{state}` but the process was not killed: {}",
                    killed.describe()
                );
                assert_eq!(
                    state, "unfinished",
                    "{context}: a killed run should be unfinished: {history:?}"
                );
                // A new run finds the unfinished one, says so, names the rollback, and
                // changes nothing.
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
                    refused.stderr.contains("did not finish") && refused.stderr.contains(&command),
                    "{context}: the refusal should say the earlier run did not finish and name `{command}`: {}",
                    refused.describe()
                );
                assert_tree(
                    &state_without_lock(&bench.packs.new),
                    &state_before,
                    &format!("{context}: the refused run changed the pack or its history"),
                );
                mid_run_kills += 1;
                format!("unfinished, {changes} changes begun")
            }
        };

        // Take it back (killing the rollback first in some rounds).
        if kill_rollbacks && this_run.is_some() {
            let (killed, delay) = bench.kill_a_rollback(
                &mut rng,
                rollback_time,
                &context,
                &format!("round{round}-rollback-1"),
            );
            rollback_kills += usize::from(killed);
            outcome.push_str(&format!(
                "; its rollback {} after {delay:?}",
                if killed { "killed" } else { "completed" }
            ));
        } else {
            bench.rollback_to_pristine(&context, &format!("round{round}-rollback-1"));
        }
        assert!(
            !bench
                .history()
                .iter()
                .any(|(_, state, _)| state == "unfinished"),
            "{context}: an unfinished run is left after the rollback: {:?}",
            bench.history()
        );

        // A new run completes and leaves exactly what the uninterrupted one left.
        let rerun = bench.complete(bench.run(), &format!("round{round}-rerun"));
        assert!(
            rerun.status.success(),
            "{context}: the run after the rollback failed: {}",
            rerun.describe()
        );
        assert_tree(
            &bench.new_tree(),
            &bench.reference,
            &format!("{context}: after the new run ({})", rerun.describe()),
        );
        run_time = rerun.took;

        // Back to pristine for the next round (killing the rollback of a complete run first
        // in some rounds).
        if kill_rollbacks {
            let (killed, delay) = bench.kill_a_rollback(
                &mut rng,
                rollback_time,
                &format!("{context}, after the complete re-run"),
                &format!("round{round}-rollback-2"),
            );
            rollback_kills += usize::from(killed);
            outcome.push_str(&format!(
                "; the re-run's rollback {} after {delay:?}",
                if killed { "killed" } else { "completed" }
            ));
        } else {
            rollback_time = bench
                .rollback_to_pristine(&context, &format!("round{round}-rollback-2"))
                .took;
        }

        eprintln!("round {round}: kill sent after {delay:?}: {outcome}");
        outcomes.push(outcome);
        round += 1;
    }

    assert_tree(
        &tree(&bench.packs.old, true),
        &old_before,
        &format!("seed {seed}: the old pack changed"),
    );
    eprintln!(
        "crash test: {round} rounds ({mid_run_kills} runs and {rollback_kills} rollbacks killed part-way) in {:?}: {outcomes:?}",
        test_started.elapsed()
    );
}
