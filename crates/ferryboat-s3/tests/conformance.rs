//! The conformance suite against real S3 servers on 127.0.0.1: moto and s3s-fs, with the
//! emulators' own profile and with a European provider's profile.

mod support;

use std::sync::Arc;

use bytes::Bytes;
use ferryboat_core::{ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_providers::ChecksumMode;
use ferryboat_testkit::emulators::{self, S3Emulator};
use futures::stream::{self, StreamExt, TryStreamExt};
use support::{config, emulator_quirks, fresh_bucket, open, Recorder};

async fn suite_on(emu: S3Emulator) {
    let bucket = fresh_bucket(emu.name);
    let store = open(&emu, config(&emu, &bucket, "generic", emulator_quirks(&emu))).await;
    let store: Arc<dyn ObjectStore> = Arc::new(store);
    ferryboat_testkit::suite::run_all(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance_moto() {
    match emulators::moto() {
        Some(emu) => suite_on(emu).await,
        None => emulators::skip("conformance_moto", "moto is not available"),
    }
}

/// Every behaviour but `head_and_missing`: s3s-fs stores objects as files, and a HEAD of a
/// key that is only a "directory" of other keys fails there with HTTP 500 instead of 404
/// (a server bug: a 500 must stay a retryable error, not become NotFound).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance_s3s_fs() {
    use ferryboat_testkit::suite::*;
    let Some(emu) = emulators::s3s() else {
        return emulators::skip("conformance_s3s_fs", "s3s-fs is not available");
    };
    let bucket = fresh_bucket(emu.name);
    let store: Arc<dyn ObjectStore> =
        Arc::new(open(&emu, config(&emu, &bucket, "generic", emulator_quirks(&emu))).await);
    run_except(&store, &["head_and_missing"]).await.assert_passed();
    let missing = ObjectPath::parse("never/written").unwrap();
    assert!(matches!(store.head(&missing).await, Err(ferryboat_core::Error::NotFound { .. })));
}

/// Scaleway's profile (1,000 parts, checksums only when required) with single deletes, on
/// moto: the whole suite passes, and the requests show the profile at work.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance_european_profile_changes_requests() {
    let Some(emu) = emulators::moto() else {
        return emulators::skip("conformance_european_profile_changes_requests", "moto is not available");
    };
    let mut quirks = ferryboat_providers::catalogue().get("scaleway").expect("scaleway profile").quirks.clone();
    assert_eq!(quirks.max_parts, 1000, "the catalogue's Scaleway part cap");
    assert_eq!(quirks.checksums, ChecksumMode::WhenRequired);
    quirks.batch_delete_max = 1;
    let recorder = Recorder::default();
    let bucket = fresh_bucket("scw");
    let cfg = config(&emu, &bucket, "scaleway", quirks).with_interceptor(recorder.clone());
    let store = open(&emu, cfg).await;
    assert_eq!(store.capabilities().multipart_max_parts, 1000);
    assert_eq!(store.capabilities().batch_delete_max, 1);
    let store: Arc<dyn ObjectStore> = Arc::new(store);
    ferryboat_testkit::suite::run_all(&store).await;

    // Many deletes, and a multipart upload, under the profile.
    let keys: Vec<ObjectPath> = (0..5).map(|i| ObjectPath::parse(format!("del/{i}")).unwrap()).collect();
    for k in &keys {
        store.put(k, Bytes::from_static(b"x")).await.unwrap();
    }
    let deleted: Vec<ObjectPath> =
        store.delete_stream(stream::iter(keys.clone()).map(Ok).boxed()).try_collect().await.unwrap();
    assert_eq!(deleted.len(), keys.len());

    let requests = recorder.requests();
    assert!(recorder.count("PutObject") > 10 && recorder.count("UploadPart") > 2, "the suite's requests were seen");
    assert_eq!(recorder.count("DeleteObjects"), 0, "batch_delete_max = 1 must never send DeleteObjects");
    assert!(recorder.count("DeleteObject") >= keys.len());
    for sent in &requests {
        for (name, value) in &sent.headers {
            assert!(
                !name.starts_with("x-amz-checksum-") && name != "x-amz-sdk-checksum-algorithm",
                "{}: checksum header {name} sent under WhenRequired",
                sent.operation
            );
            assert!(
                !(name == "content-encoding" && value.contains("aws-chunked")),
                "{}: aws-chunked body sent under WhenRequired",
                sent.operation
            );
        }
    }
}

/// The AWS profile keeps the SDK's integrity checksums, and batches deletes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_profile_sends_checksums_and_batches_deletes() {
    let Some(emu) = emulators::moto() else {
        return emulators::skip("aws_profile_sends_checksums_and_batches_deletes", "moto is not available");
    };
    let recorder = Recorder::default();
    let bucket = fresh_bucket("aws");
    let cfg = config(&emu, &bucket, "aws", ferryboat_s3::aws_quirks()).with_interceptor(recorder.clone());
    let store = open(&emu, cfg).await;
    let keys: Vec<ObjectPath> = (0..5).map(|i| ObjectPath::parse(format!("k{i}")).unwrap()).collect();
    for k in &keys {
        store.put(k, Bytes::from_static(b"hello")).await.unwrap();
    }
    let deleted: Vec<ObjectPath> =
        store.delete_stream(stream::iter(keys.clone()).map(Ok).boxed()).try_collect().await.unwrap();
    assert_eq!(deleted, keys);
    assert_eq!(store.list(None).try_collect::<Vec<_>>().await.unwrap().len(), 0, "all deleted");
    assert_eq!(recorder.count("DeleteObjects"), 1, "five keys in one batch");
    assert_eq!(recorder.count("DeleteObject"), 0);
    let puts: Vec<_> = recorder.requests().into_iter().filter(|s| s.operation == "PutObject").collect();
    assert!(!puts.is_empty());
    for put in puts {
        assert!(
            put.headers.iter().any(|(k, _)| k.starts_with("x-amz-checksum-") || k == "x-amz-trailer"),
            "PutObject under the AWS profile carries a checksum: {:?}",
            put.headers
        );
    }
}

