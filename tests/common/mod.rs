//! Set-up shared by the facade's integration tests: unique names and buckets on the
//! emulators. Each test file uses a part of it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ferryboat::s3::{Credentials, S3Config, S3Store};
use ferryboat_testkit::emulators::S3Emulator;

/// A bucket or container name no other test process uses.
pub fn unique(stem: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{stem}-{}-{nanos:x}", std::process::id())
}

/// A new, empty bucket on `emu`, and a store on it.
pub async fn s3_bucket(emu: &S3Emulator, stem: &str) -> (String, Arc<S3Store>) {
    let name = unique(stem);
    let store = S3Store::new(
        S3Config::new(&name)
            .with_endpoint(&emu.endpoint)
            .with_region(&emu.region)
            .with_path_style(true)
            .with_allow_http(true)
            .with_credentials(Credentials::new(&emu.access_key, &emu.secret_key)),
    )
    .unwrap();
    store.create_bucket().await.expect("bucket created");
    (name, Arc::new(store))
}

/// Creates a fake-gcs-server bucket with one plain HTTP request (the JSON API's bucket insert).
pub fn create_gcs_bucket(endpoint: &str, name: &str) {
    let addr = endpoint.trim_start_matches("http://");
    let body = format!("{{\"name\":\"{name}\"}}");
    let mut conn = std::net::TcpStream::connect(addr).expect("fake-gcs-server answers");
    write!(
        conn,
        "POST /storage/v1/b HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "bucket creation: {}", answer.lines().next().unwrap_or(""));
}
