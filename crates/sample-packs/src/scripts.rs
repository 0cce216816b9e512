//! Texts of the pack's shell scripts: the start script and the cipher tool launcher, both harmless stand-ins.

pub(crate) fn start_script_text(product_name: &str, version: &str) -> String {
    format!(
        r#"#!/bin/sh
# Start script of a synthetic {product_name} {version} pack, written by apim-migrate's
# sample builder. It only mimics a WSO2 launcher: it finds CARBON_HOME and says what
# it would do, because the pack holds no server to run.

PRG="$0"
CARBON_HOME=$(cd "$(dirname "$PRG")/.." && pwd)
export CARBON_HOME

echo "{product_name} {version} (synthetic sample pack at $CARBON_HOME)"
echo "Would start the server with: $*"
exit 0
"#
    )
}

pub(crate) fn cipher_tool_script_text() -> String {
    r#"#!/bin/sh
# Cipher tool launcher of a synthetic pack, written by apim-migrate's sample builder.
# The real tool encrypts the secrets of the configuration (run with -Dconfigure).

CARBON_HOME=$(cd "$(dirname "$0")/.." && pwd)
export CARBON_HOME
echo "ciphertool: nothing to encrypt in a synthetic pack (arguments: $*)"
exit 0
"#
    .to_string()
}
