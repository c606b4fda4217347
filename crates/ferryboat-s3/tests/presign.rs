//! Presigned URLs work for a client that holds no keys (s3s-fs checks the signatures), reached
//! through `dyn ObjectStore` and through layers.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use std::sync::Arc;

use bytes::Bytes;
use ferryboat_core::layers::{HookStore, JurisdictionPolicy, RetryConfig, RetryStore};
use ferryboat_core::prefix::PrefixStore;
use ferryboat_core::{Error, Jurisdiction, ObjectPath, ObjectStore, ObjectStoreExt, PresignMethod};
use ferryboat_testkit::emulators;
use support::{config, emulator_quirks, fresh_bucket, open};

/// A bare HTTP/1.1 request to the loopback server: status code and body.
fn http(method: &str, url: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (authority, path) = rest.split_at(rest.find('/').expect("path"));
    assert!(authority.starts_with("127.0.0.1:"), "tests only talk to loopback: {authority}");
    let mut stream = TcpStream::connect(authority).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("response head");
    let status_line = String::from_utf8_lossy(&response[..split]).to_string();
    let status = status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status");
    (status, response[split + 4..].to_vec())
}

#[tokio::test]
async fn presigned_get_and_put_work_without_keys() {
    let Some(emu) = emulators::s3s() else {
        return emulators::skip("presigned_get_and_put_work_without_keys", "s3s-fs is not available");
    };
    let s3 = open(&emu, config(&emu, &fresh_bucket("presign"), "generic", emulator_quirks(&emu))).await;
    // What `ferryboat::open` hands out: a trait object, here under a retry layer.
    let store: Arc<dyn ObjectStore> = Arc::new(RetryStore::new(Arc::new(s3), RetryConfig::default()));
    assert!(store.capabilities().presign);
    let key = ObjectPath::parse("shared/report 2025.txt").unwrap();
    store.put(&key, Bytes::from_static(b"quarterly numbers")).await.unwrap();
    let sign = |method, key: &ObjectPath| {
        let (store, key) = (store.clone(), key.clone());
        async move { store.presign(method, &key, Duration::from_secs(300)).await.unwrap().to_string() }
    };

    let url = sign(PresignMethod::Get, &key).await;
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let (status, body) = tokio::task::spawn_blocking(move || http("GET", &url, b"")).await.unwrap();
    assert_eq!((status, body.as_slice()), (200, &b"quarterly numbers"[..]));

    let url = sign(PresignMethod::Head, &key).await;
    let (status, body) = tokio::task::spawn_blocking(move || http("HEAD", &url, b"")).await.unwrap();
    assert_eq!((status, body.len()), (200, 0));

    let upload = ObjectPath::parse("inbox/upload.bin").unwrap();
    let url = sign(PresignMethod::Put, &upload).await;
    let (status, _) = tokio::task::spawn_blocking(move || http("PUT", &url, b"sent by a browser")).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(store.get(&upload).await.unwrap().bytes().await.unwrap(), "sent by a browser");

    let url = sign(PresignMethod::Delete, &upload).await;
    let (status, _) = tokio::task::spawn_blocking(move || http("DELETE", &url, b"")).await.unwrap();
    assert_eq!(status, 204);
    assert!(!store.exists(&upload).await.unwrap());

    // A tampered URL is refused: the signature covers the key.
    let url = sign(PresignMethod::Get, &key).await.replace("report", "rapport");
    let (status, _) = tokio::task::spawn_blocking(move || http("GET", &url, b"")).await.unwrap();
    assert_eq!(status, 403);

    // A view signs the key it really addresses.
    let view: Arc<dyn ObjectStore> = Arc::new(PrefixStore::new(store.clone(), ObjectPath::parse("shared").unwrap()));
    let inside = ObjectPath::parse("report 2025.txt").unwrap();
    let url = view.presign(PresignMethod::Get, &inside, Duration::from_secs(60)).await.unwrap().to_string();
    let (status, body) = tokio::task::spawn_blocking(move || http("GET", &url, b"")).await.unwrap();
    assert_eq!((status, body.as_slice()), (200, &b"quarterly numbers"[..]));

    // A policy that allows no jurisdiction refuses a URL that writes, and still signs one that reads.
    let nowhere = HookStore::new(store.clone(), JurisdictionPolicy::allow(Vec::<Jurisdiction>::new()));
    let e = nowhere.presign(PresignMethod::Put, &upload, Duration::from_secs(60)).await.unwrap_err();
    assert!(matches!(e, Error::PolicyViolation { .. }), "{e}");
    nowhere.presign(PresignMethod::Get, &key, Duration::from_secs(60)).await.unwrap();
}
