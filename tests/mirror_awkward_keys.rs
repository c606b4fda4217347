//! The awkward-key corpus (folder markers, `a//b`, a leading `/`, dot segments, control
//! characters, NFC beside NFD, `dir` beside `dir/file`, a 1,024-byte key, …) mirrored across
//! providers on real local servers: S3 → S3, S3 → Azure, S3 → GCS, S3 → local → S3 and
//! GCS → S3. Every key arrives byte-identical or is a failure the report names; the report's
//! counts match what the destination holds afterwards; one refused key never stops a run.

#![cfg(all(feature = "mirror", feature = "s3", feature = "azure", feature = "gcs"))]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bytes::Bytes;
use ferryboat::azure::{AzureConfig, AzureStore};
use ferryboat::mirror::{Mirror, MirrorOptions, MirrorReport};
use ferryboat::{ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_testkit::emulators::{self, skip};
use ferryboat_testkit::suite::{awkward_body, awkward_corpus};
use futures::StreamExt;

/// Every key of `store` with its bytes; a listing error item fails the test.
async fn snapshot(store: &dyn ObjectStore) -> BTreeMap<String, Bytes> {
    let mut out = BTreeMap::new();
    let mut items = store.list(None);
    while let Some(item) = items.next().await {
        let m = item.unwrap_or_else(|e| panic!("{}: listing error item: {e}", store.info().provider));
        let body = store.get(&m.path).await.unwrap().bytes().await.unwrap();
        out.insert(m.path.into_string(), body);
    }
    out
}

/// Mirrors `src` to the empty `dst` and checks the promise: each source key is at the
/// destination byte-identical or named in the report's failures, never both, never neither;
/// `copied` is what the destination holds and `failed` what it does not. Returns the keys
/// that failed.
async fn hop(name: &str, src: &Arc<dyn ObjectStore>, dst: &Arc<dyn ObjectStore>) -> BTreeSet<String> {
    let before = snapshot(src.as_ref()).await;
    let report: MirrorReport = Mirror::new(src.clone(), dst.clone(), MirrorOptions::default())
        .run()
        .await
        .unwrap_or_else(|e| panic!("{name}: the run itself failed: {e}"));
    assert!(report.aborted.is_none(), "{name}: one bad key must not abort the run: {report}");
    let after = snapshot(dst.as_ref()).await;
    let failed: BTreeSet<String> = report.failures.iter().map(|f| f.key.clone()).collect();
    for (key, body) in &before {
        match after.get(key) {
            Some(b) => {
                assert_eq!(b, body, "{name}: {key:?} arrived with other bytes");
                assert!(!failed.contains(key), "{name}: {key:?} arrived yet is reported failed");
            }
            None => assert!(failed.contains(key), "{name}: {key:?} neither arrived nor is a named failure: {report}"),
        }
    }
    for key in after.keys() {
        assert!(before.contains_key(key), "{name}: the destination holds {key:?}, which the source has not");
    }
    assert_eq!(report.listed_source, before.len() as u64, "{name}: {report}");
    assert_eq!(report.copied, after.len() as u64, "{name}: copied counts what the destination holds: {report}");
    assert_eq!(report.failed, failed.len() as u64, "{name}: {report}");
    assert_eq!(report.copied + report.failed, before.len() as u64, "{name}: {report}");
    assert_eq!(report.in_sync, failed.is_empty(), "{name}: a failure means not in sync (a non-zero exit)");
    for f in &report.failures {
        assert!(!f.reason.is_empty() && !f.kind.is_empty(), "{name}: the failure says why: {f:?}");
    }
    println!("{name}: {} copied, {} failed: {failed:?}", report.copied, report.failed);
    failed
}

/// The corpus keys whose labels are in `labels`.
fn keys_of(labels: &[&str]) -> BTreeSet<String> {
    awkward_corpus().into_iter().filter(|k| labels.contains(&k.label)).map(|k| k.key).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awkward_keys_cross_every_provider_or_fail_by_name() {
    let test = "awkward_keys_cross_every_provider_or_fail_by_name";
    let (Some(moto), Some(azurite), Some(gcs)) = (emulators::moto(), emulators::azurite(), emulators::fake_gcs())
    else {
        return skip(test, "moto, Azurite and fake-gcs-server are all needed");
    };
    let (_, source) = common::s3_bucket(&moto, "awk-src").await;
    let source: Arc<dyn ObjectStore> = source;
    // moto refuses a key holding a line feed (AWS S3 stores it): the source has the rest.
    for k in awkward_corpus().iter().filter(|k| k.label != "newline") {
        source.put(&ObjectPath::parse(k.key.as_str()).unwrap(), awkward_body(k)).await.unwrap();
    }
    let source_keys = snapshot(source.as_ref()).await;
    assert_eq!(source_keys.len(), awkward_corpus().len() - 1, "the S3 source holds the corpus");

    // S3 → S3: everything.
    let (_, s3b) = common::s3_bucket(&moto, "awk-s3").await;
    let s3b: Arc<dyn ObjectStore> = s3b;
    assert!(hop("S3 -> S3", &source, &s3b).await.is_empty());

    // S3 → Azure: what the Azure client cannot carry fails by name (see its awkward test).
    let azure = AzureStore::new(
        AzureConfig::new(&azurite.account, common::unique("awk-az"))
            .with_endpoint(&azurite.endpoint)
            .with_access_key(&azurite.key),
    )
    .unwrap();
    azure.create_container().await.expect("Azure container");
    let azure: Arc<dyn ObjectStore> = Arc::new(azure);
    let azure_refused = keys_of(&[
        "root-folder-marker",
        "folder-marker",
        "double-slash",
        "leading-slash",
        "trailing-slashes",
        "dot-segment",
        "dotdot-segment",
        "dot-last",
        "dotdot-last",
        "tab",
        "carriage-return",
        "delete-char",
    ]);
    assert_eq!(hop("S3 -> Azure", &source, &azure).await, azure_refused);

    // S3 → GCS, then GCS → S3.
    let bucket = common::unique("awk-gcs");
    common::create_gcs_bucket(&gcs.endpoint, &bucket);
    let gs = ferryboat::open(&format!("gs://{bucket}?endpoint={}", gcs.endpoint)).await.unwrap();
    let gcs_refused = hop("S3 -> GCS", &source, &gs).await;
    assert_eq!(gcs_refused, keys_of(GCS_REFUSED), "S3 -> GCS");
    let (_, back) = common::s3_bucket(&moto, "awk-from-gcs").await;
    let back: Arc<dyn ObjectStore> = back;
    assert!(hop("GCS -> S3", &gs, &back).await.is_empty());

    // S3 → local → S3: the local encoding gives back the same keys.
    let tmp = tempfile::tempdir().unwrap();
    let local = ferryboat::open(&tmp.path().join("local").display().to_string()).await.unwrap();
    let local_refused = hop("S3 -> local", &source, &local).await;
    // Copies run concurrently: whichever of `dir` and `dir/file` is written second fails.
    let one_of_dir =
        [keys_of(&["dir-child", "long-segment"]), keys_of(&["dir-object", "long-segment"])].contains(&local_refused);
    assert!(one_of_dir, "S3 -> local: {local_refused:?}");
    let (_, again) = common::s3_bucket(&moto, "awk-again").await;
    let again: Arc<dyn ObjectStore> = again;
    assert!(hop("local -> S3", &local, &again).await.is_empty());
    let mut expected = source_keys.clone();
    expected.retain(|k, _| !local_refused.contains(k));
    assert_eq!(snapshot(again.as_ref()).await, expected, "S3 -> local -> S3 gives back the same keys and bytes");

    // A second run changes nothing and still names the same failures.
    let report = Mirror::new(source.clone(), local.clone(), MirrorOptions::default()).run().await.unwrap();
    assert_eq!((report.copied, report.failed, report.skipped), (0, 2, source_keys.len() as u64 - 2), "{report}");
}

/// What fake-gcs-server refused when the corpus was mirrored to it (measured).
const GCS_REFUSED: &[&str] = &[];
