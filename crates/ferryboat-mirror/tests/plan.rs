//! Exit plans from a real listing: a local directory with known sizes, its figures worked out
//! by hand, and the plan's request counts set against a real mirror run of the same
//! directory into moto.

use std::sync::Arc;

use ferryboat_core::local::LocalStore;
use ferryboat_core::{ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_mirror::plan::{exit_plan, workload, PlanOptions};
use ferryboat_mirror::{Mirror, MirrorOptions};
use ferryboat_providers::prices::Day;
use ferryboat_s3::{Credentials, S3Config, S3Store};
use ferryboat_testkit::emulators;

const MIB: u64 = 1024 * 1024;
const SMALL: u64 = 1_100;
const SMALL_SIZE: u64 = 1_000;
/// Two objects of 12 MiB: three 5 MiB parts each.
const BIG_SIZE: u64 = 12 * MIB;
const PART: u64 = 5 * MIB;

async fn source(dir: &std::path::Path) -> Arc<dyn ObjectStore> {
    let store = LocalStore::new(dir).unwrap();
    for i in 0..SMALL {
        store
            .put(&ObjectPath::parse(format!("small/{i:05}")).unwrap(), vec![b'x'; SMALL_SIZE as usize].into())
            .await
            .unwrap();
    }
    for name in ["big/a", "big/b"] {
        store.put(&ObjectPath::parse(name).unwrap(), vec![b'y'; BIG_SIZE as usize].into()).await.unwrap();
    }
    Arc::new(store)
}

#[tokio::test]
async fn a_listing_gives_the_figures_worked_out_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let src = source(dir.path()).await;
    let w = workload(src.as_ref(), None, PART).await.unwrap();
    let bytes = SMALL * SMALL_SIZE + 2 * BIG_SIZE;
    assert_eq!((w.objects, w.bytes, w.multipart_objects, w.parts), (SMALL + 2, bytes, 2, 6));

    let cat = ferryboat_providers::catalogue();
    let (aws, scw) = (cat.get("aws").unwrap(), cat.get("scaleway").unwrap());
    let mut opts = PlanOptions::new(Day::parse("2026-12-01").unwrap());
    opts.bandwidth_bytes_per_sec = 10.0 * MIB as f64;
    opts.concurrency = 4;
    opts.request_latency_ms = 10.0;
    let plan = exit_plan(src.as_ref(), None, aws, scw, PART, &opts).await.unwrap();
    assert_eq!(plan.requests.source.list_pages, 2, "1,102 entries in pages of 1,000");
    assert_eq!(plan.requests.source.get, 1_102);
    let d = &plan.requests.destination;
    assert_eq!((d.put, d.parts, d.multipart_calls, d.list_pages), (1_100, 6, 4, 1));

    // AWS egress: 25.2 MiB is under the 100 GB (of 2^30 bytes) free allowance.
    assert_eq!(plan.egress.list_price.amount, Some(0.0));
    assert_eq!(plan.egress.bytes, bytes);
    // Unknown prices stay unknown.
    assert_eq!(plan.source_requests.amount, None);
    assert_eq!(plan.destination_storage_month.amount, None);
    // Time: bytes / 10 MiB/s + (2 + 1,102 + 1 + 1,110) requests x 10 ms / 4.
    let expected = bytes as f64 / (10.0 * MIB as f64) + 2_215.0 * 0.010 / 4.0;
    assert!((plan.elapsed.seconds - expected).abs() < 1e-9, "{} vs {expected}", plan.elapsed.seconds);

    // The plan serialises for `--json`.
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["requests"]["source"]["get"], 1_102);
    assert_eq!(json["data_act"]["day"], "2026-12-01");
    assert_eq!(json["data_act"]["rule"], "capped_at_cost");
    assert_eq!(json["destination_storage_month"]["amount"], serde_json::Value::Null);
}

#[tokio::test]
async fn the_plans_requests_match_a_real_mirror_run_within_five_percent() {
    let Some(moto) = emulators::moto() else {
        return emulators::skip("the_plans_requests_match_a_real_mirror_run_within_five_percent", "moto not running");
    };
    let dir = tempfile::tempdir().unwrap();
    let src = source(dir.path()).await;
    let bucket = format!("plan-{}", std::process::id());
    let dst = S3Store::new(
        S3Config::new(&bucket)
            .with_endpoint(&moto.endpoint)
            .with_region(&moto.region)
            .with_path_style(true)
            .with_allow_http(true)
            .with_credentials(Credentials::new(&moto.access_key, &moto.secret_key)),
    )
    .unwrap();
    dst.create_bucket().await.unwrap();
    let dst: Arc<dyn ObjectStore> = Arc::new(dst);

    let cat = ferryboat_providers::catalogue();
    let opts = PlanOptions::new(Day::parse("2026-12-01").unwrap());
    let plan =
        exit_plan(src.as_ref(), None, cat.get("aws").unwrap(), cat.get("aws").unwrap(), PART, &opts).await.unwrap();

    let report = Mirror::new(src, dst, MirrorOptions::default().part_size(PART)).run().await.unwrap();
    assert!(report.in_sync, "{report:?}");
    let run = &report.requests;
    println!("plan: {:?} / {:?}; run: {run:?}", plan.requests.source, plan.requests.destination);
    let within = |planned: u64, seen: u64| (planned as f64 - seen as f64).abs() <= 0.05 * seen.max(1) as f64;
    assert!(
        within(plan.requests.source.get + plan.requests.source.head, run.get + run.head),
        "reads: plan {:?}, run {run:?}",
        plan.requests.source
    );
    assert!(
        within(plan.requests.destination.writes(), run.put + run.copy),
        "writes: plan {:?}, run {run:?}",
        plan.requests.destination
    );
    assert_eq!(report.copied, plan.workload.objects);
    assert_eq!(report.copied_bytes, plan.workload.bytes);
    assert_eq!(report.egress_bytes, plan.egress.bytes);
}
