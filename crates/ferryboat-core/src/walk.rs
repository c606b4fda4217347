//! A listing in key order built from one directory listing per level.
//!
//! The walk goes depth first and sorts each level so that a directory `d` comes where `d/`
//! sorts: its order is then the byte order of keys, with one level per depth in memory. It
//! serves two needs: stores that list in no particular order (the `object_store` and OpenDAL
//! bridges), and servers whose flat listing is expensive per page while one directory is
//! cheap (some self-hosted S3 servers re-read the whole bucket for every page): see
//! [`by_level`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> ferryboat_core::Result<()> {
//! use std::sync::Arc;
//! use ferryboat_core::{memory::MemoryStore, walk, ListOptions, ObjectPath, ObjectStore, ObjectStoreExt};
//! use futures::TryStreamExt;
//!
//! let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
//! for key in ["a/x", "a.txt", "a0", "b/c/d"] {
//!     store.put(&ObjectPath::parse(key)?, "x".into()).await?;
//! }
//! let keys: Vec<String> =
//!     walk::by_level(store, ListOptions::default()).map_ok(|m| m.path.to_string()).try_collect().await?;
//! assert_eq!(keys, ["a.txt", "a/x", "a0", "b/c/d"]); // byte order, as a flat listing
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt};
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::path::ObjectPath;
use crate::store::ObjectStore;
use crate::types::{ListOptions, ListResult, ObjectMeta};

/// One entry of a directory listing.
#[derive(Debug)]
pub enum Entry<L> {
    /// An object at its path, with what the listing said of it.
    Object(ObjectPath, L),
    /// A directory to list; `None` is the root.
    Dir(Option<ObjectPath>),
}

impl<L> Entry<L> {
    fn sort_key(&self) -> String {
        match self {
            Entry::Object(p, _) => p.to_string(),
            Entry::Dir(Some(d)) => format!("{d}/"),
            Entry::Dir(None) => String::new(),
        }
    }
}

/// How one directory is listed, and how a listed object becomes its metadata.
#[async_trait]
pub trait LevelLister: Send + Sync + 'static {
    /// What a listing says of an object before [`LevelLister::to_meta`].
    type Listed: Send + 'static;

    /// The objects and subdirectories directly in `dir` (`None`: the root), in any order.
    async fn list_level(&self, dir: Option<&ObjectPath>) -> Result<Vec<Entry<Self::Listed>>>;

    /// The metadata of a listed object; `Ok(None)` skips it (gone since it was listed).
    async fn to_meta(&self, path: ObjectPath, listed: Self::Listed) -> Result<Option<ObjectMeta>>;
}

/// Every object under `opts.prefix` after `opts.offset`, in key order.
///
/// A failed directory listing ends the walk after its error; a failed
/// [`LevelLister::to_meta`] is yielded and the walk goes on with the next object.
pub fn walk<W: LevelLister>(lister: W, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
    let state = Walk { lister, offset: opts.offset, stack: vec![vec![Entry::Dir(opts.prefix)]], failed: false };
    stream::unfold(state, |mut w| async move {
        let item = w.next().await?;
        Some((item, w))
    })
    .boxed()
}

struct Walk<W: LevelLister> {
    lister: W,
    offset: Option<ObjectPath>,
    /// Levels being walked; each holds its remaining entries, largest first.
    stack: Vec<Vec<Entry<W::Listed>>>,
    failed: bool,
}

impl<W: LevelLister> Walk<W> {
    /// Whether nothing under directory `d` can come after the offset.
    fn before_offset(&self, d: &ObjectPath) -> bool {
        let Some(o) = &self.offset else { return false };
        let dir = format!("{d}/");
        o.as_str() > dir.as_str() && !o.as_str().starts_with(&dir)
    }

