//! The streaming halves of the ferry service: reader, writer, lister, deleter, copier.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use ferryboat_core::{
    CopyMode, CopyOptions, GetOptions, GetRange, ListOptions, MultipartUpload, ObjectMeta, ObjectPath, ObjectStore,
    PartInfo, PutMode, PutOptions, PutResult, UpdateVersion,
};
use futures::stream::{self, BoxStream};
use futures::StreamExt;
use opendal::raw::oio;
use opendal::raw::*;
use opendal::{Buffer, BytesRange, Error, ErrorKind, Metadata, MetadataBuilder, Result};

use super::convert::{dir_meta, file_meta, key, od_err, prefix};

/// Part size when the store sets no larger minimum: one part is all a writer holds.
const PART_SIZE: u64 = 8 * 1024 * 1024;

/// Opens one ranged, streamed `get_opts` per OpenDAL range read.
pub struct FerryReader {
    store: Arc<dyn ObjectStore>,
    key: ObjectPath,
    args: OpRead,
}

impl FerryReader {
    pub(super) fn new(store: Arc<dyn ObjectStore>, key: ObjectPath, args: OpRead) -> Self {
        FerryReader { store, key, args }
    }
}

fn get_range(range: BytesRange) -> Option<GetRange> {
    if range.is_suffix() {
        return range.size().map(GetRange::Suffix);
    }
    match (range.offset(), range.size()) {
        (0, None) => None,
        (offset, None) => Some(GetRange::Offset(offset)),
        (offset, Some(size)) => Some(GetRange::Bounded(offset..offset.saturating_add(size))),
    }
}

impl oio::StreamRead for FerryReader {
    async fn open(&self, range: BytesRange) -> Result<(RpRead, Box<dyn oio::ReadStreamDyn>)> {
        let opts = GetOptions {
            range: get_range(range),
            if_match: self.args.if_match().map(str::to_string),
            if_none_match: self.args.if_none_match().map(str::to_string),
            if_modified_since: self.args.if_modified_since().map(Into::into),
            if_unmodified_since: self.args.if_unmodified_since().map(Into::into),
            version: self.args.version().map(str::to_string),
            head: false,
        };
        let got = self.store.get_opts(&self.key, opts).await.map_err(od_err)?;
        let body = Body(Mutex::new(got.body));
        Ok((RpRead::new(file_meta(&got.meta)), Box::new(body) as Box<dyn oio::ReadStreamDyn>))
    }
}

/// ferry's body stream is `Send` only; OpenDAL wants `Sync` too. The mutex is never
/// contended: `read` takes `&mut self` and reaches the stream through `get_mut`.
struct Body(Mutex<BoxStream<'static, ferryboat_core::Result<Bytes>>>);

impl oio::ReadStream for Body {
    async fn read(&mut self) -> Result<Buffer> {
        let body = self.0.get_mut().unwrap_or_else(|p| p.into_inner());
        loop {
            match body.next().await {
                // An empty buffer means the end to OpenDAL: skip empty chunks.
                Some(Ok(b)) if b.is_empty() => continue,
                Some(Ok(b)) => return Ok(Buffer::from(b)),
                Some(Err(e)) => return Err(od_err(e)),
                None => return Ok(Buffer::new()),
            }
        }
    }
}

/// Collects one part at a time: a small object is one `put_opts`, a larger one a multipart
/// upload whose parts are all `part_size` but the last.
pub struct FerryWriter {
    store: Arc<dyn ObjectStore>,
    key: ObjectPath,
    opts: PutOptions,
    part_size: usize,
    buf: BytesMut,
    upload: Option<Box<dyn MultipartUpload>>,
    parts: Vec<PartInfo>,
    written: u64,
}

impl FerryWriter {
    pub(super) fn new(store: Arc<dyn ObjectStore>, key: ObjectPath, args: OpWrite) -> Result<Self> {
        let caps = store.capabilities();
        let mode = match (args.if_not_exists(), args.if_match()) {
            (true, Some(_)) => {
                return Err(Error::new(ErrorKind::Unsupported, "if_not_exists and if_match cannot be combined"));
            }
            (true, None) => PutMode::Create,
            (false, Some(etag)) => PutMode::Update(UpdateVersion { etag: Some(etag.to_string()), version: None }),
            (false, None) => PutMode::Overwrite,
        };
        let mut opts = PutOptions { mode, content_type: args.content_type().map(str::to_string), ..Default::default() };
        if let Some(user) = args.user_metadata() {
            opts.metadata = user.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        }
        let part_size = PART_SIZE.max(caps.multipart_min_part_size).min(caps.multipart_max_part_size.max(1));
        let part_size = usize::try_from(part_size).unwrap_or(usize::MAX);
        Ok(FerryWriter {
            store,
            key,
            opts,
            part_size,
            buf: BytesMut::new(),
            upload: None,
            parts: Vec::new(),
            written: 0,
        })
    }

    async fn send_part(&mut self, data: Bytes) -> Result<()> {
        if self.upload.is_none() {
            if !self.store.capabilities().multipart {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    "the ferry store has no multipart upload and the object is larger than one part",
                ));
            }
            let upload = self.store.put_multipart_opts(&self.key, self.opts.clone()).await.map_err(od_err)?;
            self.upload = Some(upload);
        }
        let number = u32::try_from(self.parts.len() + 1)
            .map_err(|_| Error::new(ErrorKind::Unsupported, "too many parts for one upload"))?;
        let upload = self.upload.as_ref().expect("started above");
        let part = upload.put_part(number, data).await.map_err(od_err)?;
        self.parts.push(part);
        Ok(())
    }

    fn metadata(&self, r: PutResult) -> Metadata {
        let mut b = MetadataBuilder::file(self.written);
        if let Some(etag) = r.etag {
            b.etag(etag);
        }
        if let Some(v) = r.version {
            b.version(v);
        }
        b.build()
    }
}

