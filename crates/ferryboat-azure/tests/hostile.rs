//! AzureStore against a server that misbehaves on purpose: every case must end in a typed
//! error (or a correct answer) within a bounded time — never a hang, a panic or a silent
//! wrong answer.

use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferryboat_azure::{AzureConfig, AzureStore};
use ferryboat_core::{ErrorKind, GetOptions, GetRange, ObjectMeta, ObjectPath, ObjectStore, ObjectStoreExt, Result};
use ferryboat_testkit::hostile::{HostileServer, Reply, Request};
use futures::TryStreamExt;

const MIB: u64 = 1024 * 1024;
const BOUND: Duration = Duration::from_secs(60);

fn config(server: &HostileServer) -> AzureConfig {
    AzureConfig::emulator(format!("{}/devstoreaccount1", server.endpoint()), "box")
        .with_read_timeout(Duration::from_secs(2))
}

fn store(server: &HostileServer) -> AzureStore {
    AzureStore::new(config(server)).expect("store")
}

async fn bounded<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(BOUND, fut).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: no answer within {BOUND:?} — the client hung"),
    }
}

async fn list_all(store: &AzureStore) -> Result<Vec<ObjectMeta>> {
    bounded("list", store.list(None).try_collect::<Vec<_>>()).await
}

/// The whole body as a streaming caller (a mirror) collects it, without `GetResult::bytes`'s
/// own length check.
async fn get_streamed(store: &AzureStore, key: &str) -> Result<Vec<Bytes>> {
    bounded("get", async {
        let r = store.get(&ObjectPath::parse(key).unwrap()).await?;
        r.body.try_collect::<Vec<_>>().await
    })
    .await
}

fn blob(name: &str) -> String {
    format!(
        "<Blob><Name>{name}</Name><Properties><Creation-Time>Mon, 01 Jan 2024 00:00:00 GMT</Creation-Time>\
         <Last-Modified>Mon, 01 Jan 2024 00:00:00 GMT</Last-Modified><Etag>0x1</Etag>\
         <Content-Length>1</Content-Length><Content-Type>application/octet-stream</Content-Type>\
         <BlobType>BlockBlob</BlobType></Properties></Blob>"
    )
}

fn page(names: &[&str], next: Option<&str>) -> String {
    let blobs: String = names.iter().map(|n| blob(n)).collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ContainerName=\"box\"><Blobs>{blobs}</Blobs>\
         <NextMarker>{}</NextMarker></EnumerationResults>",
        next.unwrap_or("")
    )
}

fn xml(body: String) -> Reply {
    Reply::new(200).header("content-type", "application/xml").header("x-ms-version", "2023-11-03").body(body)
}

#[tokio::test]
async fn a_listing_out_of_byte_order_is_an_error() {
    let server = HostileServer::start(|_| xml(page(&["a", "c", "b"], None))).await.unwrap();
    let err = list_all(&store(&server)).await.unwrap_err();
    assert!(err.to_string().contains("out of key order"), "{err}");
}

#[tokio::test]
async fn a_listing_that_repeats_its_marker_is_an_error() {
    let server = HostileServer::start(|_| xml(page(&["a", "b"], Some("again")))).await.unwrap();
    let err = list_all(&store(&server)).await.unwrap_err();
    assert!(err.to_string().contains("out of key order"), "{err}");
}

#[tokio::test]
async fn a_cut_off_listing_is_an_error() {
    let full = page(&["a", "b", "c"], None);
    let half = full[..full.len() / 2].to_string();
    let server = HostileServer::start(move |_| xml(half.clone())).await.unwrap();
    let got = list_all(&store(&server)).await;
    assert!(got.is_err(), "{got:?}");
}

/// A blob answer as Azure sends it: the headers `object_store` needs, then `reply`'s body.
fn blob_reply(reply: Reply) -> Reply {
    reply
        .header("last-modified", "Mon, 01 Jan 2024 00:00:00 GMT")
        .header("etag", "\"0x8DC0\"")
        .header("x-ms-blob-type", "BlockBlob")
        .header("x-ms-version", "2023-11-03")
}

