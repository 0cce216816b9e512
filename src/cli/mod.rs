//! The command line: clap definitions only. Commands live in `commands`.

mod values;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use values::{ProfileName, ScriptName};

const AFTER_HELP: &str = "\
Exit codes: 0 done (or nothing to do); 1 the run failed and whatever it had applied was taken \
back, or it was not confirmed; 2 bad usage or bad input, found before anything changed \
(`plan --detailed-exitcode`: 0 nothing to change, 2 changes pending, 1 any error).

With `--json`, every command prints exactly one JSON document on stdout, errors included \
(`\"outcome\": \"error\"`); `-q` prints nothing but errors.

Two-step paths stop at a checkpoint for a data migration: `run` says so and prints the command \
that goes on (the same one with `--continue`).

Which script: `apim-migrate path FROM TO` names it and says what is special about the path; \
`run` and `plan` without SCRIPT take the bundled script made for the packs given.

Quick start: `apim-migrate demo` builds sample 3.0.0 and 4.1.0 packs, then plans and runs the \
standard script on them. `apim-migrate docs` lists the primitives scripts can call.";

/// Reproducible, previewable and reversible resource and artifact migration between WSO2 API
/// Manager packs, driven by Rhai scripts.
#[derive(Debug, Parser)]
#[command(name = "apim-migrate", version, about, long_about = None, after_help = AFTER_HELP)]
pub struct Cli {
    /// Print nothing but errors (`--json` documents are still printed)
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// When to colour the output: auto (only on a terminal, and not when NO_COLOR is set), always, never
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,

    /// More detail: list unchanged actions; repeat for tracing (`RUST_LOG` also works)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// When to colour the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a migration script: plan it, show the plan, ask on a terminal, apply it with a journal
    Run(RunCommand),
    /// Show what a script would change, changing nothing; `--out FILE` saves the plan for `run --plan`
    Plan(PlanCommand),
    /// Take back the latest run that changed something on these packs
    Rollback(RollbackArgs),
    /// List the runs recorded in a target pack, with the state of each
    History(HistoryArgs),
    /// Show a recorded run again: its state and the full report it stored (default: the latest run)
    Show(ShowArgs),
    /// Say what each directory is: product, version, and what a migration must carry over
    Detect(DetectArgs),
    /// Check a 3.x/4.x pack before its first start, changing nothing: exit 0 when clean, 1 when it finds problems
    Verify(VerifyArgs),
    /// List the bundled scripts and the site scripts of a directory (what each accepts and takes), print one, or start a new one
    Scripts(ScriptsArgs),
    /// Say how one API-M version goes to another: directly or through 2.0.0, the bundled script(s) to run, what is special about the path
    Path(PathArgs),
    /// Build sample 3.0.0 and 4.1.0 packs and migrate them with the standard script
    Demo(DemoArgs),
    /// Show the primitives scripts can call, with an example each
    Docs(DocsArgs),
    /// Check scripts without touching any pack: header, syntax, undefined variables, unknown functions
    Check(CheckArgs),
    /// Try statements interactively on open packs; each change is shown, applied and undoable
    Repl(ReplArgs),
    /// Write Rhai definition files (`*.d.rhai`) for editors: the primitives with their documentation, the packs and params, the bundled modules
    Defs(DefsArgs),
    /// Print a shell completion script (e.g. `apim-migrate completions bash > /etc/bash_completion.d/apim-migrate`)
    Completions(CompletionsArgs),
    /// Write the man pages (`apim-migrate.1` and one per command) into a directory
    Manpages(ManpagesArgs),
}

impl Command {
    /// The command's name, as `--json` documents give it.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Run(_) => "run",
            Command::Plan(_) => "plan",
            Command::Rollback(_) => "rollback",
            Command::History(_) => "history",
            Command::Show(_) => "show",
            Command::Detect(_) => "detect",
            Command::Verify(_) => "verify",
            Command::Scripts(_) => "scripts",
            Command::Demo(_) => "demo",
            Command::Docs(_) => "docs",
            Command::Check(_) => "check",
            Command::Repl(_) => "repl",
            Command::Defs(_) => "defs",
            Command::Completions(_) => "completions",
            Command::Manpages(_) => "manpages",
            Command::Path(_) => "path",
        }
    }

    /// Whether `--json` was asked for.
    pub fn json(&self) -> bool {
        match self {
            Command::Run(command) => command.args.json,
            Command::Plan(command) => command.args.json,
            Command::Rollback(args) => args.json,
            Command::History(args) => args.json,
            Command::Show(args) => args.json,
            Command::Detect(args) => args.json,
            Command::Verify(args) => args.json,
            Command::Scripts(args) => args.json,
            Command::Path(args) => args.json,
            _ => false,
        }
    }
}

