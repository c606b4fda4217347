//! S3Store against a server that misbehaves on purpose: every case must end in a typed
//! error (or a correct answer) within a bounded time — never a hang, a panic or a silent
//! wrong answer.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ferryboat_core::{Error, ErrorKind, ObjectMeta, ObjectPath, ObjectStoreExt, Result};
use ferryboat_s3::{Credentials, S3Config, S3Store};
use ferryboat_testkit::hostile::{HostileServer, Reply, Request};
use futures::TryStreamExt;

const MIB: u64 = 1024 * 1024;
/// Far above what any case needs when the backend behaves; a hang runs into it.
const BOUND: Duration = Duration::from_secs(30);

fn store(server: &HostileServer) -> S3Store {
    let mut cfg = S3Config::new("b")
        .with_provider("generic")
        .with_region("us-east-1")
        .with_endpoint(server.endpoint())
        .with_path_style(true)
        .with_credentials(Credentials::new("test", "testtest"))
        .with_connect_timeout(Duration::from_secs(2))
        .with_max_attempts(2);
    cfg.read_timeout = Some(Duration::from_secs(2));
    S3Store::new(cfg).expect("store")
}

async fn bounded<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(BOUND, fut).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: no answer within {BOUND:?} — the client hung"),
    }
}

async fn list_all(store: &S3Store) -> Result<Vec<ObjectMeta>> {
    bounded("list", store.list(None).try_collect::<Vec<_>>()).await
}

async fn get_all(store: &S3Store, key: &str) -> Result<Bytes> {
    bounded("get", async {
        let r = store.get(&ObjectPath::parse(key).unwrap()).await?;
        r.bytes().await
    })
    .await
}

fn contents(key: &str) -> String {
    format!(
        "<Contents><Key>{key}</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>\
         <ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag><Size>1</Size>\
         <StorageClass>STANDARD</StorageClass></Contents>"
    )
}

fn page(keys: &[String], next: Option<&str>) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Prefix></Prefix>",
    );
    x.push_str(&format!("<KeyCount>{}</KeyCount><MaxKeys>1000</MaxKeys>", keys.len()));
    match next {
        Some(t) => {
            x.push_str(&format!("<IsTruncated>true</IsTruncated><NextContinuationToken>{t}</NextContinuationToken>"))
        }
        None => x.push_str("<IsTruncated>false</IsTruncated>"),
    }
    for k in keys {
        x.push_str(&contents(k));
    }
    x.push_str("</ListBucketResult>");
    x
}

fn xml(status: u16, body: impl Into<Bytes>) -> Reply {
    Reply::new(status).header("content-type", "application/xml").body(body)
}

fn keys(ks: &[&str]) -> Vec<String> {
    ks.iter().map(|k| k.to_string()).collect()
}

fn is_list(req: &Request) -> bool {
    req.method == "GET" && req.query_param("list-type").as_deref() == Some("2")
}

#[tokio::test]
async fn truncated_listing_xml_is_an_error() {
    let full = page(&keys(&["a", "b", "c"]), None);
    let half = full[..full.len() / 2].to_string();
    let server = HostileServer::start(move |_| xml(200, half.clone())).await.unwrap();
    let err = list_all(&store(&server)).await.unwrap_err();
    assert_eq!(err.provider(), Some("generic"), "{err:?}");
}

#[tokio::test]
async fn listing_shorter_than_its_content_length_is_an_error() {
    for hang in [false, true] {
        let body = page(&keys(&["a", "b", "c"]), None);
        let declared = body.len() as u64 + 100;
        let server = HostileServer::start(move |_| {
            let r = xml(200, body.clone()).declared_length(declared);
            if hang {
                r.then_hang()
            } else {
                r
            }
        })
        .await
        .unwrap();
        let err = list_all(&store(&server)).await.unwrap_err();
        assert!(err.is_retryable(), "a cut connection is worth another try (hang: {hang}): {err:?}");
    }
}

