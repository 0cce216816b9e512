//! `apim-migrate repl`: Rhai statements against open packs, each one planned, shown and
//! applied at once with a journal run of its own (`:undo` takes it back), plus `:` commands.
//! At a terminal it uses rustyline with the helper in `helper`; with piped input it reads
//! statements line by line and stops at the first that fails.

use crate::change::apply;
use crate::change::journal;
use crate::change::planner::PackSlot;
use crate::change::state::TargetLocks;
use crate::cli::ReplArgs;
use crate::engine::PlanOptions;
use crate::error::{CommandResult, Failure};
use crate::pack::stock::Catalogue;
use crate::pack::Role;
use crate::repl::helper::{Names, ReplHelper, COMMANDS};
use crate::repl::session::{EntryResult, Evaluated, Evaluator, Mode};
use crate::report::Outcome;
use crate::run::{check_pack_roles, lib_dir, open_pack, parse_params};
use crate::script::Script;
use crate::text::shell_word;
use std::cell::RefCell;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::rc::Rc;

/// Where the REPL keeps its line history unless `APIM_MIGRATE_HISTORY` names a file.
pub fn history_file() -> Option<PathBuf> {
    match std::env::var_os("APIM_MIGRATE_HISTORY") {
        Some(path) if path.is_empty() => None,
        Some(path) => Some(PathBuf::from(path)),
        None => dirs::data_dir().map(|dir| dir.join("apim-migrate").join("repl-history")),
    }
}

pub fn repl(args: &ReplArgs, verbose: bool) -> CommandResult {
    let params = parse_params(&args.packs.set)?;
    let catalogue = Catalogue::with_files(&args.packs.stock)?;
    let mut slots = Vec::new();
    for (role, dir) in [
        (Role::Old, &args.packs.old),
        (Role::Via, &args.packs.via),
        (Role::New, &args.packs.new),
        (Role::Km, &args.packs.km),
    ] {
        if let Some(dir) = dir {
            slots.push(PackSlot::new(role, open_pack(&role.flag(), dir)?));
        }
    }
    check_pack_roles(&slots)?;
    if args.packs.profile.is_some() && args.packs.new.is_none() {
        return Err(Failure::bad_input(
            "--profile is the new pack's profile: give the pack with --new",
        ));
    }
    if args.packs.old_profile.is_some() && args.packs.old.is_none() {
        return Err(Failure::bad_input(
            "--old-profile is the old pack's profile: give the pack with --old",
        ));
    }
    for note in crate::run::resolve_profiles(
        &mut slots,
        args.packs.profile.as_deref(),
        args.packs.old_profile.as_deref(),
    )? {
        crate::warnln!("{note}");
    }
    let targets: Vec<&PackSlot> = slots.iter().filter(|slot| slot.target).collect();
    // The session holds its target packs, like a run, until it ends.
    let locks = if targets.is_empty() {
        None
    } else {
        Some(
            TargetLocks::acquire(
                targets.iter().map(|slot| slot.pack.home.as_path()),
                "repl session",
            )
            .map_err(Failure::BadInput)?,
        )
    };
    for slot in &targets {
        let runs = journal::read_runs(&slot.pack.home)?;
        apply::refuse_unfinished(slot.role, &slot.pack.home, &runs)?;
    }
    let options = PlanOptions {
        stop_at_checkpoint: true,
        resume: None,
        script_dir: std::env::current_dir().ok(),
        time_limit: Some(std::time::Duration::from_secs(args.packs.time_limit)),
        libs: args
            .packs
            .lib
            .iter()
            .map(|dir| lib_dir(dir))
            .collect::<CommandResult<_>>()?,
        // A statement's report follows at once; a bar would only flicker.
        progress: crate::change::progress::silent(),
        old_stock: args.packs.old_stock.clone(),
    };
    let evaluator = Evaluator::new(slots, params, catalogue, options, locks);
    let mut repl = Repl {
        evaluator,
        dry_run: args.dry_run,
        verbose,
        names: Rc::new(RefCell::new(Names::default())),
        stock: args.packs.stock.clone(),
        input_line: None,
    };
    repl.refresh_names();
    if std::io::stdin().is_terminal() {
        repl.interactive()
    } else {
        repl.piped()
    }
}

