//! Helpers shared by the behaviours: keys, content, and assertions that say what was
//! expected and what came back.

use std::fmt::{Debug, Display};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use ferryboat_core::{
    Error, ErrorKind, GetOptions, ListOptions, ObjectMeta, ObjectPath, ObjectStore, ObjectStoreExt, Result,
};
use futures::stream::{StreamExt, TryStreamExt};

pub(crate) const MIB: usize = 1024 * 1024;

/// Clock difference tolerated between this machine and the store's servers.
const CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// `conformance/<behaviour>`, the directory a behaviour owns.
pub(crate) fn base(behaviour: &str) -> ObjectPath {
    path(&format!("conformance/{behaviour}"))
}

/// `conformance/<behaviour>/<rest>`.
pub(crate) fn key(behaviour: &str, rest: &str) -> ObjectPath {
    path(&format!("conformance/{behaviour}/{rest}"))
}

/// Parses a key the suite itself wrote down; a rejection is a bug in the suite or in
/// `ObjectPath`, reported as such.
pub(crate) fn path(key: &str) -> ObjectPath {
    match ObjectPath::parse(key) {
        Ok(p) => p,
        Err(e) => panic!("the suite's own key {key:?} was rejected: {e}"),
    }
}

/// `len` bytes that never repeat a pattern (so an offset or part-order bug cannot hide),
/// the same for the same `seed` on every run.
pub(crate) fn content(len: usize, seed: u64) -> Bytes {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        // splitmix64
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(len);
    out.into()
}

/// The value, or a panic naming the operation and the error.
pub(crate) fn must<T>(result: Result<T>, what: impl Display) -> T {
    match result {
        Ok(v) => v,
        Err(e) => panic!("{what}: expected success, got {:?} error: {e}", e.kind()),
    }
}

/// The error, or a panic naming the operation, the kind expected and what came back.
pub(crate) fn must_fail<T: Debug>(result: Result<T>, kind: ErrorKind, what: impl Display) -> Error {
    match result {
        Ok(v) => panic!("{what}: expected {kind:?}, got success: {v:?}"),
        Err(e) if e.kind() == kind => e,
        Err(e) => panic!("{what}: expected {kind:?}, got {:?}: {e}", e.kind()),
    }
}

/// Asserts that an error names `key` (in its path field and in its message).
pub(crate) fn assert_names(err: &Error, key: &ObjectPath, what: impl Display) {
    let in_path = err.path().is_some_and(|p| p.contains(key.as_str()));
    assert!(
        in_path && err.to_string().contains(key.as_str()),
        "{what}: expected the error to name the key {key:?} (path field and message), got path {:?}, message {err}",
        err.path()
    );
}

/// Compares bytes without dumping megabytes into the message.
pub(crate) fn assert_bytes(got: &[u8], expected: &[u8], what: impl Display) {
    if got == expected {
        return;
    }
    let first = got.iter().zip(expected).position(|(a, b)| a != b);
    match first {
        Some(i) => {
            panic!("{what}: expected {} bytes, got {} bytes differing first at offset {i}", expected.len(), got.len())
        }
        None => {
            panic!("{what}: expected {} bytes, got {} bytes (a prefix of one is the other)", expected.len(), got.len())
        }
    }
}

/// Reads the whole object, streaming, and checks bytes, size and the range served.
pub(crate) async fn assert_object(
    store: &Arc<dyn ObjectStore>,
    path: &ObjectPath,
    expected: &[u8],
    what: impl Display,
) -> ObjectMeta {
    let result = must(store.get(path).await, format_args!("{what}: get {path}"));
    let len = expected.len() as u64;
    assert_eq!(result.meta.size, len, "{what}: get {path}: expected meta.size {len}, got {}", result.meta.size);
    assert_eq!(result.range, 0..len, "{what}: get {path}: expected range 0..{len}, got {:?}", result.range);
    let mut body = result.body;
    let mut offset = 0usize;
    while let Some(chunk) = body.next().await {
        let chunk = must(chunk, format_args!("{what}: reading the body of {path} at offset {offset}"));
        let end = offset + chunk.len();
        assert!(end <= expected.len(), "{what}: get {path}: expected {len} bytes, the body ran past {end}");
        assert_bytes(&chunk, &expected[offset..end], format_args!("{what}: get {path}, chunk at offset {offset}"));
        offset = end;
    }
    assert_eq!(offset, expected.len(), "{what}: get {path}: expected {len} bytes, the body ended at {offset}");
    result.meta
}

/// Reads with `opts` and collects the body.
pub(crate) async fn get_bytes(
    store: &Arc<dyn ObjectStore>,
    path: &ObjectPath,
    opts: GetOptions,
    what: impl Display,
) -> (std::ops::Range<u64>, u64, Bytes) {
    let result = must(store.get_opts(path, opts).await, &what);
    let (range, size) = (result.range.clone(), result.meta.size);
    (range, size, must(result.bytes().await, format_args!("{what}: reading the body")))
}

/// Asserts a timestamp is plausible for something written at or after `written_after`.
pub(crate) fn assert_recent(t: SystemTime, written_after: SystemTime, what: impl Display) {
    let earliest = written_after - CLOCK_SKEW;
    let latest = SystemTime::now() + CLOCK_SKEW;
    assert!(
        t >= earliest && t <= latest,
        "{what}: expected last_modified within {CLOCK_SKEW:?} of the write, got {t:?} (written after {written_after:?})"
    );
}

/// Everything a listing yields, failing on the first error.
pub(crate) async fn list_all(store: &Arc<dyn ObjectStore>, opts: ListOptions, what: impl Display) -> Vec<ObjectMeta> {
    must(store.list_opts(opts).try_collect().await, format_args!("{what}: listing"))
}

/// Keys of a listing, as strings (for readable messages).
pub(crate) fn keys(metas: &[ObjectMeta]) -> Vec<&str> {
    metas.iter().map(|m| m.path.as_str()).collect()
}

/// Removes every object under the behaviour's prefix.
pub(crate) async fn clean(store: &Arc<dyn ObjectStore>, behaviour: &str) {
    let prefix = base(behaviour);
    // Collected first: deleting under a walk in progress is not something every store's
    // listing promises to survive, and the suite should test one thing at a time.
    let found =
        list_all(store, ListOptions { prefix: Some(prefix.clone()), offset: None, ..Default::default() }, "cleanup")
            .await;
    let paths = futures::stream::iter(found.into_iter().map(|m| Ok(m.path))).boxed();
    let deleted: Vec<ObjectPath> =
        must(store.delete_stream(paths).try_collect().await, format_args!("cleanup of {prefix}: delete_stream"));
    drop(deleted);
    // Abandoned multipart uploads too, where the store can list them.
    if store.capabilities().pending_uploads {
        if let Ok(pending) = store.list_pending_uploads(Some(&prefix)).await {
            for upload in pending {
                must(store.abort_pending_upload(&upload).await, format_args!("cleanup: abort {}", upload.upload_id));
            }
        }
    }
}

/// Writes `data` at `path` unconditionally, failing with a message.
pub(crate) async fn put(store: &Arc<dyn ObjectStore>, path: &ObjectPath, data: Bytes) -> ferryboat_core::PutResult {
    must(store.put(path, data).await, format_args!("put {path}"))
}
