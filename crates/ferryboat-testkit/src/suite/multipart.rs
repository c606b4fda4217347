//! Multipart uploads: in order, out of order, aborted, create-only, and the streaming helper.

use std::sync::Arc;

use bytes::Bytes;
use ferryboat_core::{ErrorKind, ObjectStore, ObjectStoreExt, PutMode, PutOptions, Result, UploadConfig};
use futures::stream::{self, StreamExt};

use super::support::{assert_object, base, clean, content, key, must, must_fail, MIB};
use super::Outcome;
use crate::counting::CountingStore;

fn min_part(store: &Arc<dyn ObjectStore>) -> usize {
    // Stores that accept any size still get parts of a realistic size.
    store.capabilities().multipart_min_part_size.max(MIB as u64) as usize
}

fn no_multipart() -> Outcome {
    Outcome::not_run("the store has no multipart uploads (capabilities.multipart)")
}

/// Parts at the store's minimum size, sent in order and then out of order (3, 1, 2),
/// complete into the object in part-number order; a create-only upload over an existing
/// key fails when it completes (or is refused as not supported when it starts) and changes
/// nothing.
pub async fn multipart(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "multipart";
    if !store.capabilities().multipart {
        return no_multipart();
    }
    clean(store, B).await;
    let min = min_part(store);
    for (name, order, seed) in [("in-order", [1u32, 2, 3], 200u64), ("out-of-order", [3, 1, 2], 210)] {
        let path = key(B, name);
        let parts: Vec<Bytes> = vec![content(min, seed), content(min, seed + 1), content(1234, seed + 2)];
        let upload = must(store.put_multipart(&path).await, format_args!("start upload {path}"));
        let mut infos = Vec::new();
        for number in order {
            let data = parts[number as usize - 1].clone();
            let info = must(upload.put_part(number, data).await, format_args!("{path}: part {number}"));
            assert_eq!(
                info.number, number,
                "{path}: part {number}: expected PartInfo.number {number}, got {}",
                info.number
            );
            infos.push(info);
        }
        // Nothing is visible before the upload completes.
        must_fail(store.head(&path).await, ErrorKind::NotFound, format_args!("head {path} before complete"));
        infos.sort_by_key(|p| p.number);
        let done = must(upload.complete(infos).await, format_args!("{path}: complete"));
        let whole: Vec<u8> = parts.concat();
        let meta = assert_object(store, &path, &whole, format_args!("multipart upload sent {order:?}")).await;
        if let Some(etag) = &done.etag {
            assert_eq!(meta.etag.as_ref(), Some(etag), "{path}: expected head's etag to be the one complete returned");
        }
    }

    if store.capabilities().put_if_not_exists {
        let path = key(B, "in-order");
        let before = must(store.get(&path).await, format_args!("get {path}")).bytes().await;
        let before = must(before, format_args!("read {path}"));
        // A store whose server completes uploads unconditionally may refuse a create-only
        // upload as not supported when it starts; it may never let one overwrite.
        match store.put_multipart_opts(&path, PutMode::Create.into()).await {
            Err(e) if e.kind() == ErrorKind::NotSupported => {}
            started => {
                let upload = must(started, format_args!("start a create-only upload over the existing {path}"));
                let result = match upload.put_part(1, content(100, 220)).await {
                    Ok(part) => upload.complete(vec![part]).await,
                    Err(e) => Err(e),
                };
                must_fail(
                    result,
                    ErrorKind::AlreadyExists,
                    format_args!("create-only multipart upload over the existing {path}"),
                );
            }
        }
        assert_object(store, &path, &before, "after a refused create-only upload").await;
    }
    clean(store, B).await;
    Outcome::Passed
}

