//! The OpenDAL bridge over OpenDAL's own memory and local-filesystem services.

use ferryboat_compat::FromOperator;
use ferryboat_core::{
    CopyMode, CopyOptions, Error, GetOptions, GetRange, Jurisdiction, ObjectPath, ObjectStore, ObjectStoreExt, PutMode,
    PutOptions, StoreInfo,
};
use futures::TryStreamExt;
use opendal::{services, Operator};
use tempfile::TempDir;

const MIB: usize = 1024 * 1024;

/// Keys whose byte order differs from a naive per-directory order: `a-c` < `a/b` < `a0`
/// because `-` < `/` < `0`.
const KEYS: &[&str] = &["a-c", "a/b", "a/b c/d", "a0", "b/deep/er/x", "b/é", "sp ace", "z%20+", "+plus", "ü/ñ", "100%"];

fn key(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap()
}

fn memory() -> FromOperator {
    FromOperator::new(Operator::new(services::Memory::default()).unwrap())
}

/// A local directory, with atomic writes so that objects appear only once complete.
fn fs() -> (FromOperator, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let tmp = dir.path().join("tmp");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&tmp).unwrap();
    let builder = services::Fs::default().root(root.to_str().unwrap()).atomic_write_dir(tmp.to_str().unwrap());
    (FromOperator::new(Operator::new(builder).unwrap()), dir)
}

/// Both services; the directory lives as long as the returned guard.
fn stores() -> (Vec<FromOperator>, TempDir) {
    let (fs, dir) = fs();
    (vec![memory(), fs], dir)
}

async fn keys_of(
    s: futures::stream::BoxStream<'static, ferryboat_core::Result<ferryboat_core::ObjectMeta>>,
) -> Vec<String> {
    s.map_ok(|m| m.path.to_string()).try_collect().await.unwrap()
}

#[tokio::test]
async fn listings_are_in_byte_order_and_offsets_are_exclusive() {
    let (stores, _dir) = stores();
    let mut sorted: Vec<String> = KEYS.iter().map(|k| k.to_string()).collect();
    sorted.sort();
    for store in stores {
        let name = &store.info().provider;
        for k in KEYS.iter().rev() {
            store.put(&key(k), k.to_string().into()).await.unwrap();
        }
        let listed = keys_of(store.list(None)).await;
        assert_eq!(listed, sorted, "{name}");

        // Every listed key as the offset, and offsets that are not keys (a directory, a
        // prefix of a key, a key before all others).
        let mut offsets: Vec<String> = sorted.clone();
        offsets.extend(["a", "a/b c", "b/deep", "!"].map(String::from));
        for o in offsets {
            let after = keys_of(store.list_from(None, &key(&o))).await;
            let expected: Vec<String> = sorted.iter().filter(|k| k.as_str() > o.as_str()).cloned().collect();
            assert_eq!(after, expected, "{name}: offset {o}");
        }

        assert_eq!(keys_of(store.list(Some(&key("b")))).await, ["b/deep/er/x", "b/é"], "{name}");
        assert_eq!(keys_of(store.list(Some(&key("a/b c")))).await, ["a/b c/d"], "{name}");
        assert!(keys_of(store.list(Some(&key("nothing-here")))).await.is_empty(), "{name}");

        let level = store.list_with_delimiter(None).await.unwrap();
        let objects: Vec<&str> = level.objects.iter().map(|m| m.path.as_str()).collect();
        let dirs: Vec<&str> = level.common_prefixes.iter().map(|p| p.as_str()).collect();
        assert_eq!(objects, ["+plus", "100%", "a-c", "a0", "sp ace", "z%20+"], "{name}");
        assert_eq!(dirs, ["a", "b", "ü"], "{name}");
        let listed_meta: Vec<_> = store.list(Some(&key("b"))).try_collect().await.unwrap();
        assert_eq!(listed_meta[1].size, "b/é".len() as u64, "{name}: listings carry sizes");
    }
}

