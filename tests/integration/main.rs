//! The integration tests, in one binary: each module builds packs in temp dirs and drives the
//! real `apim-migrate` binary. One test binary is compiled and linked once, where a binary
//! per file was linked once per file; the tests of every module run side by side on the test
//! harness's threads, so none may change the process's environment or current directory.
//!
//! `support` holds what the modules share: the packs (`Packs`), runs of the binary (`Test`),
//! tree snapshots, and the only in-process uses of the library (`support::library`).
//!
//! `cargo test --test integration MODULE` runs one module (`cargo test --test integration
//! crash`, `... bad_input`).

mod support;

mod ansible;
mod authoring;
mod bad_input;
mod cli;
mod config;
mod crash;
mod disk_full;
mod hashcache;
mod inventory;
mod links;
mod migrate_1x_to_4_0_0;
mod migrate_3_0_0_to_4_1_0;
mod migrate_to_4x;
mod names;
mod operator;
mod paths;
mod primitives;
mod profiles;
mod progress;
mod readme;
mod repl;
mod safety;
mod signals;
mod steps;
mod tampered;
mod verify;
