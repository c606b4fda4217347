//! Key ranges that cut one bucket into parts of about equal key counts, for workers that
//! each list only their own part ([`Filters::after`](crate::Filters::after) and
//! [`Filters::upto`](crate::Filters::upto)).
//!
//! Hash shards ([`Shard`](crate::Shard)) need no preparation, but every worker lists the
//! whole bucket on both sides and keeps its share: N workers list it N times. Key ranges cost
//! one listing up front, here, and then each worker lists only its range, so the listing is
//! shared as the copying is. Memory stays bounded: one sampled key in every `step`, `step`
//! doubling whenever more than a fixed number are kept, whatever the bucket holds.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> ferryboat_core::Result<()> {
//! use std::sync::Arc;
//! use ferryboat_core::{memory::MemoryStore, ObjectPath, ObjectStore, ObjectStoreExt};
//! use ferryboat_mirror::split::split;
//!
//! let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
//! for i in 0..1000 {
//!     store.put(&ObjectPath::parse(format!("k/{i:04}"))?, "x".into()).await?;
//! }
//! let parts = split(store, None, 4).await?;
//! assert_eq!(parts.keys, 1000);
//! assert_eq!(parts.boundaries.len(), 3);
//! let (after, upto) = parts.range(1);
//! assert_eq!((after.unwrap().as_str(), upto.unwrap().as_str()), ("k/0249", "k/0499"));
//! # Ok(()) }
//! ```

use std::sync::Arc;

use ferryboat_core::ranges::{list_parallel, ParallelListing};
use ferryboat_core::{Error, ErrorKind, ListOptions, ObjectPath, ObjectStore, Result};
use futures::StreamExt;

/// Samples kept per part before the sampling step doubles: the boundaries are then within
/// `1 / SAMPLES_PER_PART` of a part's size of the even cut.
const SAMPLES_PER_PART: usize = 64;

/// A bucket cut into key ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Split {
    /// Keys listed (under the prefix).
    pub keys: u64,
    /// Ascending keys: part 0 is the keys up to the first (inclusive), part `i` those after
    /// boundary `i - 1` up to boundary `i`, the last part those after the last boundary.
    /// Fewer than `parts - 1` when the bucket holds fewer keys than parts.
    pub boundaries: Vec<ObjectPath>,
}

impl Split {
    /// How many parts there are.
    pub fn parts(&self) -> usize {
        self.boundaries.len() + 1
    }

    /// Part `i`'s range `(after, upto]`, `None` for an open end; beyond the last part, the
    /// empty range after the last key.
    pub fn range(&self, i: usize) -> (Option<ObjectPath>, Option<ObjectPath>) {
        let after = i.checked_sub(1).and_then(|j| self.boundaries.get(j)).cloned();
        let upto = self.boundaries.get(i).cloned();
        (after, upto)
    }
}

/// Lists `store` under `prefix` once (as concurrent key ranges where its listing seeks) and
/// cuts it into `parts` ranges of about equal key counts.
///
/// A key the store cannot name is counted and never a boundary; any other listing error
/// fails the split, since boundaries from part of a listing would be wrong.
pub async fn split(store: Arc<dyn ObjectStore>, prefix: Option<ObjectPath>, parts: usize) -> Result<Split> {
    if parts == 0 {
        return Err(Error::invalid_config("a bucket is split into at least 1 part"));
    }
    let opts = ListOptions { prefix, ..Default::default() };
    let mut listing = if store.capabilities().list_seeks {
        list_parallel(store, opts, None, ParallelListing::default())
    } else {
        store.list_opts(opts)
    };
    let cap = (parts * SAMPLES_PER_PART).max(1024);
    let mut step = 1u64;
    let mut samples: Vec<(u64, ObjectPath)> = Vec::new();
    let mut keys = 0u64;
    while let Some(item) = listing.next().await {
        match item {
            Ok(meta) => {
                if keys.is_multiple_of(step) {
                    samples.push((keys, meta.path));
                    if samples.len() > cap {
                        step *= 2;
                        samples.retain(|(i, _)| i.is_multiple_of(step));
                    }
                }
                keys += 1;
            }
            Err(e) if e.kind() == ErrorKind::InvalidPath => keys += 1,
            Err(e) => return Err(e),
        }
    }
    let mut boundaries: Vec<ObjectPath> = Vec::with_capacity(parts - 1);
    for j in 1..parts as u64 {
        // The last key of part j - 1 in an even cut, or the nearest sampled key before it.
        let Some(last) = (j * keys / parts as u64).checked_sub(1) else { continue };
        let at = samples.partition_point(|(i, _)| *i <= last);
        if let Some((_, key)) = at.checked_sub(1).map(|k| &samples[k]) {
            if boundaries.last().is_none_or(|b| b < key) {
                boundaries.push(key.clone());
            }
        }
    }
    Ok(Split { keys, boundaries })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferryboat_core::memory::MemoryStore;
    use ferryboat_core::ObjectStoreExt;

    async fn store_of(keys: impl Iterator<Item = String>) -> Arc<dyn ObjectStore> {
        let store = MemoryStore::new();
        for k in keys {
            store.put(&ObjectPath::parse(k).unwrap(), "x".into()).await.unwrap();
        }
        Arc::new(store)
    }

    #[tokio::test]
    async fn parts_are_about_even_and_cover_every_key_once() {
        let n = 30_011u64;
        let store = store_of((0..n).map(|i| format!("d{:02}/{:x}", i % 7, i * 2_654_435_761 % 1_000_003))).await;
        let parts = split(store.clone(), None, 8).await.unwrap();
        assert_eq!(parts.keys, n);
        assert_eq!(parts.parts(), 8);
        let keys: Vec<String> = store.list(None).map(|m| m.unwrap().path.to_string()).collect().await;
        let mut counts = vec![0u64; 8];
        for k in &keys {
            let owners: Vec<usize> = (0..8)
                .filter(|&i| {
                    let (after, upto) = parts.range(i);
                    after.is_none_or(|a| k.as_str() > a.as_str()) && upto.is_none_or(|u| k.as_str() <= u.as_str())
                })
                .collect();
            assert_eq!(owners.len(), 1, "{k} is in parts {owners:?}");
            counts[owners[0]] += 1;
        }
        let even = n / 8;
        for c in &counts {
            assert!(c.abs_diff(even) <= even / 10, "{counts:?}");
        }
    }

    #[tokio::test]
    async fn fewer_keys_than_parts_and_bad_counts() {
        let store = store_of(["a", "b"].into_iter().map(String::from)).await;
        let parts = split(store.clone(), None, 5).await.unwrap();
        assert_eq!(parts.keys, 2);
        assert!(parts.boundaries.windows(2).all(|w| w[0] < w[1]));
        assert!(parts.boundaries.len() <= 1, "{parts:?}");
        assert!(split(store, None, 0).await.is_err());
    }
}
