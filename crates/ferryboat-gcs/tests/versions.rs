//! Generations on fake-gcs-server, in a bucket with versioning on: writes report the new
//! generation, reads name an older one, a listing names every generation
//! (`ListOptions::versions`). GCS keeps no delete markers: a deleted key lists only
//! noncurrent generations. Deleting one generation is `NotSupported` (fake-gcs-server
//! ignores the generation on delete, so it cannot be tested here).

mod common;

use bytes::Bytes;
use ferryboat_core::{
    DeleteOptions, ErrorKind, GetOptions, ListOptions, ObjectMeta, ObjectPath, ObjectStore, ObjectStoreExt,
};
use ferryboat_gcs::{Credentials, GcsBuilder, GcsStore};
use futures::TryStreamExt;

fn path(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap()
}

/// A store on a fresh bucket created with `versioning.enabled` (the JSON API's bucket insert).
async fn versioned(test: &str) -> Option<GcsStore> {
    let endpoint = common::endpoint(test)?;
    let bucket = common::bucket_name(test);
    let resp = reqwest::Client::new()
        .post(format!("{endpoint}/storage/v1/b"))
        .header("content-type", "application/json")
        .body(format!("{{\"name\":\"{bucket}\",\"versioning\":{{\"enabled\":true}}}}"))
        .send()
        .await
        .expect("fake-gcs-server answers");
    assert!(resp.status().is_success(), "bucket creation failed: {}", resp.status());
    let store = GcsBuilder::new(&bucket).endpoint(&endpoint).credentials(Credentials::Anonymous).build().await;
    Some(store.expect("store opens"))
}

async fn versions(store: &dyn ObjectStore, offset: Option<&str>) -> Vec<ObjectMeta> {
    let opts = ListOptions { offset: offset.map(path), versions: true, ..Default::default() };
    store.list_opts(opts).try_collect().await.expect("versions listing")
}

fn shape(items: &[ObjectMeta]) -> Vec<(String, String, bool, bool)> {
    items
        .iter()
        .map(|m| {
            let info = m.version_info.expect("version_info");
            (m.path.to_string(), m.version.clone().expect("a generation"), info.latest, info.delete_marker)
        })
        .collect()
}

fn entry(key: &str, version: &str, latest: bool) -> (String, String, bool, bool) {
    (key.to_string(), version.to_string(), latest, false)
}

#[tokio::test]
async fn generations_are_listed_and_read_and_a_generation_delete_is_refused() {
    let Some(store) = versioned("generations_are_listed_and_read").await else { return };
    let caps = store.capabilities();
    assert!(caps.versioning && caps.list_versions && !caps.delete_versions);
    let key = path("ledger.csv");
    let a = store.put(&path("a.txt"), Bytes::from_static(b"a")).await.unwrap().version.expect("a generation");
    let v1 = store.put(&key, Bytes::from_static(b"v1")).await.unwrap().version.expect("a generation");
    let v2 = store.put(&key, Bytes::from_static(b"v2")).await.unwrap().version.expect("a generation");
    let z = store.put(&path("z.txt"), Bytes::from_static(b"z")).await.unwrap().version.expect("a generation");
    let v3 = store.put(&key, Bytes::from_static(b"v3")).await.unwrap().version.expect("a generation");
    // Before the delete: v3 is live (latest), the others noncurrent, newest first.
    assert_eq!(
        shape(&versions(&store, None).await),
        vec![
            entry("a.txt", &a, true),
            entry("ledger.csv", &v3, true),
            entry("ledger.csv", &v2, false),
            entry("ledger.csv", &v1, false),
            entry("z.txt", &z, true),
        ]
    );
    store.delete(&key).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap_err().kind(), ErrorKind::NotFound);
    let listed = versions(&store, None).await;
    assert_eq!(
        shape(&listed),
        vec![
            entry("a.txt", &a, true),
            entry("ledger.csv", &v3, false),
            entry("ledger.csv", &v2, false),
            entry("ledger.csv", &v1, false),
            entry("z.txt", &z, true),
        ],
        "a deleted key keeps its generations, none of them latest, and no marker"
    );
    let from: Vec<String> = versions(&store, Some("a.txt")).await.iter().map(|m| m.path.to_string()).collect();
    assert_eq!(from, ["ledger.csv", "ledger.csv", "ledger.csv", "z.txt"]);

    // Deleting one generation is refused before any request, and nothing changes.
    let e = store.delete_opts(&key, DeleteOptions::version(&v1)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotSupported, "{e}");
    assert_eq!(versions(&store, None).await, listed);
    let old = store.get_opts(&key, GetOptions { version: Some(v1.clone()), ..Default::default() }).await.unwrap();
    assert_eq!(old.bytes().await.unwrap(), "v1", "a noncurrent generation reads by its number");
    let old = store.get_opts(&key, GetOptions { version: Some(v2.clone()), ..Default::default() }).await.unwrap();
    assert_eq!(old.bytes().await.unwrap(), "v2");
}
