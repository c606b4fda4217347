//! Failover: reads survive a dead primary, the breaker stops asking it, writes follow the mode.

use std::sync::Arc;
use std::time::Duration;

use ferryboat_core::layers::{
    BreakerConfig, FaultConfig, FaultKind, FaultStore, HookStore, JurisdictionPolicy, Replicated, WriteMode,
};
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::{
    Error, Jurisdiction, ObjectPath, ObjectStore, ObjectStoreExt, PutMode, PutOptions, StoreInfo, UpdateVersion,
};
use futures::TryStreamExt;

fn key(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap()
}

async fn seeded(n: usize) -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::new());
    for i in 0..n {
        store.put(&key(&format!("k{i:03}")), format!("v{i}").into()).await.unwrap();
    }
    store
}

#[tokio::test]
async fn reads_fail_over_and_the_breaker_skips_a_dead_primary() {
    let dead = Arc::new(FaultStore::new(
        seeded(50).await,
        FaultConfig { rate: 1.0, kinds: vec![FaultKind::ServerError], seed: 1 },
    ));
    let replica = seeded(50).await;
    let breaker = BreakerConfig { failures: 3, cooldown: Duration::from_secs(60) };
    let store = Replicated::new(dead.clone(), vec![replica], WriteMode::PrimaryOnly).with_breaker(breaker);

    for i in 0..50 {
        let body = store.get(&key(&format!("k{i:03}"))).await.unwrap().bytes().await.unwrap();
        assert_eq!(body, format!("v{i}"), "read {i} failed over");
    }
    assert_eq!(dead.injected(), 3, "after 3 failures the primary is no longer asked");
    let listed: Vec<_> = store.list(None).try_collect().await.unwrap();
    assert_eq!(listed.len(), 50);
    // NotFound is an answer, not an outage: it does not fail over or trip anything.
    let healthy = Replicated::new(seeded(1).await, vec![seeded(2).await], WriteMode::PrimaryOnly);
    assert!(matches!(healthy.head(&key("k001")).await, Err(Error::NotFound { .. })));
}

#[tokio::test]
async fn writes_follow_the_chosen_mode() {
    let (primary, replica) = (Arc::new(MemoryStore::new()), Arc::new(MemoryStore::new()));
    let sync = Replicated::new(primary.clone(), vec![replica.clone()], WriteMode::AllReplicas);
    sync.put(&key("a"), "1".into()).await.unwrap();
    assert!(primary.exists(&key("a")).await.unwrap() && replica.exists(&key("a")).await.unwrap());
    sync.delete(&key("a")).await.unwrap();
    assert!(!replica.exists(&key("a")).await.unwrap());

    let primary_only = Replicated::new(primary.clone(), vec![replica.clone()], WriteMode::PrimaryOnly);
    primary_only.put(&key("b"), "2".into()).await.unwrap();
    assert!(!replica.exists(&key("b")).await.unwrap(), "primary-only leaves replicas to the mirror");
}

/// The primary decides a conditional write; replicas, whose etags are their own, follow it.
#[tokio::test]
async fn conditional_writes_are_decided_by_the_primary_alone() {
    let (primary, replica) = (Arc::new(MemoryStore::new()), Arc::new(MemoryStore::new()));
    primary.put(&key("doc"), "v1".into()).await.unwrap();
    replica.put(&key("doc"), "v1, as another provider stored it".into()).await.unwrap();
    let etag = primary.head(&key("doc")).await.unwrap().etag;
    let both = Replicated::new(primary.clone(), vec![replica.clone()], WriteMode::AllReplicas);
    let update = PutOptions::mode(PutMode::Update(UpdateVersion { etag: etag.clone(), version: None }));
    both.put_opts(&key("doc"), "v2".into(), update.clone()).await.expect("the primary's etag matched");
    for store in [&primary, &replica] {
        assert_eq!(store.get(&key("doc")).await.unwrap().bytes().await.unwrap(), "v2");
    }
    // A stale etag fails on the primary, and nothing reaches the replica.
    let err = both.put_opts(&key("doc"), "v3".into(), update).await.unwrap_err();
    assert!(matches!(err, Error::Precondition { .. }), "{err}");
    assert_eq!(replica.get(&key("doc")).await.unwrap().bytes().await.unwrap(), "v2");
    // Create: the replica may already hold the key (an earlier mirror); the primary decides.
    replica.put(&key("new"), "old copy".into()).await.unwrap();
    both.put_opts(&key("new"), "fresh".into(), PutMode::Create.into()).await.unwrap();
    assert_eq!(replica.get(&key("new")).await.unwrap().bytes().await.unwrap(), "fresh");
}

/// Policy(EU) over Replicated(EU primary, [US replica]) writing to all: refused when built
/// and before the first byte, on both orders of asking.
#[tokio::test]
async fn the_policy_sees_every_replica_a_write_reaches() {
    let eu = Arc::new(MemoryStore::new().with_info(StoreInfo::new("scaleway", "Scaleway", Jurisdiction::Eu)));
    let us = Arc::new(MemoryStore::new().with_info(StoreInfo::new("aws", "Amazon S3", Jurisdiction::Us)));
    let policy = JurisdictionPolicy::allow([Jurisdiction::Eu]);
    let both: Arc<dyn ObjectStore> = Arc::new(Replicated::new(eu.clone(), vec![us.clone()], WriteMode::AllReplicas));
    let err = policy.check(both.as_ref()).unwrap_err();
    assert!(err.to_string().contains("also reaches") && err.to_string().contains("US"), "{err}");
    let guarded = HookStore::new(both, policy.clone());
    let err = guarded.put(&key("k"), "x".into()).await.unwrap_err();
    assert!(matches!(err, Error::PolicyViolation { .. }), "{err}");
    assert!(!eu.exists(&key("k")).await.unwrap() && !us.exists(&key("k")).await.unwrap(), "nothing was written");
    // Primary-only writes reach the EU store alone: allowed.
    let primary_only: Arc<dyn ObjectStore> = Arc::new(Replicated::new(eu.clone(), vec![us], WriteMode::PrimaryOnly));
    policy.check(primary_only.as_ref()).unwrap();
    HookStore::new(primary_only, policy).put(&key("k"), "x".into()).await.unwrap();
    assert!(eu.exists(&key("k")).await.unwrap());
}
