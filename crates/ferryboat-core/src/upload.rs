//! Streaming uploads: any byte stream through multipart with bounded memory and concurrency.
//!
//! The framework owns part sizing, concurrency and per-part retry; a backend only knows how
//! to send one part (the idea OpenDAL's multipart writer is built on).

use bytes::{Bytes, BytesMut};
use futures::stream::{BoxStream, FuturesUnordered, StreamExt};

use crate::capabilities::Capabilities;
use crate::error::{Error, Result};
use crate::path::ObjectPath;
use crate::resume::{resume_policy, retry_request};
use crate::retry::RetryPolicy;
use crate::store::{MultipartUpload, ObjectStore};
use crate::types::{PartInfo, PutOptions, PutResult};

const MIB: u64 = 1024 * 1024;

/// How [`ObjectStoreExt::put_stream`](crate::ObjectStoreExt::put_stream) uploads.
///
/// Peak memory is about `(concurrency + 1) × part size`.
#[derive(Debug, Clone)]
pub struct UploadConfig {
    /// Preferred part size; raised to the store's minimum and as needed to fit its part cap.
    pub part_size: u64,
    /// Parts in flight at once.
    pub concurrency: usize,
    /// The stream's total length, if known: lets part sizes be chosen exactly.
    pub expected_size: Option<u64>,
    /// Tries of each part's request for retryable errors (1 = no retry): a part cut on the
    /// way is sent again alone.
    pub part_attempts: u32,
}

impl Default for UploadConfig {
    fn default() -> Self {
        UploadConfig { part_size: 8 * MIB, concurrency: 4, expected_size: None, part_attempts: 10 }
    }
}

/// Chooses the size of each part of an upload under a store's limits.
///
/// With a known total size every part has one size, the smallest multiple of 1 MiB at or above
/// the preferred size that fits the store's part cap. With an unknown size, parts grow
/// geometrically in equal-count groups so that small streams use small parts (and little
/// memory) while 95 % of the largest object the store accepts still fits in its part cap,
/// except on a store that needs equal parts ([`Capabilities::multipart_uniform_parts`]),
/// where an unknown size is capped at the preferred size × the part cap. Give the size when
/// you know it (the mirror always does).
///
/// ```
/// use ferryboat_core::{Capabilities, upload::PartSizer};
/// let caps = Capabilities::default(); // 10,000 parts of 5 MiB..5 GiB
/// let sizer = PartSizer::new(&caps, 8 << 20, None).unwrap();
/// assert_eq!(sizer.part_size(1), 8 << 20);
/// assert!(sizer.capacity() >= 5u64 << 40);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartSizer {
    base: u64,
    max_part: u64,
    max_parts: u32,
    /// Parts per doubling; `None` means every part has the base size.
    group: Option<u32>,
}

impl PartSizer {
    /// Plans parts for a store with `caps`, a preferred part size, and the total if known.
    pub fn new(caps: &Capabilities, preferred: u64, expected_size: Option<u64>) -> Result<Self> {
        let min = caps.multipart_min_part_size.max(1);
        let max_part = caps.multipart_max_part_size.max(min);
        let max_parts = caps.multipart_max_parts.max(1);
        let round_up = |n: u64| n.div_ceil(MIB).max(1) * MIB;
        let base = round_up(preferred.max(min)).min(max_part).max(min);
        if let Some(total) = expected_size {
            if total > caps.max_object_size {
                return Err(Error::invalid_config(format!(
                    "object of {total} bytes exceeds the store's limit of {} bytes",
                    caps.max_object_size
                )));
            }
            let needed = round_up(total.div_ceil(max_parts as u64)).min(max_part);
            let size = base.max(needed);
            if size.saturating_mul(max_parts as u64) < total {
                return Err(Error::invalid_config(format!(
                    "object of {total} bytes cannot fit in {max_parts} parts of at most {max_part} bytes"
                )));
            }
            return Ok(PartSizer { base: size, max_part, max_parts, group: None });
        }
        if caps.multipart_uniform_parts {
            // Growing parts would be refused; the cap is what equal parts can hold.
            return Ok(PartSizer { base, max_part, max_parts, group: None });
        }
        // Unknown size: parts double in equal-count groups. Halve the group length (then
        // raise the first part) until the schedule holds 95 % of the largest object the store
        // takes, or of what its part cap allows if that is less: all of it would need every
        // part at the maximum size, and so the maximum memory, from the first byte.
        let target = caps.max_object_size.min(max_part.saturating_mul(max_parts as u64)) / 100 * 95;
        let mut base = base;
        let mut group = (max_parts / 10).max(1);
        loop {
            let sizer = PartSizer { base, max_part, max_parts, group: Some(group) };
            if sizer.capacity() >= target || base >= max_part {
                return Ok(sizer);
            }
            if group > 1 {
                group = (group / 2).max(1);
            } else {
                base = base.saturating_mul(2).min(max_part);
                group = (max_parts / 10).max(1);
            }
        }
    }

