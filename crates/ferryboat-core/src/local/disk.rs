//! Blocking filesystem primitives beneath the root: error mapping, etags, temp files, placing
//! a finished temp file at a key, and running such work on a blocking thread.
//!
//! Every function here runs on a blocking thread and goes through the root's
//! [`cap_std::fs::Dir`], so no path can resolve outside the root.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cap_std::fs::{Dir, Metadata, OpenOptions};

use crate::error::{Error, Result};
use crate::path::ObjectPath;
use crate::types::ObjectMeta;

use super::names::{disk_path, TMP_DIR};

pub(crate) const PROVIDER: &str = "local";

/// Number of striped locks serialising commits within one process.
const STRIPES: usize = 64;
/// Times a commit retries when a concurrent delete removed the parent directory it made.
const PARENT_RETRIES: usize = 5;

/// The state every blocking operation needs: the root handle and the in-process locks.
#[derive(Debug)]
pub(crate) struct Root {
    pub(crate) dir: Dir,
    pub(crate) path: PathBuf,
    locks: Vec<Mutex<()>>,
    counter: AtomicU64,
}

impl Root {
    pub(crate) fn new(dir: Dir, path: PathBuf) -> Self {
        Root { dir, path, locks: (0..STRIPES).map(|_| Mutex::new(())).collect(), counter: AtomicU64::new(0) }
    }

    /// Removes temp files a crashed writer left behind, once they are old enough that no
    /// live writer (in any process) can still be using them.
    pub(crate) fn sweep_temp(&self, older_than: Duration) {
        let Ok(entries) = self.dir.read_dir(TMP_DIR) else { return };
        let cutoff = SystemTime::now().checked_sub(older_than).unwrap_or(UNIX_EPOCH);
        for entry in entries.flatten() {
            let stale = entry.metadata().map(|m| m.is_file() && modified(&m) < cutoff).unwrap_or(false);
            if stale {
                let _ = self.dir.remove_file(Path::new(TMP_DIR).join(entry.file_name()));
            }
        }
    }