#[tokio::test]
async fn listing_longer_than_its_content_length_is_cut_and_an_error() {
    let body = page(&keys(&["a", "b", "c"]), None);
    let declared = body.len() as u64 - 40;
    let server = HostileServer::start(move |_| xml(200, body.clone()).declared_length(declared)).await.unwrap();
    list_all(&store(&server)).await.unwrap_err();
}

#[tokio::test]
async fn listing_with_a_200_error_document_is_an_error() {
    let doc = "<?xml version=\"1.0\"?><Error><Code>InternalError</Code><Message>oops</Message></Error>";
    let server = HostileServer::start(move |_| xml(200, doc)).await.unwrap();
    let got = list_all(&store(&server)).await;
    assert!(got.is_err(), "an error document is not an empty bucket: {got:?}");
}

#[tokio::test]
async fn copy_answered_200_with_an_error_document_is_an_error() {
    let doc = "<?xml version=\"1.0\"?><Error><Code>InternalError</Code><Message>copy failed</Message></Error>";
    let server = HostileServer::start(move |_| xml(200, doc)).await.unwrap();
    let s = store(&server);
    let (from, to) = (ObjectPath::parse("a").unwrap(), ObjectPath::parse("b").unwrap());
    let err = bounded("copy", s.copy(&from, &to)).await.unwrap_err();
    assert!(err.to_string().contains("copy failed") || err.is_retryable(), "{err:?}");
}

#[tokio::test]
async fn get_body_that_stops_midway_is_an_error_not_a_short_object() {
    for hang in [false, true] {
        let server = HostileServer::start(move |_| {
            let r = Reply::new(200).header("etag", "\"e\"").repeated_body("0123456789", 1000).cut_after(500);
            if hang {
                r.then_hang()
            } else {
                r
            }
        })
        .await
        .unwrap();
        let err = get_all(&store(&server), "k").await.unwrap_err();
        assert!(err.is_retryable(), "hang: {hang}: {err:?}");
    }
}

