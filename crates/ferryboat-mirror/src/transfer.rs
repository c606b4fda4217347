//! Copying one object: server-side where the store can, otherwise streamed through this
//! machine with its SHA-256 computed on the way, then verified; retried on failure.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use ferryboat_core::pressure;
use ferryboat_core::resume::{self, resume_policy};
use ferryboat_core::{
    Error, GetOptions, GetResult, Metadata, ObjectMeta, ObjectPath, ObjectStoreExt, PutOptions, Result, UploadConfig,
};
use futures::stream::{BoxStream, StreamExt};
use md5::Md5;
use sha2::{Digest, Sha256};

use crate::carry::carry;
use crate::compare::{mtime_secs, plain_md5, META_SHA256, META_SOURCE_ETAG, META_SOURCE_MTIME};
use crate::context::Ctx;
use crate::options::VerifyMode;
use crate::report::{Failure, NotCarried, Progress};
use crate::shard::key_hash;

/// How one copy ended.
#[derive(Debug)]
pub(crate) enum CopyOutcome {
    Copied {
        bytes: u64,
        server_side: bool,
        /// What the destination could not store.
        not_carried: Vec<NotCarried>,
    },
    /// The source object disappeared between listing and reading.
    Vanished,
    Failed(Failure),
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn integrity(ctx_provider: &str, path: &ObjectPath, message: String) -> Error {
    Error::Integrity {
        provider: ctx_provider.to_string(),
        path: path.to_string(),
        message,
        details: Default::default(),
    }
}

/// Whether another attempt may succeed: transient errors whose request has not spent its
/// retries already (the budget is counted per request, once: a part that failed its
/// attempts is not sent again by a whole-object retry), and verification failures (a body
/// cut short or altered on the way).
fn worth_retrying(e: &Error) -> bool {
    (e.is_retryable() && !e.retries_spent()) || matches!(e, Error::Integrity { .. })
}

impl Ctx {
    /// Copies one object, retrying what may pass next time. Also says whether any attempt
    /// failed temporarily (throttled, timed out, refused): the copy window backs off on it.
    pub(crate) async fn copy_with_retry(&self, meta: &ObjectMeta, progress: &Progress) -> (CopyOutcome, bool) {
        let attempts = self.opts.attempts;
        let mut attempt = 1;
        let mut temporary = false;
        loop {
            // Temporary failures the stores' retries absorbed count as well: a copy that got
            // through after "slow down" still says the window is too wide.
            let (result, absorbed) = pressure::watch(self.copy_once(meta)).await;
            temporary |= absorbed > 0;
            match result {
                Ok(outcome) => return (outcome, temporary),
                Err(e) if worth_retrying(&e) && attempt < attempts => {
                    temporary |= e.is_retryable();
                    tracing::debug!(key = %meta.path, attempt, error = %e, "retrying copy");
                    // Exponential backoff with a per-key jitter, so retries do not march in step.
                    let base = 100u64 << (attempt - 1).min(6);
                    let jitter = key_hash(meta.path.as_str()).wrapping_add(u64::from(attempt)) % (base / 2 + 1);
                    tokio::time::sleep(Duration::from_millis(base.min(5_000) + jitter)).await;
                    attempt += 1;
                    progress.retried();
                }
                Err(e) => {
                    temporary |= e.is_retryable();
                    let failure = Failure {
                        key: meta.path.to_string(),
                        action: "copy".into(),
                        kind: e.kind().to_string(),
                        reason: e.to_string(),
                        attempts: attempt,
                    };
                    return (CopyOutcome::Failed(failure), temporary);
                }
            }
        }
    }

    async fn copy_once(&self, meta: &ObjectMeta) -> Result<CopyOutcome> {
        if self.server_side_possible(&meta.path) {
            if let Some(outcome) = self.server_side(meta).await? {
                return Ok(outcome);
            }
        }
        self.streamed(meta).await
    }

