//! The `//!` header of a script: `@accepts ROLE PRODUCT VERSIONS [optional]` (which packs it
//! takes, checked against the packs given), `@param NAME=DEFAULT`, `@params none`, and the
//! provenance line `scripts new --from` writes (`BasedOn`).

use super::{header_lines, BUNDLED};
use crate::pack::{Pack, Product, Role};
use anyhow::{bail, Result};
use serde::Serialize;

/// The standard a site script was started from, as `scripts new --from` writes it in the
/// header, so that a team can later compare the script with the standard it began as:
/// `//! Based on 3.0.0-to-4.1.0 (sha256 HEX) from apim-migrate 0.1.0`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BasedOn {
    /// The bundled script's name.
    pub script: String,
    /// The SHA-256 of its source then (what `scripts show NAME` printed).
    pub sha256: String,
    /// The version of apim-migrate that held it.
    pub version: String,
}

impl BasedOn {
    /// The header text (without `//! `).
    pub fn line(&self) -> String {
        format!(
            "Based on {} (sha256 {}) from apim-migrate {}",
            self.script, self.sha256, self.version
        )
    }

    /// Reads the text of a header line, if it is such a line.
    pub fn parse(text: &str) -> Option<BasedOn> {
        let rest = text.strip_prefix("Based on ")?;
        let (script, rest) = rest.split_once(" (sha256 ")?;
        let (sha256, version) = rest.split_once(") from apim-migrate ")?;
        let word = |text: &str| !text.is_empty() && !text.contains(char::is_whitespace);
        let hex = sha256.len() == 64 && sha256.chars().all(|c| c.is_ascii_hexdigit());
        (word(script) && hex && word(version)).then(|| BasedOn {
            script: script.to_string(),
            sha256: sha256.to_string(),
            version: version.to_string(),
        })
    }
}

/// What a script's header declares besides its description: the packs it accepts and the
/// parameters it takes.
///
/// ```text
/// //! @accepts old wso2am 3.0.0
/// //! @accepts new wso2am 4.1.0
/// //! @accepts km wso2is 5.11.0 optional
/// //! @param gateway_only=false  copy only what a gateway node needs
/// //! @params none               (the script takes no parameters)
/// ```
///
/// A script without `@accepts` lines takes any packs (its own checks decide); one without
/// `@param`/`@params` does not declare its parameters, and any `--set` is passed on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header {
    /// The packs the script accepts, one per role; empty when it declares none.
    pub accepts: Vec<Accepts>,
    /// `None` when the script does not declare its parameters.
    pub params: Option<Vec<Param>>,
    /// The standard the script was started from, when `scripts new --from` wrote it.
    pub based_on: Option<BasedOn>,
}

/// A declared parameter: `--set NAME=VALUE` overrides `default`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Param {
    pub name: String,
    pub default: String,
    pub description: String,
}

/// The written form of the `@accepts` tag, for messages.
const ACCEPTS_FORM: &str = "`//! @accepts ROLE PRODUCT VERSION[,VERSION...] [optional]`";

/// A pack a script accepts in one role: `//! @accepts ROLE PRODUCT VERSION[,VERSION...] [optional]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Accepts {
    pub role: Role,
    /// The product key (`wso2am`, `wso2is`), as `Pack.product.key()` gives it.
    pub product: String,
    /// Exact versions, like `3.0.0`.
    pub versions: Vec<String>,
    /// The script also runs without this pack (`km` and `via` only).
    pub optional: bool,
    /// The header line that declares it.
    #[serde(skip)]
    pub line: usize,
}

impl Accepts {
    /// The tag as a header writes it: `@accepts km wso2is 5.11.0 optional`.
    pub fn tag(&self) -> String {
        format!(
            "@accepts {} {} {}{}",
            self.role,
            self.product,
            self.versions.join(","),
            if self.optional { " optional" } else { "" }
        )
    }

