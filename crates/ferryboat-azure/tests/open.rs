//! `az://` and `azure://` URLs read the account and credentials from the environment. One
//! test in this file, so that setting variables races with nothing.

mod common;

use ferryboat_core::{ErrorKind, ObjectPath, ObjectStoreExt};

#[tokio::test]
async fn az_and_azure_urls_take_credentials_from_the_environment() {
    let test = "az_and_azure_urls_take_credentials_from_the_environment";
    let Some(store) = common::fresh_store(test).await else { return };
    let Some(emu) = common::azurite(test) else { return };
    let container = store.config().container().to_owned();
    let cs = format!("BlobEndpoint={}/;AccountName={};AccountKey={}", emu.endpoint, emu.account, emu.key);
    // SAFETY-free in edition 2021; no other test runs in this process.
    std::env::set_var("AZURE_STORAGE_CONNECTION_STRING", &cs);

    let az = ferryboat_azure::open_url(&url::Url::parse(&format!("az://{container}/from-az")).unwrap()).await.unwrap();
    az.put(&ObjectPath::parse("x.txt").unwrap(), "via az".into()).await.unwrap();
    let inner = store.get(&ObjectPath::parse("from-az/x.txt").unwrap()).await.unwrap();
    assert_eq!(inner.bytes().await.unwrap(), "via az", "the URL's prefix is applied");

    let azure = ferryboat_azure::open_url(&url::Url::parse(&format!("azure://{}/{container}", emu.account)).unwrap())
        .await
        .unwrap();
    let got = azure.get(&ObjectPath::parse("from-az/x.txt").unwrap()).await.unwrap();
    assert_eq!(got.bytes().await.unwrap(), "via az");

    // No account anywhere: a clear configuration error before any request.
    std::env::remove_var("AZURE_STORAGE_CONNECTION_STRING");
    std::env::remove_var("AZURE_STORAGE_ACCOUNT");
    std::env::remove_var("AZURE_STORAGE_ACCOUNT_NAME");
    let e = ferryboat_azure::open_url(&url::Url::parse("az://logs").unwrap()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert!(e.to_string().contains("AZURE_STORAGE_ACCOUNT"), "{e}");
}
