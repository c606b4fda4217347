//! AzureStore against a server that misbehaves on purpose: listings out of order, repeating
//! their marker, or cut off must end in an error in bounded time.

use std::time::Duration;

use ferry_azure::{AzureConfig, AzureStore};
use ferry_core::{ObjectMeta, ObjectStoreExt, Result};
use ferry_testkit::hostile::{HostileServer, Reply};
use futures::TryStreamExt;

fn store(server: &HostileServer) -> AzureStore {
    AzureStore::new(AzureConfig::emulator(format!("{}/devstoreaccount1", server.endpoint()), "box")).expect("store")
}

async fn list_all(store: &AzureStore) -> Result<Vec<ObjectMeta>> {
    match tokio::time::timeout(Duration::from_secs(60), store.list(None).try_collect::<Vec<_>>()).await {
        Ok(r) => r,
        Err(_) => panic!("the listing hung"),
    }
}

fn blob(name: &str) -> String {
    format!(
        "<Blob><Name>{name}</Name><Properties><Creation-Time>Mon, 01 Jan 2024 00:00:00 GMT</Creation-Time>\
         <Last-Modified>Mon, 01 Jan 2024 00:00:00 GMT</Last-Modified><Etag>0x1</Etag>\
         <Content-Length>1</Content-Length><Content-Type>application/octet-stream</Content-Type>\
         <BlobType>BlockBlob</BlobType></Properties></Blob>"
    )
}

fn page(names: &[&str], next: Option<&str>) -> String {
    let blobs: String = names.iter().map(|n| blob(n)).collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ContainerName=\"box\"><Blobs>{blobs}</Blobs>\
         <NextMarker>{}</NextMarker></EnumerationResults>",
        next.unwrap_or("")
    )
}

fn xml(body: String) -> Reply {
    Reply::new(200).header("content-type", "application/xml").header("x-ms-version", "2023-11-03").body(body)
}

#[tokio::test]
async fn a_listing_out_of_byte_order_is_an_error() {
    let server = HostileServer::start(|_| xml(page(&["a", "c", "b"], None))).await.unwrap();
    let err = list_all(&store(&server)).await.unwrap_err();
    assert!(err.to_string().contains("out of key order"), "{err}");
}

#[tokio::test]
async fn a_listing_that_repeats_its_marker_is_an_error() {
    let server = HostileServer::start(|_| xml(page(&["a", "b"], Some("again")))).await.unwrap();
    let err = list_all(&store(&server)).await.unwrap_err();
    assert!(err.to_string().contains("out of key order"), "{err}");
}

#[tokio::test]
async fn a_cut_off_listing_is_an_error() {
    let full = page(&["a", "b", "c"], None);
    let half = full[..full.len() / 2].to_string();
    let server = HostileServer::start(move |_| xml(half.clone())).await.unwrap();
    let got = list_all(&store(&server)).await;
    assert!(got.is_err(), "{got:?}");
}
