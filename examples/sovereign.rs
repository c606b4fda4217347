//! A sovereign stack: jurisdiction policy → encryption → retry → failover, over two European
//! providers, surviving the primary's outage.
//!
//! `cargo run --example sovereign` runs it with two in-memory stores standing in for Scaleway
//! (primary) and OVHcloud (replica) — swap them for `ferryboat::open("scaleway://fr-par/bucket")`
//! and `ferryboat::open("ovh://gra/bucket")` with credentials in the environment.

use std::sync::Arc;

use ferryboat::encrypt::{EncryptConfig, EncryptedStore, LocalKey};
use ferryboat::layers::{
    FaultConfig, FaultKind, FaultStore, HookStore, JurisdictionPolicy, Replicated, RetryConfig, RetryStore, Timeout,
    WriteMode,
};
use ferryboat::memory::MemoryStore;
use ferryboat::{Jurisdiction, ObjectPath, ObjectStore, ObjectStoreExt, StoreInfo};

#[tokio::main]
async fn main() -> ferryboat::Result<()> {
    let scaleway_data = Arc::new(
        MemoryStore::new().with_info(StoreInfo::new("scaleway", "Scaleway", Jurisdiction::Eu).with_region("fr-par")),
    );
    let ovh_data =
        Arc::new(MemoryStore::new().with_info(StoreInfo::new("ovh", "OVHcloud", Jurisdiction::Eu).with_region("gra")));
    // The primary can be switched off, as an outage would.
    let outage = FaultConfig { rate: 0.0, kinds: vec![FaultKind::ServerError], seed: 1 };
    let scaleway = Arc::new(FaultStore::new(scaleway_data.clone(), outage));

    // Bottom up: each provider behind a timeout, the pair replicated, retries over the pair,
    // encryption above (providers see only ciphertext), the policy on top.
    let timeout = |s: Arc<dyn ObjectStore>| -> Arc<dyn ObjectStore> { Arc::new(HookStore::new(s, Timeout::default())) };
    let replicated =
        Replicated::new(timeout(scaleway.clone()), vec![timeout(ovh_data.clone())], WriteMode::AllReplicas);
    let retried = Arc::new(RetryStore::new(Arc::new(replicated), RetryConfig::default()));
    let key = Arc::new(LocalKey::generate()?);
    let encrypted = Arc::new(EncryptedStore::new(retried, key, EncryptConfig::default())?);
    let policy = JurisdictionPolicy::allow([Jurisdiction::Eu, Jurisdiction::Ch]).deny_cloud_act();
    let store = HookStore::new(encrypted, policy.clone());

    let path = ObjectPath::parse("hr/contracts/2026.pdf")?;
    store.put(&path, "confidential".into()).await?;
    println!(
        "written through the stack to {} and {}",
        scaleway_data.info().provider_name,
        ovh_data.info().provider_name
    );
    let raw = ovh_data.get(&path).await?.bytes().await?;
    println!(
        "what OVHcloud stores: {} bytes of ciphertext, plaintext visible: {}",
        raw.len(),
        raw.windows(12).any(|w| w == b"confidential")
    );

    // Scaleway goes down: reads fail over to OVHcloud.
    scaleway.set_rate(1.0);
    let body = store.get(&path).await?.bytes().await?;
    println!(
        "Scaleway down ({} failed requests), read back from OVHcloud: {:?}",
        scaleway.injected(),
        String::from_utf8_lossy(&body)
    );

    // A US provider is refused before a byte leaves.
    let us = Arc::new(MemoryStore::new().with_info(StoreInfo::new("aws", "Amazon Web Services", Jurisdiction::Us)));
    let refused = HookStore::new(us, policy).put(&path, "confidential".into()).await.unwrap_err();
    println!("writing to AWS: {refused}");
    Ok(())
}