/// An aborted upload never becomes an object and, where the store lists unfinished
/// uploads, disappears from that list; an upload left behind is listed and can be aborted
/// from the list.
pub async fn multipart_aborted(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "multipart_aborted";
    let caps = store.capabilities().clone();
    if !caps.multipart {
        return no_multipart();
    }
    clean(store, B).await;
    let path = key(B, "aborted");
    let upload = must(store.put_multipart(&path).await, format_args!("start upload {path}"));
    let id = upload.upload_id().to_string();
    must(upload.put_part(1, content(1000, 230)).await, format_args!("{path}: part 1"));
    if caps.pending_uploads {
        let pending = must(store.list_pending_uploads(Some(&base(B))).await, "list_pending_uploads");
        assert!(
            pending.iter().any(|u| u.upload_id == id && u.path == path),
            "list_pending_uploads: expected the open upload {id} of {path}, got {pending:?}"
        );
    }
    must(upload.abort().await, format_args!("{path}: abort"));
    must_fail(store.head(&path).await, ErrorKind::NotFound, format_args!("head {path} after abort"));
    if caps.pending_uploads {
        let pending = must(store.list_pending_uploads(Some(&base(B))).await, "list_pending_uploads");
        assert!(
            pending.iter().all(|u| u.upload_id != id),
            "list_pending_uploads after abort: expected {id} gone, got {pending:?}"
        );

        // A crashed writer: the upload handle is simply dropped.
        let left = key(B, "left-behind");
        let upload = must(store.put_multipart(&left).await, format_args!("start upload {left}"));
        let id = upload.upload_id().to_string();
        must(upload.put_part(1, content(1000, 231)).await, format_args!("{left}: part 1"));
        drop(upload);
        let pending = must(store.list_pending_uploads(Some(&base(B))).await, "list_pending_uploads");
        let Some(found) = pending.iter().find(|u| u.upload_id == id) else {
            panic!("list_pending_uploads: expected the abandoned upload {id} of {left}, got {pending:?}");
        };
        must(store.abort_pending_upload(found).await, format_args!("abort_pending_upload {id}"));
        let pending = must(store.list_pending_uploads(Some(&base(B))).await, "list_pending_uploads");
        assert!(
            pending.iter().all(|u| u.upload_id != id),
            "list_pending_uploads after abort_pending_upload: expected {id} gone, got {pending:?}"
        );
        must_fail(store.head(&left).await, ErrorKind::NotFound, format_args!("head {left} after aborting it"));
    }
    clean(store, B).await;
    Outcome::Passed
}

/// `put_stream` of 20 MiB in uneven chunks with parts of the store's minimum size really
/// goes multipart (checked by watching the calls) and stores the stream byte for byte.
pub async fn put_stream_multipart(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "put_stream_multipart";
    if !store.capabilities().multipart {
        return no_multipart();
    }
    clean(store, B).await;
    let path = key(B, "streamed");
    let min = min_part(store);
    // At least two parts even where the minimum part is large.
    let data = content((20 * MIB).max(2 * min + 1000), 240);
    // Chunks that never line up with part boundaries.
    let chunks: Vec<Result<Bytes>> =
        (0..data.len()).step_by(777_777).map(|s| Ok(data.slice(s..(s + 777_777).min(data.len())))).collect();
    let counting = CountingStore::new(Arc::clone(store));
    let config = UploadConfig { part_size: min as u64, concurrency: 4, ..Default::default() };
    must(
        counting.put_stream(&path, stream::iter(chunks).boxed(), PutOptions::default(), config).await,
        format_args!("put_stream of {} bytes to {path}", data.len()),
    );
    let (uploads, parts) = (counting.counts().get("put_multipart_opts"), counting.counts().get("put_part"));
    let min_parts = data.len().div_ceil(min);
    assert!(
        uploads == 1 && parts >= min_parts,
        "put_stream of {} bytes with {min}-byte parts: expected 1 multipart upload of at least {min_parts} parts, got {uploads} uploads and {parts} parts",
        data.len()
    );
    assert_object(store, &path, &data, "put_stream").await;
    clean(store, B).await;
    Outcome::Passed
}
