//! Listings: a depth-first walk that yields keys in ascending byte order.
//!
//! Each directory's entries are sorted by name, a directory sorting as `name/`. Depth-first
//! order is then byte order of full keys (`a-c` < `a/b` < `a0`, because `-` < `/` < `0`), so
//! the walk needs memory for one directory per level, never for the whole listing.
//!
//! Symbolic links are not objects: the walk neither lists nor follows them. Names that are
//! not valid UTF-8 or not valid keys are skipped with a warning.

use std::path::PathBuf;

use cap_std::fs::{Dir, DirEntry};
use std::sync::Arc;

use futures::stream::{self, BoxStream, StreamExt};
use tokio::sync::mpsc;

use crate::error::Result;
use crate::path::ObjectPath;
use crate::types::{ListOptions, ListResult, ObjectMeta};

use super::disk::{io_error, is_absent, object_meta, Root, RESERVED};

/// Objects buffered between the walking thread and the consumer.
const CHANNEL: usize = 256;

/// One entry of a directory, kept only while its directory is being walked.
struct Entry {
    name: String,
    is_dir: bool,
    entry: DirEntry,
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
            if !real_dir(root, p)? {
                return Ok(None);
            }
            (root.dir.open_dir(p.as_str()), format!("{p}/"))
        }
    };
    match opened {
        Ok(dir) => Ok(Some((dir, key_prefix))),
        Err(e) if is_absent(&e) => Ok(None),
        Err(e) => Err(io_error(e, key_prefix.trim_end_matches('/'), "listing")),
    }
}

/// Opens the subdirectory `name` of `dir`; `None` if it vanished meanwhile.
///
/// The handle confines the walk below it: a directory swapped for a link cannot lead out.
fn open_sub(dir: &Dir, name: &str, key: &str) -> Result<Option<Dir>> {
    match dir.open_dir(name) {
        Ok(d) => Ok(Some(d)),
        Err(e) if is_absent(&e) => Ok(None),
        Err(e) => Err(io_error(e, key, "listing")),
    }
}

/// Whether `prefix` is a directory reached without following any symlink (and not reserved).
fn real_dir(root: &Root, prefix: &ObjectPath) -> Result<bool> {
    if prefix.segments().next() == Some(RESERVED) {
        return Ok(false);
    }
    let mut path = PathBuf::new();
    for segment in prefix.segments() {
        path.push(segment);
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
        let name = match entry.file_name().into_string() {
            Ok(n) => n,
            Err(raw) => {
                tracing::warn!(dir = dir_key, name = ?raw, "skipping a file name that is not UTF-8");
                continue;
            }
        };
        if key_prefix.is_empty() && name == RESERVED {
            continue;
        }
        let ft = match entry.file_type() {
            Ok(ft) => ft,
            Err(e) if is_absent(&e) => continue,
            Err(e) => return Err(io_error(e, dir_key, "listing")),
        };
        if ft.is_dir() {
            out.push(Entry { name, is_dir: true, entry });
        } else if ft.is_file() {
            out.push(Entry { name, is_dir: false, entry });
        } // symlinks, sockets, fifos and devices are not objects
    }
    out.sort_by(cmp);
    Ok(Some(out))
}

fn parse_key(full: &str) -> Option<ObjectPath> {
    match ObjectPath::parse(full) {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::warn!(key = ?full, error = %e, "skipping a local file whose name is not a valid key");
            None
        }
    }
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
            if parse_key(&full).is_none() {
                continue;
            }
            let Some(sub_dir) = open_sub(dir, &entry.name, &full)? else { continue };
            if !walk_dir(&sub_dir, &sub, offset, tx)? {
                return Ok(false);
            }
            continue;
        }
        if offset.is_some_and(|o| full.as_str() <= o) {
            continue;
        }
        let Some(key) = parse_key(&full) else { continue };
        let meta = match entry.entry.metadata() {
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
        if ObjectPath::parse(full.as_str()).is_err() {
            continue;
        }
        if !entry.is_dir {
            return Ok(true);
        }
        if let Some(sub) = open_sub(dir, &entry.name, &full)? {
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
        let Some(key) = parse_key(&full) else { continue };
        if entry.is_dir {
            if let Some(sub) = open_sub(&dir, &entry.name, &full)? {
                if holds_object(&sub, &format!("{full}/"))? {
                    out.common_prefixes.push(key);
                }
            }
            continue;
        }
        match entry.entry.metadata() {
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
