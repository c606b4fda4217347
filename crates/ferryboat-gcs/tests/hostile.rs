//! GcsStore against a server that misbehaves on purpose: every case must end in a typed
//! error (or a correct answer) within a bounded time — never a hang, a panic or a silent
//! wrong answer.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use ferryboat_core::{ErrorKind, ObjectMeta, ObjectPath, ObjectStoreExt, Result};
use ferryboat_gcs::{Credentials, GcsBuilder, GcsStore};
use ferryboat_testkit::hostile::{HostileServer, Reply, Request};
use futures::TryStreamExt;

const MIB: u64 = 1024 * 1024;
const BOUND: Duration = Duration::from_secs(30);

async fn store(server: &HostileServer) -> GcsStore {
    GcsBuilder::new("bkt")
        .endpoint(server.endpoint())
        .credentials(Credentials::Anonymous)
        .check_bucket(false)
        .read_timeout(Duration::from_secs(2))
        // One retry, quickly: each test is about how one answer is read.
        .retry(
            ferryboat_core::retry::RetryPolicy::default()
                .with_max_attempts(2)
                .with_backoff(Duration::from_millis(10), Duration::from_millis(50)),
        )
        .build()
        .await
        .expect("store")
}

async fn bounded<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(BOUND, fut).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: no answer within {BOUND:?} — the client hung"),
    }
}

async fn list_all(store: &GcsStore) -> Result<Vec<ObjectMeta>> {
    bounded("list", store.list(None).try_collect::<Vec<_>>()).await
}

async fn get_all(store: &GcsStore, key: &str) -> Result<Bytes> {
    bounded("get", async {
        let r = store.get(&ObjectPath::parse(key).unwrap()).await?;
        r.bytes().await
    })
    .await
}

fn item(name: &str, size: u64) -> String {
    format!(
        r#"{{"kind":"storage#object","name":"{name}","bucket":"b","size":"{size}","generation":"1","etag":"e","updated":"2024-01-01T00:00:00.000Z"}}"#
    )
}

