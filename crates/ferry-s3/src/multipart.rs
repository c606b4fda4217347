//! Multipart uploads, pending-upload cleanup, and server-side copy.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, StorageClass};
use bytes::Bytes;
use ferry_core::{Error, MultipartUpload, ObjectPath, PartInfo, PendingUpload, PutMode, PutOptions, PutResult, Result};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::store::{quote, to_system_time, unquote, Inner};

/// What stays literal in an `x-amz-copy-source` value: unreserved characters and `/`.
const COPY_SOURCE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub(crate) async fn start(s: &Arc<Inner>, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
    s.check_mode(&opts.mode)?;
    let mut req = s
        .client
        .create_multipart_upload()
        .bucket(&s.bucket)
        .key(path.as_str())
        .set_content_type(opts.content_type.clone())
        .set_storage_class(opts.storage_class.as_deref().map(StorageClass::from));
    if !opts.metadata.is_empty() {
        req = req.set_metadata(Some(opts.metadata.clone().into_iter().collect()));
    }
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
        let out = s
            .client
            .upload_part()
            .bucket(&s.bucket)
            .key(self.path.as_str())
            .upload_id(&self.upload_id)
            .part_number(number as i32)
            .content_length(size as i64)
            .body(ByteStream::from(data))
            .send()
            .await
            .map_err(|e| s.errors.map(self.path.as_str(), e))?;
        let token = unquote(out.e_tag()).ok_or_else(|| {
            Error::transient(s.provider(), self.path.as_str(), format!("UploadPart {number} returned no etag"), None)
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
            PutMode::Update(v) => req.set_if_match(v.etag.as_deref().map(quote)),
        };
        match req.send().await {
            Ok(out) => Ok(PutResult { etag: unquote(out.e_tag()), version: out.version_id().map(str::to_string) }),
            Err(e) => {
                let err = s.conditional_error(&self.path, &self.mode, s.errors.map(self.path.as_str(), e));
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

/// Server-side copy with `CopyObject` (content type and metadata come along).
pub(crate) async fn copy(s: &Inner, from: &ObjectPath, to: &ObjectPath) -> Result<()> {
    let source = format!("{}/{}", s.bucket, utf8_percent_encode(from.as_str(), COPY_SOURCE));
    let sent = s.client.copy_object().bucket(&s.bucket).key(to.as_str()).copy_source(source).send().await;
    match sent {
        Ok(_) => Ok(()),
        Err(e) => {
            let err = s.errors.map(from.as_str(), e);
            match &err {
                Error::Generic { message, .. }
                    if message.contains("copy source is larger") || message.starts_with("EntityTooLarge") =>
                {
                    Err(Error::not_supported(
                        s.provider(),
                        "server-side copy of an object above 5 GiB (multipart UploadPartCopy is not implemented yet)",
                    ))
                }
                _ => Err(err),
            }
        }
    }
}
