//! Every layer keeps every promise of the trait: the whole conformance suite through each.

use std::sync::Arc;
use std::time::Duration;

use ferryboat_core::layers::{
    ConcurrencyLimit, FaultConfig, FaultKind, FaultStore, HookStore, Observe, Replicated, RetryConfig, RetryStore,
    Timeout, WriteMode,
};
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::prefix::PrefixStore;
use ferryboat_core::{ObjectPath, ObjectStore};
use ferryboat_testkit::suite::run_all;

fn memory() -> Arc<dyn ObjectStore> {
    Arc::new(MemoryStore::new())
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_over_injected_faults() {
    let kinds = vec![FaultKind::ServerError, FaultKind::Reset, FaultKind::BrokenBody, FaultKind::TruncatedBody];
    let faulty = Arc::new(FaultStore::new(memory(), FaultConfig { rate: 0.1, kinds, seed: 11 }));
    let retry = RetryConfig {
        max_attempts: 20,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(10),
        ..Default::default()
    };
    let store: Arc<dyn ObjectStore> = Arc::new(RetryStore::new(faulty.clone(), retry));
    run_all(&store).await;
    assert!(faulty.injected() > 0, "faults were injected while the suite ran");
}

#[tokio::test(flavor = "multi_thread")]
async fn hooks() {
    let timeout: Arc<dyn ObjectStore> = Arc::new(HookStore::new(memory(), Timeout::default()));
    run_all(&timeout).await;
    let limited: Arc<dyn ObjectStore> = Arc::new(HookStore::new(memory(), ConcurrencyLimit::new(4)));
    run_all(&limited).await;
    let observed: Arc<dyn ObjectStore> = Arc::new(HookStore::new(memory(), Observe));
    run_all(&observed).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn replicated_and_prefixed() {
    let replicated: Arc<dyn ObjectStore> = Arc::new(Replicated::new(memory(), vec![memory()], WriteMode::AllReplicas));
    run_all(&replicated).await;
    let prefixed: Arc<dyn ObjectStore> = Arc::new(PrefixStore::new(memory(), ObjectPath::parse("tenant/a").unwrap()));
    run_all(&prefixed).await;
}
