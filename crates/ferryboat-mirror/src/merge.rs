//! The diff: two sorted listings merged as streams, with their order checked.
//!
//! Each listing is read by its own task into a bounded channel, so listing runs ahead of
//! (and concurrently with) comparison and copying while memory stays at the channel's size.
//! Where a store's listing seeks ([`ferryboat_core::Capabilities::list_seeks`]), a side is
//! listed as concurrent key ranges ([`ferryboat_core::ranges`]), still in key order.
//!
//! A listing's [`ErrorKind::InvalidPath`] item is one key the store could not name: it
//! becomes an [`Entry::Unlisted`] (a named failure of that key) and the listing goes on.
//! Any other error ends the merge: a listing with a page missing must never lead to deletes.

use std::cmp::Ordering;

use std::collections::VecDeque;

use ferryboat_core::ranges::{list_parallel, ParallelListing};
use ferryboat_core::{Error, ErrorKind, ListOptions, ObjectMeta, ObjectPath, ObjectStore, Result};
use futures::stream::{BoxStream, StreamExt};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// One key of the merged listing.
#[derive(Debug)]
// Entries pass through one at a time (never stored in bulk): boxing `Both` would cost an
// allocation per key for no memory saved.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Entry {
    /// Only the source has it.
    Source(ObjectMeta),
    /// Only the destination has it.
    Destination(ObjectMeta),
    /// Both have it.
    Both(ObjectMeta, ObjectMeta),
    /// A key the `side` ("source" or "destination") listed but could not name.
    Unlisted { side: &'static str, error: Error },
}

/// Whether a listing error is about one key, after which the listing goes on.
pub(crate) fn is_key_error(e: &Error) -> bool {
    e.kind() == ErrorKind::InvalidPath
}

/// One side's listing, read ahead by a task, checked for order as it is consumed.
struct Side {
    name: &'static str,
    provider: String,
    rx: mpsc::Receiver<Result<ObjectMeta>>,
    task: JoinHandle<()>,
    last: Option<ObjectPath>,
    peeked: Option<ObjectMeta>,
    /// Keys this side could not name, met while peeking, not yet handed out.
    unlisted: VecDeque<Error>,
    done: bool,
}

impl Drop for Side {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Which keys both sides list: under `prefix`, after `after` (exclusive), up to `upto`
/// (inclusive). The listings start at `after` and stop past `upto`, so a worker given one
/// key range reads only that part of either bucket.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    pub(crate) prefix: Option<ObjectPath>,
    pub(crate) after: Option<ObjectPath>,
    pub(crate) upto: Option<ObjectPath>,
}

