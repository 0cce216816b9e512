//! Reading files of a pack safely: hashing, regular files only, UTF-8 with a location,
//! modes, and paths confined to a pack.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

/// Temporary files of atomic writes are named `.apim-migrate-XXXXXX.tmp`, so that a rollback
/// after a crash can find and remove them.
pub const TEMP_PREFIX: &str = ".apim-migrate-";
pub const TEMP_SUFFIX: &str = ".tmp";

/// A SHA-256 of a file's content, kept as its 32 bytes (a plan holds two for each change),
/// and shown, stored and compared as the 64 lowercase hex digits `sha256sum` prints.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ContentHash(pub [u8; 32]);

impl ContentHash {
    /// The hash of `bytes`.
    pub fn of(bytes: &[u8]) -> ContentHash {
        ContentHash(Sha256::digest(bytes).into())
    }

    /// From 64 hex digits (either case); `None` for anything else.
    pub fn from_hex(text: &str) -> Option<ContentHash> {
        let text = text.as_bytes();
        if text.len() != 64 {
            return None;
        }
        let digit = |byte: u8| char::from(byte).to_digit(16);
        let mut bytes = [0u8; 32];
        for (index, pair) in text.chunks(2).enumerate() {
            bytes[index] = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
        }
        Some(ContentHash(bytes))
    }

    /// The 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }
}

impl std::fmt::Display for ContentHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl std::fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl PartialEq<str> for ContentHash {
    fn eq(&self, other: &str) -> bool {
        ContentHash::from_hex(other).is_some_and(|other| other == *self)
    }
}

impl PartialEq<String> for ContentHash {
    fn eq(&self, other: &String) -> bool {
        *self == **other
    }
}

impl serde::Serialize for ContentHash {
    /// As hex, made on the stack: a run's stored report holds two hashes a file.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut hex = [0u8; 64];
        hex_into(&self.0, &mut hex);
        serializer.serialize_str(std::str::from_utf8(&hex).map_err(serde::ser::Error::custom)?)
    }
}

impl<'de> serde::Deserialize<'de> for ContentHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<ContentHash, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        ContentHash::from_hex(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("`{text}` is not a SHA-256 in hex (64 hex digits)"))
        })
    }
}

/// Lowercase hex SHA-256 of a byte slice.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

/// The most the tool reads of a file it parses (a configuration file, a script, an
/// inventory, a catalogue): a deployment.toml is a few tens of KiB, so anything this large
/// is not the file it should be, and reading it whole would cost the memory scripts are
/// limited to.
pub const MAX_PARSED: u64 = 16 * 1024 * 1024;

/// Reads all of `reader` (a file of `size` bytes at `path`, about to be parsed), refusing
/// more than `MAX_PARSED` bytes with a message that names the file.
pub fn read_parsed(reader: impl Read, size: u64, path: &Path) -> io::Result<Vec<u8>> {
    read_at_most(reader, size, path, MAX_PARSED, "a file it parses")
}

/// Reads all of `reader` (a file of `size` bytes at `path`), at most `limit` bytes; `what`
/// says what the file is, for the message.
pub fn read_at_most(
    reader: impl Read,
    size: u64,
    path: &Path,
    limit: u64,
    what: &str,
) -> io::Result<Vec<u8>> {
    within_limit(size, path, limit, what)?;
    let mut bytes = Vec::with_capacity(size as usize);
    reader.take(limit + 1).read_to_end(&mut bytes)?;
    within_limit(bytes.len() as u64, path, limit, what)?;
    Ok(bytes)
}

/// Refuses `size` bytes of `path` when they are more than the `limit` the tool reads of
/// `what` (as `read_at_most` does, for a file read a part at a time).
pub fn within_limit(size: u64, path: &Path, limit: u64, what: &str) -> io::Result<()> {
    if size <= limit {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "`{}` is {}, more than the {} the tool reads of {what}; is it the right file?",
            crate::pack::name::shown_path(path),
            human_size(size),
            human_size(limit)
        ),
    ))
}

