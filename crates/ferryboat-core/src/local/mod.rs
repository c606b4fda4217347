//! `LocalStore`: a directory as a bucket.
//!
//! Keys map to files beneath the root (`photos/a.jpg` → `<root>/photos/a.jpg`). Every
//! filesystem call goes through a [`cap_std::fs::Dir`] opened on the root, which resolves
//! paths beneath it and refuses `..`, absolute paths and symbolic links that lead out, also
//! when the tree changes under it: no key, link or race can make the store read or write
//! outside its root. An escape attempt is [`Error::PermissionDenied`].
//!
//! Behaviour worth knowing:
//! - **One departure from S3**: a file and a directory cannot share a name, so the store
//!   cannot hold both `a` and `a/b`. Writing the second is an [`Error::Generic`] saying so.
//! - Writes are atomic: data goes to a temp file under `.ferry/tmp/`, is fsynced, then
//!   renamed into place (which replaces a link at the key rather than writing through it).
//!   `PutMode::Create` hard-links the temp file to the key, so exactly one of several
//!   creators wins, across processes too. `PutMode::Update` is a compare-and-swap under an
//!   in-process lock: atomic among users of this process only.
//! - Keys map to file names through a bijective per-segment escaping (see `local/names.rs`): the
//!   folder marker `photos/` is the file `photos/‛`, `a//b` is `a/‛/b`, `../x` is `‛../x`,
//!   and `.ferry/x` is `‛.ferry/x`, so the store's own `.ferry/` at the root (temp files,
//!   metadata sidecars, multipart parts) is never a key. A name someone else wrote, such
//!   as `‛x`, is the key `‛x`.
//! - Symbolic links are not objects: listings skip them. A read may follow a link that stays
//!   inside the root.
//! - ETags are derived from inode, modification time and size: free to compute, different
//!   after every write, but not content hashes.
//! - What a Linux file system cannot hold even so is refused for that key alone with
//!   [`Error::InvalidPath`] on write and absent on read: a segment over 255 bytes once
//!   encoded, or a NUL. A listed file name that is not UTF-8 is an error item, not a skip.
//! - A read streams from the file handle opened when it started: a concurrent overwrite
//!   (a rename) never splices two versions, and the etag describes the bytes read.
//! - Temp files older than a day, left by a crashed writer, are removed when a store opens.

mod disk;
mod meta;
mod multipart;
mod names;
mod walk;

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use futures::stream::{self, BoxStream, StreamExt};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::capabilities::Capabilities;
use crate::conditions::check_get;
use crate::error::{Error, Result};
use crate::info::{Jurisdiction, StoreInfo};
use crate::path::ObjectPath;
use crate::store::{MultipartUpload, ObjectStore};
use crate::types::{
    CopyMode, CopyOptions, GetOptions, GetResult, ListOptions, ListResult, ObjectMeta, PendingUpload, PutMode,
    PutOptions, PutResult,
};

use disk::{blocking, io_error, is_absent, object_meta, Root, PROVIDER};
use meta::Sidecar;
use names::TMP_DIR;

/// Age after which a temp file is a crashed writer's leftover.
const STALE_TEMP: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
/// Bytes per chunk of a read's body.
const READ_CHUNK: u64 = 256 * 1024;

/// A directory on the local filesystem used as a bucket.
///
/// Cloning shares the open root. See the [module docs](self) for the guarantees.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> ferryboat_core::Result<()> {
/// use ferryboat_core::{local::LocalStore, ObjectPath, ObjectStoreExt};
/// let dir = std::env::temp_dir().join(format!("ferry-doc-{}", std::process::id()));
/// let store = LocalStore::new(&dir)?;
/// let key = ObjectPath::parse("notes/hello.txt")?;
/// store.put(&key, "bonjour".into()).await?;
/// assert_eq!(store.get(&key).await?.bytes().await?, "bonjour");
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct LocalStore {
    root: Arc<Root>,
    info: Arc<StoreInfo>,
    caps: Arc<Capabilities>,
}

impl fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalStore").field("root", &self.root.path).finish()
    }
}

