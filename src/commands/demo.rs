//! `demo`: builds a realistic sample 3.0.0 pack and a fresh 4.1.0 pack, written by this tool,
//! then plans and runs the standard script on them.

use crate::change::progress;
use crate::error::{CommandResult, Failure};
use crate::report::Outcome;
use crate::run::{self, Executed, Options, Packs, Request};
use crate::script::Script;
use std::path::Path;
use std::time::Duration;

pub fn demo(dir: Option<&Path>) -> CommandResult {
    let demo = sample_packs::write_demo(dir)?;
    crate::outln!(
        "sample packs, written by apim-migrate under `{}`:",
        demo.root.display()
    );
    crate::outln!(
        "  old  {}  (API-M 3.0.0: custom keystores, user stores for the super tenant and tenants 1 and 2,",
        demo.old.display()
    );
    crate::outln!("       custom global sequences, a customised stock sequence, API sequences, a MySQL driver, secure vault)");
    crate::outln!("  new  {}  (a fresh API-M 4.1.0)", demo.new.display());
    crate::outln!(
        "  their stock files are described by `{}` (as `--stock`)\n",
        demo.catalogue.display()
    );

    let request = |apply: bool| -> CommandResult<Request> {
        Ok(Request {
            script: Script::load("3.0.0-to-4.1.0")?,
            packs: Packs {
                old: demo.old.clone(),
                new: demo.new.clone(),
                km: None,
                via: None,
                profile: None,
                old_profile: None,
            },
            options: Options {
                set: Vec::new(),
                stock: vec![demo.catalogue.clone()],
                old_stock: None,
                libs: Vec::new(),
                time_limit: Duration::from_secs(crate::engine::DEFAULT_TIME_LIMIT_SECONDS),
                resume: false,
                apply,
                as_run: false,
                progress: progress::silent(),
                confirm: None,
            },
        })
    };

    crate::outln!("== 1. plan: what would change (nothing is written)\n");
    print_report(&run::run(&request(false)?)?);
    crate::outln!("\n== 2. run: the same actions, applied with a journal\n");
    let ran = run::run(&request(true)?)?;
    super::run::store(&ran);
    print_report(&ran);
    if let Some(error) = ran.error {
        return Err(Failure::RunFailed(anyhow::anyhow!(error)));
    }
    crate::outln!("\n== 3. run again: nothing left to do\n");
    let again = run::run(&request(true)?)?;
    super::run::store(&again);
    let summary = crate::report::Summary::of(&again.plan);
    let lead = if summary.changed == 0 {
        "nothing to do: "
    } else {
        ""
    };
    crate::outln!("{lead}{}", summary.line());

    let stock = demo.catalogue.display();
    crate::outln!(
        "\nTry next (with apim-migrate on your PATH: `cargo install --locked --path .`):"
    );
    crate::outln!(
        "  apim-migrate detect {} --stock {stock}",
        demo.old.display()
    );
    crate::outln!("  apim-migrate verify {}", demo.new.display());
    crate::outln!("  apim-migrate show {}", demo.new.display());
    crate::outln!("  apim-migrate history {}", demo.new.display());
    crate::outln!("  apim-migrate rollback --new {}", demo.new.display());
    crate::outln!(
        "  apim-migrate plan 3.0.0-to-4.1.0 --old {} --new {} --stock {stock}",
        demo.old.display(),
        demo.new.display()
    );
    Ok(())
}

fn print_report(executed: &Executed) {
    Outcome::of(executed).print_human(false);
}
