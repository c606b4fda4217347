//! Streaming decryption: sealed chunks in, plaintext out, one chunk in memory at a time.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use ferryboat_core::{Error, Result};
use futures::stream::{self, BoxStream, StreamExt};

use crate::format::{Layout, TAG_LEN, TRAILER_LEN};
use crate::seal::Sealer;

/// What to decrypt from a ciphertext body positioned at the start of chunk `chunks.start`.
pub(crate) struct Decrypt {
    pub(crate) sealer: Arc<Sealer>,
    pub(crate) layout: Layout,
    pub(crate) path: String,
    pub(crate) body: BoxStream<'static, Result<Bytes>>,
    /// Ciphertext already read from `body`.
    pub(crate) buf: BytesMut,
    pub(crate) chunks: std::ops::Range<u64>,
    /// Plaintext bytes to drop from the front of the first chunk.
    pub(crate) skip: u64,
    /// Plaintext bytes to yield in all.
    pub(crate) take: u64,
    /// Whether the body runs on to the trailer, which is then checked.
    pub(crate) trailer: bool,
}

impl Decrypt {
    fn integrity(&self, message: impl Into<String>) -> Error {
        Error::Integrity {
            provider: "encrypt".into(),
            path: self.path.clone(),
            message: message.into(),
            details: Default::default(),
        }
    }

    /// Reads until `buf` holds `n` bytes; false if the body ended first.
    async fn fill(&mut self, n: usize) -> Result<bool> {
        while self.buf.len() < n {
            match self.body.next().await {
                Some(chunk) => self.buf.extend_from_slice(&chunk?),
                None => return Ok(false),
            }
        }
        Ok(true)
    }

    async fn next_plain(&mut self) -> Option<Result<Bytes>> {
        while self.chunks.start < self.chunks.end {
            let index = self.chunks.start;
            let sealed_len = (self.layout.chunk_plain_len(index) + TAG_LEN) as usize;
            match self.fill(sealed_len).await {
                Ok(true) => {}
                Ok(false) => return Some(Err(self.integrity(format!("ciphertext ends inside chunk {index}")))),
                Err(e) => return Some(Err(e)),
            }
            let sealed = self.buf.split_to(sealed_len);
            let Ok(index32) = u32::try_from(index) else {
                return Some(Err(self.integrity("more chunks than the format allows")));
            };
            let mut plain = match self.sealer.open_chunk(index32, &sealed, &self.path) {
                Ok(p) => Bytes::from(p),
                Err(e) => return Some(Err(e)),
            };
            self.chunks.start += 1;
            let skip = self.skip.min(plain.len() as u64) as usize;
            self.skip -= skip as u64;
            plain = plain.slice(skip..);
            let keep = self.take.min(plain.len() as u64) as usize;
            self.take -= keep as u64;
            if keep > 0 {
                return Some(Ok(plain.slice(..keep)));
            }
        }
        if self.trailer {
            self.trailer = false;
            match self.fill(TRAILER_LEN as usize).await {
                Ok(true) => {}
                Ok(false) => return Some(Err(self.integrity("ciphertext ends before its trailer"))),
                Err(e) => return Some(Err(e)),
            }
            let sealed = self.buf.split_to(TRAILER_LEN as usize);
            if let Err(e) = self.sealer.check_trailer(&sealed, self.layout.plain_len, &self.path) {
                return Some(Err(e));
            }
            match self.fill(1).await {
                Ok(false) => {}
                Ok(true) => return Some(Err(self.integrity("bytes after the trailer"))),
                Err(e) => return Some(Err(e)),
            }
        }
        None
    }

    pub(crate) fn into_stream(self) -> BoxStream<'static, Result<Bytes>> {
        stream::unfold(Some(self), |state| async move {
            let mut d = state?;
            match d.next_plain().await {
                Some(Ok(bytes)) => Some((Ok(bytes), Some(d))),
                Some(Err(e)) => Some((Err(e), None)),
                None => None,
            }
        })
        .boxed()
    }
}