impl oio::Write for FerryWriter {
    async fn write(&mut self, bs: Buffer) -> Result<()> {
        for chunk in bs {
            self.written += chunk.len() as u64;
            self.buf.extend_from_slice(&chunk);
            // A full part leaves only once more bytes follow: the last part may be this one.
            while self.buf.len() > self.part_size {
                let part = self.buf.split_to(self.part_size).freeze();
                self.send_part(part).await?;
            }
        }
        Ok(())
    }

    async fn close(&mut self) -> Result<Metadata> {
        let rest = std::mem::take(&mut self.buf).freeze();
        let result = match self.upload.take() {
            None => self.store.put_opts(&self.key, rest, self.opts.clone()).await.map_err(od_err)?,
            Some(upload) => {
                self.upload = Some(upload);
                if !rest.is_empty() {
                    self.send_part(rest).await?;
                }
                let upload = self.upload.take().expect("kept above");
                upload.complete(std::mem::take(&mut self.parts)).await.map_err(od_err)?
            }
        };
        Ok(self.metadata(result))
    }

    async fn abort(&mut self) -> Result<()> {
        self.buf.clear();
        self.parts.clear();
        match self.upload.take() {
            Some(upload) => upload.abort().await.map_err(od_err),
            None => Ok(()),
        }
    }
}

type Entries = BoxStream<'static, Result<oio::Entry>>;

/// A recursive listing streams `list_opts`; one level is `list_with_delimiter`, its
/// directories and objects merged in byte order.
pub struct FerryLister {
    // `Mutex` for `Sync`, as for `Body`.
    entries: Mutex<Entries>,
}

impl FerryLister {
    pub(super) fn new(store: Arc<dyn ObjectStore>, path: &str, recursive: bool) -> Result<Self> {
        // A path not ending in `/` is a prefix: list its directory and keep what starts with it.
        let dir = match path.rfind('/') {
            Some(i) => &path[..=i],
            None => "",
        };
        let filter = (dir.len() < path.len()).then(|| path.to_string());
        let prefix = prefix(dir)?;
        let entries: Entries = if recursive {
            let opts = ListOptions { prefix, offset: None, ..Default::default() };
            store.list_opts(opts).map(|r| r.map(|m| entry(&m)).map_err(od_err)).boxed()
        } else {
            stream::once(async move { store.list_with_delimiter(prefix.as_ref()).await })
                .map(|r| match r {
                    Ok(level) => stream::iter(merge(level.common_prefixes, level.objects).into_iter().map(Ok)).boxed(),
                    Err(e) => stream::iter([Err(od_err(e))]).boxed(),
                })
                .flatten()
                .boxed()
        };
        let entries = match filter {
            Some(f) => entries
                .filter(move |e| std::future::ready(e.as_ref().map_or(true, |e| e.path().starts_with(&f))))
                .boxed(),
            None => entries,
        };
        Ok(FerryLister { entries: Mutex::new(entries) })
    }
}

fn entry(m: &ObjectMeta) -> oio::Entry {
    oio::Entry::new(m.path.as_str(), file_meta(m))
}

