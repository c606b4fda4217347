//! The mirror engine against memory stores: copy, incremental runs, deletes and their
//! guards, dry runs, shards, broken listings, flaky destinations, flat memory.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use common::{content, key, snapshot, Listing, TestStore, Window};
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::{Jurisdiction, Metadata, ObjectStore, ObjectStoreExt, PutOptions, StoreInfo};
use ferryboat_mirror::{Mirror, MirrorOptions, Rule, Shard, VerifyMode, META_SHA256};
use sha2::Digest;

const MIB: usize = 1024 * 1024;

const TRICKY: &[&str] = &[
    "a",
    "a b/c d.txt",
    "café/naïve 日本.txt",
    "percent/100%+#?=&;.bin",
    "deep/1/2/3/4/5/6/7/8/9/leaf",
    "Z-upper-before-lower",
    "dir/file",
    "dir.file",
    "dir-file",
];

async fn seed(store: &MemoryStore) {
    for (i, k) in TRICKY.iter().enumerate() {
        store.put(&key(k), content(i * 97 + 1, i as u64)).await.unwrap();
    }
    store.put(&key("empty"), Bytes::new()).await.unwrap();
    let mut metadata = Metadata::new();
    metadata.insert("owner".into(), "ops".into());
    let opts = PutOptions { content_type: Some("text/csv".into()), metadata, ..Default::default() };
    store.put_opts(&key("typed.csv"), "a,b\n".into(), opts).await.unwrap();
}

fn arc(s: &MemoryStore) -> Arc<dyn ObjectStore> {
    Arc::new(s.clone())
}

#[tokio::test]
async fn full_copy_is_byte_identical_and_the_second_run_copies_nothing() {
    let (src, dst) = (MemoryStore::new(), MemoryStore::new());
    seed(&src).await;
    // 12 MiB with 5 MiB parts: goes through a multipart upload.
    src.put(&key("big/blob.bin"), content(12 * MIB + 3, 42)).await.unwrap();

    let opts = MirrorOptions::default().part_size(5 * MIB as u64).verify(VerifyMode::Hash);
    let report = Mirror::new(arc(&src), arc(&dst), opts.clone()).run().await.unwrap();
    assert!(report.in_sync, "{report}");
    assert_eq!(report.copied, TRICKY.len() as u64 + 3);
    assert_eq!(report.failed, 0);
    assert_eq!(snapshot(&src).await, snapshot(&dst).await);

    let typed = dst.head(&key("typed.csv")).await.unwrap();
    assert_eq!(typed.content_type.as_deref(), Some("text/csv"));
    assert_eq!(typed.metadata.get("owner").map(String::as_str), Some("ops"));
    let sha = typed.metadata.get(META_SHA256).expect("small objects record their sha256");
    assert_eq!(sha, &snapshot(&src).await.into_iter().find(|(k, _)| k == "typed.csv").unwrap().1);

    let again = Mirror::new(arc(&src), arc(&dst), opts).run().await.unwrap();
    assert!(again.in_sync, "{again}");
    assert_eq!(again.copied, 0);
    assert_eq!(again.skipped, report.copied);
    // One provider with plain-MD5 etags: the etags settle it without a request; the big
    // object's multipart etag is not an MD5, so its record decides, for one HEAD.
    assert_eq!(again.compared.get(&Rule::Etag), Some(&(report.copied - 1)), "{again}");
    assert_eq!(again.compared.get(&Rule::SourceEtag), Some(&1), "{again}");
    assert_eq!(again.requests.head, 1);
}

#[tokio::test]
async fn a_write_the_store_attests_by_its_etag_needs_no_verification_request() {
    let src = MemoryStore::new();
    seed(&src).await;
    let dst = MemoryStore::new();
    let report = Mirror::new(arc(&src), arc(&dst), MirrorOptions::default()).run().await.unwrap();
    assert!(report.in_sync, "{report}");
    assert_eq!(snapshot(&src).await, snapshot(&dst).await);
    assert_eq!(report.requests.head, 0, "the MD5 etags of the writes proved every copy: {report}");

    // A store whose answer proves nothing gets one HEAD per copy.
    let mut silent = TestStore::new(MemoryStore::new());
    silent.forget_etags = true;
    let silent = Arc::new(silent);
    let report = Mirror::new(arc(&src), silent.clone(), MirrorOptions::default()).run().await.unwrap();
    assert!(report.in_sync, "{report}");
    assert_eq!(report.requests.head, report.copied, "{report}");
    assert_eq!(snapshot(&src).await, snapshot(&silent.inner).await);
}