#[tokio::test]
async fn round_trips_ranges_and_missing_keys() {
    let (stores, _dir) = stores();
    for store in stores {
        let name = store.info().provider.clone();
        let body: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        store.put(&key("dir/data.bin"), body.clone().into()).await.unwrap();
        store.put(&key("empty"), bytes::Bytes::new()).await.unwrap();

        assert_eq!(store.get(&key("dir/data.bin")).await.unwrap().bytes().await.unwrap(), body, "{name}");
        let empty = store.get(&key("empty")).await.unwrap();
        assert_eq!(empty.meta.size, 0, "{name}");
        assert!(empty.bytes().await.unwrap().is_empty(), "{name}");
        assert_eq!(store.head(&key("dir/data.bin")).await.unwrap().size, 10_000, "{name}");

        assert_eq!(store.get_range(&key("dir/data.bin"), 100..300).await.unwrap(), body[100..300], "{name}");
        for (range, want) in [
            (GetRange::Offset(9_990), &body[9_990..]),
            (GetRange::Suffix(7), &body[9_993..]),
            (GetRange::Bounded(9_000..20_000), &body[9_000..]),
        ] {
            let opts = GetOptions { range: Some(range.clone()), ..Default::default() };
            let got = store.get_opts(&key("dir/data.bin"), opts).await.unwrap();
            assert_eq!(got.meta.size, 10_000, "{name}: {range:?}");
            assert_eq!(got.bytes().await.unwrap(), want, "{name}: {range:?}");
        }
        for range in [GetRange::Offset(10_000), GetRange::Bounded(5..5), GetRange::Suffix(1)] {
            let target = if matches!(range, GetRange::Suffix(_)) { "empty" } else { "dir/data.bin" };
            let opts = GetOptions { range: Some(range.clone()), ..Default::default() };
            let err = store.get_opts(&key(target), opts).await.unwrap_err();
            assert!(matches!(err, Error::InvalidRange { .. }), "{name}: {range:?}: {err}");
        }

        for missing in ["nope", "dir/nope", "dir"] {
            let err = store.get(&key(missing)).await.unwrap_err();
            assert!(matches!(err, Error::NotFound { .. }), "{name}: {missing}: {err}");
            let err = store.head(&key(missing)).await.unwrap_err();
            assert!(matches!(err, Error::NotFound { .. }), "{name}: {missing}: {err}");
        }
        assert!(!store.exists(&key("dir")).await.unwrap(), "{name}: a directory is not an object");

        store.delete(&key("dir/data.bin")).await.unwrap();
        store.delete(&key("dir/data.bin")).await.unwrap();
        store.delete(&key("never-was")).await.unwrap();
        assert!(matches!(store.get(&key("dir/data.bin")).await, Err(Error::NotFound { .. })), "{name}");
        assert_eq!(keys_of(store.list(None)).await, ["empty"], "{name}");
    }
}

#[tokio::test]
async fn create_only_writes_and_keys_opendal_would_rewrite() {
    let (stores, _dir) = stores();
    for store in stores {
        let name = store.info().provider.clone();
        assert!(store.capabilities().put_if_not_exists, "{name}");
        store.put_if_not_exists(&key("once"), "first".into()).await.unwrap();
        let err = store.put_if_not_exists(&key("once"), "second".into()).await.unwrap_err();
        assert!(matches!(err, Error::AlreadyExists { .. }), "{name}: {err}");
        assert_eq!(store.get(&key("once")).await.unwrap().bytes().await.unwrap(), "first", "{name}");

        // OpenDAL normalises paths: " x" would silently become "x", "/x" and "a//x" lose a
        // slash, "a/" is a directory, and a file service resolves dot segments.
        for bad in [" lead", "trail ", "d/x\u{a0}", "/lead", "a//x", "a/", "./x", "a/../once"] {
            let err = store.put(&key(bad), "x".into()).await.unwrap_err();
            assert!(matches!(err, Error::InvalidPath { .. }), "{name}: {bad:?}: {err}");
        }
        assert_eq!(keys_of(store.list(None)).await, ["once"], "{name}: nothing else was written");

        // Unsupported conditions are refused, not ignored.
        let caps = store.capabilities().clone();
        assert!(!caps.put_if_match && !caps.get_conditions, "{name}");
        let update = PutMode::Update(ferryboat_core::UpdateVersion { etag: Some("x".into()), version: None });
        let err = store.put_opts(&key("once"), "third".into(), update.into()).await.unwrap_err();
        assert!(matches!(err, Error::NotSupported { .. }), "{name}: {err}");
        let opts = GetOptions { if_none_match: Some("*".into()), ..Default::default() };
        let err = store.get_opts(&key("once"), opts).await.unwrap_err();
        assert!(matches!(err, Error::NotSupported { .. }), "{name}: {err}");
        assert_eq!(store.get(&key("once")).await.unwrap().bytes().await.unwrap(), "first", "{name}");
    }
}