/// Where the quirks demand it, DeleteObjects carries a Content-MD5 the server accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_delete_with_content_md5() {
    let Some(emu) = emulators::s3s() else {
        return emulators::skip("batch_delete_with_content_md5", "s3s-fs is not available");
    };
    let recorder = Recorder::default();
    let mut quirks = emulator_quirks(&emu);
    quirks.delete_needs_content_md5 = true;
    quirks.batch_delete_max = 2;
    let cfg = config(&emu, &fresh_bucket("md5"), "minio", quirks).with_interceptor(recorder.clone());
    let store = open(&emu, cfg).await;
    let keys: Vec<ObjectPath> = (0..5).map(|i| ObjectPath::parse(format!("k{i}")).unwrap()).collect();
    for k in &keys {
        store.put(k, Bytes::from_static(b"hello")).await.unwrap();
    }
    let deleted: Vec<ObjectPath> =
        store.delete_stream(stream::iter(keys.clone()).map(Ok).boxed()).try_collect().await.unwrap();
    assert_eq!(deleted, keys);
    assert_eq!(store.list(None).try_collect::<Vec<_>>().await.unwrap().len(), 0, "all deleted");
    let batches: Vec<_> = recorder.requests().into_iter().filter(|s| s.operation == "DeleteObjects").collect();
    assert_eq!(batches.len(), 3, "5 keys in batches of 2");
    for b in batches {
        let md5 = b.header("content-md5").expect("Content-MD5 on DeleteObjects");
        assert_eq!(md5.len(), 24, "base64 of 16 bytes: {md5}");
    }
}

/// Servers that only speak ListObjects v1 (Huawei-style profiles): the listing behaviours
/// hold with markers instead of continuation tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_v1_profile() {
    use ferryboat_testkit::suite::*;
    let Some(emu) = emulators::moto() else {
        return emulators::skip("list_v1_profile", "moto is not available");
    };
    let mut quirks = emulator_quirks(&emu);
    quirks.list_version = ferryboat_providers::ListVersion::V1;
    let recorder = Recorder::default();
    let cfg = config(&emu, &fresh_bucket("v1"), "generic", quirks).with_interceptor(recorder.clone());
    let store: Arc<dyn ObjectStore> = Arc::new(open(&emu, cfg).await);
    for outcome in [
        list_order(&store).await,
        list_delimiter(&store).await,
        list_offset(&store).await,
        list_prefix_is_directory(&store).await,
        list_pagination(&store).await,
    ] {
        assert_eq!(outcome, Outcome::Passed);
    }
    assert!(recorder.count("ListObjects") > 2, "v1 listings were sent");
    assert_eq!(recorder.count("ListObjectsV2"), 0, "never v2 under a v1 profile");
}
