//! Multipart uploads, pending-upload cleanup, and server-side copy.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, MetadataDirective};
use bytes::Bytes;
use ferryboat_core::{
    Error, MultipartUpload, ObjectPath, PartInfo, PendingUpload, PutMode, PutOptions, PutResult, Result,
};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::client::{put_options, quote, to_system_time, unquote, Inner};

/// What stays literal in an `x-amz-copy-source` value: unreserved characters and `/`.
const COPY_SOURCE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub(crate) async fn start(s: &Arc<Inner>, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
    s.check_mode(&opts.mode)?;
    if !s.quirks.multipart_conditions && !matches!(opts.mode, PutMode::Overwrite) {
        // Refused up front: the server would complete the upload over whatever is there.
        return Err(Error::not_supported(
            s.provider(),
            "a conditional multipart upload: this server ignores If-None-Match and If-Match on CompleteMultipartUpload",
        ));
    }
    let req = put_options!(s.client.create_multipart_upload().bucket(&s.bucket).key(path.as_str()), &opts);
    let out = req.send().await.map_err(|e| s.errors.map(path.as_str(), e))?;
    let upload_id = out
        .upload_id()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            Error::generic(s.provider(), path.as_str(), "CreateMultipartUpload returned no upload id", None)
        })?
        .to_string();
    Ok(Box::new(S3Upload { store: Arc::clone(s), path: path.clone(), upload_id, mode: opts.mode }))
}

/// An S3 multipart upload in progress.
struct S3Upload {
    store: Arc<Inner>,
    path: ObjectPath,
    upload_id: String,
    mode: PutMode,
}

impl std::fmt::Debug for S3Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Upload").field("path", &self.path).field("upload_id", &self.upload_id).finish()
    }
}

#[async_trait]
impl MultipartUpload for S3Upload {
    fn upload_id(&self) -> &str {
        &self.upload_id
    }

    async fn put_part(&self, number: u32, data: Bytes) -> Result<PartInfo> {
        let s = &self.store;
        if number == 0 || number > s.quirks.max_parts {
            return Err(Error::invalid_config(format!(
                "part number {number} outside 1..={} for {}",
                s.quirks.max_parts,
                s.provider()
            )));
        }
        let size = data.len() as u64;
        let req = s
            .client
            .upload_part()
            .bucket(&s.bucket)
            .key(self.path.as_str())
            .upload_id(&self.upload_id)
            .part_number(number as i32)
            .content_length(size as i64)
            .body(ByteStream::from(data));
        let sent =
            if s.sign_payload { req.send().await } else { req.customize().disable_payload_signing().send().await };
        let out = sent.map_err(|e| s.errors.map(self.path.as_str(), e))?;
        let token = unquote(out.e_tag()).ok_or_else(|| {
            Error::unavailable(s.provider(), self.path.as_str(), format!("UploadPart {number} returned no etag"), None)
        })?;
        Ok(PartInfo { number, token, size })
    }

    async fn complete(self: Box<Self>, mut parts: Vec<PartInfo>) -> Result<PutResult> {
        let s = &self.store;
        parts.sort_by_key(|p| p.number);
        let completed: Vec<CompletedPart> = parts
            .iter()
            .map(|p| CompletedPart::builder().part_number(p.number as i32).e_tag(quote(&p.token)).build())
            .collect();
        let mut req = s
            .client
            .complete_multipart_upload()
            .bucket(&s.bucket)
            .key(self.path.as_str())
            .upload_id(&self.upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(completed)).build());
        req = match &self.mode {
            PutMode::Overwrite => req,
            PutMode::Create => req.if_none_match("*"),
            PutMode::Update(v) => req.set_if_match(v.etag.as_deref().map(|e| s.if_match_etag(e))),
        };
        // A conditional commit whose answer was lost would fail its own condition when sent
        // again: it is sent once, its outcome left to the caller (the SDK retries the rest).
        let conditional = self.mode != PutMode::Overwrite;
        let sent = if conditional {
            let once = aws_sdk_s3::config::Builder::new().retry_config(RetryConfig::disabled());
            req.customize().config_override(once).send().await
        } else {
            req.send().await
        };
        match sent {
            Ok(out) => {
                let version = out.version_id().map(str::to_string);
                match unquote(out.e_tag()).filter(|e| !e.is_empty()) {
                    Some(etag) => Ok(PutResult { etag: Some(etag), version }),
                    // Ceph RGW answers `<ETag></ETag>`; the object's HEAD has the right one
                    // (or a later writer's, should one replace it in between).
                    None => {
                        let meta = head(s, Source { bucket: &s.bucket, key: self.path.as_str() }).await?;
                        Ok(PutResult { etag: meta.etag, version: version.or(meta.version) })
                    }
                }
            }
            Err(e) => {
                let err = if conditional {
                    s.errors.map_once(self.path.as_str(), e)
                } else {
                    s.errors.map(self.path.as_str(), e)
                };
                let err = s.conditional_error(&self.path, &self.mode, err);
                // A lost condition will not change on retry: free the parts now rather than
                // leave them billed until a cleanup.
                if matches!(err, Error::AlreadyExists { .. } | Error::Precondition { .. }) {
                    if let Err(abort) = abort(s, &self.path, &self.upload_id).await {
                        tracing::warn!(path = %self.path, error = %abort, "aborting after a failed condition failed");
                    }
                }
                Err(err)
            }
        }
    }

    async fn abort(self: Box<Self>) -> Result<()> {
        abort(&self.store, &self.path, &self.upload_id).await
    }
}

