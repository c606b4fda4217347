//! The sovereign stack of docs/layers.md, built in the documented order and in the reverse
//! order, over two real servers (Ceph RGW as the primary, SeaweedFS as the replica): both
//! round-trip data, fail reads over when the primary is down, leave only ciphertext on the
//! servers, and refuse a write that could reach a US store — the documented order before any
//! byte leaves, the reverse order only at the replica, after the primary has the object,
//! which is why docs/layers.md puts the policy on top.

#![cfg(all(feature = "s3", feature = "encrypt"))]

mod common;

use std::sync::Arc;

use bytes::Bytes;
use ferryboat::encrypt::{EncryptConfig, EncryptedStore, LocalKey};
use ferryboat::layers::{
    FaultConfig, FaultStore, HookStore, JurisdictionPolicy, Replicated, RetryConfig, RetryStore, Timeout, WriteMode,
};
use ferryboat::s3::{Credentials, S3Config, S3Store};
use ferryboat::{Error, Jurisdiction, ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_testkit::emulators::{self, skip, S3Emulator};

type Store = Arc<dyn ObjectStore>;

/// A fresh bucket on `emu`, opened under the catalogue profile `provider` (its quirks and
/// its jurisdiction).
async fn bucket(emu: &S3Emulator, provider: &str) -> Store {
    let (name, _) = common::s3_bucket(emu, provider).await;
    let quirks = ferryboat::providers::catalogue().get(provider).expect("catalogued").quirks.clone();
    let config = S3Config::new(&name)
        .with_provider(provider)
        .with_quirks(quirks)
        .with_endpoint(&emu.endpoint)
        .with_region(&emu.region)
        .with_path_style(true)
        .with_allow_http(true)
        .with_credentials(Credentials::new(&emu.access_key, &emu.secret_key));
    Arc::new(S3Store::new(config).unwrap())
}

fn policy() -> JurisdictionPolicy {
    JurisdictionPolicy::allow([Jurisdiction::Eu, Jurisdiction::Ch, Jurisdiction::SelfHosted]).deny_cloud_act()
}
fn timeout(s: Store) -> Store {
    Arc::new(HookStore::new(s, Timeout::default()))
}
fn retry(s: Store) -> Store {
    Arc::new(RetryStore::new(s, RetryConfig::default()))
}
fn encrypt(s: Store) -> Store {
    Arc::new(EncryptedStore::new(s, Arc::new(LocalKey::from_bytes([9; 32])), EncryptConfig::default()).unwrap())
}
fn guard(s: Store) -> Store {
    Arc::new(HookStore::new(s, policy()))
}

struct Servers {
    primary: Store,
    replica: Store,
    outage: Arc<FaultStore>,
}

async fn servers() -> Option<Servers> {
    let (Some(ceph), Some(seaweed)) = (emulators::ceph_rgw(), emulators::seaweedfs()) else {
        skip("the sovereign stack", "Ceph RGW or SeaweedFS is not available");
        return None;
    };
    let primary = bucket(&ceph, "ceph").await;
    let replica = bucket(&seaweed, "seaweedfs").await;
    let outage = Arc::new(FaultStore::new(primary.clone(), FaultConfig::errors(0.0, 3)));
    Some(Servers { primary, replica, outage })
}

/// What both orders must keep: data round-trips, only ciphertext on both servers, a read
/// fails over to the replica while the primary is down.
async fn keeps_data_and_fails_over(order: &str, store: &dyn ObjectStore, servers: &Servers) {
    let key = ObjectPath::parse("hr/contracts/2026.pdf").unwrap();
    let secret = Bytes::from_static(b"confidential: salary scales 2026");
    store.put(&key, secret.clone()).await.unwrap_or_else(|e| panic!("{order}: put: {e}"));
    assert_eq!(store.get(&key).await.unwrap().bytes().await.unwrap(), secret, "{order}");
    for (name, raw) in [("Ceph RGW", &servers.primary), ("SeaweedFS", &servers.replica)] {
        let held = raw.get(&key).await.unwrap_or_else(|e| panic!("{order}: {name} holds no copy: {e}"));
        let held = held.bytes().await.unwrap();
        assert!(!held.windows(12).any(|w| w == b"confidential"), "{order}: {name} holds plaintext");
    }
    servers.outage.set_rate(1.0);
    let read = store.get(&key).await.unwrap_or_else(|e| panic!("{order}: no failover: {e}"));
    assert_eq!(read.bytes().await.unwrap(), secret, "{order}: read from the replica");
    assert!(servers.outage.injected() > 0, "{order}: the outage was never hit");
    servers.outage.set_rate(0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_order_keeps_data_and_refuses_us_before_any_byte_leaves() {
    let Some(servers) = servers().await else { return };
    // Policy → encryption → retry → failover over timed members.
    let replicated = Replicated::new(
        timeout(servers.outage.clone()),
        vec![timeout(servers.replica.clone())],
        WriteMode::AllReplicas,
    );
    let store = guard(encrypt(retry(Arc::new(replicated))));
    keeps_data_and_fails_over("documented order", store.as_ref(), &servers).await;

    // The same stack with a US replica is refused when built and, built anyway, before the
    // primary receives anything.
    let moto = emulators::moto().expect("moto runs wherever Ceph RGW does");
    let us = bucket(&moto, "aws").await;
    let replicated = Replicated::new(servers.primary.clone(), vec![us.clone()], WriteMode::AllReplicas);
    let below = encrypt(retry(Arc::new(replicated)));
    assert!(matches!(policy().check(below.as_ref()), Err(Error::PolicyViolation { .. })));
    let key = ObjectPath::parse("hr/leaked.pdf").unwrap();
    let e = guard(below).put(&key, Bytes::from_static(b"x")).await.unwrap_err();
    assert!(matches!(e, Error::PolicyViolation { .. }), "{e}");
    assert!(!servers.primary.exists(&key).await.unwrap(), "the primary received a refused write");
    assert!(!us.exists(&key).await.unwrap(), "the US store received a refused write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reverse_order_keeps_data_but_refuses_us_only_at_the_replica() {
    let Some(servers) = servers().await else { return };
    // Failover on top, each member with its own policy, encryption and retry below.
    let member = |s: Store| guard(encrypt(retry(timeout(s))));
    let replicated =
        Replicated::new(member(servers.outage.clone()), vec![member(servers.replica.clone())], WriteMode::AllReplicas);
    keeps_data_and_fails_over("reverse order", &replicated, &servers).await;

    let moto = emulators::moto().expect("moto runs wherever Ceph RGW does");
    let us = bucket(&moto, "aws").await;
    let replicated = Replicated::new(member(servers.primary.clone()), vec![member(us.clone())], WriteMode::AllReplicas);
    let key = ObjectPath::parse("hr/leaked.pdf").unwrap();
    let e = replicated.put(&key, Bytes::from_static(b"x")).await.unwrap_err();
    assert!(matches!(e, Error::PolicyViolation { .. }), "{e}");
    assert!(!us.exists(&key).await.unwrap(), "the US store received a refused write");
    // The cost of this order: the primary already holds the object.
    assert!(servers.primary.exists(&key).await.unwrap(), "expected the primary to have been written first");
}
