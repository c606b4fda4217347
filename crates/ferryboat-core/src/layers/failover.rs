//! `Replicated`: reads fail over across replicas; writes go to the primary and, as the user
//! chooses, to every replica too, or to the primary alone (the mirror brings replicas up).

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};

use crate::attributes::ObjectLocation;
use crate::batch;
use crate::capabilities::Capabilities;
use crate::error::{Error, Result};
use crate::info::StoreInfo;
use crate::path::ObjectPath;
use crate::store::{MultipartUpload, ObjectStore};
use crate::types::{
    CopyMode, CopyOptions, DeleteOptions, GetOptions, GetResult, ListOptions, ListResult, ObjectMeta, PartInfo,
    PendingUpload, PresignMethod, PutMode, PutOptions, PutResult,
};

/// Joins the per-member tokens of one fanned-out part; a control character, so it can occur
/// in no etag or block id.
const TOKEN_SEPARATOR: &str = "\u{1f}";

/// Where writes go besides the primary.
#[derive(Clone)]
pub enum WriteMode {
    /// Only the primary; replicas are kept in step by running the mirror.
    PrimaryOnly,
    /// The primary, then every replica before the write returns. A replica that fails makes
    /// the write fail (the primary already has it: retrying is safe). The primary alone
    /// decides a write's condition (`PutMode::Create`, `Update`, a create-only copy): etags
    /// differ across providers, so replicas then follow it unconditionally.
    AllReplicas,
}

impl fmt::Debug for WriteMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteMode::PrimaryOnly => f.write_str("PrimaryOnly"),
            WriteMode::AllReplicas => f.write_str("AllReplicas"),
        }
    }
}

/// When a store is skipped after failing, and when it is tried again.
#[derive(Debug, Clone)]
pub struct BreakerConfig {
    /// Consecutive failures that open the circuit.
    pub failures: u32,
    /// How long an open circuit skips the store before one probe request is let through.
    pub cooldown: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig { failures: 3, cooldown: Duration::from_secs(10) }
    }
}

#[derive(Debug, Default)]
struct Breaker {
    consecutive: u32,
    open_until: Option<Instant>,
}

#[derive(Debug)]
struct Member {
    store: Arc<dyn ObjectStore>,
    breaker: Mutex<Breaker>,
}

impl Member {
    fn available(&self) -> bool {
        let b = self.breaker.lock().unwrap_or_else(|e| e.into_inner());
        b.open_until.is_none_or(|t| Instant::now() >= t)
    }

    fn record(&self, ok: bool, config: &BreakerConfig) {
        let mut b = self.breaker.lock().unwrap_or_else(|e| e.into_inner());
        if ok {
            *b = Breaker::default();
        } else {
            b.consecutive += 1;
            if b.consecutive >= config.failures {
                b.open_until = Some(Instant::now() + config.cooldown);
            }
        }
    }
}

/// A primary store and its replicas, seen as one store.
///
/// Reads go to the primary and fall back to the replicas, in order, when it fails with a
/// retryable error (5xx, reset, timeout — put a [`Timeout`](super::Timeout) hook on each
/// member so a hung provider fails fast). A store that keeps failing is skipped by a
/// circuit breaker and probed again after a cooldown. `NotFound` and other definite answers
/// are returned as they are: they are answers, not outages.
///
/// `capabilities()` are the primary's, and so is `info()`, except that with
/// [`WriteMode::AllReplicas`] its [`StoreInfo::also_writes_to`] names every replica, so that a
/// jurisdiction policy above sees every store a write reaches.
#[derive(Debug, Clone)]
pub struct Replicated {
    members: Arc<Vec<Member>>,
    writes: WriteMode,
    breaker: BreakerConfig,
    info: StoreInfo,
    /// The primary's, less what the set refuses (a version delete when writing to all).
    caps: Capabilities,
}

