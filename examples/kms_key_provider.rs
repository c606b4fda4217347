//! A `KeyProvider` backed by an external key-management service: the data key of every object
//! is wrapped and unwrapped by the KMS, and the master key never leaves it.
//!
//! The KMS here is an in-process stand-in with the shape of a real one (named master keys,
//! `encrypt` / `decrypt` calls that authenticate a context); a real provider sends the same
//! two calls over HTTPS. Run with `cargo run --example kms_key_provider`.

use std::collections::HashMap;
use std::sync::Arc;

use ferryboat::encrypt::{DataKey, EncryptConfig, EncryptedStore, KeyProvider, LocalKey};
use ferryboat::memory::MemoryStore;
use ferryboat::{Error, ObjectPath, ObjectStoreExt, Result};

/// What a KMS offers: sealing small secrets under a named master key, with a context that
/// must match on decryption. Stands in for a client of a real service.
#[derive(Debug, Default)]
struct Kms {
    master_keys: HashMap<String, LocalKey>,
}

impl Kms {
    fn encrypt(&self, key_name: &str, secret: &DataKey, context: &[u8]) -> Result<([u8; 12], [u8; 48])> {
        let master = self.master_keys.get(key_name).ok_or_else(|| Error::invalid_config("unknown KMS key"))?;
        master.wrap(secret, context)
    }

    fn decrypt(&self, key_name: &str, nonce: &[u8; 12], sealed: &[u8; 48], context: &[u8]) -> Result<DataKey> {
        let master = self.master_keys.get(key_name).ok_or_else(|| Error::invalid_config("unknown KMS key"))?;
        master.unwrap(&master.key_id(), nonce, sealed, context)
    }
}

/// The provider ferry calls: one named KMS key. Its id is derived from the key's name, so
/// objects say which KMS key to ask. Calls are synchronous: a provider speaking to a remote
/// KMS from async code runs each call with `tokio::task::block_in_place`.
#[derive(Debug)]
struct KmsKey {
    kms: Arc<Kms>,
    name: String,
}

impl KeyProvider for KmsKey {
    fn key_id(&self) -> [u8; 16] {
        let mut id = [0u8; 16];
        for (i, b) in self.name.bytes().enumerate() {
            id[i % 16] ^= b.rotate_left(i as u32 % 8);
        }
        id
    }

    fn wrap(&self, key: &DataKey, aad: &[u8]) -> Result<([u8; 12], [u8; 48])> {
        self.kms.encrypt(&self.name, key, aad)
    }

    fn unwrap(&self, key_id: &[u8; 16], nonce: &[u8; 12], sealed: &[u8; 48], aad: &[u8]) -> Result<DataKey> {
        if key_id != &self.key_id() {
            return Err(Error::Integrity {
                provider: "kms".into(),
                path: String::new(),
                message: "the object was encrypted with a different key".into(),
                details: Default::default(),
            });
        }
        self.kms.decrypt(&self.name, nonce, sealed, aad)
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut kms = Kms::default();
    kms.master_keys.insert("backups-2026".into(), LocalKey::generate()?);
    kms.master_keys.insert("backups-2027".into(), LocalKey::generate()?);
    let kms = Arc::new(kms);
    let raw = Arc::new(MemoryStore::new());

    let v1 = Arc::new(KmsKey { kms: kms.clone(), name: "backups-2026".into() });
    let store = EncryptedStore::new(raw.clone(), v1.clone(), EncryptConfig::default())?;
    let path = ObjectPath::parse("db/dump.sql")?;
    store.put(&path, "CREATE TABLE t (x int);".into()).await?;

    // Rotate to next year's KMS key: only the object's header is rewritten.
    let v2 = Arc::new(KmsKey { kms, name: "backups-2027".into() });
    let rotated = EncryptedStore::new(raw, v2, EncryptConfig::default())?.with_previous_keys(vec![v1]);
    assert!(rotated.rotate(&path).await?);
    let text = rotated.get(&path).await?.bytes().await?;
    println!("read back after rotation: {}", String::from_utf8_lossy(&text));
    Ok(())
}
