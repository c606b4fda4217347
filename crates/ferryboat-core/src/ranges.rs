//! One listing read as many key ranges at once, yielded as one ascending stream.
//!
//! A flat listing is one page after another: at 1,000 keys a page and tens of milliseconds a
//! round trip, a bucket of millions of keys takes minutes before its last key is known.
//! [`list_parallel`] lists key ranges concurrently instead, each with the listing's own
//! offset (S3's `start-after`, GCS's `startOffset`), and hands the keys on in byte order, so
//! a merge of two sorted listings (the mirror's diff) works on it unchanged.
//!
//! How the ranges are found: the first range is the whole key space. A range is listed until
//! it ends or has yielded [`ParallelListing::chunk`] keys; what is left of it is then cut
//! into several ranges, each listed by its own request. The cut points are guesses from the
//! keys just listed (`cuts`: about one chunk's width of key space apart, then doubling), and
//! a guess never changes the result, only how fast it comes: a range that held more than a
//! chunk is cut again, with better knowledge of where its keys lie; an empty one costs one
//! request. Every range is a half-open interval `(after, upto]` of keys, and consecutive
//! ranges share their boundary, so every key is in exactly one.
//!
//! Memory stays bounded whatever the bucket holds: at most `2 × concurrency` ranges hold
//! keys at once (being listed, or listed and waiting to be consumed), each at most one
//! chunk (plus one page inside the backend's own stream); the rest of a range waits, as two
//! keys, until there is room. A consumer that stops pulling stops the listing.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> ferryboat_core::Result<()> {
//! use std::sync::Arc;
//! use ferryboat_core::ranges::{list_parallel, ParallelListing};
//! use ferryboat_core::{memory::MemoryStore, ListOptions, ObjectPath, ObjectStore, ObjectStoreExt};
//! use futures::TryStreamExt;
//!
//! let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
//! for i in 0..250 {
//!     store.put(&ObjectPath::parse(format!("k/{i:04}"))?, "x".into()).await?;
//! }
//! let cfg = ParallelListing { concurrency: 8, chunk: 10 };
//! let keys: Vec<String> =
//!     list_parallel(store, ListOptions::default(), None, cfg).map_ok(|m| m.path.to_string()).try_collect().await?;
//! assert_eq!(keys.len(), 250);
//! assert!(keys.windows(2).all(|w| w[0] < w[1]));
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::stream::{self, BoxStream, FuturesUnordered, StreamExt};
use futures::FutureExt;
use tokio::task::JoinHandle;

use crate::error::{Error, ErrorKind, Result};
use crate::path::ObjectPath;
use crate::store::ObjectStore;
use crate::types::{ListOptions, ObjectMeta};

mod cuts;

/// How hard [`list_parallel`] pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParallelListing {
    /// Listing requests in flight at once (at least 1; 1 is a plain sequential listing).
    pub concurrency: usize,
    /// Keys one range yields before what is left of it is cut into new ranges. A backend's
    /// page (1,000 keys on S3) is a good size: each range is then one request.
    pub chunk: usize,
}

impl Default for ParallelListing {
    fn default() -> Self {
        ParallelListing { concurrency: 16, chunk: 1000 }
    }
}

/// Every object under `opts.prefix` after `opts.offset` and (when given) at most `upto`, in
/// ascending byte order, listed as concurrent key ranges (see the module docs).
///
/// Items are what the store's listing yields: a key the store cannot name (an
/// [`ErrorKind::InvalidPath`] item) is passed on and the listing goes on; any other error
/// is yielded where it occurred in key order and ends the stream. Worth it only on stores
/// whose listing starts at its offset on the server ([`crate::Capabilities::list_seeks`]):
/// elsewhere every range would read the listing from the start.
pub fn list_parallel(
    store: Arc<dyn ObjectStore>,
    opts: ListOptions,
    upto: Option<ObjectPath>,
    cfg: ParallelListing,
) -> BoxStream<'static, Result<ObjectMeta>> {
    let cfg = ParallelListing { concurrency: cfg.concurrency.max(1), chunk: cfg.chunk.max(1) };
    let floor = opts.prefix.as_ref().map(|p| format!("{p}/").chars().count()).unwrap_or(0);
    let mut lister = Lister {
        store,
        prefix: opts.prefix,
        cfg,
        floor,
        slots: VecDeque::new(),
        running: FuturesUnordered::new(),
        current: Vec::new().into_iter(),
        next_id: 0,
        ended: false,
    };
    lister.add_slot(0, opts.offset, upto);
    lister.fill();
    stream::unfold(lister, |mut l| async move { l.next().await.map(|item| (item, l)) }).boxed()
}

/// What one range's listing gave.
struct Outcome {
    items: Vec<Result<ObjectMeta>>,
    /// Where the listing stopped with the range unfinished (it yielded a chunk).
    stopped_at: Option<ObjectPath>,
    /// An error that ended the range, to be yielded after its items.
    fatal: Option<Error>,
}

struct Slot {
    id: u64,
    /// The range's lower end (exclusive); `None` is the start of the key space.
    after: Option<ObjectPath>,
    /// The range's upper end (inclusive); `None` is the end of the key space.
    upto: Option<ObjectPath>,
    state: State,
}

enum State {
    /// Not listed yet: holds no keys, waits for room.
    Waiting,
    Running,
    Done(Outcome),
}

/// A spawned range listing, aborted when dropped (a dropped stream stops its requests).
struct Task(u64, JoinHandle<Outcome>);

impl Drop for Task {
    fn drop(&mut self) {
        self.1.abort();
    }
}

