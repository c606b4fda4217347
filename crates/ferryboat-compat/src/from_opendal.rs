//! Any `opendal::Operator` as a ferry store.

use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use ferryboat_core::conditions::check_get;
use ferryboat_core::{
    Capabilities, CopyMode, CopyOptions, DeleteOptions, Error, GetOptions, GetResult, Jurisdiction, ListOptions,
    ListResult, MultipartUpload, ObjectLocation, ObjectMeta, ObjectPath, ObjectStore, PendingUpload, PresignMethod,
    PutMode, PutOptions, PutResult, Result, StoreInfo,
};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use opendal::raw::Timestamp;
use opendal::{ErrorKind as OdKind, Operator};
use tokio::sync::Mutex;

use ctx::{put_result, write_err, Ctx};
use upload::{Upload, UploadState};

use ferryboat_core::walk::{self, Entry, LevelLister};

mod ctx;
mod upload;

/// An OpenDAL [`Operator`] seen through ferry's trait, so that every service OpenDAL speaks
/// (and every layer stacked on the operator) becomes a ferry store and a mirror endpoint.
///
/// Capabilities come from the operator's own: conditional writes, conditional reads,
/// copy, rename, multi-write (as multipart), batch delete size, content type and user
/// metadata. What the service lacks answers [`Error::NotSupported`] rather than being
/// dropped: a content type the service cannot keep is an error, not a silent loss.
///
/// OpenDAL does not promise sorted listings, ferry does: by default listings walk the tree
/// one directory at a time and sort each level, which is correct for every service and
/// holds one level in memory. For services that list in key order (S3, GCS, Azure),
/// [`FromOperator::with_sorted_listing`] uses the native recursive listing (with
/// `start_after` where the service has it) and checks the order as it streams.
///
/// Listings of services whose entries carry no size (OpenDAL's memory service, for one)
/// cost one `stat` per object. Services that keep no modification time report
/// [`UNIX_EPOCH`].
///
/// OpenDAL trims leading and trailing whitespace from paths, so keys that begin or end with
/// whitespace are refused with [`Error::InvalidPath`] instead of reaching another object.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> ferryboat_core::Result<()> {
/// use ferryboat_compat::FromOperator;
/// use ferryboat_core::{ObjectPath, ObjectStoreExt};
///
/// let op = opendal::Operator::new(opendal::services::Memory::default())
///     .map_err(|e| ferryboat_core::Error::invalid_config(e.to_string()))?;
/// let store = FromOperator::new(op);
/// let key = ObjectPath::parse("hello.txt")?;
/// store.put(&key, "bonjour".into()).await?;
/// assert_eq!(store.get(&key).await?.bytes().await?, "bonjour");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct FromOperator {
    ctx: Ctx,
    info: StoreInfo,
    caps: Capabilities,
    od: opendal::Capability,
    sorted_listing: bool,
}

// The operator's own Debug prints its service's configuration, which may hold credentials.
impl std::fmt::Debug for FromOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FromOperator")
            .field("info", &self.info)
            .field("sorted_listing", &self.sorted_listing)
            .finish_non_exhaustive()
    }
}

impl FromOperator {
    /// Wraps an operator. The jurisdiction is unknown until [`FromOperator::with_info`] says
    /// who holds the data.
    pub fn new(op: Operator) -> Self {
        let od_info = op.info();
        let scheme = od_info.scheme();
        let mut info = StoreInfo::new(
            format!("opendal:{scheme}"),
            format!("OpenDAL {scheme}"),
            Jurisdiction::Other("UNKNOWN".into()),
        );
        let name = od_info.name();
        // The memory service names itself by a pointer address: noise, not a bucket.
        if !name.is_empty() && scheme != "memory" {
            info = info.with_bucket(name);
        }
        let od = od_info.capability();
        let caps = capabilities(&od);
        let ctx = Ctx { op, provider: info.provider.clone() };
        FromOperator { ctx, info, caps, od, sorted_listing: false }
    }

    /// Says who the provider is and under which law (the operator cannot tell).
    pub fn with_info(mut self, info: StoreInfo) -> Self {
        self.ctx.provider = info.provider.clone();
        self.info = info;
        self
    }

