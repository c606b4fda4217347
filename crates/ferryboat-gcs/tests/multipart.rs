//! Multipart uploads (parts composed server-side) against fake-gcs-server.

mod common;

use bytes::Bytes;
use ferryboat_core::{Error, ObjectPath, ObjectStore, ObjectStoreExt, PartInfo, PutMode, PutOptions, UploadConfig};
use futures::{StreamExt, TryStreamExt};

fn key(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap()
}

fn part_bytes(n: u32, len: usize) -> Bytes {
    Bytes::from((0..len).map(|i| (n as usize * 31 + i) as u8).collect::<Vec<u8>>())
}

#[tokio::test]
async fn parts_sent_out_of_order_and_concurrently_assemble_in_order() {
    let Some(store) = common::fresh_store("parts_sent_out_of_order_and_concurrently_assemble_in_order").await else {
        return;
    };
    let k = key("big/out of order.bin");
    let mut opts = PutOptions { content_type: Some("application/x-test".into()), ..Default::default() };
    opts.metadata.insert("origin".into(), "multipart".into());
    let upload = store.put_multipart_opts(&k, opts).await.unwrap();
    // 70 parts: more than one compose request (32 sources) can take, so intermediates are made.
    let numbers: Vec<u32> = (1..=70).rev().collect();
    let parts: Vec<PartInfo> = futures::stream::iter(numbers)
        .map(|n| {
            let upload = &upload;
            async move { upload.put_part(n, part_bytes(n, 1000 + n as usize)).await }
        })
        .buffer_unordered(8)
        .try_collect()
        .await
        .unwrap();
    // Nothing is visible until complete, including the parts.
    assert!(!store.exists(&k).await.unwrap());
    let listed: Vec<_> = store.list(None).try_collect().await.unwrap();
    assert!(listed.is_empty(), "parts leak into listings: {:?}", listed.first());
    assert_eq!(store.list_pending_uploads(None).await.unwrap().len(), 1);

    let result = upload.complete(parts).await.unwrap();
    let expected: Vec<u8> = (1..=70).flat_map(|n| part_bytes(n, 1000 + n as usize).to_vec()).collect();
    let got = store.get(&k).await.unwrap();
    assert_eq!(got.meta.version, result.version);
    assert_eq!(got.meta.content_type.as_deref(), Some("application/x-test"));
    assert_eq!(got.meta.metadata.get("origin").map(String::as_str), Some("multipart"));
    assert!(got.bytes().await.unwrap() == expected, "assembled bytes differ");
    // Parts, intermediates and the marker are gone.
    assert!(store.list_pending_uploads(None).await.unwrap().is_empty());
    let raw = raw_names(&store).await;
    assert_eq!(raw, vec![k.to_string()]);
}

/// Every name in the bucket, reserved ones included, through the plain JSON API.
async fn raw_names(store: &ferryboat_gcs::GcsStore) -> Vec<String> {
    let endpoint = store.info().endpoint.clone().unwrap();
    let url = format!("{endpoint}/storage/v1/b/{}/o", store.bucket());
    let body = reqwest::get(url).await.unwrap().text().await.unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["items"]
        .as_array()
        .map(|a| a.iter().map(|o| o["name"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn create_only_multipart_refuses_an_existing_object_and_cleans_up() {
    let Some(store) = common::fresh_store("create_only_multipart_refuses_an_existing_object_and_cleans_up").await
    else {
        return;
    };
    let k = key("taken");
    store.put(&k, "original".into()).await.unwrap();
    let upload = store.put_multipart_opts(&k, PutMode::Create.into()).await.unwrap();
    let p1 = upload.put_part(1, "new".into()).await.unwrap();
    let err = upload.complete(vec![p1]).await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err}");
    assert_eq!(store.get(&k).await.unwrap().bytes().await.unwrap(), "original");
    assert_eq!(raw_names(&store).await, vec!["taken".to_string()]);

    let fresh = key("fresh");
    let upload = store.put_multipart_opts(&fresh, PutMode::Create.into()).await.unwrap();
    let p1 = upload.put_part(1, "a".into()).await.unwrap();
    upload.complete(vec![p1]).await.unwrap();
    assert_eq!(store.get(&fresh).await.unwrap().bytes().await.unwrap(), "a");
}

#[tokio::test]
async fn aborted_and_crashed_uploads_can_be_found_and_removed() {
    let Some(store) = common::fresh_store("aborted_and_crashed_uploads_can_be_found_and_removed").await else {
        return;
    };
    let aborted = store.put_multipart(&key("dir/a")).await.unwrap();
    aborted.put_part(1, "x".into()).await.unwrap();
    aborted.abort().await.unwrap();
    assert!(raw_names(&store).await.is_empty());

    // A "crash": the upload is dropped with parts on the server.
    let crashed = store.put_multipart(&key("dir/b")).await.unwrap();
    crashed.put_part(2, "y".into()).await.unwrap();
    crashed.put_part(1, "x".into()).await.unwrap();
    let id = crashed.upload_id().to_string();
    drop(crashed);
    let other = store.put_multipart(&key("elsewhere/c")).await.unwrap();

    let pending = store.list_pending_uploads(Some(&key("dir"))).await.unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].path, key("dir/b"));
    assert_eq!(pending[0].upload_id, id);
    assert!(pending[0].initiated.is_some());
    store.abort_pending_upload(&pending[0]).await.unwrap();
    let left = store.list_pending_uploads(None).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].upload_id, other.upload_id());
    other.abort().await.unwrap();
    assert!(raw_names(&store).await.is_empty());
}

#[tokio::test]
async fn put_stream_uses_multipart_for_large_bodies() {
    let Some(store) = common::fresh_store("put_stream_uses_multipart_for_large_bodies").await else { return };
    let k = key("streamed.bin");
    let chunks: Vec<Bytes> = (0..40u32).map(|n| part_bytes(n, 64 * 1024)).collect();
    let expected: Vec<u8> = chunks.iter().flat_map(|c| c.to_vec()).collect();
    let body = futures::stream::iter(chunks.into_iter().map(Ok)).boxed();
    let config = UploadConfig { part_size: 256 * 1024, concurrency: 4, ..UploadConfig::default() };
    store.put_stream(&k, body, PutOptions::default(), config).await.unwrap();
    assert!(store.get(&k).await.unwrap().bytes().await.unwrap() == expected);
    assert!(store.list_pending_uploads(None).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_upload_with_no_parts_writes_an_empty_object() {
    let Some(store) = common::fresh_store("an_upload_with_no_parts_writes_an_empty_object").await else { return };
    let k = key("empty");
    let upload = store.put_multipart(&k).await.unwrap();
    upload.complete(vec![]).await.unwrap();
    assert_eq!(store.head(&k).await.unwrap().size, 0);
}
