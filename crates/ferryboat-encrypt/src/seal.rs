//! Sealing and opening one object's chunks.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use ferryboat_core::{Error, Result};

use crate::format::{Header, BOUND_LEN, TRAILER_INDEX};
use crate::keys::{DataKey, KeyProvider};

/// The cipher of one object, with its header.
pub(crate) struct Sealer {
    cipher: ChaCha20Poly1305,
    pub(crate) header: Header,
    bound: [u8; BOUND_LEN],
}

fn integrity(path: &str, message: impl Into<String>) -> Error {
    Error::Integrity { provider: "encrypt".into(), path: path.into(), message: message.into() }
}

impl Sealer {
    /// A fresh data key and header for a new object.
    pub(crate) fn new_object(keys: &dyn KeyProvider, chunk_size: u32) -> Result<Sealer> {
        let mut data_key: DataKey = DataKey::default();
        let mut nonce_prefix = [0u8; 8];
        getrandom::getrandom(data_key.as_mut())
            .and_then(|()| getrandom::getrandom(&mut nonce_prefix))
            .map_err(|e| Error::generic("encrypt", "", format!("no randomness: {e}"), None))?;
        let mut header =
            Header { chunk_size, nonce_prefix, key_id: keys.key_id(), wrap_nonce: [0; 12], wrapped_key: [0; 48] };
        let bound = header.bound();
        let (wrap_nonce, wrapped_key) = keys.wrap(&data_key, &bound)?;
        header.wrap_nonce = wrap_nonce;
        header.wrapped_key = wrapped_key;
        Ok(Sealer { cipher: ChaCha20Poly1305::new(Key::from_slice(data_key.as_ref())), header, bound })
    }

    /// The cipher of an existing object, from its header bytes.
    pub(crate) fn open_object(keys: &dyn KeyProvider, header: &[u8], path: &str) -> Result<Sealer> {
        let header = Header::parse(header).map_err(|m| integrity(path, m))?;
        let bound = header.bound();
        let data_key =
            keys.unwrap(&header.key_id, &header.wrap_nonce, &header.wrapped_key, &bound).map_err(|e| match e {
                Error::Integrity { message, .. } => integrity(path, message),
                other => other,
            })?;
        Ok(Sealer { cipher: ChaCha20Poly1305::new(Key::from_slice(data_key.as_ref())), header, bound })
    }

    pub(crate) fn seal_chunk(&self, index: u32, plain: &[u8]) -> Result<Vec<u8>> {
        self.cipher
            .encrypt(Nonce::from_slice(&self.header.nonce(index)), Payload { msg: plain, aad: &self.bound })
            .map_err(|_| Error::generic("encrypt", "", "chunk encryption failed", None))
    }

    pub(crate) fn open_chunk(&self, index: u32, sealed: &[u8], path: &str) -> Result<Vec<u8>> {
        self.cipher
            .decrypt(Nonce::from_slice(&self.header.nonce(index)), Payload { msg: sealed, aad: &self.bound })
            .map_err(|_| integrity(path, format!("chunk {index} failed authentication (tampered, moved or reordered)")))
    }

    fn trailer_aad(&self) -> Vec<u8> {
        let mut aad = self.bound.to_vec();
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