/// `12 KiB`, `200 MiB`: a size for people.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else if value < 10.0 && value.fract() != 0.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// Lowercase hex SHA-256 of a file's content, streamed.
pub fn sha256_file(path: &Path) -> Result<String> {
    let file = File::open(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    sha256_reader(file, path)
}

/// Lowercase hex SHA-256 of what `file` (read from `path`) holds, streamed.
pub fn sha256_reader(file: impl Read, path: &Path) -> Result<String> {
    hash_reader(file, path).map(|hash| hash.to_hex())
}

/// The SHA-256 of what `file` (read from `path`) holds, streamed.
pub fn hash_reader(mut file: impl Read, path: &Path) -> Result<ContentHash> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = file
            .read(&mut buffer)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(ContentHash(hasher.finalize().into()))
}

pub fn to_hex(bytes: &[u8]) -> String {
    let mut out = vec![0u8; bytes.len() * 2];
    hex_into(bytes, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Lowercase hex of `bytes` into `out`, two digits a byte (as far as `out` goes).
fn hex_into(bytes: &[u8], out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (byte, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
}

/// Reads a regular file the tool parses (at most `MAX_PARSED` bytes). Anything else (a FIFO,
/// a device, a directory) is refused before it is opened, because reading a FIFO or a
/// device would block or never end.
pub fn read_regular(path: &Path) -> io::Result<Vec<u8>> {
    let metadata = fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(not_regular(path));
    }
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    read_parsed(file, size, path)
}

/// The error for a path that is there but is not a regular file.
pub fn not_regular(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "`{}` is not a regular file (a directory, FIFO or device?); replace it with a regular file",
            path.display()
        ),
    )
}

/// Decodes UTF-8 text, or says where it stops being UTF-8, by line and column.
pub fn utf8_text(bytes: Vec<u8>, path: &str) -> io::Result<String> {
    String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let valid = std::str::from_utf8(valid).unwrap_or_default();
        let line = valid.matches('\n').count() + 1;
        let column = valid
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count()
            + 1;
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("`{path}` is not UTF-8 text (line {line}, column {column}); save it as UTF-8"),
        )
    })
}

/// Permission bits (`0o7777`) of a path, not following a final link.
pub fn mode_of(path: &Path) -> Result<u32> {
    let metadata =
        fs::symlink_metadata(path).with_context(|| format!("cannot stat `{}`", path.display()))?;
    Ok(metadata.permissions().mode() & 0o7777)
}

/// The state of a regular file: its hash and mode, or `None` when nothing is there.
/// Anything that is there but is not a regular file is an error, because the tool never
/// replaces directories, links or devices with files.
pub fn file_state(path: &Path) -> Result<Option<(String, u32)>> {
    match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_file() => Ok(Some((
            sha256_file(path)?,
            metadata.permissions().mode() & 0o7777,
        ))),
        Ok(metadata) if metadata.file_type().is_symlink() => {
            anyhow::bail!(
                "`{}` is a symbolic link; refusing to replace it",
                path.display()
            )
        }
        Ok(_) => anyhow::bail!("`{}` exists and is not a regular file", path.display()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("cannot stat `{}`", path.display())),
    }
}

/// A path relative to a pack, checked to stay inside it: no absolute paths, no `..`, no
/// empty or `.` components, no NUL character. Separators are normalised to `/`. Names that
/// are not UTF-8 come carried as text (see `pack::name`) and stay so.
pub fn confined_relative(path: &str) -> Result<String> {
    confined(path).map(std::borrow::Cow::into_owned)
}

