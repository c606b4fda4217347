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
//! into several ranges, each listed by its own request. The cut points are guesses — for a
//! range with an upper end, evenly spaced key strings between where the listing stopped and
//! that end; for the open tail, points at each depth of the common prefix of the keys just
//! listed, near ones first — and a guess never changes the result, only how fast it comes:
//! a range that held more than a chunk is cut again, with the better knowledge of where its
//! listing stopped; an empty one costs one request. Every range is a half-open interval
//! `(after, upto]` of keys, and consecutive ranges share their boundary, so every key is in
//! exactly one.
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
use tokio::task::JoinHandle;

use crate::error::{Error, ErrorKind, Result};
use crate::path::ObjectPath;
use crate::store::ObjectStore;
use crate::types::{ListOptions, ObjectMeta};

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
    /// The first key listed, for guessing how keys continue.
    first: Option<ObjectPath>,
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
                Outcome { items: Vec::new(), first: None, stopped_at: None, fatal: Some(fatal) }
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
        let first = outcome.first.take();
        let upto = self.slots[at].upto.clone();
        self.slots[at].state = State::Done(outcome);
        if let Some(after) = rest {
            let room = (2 * self.cfg.concurrency).saturating_sub(self.busy());
            let pieces = (self.cfg.concurrency - self.running.len().min(self.cfg.concurrency)).min(room).max(1);
            let cuts = if pieces > 1 {
                cut_points(&after, upto.as_ref(), first.as_ref(), pieces - 1, self.floor)
            } else {
                vec![]
            };
            let mut lower = Some(after);
            let mut next = at + 1;
            for cut in cuts {
                self.add_slot(next, lower.take(), Some(cut.clone()));
                lower = Some(cut);
                next += 1;
            }
            self.add_slot(next, lower, upto);
        }
        self.fill();
    }
}

/// Lists `(opts.offset, upto]` until it ends or has yielded `chunk` keys.
async fn list_range(store: Arc<dyn ObjectStore>, opts: ListOptions, upto: Option<ObjectPath>, chunk: usize) -> Outcome {
    let mut listing = store.list_opts(opts);
    let mut out = Outcome { items: Vec::new(), first: None, stopped_at: None, fatal: None };
    let mut keys = 0usize;
    while let Some(item) = listing.next().await {
        match item {
            Ok(meta) => {
                if upto.as_ref().is_some_and(|u| meta.path > *u) {
                    break;
                }
                if out.first.is_none() {
                    out.first = Some(meta.path.clone());
                }
                keys += 1;
                let path = (keys == chunk).then(|| meta.path.clone());
                out.items.push(Ok(meta));
                if path.is_some() {
                    out.stopped_at = path;
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

/// Key strings cut points are made of: printable ASCII, which every provider accepts as a
/// listing offset. Digit 0 is "the key ends here".
const LOW: u32 = 0x20;
const HIGH: u32 = 0x7e;
const BASE: u128 = (HIGH - LOW + 2) as u128;
const DIGITS: usize = 8;

fn digits(rest: &[char]) -> u128 {
    (0..DIGITS).fold(0u128, |v, i| {
        let d = rest.get(i).map_or(0, |c| (*c as u32).clamp(LOW, HIGH) - LOW + 1);
        v * BASE + u128::from(d)
    })
}

fn undigits(head: &[char], mut v: u128) -> String {
    let mut ds = [0u32; DIGITS];
    for d in ds.iter_mut().rev() {
        *d = (v % BASE) as u32;
        v /= BASE;
    }
    let mut s: String = head.iter().collect();
    for d in ds {
        if d == 0 {
            break;
        }
        s.extend(char::from_u32(LOW + d - 1));
    }
    s
}

/// Up to `n` points strictly between `after` and `upto` (the end of the key space when
/// `None`), ascending, evenly spaced over key strings.
fn between(head: &[char], after: &[char], upto: Option<&[char]>, n: usize) -> Vec<u128> {
    let lo = digits(&after[head.len().min(after.len())..]);
    let hi = upto.map_or(BASE.pow(DIGITS as u32), |u| digits(&u[head.len().min(u.len())..]));
    if hi <= lo + 1 {
        return Vec::new();
    }
    let span = hi - lo;
    (1..=n as u128).map(|i| lo + span * i / (n as u128 + 1)).collect()
}

/// Where to cut the rest `(after, upto]` of a range into `n + 1` ranges. Every point
/// returned lies strictly between `after` and `upto`, ascending, and under the listing's
/// prefix (`floor` characters of `after`).
fn cut_points(
    after: &ObjectPath,
    upto: Option<&ObjectPath>,
    first: Option<&ObjectPath>,
    n: usize,
    floor: usize,
) -> Vec<ObjectPath> {
    let a: Vec<char> = after.as_str().chars().collect();
    let mut raw: Vec<String> = Vec::new();
    match upto {
        Some(u) => {
            let u: Vec<char> = u.as_str().chars().collect();
            let common = a.iter().zip(&u).take_while(|(x, y)| x == y).count();
            let head = &a[..common];
            raw.extend(between(head, &a, Some(&u), n).into_iter().map(|v| undigits(head, v)));
        }
        None => {
            // The open tail: keys probably go on sharing most of the prefix the keys just
            // listed share. Cut at each depth of that prefix, nearest first, so that near
            // ranges are small and far ones still reach the end of the key space.
            let f: Vec<char> = first.map(|p| p.as_str().chars().collect()).unwrap_or_default();
            let common = a.iter().zip(&f).take_while(|(x, y)| x == y).count().max(floor).min(a.len());
            let depths: Vec<usize> = (floor..=common).rev().collect();
            let per = (n / depths.len().max(1)).max(2);
            for depth in depths {
                let head = &a[..depth];
                raw.extend(between(head, &a, None, per).into_iter().map(|v| undigits(head, v)));
            }
        }
    }
    let mut points: Vec<ObjectPath> = raw
        .into_iter()
        .filter(|s| s.as_str() > after.as_str() && upto.is_none_or(|u| s.as_str() < u.as_str()))
        .filter_map(|s| ObjectPath::parse(s).ok())
        .collect();
    points.sort();
    points.dedup();
    points.truncate(n);
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ObjectPath {
        ObjectPath::parse(s).unwrap()
    }

    #[test]
    fn cuts_lie_strictly_inside_and_ascend() {
        let cases =
            [("k/000999", Some("k/2")), ("a", Some("b")), ("a", Some("a\u{1}")), ("é", Some("ü")), ("~~~", None)];
        for (after, upto) in cases {
            let cuts = cut_points(&p(after), upto.map(p).as_ref(), None, 7, 0);
            for w in cuts.windows(2) {
                assert!(w[0] < w[1], "{cuts:?}");
            }
            for c in &cuts {
                assert!(c.as_str() > after && upto.is_none_or(|u| c.as_str() < u), "{after} {upto:?} {c}");
            }
        }
    }

    #[test]
    fn the_tail_is_cut_near_first() {
        let cuts = cut_points(&p("k/000999"), None, Some(&p("k/000000")), 12, 0);
        assert!(cuts.len() >= 6, "{cuts:?}");
        assert!(cuts[0].as_str().starts_with("k/00"), "{cuts:?}");
    }

    #[test]
    fn cuts_stay_under_the_prefix() {
        let cuts = cut_points(&p("data/x1"), None, Some(&p("data/x0")), 8, "data/".len());
        assert!(cuts.iter().all(|c| c.as_str().starts_with("data/")), "{cuts:?}");
    }
}