    /// Declares what the wrapped operator supports where its own capabilities say more than
    /// it keeps: OpenDAL's `fs` service with `atomic_write_dir`, for one, checks
    /// `if_not_exists` before writing rather than atomically, so `put_if_not_exists` should
    /// be `false` there. Options the operator lacks are refused whatever this says.
    pub fn with_capabilities(mut self, caps: Capabilities) -> Self {
        self.caps = caps;
        self
    }

    /// Trusts the service's recursive listing to be in key order (checked while streaming).
    pub fn with_sorted_listing(mut self, sorted: bool) -> Self {
        self.sorted_listing = sorted;
        self
    }

    /// The wrapped operator.
    pub fn operator(&self) -> &Operator {
        &self.ctx.op
    }

    fn unsupported(&self, what: &str) -> Error {
        Error::not_supported(&self.ctx.provider, what)
    }

    fn write_options(&self, opts: &PutOptions) -> Result<opendal::options::WriteOptions> {
        let mut w = opendal::options::WriteOptions::default();
        match &opts.mode {
            PutMode::Overwrite => {}
            PutMode::Create if self.od.write_with_if_not_exists => w.if_not_exists = true,
            PutMode::Create => return Err(self.unsupported("PutMode::Create (write if not exists)")),
            PutMode::Update(v) => {
                if v.etag.is_none() && v.version.is_none() {
                    return Err(Error::invalid_config("PutMode::Update needs an etag or a version"));
                }
                if let Some(etag) = &v.etag {
                    if !self.od.write_with_if_match {
                        return Err(self.unsupported("PutMode::Update by etag (write if match)"));
                    }
                    w.if_match = Some(etag.clone());
                }
                if let Some(version) = &v.version {
                    if !self.od.write_with_if_version_match {
                        return Err(self.unsupported("PutMode::Update by version (write if version match)"));
                    }
                    w.if_version_match = Some(version.clone());
                }
            }
        }
        if let Some(ct) = &opts.content_type {
            if !self.od.write_with_content_type {
                return Err(self.unsupported("content type"));
            }
            w.content_type = Some(ct.clone());
        }
        if !opts.metadata.is_empty() {
            if !self.od.write_with_user_metadata {
                return Err(self.unsupported("user metadata"));
            }
            w.user_metadata =
                Some(opts.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<HashMap<_, _>>());
        }
        if opts.storage_class.is_some() {
            return Err(self.unsupported("storage class through OpenDAL"));
        }
        let a = &opts.attributes;
        if let Some(v) = &a.content_disposition {
            if !self.od.write_with_content_disposition {
                return Err(self.unsupported("Content-Disposition"));
            }
            w.content_disposition = Some(v.clone());
        }
        if let Some(v) = &a.content_encoding {
            if !self.od.write_with_content_encoding {
                return Err(self.unsupported("Content-Encoding"));
            }
            w.content_encoding = Some(v.clone());
        }
        if let Some(v) = &a.cache_control {
            if !self.od.write_with_cache_control {
                return Err(self.unsupported("Cache-Control"));
            }
            w.cache_control = Some(v.clone());
        }
        if a.content_language.is_some() {
            return Err(self.unsupported("Content-Language through OpenDAL"));
        }
        Ok(w)
    }

    /// The level-by-level sorted walk, one directory listing per level.
    fn walk(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        walk::walk(self.ctx.clone(), opts)
    }

