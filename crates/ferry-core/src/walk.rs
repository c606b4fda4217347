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
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> ferry_core::Result<()> {
//! use std::sync::Arc;
//! use ferry_core::{memory::MemoryStore, walk, ListOptions, ObjectPath, ObjectStore, ObjectStoreExt};
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

use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt};

use crate::error::Result;
use crate::path::ObjectPath;
use crate::store::ObjectStore;
use crate::types::{ListOptions, ObjectMeta};

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

/// Every object of `store` under `opts.prefix` after `opts.offset`, in key order, read one
/// directory at a time with [`ObjectStore::list_with_delimiter`]: the same stream as
/// [`ObjectStore::list_opts`], for stores where a flat listing costs more than the levels.
/// Memory holds one level per depth: a bucket with a million keys at its root holds them all.
pub fn by_level(store: Arc<dyn ObjectStore>, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
    walk(StoreLevels(store), opts)
}

struct StoreLevels(Arc<dyn ObjectStore>);

#[async_trait]
impl LevelLister for StoreLevels {
    type Listed = ObjectMeta;

    async fn list_level(&self, dir: Option<&ObjectPath>) -> Result<Vec<Entry<ObjectMeta>>> {
        let level = self.0.list_with_delimiter(dir).await?;
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
        ];
        for k in tricky {
            store.put(&ObjectPath::parse(k).unwrap(), "x".into()).await.unwrap();
        }
        let cases = [
            ListOptions::default(),
            ListOptions { prefix: Some(ObjectPath::parse("a").unwrap()), offset: None },
            ListOptions { prefix: None, offset: Some(ObjectPath::parse("a/b").unwrap()) },
            ListOptions {
                prefix: Some(ObjectPath::parse("dir").unwrap()),
                offset: Some(ObjectPath::parse("dir/file").unwrap()),
            },
        ];
        for opts in cases {
            let flat = keys(store.list_opts(opts.clone())).await;
            assert!(!flat.is_empty() || opts.offset.is_some(), "{opts:?}");
            assert_eq!(keys(by_level(store.clone(), opts.clone())).await, flat, "{opts:?}");
        }
    }
}