impl LocalStore {
    /// Opens (creating it if missing) the directory `root` as a store.
    ///
    /// Fails with [`Error::InvalidConfig`] naming the path if it is not a directory or cannot
    /// be created or opened.
    pub fn new(root: impl AsRef<Path>) -> Result<Self> {
        let path = root.as_ref();
        let invalid = |what: &str, e: io::Error| {
            Error::invalid_config(format!("local store root {}: {what}: {e}", path.display()))
        };
        match std::fs::metadata(path) {
            Ok(m) if !m.is_dir() => {
                return Err(Error::invalid_config(format!(
                    "local store root {} exists and is not a directory",
                    path.display()
                )))
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(path).map_err(|e| invalid("cannot create it", e))?;
            }
            Err(e) => return Err(invalid("cannot read it", e)),
        }
        let dir = Dir::open_ambient_dir(path, ambient_authority()).map_err(|e| invalid("cannot open it", e))?;
        dir.create_dir_all(TMP_DIR).map_err(|e| invalid("cannot create its .ferry/tmp directory", e))?;
        let caps = Capabilities {
            put_if_not_exists: true,
            put_if_match: true,
            get_conditions: true,
            copy: true,
            copy_if_not_exists: true,
            rename: true,
            multipart: true,
            pending_uploads: true,
            batch_delete_max: 1000,
            user_metadata: true,
            content_type: true,
            attributes: crate::capabilities::AttributeSupport::ALL,
            storage_class: true,
            list_etags: true,
            ..Capabilities::default()
        };
        let root = Root::new(dir, path.to_path_buf());
        root.sweep_temp(STALE_TEMP);
        let info = StoreInfo::new(PROVIDER, "Local directory", Jurisdiction::SelfHosted)
            .with_endpoint(path.display().to_string());
        Ok(LocalStore { root: Arc::new(root), info: Arc::new(info), caps: Arc::new(caps) })
    }

    /// The directory this store keeps its objects in.
    pub fn root(&self) -> &Path {
        &self.root.path
    }

    async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Root) -> Result<T> + Send + 'static,
    {
        blocking(&self.root, f).await
    }
}

/// Refuses, before any data is written, a key no local file name can hold.
fn check_key(key: &ObjectPath) -> Result<()> {
    names::disk_path(key).map(|_| ())
}

/// Opens the object at `key` and reads its full metadata from the open handle, so the etag
/// describes exactly the bytes that will be read.
fn open_object(root: &Root, key: &ObjectPath) -> Result<(std::fs::File, ObjectMeta)> {
    // A key no file name can hold is no object here.
    let rel = names::disk_path(key).map_err(|_| Error::not_found(PROVIDER, key.as_str()))?;
    let file = root.dir.open(rel).map_err(|e| {
        if is_absent(&e) {
            Error::not_found(PROVIDER, key.as_str())
        } else {
            io_error(e, key.as_str(), "opening")
        }
    })?;
    let m = file.metadata().map_err(|e| io_error(e, key.as_str(), "reading metadata"))?;
    if !m.is_file() {
        // A directory (objects under `key/` exist) is no object.
        return Err(Error::not_found(PROVIDER, key.as_str()));
    }
    let mut meta = object_meta(key.clone(), &m);
    if let Some(sidecar) = meta::load(root, key, meta.etag.as_deref()) {
        sidecar.apply(&mut meta);
    }
    Ok((file.into_std(), meta))
}

fn put_mode(mode: CopyMode) -> PutMode {
    match mode {
        CopyMode::Overwrite => PutMode::Overwrite,
        CopyMode::Create => PutMode::Create,
    }
}

fn copy_blocking(root: &Root, from: &ObjectPath, to: &ObjectPath, mode: CopyMode) -> Result<()> {
    let (mut src, meta) = open_object(root, from)?;
    let mut tmp = root.temp_file().map_err(|e| io_error(e, to.as_str(), "copying"))?;
    let out = tmp.file_mut().map_err(|e| io_error(e, to.as_str(), "copying"))?;
    io::copy(&mut src, out).map_err(|e| io_error(e, to.as_str(), "copying"))?;
    tmp.finish().map_err(|e| io_error(e, to.as_str(), "copying"))?;
    root.commit(tmp, to, &put_mode(mode), Sidecar::from_meta(&meta))?;
    Ok(())
}

fn rename_blocking(root: &Root, from: &ObjectPath, to: &ObjectPath, mode: CopyMode) -> Result<()> {
    let _guards = root.lock_two(from, to);
    let Some(src) = root.stat(from)? else {
        return Err(Error::not_found(PROVIDER, from.as_str()));
    };
    if from == to {
        return match mode {
            CopyMode::Create => Err(Error::AlreadyExists {
                provider: PROVIDER.into(),
                path: to.to_string(),
                details: Default::default(),
            }),
            CopyMode::Overwrite => Ok(()),
        };
    }
    let sidecar = meta::load(root, from, src.etag.as_deref());
    let from_rel = names::disk_path(from)?; // it exists (stat found it), so it has a name
    root.place_path(&from_rel, to, mode == CopyMode::Create)?;
    if mode == CopyMode::Create {
        // `to` is a second link to the data now; drop the old name.
        root.dir.remove_file(&from_rel).map_err(|e| io_error(e, from.as_str(), "renaming"))?;
    }
    // Rename and link keep inode and mtime, so the etag (and the sidecar's) carries over.
    let etag = src.etag.unwrap_or_default();
    meta::store(root, to, sidecar, &etag)?;
    meta::remove(root, from);
    root.prune_parents(&from_rel, Path::new(""));
    Ok(())
}