    /// Whether the destination can copy `path` from the source server-side: both say where
    /// the key lives, in one service, endpoint and account, and not at the same place.
    pub(crate) fn server_side_possible(&self, path: &ObjectPath) -> bool {
        if !self.opts.server_side_copy || !self.dst.capabilities().copy {
            return false;
        }
        match (self.src.locate(path), self.dst.locate(path)) {
            (Some(s), Some(d)) => s.same_account(&d) && (s.bucket != d.bucket || s.key != d.key),
            _ => false,
        }
    }

    /// A server-side copy from the source's key: one HEAD of the source for its metadata
    /// (listings do not carry it), then one copy request that writes the metadata, the
    /// source's recorded hash and the mirror's records with the object. `None` means the
    /// destination declined (another account, no permission): stream it instead.
    async fn server_side(&self, listed: &ObjectMeta) -> Result<Option<CopyOutcome>> {
        let head = match self.count_head(self.src.head(&listed.path)).await {
            Ok(h) => h,
            Err(Error::NotFound { .. }) => return Ok(Some(CopyOutcome::Vanished)),
            Err(e) => return Err(e),
        };
        let (mut opts, not_carried) = carry(self.src.as_ref(), self.dst.as_ref(), &head);
        let recorded = head.metadata.get(META_SHA256).cloned();
        if self.dst.capabilities().user_metadata {
            if let Some(sha) = &recorded {
                opts.metadata.insert(META_SHA256.into(), sha.clone());
            }
            if let Some(etag) = head.etag.as_ref().or(listed.etag.as_ref()) {
                opts.metadata.insert(META_SOURCE_ETAG.into(), etag.clone());
            }
            opts.metadata.insert(META_SOURCE_MTIME.into(), mtime_secs(head.last_modified).to_string());
        }
        self.counters.copy.inc();
        match self.dst.copy_from(self.src.as_ref(), &listed.path, &listed.path, opts).await {
            Ok(_) => {}
            Err(Error::NotSupported { .. } | Error::PermissionDenied { .. }) => return Ok(None),
            Err(Error::NotFound { .. }) => return Ok(Some(CopyOutcome::Vanished)),
            Err(e) => return Err(e),
        }
        if self.opts.verify != VerifyMode::None {
            let written = self.count_head(self.dst.head(&listed.path)).await?;
            let provider = self.dst.info().provider.clone();
            if written.size != head.size {
                let message = format!("server-side copy of {} bytes left {}", head.size, written.size);
                return Err(integrity(&provider, &listed.path, message));
            }
            if recorded.is_some() && written.metadata.get(META_SHA256) != recorded.as_ref() {
                return Err(integrity(&provider, &listed.path, "server-side copy lost the recorded sha256".into()));
            }
        }
        Ok(Some(CopyOutcome::Copied { bytes: head.size, server_side: true, not_carried }))
    }

    /// The most one upload holds in memory: `(part concurrency + 1)` parts. Also the largest
    /// object a destination without multipart upload is sent (in one buffer).
    fn single_put_limit(&self) -> u64 {
        self.opts.part_size.saturating_mul(self.opts.part_concurrency as u64 + 1)
    }

    /// Bytes of the in-flight budget one copy of `size` bytes holds: what the upload buffers
    /// at its starting window (all of it where the destination has no multipart upload).
    /// Parts beyond that window borrow from the budget only while it has room.
    fn reservation(&self, size: u64) -> u64 {
        size.min(self.single_put_limit()).max(1)
    }

