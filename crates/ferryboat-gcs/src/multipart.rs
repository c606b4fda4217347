//! Multipart uploads as part objects joined by `compose`.
//!
//! Ferry parts arrive concurrently and in any order; a GCS resumable session takes bytes in
//! order only and in multiples of 256 KiB, so it would have to buffer every early part. Instead
//! each part is uploaded as an object of its own under `.ferry-uploads/{id}/`, and `complete`
//! composes them (32 at a time, in a tree when there are more) into the destination, with the
//! write's generation precondition on the last compose. A marker object
//! `.ferry-uploads/{id}/upload` names the destination, so unfinished uploads can be listed and
//! aborted after a crash.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;
use ferryboat_core::retry::Idempotency;
use ferryboat_core::{Error, MultipartUpload, ObjectPath, PartInfo, PendingUpload, PutOptions, PutResult, Result};
use futures::stream::{self, StreamExt, TryStreamExt};
use reqwest::{header, Method};
use serde_json::json;

use crate::client::{random_hex, Client, WriteCondition, RESERVED_PREFIX};
use crate::error::OnPrecondition;
use crate::list::raw_objects;
use crate::model::{parse_json, ObjectResource};
use crate::PROVIDER;

/// Parts per upload. GCS no longer documents a component limit for composite objects; this
/// is ferry's usual bound, and what the part names are padded for.
pub(crate) const MAX_PARTS: u32 = 10_000;
/// Sources per `compose` request.
const COMPOSE_MAX: usize = 32;
/// Metadata key on the marker naming the destination key.
const TARGET_KEY: &str = "ferry-target";

/// Refuses writes into the reserved prefix, which listings hide.
pub(crate) fn reject_reserved(path: &ObjectPath) -> Result<()> {
    if path.as_str().starts_with(RESERVED_PREFIX) || format!("{path}/") == RESERVED_PREFIX {
        return Err(Error::InvalidPath {
            path: path.to_string(),
            reason: format!("{RESERVED_PREFIX} is reserved for the parts of multipart uploads"),
        });
    }
    Ok(())
}

fn upload_dir(id: &str) -> String {
    format!("{RESERVED_PREFIX}{id}/")
}

fn marker_name(id: &str) -> String {
    format!("{}upload", upload_dir(id))
}

/// A multipart upload in progress.
#[derive(Debug)]
pub(crate) struct GcsUpload {
    store: Arc<Client>,
    id: String,
    path: ObjectPath,
    opts: PutOptions,
}

impl GcsUpload {
    pub(crate) async fn start(store: Arc<Client>, path: ObjectPath, opts: PutOptions) -> Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let id = random_hex(COUNTER.fetch_add(1, Ordering::Relaxed));
        let mut marker = PutOptions::default();
        marker.metadata.insert(TARGET_KEY.into(), path.to_string());
        let cond = WriteCondition { if_generation_match: Some(0), on412: OnPrecondition::AlreadyExists };
        store.upload(&marker_name(&id), Bytes::new(), &marker, &cond).await?;
        Ok(GcsUpload { store, id, path, opts })
    }

    /// Composes `sources` into `dest`; a destination generation condition applies if given.
    async fn compose(
        &self,
        dest: &str,
        sources: &[String],
        destination: serde_json::Value,
        cond: &WriteCondition,
    ) -> Result<ObjectResource> {
        let body = json!({
            "destination": destination,
            "sourceObjects": sources.iter().map(|s| json!({ "name": s })).collect::<Vec<_>>(),
        });
        let mut query = Vec::new();
        if let Some(g) = cond.if_generation_match {
            query.push(("ifGenerationMatch", g.to_string()));
        }
        let client = &self.store;
        let (url, query, body) = (&client.object_url(dest, "/compose"), &query, body.to_string());
        let build = || async {
            let rb = client.request(Method::POST, url, query).await?;
            Ok(rb.header(header::CONTENT_TYPE, "application/json").body(body.clone()))
        };
        // The same sources composed again give the same object; under a condition a lost
        // answer would make the second compose fail it, so that one is sent once.
        let idempotency =
            if cond.if_generation_match.is_none() { Idempotency::Idempotent } else { Idempotency::NotIdempotent };
        let body = client.call(idempotency, dest, cond.on412, build).await?;
        parse_json(&body, dest)
    }

    async fn assemble(&self, parts: Vec<PartInfo>) -> Result<PutResult> {
        let mut parts = parts;
        parts.sort_by_key(|p| p.number);
        if parts.windows(2).any(|w| w[0].number == w[1].number) {
            return Err(Error::generic(PROVIDER, self.path.as_str(), "a part number is listed twice", None));
        }
        let cond = self.store.write_condition(&self.path, &self.opts.mode).await?;
        if parts.is_empty() {
            let r = self.store.upload(self.path.as_str(), Bytes::new(), &self.opts, &cond).await?;
            return Ok(PutResult { etag: r.etag, version: r.generation.map(|g| g.to_string()) });
        }
        let dir = upload_dir(&self.id);
        let mut names: Vec<String> = parts.iter().map(|p| format!("{dir}p{:05}", p.number)).collect();
        let mut round = 0;
        // More than 32 parts: compose groups into intermediates until one request suffices.
        while names.len() > COMPOSE_MAX {
            round += 1;
            let groups: Vec<(usize, Vec<String>)> = names.chunks(COMPOSE_MAX).map(|c| c.to_vec()).enumerate().collect();
            let none = WriteCondition { if_generation_match: None, on412: OnPrecondition::Precondition };
            names = stream::iter(groups)
                .map(|(i, group)| {
                    let dest = format!("{dir}c{round:02}-{i:05}");
                    let none = &none;
                    async move {
                        self.compose(&dest, &group, json!({ "name": dest }), none).await?;
                        Ok::<_, Error>(dest)
                    }
                })
                .buffered(8)
                .try_collect()
                .await?;
        }
        let destination = crate::model::resource_fields(self.path.as_str(), &self.opts);
        self.store.precheck(self.path.as_str(), &cond).await?;
        let r = self.compose(self.path.as_str(), &names, destination, &cond).await?;
        Ok(PutResult { etag: r.etag, version: r.generation.map(|g| g.to_string()) })
    }
}

