//! Listings: order, delimiter levels, pagination, offsets, prefixes as directories.

use std::sync::Arc;

use ferryboat_core::{ListOptions, ObjectMeta, ObjectPath, ObjectStore, ObjectStoreExt};
use futures::stream::{self, StreamExt, TryStreamExt};

use super::support::{base, clean, content, key, keys, list_all, must, put};
use super::Outcome;

/// Keys that break stores which encode, decode, or sort them by anything but their bytes.
///
/// `a-c` < `a.b` < `a/b` in byte order, but a filesystem walk that visits a directory where
/// its name sorts puts `a/…` elsewhere; `%41` must not become `A` nor `a+b` become `a b`.
/// No key is both an object and a prefix of another (a local directory cannot be both).
const TRICKY: &[&str] = &[
    "a-c",
    "a.b",
    "a/b",
    "a/b0/c",
    "a0",
    "a b",
    "a+b",
    "a%20b",
    "%41",
    "A",
    "100%",
    "a#b",
    "a?b",
    "a=b",
    "a&b",
    "a;b",
    "a@b:c,d",
    "quote'\"",
    "~tilde",
    "café",
    "ß",
    "日本語/ファイル",
    "emoji 😀",
    "deep/1/2/3/4/5/6/7/8/9/leaf",
    "deep/1/2-sibling",
    "z",
];

fn under(prefix: &ObjectPath) -> ListOptions {
    ListOptions { prefix: Some(prefix.clone()), offset: None, ..Default::default() }
}

fn from(prefix: &ObjectPath, offset: &ObjectPath) -> ListOptions {
    ListOptions { prefix: Some(prefix.clone()), offset: Some(offset.clone()), ..Default::default() }
}

/// Asserts a listing is exactly `expected` (keys relative to the behaviour's directory),
/// in that order, with each object's size `sizes(key)`.
fn assert_listing(got: &[ObjectMeta], expected: &[ObjectPath], what: &str) {
    let want: Vec<&str> = expected.iter().map(|p| p.as_str()).collect();
    assert_eq!(keys(got), want, "{what}: expected these keys in ascending byte order, each once");
}

/// Every key comes back once, in ascending byte order, with its size, however it is spelled.
pub async fn list_order(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "list_order";
    clean(store, B).await;
    let written: Vec<(ObjectPath, usize)> = TRICKY.iter().enumerate().map(|(i, k)| (key(B, k), i + 1)).collect();
    let writes = written.iter().map(|(path, len)| async move { put(store, path, content(*len, *len as u64)).await });
    stream::iter(writes).buffer_unordered(8).collect::<Vec<_>>().await;

    let mut expected = written.clone();
    expected.sort_by(|a, b| a.0.as_str().as_bytes().cmp(b.0.as_str().as_bytes()));
    let got = list_all(store, under(&base(B)), "list_order").await;
    let paths: Vec<ObjectPath> = expected.iter().map(|(p, _)| p.clone()).collect();
    assert_listing(&got, &paths, &format!("list {}", base(B)));
    for (meta, (path, len)) in got.iter().zip(&expected) {
        assert_eq!(meta.size, *len as u64, "list: {path}: expected size {len}, got {}", meta.size);
        if store.capabilities().list_etags {
            assert!(
                meta.etag.as_deref().is_some_and(|e| !e.is_empty()),
                "list: {path}: the store claims list_etags, expected an etag, got {:?}",
                meta.etag
            );
        }
    }
    // A nested prefix lists its subtree only.
    let deep = key(B, "deep");
    let got = list_all(store, under(&deep), "list_order (deep)").await;
    let want = [key(B, "deep/1/2-sibling"), key(B, "deep/1/2/3/4/5/6/7/8/9/leaf")];
    assert_listing(&got, &want, &format!("list {deep}"));
    clean(store, B).await;
    Outcome::Passed
}

