//! Opening the packs of a run and checking them against each other: flags, `--set` values,
//! `--lib` directories, pack roles that cannot be right, and the profile of each node.

use crate::change::planner::PackSlot;
use crate::error::{CommandResult, Failure};
use crate::pack::{compare_versions, Pack, Product, Role};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Identifies the pack given with `flag`, naming the flag in any error.
pub fn open_pack(flag: &str, dir: &Path) -> CommandResult<Pack> {
    Pack::identify(dir).map_err(|error| Failure::bad_input_in(dir, format!("{flag}: {error:#}")))
}

/// Parses `--set KEY=VALUE` values.
pub fn parse_params(values: &[String]) -> CommandResult<BTreeMap<String, String>> {
    let mut params = BTreeMap::new();
    for value in values {
        let Some((key, val)) = value.split_once('=') else {
            return Err(Failure::bad_input(format!(
                "--set `{value}`: expected KEY=VALUE"
            )));
        };
        let key = key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        {
            return Err(Failure::bad_input(format!(
                "--set `{value}`: the key must be letters, digits, `_`, `-` or `.`"
            )));
        }
        params.insert(key.to_string(), val.to_string());
    }
    Ok(params)
}

/// Refuses pack combinations that cannot be right, whatever the script.
pub fn check_pack_roles(slots: &[PackSlot]) -> CommandResult {
    for (index, left) in slots.iter().enumerate() {
        for right in slots.iter().skip(index + 1) {
            if left.pack.home == right.pack.home {
                return Err(Failure::bad_input(format!(
                    "--{} and --{} are the same pack (`{}`): give two different packs",
                    left.role,
                    right.role,
                    left.pack.home.display()
                )));
            }
            if left.pack.home.starts_with(&right.pack.home)
                || right.pack.home.starts_with(&left.pack.home)
            {
                return Err(Failure::bad_input(format!(
                    "--{} (`{}`) and --{} (`{}`) are nested inside each other: give separate pack directories",
                    left.role,
                    left.pack.home.display(),
                    right.role,
                    right.pack.home.display()
                )));
            }
        }
    }
    // API-M packs must get newer along the path: old, then via, then new.
    let path: Vec<&PackSlot> = Role::PATH
        .iter()
        .filter_map(|role| slots.iter().find(|slot| slot.role == *role))
        .filter(|slot| slot.pack.product == Product::ApiManager)
        .collect();
    for pair in path.windows(2) {
        let (earlier, later) = (pair[0], pair[1]);
        if compare_versions(&later.pack.version, &earlier.pack.version)
            != std::cmp::Ordering::Greater
        {
            let mut question = format!("were --{} and --{} swapped?", earlier.role, later.role);
            if earlier.role == Role::Via || later.role == Role::Via {
                question.push_str(" (--via is the fresh pack of the version between --old and --new, for a path of two steps such as 1.x to 2.0.0 to 4.0.0; a path of one step takes no --via)");
            }
            return Err(Failure::bad_input(format!(
                "--{} (`{}`) is API-M {}, not newer than --{} (`{}`) API-M {}: {question}",
                later.role,
                later.pack.home.display(),
                later.pack.version,
                earlier.role,
                earlier.pack.home.display(),
                earlier.pack.version,
            )));
        }
    }
    Ok(())
}

