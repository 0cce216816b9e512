//! File names as the tool carries them: Unix names are bytes, scripts and reports deal in
//! UTF-8 text. A name that is valid UTF-8 is carried as it is; each byte that is not (a
//! Latin-1 `café.xml`, a stray `\xff`) is carried as one character of a private range, so
//! that every name survives a listing, a plan, the journal and a copy byte for byte, and
//! `shown` renders those bytes (and control characters, such as a newline in a name)
//! escaped for people.
//!
//! The private range is U+10FF80 to U+10FFFF: byte `b` (0x80 to 0xFF) is `U+10FF00 + b`. A
//! name whose UTF-8 holds one of those characters itself is carried byte by byte as well, so
//! the mapping has no collisions: `to_bytes(from_bytes(b)) == b` for every name.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The first character of the range that stands for raw bytes (`U+10FF00 + byte`).
const RAW_BASE: u32 = 0x10_FF00;

/// The character that stands for the raw byte `byte` (0x80 to 0xFF).
fn raw_char(byte: u8) -> char {
    char::from_u32(RAW_BASE + u32::from(byte)).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// The raw byte a character stands for, if it is one of the range.
fn raw_byte(c: char) -> Option<u8> {
    let code = u32::from(c);
    (RAW_BASE + 0x80..=RAW_BASE + 0xFF)
        .contains(&code)
        .then(|| (code - RAW_BASE) as u8)
}

/// A name (or a `/`-separated path) as text: unchanged when it is UTF-8 without characters
/// of the private range, else with each such byte carried as its character.
pub fn from_bytes(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) if !text.chars().any(|c| raw_byte(c).is_some()) => Cow::Borrowed(text),
        _ => Cow::Owned(carry(bytes)),
    }
}

/// `from_bytes` of an OS string.
pub fn from_os(name: &OsStr) -> Cow<'_, str> {
    from_bytes(name.as_bytes())
}

fn carry(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    while !bytes.is_empty() {
        let (valid, rest) = match std::str::from_utf8(bytes) {
            Ok(text) => (text, &bytes[bytes.len()..]),
            Err(error) => {
                let (head, tail) = bytes.split_at(error.valid_up_to());
                // `head` is valid by construction.
                (std::str::from_utf8(head).unwrap_or_default(), tail)
            }
        };
        for c in valid.chars() {
            if raw_byte(c).is_some() {
                let mut buffer = [0u8; 4];
                for byte in c.encode_utf8(&mut buffer).bytes() {
                    out.push(raw_char(byte));
                }
            } else {
                out.push(c);
            }
        }
        match rest.split_first() {
            Some((byte, tail)) => {
                out.push(raw_char(*byte));
                bytes = tail;
            }
            None => bytes = rest,
        }
    }
    out
}

/// The bytes a name carried as text stands for.
pub fn to_bytes(text: &str) -> Cow<'_, [u8]> {
    if !text.chars().any(|c| raw_byte(c).is_some()) {
        return Cow::Borrowed(text.as_bytes());
    }
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match raw_byte(c) {
            Some(byte) => out.push(byte),
            None => {
                let mut buffer = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
            }
        }
    }
    Cow::Owned(out)
}

/// Whether a name carried as text stands for bytes that are not UTF-8.
pub fn has_raw_bytes(text: &str) -> bool {
    text.chars().any(|c| raw_byte(c).is_some())
}

/// `to_bytes` as an OS string, for the system calls.
pub fn to_os(text: &str) -> Cow<'_, OsStr> {
    match to_bytes(text) {
        Cow::Borrowed(bytes) => Cow::Borrowed(OsStr::from_bytes(bytes)),
        Cow::Owned(bytes) => {
            Cow::Owned(<std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(bytes))
        }
    }
}

/// A name carried as text, for people: raw bytes as `\xNN`, control characters as `\n`,
/// `\t`, `\r` or `\xNN` (`\u{NN}` above 0xff), and `\` itself as `\\`, so that a name
/// always stays on its line and can be told from another.
pub fn shown(text: &str) -> Cow<'_, str> {
    // Nearly every name is printable ASCII without a backslash: told by its bytes alone (a
    // run's stored report asks this of each path twice).
    if text
        .bytes()
        .all(|byte| (b' '..=b'~').contains(&byte) && byte != b'\\')
    {
        return Cow::Borrowed(text);
    }
    let needs = |c: char| c == '\\' || c.is_control() || raw_byte(c).is_some();
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match (c, raw_byte(c)) {
            (_, Some(byte)) => out.push_str(&format!("\\x{byte:02x}")),
            ('\\', _) => out.push_str("\\\\"),
            ('\n', _) => out.push_str("\\n"),
            ('\t', _) => out.push_str("\\t"),
            ('\r', _) => out.push_str("\\r"),
            (c, _) if c.is_control() && u32::from(c) <= 0xff => {
                out.push_str(&format!("\\x{:02x}", u32::from(c)))
            }
            (c, _) if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            (c, _) => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A path of the system for people, as `shown` renders names: `Path::display` would put
/// U+FFFD for bytes that are not UTF-8, and a newline would break the line.
pub fn shown_path(path: &Path) -> String {
    shown(&from_bytes(path.as_os_str().as_bytes())).into_owned()
}

/// Text for people in which names may stand (a message, a line of a report): raw bytes and
/// control characters escaped as by `shown`, but `\` kept as it is, since the text is not a
/// name.
pub fn shown_text(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c.is_control() || raw_byte(c).is_some())
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c == '\\' {
            out.push('\\');
        } else {
            out.push_str(&shown(c.encode_utf8(&mut [0u8; 4])));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_names_are_carried_as_they_are() {
        for name in [
            "userstore.xml",
            "café.xml",
            "日本.jks",
            "a b",
            "back\\slash",
        ] {
            assert!(matches!(from_bytes(name.as_bytes()), Cow::Borrowed(_)));
            assert_eq!(to_bytes(name).as_ref(), name.as_bytes());
        }
    }

    #[test]
    fn every_byte_string_survives_the_round_trip() {
        let reserved = "\u{10FF80}\u{10FFFF}".as_bytes().to_vec();
        let cases: Vec<Vec<u8>> = vec![
            b"caf\xe9.xml".to_vec(),
            b"\xff\xfe\x80".to_vec(),
            b"ok\xc3".to_vec(),
            b"\xc3\xa9\xe9".to_vec(),
            reserved.clone(),
            [b"x".to_vec(), reserved, b"\xf4\x8f".to_vec()].concat(),
            (0u8..=255).collect(),
        ];
        for bytes in cases {
            let text = from_bytes(&bytes);
            assert_eq!(to_bytes(&text).as_ref(), bytes.as_slice(), "{text:?}");
        }
    }

    #[test]
    fn shown_names_stay_on_one_line_and_name_their_bytes() {
        assert_eq!(shown(&from_bytes(b"caf\xe9.xml")), "caf\\xe9.xml");
        assert_eq!(shown("new\nline.xml"), "new\\nline.xml");
        assert_eq!(shown("tab\there\x1b[31m"), "tab\\there\\x1b[31m");
        assert_eq!(shown("a\\b"), "a\\\\b");
        assert_eq!(shown("plain/path.xml"), "plain/path.xml");
        assert_eq!(
            shown_path(Path::new(OsStr::from_bytes(b"/opt/k\xff.jks"))),
            "/opt/k\\xff.jks"
        );
        assert_eq!(
            shown_text(&format!("`{}` is\na link \\o/", from_bytes(b"\xe9"))),
            "`\\xe9` is\\na link \\o/"
        );
    }
}