    /// Locks the stripe of `key`. Commits of one key are serialised within this process so
    /// that `PutMode::Update` is a true compare-and-swap here (not across processes).
    pub(crate) fn lock(&self, key: &ObjectPath) -> MutexGuard<'_, ()> {
        lock_stripe(&self.locks[stripe(key)])
    }

    /// Locks the stripes of two keys in a fixed order, so two renames cannot deadlock.
    pub(crate) fn lock_two(&self, a: &ObjectPath, b: &ObjectPath) -> (MutexGuard<'_, ()>, Option<MutexGuard<'_, ()>>) {
        let (x, y) = (stripe(a), stripe(b));
        if x == y {
            return (lock_stripe(&self.locks[x]), None);
        }
        let (lo, hi) = (x.min(y), x.max(y));
        let first = lock_stripe(&self.locks[lo]);
        (first, Some(lock_stripe(&self.locks[hi])))
    }

    /// A name no other writer, in this process or another, will pick.
    pub(crate) fn unique_name(&self, prefix: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        format!("{prefix}{nanos:x}-{:x}-{n:x}", std::process::id())
    }

    /// A new, empty temp file under the reserved temp directory.
    pub(crate) fn temp_file(&self) -> io::Result<TempFile<'_>> {
        let name = PathBuf::from(TMP_DIR).join(self.unique_name("t-"));
        let file = match self.dir.open_with(&name, OpenOptions::new().write(true).create_new(true)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Someone removed the temp directory: make it again.
                self.dir.create_dir_all(TMP_DIR)?;
                self.dir.open_with(&name, OpenOptions::new().write(true).create_new(true))?
            }
            other => other?,
        };
        Ok(TempFile { dir: &self.dir, name, file: Some(file.into_std()), placed: false })
    }

    /// Writes `data` to a new temp file, fsynced, with a unique modification time.
    pub(crate) fn write_temp(&self, data: &[u8]) -> io::Result<TempFile<'_>> {
        let mut tmp = self.temp_file()?;
        tmp.file_mut()?.write_all(data)?;
        tmp.finish()?;
        Ok(tmp)
    }

    /// Metadata of the object at `key` from an open handle, or `None` if there is none.
    ///
    /// A directory at `key` (because `key/…` objects exist) is no object.
    pub(crate) fn stat(&self, key: &ObjectPath) -> crate::Result<Option<ObjectMeta>> {
        let Ok(rel) = disk_path(key) else { return Ok(None) }; // no file can hold it
        match self.dir.open(rel) {
            Ok(file) => {
                let m = file.metadata().map_err(|e| io_error(e, key.as_str(), "reading metadata"))?;
                Ok(m.is_file().then(|| object_meta(key.clone(), &m)))
            }
            Err(e) if is_absent(&e) => Ok(None),
            Err(e) => Err(io_error(e, key.as_str(), "opening")),
        }
    }

    /// Makes the parent directories of `key`.
    pub(crate) fn make_parents(&self, key: &ObjectPath) -> crate::Result<()> {
        let rel = disk_path(key)?;
        let Some(parent) = rel.parent().filter(|p| !p.as_os_str().is_empty()) else {
            return Ok(());
        };
        match self.dir.create_dir_all(parent) {
            Ok(()) => Ok(()),
            Err(e) if self.link_on_path(parent) => Err(Error::PermissionDenied {
                provider: PROVIDER.into(),
                path: key.to_string(),
                message: format!("a parent of this key is a symbolic link that cannot be followed: {e}"),
                details: Default::default(),
            }),
            Err(e) if conflicts(&e) => Err(conflict(key)),
            Err(e) => Err(io_error(e, key.as_str(), "creating parent directories")),
        }
    }

    /// Puts `tmp` at `key`: hard link then unlink when `create_only`, rename otherwise.
    pub(crate) fn place(&self, mut tmp: TempFile<'_>, key: &ObjectPath, create_only: bool) -> crate::Result<()> {
        self.place_path(&tmp.name, key, create_only)?;
        if create_only {
            // The temp name is a second link to the object now; drop only that name.
            let _ = self.dir.remove_file(&tmp.name);
        }
        tmp.placed = true;
        Ok(())
    }

    /// Links (`create_only`) or renames the file at `from` (relative to the root) to `key`.
    /// With `create_only` the caller removes `from` afterwards.
    pub(crate) fn place_path(&self, from: &Path, key: &ObjectPath, create_only: bool) -> crate::Result<()> {
        let rel = disk_path(key)?;
        let mut attempt = 0;
        loop {
            self.make_parents(key)?;
            let result = if create_only {
                self.dir.hard_link(from, &self.dir, &rel)
            } else {
                self.dir.rename(from, &self.dir, &rel)
            };
            let e = match result {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if e.kind() == io::ErrorKind::NotFound
                && attempt < PARENT_RETRIES
                && self.dir.symlink_metadata(from).is_ok()
            {
                // A concurrent delete pruned the parent we just made: make it again.
                attempt += 1;
                continue;
            }
            if self.is_dir(&rel) {
                // Empty directories left by a crash or by hand are no object: clear and retry.
                if attempt < PARENT_RETRIES && self.remove_empty_tree(&rel) {
                    attempt += 1;
                    continue;
                }
                return Err(conflict(key));
            }
            if create_only && e.kind() == io::ErrorKind::AlreadyExists {
                return Err(Error::AlreadyExists {
                    provider: PROVIDER.into(),
                    path: key.to_string(),
                    details: Default::default(),
                });
            }
            if conflicts(&e) {
                return Err(conflict(key));
            }
            return Err(io_error(e, key.as_str(), "moving the file into place"));
        }
    }

    /// Whether a component of `rel` is a symbolic link.
    fn link_on_path(&self, rel: &Path) -> bool {
        rel.ancestors()
            .filter(|a| !a.as_os_str().is_empty())
            .any(|a| self.dir.symlink_metadata(a).is_ok_and(|m| m.file_type().is_symlink()))
    }

    /// Removes `rel` if it holds nothing but (nested) empty directories.
    fn remove_empty_tree(&self, rel: &Path) -> bool {
        let Ok(entries) = self.dir.read_dir(rel) else { return false };
        for entry in entries {
            let Ok(entry) = entry else { return false };
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if !is_dir || !self.remove_empty_tree(&rel.join(entry.file_name())) {
                return false;
            }
        }
        self.dir.remove_dir(rel).is_ok()
    }

    fn is_dir(&self, rel: &Path) -> bool {
        self.dir.symlink_metadata(rel).map(|m| m.is_dir()).unwrap_or(false)
    }

    /// Removes the empty directories above `rel` up to (not including) `stop`.
    pub(crate) fn prune_parents(&self, rel: &Path, stop: &Path) {
        let mut cur = rel.parent();
        while let Some(dir) = cur {
            if dir.as_os_str().is_empty() || dir == stop {
                break;
            }
            if self.dir.remove_dir(dir).is_err() {
                break; // not empty (or gone): nothing above can be empty because of us
            }
            cur = dir.parent();
        }
    }
}

fn stripe(key: &ObjectPath) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    (h.finish() % STRIPES as u64) as usize
}

fn lock_stripe(m: &Mutex<()>) -> MutexGuard<'_, ()> {
    // The lock guards no data, so a panic while holding it leaves nothing inconsistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A temp file under `.ferry/tmp/`, removed on drop unless it was moved into place.
#[derive(Debug)]
pub(crate) struct TempFile<'a> {
    dir: &'a Dir,
    pub(crate) name: PathBuf,
    file: Option<std::fs::File>,
    pub(crate) placed: bool,
}

