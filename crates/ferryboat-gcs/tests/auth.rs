//! What goes over the wire for credentials, checked with a one-shot HTTP listener on
//! 127.0.0.1 (fake-gcs-server checks no credentials, so it cannot show a rejected token).

use std::io::{Read, Write};
use std::net::TcpListener;

use ferryboat_core::Error;
use ferryboat_gcs::{Credentials, GcsBuilder};

/// Answers one request with `status` and a GCS-style JSON error; returns the request head.
fn one_shot(status: &'static str) -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap() == 1 {
            head.push(byte[0]);
        }
        let body = r#"{"error":{"code":401,"message":"Invalid Credentials"}}"#;
        let reply = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        conn.write_all(reply.as_bytes()).unwrap();
        String::from_utf8_lossy(&head).into_owned()
    });
    (endpoint, handle)
}

#[tokio::test]
async fn a_rejected_token_is_unauthenticated_and_never_echoed() {
    let (endpoint, server) = one_shot("401 Unauthorized");
    let secret = "ya29.not-a-real-token-but-secret";
    let err = GcsBuilder::new("bucket")
        .endpoint(&endpoint)
        .credentials(Credentials::Token(secret.into()))
        .build()
        .await
        .unwrap_err();
    let head = server.join().unwrap();
    assert!(head.starts_with("GET /storage/v1/b/bucket HTTP/1.1"), "{head}");
    assert!(head.to_ascii_lowercase().contains(&format!("authorization: bearer {secret}")), "{head}");
    assert!(matches!(err, Error::Unauthenticated { .. }), "{err}");
    assert!(err.to_string().contains("Invalid Credentials"), "{err}");
    assert!(!format!("{err} {err:?}").contains(secret));
}

#[tokio::test]
async fn loopback_endpoints_get_no_credentials_unless_given() {
    let (endpoint, server) = one_shot("403 Forbidden");
    // A 403 on the bucket read is tolerated (object-level roles); the store opens.
    let store = GcsBuilder::new("bucket").endpoint(&endpoint).build().await.unwrap();
    let head = server.join().unwrap();
    assert!(!head.to_ascii_lowercase().contains("authorization"), "{head}");
    assert!(format!("{store:?}").contains("Anonymous"));
}
