//! `ObjectPath`: a validated object key.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Longest key accepted, in bytes: S3's and GCS's limit (Azure allows more, so this is the
/// portable bound).
pub const MAX_KEY_BYTES: usize = 1024;

/// An object key such as `photos/2025/paris café.jpg`: any non-empty UTF-8 string of at most
/// [`MAX_KEY_BYTES`] bytes, kept byte for byte.
///
/// Keys are the provider's: whatever S3, Azure Blob or GCS can store is a key here, including
/// empty segments (a folder marker `photos/`, `a//b`, `/leading`), `.` and `..` segments,
/// spaces at either end and control characters. Nothing is normalised or decoded: `+ % # ? =
/// & ;` are ordinary characters, and the NFC and NFD forms of one word are two keys. The only
/// rejections ([`Error::InvalidPath`]) are the empty key and keys over 1,024 bytes.
///
/// Safety lives where the danger is: a key is never a file-system path by itself. The local
/// store maps keys to file names through a reversible encoding and cannot leave its root
/// (see [`crate::local`]); a destination that cannot hold a key refuses that key alone.
///
/// Segments are separated by `/`, and a prefix is read as a directory: `a/b` contains `a/b/c`
/// and the folder marker `a/b/`, not `a/bc`.
///
/// ```
/// use ferryboat_core::ObjectPath;
/// let p = ObjectPath::parse("a/b c/100%+.txt").unwrap();
/// assert_eq!(p.as_str(), "a/b c/100%+.txt");
/// assert_eq!(ObjectPath::parse("photos/").unwrap().segments().collect::<Vec<_>>(), ["photos", ""]);
/// assert!(ObjectPath::parse("").is_err());
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

    /// This key with `/rest` (which may itself contain `/`, or be empty) appended.
    pub fn join(&self, rest: &str) -> Result<Self> {
        ObjectPath::parse(format!("{}/{}", self.0, rest))
    }

    /// Whether this key lies below `prefix` when `prefix` is read as a directory: `a/b/c` is
    /// under `a/b` and `a`, but not under `a/bc` or `a/b/c` itself.
    pub fn is_under(&self, prefix: &ObjectPath) -> bool {
        self.0.len() > prefix.0.len() && self.0.starts_with(&prefix.0) && self.0.as_bytes()[prefix.0.len()] == b'/'
    }

    /// The key relative to `prefix`, if it lies under it (see [`ObjectPath::is_under`]).
    ///
    /// The folder marker of `prefix` itself (`prefix/`) lies under it and gives `""`: a
    /// relative key that is no [`ObjectPath`].
    pub fn strip_prefix(&self, prefix: &ObjectPath) -> Option<&str> {
        self.is_under(prefix).then(|| &self.0[prefix.0.len() + 1..])
    }

    /// The directory a listing's common prefix names: `a/b/` (as S3, GCS and Azure send it) is
    /// directory `a/b`, `a//` is directory `a/` (holding `a//x`).
    ///
    /// The common prefix `/` (keys that start with `/`, seen at the root) names a directory
    /// with an empty name, which no `ObjectPath` can be: that is
    /// [`Error::NotSupported`], telling the caller to use the flat listing, which carries
    /// those keys like any other.
    pub fn from_common_prefix(provider: &str, prefix: &str) -> Result<Self> {
        let dir = prefix.strip_suffix('/').unwrap_or(prefix);
        if dir.is_empty() {
            return Err(unnamed_dir(provider));
        }
        ObjectPath::parse(dir)
    }

    /// The key prefix a store URL names after its bucket, from the URL's decoded path
    /// segments after the bucket: one trailing `/` is dropped (`s3://b/photos/` is prefix
    /// `photos`), every other segment is kept as written (`s3://b/a//b` is prefix `a//b`),
    /// and no segment at all is no prefix.
    pub fn from_url_segments<S: AsRef<str>>(segments: &[S]) -> Result<Option<Self>> {
        let mut segments: Vec<&str> = segments.iter().map(AsRef::as_ref).collect();
        if segments.last() == Some(&"") {
            segments.pop();
        }
        if segments.is_empty() {
            return Ok(None);
        }
        ObjectPath::parse(segments.join("/")).map(Some)
    }

    /// Consumes the path and returns the key.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// The error for a directory with an empty name, see [`ObjectPath::from_common_prefix`].