    fn native_sorted(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        let ctx = self.ctx.clone();
        let dir = dir_path(opts.prefix.as_ref());
        let mut od_opts = opendal::options::ListOptions { recursive: true, ..Default::default() };
        if self.od.list_with_start_after {
            od_opts.start_after = opts.offset.as_ref().map(|o| o.to_string());
        }
        let offset = opts.offset;
        let lister_ctx = ctx.clone();
        let lister_dir = dir.clone();
        let entries = stream::once(async move {
            lister_ctx.op.lister_options(&lister_dir, od_opts).await.map_err(|e| lister_ctx.err(&lister_dir, e))
        })
        .map_ok({
            let ctx = ctx.clone();
            let dir = dir.clone();
            move |lister| {
                let (ctx, dir) = (ctx.clone(), dir.clone());
                lister.map_err(move |e| ctx.err(&dir, e))
            }
        })
        .try_flatten();
        let mut last: Option<ObjectPath> = None;
        let provider = ctx.provider.clone();
        entries
            .try_filter_map(move |entry| {
                let (key, meta) = entry.into_parts();
                let keep = if key.ends_with('/') { None } else { Some(ObjectPath::parse(key).map(|p| (p, meta))) };
                async move { keep.transpose() }
            })
            .try_filter(move |(p, _)| std::future::ready(offset.as_ref().is_none_or(|o| p > o)))
            .and_then(move |(p, meta)| {
                let out = if last.as_ref().is_some_and(|l| l >= &p) {
                    Err(Error::generic(
                        &provider,
                        p.as_str(),
                        "the service listed keys out of order; do not use with_sorted_listing with it",
                        None,
                    ))
                } else {
                    last = Some(p.clone());
                    Ok((p, meta))
                };
                std::future::ready(out)
            })
            .and_then(move |(p, meta)| {
                let ctx = ctx.clone();
                async move { ctx.complete(p, meta).await }
            })
            .boxed()
    }

    async fn delete_batch(&self, batch: Vec<Result<ObjectPath>>) -> Vec<Result<ObjectPath>> {
        let (ok, mut errors): (Vec<_>, Vec<_>) = batch.into_iter().partition(|r| r.is_ok());
        let paths: Vec<ObjectPath> = ok.into_iter().flatten().collect();
        let keys: Result<Vec<String>> = paths.iter().map(|p| od_path(p).map(str::to_string)).collect();
        let done = match keys {
            Ok(keys) => self.ctx.op.delete_iter(keys).await.map_err(|e| self.ctx.err("(batch delete)", e)),
            Err(e) => Err(e),
        };
        match done {
            Ok(()) => {
                let mut out: Vec<Result<ObjectPath>> = paths.into_iter().map(Ok).collect();
                out.append(&mut errors);
                out
            }
            Err(e) => {
                errors.insert(0, Err(e));
                errors
            }
        }
    }
}

fn capabilities(od: &opendal::Capability) -> Capabilities {
    let mut caps = Capabilities::default();
    caps.put_if_not_exists = od.write_with_if_not_exists;
    caps.put_if_match = od.write_with_if_match;
    caps.get_conditions = od.read_with_if_match
        && od.read_with_if_none_match
        && od.read_with_if_modified_since
        && od.read_with_if_unmodified_since;
    caps.versioning = od.read_with_version && od.stat_with_version;
    // OpenDAL's version listing is not read yet: versions listings answer NotSupported.
    caps.list_versions = false;
    caps.delete_versions = od.delete_with_version;
    caps.copy = od.copy;
    caps.copy_if_not_exists = od.copy && od.copy_with_if_not_exists;
    caps.rename = od.rename;
    caps.multipart = od.write && od.write_can_multi;
    // No minimum reported means any size will do.
    caps.multipart_min_part_size = od.write_multi_min_size.map_or(1, |n| n as u64);
    if let Some(max) = od.write_multi_max_size {
        caps.multipart_max_part_size = max as u64;
    }
    if let Some(max) = od.write_total_max_size {
        caps.max_object_size = max as u64;
    }
    caps.batch_delete_max = od.delete_max_size.unwrap_or(1).max(1);
    caps.user_metadata = od.write_with_user_metadata;
    caps.content_type = od.write_with_content_type;
    caps.attributes = ferryboat_core::AttributeSupport {
        content_disposition: od.write_with_content_disposition,
        content_encoding: od.write_with_content_encoding,
        content_language: false,
        cache_control: od.write_with_cache_control,
    };
    caps
}

