//! Deletes: one key, or many in `DeleteObjects` batches sized by the quirks.

use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use base64::Engine;
use ferryboat_core::{Error, ObjectPath, Result};
use futures::stream::{self, BoxStream, StreamExt};
use md5::{Digest, Md5};

use crate::client::Inner;

/// Batches in flight at once.
const BATCHES_IN_FLIGHT: usize = 4;
/// Single deletes in flight at once, where batches are not available.
const SINGLES_IN_FLIGHT: usize = 16;

pub(crate) async fn one(s: &Inner, path: &ObjectPath) -> Result<()> {
    match s.client.delete_object().bucket(&s.bucket).key(path.as_str()).send().await {
        Ok(_) => Ok(()),
        Err(e) => match s.errors.map(path.as_str(), e) {
            // Some servers answer 404 for a missing key; deleting it is still done. A missing
            // bucket is not (its NotFound names the bucket, not the key).
            Error::NotFound { path: p, .. } if p == path.as_str() => Ok(()),
            other => Err(other),
        },
    }
}

pub(crate) fn many<'a>(s: &'a Inner, paths: BoxStream<'a, Result<ObjectPath>>) -> BoxStream<'a, Result<ObjectPath>> {
    let max = s.quirks.batch_delete_max.clamp(1, 1000);
    if max == 1 {
        return paths
            .map(move |p| async move {
                let p = p?;
                one(s, &p).await?;
                Ok(p)
            })
            .buffered(SINGLES_IN_FLIGHT)
            .boxed();
    }
    paths.chunks(max).map(move |chunk| batch(s, chunk)).buffered(BATCHES_IN_FLIGHT).flat_map(stream::iter).boxed()
}

/// One `DeleteObjects` request; yields each key's own outcome (and passes input errors on).
async fn batch(s: &Inner, chunk: Vec<Result<ObjectPath>>) -> Vec<Result<ObjectPath>> {
    let mut results = Vec::with_capacity(chunk.len());
    let mut keys = Vec::with_capacity(chunk.len());
    for item in chunk {
        match item {
            Ok(p) => keys.push(p),
            Err(e) => results.push(Err(e)),
        }
    }
    if keys.is_empty() {
        return results;
    }
    let objects: std::result::Result<Vec<ObjectIdentifier>, _> =
        keys.iter().map(|k| ObjectIdentifier::builder().key(k.as_str()).build()).collect();
    let delete = objects.and_then(|o| Delete::builder().set_objects(Some(o)).quiet(true).build());
    let delete = match delete {
        Ok(d) => d,
        Err(e) => {
            let err = Error::generic(s.provider(), &s.bucket, format!("cannot build DeleteObjects: {e}"), None);
            return fail_all(results, keys, err);
        }
    };
    let req = s.client.delete_objects().bucket(&s.bucket).delete(delete);
    let sent = if s.quirks.delete_needs_content_md5 {
        // Servers such as MinIO insist on Content-MD5 here; the SDK now sends a CRC32
        // instead. Added before signing, so the header is covered by the signature.
        req.customize()
            .mutate_request(|request| {
                if let Some(body) = request.body().bytes() {
                    let digest = base64::engine::general_purpose::STANDARD.encode(Md5::digest(body));
                    request.headers_mut().insert("Content-MD5", digest);
                }
            })
            .send()
            .await
    } else {
        req.send().await
    };
    match sent {
        Ok(out) => {
            let failed: Vec<(String, String)> = out
                .errors()
                .iter()
                .map(|e| {
                    let key = e.key().unwrap_or_default().to_string();
                    let why = format!("{}: {}", e.code().unwrap_or("error"), e.message().unwrap_or_default());
                    (key, why)
                })
                .collect();
            for key in keys {
                match failed.iter().find(|(k, _)| k == key.as_str()) {
                    // A key the server reports missing is deleted as far as the caller cares.
                    Some((_, why)) if why.starts_with("NoSuchKey") => results.push(Ok(key)),
                    Some((_, why)) if why.starts_with("AccessDenied") => results.push(Err(Error::PermissionDenied {
                        provider: s.provider().into(),
                        path: key.to_string(),
                        message: why.clone(),
                        details: Default::default(),
                    })),
                    Some((_, why)) => results.push(Err(Error::generic(
                        s.provider(),
                        key.as_str(),
                        format!("delete failed: {why}"),
                        None,
                    ))),
                    None => results.push(Ok(key)),
                }
            }
            results
        }
        Err(e) => {
            let err = s.errors.map("", e);
            fail_all(results, keys, err)
        }
    }
}

/// Every key of a failed batch gets the batch's error, keyed to itself.
fn fail_all(mut results: Vec<Result<ObjectPath>>, keys: Vec<ObjectPath>, err: Error) -> Vec<Result<ObjectPath>> {
    let retryable = err.is_retryable();
    let message = err.to_string();
    let provider = err.provider().unwrap_or_default().to_string();
    let mut first = Some(err);
    for key in keys {
        let e = match first.take() {
            Some(e) => e,
            None if retryable => Error::unavailable(&provider, key.as_str(), message.clone(), None),
            None => Error::generic(&provider, key.as_str(), message.clone(), None),
        };
        results.push(Err(e));
    }
    results
}
