//! Diagnostics on stderr through `tracing`: `-v` levels, `RUST_LOG`, colour as `--color`
//! says for stderr (`output::init` comes first).

/// Sets up the subscriber: errors only with `--quiet`, warnings by default, `-vv` info,
/// `-vvv` debug; `RUST_LOG` wins when set.
pub fn init(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0 | 1) => "warn",
        (false, 2) => "info",
        (false, _) => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_ansi(super::output::stderr_has_color())
        .try_init();
}
