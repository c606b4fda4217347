//! Does a layer forward what it does not change? [`check`] puts a [`CountingStore`] under the
//! layer and proves that batch deletes, renames, listings and presigning reach it as sent:
//! one `delete_stream` carrying every key (not one `delete` per key), one `rename_opts` (not
//! a copy and a delete), one `list_opts`, one `presign`, and a listing of versions and the
//! delete of one version as one call each, with the same versions coming back.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ferryboat_core::{DeleteOptions, ErrorKind, ListOptions, ObjectPath, ObjectStore, ObjectStoreExt, PresignMethod};
use futures::stream::{self, StreamExt, TryStreamExt};

use crate::counting::{CountingStore, Counts};

/// What the layer is meant to forward unchanged; a layer that changes a call on purpose
/// (encryption re-encrypts a renamed object under its new key; a bridge whose library cannot
/// sign) says so here, and the check then proves it does not reach the store below either.
#[derive(Debug, Clone, Copy)]
pub struct Expect {
    /// `rename_opts` reaches the store below as one call.
    pub rename: bool,
    /// `presign` reaches the store below (otherwise the layer answers `NotSupported`).
    pub presign: bool,
    /// A versions listing (`ListOptions::versions`) reaches the store below as one
    /// `list_opts` asking for versions (otherwise the layer answers `NotSupported`).
    pub list_versions: bool,
    /// A delete naming a version reaches the store below as one `delete_opts` naming it
    /// (otherwise the layer answers `NotSupported`).
    pub delete_versions: bool,
}

impl Default for Expect {
    fn default() -> Self {
        Expect { rename: true, presign: true, list_versions: true, delete_versions: true }
    }
}

const KEYS: usize = 10;

/// Builds `wrap(CountingStore(base))` and checks, under `prefix`, that batch deletes,
/// renames, listings, presigning and versions pass through it as [`Expect`] says. `base`
/// must batch deletes of at least ten keys and, unless `expect` says versions are not
/// forwarded, keep versions (a versioned bucket). Panics naming `layer` and what arrived when a call was
/// dropped, split or replaced on the way.
pub async fn check(
    layer: &str,
    base: Arc<dyn ObjectStore>,
    prefix: &str,
    wrap: impl FnOnce(Arc<dyn ObjectStore>) -> Arc<dyn ObjectStore>,
    expect: Expect,
) {
    assert!(base.capabilities().batch_delete_max >= KEYS, "{layer}: the base store must batch deletes");
    let counting = CountingStore::new(base);
    let top = wrap(Arc::new(counting.clone()));
    let key = |i: usize| ObjectPath::parse(format!("{prefix}/k{i:02}")).expect("key");
    let dir = ObjectPath::parse(prefix).expect("prefix");
    for i in 0..KEYS {
        top.put(&key(i), Bytes::from(format!("object {i}"))).await.unwrap_or_else(|e| panic!("{layer}: put: {e}"));
    }

    let before = counting.counts();
    let listed: Vec<_> = top.list(Some(&dir)).map_ok(|m| m.path).try_collect().await.expect("list");
    assert_eq!(listed, (0..KEYS).map(key).collect::<Vec<_>>(), "{layer}: the listing");
    assert_delta(layer, "a listing", &before, &counting.counts(), &[("list_opts", 1)]);

    let before = counting.counts();
    top.rename(&key(KEYS - 1), &key(KEYS)).await.unwrap_or_else(|e| panic!("{layer}: rename: {e}"));
    let renames = usize::from(expect.rename);
    assert_delta(layer, "a rename", &before, &counting.counts(), &[("rename_opts", renames)]);

    let before = counting.counts();
    let doomed: Vec<_> = (0..KEYS - 1).chain([KEYS]).map(|i| Ok(key(i))).collect();
    let mut gone: Vec<_> = top.delete_stream(stream::iter(doomed).boxed()).try_collect().await.expect("delete");
    gone.sort();
    assert_eq!(gone.len(), KEYS, "{layer}: every key answered once: {gone:?}");
    let after = counting.counts();
    assert_delta(layer, "a batch delete", &before, &after, &[("delete_stream", 1), ("delete_stream_keys", KEYS)]);
    assert_eq!(after.get("delete"), before.get("delete"), "{layer}: a batch delete became single deletes");
    let left: Vec<_> = top.list(Some(&dir)).try_collect().await.expect("list");
    assert!(left.is_empty(), "{layer}: left after the batch delete: {left:?}");

    let before = counting.counts();
    let signed = top.presign(PresignMethod::Get, &key(0), Duration::from_secs(60)).await;
    let presigns = usize::from(expect.presign);
    match (&signed, expect.presign) {
        (Ok(_), true) => {}
        (Err(e), false) if e.kind() == ErrorKind::NotSupported => {}
        (other, _) => panic!("{layer}: presign answered {other:?}, expected to be forwarded: {}", expect.presign),
    }
    assert_delta(layer, "a presign", &before, &counting.counts(), &[("presign", presigns)]);

    versions(layer, &counting, top.as_ref(), prefix, expect).await;
}

