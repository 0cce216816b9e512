//! Binary files of a pack: keystores, jars and class files, made of bytes derived from a seed.

use std::io::{Cursor, Write};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// `len` bytes that depend only on `seed`: SHA-256 in counter mode.
pub(crate) fn derived_bytes(seed: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut counter: u64 = 0;
    while out.len() < len {
        let mut hasher = Sha256::new();
        hasher.update(seed.as_bytes());
        hasher.update(counter.to_be_bytes());
        out.extend_from_slice(&hasher.finalize());
        counter += 1;
    }
    out.truncate(len);
    out
}

/// A JKS-looking keystore: the JKS magic and version, one entry per alias (key or trusted
/// certificate), then bytes derived from the seed in place of the key material.
pub(crate) fn jks_bytes(seed: &str, aliases: &[&str], private_key: bool) -> Vec<u8> {
    let mut bytes = vec![0xFE, 0xED, 0xFE, 0xED, 0x00, 0x00, 0x00, 0x02];
    bytes.extend_from_slice(&(aliases.len() as u32).to_be_bytes());
    for (index, alias) in aliases.iter().enumerate() {
        let tag: u32 = if private_key && index == 0 { 1 } else { 2 };
        bytes.extend_from_slice(&tag.to_be_bytes());
        bytes.extend_from_slice(&(alias.len() as u16).to_be_bytes());
        bytes.extend_from_slice(alias.as_bytes());
        // A fixed creation time (milliseconds since the epoch) keeps the output reproducible.
        bytes.extend_from_slice(&1_577_836_800_000_u64.to_be_bytes());
        let body = derived_bytes(&format!("{seed}/{alias}"), 1200);
        bytes.extend_from_slice(&(body.len() as u32).to_be_bytes());
        bytes.extend_from_slice(&body);
    }
    // JKS files end with a 20-byte SHA-1 integrity digest; derived bytes stand in for it.
    bytes.extend_from_slice(&derived_bytes(&format!("{seed}/digest"), 20));
    bytes
}

/// A site keystore: PKCS#12-looking (DER sequence header) for `.p12`/`.pfx`, JKS otherwise.
pub(crate) fn custom_keystore_bytes(file_name: &str, seed: &str) -> Vec<u8> {
    let lower = file_name.to_ascii_lowercase();
    let alias = file_name
        .rsplit_once('.')
        .map_or(file_name, |(stem, _)| stem);
    if lower.ends_with(".p12") || lower.ends_with(".pfx") {
        let body = derived_bytes(&format!("keystore/{seed}"), 1800);
        let mut bytes = vec![0x30, 0x82];
        bytes.extend_from_slice(&((body.len() + 3) as u16).to_be_bytes());
        bytes.extend_from_slice(&[0x02, 0x01, 0x03]);
        bytes.extend_from_slice(&body);
        bytes
    } else {
        jks_bytes(&format!("keystore/{seed}"), &[alias], true)
    }
}

pub(crate) fn jar_bytes(title: &str, entries: &[(String, Vec<u8>)]) -> Result<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    // A fixed timestamp (the zip epoch) keeps jars byte-identical between runs.
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    writer
        .add_directory("META-INF/", options.unix_permissions(0o755))
        .with_context(|| format!("failed to write jar `{title}`"))?;
    let manifest = format!(
        "Manifest-Version: 1.0\r\nCreated-By: apim-migrate sample builder\r\n\
         Implementation-Title: {title}\r\n\r\n"
    );
    let mut all_entries = vec![("META-INF/MANIFEST.MF".to_string(), manifest.into_bytes())];
    all_entries.extend(entries.iter().cloned());
    for (name, bytes) in &all_entries {
        writer
            .start_file(name.as_str(), options)
            .with_context(|| format!("failed to add `{name}` to jar `{title}`"))?;
        writer
            .write_all(bytes)
            .with_context(|| format!("failed to add `{name}` to jar `{title}`"))?;
    }
    let cursor = writer
        .finish()
        .with_context(|| format!("failed to finish jar `{title}`"))?;
    Ok(cursor.into_inner())
}

/// Bytes that start like a Java class file (magic, Java 8 class version); the rest is filler.
pub(crate) fn class_file_bytes(class_name: &str) -> Vec<u8> {
    let mut bytes = vec![0xCA, 0xFE, 0xBA, 0xBE, 0x00, 0x00, 0x00, 0x34];
    bytes.extend_from_slice(&derived_bytes(&format!("class/{class_name}"), 240));
    bytes
}

pub(crate) fn plain_jar_bytes(jar_name: &str) -> Result<Vec<u8>> {
    let stem = jar_name.strip_suffix(".jar").unwrap_or(jar_name);
    let package: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let class_name = format!("org.example.{package}.Extension");
    let entries = vec![(
        format!("{}.class", class_name.replace('.', "/")),
        class_file_bytes(&class_name),
    )];
    jar_bytes(stem, &entries)
}

pub(crate) fn driver_jar_bytes(jar_name: &str, driver_class: &str) -> Result<Vec<u8>> {
    let stem = jar_name.strip_suffix(".jar").unwrap_or(jar_name);
    let entries = vec![
        (
            "META-INF/services/java.sql.Driver".to_string(),
            format!("{driver_class}\n").into_bytes(),
        ),
        (
            format!("{}.class", driver_class.replace('.', "/")),
            class_file_bytes(driver_class),
        ),
    ];
    jar_bytes(stem, &entries)
}

#[cfg(test)]
mod tests {
    use crate::layout::{LIB_DIR, STOCK_LIB_JARS};
    use crate::test_support::featured_3_0_0;
    use std::fs;
    use std::io::Read;

    #[test]
    fn driver_jar_names_its_driver_and_plain_jar_does_not() {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = featured_3_0_0().write(temp.path()).expect("pack written");
        let jar = fs::File::open(dir.join(LIB_DIR).join("mysql-connector-java-8.0.28.jar"))
            .expect("driver jar");
        let mut archive = zip::ZipArchive::new(jar).expect("driver jar is a zip");
        let mut services = String::new();
        archive
            .by_name("META-INF/services/java.sql.Driver")
            .expect("services entry")
            .read_to_string(&mut services)
            .expect("services text");
        assert_eq!(services, "com.mysql.cj.jdbc.Driver\n");
        assert!(archive.by_name("META-INF/MANIFEST.MF").is_ok());
        assert!(archive.by_name("com/mysql/cj/jdbc/Driver.class").is_ok());

        for plain in [
            "acme-audit-handler-1.2.0.jar",
            STOCK_LIB_JARS[0],
            STOCK_LIB_JARS[1],
        ] {
            let jar = fs::File::open(dir.join(LIB_DIR).join(plain)).expect(plain);
            let mut archive = zip::ZipArchive::new(jar).expect("plain jar is a zip");
            assert!(
                archive
                    .by_name("META-INF/services/java.sql.Driver")
                    .is_err(),
                "{plain}"
            );
            assert!(archive.by_name("META-INF/MANIFEST.MF").is_ok(), "{plain}");
        }
    }
}