#[tokio::test]
async fn listing_by_level_mirrors_exactly_what_the_flat_listing_does() {
    let (src, dst) = (MemoryStore::new(), MemoryStore::new());
    seed(&src).await;
    dst.put(&key("dir/zz-only-here"), "x".into()).await.unwrap();
    dst.put(&key("a b/c d.txt"), "stale".into()).await.unwrap();
    let opts = MirrorOptions::default().list_by_level(true).delete(true);
    let report = Mirror::new(arc(&src), arc(&dst), opts.clone()).run().await.unwrap();
    assert!(report.in_sync, "{report}");
    assert_eq!(report.deleted, 1, "{report}");
    assert_eq!(report.copied, TRICKY.len() as u64 + 2, "{report}");
    assert_eq!(snapshot(&src).await, snapshot(&dst).await);
    let again = Mirror::new(arc(&src), arc(&dst), opts).run().await.unwrap();
    assert_eq!((again.copied, again.deleted, again.skipped), (0, 0, report.copied), "{again}");
}

#[tokio::test]
async fn across_providers_the_recorded_source_version_decides() {
    let src = MemoryStore::new();
    let dst = MemoryStore::new().with_info(StoreInfo::new("elsewhere", "Elsewhere", Jurisdiction::Eu));
    seed(&src).await;
    let first = Mirror::new(arc(&src), arc(&dst), MirrorOptions::default()).run().await.unwrap();
    let again = Mirror::new(arc(&src), arc(&dst), MirrorOptions::default()).run().await.unwrap();
    assert_eq!(again.copied, 0, "{again}");
    assert_eq!(again.compared.get(&Rule::SourceEtag), Some(&first.copied), "{again}");
    assert_eq!(again.requests.head, first.copied, "one HEAD per same-size object");

    // A new source version (another etag) whose recorded hash equals the destination's:
    // the same content, nothing to copy. A different recorded hash: copied.
    let record = |sha: &str, source_etag: Option<&str>| {
        let mut metadata = Metadata::new();
        metadata.insert(META_SHA256.into(), sha.into());
        if let Some(e) = source_etag {
            metadata.insert("ferry-source-etag".into(), e.into());
        }
        PutOptions { metadata, ..Default::default() }
    };
    let sha = |data: &str| format!("{:x}", sha2::Sha256::digest(data.as_bytes()));
    let (abc, xyz) = (sha("abc"), sha("xyz"));
    src.put_opts(&key("same"), "abc".into(), record(&abc, None)).await.unwrap();
    dst.put_opts(&key("same"), "abc".into(), record(&abc, Some("an-older-version"))).await.unwrap();
    src.put_opts(&key("other"), "xyz".into(), record(&xyz, None)).await.unwrap();
    dst.put_opts(&key("other"), "abc".into(), record(&abc, Some("an-older-version"))).await.unwrap();
    let third = Mirror::new(arc(&src), arc(&dst), MirrorOptions::default()).run().await.unwrap();
    assert_eq!(third.compared.get(&Rule::Sha256), Some(&2), "{third}");
    assert_eq!(third.copied, 1, "{third}");
    assert_eq!(dst.get(&key("other")).await.unwrap().bytes().await.unwrap(), "xyz");
}

#[tokio::test]
async fn incremental_run_copies_exactly_what_changed_and_deletes_only_when_asked() {
    let (src, dst) = (MemoryStore::new(), MemoryStore::new());
    seed(&src).await;
    Mirror::new(arc(&src), arc(&dst), MirrorOptions::default()).run().await.unwrap();

    // Same size, other content: only the recorded source version can tell.
    let changed = key("a b/c d.txt");
    let len = src.head(&changed).await.unwrap().size as usize;
    src.put(&changed, content(len, 999)).await.unwrap();
    src.put(&key("new/one"), "new".into()).await.unwrap();
    src.delete(&key("dir/file")).await.unwrap();

    let dst_store = Arc::new(TestStore::new(dst.clone()));
    let dst_dyn: Arc<dyn ObjectStore> = dst_store.clone();
    let report = Mirror::new(arc(&src), dst_dyn.clone(), MirrorOptions::default()).run().await.unwrap();
    assert_eq!(report.copied, 2, "{report}");
    let mut written: Vec<String> = dst_store.puts.lock().unwrap().keys().cloned().collect();
    written.sort();
    assert_eq!(written, vec!["a b/c d.txt".to_string(), "new/one".to_string()]);
    assert_eq!((report.extraneous, report.deleted), (1, 0));
    assert!(dst.exists(&key("dir/file")).await.unwrap(), "no delete without --delete");

    let report = Mirror::new(arc(&src), dst_dyn, MirrorOptions::default().delete(true)).run().await.unwrap();
    assert_eq!((report.copied, report.deleted), (0, 1), "{report}");
    assert!(report.in_sync);
    assert_eq!(snapshot(&src).await, snapshot(&dst).await);
}

