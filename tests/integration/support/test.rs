//! `Test`, one run of the apim-migrate binary: built up (arguments, environment, directory,
//! input, limits, directories it must leave alone), then run, giving an `Output` with the
//! checks most tests make of a run.
//!
//! ```ignore
//! let report = packs.test("run", SCRIPT).arg("--json").run().success().json();
//! Test::new().args(["docs", "nope"]).run().stderr_line("nope");
//! packs
//!     .test("run", SCRIPT)
//!     .unchanged(&packs.new)
//!     .run()
//!     .code(2)
//!     .stderr_contains("swapped");
//! ```

use super::{snapshot, tree_difference, Tree};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_apim-migrate");

/// One run of the binary, with `NO_COLOR=1` and without `APIM_MIGRATE_STOCK` from the
/// environment of the tests.
#[derive(Default)]
pub struct Test {
    args: Vec<OsString>,
    env: Vec<(OsString, Option<OsString>)>,
    current_dir: Option<PathBuf>,
    stdin: Option<Vec<u8>>,
    timeout: Option<Duration>,
    file_size_limit: Option<u32>,
    open_files_limit: Option<(u32, bool)>,
    unchanged: Vec<PathBuf>,
}

impl Test {
    pub fn new() -> Test {
        Test::default()
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Test {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Test
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|arg| arg.as_ref().to_os_string()));
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Test {
        self.env.push((
            key.as_ref().to_os_string(),
            Some(value.as_ref().to_os_string()),
        ));
        self
    }

    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Test {
        self.env.push((key.as_ref().to_os_string(), None));
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Test {
        self.current_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Input written to the binary's stdin (a pipe, closed at the end of `input`).
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Test {
        self.stdin = Some(input.into());
        self
    }

    /// Kills the binary if it has not ended after `limit`.
    pub fn timeout(mut self, limit: Duration) -> Test {
        self.timeout = Some(limit);
        self
    }

    /// Runs the binary under `ulimit -f BLOCKS` with SIGXFSZ ignored, so that writing a file
    /// larger than the limit fails with EFBIG, as writing to a full disk fails with ENOSPC.
    pub fn file_size_limit(mut self, blocks: u32) -> Test {
        self.file_size_limit = Some(blocks);
        self
    }

    /// Runs the binary under a limit of `files` open files (`ulimit -n`): the soft limit
    /// only, under the hard limit the tests have, or with `hard` both.
    pub fn open_files_limit(mut self, files: u32, hard: bool) -> Test {
        self.open_files_limit = Some((files, hard));
        self
    }

    /// A directory (or a path that does not exist) that the run must leave exactly as it was,
    /// the tool's history included: `run` panics if it changed.
    pub fn unchanged(mut self, dir: impl AsRef<Path>) -> Test {
        self.unchanged.push(dir.as_ref().to_path_buf());
        self
    }

    /// The command `run` would start, for a test that drives the process itself (in a
    /// pseudo-terminal, killed part-way).
    pub fn command(&self) -> std::process::Command {
        let mut limits = Vec::new();
        if let Some(blocks) = self.file_size_limit {
            limits.push(format!("trap '' XFSZ; ulimit -f {blocks}"));
        }
        if let Some((files, hard)) = self.open_files_limit {
            limits.push(format!(
                "ulimit {} {files}",
                if hard { "-n" } else { "-Sn" }
            ));
        }
        let mut command = if limits.is_empty() {
            std::process::Command::new(BINARY)
        } else {
            let mut shell = std::process::Command::new("sh");
            shell
                .arg("-c")
                .arg(format!("{} && exec \"$0\" \"$@\"", limits.join(" && ")))
                .arg(BINARY);
            shell
        };
        command
            .args(&self.args)
            .env_remove("APIM_MIGRATE_STOCK")
            .env("NO_COLOR", "1");
        for (key, value) in &self.env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        if let Some(dir) = &self.current_dir {
            command.current_dir(dir);
        }
        command
    }

    /// Runs the binary to its end (or its timeout) and checks the directories it must leave
    /// alone.
    pub fn run(self) -> Output {
        let before: Vec<(PathBuf, Option<Tree>)> = self
            .unchanged
            .iter()
            .map(|dir| (dir.clone(), snapshot(dir)))
            .collect();
        let mut command = assert_cmd::Command::from_std(self.command());
        if let Some(limit) = self.timeout {
            command.timeout(limit);
        }
        if let Some(input) = &self.stdin {
            command.write_stdin(input.clone());
        }
        let started = Instant::now();
        let output = command
            .output()
            .unwrap_or_else(|error| panic!("cannot run {BINARY} {:?}: {error}", self.args));
        let output = Output {
            output,
            elapsed: started.elapsed(),
        };
        for (dir, before) in &before {
            let after = snapshot(dir);
            assert!(
                &after == before,
                "`{}` changed: {}\n{}",
                dir.display(),
                tree_difference(before, &after),
                output.describe()
            );
        }
        output
    }
}

/// How a run ended and what it printed; derefs to the `std::process::Output`.
pub struct Output {
    output: std::process::Output,
    pub elapsed: Duration,
}

impl std::ops::Deref for Output {
    type Target = std::process::Output;

    fn deref(&self) -> &std::process::Output {
        &self.output
    }
}

impl Output {
    pub fn stdout(&self) -> String {
        super::stdout(&self.output)
    }

    pub fn stderr(&self) -> String {
        super::stderr(&self.output)
    }

    /// Stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        super::json(&self.output.stdout)
    }

    /// The exit status, what the run printed (stdout cut short) and how long it took.
    pub fn describe(&self) -> String {
        format!(
            "exit status: {:?} after {:?}\n--- stderr:\n{}--- stdout:\n{}",
            self.status,
            self.elapsed,
            self.stderr(),
            clip(&self.stdout())
        )
    }

    /// Exit 0.
    pub fn success(&self) -> &Output {
        assert!(self.status.success(), "{}", self.describe());
        self
    }

    /// Exit `code`.
    pub fn code(&self, code: i32) -> &Output {
        assert_eq!(self.status.code(), Some(code), "{}", self.describe());
        self
    }

    /// A refusal of bad input: exit 2 and one line on stderr, `error: ...`, that contains
    /// `text`.
    pub fn stderr_line(&self, text: &str) -> &Output {
        assert_eq!(self.status.code(), Some(2), "{}", self.stderr());
        let message = self.stderr();
        assert_eq!(
            message.trim_end().lines().count(),
            1,
            "one line:\n{message}"
        );
        assert!(message.starts_with("error: "), "{message}");
        assert!(message.contains(text), "{text:?} not in:\n{message}");
        self
    }

    pub fn stdout_contains(&self, text: &str) -> &Output {
        let stdout = self.stdout();
        assert!(stdout.contains(text), "{text:?} not in:\n{stdout}");
        self
    }

    pub fn stderr_contains(&self, text: &str) -> &Output {
        let stderr = self.stderr();
        assert!(stderr.contains(text), "{text:?} not in:\n{stderr}");
        self
    }

    pub fn stdout_is(&self, expected: &str) -> &Output {
        assert_eq!(self.stdout(), expected);
        self
    }

    pub fn stderr_is(&self, expected: &str) -> &Output {
        assert_eq!(self.stderr(), expected);
        self
    }
}

/// The first 2,000 bytes of `text`, and how long it was.
pub fn clip(text: &str) -> String {
    if text.len() <= 2000 {
        return text.to_string();
    }
    let mut end = 2000;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len())
}
