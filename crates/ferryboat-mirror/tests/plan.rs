//! Exit plans from a real listing: a local directory with known sizes, its figures worked out
//! by hand, and the plan's request counts set against a real mirror run of the same
//! directory: into moto as the mirror counts them, and into Ceph RGW as a proxy in front of
//! the server counts them on the wire.

use std::sync::Arc;

use ferryboat_core::local::LocalStore;
use ferryboat_core::{ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_mirror::plan::{exit_plan, workload, PlanOptions};
use ferryboat_mirror::{Mirror, MirrorOptions};
use ferryboat_providers::prices::Day;
use ferryboat_s3::{Credentials, S3Config, S3Store};
use ferryboat_testkit::emulators;
use ferryboat_testkit::proxy::{FailingProxy, SeenRequest};

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

/// `bucket` on `emu`, reached at `endpoint` (the server itself or a proxy in front of it).
fn s3_config(emu: &emulators::S3Emulator, bucket: &str, endpoint: &str) -> S3Config {
    S3Config::new(bucket)
        .with_endpoint(endpoint)
        .with_region(&emu.region)
        .with_path_style(true)
        .with_allow_http(true)
        .with_credentials(Credentials::new(&emu.access_key, &emu.secret_key))
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
    let dst = S3Store::new(s3_config(&moto, &bucket, &moto.endpoint)).unwrap();
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

/// Kind of a request the destination received, as the plan counts them.
fn kind(r: &SeenRequest) -> &'static str {
    let path = r.target.split('?').next().unwrap_or("");
    let on_bucket = path.trim_matches('/').split('/').count() < 2;
    match r.method.as_str() {
        "GET" if on_bucket => "list_pages",
        "GET" => "get",
        "HEAD" => "head",
        "PUT" if r.has_param("partNumber") => "parts",
        "PUT" => "put",
        "POST" if r.has_param("uploads") || r.has_param("uploadId") => "multipart_calls",
        "POST" if r.has_param("delete") => "delete",
        "DELETE" => "delete",
        _ => "other",
    }
}

#[tokio::test]
async fn the_plans_requests_match_what_ceph_rgw_received_within_five_percent() {
    let test = "the_plans_requests_match_what_ceph_rgw_received_within_five_percent";
    let Some(rgw) = emulators::ceph_rgw() else {
        return emulators::skip(test, "Ceph RGW is not running");
    };
    let dir = tempfile::tempdir().unwrap();
    let src = source(dir.path()).await;
    let bucket = format!("plan-wire-{}", std::process::id());
    let config = |endpoint: &str| s3_config(&rgw, &bucket, endpoint);
    S3Store::new(config(&rgw.endpoint)).unwrap().create_bucket().await.unwrap();
    // Counts every request and fails none.
    let proxy = FailingProxy::start(&rgw.endpoint, |_| false).await.unwrap();
    let dst: Arc<dyn ObjectStore> = Arc::new(S3Store::new(config(&proxy.endpoint()).with_provider("ceph")).unwrap());

    let cat = ferryboat_providers::catalogue();
    let opts = PlanOptions::new(Day::parse("2026-12-01").unwrap());
    let plan =
        exit_plan(src.as_ref(), None, cat.get("aws").unwrap(), cat.get("ceph").unwrap(), PART, &opts).await.unwrap();
    let report = Mirror::new(src, dst, MirrorOptions::default().part_size(PART)).run().await.unwrap();
    assert!(report.in_sync, "{report:?}");

    let mut seen = std::collections::BTreeMap::<&str, u64>::new();
    for r in proxy.forwarded() {
        *seen.entry(kind(&r)).or_default() += 1;
    }
    let planned = &plan.requests.destination;
    println!("{test}: planned {planned:?}; Ceph RGW received {seen:?}");
    let within = |planned: u64, seen: u64| (planned as f64 - seen as f64).abs() <= 0.05 * seen.max(1) as f64;
    let got = |k: &str| seen.get(k).copied().unwrap_or(0);
    let wire_writes = got("put") + got("parts") + got("multipart_calls");
    assert!(within(planned.writes(), wire_writes), "writes: planned {planned:?}, received {seen:?}");
    assert!(within(planned.parts, got("parts")), "parts: planned {planned:?}, received {seen:?}");
    let wire_total: u64 = seen.values().sum();
    assert!(within(planned.total(), wire_total), "all requests: planned {planned:?}, received {seen:?}");
    assert_eq!(got("other"), 0, "every request has a kind the plan counts: {seen:?}");
}