/// The packs of a run and how their nodes and scripts are set up: shared by `run`, `plan`
/// and `repl`.
#[derive(Debug, Clone, Args)]
pub struct PackArgs {
    /// The pack migrated from; it is only read, never written
    #[arg(long, value_name = "DIR")]
    pub old: Option<PathBuf>,

    /// The fresh pack migrated into
    #[arg(long, value_name = "DIR")]
    pub new: Option<PathBuf>,

    /// A WSO2 Identity Server pack used as Key Manager, which receives keystores and user stores too
    #[arg(long, value_name = "DIR")]
    pub km: Option<PathBuf>,

    /// The pack of an intermediate version, for paths that take two steps (1.x-to-4.0.0: a fresh 2.0.0 pack)
    #[arg(long, value_name = "DIR")]
    pub via: Option<PathBuf>,

    /// The part of a distributed deployment the new pack's node runs (4.x: control-plane, gateway-worker, traffic-manager, all-in-one); default: what the new pack's deployment.toml says, else what the old pack's profile becomes, else all-in-one
    #[arg(long, value_name = "NAME", value_parser = ProfileName, hide_possible_values = true)]
    pub profile: Option<String>,

    /// The profile of the old pack's node (3.x: api-publisher, api-devportal, api-key-manager, gateway-worker, traffic-manager, all-in-one); default: detected from its deployment.toml
    #[arg(long, value_name = "NAME", value_parser = ProfileName, hide_possible_values = true)]
    pub old_profile: Option<String>,

    /// A value for the script, in its `params` map (repeatable)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,

    /// Extra stock catalogue (TOML) for packs with WSO2 updates (repeatable)
    #[arg(
        long = "stock",
        value_name = "FILE",
        env = "APIM_MIGRATE_STOCK",
        value_delimiter = ':'
    )]
    pub stock: Vec<PathBuf>,

    /// An extracted stock pack of the old release (with the same WSO2 updates as the old pack): its settings, not the built-in ones, tell which settings the site changed
    #[arg(long, value_name = "DIR")]
    pub old_stock: Option<PathBuf>,

    /// A directory of Rhai modules for `import`, searched after the script's own directory (repeatable)
    #[arg(long = "lib", value_name = "DIR")]
    pub lib: Vec<PathBuf>,

    /// Stop the script if it runs longer than this (seconds); the time it spends looking at the packs does not count
    #[arg(long, value_name = "SECONDS", default_value_t = crate::engine::DEFAULT_TIME_LIMIT_SECONDS,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub time_limit: u64,
}

/// `run`: the shared arguments, a saved plan, and the answer to the confirmation.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
On a terminal, `run` shows the plan and asks before applying (`--yes` does not ask); without a \
terminal (Ansible, CI, a pipe) it never asks. `run --plan FILE` applies exactly the plan that \
`plan --out FILE` saved, and refuses (exit 2, nothing changed) if any pack differs from what \
that plan saw.")]
pub struct RunCommand {
    #[command(flatten)]
    pub args: RunArgs,

    /// Apply exactly the plan `plan --out FILE` saved (its script, packs and options), refusing if any pack changed since
    #[arg(long, value_name = "FILE", conflicts_with_all = ["script", "old", "new", "km", "via", "profile", "old_profile", "set", "lib", "inventory", "resume"])]
    pub plan: Option<PathBuf>,

    /// Apply without asking, even on a terminal
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// `plan`: the shared arguments, where to save the plan, and the exit code.
#[derive(Debug, Clone, Args)]
pub struct PlanCommand {
    #[command(flatten)]
    pub args: RunArgs,

    /// Save the plan to FILE, planned as `run` would apply it (stopping at a checkpoint), for `run --plan FILE`
    #[arg(long, value_name = "FILE", conflicts_with = "inventory")]
    pub out: Option<PathBuf>,

    /// Exit 0 when there is nothing to change, 2 when changes are pending, 1 on any error
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// A bundled script name (see `apim-migrate scripts`) or the path of a `.rhai` file; left out, the bundled script that takes the packs given is chosen (and named)
    #[arg(value_name = "SCRIPT", value_parser = ScriptName, hide_possible_values = true)]
    pub script: Option<String>,

    #[command(flatten)]
    pub packs: PackArgs,

