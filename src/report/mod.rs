//! Rendering plans and runs for people (grouped by primitive, with a summary line) and for
//! machines (one JSON document). Only this module and the command layer print. The
//! conventions every command follows are here too: the `--json` document's shape
//! (`document`), colours (`style`), `--quiet` and stdout (`output`).

pub mod document;
pub mod history;
pub mod inventory;
pub mod log;
pub mod output;
pub mod progress;
pub mod rollback;
pub mod show;
pub mod style;
pub mod verify;

use crate::change::plan::{
    Action, ActionKind, CheckpointState, Effect, Mark, MarkKind, Origin, Plan, Status,
};
use crate::pack::Role;
use crate::text::wrap;
use document::ErrorInfo;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write;
use style::paint;

/// Prints the error that ends the program on stderr. Script errors carry a located,
/// multi-line rendering; others are one line, which a file name with a newline in it does
/// not break (names are shown escaped, see `pack::name::shown`).
pub fn error(failure: &crate::error::Failure) {
    let text = failure.to_string();
    let shown_text = if failure
        .error()
        .downcast_ref::<crate::engine::ScriptError>()
        .is_some()
    {
        let lines: Vec<String> = text.lines().map(|line| shown(line).into_owned()).collect();
        lines.join("\n")
    } else {
        shown(&text).into_owned()
    };
    output::error_text(&format!("{}: {shown_text}\n", paint(style::ERROR, "error")));
}

/// Text for people in which file names may stand: raw bytes and control characters escaped.
fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    crate::pack::name::shown_text(text)
}

/// Counts for the summary line.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Summary {
    pub planned: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub skipped: usize,
    pub failed: usize,
    pub reminders: usize,
    pub warnings: usize,
    pub findings: usize,
}

impl Summary {
    pub fn of(plan: &Plan) -> Summary {
        let mut summary = Summary {
            reminders: plan.reminders.len(),
            warnings: plan.warnings.len(),
            findings: plan.findings.len(),
            ..Summary::default()
        };
        for action in &plan.actions {
            match action.status {
                Status::Planned => summary.planned += 1,
                Status::Changed => summary.changed += 1,
                Status::Unchanged => summary.unchanged += 1,
                Status::Skipped => summary.skipped += 1,
                Status::Failed => summary.failed += 1,
            }
        }
        summary
    }

    /// `12 changed, 3 unchanged, 1 skipped; 2 reminders, 1 warning`
    pub fn line(&self) -> String {
        let mut parts = Vec::new();
        if self.planned > 0 {
            parts.push(format!("{} planned", self.planned));
        }
        if self.changed > 0 || (self.planned == 0 && self.failed == 0) {
            parts.push(format!("{} changed", self.changed));
        }
        parts.push(format!("{} unchanged", self.unchanged));
        parts.push(format!("{} skipped", self.skipped));
        if self.failed > 0 {
            parts.push(format!("{} failed", self.failed));
        }
        format!(
            "{}; {}, {}, {}",
            parts.join(", "),
            plural(self.reminders, "reminder"),
            plural(self.warnings, "warning"),
            plural(self.findings, "finding")
        )
    }
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// The fields of the JSON document of `plan --json` and `run --json` (after `schema`,
/// `command` and `outcome`, before `error`), which is also the report a run stores beside its
/// journal and `show` reads back. The long lists borrow from the plan when it is written (a
/// run of 10,000 tenants has 13,000 actions: no copy of them is made to print them) and own
/// what they hold when it is read back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunDocument<'a> {
    pub run_id: Option<String>,
    pub script: crate::change::plan::ScriptInfo,
    pub packs: BTreeMap<String, Option<crate::change::plan::PackEntry>>,
    pub params: BTreeMap<String, String>,
    pub actions: Cow<'a, [Action]>,
    pub reminders: Cow<'a, [crate::change::plan::Reminder]>,
    pub warnings: Cow<'a, [crate::change::plan::Warning]>,
    pub findings: Cow<'a, [crate::change::plan::Finding]>,
    /// Steps the script left out because of a node's profile.
    pub skipped_for_profile: Cow<'a, [crate::change::plan::ProfileSkip]>,
    /// Steps and checkpoints: each stands before the action numbered `before + 1`.
    pub marks: Cow<'a, [crate::change::plan::Mark]>,
    /// Set when the run stopped at a checkpoint: what to do, and `continue_with`.
    pub stopped_at: Option<crate::change::plan::Checkpoint>,
    /// Set under `--continue`: the run gone on from.
    pub continues: Option<crate::change::plan::Continues>,
    pub sources: Cow<'a, [crate::change::plan::Source]>,
    pub summary: Summary,
    pub output: Cow<'a, [String]>,
    /// Why there was nothing to do, when that is worth saying (a chain already complete).
    #[serde(default)]
    pub message: Option<String>,
}

