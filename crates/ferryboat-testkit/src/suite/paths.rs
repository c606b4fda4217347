//! Key validation: the forms no store may be handed.

use std::sync::Arc;

use ferryboat_core::{path::MAX_KEY_BYTES, Error, ObjectPath, ObjectStore};

use super::Outcome;

/// `ObjectPath::parse` rejects empty keys, empty, `.` and `..` segments, control
/// characters and over-long keys with `InvalidPath` carrying the key and a reason, and
/// keeps every other character as is.
///
/// Pure: the store is not touched. It is in the suite because every store relies on it to
/// never see such a key.
pub async fn invalid_paths(store: &Arc<dyn ObjectStore>) -> Outcome {
    let _ = store;
    let long = "k".repeat(MAX_KEY_BYTES + 1);
    let rejected = [
        "",
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
        long.as_str(),
    ];
    for key in rejected {
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
    for key in ["a", "a/b/c", "...", "a..b", ".hidden", "sp ace", "100%+#?=&;", "日本語/ß", longest.as_str()] {
        match ObjectPath::parse(key) {
            Ok(p) => assert_eq!(p.as_str(), key, "ObjectPath::parse({key:?}): expected the key kept as is"),
            Err(e) => panic!("ObjectPath::parse({key:?}): expected a valid path, got {e}"),
        }
    }
    Outcome::Passed
}