#[tokio::test]
async fn max_delete_aborts_before_deleting_anything() {
    let (src, dst) = (MemoryStore::new(), MemoryStore::new());
    src.put(&key("keep"), "k".into()).await.unwrap();
    for i in 0..5 {
        dst.put(&key(&format!("stale/{i}")), "s".into()).await.unwrap();
    }
    let opts = MirrorOptions::default().delete(true).max_delete(2);
    let report = Mirror::new(arc(&src), arc(&dst), opts).run().await.unwrap();
    assert!(report.aborted.is_some(), "{report}");
    assert!(!report.in_sync);
    assert_eq!(report.deleted, 0);
    assert_eq!(dst.len(), 6, "the five stale objects and the copied one are all there");
}

#[tokio::test]
async fn dry_run_writes_nothing_and_reports_the_plan() {
    let (src, dst) = (MemoryStore::new(), MemoryStore::new());
    seed(&src).await;
    dst.put(&key("stale"), "old!".into()).await.unwrap();
    dst.put(&key("a"), "different".into()).await.unwrap();
    let before = snapshot(&dst).await;
    let opts = MirrorOptions::default().dry_run(true).delete(true).egress_price_per_gb(0.09);
    let report = Mirror::new(arc(&src), arc(&dst), opts).run().await.unwrap();
    assert_eq!(snapshot(&dst).await, before);
    assert_eq!(report.copied, TRICKY.len() as u64 + 2, "{report}");
    assert_eq!((report.deleted, report.deleted_bytes), (1, 4));
    let expected_bytes: u64 = (0..TRICKY.len()).map(|i| (i * 97 + 1) as u64).sum::<u64>() + 4;
    assert_eq!(report.copied_bytes, expected_bytes);
    assert_eq!(report.egress_bytes, expected_bytes);
    assert!(report.egress_cost.is_some_and(|c| c > 0.0));
    assert!(!report.in_sync, "a dry run with work to do is not in sync");
}

#[tokio::test]
async fn shards_together_copy_every_key_exactly_once() {
    let (src, dst) = (MemoryStore::new(), MemoryStore::new());
    for i in 0..500 {
        src.put(&key(&format!("k/{i:04}")), content(i % 50, i as u64)).await.unwrap();
    }
    let counting = Arc::new(TestStore::new(dst.clone()));
    let n = 4;
    let runs = (0..n).map(|k| {
        let dst: Arc<dyn ObjectStore> = counting.clone();
        let opts = MirrorOptions::default().shard(Shard::new(k, n).unwrap()).delete(true);
        let src = arc(&src);
        tokio::spawn(async move { Mirror::new(src, dst, opts).run().await.unwrap() })
    });
    let reports = futures::future::join_all(runs).await;
    let copied: u64 = reports.iter().map(|r| r.as_ref().unwrap().copied).sum();
    assert_eq!(copied, 500);
    for r in &reports {
        let r = r.as_ref().unwrap();
        assert!(r.copied > 50, "shards are roughly balanced: {r}");
        assert_eq!(r.deleted, 0, "a shard never deletes another shard's keys");
    }
    let puts = counting.puts.lock().unwrap().clone();
    assert_eq!(puts.len(), 500);
    assert!(puts.values().all(|&n| n == 1));
    assert_eq!(snapshot(&src).await, snapshot(&dst).await);
}

