//! Shared setup: find fake-gcs-server, make a fresh bucket per test, open a store on it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use ferryboat_gcs::{Credentials, GcsBuilder, GcsStore};

/// The emulator's endpoint, or `None` after reporting the skip.
pub fn endpoint(test: &str) -> Option<String> {
    match ferryboat_testkit::emulators::fake_gcs() {
        Some(emu) => Some(emu.endpoint.trim_end_matches('/').to_string()),
        None => {
            ferryboat_testkit::emulators::skip(test, "fake-gcs-server is not available (FERRY_TEST_FAKE_GCS unset)");
            None
        }
    }
}

/// A bucket name no other test uses.
pub fn bucket_name(test: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let stem: String = test.chars().filter(|c| c.is_ascii_alphanumeric()).take(30).collect::<String>().to_lowercase();
    format!("t-{stem}-{}-{nanos:x}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Creates a bucket through the JSON API, as a user would in the console.
pub async fn create_bucket(endpoint: &str, name: &str) {
    let resp = reqwest::Client::new()
        .post(format!("{endpoint}/storage/v1/b"))
        .header("content-type", "application/json")
        .body(format!("{{\"name\":\"{name}\"}}"))
        .send()
        .await
        .expect("fake-gcs-server answers");
    assert!(resp.status().is_success(), "bucket creation failed: {}", resp.status());
}

/// A store on a fresh, empty bucket, or `None` if the emulator is absent.
pub async fn fresh_store(test: &str) -> Option<GcsStore> {
    let endpoint = endpoint(test)?;
    let bucket = bucket_name(test);
    create_bucket(&endpoint, &bucket).await;
    let store = GcsBuilder::new(&bucket)
        .endpoint(&endpoint)
        .credentials(Credentials::Anonymous)
        .build()
        .await
        .expect("store opens on a fresh bucket");
    Some(store)
}