    async fn next(&mut self) -> Option<Result<ObjectMeta>> {
        if self.failed {
            return None;
        }
        loop {
            let level = self.stack.last_mut()?;
            let Some(entry) = level.pop() else {
                self.stack.pop();
                continue;
            };
            match entry {
                Entry::Object(p, _) if self.offset.as_ref().is_some_and(|o| &p <= o) => continue,
                Entry::Object(p, listed) => match self.lister.to_meta(p, listed).await {
                    Ok(None) => continue,
                    other => return other.transpose(),
                },
                Entry::Dir(Some(d)) if self.before_offset(&d) => continue,
                Entry::Dir(d) => match self.lister.list_level(d.as_ref()).await {
                    Ok(mut entries) => {
                        // Largest first, so `pop` yields ascending order.
                        entries.sort_by_key(|e| std::cmp::Reverse(e.sort_key()));
                        self.stack.push(entries);
                    }
                    Err(e) => {
                        self.failed = true;
                        return Some(Err(e));
                    }
                },
            }
        }
    }
}

/// Directories listed ahead of the walk at once, by [`by_level`].
pub const LEVELS_AHEAD: usize = 16;

/// Every object of `store` under `opts.prefix` after `opts.offset`, in key order, read one
/// directory at a time with [`ObjectStore::list_with_delimiter`]: the same stream as
/// [`ObjectStore::list_opts`], for stores where a flat listing costs more than the levels.
/// The next [`LEVELS_AHEAD`] directories in walking order are listed concurrently, ahead of
/// need. Memory holds one level per depth (a bucket with a million keys at its root holds
/// them all) and the levels listed ahead. Runs its listings on the current Tokio runtime.
pub fn by_level(store: Arc<dyn ObjectStore>, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
    walk(StoreLevels { store, ahead: Mutex::new(VecDeque::new()) }, opts)
}

type Listing = JoinHandle<Result<ListResult>>;

struct StoreLevels {
    store: Arc<dyn ObjectStore>,
    /// Directories the walk will visit, in the order it will visit them (depth first), the
    /// first ones already being listed.
    ahead: Mutex<VecDeque<(ObjectPath, Option<Listing>)>>,
}

impl StoreLevels {
    fn start(&self, dir: ObjectPath) -> Listing {
        let store = self.store.clone();
        tokio::spawn(async move { store.list_with_delimiter(Some(&dir)).await })
    }

    /// The listing of `dir` if it was started ahead; drops what the walk skipped over.
    fn take_started(&self, dir: &ObjectPath) -> Option<Listing> {
        let mut ahead = self.ahead.lock().unwrap_or_else(|p| p.into_inner());
        while let Some((next, listing)) = ahead.pop_front() {
            if &next == dir {
                return listing;
            }
            if let Some(skipped) = listing {
                skipped.abort();
            }
        }
        None
    }

    /// Queues `dirs` (the subdirectories of the level just listed) in front of
    /// the rest, and keeps the first [`LEVELS_AHEAD`] of the queue being listed.
    fn plan(&self, dirs: &[ObjectPath]) {
        // The walk visits `d` where `d/` sorts (`a-b/` before `a/`), not where `d` does.
        let mut dirs: Vec<&ObjectPath> = dirs.iter().collect();
        dirs.sort_by_cached_key(|d| format!("{d}/"));
        let mut ahead = self.ahead.lock().unwrap_or_else(|p| p.into_inner());
        for d in dirs.into_iter().rev() {
            ahead.push_front((d.clone(), None));
        }
        for (dir, listing) in ahead.iter_mut().take(LEVELS_AHEAD) {
            if listing.is_none() {
                *listing = Some(self.start(dir.clone()));
            }
        }
    }
}

impl Drop for StoreLevels {
    fn drop(&mut self) {
        let ahead = self.ahead.get_mut().unwrap_or_else(|p| p.into_inner());
        for (_, listing) in ahead.drain(..) {
            if let Some(l) = listing {
                l.abort();
            }
        }
    }
}

#[async_trait]
impl LevelLister for StoreLevels {
    type Listed = ObjectMeta;

    async fn list_level(&self, dir: Option<&ObjectPath>) -> Result<Vec<Entry<ObjectMeta>>> {
        let started = dir.and_then(|d| self.take_started(d));
        let level = match started {
            Some(listing) => match listing.await {
                Ok(level) => level?,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => {
                    let at = dir.map(ObjectPath::as_str).unwrap_or("");
                    return Err(Error::generic(self.store.info().provider.clone(), at, e.to_string(), None));
                }
            },
            None => self.store.list_with_delimiter(dir).await?,
        };
        self.plan(&level.common_prefixes);
        let dirs = level.common_prefixes.into_iter().map(|d| Entry::Dir(Some(d)));
        Ok(level.objects.into_iter().map(|m| Entry::Object(m.path.clone(), m)).chain(dirs).collect())
    }