impl RunDocument<'_> {
    /// The plan the document describes, for rendering it again.
    pub fn plan(&self) -> Plan {
        let mut packs: Vec<crate::change::plan::PackEntry> =
            self.packs.values().flatten().cloned().collect();
        packs.sort_by_key(|pack| pack.role);
        Plan {
            script: self.script.clone(),
            packs,
            params: self.params.clone(),
            actions: self.actions.to_vec(),
            reminders: self.reminders.to_vec(),
            warnings: self.warnings.to_vec(),
            findings: self.findings.to_vec(),
            skipped_for_profile: self.skipped_for_profile.to_vec(),
            marks: self.marks.to_vec(),
            stopped_at: self.stopped_at.clone(),
            continues: self.continues.clone(),
            sources: self.sources.to_vec(),
        }
    }
}

/// What a command did, for rendering.
pub struct Outcome<'a> {
    pub command: &'a str,
    pub run_id: Option<&'a str>,
    pub plan: &'a Plan,
    pub output: &'a [String],
    pub error: Option<String>,
    /// Why there was nothing to do, when that is worth saying.
    pub message: Option<&'a str>,
}

impl<'a> Outcome<'a> {
    /// The report view of what a run or plan did.
    pub fn of(executed: &'a crate::run::Executed) -> Outcome<'a> {
        Outcome {
            command: executed.command,
            run_id: executed.run_id.as_deref(),
            plan: &executed.plan,
            output: &executed.output,
            error: executed.error.clone(),
            message: executed.message.as_deref(),
        }
    }

    /// `planned`, `done`, `nothing to do`, `checkpoint` (a run stopped at one) or `failed`.
    pub fn outcome(&self) -> &'static str {
        let summary = Summary::of(self.plan);
        if self.error.is_some() || summary.failed > 0 {
            "failed"
        } else if self.plan.stopped_at.is_some() {
            "checkpoint"
        } else if summary.planned > 0 {
            "planned"
        } else if summary.changed > 0 {
            "done"
        } else {
            document::NOTHING_TO_DO
        }
    }

