//! Streaming uploads: any byte stream through multipart with bounded memory and concurrency.
//!
//! The framework owns part sizing, concurrency and per-part retry; a backend only knows how
//! to send one part (the idea OpenDAL's multipart writer is built on).

use bytes::{Bytes, BytesMut};
use futures::stream::{BoxStream, FuturesUnordered, StreamExt};

use crate::budget::{MemoryBudget, Reservation};
use crate::capabilities::Capabilities;
use crate::error::{Error, Result};
use crate::path::ObjectPath;
use crate::pressure;
use crate::resume::{resume_policy, retry_request};
use crate::retry::RetryPolicy;
use crate::store::{MultipartUpload, ObjectStore};
use crate::types::{PartInfo, PutOptions, PutResult};
use crate::window::Window;

const MIB: u64 = 1024 * 1024;

/// How [`ObjectStoreExt::put_stream`](crate::ObjectStoreExt::put_stream) uploads.
///
/// Parts go through a [`Window`] that starts at `concurrency` parts in flight and grows up to
/// `max_concurrency` while throughput rises (a long round trip), backing off when parts met
/// temporary failures ([`pressure`]). Peak memory is about `(max_concurrency + 1) × part size`, or
/// `(concurrency + 1) × part size` plus what [`UploadConfig::memory`] lends.
#[derive(Debug, Clone)]
pub struct UploadConfig {
    /// Preferred part size; raised to the store's minimum and as needed to fit its part cap.
    pub part_size: u64,
    /// Parts in flight at the start.
    pub concurrency: usize,
    /// The most parts in flight, however well the path takes more; at or below
    /// `concurrency`, the window is fixed.
    pub max_concurrency: usize,
    /// Where the parts beyond `concurrency` take their memory from: they start only while the
    /// budget has room for them. `None`: only `max_concurrency` bounds them.
    pub memory: Option<MemoryBudget>,
    /// The stream's total length, if known: lets part sizes be chosen exactly.
    pub expected_size: Option<u64>,
    /// Tries of each part's request for retryable errors (1 = no retry): a part cut on the
    /// way is sent again alone.
    pub part_attempts: u32,
}

