//! Retry over injected faults: nothing lost, nothing corrupt, and the faults really happen.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ferryboat_core::layers::{FaultConfig, FaultKind, FaultStore, RetryConfig, RetryStore};
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::{Error, ObjectPath, ObjectStore, ObjectStoreExt};
use futures::TryStreamExt;

fn fast_retry() -> RetryConfig {
    RetryConfig {
        max_attempts: 30,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        ..Default::default()
    }
}

fn content(i: usize) -> Bytes {
    (0..(i * 97 % 5000 + 1)).map(|b| (b * 31 + i) as u8).collect::<Vec<u8>>().into()
}

#[tokio::test]
async fn retry_over_faults_loses_and_corrupts_nothing() {
    let memory = Arc::new(MemoryStore::new());
    let kinds = vec![
        FaultKind::ServerError,
        FaultKind::Reset,
        FaultKind::BrokenBody,
        FaultKind::TruncatedBody,
        FaultKind::LostResponse,
    ];
    let faulty = Arc::new(FaultStore::new(memory.clone(), FaultConfig { rate: 0.3, kinds, seed: 42 }));
    let store = RetryStore::new(faulty.clone(), fast_retry());

    for i in 0..300 {
        let key = ObjectPath::parse(format!("k/{i:04}")).unwrap();
        store.put(&key, content(i)).await.unwrap();
    }
    for i in 0..300 {
        let key = ObjectPath::parse(format!("k/{i:04}")).unwrap();
        assert_eq!(store.get(&key).await.unwrap().bytes().await.unwrap(), content(i), "object {i}");
    }
    let listed: Vec<_> = store.list(None).try_collect().await.unwrap();
    let keys: Vec<String> = listed.iter().map(|m| m.path.to_string()).collect();
    let expected: Vec<String> = (0..300).map(|i| format!("k/{i:04}")).collect();
    assert_eq!(keys, expected, "the resumed listing repeats or skips nothing");
    assert!(faulty.injected() > 100, "faults were injected: {}", faulty.injected());
}

#[tokio::test]
async fn without_retry_faults_surface_and_truncation_is_caught() {
    let memory = Arc::new(MemoryStore::new());
    let key = ObjectPath::parse("big").unwrap();
    memory.put(&key, content(40)).await.unwrap();
    let truncating =
        FaultStore::new(memory.clone(), FaultConfig { rate: 1.0, kinds: vec![FaultKind::TruncatedBody], seed: 1 });
    let err = truncating.get(&key).await.unwrap().bytes().await.unwrap_err();
    assert!(matches!(err, Error::Integrity { .. }), "a short body is an integrity error: {err}");

    let failing = FaultStore::new(memory, FaultConfig { rate: 1.0, kinds: vec![FaultKind::ServerError], seed: 1 });
    let err = failing.put(&key, "x".into()).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
}

#[tokio::test]
async fn a_read_resumed_after_the_object_changed_is_an_error_not_a_splice() {
    /// Serves the first read from `first` with a body that breaks, and every later read
    /// from `second` (which holds a different version of the object).
    #[derive(Debug)]
    struct Swapping {
        first: FaultStore,
        second: Arc<MemoryStore>,
        reads: std::sync::atomic::AtomicUsize,
    }
    #[async_trait::async_trait]
    impl ObjectStore for Swapping {
        fn info(&self) -> &ferryboat_core::StoreInfo {
            self.second.info()
        }
        fn capabilities(&self) -> &ferryboat_core::Capabilities {
            self.second.capabilities()
        }
        async fn put_opts(
            &self,
            p: &ObjectPath,
            d: Bytes,
            o: ferryboat_core::PutOptions,
        ) -> ferryboat_core::Result<ferryboat_core::PutResult> {
            self.second.put_opts(p, d, o).await
        }
        async fn put_multipart_opts(
            &self,
            p: &ObjectPath,
            o: ferryboat_core::PutOptions,
        ) -> ferryboat_core::Result<Box<dyn ferryboat_core::MultipartUpload>> {
            self.second.put_multipart_opts(p, o).await
        }
        async fn get_opts(
            &self,
            p: &ObjectPath,
            o: ferryboat_core::GetOptions,
        ) -> ferryboat_core::Result<ferryboat_core::GetResult> {
            if self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                self.first.get_opts(p, o).await
            } else {
                self.second.get_opts(p, o).await
            }
        }
        async fn delete(&self, p: &ObjectPath) -> ferryboat_core::Result<()> {
            self.second.delete(p).await
        }
        fn list_opts(
            &self,
            o: ferryboat_core::ListOptions,
        ) -> futures::stream::BoxStream<'static, ferryboat_core::Result<ferryboat_core::ObjectMeta>> {
            self.second.list_opts(o)
        }
    }

    let key = ObjectPath::parse("doc").unwrap();
    let old = Arc::new(MemoryStore::new());
    old.put(&key, Bytes::from(vec![1u8; 1000])).await.unwrap();
    let new = Arc::new(MemoryStore::new());
    new.put(&key, Bytes::from(vec![2u8; 1000])).await.unwrap();
    let first = FaultStore::new(old, FaultConfig { rate: 1.0, kinds: vec![FaultKind::BrokenBody], seed: 3 });
    let swapping = Arc::new(Swapping { first, second: new, reads: Default::default() });
    let store = RetryStore::new(swapping, fast_retry());
    let err = store.get(&key).await.unwrap().bytes().await.unwrap_err();
    assert!(matches!(err, Error::Integrity { .. }), "expected an integrity error, got {err}");
}

/// Every write's response is lost after the write is done. A conditional write must then be
/// answered by what the store holds, not by re-sending it blindly (which would report
/// `AlreadyExists` or `Precondition` for a write that succeeded).
#[tokio::test]
async fn conditional_writes_whose_response_was_lost_succeed_once() {
    use ferryboat_core::{PutMode, PutOptions, UpdateVersion};
    let memory = Arc::new(MemoryStore::new());
    let lossy = FaultConfig { rate: 1.0, kinds: vec![FaultKind::LostResponse], seed: 7 };
    let faulty = Arc::new(FaultStore::new(memory.clone(), lossy));
    let store = RetryStore::new(faulty.clone(), fast_retry());
    let key = ObjectPath::parse("lock").unwrap();

    // Without the retry layer the caller only sees the lost response.
    let err = faulty.put_opts(&key, "raw".into(), PutMode::Create.into()).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(memory.exists(&key).await.unwrap(), "the write itself was done");
    memory.delete(&key).await.unwrap();

    let created = store.put_opts(&key, "mine".into(), PutMode::Create.into()).await.expect("create landed");
    assert_eq!(created.etag, memory.head(&key).await.unwrap().etag);
    let update = PutOptions::mode(PutMode::Update(UpdateVersion { etag: created.etag.clone(), version: None }));
    let updated = store.put_opts(&key, "mine, v2".into(), update.clone()).await.expect("update landed");
    assert_eq!(memory.get(&key).await.unwrap().bytes().await.unwrap(), "mine, v2");
    assert_ne!(updated.etag, created.etag);

    // Someone else's write is still a refusal: the stale update, and a second create.
    let err = store.put_opts(&key, "stale".into(), update).await.unwrap_err();
    assert!(matches!(err, Error::Precondition { .. }), "{err}");
    let err = store.put_opts(&key, "theirs".into(), PutMode::Create.into()).await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err}");
    assert_eq!(memory.get(&key).await.unwrap().bytes().await.unwrap(), "mine, v2");
}
