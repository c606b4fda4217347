//! Staged uploads: each part is a block (Put Block), the blob appears when the block list is
//! committed (Put Block List) with its content type, metadata, access tier and condition.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use base64::prelude::{Engine as _, BASE64_STANDARD};
use bytes::Bytes;
use ferryboat_core::{Error, MultipartUpload, ObjectPath, PartInfo, PutMode, PutOptions, PutResult, Result};
use http::header::{HeaderName, IF_MATCH, IF_NONE_MATCH};
use http::Method;
use object_store::multipart::MultipartStore as _;
use object_store::path::Path;

use crate::client::{content_type_xml, os_path, quoted, update_missing_is_precondition, Inner};
use crate::error::PROVIDER;
use crate::metadata;

/// An upload of block blob `path`. Blocks are staged against the blob name; nothing is
/// visible until [`MultipartUpload::complete`] commits the list.
pub(crate) struct BlockUpload {
    store: Arc<Inner>,
    path: ObjectPath,
    os_path: Path,
    id: String,
    opts: PutOptions,
}

impl fmt::Debug for BlockUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockUpload").field("path", &self.path).field("id", &self.id).finish_non_exhaustive()
    }
}

impl BlockUpload {
    pub(crate) fn new(store: Arc<Inner>, path: ObjectPath, opts: PutOptions) -> Result<Self> {
        // Azure has no upload object; the id only tells uploads apart in journals and logs.
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
        let id = format!("azure-blocks-{nanos:x}-{:x}", NEXT.fetch_add(1, Ordering::Relaxed));
        Ok(BlockUpload { os_path: os_path(&path)?, store, path, id, opts })
    }

    /// Put Block List: the headers say what the blob is and when the commit may happen.
    async fn commit(&self, block_ids: &[String]) -> Result<PutResult> {
        let mut xml = String::with_capacity(64 + block_ids.len() * 64);
        xml.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
        for id in block_ids {
            xml.push_str("<Latest>");
            xml.push_str(&BASE64_STANDARD.encode(id));
            xml.push_str("</Latest>");
        }
        xml.push_str("</BlockList>");

        let mut headers = vec![content_type_xml()];
        let header = |name: &str, value: &str| -> Result<(HeaderName, String)> {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::invalid_config(format!("invalid header name {name:?}")))?;
            Ok((name, value.to_owned()))
        };
        if let Some(ct) = &self.opts.content_type {
            headers.push(header("x-ms-blob-content-type", ct)?);
        }
        if let Some(tier) = &self.opts.storage_class {
            headers.push(header("x-ms-access-tier", tier)?);
        }
        let a = &self.opts.attributes;
        let blob_headers = [
            ("x-ms-blob-content-disposition", &a.content_disposition),
            ("x-ms-blob-content-encoding", &a.content_encoding),
            ("x-ms-blob-content-language", &a.content_language),
            ("x-ms-blob-cache-control", &a.cache_control),
        ];
        for (name, value) in blob_headers {
            if let Some(v) = value {
                headers.push(header(name, v)?);
            }
        }
        for (k, v) in &self.opts.metadata {
            headers.push(header(&format!("x-ms-meta-{}", metadata::encode(k)), v)?);
        }
        match &self.opts.mode {
            PutMode::Overwrite => {}
            PutMode::Create => headers.push((IF_NONE_MATCH, "*".to_owned())),
            PutMode::Update(v) => {
                let etag = v.etag.as_deref().ok_or_else(|| {
                    Error::not_supported(PROVIDER, "conditional update by version id (give the etag)")
                })?;
                headers.push((IF_MATCH, quoted(etag)));
            }
        }

        let url = self.store.blob_url(&self.path, &[("comp", "blocklist")])?;
        let answer = self.store.send(Method::PUT, url, headers, Bytes::from(xml), self.path.as_str()).await.map_err(
            |e| match e {
                // Another commit to the same blob discards this upload's uncommitted blocks.
                e @ Error::Generic { .. } if e.code() == Some("InvalidBlockList") => match e {
                    Error::Generic { provider, path, message, source, details } => Error::Generic {
                        provider,
                        path,
                        message: format!(
                            "{message} (blocks missing: another upload to this blob committed or \
                             the blocks expired after 7 days)"
                        ),
                        source,
                        details,
                    },
                    other => other,
                },
                other => update_missing_is_precondition(other, &self.path, &self.opts.mode),
            },
        )?;
        let text = |name: &str| answer.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        debug_assert!(answer.status == 201 || answer.status == 200);
        Ok(PutResult { etag: text("etag").map(|e| e.trim_matches('"').to_owned()), version: text("x-ms-version-id") })
    }
}

#[async_trait]
impl MultipartUpload for BlockUpload {
    fn upload_id(&self) -> &str {
        &self.id
    }

    async fn put_part(&self, number: u32, data: Bytes) -> Result<PartInfo> {
        if number == 0 {
            return Err(Error::invalid_config("part numbers start at 1"));
        }
        let size = data.len() as u64;
        let part = self
            .store
            .engine
            .put_part(&self.os_path, &self.id, number as usize - 1, data.into())
            .await
            .map_err(|e| self.store.err(e, self.path.as_str()))?;
        Ok(PartInfo { number, token: part.content_id, size })
    }

    async fn complete(self: Box<Self>, mut parts: Vec<PartInfo>) -> Result<PutResult> {
        parts.sort_by_key(|p| p.number);
        if let Some(w) = parts.windows(2).find(|w| w[0].number == w[1].number) {
            return Err(Error::invalid_config(format!("part {} given twice", w[0].number)));
        }
        let ids: Vec<String> = parts.into_iter().map(|p| p.token).collect();
        self.commit(&ids).await
    }

    /// Azure has no call to drop uncommitted blocks: they are discarded when another block
    /// list is committed to the blob, or after 7 days. Nothing was ever visible.
    async fn abort(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}
