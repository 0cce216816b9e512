//! Values that the shells complete: SCRIPT offers the bundled script names (and any path is
//! taken: a site script), `--profile` and `--old-profile` the profile names of every
//! generation (and any name is taken: the run checks it against the pack, with a better
//! message than a list). The lists come from the code that knows them, so completions and
//! `--help` never drift from it.

use clap::builder::{PossibleValue, TypedValueParser};
use std::ffi::OsStr;

/// SCRIPT: a bundled name or a path.
#[derive(Debug, Clone, Copy)]
pub struct ScriptName;

/// Any text (valid UTF-8), as a plain string argument takes it.
fn any_text(
    command: &clap::Command,
    arg: Option<&clap::Arg>,
    value: &OsStr,
) -> Result<String, clap::Error> {
    clap::builder::StringValueParser::new().parse_ref(command, arg, value)
}

impl TypedValueParser for ScriptName {
    type Value = String;

    fn parse_ref(
        &self,
        command: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        any_text(command, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(crate::script::BUNDLED.iter().map(
            |(name, source)| {
                // The first clause of its description: `WSO2 API-M 3.0.0 to 4.1.0`.
                let description = crate::script::description_of(source);
                let summary = description
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                PossibleValue::new(*name).help(summary)
            },
        )))
    }
}

/// A profile name (`--profile`, `--old-profile`).
#[derive(Debug, Clone, Copy)]
pub struct ProfileName;

impl TypedValueParser for ProfileName {
    type Value = String;

    fn parse_ref(
        &self,
        command: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        any_text(command, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        use crate::pack::profile::Generation;
        let mut names: Vec<(&str, Vec<&str>)> = Vec::new();
        for generation in [Generation::Four, Generation::Three, Generation::Two] {
            for name in generation.profiles() {
                match names.iter_mut().find(|(known, _)| known == name) {
                    Some((_, labels)) => labels.push(generation.label()),
                    None => names.push((name, vec![generation.label()])),
                }
            }
        }
        Some(Box::new(names.into_iter().map(|(name, labels)| {
            PossibleValue::new(name).help(labels.join(", "))
        })))
    }
}
