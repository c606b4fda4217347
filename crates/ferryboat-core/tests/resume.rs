//! `resume::get`: bodies broken by the fault layer arrive whole, and an object replaced
//! while it is read is a clear error, never a splice.

use std::sync::Arc;

use bytes::Bytes;
use ferryboat_core::layers::{FaultConfig, FaultKind, FaultStore};
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::resume::{self, resume_policy, ResumeConfig};
use ferryboat_core::{Error, GetOptions, ObjectPath, ObjectStore, ObjectStoreExt};
use futures::StreamExt;

fn data(len: usize, seed: u8) -> Bytes {
    (0..len).map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed)).collect::<Vec<u8>>().into()
}

fn faulty(inner: &MemoryStore, rate: f64, kind: FaultKind) -> Arc<dyn ObjectStore> {
    let config = FaultConfig { rate, kinds: vec![kind], seed: 5 };
    Arc::new(FaultStore::new(Arc::new(inner.clone()), config))
}

fn quick() -> ResumeConfig {
    ResumeConfig { initial_backoff: std::time::Duration::from_millis(1), ..resume_policy() }
}

#[tokio::test]
async fn broken_and_truncated_bodies_resume_to_the_same_bytes() {
    let mem = MemoryStore::new();
    let key = ObjectPath::parse("k").unwrap();
    let want = data(1 << 20, 1);
    mem.put(&key, want.clone()).await.unwrap();
    for kind in [FaultKind::BrokenBody, FaultKind::TruncatedBody] {
        let store = faulty(&mem, 0.5, kind.clone());
        for _ in 0..10 {
            let got = resume::get(store.clone(), &key, GetOptions::default(), &quick()).await.unwrap();
            assert_eq!(got.bytes().await.unwrap(), want, "{kind:?}");
        }
    }
    // Without resuming, the same faults break the reads.
    let store = faulty(&mem, 1.0, FaultKind::BrokenBody);
    assert!(store.get(&key).await.unwrap().bytes().await.is_err());
}

#[tokio::test]
async fn an_object_replaced_mid_read_is_an_error_not_a_splice() {
    let mem = MemoryStore::new();
    let key = ObjectPath::parse("k").unwrap();
    mem.put(&key, data(1 << 20, 1)).await.unwrap();
    let store = faulty(&mem, 1.0, FaultKind::BrokenBody);
    let got = resume::get(store, &key, GetOptions::default(), &quick()).await.unwrap();
    mem.put(&key, data(1 << 20, 2)).await.unwrap();
    let mut body = got.body;
    let mut delivered = Vec::new();
    let err = loop {
        match body.next().await {
            Some(Ok(chunk)) => delivered.extend_from_slice(&chunk),
            Some(Err(e)) => break e,
            None => panic!("a body of two versions ended without an error"),
        }
    };
    assert!(matches!(err, Error::Integrity { .. }) && err.to_string().contains("changed"), "{err}");
    assert_eq!(delivered[..], data(1 << 20, 1)[..delivered.len()], "only bytes of the first version");
}