/// What to do after an input.
enum Flow {
    Go,
    Quit,
}

struct Repl {
    evaluator: Evaluator,
    dry_run: bool,
    verbose: bool,
    names: Rc<RefCell<Names>>,
    stock: Vec<PathBuf>,
    /// With piped input, the line of the input the current statement starts at: errors are
    /// located there (`stdin:LINE:COLUMN`), and there is no prompt to `:undo` at.
    input_line: Option<usize>,
}

impl Repl {
    fn interactive(&mut self) -> CommandResult {
        use rustyline::error::ReadlineError;
        // The line editor draws on the terminal itself: it follows `--color` as stdout does.
        let color = crate::report::output::stdout_has_color();
        let config = rustyline::Config::builder()
            .completion_type(rustyline::CompletionType::List)
            .auto_add_history(false)
            .max_history_size(10_000)
            .and_then(|builder| builder.history_ignore_dups(true))
            .map(|builder| {
                builder
                    .color_mode(if color {
                        rustyline::ColorMode::Enabled
                    } else {
                        rustyline::ColorMode::Disabled
                    })
                    .build()
            })
            .map_err(|error| {
                Failure::bad_input(format!("cannot set up the line editor: {error}"))
            })?;
        let mut editor: rustyline::Editor<ReplHelper, rustyline::history::FileHistory> =
            rustyline::Editor::with_config(config).map_err(|error| {
                Failure::bad_input(format!("cannot set up the line editor: {error}"))
            })?;
        let homes = self
            .evaluator
            .slots()
            .iter()
            .map(|slot| slot.pack.home.clone())
            .collect();
        editor.set_helper(Some(ReplHelper::new(self.names.clone(), homes, color)));
        let history = history_file().and_then(|path| {
            let ready = path
                .parent()
                .is_none_or(|dir| crate::change::disk::create_dir_all(dir).is_ok());
            if !ready {
                crate::warnln!(
                    "cannot create the directory of `{}`; this session's lines are not kept (set APIM_MIGRATE_HISTORY to another file)",
                    path.display()
                );
                return None;
            }
            Some(path)
        });
        if let Some(path) = &history {
            if path.exists() {
                if let Err(error) = editor.load_history(path) {
                    crate::warnln!("cannot read the line history `{}`: {error}", path.display());
                }
            }
        }
        self.banner();
        loop {
            let prompt = if self.dry_run {
                "apim (dry run)> "
            } else {
                "apim> "
            };
            let line = match editor.readline(prompt) {
                Ok(line) => line,
                Err(ReadlineError::Interrupted) => continue,
                Err(ReadlineError::Eof) => break,
                Err(error) => {
                    return Err(Failure::bad_input(format!(
                        "cannot read from the terminal: {error}"
                    )))
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            let _ = editor.add_history_entry(line.as_str());
            if let Some(path) = &history {
                if let Err(error) = editor.append_history(path) {
                    crate::warnln!(
                        "cannot write the line history `{}`: {error}",
                        path.display()
                    );
                }
            }
            if let (Flow::Quit, _) = self.handle(&line) {
                break;
            }
        }
        self.farewell();
        Ok(())
    }

    /// Statements from a pipe or file: no prompt; the first failure ends the session with
    /// its exit code (the statements before it stay applied, each with its own run).
    fn piped(&mut self) -> CommandResult {
        let stdin = std::io::stdin();
        let mut pending = String::new();
        let mut first_line = 0;
        for (number, line) in stdin.lock().lines().enumerate() {
            let line = line
                .map_err(|error| Failure::bad_input(format!("cannot read the input: {error}")))?;
            if pending.is_empty() {
                if line.trim().is_empty() {
                    continue;
                }
                first_line = number + 1;
            } else {
                pending.push('\n');
            }
            pending.push_str(&line);
            if crate::repl::lexer::needs_more(&pending) {
                continue;
            }
            let input = std::mem::take(&mut pending);
            self.input_line = Some(first_line);
            match self.handle(&input) {
                (Flow::Quit, _) => return Ok(()),
                (Flow::Go, Ok(())) => {}
                (Flow::Go, Err(failure)) => {
                    let message = format!(
                        "input line {first_line}: the statement failed, the session stopped there; statements before it stay applied (`:history` in a session, `apim-migrate history DIR` lists runs)"
                    );
                    return Err(match failure {
                        Failure::RunFailed(_) => Failure::RunFailed(anyhow::anyhow!(message)),
                        Failure::Interrupted(_) => Failure::Interrupted(anyhow::anyhow!(message)),
                        Failure::BadInput(_) | Failure::NotConfirmed(_) => {
                            Failure::bad_input(message)
                        }
                    });
                }
            }
        }
        if !pending.is_empty() {
            return Err(Failure::bad_input(format!(
                "input line {first_line}: the input ended inside a statement (an open bracket or string); it was not run"
            )));
        }
        Ok(())
    }

    fn banner(&self) {
        crate::outln!(
            "apim-migrate {} REPL: Rhai statements on these packs.",
            env!("CARGO_PKG_VERSION")
        );
        for slot in self.evaluator.slots() {
            crate::outln!("  {}", pack_line(slot));
        }
        if self.evaluator.slots().is_empty() {
            crate::outln!("  no pack open (give --old, --new, --km or --via)");
        }
        crate::outln!(
            "A statement that changes a pack is shown and applied at once, with a journal run of its own;\n`:undo` takes the last one back, `:dry-run on` shows instead of applying. `:help` lists commands\nand primitives; Tab completes names and paths; `:quit` or Ctrl-D leaves."
        );
    }

    /// `apim-migrate rollback --ROLE DIR` for the session's first target pack.
    fn rollback_command(&self) -> String {
        let target = self
            .evaluator
            .slots()
            .iter()
            .find(|slot| slot.target)
            .map(|slot| {
                format!(
                    " --{} {}",
                    slot.role,
                    shell_word(&slot.pack.home.display().to_string())
                )
            })
            .unwrap_or_default();
        format!("`apim-migrate rollback{target}`")
    }

    fn farewell(&self) {
        let applied = self
            .evaluator
            .entries
            .iter()
            .filter(|entry| matches!(entry.result, EntryResult::Applied { undone: false, .. }))
            .count();
        if applied > 0 {
            let targets: Vec<String> = self
                .evaluator
                .slots()
                .iter()
                .filter(|slot| slot.target)
                .map(|slot| {
                    format!(
                        "--{} {}",
                        slot.role,
                        shell_word(&slot.pack.home.display().to_string())
                    )
                })
                .collect();
            crate::outln!(
                "{applied} statement{} of this session {} still applied; `apim-migrate rollback {}` takes back the latest",
                if applied == 1 { "" } else { "s" },
                if applied == 1 { "is" } else { "are" },
                targets.first().cloned().unwrap_or_default()
            );
        }
    }

    /// Runs one input: a `:` command or a statement. Prints what it did; the `Result`
    /// says whether it failed (piped input stops there).
    fn handle(&mut self, input: &str) -> (Flow, CommandResult) {
        let trimmed = input.trim();
        let result = match trimmed.strip_prefix(':') {
            Some(command) => {
                let (name, argument) = command
                    .split_once(char::is_whitespace)
                    .map_or((command, ""), |(name, rest)| (name, rest.trim()));
                match name {
                    "q" | "quit" | "exit" => return (Flow::Quit, Ok(())),
                    "help" | "h" => self.help(argument),
                    "plan" => match argument {
                        "" => Err(Failure::bad_input(
                            ":plan needs a statement: `:plan copy_keystores(old, new);`",
                        )),
                        statement => self.statement(statement, Mode::Show),
                    },
                    "dry-run" => self.set_dry_run(argument),
                    "undo" => self.undo(),
                    "load" => self.load(argument),
                    "packs" => self.packs(),
                    "history" => {
                        self.history();
                        Ok(())
                    }
                    other => {
                        let names: Vec<String> = COMMANDS
                            .iter()
                            .map(|(name, _, _)| name.trim_start_matches(':').to_string())
                            .collect();
                        let hint = crate::authoring::check::closest(other, names.iter())
                            .map(|name| format!(" (did you mean `:{name}`?)"))
                            .unwrap_or_default();
                        Err(Failure::bad_input(format!(
                            "unknown command `:{other}`{hint}; `:help` lists the commands"
                        )))
                    }
                }
            }
            None => {
                let mode = if self.dry_run {
                    Mode::Show
                } else {
                    Mode::Apply
                };
                self.statement(input, mode)
            }
        };
        self.refresh_names();
        if let Err(failure) = &result {
            crate::report::error(failure);
        }
        (Flow::Go, result)
    }

    fn statement(&mut self, text: &str, mode: Mode) -> CommandResult {
        let evaluated = self.evaluator.statement(text, mode).map_err(|mut error| {
            // `Function not found: copy_keystore (Pack, Pack)`: name the one meant.
            if let Some(rest) = error.message.strip_prefix("Function not found: ") {
                let name = rest
                    .split([' ', '('])
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let names = self.names.borrow();
                if let Some(signatures) = names.functions.get(&name) {
                    // The name is right; the arguments are not.
                    error.message = format!(
                        "{} (it is called as {})",
                        error.message,
                        signatures.join(" or ")
                    );
                } else if let Some(near) =
                    crate::authoring::check::closest(&name, names.functions.keys())
                {
                    error.message = format!("{} (did you mean `{near}`?)", error.message);
                }
            }
            if let Some(first_line) = self.input_line {
                error.source_name = "stdin".to_string();
                error.line = error.line.map(|line| line + first_line - 1);
            }
            Failure::BadInput(anyhow::Error::new(error))
        })?;
        self.show(&evaluated, mode)
    }

    /// Prints what a statement did: its report when it planned anything, then its value.
    fn show(&self, evaluated: &Evaluated, mode: Mode) -> CommandResult {
        let plan = &evaluated.plan;
        let eventful = !plan.actions.is_empty()
            || !plan.reminders.is_empty()
            || !plan.warnings.is_empty()
            || !plan.findings.is_empty()
            || !plan.marks.is_empty();
        if eventful {
            let outcome = Outcome {
                command: if evaluated.run_id.is_some() {
                    "run"
                } else {
                    "plan"
                },
                run_id: evaluated.run_id.as_deref(),
                plan,
                output: &evaluated.output,
                error: evaluated.error.clone(),
                message: None,
            };
            crate::out!(
                "{}",
                outcome.human_body(self.verbose).trim_start_matches('\n')
            );
        } else {
            for line in &evaluated.output {
                crate::outln!("{line}");
            }
        }
        if let Some(run_id) = &evaluated.run_id {
            let outcome = Outcome {
                command: "run",
                run_id: Some(run_id),
                plan,
                output: &evaluated.output,
                error: evaluated.error.clone(),
                message: None,
            };
            super::run::store_document(&outcome, run_id);
        }
        if let Some(value) = &evaluated.value {
            crate::outln!("=> {value}");
        }
        if let Some(error) = &evaluated.error {
            return Err(Failure::RunFailed(anyhow::anyhow!(
                "applying the statement failed; what it had applied was taken back: {error}"
            )));
        }
        match (&evaluated.run_id, mode) {
            (Some(run_id), _) => crate::outln!(
                "applied as run {run_id} ({} change{}); {} takes it back",
                evaluated.changes,
                if evaluated.changes == 1 { "" } else { "s" },
                match self.input_line {
                    None => "`:undo`".to_string(),
                    Some(_) => self.rollback_command(),
                }
            ),
            (None, Mode::Show) if evaluated.changes > 0 => crate::outln!(
                "not applied ({}; nothing was written)",
                if self.dry_run {
                    "dry run: `:dry-run off` applies statements"
                } else {
                    "`:plan` only shows"
                }
            ),
            _ => {}
        }
        Ok(())
    }

    fn set_dry_run(&mut self, argument: &str) -> CommandResult {
        match argument {
            "on" => self.dry_run = true,
            "off" => self.dry_run = false,
            "" => {}
            other => {
                return Err(Failure::bad_input(format!(
                    "`:dry-run {other}`: say `:dry-run on` or `:dry-run off`"
                )))
            }
        }
        crate::outln!(
            "dry run is {}",
            if self.dry_run {
                "on: statements are shown, not applied"
            } else {
                "off: statements are applied"
            }
        );
        Ok(())
    }

    fn undo(&mut self) -> CommandResult {
        let (entry, done) = self.evaluator.undo()?;
        let document = crate::report::rollback::RollbackDocument::of(&done, false);
        super::rollback::store(&done.packs, &done.run_id, &document.json());
        crate::outln!(
            "took back statement {} (run {}): {} restored, {} removed, {} directories removed",
            entry.number,
            done.run_id,
            done.report.restored.len(),
            done.report.removed.len(),
            done.report.removed_dirs.len()
        );
        crate::outln!("  {}", first_line(&entry.text));
        Ok(())
    }

    fn load(&mut self, argument: &str) -> CommandResult {
        let mut words = argument.split_whitespace();
        let Some(file) = words.next() else {
            return Err(Failure::bad_input(
                ":load needs a script: `:load site.rhai` or `:load 3.0.0-to-4.1.0`",
            ));
        };
        let values: Vec<String> = words.map(str::to_string).collect();
        let params = parse_params(&values)?;
        let mut script = Script::load(file)?;
        if let Some(path) = &script.path {
            if let Ok(path) = path.canonicalize() {
                script.name = path.display().to_string();
                script.path = Some(path);
            }
        }
        let continue_with = crate::run::chain::continue_command(
            &script,
            &crate::run::chain::slot_words(self.evaluator.slots()),
            &values,
            &self.stock,
            None,
        );
        let mode = if self.dry_run {
            Mode::Show
        } else {
            Mode::Apply
        };
        let evaluated = self
            .evaluator
            .load(&script, params, mode, &continue_with)
            .map_err(|error| Failure::BadInput(anyhow::anyhow!("{error}")))?;
        self.show(&evaluated, mode)
    }

    fn packs(&self) -> CommandResult {
        if self.evaluator.slots().is_empty() {
            crate::outln!("no pack open (give --old, --new, --km or --via to `repl`)");
        }
        let catalogue = self.evaluator.catalogue();
        for slot in self.evaluator.slots() {
            crate::outln!("{}", pack_line(slot));
            match crate::pack::detect::detect(&slot.pack, &catalogue) {
                Ok(detection) => {
                    for line in detection.human().lines().skip(1) {
                        crate::outln!("  {line}");
                    }
                }
                Err(error) => crate::outln!("  cannot inspect it: {error:#}"),
            }
        }
        Ok(())
    }

    fn history(&self) {
        if self.evaluator.entries.is_empty() {
            crate::outln!("no statements yet in this session");
            return;
        }
        for entry in &self.evaluator.entries {
            let what = match &entry.result {
                EntryResult::Applied {
                    run_id,
                    changes,
                    undone,
                } => format!(
                    "{} run {run_id}, {changes} change{}",
                    if *undone { "undone " } else { "applied" },
                    if *changes == 1 { "" } else { "s" }
                ),
                EntryResult::Planned { changes } => format!(
                    "shown, not applied, {changes} change{}",
                    if *changes == 1 { "" } else { "s" }
                ),
                EntryResult::NoChange => "no change".to_string(),
                EntryResult::Failed => "failed, nothing applied".to_string(),
                EntryResult::Undone => "failed while applying, taken back".to_string(),
            };
            crate::outln!(
                "{:>3}  {what:<52} {}",
                entry.number,
                first_line(&entry.text)
            );
        }
        crate::outln!("(every run recorded in a pack: `apim-migrate history DIR`)");
    }

    fn help(&self, argument: &str) -> CommandResult {
        let docs = crate::primitives::docs();
        if argument.is_empty() {
            crate::outln!("commands");
            for (name, arguments, text) in COMMANDS {
                crate::outln!("  {:<28} {text}", format!("{name} {arguments}").trim_end());
            }
            crate::outln!("\nprimitives (`:help NAME` shows one, with an example)");
            let names: Vec<&str> = docs.iter().map(|doc| doc.name).collect();
            crate::outln!("{}", crate::text::wrap(&names.join(", "), "  ", "  "));
            crate::outln!(
                "\nStatements are Rhai. The packs are `old`, `new`, `km` and `via` (`()` when not open);\n`params` holds the --set values. Functions and variables stay defined for the session."
            );
            return Ok(());
        }
        let name = argument.trim_start_matches(':');
        if let Some((command, arguments, text)) = COMMANDS
            .iter()
            .find(|(command, _, _)| command.trim_start_matches(':') == name)
        {
            crate::outln!(
                "{}\n    {text}",
                format!("{command} {arguments}").trim_end()
            );
            return Ok(());
        }
        let name = argument.trim_end_matches("()");
        if let Some(doc) = docs.iter().find(|doc| doc.name == name) {
            crate::out!("{}", crate::primitives::render_doc(doc));
            return Ok(());
        }
        let names = self.names.borrow();
        if let Some(signatures) = names.functions.get(name) {
            // A primitive documented under another name (`is_file`), or a Rhai function.
            match docs
                .iter()
                .find(|doc| doc.signature.contains(&format!("{name}(")))
            {
                Some(doc) => crate::out!("{}", crate::primitives::render_doc(doc)),
                None => {
                    for signature in signatures {
                        crate::outln!("{signature}");
                    }
                }
            }
            return Ok(());
        }
        let known: Vec<String> = docs.iter().map(|doc| doc.name.to_string()).collect();
        let hint = crate::authoring::check::closest(name, known.iter())
            .map(|name| format!(" (did you mean `{name}`?)"))
            .unwrap_or_default();
        Err(Failure::bad_input(format!(
            "no primitive or command `{argument}`{hint}; `:help` lists them"
        )))
    }

    /// Updates what completion and hints offer: functions, variables, modules.
    fn refresh_names(&self) {
        let docs = crate::primitives::docs();
        let mut names = self.names.borrow_mut();
        names.functions.clear();
        for signature in self.evaluator.engine().gen_fn_signatures(false) {
            let Some(name) = signature.split('(').next() else {
                continue;
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            // A primitive's hint is its documented form.
            let documented: Vec<String> = docs
                .iter()
                .flat_map(|doc| doc.signature.split(" | "))
                .filter(|form| form.starts_with(&format!("{name}(")))
                .map(str::to_string)
                .collect();
            let entry = names.functions.entry(name.to_string()).or_default();
            if !documented.is_empty() {
                *entry = documented;
            } else if !entry.contains(&signature) {
                entry.push(signature);
            }
        }
        for (name, signature) in self.evaluator.functions() {
            names.functions.insert(name, vec![signature]);
        }
        names.variables = self.evaluator.variables();
        names.variables.sort();
        names.variables.dedup();
        names.modules = self.evaluator.modules.clone();
        names.properties = docs
            .iter()
            .find(|doc| doc.name == "Pack")
            .and_then(|doc| doc.signature.split_once("properties: "))
            .map(|(_, list)| {
                list.trim_end_matches(')')
                    .split(", ")
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
    }
}

fn pack_line(slot: &PackSlot) -> String {
    format!(
        "{:<4} {}  {} {}{}",
        slot.role,
        slot.pack.home.display(),
        slot.pack.product.name(),
        slot.pack.version,
        if slot.target { "" } else { "  (read only)" }
    )
}

fn first_line(text: &str) -> String {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default().trim();
    if lines.next().is_some() {
        format!("{first} …")
    } else {
        first.to_string()
    }
}