    async fn to_meta(&self, _path: ObjectPath, listed: ObjectMeta) -> Result<Option<ObjectMeta>> {
        Ok(Some(listed))
    }
}

#[cfg(test)]
mod tests {
    use futures::TryStreamExt;

    use super::*;
    use crate::memory::MemoryStore;
    use crate::ObjectStoreExt;

    async fn keys(stream: BoxStream<'static, Result<ObjectMeta>>) -> Vec<String> {
        stream.map_ok(|m| m.path.to_string()).try_collect().await.unwrap()
    }

    #[tokio::test]
    async fn by_level_lists_exactly_what_the_flat_listing_does() {
        let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
        let tricky = [
            "a",
            "a.txt",
            "a/b",
            "a/b.c",
            "a/b/c",
            "a0",
            "a-b/c",
            "b/a/z",
            "b/a.z",
            "café/x",
            "Z",
            "dir/file",
            "dir.file",
            "dir-file",
            "dir/sub/leaf",
            "sp ace/x",
            "100%+#?.bin",
            "m/",
            "m/x",
            "m//y",
            "m//",
            "m/./z",
            "m/../z",
            "m/ /w",
        ];
        for k in tricky {
            store.put(&ObjectPath::parse(k).unwrap(), "x".into()).await.unwrap();
        }
        // More directories than are listed ahead, nested, so the read-ahead queue fills,
        // drains and is skipped over (offsets).
        for i in 0..40 {
            for j in 0..3 {
                store.put(&ObjectPath::parse(format!("t/d{i:02}/s{j}/k")).unwrap(), "x".into()).await.unwrap();
                store.put(&ObjectPath::parse(format!("t/d{i:02}-{j}")).unwrap(), "x".into()).await.unwrap();
            }
        }
        let cases = [
            ListOptions::default(),
            ListOptions { prefix: Some(ObjectPath::parse("a").unwrap()), offset: None, ..Default::default() },
            ListOptions { prefix: None, offset: Some(ObjectPath::parse("a/b").unwrap()), ..Default::default() },
            ListOptions {
                prefix: Some(ObjectPath::parse("dir").unwrap()),
                offset: Some(ObjectPath::parse("dir/file").unwrap()),
                ..Default::default()
            },
            ListOptions {
                prefix: Some(ObjectPath::parse("t").unwrap()),
                offset: Some(ObjectPath::parse("t/d17/s1").unwrap()),
                ..Default::default()
            },
            ListOptions { prefix: None, offset: Some(ObjectPath::parse("t/d33").unwrap()), ..Default::default() },
            ListOptions { prefix: Some(ObjectPath::parse("m").unwrap()), offset: None, ..Default::default() },
            ListOptions { prefix: Some(ObjectPath::parse("m/").unwrap()), offset: None, ..Default::default() },
            ListOptions { prefix: None, offset: Some(ObjectPath::parse("m/").unwrap()), ..Default::default() },
        ];
        for opts in cases {
            let flat = keys(store.list_opts(opts.clone())).await;
            assert!(!flat.is_empty() || opts.offset.is_some(), "{opts:?}");
            assert_eq!(keys(by_level(store.clone(), opts.clone())).await, flat, "{opts:?}");
        }
    }

    #[tokio::test]
    async fn keys_starting_with_a_slash_stop_a_walk_by_level_with_a_clear_error() {
        let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
        for k in ["/lead", "a"] {
            store.put(&ObjectPath::parse(k).unwrap(), "x".into()).await.unwrap();
        }
        let items: Vec<_> = by_level(store.clone(), ListOptions::default()).collect().await;
        let err = items.into_iter().find_map(|r| r.err()).expect("the walk stops with an error");
        assert_eq!(err.kind(), crate::ErrorKind::NotSupported, "{err}");
        assert!(err.to_string().contains("list recursively"), "{err}");
        assert_eq!(keys(store.list_opts(ListOptions::default())).await, ["/lead", "a"], "the flat listing has them");
    }
}