impl TempFile<'_> {
    pub(crate) fn file_mut(&mut self) -> io::Result<&mut std::fs::File> {
        self.file.as_mut().ok_or_else(|| io::Error::other("temp file already finished"))
    }

    /// Stamps a unique modification time, fsyncs and closes the file.
    ///
    /// The etag is derived from (inode, mtime, size); a strictly increasing mtime keeps it
    /// changing on every write even when the filesystem clock is coarse and inodes are reused.
    pub(crate) fn finish(&mut self) -> io::Result<()> {
        let file = self.file_mut()?;
        file.set_modified(unique_now())?;
        file.sync_all()?;
        Ok(())
    }

    /// The etag the object will have once placed (rename and link keep inode and mtime).
    pub(crate) fn etag(&self) -> io::Result<String> {
        let file = self.file.as_ref().ok_or_else(|| io::Error::other("temp file already closed"))?;
        Ok(etag_of(&Metadata::from_file(file)?))
    }
}

impl Drop for TempFile<'_> {
    fn drop(&mut self) {
        if !self.placed {
            let _ = self.dir.remove_file(&self.name);
        }
    }
}

/// The current time, strictly later than any earlier answer in this process.
fn unique_now() -> SystemTime {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    let prev = LAST.fetch_max(now, Ordering::Relaxed);
    let t = if prev >= now { LAST.fetch_add(1, Ordering::Relaxed) + 1 } else { now };
    UNIX_EPOCH + Duration::from_nanos(t)
}

/// Etag from an open file's metadata: changes on every write, costs no read of the data.
pub(crate) fn etag_of(m: &Metadata) -> String {
    let nanos = modified(m).duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{:x}-{nanos:x}-{:x}", inode(m), m.len())
}

#[cfg(unix)]
fn inode(m: &Metadata) -> u64 {
    use cap_std::fs::MetadataExt;
    m.ino()
}

#[cfg(not(unix))]
fn inode(_: &Metadata) -> u64 {
    0
}

pub(crate) fn modified(m: &Metadata) -> SystemTime {
    m.modified().map(|t| t.into_std()).unwrap_or(UNIX_EPOCH)
}

/// Listing-level metadata of a regular file.
pub(crate) fn object_meta(path: ObjectPath, m: &Metadata) -> ObjectMeta {
    let mut meta = ObjectMeta::new(path, m.len(), modified(m));
    meta.etag = Some(etag_of(m));
    meta
}

/// Whether an error means "nothing there": also a file where a directory was expected, and
/// a name too long for the filesystem (nothing can be stored under it).
pub(crate) fn is_absent(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::InvalidFilename)
}

fn conflicts(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::AlreadyExists
            | io::ErrorKind::NotADirectory
            | io::ErrorKind::IsADirectory
            | io::ErrorKind::DirectoryNotEmpty
    )
}

/// The local backend's one departure from S3: a file and a directory cannot share a name.
pub(crate) fn conflict(key: &ObjectPath) -> Error {
    Error::generic(
        PROVIDER,
        key.as_str(),
        "a local directory cannot hold both an object `k` and objects under `k/`: \
         this key, or one of its parents, collides with an existing object or directory",
        None,
    )
}

/// Maps an I/O error on `key` to the store's error; an escape from the root is
/// `PermissionDenied`.
pub(crate) fn io_error(e: io::Error, key: &str, action: &str) -> Error {
    match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => Error::NotFound {
            provider: PROVIDER.into(),
            path: key.into(),
            source: Some(Box::new(e)),
            details: Default::default(),
        },
        io::ErrorKind::InvalidFilename => Error::InvalidPath {
            path: key.chars().take(200).collect(),
            reason: format!("the local filesystem cannot hold this name: {e}"),
        },
        io::ErrorKind::PermissionDenied => Error::PermissionDenied {
            provider: PROVIDER.into(),
            path: key.into(),
            message: format!("{action}: {e}"),
            details: Default::default(),
        },
        _ if e.raw_os_error() == Some(ELOOP) => Error::PermissionDenied {
            provider: PROVIDER.into(),
            path: key.into(),
            message: format!("{action}: symbolic link refused: {e}"),
            details: Default::default(),
        },
        _ => Error::generic(PROVIDER, key, format!("{action}: {e}"), Some(Box::new(e))),
    }
}

/// `ELOOP`: a symlink where none may be followed.
#[cfg(target_os = "linux")]
const ELOOP: i32 = 40;
#[cfg(not(target_os = "linux"))]
const ELOOP: i32 = 62;

/// Runs filesystem work on a blocking thread.
pub(crate) async fn blocking<T, F>(root: &Arc<Root>, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Root) -> Result<T> + Send + 'static,
{
    let root = Arc::clone(root);
    tokio::task::spawn_blocking(move || f(&root))
        .await
        .map_err(|e| Error::generic(PROVIDER, "", format!("filesystem task failed: {e}"), None))?
}