/// Aborts an upload; one that is already gone counts as aborted.
pub(crate) async fn abort(s: &Inner, path: &ObjectPath, upload_id: &str) -> Result<()> {
    let sent = s.client.abort_multipart_upload().bucket(&s.bucket).key(path.as_str()).upload_id(upload_id).send().await;
    match sent {
        Ok(_) => Ok(()),
        Err(e) => match s.errors.map(path.as_str(), e) {
            Error::NotFound { path: p, .. } if p == path.as_str() => Ok(()),
            other => Err(other),
        },
    }
}

/// Unfinished uploads under `prefix`, every page of them.
pub(crate) async fn pending(s: &Inner, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
    let prefix = prefix.map(|p| format!("{p}/"));
    let mut out = Vec::new();
    let (mut key_marker, mut id_marker): (Option<String>, Option<String>) = (None, None);
    loop {
        let page = s
            .client
            .list_multipart_uploads()
            .bucket(&s.bucket)
            .set_prefix(prefix.clone())
            .set_key_marker(key_marker.take())
            .set_upload_id_marker(id_marker.take())
            .send()
            .await
            .map_err(|e| s.errors.map(prefix.as_deref().unwrap_or(""), e))?;
        for u in page.uploads() {
            let (Some(key), Some(id)) = (u.key(), u.upload_id()) else { continue };
            // An upload to a key no ObjectPath can name cannot be handed back; it is left
            // for the provider's lifecycle rules.
            let Ok(path) = ObjectPath::parse(key) else {
                tracing::warn!(key, "pending upload to a key that is not a valid path; skipped");
                continue;
            };
            out.push(PendingUpload {
                path,
                upload_id: id.to_string(),
                initiated: u.initiated().map(|t| to_system_time(Some(t))),
            });
        }
        match (page.is_truncated(), page.next_key_marker(), page.next_upload_id_marker()) {
            (Some(true), Some(k), id) if !k.is_empty() => {
                key_marker = Some(k.to_string());
                id_marker = id.map(str::to_string);
            }
            _ => break,
        }
    }
    Ok(out)
}

/// Largest object `CopyObject` takes (AWS's limit, shared by the S3-compatible servers).
pub(crate) const COPY_OBJECT_MAX: u64 = 5 * 1024 * 1024 * 1024;
/// Parts copied at once by a multipart copy.
const COPY_PARTS_IN_FLIGHT: usize = 8;

/// The object a server-side copy reads: a key in a bucket of the same endpoint.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
}

/// Server-side copy within the store's bucket, keeping the source's content type, metadata
/// and attributes (`CopyObject`'s default), or multipart `UploadPartCopy` above `threshold`.
pub(crate) async fn copy(s: &Inner, from: &ObjectPath, to: &ObjectPath, threshold: u64) -> Result<()> {
    copy_between(s, Source { bucket: &s.bucket, key: from.as_str() }, to, threshold, None).await.map(|_| ())
}

/// Server-side copy from `src` (any bucket of this endpoint) to `to`. With `replace`, the
/// new object carries exactly those options' content type, metadata, attributes and storage
/// class (`MetadataDirective: REPLACE`), written by the copy request itself.
pub(crate) async fn copy_between(
    s: &Inner,
    src: Source<'_>,
    to: &ObjectPath,
    threshold: u64,
    replace: Option<&PutOptions>,
) -> Result<PutResult> {
    if threshold < COPY_OBJECT_MAX {
        // A lowered threshold costs a HEAD per copy to learn the size.
        let meta = head(s, src).await?;
        if meta.size > threshold {
            return copy_multipart(s, src, to, meta, replace).await;
        }
    }
    let mut req = s.client.copy_object().bucket(&s.bucket).key(to.as_str()).copy_source(copy_source(src));
    if let Some(opts) = replace {
        req = put_options!(req.metadata_directive(MetadataDirective::Replace), opts);
    }
    match req.send().await {
        Ok(out) => Ok(PutResult {
            etag: unquote(out.copy_object_result().and_then(|r| r.e_tag())),
            version: out.version_id().map(str::to_string),
        }),
        // A source over CopyObject's limit is refused with `EntityTooLarge` or (AWS, moto)
        // `InvalidRequest`; the source's size, not the message, says whether that was why.
        Err(e) => match s.errors.map(src.key, e) {
            err if matches!(err.code(), Some("EntityTooLarge" | "InvalidRequest")) => {
                let meta = head(s, src).await?;
                if meta.size <= COPY_OBJECT_MAX {
                    return Err(err);
                }
                copy_multipart(s, src, to, meta, replace).await
            }
            err => Err(err),
        },
    }
}

