//! How keys become file names: a reversible, bijective encoding per segment.
//!
//! A key's segments (split at `/`) become the components of its path beneath the root. Most
//! segments are stored as they are. The few a file system cannot take as a name are escaped
//! with the quote character `‛` (U+201B, the one rclone's encodings use):
//!
//! - a segment that is `‛`×n followed by `""`, `"."` or `".."` (n ≥ 0) is stored as `‛`×(n+1)
//!   followed by the same rest, so the folder marker `photos/` is the file `photos/‛`, `a//b`
//!   is `a/‛/b` and `dot/../x` is `dot/‛../x`;
//! - in the first segment only, `‛`×n followed by `.ferry` is escaped the same way, so that
//!   no key can reach the store's own `.ferry/` directory (`.ferry/x` is stored as `‛.ferry/x`).
//!
//! Decoding removes one `‛` from exactly those forms. Every name on disk except the root's
//! `.ferry` therefore decodes to exactly one key segment and encodes back to itself: a file
//! someone else named `‛x` stays the key `‛x`, and `‛‛` is the key `‛`. The order of keys is
//! unaffected, because the walk sorts the decoded names.
//!
//! What a Linux file system cannot hold even so is refused for that key alone with
//! [`Error::InvalidPath`]: a segment longer than [`MAX_NAME_BYTES`] once encoded, and a NUL
//! character. (A key `k` beside keys under `k/` is the store's one other refusal, see
//! [`super::disk::conflict`].)

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::path::ObjectPath;

/// The store's own directory at the root; the key segment `.ferry` there is stored escaped
/// (see below), so no key can reach it.
pub(crate) const RESERVED: &str = ".ferry";
pub(crate) const TMP_DIR: &str = ".ferry/tmp";
pub(crate) const UPLOADS_DIR: &str = ".ferry/uploads";

/// The escape character.
const QUOTE: char = '\u{201B}';
/// Longest file name most Linux file systems hold, in bytes.
pub(crate) const MAX_NAME_BYTES: usize = 255;

/// Splits `seg` into its leading quotes (counted) and the rest.
fn quotes(seg: &str) -> (usize, &str) {
    let rest = seg.trim_start_matches(QUOTE);
    ((seg.len() - rest.len()) / QUOTE.len_utf8(), rest)
}

/// Whether `rest` (after the quotes) is a form that needs one more quote on disk.
fn escaped_form(rest: &str, first: bool) -> bool {
    matches!(rest, "" | "." | "..") || (first && rest == RESERVED)
}

/// The file name of key segment `seg` (`first`: the key's first segment).
pub(crate) fn encode_segment(seg: &str, first: bool) -> String {
    let (_, rest) = quotes(seg);
    if escaped_form(rest, first) {
        format!("{QUOTE}{seg}")
    } else {
        seg.to_string()
    }
}

/// The key segment a file name stands for (`first`: a name directly in the root); `None` for
/// a name that is no key: the root's own `.ferry`.
pub(crate) fn decode_name(name: &str, first: bool) -> Option<&str> {
    let (n, rest) = quotes(name);
    if !escaped_form(rest, first) {
        return Some(name);
    }
    if n == 0 {
        // Only `.ferry` at the root gets here: "", "." and ".." are never names in a directory.
        return None;
    }
    Some(&name[QUOTE.len_utf8()..])
}

/// The path beneath the root that holds `key`, or [`Error::InvalidPath`] naming why a Linux
/// file system cannot hold it.
pub(crate) fn disk_path(key: &ObjectPath) -> Result<PathBuf> {
    let mut path = PathBuf::new();
    for (i, seg) in key.segments().enumerate() {
        let name = encode_segment(seg, i == 0);
        if name.contains('\0') {
            return Err(refused(key, "a local file name cannot hold the NUL character".into()));
        }
        if name.len() > MAX_NAME_BYTES {
            return Err(refused(
                key,
                format!(
                    "segment {} is {} bytes as a file name; the local file system holds at most {MAX_NAME_BYTES}",
                    i + 1,
                    name.len()
                ),
            ));
        }
        path.push(name);
    }
    Ok(path)
}

fn refused(key: &ObjectPath, reason: String) -> Error {
    Error::InvalidPath { path: key.as_str().chars().take(200).collect(), reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_segments_get_one_more_quote() {
        for (seg, first, name) in [
            ("", false, "‛"),
            (".", false, "‛."),
            ("..", false, "‛.."),
            ("‛", false, "‛‛"),
            ("‛..", false, "‛‛.."),
            ("‛x", false, "‛x"),
            ("x‛", false, "x‛"),
            ("...", false, "..."),
            (".ferry", false, ".ferry"),
            (".ferry", true, "‛.ferry"),
            ("‛.ferry", true, "‛‛.ferry"),
            (".ferry-uploads", true, ".ferry-uploads"),
            ("a b ", false, "a b "),
        ] {
            assert_eq!(encode_segment(seg, first), name, "{seg:?}");
            assert_eq!(decode_name(name, first), Some(seg), "{name:?}");
        }
        assert_eq!(decode_name(".ferry", true), None);
        assert_eq!(decode_name(".ferry", false), Some(".ferry"));
    }

    #[test]
    fn every_name_round_trips() {
        // Over a small alphabet holding every special piece: decode then encode is identity
        // for names, encode then decode is identity for segments.
        let alphabet = ["", "‛", ".", "x", ".ferry"];
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    let s = format!("{a}{b}{c}");
                    for first in [true, false] {
                        assert_eq!(decode_name(&encode_segment(&s, first), first), Some(s.as_str()));
                        if !s.is_empty() && s != "." && s != ".." {
                            if let Some(seg) = decode_name(&s, first) {
                                assert_eq!(encode_segment(seg, first), s, "{s:?}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn paths_never_hold_a_dot_or_empty_component() {
        let key = ObjectPath::parse("/../a//./..").unwrap();
        let path = disk_path(&key).unwrap();
        assert_eq!(path, PathBuf::from("‛/‛../a/‛/‛./‛.."));
        assert!(path.components().all(|c| matches!(c, std::path::Component::Normal(_))));
        let too_long = ObjectPath::parse(format!("a/{}", "x".repeat(256))).unwrap();
        assert!(disk_path(&too_long).unwrap_err().to_string().contains("segment 2 is 256 bytes"));
        assert!(disk_path(&ObjectPath::parse("a\0b").unwrap()).unwrap_err().to_string().contains("NUL"));
        assert!(disk_path(&ObjectPath::parse("x".repeat(255)).unwrap()).is_ok());
    }
}