impl Future for Task {
    type Output = (u64, Outcome);
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.0;
        Pin::new(&mut self.1).poll(cx).map(|r| {
            let outcome = r.unwrap_or_else(|e| {
                if e.is_panic() {
                    std::panic::resume_unwind(e.into_panic())
                }
                let fatal = Error::generic("listing", "", "a range listing was cancelled", None);
                Outcome { items: Vec::new(), stopped_at: None, fatal: Some(fatal) }
            });
            (id, outcome)
        })
    }
}

struct Lister {
    store: Arc<dyn ObjectStore>,
    prefix: Option<ObjectPath>,
    cfg: ParallelListing,
    /// Characters every key shares by the listing's prefix (`prefix/`): cut points never
    /// leave it.
    floor: usize,
    /// The ranges in key order, from the one being consumed on.
    slots: VecDeque<Slot>,
    running: FuturesUnordered<Task>,
    current: std::vec::IntoIter<Result<ObjectMeta>>,
    next_id: u64,
    ended: bool,
}

impl Lister {
    async fn next(&mut self) -> Option<Result<ObjectMeta>> {
        loop {
            if let Some(item) = self.current.next() {
                return Some(item);
            }
            if self.ended {
                return None;
            }
            match self.slots.front_mut() {
                None => return None,
                Some(Slot { state: State::Done(outcome), .. }) => {
                    let mut items = std::mem::take(&mut outcome.items);
                    let fatal = outcome.fatal.take();
                    self.slots.pop_front();
                    if let Some(e) = fatal {
                        // Nothing after a failed range may be yielded: its keys are unknown.
                        items.push(Err(e));
                        self.ended = true;
                        self.slots.clear();
                        self.running.clear();
                    }
                    self.current = items.into_iter();
                    self.fill();
                    continue;
                }
                Some(_) => {}
            }
            let (id, outcome) = self.running.next().await?;
            self.finished(id, outcome);
        }
    }

    /// Ranges that hold keys or are being listed: the memory bound counts these.
    fn busy(&self) -> usize {
        self.slots.iter().filter(|s| !matches!(s.state, State::Waiting)).count()
    }

    fn add_slot(&mut self, at: usize, after: Option<ObjectPath>, upto: Option<ObjectPath>) {
        let id = self.next_id;
        self.next_id += 1;
        self.slots.insert(at, Slot { id, after, upto, state: State::Waiting });
    }

    /// Starts waiting ranges, front first (the consumer needs those soonest), while there
    /// is room in both bounds; the front one always, so the stream never stalls.
    fn fill(&mut self) {
        let mut busy = self.busy();
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if i > 0 && (self.running.len() >= self.cfg.concurrency || busy >= 2 * self.cfg.concurrency) {
                break;
            }
            if !matches!(slot.state, State::Waiting) {
                continue;
            }
            let store = self.store.clone();
            let opts = ListOptions { prefix: self.prefix.clone(), offset: slot.after.clone(), ..Default::default() };
            let (upto, chunk) = (slot.upto.clone(), self.cfg.chunk);
            let handle = tokio::spawn(async move { list_range(store, opts, upto, chunk).await });
            self.running.push(Task(slot.id, handle));
            slot.state = State::Running;
            busy += 1;
        }
    }

    /// A range finished: keep its keys in place, and cut what is left of it into new ranges.
    fn finished(&mut self, id: u64, mut outcome: Outcome) {
        let Some(at) = self.slots.iter().position(|s| s.id == id) else { return };
        let rest = outcome.stopped_at.take();
        let upto = self.slots[at].upto.clone();
        if let Some(after) = rest {
            let room = (2 * self.cfg.concurrency).saturating_sub(self.busy());
            let pieces = (self.cfg.concurrency - self.running.len().min(self.cfg.concurrency)).min(room).max(1);
            let sample = outcome.items.iter().filter_map(|i| i.as_ref().ok()).map(|m| m.path.as_str());
            let cuts = cuts::cut_points(&after, upto.as_ref(), sample, pieces - 1, self.floor);
            let mut lower = Some(after);
            let mut next = at + 1;
            for cut in cuts {
                self.add_slot(next, lower.take(), Some(cut.clone()));
                lower = Some(cut);
                next += 1;
            }
            self.add_slot(next, lower, upto);
        }
        self.slots[at].state = State::Done(outcome);
        self.fill();
    }
}

/// Lists `(opts.offset, upto]` until it ends or has yielded `chunk` keys.
async fn list_range(store: Arc<dyn ObjectStore>, opts: ListOptions, upto: Option<ObjectPath>, chunk: usize) -> Outcome {
    let mut listing = store.list_opts(opts);
    let mut out = Outcome { items: Vec::new(), stopped_at: None, fatal: None };
    let mut keys = 0usize;
    while let Some(item) = listing.next().await {
        match item {
            Ok(meta) => {
                if upto.as_ref().is_some_and(|u| meta.path > *u) {
                    break;
                }
                keys += 1;
                let path = (keys == chunk).then(|| meta.path.clone());
                out.items.push(Ok(meta));
                if path.is_some() {
                    // A listing whose last page said it was the last ends without another
                    // request: then the range is done, and cutting the rest of it would
                    // cost a round of empty range requests (a bucket of exactly one page).
                    if !matches!(listing.next().now_or_never(), Some(None)) {
                        out.stopped_at = path;
                    }
                    break;
                }
            }
            Err(e) if e.kind() == ErrorKind::InvalidPath => out.items.push(Err(e)),
            Err(e) => {
                out.fatal = Some(e);
                break;
            }
        }
    }
    out
}