    /// The nodes of a distributed deployment (TOML: name, old and new profile, old and new pack, optional km and via pack per node): plans, then runs, every node of this machine (by its `host`, else by its packs), control plane first, with one report
    #[arg(long, value_name = "FILE", conflicts_with_all = ["old", "new", "km", "via", "profile", "old_profile"])]
    pub inventory: Option<PathBuf>,

    /// Go on from the checkpoint the last run of this script on these packs stopped at
    #[arg(long = "continue")]
    pub resume: bool,

    /// Print one JSON document on stdout instead of the report
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The pack the run migrated into
    #[arg(long, value_name = "DIR", required_unless_present = "via")]
    pub new: Option<PathBuf>,

    /// The Key Manager pack, if the run had one (found from the journal otherwise)
    #[arg(long, value_name = "DIR")]
    pub km: Option<PathBuf>,

    /// The intermediate pack of a two-step path (found from the journal otherwise)
    #[arg(long, value_name = "DIR")]
    pub via: Option<PathBuf>,

    /// Restore even files that were changed after the run
    #[arg(long)]
    pub force: bool,

    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// A target pack
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// List the runs that changed nothing too (a second run of a finished migration)
    #[arg(long)]
    pub all: bool,

    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A target pack
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// The run (its id, or the start of it); default: the latest run that changed something
    #[arg(value_name = "RUN_ID")]
    pub run_id: Option<String>,

    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The pack's home directory
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// Extra stock catalogue (TOML) for packs with WSO2 updates (repeatable)
    #[arg(
        long = "stock",
        value_name = "FILE",
        env = "APIM_MIGRATE_STOCK",
        value_delimiter = ':'
    )]
    pub stock: Vec<PathBuf>,

    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Pack directories
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,

    /// Extra stock catalogue (TOML) for packs with WSO2 updates (repeatable)
    #[arg(
        long = "stock",
        value_name = "FILE",
        env = "APIM_MIGRATE_STOCK",
        value_delimiter = ':'
    )]
    pub stock: Vec<PathBuf>,

    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ScriptsArgs {
    #[command(subcommand)]
    pub action: Option<ScriptsAction>,

    /// Where the site scripts are: the `*.rhai` files directly in DIR are listed
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,

    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ScriptsAction {
    /// Print a bundled script's source
    Show {
        /// The script's name
        #[arg(value_parser = ScriptName, hide_possible_values = true)]
        name: String,
    },
    /// Write a new site script, NAME.rhai: from a bundled script (--from), or a skeleton
    New(NewArgs),
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The new script's file (a path; `.rhai` is added when missing)
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Start from this bundled script: its body unchanged, under a header that names it and its SHA-256
    #[arg(long, value_name = "STANDARD", value_parser = ScriptName, hide_possible_values = true)]
    pub from: Option<String>,

    /// Overwrite NAME.rhai if it exists
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Exit codes: 0 the path exists; 2 a version the bundled scripts do not know, or a path they do not \
take (a target older than the source). The same facts choose the script when `run` or `plan` \
is given none.")]
pub struct PathArgs {
    /// The API-M version migrated from, e.g. 3.2.0
    #[arg(value_name = "FROM")]
    pub from: String,

    /// The API-M version migrated to, e.g. 4.5.0
    #[arg(value_name = "TO")]
    pub to: String,

    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to build the sample packs (default: a new directory under the system temp dir)
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DocsArgs {
    /// One primitive
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Bundled script names or `.rhai` paths
    #[arg(value_name = "SCRIPT", required = true, value_parser = ScriptName, hide_possible_values = true)]
    pub scripts: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DefsArgs {
    /// Where to write them (created if missing), e.g. `.rhai/definitions` beside the site scripts
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ManpagesArgs {
    /// Where to write them (created if missing), e.g. `/usr/local/share/man/man1`
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Each statement that changes a pack is planned, shown and applied at once, with a journal run of \
its own (so `apim-migrate history` lists it and `apim-migrate rollback` can take it back). \
Commands start with `:`: `:help [NAME]`, `:plan STATEMENT`, `:dry-run on|off`, `:undo`, \
`:load FILE [KEY=VALUE...]`, `:packs`, `:history`, `:quit`. Tab completes names and paths inside \
the packs; a block left open continues on the next line. The line history is kept in the user's \
data directory (`APIM_MIGRATE_HISTORY` names another file; empty: none). With input from a pipe \
or file, statements run one after another and the first that fails ends the session.")]
pub struct ReplArgs {
    #[command(flatten)]
    pub packs: PackArgs,

    /// Start with dry run on: statements are shown, not applied (`:dry-run off` changes it)
    #[arg(long)]
    pub dry_run: bool,
}
