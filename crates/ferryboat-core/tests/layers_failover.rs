//! Failover: reads survive a dead primary, the breaker stops asking it, writes follow the mode.

use std::sync::Arc;
use std::time::Duration;

use ferryboat_core::layers::{BreakerConfig, FaultConfig, FaultKind, FaultStore, FileJournal, Replicated, WriteMode};
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::{Error, ObjectPath, ObjectStore, ObjectStoreExt};
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

    let dir = tempfile::tempdir().unwrap();
    let journal_path = dir.path().join("journal");
    let journal = Arc::new(FileJournal::open(&journal_path).unwrap());
    let journaled = Replicated::new(primary.clone(), vec![replica.clone()], WriteMode::Journal(journal));
    journaled.put(&key("b"), "2".into()).await.unwrap();
    journaled.put(&key("c d/e"), "3".into()).await.unwrap();
    assert!(!replica.exists(&key("b")).await.unwrap(), "journal mode leaves replicas to the mirror");
    assert_eq!(std::fs::read_to_string(&journal_path).unwrap(), "b\nc d/e\n");
}
