//! Signed URLs, and stores opened with a SAS token (from a URL's query, as Azure users paste).

mod common;

use std::time::Duration;

use ferryboat_azure::{AzureCredentials, AzureStore};
use ferryboat_core::{ErrorKind, ObjectPath, ObjectStoreExt};

#[tokio::test]
async fn signed_urls_read_and_write_one_blob_without_credentials() {
    let Some(store) = common::fresh_store("signed_urls_read_and_write").await else { return };
    let key = ObjectPath::parse("shared/report 2026 100%+é.txt").unwrap();
    let client = reqwest::Client::new();

    let put = store.signed_url(http::Method::PUT, &key, Duration::from_secs(300)).await.unwrap();
    let resp = client.put(put.as_str()).header("x-ms-blob-type", "BlockBlob").body("via SAS").send().await.unwrap();
    let status = resp.status();
    assert!(status.is_success(), "PUT through the SAS URL: {status}: {}", resp.text().await.unwrap_or_default());
    assert_eq!(store.get(&key).await.unwrap().bytes().await.unwrap(), "via SAS");

    let get = store.signed_url(http::Method::GET, &key, Duration::from_secs(300)).await.unwrap();
    assert_eq!(client.get(get.as_str()).send().await.unwrap().text().await.unwrap(), "via SAS");

    // A read URL does not allow writing.
    let resp = client.put(get.as_str()).header("x-ms-blob-type", "BlockBlob").body("no").send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(store.get(&key).await.unwrap().bytes().await.unwrap(), "via SAS");
}

#[tokio::test]
async fn a_store_opened_with_a_sas_url_reads_what_it_allows_and_cannot_sign() {
    let test = "a_store_opened_with_a_sas_url";
    let Some(store) = common::fresh_store(test).await else { return };
    let Some(emu) = common::azurite(test) else { return };
    let key = ObjectPath::parse("granted.txt").unwrap();
    store.put(&key, "granted".into()).await.unwrap();
    store.put(&ObjectPath::parse("other.txt").unwrap(), "other".into()).await.unwrap();

    // The query of a blob SAS URL, pasted as the URL of the container.
    let signed = store.signed_url(http::Method::GET, &key, Duration::from_secs(300)).await.unwrap();
    let sas = signed.query().unwrap().to_owned();
    let url = url::Url::parse(&format!("{}/{}?{sas}", emu.endpoint, store.config().container())).unwrap();
    let (config, prefix) = ferryboat_azure::parse_url(&url).unwrap();
    assert!(prefix.is_none());
    assert!(matches!(config.credentials(), AzureCredentials::SasToken(_)));
    let sig = signed.query_pairs().find(|(k, _)| k == "sig").unwrap().1.into_owned();
    assert!(!format!("{config:?}").contains(&sig), "the signature must not show in Debug");

    let via_sas = AzureStore::new(config).unwrap();
    assert_eq!(via_sas.get(&key).await.unwrap().bytes().await.unwrap(), "granted");
    let denied = via_sas.get(&ObjectPath::parse("other.txt").unwrap()).await.unwrap_err();
    assert!(
        matches!(denied.kind(), ErrorKind::PermissionDenied | ErrorKind::Unauthenticated),
        "a SAS for one blob does not open another: {denied}"
    );
    assert!(!denied.to_string().contains(&sig), "{denied}");
    let e = via_sas.signed_url(http::Method::GET, &key, Duration::from_secs(60)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotSupported, "{e}");
}

#[tokio::test]
async fn a_write_sas_commits_staged_uploads() {
    let test = "a_write_sas_commits_staged_uploads";
    let Some(store) = common::fresh_store(test).await else { return };
    let Some(emu) = common::azurite(test) else { return };
    let key = ObjectPath::parse("upload/staged 1.bin").unwrap();
    let signed = store.signed_url(http::Method::PUT, &key, Duration::from_secs(300)).await.unwrap();
    let config = common::config(&emu, store.config().container()).with_sas_token(signed.query().unwrap());
    let via_sas = AzureStore::new(config).unwrap();

    // Put Block and Put Block List, the latter sent and signed by ferryboat-azure itself.
    let upload = via_sas.put_multipart(&key).await.unwrap();
    let second = upload.put_part(2, "world".into()).await.unwrap();
    let first = upload.put_part(1, "hello ".into()).await.unwrap();
    upload.complete(vec![first, second]).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap().bytes().await.unwrap(), "hello world");
}