impl Side {
    fn spawn(name: &'static str, store: &Arc<dyn ObjectStore>, scope: Scope, read_ahead: usize, how: Listing) -> Self {
        let (tx, rx) = mpsc::channel(read_ahead.max(1));
        let Scope { prefix, after, upto } = scope;
        let opts = ListOptions { prefix, offset: after, ..Default::default() };
        let mut listing: BoxStream<'static, Result<ObjectMeta>> = match how {
            // Key ranges listed at once pay only where a listing can start at its offset.
            Listing::Flat { concurrency } if concurrency > 1 && store.capabilities().list_seeks => {
                let cfg = ParallelListing { concurrency, ..ParallelListing::default() };
                list_parallel(store.clone(), opts, upto, cfg)
            }
            how => {
                let listing = match how {
                    Listing::ByLevel => ferryboat_core::walk::by_level(store.clone(), opts),
                    Listing::Flat { .. } => store.list_opts(opts),
                };
                match upto {
                    // Listings are in key order: the first key past the end ends it.
                    Some(upto) => listing
                        .take_while(move |item| futures::future::ready(item.as_ref().map_or(true, |m| m.path <= upto)))
                        .boxed(),
                    None => listing,
                }
            }
        };
        let task = tokio::spawn(async move {
            while let Some(item) = listing.next().await {
                let failed = item.as_ref().is_err_and(|e| !is_key_error(e));
                if tx.send(item).await.is_err() || failed {
                    break;
                }
            }
        });
        Side {
            name,
            provider: store.info().provider.clone(),
            rx,
            task,
            last: None,
            peeked: None,
            unlisted: VecDeque::new(),
            done: false,
        }
    }

    async fn peek(&mut self) -> Result<Option<&ObjectMeta>> {
        while self.peeked.is_none() && !self.done {
            match self.rx.recv().await {
                None => self.done = true,
                Some(Err(e)) if is_key_error(&e) => self.unlisted.push_back(e),
                Some(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Some(Ok(meta)) => {
                    if let Some(last) = &self.last {
                        if meta.path <= *last {
                            self.done = true;
                            let what = if meta.path == *last { "repeats" } else { "is out of order after" };
                            return Err(Error::generic(
                                self.provider.clone(),
                                meta.path.as_str(),
                                format!(
                                    "the {} listing {what} {last:?}: listings must be in ascending byte order, \
                                     each key once; refusing to continue (nothing deleted)",
                                    self.name
                                ),
                                None,
                            ));
                        }
                    }
                    self.last = Some(meta.path.clone());
                    self.peeked = Some(meta);
                }
            }
        }
        Ok(self.peeked.as_ref())
    }

    fn take(&mut self) -> Option<ObjectMeta> {
        self.peeked.take()
    }
}

/// How each side is listed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Listing {
    /// One directory level at a time ([`ferryboat_core::walk::by_level`]).
    ByLevel,
    /// Flat, as `concurrency` key ranges at once where the store's listing seeks.
    Flat { concurrency: usize },
}

/// The merged listing of `src` and `dst` within a [`Scope`], in key order.
pub(crate) struct Merge {
    src: Side,
    dst: Side,
}

impl Merge {
    pub(crate) fn new(
        src: &Arc<dyn ObjectStore>,
        dst: &Arc<dyn ObjectStore>,
        scope: Scope,
        read_ahead: usize,
        how: Listing,
    ) -> Self {
        Merge {
            src: Side::spawn("source", src, scope.clone(), read_ahead, how),
            dst: Side::spawn("destination", dst, scope, read_ahead, how),
        }
    }

    /// Checks that both listings answer at all (the first entry of each): a store that
    /// cannot be listed is a setup error, not a per-object failure.
    pub(crate) async fn start(&mut self) -> Result<()> {
        self.src.peek().await?;
        self.dst.peek().await?;
        Ok(())
    }

    /// The next key, or `None` at the end of both listings.
    pub(crate) async fn next(&mut self) -> Result<Option<Entry>> {
        self.src.peek().await?;
        self.dst.peek().await?;
        for side in [&mut self.src, &mut self.dst] {
            if let Some(error) = side.unlisted.pop_front() {
                return Ok(Some(Entry::Unlisted { side: side.name, error }));
            }
        }
        let order = match (self.src.peek().await?, self.dst.peek().await?) {
            (None, None) => return Ok(None),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(s), Some(d)) => s.path.cmp(&d.path),
        };
        // Both sides were peeked above, so `take` finds what `peek` saw.
        let entry = match order {
            Ordering::Less => self.src.take().map(Entry::Source),
            Ordering::Greater => self.dst.take().map(Entry::Destination),
            Ordering::Equal => match (self.src.take(), self.dst.take()) {
                (Some(s), Some(d)) => Some(Entry::Both(s, d)),
                _ => None,
            },
        };
        Ok(entry)
    }

    /// The merge as a stream that ends at the first error, which it yields.
    pub(crate) fn into_stream(self) -> BoxStream<'static, Result<Entry>> {
        futures::stream::unfold(Some(self), |state| async move {
            let mut merge = state?;
            match merge.next().await {
                Ok(Some(entry)) => Some((Ok(entry), Some(merge))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        })
        .boxed()
    }
}