/// Settles the profile of each pack: `--old-profile` and `--profile` when given, else what
/// the pack says; a fresh new pack (all-in-one by its stock deployment.toml) takes what the
/// old node's profile becomes. A separate distribution (4.5.0 and later) runs its one
/// profile. Refuses a new profile the old one cannot become, or that the pack does not have.
/// Returns notes for the report.
pub fn resolve_profiles(
    slots: &mut [PackSlot],
    profile: Option<&str>,
    old_profile: Option<&str>,
) -> CommandResult<Vec<String>> {
    use crate::pack::profile::{self, with_article, Generation, NodeProfile, ALL_IN_ONE};
    let mut notes = Vec::new();
    let position = |slots: &[PackSlot], role: Role| slots.iter().position(|slot| slot.role == role);
    let old = position(slots, Role::Old);
    if let (Some(name), Some(old)) = (old_profile, old) {
        slots[old].profile =
            profile::given(&slots[old].pack, &slots[old].facts, name, "--old-profile")
                .map_err(Failure::bad_input)?;
    }
    let old_node = old.map(|old| {
        (
            Generation::of_pack(&slots[old].pack),
            slots[old].profile.clone(),
        )
    });
    for role in [Role::Via, Role::New] {
        let Some(index) = position(slots, role) else {
            continue;
        };
        let detected = slots[index].profile.clone();
        if role == Role::New {
            if let Some(name) = profile {
                let chosen =
                    profile::given(&slots[index].pack, &slots[index].facts, name, "--profile")
                        .map_err(Failure::bad_input)?;
                if detected.name != ALL_IN_ONE && detected.name != chosen.name {
                    notes.push(format!(
                        "--new says its profile is {} ({}); planned for {} as --profile says",
                        detected.name, detected.decided_by, chosen.name
                    ));
                }
                slots[index].profile = chosen;
                continue;
            }
        }
        // A node's profile in a later generation: its first successor the pack has.
        if detected.name != ALL_IN_ONE {
            continue;
        }
        let Some((Some(old_generation), old_profile)) = &old_node else {
            continue;
        };
        if old_profile.name == ALL_IN_ONE {
            continue;
        }
        let Some(next) = slots[index]
            .facts
            .successors(*old_generation, &old_profile.name)
            .into_iter()
            .next()
        else {
            continue;
        };
        let label = slots[index]
            .facts
            .generation
            .map(Generation::label)
            .unwrap_or_default();
        slots[index].profile = NodeProfile::new(
            &next,
            if next == old_profile.name {
                format!("the old pack's profile ({})", old_profile.decided_by)
            } else {
                format!(
                    "the old pack's profile, {} ({}), becomes {next} in {label}",
                    old_profile.name, old_profile.decided_by,
                )
            },
        );
    }
    // What each later pack's node became must be a successor of the old node's profile.
    if let Some((Some(old_generation), old_profile)) = &old_node {
        for role in [Role::Via, Role::New] {
            let Some(index) = position(slots, role) else {
                continue;
            };
            let Some(generation) = Generation::of_pack(&slots[index].pack) else {
                continue;
            };
            let became = &slots[index].profile;
            let wanted = old_generation.successors(&old_profile.name, generation);
            if wanted.contains(&became.name.as_str()) {
                continue;
            }
            let pack = &slots[index].pack;
            let hint = match pack.distribution.profile() {
                // A separate distribution runs its own profile: the node needs another pack.
                Some(_) => {
                    let packs: Vec<String> = wanted
                        .iter()
                        .map(|profile| {
                            match crate::pack::Distribution::for_profile(profile) {
                                Some(distribution) => format!(
                                    "the {} pack (`{}-{}`)",
                                    distribution.short_name(),
                                    distribution.key(pack.product),
                                    pack.version
                                ),
                                None => format!(
                                    "the all-in-one pack (`{}-{}`) as {profile}",
                                    pack.product.key(),
                                    pack.version
                                ),
                            }
                        })
                        .collect();
                    format!("give {} as --{role}", packs.join(" or "))
                }
                None => "give the right --profile, or --old-profile if the old node's profile was misread".to_string(),
            };
            return Err(Failure::bad_input(format!(
                "--{role} is to be {} node ({}), but the old pack is {} node ({}), which becomes {} in {}: {hint}",
                with_article(&became.name),
                became.decided_by,
                with_article(&old_profile.name),
                old_profile.decided_by,
                wanted.join(" or "),
                generation.label()
            )));
        }
    }
    Ok(notes)
}

/// The bundled script `run` and `plan` take when given none, and why, as a sentence.
pub struct Chosen {
    pub script: crate::script::Script,
    pub why: String,
}

/// The bundled script that takes the packs of `packs`: the one made for them when several
/// do; refused (bad input) when none does or more than one fits equally, naming them.
pub fn choose_script(packs: &super::Packs) -> CommandResult<Chosen> {
    use crate::script::paths::{self, Choice, Given};
    let mut opened = vec![
        (Role::Old, open_pack("--old", &packs.old)?),
        (Role::New, open_pack("--new", &packs.new)?),
    ];
    if let Some(via) = &packs.via {
        opened.push((Role::Via, open_pack("--via", via)?));
    }
    if let Some(km) = &packs.km {
        opened.push((Role::Km, open_pack("--km", km)?));
    }
    let given: Vec<Given> = opened
        .iter()
        .map(|(role, pack)| Given {
            role: *role,
            product: pack.product.key(),
            version: &pack.version,
        })
        .collect();
    let packs_said: Vec<String> = opened
        .iter()
        .map(|(role, pack)| format!("{} as --{role}", pack.label()))
        .collect();
    let packs_said = packs_said.join(", ");
    let old = &opened[0].1;
    let new = &opened[1].1;
    let path = format!("`apim-migrate path {} {}`", old.version, new.version);
    match paths::choose(&given) {
        Choice::One(name) => Ok(Chosen {
            script: crate::script::Script::load(name)?,
            why: format!("no script given: `{name}` is the bundled script that takes {packs_said}"),
        }),
        Choice::Many(names) => Err(Failure::bad_input(format!(
            "no script given, and more than one bundled script takes {packs_said}: {}; name one as SCRIPT",
            names
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        Choice::None(near) if !near.is_empty() => Err(Failure::bad_input(format!(
            "no script given, and no bundled script takes {packs_said} as they are: {}; or name a script as SCRIPT ({path} tells the way)",
            near.iter()
                .map(|(name, missing)| format!("`{name}` also needs {}", missing.join(" and ")))
                .collect::<Vec<_>>()
                .join("; ")
        ))),
        Choice::None(_) => Err(Failure::bad_input(format!(
            "no script given, and no bundled script takes {packs_said}: {path} says which versions they take, `apim-migrate scripts` lists them; or name a site script as SCRIPT"
        ))),
    }
}

/// A `--lib` directory, which must exist.
pub fn lib_dir(dir: &Path) -> CommandResult<PathBuf> {
    match dir.canonicalize() {
        Ok(path) if path.is_dir() => Ok(path),
        _ => Err(Failure::bad_input(format!(
            "--lib: `{}` is not a directory (give a directory of `.rhai` modules)",
            dir.display()
        ))),
    }
}
