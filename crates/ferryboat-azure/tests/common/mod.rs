//! Shared setup: find Azurite, make a fresh container per test, open a store on it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use ferryboat_azure::{AzureConfig, AzureStore};
use ferryboat_testkit::emulators::AzuriteEmulator;

/// Azurite, or `None` after reporting the skip.
pub fn azurite(test: &str) -> Option<AzuriteEmulator> {
    let emu = ferryboat_testkit::emulators::azurite();
    if emu.is_none() {
        ferryboat_testkit::emulators::skip(test, "Azurite is not available (FERRY_TEST_AZURITE unset)");
    }
    emu
}

/// A container name no other test uses (Azure: 3-63 lower-case letters, digits, hyphens).
pub fn container_name(test: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let stem: String = test.chars().filter(|c| c.is_ascii_alphanumeric()).take(30).collect::<String>().to_lowercase();
    format!("t-{stem}-{}-{nanos:x}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Configuration for `container` on `emu`, with the account key.
pub fn config(emu: &AzuriteEmulator, container: &str) -> AzureConfig {
    AzureConfig::new(&emu.account, container).with_endpoint(&emu.endpoint).with_access_key(&emu.key)
}

/// A store on a fresh, empty container (created with a Shared Key signed request, as a user
/// holding the account key would), or `None` if Azurite is absent.
pub async fn fresh_store(test: &str) -> Option<AzureStore> {
    let emu = azurite(test)?;
    let store = AzureStore::new(config(&emu, &container_name(test))).expect("store opens");
    store.create_container().await.expect("container is created");
    Some(store)
}