/// One level below a prefix: objects directly in it and its sub-"directories", both
/// ascending, nothing from deeper levels or from a sibling prefix that shares its spelling.
pub async fn list_delimiter(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "list_delimiter";
    clean(store, B).await;
    for (i, k) in ["d/x2", "d/x1", "d/sub1/a", "d/sub1/b", "d/sub1-a", "d/sub1x", "d/sub2/deep/er/c", "dd/x", "d-x"]
        .iter()
        .enumerate()
    {
        put(store, &key(B, k), content(i + 1, 10 + i as u64)).await;
    }
    let d = key(B, "d");
    let level = must(store.list_with_delimiter(Some(&d)).await, format_args!("list_with_delimiter {d}"));
    let want_objects = [key(B, "d/sub1-a"), key(B, "d/sub1x"), key(B, "d/x1"), key(B, "d/x2")];
    assert_listing(&level.objects, &want_objects, &format!("list_with_delimiter {d}: objects"));
    let want_sizes = [5, 6, 2, 1];
    for (meta, size) in level.objects.iter().zip(want_sizes) {
        assert_eq!(meta.size, size, "list_with_delimiter {d}: {}: expected size {size}, got {}", meta.path, meta.size);
    }
    let want_prefixes = vec![key(B, "d/sub1"), key(B, "d/sub2")];
    assert_eq!(
        level.common_prefixes, want_prefixes,
        "list_with_delimiter {d}: expected exactly these common prefixes, ascending"
    );

    let sub2 = key(B, "d/sub2");
    let level = must(store.list_with_delimiter(Some(&sub2)).await, format_args!("list_with_delimiter {sub2}"));
    assert!(
        level.objects.is_empty(),
        "list_with_delimiter {sub2}: expected no objects, got {:?}",
        keys(&level.objects)
    );
    assert_eq!(
        level.common_prefixes,
        vec![key(B, "d/sub2/deep")],
        "list_with_delimiter {sub2}: expected one common prefix"
    );

    let root = base(B);
    let level = must(store.list_with_delimiter(Some(&root)).await, format_args!("list_with_delimiter {root}"));
    assert_listing(&level.objects, &[key(B, "d-x")], &format!("list_with_delimiter {root}: objects"));
    assert_eq!(level.common_prefixes, vec![d, key(B, "dd")], "list_with_delimiter {root}: expected prefixes d, dd");

    // The store's top level: other behaviours may have keys there, but everything of this
    // one is below `conformance`, so that is a prefix and none of its keys is an object.
    let top = must(store.list_with_delimiter(None).await, "list_with_delimiter of the top level");
    let conformance = super::support::path("conformance");
    assert!(
        top.common_prefixes.contains(&conformance),
        "list_with_delimiter of the top level: expected the prefix {conformance:?}, got {:?}",
        top.common_prefixes
    );
    assert!(
        top.objects.iter().all(|m| !m.path.as_str().contains('/')),
        "list_with_delimiter of the top level: expected only top-level objects, got {:?}",
        keys(&top.objects)
    );

    let nothing = key(B, "nothing");
    let level = must(store.list_with_delimiter(Some(&nothing)).await, format_args!("list_with_delimiter {nothing}"));
    assert!(
        level.objects.is_empty() && level.common_prefixes.is_empty(),
        "list_with_delimiter of the empty prefix {nothing}: expected nothing, got {level:?}"
    );
    clean(store, B).await;
    Outcome::Passed
}

/// `list_from` returns only keys strictly after the offset, within the prefix.
pub async fn list_offset(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "list_offset";
    clean(store, B).await;
    for k in ["p/a", "p/b", "p/c", "p/e/f", "p-x", "q"] {
        put(store, &key(B, k), content(4, 20)).await;
    }
    let p = key(B, "p");
    let all = [key(B, "p/a"), key(B, "p/b"), key(B, "p/c"), key(B, "p/e/f")];
    for (offset, expected) in [
        ("p/b", &all[2..]),
        ("p/d", &all[3..]),
        ("p/a", &all[1..]),
        ("p/e", &all[3..]),
        ("p/e/f", &all[4..]),
        ("p/z", &all[4..]),
        ("p", &all[..]),
        ("p-x", &all[..]),
        ("a", &all[..]),
        ("r", &all[4..]),
    ] {
        let offset = key(B, offset);
        let got = list_all(store, from(&p, &offset), "list_offset").await;
        assert_listing(&got, expected, &format!("list {p} after {offset}"));
    }
    // Without a prefix, the offset alone bounds the listing (other behaviours' keys may be
    // there too: look only at this one's).
    let offset = key(B, "p/c");
    let got: Vec<ObjectMeta> = must(
        store
            .list_from(None, &offset)
            .try_filter(|m| futures::future::ready(m.path.is_under(&base(B))))
            .try_collect()
            .await,
        format_args!("list everything after {offset}"),
    );
    assert_listing(&got, &[key(B, "p/e/f"), key(B, "q")], &format!("list everything after {offset}"));
    clean(store, B).await;
    Outcome::Passed
}