#[tokio::test]
async fn content_type_is_kept_where_the_service_keeps_it_and_refused_elsewhere() {
    let opts = PutOptions { content_type: Some("text/plain".into()), ..Default::default() };
    let mem = memory();
    assert!(mem.capabilities().content_type);
    mem.put_opts(&key("t.txt"), "hi".into(), opts.clone()).await.unwrap();
    assert_eq!(mem.head(&key("t.txt")).await.unwrap().content_type.as_deref(), Some("text/plain"));

    let (fs, _dir) = fs();
    assert!(!fs.capabilities().content_type);
    let err = fs.put_opts(&key("t.txt"), "hi".into(), opts).await.unwrap_err();
    assert!(matches!(err, Error::NotSupported { .. }), "{err}");
    assert!(!fs.exists(&key("t.txt")).await.unwrap());
}

#[tokio::test]
async fn multipart_parts_sent_out_of_order_land_in_order() {
    let (fs, _dir) = fs();
    assert!(fs.capabilities().multipart);
    let parts = [vec![1u8; 3 * MIB], vec![2u8; 2 * MIB], vec![3u8; MIB]];
    let upload = fs.put_multipart(&key("big/six")).await.unwrap();
    let p3 = upload.put_part(3, parts[2].clone().into()).await.unwrap();
    let p1 = upload.put_part(1, parts[0].clone().into()).await.unwrap();
    assert!(!fs.exists(&key("big/six")).await.unwrap(), "nothing visible before complete");
    let p2 = upload.put_part(2, parts[1].clone().into()).await.unwrap();
    let err = upload.put_part(2, parts[1].clone().into()).await.unwrap_err();
    assert!(matches!(err, Error::NotSupported { .. }), "{err}");
    upload.complete(vec![p1, p2, p3]).await.unwrap();
    let got = fs.get(&key("big/six")).await.unwrap().bytes().await.unwrap();
    assert_eq!(got.len(), 6 * MIB);
    assert_eq!(got, parts.concat());

    // A part never sent: complete fails and leaves no object.
    let upload = fs.put_multipart(&key("big/gap")).await.unwrap();
    let p1 = upload.put_part(1, parts[0].clone().into()).await.unwrap();
    let p3 = upload.put_part(3, parts[2].clone().into()).await.unwrap();
    assert!(upload.complete(vec![p1, p3]).await.is_err());
    assert!(!fs.exists(&key("big/gap")).await.unwrap());

    // The memory service writes in one call only: no multipart, said up front.
    let mem = memory();
    assert!(!mem.capabilities().multipart);
    let err = mem.put_multipart(&key("big")).await.unwrap_err();
    assert!(matches!(err, Error::NotSupported { .. }), "{err}");
}