impl Replicated {
    /// The primary first, then replicas in the order reads should fall back to them.
    pub fn new(primary: Arc<dyn ObjectStore>, replicas: Vec<Arc<dyn ObjectStore>>, writes: WriteMode) -> Self {
        let mut info = primary.info().clone();
        let mut caps = primary.capabilities().clone();
        if let WriteMode::AllReplicas = writes {
            caps.delete_versions = false;
            for replica in &replicas {
                info.also_writes_to.push(replica.info().clone());
            }
        }
        let members =
            std::iter::once(primary).chain(replicas).map(|store| Member { store, breaker: Mutex::default() }).collect();
        Replicated { members: Arc::new(members), writes, breaker: BreakerConfig::default(), info, caps }
    }

    /// Sets the circuit breaker.
    pub fn with_breaker(mut self, breaker: BreakerConfig) -> Self {
        self.breaker = breaker;
        self
    }

    fn primary(&self) -> &Arc<dyn ObjectStore> {
        &self.members[0].store
    }

    /// Members whose circuit is closed, in order; all of them if every circuit is open
    /// (better to ask than to fail without asking).
    fn candidates(&self) -> Vec<&Member> {
        let open: Vec<&Member> = self.members.iter().filter(|m| m.available()).collect();
        if open.is_empty() {
            self.members.iter().collect()
        } else {
            open
        }
    }