    /// Size of part `number` (1-based).
    pub fn part_size(&self, number: u32) -> u64 {
        match self.group {
            None => self.base,
            Some(group) => {
                let doublings = ((number.saturating_sub(1)) / group).min(40);
                self.base.saturating_mul(1u64 << doublings).min(self.max_part)
            }
        }
    }

    /// Bytes the whole schedule can hold.
    pub fn capacity(&self) -> u64 {
        match self.group {
            None => self.base.saturating_mul(self.max_parts as u64),
            Some(_) => (1..=self.max_parts).map(|n| self.part_size(n)).fold(0u64, u64::saturating_add),
        }
    }

    /// Most parts the schedule may use.
    pub fn max_parts(&self) -> u32 {
        self.max_parts
    }
}

/// Uploads `data` to `path` (see [`ObjectStoreExt::put_stream`](crate::ObjectStoreExt::put_stream)).
pub async fn upload_stream<S: ObjectStore + ?Sized>(
    store: &S,
    path: &ObjectPath,
    mut data: BoxStream<'static, Result<Bytes>>,
    opts: PutOptions,
    config: &UploadConfig,
) -> Result<PutResult> {
    let caps = store.capabilities();
    let sizer = PartSizer::new(caps, config.part_size, config.expected_size)?;
    let mut buf = BytesMut::new();
    let first = sizer.part_size(1) as usize;

    // Small objects go in one request: fill at most one part before deciding.
    while buf.len() < first {
        match data.next().await {
            Some(chunk) => buf.extend_from_slice(&chunk?),
            None => return store.put_opts(path, buf.freeze(), opts).await,
        }
    }
    if !caps.multipart {
        return Err(Error::not_supported(
            &store.info().provider,
            format!("multipart upload (stream is larger than {first} bytes)"),
        ));
    }

    let upload = store.put_multipart_opts(path, opts).await?;
    match send_parts(upload.as_ref(), &sizer, buf, &mut data, config).await {
        Ok(parts) => upload.complete(parts).await,
        Err(e) => {
            if let Err(abort) = upload.abort().await {
                tracing::warn!(path = %path, error = %abort, "aborting a failed multipart upload failed");
            }
            Err(e)
        }
    }
}

async fn send_parts(
    upload: &dyn MultipartUpload,
    sizer: &PartSizer,
    mut buf: BytesMut,
    data: &mut BoxStream<'static, Result<Bytes>>,
    config: &UploadConfig,
) -> Result<Vec<PartInfo>> {
    let concurrency = config.concurrency.max(1);
    let mut in_flight = FuturesUnordered::new();
    let mut parts = Vec::new();
    let mut number: u32 = 1;
    let mut finished = false;

    loop {
        // Cut every full part (and, at the end, the rest) out of the buffer while fewer than
        // `concurrency` are in flight.
        while in_flight.len() < concurrency {
            let size = sizer.part_size(number) as usize;
            if !(buf.len() >= size || (finished && !buf.is_empty())) {
                break;
            }
            if number > sizer.max_parts() {
                return Err(Error::invalid_config(format!(
                    "stream needs more than {} parts; give UploadConfig::expected_size or a larger part_size",
                    sizer.max_parts()
                )));
            }
            let part = buf.split_to(size.min(buf.len())).freeze();
            in_flight.push(send_part(upload, number, part, config.part_attempts));
            number += 1;
        }
        // Read on while parts upload: the in-flight futures are driven only when polled, so
        // waiting on the source alone would stall them (and waiting on them alone, the source).
        let can_read = !finished && in_flight.len() < concurrency;
        tokio::select! {
            biased;
            Some(done) = in_flight.next(), if !in_flight.is_empty() => parts.push(done?),
            chunk = data.next(), if can_read => match chunk {
                Some(chunk) => buf.extend_from_slice(&chunk?),
                None => finished = true,
            },
            else => break,
        }
    }
    parts.sort_by_key(|p: &PartInfo| p.number);
    Ok(parts)
}