    /// What it accepts, as people say it: `API-M 3.0.0`, `API-M 1.8.0, 1.9.0 or 1.9.1`.
    pub fn wanted(&self) -> String {
        let product = Product::from_key(&self.product)
            .map(Product::short_name)
            .unwrap_or(&self.product);
        let versions = match self.versions.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => self.versions.join(""),
        };
        format!("{product} {versions}")
    }

    /// Whether `pack` is one of the packs this line accepts.
    pub fn takes(&self, pack: &Pack) -> bool {
        pack.product.key() == self.product && self.versions.contains(&pack.version)
    }

    fn parse(line: usize, rest: &str) -> Result<Accepts> {
        let mut words: Vec<&str> = rest.split_whitespace().collect();
        let optional = words.last() == Some(&"optional");
        if optional {
            words.pop();
        }
        let [role, product, versions @ ..] = words.as_slice() else {
            bail!("line {line}: `@accepts {rest}`: write {ACCEPTS_FORM}, e.g. `//! @accepts old wso2am 3.0.0`");
        };
        if versions.is_empty() {
            bail!("line {line}: `@accepts {rest}`: write {ACCEPTS_FORM}, e.g. `//! @accepts old wso2am 3.0.0`");
        }
        let Some(role) = Role::parse(role) else {
            bail!("line {line}: `@accepts {rest}`: unknown role `{role}`; the roles are old, new, km and via, as the flags name them");
        };
        if Product::from_key(product).is_none() {
            bail!("line {line}: `@accepts {rest}`: unknown product `{product}`; write wso2am (API Manager) or wso2is (Identity Server)");
        }
        let mut accepted: Vec<String> = Vec::new();
        for version in versions
            .join(",")
            .split(',')
            .map(str::trim)
            .filter(|version| !version.is_empty())
        {
            let exact = version.split('.').count() == 3
                && version
                    .split('.')
                    .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()));
            if !exact {
                bail!("line {line}: `@accepts {rest}`: `{version}` is not an exact version; write each one in full, like 3.0.0, separated by commas");
            }
            if accepted.iter().any(|known| known == version) {
                bail!("line {line}: `@accepts {rest}`: version `{version}` is listed twice");
            }
            accepted.push(version.to_string());
        }
        if optional && !matches!(role, Role::Km | Role::Via) {
            bail!("line {line}: `@accepts {rest}`: only km and via can be optional (--old and --new are always given); remove `optional`");
        }
        Ok(Accepts {
            role,
            product: product.to_string(),
            versions: accepted,
            optional,
            line,
        })
    }
}

/// The bundled scripts whose header accepts `pack` as `role`: those that also accept every
/// other pack given, or else, with `or_any`, all of them.
fn bundled_taking(
    role: Role,
    pack: &Pack,
    given: &[(Role, &Pack)],
    or_any: bool,
) -> Vec<&'static str> {
    let takes = |header: &Header, role: Role, pack: &Pack| {
        header
            .accepts
            .iter()
            .any(|accepts| accepts.role == role && accepts.takes(pack))
    };
    let candidates: Vec<(&'static str, Header)> = BUNDLED
        .iter()
        .filter_map(|(name, source)| Header::parse(source).ok().map(|header| (*name, header)))
        .filter(|(_, header)| takes(header, role, pack))
        .collect();
    let fitting: Vec<&'static str> = candidates
        .iter()
        .filter(|(_, header)| given.iter().all(|(role, pack)| takes(header, *role, pack)))
        .map(|(name, _)| *name)
        .collect();
    if fitting.is_empty() && or_any {
        candidates.iter().map(|(name, _)| *name).collect()
    } else {
        fitting
    }
}

/// `; the bundled script `X` accepts API-M 1.9.0 as --old`, or nothing (see `bundled_taking`).
fn bundled_hint(role: Role, pack: &Pack, given: &[(Role, &Pack)], or_any: bool) -> String {
    let what = format!("{} {}", pack.product.short_name(), pack.version);
    let names: Vec<String> = bundled_taking(role, pack, given, or_any)
        .iter()
        .map(|name| format!("`{name}`"))
        .collect();
    match names.as_slice() {
        [] if role == Role::Old => {
            format!("; no bundled script takes {what} as --old (`apim-migrate scripts` lists them)")
        }
        [] => String::new(),
        [name] => format!("; the bundled script {name} accepts {what} as --{role}"),
        _ => format!(
            "; the bundled scripts {} accept {what} as --{role}",
            names.join(", ")
        ),
    }
}

