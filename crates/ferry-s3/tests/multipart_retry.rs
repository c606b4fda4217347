//! A part that fails is sent again; a failure that persists aborts the upload.

mod support;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use ferry_core::{ObjectPath, ObjectStore, ObjectStoreExt, PutOptions, UploadConfig};
use ferry_testkit::emulators;
use futures::stream::{self, StreamExt};
use support::{config, emulator_quirks, fresh_bucket, open, FailUploadParts};

const MIB: usize = 1024 * 1024;

fn data(len: usize) -> Bytes {
    (0..len).map(|i| (i * 31 % 251) as u8).collect::<Vec<u8>>().into()
}

fn chunks(data: &Bytes) -> futures::stream::BoxStream<'static, ferry_core::Result<Bytes>> {
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
