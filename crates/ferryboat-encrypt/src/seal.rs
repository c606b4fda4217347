//! Sealing and opening one object's chunks.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use ferryboat_core::{Error, Result};

use crate::format::{Header, TRAILER_INDEX};
use crate::keys::{DataKey, KeyProvider};

/// The cipher of one object, with its header.
pub(crate) struct Sealer {
    cipher: ChaCha20Poly1305,
    pub(crate) header: Header,
    /// What every chunk authenticates: the header's first bytes and the object key.
    aad: Vec<u8>,
}

fn integrity(path: &str, message: impl Into<String>) -> Error {
    Error::Integrity {
        provider: "encrypt".into(),
        path: path.into(),
        message: message.into(),
        details: Default::default(),
    }
}

impl Sealer {
    /// A fresh data key and header for a new object at `path`.
    pub(crate) fn new_object(keys: &dyn KeyProvider, chunk_size: u32, path: &str) -> Result<Sealer> {
        let mut data_key: DataKey = DataKey::default();
        let mut nonce_prefix = [0u8; 8];
        getrandom::getrandom(data_key.as_mut())
            .and_then(|()| getrandom::getrandom(&mut nonce_prefix))
            .map_err(|e| Error::generic("encrypt", "", format!("no randomness: {e}"), None))?;
        let mut header = Header {
            version: 2,
            chunk_size,
            nonce_prefix,
            key_id: keys.key_id(),
            wrap_nonce: [0; 12],
            wrapped_key: [0; 48],
        };
        wrap_into(&mut header, keys, &data_key)?;
        let aad = header.content_aad(path);
        Ok(Sealer { cipher: ChaCha20Poly1305::new(Key::from_slice(data_key.as_ref())), header, aad })
    }

    /// The cipher of an existing object at `path`, from its header bytes, with whichever of
    /// `keys` wrapped its data key.
    pub(crate) fn open_object(keys: &[&dyn KeyProvider], header: &[u8], path: &str) -> Result<Sealer> {
        let header = Header::parse(header).map_err(|m| integrity(path, m))?;
        let data_key = unwrap_from(&header, keys, path)?;
        let aad = header.content_aad(path);
        Ok(Sealer { cipher: ChaCha20Poly1305::new(Key::from_slice(data_key.as_ref())), header, aad })
    }

    pub(crate) fn seal_chunk(&self, index: u32, plain: &[u8]) -> Result<Vec<u8>> {
        self.cipher
            .encrypt(Nonce::from_slice(&self.header.nonce(index)), Payload { msg: plain, aad: &self.aad })
            .map_err(|_| Error::generic("encrypt", "", "chunk encryption failed", None))
    }

    pub(crate) fn open_chunk(&self, index: u32, sealed: &[u8], path: &str) -> Result<Vec<u8>> {
        self.cipher
            .decrypt(Nonce::from_slice(&self.header.nonce(index)), Payload { msg: sealed, aad: &self.aad })
            .map_err(|_| {
                integrity(
                    path,
                    format!("chunk {index} failed authentication (tampered, reordered, or moved from another key)"),
                )
            })
    }

    fn trailer_aad(&self) -> Vec<u8> {
        let mut aad = self.aad.clone();
        aad.extend_from_slice(b"final");
        aad
    }

    pub(crate) fn seal_trailer(&self, plain_len: u64) -> Result<Vec<u8>> {
        let aad = self.trailer_aad();
        self.cipher
            .encrypt(
                Nonce::from_slice(&self.header.nonce(TRAILER_INDEX)),
                Payload { msg: &plain_len.to_le_bytes(), aad: &aad },
            )
            .map_err(|_| Error::generic("encrypt", "", "trailer encryption failed", None))
    }

    /// Checks the trailer says the object holds exactly `plain_len` bytes.
    pub(crate) fn check_trailer(&self, sealed: &[u8], plain_len: u64, path: &str) -> Result<()> {
        let aad = self.trailer_aad();
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(&self.header.nonce(TRAILER_INDEX)), Payload { msg: sealed, aad: &aad })
            .map_err(|_| integrity(path, "trailer failed authentication (object truncated or tampered)"))?;
        let recorded = plain.get(..8).map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]));
        if recorded != Some(plain_len) {
            return Err(integrity(path, format!("trailer records {recorded:?} bytes, {plain_len} were read")));
        }
        Ok(())
    }
}

/// Wraps `data_key` with `keys` into `header` (its key id, wrap nonce and wrapped key).
fn wrap_into(header: &mut Header, keys: &dyn KeyProvider, data_key: &DataKey) -> Result<()> {
    header.key_id = keys.key_id();
    let (wrap_nonce, wrapped_key) = keys.wrap(data_key, &header.bound())?;
    header.wrap_nonce = wrap_nonce;
    header.wrapped_key = wrapped_key;
    Ok(())
}

/// The data key of `header`, from the first of `keys` with the header's key id (or the
/// first of all, which may know other ids, as a KMS does).
fn unwrap_from(header: &Header, keys: &[&dyn KeyProvider], path: &str) -> Result<DataKey> {
    let provider = keys
        .iter()
        .find(|k| k.key_id() == header.key_id)
        .or(keys.first())
        .ok_or_else(|| integrity(path, "no key to open it with"))?;
    provider.unwrap(&header.key_id, &header.wrap_nonce, &header.wrapped_key, &header.bound()).map_err(|e| match e {
        Error::Integrity { message, .. } => integrity(path, message),
        other => other,
    })
}

/// `header` re-wrapped for `to`: the same data key, chunks and trailer stay valid. `None`
/// when it already is `to`'s. Version-1 headers cannot be re-wrapped (their chunks are bound
/// to the key id).
pub(crate) fn rewrap(
    header: &[u8],
    from: &[&dyn KeyProvider],
    to: &dyn KeyProvider,
    path: &str,
) -> Result<Option<Header>> {
    let mut header = Header::parse(header).map_err(|m| integrity(path, m))?;
    if header.key_id == to.key_id() {
        return Ok(None);
    }
    if header.version == 1 {
        return Err(Error::not_supported(
            "encrypt",
            "rotating a version-1 object (its chunks are bound to the old key id): rewrite it instead",
        ));
    }
    let data_key = unwrap_from(&header, from, path)?;
    wrap_into(&mut header, to, &data_key)?;
    Ok(Some(header))
}