/// One level in byte order, a directory sorting as its name followed by `/`.
fn merge(dirs: Vec<ObjectPath>, objects: Vec<ObjectMeta>) -> Vec<oio::Entry> {
    let mut all: Vec<(String, oio::Entry)> = dirs
        .into_iter()
        .map(|d| {
            let p = format!("{}/", d.as_str());
            (p.clone(), oio::Entry::new(&p, dir_meta()))
        })
        .chain(objects.iter().map(|m| (m.path.to_string(), entry(m))))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all.into_iter().map(|(_, e)| e).collect()
}

impl oio::List for FerryLister {
    async fn next(&mut self) -> Result<Option<oio::Entry>> {
        let entries = self.entries.get_mut().unwrap_or_else(|p| p.into_inner());
        entries.next().await.transpose()
    }
}

/// Deletes through `delete_stream`, a batch at a time.
pub struct FerryDeleter {
    store: Arc<dyn ObjectStore>,
}

impl FerryDeleter {
    pub(super) fn new(store: Arc<dyn ObjectStore>) -> Self {
        FerryDeleter { store }
    }
}

impl oio::BatchDelete for FerryDeleter {
    async fn delete_once(&self, path: String, args: OpDelete) -> Result<()> {
        // No ferry key ends in `/`: a directory has no marker to delete.
        if path.ends_with('/') {
            return Ok(());
        }
        let opts = ferryboat_core::DeleteOptions { version: args.version().map(str::to_string) };
        match self.store.delete_opts(&key(&path)?, opts).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ferryboat_core::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(od_err(e)),
        }
    }

    async fn delete_batch(&self, batch: Vec<(String, OpDelete)>) -> Result<oio::BatchDeleteResult> {
        let mut result = oio::BatchDeleteResult::default();
        let mut keys = Vec::new();
        let mut pending = Vec::new();
        for (path, args) in batch {
            if path.ends_with('/') {
                result.succeeded.push((path, args));
                continue;
            }
            if args.version().is_some() {
                // A batch delete names keys only: a version is deleted on its own.
                match self.delete_once(path.clone(), args.clone()).await {
                    Ok(()) => result.succeeded.push((path, args)),
                    Err(e) => result.failed.push((path, args, e)),
                }
                continue;
            }
            match key(&path) {
                Ok(k) => {
                    keys.push(Ok(k));
                    pending.push((path, args));
                }
                Err(e) => result.failed.push((path, args, e)),
            }
        }
        let mut done = HashSet::new();
        let mut first_error = None;
        let mut deleted = self.store.delete_stream(stream::iter(keys).boxed());
        while let Some(r) = deleted.next().await {
            match r {
                Ok(k) => {
                    done.insert(k.to_string());
                }
                Err(e) if first_error.is_none() => first_error = Some(e.to_string()),
                Err(_) => {}
            }
        }
        for (path, args) in pending {
            if done.contains(&path) {
                result.succeeded.push((path, args));
            } else {
                let why = first_error.clone().unwrap_or_else(|| "the store did not confirm this delete".into());
                result.failed.push((path, args, Error::new(ErrorKind::Unexpected, why)));
            }
        }
        if result.succeeded.is_empty() && !result.failed.is_empty() {
            let (path, _, _) = &result.failed[0];
            return Err(Error::new(ErrorKind::Unexpected, "no key of the batch was deleted").with_context("path", path));
        }
        Ok(result)
    }
}

/// One server-side `copy_opts`, done on the first `next`.
pub struct FerryCopier {
    store: Arc<dyn ObjectStore>,
    from: ObjectPath,
    to: ObjectPath,
    mode: CopyMode,
    done: bool,
}

impl FerryCopier {
    pub(super) fn new(store: Arc<dyn ObjectStore>, from: ObjectPath, to: ObjectPath, mode: CopyMode) -> Self {
        FerryCopier { store, from, to, mode, done: false }
    }
}

impl oio::Copy for FerryCopier {
    async fn next(&mut self) -> Result<Option<usize>> {
        if !self.done {
            let opts = CopyOptions { mode: self.mode };
            self.store.copy_opts(&self.from, &self.to, opts).await.map_err(od_err)?;
            self.done = true;
        }
        Ok(None)
    }

    async fn close(&mut self) -> Result<Metadata> {
        let meta = self.store.head(&self.to).await.map_err(od_err)?;
        Ok(file_meta(&meta))
    }

    async fn abort(&mut self) -> Result<()> {
        Ok(())
    }
}