/// For an old or new pack the script does not take: the bundled route between the old and
/// new packs given (`; API-M 1.9.0 goes to 4.5.0 through 2.0.0: …`), when there is one.
fn route_hint(script: &str, role: Role, pack: &Pack, given: &[(Role, &Pack)]) -> Option<String> {
    if !matches!(role, Role::Old | Role::New) || pack.product != Product::ApiManager {
        return None;
    }
    let (_, old) = given.iter().find(|(role, _)| *role == Role::Old)?;
    let (_, new) = given.iter().find(|(role, _)| *role == Role::New)?;
    let route = super::paths::route(&old.version, &new.version).ok()?;
    if route.script == script {
        return None;
    }
    let command = format!("`apim-migrate path {} {}`", route.from, route.to);
    Some(match &route.via {
        Some(via) => {
            let steps: Vec<String> = route
                .steps
                .iter()
                .map(|step| format!("`{}`", step.script))
                .collect();
            format!(
                "; API-M {} goes to {} through {via}: run `{}` with --via a fresh {via} pack, or step by step {} ({command} tells more)",
                route.from,
                route.to,
                route.script,
                steps.join(", then ")
            )
        }
        None => format!(
            "; the bundled script `{}` takes API-M {} to {} ({command} tells more)",
            route.script, route.from, route.to
        ),
    })
}

impl Header {
    pub fn parse(source: &str) -> Result<Header> {
        let mut header = Header::default();
        for (line, text) in header_lines(source) {
            let Some(tag) = text.strip_prefix('@') else {
                if let Some(based_on) = BasedOn::parse(text) {
                    header.based_on = Some(based_on);
                }
                continue;
            };
            let (tag, rest) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
            let rest = rest.trim();
            match tag {
                "params" if rest == "none" => {
                    if header.params.as_ref().is_some_and(|params| !params.is_empty()) {
                        bail!("line {line}: `@params none` after `@param` lines");
                    }
                    header.params = Some(Vec::new());
                }
                "params" => bail!("line {line}: write `//! @params none` for a script without parameters"),
                "param" => {
                    let (spec, description) =
                        rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                    let (name, default) = spec.split_once('=').unwrap_or((spec, ""));
                    if name.is_empty()
                        || !name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                    {
                        bail!(
                            "line {line}: `@param {rest}`: write `//! @param NAME=DEFAULT  what it does` (NAME of letters, digits, `_`, `-`, `.`)"
                        );
                    }
                    let params = header.params.get_or_insert_with(Vec::new);
                    if params.iter().any(|param| param.name == name) {
                        bail!("line {line}: the parameter `{name}` is declared twice");
                    }
                    params.push(Param {
                        name: name.to_string(),
                        default: default.to_string(),
                        description: description.trim().to_string(),
                    });
                }
                "accepts" => {
                    let accepts = Accepts::parse(line, rest)?;
                    if let Some(first) = header
                        .accepts
                        .iter()
                        .find(|known| known.role == accepts.role)
                    {
                        bail!(
                            "line {line}: the role `{}` is declared twice (first on line {}); list its versions on one line, separated by commas",
                            accepts.role,
                            first.line
                        );
                    }
                    header.accepts.push(accepts);
                }
                other => bail!(
                    "line {line}: unknown header tag `@{other}` (known: `@accepts ROLE PRODUCT VERSION[,VERSION...] [optional]`, `@param NAME=DEFAULT  text`, `@params none`)"
                ),
            }
        }
        if let Some(first) = header.accepts.first() {
            for role in [Role::Old, Role::New] {
                if !header.accepts.iter().any(|accepts| accepts.role == role) {
                    bail!(
                        "line {}: a header with `@accepts` lines declares both old and new (--old and --new are always given); add `//! @accepts {role} PRODUCT VERSION`",
                        first.line
                    );
                }
            }
        }
        Ok(header)
    }