    /// The fields of the JSON document. Names that are not UTF-8, or hold control
    /// characters, are given as people see them (the journal keeps their bytes); the plan's
    /// actions are borrowed, not copied, when none has such a name.
    pub fn document(&self) -> RunDocument<'a> {
        let needs_showing = |action: &Action| {
            matches!(crate::pack::name::shown(&action.path), Cow::Owned(_))
                || action.source.as_ref().is_some_and(|source| {
                    let text: &str = match source {
                        Origin::Pack(_, path) => path,
                        Origin::Shown(text) => text,
                    };
                    matches!(crate::pack::name::shown(text), Cow::Owned(_))
                })
                || action
                    .reason
                    .as_deref()
                    .is_some_and(|reason| matches!(shown(reason), Cow::Owned(_)))
        };
        let actions: Cow<'a, [Action]> = if self.plan.actions.iter().any(needs_showing) {
            Cow::Owned(
                self.plan
                    .actions
                    .iter()
                    .map(|action| {
                        let mut action = action.clone();
                        action.path = crate::pack::name::shown(&action.path).into();
                        action.source = action.source.map(|source| {
                            let shown = crate::pack::name::shown(&source.to_string()).into_owned();
                            Origin::Shown(shown.into_boxed_str())
                        });
                        action.reason = action.reason.map(|reason| shown(&reason).into());
                        action
                    })
                    .collect(),
            )
        } else {
            Cow::Borrowed(&self.plan.actions)
        };
        let mut packs = BTreeMap::new();
        for role in [Role::Old, Role::New, Role::Km] {
            packs.insert(role.as_str().to_string(), self.plan.pack(role).cloned());
        }
        if let Some(via) = self.plan.pack(Role::Via) {
            packs.insert(Role::Via.as_str().to_string(), Some(via.clone()));
        }
        RunDocument {
            run_id: self.run_id.map(str::to_string),
            script: self.plan.script.clone(),
            packs,
            params: self.plan.params.clone(),
            actions,
            reminders: Cow::Borrowed(&self.plan.reminders),
            warnings: Cow::Borrowed(&self.plan.warnings),
            findings: Cow::Borrowed(&self.plan.findings),
            skipped_for_profile: Cow::Borrowed(&self.plan.skipped_for_profile),
            marks: Cow::Borrowed(&self.plan.marks),
            stopped_at: self.plan.stopped_at.clone(),
            continues: self.plan.continues.clone(),
            sources: Cow::Borrowed(&self.plan.sources),
            summary: Summary::of(self.plan),
            output: Cow::Borrowed(self.output),
            message: self.message.map(str::to_string),
        }
    }

    /// What went wrong: a failed run's error (exit 1), with the file it failed at.
    pub fn error_info(&self) -> Option<ErrorInfo> {
        let message = self.error.as_deref()?;
        let file = self
            .plan
            .actions
            .iter()
            .find(|action| action.status == Status::Failed)
            .and_then(|action| {
                self.plan
                    .pack(action.pack)
                    .map(|pack| crate::pack::files::join(&pack.home, &action.path))
            });
        Some(ErrorInfo::message(
            message,
            crate::error::EXIT_RUN_FAILED,
            file,
        ))
    }

    /// The JSON document (see `document`).
    pub fn json(&self) -> String {
        document::render(
            self.command,
            self.outcome(),
            &self.document(),
            self.error_info().as_ref(),
        )
    }

    /// Writes the JSON document to `writer` as it is serialised (the document of `json`,
    /// without indentation).
    pub fn write_json(&self, writer: &mut dyn std::io::Write) -> std::io::Result<()> {
        document::write(
            writer,
            self.command,
            self.outcome(),
            &self.document(),
            self.error_info().as_ref(),
        )
    }

    /// The human report. `verbose` lists unchanged actions one by one.
    pub fn human(&self, verbose: bool) -> String {
        let mut out = String::new();
        self.render(&mut out, verbose, true);
        out
    }

    /// Prints the human report on stdout (unless `--quiet`) as it is drawn: at 100,000
    /// tenants it lists some 140,000 files, and drawn whole first it was 40 MB of memory.
    pub fn print_human(&self, verbose: bool) {
        let mut out = output::Chunked::default();
        self.render(&mut out, verbose, true);
    }

    /// The human report without its title and pack list (the REPL shows one per statement).
    pub fn human_body(&self, verbose: bool) -> String {
        let mut out = String::new();
        self.render(&mut out, verbose, false);
        out
    }

    fn render(&self, out: &mut dyn Write, verbose: bool, with_title: bool) {
        let plan = self.plan;
        if with_title {
            self.render_title(out);
        }
        // The actions between two marks form a section; within one, actions are grouped by
        // primitive, in the order each first appears.
        let mut start = 0;
        for mark in &plan.marks {
            render_section(
                out,
                &plan.actions[start..mark.before.min(plan.actions.len())],
                verbose,
            );
            start = mark.before.min(plan.actions.len());
            render_mark(out, mark);
        }
        render_section(out, &plan.actions[start..], verbose);

        if !self.output.is_empty() {
            let _ = writeln!(out, "\n{}", paint(style::HEADING, "script output"));
            for line in self.output {
                let _ = writeln!(out, "  {}", shown(line));
            }
        }
        if !plan.skipped_for_profile.is_empty() {
            let _ = writeln!(
                out,
                "\n{}",
                paint(style::HEADING, "skipped for the profile")
            );
            for skip in &plan.skipped_for_profile {
                let _ = writeln!(
                    out,
                    "{}",
                    wrap(&format!("{}: {}", skip.what, skip.reason), "  - ", "    ")
                );
            }
        }
        if !plan.reminders.is_empty() {
            let _ = writeln!(out, "\n{}", paint(style::TODO, "reminders"));
            for reminder in &plan.reminders {
                let _ = writeln!(
                    out,
                    "{}",
                    wrap(
                        &shown(&format!("[{}] {}", reminder.id, reminder.message)),
                        "  ",
                        "      "
                    )
                );
            }
        }
        if !plan.warnings.is_empty() {
            let _ = writeln!(out, "\n{}", paint(style::WARNING, "warnings"));
            let bullet = format!("  {} ", paint(style::WARNING, "!"));
            for warning in &plan.warnings {
                let _ = writeln!(
                    out,
                    "{}",
                    wrap(&shown(&warning.message), "  ! ", "    ").replacen("  ! ", &bullet, 1)
                );
                if let Some(detail) = &warning.detail {
                    for line in detail.lines() {
                        let _ = writeln!(out, "      {}", shown(line));
                    }
                }
            }
        }
        if !plan.findings.is_empty() {
            let _ = writeln!(
                out,
                "\n{}",
                paint(style::FINDING, "findings (to port by hand)")
            );
            let bullet = format!("  {} ", paint(style::FINDING, "*"));
            for finding in &plan.findings {
                let _ = writeln!(
                    out,
                    "{}",
                    wrap(&shown(&finding.message), "  * ", "    ").replacen("  * ", &bullet, 1)
                );
                if let Some(from) = &finding.carried_from {
                    let _ = writeln!(out, "    (found by {from})");
                }
                if let Some(diff) = &finding.diff {
                    for line in diff.lines() {
                        let _ = writeln!(out, "      {}", shown(line));
                    }
                }
            }
        }
        let _ = out.write_str(&self.closing());
    }

    /// The end of the report: the error, why there was nothing to do, the summary line, and
    /// where a checkpoint stopped the run. (After a confirmed run, only this is shown again.)
    pub fn closing(&self) -> String {
        let plan = self.plan;
        let mut out = String::new();
        if let Some(error) = &self.error {
            let _ = writeln!(out, "\n{}: {}", paint(style::ERROR, "error"), shown(error));
        }
        if let Some(message) = self.message {
            // Not wrapped: it holds commands to copy.
            let _ = writeln!(out, "\n{message}");
        }
        let summary = Summary::of(plan);
        let line = match self.outcome() {
            "nothing to do" => paint(style::GOOD, &format!("nothing to do: {}", summary.line())),
            "failed" => paint(style::ERROR, &summary.line()),
            _ => paint(style::SUMMARY, &summary.line()),
        };
        let _ = writeln!(out, "\n{line}");
        if let Some(checkpoint) = &plan.stopped_at {
            if self.error.is_none() {
                out.push_str(&checkpoint_text(
                    &format!(
                        "stopped at checkpoint `{}`: do this now, outside apim-migrate:",
                        checkpoint.name
                    ),
                    &checkpoint.message,
                    &checkpoint.continue_with,
                ));
            }
        }
        out
    }

    fn render_title(&self, out: &mut dyn Write) {
        let plan = self.plan;
        let title = match self.run_id {
            Some(run_id) => format!("{} {} (run {run_id})", self.command, plan.script.name),
            None => format!("{} {}", self.command, plan.script.name),
        };
        let _ = writeln!(out, "{title}");
        for pack in &plan.packs {
            let product = match pack.product.as_str() {
                "wso2am" => "API-M",
                "wso2is" => "IS",
                other => other,
            };
            let profile = pack
                .profile
                .as_ref()
                .filter(|_| pack.product == "wso2am")
                .map(|profile| format!(", {}", profile.name))
                .unwrap_or_default();
            let distribution = pack
                .distribution
                .as_deref()
                .and_then(crate::pack::Distribution::by_key)
                .map(|(_, distribution)| format!(" ({})", distribution.short_name()))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:<4} {}  {product} {}{distribution}{profile}{}",
                pack.role,
                pack.home.display(),
                pack.version,
                if pack.target { "" } else { "  (read only)" }
            );
        }

        if let Some(continues) = &plan.continues {
            let _ = writeln!(
                out,
                "  continues run {} from checkpoint `{}`",
                continues.run_id, continues.checkpoint
            );
        }
    }
}

