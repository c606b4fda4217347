//! Endpoints from the environment. One test in its own binary: it sets process variables,
//! which would race with tests running beside it.

mod common;

use ferryboat_core::{ObjectPath, ObjectStoreExt};

#[tokio::test]
async fn emulator_host_and_ferry_endpoint_variables_are_honoured() {
    let Some(endpoint) = common::endpoint("emulator_host_and_ferry_endpoint_variables_are_honoured") else { return };
    let bucket = common::bucket_name("env");
    common::create_bucket(&endpoint, &bucket).await;
    let url = url::Url::parse(&format!("gs://{bucket}/p")).unwrap();
    let key = ObjectPath::parse("k").unwrap();

    // Google's SDK convention: host:port without a scheme.
    std::env::remove_var("FERRY_GCS_ENDPOINT");
    std::env::set_var("STORAGE_EMULATOR_HOST", endpoint.trim_start_matches("http://"));
    let store = ferryboat_gcs::open_url(&url).await.unwrap();
    store.put(&key, "via STORAGE_EMULATOR_HOST".into()).await.unwrap();
    assert_eq!(store.info().endpoint.as_deref(), Some(endpoint.as_str()));

    // FERRY_GCS_ENDPOINT wins over STORAGE_EMULATOR_HOST (which now points nowhere).
    std::env::set_var("STORAGE_EMULATOR_HOST", "127.0.0.1:1");
    std::env::set_var("FERRY_GCS_ENDPOINT", &endpoint);
    let store = ferryboat_gcs::open_url(&url).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap().bytes().await.unwrap(), "via STORAGE_EMULATOR_HOST");

    // And the URL's own endpoint wins over both.
    std::env::set_var("FERRY_GCS_ENDPOINT", "http://127.0.0.1:1");
    let with_query = url::Url::parse(&format!("gs://{bucket}/p?endpoint={endpoint}")).unwrap();
    assert!(ferryboat_gcs::open_url(&with_query).await.unwrap().exists(&key).await.unwrap());
    let err = ferryboat_gcs::open_url(&url).await.unwrap_err();
    assert!(err.is_retryable(), "nothing listens on port 1: {err}");
    std::env::remove_var("FERRY_GCS_ENDPOINT");
    std::env::remove_var("STORAGE_EMULATOR_HOST");
}
