//! The shared conformance suite, on a fresh Azurite container, plain and under a URL prefix.

mod common;

use std::sync::Arc;

use ferryboat_core::ObjectStore;

#[tokio::test]
async fn azure_passes_the_conformance_suite() {
    let Some(store) = common::fresh_store("azure_passes_the_conformance_suite").await else { return };
    let store: Arc<dyn ObjectStore> = Arc::new(store);
    ferryboat_testkit::suite::run_all(&store).await;
}

#[tokio::test]
async fn azure_under_a_url_prefix_passes_the_conformance_suite() {
    let test = "azure_under_a_url_prefix_passes_the_conformance_suite";
    let Some(emu) = common::azurite(test) else { return };
    let container = common::container_name("prefixed");
    ferryboat_azure::AzureStore::new(common::config(&emu, &container)).unwrap().create_container().await.unwrap();
    // The emulator form of the URL; the well-known key is used for devstoreaccount1.
    let url = url::Url::parse(&format!("{}/{container}/some/prefix", emu.endpoint)).unwrap();
    let store = ferryboat_azure::open_url(&url).await.unwrap();
    assert_eq!(store.info().prefix.as_deref(), Some("some/prefix"));
    ferryboat_testkit::suite::run_all(&store).await;
}
