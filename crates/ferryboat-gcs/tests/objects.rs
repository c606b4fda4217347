//! Object operations against fake-gcs-server: writes, reads, conditions, copies, deletes.

mod common;

use bytes::Bytes;
use ferryboat_core::{
    Error, GetOptions, GetRange, ObjectPath, ObjectStore, ObjectStoreExt, PutMode, PutOptions, UpdateVersion,
};
use futures::{StreamExt, TryStreamExt};

fn key(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap()
}

#[tokio::test]
async fn round_trip_keeps_bytes_type_and_metadata() {
    let Some(store) = common::fresh_store("round_trip_keeps_bytes_type_and_metadata").await else { return };
    let k = key("docs/report.txt");
    let mut opts = PutOptions { content_type: Some("text/plain; charset=utf-8".into()), ..Default::default() };
    opts.metadata.insert("owner".into(), "ops team".into());
    opts.metadata.insert("trace".into(), "a=b&c".into());
    let put = store.put_opts(&k, Bytes::from_static(b"bonjour le monde"), opts).await.unwrap();
    assert!(put.version.as_deref().is_some_and(|v| v.parse::<u64>().is_ok()), "{put:?}");
    assert!(put.etag.is_some());

    let got = store.get(&k).await.unwrap();
    assert_eq!(got.meta.content_type.as_deref(), Some("text/plain; charset=utf-8"));
    assert_eq!(got.meta.metadata.get("owner").map(String::as_str), Some("ops team"));
    assert_eq!(got.meta.metadata.get("trace").map(String::as_str), Some("a=b&c"));
    assert_eq!(got.meta.version, put.version);
    assert_eq!(got.bytes().await.unwrap(), "bonjour le monde");

    let head = store.head(&k).await.unwrap();
    assert_eq!(head.size, 16);
    assert_eq!(head.etag, put.etag);
    assert!(head.last_modified > std::time::SystemTime::UNIX_EPOCH);
}

#[tokio::test]
async fn awkward_keys_are_escaped_not_mangled() {
    let Some(store) = common::fresh_store("awkward_keys_are_escaped_not_mangled").await else { return };
    let keys = [
        "unicode/日本語/café ß.txt",
        "spaces in/a key",
        "pct/100%.txt",
        "pct/%2F not a slash",
        "plus/a+b",
        "hash/#1",
        "query/what?x=1&y=2",
        "mix/ +%#?;=@$,:!'()[]~",
    ];
    for (i, k) in keys.iter().enumerate() {
        store.put(&key(k), Bytes::from(format!("body {i}"))).await.unwrap();
    }
    for (i, k) in keys.iter().enumerate() {
        let got = store.get(&key(k)).await.unwrap();
        assert_eq!(got.meta.path.as_str(), *k);
        assert_eq!(got.bytes().await.unwrap(), format!("body {i}"), "{k}");
    }
    let listed: Vec<String> = store.list(None).map_ok(|m| m.path.into_string()).try_collect().await.unwrap();
    let mut expected: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    expected.sort();
    assert_eq!(listed, expected);
    // `pct/%2F not a slash` must not have been read as `pct// not a slash` or `pct/` + dir.
    let level = store.list_with_delimiter(Some(&key("pct"))).await.unwrap();
    assert!(level.common_prefixes.is_empty(), "{level:?}");
    assert_eq!(level.objects.len(), 2);
    for k in keys {
        store.delete(&key(k)).await.unwrap();
        assert!(!store.exists(&key(k)).await.unwrap(), "{k}");
    }
}

#[tokio::test]
async fn create_only_writes_lose_nothing() {
    let Some(store) = common::fresh_store("create_only_writes_lose_nothing").await else { return };
    let k = key("lock");
    store.put_if_not_exists(&k, "first".into()).await.unwrap();
    let err = store.put_if_not_exists(&k, "second".into()).await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { ref path, .. } if path == "lock"), "{err}");
    assert_eq!(store.get(&k).await.unwrap().bytes().await.unwrap(), "first");
}

#[tokio::test]
async fn concurrent_creators_have_one_winner() {
    let Some(store) = common::fresh_store("concurrent_creators_have_one_winner").await else { return };
    let k = key("leader");
    let attempts = (0..8).map(|i| {
        let store = store.clone();
        let k = k.clone();
        async move { store.put_if_not_exists(&k, Bytes::from(format!("writer {i}"))).await }
    });
    let results = futures::future::join_all(attempts).await;
    let winners = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(winners, 1, "{results:?}");
    assert!(results.iter().all(|r| r.is_ok() || matches!(r, Err(Error::AlreadyExists { .. }))), "{results:?}");
}

