//! A memory budget shared by transfers: bytes held in buffers at once, counted in KiB.
//!
//! The mirror reserves what each copy may buffer before it reads a byte; an upload given the
//! same budget ([`UploadConfig::memory`](crate::UploadConfig::memory)) takes a part beyond
//! its starting window only while the budget has room for it, so a window that grows never
//! takes memory another copy is waiting for.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Bytes that may be held at once by everyone sharing it (clones share one budget).
///
/// ```
/// use ferryboat_core::budget::MemoryBudget;
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let budget = MemoryBudget::new(16 << 20);
/// let held = budget.reserve(10 << 20).await;
/// assert!(budget.try_reserve(8 << 20).is_none(), "6 MiB left");
/// drop(held);
/// assert!(budget.try_reserve(8 << 20).is_some());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct MemoryBudget {
    permits: Arc<Semaphore>,
    total_kib: u32,
}

/// Bytes taken from a [`MemoryBudget`]; given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    _permit: OwnedSemaphorePermit,
}

impl MemoryBudget {
    /// A budget of `bytes` (at least 1 KiB; at most 4 TiB).
    pub fn new(bytes: u64) -> MemoryBudget {
        let total_kib = u32::try_from(bytes / 1024).unwrap_or(u32::MAX).max(1);
        MemoryBudget { permits: Arc::new(Semaphore::new(total_kib as usize)), total_kib }
    }

    /// The whole budget, in bytes.
    pub fn total(&self) -> u64 {
        u64::from(self.total_kib) * 1024
    }

    fn kib(&self, bytes: u64) -> u32 {
        // More than the whole budget would wait forever: such a request takes all of it.
        bytes.div_ceil(1024).clamp(1, u64::from(self.total_kib)) as u32
    }

    /// Waits until `bytes` (at most the whole budget) are free and takes them.
    pub async fn reserve(&self, bytes: u64) -> Reservation {
        let permit = self.permits.clone().acquire_many_owned(self.kib(bytes)).await;
        // The semaphore is never closed.
        Reservation { _permit: permit.expect("a memory budget is never closed") }
    }

    /// Takes `bytes` if they are free now.
    pub fn try_reserve(&self, bytes: u64) -> Option<Reservation> {
        self.permits.clone().try_acquire_many_owned(self.kib(bytes)).ok().map(|p| Reservation { _permit: p })
    }
}
