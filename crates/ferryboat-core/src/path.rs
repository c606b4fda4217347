//! `ObjectPath`: a validated object key.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Longest key accepted, in bytes: S3's and GCS's limit (Azure allows more, so this is the
/// portable bound).
pub const MAX_KEY_BYTES: usize = 1024;

/// A validated object key such as `photos/2025/paris café.jpg`.
///
/// Segments are separated by `/`. A key is rejected with [`Error::InvalidPath`] when it is
/// empty or longer than [`MAX_KEY_BYTES`], has an empty segment (leading, trailing or double
/// `/`), a `.` or `..` segment, or a control character. Everything else S3 accepts is kept
/// as is: unicode, spaces and `+ % # ? = & ;` are ordinary characters, never decoded.
///
/// These rules are what make a key portable: the same key means the same object on every
/// backend, and no key can climb out of a local store's root.
///
/// ```
/// use ferryboat_core::ObjectPath;
/// let p = ObjectPath::parse("a/b c/100%+.txt").unwrap();
/// assert_eq!(p.as_str(), "a/b c/100%+.txt");
/// assert!(ObjectPath::parse("a/../etc/passwd").is_err());
/// assert!(ObjectPath::parse("a//b").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectPath(String);

impl ObjectPath {
    /// Validates `key` and wraps it.
    pub fn parse(key: impl Into<String>) -> Result<Self> {
        let key = key.into();
        validate(&key)?;
        Ok(ObjectPath(key))
    }

    /// The key as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key's `/`-separated segments.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The last segment.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// This key with `/segment` (which may itself contain `/`) appended.
    pub fn join(&self, rest: &str) -> Result<Self> {
        ObjectPath::parse(format!("{}/{}", self.0, rest))
    }

    /// Whether this key lies below `prefix` when `prefix` is read as a directory: `a/b/c` is
    /// under `a/b` and `a`, but not under `a/bc` or `a/b/c` itself.
    pub fn is_under(&self, prefix: &ObjectPath) -> bool {
        self.0.len() > prefix.0.len() && self.0.starts_with(&prefix.0) && self.0.as_bytes()[prefix.0.len()] == b'/'
    }

    /// The key relative to `prefix`, if it lies under it (see [`ObjectPath::is_under`]).
    pub fn strip_prefix(&self, prefix: &ObjectPath) -> Option<&str> {
        self.is_under(prefix).then(|| &self.0[prefix.0.len() + 1..])
    }

    /// Consumes the path and returns the key.
    pub fn into_string(self) -> String {
        self.0
    }
}

fn validate(key: &str) -> Result<()> {
    let reject =
        |reason: &str| Err(Error::InvalidPath { path: key.chars().take(200).collect(), reason: reason.to_string() });
    if key.is_empty() {
        return reject("empty key");
    }
    if key.len() > MAX_KEY_BYTES {
        return reject(&format!("key is {} bytes, the limit is {MAX_KEY_BYTES}", key.len()));
    }
    if let Some(c) = key.chars().find(|c| c.is_control()) {
        return reject(&format!("control character U+{:04X}", c as u32));
    }
    for segment in key.split('/') {
        match segment {
            "" => return reject("empty segment (leading, trailing or double '/')"),
            "." | ".." => return reject("'.' and '..' segments are not allowed"),
            _ => {}
        }
    }
    Ok(())
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl AsRef<str> for ObjectPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for ObjectPath {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        ObjectPath::parse(s)
    }
}

impl TryFrom<&str> for ObjectPath {
    type Error = Error;
    fn try_from(s: &str) -> Result<Self> {
        ObjectPath::parse(s)
    }
}

impl TryFrom<String> for ObjectPath {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        ObjectPath::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_s3_accepts() {
        for key in [
            "a",
            "a/b/c",
            "unicode/日本語/ß",
            "spaces in/a key",
            "sym/+ % # ? = & ; , : @ $ ! ' ( ) [ ] { } ~ ^ `",
            "dots/.hidden/a..b/...",
            "back\\slash",
        ] {
            assert_eq!(ObjectPath::parse(key).unwrap().as_str(), key);
        }
        assert!(ObjectPath::parse("x".repeat(MAX_KEY_BYTES)).is_ok());
    }

    #[test]
    fn rejects_with_a_reason() {
        for (key, why) in [
            ("", "empty"),
            ("/a", "empty segment"),
            ("a/", "empty segment"),
            ("a//b", "empty segment"),
            ("..", "'..'"),
            ("a/../b", "'..'"),
            ("./a", "'.'"),
            ("a\0b", "control"),
            ("a\nb", "control"),
            ("a\u{7f}", "control"),
        ] {
            let err = ObjectPath::parse(key).unwrap_err();
            assert!(matches!(err, Error::InvalidPath { .. }), "{key:?}");
            assert!(err.to_string().contains(why), "{key:?}: {err}");
        }
        let long = ObjectPath::parse("x".repeat(MAX_KEY_BYTES + 1)).unwrap_err();
        assert!(long.to_string().contains("limit is 1024"), "{long}");
    }

    #[test]
    fn prefixes_are_directories() {
        let p = ObjectPath::parse("a/b/c").unwrap();
        assert!(p.is_under(&"a/b".parse().unwrap()));
        assert!(p.is_under(&"a".parse().unwrap()));
        assert!(!p.is_under(&"a/b/c".parse().unwrap()));
        assert!(!p.is_under(&"a/bc".parse().unwrap()));
        assert!(!ObjectPath::parse("a/bc").unwrap().is_under(&"a/b".parse().unwrap()));
        assert_eq!(p.strip_prefix(&"a".parse().unwrap()), Some("b/c"));
        assert_eq!(p.file_name(), "c");
    }
}
