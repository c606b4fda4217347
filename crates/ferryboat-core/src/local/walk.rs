//! Listings: a depth-first walk that yields keys in ascending byte order.
//!
//! File names are decoded to key segments first (see [`super::names`]); each directory's
//! entries are then sorted by segment, a directory sorting as `segment/`. Depth-first order
//! is then byte order of full keys (`a-c` < `a/b` < `a0`, because `-` < `/` < `0`; the folder
//! marker `a/` before `a/x`), so the walk needs memory for one directory per level, never for
//! the whole listing.
//!
//! Symbolic links are not objects: the walk neither lists nor follows them. A file name that
//! is not UTF-8, or a path whose key would be longer than 1,024 bytes, is an error item in
//! the listing, never a silent skip; the walk goes on after it.

use std::path::PathBuf;

use cap_std::fs::{Dir, DirEntry};
use std::sync::Arc;

use futures::stream::{self, BoxStream, StreamExt};
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::path::ObjectPath;
use crate::types::{ListOptions, ListResult, ObjectMeta};

use super::disk::{io_error, is_absent, object_meta, Root, PROVIDER};
use super::names::{decode_name, disk_path};

/// Objects buffered between the walking thread and the consumer.
const CHANNEL: usize = 256;

/// One entry of a directory, kept only while its directory is being walked.
struct Entry {
    /// The key segment the file name stands for (the lossy name for a bad one).
    name: String,
    is_dir: bool,
    /// `Err` for a name that stands for no key.
    entry: std::result::Result<DirEntry, Error>,
}

/// Byte order of `name`, or of `name/` for a directory: depth-first order is then key order.
fn cmp(a: &Entry, b: &Entry) -> std::cmp::Ordering {
    fn key(e: &Entry) -> impl Iterator<Item = u8> + '_ {
        e.name.as_bytes().iter().copied().chain(e.is_dir.then_some(b'/'))
    }
    key(a).cmp(key(b))
}

/// Streams every object under `opts.prefix` after `opts.offset`, ascending.
///
/// The walk runs on a blocking thread feeding a bounded channel; dropping the stream closes
/// the channel, which stops the walk at its next object.
pub(crate) fn list(root: Arc<Root>, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
    // Spawn lazily, on first poll, so that a listing can be created outside a runtime.
    stream::once(async move {
        let (tx, rx) = mpsc::channel(CHANNEL);
        tokio::task::spawn_blocking(move || {
            if let Err(e) = walk_from(&root, &opts, &tx) {
                let _ = tx.blocking_send(Err(e));
            }
        });
        stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) })
    })
    .flatten()
    .boxed()
}

type Sender = mpsc::Sender<Result<ObjectMeta>>;

fn walk_from(root: &Root, opts: &ListOptions, tx: &Sender) -> Result<()> {
    let Some((dir, key_prefix)) = start_dir(root, opts.prefix.as_ref())? else {
        return Ok(());
    };
    walk_dir(&dir, &key_prefix, opts.offset.as_ref().map(|o| o.as_str()), tx).map(|_| ())
}

/// A handle on the directory of `prefix` (the root for none) and the key prefix of its
/// entries; `None` when there is no such directory.
fn start_dir(root: &Root, prefix: Option<&ObjectPath>) -> Result<Option<(Dir, String)>> {
    let (opened, key_prefix) = match prefix {
        None => (root.dir.try_clone(), String::new()),
        Some(p) => {
            // A directory no file name can hold holds nothing.
            let Ok(rel) = disk_path(p) else { return Ok(None) };
            if !real_dir(root, p, &rel)? {
                return Ok(None);
            }
            (root.dir.open_dir(rel), format!("{p}/"))
        }
    };
    match opened {
        Ok(dir) => Ok(Some((dir, key_prefix))),
        Err(e) if is_absent(&e) => Ok(None),
        Err(e) => Err(io_error(e, key_prefix.trim_end_matches('/'), "listing")),
    }
}

/// Opens the subdirectory of `entry` in `dir`; `None` if it vanished meanwhile.
///
/// The handle confines the walk below it: a directory swapped for a link cannot lead out.
fn open_sub(dir: &Dir, entry: &DirEntry, key: &str) -> Result<Option<Dir>> {
    match dir.open_dir(entry.file_name()) {
        Ok(d) => Ok(Some(d)),
        Err(e) if is_absent(&e) => Ok(None),
        Err(e) => Err(io_error(e, key, "listing")),
    }
}

/// Whether `rel` (the path of `prefix`) is a directory reached without following any symlink.
/// The store's own `.ferry` is never reached: the encoding escapes a key's `.ferry`.
fn real_dir(root: &Root, prefix: &ObjectPath, rel: &std::path::Path) -> Result<bool> {
    let mut path = PathBuf::new();
    for component in rel.components() {
        path.push(component);
        match root.dir.symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Ok(false),
            Err(e) if is_absent(&e) => return Ok(false),
            Err(e) => return Err(io_error(e, prefix.as_str(), "listing")),
        }
    }
    Ok(true)
}

