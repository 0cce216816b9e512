//! Progress of long work on stderr: a spinner while a script is planned, a bar while the
//! changes are applied. Shown only when stderr is a terminal and `--quiet` is not given, so
//! logs, pipes and `--json` consumers see nothing extra; plain characters, so `NO_COLOR`
//! and dumb terminals are fine.

use crate::change::progress::{Meter, Progress as Shown};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

/// A progress display, or nothing (`hidden`). Cheap to update: drawing is rate-limited.
#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
}

impl Default for Progress {
    fn default() -> Self {
        Progress::hidden()
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

impl Progress {
    pub fn hidden() -> Progress {
        Progress {
            bar: ProgressBar::hidden(),
        }
    }

    /// Whether progress should be shown: stderr is a terminal and the user did not ask for
    /// quiet.
    pub fn wanted(quiet: bool) -> bool {
        !quiet && std::io::stderr().is_terminal()
    }

    /// A spinner with the number of actions planned so far.
    pub fn planning(show: bool) -> Progress {
        if !show {
            return Progress::hidden();
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
            ProgressStyle::with_template("{spinner} planning: {pos} actions ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner())
                .tick_chars("|/-\\ "),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar }
    }

    /// A bar over the `total` changes of a run, with rate and time left.
    pub fn applying(show: bool, total: usize) -> Progress {
        if !show || total == 0 {
            return Progress::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr())
            .with_style(
                ProgressStyle::with_template(
                    "applying [{bar:30}] {pos}/{len} changes, {rate}/s, {eta} left",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .with_key(
                    "rate",
                    |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                        let _ = write!(out, "{:.0}", state.per_sec());
                    },
                )
                .progress_chars("=> "),
            );
        Progress { bar }
    }
}

impl Shown for Progress {
    fn set(&self, done: usize) {
        self.bar.set_position(done as u64);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// The displays of a run at the terminal: shown only when `Progress::wanted`.
#[derive(Debug, Clone, Copy)]
pub struct Terminal {
    show: bool,
}

impl Terminal {
    /// Progress on stderr when it is a terminal and `--quiet` is not given.
    pub fn meter(quiet: bool) -> Arc<dyn Meter> {
        Arc::new(Terminal {
            show: Progress::wanted(quiet),
        })
    }
}

impl Meter for Terminal {
    fn planning(&self) -> Arc<dyn Shown> {
        Arc::new(Progress::planning(self.show))
    }

    fn applying(&self, total: usize) -> Arc<dyn Shown> {
        Arc::new(Progress::applying(self.show, total))
    }
}
