//! Whole-object round trips, ranges, head, missing keys, and metadata.

use std::sync::Arc;
use std::time::SystemTime;

use ferryboat_core::{ErrorKind, GetOptions, GetRange, Metadata, ObjectStore, ObjectStoreExt, PutOptions};

use super::support::{
    assert_bytes, assert_names, assert_object, assert_recent, clean, content, get_bytes, key, must, must_fail, put, MIB,
};
use super::Outcome;

/// Empty, small and 20 MiB objects come back byte for byte; `head` reports their size, a
/// plausible `last_modified` and an etag (the one the put returned, where it returned one;
/// required when the store lists or compares etags); overwriting changes the content and
/// the etag.
pub async fn round_trip(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "round_trip";
    clean(store, B).await;
    let started = SystemTime::now();
    // An etag is optional in the contract, but a store that compares or lists etags must
    // have them.
    let caps = store.capabilities();
    let etags_required_by = [
        (caps.list_etags, "the store claims list_etags"),
        (caps.put_if_match, "the store claims put_if_match"),
        (caps.get_conditions, "the store claims get_conditions"),
    ]
    .into_iter()
    .find_map(|(claimed, why)| claimed.then_some(why));
    let etags_required = etags_required_by.is_some();
    let etags_required_by = etags_required_by.unwrap_or_default();
    for (name, len, seed) in [("empty", 0, 1), ("small", 11, 2), ("large", 20 * MIB, 3)] {
        let path = key(B, name);
        let data = content(len, seed);
        let written = put(store, &path, data.clone()).await;
        let meta = must(store.head(&path).await, format_args!("head {path}"));
        assert_eq!(meta.path, path, "head {path}: expected meta.path {path:?}, got {:?}", meta.path);
        assert_eq!(meta.size, len as u64, "head {path}: expected size {len}, got {}", meta.size);
        match (&meta.etag, &written.etag) {
            (Some(etag), _) if etag.is_empty() => panic!("head {path}: expected a non-empty etag or none, got \"\""),
            (None, _) if etags_required => panic!("head {path}: expected an etag ({etags_required_by}), got none"),
            (Some(etag), Some(put_etag)) => assert_eq!(
                etag, put_etag,
                "head {path}: expected the etag the put returned, {put_etag:?}, got {etag:?}"
            ),
            _ => {}
        }
        assert_recent(meta.last_modified, started, format_args!("head {path}"));
        let got = assert_object(store, &path, &data, "round trip").await;
        assert_eq!(got.etag, meta.etag, "get {path}: expected head's etag {:?}, got {:?}", meta.etag, got.etag);
    }

    let path = key(B, "small");
    let before = must(store.head(&path).await, format_args!("head {path}"));
    let replacement = content(23, 4);
    put(store, &path, replacement.clone()).await;
    let after = assert_object(store, &path, &replacement, "overwrite").await;
    if before.etag.is_some() {
        assert_ne!(
            after.etag, before.etag,
            "overwrite {path} with different bytes: expected a new etag, got the old one {:?}",
            before.etag
        );
    }
    clean(store, B).await;
    Outcome::Passed
}

/// Every [`GetRange`] form serves the right bytes and reports the range it served; ranges
/// that lie outside the object are `InvalidRange` naming the key.
pub async fn ranges(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "ranges";
    clean(store, B).await;
    let path = key(B, "object");
    let data = content(1000, 5);
    put(store, &path, data.clone()).await;

    for (range, expected) in [
        (GetRange::Bounded(0..1), 0..1),
        (GetRange::Bounded(10..20), 10..20),
        (GetRange::Bounded(0..1000), 0..1000),
        (GetRange::Bounded(990..2000), 990..1000),
        (GetRange::Offset(0), 0..1000),
        (GetRange::Offset(900), 900..1000),
        (GetRange::Offset(999), 999..1000),
        (GetRange::Suffix(1), 999..1000),
        (GetRange::Suffix(100), 900..1000),
        (GetRange::Suffix(5000), 0..1000),
    ] {
        let what = format!("get {path} (1000 bytes) with {range:?}");
        let opts = GetOptions { range: Some(range), ..Default::default() };
        let (served, size, body) = get_bytes(store, &path, opts, &what).await;
        assert_eq!(served, expected, "{what}: expected range {expected:?}, got {served:?}");
        assert_eq!(size, 1000, "{what}: expected meta.size to be the whole object's 1000, got {size}");
        assert_bytes(&body, &data[expected.start as usize..expected.end as usize], &what);
    }

    let empty = key(B, "empty");
    put(store, &empty, bytes::Bytes::new()).await;
    for (target, range) in [
        (&path, GetRange::Bounded(1000..1010)),
        (&path, GetRange::Bounded(2000..3000)),
        (&path, GetRange::Bounded(5..5)),
        (&path, GetRange::Offset(1000)),
        (&path, GetRange::Offset(5000)),
        (&empty, GetRange::Bounded(0..10)),
        (&empty, GetRange::Suffix(10)),
    ] {
        let what = format!("get {target} with {range:?}");
        let opts = GetOptions { range: Some(range), ..Default::default() };
        let err = must_fail(store.get_opts(target, opts).await, ErrorKind::InvalidRange, &what);
        assert_names(&err, target, &what);
    }
    clean(store, B).await;
    Outcome::Passed
}

