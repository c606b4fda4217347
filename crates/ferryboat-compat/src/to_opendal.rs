//! Any ferry store as an OpenDAL service.

use std::sync::Arc;

use ferryboat_core::{CopyMode, CopyOptions, ListOptions, ObjectStore, PresignMethod};
use futures::StreamExt;
use opendal::raw::oio;
use opendal::raw::*;
use opendal::{Builder, Capability, Error, ErrorKind, OperationContext, Result};

mod convert;
mod io;

use convert::{dir_meta, file_meta, key, od_err, prefix};
use io::{FerryCopier, FerryDeleter, FerryLister, FerryReader, FerryWriter};

/// The scheme the service reports in [`opendal::OperatorInfo::scheme`].
pub const SCHEME: &str = "ferry";

/// A ferry store — any backend, with any ferry layer stacked on it — as an OpenDAL service,
/// so that an [`opendal::Operator`] reads and writes through ferry.
///
/// Build the operator with [`opendal::Operator::new`], which adds OpenDAL's usual layers:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> opendal::Result<()> {
/// use std::sync::Arc;
/// use ferryboat_compat::AsOpendal;
///
/// let store = Arc::new(ferryboat_core::memory::MemoryStore::new());
/// let op = opendal::Operator::new(AsOpendal::new(store))?;
/// op.write("hello.txt", "bonjour").await?;
/// assert_eq!(op.read("hello.txt").await?.to_vec(), b"bonjour");
/// # Ok(()) }
/// ```
///
/// Semantics:
/// - A path ending in `/` is a directory: it exists while some key lies below it (a listing
///   probe), and `stat` on it answers `EntryMode::DIR`. OpenDAL reads such a path as a
///   directory, so ferry's folder-marker keys are not written through it; `create_dir` is
///   not offered.
/// - Reads stream the store's body for the range asked (`get_opts` with a range).
/// - Writes send one request when the object fits in one part and a multipart upload
///   otherwise, holding at most one part in memory; `if_not_exists` becomes
///   `PutMode::Create`, `if_match` becomes `PutMode::Update`, content type and user
///   metadata are passed on where the store keeps them.
/// - Deletes go through `delete_stream` in batches of the store's `batch_delete_max`.
/// - Listings come in ferry's byte order: recursive ones stream `list_opts`, one level
///   comes from `list_with_delimiter`.
/// - Copy and rename are offered when the store's capabilities say so.
#[derive(Clone, Default)]
pub struct AsOpendal {
    store: Option<Arc<dyn ObjectStore>>,
}

impl std::fmt::Debug for AsOpendal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let provider = self.store.as_ref().map(|s| s.info().provider.clone());
        f.debug_struct("AsOpendal").field("provider", &provider).finish()
    }
}

impl AsOpendal {
    /// Wraps a store; hand the result to [`opendal::Operator::new`].
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        AsOpendal { store: Some(store) }
    }
}

impl Builder for AsOpendal {
    // Configured in code only: there is no string form of a ferry store.
    type Config = ();

    fn build(self) -> Result<impl Service> {
        let store = self
            .store
            .ok_or_else(|| Error::new(ErrorKind::ConfigInvalid, "AsOpendal needs a store: use AsOpendal::new"))?;
        let capability = capability(store.capabilities());
        let info = ServiceInfo::new(SCHEME, "/", store.info().provider.clone());
        Ok(FerryService { store, info, capability })
    }
}

/// The service the operator dispatches to.
#[derive(Clone)]
pub(crate) struct FerryService {
    store: Arc<dyn ObjectStore>,
    info: ServiceInfo,
    capability: Capability,
}

impl std::fmt::Debug for FerryService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FerryService").field("provider", &self.store.info().provider).finish()
    }
}

/// What the store really does, in OpenDAL's terms.
fn capability(c: &ferryboat_core::Capabilities) -> Capability {
    Capability {
        stat: true,
        read: true,
        read_with_if_match: c.get_conditions,
        read_with_if_none_match: c.get_conditions,
        read_with_if_modified_since: c.get_conditions,
        read_with_if_unmodified_since: c.get_conditions,
        read_with_version: c.versioning,
        write: true,
        write_can_empty: true,
        write_can_multi: true,
        write_with_if_not_exists: c.put_if_not_exists,
        write_with_if_match: c.put_if_match,
        write_with_content_type: c.content_type,
        write_with_user_metadata: c.user_metadata,
        write_total_max_size: usize::try_from(c.max_object_size).ok(),
        delete: true,
        delete_max_size: Some(c.batch_delete_max.max(1)),
        delete_with_version: c.delete_versions,
        list: true,
        list_with_recursive: true,
        copy: c.copy,
        copy_with_if_not_exists: c.copy && c.copy_if_not_exists,
        rename: c.rename,
        presign: c.presign,
        presign_read: c.presign,
        presign_stat: c.presign,
        presign_write: c.presign,
        presign_delete: c.presign,
        shared: true,
        ..Default::default()
    }
}