fn page(names: &[String], next: Option<&str>) -> String {
    let items: Vec<String> = names.iter().map(|n| item(n, 1)).collect();
    let token = next.map(|t| format!(r#","nextPageToken":"{t}""#)).unwrap_or_default();
    format!(r#"{{"kind":"storage#objects","items":[{}]{token}}}"#, items.join(","))
}

fn json(status: u16, body: impl Into<Bytes>) -> Reply {
    Reply::new(status).header("content-type", "application/json").body(body)
}

fn names(ns: &[&str]) -> Vec<String> {
    ns.iter().map(|n| n.to_string()).collect()
}

fn is_media(req: &Request) -> bool {
    req.query_param("alt").as_deref() == Some("media")
}

/// Metadata says 1,000 bytes; the media answer is `media`.
fn object_server(media: Reply) -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
    move |req| if is_media(req) { media.clone() } else { json(200, item("k", 1000)) }
}

#[tokio::test]
async fn truncated_listing_json_is_an_error() {
    let full = page(&names(&["a", "b", "c"]), None);
    let half = full[..full.len() / 2].to_string();
    let server = HostileServer::start(move |_| json(200, half.clone())).await.unwrap();
    let err = list_all(&store(&server).await).await.unwrap_err();
    assert!(err.to_string().contains("malformed JSON"), "{err}");
}

#[tokio::test]
async fn listing_shorter_or_longer_than_its_content_length_is_an_error() {
    for (delta, hang) in [(100i64, false), (100, true), (-20, false)] {
        let body = page(&names(&["a", "b", "c"]), None);
        let declared = (body.len() as i64 + delta) as u64;
        let server = HostileServer::start(move |_| {
            let r = json(200, body.clone()).declared_length(declared);
            if hang {
                r.then_hang()
            } else {
                r
            }
        })
        .await
        .unwrap();
        let got = list_all(&store(&server).await).await;
        assert!(got.is_err(), "declared {delta:+} bytes, hang {hang}: {got:?}");
    }
}

#[tokio::test]
async fn a_200_with_an_error_document_is_not_an_empty_bucket() {
    // GCS error envelopes parse as a listing with no `items`; that the bucket is then empty
    // is the one answer that must not come out of it.
    let doc = r#"{"error":{"code":500,"message":"backend error"}}"#;
    let server = HostileServer::start(move |_| json(200, doc)).await.unwrap();
    let got = list_all(&store(&server).await).await;
    assert!(got.is_err(), "an error document is not an empty bucket: {got:?}");
}

#[tokio::test]
async fn get_body_that_stops_midway_is_an_error() {
    for hang in [false, true] {
        let media = Reply::new(200).repeated_body("0123456789", 1000).cut_after(500);
        let media = if hang { media.then_hang() } else { media };
        let server = HostileServer::start(object_server(media)).await.unwrap();
        let err = get_all(&store(&server).await, "k").await.unwrap_err();
        assert!(err.is_retryable(), "hang {hang}: {err:?}");
    }
}

#[tokio::test]
async fn get_with_a_short_content_length_is_an_error() {
    // The metadata says 1,000 bytes; the media answer declares (and sends) 10.
    let media = Reply::new(200).body("0123456789");
    let server = HostileServer::start(object_server(media)).await.unwrap();
    let err = get_all(&store(&server).await, "k").await.unwrap_err();
    assert!(err.to_string().contains("ended after 10 of 1000 bytes"), "{err:?}");
}

#[tokio::test]
async fn endless_redirects_end_in_an_error() {
    let server = HostileServer::start(|req| Reply::redirect(302, req.path.clone())).await.unwrap();
    let s = store(&server).await;
    get_all(&s, "k").await.unwrap_err();
    list_all(&s).await.unwrap_err();
    assert!(server.requests() < 40, "{} requests for two calls", server.requests());
}

#[tokio::test]
async fn a_listing_that_repeats_its_page_token_is_an_error() {
    let server =
        HostileServer::start(|req| json(200, page(&[format!("k{:08}", req.seq)], Some("same")))).await.unwrap();
    let err = list_all(&store(&server).await).await.unwrap_err();
    assert!(err.to_string().contains("continuation token"), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_listing_out_of_byte_order_is_an_error() {
    for (first, second) in [(names(&["a", "c", "b"]), names(&["d"])), (names(&["a", "c"]), names(&["b"]))] {
        let server = HostileServer::start(move |req| match req.query_param("pageToken") {
            None => json(200, page(&first, Some("next"))),
            Some(_) => json(200, page(&second, None)),
        })
        .await
        .unwrap();
        let err = list_all(&store(&server).await).await.unwrap_err();
        assert!(err.to_string().contains("comes before"), "{err}");
    }
}

#[tokio::test]
async fn a_huge_error_body_is_not_read_whole() {
    let server = HostileServer::start(|_| Reply::new(403).repeated_body(r#"{"error":{"message":"no"}}"#, 100 * MIB))
        .await
        .unwrap();
    let err = list_all(&store(&server).await).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err:?}");
    assert!(err.to_string().len() < 1000, "{} bytes", err.to_string().len());
    assert!(server.body_bytes_sent() < 32 * MIB, "{} bytes of the error body were sent", server.body_bytes_sent());
}

#[tokio::test]
async fn a_huge_listing_page_is_refused() {
    let many: Vec<String> = (0..300_000).map(|i| format!("key/{i:09}")).collect();
    let body = Bytes::from(page(&many, None));
    assert!(body.len() as u64 > 32 * MIB, "{} bytes", body.len());
    let server = HostileServer::start(move |_| json(200, body.clone())).await.unwrap();
    let err = list_all(&store(&server).await).await.unwrap_err();
    assert!(err.to_string().contains("larger than"), "{err}");
    // And the same page streamed without a Content-Length announcing it.
    let server = HostileServer::start(|_| json(200, "").repeated_body(" ", 40 * MIB)).await.unwrap();
    let err = list_all(&store(&server).await).await.unwrap_err();
    assert!(!err.is_retryable(), "{err:?}");
}

#[tokio::test]
async fn a_hanging_server_is_a_timeout() {
    let server = HostileServer::start(|_| Reply::hang()).await.unwrap();
    let err = list_all(&store(&server).await).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
}

#[tokio::test]
async fn rate_limits_are_throttled_with_their_reason() {
    let server = HostileServer::start(|_: &Request| {
        Reply::new(429).header("Content-Type", "application/json").body(
            r#"{"error":{"code":429,"message":"slow down","errors":[{"reason":"rateLimitExceeded","message":"slow down"}]}}"#,
        )
    })
    .await
    .unwrap();
    let s = store(&server).await;
    let err = bounded("get", s.get(&ObjectPath::parse("k").unwrap())).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(429), Some("rateLimitExceeded")), "{err:?}");
    assert!(err.is_throttled() && err.is_retryable(), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err:?}");
}