/// Two versions of one key, listed with their ids and the older one deleted by its id.
async fn versions(layer: &str, counting: &CountingStore, top: &dyn ObjectStore, prefix: &str, expect: Expect) {
    let key = ObjectPath::parse(format!("{prefix}/versioned/k")).expect("key");
    let dir = ObjectPath::parse(format!("{prefix}/versioned")).expect("prefix");
    let put = |body: &'static str| top.put(&key, Bytes::from_static(body.as_bytes()));
    let v1 = put("v1").await.unwrap_or_else(|e| panic!("{layer}: put: {e}")).version;
    let v2 = put("v2").await.unwrap_or_else(|e| panic!("{layer}: put: {e}")).version;

    let before = counting.counts();
    let opts = ListOptions { prefix: Some(dir.clone()), versions: true, ..Default::default() };
    let listed: Result<Vec<_>, _> = top.list_opts(opts.clone()).try_collect().await;
    let arrived = usize::from(expect.list_versions);
    match (&listed, expect.list_versions) {
        (Ok(items), true) => {
            let got: Vec<_> = items.iter().map(|m| (m.path.clone(), m.version.clone(), m.version_info)).collect();
            let info = |latest| Some(ferryboat_core::VersionInfo { latest, delete_marker: false });
            let want = vec![(key.clone(), v2.clone(), info(true)), (key.clone(), v1.clone(), info(false))];
            assert_eq!(got, want, "{layer}: the versions listing");
        }
        (Err(e), false) if e.kind() == ErrorKind::NotSupported => {}
        (other, _) => panic!("{layer}: a versions listing answered {other:?}, expected: {}", expect.list_versions),
    }
    assert_delta(layer, "a versions listing", &before, &counting.counts(), &[("list_opts_versions", arrived)]);

    let before = counting.counts();
    let old = v1.clone().unwrap_or_else(|| "no-version-id".into());
    let deleted = top.delete_opts(&key, DeleteOptions::version(old)).await;
    let arrived = usize::from(expect.delete_versions);
    match (&deleted, expect.delete_versions) {
        (Ok(()), true) => {
            // Seen from the store below where the layer lists no versions (such layers keep
            // keys as they are).
            let lister: &dyn ObjectStore = if expect.list_versions { top } else { counting };
            let left: Vec<_> = lister.list_opts(opts).map_ok(|m| m.version).try_collect().await.expect("versions");
            assert_eq!(left, vec![v2.clone()], "{layer}: after deleting the older version");
        }
        (Err(e), false) if e.kind() == ErrorKind::NotSupported => {}
        (other, _) => panic!("{layer}: a version delete answered {other:?}, expected: {}", expect.delete_versions),
    }
    let after = counting.counts();
    assert_delta(layer, "a version delete", &before, &after, &[("delete_opts_version", arrived)]);
    assert_eq!(after.get("delete"), before.get("delete"), "{layer}: a version delete became a plain delete");
    let current = top.get(&key).await.unwrap_or_else(|e| panic!("{layer}: get: {e}")).bytes().await;
    assert_eq!(current.expect("body"), "v2", "{layer}: the current version");
    top.delete(&key).await.unwrap_or_else(|e| panic!("{layer}: delete: {e}"));
}

fn assert_delta(layer: &str, what: &str, before: &Counts, after: &Counts, expected: &[(&str, usize)]) {
    for (method, n) in expected {
        let got = after.get(method) - before.get(method);
        assert_eq!(got, *n, "{layer}: {what} reached the store below as {got} × {method}, expected {n}");
    }
}
