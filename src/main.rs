//! The `apim-migrate` binary: parse the command line, run, map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    apim_migrate::main_entry()
}