    /// Refuses the packs given on the command line (`given`: role and pack) that the header
    /// does not accept: a pack of another product or version, a role it does not declare, a
    /// role it needs that was not given. Nothing is checked for a script without `@accepts`.
    pub fn check_packs(&self, script: &str, given: &[(Role, &Pack)]) -> Result<()> {
        if self.accepts.is_empty() {
            return Ok(());
        }
        // What a given pack is says the most: wrong packs first, in the order of the path.
        for role in Role::COMMAND_LINE {
            let Some((_, pack)) = given.iter().find(|(given, _)| *given == role) else {
                continue;
            };
            let Some(accepts) = self.accepts.iter().find(|accepts| accepts.role == role) else {
                continue;
            };
            if !accepts.takes(pack) {
                let hint = route_hint(script, role, pack, given)
                    .unwrap_or_else(|| bundled_hint(role, pack, given, role == Role::Old));
                bail!(
                    "--{role} (`{}`) is {} {}, but `{script}` accepts {} as --{role} (line {}: `{}`); give an {} pack as --{role}{hint}",
                    pack.home.display(),
                    pack.product.short_name(),
                    pack.version,
                    accepts.wanted(),
                    accepts.line,
                    accepts.tag(),
                    accepts.wanted(),
                );
            }
        }
        for (role, pack) in given {
            if !self.accepts.iter().any(|accepts| accepts.role == *role) {
                let declared: Vec<String> = self
                    .accepts
                    .iter()
                    .map(|accepts| format!("--{}", accepts.role))
                    .collect();
                bail!(
                    "`{script}` takes no --{role}: its header accepts {} only; leave --{role} out{}",
                    declared.join(", "),
                    bundled_hint(*role, pack, given, true)
                );
            }
        }
        for accepts in self.accepts.iter().filter(|accepts| !accepts.optional) {
            if !given.iter().any(|(role, _)| *role == accepts.role) {
                bail!(
                    "`{script}` needs --{role}: it declares `{}` (line {}); give an {} pack with --{role}",
                    accepts.tag(),
                    accepts.line,
                    accepts.wanted(),
                    role = accepts.role
                );
            }
        }
        Ok(())
    }

