//! The ciphertext format: a header, fixed-size sealed chunks, and a sealed trailer.
//!
//! ```text
//! header (96 bytes)
//!   magic "FERRYE02" | chunk size u32 LE | nonce prefix [8] | key id [16]
//!   | wrap nonce [12] | wrapped data key [32 + 16 tag]
//!   the data key is wrapped with aad = header[..36] (so the wrap names its key)
//! content aad = header[..20] || object key (UTF-8, as the encrypting store sees it)
//! chunk i (chunk size + 16 bytes; the last may be shorter)
//!   ChaCha20-Poly1305(data key, nonce = prefix || i as u32 BE, aad = content aad)
//! trailer (24 bytes)
//!   ChaCha20-Poly1305(data key, nonce = prefix || 0xFFFFFFFF, aad = content aad || "final",
//!                     plaintext = total plaintext length u64 LE)
//! ```
//!
//! The chunk index in the nonce makes reordering or moving chunks fail authentication; the
//! trailer makes truncation at a chunk boundary fail; the object key in the content aad makes
//! an object moved or swapped to another key fail. The key id is outside the content aad, so
//! rotating the user's key rewrites only the header (a new wrap), never a chunk. Sizes are
//! invertible, so listings can report plaintext sizes from ciphertext sizes without reading.
//!
//! Objects written by version 1 (`FERRYE01`: chunks bound to header[..36], no object key)
//! are still read; they cannot be rotated, since their chunks are bound to the old key id.

use std::ops::Range;

/// Bytes of the header.
pub const HEADER_LEN: u64 = 96;
/// Bytes of the sealed trailer.
pub const TRAILER_LEN: u64 = 24;
/// Authentication tag bytes per sealed chunk.
pub const TAG_LEN: u64 = 16;
/// The format's magic bytes.
pub const MAGIC: &[u8; 8] = b"FERRYE02";
/// The first format's magic bytes: read, never written.
pub const MAGIC_V1: &[u8; 8] = b"FERRYE01";
/// Bytes of the header the key wrap authenticates (magic, chunk size, nonce prefix, key id).
pub const BOUND_LEN: usize = 36;
/// Bytes of the header every chunk authenticates, with the object key (magic, chunk size,
/// nonce prefix).
pub const CONTENT_BOUND_LEN: usize = 20;
/// Chunk index reserved for the trailer's nonce.
pub const TRAILER_INDEX: u32 = u32::MAX;

/// The header, parsed.
#[derive(Clone, PartialEq, Eq)]
pub struct Header {
    /// Plaintext bytes per chunk.
    pub chunk_size: u32,
    /// Format version: 1 or 2.
    pub version: u8,
    /// Per-object random nonce prefix.
    pub nonce_prefix: [u8; 8],
    /// Which key wrapped the data key.
    pub key_id: [u8; 16],
    /// Nonce of the key wrapping.
    pub wrap_nonce: [u8; 12],
    /// The data key, sealed by the key provider.
    pub wrapped_key: [u8; 48],
}

impl std::fmt::Debug for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Header").field("chunk_size", &self.chunk_size).finish_non_exhaustive()
    }
}

impl Header {
    /// Serialises the header.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN as usize] {
        let mut out = [0u8; HEADER_LEN as usize];
        out[..8].copy_from_slice(if self.version == 1 { MAGIC_V1 } else { MAGIC });
        out[8..12].copy_from_slice(&self.chunk_size.to_le_bytes());
        out[12..20].copy_from_slice(&self.nonce_prefix);
        out[20..36].copy_from_slice(&self.key_id);
        out[36..48].copy_from_slice(&self.wrap_nonce);
        out[48..96].copy_from_slice(&self.wrapped_key);
        out
    }

    /// Parses a header, or says what is wrong with it.
    pub fn parse(bytes: &[u8]) -> Result<Header, String> {
        if bytes.len() < HEADER_LEN as usize {
            return Err(format!("header is {} bytes, expected {HEADER_LEN}", bytes.len()));
        }
        let version = match &bytes[..8] {
            m if m == MAGIC => 2,
            m if m == MAGIC_V1 => 1,
            _ => return Err("not a ferry-encrypted object (bad magic)".to_string()),
        };
        let chunk_size = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if chunk_size == 0 {
            return Err("chunk size 0".to_string());
        }
        let mut h = Header {
            version,
            chunk_size,
            nonce_prefix: [0; 8],
            key_id: [0; 16],
            wrap_nonce: [0; 12],
            wrapped_key: [0; 48],
        };
        h.nonce_prefix.copy_from_slice(&bytes[12..20]);
        h.key_id.copy_from_slice(&bytes[20..36]);
        h.wrap_nonce.copy_from_slice(&bytes[36..48]);
        h.wrapped_key.copy_from_slice(&bytes[48..96]);
        Ok(h)
    }

    /// The authenticated data of the key wrap.
    pub fn bound(&self) -> [u8; BOUND_LEN] {
        let mut out = [0u8; BOUND_LEN];
        out.copy_from_slice(&self.to_bytes()[..BOUND_LEN]);
        out
    }

    /// The authenticated data of every chunk of the object at `path` (the trailer adds
    /// `"final"`).
    pub fn content_aad(&self, path: &str) -> Vec<u8> {
        if self.version == 1 {
            return self.bound().to_vec();
        }
        let mut aad = self.to_bytes()[..CONTENT_BOUND_LEN].to_vec();
        aad.extend_from_slice(path.as_bytes());
        aad
    }

    /// The nonce of chunk `index`.
    pub fn nonce(&self, index: u32) -> [u8; 12] {
        let mut n = [0u8; 12];
        n[..8].copy_from_slice(&self.nonce_prefix);
        n[8..].copy_from_slice(&index.to_be_bytes());
        n
    }
}