    async fn streamed(&self, listed: &ObjectMeta) -> Result<CopyOutcome> {
        let _budget = self.budget.reserve(self.reservation(listed.size)).await;
        self.counters.get.inc();
        // A body cut on the way resumes from the byte it reached, pinned to the etag; only a
        // source that changed meanwhile sends the copy back to its start.
        let got = match resume::get(self.src.clone(), &listed.path, GetOptions::default(), &resume_policy()).await {
            Ok(g) => g,
            Err(Error::NotFound { .. }) => return Ok(CopyOutcome::Vanished),
            Err(e) => return Err(e),
        };
        let size = got.range.end - got.range.start;
        let (carried, not_carried) = carry(self.src.as_ref(), self.dst.as_ref(), &got.meta);
        let records = self.dst.capabilities().user_metadata;
        let mut metadata: Metadata = Metadata::new();
        if let Some(etag) = got.meta.etag.as_ref().or(listed.etag.as_ref()) {
            metadata.insert(META_SOURCE_ETAG.into(), etag.clone());
        }
        metadata.insert(META_SOURCE_MTIME.into(), mtime_secs(got.meta.last_modified).to_string());
        let claimed = got.meta.metadata.get(META_SHA256).cloned();
        let path = listed.path.clone();
        let with = |mut metadata: Metadata| {
            if !records {
                metadata.clear();
            }
            let mut m = carried.metadata.clone();
            m.append(&mut metadata);
            PutOptions { metadata: m, ..carried.clone() }
        };

        let caps = self.dst.capabilities();
        if !caps.multipart && size > self.single_put_limit() {
            // One request would need the whole object in one buffer.
            return Err(Error::not_supported(
                &self.dst.info().provider,
                format!(
                    "writing {size} bytes: the destination has no multipart upload, and objects over {} bytes \
                     (part size x (part concurrency + 1)) are not held whole in memory",
                    self.single_put_limit()
                ),
            ));
        }
        let sha = if size <= self.opts.part_size || !caps.multipart {
            // Small enough for one request: hash it first, so its hash is recorded with it.
            let data = self.read_small(got, size).await?;
            let digest = hex(&Sha256::digest(&data));
            if let Some(claimed) = &claimed {
                if *claimed != digest {
                    return Err(integrity(
                        &self.src.info().provider,
                        &path,
                        "content does not match its recorded sha256".into(),
                    ));
                }
            }
            metadata.insert(META_SHA256.into(), digest.clone());
            let opts = with(metadata);
            self.counters.put.inc();
            let put = self.dst.put_opts(&path, data.clone(), opts).await?;
            if self.opts.verify == VerifyMode::Size && store_attests(put.etag.as_deref(), &data) {
                // The store hashed what it received and it is what we sent: a HEAD would
                // prove less, at the price of one more request per object.
                return Ok(CopyOutcome::Copied { bytes: size, server_side: false, not_carried });
            }
            digest
        } else {
            // Large: streamed through a multipart upload. Its metadata is sent before the
            // first byte, so only a hash the source already recorded can go with it; the
            // stream checks that hash (and the length) at its end and fails the upload,
            // which is then aborted, if either is wrong.
            if let Some(claimed) = &claimed {
                metadata.insert(META_SHA256.into(), claimed.clone());
            }
            let digest_slot = Arc::new(Mutex::new(None));
            let body = hashing(
                got.body,
                size,
                claimed,
                path.clone(),
                self.src.info().provider.clone(),
                digest_slot.clone(),
                self.counters.clone(),
            );
            let config = UploadConfig {
                part_size: self.opts.part_size,
                concurrency: self.opts.part_concurrency,
                max_concurrency: self.opts.max_part_concurrency,
                memory: Some(self.budget.clone()),
                expected_size: Some(size),
                // Counted per part: a part cut on the way is sent again alone.
                part_attempts: resume_policy().max_attempts,
            };
            self.counters.put.add(size.div_ceil(self.opts.part_size.max(1)) + 2);
            let opts = with(metadata);
            self.dst.put_stream(&path, body, opts, config).await?;
            let digest = digest_slot.lock().map(|mut d| d.take()).unwrap_or(None);
            digest.ok_or_else(|| {
                integrity("mirror", &path, "upload finished before the body was read to its end".into())
            })?
        };
        self.verify(&path, size, &sha).await?;
        Ok(CopyOutcome::Copied { bytes: size, server_side: false, not_carried })
    }