#[tokio::test]
async fn updates_compare_and_swap_on_generation_or_etag() {
    let Some(store) = common::fresh_store("updates_compare_and_swap_on_generation_or_etag").await else { return };
    let k = key("counter");
    let v1 = store.put(&k, "1".into()).await.unwrap();
    let v2 = store.put_opts(&k, "2".into(), PutMode::Update((&v1).into()).into()).await.unwrap();
    assert_ne!(v1.version, v2.version);

    // The first version is gone: swapping against it must fail and keep "2".
    let err = store.put_opts(&k, "3".into(), PutMode::Update((&v1).into()).into()).await.unwrap_err();
    assert!(matches!(err, Error::Precondition { .. }), "{err}");
    assert_eq!(store.get(&k).await.unwrap().bytes().await.unwrap(), "2");

    // By etag alone (what a caller that only kept the etag has).
    let by_etag = UpdateVersion { etag: v2.etag.clone(), version: None };
    let v3 = store.put_opts(&k, "3".into(), PutMode::Update(by_etag.clone()).into()).await.unwrap();
    if v3.etag != v2.etag {
        let err = store.put_opts(&k, "4".into(), PutMode::Update(by_etag).into()).await.unwrap_err();
        assert!(matches!(err, Error::Precondition { .. }), "{err}");
    }
    assert_eq!(store.get(&k).await.unwrap().bytes().await.unwrap(), "3");

    // Updating a missing object is a failed precondition, not a create.
    let gone = key("never-written");
    let err = store.put_opts(&gone, "x".into(), PutMode::Update((&v3).into()).into()).await.unwrap_err();
    assert!(matches!(err, Error::Precondition { .. }), "{err}");
    assert!(!store.exists(&gone).await.unwrap());

    let bad = UpdateVersion { etag: None, version: Some("not-a-generation".into()) };
    let err = store.put_opts(&k, "x".into(), PutMode::Update(bad).into()).await.unwrap_err();
    assert!(matches!(err, Error::Precondition { .. }), "{err}");
}

#[tokio::test]
async fn ranged_reads_serve_exactly_the_bytes_asked() {
    let Some(store) = common::fresh_store("ranged_reads_serve_exactly_the_bytes_asked").await else { return };
    let k = key("digits");
    store.put(&k, "0123456789".into()).await.unwrap();
    assert_eq!(store.get_range(&k, 2..5).await.unwrap(), "234");
    assert_eq!(store.get_range(&k, 7..100).await.unwrap(), "789");
    let get = |r: GetRange| {
        let store = store.clone();
        let k = k.clone();
        async move { store.get_opts(&k, GetOptions { range: Some(r), ..Default::default() }).await }
    };
    let tail = get(GetRange::Suffix(3)).await.unwrap();
    assert_eq!(tail.range, 7..10);
    assert_eq!(tail.meta.size, 10);
    assert_eq!(tail.bytes().await.unwrap(), "789");
    assert_eq!(get(GetRange::Offset(8)).await.unwrap().bytes().await.unwrap(), "89");
    let err = get(GetRange::Offset(10)).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRange { .. }), "{err}");

    let empty = key("empty");
    store.put(&empty, Bytes::new()).await.unwrap();
    let got = store.get(&empty).await.unwrap();
    assert_eq!(got.meta.size, 0);
    assert!(got.bytes().await.unwrap().is_empty());

    let err = store.get(&key("missing")).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { ref path, .. } if path == "missing"), "{err}");
}

#[tokio::test]
async fn large_bodies_stream_in_chunks() {
    let Some(store) = common::fresh_store("large_bodies_stream_in_chunks").await else { return };
    let k = key("big.bin");
    let data: Vec<u8> = (0..6 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    store.put(&k, Bytes::from(data.clone())).await.unwrap();
    let got = store.get(&k).await.unwrap();
    let mut chunks = 0;
    let mut seen = Vec::with_capacity(data.len());
    let mut body = got.body;
    while let Some(chunk) = body.next().await {
        seen.extend_from_slice(&chunk.unwrap());
        chunks += 1;
    }
    assert!(chunks > 1, "the body arrived as one buffer");
    assert!(seen == data, "streamed body differs");
}

#[tokio::test]
async fn read_conditions_are_honoured() {
    let Some(store) = common::fresh_store("read_conditions_are_honoured").await else { return };
    let k = key("cond");
    let put = store.put(&k, "v1".into()).await.unwrap();
    let etag = put.etag.clone().unwrap();
    let ok = GetOptions { if_match: Some(etag.clone()), ..Default::default() };
    assert_eq!(store.get_opts(&k, ok).await.unwrap().bytes().await.unwrap(), "v1");
    let wrong = GetOptions { if_match: Some("\"nope\"".into()), ..Default::default() };
    assert!(matches!(store.get_opts(&k, wrong).await.unwrap_err(), Error::Precondition { .. }));
    let same = GetOptions { if_none_match: Some(etag.clone()), ..Default::default() };
    assert!(matches!(store.get_opts(&k, same).await.unwrap_err(), Error::NotModified { .. }));
    let future = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    let unchanged = GetOptions { if_modified_since: Some(future), ..Default::default() };
    assert!(matches!(store.get_opts(&k, unchanged).await.unwrap_err(), Error::NotModified { .. }));
    // A specific generation can be read while it is current.
    let pinned = GetOptions { version: put.version.clone(), ..Default::default() };
    assert_eq!(store.get_opts(&k, pinned).await.unwrap().bytes().await.unwrap(), "v1");
}

#[tokio::test]
async fn copies_are_server_side_and_can_refuse_to_overwrite() {
    let Some(store) = common::fresh_store("copies_are_server_side_and_can_refuse_to_overwrite").await else { return };
    let (a, b) = (key("src/a b+.txt"), key("dst/copy #1"));
    let mut opts = PutOptions { content_type: Some("text/csv".into()), ..Default::default() };
    opts.metadata.insert("k".into(), "v".into());
    store.put_opts(&a, "payload".into(), opts).await.unwrap();
    store.copy(&a, &b).await.unwrap();
    let got = store.get(&b).await.unwrap();
    assert_eq!(got.meta.content_type.as_deref(), Some("text/csv"));
    assert_eq!(got.meta.metadata.get("k").map(String::as_str), Some("v"));
    assert_eq!(got.bytes().await.unwrap(), "payload");

    store.put(&a, "changed".into()).await.unwrap();
    let err = store.copy_if_not_exists(&a, &b).await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { ref path, .. } if path == "dst/copy #1"), "{err}");
    assert_eq!(store.get(&b).await.unwrap().bytes().await.unwrap(), "payload");
    let c = key("dst/new");
    store.copy_if_not_exists(&a, &c).await.unwrap();
    assert_eq!(store.get(&c).await.unwrap().bytes().await.unwrap(), "changed");

    let err = store.copy(&key("nope"), &key("dst/x")).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { ref path, .. } if path == "nope"), "{err}");

    store.rename(&c, &key("dst/renamed")).await.unwrap();
    assert!(!store.exists(&c).await.unwrap());
    assert!(store.exists(&key("dst/renamed")).await.unwrap());
}

