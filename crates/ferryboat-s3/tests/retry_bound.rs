//! The retry budget on the wire: behind a proxy that answers 503 to chosen requests (and
//! counts them), one failing UploadPart, one GetObject and one listing page are each sent
//! exactly the policy's attempts, though a `RetryStore` with a larger budget sits on top
//! (the SDK's retries are the policy's; the layer sees the spent error and does not repeat
//! it). Before the SDK's retries were derived from the policy and marked spent, the layer
//! multiplied them: 3 x 5 = 15 sends of each.

mod support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ferryboat_core::layers::RetryStore;
use ferryboat_core::retry::RetryPolicy;
use ferryboat_core::{ObjectPath, ObjectStore, ObjectStoreExt, PutOptions};
use ferryboat_testkit::emulators;
use ferryboat_testkit::proxy::{FailingProxy, SeenRequest};
use futures::StreamExt;
use support::{config, emulator_quirks, fresh_bucket, open};

const ATTEMPTS: u32 = 3;

fn quick(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts: attempts,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(60),
    }
}

fn is_part(r: &SeenRequest) -> bool {
    r.method == "PUT" && r.has_param("partNumber")
}

fn is_get_of(r: &SeenRequest, key: &str) -> bool {
    r.method == "GET" && r.target.split('?').next().is_some_and(|p| p.ends_with(&format!("/{key}")))
}

fn is_list(r: &SeenRequest) -> bool {
    r.method == "GET" && r.has_param("list-type")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_request_is_sent_exactly_the_policys_attempts() {
    let test = "one_failing_request_is_sent_exactly_the_policys_attempts";
    let Some(emu) = emulators::moto() else {
        return emulators::skip(test, "moto is not available");
    };
    let bucket = fresh_bucket("bound");
    let direct = open(&emu, config(&emu, &bucket, "generic", emulator_quirks(&emu))).await;
    direct.put(&ObjectPath::parse("seed").unwrap(), Bytes::from_static(b"seed bytes")).await.unwrap();

    let proxy = FailingProxy::start(&emu.endpoint, |r| is_part(r) || is_get_of(r, "seed") || is_list(r)).await.unwrap();
    let mut through = config(&emu, &bucket, "generic", emulator_quirks(&emu)).with_max_attempts(ATTEMPTS);
    through.endpoint = Some(proxy.endpoint());
    let backend = ferryboat_s3::S3Store::new(through).unwrap();
    // A layer with a larger budget on top: it must not multiply the backend's attempts.
    let store: Arc<dyn ObjectStore> = Arc::new(RetryStore::new(Arc::new(backend), quick(5)));

    let upload = store.put_multipart_opts(&ObjectPath::parse("big").unwrap(), PutOptions::default()).await.unwrap();
    let err = upload.put_part(1, Bytes::from(vec![7u8; 1024])).await.unwrap_err();
    assert!(err.is_retryable() && err.retries_spent(), "{err:?}");
    let Err(err) = store.get(&ObjectPath::parse("seed").unwrap()).await else { panic!("the read fails") };
    assert!(err.retries_spent(), "{err:?}");
    let first = store.list(None).next().await.expect("an item");
    assert!(first.is_err(), "the listing fails: {first:?}");
    upload.abort().await.unwrap();

    let failed = proxy.failed();
    let count = |f: &dyn Fn(&SeenRequest) -> bool| failed.iter().filter(|r| f(r)).count();
    eprintln!("{test}: {failed:#?}");
    assert_eq!(count(&is_part), ATTEMPTS as usize, "UploadPart sends");
    assert_eq!(count(&|r| is_get_of(r, "seed")), ATTEMPTS as usize, "GetObject sends");
    assert_eq!(count(&is_list), ATTEMPTS as usize, "ListObjectsV2 sends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conditional_write_is_not_resent_blindly() {
    let test = "a_conditional_write_is_not_resent_blindly";
    let Some(emu) = emulators::moto() else {
        return emulators::skip(test, "moto is not available");
    };
    let bucket = fresh_bucket("cond");
    let _direct = open(&emu, config(&emu, &bucket, "generic", emulator_quirks(&emu))).await;
    let proxy = FailingProxy::start(&emu.endpoint, |r| r.method == "PUT").await.unwrap();
    let mut through = config(&emu, &bucket, "generic", emulator_quirks(&emu)).with_retry(quick(ATTEMPTS));
    through.endpoint = Some(proxy.endpoint());
    let store = ferryboat_s3::S3Store::new(through).unwrap();
    let key = ObjectPath::parse("create-only").unwrap();
    let opts = PutOptions { mode: ferryboat_core::PutMode::Create, ..Default::default() };
    let err = store.put_opts(&key, Bytes::from_static(b"once"), opts).await.unwrap_err();
    assert!(err.retries_spent(), "{err:?}");
    // Each retry first asked whether the write had landed (a HEAD), then sent it again.
    let puts = proxy.failed().len();
    let heads = proxy.forwarded().iter().filter(|r| r.method == "HEAD").count();
    assert_eq!((puts, heads), (ATTEMPTS as usize, ATTEMPTS as usize - 1), "{:#?}", proxy.forwarded());
}