/// Key ranges from `split`: workers that together mirror and prune one bucket, each listing
/// only its own range on both sides; with the parallel flat listing (the range's end handed
/// to it) and with the listing by level (cut where the first key past the end comes).
#[tokio::test]
async fn key_ranges_together_mirror_every_key_and_each_lists_only_its_own() {
    let src = MemoryStore::new();
    seed(&src).await;
    for i in 0..600 {
        src.put(&key(&format!("k/{i:04}")), content(i % 50, i as u64)).await.unwrap();
    }
    let parts = ferryboat_mirror::split::split(arc(&src), None, 4).await.unwrap();
    assert_eq!(parts.parts(), 4);
    for by_level in [false, true] {
        let dst = MemoryStore::new();
        // Extraneous keys on the destination in every range.
        for i in (0..600).step_by(60) {
            dst.put(&key(&format!("k/{i:04}-gone")), "x".into()).await.unwrap();
        }
        let mut copied = 0;
        for i in 0..parts.parts() {
            let (after, upto) = parts.range(i);
            let inside = |k: &str| {
                after.as_ref().is_none_or(|a| k > a.as_str()) && upto.as_ref().is_none_or(|u| k <= u.as_str())
            };
            let in_src = snapshot(&src).await.iter().filter(|(k, _)| inside(k)).count() as u64;
            let in_dst = snapshot(&dst).await.iter().filter(|(k, _)| inside(k)).count() as u64;
            let mut opts = MirrorOptions::default().delete(true).list_by_level(by_level);
            opts.filters.after = after.clone();
            opts.filters.upto = upto.clone();
            let report = Mirror::new(arc(&src), arc(&dst), opts).run().await.unwrap();
            assert!(report.in_sync, "{report}");
            let listed = (report.listed_source, report.listed_destination);
            assert_eq!(listed, (in_src, in_dst), "range {i}, by level {by_level}: {report}");
            assert_eq!(report.filtered, 0, "range {i} read keys outside it: {report}");
            // The default window starts at 64 and only grows from there.
            assert!(report.transfers.peak >= 64 && report.transfers.last >= 1, "{:?}", report.transfers);
            copied += report.copied;
        }
        assert_eq!(copied, 600 + TRICKY.len() as u64 + 2);
        assert_eq!(snapshot(&src).await, snapshot(&dst).await);
    }

    let mut empty = MirrorOptions::default();
    empty.filters.after = Some(key("b"));
    empty.filters.upto = Some(key("a"));
    let err = Mirror::new(arc(&src), arc(&src), empty).run().await.unwrap_err();
    assert!(err.to_string().contains("key range is empty"), "{err}");
}

async fn broken_listing_fails_without_deleting(listing: Listing) {
    let (src, dst) = (MemoryStore::new(), MemoryStore::new());
    for i in 0..10 {
        src.put(&key(&format!("k{i}")), "x".into()).await.unwrap();
        dst.put(&key(&format!("old{i}")), "y".into()).await.unwrap();
    }
    let bad: Arc<dyn ObjectStore> = Arc::new(TestStore::new(src).listing(listing));
    let report = Mirror::new(bad, arc(&dst), MirrorOptions::default().delete(true)).run().await.unwrap();
    let why = report.aborted.clone().expect("the run is aborted");
    assert!(why.contains("ascending byte order"), "{why}");
    assert!(!report.in_sync);
    assert_eq!(report.deleted, 0);
    for i in 0..10 {
        assert!(dst.exists(&key(&format!("old{i}"))).await.unwrap());
    }
}

#[tokio::test]
async fn out_of_order_listing_fails_without_deleting() {
    broken_listing_fails_without_deleting(Listing::OutOfOrder).await;
}

#[tokio::test]
async fn repeated_key_in_listing_fails_without_deleting() {
    broken_listing_fails_without_deleting(Listing::Repeat).await;
}

#[tokio::test]
async fn flaky_destination_converges_with_nothing_lost() {
    let (src, dst) = (MemoryStore::new(), MemoryStore::new());
    for i in 0..300 {
        src.put(&key(&format!("f/{i}")), content(i * 7, i as u64)).await.unwrap();
    }
    let flaky = Arc::new(TestStore::new(dst.clone()).failing_puts(0.2, 7));
    let dst_dyn: Arc<dyn ObjectStore> = flaky.clone();
    let report = Mirror::new(arc(&src), dst_dyn, MirrorOptions::default().attempts(10)).run().await.unwrap();
    assert!(report.in_sync, "{report}");
    assert_eq!(report.copied, 300);
    assert!(report.requests.put > 300, "some puts failed and were retried: {:?}", report.requests);
    assert_eq!(snapshot(&src).await, snapshot(&dst).await);
}

