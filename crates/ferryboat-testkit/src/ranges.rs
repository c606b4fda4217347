//! The parallel listing checked on a real store: it must yield exactly what the store's own
//! sequential listing yields, key for key and in the same order, whatever the keys.

use std::sync::Arc;

use ferryboat_core::ranges::{list_parallel, ParallelListing};
use ferryboat_core::{ListOptions, ObjectPath, ObjectStore, ObjectStoreExt};
use futures::{StreamExt, TryStreamExt};

use crate::suite::awkward_corpus;

/// The keys [`parallel_listing_matches`] writes besides the awkward corpus: dense decimal
/// runs (where cut points guessed over printable ASCII are poor), hex names, a deep tree,
/// non-ASCII names above every ASCII key, and keys with a tab (below the space character).
pub fn ranges_keys(n: usize) -> Vec<String> {
    let mut keys = Vec::new();
    for i in 0..n {
        keys.push(format!("ranges/seq/{i:06}"));
        if i.is_multiple_of(3) {
            keys.push(format!("ranges/hex/{:016x}", mix(i as u64)));
        }
        if i.is_multiple_of(7) {
            keys.push(format!("ranges/tree/{}/{}/{i}", i % 5, i % 11));
        }
        if i.is_multiple_of(50) {
            keys.push(format!("ranges/ü/{i}"));
            keys.push(format!("ranges/\tctl{i}"));
            keys.push(format!("rangeszz-outside-{i}"));
        }
    }
    keys
}

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^ (x >> 31)
}

/// Writes the awkward corpus (what the store keeps of it) and [`ranges_keys`]`(n)`, then
/// checks, for several concurrencies and chunk sizes, with and without a prefix, an offset
/// and an upper end, that [`list_parallel`] yields exactly the sequential listing. Returns
/// how many keys the whole listing held; panics with the first difference.
pub async fn parallel_listing_matches(store: &Arc<dyn ObjectStore>, n: usize) -> usize {
    let mut keys: Vec<String> = awkward_corpus().into_iter().map(|k| k.key).collect();
    keys.extend(ranges_keys(n));
    futures::stream::iter(keys)
        .map(|k| {
            let store = store.clone();
            async move {
                // A key the store refuses (see the awkward suite) is simply not there.
                if let Ok(path) = ObjectPath::parse(k) {
                    let _ = store.put(&path, "r".into()).await;
                }
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;

    let listing = |opts: ListOptions| store.list_opts(opts).map_ok(|m| m.path.to_string()).try_collect::<Vec<String>>();
    let everything = listing(ListOptions::default()).await.expect("sequential listing");
    let total = everything.len();
    let prefix = ObjectPath::parse("ranges").expect("key");
    let offset = ObjectPath::parse("ranges/seq/000100").expect("key");
    let upto = ObjectPath::parse("ranges/tree/3").expect("key");
    let cases: Vec<(ListOptions, Option<ObjectPath>)> = vec![
        (ListOptions::default(), None),
        (ListOptions { prefix: Some(prefix.clone()), offset: None, ..Default::default() }, None),
        (
            ListOptions { prefix: Some(prefix.clone()), offset: Some(offset.clone()), ..Default::default() },
            Some(upto.clone()),
        ),
        (ListOptions { prefix: None, offset: Some(offset), ..Default::default() }, Some(upto.clone())),
    ];
    for (opts, bound) in cases {
        let mut expected = listing(opts.clone()).await.expect("sequential listing");
        if let Some(u) = &bound {
            expected.retain(|k| k.as_str() <= u.as_str());
        }
        for (concurrency, chunk) in [(1, 1000), (4, 37), (16, 50), (32, 9)] {
            let cfg = ParallelListing { concurrency, chunk };
            let started = std::time::Instant::now();
            let got: Vec<String> = list_parallel(store.clone(), opts.clone(), bound.clone(), cfg)
                .map_ok(|m| m.path.to_string())
                .try_collect()
                .await
                .expect("parallel listing");
            eprintln!("{} keys at {cfg:?} in {:?}", got.len(), started.elapsed());
            if got != expected {
                let at = got.iter().zip(&expected).position(|(a, b)| a != b).unwrap_or(got.len().min(expected.len()));
                panic!(
                    "{opts:?} up to {bound:?} at {cfg:?}: {} keys listed in parallel, {} sequentially; first difference at {at}: {:?} vs {:?}",
                    got.len(),
                    expected.len(),
                    got.get(at),
                    expected.get(at)
                );
            }
        }
    }
    total
}
