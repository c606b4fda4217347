//! Transport: every real provider is reached over https by default; plain http is accepted
//! for loopback endpoints (emulators), or off loopback only where the user opts in
//! explicitly (S3's `allow_http`), and then with a warning. Nothing here touches the network:
//! `http://example.invalid` is refused before any request, and loopback stores are only built.

#![cfg(all(feature = "s3", feature = "azure", feature = "gcs"))]

use std::io::Write;
use std::sync::{Arc, Mutex, Once};

use ferryboat::azure::{AzureConfig, AzureStore};
use ferryboat::gcs::{Credentials as GcsCredentials, GcsBuilder, DEFAULT_ENDPOINT};
use ferryboat::s3::{S3Config, S3Store};
use ferryboat::{Error, ErrorKind, ObjectStore};
use tracing_subscriber::util::SubscriberInitExt;

const REMOTE_HTTP: &str = "http://example.invalid";
const LOOPBACK_HTTP: &str = "http://127.0.0.1:1";

/// ferryboat::open reads S3 keys from the environment; every test sets the same fake ones.
fn fake_keys() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDTRANSPORTTEST");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "transport-test-secret");
    });
}

/// What `f` logs at WARN and above on this thread.
fn warnings<T>(f: impl FnOnce() -> T) -> (T, String) {
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = subscriber.set_default();
    let out = f();
    drop(guard);
    let text = String::from_utf8_lossy(&buf.0.lock().unwrap()).into_owned();
    (out, text)
}

fn refused_plain_http(what: &str, result: Result<impl std::fmt::Debug, Error>, hint: &str) {
    let err = result.expect_err(&format!("{what}: plain http to a remote host must be refused"));
    assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{what}: {err}");
    let msg = err.to_string();
    assert!(msg.contains(hint), "{what}: the error says what to do ({hint}): {msg}");
}

#[test]
fn s3_plain_http_needs_loopback_or_allow_http_and_then_warns() {
    let (store, warned) = warnings(|| S3Store::new(S3Config::new("b").with_endpoint(REMOTE_HTTP)));
    refused_plain_http("S3Config", store, "allow_http");
    assert!(warned.is_empty(), "{warned}");

    let (store, warned) = warnings(|| S3Store::new(S3Config::new("b").with_endpoint(LOOPBACK_HTTP)));
    store.expect("loopback http is an emulator: accepted");
    assert!(warned.is_empty(), "no warning for loopback: {warned}");

    for endpoint in [REMOTE_HTTP, "HTTP://EXAMPLE.INVALID:8080"] {
        let config = S3Config::new("b").with_endpoint(endpoint).with_allow_http(true);
        let (store, warned) = warnings(|| S3Store::new(config));
        store.expect("allow_http is the explicit opt-in");
        assert!(warned.contains("WARN") && warned.contains("plain HTTP"), "{endpoint}: a warning: {warned:?}");
    }
}

#[test]
fn s3_defaults_are_https_for_aws_and_every_catalogued_region() {
    let aws = S3Store::new(S3Config::new("b").with_region("eu-west-3")).unwrap();
    let shown = aws.info().endpoint.clone().unwrap_or_default();
    assert!(shown.starts_with("https://"), "AWS by default: {shown}");
    let mut checked = 0;
    for p in ferryboat::providers::catalogue().providers() {
        let vars: Vec<(&str, &str)> = p.variables.keys().map(|k| (k.as_str(), "acct")).collect();
        for r in &p.regions {
            if let Ok(endpoint) = p.endpoint_with(&r.code, &vars) {
                assert!(endpoint.starts_with("https://"), "{} {}: {endpoint}", p.id, r.code);
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "regions checked: {checked}");
}

#[tokio::test]
async fn s3_urls_refuse_remote_http_unless_allow_http() {
    fake_keys();
    for scheme in ["s3", "minio", "ceph", "garage"] {
        let url = format!("{scheme}://b?endpoint={REMOTE_HTTP}");
        if ferryboat::providers::catalogue().get(scheme).is_err() && scheme != "s3" {
            continue;
        }
        refused_plain_http(&url, ferryboat::open(&url).await, "allow_http");
        ferryboat::open(&format!("{url}&allow_http=true")).await.expect("the URL option opts in");
        ferryboat::open(&format!("{scheme}://b?endpoint={LOOPBACK_HTTP}")).await.expect("loopback http");
    }
    // A catalogued cloud pointed elsewhere is held to the same rule.
    let url = format!("scaleway://b?endpoint={REMOTE_HTTP}&region=fr-par");
    refused_plain_http(&url, ferryboat::open(&url).await, "allow_http");
}

#[tokio::test]
async fn azure_plain_http_only_to_loopback() {
    let config = AzureConfig::new("acct", "cont").with_endpoint(REMOTE_HTTP).with_access_key("a2V5");
    refused_plain_http("AzureConfig", AzureStore::new(config), "loopback");
    let store = AzureStore::new(AzureConfig::new("acct", "cont").with_access_key("a2V5")).unwrap();
    assert!(store.config().endpoint().starts_with("https://"), "{}", store.config().endpoint());
    AzureStore::new(AzureConfig::emulator(format!("{LOOPBACK_HTTP}/devstoreaccount1"), "cont")).expect("Azurite");

    let url = "http://acct.blob.core.windows.net/cont";
    refused_plain_http(url, ferryboat::open(url).await, "loopback");
    ferryboat::open(&format!("{LOOPBACK_HTTP}/devstoreaccount1/cont")).await.expect("Azurite by URL");
    let cs = "DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=a2V5";
    refused_plain_http(
        "connection string",
        AzureStore::new(AzureConfig::from_connection_string(cs, "cont").unwrap()),
        "loopback",
    );
}

#[tokio::test]
async fn gcs_plain_http_only_to_loopback() {
    assert!(DEFAULT_ENDPOINT.starts_with("https://"));
    let remote = GcsBuilder::new("bkt").endpoint(REMOTE_HTTP).credentials(GcsCredentials::Anonymous);
    refused_plain_http("GcsBuilder", remote.build().await, "https");
    let url = format!("gs://bkt?endpoint={REMOTE_HTTP}");
    refused_plain_http(&url, ferryboat::open(&url).await, "https");
    // Built without the bucket probe, so nothing is sent even to the loopback port.
    let local = GcsBuilder::new("bkt").endpoint(LOOPBACK_HTTP).check_bucket(false);
    local.build().await.expect("loopback http is an emulator");
}