#[tokio::test]
async fn deletes_are_idempotent_and_streamed() {
    let Some(store) = common::fresh_store("deletes_are_idempotent_and_streamed").await else { return };
    store.delete(&key("never-there")).await.unwrap();
    let keys: Vec<ObjectPath> = (0..20).map(|i| key(&format!("d/{i:02}"))).collect();
    for k in &keys {
        store.put(k, "x".into()).await.unwrap();
    }
    store.put(&key("keep"), "x".into()).await.unwrap();
    let input = futures::stream::iter(keys.clone().into_iter().map(Ok)).boxed();
    let mut deleted: Vec<ObjectPath> = store.delete_stream(input).try_collect().await.unwrap();
    deleted.sort();
    assert_eq!(deleted, keys);
    let left: Vec<ObjectPath> = store.list(None).map_ok(|m| m.path).try_collect().await.unwrap();
    assert_eq!(left, vec![key("keep")]);
}

#[tokio::test]
async fn reserved_upload_prefix_is_refused() {
    let Some(store) = common::fresh_store("reserved_upload_prefix_is_refused").await else { return };
    let err = store.put(&key(".ferry-uploads/x/p00001"), "x".into()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidPath { .. }), "{err}");
}

#[tokio::test]
async fn gzip_encoded_objects_are_read_as_stored() {
    let Some(store) = common::fresh_store("gzip_encoded_objects_are_read_as_stored").await else { return };
    // Bytes of `printf 'hello hello hello hello' | gzip -n`: what a tool uploading with
    // `Content-Encoding: gzip` would store. GCS serves them decompressed unless asked not to.
    let stored: &[u8] = &[
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0xc8, 0x40,
        0x27, 0x01, 0xe3, 0x51, 0x3d, 0x8d, 0x17, 0x00, 0x00, 0x00,
    ];
    let endpoint = store.info().endpoint.clone().unwrap();
    let mut body = b"--XX\r\nContent-Type: application/json\r\n\r\n".to_vec();
    body.extend_from_slice(br#"{"name":"page.html","contentType":"text/html","contentEncoding":"gzip"}"#);
    body.extend_from_slice(b"\r\n--XX\r\nContent-Type: text/html\r\n\r\n");
    body.extend_from_slice(stored);
    body.extend_from_slice(b"\r\n--XX--\r\n");
    let resp = reqwest::Client::new()
        .post(format!("{endpoint}/upload/storage/v1/b/{}/o?uploadType=multipart", store.bucket()))
        .header("content-type", "multipart/related; boundary=XX")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let k = key("page.html");
    let got = store.get(&k).await.unwrap();
    assert_eq!(got.meta.size, stored.len() as u64);
    assert_eq!(got.bytes().await.unwrap(), stored);
    assert_eq!(store.get_range(&k, 0..2).await.unwrap(), &stored[..2]);
}

#[tokio::test]
async fn a_missing_object_keeps_the_status() {
    let Some(store) = common::fresh_store("a_missing_object_keeps_the_status").await else { return };
    let err = store.get(&key("not/here")).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(err.status(), Some(404), "{err:?}");
    assert!(!err.is_retryable() && !err.is_throttled(), "{err:?}");
}
