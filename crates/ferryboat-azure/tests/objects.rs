//! Keys and objects users actually have: empty blobs, unicode, spaces, `%`; staged uploads
//! with conditions and access tiers.

mod common;

use ferryboat_core::{
    ErrorKind, ObjectPath, ObjectStore, ObjectStoreExt, PutMode, PutOptions, UpdateVersion, UploadConfig,
};
use futures::{StreamExt, TryStreamExt};

#[tokio::test]
async fn awkward_keys_and_empty_blobs_survive_listing_and_round_trip() {
    let Some(store) = common::fresh_store("awkward_keys_and_empty_blobs_survive").await else { return };
    let keys = [
        "empty",
        "dir with space/file name.txt",
        "percent/100%.txt",
        "percent/%41%2F%25",
        "plus+and=equals&amp;.bin",
        "hash#and?question",
        "unicode/café/日本語/😀.txt",
        "z-last",
    ];
    for (i, k) in keys.iter().enumerate() {
        let data = if i == 0 { bytes::Bytes::new() } else { bytes::Bytes::from(format!("body of {k}")) };
        store.put(&ObjectPath::parse(*k).unwrap(), data).await.unwrap();
    }
    let listed: Vec<String> = store.list(None).map_ok(|m| m.path.to_string()).try_collect().await.unwrap();
    let mut expected: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    expected.sort();
    assert_eq!(listed, expected, "listing returns every key, unaltered, in byte order");

    for (i, k) in keys.iter().enumerate() {
        let path = ObjectPath::parse(*k).unwrap();
        let got = store.get(&path).await.unwrap();
        let want = if i == 0 { String::new() } else { format!("body of {k}") };
        assert_eq!(got.meta.size, want.len() as u64, "{k}");
        assert_eq!(got.bytes().await.unwrap(), want.as_bytes(), "{k}");
    }
    let level = store.list_with_delimiter(Some(&ObjectPath::parse("unicode").unwrap())).await.unwrap();
    assert_eq!(level.common_prefixes, vec![ObjectPath::parse("unicode/café").unwrap()]);
    let percent = store.list(Some(&ObjectPath::parse("percent").unwrap())).try_collect::<Vec<_>>().await.unwrap();
    assert_eq!(percent.len(), 2);
    // An empty blob has an etag and zero length in listings too.
    let empty =
        store.list(None).try_collect::<Vec<_>>().await.unwrap().into_iter().find(|m| m.path.as_str() == "empty");
    let empty = empty.unwrap();
    assert_eq!(empty.size, 0);
    assert!(empty.etag.is_some());
}

#[tokio::test]
async fn staged_uploads_honour_conditions_and_leave_nothing_on_failure() {
    let Some(store) = common::fresh_store("staged_uploads_honour_conditions").await else { return };
    let key = ObjectPath::parse("doc.txt").unwrap();
    let first = store.put(&key, "one".into()).await.unwrap();

    // Update with a stale etag: refused at commit, object unchanged.
    let stale =
        PutOptions::mode(PutMode::Update(UpdateVersion { etag: Some("\"0x8DEADBEEF\"".into()), version: None }));
    let upload = store.put_multipart_opts(&key, stale).await.unwrap();
    let part = upload.put_part(1, "two".into()).await.unwrap();
    let e = upload.complete(vec![part]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Precondition, "{e}");
    assert_eq!(store.get(&key).await.unwrap().bytes().await.unwrap(), "one");

    // Update with the current etag: accepted, and the etag returned is the new one.
    let upload = store.put_multipart_opts(&key, PutMode::Update((&first).into()).into()).await.unwrap();
    let b = upload.put_part(2, "-b".into()).await.unwrap();
    let a = upload.put_part(1, "a".into()).await.unwrap();
    let done = upload.complete(vec![b, a]).await.unwrap();
    let meta = store.head(&key).await.unwrap();
    assert_eq!(meta.etag, done.etag);
    assert_ne!(meta.etag, first.etag);
    assert_eq!(store.get(&key).await.unwrap().bytes().await.unwrap(), "a-b");

    // Update of a key that does not exist is a failed condition, not NotFound.
    let missing = ObjectPath::parse("missing.txt").unwrap();
    let upload = store.put_multipart_opts(&missing, PutMode::Update((&first).into()).into()).await.unwrap();
    let part = upload.put_part(1, "x".into()).await.unwrap();
    assert_eq!(upload.complete(vec![part]).await.unwrap_err().kind(), ErrorKind::Precondition);
    assert_eq!(store.head(&missing).await.unwrap_err().kind(), ErrorKind::NotFound);

    // A single put with a stale etag fails the same way.
    let e = store.put_opts(&key, "z".into(), PutMode::Update((&first).into()).into()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Precondition, "{e}");
}

#[tokio::test]
async fn large_streams_go_up_as_blocks_with_their_tier() {
    let Some(store) = common::fresh_store("large_streams_go_up_as_blocks").await else { return };
    let key = ObjectPath::parse("big/blob.bin").unwrap();
    let total = 20 * 1024 * 1024 + 123;
    let data: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
    let chunks: Vec<ferryboat_core::Result<bytes::Bytes>> =
        data.chunks(1 << 20).map(|c| Ok(bytes::Bytes::copy_from_slice(c))).collect();
    let opts = PutOptions {
        storage_class: Some("Cool".into()),
        content_type: Some("application/x-test".into()),
        ..Default::default()
    };
    let config = UploadConfig { part_size: 4 << 20, concurrency: 4, ..Default::default() };
    let started = std::time::Instant::now();
    store.put_stream(&key, futures::stream::iter(chunks).boxed(), opts, config).await.unwrap();
    let elapsed = started.elapsed();
    println!("uploaded {total} bytes as 4 MiB blocks in {elapsed:?}");

    let got = store.get(&key).await.unwrap();
    assert_eq!(got.meta.content_type.as_deref(), Some("application/x-test"));
    assert_eq!(got.bytes().await.unwrap(), data);
    let tail = store.get_range(&key, (total as u64 - 10)..(total as u64 + 50)).await.unwrap();
    assert_eq!(tail, data[total - 10..]);

    // The tier reached the server: a plain GET of a SAS URL shows it.
    let url = store.signed_url(http::Method::GET, &key, std::time::Duration::from_secs(60)).await.unwrap();
    let resp = reqwest::Client::new().head(url.as_str()).send().await.unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(resp.headers().get("x-ms-access-tier").and_then(|v| v.to_str().ok()), Some("Cool"));

    // An unknown tier is refused by the server, not silently dropped.
    let bad = PutOptions { storage_class: Some("Lukewarm".into()), ..Default::default() };
    let e = store.put_opts(&ObjectPath::parse("t").unwrap(), "x".into(), bad).await.unwrap_err();
    assert!(!matches!(e.kind(), ErrorKind::NotFound), "{e}");
    assert_eq!(store.head(&ObjectPath::parse("t").unwrap()).await.unwrap_err().kind(), ErrorKind::NotFound);
}