fn copy_source(src: Source<'_>) -> String {
    format!("{}/{}", src.bucket, utf8_percent_encode(src.key, COPY_SOURCE))
}

async fn head(s: &Inner, src: Source<'_>) -> Result<ferryboat_core::ObjectMeta> {
    let out =
        s.client.head_object().bucket(src.bucket).key(src.key).send().await.map_err(|e| s.errors.map(src.key, e))?;
    let path = ObjectPath::parse(src.key)?;
    let mut meta = ferryboat_core::ObjectMeta::new(
        path,
        out.content_length().unwrap_or(0).max(0) as u64,
        to_system_time(out.last_modified()),
    );
    meta.etag = unquote(out.e_tag());
    meta.content_type = out.content_type().map(str::to_string);
    meta.metadata = out.metadata().map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
    meta.attributes = crate::client::attributes_of!(out);
    meta.storage_class = out.storage_class().map(|c| c.as_str().to_string());
    Ok(meta)
}

/// Copies in parts of equal size, the fewest the part limits allow, pinned to the source's
/// etag so that a source replaced mid-copy fails the copy instead of mixing two versions.
async fn copy_multipart(
    s: &Inner,
    from: Source<'_>,
    to: &ObjectPath,
    src: ferryboat_core::ObjectMeta,
    replace: Option<&PutOptions>,
) -> Result<PutResult> {
    use futures::stream::{self, StreamExt, TryStreamExt};
    let q = &s.quirks;
    let part = src.size.div_ceil(q.max_parts.max(1) as u64).max(q.min_part_size).min(q.max_part_size).max(1);
    if part.saturating_mul(q.max_parts as u64) < src.size {
        return Err(Error::not_supported(s.provider(), format!("copying a {}-byte object in parts", src.size)));
    }
    // UploadPartCopy carries no metadata: the upload is created with the source's (or the
    // replacement's) content type, metadata and attributes.
    let opts = match replace {
        Some(o) => o.clone(),
        None => PutOptions::from_meta(&src),
    };
    let req = put_options!(s.client.create_multipart_upload().bucket(&s.bucket).key(to.as_str()), &opts);
    let out = req.send().await.map_err(|e| s.errors.map(to.as_str(), e))?;
    let Some(upload_id) = out.upload_id().map(str::to_string) else {
        return Err(Error::generic(s.provider(), to.as_str(), "CreateMultipartUpload returned no upload id", None));
    };
    let source = copy_source(from);
    let ranges: Vec<(u32, u64, u64)> =
        (0..src.size.div_ceil(part)).map(|i| (i as u32 + 1, i * part, ((i + 1) * part).min(src.size) - 1)).collect();
    let copied: Result<Vec<CompletedPart>> = stream::iter(ranges)
        .map(|(number, first, last)| {
            let (source, upload_id) = (source.clone(), upload_id.clone());
            let etag = src.etag.as_deref().map(quote);
            async move {
                let out = s
                    .client
                    .upload_part_copy()
                    .bucket(&s.bucket)
                    .key(to.as_str())
                    .upload_id(upload_id)
                    .part_number(number as i32)
                    .copy_source(source)
                    .copy_source_range(format!("bytes={first}-{last}"))
                    .set_copy_source_if_match(etag)
                    .send()
                    .await
                    .map_err(|e| s.errors.map(from.key, e))?;
                let etag = out.copy_part_result().and_then(|r| r.e_tag()).map(str::to_string).ok_or_else(|| {
                    Error::unavailable(
                        s.provider(),
                        to.as_str(),
                        format!("UploadPartCopy {number} returned no etag"),
                        None,
                    )
                })?;
                Ok(CompletedPart::builder().part_number(number as i32).e_tag(etag).build())
            }
        })
        .buffered(COPY_PARTS_IN_FLIGHT)
        .try_collect()
        .await;
    let finished = match copied {
        Ok(parts) => s
            .client
            .complete_multipart_upload()
            .bucket(&s.bucket)
            .key(to.as_str())
            .upload_id(&upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map(|out| PutResult { etag: unquote(out.e_tag()), version: out.version_id().map(str::to_string) })
            .map_err(|e| s.errors.map(to.as_str(), e)),
        Err(e) => Err(e),
    };
    match finished {
        Ok(r) => Ok(r),
        Err(e) => {
            if let Err(abort_err) = abort(s, to, &upload_id).await {
                tracing::warn!(path = %to, error = %abort_err, "aborting a failed multipart copy failed");
            }
            Err(e)
        }
    }
}