fn is_blob_get(req: &Request) -> bool {
    req.method == "GET" && req.query_param("comp").is_none() && req.query_param("restype").is_none()
}

#[tokio::test]
async fn a_huge_error_body_is_not_read_whole() {
    let doc = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthorizationPermissionMismatch</Code>\
               <Message>This request is not authorized to perform this operation.</Message></Error>";
    let server = HostileServer::start(move |_| {
        Reply::new(403).header("content-type", "application/xml").repeated_body(doc, 100 * MIB)
    })
    .await
    .unwrap();
    let s = store(&server);
    // object_store's listing, a blob read, and a request of this crate's own.
    let listed = list_all(&s).await.unwrap_err();
    let read = get_streamed(&s, "k").await.unwrap_err();
    let created = bounded("create", s.create_container()).await.unwrap_err();
    for err in [listed, read, created] {
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err:?}");
        assert!(err.to_string().len() < 1000, "{} bytes: {err}", err.to_string().len());
    }
    let sent = server.body_bytes_sent();
    assert!(sent < 3 * 16 * MIB, "{sent} bytes of the error bodies were sent for three requests");
}

#[tokio::test]
async fn a_huge_listing_page_is_refused() {
    let server = HostileServer::start(|_| xml(String::new()).repeated_body(" ", 40 * MIB)).await.unwrap();
    let err = list_all(&store(&server)).await.unwrap_err();
    assert!(err.to_string().contains("larger than"), "{err}");
    assert!(!err.is_retryable(), "{err:?}");
    assert_eq!(server.requests(), 1, "the same oversized page would come again: no retry");
}

#[tokio::test]
async fn a_hanging_server_is_a_timeout_bounded_by_the_settings() {
    let server = HostileServer::start(|_| Reply::hang()).await.unwrap();
    let s = AzureStore::new(config(&server).with_retries(1, Duration::from_secs(30))).unwrap();
    let started = Instant::now();
    let err = list_all(&s).await.unwrap_err();
    let took = started.elapsed();
    assert!(err.is_retryable(), "{err:?}");
    assert!(err.to_string().contains("no answer from the server in time"), "{err}");
    // Two attempts of 2 s each, and a short backoff.
    assert!(took >= Duration::from_secs(4) && took < Duration::from_secs(15), "{took:?}");
    assert_eq!(server.requests(), 2);

    let started = Instant::now();
    let err = bounded("create", s.create_container()).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
}

#[tokio::test]
async fn endless_redirects_end_in_an_error() {
    let server = HostileServer::start(|req| Reply::redirect(302, req.path.clone())).await.unwrap();
    let s = store(&server);
    get_streamed(&s, "k").await.unwrap_err();
    list_all(&s).await.unwrap_err();
    bounded("create", s.create_container()).await.unwrap_err();
    // reqwest follows 10 redirects per attempt; then the retry limit ends it.
    assert!(server.requests() < 100, "{} requests for three calls", server.requests());
}

#[tokio::test]
async fn a_get_body_that_stops_midway_is_an_error() {
    for hang in [false, true] {
        let server = HostileServer::start(move |_| {
            let r = blob_reply(Reply::new(200)).repeated_body("0123456789", 1000).cut_after(500);
            if hang {
                r.then_hang()
            } else {
                r
            }
        })
        .await
        .unwrap();
        let got = get_streamed(&store(&server), "k").await;
        // object_store asks again for the rest with a range, and this server's answer to that
        // (the whole blob again, without Content-Range) is an error of its own.
        let got = got.map(|c| c.iter().map(Bytes::len).sum::<usize>());
        assert!(got.is_err(), "hang {hang}: a body cut at 500 of 1000 bytes is not an object: {got:?}");
    }
}