/// The operator path of a key. OpenDAL normalises paths (it trims whitespace at both ends,
/// drops a leading `/`, collapses `//`, reads a trailing `/` as a directory, and a file
/// service resolves `.`/`..`), so such keys would silently address another object: they are
/// refused here, each naming why.
fn od_path(p: &ObjectPath) -> Result<&str> {
    let s = p.as_str();
    let refuse = |reason: &str| Err(Error::InvalidPath { path: s.to_string(), reason: reason.into() });
    if s.trim() != s {
        return refuse("OpenDAL trims leading and trailing whitespace from paths");
    }
    if s.split('/').any(|seg| seg.is_empty()) {
        return refuse("OpenDAL cannot address a key with an empty segment (a leading, trailing or double `/`)");
    }
    if s.split('/').any(|seg| seg == "." || seg == "..") {
        return refuse("OpenDAL cannot address a key with a `.` or `..` segment");
    }
    Ok(s)
}

/// The operator path of a directory-like prefix (`/` is the root).
fn dir_path(prefix: Option<&ObjectPath>) -> String {
    match prefix {
        Some(p) => format!("{p}/"),
        None => "/".to_string(),
    }
}

fn system_time(t: SystemTime) -> Result<Timestamp> {
    Timestamp::try_from(t).map_err(|e| Error::invalid_config(format!("timestamp out of range: {e}")))
}

/// ferry's metadata from OpenDAL's. Etags lose their quotes, as everywhere in ferry.
fn ferry_meta(path: ObjectPath, m: &opendal::Metadata) -> ObjectMeta {
    let modified = m.last_modified().map_or(UNIX_EPOCH, SystemTime::from);
    let mut out = ObjectMeta::new(path, m.content_length(), modified);
    out.etag = m.etag().map(|e| e.trim_start_matches("W/").trim_matches('"').to_string());
    out.version = m.version().map(str::to_string);
    out.content_type = m.content_type().map(str::to_string);
    out.attributes.content_disposition = m.content_disposition().map(str::to_string);
    out.attributes.content_encoding = m.content_encoding().map(str::to_string);
    out.attributes.cache_control = m.cache_control().map(str::to_string);
    if let Some(user) = m.user_metadata() {
        out.metadata = user.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    }
    out
}

impl Ctx {
    /// Metadata of a listed object, asking the service only when the listing left out the
    /// size or the modification time.
    async fn complete(&self, path: ObjectPath, listed: opendal::Metadata) -> Result<ObjectMeta> {
        if listed.is_file() && listed.last_modified().is_some() {
            return Ok(ferry_meta(path, &listed));
        }
        let m = self.op.stat(od_path(&path)?).await.map_err(|e| self.err(path.as_str(), e))?;
        Ok(ferry_meta(path, &m))
    }
}

#[async_trait]
impl LevelLister for Ctx {
    type Listed = opendal::Metadata;

    async fn list_level(&self, dir: Option<&ObjectPath>) -> Result<Vec<Entry<opendal::Metadata>>> {
        let (objects, dirs) = list_one(self, dir).await?;
        let mut entries: Vec<_> = objects.into_iter().map(|(p, m)| Entry::Object(p, m)).collect();
        entries.extend(dirs.into_iter().map(|d| Entry::Dir(Some(d))));
        Ok(entries)
    }

    async fn to_meta(&self, path: ObjectPath, listed: opendal::Metadata) -> Result<Option<ObjectMeta>> {
        match self.complete(path, listed).await {
            // Deleted since the listing: a listing is not a snapshot, skip it.
            Err(Error::NotFound { .. }) => Ok(None),
            other => other.map(Some),
        }
    }
}

type Level = (Vec<(ObjectPath, opendal::Metadata)>, Vec<ObjectPath>);

