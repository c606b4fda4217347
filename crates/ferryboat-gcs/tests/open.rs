//! Opening stores: URLs, endpoints, missing buckets, store facts, signed URLs.

mod common;

use std::sync::Arc;
use std::time::Duration;

use ferryboat_core::{Error, Jurisdiction, ObjectPath, ObjectStore, ObjectStoreExt, PresignMethod};
use ferryboat_gcs::{Credentials, GcsBuilder, ServiceAccount};
use futures::TryStreamExt;

fn key(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap()
}

const KEY_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/throwaway-service-account.json");

#[tokio::test]
async fn a_gs_url_opens_the_bucket_under_its_prefix() {
    let Some(endpoint) = common::endpoint("a_gs_url_opens_the_bucket_under_its_prefix") else { return };
    let bucket = common::bucket_name("url");
    common::create_bucket(&endpoint, &bucket).await;
    let url = url::Url::parse(&format!("gs://{bucket}/backups/2025?endpoint={endpoint}")).unwrap();
    let view = ferryboat_gcs::open_url(&url).await.unwrap();
    view.put(&key("a b.txt"), "x".into()).await.unwrap();

    let whole = ferryboat_gcs::open_url(&url::Url::parse(&format!("gs://{bucket}?endpoint={endpoint}")).unwrap())
        .await
        .unwrap();
    let all: Vec<String> = whole.list(None).map_ok(|m| m.path.into_string()).try_collect().await.unwrap();
    assert_eq!(all, vec!["backups/2025/a b.txt"]);
    let seen: Vec<String> = view.list(None).map_ok(|m| m.path.into_string()).try_collect().await.unwrap();
    assert_eq!(seen, vec!["a b.txt"]);

    let info = whole.info();
    assert_eq!(info.provider, "gcs");
    assert_eq!(info.provider_name, "Google Cloud Storage");
    assert_eq!(info.jurisdiction, Jurisdiction::Us);
    assert!(info.cloud_act);
    assert_eq!(info.bucket.as_deref(), Some(bucket.as_str()));
    // fake-gcs-server reports its buckets in US-CENTRAL1.
    assert_eq!(info.region.as_deref(), Some("us-central1"));
    let caps = whole.capabilities();
    assert!(caps.put_if_not_exists && caps.put_if_match && caps.copy_if_not_exists && caps.multipart);
    assert!(!caps.presign, "anonymous stores cannot sign");
}

#[tokio::test]
async fn a_missing_bucket_is_not_found_by_name() {
    let Some(endpoint) = common::endpoint("a_missing_bucket_is_not_found_by_name") else { return };
    let url = url::Url::parse(&format!("gs://no-such-bucket-here?endpoint={endpoint}")).unwrap();
    let err = ferryboat_gcs::open_url(&url).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("no-such-bucket-here"), "{err}");

    // Opened without the check, the first listing says the same.
    let store = GcsBuilder::new("no-such-bucket-here")
        .endpoint(&endpoint)
        .credentials(Credentials::Anonymous)
        .check_bucket(false)
        .build()
        .await
        .unwrap();
    let err = store.list(None).try_next().await.unwrap_err();
    assert!(matches!(err, Error::NotFound { ref path, .. } if path == "bucket no-such-bucket-here"), "{err}");
}

#[tokio::test]
async fn an_endpoint_that_refuses_connections_fails_the_open_in_seconds() {
    // The probe on open gets three attempts, not the 30 of one request in a transfer: a
    // wrong endpoint must not hang `open` for a minute.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let started = std::time::Instant::now();
    let err = GcsBuilder::new("any-bucket")
        .endpoint(format!("http://127.0.0.1:{closed}"))
        .credentials(Credentials::Anonymous)
        .build()
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    assert!(took < Duration::from_secs(5), "open took {took:?}");
}

#[tokio::test]
async fn bad_configuration_is_refused_before_any_request() {
    for (url, why) in [
        ("gs://bucket?endpoint=http://192.0.2.1:4443", "loopback"),
        ("gs://bucket?endpoint=ftp://127.0.0.1", "scheme"),
        ("gs://Not_A_Bucket", "bucket name"),
        ("gs://bucket?region=eu", "unknown"),
        ("gs://bucket//?endpoint=http://127.0.0.1:1", "empty key"),
    ] {
        let err = ferryboat_gcs::open_url(&url::Url::parse(url).unwrap()).await.unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. } | Error::InvalidPath { .. }), "{url}: {err}");
        assert!(err.to_string().contains(why), "{url}: {err}");
    }
    let err = GcsBuilder::new("bucket")
        .endpoint("http://127.0.0.1:1")
        .credentials(Credentials::Anonymous)
        .build()
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "nothing listens on port 1: {err}");
}

#[tokio::test]
async fn signed_urls_reach_the_object_without_credentials() {
    let Some(endpoint) = common::endpoint("signed_urls_reach_the_object_without_credentials") else { return };
    let bucket = common::bucket_name("signed");
    common::create_bucket(&endpoint, &bucket).await;
    let signer = Arc::new(ServiceAccount::from_file(KEY_FILE).unwrap());
    // Requests stay anonymous (no token server is ever contacted); only URLs are signed.
    let store = GcsBuilder::new(&bucket)
        .endpoint(&endpoint)
        .credentials(Credentials::Anonymous)
        .url_signer(signer)
        .build()
        .await
        .unwrap();
    assert!(store.capabilities().presign);
    let k = key("shared/q3 report+final.txt");
    store.put(&k, "numbers".into()).await.unwrap();
    let url = store.signed_url(PresignMethod::Get, &k, Duration::from_secs(600)).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q.get("X-Goog-Algorithm").map(String::as_str), Some("GOOG4-RSA-SHA256"));
    assert_eq!(q.get("X-Goog-Expires").map(String::as_str), Some("600"));
    assert!(q.get("X-Goog-Credential").is_some_and(|c| c.starts_with("ferry-test@")));
    assert_eq!(q.get("X-Goog-Signature").map(String::len), Some(512), "2048-bit RSA signature in hex");
    // fake-gcs-server does not check signatures; this proves the URL addresses the object.
    let body = reqwest::get(url).await.unwrap().text().await.unwrap();
    assert_eq!(body, "numbers");

    let err = store.signed_url(PresignMethod::Get, &k, Duration::from_secs(8 * 24 * 3600)).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
    let anonymous = common::fresh_store("signed_anonymous").await.unwrap();
    let err = anonymous.signed_url(PresignMethod::Get, &k, Duration::from_secs(60)).unwrap_err();
    assert!(matches!(err, Error::NotSupported { .. }), "{err}");
}

#[test]
fn debug_output_names_no_secret() {
    let sa = ServiceAccount::from_file(KEY_FILE).unwrap();
    let printed = format!("{:?} {:?}", sa, Credentials::Token("ya29.very-secret".into()));
    assert!(!printed.contains("PRIVATE KEY") && !printed.contains("very-secret"), "{printed}");
    assert!(printed.contains("ferry-test@"), "{printed}");
}
