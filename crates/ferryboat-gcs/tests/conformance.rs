//! The shared conformance suite, run on a fresh fake-gcs-server bucket.

mod common;

use std::sync::Arc;

use ferryboat_core::ObjectStore;

#[tokio::test]
async fn gcs_passes_the_conformance_suite() {
    let Some(store) = common::fresh_store("gcs_passes_the_conformance_suite").await else { return };
    let store: Arc<dyn ObjectStore> = Arc::new(store);
    ferryboat_testkit::suite::run_all(&store).await;
}

#[tokio::test]
async fn gcs_under_a_url_prefix_passes_the_conformance_suite() {
    let Some(endpoint) = common::endpoint("gcs_under_a_url_prefix_passes_the_conformance_suite") else { return };
    let bucket = common::bucket_name("prefixed");
    common::create_bucket(&endpoint, &bucket).await;
    let url = url::Url::parse(&format!("gs://{bucket}/some/prefix?endpoint={endpoint}")).unwrap();
    let store = ferryboat_gcs::open_url(&url).await.unwrap();
    ferryboat_testkit::suite::run_all(&store).await;
}