#[tokio::test]
async fn get_with_a_short_content_length_yields_exactly_what_was_declared() {
    // The server says 5 bytes and sends 10: the client must keep to the declared length (and
    // not read the rest as the next answer on that connection).
    let calls = Arc::new(AtomicU64::new(0));
    let seen = calls.clone();
    let server = HostileServer::start(move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
        Reply::new(200).header("etag", "\"e\"").body("helloWORLD").declared_length(5)
    })
    .await
    .unwrap();
    let s = store(&server);
    for _ in 0..2 {
        let body = get_all(&s, "k").await.unwrap();
        assert_eq!(&body[..], b"hello");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn endless_redirects_end_in_an_error() {
    let server = HostileServer::start(|req| Reply::redirect(307, format!("{}?again", req.path))).await.unwrap();
    let s = store(&server);
    let err = get_all(&s, "k").await.unwrap_err();
    assert!(!matches!(err, Error::NotFound { .. }), "{err:?}");
    list_all(&s).await.unwrap_err();
    assert!(server.requests() < 20, "{} requests for two calls", server.requests());
}

#[tokio::test]
async fn a_listing_that_repeats_its_continuation_token_is_an_error() {
    // Every page is new keys, ascending, but the token never changes: without a check this
    // listing never ends.
    let server = HostileServer::start(|req| {
        let n = req.seq;
        xml(200, page(&[format!("k{n:08}")], Some("same-token-forever")))
    })
    .await
    .unwrap();
    let err = list_all(&store(&server)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Generic, "{err:?}");
    assert!(err.to_string().contains("continuation token"), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_listing_that_repeats_a_page_is_an_error() {
    let server = HostileServer::start(|req| {
        let token = format!("t{}", req.seq);
        xml(200, page(&keys(&["a", "b"]), Some(&token)))
    })
    .await
    .unwrap();
    let err = list_all(&store(&server)).await.unwrap_err();
    assert!(err.to_string().contains("comes before the previous key \"b\""), "{err}");
}

#[tokio::test]
async fn a_listing_out_of_byte_order_is_an_error() {
    // Within a page, and across pages.
    for (first, second) in [(keys(&["a", "c", "b"]), keys(&["d"])), (keys(&["a", "c"]), keys(&["b"]))] {
        let server = HostileServer::start(move |req| match req.query_param("continuation-token") {
            None => xml(200, page(&first, Some("next"))),
            Some(_) => xml(200, page(&second, None)),
        })
        .await
        .unwrap();
        let err = list_all(&store(&server)).await.unwrap_err();
        assert!(err.to_string().contains("comes before"), "{err}");
    }
}

#[tokio::test]
async fn a_page_that_says_truncated_without_a_token_is_an_error_not_the_end() {
    let server = HostileServer::start(|_| {
        let body = page(&keys(&["a"]), Some("x")).replace("<NextContinuationToken>x</NextContinuationToken>", "");
        xml(200, body)
    })
    .await
    .unwrap();
    let got = list_all(&store(&server)).await;
    assert!(got.is_err(), "a listing that says there is more cannot end quietly: {got:?}");
}

#[tokio::test]
async fn a_huge_error_body_is_not_read_whole() {
    let server = HostileServer::start(|_| {
        Reply::new(403)
            .header("content-type", "application/xml")
            .repeated_body("<Error><Code>AccessDenied</Code><Message>no</Message></Error>", 100 * MIB)
    })
    .await
    .unwrap();
    let err = get_all(&store(&server), "k").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err:?}");
    assert!(err.to_string().len() < 2000, "the message is short: {} bytes", err.to_string().len());
    // Socket buffers hold a few MiB; the client must not have drained the 100 MiB.
    assert!(server.body_bytes_sent() < 32 * MIB, "{} bytes of the error body were sent", server.body_bytes_sent());
}

#[tokio::test]
async fn a_huge_listing_page_is_refused() {
    let many: Vec<String> = (0..250_000).map(|i| format!("key/{i:09}")).collect();
    let body = Bytes::from(page(&many, None));
    assert!(body.len() as u64 > 40 * MIB, "{} bytes", body.len());
    let server = HostileServer::start(move |_| xml(200, body.clone())).await.unwrap();
    let err = list_all(&store(&server)).await.unwrap_err();
    assert!(err.to_string().contains("larger than"), "{err}");
    assert!(!err.is_retryable(), "{err:?}");
}

#[tokio::test]
async fn a_hanging_server_is_a_timeout() {
    let server = HostileServer::start(|req| if is_list(req) { Reply::hang() } else { Reply::close() }).await.unwrap();
    let s = store(&server);
    let err = list_all(&s).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    let err = get_all(&s, "k").await.unwrap_err();
    assert!(err.is_retryable(), "a closed connection: {err:?}");
}

fn s3_error(code: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>m</Message></Error>")
}

#[tokio::test]
async fn throttling_is_a_property_of_the_error_with_its_status_and_code() {
    for (status, code, throttled) in
        [(503, "SlowDown", true), (429, "TooManyRequests", true), (500, "InternalError", false)]
    {
        let body = s3_error(code);
        let server = HostileServer::start(move |_: &Request| {
            Reply::new(status).header("Content-Type", "application/xml").body(body.clone())
        })
        .await
        .unwrap();
        let err = get_all(&store(&server), "k").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{code}: {err:?}");
        assert_eq!((err.status(), err.code()), (Some(status), Some(code)), "{err:?}");
        assert!(err.is_retryable(), "{code}: {err:?}");
        assert_eq!(err.is_throttled(), throttled, "{code}: {err:?}");
    }
    // A refusal is neither, and keeps its code too.
    let server = HostileServer::start(|_: &Request| Reply::new(403).body(s3_error("AccessDenied"))).await.unwrap();
    let err = get_all(&store(&server), "k").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err:?}");
    assert_eq!((err.status(), err.code()), (Some(403), Some("AccessDenied")), "{err:?}");
    assert!(!err.is_retryable() && !err.is_throttled(), "{err:?}");
}
