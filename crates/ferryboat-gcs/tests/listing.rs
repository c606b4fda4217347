//! Listings against fake-gcs-server: order, prefixes, offsets, pages, one level.

mod common;

use ferryboat_core::{ObjectPath, ObjectStore, ObjectStoreExt};
use futures::{StreamExt, TryStreamExt};

fn key(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap()
}

async fn keys_of(
    stream: futures::stream::BoxStream<'static, ferryboat_core::Result<ferryboat_core::ObjectMeta>>,
) -> Vec<String> {
    stream.map_ok(|m| m.path.into_string()).try_collect().await.unwrap()
}

#[tokio::test]
async fn listings_are_sorted_and_respect_prefix_and_offset() {
    let Some(store) = common::fresh_store("listings_are_sorted_and_respect_prefix_and_offset").await else { return };
    // Byte order puts "a/b" before "a-b" before "a0" ('/' < '-'? no: '-' 0x2d < '/' 0x2f).
    let names = ["a/b", "a-b", "a0", "a/c/d", "b", "a/b2", "Z", "é"];
    for n in names {
        store.put(&key(n), n.to_string().into()).await.unwrap();
    }
    let mut expected: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(keys_of(store.list(None)).await, expected);

    // "a" as a directory: not "a-b" nor "a0".
    assert_eq!(keys_of(store.list(Some(&key("a")))).await, vec!["a/b", "a/b2", "a/c/d"]);
    // Strictly after the offset, the offset itself excluded.
    assert_eq!(keys_of(store.list_from(None, &key("a0"))).await, vec!["b", "é"]);
    assert_eq!(keys_of(store.list_from(Some(&key("a")), &key("a/b"))).await, vec!["a/b2", "a/c/d"]);
    // An offset before the prefix lists the whole prefix.
    assert_eq!(keys_of(store.list_from(Some(&key("a")), &key("A"))).await, vec!["a/b", "a/b2", "a/c/d"]);

    let level = store.list_with_delimiter(Some(&key("a"))).await.unwrap();
    let objects: Vec<&str> = level.objects.iter().map(|m| m.path.as_str()).collect();
    assert_eq!(objects, vec!["a/b", "a/b2"]);
    assert_eq!(level.common_prefixes, vec![key("a/c")]);
    let root = store.list_with_delimiter(None).await.unwrap();
    assert_eq!(root.common_prefixes, vec![key("a")]);
    assert_eq!(root.objects.len(), 5);
}

#[tokio::test]
async fn listings_page_through_more_than_one_page() {
    let Some(store) = common::fresh_store("listings_page_through_more_than_one_page").await else { return };
    let n = 1_234;
    futures::stream::iter(0..n)
        .map(|i| {
            let store = store.clone();
            async move { store.put(&key(&format!("many/{i:05}")), "x".into()).await }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let listed = keys_of(store.list(Some(&key("many")))).await;
    let expected: Vec<String> = (0..n).map(|i| format!("many/{i:05}")).collect();
    assert_eq!(listed, expected);
    // Offsets deep into the second page.
    let after = keys_of(store.list_from(Some(&key("many")), &key("many/01100"))).await;
    assert_eq!(after.len(), n - 1_101);
    assert_eq!(after.first().map(String::as_str), Some("many/01101"));
    let level = store.list_with_delimiter(Some(&key("many"))).await.unwrap();
    assert_eq!(level.objects.len(), n);
    // The stream yields the first page before the rest are fetched: taking a few is cheap.
    let first: Vec<_> = store.list(None).take(3).try_collect().await.unwrap();
    assert_eq!(first.len(), 3);
}

#[tokio::test]
async fn listing_an_empty_bucket_or_prefix_yields_nothing() {
    let Some(store) = common::fresh_store("listing_an_empty_bucket_or_prefix_yields_nothing").await else { return };
    assert!(keys_of(store.list(None)).await.is_empty());
    store.put(&key("x/y"), "1".into()).await.unwrap();
    assert!(keys_of(store.list(Some(&key("y")))).await.is_empty());
    let level = store.list_with_delimiter(Some(&key("nothing"))).await.unwrap();
    assert!(level.objects.is_empty() && level.common_prefixes.is_empty());
}