#[async_trait]
impl MultipartUpload for GcsUpload {
    fn upload_id(&self) -> &str {
        &self.id
    }

    async fn put_part(&self, number: u32, data: Bytes) -> Result<PartInfo> {
        if number == 0 || number > MAX_PARTS {
            return Err(Error::generic(
                PROVIDER,
                self.path.as_str(),
                format!("part number {number} is outside 1..={MAX_PARTS}"),
                None,
            ));
        }
        let size = data.len() as u64;
        let name = format!("{}p{number:05}", upload_dir(&self.id));
        let cond = WriteCondition { if_generation_match: None, on412: OnPrecondition::Precondition };
        // A composite takes its storage class from its sources: parts carry the requested one.
        let opts = PutOptions { storage_class: self.opts.storage_class.clone(), ..Default::default() };
        let r = self.store.upload(&name, data, &opts, &cond).await?;
        let token = r.generation.map(|g| g.to_string()).unwrap_or_default();
        Ok(PartInfo { number, token, size })
    }

    async fn complete(self: Box<Self>, parts: Vec<PartInfo>) -> Result<PutResult> {
        let result = self.assemble(parts).await;
        match &result {
            // A retry could still succeed: keep the parts (list_pending_uploads finds them).
            Err(e) if e.is_retryable() => {}
            // Done, or refused for good (the object exists, the condition failed): the parts
            // are of no further use. Cleanup failures leave a pending upload to abort later.
            _ => {
                if let Err(e) = abort_id(&self.store, &self.id).await {
                    tracing::warn!(upload = %self.id, error = %e, "could not remove the parts of an upload");
                }
            }
        }
        result
    }

    async fn abort(self: Box<Self>) -> Result<()> {
        abort_id(&self.store, &self.id).await
    }
}

/// Deletes an upload's parts, intermediates and, last, its marker.
pub(crate) async fn abort_id(store: &Arc<Client>, id: &str) -> Result<()> {
    if id.is_empty() || id.contains('/') {
        return Err(Error::generic(PROVIDER, id, "not an upload id of this store", None));
    }
    let marker = marker_name(id);
    raw_objects(store.clone(), upload_dir(id))
        .try_filter(|r| futures::future::ready(r.name != marker))
        .map(|r| async move { store.delete_name(&r?.name).await })
        .buffer_unordered(8)
        .try_collect::<()>()
        .await?;
    store.delete_name(&marker).await
}

/// Unfinished uploads whose destination lies under `prefix`.
pub(crate) async fn list_pending(store: &Arc<Client>, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
    let mut out = Vec::new();
    let mut objects = raw_objects(store.clone(), RESERVED_PREFIX.to_string());
    while let Some(r) = objects.try_next().await? {
        let Some(id) = r.name.strip_prefix(RESERVED_PREFIX).and_then(|rest| rest.strip_suffix("/upload")) else {
            continue;
        };
        let Some(target) = r.metadata.as_ref().and_then(|m| m.get(TARGET_KEY)) else { continue };
        let Ok(path) = ObjectPath::parse(target.as_str()) else { continue };
        if prefix.is_none_or(|p| path.is_under(p)) {
            let initiated = r.time_created.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
            out.push(PendingUpload { path, upload_id: id.to_string(), initiated: initiated.map(SystemTime::from) });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_prefix_is_refused() {
        assert!(reject_reserved(&ObjectPath::parse(".ferry-uploads/x/p00001").unwrap()).is_err());
        assert!(reject_reserved(&ObjectPath::parse(".ferry-uploads").unwrap()).is_err());
        assert!(reject_reserved(&ObjectPath::parse("a/.ferry-uploads/x").unwrap()).is_ok());
    }
}