#[tokio::test]
async fn failures_are_reported_with_key_and_reason_and_block_deletes() {
    let (src, dst) = (MemoryStore::new(), MemoryStore::new());
    for i in 0..20 {
        src.put(&key(&format!("f/{i}")), "v".into()).await.unwrap();
    }
    dst.put(&key("stale"), "s".into()).await.unwrap();
    // Every put fails: one attempt each, so every copy fails.
    let dead: Arc<dyn ObjectStore> = Arc::new(TestStore::new(dst.clone()).failing_puts(1.0, 1));
    let opts = MirrorOptions::default().attempts(2).delete(true);
    let report = Mirror::new(arc(&src), dead, opts).run().await.unwrap();
    assert_eq!(report.failed, 20);
    assert!(!report.in_sync);
    let f = &report.failures[0];
    assert!(f.key.starts_with("f/") && f.kind == "Unavailable" && f.attempts == 2, "{f:?}");
    assert_eq!(report.deleted, 0);
    assert!(dst.exists(&key("stale")).await.unwrap());
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["failed"], 20);
}

#[tokio::test]
async fn memory_stays_flat_over_100k_objects() {
    let (src, dst) = (MemoryStore::new(), MemoryStore::new());
    for i in 0..100_000u32 {
        src.put(&key(&format!("t/{i:06}")), Bytes::from(i.to_le_bytes().to_vec())).await.unwrap();
    }
    let window = Arc::new(Window::default());
    let s: Arc<dyn ObjectStore> = Arc::new(TestStore::new(src).window(window.clone(), true));
    let d: Arc<dyn ObjectStore> = Arc::new(TestStore::new(dst.clone()).window(window.clone(), false));
    // The memory store's listing seeks, so each side is listed as 4 key ranges at once.
    let opts = MirrorOptions::default()
        .list_read_ahead(256)
        .list_concurrency(4)
        .checkers(16)
        .transfers(16)
        .verify(VerifyMode::None);
    let report = Mirror::new(s, d, opts).run().await.unwrap();
    assert!(report.in_sync, "{report}");
    assert_eq!(report.copied, 100_000);
    assert_eq!(dst.len(), 100_000);
    let max = window.max.load(Ordering::SeqCst);
    // Read-ahead (256) + checkers (16) + transfers (16) + a few entries held by the merge,
    // + the parallel listing's ranges: 2 × 4 ranges of at most 1,000 keys (and one past).
    assert!(max <= 256 + 16 + 16 + 8 + 2 * 4 * 1001, "at most {max} entries were held at once");
    assert!(max >= 16, "the window was actually used: {max}");
    // A window set by hand neither grows nor shrinks, and the report says so.
    assert_eq!((report.transfers.last, report.transfers.peak), (16, 16));
}

#[tokio::test]
async fn unfinished_uploads_are_aborted_at_start() {
    let (src, dst) = (MemoryStore::new(), MemoryStore::new());
    src.put(&key("a"), "x".into()).await.unwrap();
    let upload = dst.put_multipart(&key("crashed/big")).await.unwrap();
    upload.put_part(1, content(1024, 1)).await.unwrap();
    drop(upload);
    // Just started: by default another application's upload may be live, so it stays.
    let report = Mirror::new(arc(&src), arc(&dst), MirrorOptions::default()).run().await.unwrap();
    assert_eq!(report.aborted_uploads, 0, "{report}");
    assert!(report.warnings.iter().any(|w| w.contains("1 unfinished multipart uploads")), "{:?}", report.warnings);
    assert_eq!(dst.list_pending_uploads(None).await.unwrap().len(), 1);
    // Told not to look at all: nothing is listed or aborted.
    let off = MirrorOptions::default().abort_pending_uploads(false).abandoned_upload_age(std::time::Duration::ZERO);
    let report = Mirror::new(arc(&src), arc(&dst), off).run().await.unwrap();
    assert_eq!(report.aborted_uploads, 0);
    assert_eq!(dst.list_pending_uploads(None).await.unwrap().len(), 1);
    // Old enough (here: any age) counts as abandoned.
    let opts = MirrorOptions::default().abandoned_upload_age(std::time::Duration::ZERO);
    let report = Mirror::new(arc(&src), arc(&dst), opts).run().await.unwrap();
    assert_eq!(report.aborted_uploads, 1);
    assert!(dst.list_pending_uploads(None).await.unwrap().is_empty());
}