/// Reads and sorts one directory. `None` if it vanished meanwhile.
fn read_sorted(dir: &Dir, key_prefix: &str) -> Result<Option<Vec<Entry>>> {
    let dir_key = key_prefix.trim_end_matches('/');
    let entries = match dir.entries() {
        Ok(r) => r,
        Err(e) if is_absent(&e) => return Ok(None),
        Err(e) => return Err(io_error(e, dir_key, "listing")),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) if is_absent(&e) => continue,
            Err(e) => return Err(io_error(e, dir_key, "listing")),
        };
        let ft = match entry.file_type() {
            Ok(ft) => ft,
            Err(e) if is_absent(&e) => continue,
            Err(e) => return Err(io_error(e, dir_key, "listing")),
        };
        if !ft.is_dir() && !ft.is_file() {
            continue; // symlinks, sockets, fifos and devices are not objects
        }
        let is_dir = ft.is_dir();
        let name = match entry.file_name().into_string() {
            Ok(n) => n,
            Err(raw) => {
                let lossy = raw.to_string_lossy().into_owned();
                let err = Error::InvalidPath {
                    path: format!("{key_prefix}{lossy}"),
                    reason: format!("the local file name {raw:?} is not UTF-8, so it is no key"),
                };
                out.push(Entry { name: lossy, is_dir: false, entry: Err(err) });
                continue;
            }
        };
        let Some(segment) = decode_name(&name, key_prefix.is_empty()) else {
            continue; // the root's `.ferry`: the store's own, no key
        };
        out.push(Entry { name: segment.to_string(), is_dir, entry: Ok(entry) });
    }
    out.sort_by(cmp);
    Ok(Some(out))
}

/// The key of a walked entry, or why it is none.
fn entry_key(entry: Entry, full: &str) -> Result<(ObjectPath, DirEntry)> {
    let dir_entry = entry.entry?;
    let key = ObjectPath::parse(full).map_err(|e| Error::InvalidPath {
        path: full.chars().take(200).collect(),
        reason: format!("a local file whose path is no key: {e}"),
    })?;
    Ok((key, dir_entry))
}

/// Walks `rel` depth-first; `Ok(false)` when the consumer went away.
fn walk_dir(dir: &Dir, key_prefix: &str, offset: Option<&str>, tx: &Sender) -> Result<bool> {
    let Some(entries) = read_sorted(dir, key_prefix)? else {
        return Ok(true);
    };
    for entry in entries {
        let full = format!("{key_prefix}{}", entry.name);
        if entry.is_dir {
            let sub = format!("{full}/");
            // Every key below `sub` is at most `offset` when offset sorts after `sub` without
            // extending it: prune the whole subtree.
            if offset.is_some_and(|o| sub.as_str() < o && !o.starts_with(&sub)) {
                continue;
            }
            let Ok(dir_entry) = &entry.entry else { continue }; // only files carry errors
                                                                // Keys below a directory are longer than its own path; a too-long path still
                                                                // gets walked so that each file under it is its own error item.
            let Some(sub_dir) = open_sub(dir, dir_entry, &full)? else { continue };
            if !walk_dir(&sub_dir, &sub, offset, tx)? {
                return Ok(false);
            }
            continue;
        }
        if offset.is_some_and(|o| full.as_str() <= o) {
            continue;
        }
        let (key, dir_entry) = match entry_key(entry, &full) {
            Ok(k) => k,
            Err(e) => {
                if tx.blocking_send(Err(e)).is_err() {
                    return Ok(false);
                }
                continue;
            }
        };
        let meta = match dir_entry.metadata() {
            Ok(m) if m.is_file() => object_meta(key, &m),
            Ok(_) => continue,
            Err(e) if is_absent(&e) => continue, // deleted while we walked
            Err(e) => return Err(io_error(e, &full, "listing")),
        };
        if tx.blocking_send(Ok(meta)).is_err() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether the directory `rel` holds at least one object, at any depth.
fn holds_object(dir: &Dir, key_prefix: &str) -> Result<bool> {
    let Some(entries) = read_sorted(dir, key_prefix)? else {
        return Ok(false);
    };
    for entry in entries {
        let full = format!("{key_prefix}{}", entry.name);
        if !entry.is_dir {
            return Ok(true); // an object, or a file that is an error for whoever lists it
        }
        let Ok(dir_entry) = &entry.entry else { continue };
        if let Some(sub) = open_sub(dir, dir_entry, &full)? {
            if holds_object(&sub, &format!("{full}/"))? {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// One level below `prefix`: objects in it and subdirectories holding at least one object.
pub(crate) fn list_one_level(root: &Root, prefix: Option<&ObjectPath>) -> Result<ListResult> {
    let mut out = ListResult::default();
    let Some((dir, key_prefix)) = start_dir(root, prefix)? else {
        return Ok(out);
    };
    let Some(entries) = read_sorted(&dir, &key_prefix)? else {
        return Ok(out);
    };
    for entry in entries {
        let full = format!("{key_prefix}{}", entry.name);
        if entry.is_dir {
            let Ok(dir_entry) = &entry.entry else { continue };
            if let Some(sub) = open_sub(&dir, dir_entry, &full)? {
                if holds_object(&sub, &format!("{full}/"))? {
                    out.common_prefixes.push(ObjectPath::from_common_prefix(PROVIDER, &format!("{full}/"))?);
                }
            }
            continue;
        }
        // One level is one answer: a file that is no key fails it rather than vanish.
        let (key, dir_entry) = entry_key(entry, &full)?;
        match dir_entry.metadata() {
            Ok(m) if m.is_file() => out.objects.push(object_meta(key, &m)),
            Ok(_) => {}
            Err(e) if is_absent(&e) => {}
            Err(e) => return Err(io_error(e, &full, "listing")),
        }
    }
    // Entries were in walk order (`a/` before `a0`); each list on its own is by key.
    out.common_prefixes.sort();
    out.objects.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}