#[tokio::test]
async fn a_get_whose_content_length_lies_is_an_error() {
    // Declares 2,000 bytes, sends 1,000, then closes (or falls silent).
    for hang in [false, true] {
        let server = HostileServer::start(move |_| {
            let r = blob_reply(Reply::new(200)).repeated_body("0123456789", 1000).declared_length(2000);
            if hang {
                r.then_hang()
            } else {
                r
            }
        })
        .await
        .unwrap();
        let got = get_streamed(&store(&server), "k").await;
        assert!(got.is_err(), "hang {hang}: {:?}", got.map(|c| c.iter().map(Bytes::len).sum::<usize>()));
    }
}

#[tokio::test]
async fn a_range_answered_with_fewer_bytes_is_an_error() {
    // Content-Range promises bytes 0-999; the body (and its honest Content-Length) has 10.
    let server = HostileServer::start(|req| {
        if is_blob_get(req) {
            blob_reply(Reply::new(206)).header("content-range", "bytes 0-999/1000").body("0123456789")
        } else {
            Reply::new(400)
        }
    })
    .await
    .unwrap();
    let s = store(&server);
    let key = ObjectPath::parse("k").unwrap();
    let opts = GetOptions { range: Some(GetRange::Bounded(0..1000)), ..Default::default() };
    let r = bounded("get", s.get_opts(&key, opts)).await;
    let got = match r {
        Ok(r) => bounded("body", r.body.try_collect::<Vec<_>>()).await,
        Err(e) => Err(e),
    };
    let err = got.expect_err("10 bytes are not the 1,000 asked for");
    assert!(err.to_string().contains("10 of 1000") || err.kind() == ErrorKind::InvalidRange, "{err:?}");
}

#[tokio::test]
async fn a_200_with_an_error_document_is_not_an_empty_container() {
    let doc = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>InternalError</Code>\
               <Message>The server encountered an internal error.</Message></Error>";
    let server = HostileServer::start(move |_| xml(doc.to_owned())).await.unwrap();
    let got = list_all(&store(&server)).await;
    assert!(got.is_err(), "an error document is not an empty container: {got:?}");
    let got = bounded("list", store(&server).list_with_delimiter(None)).await;
    assert!(got.is_err(), "an error document is not an empty container: {got:?}");
}

#[tokio::test]
async fn an_unreachable_port_fails_fast_and_clearly() {
    // A port that was free a moment ago: connections are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = AzureConfig::emulator(format!("http://127.0.0.1:{port}/devstoreaccount1"), "box");
    let s = AzureStore::new(config).unwrap();
    let started = Instant::now();
    let listed = list_all(&s).await.unwrap_err();
    let read = get_streamed(&s, "k").await.unwrap_err();
    let created = bounded("create", s.create_container()).await.unwrap_err();
    let took = started.elapsed();
    for err in [listed, read, created] {
        assert!(err.is_retryable(), "{err:?}");
        assert!(err.to_string().contains("could not connect"), "{err}");
        assert!(!err.to_string().contains("127.0.0.1"), "no URL in errors: {err}");
    }
    assert!(took < Duration::from_secs(10), "three calls took {took:?} with the default settings");
}

#[tokio::test]
async fn server_busy_is_throttled_and_retryable_whatever_the_call() {
    let server = HostileServer::start(|_: &Request| {
        Reply::new(503).header("x-ms-error-code", "ServerBusy").header("Content-Type", "application/xml").body(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ServerBusy</Code><Message>busy</Message></Error>",
        )
    })
    .await
    .unwrap();
    let s = AzureStore::new(config(&server).with_retries(1, Duration::from_secs(5))).unwrap();
    // Create Container goes through ferry's own client, the read through object_store's.
    let ours = bounded("create", s.create_container()).await.unwrap_err();
    let theirs = bounded("get", s.get(&ObjectPath::parse("k").unwrap())).await.unwrap_err();
    for err in [ours, theirs] {
        assert_eq!((err.status(), err.code()), (Some(503), Some("ServerBusy")), "{err:?}");
        assert!(err.is_throttled() && err.is_retryable(), "{err:?}");
    }
}
