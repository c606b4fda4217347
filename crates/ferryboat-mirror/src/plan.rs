//! Exit plans from a real listing: what copying a store to a catalogued provider costs,
//! before anything is copied. The listing streams; only counts are kept. The arithmetic is
//! [`ferryboat_providers::plan`], shared with anything else that plans.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> ferryboat_core::Result<()> {
//! use ferryboat_core::{memory::MemoryStore, ObjectPath, ObjectStoreExt};
//! use ferryboat_mirror::plan::{exit_plan, PlanOptions};
//! use ferryboat_providers::prices::Day;
//!
//! let src = MemoryStore::new();
//! src.put(&ObjectPath::parse("a.csv")?, "x,y\n".into()).await?;
//! let cat = ferryboat_providers::catalogue();
//! let opts = PlanOptions::new(Day::parse("2027-02-01").unwrap());
//! let plan = exit_plan(&src, None, cat.get("aws")?, cat.get("hetzner")?, 8 << 20, &opts).await?;
//! assert_eq!((plan.workload.objects, plan.workload.bytes), (1, 4));
//! assert_eq!(plan.egress.on_switch.amount, Some(0.0), "no switching charges from 12 January 2027");
//! # Ok(()) }
//! ```

use ferryboat_core::{ObjectPath, ObjectStore, ObjectStoreExt, Result};
use futures::TryStreamExt;

pub use ferryboat_providers::plan::{ExitPlan, PlanOptions, RequestCounts, Workload};
use ferryboat_providers::Provider;

/// Sums the objects under `prefix` as a copy with `part_size`-byte parts would send them.
pub async fn workload(store: &dyn ObjectStore, prefix: Option<&ObjectPath>, part_size: u64) -> Result<Workload> {
    let mut w = Workload::new(part_size);
    let mut listing = store.list(prefix);
    while let Some(meta) = listing.try_next().await? {
        w.add(meta.size);
    }
    Ok(w)
}

/// The plan for copying everything under `prefix` of `source` (run by `source_provider`) to
/// `destination`, with `part_size`-byte parts (the mirror's
/// [`part_size`](crate::MirrorOptions)).
pub async fn exit_plan(
    source: &dyn ObjectStore,
    prefix: Option<&ObjectPath>,
    source_provider: &Provider,
    destination: &Provider,
    part_size: u64,
    opts: &PlanOptions,
) -> Result<ExitPlan> {
    let w = workload(source, prefix, part_size).await?;
    ExitPlan::compute(&w, source_provider, destination, opts)
}

/// The catalogue entry of a store's provider (`StoreInfo::provider`), or an `InvalidConfig`
/// error saying to name it: local and memory stores have no list prices.
pub fn provider_of(store: &dyn ObjectStore) -> Result<&'static Provider> {
    let id = &store.info().provider;
    ferryboat_providers::catalogue().get(id).map_err(|_| {
        ferryboat_core::Error::invalid_config(format!(
            "the store's provider `{id}` is not in the provider catalogue: name the provider whose prices apply"
        ))
    })
}