/// Where things are in an object of a given plaintext size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Plaintext bytes per chunk.
    pub chunk_size: u64,
    /// Plaintext size.
    pub plain_len: u64,
}

impl Layout {
    /// Sealed bytes per full chunk.
    pub fn sealed_chunk(&self) -> u64 {
        self.chunk_size + TAG_LEN
    }

    /// Number of chunks.
    pub fn chunks(&self) -> u64 {
        self.plain_len.div_ceil(self.chunk_size)
    }

    /// Ciphertext size.
    pub fn cipher_len(&self) -> u64 {
        HEADER_LEN + self.plain_len + self.chunks() * TAG_LEN + TRAILER_LEN
    }

    /// The plaintext size of a ciphertext of `cipher_len` bytes, or `None` if no plaintext
    /// encrypts to that size (the object is not ours, or was cut).
    pub fn from_cipher_len(chunk_size: u64, cipher_len: u64) -> Option<Layout> {
        let body = cipher_len.checked_sub(HEADER_LEN + TRAILER_LEN)?;
        let sealed = chunk_size + TAG_LEN;
        let (full, rem) = (body / sealed, body % sealed);
        let plain_len = match rem {
            0 => full * chunk_size,
            r if r > TAG_LEN => full * chunk_size + r - TAG_LEN,
            _ => return None,
        };
        Some(Layout { chunk_size, plain_len })
    }

    /// The chunks covering plaintext `range`, and the ciphertext bytes holding them.
    pub fn chunks_for(&self, range: &Range<u64>) -> (Range<u64>, Range<u64>) {
        let first = range.start / self.chunk_size;
        let last = range.end.saturating_sub(1) / self.chunk_size;
        let start = HEADER_LEN + first * self.sealed_chunk();
        let end = (HEADER_LEN + (last + 1) * self.sealed_chunk()).min(self.cipher_len() - TRAILER_LEN);
        (first..last + 1, start..end)
    }

    /// Plaintext bytes in chunk `index`.
    pub fn chunk_plain_len(&self, index: u64) -> u64 {
        (self.plain_len - index * self.chunk_size).min(self.chunk_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_invert_for_every_length_around_chunk_boundaries() {
        let c = 64;
        for plain_len in 0..(c * 5 + 3) {
            let layout = Layout { chunk_size: c, plain_len };
            let back = Layout::from_cipher_len(c, layout.cipher_len());
            assert_eq!(back, Some(layout), "plain length {plain_len}");
        }
        assert_eq!(Layout::from_cipher_len(c, HEADER_LEN + TRAILER_LEN + 10), None, "a 10-byte chunk cannot exist");
        assert_eq!(Layout::from_cipher_len(c, 5), None);
    }

    #[test]
    fn ranges_map_to_whole_chunks() {
        let l = Layout { chunk_size: 100, plain_len: 250 };
        assert_eq!(l.chunks_for(&(0..1)), (0..1, HEADER_LEN..HEADER_LEN + 116));
        assert_eq!(l.chunks_for(&(150..250)), (1..3, HEADER_LEN + 116..HEADER_LEN + 116 * 2 + 66));
        assert_eq!(l.chunk_plain_len(2), 50);
    }

    #[test]
    fn headers_round_trip_and_reject_garbage() {
        let h = Header {
            version: 2,
            chunk_size: 7,
            nonce_prefix: [1; 8],
            key_id: [2; 16],
            wrap_nonce: [3; 12],
            wrapped_key: [4; 48],
        };
        assert_eq!(Header::parse(&h.to_bytes()).unwrap(), h);
        assert!(Header::parse(b"short").unwrap_err().contains("96"));
        let mut bad = h.to_bytes();
        bad[0] = b'X';
        assert!(Header::parse(&bad).unwrap_err().contains("magic"));
    }
}