pub(crate) fn unnamed_dir(provider: &str) -> Error {
    Error::not_supported(
        provider,
        "listing by level where keys start with `/` (their directory has an empty name); list recursively instead",
    )
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
    fn accepts_what_the_providers_accept() {
        for key in [
            "a",
            "a/b/c",
            "unicode/日本語/ß",
            "spaces in/a key",
            " both ends ",
            "sym/+ % # ? = & ; , : @ $ ! ' ( ) [ ] { } ~ ^ `",
            "dots/.hidden/a..b/...",
            "back\\slash",
            "photos/",
            "/leading",
            "a//b",
            "//",
            "/",
            "dot/./x",
            "dot/../x",
            "..",
            "tab\there",
            "cr\rlf\n",
            "nul\0",
            "del\u{7f}",
        ] {
            assert_eq!(ObjectPath::parse(key).unwrap().as_str(), key);
        }
        assert!(ObjectPath::parse("x".repeat(MAX_KEY_BYTES)).is_ok());
        assert!(ObjectPath::parse("é".repeat(MAX_KEY_BYTES / 2)).is_ok());
    }

    #[test]
    fn rejects_only_empty_and_too_long() {
        let empty = ObjectPath::parse("").unwrap_err();
        assert!(matches!(empty, Error::InvalidPath { .. }) && empty.to_string().contains("empty"), "{empty}");
        let long = ObjectPath::parse("x".repeat(MAX_KEY_BYTES + 1)).unwrap_err();
        assert!(long.to_string().contains("limit is 1024"), "{long}");
        // 513 two-byte characters: 1,026 bytes though only 513 characters.
        assert!(ObjectPath::parse("é".repeat(513)).is_err());
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

    #[test]
    fn url_prefixes_drop_one_trailing_slash() {
        let p = |s: &[&str]| ObjectPath::from_url_segments(s).map(|p| p.map(ObjectPath::into_string));
        assert_eq!(p(&[]).unwrap(), None);
        assert_eq!(p(&[""]).unwrap(), None);
        assert_eq!(p(&["a", ""]).unwrap().as_deref(), Some("a"));
        assert_eq!(p(&["a", "", "b"]).unwrap().as_deref(), Some("a//b"));
        assert_eq!(p(&["a", "", ""]).unwrap().as_deref(), Some("a/"));
        assert!(p(&["", ""]).is_err(), "a prefix of only `/` names the empty directory");
    }

    #[test]
    fn folder_markers_and_empty_segments_are_ordinary_keys() {
        let marker = ObjectPath::parse("a/b/").unwrap();
        let prefix = ObjectPath::parse("a/b").unwrap();
        assert!(marker.is_under(&prefix));
        assert_eq!(marker.strip_prefix(&prefix), Some(""), "the prefix's own marker is empty relative to it");
        assert_eq!(marker.file_name(), "");
        let double = ObjectPath::parse("a//x").unwrap();
        assert!(double.is_under(&"a".parse().unwrap()));
        assert!(double.is_under(&"a/".parse().unwrap()));
        assert_eq!(double.strip_prefix(&"a/".parse().unwrap()), Some("x"));
        assert!(!ObjectPath::parse("a/x").unwrap().is_under(&"a/".parse().unwrap()));
        assert_eq!(ObjectPath::parse("/leading").unwrap().segments().collect::<Vec<_>>(), ["", "leading"]);
        assert_eq!(prefix.join("").unwrap(), marker);
    }
}
