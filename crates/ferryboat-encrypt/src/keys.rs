//! Keys: the user's key wraps a fresh data key per object.

use std::fmt;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use ferryboat_core::{Error, Result};
use zeroize::Zeroizing;

/// A per-object data key. Zeroed when dropped.
pub type DataKey = Zeroizing<[u8; 32]>;

/// Wraps and unwraps data keys with a key the user holds (a key file, an env variable, a
/// KMS…). Implement it to plug in your own key management.
pub trait KeyProvider: Send + Sync + fmt::Debug + 'static {
    /// The id written into each object's header, so the right key can be found (and a wrong
    /// one reported as such) when reading.
    fn key_id(&self) -> [u8; 16];

    /// Seals `key`, authenticating `aad` with it; returns the nonce and the sealed key.
    fn wrap(&self, key: &DataKey, aad: &[u8]) -> Result<([u8; 12], [u8; 48])>;

    /// Opens a key sealed by [`KeyProvider::wrap`]; `Error::Integrity` if it was tampered with.
    fn unwrap(&self, key_id: &[u8; 16], nonce: &[u8; 12], sealed: &[u8; 48], aad: &[u8]) -> Result<DataKey>;
}

/// A 256-bit key held locally: from bytes, hex, a file, or an environment variable.
///
/// ```
/// use ferryboat_encrypt::LocalKey;
/// let key = LocalKey::from_hex(&"11".repeat(32)).unwrap();
/// assert!(!format!("{key:?}").contains("1111"), "Debug never shows the key");
/// ```
pub struct LocalKey {
    key: Zeroizing<[u8; 32]>,
    id: [u8; 16],
}

impl fmt::Debug for LocalKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id: String = self.id[..4].iter().map(|b| format!("{b:02x}")).collect();
        f.debug_struct("LocalKey").field("id", &format!("{id}…")).finish_non_exhaustive()
    }
}

fn bad_key(message: impl Into<String>) -> Error {
    Error::invalid_config(message)
}

impl LocalKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let key = Zeroizing::new(bytes);
        // The id is a MAC of a fixed message under the key: stable, and reveals nothing of it.
        let cipher = ChaCha20Poly1305::new(Key::from_slice(key.as_ref()));
        let tag = cipher
            .encrypt(Nonce::from_slice(&[0u8; 12]), Payload { msg: &[], aad: b"ferry key id v1" })
            .unwrap_or_default();
        let mut id = [0u8; 16];
        id.copy_from_slice(&tag[..16.min(tag.len())]);
        LocalKey { key, id }
    }

    /// A key from 64 hex digits.
    pub fn from_hex(hex: &str) -> Result<Self> {
        let hex = hex.trim();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad_key(format!("an encryption key is 64 hex digits; got {} characters", hex.len())));
        }
        let mut bytes = Zeroizing::new([0u8; 32]);
        for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
            let s = std::str::from_utf8(pair).map_err(|_| bad_key("key is not hex"))?;
            bytes[i] = u8::from_str_radix(s, 16).map_err(|_| bad_key("key is not hex"))?;
        }
        Ok(Self::from_bytes(*bytes))
    }

    /// A key from a file holding 32 raw bytes or 64 hex digits.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let data = Zeroizing::new(
            std::fs::read(path).map_err(|e| bad_key(format!("cannot read key file {}: {e}", path.display())))?,
        );
        if data.len() == 32 {
            let mut bytes = [0u8; 32];
            bytes.copy_from_slice(&data);
            return Ok(Self::from_bytes(bytes));
        }
        let text = std::str::from_utf8(&data)
            .map_err(|_| bad_key(format!("key file {} is neither 32 bytes nor hex", path.display())))?;
        Self::from_hex(text)
    }

    /// A key from an environment variable holding 64 hex digits (e.g. `FERRY_ENCRYPTION_KEY`).
    pub fn from_env(var: &str) -> Result<Self> {
        let value = Zeroizing::new(std::env::var(var).map_err(|_| bad_key(format!("{var} is not set")))?);
        Self::from_hex(&value).map_err(|e| bad_key(format!("{var}: {e}")))
    }

    /// A new random key (print it with [`LocalKey::to_hex`] and keep it safe).
    pub fn generate() -> Result<Self> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(bytes.as_mut()).map_err(|e| bad_key(format!("no randomness: {e}")))?;
        Ok(Self::from_bytes(*bytes))
    }

    /// The key as 64 hex digits.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(self.key.iter().map(|b| format!("{b:02x}")).collect())
    }
}

impl KeyProvider for LocalKey {
    fn key_id(&self) -> [u8; 16] {
        self.id
    }

    fn wrap(&self, key: &DataKey, aad: &[u8]) -> Result<([u8; 12], [u8; 48])> {
        let mut nonce = [0u8; 12];
        getrandom::getrandom(&mut nonce).map_err(|e| bad_key(format!("no randomness: {e}")))?;
        let cipher = ChaCha20Poly1305::new(Key::from_slice(self.key.as_ref()));
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: key.as_ref(), aad })
            .map_err(|_| Error::generic("encrypt", "", "cannot wrap the data key", None))?;
        let mut out = [0u8; 48];
        out.copy_from_slice(&sealed);
        Ok((nonce, out))
    }

    fn unwrap(&self, key_id: &[u8; 16], nonce: &[u8; 12], sealed: &[u8; 48], aad: &[u8]) -> Result<DataKey> {
        if key_id != &self.id {
            return Err(Error::Integrity {
                provider: "encrypt".into(),
                path: String::new(),
                message: "the object was encrypted with a different key".into(),
                details: Default::default(),
            });
        }
        let cipher = ChaCha20Poly1305::new(Key::from_slice(self.key.as_ref()));
        let plain =
            Zeroizing::new(cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad }).map_err(|_| {
                Error::Integrity {
                    provider: "encrypt".into(),
                    path: String::new(),
                    message: "the wrapped data key failed authentication (tampered header)".into(),
                    details: Default::default(),
                }
            })?);
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&plain);
        Ok(key)
    }
}