/// Sends one part, alone again if it fails on the way (the parts already accepted stay):
/// `attempts` tries of this one request.
async fn send_part(upload: &dyn MultipartUpload, number: u32, data: Bytes, attempts: u32) -> Result<PartInfo> {
    let config = RetryPolicy { max_attempts: attempts.max(1), ..resume_policy() };
    retry_request(&config, upload.upload_id(), u64::from(number), || upload.put_part(number, data.clone())).await
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1024 * MIB;
    const TIB: u64 = 1024 * GIB;

    fn caps(max_parts: u32, min: u64) -> Capabilities {
        Capabilities { multipart_max_parts: max_parts, multipart_min_part_size: min, ..Capabilities::default() }
    }

    #[test]
    fn unknown_size_fits_the_largest_object_under_common_part_caps() {
        for max_parts in [10_000, 1_000, 100] {
            let c = caps(max_parts, 5 * MIB);
            let s = PartSizer::new(&c, 8 * MIB, None).unwrap();
            // Growing from small parts costs a little of the cap's room: within 5 % of it.
            let most = (5 * TIB).min(max_parts as u64 * 5 * GIB);
            assert!(s.capacity() >= most / 100 * 95, "{max_parts}: {}", s.capacity());
            if max_parts >= 1_000 {
                assert_eq!(s.part_size(1), 8 * MIB, "small streams start small");
            }
            assert!((1..=max_parts).all(|n| s.part_size(n) <= c.multipart_max_part_size));
        }
        let s3 = PartSizer::new(&caps(10_000, 5 * MIB), 8 * MIB, None).unwrap();
        assert!(s3.capacity() >= 5 * TIB);
    }

    #[test]
    fn uniform_parts_never_grow() {
        let mut c = caps(10_000, 5 * MIB);
        c.multipart_uniform_parts = true;
        let s = PartSizer::new(&c, 8 * MIB, None).unwrap();
        assert!((1..=10_000).all(|n| s.part_size(n) == 8 * MIB), "every part 8 MiB");
        assert_eq!(s.capacity(), 80_000 * MIB);
        // Without the flag, the same store grows its parts to reach 5 TiB.
        c.multipart_uniform_parts = false;
        let grown = PartSizer::new(&c, 8 * MIB, None).unwrap();
        assert!(grown.part_size(10_000) > 8 * MIB);
        // A known size still picks one size that fits.
        c.multipart_uniform_parts = true;
        let known = PartSizer::new(&c, 8 * MIB, Some(200 << 30)).unwrap();
        assert!(known.part_size(1) == known.part_size(9_999) && known.capacity() >= 200 << 30);
    }

    #[test]
    fn known_size_uses_one_part_size_within_limits() {
        let c = caps(1_000, 5 * MIB);
        let total = 4 * TIB + 900 * GIB;
        let s = PartSizer::new(&c, 8 * MIB, Some(total)).unwrap();
        assert!(s.part_size(1) * 1_000 >= total);
        assert_eq!(s.part_size(1), s.part_size(999));
        assert!(s.part_size(1) <= 5 * GIB);
        let small = PartSizer::new(&c, 8 * MIB, Some(100 * MIB)).unwrap();
        assert_eq!(small.part_size(1), 8 * MIB);
    }

    #[test]
    fn impossible_sizes_are_clear_errors() {
        let c = caps(1_000, 5 * MIB);
        let err = PartSizer::new(&c, 8 * MIB, Some(6 * TIB)).unwrap_err();
        assert!(err.to_string().contains("exceeds the store's limit"), "{err}");
        // 1,000 parts of at most 5 GiB hold less than 5 TiB.
        let err = PartSizer::new(&c, 8 * MIB, Some(5 * TIB)).unwrap_err();
        assert!(err.to_string().contains("cannot fit in 1000 parts"), "{err}");
    }

    #[test]
    fn preferred_size_is_raised_to_the_minimum() {
        let c = caps(10_000, 16 * MIB);
        assert_eq!(PartSizer::new(&c, MIB, Some(10 * MIB)).unwrap().part_size(1), 16 * MIB);
    }
}