/// Lists one directory: its objects and its subdirectories (without the trailing `/`).
async fn list_one(ctx: &Ctx, dir: Option<&ObjectPath>) -> Result<Level> {
    let path = dir_path(dir);
    if let Some(d) = dir {
        od_path(d)?;
    }
    let mut lister = ctx.op.lister(&path).await.map_err(|e| ctx.err(&path, e))?;
    let (mut objects, mut dirs) = (Vec::new(), Vec::new());
    while let Some(entry) = lister.try_next().await.map_err(|e| ctx.err(&path, e))? {
        let (key, meta) = entry.into_parts();
        // Services list the directory itself too.
        if key == path || key == "/" {
            continue;
        }
        match key.strip_suffix('/') {
            Some(sub) => dirs.push(ObjectPath::parse(sub)?),
            None => objects.push((ObjectPath::parse(key)?, meta)),
        }
    }
    Ok((objects, dirs))
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl ObjectStore for FromOperator {
    fn info(&self) -> &StoreInfo {
        &self.info
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn put_opts(&self, path: &ObjectPath, data: Bytes, opts: PutOptions) -> Result<PutResult> {
        let key = od_path(path)?;
        let w = self.write_options(&opts)?;
        let m = self.ctx.op.write_options(key, data, w).await.map_err(|e| write_err(&self.ctx, key, &opts.mode, e))?;
        Ok(put_result(&m))
    }

    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        if !self.caps.multipart {
            return Err(self.unsupported("multipart uploads (the service cannot write in several calls)"));
        }
        let key = od_path(path)?.to_string();
        let mut w = self.write_options(&opts)?;
        w.concurrent = 1;
        let writer =
            self.ctx.op.writer_options(&key, w).await.map_err(|e| write_err(&self.ctx, &key, &opts.mode, e))?;
        Ok(Box::new(Upload {
            id: format!("{}:{key}", self.ctx.provider),
            ctx: self.ctx.clone(),
            key,
            mode: opts.mode,
            state: Mutex::new(UploadState { writer, next: 1, waiting: BTreeMap::new(), failed: false }),
        }))
    }

    async fn get_opts(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult> {
        let key = od_path(path)?;
        let od = &self.od;
        for (asked, supported, what) in [
            (opts.if_match.is_some(), od.read_with_if_match, "if_match on reads"),
            (opts.if_none_match.is_some(), od.read_with_if_none_match, "if_none_match on reads"),
            (opts.if_modified_since.is_some(), od.read_with_if_modified_since, "if_modified_since on reads"),
            (opts.if_unmodified_since.is_some(), od.read_with_if_unmodified_since, "if_unmodified_since on reads"),
            (opts.version.is_some(), od.read_with_version && od.stat_with_version, "reading a version"),
        ] {
            if asked && !supported {
                return Err(self.unsupported(what));
            }
        }
        let stat = opendal::options::StatOptions { version: opts.version.clone(), ..Default::default() };
        let m = self.ctx.op.stat_options(key, stat).await.map_err(|e| self.ctx.err(key, e))?;
        if m.is_dir() {
            return Err(Error::not_found(&self.ctx.provider, key));
        }
        let meta = ferry_meta(path.clone(), &m);
        // Evaluated here first because OpenDAL reports every failed condition alike; the
        // same conditions go to the service below so the body cannot come from a newer object.
        check_get(&self.ctx.provider, &meta, &opts)?;
        let range = match &opts.range {
            None => 0..meta.size,
            Some(r) => r.resolve(meta.size).map_err(|message| Error::InvalidRange {
                provider: self.ctx.provider.clone(),
                path: key.to_string(),
                message,
                details: Default::default(),
            })?,
        };
        if opts.head || range.is_empty() {
            return Ok(GetResult::from_bytes(meta, range, Bytes::new()));
        }
        let mut r = opendal::options::ReaderOptions {
            version: opts.version.clone(),
            if_match: opts.if_match.clone(),
            if_none_match: opts.if_none_match.clone(),
            if_modified_since: opts.if_modified_since.map(system_time).transpose()?,
            if_unmodified_since: opts.if_unmodified_since.map(system_time).transpose()?,
            content_length_hint: Some(meta.size),
            concurrent: 1,
            ..Default::default()
        };
        // Pin the read to the object just stat'ed where the service can: a concurrent
        // overwrite then fails the read instead of mixing two objects' bytes.
        if r.if_match.is_none() && od.read_with_if_match {
            r.if_match = m.etag().map(str::to_string);
        }
        let fail = ReadFailure {
            ctx: self.ctx.clone(),
            key: key.to_string(),
            precondition: opts.if_match.is_some() || opts.if_unmodified_since.is_some(),
            not_modified: opts.if_none_match.is_some() || opts.if_modified_since.is_some(),
        };
        let reader = self.ctx.op.reader_options(key, r).await.map_err(|e| fail.map(e))?;
        let buffers = reader.into_stream(range.clone()).await.map_err(|e| fail.map(e))?;
        let body = buffers
            .map_err(move |e| fail.map(e))
            .map_ok(|buf| stream::iter(Iterator::map(buf, Ok)))
            .try_flatten()
            .boxed();
        Ok(GetResult { meta, range, body })
    }

    async fn delete(&self, path: &ObjectPath) -> Result<()> {
        let key = od_path(path)?;
        match self.ctx.op.delete(key).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == OdKind::NotFound => Ok(()),
            Err(e) => Err(self.ctx.err(key, e)),
        }
    }

    async fn delete_opts(&self, path: &ObjectPath, opts: DeleteOptions) -> Result<()> {
        let Some(version) = opts.version else { return self.delete(path).await };
        if !self.caps.delete_versions {
            return Err(Error::not_supported(&self.ctx.provider, "deleting one version through this OpenDAL service"));
        }
        let key = od_path(path)?;
        let od_opts = opendal::options::DeleteOptions { version: Some(version), ..Default::default() };
        match self.ctx.op.delete_options(key, od_opts).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == OdKind::NotFound => Ok(()),
            Err(e) => Err(self.ctx.err(key, e)),
        }
    }

    fn delete_stream<'a>(&'a self, paths: BoxStream<'a, Result<ObjectPath>>) -> BoxStream<'a, Result<ObjectPath>> {
        let max = self.caps.batch_delete_max;
        if max <= 1 {
            return paths
                .map(move |p| async move {
                    let p = p?;
                    self.delete(&p).await?;
                    Ok(p)
                })
                .buffered(16)
                .boxed();
        }
        paths.chunks(max).then(move |batch| self.delete_batch(batch)).flat_map(stream::iter).boxed()
    }

    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        if let Some(refused) = opts.refuse_versions(&self.ctx.provider) {
            return refused;
        }
        if let Some(p) = &opts.prefix {
            if let Err(e) = od_path(p) {
                return stream::once(async move { Err(e) }).boxed();
            }
        }
        if self.sorted_listing {
            self.native_sorted(opts)
        } else {
            self.walk(opts)
        }
    }

    async fn list_with_delimiter(&self, prefix: Option<&ObjectPath>) -> Result<ListResult> {
        let (listed, mut common_prefixes) = list_one(&self.ctx, prefix).await?;
        let mut objects = Vec::with_capacity(listed.len());
        for (p, m) in listed {
            match self.ctx.complete(p, m).await {
                Ok(meta) => objects.push(meta),
                Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        objects.sort_by(|a, b| a.path.cmp(&b.path));
        common_prefixes.sort();
        Ok(ListResult { common_prefixes, objects })
    }

    async fn copy_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        if !self.caps.copy {
            return Err(self.unsupported("server-side copy"));
        }
        let create = opts.mode == CopyMode::Create;
        if create && !self.caps.copy_if_not_exists {
            return Err(self.unsupported("copy if not exists"));
        }
        let (src, dst) = (od_path(from)?, od_path(to)?);
        if src == dst {
            // OpenDAL refuses a copy onto itself; for ferry it is a no-op on an existing object.
            self.head(from).await?;
            return match opts.mode {
                CopyMode::Overwrite => Ok(()),
                CopyMode::Create => Err(Error::AlreadyExists {
                    provider: self.ctx.provider.clone(),
                    path: dst.into(),
                    details: Default::default(),
                }),
            };
        }
        let c = opendal::options::CopyOptions { if_not_exists: create, ..Default::default() };
        match self.ctx.op.copy_options(src, dst, c).await {
            Ok(_) => Ok(()),
            Err(e) if create && matches!(e.kind(), OdKind::ConditionNotMatch | OdKind::AlreadyExists) => {
                Err(Error::AlreadyExists {
                    provider: self.ctx.provider.clone(),
                    path: dst.into(),
                    details: Default::default(),
                })
            }
            Err(e) if e.kind() == OdKind::NotFound => Err(self.ctx.err(src, e)),
            Err(e) => Err(self.ctx.err(dst, e)),
        }
    }

    async fn rename_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        let create = opts.mode == CopyMode::Create;
        let native = self.od.rename && (!create || self.od.rename_with_if_not_exists);
        let (src, dst) = (od_path(from)?, od_path(to)?);
        if !native || src == dst {
            self.copy_opts(from, to, opts).await?;
            return if src == dst { Ok(()) } else { self.delete(from).await };
        }
        let r = opendal::options::RenameOptions { if_not_exists: create };
        match self.ctx.op.rename_options(src, dst, r).await {
            Ok(()) => Ok(()),
            Err(e) if create && matches!(e.kind(), OdKind::ConditionNotMatch | OdKind::AlreadyExists) => {
                Err(Error::AlreadyExists {
                    provider: self.ctx.provider.clone(),
                    path: dst.into(),
                    details: Default::default(),
                })
            }
            Err(e) if e.kind() == OdKind::NotFound => Err(self.ctx.err(src, e)),
            Err(e) => Err(self.ctx.err(dst, e)),
        }
    }

    async fn head(&self, path: &ObjectPath) -> Result<ObjectMeta> {
        Ok(self.get_opts(path, GetOptions { head: true, ..Default::default() }).await?.meta)
    }

    fn locate(&self, path: &ObjectPath) -> Option<ObjectLocation> {
        // An operator does not say which account it reaches, so no server may copy from it.
        let _ = path;
        None
    }

    async fn copy_from(
        &self,
        src: &dyn ObjectStore,
        from: &ObjectPath,
        to: &ObjectPath,
        opts: PutOptions,
    ) -> Result<PutResult> {
        let _ = (src, from, to, opts);
        Err(self.unsupported("server-side copy from another store"))
    }

    async fn list_pending_uploads(&self, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
        let _ = prefix;
        Err(self.unsupported("listing pending multipart uploads (OpenDAL does not offer it)"))
    }

    async fn abort_pending_upload(&self, upload: &PendingUpload) -> Result<()> {
        let _ = upload;
        Err(self.unsupported("aborting pending multipart uploads (OpenDAL does not offer it)"))
    }

    async fn presign(
        &self,
        method: PresignMethod,
        path: &ObjectPath,
        expires_in: std::time::Duration,
    ) -> Result<url::Url> {
        let key = od_path(path)?;
        let able = match method {
            PresignMethod::Get => self.od.presign_read,
            PresignMethod::Head => self.od.presign_stat,
            PresignMethod::Put => self.od.presign_write,
            PresignMethod::Delete => self.od.presign_delete,
            _ => false,
        };
        if !(self.od.presign && able) {
            return Err(self.unsupported(&format!("presigned {} URLs", method.as_str())));
        }
        let signed = match method {
            PresignMethod::Get => self.ctx.op.presign_read(key, expires_in).await,
            PresignMethod::Head => self.ctx.op.presign_stat(key, expires_in).await,
            PresignMethod::Put => self.ctx.op.presign_write(key, expires_in).await,
            _ => self.ctx.op.presign_delete(key, expires_in).await,
        };
        let signed = signed.map_err(|e| self.ctx.err(key, e))?;
        url::Url::parse(&signed.uri().to_string())
            .map_err(|e| Error::generic(&self.ctx.provider, key, format!("the signed URL does not parse: {e}"), None))
    }
}

/// Maps a failed read, knowing which conditions the caller sent.
struct ReadFailure {
    ctx: Ctx,
    key: String,
    precondition: bool,
    not_modified: bool,
}

impl ReadFailure {
    fn map(&self, e: opendal::Error) -> Error {
        if e.kind() != OdKind::ConditionNotMatch {
            return self.ctx.err(&self.key, e);
        }
        let (provider, path) = (self.ctx.provider.clone(), self.key.clone());
        if self.precondition {
            Error::Precondition { provider, path, message: e.to_string(), details: Default::default() }
        } else if self.not_modified {
            Error::NotModified { provider, path, details: Default::default() }
        } else {
            // Only the pin to the stat'ed etag was sent: the object changed mid-read.
            Error::unavailable(provider, path, "the object changed while it was read", Some(Box::new(e)))
        }
    }
}