/// Where a checkpoint leaves a run: `heading`, what to do, and the command that goes on.
pub fn checkpoint_text(heading: &str, message: &str, continue_with: &str) -> String {
    format!(
        "\n{}\n{}\nthen go on with:\n  {continue_with}\n",
        paint(style::TODO, heading),
        wrap(message, "  ", "  ")
    )
}

fn render_section(out: &mut dyn Write, actions: &[Action], verbose: bool) {
    let mut order: Vec<&str> = Vec::new();
    for action in actions {
        if !order.contains(&&*action.primitive) {
            order.push(&action.primitive);
        }
    }
    for primitive in order {
        let _ = writeln!(out, "\n{}", paint(style::HEADING, primitive));
        let mut unchanged = 0;
        for action in actions
            .iter()
            .filter(|action| &*action.primitive == primitive)
        {
            if action.status == Status::Unchanged && action.action != ActionKind::Check && !verbose
            {
                unchanged += 1;
                continue;
            }
            render_action(out, action);
        }
        if unchanged > 0 {
            let _ = writeln!(
                out,
                "  {}",
                paint(style::QUIET, &format!("{unchanged} unchanged"))
            );
        }
    }
}

fn render_mark(out: &mut dyn Write, mark: &Mark) {
    match &mark.kind {
        MarkKind::Step { script, packs } => {
            let packs: Vec<String> = Role::COMMAND_LINE
                .iter()
                .filter_map(|inner| {
                    packs
                        .get(inner.as_str())
                        .map(|outer| format!("{inner}: {outer}"))
                })
                .collect();
            let _ = writeln!(
                out,
                "\n{}",
                paint(
                    style::HEADING,
                    &format!("== step: {} ({})", script.name, packs.join(", "))
                )
            );
        }
        MarkKind::StepDone { script, reason } => {
            let _ = writeln!(
                out,
                "\n{}",
                paint(
                    style::HEADING,
                    &format!("== step: {script}: not run again, {reason}")
                )
            );
        }
        MarkKind::Checkpoint {
            name,
            message,
            state,
        } => {
            let how = match state {
                CheckpointState::Stop => "the run stops here",
                CheckpointState::Preview => {
                    "`run` stops here; what follows is planned as if everything before were applied (the work done at the checkpoint may change it: `plan --continue` afterwards shows it exactly)"
                }
                CheckpointState::Resumed => "this run goes on from here",
            };
            let _ = writeln!(
                out,
                "\n{}",
                paint(style::TODO, &format!("== checkpoint `{name}`: {how}"))
            );
            if *state != CheckpointState::Resumed {
                let _ = writeln!(out, "{}", wrap(message, "   ", "   "));
            }
        }
    }
}