    async fn read_small(&self, got: GetResult, size: u64) -> Result<Bytes> {
        let path = got.meta.path.clone();
        let mut body = got.body;
        let mut buf = BytesMut::with_capacity(size as usize);
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            self.counters.egress.add(chunk.len() as u64);
            if (buf.len() + chunk.len()) as u64 > size {
                return Err(integrity(
                    &self.src.info().provider,
                    &path,
                    format!("body is longer than the {size} bytes announced"),
                ));
            }
            buf.extend_from_slice(&chunk);
        }
        if buf.len() as u64 != size {
            return Err(integrity(
                &self.src.info().provider,
                &path,
                format!("body has {} bytes, expected {size}", buf.len()),
            ));
        }
        Ok(buf.freeze())
    }

    async fn verify(&self, path: &ObjectPath, size: u64, sha: &str) -> Result<()> {
        let provider = self.dst.info().provider.clone();
        match self.opts.verify {
            VerifyMode::None => Ok(()),
            VerifyMode::Size => {
                let head = self.count_head(self.dst.head(path)).await?;
                if head.size != size {
                    return Err(integrity(
                        &provider,
                        path,
                        format!("wrote {size} bytes, the store holds {}", head.size),
                    ));
                }
                if let Some(recorded) = head.metadata.get(META_SHA256) {
                    if recorded != sha {
                        return Err(integrity(&provider, path, "recorded sha256 differs from what was sent".into()));
                    }
                }
                Ok(())
            }
            VerifyMode::Hash => {
                self.counters.get.inc();
                let opts = GetOptions::default();
                let mut body = resume::get(self.dst.clone(), path, opts, &resume_policy()).await?.body;
                let mut hasher = Sha256::new();
                let mut n = 0u64;
                while let Some(chunk) = body.next().await {
                    let chunk = chunk?;
                    n += chunk.len() as u64;
                    hasher.update(&chunk);
                }
                if n != size || hex(&hasher.finalize()) != sha {
                    return Err(integrity(&provider, path, "read-back content differs from what was sent".into()));
                }
                Ok(())
            }
        }
    }
}

/// Whether a write's answer proves the store holds exactly `data`: single-part writes to S3
/// and most S3-compatible stores answer with the MD5 of the bytes they received. Any other
/// etag (multipart, encrypted at rest with a customer key, Azure, GCS) proves nothing here.
fn store_attests(etag: Option<&str>, data: &[u8]) -> bool {
    etag.is_some_and(|e| plain_md5(e) && e.eq_ignore_ascii_case(&hex(&Md5::digest(data))))
}

/// Wraps a body: counts and hashes it, and at its end checks the length and any claimed
/// hash, failing the stream (and so the upload) on a mismatch.
fn hashing(
    body: BoxStream<'static, Result<Bytes>>,
    size: u64,
    claimed: Option<String>,
    path: ObjectPath,
    provider: String,
    slot: Arc<Mutex<Option<String>>>,
    counters: Arc<crate::context::Counters>,
) -> BoxStream<'static, Result<Bytes>> {
    struct State {
        body: BoxStream<'static, Result<Bytes>>,
        hasher: Sha256,
        seen: u64,
    }
    let state = State { body, hasher: Sha256::new(), seen: 0 };
    futures::stream::unfold(Some(state), move |state| {
        let (claimed, path, provider, slot, counters) =
            (claimed.clone(), path.clone(), provider.clone(), slot.clone(), counters.clone());
        async move {
            let mut st = state?;
            match st.body.next().await {
                Some(Ok(chunk)) => {
                    st.seen += chunk.len() as u64;
                    counters.egress.add(chunk.len() as u64);
                    st.hasher.update(&chunk);
                    Some((Ok(chunk), Some(st)))
                }
                Some(Err(e)) => Some((Err(e), None)),
                None => {
                    let digest = hex(&st.hasher.finalize());
                    let problem = if st.seen != size {
                        Some(format!("body has {} bytes, expected {size}", st.seen))
                    } else if claimed.as_ref().is_some_and(|c| *c != digest) {
                        Some("content does not match its recorded sha256".to_string())
                    } else {
                        None
                    };
                    match problem {
                        Some(message) => Some((Err(integrity(&provider, &path, message)), None)),
                        None => {
                            if let Ok(mut s) = slot.lock() {
                                *s = Some(digest);
                            }
                            None
                        }
                    }
                }
            }
        }
    })
    .boxed()
}
