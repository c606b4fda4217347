//! Hooks: timeouts, the shared concurrency limit, and the jurisdiction policy.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferryboat_core::layers::{
    ConcurrencyLimit, FaultConfig, FaultKind, FaultStore, Hook, HookStore, JurisdictionPolicy, Op, Timeout,
};
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::{Error, Jurisdiction, ObjectPath, ObjectStore, ObjectStoreExt, Result, StoreInfo};
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt};
use futures::FutureExt;

fn key(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap()
}

fn slow(inner: Arc<dyn ObjectStore>, delay: Duration) -> Arc<dyn ObjectStore> {
    Arc::new(FaultStore::new(inner, FaultConfig { rate: 1.0, kinds: vec![FaultKind::Latency(delay)], seed: 0 }))
}

/// Makes every body stall forever after its first chunk.
#[derive(Debug)]
struct Stall;
impl Hook for Stall {
    fn around<'a, T: Send + 'a>(
        &'a self,
        _: &'a StoreInfo,
        _: Op<'a>,
        request: BoxFuture<'a, Result<T>>,
    ) -> BoxFuture<'a, Result<T>> {
        request
    }
    fn body(
        &self,
        _: &StoreInfo,
        _: &str,
        body: BoxStream<'static, Result<Bytes>>,
    ) -> BoxStream<'static, Result<Bytes>> {
        body.take(1).chain(stream::pending()).boxed()
    }
}

#[tokio::test]
async fn slow_requests_and_stalled_bodies_time_out() {
    let memory = Arc::new(MemoryStore::new());
    memory.put(&key("k"), "data".into()).await.unwrap();

    let timeout = Timeout { request: Duration::from_millis(50), idle: Duration::from_millis(50) };
    let store = HookStore::new(slow(memory.clone(), Duration::from_secs(5)), timeout.clone());
    let started = Instant::now();
    let err = store.get(&key("k")).await.unwrap_err();
    assert!(err.is_retryable() && err.to_string().contains("timed out"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2), "bounded by the timeout, took {:?}", started.elapsed());

    let stalling: Arc<dyn ObjectStore> = Arc::new(HookStore::new(memory, Stall));
    let store = HookStore::new(stalling, timeout);
    let err = store.get(&key("k")).await.unwrap().bytes().await.unwrap_err();
    assert!(err.to_string().contains("no data for"), "{err}");
}

/// Counts requests in flight and remembers the most seen at once.
#[derive(Debug, Default)]
struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
}
impl Hook for Gauge {
    fn around<'a, T: Send + 'a>(
        &'a self,
        _: &'a StoreInfo,
        _: Op<'a>,
        request: BoxFuture<'a, Result<T>>,
    ) -> BoxFuture<'a, Result<T>> {
        async move {
            let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.max.fetch_max(n, Ordering::SeqCst);
            let r = request.await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            r
        }
        .boxed()
    }
}

#[tokio::test]
async fn one_budget_limits_requests_across_stores() {
    let gauge =
        Arc::new(HookStore::new(slow(Arc::new(MemoryStore::new()), Duration::from_millis(20)), Gauge::default()));
    let budget = ConcurrencyLimit::new(3);
    let a: Arc<dyn ObjectStore> = Arc::new(HookStore::new(gauge.clone(), budget.clone()));
    let b: Arc<dyn ObjectStore> = Arc::new(HookStore::new(gauge.clone(), budget.clone()));
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { store.put(&key(&format!("k{i}")), "x".into()).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let max = gauge.hook().max.load(Ordering::SeqCst);
    assert_eq!(max, 3, "24 concurrent puts through two stores sharing 3 slots peaked at {max}");
    assert_eq!(budget.available(), 3, "every slot is returned");
}

/// Source and destination share a limit of 2; 8 copies stream at once, each holding its read
/// body while it sends parts. A body that kept its slot while its consumer waited for one
/// would make every copy wait for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_limit_cannot_deadlock_copies() {
    let budget = ConcurrencyLimit::new(2);
    let src: Arc<dyn ObjectStore> = Arc::new(HookStore::new(Arc::new(MemoryStore::new()), budget.clone()));
    let dst: Arc<dyn ObjectStore> = Arc::new(HookStore::new(Arc::new(MemoryStore::new()), budget.clone()));
    let size = 12 << 20;
    for i in 0..8 {
        src.put(&key(&format!("big/{i}")), Bytes::from(vec![i as u8; size])).await.unwrap();
    }
    let copies: Vec<_> = (0..8)
        .map(|i| {
            let (src, dst) = (src.clone(), dst.clone());
            tokio::spawn(async move {
                let k = key(&format!("big/{i}"));
                let body = src.get(&k).await?.body;
                let config = ferryboat_core::UploadConfig { part_size: 5 << 20, concurrency: 2, ..Default::default() };
                dst.put_stream(&k, body, Default::default(), config).await
            })
        })
        .collect();
    let all = futures::future::join_all(copies);
    let done = tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .expect("8 copies under a shared limit of 2 deadlocked");
    for d in done {
        d.unwrap().unwrap();
    }
    for i in 0..8 {
        assert_eq!(dst.head(&key(&format!("big/{i}"))).await.unwrap().size, size as u64);
    }
    assert_eq!(budget.available(), 2, "every slot is returned");
}

#[tokio::test]
async fn the_policy_refuses_writes_before_they_reach_the_store() {
    let us = StoreInfo::new("aws", "Amazon Web Services", Jurisdiction::Us).with_region("eu-central-1");
    let inner = Arc::new(MemoryStore::new().with_info(us));
    inner.put(&key("existing"), "x".into()).await.unwrap();
    let store = HookStore::new(inner.clone(), JurisdictionPolicy::allow([Jurisdiction::Eu, Jurisdiction::Ch]));

    let err = store.put(&key("new"), "secret".into()).await.unwrap_err();
    assert!(matches!(err, Error::PolicyViolation { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("Amazon Web Services") && msg.contains("US") && msg.contains("EU, CH"), "{msg}");
    assert!(!inner.exists(&key("new")).await.unwrap(), "nothing reached the store");
    assert!(store.delete(&key("existing")).await.is_err(), "deletes are writes too");
    assert_eq!(store.get(&key("existing")).await.unwrap().bytes().await.unwrap(), "x", "reads pass");

    // The CLOUD Act reaches a US company's EU subsidiary.
    let subsidiary = StoreInfo::new("aws-eusc", "AWS European Sovereign Cloud", Jurisdiction::Eu).with_cloud_act(true);
    let eu_only = JurisdictionPolicy::allow([Jurisdiction::Eu]);
    assert!(eu_only.refusal(&subsidiary).is_none());
    assert!(eu_only.clone().deny_cloud_act().refusal(&subsidiary).unwrap().contains("CLOUD Act"));

    // Encrypted stores pass when the policy says so.
    let mut encrypted = StoreInfo::new("aws", "Amazon Web Services", Jurisdiction::Us);
    encrypted.client_encrypted = true;
    assert!(eu_only.refusal(&encrypted).is_some());
    assert!(eu_only.unless_encrypted().refusal(&encrypted).is_none());
}
