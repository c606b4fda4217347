//! Key validation: what `ObjectPath` accepts (every key a provider can hold).

use std::sync::Arc;

use ferryboat_core::{path::MAX_KEY_BYTES, Error, ObjectPath, ObjectStore};

use super::Outcome;

/// `ObjectPath::parse` rejects only the empty key and keys over 1,024 bytes, with
/// `InvalidPath` carrying the key and a reason, and keeps every other key byte for byte:
/// empty, `.` and `..` segments, control characters and spaces at either end included
/// (keys are the provider's; see [`super::awkward_keys`] for what each store does with them).
///
/// Pure: the store is not touched. It is in the suite because every store relies on it.
pub async fn invalid_paths(store: &Arc<dyn ObjectStore>) -> Outcome {
    let _ = store;
    let long = "k".repeat(MAX_KEY_BYTES + 1);
    for key in ["", long.as_str()] {
        match ObjectPath::parse(key) {
            Ok(p) => panic!("ObjectPath::parse({key:?}): expected InvalidPath, got the path {p:?}"),
            Err(Error::InvalidPath { path, reason }) => {
                let shown: String = key.chars().take(path.chars().count()).collect();
                assert!(
                    path == shown && !reason.is_empty(),
                    "ObjectPath::parse({key:?}): expected InvalidPath naming the key with a reason, got path {path:?}, reason {reason:?}"
                );
            }
            Err(e) => panic!("ObjectPath::parse({key:?}): expected InvalidPath, got {:?} error: {e}", e.kind()),
        }
    }
    let longest = "k".repeat(MAX_KEY_BYTES);
    for key in [
        "a",
        "a/b/c",
        "...",
        "a..b",
        ".hidden",
        "sp ace",
        "100%+#?=&;",
        "日本語/ß",
        "/",
        "/a",
        "a/",
        "a//b",
        ".",
        "..",
        "./a",
        "a/.",
        "a/./b",
        "a/../b",
        "../escape",
        "a\0b",
        "a\nb",
        "a\rb",
        "tab\there",
        "del\u{7f}",
        "c1\u{85}",
        " both ",
        longest.as_str(),
    ] {
        match ObjectPath::parse(key) {
            Ok(p) => assert_eq!(p.as_str(), key, "ObjectPath::parse({key:?}): expected the key kept as is"),
            Err(e) => panic!("ObjectPath::parse({key:?}): expected a valid path, got {e}"),
        }
    }
    Outcome::Passed
}