#[tokio::test]
async fn copy_and_rename_follow_the_service() {
    let (fs, _dir) = fs();
    fs.put(&key("src"), "bytes".into()).await.unwrap();
    fs.copy(&key("src"), &key("copied/dst")).await.unwrap();
    assert_eq!(fs.get(&key("copied/dst")).await.unwrap().bytes().await.unwrap(), "bytes");
    assert!(!fs.capabilities().copy_if_not_exists);
    let err = fs.copy_if_not_exists(&key("src"), &key("other")).await.unwrap_err();
    assert!(matches!(err, Error::NotSupported { .. }), "{err}");
    let err = fs.copy(&key("missing"), &key("x")).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");

    assert!(fs.capabilities().rename);
    fs.rename(&key("src"), &key("moved/here")).await.unwrap();
    assert!(!fs.exists(&key("src")).await.unwrap());
    assert_eq!(fs.get(&key("moved/here")).await.unwrap().bytes().await.unwrap(), "bytes");

    let mem = memory();
    mem.put(&key("src"), "bytes".into()).await.unwrap();
    assert!(!mem.capabilities().copy);
    let err = mem.copy_opts(&key("src"), &key("dst"), CopyOptions { mode: CopyMode::Overwrite }).await.unwrap_err();
    assert!(matches!(err, Error::NotSupported { .. }), "{err}");
}

#[tokio::test]
async fn info_names_the_service_and_leaves_jurisdiction_to_the_caller() {
    let mem = memory();
    assert_eq!(mem.info().provider, "opendal:memory");
    assert_eq!(mem.info().jurisdiction, Jurisdiction::Other("UNKNOWN".into()));
    let mine = memory().with_info(StoreInfo::new("my-disk", "My disk", Jurisdiction::SelfHosted));
    assert_eq!(mine.info().jurisdiction, Jurisdiction::SelfHosted);
    let err = mine.get(&key("nope")).await.unwrap_err();
    assert_eq!(err.provider(), Some("my-disk"), "errors name the provider set by with_info");
}

#[tokio::test]
async fn sorted_listing_mode_checks_the_order_it_trusts() {
    // The memory service lists recursively in key order, so the native listing may be used.
    let store = memory().with_sorted_listing(true);
    for k in KEYS {
        store.put(&key(k), "x".into()).await.unwrap();
    }
    let mut sorted: Vec<String> = KEYS.iter().map(|k| k.to_string()).collect();
    sorted.sort();
    let listed: Vec<String> = store.list(None).map_ok(|m| m.path.to_string()).try_collect().await.unwrap();
    assert_eq!(listed, sorted);
    let after: Vec<String> =
        store.list_from(None, &key("a/b")).map_ok(|m| m.path.to_string()).try_collect().await.unwrap();
    assert_eq!(after, sorted[sorted.iter().position(|k| k == "a/b").unwrap() + 1..].to_vec());
}

/// Runs each behaviour of the conformance suite on its own, so that one failure does not
/// hide the others, and returns the failures with their messages.
async fn conformance(store: std::sync::Arc<dyn ObjectStore>) -> Vec<(&'static str, String)> {
    let report = ferryboat_testkit::suite::run_except(&store, &[]).await;
    report.failures().into_iter().map(|(name, message)| (name, message.to_string())).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn conformance_suite_over_memory() {
    let failed = conformance(std::sync::Arc::new(memory())).await;
    // OpenDAL's memory service records no modification time (heads say the Unix epoch), so
    // round_trip's "last_modified is recent" cannot hold. Everything else must.
    let unexpected: Vec<_> =
        failed.iter().filter(|(b, msg)| !(*b == "round_trip" && msg.contains("last_modified"))).collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn conformance_suite_over_fs() {
    let (fs, _dir) = fs();
    // With `atomic_write_dir` (needed so that unfinished uploads stay invisible and can be
    // aborted), OpenDAL's fs checks `if_not_exists` and then renames: not atomic.
    let mut caps = fs.capabilities().clone();
    caps.put_if_not_exists = false;
    let fs = fs.with_capabilities(caps);
    let failed = conformance(std::sync::Arc::new(fs)).await;
    assert!(failed.is_empty(), "{failed:#?}");
}