impl Service for FerryService {
    type Reader = oio::StreamReader<FerryReader>;
    type Writer = FerryWriter;
    type Lister = FerryLister;
    type Deleter = oio::BatchDeleter<FerryDeleter>;
    type Copier = FerryCopier;
    type Composer = ();

    fn info(&self) -> ServiceInfo {
        self.info.clone()
    }

    fn capability(&self) -> Capability {
        self.capability
    }

    async fn create_dir(&self, _: &OperationContext, _: &str, _: OpCreateDir) -> Result<RpCreateDir> {
        Err(Error::new(ErrorKind::Unsupported, "ferry keys cannot end in '/': there are no folder markers"))
    }

    async fn stat(&self, _: &OperationContext, path: &str, _: OpStat) -> Result<RpStat> {
        if path.is_empty() || path.ends_with('/') {
            let Some(dir) = prefix(path)? else {
                return Ok(RpStat::new(dir_meta()));
            };
            // A directory exists while a key lies below it.
            let opts = ListOptions { prefix: Some(dir), offset: None, ..Default::default() };
            return match self.store.list_opts(opts).next().await {
                Some(Ok(_)) => Ok(RpStat::new(dir_meta())),
                Some(Err(e)) => Err(od_err(e)),
                None => Err(Error::new(ErrorKind::NotFound, "no key lies below this directory")),
            };
        }
        let meta = self.store.head(&key(path)?).await.map_err(od_err)?;
        Ok(RpStat::new(file_meta(&meta)))
    }

    fn read(&self, _: &OperationContext, path: &str, args: OpRead) -> Result<Self::Reader> {
        Ok(oio::StreamReader::new(FerryReader::new(self.store.clone(), key(path)?, args)))
    }

    fn write(&self, _: &OperationContext, path: &str, args: OpWrite) -> Result<Self::Writer> {
        FerryWriter::new(self.store.clone(), key(path)?, args)
    }

    fn delete(&self, _: &OperationContext) -> Result<Self::Deleter> {
        let max = self.store.capabilities().batch_delete_max.max(1);
        Ok(oio::BatchDeleter::new(FerryDeleter::new(self.store.clone()), Some(max)))
    }

    fn list(&self, _: &OperationContext, path: &str, args: OpList) -> Result<Self::Lister> {
        FerryLister::new(self.store.clone(), path, args.recursive())
    }

    fn copy(&self, _: &OperationContext, from: &str, to: &str, args: OpCopy) -> Result<Self::Copier> {
        if !self.capability.copy {
            return Err(Error::new(ErrorKind::Unsupported, "the ferry store has no server-side copy"));
        }
        let mode = if args.if_not_exists() { CopyMode::Create } else { CopyMode::Overwrite };
        Ok(FerryCopier::new(self.store.clone(), key(from)?, key(to)?, mode))
    }

    async fn rename(&self, _: &OperationContext, from: &str, to: &str, args: OpRename) -> Result<RpRename> {
        if !self.capability.rename {
            return Err(Error::new(ErrorKind::Unsupported, "the ferry store has no cheap rename"));
        }
        let mode = if args.if_not_exists() { CopyMode::Create } else { CopyMode::Overwrite };
        let opts = CopyOptions { mode };
        self.store.rename_opts(&key(from)?, &key(to)?, opts).await.map_err(od_err)?;
        Ok(RpRename::new())
    }

    async fn presign(&self, _: &OperationContext, path: &str, args: OpPresign) -> Result<RpPresign> {
        let (expire, op) = args.into_parts();
        let (method, http_method, range) = match op {
            PresignOperation::Stat(_) => (PresignMethod::Head, http::Method::HEAD, None),
            PresignOperation::Read(range, _) => {
                (PresignMethod::Get, http::Method::GET, (!range.is_full()).then(|| range.to_header()))
            }
            PresignOperation::Write(_) => (PresignMethod::Put, http::Method::PUT, None),
            PresignOperation::Delete(_) => (PresignMethod::Delete, http::Method::DELETE, None),
            _ => return Err(Error::new(ErrorKind::Unsupported, "this presign operation")),
        };
        let url = self.store.presign(method, &key(path)?, expire).await.map_err(od_err)?;
        let uri = url.as_str().parse::<http::Uri>().map_err(|e| {
            Error::new(ErrorKind::Unexpected, "the ferry store signed a URL http cannot parse").set_source(e)
        })?;
        let mut headers = http::HeaderMap::new();
        if let Some(range) = range {
            // The signature covers the URL only; the range travels as a header the holder sends.
            let value = http::HeaderValue::from_str(&range)
                .map_err(|e| Error::new(ErrorKind::Unexpected, "range header").set_source(e))?;
            headers.insert(http::header::RANGE, value);
        }
        Ok(RpPresign::new(PresignedRequest::new(http_method, uri, headers)))
    }
}