/// `head` and `get` of a missing key are `NotFound` naming the key; a "directory" (a prefix
/// of other keys) is not an object; deleting a missing key succeeds, twice.
pub async fn head_and_missing(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "head_and_missing";
    clean(store, B).await;
    let missing = key(B, "never-written");
    let err = must_fail(store.head(&missing).await, ErrorKind::NotFound, format_args!("head {missing}"));
    assert_names(&err, &missing, format_args!("head {missing}"));
    let err = must_fail(store.get(&missing).await, ErrorKind::NotFound, format_args!("get {missing}"));
    assert_names(&err, &missing, format_args!("get {missing}"));
    let opts = GetOptions { range: Some(GetRange::Bounded(0..10)), ..Default::default() };
    must_fail(store.get_opts(&missing, opts).await, ErrorKind::NotFound, format_args!("ranged get {missing}"));
    assert!(
        !must(store.exists(&missing).await, format_args!("exists {missing}")),
        "exists {missing}: expected false, got true"
    );

    let inner = key(B, "dir/object");
    let dir = key(B, "dir");
    put(store, &inner, content(3, 6)).await;
    must_fail(store.head(&dir).await, ErrorKind::NotFound, format_args!("head {dir} (only a prefix of {inner})"));
    must_fail(store.get(&dir).await, ErrorKind::NotFound, format_args!("get {dir} (only a prefix of {inner})"));
    let meta = must(store.head(&inner).await, format_args!("head {inner}"));
    assert_eq!(meta.size, 3, "head {inner}: expected size 3, got {}", meta.size);

    must(store.delete(&missing).await, format_args!("delete of the missing key {missing}"));
    must(store.delete(&inner).await, format_args!("delete {inner}"));
    must(store.delete(&inner).await, format_args!("second delete of {inner}"));
    must_fail(store.head(&inner).await, ErrorKind::NotFound, format_args!("head {inner} after delete"));
    clean(store, B).await;
    Outcome::Passed
}

/// Content type and user metadata come back from `head` and `get`, from a multipart upload
/// too; an overwrite without them clears them.
pub async fn metadata(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "metadata";
    let caps = store.capabilities().clone();
    if !caps.user_metadata && !caps.content_type {
        return Outcome::not_run("the store keeps neither user metadata nor content type");
    }
    clean(store, B).await;
    let content_type = "application/x-ferry-conformance";
    let user: Metadata = [("colour", "bleu"), ("count", "42"), ("with-dash", "a b")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let opts = PutOptions {
        content_type: caps.content_type.then(|| content_type.to_string()),
        metadata: if caps.user_metadata { user.clone() } else { Metadata::new() },
        ..Default::default()
    };

    let single = key(B, "single");
    must(store.put_opts(&single, content(10, 7), opts.clone()).await, format_args!("put {single} with metadata"));
    let mut written = vec![single.clone()];
    if caps.multipart {
        let multi = key(B, "multipart");
        let upload = must(store.put_multipart_opts(&multi, opts.clone()).await, format_args!("start upload {multi}"));
        let part = must(upload.put_part(1, content(10, 8)).await, format_args!("{multi}: part 1"));
        must(upload.complete(vec![part]).await, format_args!("{multi}: complete"));
        written.push(multi);
    }

    for path in &written {
        let head = must(store.head(path).await, format_args!("head {path}"));
        let got = must(store.get(path).await, format_args!("get {path}")).meta;
        for (how, meta) in [("head", &head), ("get", &got)] {
            if caps.content_type {
                assert_eq!(
                    meta.content_type.as_deref(),
                    Some(content_type),
                    "{how} {path}: expected content type {content_type:?}, got {:?}",
                    meta.content_type
                );
            }
            if caps.user_metadata {
                assert_eq!(
                    meta.metadata, user,
                    "{how} {path}: expected user metadata {user:?}, got {:?}",
                    meta.metadata
                );
            }
        }
    }

    put(store, &single, content(10, 9)).await;
    let head = must(store.head(&single).await, format_args!("head {single} after a plain overwrite"));
    if caps.user_metadata {
        assert!(
            head.metadata.is_empty(),
            "head {single} after an overwrite without metadata: expected none, got {:?}",
            head.metadata
        );
    }
    if caps.content_type {
        assert_ne!(
            head.content_type.as_deref(),
            Some(content_type),
            "head {single} after an overwrite without a content type: expected the old one gone, got it back"
        );
    }
    clean(store, B).await;
    Outcome::Passed
}
