//! The retry budget on the wire, on Azurite behind a proxy that answers 503 to chosen
//! requests and counts them: one failing Put Block (sent by `object_store`), one Get Blob,
//! one listing page and one Put Block List (sent by this crate) are each sent exactly the
//! policy's attempts, with a `RetryStore` of a larger budget on top. Before,
//! `object_store`'s retries and the layer's multiplied (4 x 5 = 20 sends).

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ferryboat_azure::AzureStore;
use ferryboat_core::layers::RetryStore;
use ferryboat_core::retry::RetryPolicy;
use ferryboat_core::{ObjectPath, ObjectStore, ObjectStoreExt, PutOptions};
use ferryboat_testkit::proxy::{FailingProxy, SeenRequest};
use futures::StreamExt;

const RETRIES: u32 = 2;

fn has(r: &SeenRequest, pair: &str) -> bool {
    r.target.split_once('?').is_some_and(|(_, q)| q.split('&').any(|p| p == pair))
}

fn is_block(r: &SeenRequest) -> bool {
    r.method == "PUT" && has(r, "comp=block")
}

fn is_block_list(r: &SeenRequest) -> bool {
    r.method == "PUT" && has(r, "comp=blocklist")
}

fn is_get_of(r: &SeenRequest, key: &str) -> bool {
    r.method == "GET" && r.target.split('?').next().is_some_and(|p| p.ends_with(&format!("/{key}")))
}

fn is_list(r: &SeenRequest) -> bool {
    r.method == "GET" && has(r, "comp=list")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_request_is_sent_exactly_the_policys_attempts() {
    let test = "one_failing_request_is_sent_exactly_the_policys_attempts";
    let Some(emu) = common::azurite(test) else { return };
    let container = common::container_name(test);
    let direct = AzureStore::new(common::config(&emu, &container)).unwrap();
    direct.create_container().await.unwrap();
    direct.put(&ObjectPath::parse("seed").unwrap(), Bytes::from_static(b"seed bytes")).await.unwrap();

    let fail_blocks = std::sync::atomic::AtomicBool::new(true);
    let fail_blocks = Arc::new(fail_blocks);
    let blocks = fail_blocks.clone();
    let upstream = emu.endpoint.trim_end_matches('/').trim_end_matches(&format!("/{}", emu.account)).to_string();
    let proxy = FailingProxy::start(&upstream, move |r| {
        (is_block(r) && blocks.load(std::sync::atomic::Ordering::Relaxed))
            || is_block_list(r)
            || is_get_of(r, "seed")
            || is_list(r)
    })
    .await
    .unwrap();
    let endpoint = emu.endpoint.replace(&upstream, &proxy.endpoint());
    let config =
        common::config(&emu, &container).with_endpoint(endpoint).with_retries(RETRIES, Duration::from_secs(60));
    let backend = AzureStore::new(config).unwrap();
    let layer = RetryPolicy {
        max_attempts: 5,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(60),
    };
    let store: Arc<dyn ObjectStore> = Arc::new(RetryStore::new(Arc::new(backend), layer));

    let upload = store.put_multipart_opts(&ObjectPath::parse("big").unwrap(), PutOptions::default()).await.unwrap();
    let err = upload.put_part(1, Bytes::from(vec![7u8; 1024])).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    // Then let one block through and fail the commit, which this crate sends itself.
    fail_blocks.store(false, std::sync::atomic::Ordering::Relaxed);
    let part = upload.put_part(1, Bytes::from(vec![7u8; 1024])).await.unwrap();
    assert!(upload.complete(vec![part]).await.is_err(), "the commit fails");
    let Err(err) = store.get(&ObjectPath::parse("seed").unwrap()).await else { panic!("the read fails") };
    assert!(err.is_retryable(), "{err:?}");
    let first = store.list(None).next().await.expect("an item");
    assert!(first.is_err(), "the listing fails: {first:?}");

    let failed = proxy.failed();
    let count = |f: &dyn Fn(&SeenRequest) -> bool| failed.iter().filter(|r| f(r)).count();
    eprintln!("{test}: {failed:#?}");
    let attempts = RETRIES as usize + 1;
    assert_eq!(count(&is_block), attempts, "Put Block sends");
    assert_eq!(count(&is_block_list), attempts, "Put Block List sends");
    assert_eq!(count(&|r| is_get_of(r, "seed")), attempts, "Get Blob sends");
    assert_eq!(count(&is_list), attempts, "List Blobs sends");
    direct.delete_container().await.unwrap();
}