#[tokio::test]
async fn filters_limit_what_is_copied_and_deleted() {
    let (src, dst) = (MemoryStore::new(), MemoryStore::new());
    for k in ["logs/a.log", "logs/b.txt", "data/c.log", "logs/big.log"] {
        let len = if k.contains("big") { 10_000 } else { 10 };
        src.put(&key(k), content(len, 1)).await.unwrap();
    }
    dst.put(&key("logs/stale.txt"), "s".into()).await.unwrap();
    dst.put(&key("logs/stale.log"), "s".into()).await.unwrap();
    let opts = MirrorOptions::default().prefix(key("logs")).include("**/*.log").delete(true).filters({
        let mut f = ferryboat_mirror::Filters::default();
        f.prefix = Some(key("logs"));
        f.include = vec!["**/*.log".into()];
        f.max_size = Some(1000);
        f
    });
    let report = Mirror::new(arc(&src), arc(&dst), opts).run().await.unwrap();
    assert_eq!(report.copied, 1, "{report}");
    assert!(dst.exists(&key("logs/a.log")).await.unwrap());
    assert!(!dst.exists(&key("logs/stale.log")).await.unwrap(), "matching extraneous object deleted");
    assert!(dst.exists(&key("logs/stale.txt")).await.unwrap(), "excluded extraneous object kept");
    assert!(!dst.exists(&key("data/c.log")).await.unwrap());
    assert!(!dst.exists(&key("logs/big.log")).await.unwrap());
}

#[tokio::test]
async fn bad_options_are_setup_errors() {
    let (src, dst) = (MemoryStore::new(), MemoryStore::new());
    let err = Mirror::new(arc(&src), arc(&dst), MirrorOptions::default().transfers(0)).run().await.unwrap_err();
    assert!(err.to_string().contains("transfers"), "{err}");
    let err = Mirror::new(arc(&src), arc(&dst), MirrorOptions::default().include("a/[")).run().await.unwrap_err();
    assert!(err.to_string().contains("bad glob"), "{err}");
}

#[tokio::test]
async fn truncated_source_bodies_are_never_written() {
    let (src, dst) = (MemoryStore::new(), MemoryStore::new());
    for i in 0..40 {
        src.put(&key(&format!("t/{i}")), content(1000 + i, i as u64)).await.unwrap();
    }
    // 12 MiB with 5 MiB parts: the multipart path must abort, not complete, a short body.
    src.put(&key("t/big"), content(12 * MIB, 5)).await.unwrap();
    let always: Arc<dyn ObjectStore> = Arc::new(TestStore::new(src.clone()).truncating_gets(1.0, 3));
    let opts = MirrorOptions::default().part_size(5 * MIB as u64).attempts(1);
    let report = Mirror::new(always, arc(&dst), opts).run().await.unwrap();
    assert_eq!(report.failed, 41, "{report}");
    assert!(report.failures.iter().all(|f| f.kind == "Integrity"), "{:?}", report.failures);
    assert_eq!(dst.len(), 0, "no truncated object became visible");
    assert!(dst.list_pending_uploads(None).await.unwrap().is_empty(), "the multipart upload was aborted");

    let sometimes: Arc<dyn ObjectStore> = Arc::new(TestStore::new(src.clone()).truncating_gets(0.3, 11));
    let opts = MirrorOptions::default().part_size(5 * MIB as u64).attempts(10);
    let report = Mirror::new(sometimes, arc(&dst), opts).run().await.unwrap();
    assert!(report.in_sync, "{report}");
    assert_eq!(snapshot(&src).await, snapshot(&dst).await);
}

#[tokio::test]
async fn a_source_whose_recorded_hash_lies_is_not_copied() {
    let (src, dst) = (MemoryStore::new(), MemoryStore::new());
    let mut metadata = Metadata::new();
    metadata.insert(META_SHA256.into(), "0".repeat(64));
    let opts = PutOptions { metadata, ..Default::default() };
    src.put_opts(&key("liar"), "content".into(), opts).await.unwrap();
    let report = Mirror::new(arc(&src), arc(&dst), MirrorOptions::default().attempts(1)).run().await.unwrap();
    assert_eq!(report.failed, 1, "{report}");
    assert_eq!(report.failures[0].kind, "Integrity");
    assert!(dst.is_empty());
}
