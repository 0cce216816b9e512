//! Ctrl-C (SIGINT) and SIGTERM while a run or a rollback changes packs: the first one is
//! noted, and the work stops at its next boundary (a run between two changes, taking back
//! what it applied; a rollback after the file it is restoring); a second one ends the
//! process at once, leaving what `rollback` handles as after a kill. Commands that change
//! nothing keep the default behaviour. The handlers only set flags (signal-hook's
//! registration is safe code): everything else happens on the threads that check them.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Exit code of a command stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report
/// Ctrl-C).
pub const EXIT_INTERRUPTED: u8 = 130;

static REQUESTED: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicUsize = AtomicUsize::new(0);

const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

/// From now on, SIGINT and SIGTERM ask the work to stop (see the module documentation).
/// Returns an error only when the system refuses the handlers.
pub fn install() -> std::io::Result<()> {
    for signal in [SIGINT, SIGTERM] {
        // Registered first, so that it sees the flag as it was before this signal: only a
        // second signal finds it set, and ends the process.
        signal_hook::flag::register_conditional_shutdown(
            signal,
            i32::from(EXIT_INTERRUPTED),
            &REQUESTED,
        )?;
        signal_hook::flag::register_usize(signal, &SIGNAL, signal as usize)?;
        signal_hook::flag::register(signal, &REQUESTED)?;
    }
    Ok(())
}

/// Whether a stop was asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// The signal that asked for it, by name (`SIGINT`, `SIGTERM`).
pub fn signal_name() -> &'static str {
    match SIGNAL.load(Ordering::SeqCst) as i32 {
        SIGTERM => "SIGTERM",
        _ => "SIGINT",
    }
}

/// The error that ends work stopped by a signal.
#[derive(Debug)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted ({})", signal_name())
    }
}

impl std::error::Error for Interrupted {}

/// `Err(Interrupted)` once a stop was asked for.
pub fn check() -> Result<(), Interrupted> {
    if requested() {
        Err(Interrupted)
    } else {
        Ok(())
    }
}