/// `confined_relative`, borrowing `path` when it is already as that would make it (as the
/// paths the finders give are): no allocation per planned file.
pub fn confined(path: &str) -> Result<std::borrow::Cow<'_, str>> {
    let normal = !path.is_empty()
        && !path.contains('\0')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    if normal {
        return Ok(std::borrow::Cow::Borrowed(path));
    }
    if path.is_empty() {
        anyhow::bail!("empty path");
    }
    if path.contains('\0') {
        anyhow::bail!(
            "path `{}` holds a NUL character, which no file name can",
            crate::pack::name::shown(path)
        );
    }
    let candidate = Path::new(path);
    let mut parts = Vec::new();
    for component in candidate.components() {
        match component {
            Component::Normal(part) => parts.push(
                part.to_str()
                    .with_context(|| format!("path `{path}` is not valid UTF-8"))?
                    .to_string(),
            ),
            Component::CurDir => {}
            Component::ParentDir => {
                anyhow::bail!("path `{path}` leaves the pack (`..` is not allowed)")
            }
            Component::RootDir | Component::Prefix(_) => {
                anyhow::bail!("path `{path}` is absolute; give a path relative to the pack")
            }
        }
    }
    if parts.is_empty() {
        anyhow::bail!("path `{path}` names the pack itself, not a file in it");
    }
    Ok(std::borrow::Cow::Owned(parts.join("/")))
}

/// Joins a `/`-separated relative path onto a root (names carried as text become their
/// bytes again, see `pack::name`).
pub fn join(root: &Path, relative: &str) -> PathBuf {
    relative.split('/').fold(root.to_path_buf(), |path, part| {
        path.join(&*crate::pack::name::to_os(part))
    })
}

/// Sorted names of the entries of a directory; empty when it does not exist.
pub fn list_dir(dir: &Path) -> Result<Vec<String>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => {
            return Err(error).with_context(|| format!("cannot list `{}`", dir.display()))
        }
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list `{}`", dir.display()))?;
        names.push(crate::pack::name::from_os(&entry.file_name()).into_owned());
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_content_hash_is_shown_and_stored_as_sha256sum_prints_it() {
        let hash = ContentHash::of(b"abc");
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(hash.to_hex(), hex);
        assert_eq!(hash.to_string(), hex);
        assert_eq!(sha256_bytes(b"abc"), hex);
        assert_eq!(ContentHash::from_hex(&hex.to_uppercase()), Some(hash));
        assert!(hash == *hex);
        let json = serde_json::to_string(&hash).expect("json");
        assert_eq!(json, format!("\"{hex}\""));
        assert_eq!(
            serde_json::from_str::<ContentHash>(&json).expect("back"),
            hash
        );
        for bad in [
            "",
            "ab",
            &hex[1..],
            &format!("{}g", &hex[1..]),
            &format!("{hex}00"),
        ] {
            assert_eq!(ContentHash::from_hex(bad), None, "{bad}");
            assert!(serde_json::from_str::<ContentHash>(&format!("\"{bad}\"")).is_err());
        }
    }

    #[test]
    fn confined_relative_refuses_escapes() {
        assert!(matches!(
            confined("repository/tenants/1/userstores/a.xml"),
            Ok(std::borrow::Cow::Borrowed(_))
        ));
        for (given, made) in [("a//b/", "a/b"), ("./a", "a"), ("a/.", "a"), ("...", "...")] {
            assert_eq!(confined(given).unwrap(), made, "{given}");
        }
        assert_eq!(confined_relative("a/./b.xml").unwrap(), "a/b.xml");
        assert!(confined_relative("../etc/passwd").is_err());
        assert!(confined_relative("a/../../b").is_err());
        assert!(confined_relative("/etc/passwd").is_err());
        assert!(confined_relative("").is_err());
        assert!(confined_relative(".").is_err());
    }

    #[test]
    fn utf8_errors_give_line_and_column() {
        let message = utf8_text(b"a = 1\nb = \"caf\xe9\"\n".to_vec(), "x.toml")
            .expect_err("not UTF-8")
            .to_string();
        assert!(message.contains("`x.toml`"), "{message}");
        assert!(message.contains("line 2, column 9"), "{message}");
        assert_eq!(utf8_text(b"ok".to_vec(), "x").expect("text"), "ok");
    }

    #[test]
    fn sha256_of_empty_input_is_the_known_value() {
        assert_eq!(
            sha256_bytes(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
