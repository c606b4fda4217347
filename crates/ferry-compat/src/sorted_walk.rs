//! The sorted listing both bridges fall back on: neither `object_store` nor OpenDAL promises
//! key order, ferry does. The walk goes depth first, one directory listing per level, and
//! sorts each level so that a directory `d` comes where `d/` sorts: the walk's order is then
//! the byte order of keys, with one level per depth in memory.

use async_trait::async_trait;
use ferry_core::{ListOptions, ObjectMeta, ObjectPath, Result};
use futures::stream::{self, BoxStream, StreamExt};

/// One entry of a directory listing.
pub(crate) enum Entry<L> {
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
pub(crate) trait LevelLister: Send + Sync + 'static {
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
pub(crate) fn walk<W: LevelLister>(lister: W, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
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
