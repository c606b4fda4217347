//! A part that fails is sent again; a failure that persists aborts the upload.

mod support;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use ferryboat_core::{ObjectPath, ObjectStore, ObjectStoreExt, PutOptions, UploadConfig};
use ferryboat_testkit::emulators;
use futures::stream::{self, StreamExt};
use support::{config, emulator_quirks, fresh_bucket, open, FailUploadParts};

const MIB: usize = 1024 * 1024;

fn data(len: usize) -> Bytes {
    (0..len).map(|i| (i * 31 % 251) as u8).collect::<Vec<u8>>().into()
}

fn chunks(data: &Bytes) -> futures::stream::BoxStream<'static, ferryboat_core::Result<Bytes>> {
    let parts: Vec<_> = (0..data.len()).step_by(MIB).map(|s| Ok(data.slice(s..(s + MIB).min(data.len())))).collect();
    stream::iter(parts).boxed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_part_is_retried_and_the_object_is_intact() {
    let Some(emu) = emulators::moto() else {
        return emulators::skip("a_failed_part_is_retried_and_the_object_is_intact", "moto is not available");
    };
    let faults = FailUploadParts::new(1);
    // No SDK retry: the upload helper's per-part retry is what is under test.
    let cfg = config(&emu, &fresh_bucket("retry"), "generic", emulator_quirks(&emu))
        .with_max_attempts(1)
        .with_interceptor(faults.clone());
    let store: Arc<dyn ObjectStore> = Arc::new(open(&emu, cfg).await);
    let path = ObjectPath::parse("big/object").unwrap();
    let body = data(12 * MIB);
    let config = UploadConfig { part_size: 5 * MIB as u64, concurrency: 2, ..Default::default() };
    store
        .put_stream(&path, chunks(&body), PutOptions::default(), config)
        .await
        .expect("upload survives one failed part");
    assert_eq!(faults.failed.load(Ordering::SeqCst), 1, "one UploadPart was failed");
    let got = store.get(&path).await.unwrap().bytes().await.unwrap();
    assert!(got == body, "object differs from what was uploaded ({} vs {} bytes)", got.len(), body.len());
    assert!(store.list_pending_uploads(None).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistent_failure_aborts_the_upload() {
    let Some(emu) = emulators::moto() else {
        return emulators::skip("a_persistent_failure_aborts_the_upload", "moto is not available");
    };
    let faults = FailUploadParts::new(usize::MAX);
    let cfg = config(&emu, &fresh_bucket("abort"), "generic", emulator_quirks(&emu))
        .with_max_attempts(1)
        .with_interceptor(faults.clone());
    let store: Arc<dyn ObjectStore> = Arc::new(open(&emu, cfg).await);
    let path = ObjectPath::parse("doomed").unwrap();
    let body = data(11 * MIB);
    let config = UploadConfig { part_size: 5 * MIB as u64, concurrency: 1, part_attempts: 2, ..Default::default() };
    let err = store.put_stream(&path, chunks(&body), PutOptions::default(), config).await.unwrap_err();
    assert!(err.is_retryable(), "a 500 is a transient error: {err:?}");
    assert!(faults.failed.load(Ordering::SeqCst) >= 2, "the part was tried again before giving up");
    assert!(!store.exists(&path).await.unwrap(), "no object appears");
    let pending = store.list_pending_uploads(None).await.unwrap();
    assert!(pending.is_empty(), "the failed upload was aborted, found {pending:?}");
}

/// Above the copy threshold, copies go part by part (`UploadPartCopy`) and keep content type
/// and metadata.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_copies_go_multipart() {
    let Some(emu) = emulators::moto() else {
        return emulators::skip("large_copies_go_multipart", "moto is not available");
    };
    let recorder = support::Recorder::default();
    let mut cfg =
        config(&emu, &fresh_bucket("pcopy"), "generic", emulator_quirks(&emu)).with_interceptor(recorder.clone());
    cfg.multipart_copy_threshold = 6 * MIB as u64;
    let store: Arc<dyn ObjectStore> = Arc::new(open(&emu, cfg).await);
    let (from, to) = (ObjectPath::parse("src/big").unwrap(), ObjectPath::parse("dst/big copy").unwrap());
    let body = data(13 * MIB);
    let mut opts = PutOptions { content_type: Some("application/x-ferry".into()), ..Default::default() };
    opts.metadata.insert("origin".into(), "test".into());
    store.put_opts(&from, body.clone(), opts).await.unwrap();
    store.copy(&from, &to).await.unwrap();
    assert_eq!(recorder.count("CopyObject"), 0);
    assert!(recorder.count("UploadPartCopy") >= 2, "copied in parts");
    let got = store.get(&to).await.unwrap();
    assert_eq!(got.meta.content_type.as_deref(), Some("application/x-ferry"));
    assert_eq!(got.meta.metadata.get("origin").map(String::as_str), Some("test"));
    assert!(got.bytes().await.unwrap() == body, "copy differs from the source");
    // Below the threshold, one CopyObject.
    let small = ObjectPath::parse("src/small").unwrap();
    store.put(&small, Bytes::from_static(b"tiny")).await.unwrap();
    store.copy(&small, &ObjectPath::parse("dst/small").unwrap()).await.unwrap();
    assert_eq!(recorder.count("CopyObject"), 1);
}
