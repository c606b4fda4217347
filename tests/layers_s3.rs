//! Layers around an emulator-backed backend: the whole conformance suite through every layer
//! stacked at once, and through client-side encryption, over S3 (moto); and the mirror
//! copying encrypted objects between two S3 buckets without the key.

#![cfg(all(feature = "s3", feature = "encrypt", feature = "mirror"))]

mod common;

use std::sync::Arc;
use std::time::Duration;

use ferryboat::encrypt::{EncryptConfig, EncryptedStore, LocalKey};
use ferryboat::layers::{
    ConcurrencyLimit, FaultConfig, FaultKind, FaultStore, HookStore, JurisdictionPolicy, Observe, Replicated,
    RetryConfig, RetryStore, Timeout, WriteMode,
};
use ferryboat::mirror::{Mirror, MirrorOptions};
use ferryboat::{ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_testkit::emulators::{self, skip, S3Emulator};
use ferryboat_testkit::suite::run_all;

async fn fresh_bucket(emu: &S3Emulator, stem: &str) -> Arc<dyn ObjectStore> {
    common::s3_bucket(emu, stem).await.1
}

/// Every layer at once, in the order docs/layers.md recommends, around S3: one suite run
/// covers each of them against a real server (a run per layer would cost minutes of CI).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_layer_stacked_over_s3_keeps_every_promise() {
    let Some(moto) = emulators::moto() else { return skip("every_layer_stacked_over_s3", "moto is not available") };
    let s3 = fresh_bucket(&moto, "layers").await;
    let replica = fresh_bucket(&moto, "layers-replica").await;
    let jurisdiction = s3.info().jurisdiction.clone();
    let faults = FaultConfig {
        rate: 0.05,
        kinds: vec![FaultKind::ServerError, FaultKind::Reset, FaultKind::BrokenBody],
        seed: 17,
    };
    let faulty: Arc<dyn ObjectStore> = Arc::new(FaultStore::new(s3, faults));
    let timed: Arc<dyn ObjectStore> = Arc::new(HookStore::new(faulty, Timeout::default()));
    let replicated: Arc<dyn ObjectStore> = Arc::new(Replicated::new(timed, vec![replica], WriteMode::AllReplicas));
    let retry = RetryConfig { initial_backoff: Duration::from_millis(5), ..RetryConfig::default() };
    let retried: Arc<dyn ObjectStore> = Arc::new(RetryStore::new(replicated, retry));
    let policed: Arc<dyn ObjectStore> = Arc::new(HookStore::new(retried, JurisdictionPolicy::allow([jurisdiction])));
    let observed: Arc<dyn ObjectStore> = Arc::new(HookStore::new(policed, Observe));
    let store: Arc<dyn ObjectStore> = Arc::new(HookStore::new(observed, ConcurrencyLimit::new(32)));
    run_all(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encryption_over_s3_keeps_every_promise_and_mirrors_without_the_key() {
    let Some(moto) = emulators::moto() else { return skip("encryption_over_s3", "moto is not available") };
    let raw = fresh_bucket(&moto, "sealed").await;
    let key = Arc::new(LocalKey::from_bytes([5; 32]));
    let config = EncryptConfig { chunk_size: 64 * 1024, part_size: 5 << 20 };
    let encrypted: Arc<dyn ObjectStore> =
        Arc::new(EncryptedStore::new(raw.clone(), key.clone(), config.clone()).unwrap());
    run_all(&encrypted).await;

    // Ciphertext moves between providers as plain bytes; only the key holder can read it.
    let path = ObjectPath::parse("payroll/2026.csv").unwrap();
    encrypted.put(&path, "alice,100\n".into()).await.unwrap();
    let replica_raw = fresh_bucket(&moto, "replica").await;
    let report = Mirror::new(raw, replica_raw.clone(), MirrorOptions::default()).run().await.unwrap();
    assert!(report.in_sync, "{report}");
    let replica = EncryptedStore::new(replica_raw.clone(), key, config).unwrap();
    assert_eq!(replica.get(&path).await.unwrap().bytes().await.unwrap(), "alice,100\n");
    let stored = replica_raw.get(&path).await.unwrap().bytes().await.unwrap();
    assert!(!stored.windows(5).any(|w| w == b"alice"), "the replica holds ciphertext only");
}
