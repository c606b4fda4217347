//! Both bridges against real stores on each side: ferry's memory store and object_store's
//! in-memory and local-filesystem stores.

use std::sync::Arc;

use ferryboat_compat::{AsObjectStore, FromObjectStore};
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::{Error, ObjectPath, ObjectStore, ObjectStoreExt, PutMode};
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore as _, ObjectStoreExt as _, PutPayload};

const KEYS: &[&str] = &["a-c", "a/b", "a0", "b/deep/er/x", "b/é", "sp ace", "z%20+"];

fn key(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap()
}

#[tokio::test]
async fn a_ferry_store_serves_object_store_callers() {
    let ferry = Arc::new(MemoryStore::new());
    let os = AsObjectStore::new(ferry.clone());
    os.put(&Path::parse("dir/file.txt").unwrap(), PutPayload::from_static(b"hello")).await.unwrap();
    assert_eq!(ferry.get(&key("dir/file.txt")).await.unwrap().bytes().await.unwrap(), "hello");
    let got = os.get(&Path::parse("dir/file.txt").unwrap()).await.unwrap().bytes().await.unwrap();
    assert_eq!(got, "hello");
    let listed: Vec<_> = os.list(None).try_collect().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].location.as_ref(), "dir/file.txt");
    let missing = os.head(&Path::parse("nope").unwrap()).await.unwrap_err();
    assert!(matches!(missing, object_store::Error::NotFound { .. }), "{missing}");
    let create = object_store::PutOptions { mode: object_store::PutMode::Create, ..Default::default() };
    let exists = os.put_opts(&Path::parse("dir/file.txt").unwrap(), "x".into(), create).await.unwrap_err();
    assert!(matches!(exists, object_store::Error::AlreadyExists { .. }), "{exists}");

    // Multipart through object_store's sequential API.
    let mut upload = os.put_multipart(&Path::parse("big").unwrap()).await.unwrap();
    let part = vec![7u8; 5 * 1024 * 1024];
    upload.put_part(part.clone().into()).await.unwrap();
    upload.put_part(vec![8u8; 10].into()).await.unwrap();
    upload.complete().await.unwrap();
    assert_eq!(ferry.head(&key("big")).await.unwrap().size, 5 * 1024 * 1024 + 10);
}

#[tokio::test]
async fn object_store_stores_list_in_byte_order_through_ferry() {
    let dir = tempfile::tempdir().unwrap();
    let local: Arc<dyn object_store::ObjectStore> =
        Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir.path()).unwrap());
    let memory: Arc<dyn object_store::ObjectStore> = Arc::new(object_store::memory::InMemory::new());
    for inner in [local, memory] {
        let store = FromObjectStore::new(inner);
        for k in KEYS.iter().rev() {
            store.put(&key(k), k.to_string().into()).await.unwrap();
        }
        let listed: Vec<String> = store.list(None).map_ok(|m| m.path.to_string()).try_collect().await.unwrap();
        let mut sorted: Vec<String> = KEYS.iter().map(|k| k.to_string()).collect();
        sorted.sort();
        assert_eq!(listed, sorted, "{}", store.info().provider_name);
        let after: Vec<String> =
            store.list_from(None, &key("a/b")).map_ok(|m| m.path.to_string()).try_collect().await.unwrap();
        assert_eq!(after, sorted[sorted.iter().position(|k| k == "a/b").unwrap() + 1..].to_vec());
        let under_b: Vec<String> =
            store.list(Some(&key("b"))).map_ok(|m| m.path.to_string()).try_collect().await.unwrap();
        assert_eq!(under_b, vec!["b/deep/er/x", "b/é"]);
        assert_eq!(store.get(&key("b/é")).await.unwrap().bytes().await.unwrap(), "b/é");
        store.delete(&key("never-was")).await.unwrap();
        assert!(matches!(store.head(&key("never-was")).await, Err(Error::NotFound { .. })));
    }
}

#[tokio::test]
async fn out_of_order_parts_and_round_trips_through_both_bridges() {
    let ferry = Arc::new(MemoryStore::new());
    let back = FromObjectStore::new(Arc::new(AsObjectStore::new(ferry.clone())));
    let upload = back.put_multipart(&key("parts")).await.unwrap();
    let (a, b, c) = (vec![1u8; 5 << 20], vec![2u8; 5 << 20], vec![3u8; 3]);
    let p3 = upload.put_part(3, c.clone().into()).await.unwrap();
    let p1 = upload.put_part(1, a.clone().into()).await.unwrap();
    let p2 = upload.put_part(2, b.clone().into()).await.unwrap();
    upload.complete(vec![p1, p2, p3]).await.unwrap();
    let body = back.get(&key("parts")).await.unwrap().bytes().await.unwrap();
    assert_eq!(body, [a, b, c].concat());
    let err = back.put_opts(&key("parts"), "x".into(), PutMode::Create.into()).await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err}");
}