/// A prefix is a directory: `a/b` lists `a/b/c` but neither `a/bc` nor `a/b-c`; a prefix
/// with nothing under it lists nothing.
pub async fn list_prefix_is_directory(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "list_prefix_is_directory";
    clean(store, B).await;
    for k in ["a/b/c", "a/b/d/e", "a/bc", "a/b-c", "a/b.c"] {
        put(store, &key(B, k), content(2, 30)).await;
    }
    let ab = key(B, "a/b");
    let got = list_all(store, under(&ab), "list_prefix_is_directory").await;
    assert_listing(&got, &[key(B, "a/b/c"), key(B, "a/b/d/e")], &format!("list {ab}"));
    let level = must(store.list_with_delimiter(Some(&ab)).await, format_args!("list_with_delimiter {ab}"));
    assert_listing(&level.objects, &[key(B, "a/b/c")], &format!("list_with_delimiter {ab}: objects"));
    assert_eq!(level.common_prefixes, vec![key(B, "a/b/d")], "list_with_delimiter {ab}: expected prefix a/b/d");
    let missing = key(B, "a/b/c/x");
    let got = list_all(store, under(&missing), "list_prefix_is_directory").await;
    assert!(got.is_empty(), "list {missing} (below an object): expected nothing, got {:?}", keys(&got));
    let missing = key(B, "nothing");
    let got = list_all(store, under(&missing), "list_prefix_is_directory").await;
    assert!(got.is_empty(), "list {missing} (nothing there): expected nothing, got {:?}", keys(&got));
    clean(store, B).await;
    Outcome::Passed
}

/// 1,050 keys (more than one page everywhere) list completely, in order, each once; a
/// listing from an offset and a delimiter listing cross the page boundary too.
pub async fn list_pagination(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "list_pagination";
    const COUNT: usize = 1050;
    clean(store, B).await;
    let all: Vec<ObjectPath> = (0..COUNT).map(|i| key(B, &format!("k{i:05}"))).collect();
    let body = content(1, 40);
    let writes = all.iter().map(|path| {
        let body = body.clone();
        async move { put(store, path, body).await }
    });
    stream::iter(writes).buffer_unordered(32).collect::<Vec<_>>().await;

    let prefix = base(B);
    let got = list_all(store, under(&prefix), "list_pagination").await;
    assert_eq!(got.len(), COUNT, "list {prefix}: expected {COUNT} keys, got {}", got.len());
    assert_listing(&got, &all, &format!("list {prefix}"));

    let offset = &all[499];
    let got = list_all(store, from(&prefix, offset), "list_pagination").await;
    assert_eq!(
        got.len(),
        COUNT - 500,
        "list {prefix} after {offset}: expected {} keys, got {}",
        COUNT - 500,
        got.len()
    );
    assert_listing(&got, &all[500..], &format!("list {prefix} after {offset}"));

    let level = must(store.list_with_delimiter(Some(&prefix)).await, format_args!("list_with_delimiter {prefix}"));
    assert_eq!(
        level.objects.len(),
        COUNT,
        "list_with_delimiter {prefix}: expected {COUNT} objects, got {}",
        level.objects.len()
    );
    assert_listing(&level.objects, &all, &format!("list_with_delimiter {prefix}"));
    clean(store, B).await;
    Outcome::Passed
}