impl Default for UploadConfig {
    fn default() -> Self {
        UploadConfig {
            part_size: 8 * MIB,
            concurrency: 4,
            max_concurrency: 16,
            memory: None,
            expected_size: None,
            part_attempts: 10,
        }
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
    let base = config.concurrency.max(1);
    let window = Window::new(base, config.max_concurrency.max(base));
    // Memory lent by the budget, one reservation per part in flight beyond `base`.
    let mut lent: Vec<Reservation> = Vec::new();
    let mut in_flight = FuturesUnordered::new();
    let mut parts = Vec::new();
    let mut number: u32 = 1;
    let mut finished = false;

    loop {
        let size = sizer.part_size(number) as usize;
        let allowed = allowed_parts(&window, base, config.memory.as_ref(), &mut lent, in_flight.len(), size);
        // Cut every full part (and, at the end, the rest) out of the buffer while the window
        // has room.
        while in_flight.len() < allowed {
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
            in_flight.push(send_part(upload, &window, number, part, config.part_attempts));
            number += 1;
        }
        // Read on while parts upload: the in-flight futures are driven only when polled, so
        // waiting on the source alone would stall them (and waiting on them alone, the source).
        let can_read = !finished && in_flight.len() < allowed;
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

/// Parts that may be in flight now: the window's size, beyond `base` only as far as memory
/// could be borrowed for them (and memory no longer needed goes back).
fn allowed_parts(
    window: &Window,
    base: usize,
    memory: Option<&MemoryBudget>,
    lent: &mut Vec<Reservation>,
    in_flight: usize,
    part_size: usize,
) -> usize {
    let wanted = window.sizes().0;
    let Some(memory) = memory else { return wanted };
    let extra = wanted.saturating_sub(base);
    while lent.len() < extra {
        match memory.try_reserve(part_size as u64) {
            Some(r) => lent.push(r),
            None => break,
        }
    }
    // Give back what neither the window nor the parts still in flight need.
    lent.truncate(extra.max(in_flight.saturating_sub(base)));
    // A window halved below its start is obeyed as it is without a budget.
    wanted.min(base) + lent.len().min(extra)
}

/// Sends one part through the window, alone again if it fails on the way (the parts already
/// accepted stay): `attempts` tries of this one request. A part whose requests absorbed a
/// temporary failure (here, or in the store's own retries) narrows the window.
async fn send_part(
    upload: &dyn MultipartUpload,
    window: &Window,
    number: u32,
    data: Bytes,
    attempts: u32,
) -> Result<PartInfo> {
    let slot = window.enter().await;
    let config = RetryPolicy { max_attempts: attempts.max(1), ..resume_policy() };
    let len = data.len() as u64;
    let request =
        retry_request(&config, upload.upload_id(), u64::from(number), || upload.put_part(number, data.clone()));
    let (result, absorbed) = pressure::watch(request).await;
    window.finish(slot, len, absorbed > 0);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1024 * MIB;
    const TIB: u64 = 1024 * GIB;

    fn caps(max_parts: u32, min: u64) -> Capabilities {
        Capabilities { multipart_max_parts: max_parts, multipart_min_part_size: min, ..Capabilities::default() }
    }

    /// An upload whose parts take `latency(parts in flight)` each, counting the most in flight.
    /// With `fail_first_try`, every part's first try fails temporarily.
    struct Slow<L> {
        latency: L,
        fail_first_try: bool,
        in_flight: std::sync::atomic::AtomicUsize,
        most: std::sync::atomic::AtomicUsize,
        tried: std::sync::Mutex<std::collections::HashSet<u32>>,
    }

    impl<L> std::fmt::Debug for Slow<L> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Slow")
        }
    }

    #[async_trait::async_trait]
    impl<L: Fn(usize) -> std::time::Duration + Send + Sync> MultipartUpload for Slow<L> {
        fn upload_id(&self) -> &str {
            "slow"
        }
        async fn put_part(&self, number: u32, data: Bytes) -> Result<PartInfo> {
            use std::sync::atomic::Ordering::SeqCst;
            let now = self.in_flight.fetch_add(1, SeqCst) + 1;
            self.most.fetch_max(now, SeqCst);
            tokio::time::sleep((self.latency)(now)).await;
            self.in_flight.fetch_sub(1, SeqCst);
            if self.fail_first_try && self.tried.lock().unwrap().insert(number) {
                return Err(Error::unavailable("slow", "k", "connection reset", None));
            }
            Ok(PartInfo { number, token: number.to_string(), size: data.len() as u64 })
        }
        async fn complete(self: Box<Self>, _parts: Vec<PartInfo>) -> Result<PutResult> {
            unreachable!("send_parts does not complete")
        }
        async fn abort(self: Box<Self>) -> Result<()> {
            unreachable!("send_parts does not abort")
        }
    }

    fn slow<L>(latency: L, fail_first_try: bool) -> Slow<L> {
        Slow { latency, fail_first_try, in_flight: 0.into(), most: 0.into(), tried: Default::default() }
    }

    /// Uploads `parts` parts of 1 MiB through `upload`; returns the most parts in flight.
    async fn upload_parts<L>(upload: &Slow<L>, parts: usize, config: &UploadConfig) -> usize
    where
        L: Fn(usize) -> std::time::Duration + Send + Sync,
    {
        let sizer = PartSizer::new(&caps(10_000, MIB), MIB, Some(parts as u64 * MIB)).unwrap();
        let chunk = Bytes::from(vec![7u8; 256 * 1024]);
        let mut data = futures::stream::iter((0..parts * 4).map(move |_| Ok(chunk.clone()))).boxed();
        let sent = send_parts(upload, &sizer, BytesMut::new(), &mut data, config).await.unwrap();
        assert_eq!(sent.len(), parts, "every part sent");
        assert!(sent.iter().enumerate().all(|(i, p)| p.number as usize == i + 1 && p.size == MIB));
        upload.most.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn window(start: usize, max: usize, memory: Option<MemoryBudget>) -> UploadConfig {
        UploadConfig { concurrency: start, max_concurrency: max, memory, part_attempts: 3, ..UploadConfig::default() }
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_long_round_trip_widens_the_part_window_to_its_maximum() {
        // 80 ms a part however many are in flight: throughput grows with the window.
        let upload = slow(|_| std::time::Duration::from_millis(80), false);
        assert_eq!(upload_parts(&upload, 200, &window(4, 16, None)).await, 16);
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_fixed_part_window_stays_fixed() {
        let upload = slow(|_| std::time::Duration::from_millis(80), false);
        assert_eq!(upload_parts(&upload, 200, &window(4, 4, None)).await, 4);
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_saturated_link_does_not_widen_the_part_window() {
        // A link that carries 100 MiB/s however many parts share it.
        let upload = slow(|n| std::time::Duration::from_millis(10 * n as u64), false);
        let most = upload_parts(&upload, 200, &window(4, 64, None)).await;
        assert!(most <= 8, "{most} parts in flight on a saturated link");
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn parts_beyond_the_start_borrow_memory_only_while_the_budget_has_room() {
        let latency = |_| std::time::Duration::from_millis(80);
        // Room for three more parts of 1 MiB.
        let budget = MemoryBudget::new(3 * MIB);
        let upload = slow(latency, false);
        assert_eq!(upload_parts(&upload, 200, &window(4, 16, Some(budget.clone()))).await, 7);
        assert!(budget.try_reserve(3 * MIB).is_some(), "the borrowed memory went back");
        // Another copy holds the whole budget: the window stays at its start.
        let held = budget.reserve(3 * MIB).await;
        let upload = slow(latency, false);
        assert_eq!(upload_parts(&upload, 200, &window(4, 16, Some(budget.clone()))).await, 4);
        drop(held);
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn parts_sent_again_narrow_the_part_window() {
        // Every part's first try fails: the window halves instead of growing, and each part
        // still gets through on its next try.
        let upload = slow(|_| std::time::Duration::from_millis(80), true);
        let most = upload_parts(&upload, 100, &window(8, 64, None)).await;
        assert!(most <= 8, "grew to {most} while every part had to be sent again");
        let upload = slow(|_| std::time::Duration::from_millis(80), false);
        assert!(upload_parts(&upload, 100, &window(8, 64, None)).await > 8, "the same path without failures grows");
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