    /// Runs a read on the first member that answers.
    async fn read<'a, T, F, Fut>(&'a self, op: F) -> Result<T>
    where
        F: Fn(&'a Arc<dyn ObjectStore>) -> Fut,
        Fut: Future<Output = Result<T>> + 'a,
    {
        let mut last = None;
        for member in self.candidates() {
            match op(&member.store).await {
                Err(e) if e.is_retryable() => {
                    member.record(false, &self.breaker);
                    tracing::debug!(provider = %member.store.info().provider, error = %e, "failing over");
                    last = Some(e);
                }
                other => {
                    member.record(true, &self.breaker);
                    return other;
                }
            }
        }
        Err(last.unwrap_or_else(|| Error::generic("replicated", "", "no store to read from", None)))
    }

    /// Applies a write to the primary, then as the write mode says; `op` is told whether it
    /// writes to the primary (replicas follow unconditionally).
    async fn write<'a, T, F, Fut>(&'a self, op: F) -> Result<T>
    where
        F: Fn(&'a Arc<dyn ObjectStore>, bool) -> Fut,
        Fut: Future<Output = Result<T>> + 'a,
    {
        let result = op(self.primary(), true).await?;
        match &self.writes {
            WriteMode::PrimaryOnly => {}
            WriteMode::AllReplicas => {
                for member in &self.members[1..] {
                    op(&member.store, false).await?;
                }
            }
        }
        Ok(result)
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl ObjectStore for Replicated {
    fn info(&self) -> &StoreInfo {
        &self.info
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn put_opts(&self, path: &ObjectPath, data: Bytes, opts: PutOptions) -> Result<PutResult> {
        self.write(|s, primary| s.put_opts(path, data.clone(), replica_opts(&opts, primary))).await
    }

    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        match &self.writes {
            WriteMode::PrimaryOnly => self.primary().put_multipart_opts(path, opts).await,
            WriteMode::AllReplicas => {
                let mut uploads = Vec::with_capacity(self.members.len());
                for (i, member) in self.members.iter().enumerate() {
                    // Completed in member order: the primary's condition is checked first.
                    match member.store.put_multipart_opts(path, replica_opts(&opts, i == 0)).await {
                        Ok(u) => uploads.push(u),
                        Err(e) => {
                            for u in uploads {
                                let _ = u.abort().await;
                            }
                            return Err(e);
                        }
                    }
                }
                // The primary's id: what `list_pending_uploads` (the primary's) reports.
                let id = uploads[0].upload_id().to_string();
                Ok(Box::new(FanoutUpload { uploads, id }))
            }
        }
    }

    async fn get_opts(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult> {
        self.read(|s| s.get_opts(path, opts.clone())).await
    }

    async fn head(&self, path: &ObjectPath) -> Result<ObjectMeta> {
        self.read(|s| s.head(path)).await
    }

    async fn delete(&self, path: &ObjectPath) -> Result<()> {
        self.write(|s, _| s.delete(path)).await
    }

    /// A version id names a version in one store only: a version is deleted from the
    /// primary, and only when writes go to the primary alone.
    async fn delete_opts(&self, path: &ObjectPath, opts: DeleteOptions) -> Result<()> {
        match (&self.writes, &opts.version) {
            (_, None) => self.delete(path).await,
            (WriteMode::PrimaryOnly, Some(_)) => self.primary().delete_opts(path, opts).await,
            (WriteMode::AllReplicas, Some(_)) => Err(Error::not_supported(
                &self.info.provider,
                "deleting one version in a store replicated to every replica (version ids differ per replica)",
            )),
        }
    }

    fn delete_stream<'a>(&'a self, paths: BoxStream<'a, Result<ObjectPath>>) -> BoxStream<'a, Result<ObjectPath>> {
        match &self.writes {
            WriteMode::PrimaryOnly => self.primary().delete_stream(paths),
            // Batch by batch, as `delete` does key by key: the primary first, then every
            // replica for the keys the primary deleted; a key is deleted once all have.
            WriteMode::AllReplicas => batch::batches(self.primary().as_ref(), paths)
                .then(move |paths| async move {
                    let mut results = batch::delete_batch(self.primary().as_ref(), paths).await;
                    for member in &self.members[1..] {
                        let done: Vec<(usize, ObjectPath)> = (results.iter().enumerate())
                            .filter_map(|(i, r)| r.as_ref().ok().map(|p| (i, p.clone())))
                            .collect();
                        let keys = done.iter().map(|(_, p)| Ok(p.clone())).collect();
                        // Answers come back in any order: match them to keys by path.
                        for answer in batch::delete_batch(member.store.as_ref(), keys).await {
                            let Err(e) = answer else { continue };
                            // An error naming no key still marks one key not deleted: never dropped.
                            let named = done.iter().find(|(_, p)| Some(p.as_str()) == e.path());
                            let slot = named.or_else(|| done.iter().find(|(i, _)| results[*i].is_ok()));
                            if let Some((i, _)) = slot {
                                results[*i] = Err(e);
                            }
                        }
                    }
                    stream::iter(results)
                })
                .flatten()
                .boxed(),
        }
    }

    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        if opts.versions {
            // Version ids are the primary's: a replica's would name nothing a later
            // `delete_opts` (sent to the primary) could find.
            return self.primary().list_opts(opts);
        }
        // Fail over only before the first item: switching stores mid-listing could skip or
        // repeat keys if the replicas differ.
        let this = self.clone();
        stream::once(async move {
            let mut last = None;
            for member in this.candidates() {
                let mut items = member.store.list_opts(opts.clone()).peekable();
                match std::pin::Pin::new(&mut items).peek().await {
                    Some(Err(e)) if e.is_retryable() => {
                        member.record(false, &this.breaker);
                        last = items.next().await;
                    }
                    _ => {
                        member.record(true, &this.breaker);
                        return items.boxed();
                    }
                }
            }
            let e = match last {
                Some(Err(e)) => e,
                _ => Error::generic("replicated", "", "every store is unavailable", None),
            };
            stream::once(async move { Err(e) }).boxed()
        })
        .flatten()
        .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&ObjectPath>) -> Result<ListResult> {
        self.read(|s| s.list_with_delimiter(prefix)).await
    }

    async fn copy_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        self.write(|s, primary| {
            let opts = if primary { opts.clone() } else { CopyOptions { mode: CopyMode::Overwrite } };
            s.copy_opts(from, to, opts)
        })
        .await
    }

    async fn rename_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        self.write(|s, primary| {
            let opts = if primary { opts.clone() } else { CopyOptions { mode: CopyMode::Overwrite } };
            s.rename_opts(from, to, opts)
        })
        .await
    }

    /// A replicated set has no one place its objects live.
    fn locate(&self, path: &ObjectPath) -> Option<ObjectLocation> {
        let _ = path;
        None
    }

    /// Every replica would have to reach the source: callers stream instead.
    async fn copy_from(
        &self,
        src: &dyn ObjectStore,
        from: &ObjectPath,
        to: &ObjectPath,
        opts: PutOptions,
    ) -> Result<PutResult> {
        let _ = (src, from, opts);
        Err(Error::not_supported("failover", format!("server-side copy into a replicated set ({to})")))
    }

    async fn list_pending_uploads(&self, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
        self.primary().list_pending_uploads(prefix).await
    }

    async fn presign(&self, method: PresignMethod, path: &ObjectPath, expires_in: Duration) -> Result<url::Url> {
        match (&self.writes, method.is_write()) {
            // A signed write would reach the primary alone, behind the replicas' backs.
            (WriteMode::AllReplicas, true) => Err(Error::not_supported(
                &self.info.provider,
                "presigned writes to a store replicated to every replica",
            )),
            _ => self.primary().presign(method, path, expires_in).await,
        }
    }

    async fn abort_pending_upload(&self, upload: &PendingUpload) -> Result<()> {
        self.primary().abort_pending_upload(upload).await?;
        if let WriteMode::AllReplicas = self.writes {
            // Replicas hold their own upload of the same key, under ids of their own.
            for member in &self.members[1..] {
                let pending = member.store.list_pending_uploads(None).await.unwrap_or_default();
                for other in pending.iter().filter(|p| p.path == upload.path) {
                    member.store.abort_pending_upload(other).await?;
                }
            }
        }
        Ok(())
    }
}