fn verb(action: &Action) -> &'static str {
    match (action.status, action.action, action.effect) {
        (Status::Failed, _, _) => "FAILED",
        (Status::Skipped, ActionKind::Skip, _) => "skip",
        (Status::Skipped, _, _) => "not done",
        (Status::Unchanged, ActionKind::Check, _) => "ok",
        (Status::Unchanged, _, _) => "same",
        (_, ActionKind::Edit, Some(Effect::Replace)) => "edit",
        (_, _, Some(Effect::Create)) => "create",
        (_, _, Some(Effect::Replace)) => "replace",
        _ => "",
    }
}

/// The style of an action's verb: what it does to the file.
fn verb_style(action: &Action) -> anstyle::Style {
    match (action.status, action.effect) {
        (Status::Failed, _) => style::ERROR,
        (Status::Skipped | Status::Unchanged, _) => style::QUIET,
        (_, Some(crate::change::plan::Effect::Create)) => style::CREATE,
        (_, Some(crate::change::plan::Effect::Replace)) => style::REPLACE,
        _ => anstyle::Style::new(),
    }
}

fn render_action(out: &mut dyn Write, action: &Action) {
    let mut line = format!(
        "  {} {}:{}",
        paint(verb_style(action), &format!("{:<8}", verb(action))),
        action.pack,
        crate::pack::name::shown(&action.path)
    );
    match (&action.source, action.action) {
        (Some(Origin::Pack(role, path)), ActionKind::Copy) if *path == action.path => {
            let _ = write!(line, "  <- {role}");
        }
        (Some(source @ Origin::Pack(..)), ActionKind::Copy) => {
            let _ = write!(
                line,
                "  <- {}",
                crate::pack::name::shown(&source.to_string())
            );
        }
        (Some(Origin::Shown(source)), ActionKind::Copy) => {
            let same_path = source.ends_with(&format!(":{}", action.path));
            if !same_path {
                let _ = write!(line, "  <- {}", crate::pack::name::shown(source));
            } else if let Some((role, _)) = source.split_once(':') {
                let _ = write!(line, "  <- {role}");
            }
        }
        _ => {}
    }
    if let (Some(before), Some(after)) = (&action.before, &action.after) {
        if before.sha256 == after.sha256 && before.mode != after.mode {
            let _ = write!(line, "  (mode {:04o} -> {:04o})", before.mode, after.mode);
        }
    }
    let _ = writeln!(out, "{line}");
    if let Some(reason) = &action.reason {
        let _ = writeln!(
            out,
            "{}",
            wrap(&shown(reason), "           ", "           ")
        );
    }
    if let Some(diff) = &action.diff {
        for diff_line in diff.lines() {
            let _ = writeln!(out, "           {}", shown(diff_line));
        }
    }
}