    /// Checks `--set` values against the declared parameters and adds the defaults of those
    /// not given. Nothing is checked for a script that does not declare its parameters.
    pub fn complete_params(
        &self,
        script: &str,
        params: &mut std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        let Some(declared) = &self.params else {
            return Ok(());
        };
        for key in params.keys() {
            if !declared.iter().any(|param| &param.name == key) {
                if declared.is_empty() {
                    bail!("--set `{key}`: `{script}` takes no parameters; leave --set out");
                }
                let names: Vec<&str> = declared.iter().map(|param| param.name.as_str()).collect();
                bail!(
                    "--set `{key}`: `{script}` has no parameter `{key}`; it declares {} (see its header, `apim-migrate scripts show {script}`)",
                    names.join(", ")
                );
            }
        }
        for param in declared {
            params
                .entry(param.name.clone())
                .or_insert_with(|| param.default.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::description_of;
    use std::collections::BTreeMap;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn a_header_declares_parameters_with_defaults_and_the_description_leaves_tags_out() {
        let source = "//! Site copy.\n//!\n//! @param gateway_only=false  copy what a gateway needs\n//! @param label=\n// not header\n//! @param late=1\n";
        let header = Header::parse(source).expect("header");
        let declared = header.params.clone().expect("declared");
        assert_eq!(declared.len(), 2, "{declared:?}");
        assert_eq!(declared[0].name, "gateway_only");
        assert_eq!(declared[0].default, "false");
        assert_eq!(declared[0].description, "copy what a gateway needs");
        assert_eq!(declared[1].name, "label");
        assert_eq!(declared[1].default, "");
        assert_eq!(description_of(source), "Site copy.");

        let mut given = params(&[("label", "x")]);
        header
            .complete_params("site.rhai", &mut given)
            .expect("known");
        assert_eq!(given, params(&[("gateway_only", "false"), ("label", "x")]));

        let error = header
            .complete_params("site.rhai", &mut params(&[("gateway-only", "true")]))
            .expect_err("unknown");
        let message = error.to_string();
        assert!(message.contains("--set `gateway-only`"), "{message}");
        assert!(message.contains("gateway_only, label"), "{message}");
    }

    #[test]
    fn params_none_refuses_every_set_and_no_declaration_refuses_none() {
        let none = Header::parse("//! Bundled.\n//! @params none\n").expect("header");
        let message = none
            .complete_params("x", &mut params(&[("a", "1")]))
            .expect_err("refused")
            .to_string();
        assert!(message.contains("takes no parameters"), "{message}");
        let undeclared = Header::parse("//! Old style.\n").expect("header");
        assert_eq!(undeclared.params, None);
        let mut given = params(&[("a", "1")]);
        undeclared
            .complete_params("x", &mut given)
            .expect("passed on");
        assert_eq!(given, params(&[("a", "1")]));
    }

    #[test]
    fn malformed_headers_name_the_line() {
        for (source, expected) in [
            (
                "//! a\n//! @parm x=1\n",
                "line 2: unknown header tag `@parm`",
            ),
            ("//! @param =1\n", "line 1"),
            (
                "//! @param a b=1\n//! @param a=2\n",
                "line 2: the parameter `a` is declared twice",
            ),
            ("//! @params some\n", "line 1"),
            ("//! @param a=1\n//! @params none\n", "line 2"),
            (
                "//! a\n//! @accepts old wso2am\n",
                "line 2: `@accepts old wso2am`: write `//! @accepts ROLE PRODUCT",
            ),
            (
                "//! @accepts gateway wso2am 3.0.0\n",
                "line 1: `@accepts gateway wso2am 3.0.0`: unknown role `gateway`; the roles are old, new, km and via",
            ),
            (
                "//! @accepts old wso2apim 3.0.0\n",
                "line 1: `@accepts old wso2apim 3.0.0`: unknown product `wso2apim`; write wso2am (API Manager) or wso2is (Identity Server)",
            ),
            (
                "//! @accepts old wso2am 1.x\n",
                "line 1: `@accepts old wso2am 1.x`: `1.x` is not an exact version",
            ),
            (
                "//! @accepts old wso2am 3.0\n",
                "`3.0` is not an exact version",
            ),
            (
                "//! @accepts old wso2am 3.0.0,3.0.0\n",
                "version `3.0.0` is listed twice",
            ),
            (
                "//! @accepts old wso2am 3.0.0 optional\n",
                "line 1: `@accepts old wso2am 3.0.0 optional`: only km and via can be optional",
            ),
            (
                "//! @accepts old wso2am 3.0.0\n//! @accepts new wso2am 4.1.0\n//! @accepts old wso2am 2.0.0\n",
                "line 3: the role `old` is declared twice (first on line 1)",
            ),
            (
                "//! x\n//! @accepts old wso2am 3.0.0\n//! @accepts km wso2is 5.11.0\n",
                "line 2: a header with `@accepts` lines declares both old and new",
            ),
            (
                "//! @acepts old wso2am 3.0.0\n",
                "line 1: unknown header tag `@acepts` (known: `@accepts ROLE PRODUCT VERSION[,VERSION...] [optional]`, `@param NAME=DEFAULT  text`, `@params none`)",
            ),
        ] {
            let message = format!("{:#}", Header::parse(source).expect_err(source));
            assert!(message.contains(expected), "{source:?}: {message}");
        }
    }

    #[test]
    fn every_bundled_script_declares_its_parameters_and_the_packs_it_accepts() {
        for (name, source) in BUNDLED {
            let header = Header::parse(source).unwrap_or_else(|error| panic!("{name}: {error}"));
            assert!(header.params.is_some(), "{name} declares its parameters");
            assert!(!header.accepts.is_empty(), "{name} declares its packs");
            // The script's own checks (kept for a copy that lost its header) agree with it.
            for accepts in &header.accepts {
                let quoted: Vec<String> = accepts
                    .versions
                    .iter()
                    .map(|version| format!("\"{version}\""))
                    .collect();
                let call = format!(
                    "require_version({}, \"{}\", [{}]",
                    accepts.role,
                    accepts.product,
                    quoted.join(", ")
                );
                assert!(source.contains(&call), "{name}: no `{call}`");
            }
        }
    }

    #[test]
    fn accepts_lines_list_exact_versions_and_say_what_they_want() {
        let header = Header::parse(
            "//! Site.\n//! @accepts old wso2am 1.8.0, 1.9.0,1.9.1\n//! @accepts new wso2am 4.0.0\n//! @accepts km  wso2is 5.10.0   optional\n//! @params none\n",
        )
        .expect("header");
        let accepts = &header.accepts;
        assert_eq!(accepts.len(), 3);
        assert_eq!(accepts[0].versions, ["1.8.0", "1.9.0", "1.9.1"]);
        assert_eq!(accepts[0].line, 2);
        assert_eq!(accepts[0].tag(), "@accepts old wso2am 1.8.0,1.9.0,1.9.1");
        assert_eq!(accepts[0].wanted(), "API-M 1.8.0, 1.9.0 or 1.9.1");
        assert!(!accepts[1].optional);
        assert_eq!(accepts[1].wanted(), "API-M 4.0.0");
        assert!(accepts[2].optional);
        assert_eq!(accepts[2].tag(), "@accepts km wso2is 5.10.0 optional");
        assert_eq!(accepts[2].wanted(), "IS 5.10.0");
        assert_eq!(
            description_of("//! Site.\n//! @accepts old wso2am 3.0.0\n"),
            "Site."
        );
        assert!(Header::parse("//! Old style.\n")
            .expect("header")
            .accepts
            .is_empty());
    }
}