/// What a member is asked to write: the caller's options for the primary; for a replica the
/// same content and metadata, unconditionally (the primary decided the condition).
fn replica_opts(opts: &PutOptions, primary: bool) -> PutOptions {
    let mut opts = opts.clone();
    if !primary {
        opts.mode = PutMode::Overwrite;
    }
    opts
}

/// One multipart upload per member, every part sent to all of them.
#[derive(Debug)]
struct FanoutUpload {
    uploads: Vec<Box<dyn MultipartUpload>>,
    id: String,
}

#[async_trait]
impl MultipartUpload for FanoutUpload {
    fn upload_id(&self) -> &str {
        &self.id
    }

    async fn put_part(&self, number: u32, data: Bytes) -> Result<PartInfo> {
        let sent = futures::future::try_join_all(self.uploads.iter().map(|u| u.put_part(number, data.clone()))).await?;
        let token = sent.iter().map(|p| p.token.as_str()).collect::<Vec<_>>().join(TOKEN_SEPARATOR);
        Ok(PartInfo { number, token, size: data.len() as u64 })
    }

    async fn complete(self: Box<Self>, parts: Vec<PartInfo>) -> Result<PutResult> {
        let mut first = None;
        for (i, upload) in self.uploads.into_iter().enumerate() {
            let mine = parts
                .iter()
                .map(|p| {
                    let token = p.token.split(TOKEN_SEPARATOR).nth(i).unwrap_or_default().to_string();
                    PartInfo { number: p.number, token, size: p.size }
                })
                .collect();
            let result = upload.complete(mine).await?;
            first.get_or_insert(result);
        }
        first.ok_or_else(|| Error::generic("replicated", "", "no store to write to", None))
    }

    async fn abort(self: Box<Self>) -> Result<()> {
        let mut outcome = Ok(());
        for upload in self.uploads {
            if let Err(e) = upload.abort().await {
                outcome = Err(e);
            }
        }
        outcome
    }
}