fn delete_blocking(root: &Root, key: &ObjectPath) -> Result<()> {
    let Ok(rel) = names::disk_path(key) else { return Ok(()) }; // no file can hold it: absent
    let _guard = root.lock(key);
    let removed = match root.dir.remove_file(&rel) {
        Ok(()) => true,
        Err(e) if is_absent(&e) => false,
        // A directory at the key means objects under `key/`, no object `key`.
        Err(_) if root.dir.symlink_metadata(&rel).is_ok_and(|m| m.is_dir()) => false,
        Err(e) => return Err(io_error(e, key.as_str(), "deleting")),
    };
    meta::remove(root, key);
    if removed {
        root.prune_parents(&rel, Path::new(""));
    }
    Ok(())
}

/// Streams `range` of `file` in chunks of at most [`READ_CHUNK`] bytes.
fn body(file: std::fs::File, key: ObjectPath, range: std::ops::Range<u64>) -> BoxStream<'static, Result<Bytes>> {
    let file = tokio::fs::File::from_std(file);
    let state = (file, range.start, range.end - range.start, false);
    stream::try_unfold(state, move |(mut file, start, remaining, seeked)| {
        let key = key.clone();
        async move {
            if remaining == 0 {
                return Ok(None);
            }
            if !seeked && start > 0 {
                file.seek(io::SeekFrom::Start(start)).await.map_err(|e| io_error(e, key.as_str(), "seeking"))?;
            }
            let mut buf = BytesMut::with_capacity(remaining.min(READ_CHUNK) as usize);
            let n = file.read_buf(&mut buf).await.map_err(|e| io_error(e, key.as_str(), "reading"))?;
            if n == 0 {
                return Err(Error::Integrity {
                    provider: PROVIDER.into(),
                    path: key.to_string(),
                    message: format!("file ended with {remaining} bytes still expected (changed outside the store?)"),
                    details: Default::default(),
                });
            }
            let n = (n as u64).min(remaining);
            buf.truncate(n as usize);
            Ok(Some((buf.freeze(), (file, start, remaining - n, true))))
        }
    })
    .boxed()
}

#[async_trait]
impl ObjectStore for LocalStore {
    fn info(&self) -> &StoreInfo {
        &self.info
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn put_opts(&self, path: &ObjectPath, data: Bytes, opts: PutOptions) -> Result<PutResult> {
        check_key(path)?;
        let key = path.clone();
        self.run(move |root| {
            let tmp = root.write_temp(&data).map_err(|e| io_error(e, key.as_str(), "writing"))?;
            root.commit(tmp, &key, &opts.mode, Sidecar::from_opts(&opts))
        })
        .await
    }

    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        check_key(path)?;
        let key = path.clone();
        let id = self.run(move |root| multipart::start(root, &key, &opts)).await?;
        Ok(Box::new(multipart::LocalUpload {
            root: Arc::clone(&self.root),
            id,
            min_part: self.caps.multipart_min_part_size,
            max_parts: self.caps.multipart_max_parts,
        }))
    }

    async fn get_opts(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult> {
        if opts.version.is_some() {
            return Err(Error::not_supported(PROVIDER, "reading an object version"));
        }
        let key = path.clone();
        let (file, meta) = self.run(move |root| open_object(root, &key)).await?;
        check_get(PROVIDER, &meta, &opts)?;
        let range = match &opts.range {
            None => 0..meta.size,
            Some(r) => r.resolve(meta.size).map_err(|message| Error::InvalidRange {
                provider: PROVIDER.into(),
                path: path.to_string(),
                message,
                details: Default::default(),
            })?,
        };
        if opts.head {
            return Ok(GetResult::from_bytes(meta, 0..0, Bytes::new()));
        }
        let body = body(file, path.clone(), range.clone());
        Ok(GetResult { meta, range, body })
    }

    async fn delete(&self, path: &ObjectPath) -> Result<()> {
        let key = path.clone();
        self.run(move |root| delete_blocking(root, &key)).await
    }

    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        if let Some(refused) = opts.refuse_versions(&self.info().provider) {
            return refused;
        }
        walk::list(Arc::clone(&self.root), opts)
    }

    async fn list_with_delimiter(&self, prefix: Option<&ObjectPath>) -> Result<ListResult> {
        let prefix = prefix.cloned();
        self.run(move |root| walk::list_one_level(root, prefix.as_ref())).await
    }

    async fn copy_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        check_key(to)?;
        let (from, to) = (from.clone(), to.clone());
        self.run(move |root| copy_blocking(root, &from, &to, opts.mode)).await
    }

    async fn rename_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        check_key(to)?;
        let (from, to) = (from.clone(), to.clone());
        self.run(move |root| rename_blocking(root, &from, &to, opts.mode)).await
    }

    async fn list_pending_uploads(&self, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
        let prefix = prefix.cloned();
        self.run(move |root| multipart::list_pending(root, prefix.as_ref())).await
    }

    async fn abort_pending_upload(&self, upload: &PendingUpload) -> Result<()> {
        let id = upload.upload_id.clone();
        self.run(move |root| multipart::abort(root, &id)).await
    }
}
