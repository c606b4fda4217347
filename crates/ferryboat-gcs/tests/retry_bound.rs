//! The retry budget on the wire, on fake-gcs-server behind a proxy that answers 503 to
//! chosen requests and counts them. GCS requests had no retries at all; now an idempotent
//! one (a part upload, a download, a listing page) is sent exactly the policy's attempts,
//! also under a `RetryStore` with a larger budget, and a conditional write is sent again only
//! after a read shows it did not land.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ferryboat_core::layers::RetryStore;
use ferryboat_core::retry::RetryPolicy;
use ferryboat_core::{ObjectPath, ObjectStore, ObjectStoreExt, PutMode, PutOptions};
use ferryboat_gcs::{Credentials, GcsBuilder};
use ferryboat_testkit::proxy::{FailingProxy, SeenRequest};
use futures::StreamExt;

const ATTEMPTS: u32 = 3;

fn quick(attempts: u32) -> RetryPolicy {
    RetryPolicy::default().with_max_attempts(attempts).with_backoff(Duration::from_millis(5), Duration::from_millis(20))
}

/// A part: an upload into the reserved prefix (its name is in the multipart body, the
/// request's target is the bucket's upload URL; the marker is the first upload and is let
/// through).
fn is_upload(r: &SeenRequest) -> bool {
    r.method == "POST" && r.target.contains("/upload/storage/v1/")
}

fn is_media_of(r: &SeenRequest, key: &str) -> bool {
    r.method == "GET" && r.target.contains(&format!("/o/{key}?")) && r.target.contains("alt=media")
}

fn is_list(r: &SeenRequest) -> bool {
    r.method == "GET" && r.target.split('?').next().is_some_and(|p| p.ends_with("/o"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_request_is_sent_exactly_the_policys_attempts() {
    let test = "one_failing_request_is_sent_exactly_the_policys_attempts";
    let Some(endpoint) = common::endpoint(test) else { return };
    let bucket = common::bucket_name(test);
    common::create_bucket(&endpoint, &bucket).await;
    let direct =
        GcsBuilder::new(&bucket).endpoint(&endpoint).credentials(Credentials::Anonymous).build().await.unwrap();
    direct.put(&ObjectPath::parse("seed").unwrap(), Bytes::from_static(b"seed bytes")).await.unwrap();

    let uploads = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let seen = uploads.clone();
    let proxy = FailingProxy::start(&endpoint, move |r| {
        // The first upload is the upload's marker; every later one (the part) fails.
        (is_upload(r) && seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed) > 0)
            || is_media_of(r, "seed")
            || is_list(r)
    })
    .await
    .unwrap();
    let backend = GcsBuilder::new(&bucket)
        .endpoint(proxy.endpoint())
        .credentials(Credentials::Anonymous)
        .check_bucket(false)
        .retry(quick(ATTEMPTS))
        .build()
        .await
        .unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(RetryStore::new(Arc::new(backend), quick(5)));

    let upload = store.put_multipart_opts(&ObjectPath::parse("big").unwrap(), PutOptions::default()).await.unwrap();
    let err = upload.put_part(1, Bytes::from(vec![7u8; 1024])).await.unwrap_err();
    assert!(err.is_retryable() && err.retries_spent(), "{err:?}");
    let Err(err) = store.get(&ObjectPath::parse("seed").unwrap()).await else { panic!("the read fails") };
    assert!(err.retries_spent(), "{err:?}");
    let first = store.list(None).next().await.expect("an item");
    assert!(first.is_err(), "the listing fails: {first:?}");

    let failed = proxy.failed();
    let count = |f: &dyn Fn(&SeenRequest) -> bool| failed.iter().filter(|r| f(r)).count();
    eprintln!("{test}: {failed:#?}");
    assert_eq!(count(&is_upload), ATTEMPTS as usize, "part uploads");
    assert_eq!(count(&|r| is_media_of(r, "seed")), ATTEMPTS as usize, "downloads");
    assert_eq!(count(&is_list), ATTEMPTS as usize, "listing pages");
}

/// A create-only write whose answer is lost after it landed succeeds (a read shows the
/// object holds exactly the bytes sent); one that did not land is sent again, and the
/// store's condition answers a real conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conditional_write_is_retried_only_when_its_outcome_is_known() {
    let test = "a_conditional_write_is_retried_only_when_its_outcome_is_known";
    let Some(endpoint) = common::endpoint(test) else { return };
    let bucket = common::bucket_name(test);
    common::create_bucket(&endpoint, &bucket).await;
    let direct =
        GcsBuilder::new(&bucket).endpoint(&endpoint).credentials(Credentials::Anonymous).build().await.unwrap();
    let key = ObjectPath::parse("create-only").unwrap();
    let data = Bytes::from_static(b"exactly these bytes");
    direct.put(&key, data.clone()).await.unwrap();

    // Every upload fails with 503 here, as if its answer had been lost: the object already
    // holds the bytes, so the write is known to have landed after the first failure.
    let proxy = FailingProxy::start(&endpoint, is_upload).await.unwrap();
    let store = GcsBuilder::new(&bucket)
        .endpoint(proxy.endpoint())
        .credentials(Credentials::Anonymous)
        .check_bucket(false)
        .retry(quick(ATTEMPTS))
        .build()
        .await
        .unwrap();
    let create = PutOptions { mode: PutMode::Create, ..Default::default() };
    store.put_opts(&key, data.clone(), create.clone()).await.expect("known to have landed");
    assert_eq!(proxy.failed().len(), 1, "sent once, then read: {:#?}", proxy.failed());

    // Other bytes: it did not land, so it is sent again, and the server's condition answers.
    proxy.set_failing(false);
    proxy.reset();
    let err = store.put_opts(&key, Bytes::from_static(b"other"), create).await.unwrap_err();
    assert!(matches!(err, ferryboat_core::Error::AlreadyExists { .. }), "{err:?}");
    assert_eq!(proxy.forwarded().iter().filter(|r| is_upload(r)).count(), 1);
}
