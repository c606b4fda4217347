//! Batch delete, server-side copy, copy-if-not-exists, rename.

use std::sync::Arc;

use ferryboat_core::{ErrorKind, ObjectPath, ObjectStore, ObjectStoreExt, PutOptions};
use futures::stream::{self, StreamExt, TryStreamExt};

use super::support::{assert_object, base, clean, content, key, keys, list_all, must, must_fail, put};
use super::Outcome;

/// `delete_stream` deletes every path given (a missing one included) and yields each once.
pub async fn batch_delete(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "batch_delete";
    clean(store, B).await;
    let present: Vec<ObjectPath> = (0..7).map(|i| key(B, &format!("k{i}"))).collect();
    for path in &present {
        put(store, path, content(5, 50)).await;
    }
    let keep = key(B, "keep");
    put(store, &keep, content(5, 51)).await;
    let missing = key(B, "missing");
    let mut asked = present.clone();
    asked.insert(3, missing.clone());

    let input = stream::iter(asked.clone().into_iter().map(Ok)).boxed();
    let yielded: Vec<ObjectPath> =
        must(store.delete_stream(input).try_collect().await, "delete_stream of 7 objects and 1 missing key");
    let mut sorted = yielded.clone();
    sorted.sort();
    let mut expected = asked.clone();
    expected.sort();
    assert_eq!(sorted, expected, "delete_stream: expected each path given to be yielded exactly once, got {yielded:?}");

    let left = list_all(
        store,
        ferryboat_core::ListOptions { prefix: Some(base(B)), offset: None, ..Default::default() },
        "batch_delete",
    )
    .await;
    assert_eq!(keys(&left), vec![keep.as_str()], "list after delete_stream: expected only the key not asked for");
    for path in &present {
        must_fail(store.head(path).await, ErrorKind::NotFound, format_args!("head {path} after delete_stream"));
    }
    let empty: Vec<ObjectPath> =
        must(store.delete_stream(stream::empty().boxed()).try_collect().await, "delete_stream of nothing");
    assert!(empty.is_empty(), "delete_stream of nothing: expected nothing yielded, got {empty:?}");
    clean(store, B).await;
    Outcome::Passed
}

/// Server-side copy: the destination gets the bytes (and the content type and metadata the
/// store keeps), the source stays, an existing destination is replaced, a missing source
/// is `NotFound`.
pub async fn copy(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "copy";
    let caps = store.capabilities().clone();
    if !caps.copy {
        return Outcome::not_run("the store has no server-side copy (capabilities.copy)");
    }
    clean(store, B).await;
    let (src, dst) = (key(B, "src"), key(B, "dst"));
    let data = content(300, 60);
    let opts = PutOptions {
        content_type: caps.content_type.then(|| "text/x-ferry-copy".to_string()),
        metadata: if caps.user_metadata {
            [("origin".to_string(), "copy-source".to_string())].into()
        } else {
            Default::default()
        },
        ..Default::default()
    };
    must(store.put_opts(&src, data.clone(), opts.clone()).await, format_args!("put {src}"));
    must(store.copy(&src, &dst).await, format_args!("copy {src} -> {dst}"));
    assert_object(store, &dst, &data, "copy destination").await;
    assert_object(store, &src, &data, "copy source after the copy").await;
    let head = must(store.head(&dst).await, format_args!("head {dst}"));
    if caps.content_type {
        assert_eq!(head.content_type, opts.content_type, "copy {src} -> {dst}: expected the source's content type");
    }
    if caps.user_metadata {
        assert_eq!(head.metadata, opts.metadata, "copy {src} -> {dst}: expected the source's user metadata");
    }

    let other = key(B, "other");
    let replacement = content(40, 61);
    put(store, &other, replacement.clone()).await;
    must(store.copy(&other, &dst).await, format_args!("copy {other} over the existing {dst}"));
    assert_object(store, &dst, &replacement, "copy over an existing destination").await;

    let missing = key(B, "missing");
    let fresh = key(B, "fresh");
    must_fail(store.copy(&missing, &fresh).await, ErrorKind::NotFound, format_args!("copy of missing {missing}"));
    must_fail(store.head(&fresh).await, ErrorKind::NotFound, format_args!("head {fresh} after a failed copy"));
    clean(store, B).await;
    Outcome::Passed
}

/// Copy-if-not-exists: `AlreadyExists` (destination untouched) when the destination
/// exists, a copy when it does not.
pub async fn copy_if_not_exists(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "copy_if_not_exists";
    if !store.capabilities().copy_if_not_exists {
        return Outcome::not_run("the store has no create-only copy (capabilities.copy_if_not_exists)");
    }
    clean(store, B).await;
    let (src, dst, fresh) = (key(B, "src"), key(B, "dst"), key(B, "fresh"));
    let (data, existing) = (content(70, 62), content(80, 63));
    put(store, &src, data.clone()).await;
    put(store, &dst, existing.clone()).await;
    must_fail(
        store.copy_if_not_exists(&src, &dst).await,
        ErrorKind::AlreadyExists,
        format_args!("copy_if_not_exists {src} -> existing {dst}"),
    );
    assert_object(store, &dst, &existing, "destination after a refused copy_if_not_exists").await;
    must(store.copy_if_not_exists(&src, &fresh).await, format_args!("copy_if_not_exists {src} -> {fresh}"));
    assert_object(store, &fresh, &data, "copy_if_not_exists destination").await;
    let missing = key(B, "missing");
    let fresh2 = key(B, "fresh2");
    must_fail(
        store.copy_if_not_exists(&missing, &fresh2).await,
        ErrorKind::NotFound,
        format_args!("copy_if_not_exists of missing {missing}"),
    );
    clean(store, B).await;
    Outcome::Passed
}

/// Rename moves the bytes: the destination has them (replaced if it existed), the source
/// is gone; renaming a missing key is `NotFound`.
pub async fn rename(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "rename";
    let caps = store.capabilities();
    if !caps.copy && !caps.rename {
        return Outcome::not_run("the store has neither server-side copy nor rename");
    }
    clean(store, B).await;
    let (src, dst) = (key(B, "src"), key(B, "dir/dst"));
    let data = content(90, 64);
    put(store, &src, data.clone()).await;
    put(store, &dst, content(10, 65)).await;
    must(store.rename(&src, &dst).await, format_args!("rename {src} -> {dst}"));
    assert_object(store, &dst, &data, "rename destination").await;
    must_fail(store.head(&src).await, ErrorKind::NotFound, format_args!("head {src} after renaming it"));
    let missing = key(B, "missing");
    let to = key(B, "to");
    must_fail(store.rename(&missing, &to).await, ErrorKind::NotFound, format_args!("rename of missing {missing}"));
    must_fail(store.head(&to).await, ErrorKind::NotFound, format_args!("head {to} after a failed rename"));
    clean(store, B).await;
    Outcome::Passed
}
