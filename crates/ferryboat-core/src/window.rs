//! How many transfers run at once: a window that finds its own size.
//!
//! The best number of requests in flight depends on the path: on a LAN a few dozen keep both
//! servers busy, across an 80 ms round trip small objects need several hundred in flight to
//! fill the same time. A fixed number cannot know which; this window measures instead. The
//! mirror runs its copies through one, [`put_stream`](crate::ObjectStoreExt::put_stream) the
//! parts of an upload. It starts at a given size and, one window's worth of finished tasks
//! at a time (an epoch), compares the throughput with the epoch before:
//!
//! - while doubling the window raises throughput by a fifth or more, it doubles again (up to
//!   its maximum); when a doubling nearly doubled throughput (×1.8), the path is all latency
//!   and the window quadruples, so that a short run across a long round trip reaches its
//!   size in few epochs;
//! - once it does not, the window goes back to the smaller of the last two sizes unless the
//!   larger was clearly (5 %) faster, and holds;
//! - while holding, every few epochs it tries half as many again and keeps them only if
//!   throughput rises by a tenth, so a run whose objects or path change can still grow;
//! - tasks that failed temporarily on the way (throttled, timed out, refused — even where a
//!   retry then got them through, as [`pressure`](crate::pressure) tells) halve the window,
//!   at most once an epoch, once they are more than one in twenty of a window's worth: a
//!   server saying "slow down" is heard at once, while the odd reset of a long path does not
//!   shrink a wide window.
//!
//! Throughput is counted in work units, one per task plus one per MiB, so that a run of
//! small objects is measured in objects a second and one of large objects (or parts) in
//! bytes. The window bounds requests, not memory: its users bound memory on their own (the
//! mirror's byte budget, an upload's [`MemoryBudget`](crate::budget::MemoryBudget)).
//!
//! ```
//! use ferryboat_core::window::Window;
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let window = Window::new(4, 16);
//! let slot = window.enter().await;
//! // ... one transfer of 8 MiB ...
//! window.finish(slot, 8 << 20, false);
//! assert_eq!(window.sizes(), (4, 4)); // one task is not an epoch yet
//! # }
//! ```

use std::sync::Mutex;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// A doubling is kept when it raises throughput by this factor.
const DOUBLING_GAIN: f64 = 1.2;
/// A doubling that raised throughput by this factor is followed by a quadrupling.
const LINEAR_GAIN: f64 = 1.8;
/// After growth stops, the larger of the last two sizes is kept only if it was this much
/// faster.
const KEEP_GAIN: f64 = 1.05;
/// A probe (half as many again) is kept when it raises throughput by this factor.
const PROBE_GAIN: f64 = 1.1;
/// Epochs held before a probe.
const HOLD_EPOCHS: u32 = 4;
/// Temporary failures, as a share of the window, that halve it.
const BACKOFF_SHARE: f64 = 0.05;
/// Shortest epoch measured: below this, timer and scheduling noise dominate.
const MIN_EPOCH_SECS: f64 = 0.02;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Doubling while it pays.
    Growing,
    /// Holding; a probe after [`HOLD_EPOCHS`].
    Holding { epochs: u32 },
    /// Trying a larger window; `from` is the size to go back to, `rate` its throughput.
    Probing { from: usize, rate: f64 },
}

#[derive(Debug)]
struct Control {
    limit: usize,
    /// Permits to drop instead of returning, after a shrink larger than the free permits.
    debt: usize,
    started: Instant,
    work: f64,
    finished: usize,
    /// The previous epoch's window and throughput.
    last: Option<(usize, f64)>,
    phase: Phase,
    /// Tasks that failed temporarily this epoch.
    temporary: usize,
    /// Temporary failures already halved the window this epoch.
    backed_off: bool,
    /// The largest window used, for the report.
    peak: usize,
}

/// The window (see the module docs). Fixed when `start == max`.
#[derive(Debug)]
pub struct Window {
    permits: Semaphore,
    max: usize,
    fixed: bool,
    control: Mutex<Control>,
}

/// One task's place in the window; hand it back with [`Window::finish`].
#[derive(Debug)]
pub struct Slot<'a>(SemaphorePermit<'a>);

impl Window {
    /// A window of `start` tasks that may grow to `max` (`start` when lower); at least 1.
    pub fn new(start: usize, max: usize) -> Window {
        let start = start.max(1);
        let max = max.max(start);
        Window {
            permits: Semaphore::new(start),
            max,
            fixed: max == start,
            control: Mutex::new(Control {
                limit: start,
                debt: 0,
                started: Instant::now(),
                work: 0.0,
                finished: 0,
                last: None,
                phase: Phase::Growing,
                temporary: 0,
                backed_off: false,
                peak: start,
            }),
        }
    }

    /// The most tasks that may run at once, whatever the window grows to.
    pub fn max(&self) -> usize {
        self.max
    }

    /// The window's size now, and the largest it reached.
    pub fn sizes(&self) -> (usize, usize) {
        self.control.lock().map(|c| (c.limit, c.peak)).unwrap_or((0, 0))
    }

    /// Waits for room in the window.
    pub async fn enter(&self) -> Slot<'_> {
        // The semaphore is never closed.
        Slot(self.permits.acquire().await.expect("the window is never closed"))
    }

    /// A task left the window: `bytes` moved, and whether an attempt failed temporarily.
    pub fn finish(&self, slot: Slot<'_>, bytes: u64, temporary_failure: bool) {
        let Ok(mut c) = self.control.lock() else { return };
        if c.debt > 0 {
            c.debt -= 1;
            slot.0.forget();
        } else {
            drop(slot);
        }
        if self.fixed {
            return;
        }
        c.work += 1.0 + bytes as f64 / (1024.0 * 1024.0);
        c.finished += 1;
        c.temporary += usize::from(temporary_failure);
        if temporary_failure && !c.backed_off && c.temporary as f64 > c.limit as f64 * BACKOFF_SHARE {
            let half = (c.limit / 2).max(1);
            self.resize(&mut c, half);
            c.backed_off = true;
            c.phase = Phase::Holding { epochs: 0 };
            self.new_epoch(&mut c, None);
            return;
        }
        let secs = c.started.elapsed().as_secs_f64();
        if c.finished < c.limit || secs < MIN_EPOCH_SECS {
            return;
        }
        let rate = c.work / secs;
        let limit = c.limit;
        match (c.phase, c.last) {
            (Phase::Growing, Some((prev, prev_rate))) if rate < prev_rate * DOUBLING_GAIN => {
                // A larger window that gives no more keeps its connections and the servers
                // busy for nothing: the smaller one stays unless the larger clearly paid.
                if rate < prev_rate * KEEP_GAIN {
                    self.resize(&mut c, prev);
                }
                c.phase = Phase::Holding { epochs: 0 };
            }
            (Phase::Growing, Some((_, prev_rate))) if rate >= prev_rate * LINEAR_GAIN => {
                self.resize(&mut c, limit.saturating_mul(4))
            }
            (Phase::Growing, _) => self.resize(&mut c, limit.saturating_mul(2)),
            (Phase::Holding { epochs }, _) if epochs + 1 >= HOLD_EPOCHS && limit < self.max => {
                c.phase = Phase::Probing { from: limit, rate };
                self.resize(&mut c, limit + limit.div_ceil(2));
            }
            (Phase::Holding { epochs }, _) => c.phase = Phase::Holding { epochs: epochs + 1 },
            (Phase::Probing { from, rate: before }, _) => {
                if rate < before * PROBE_GAIN {
                    self.resize(&mut c, from);
                }
                c.phase = Phase::Holding { epochs: 0 };
            }
        }
        self.new_epoch(&mut c, Some((limit, rate)));
    }

    fn new_epoch(&self, c: &mut Control, measured: Option<(usize, f64)>) {
        c.last = measured;
        c.started = Instant::now();
        c.work = 0.0;
        c.finished = 0;
        c.temporary = 0;
        c.backed_off = false;
    }

    fn resize(&self, c: &mut Control, to: usize) {
        let to = to.clamp(1, self.max);
        if to > c.limit {
            let mut grow = to - c.limit;
            let paid = grow.min(c.debt);
            c.debt -= paid;
            grow -= paid;
            self.permits.add_permits(grow);
        } else if to < c.limit {
            let shrink = c.limit - to;
            let taken = self.permits.forget_permits(shrink);
            c.debt += shrink - taken;
        }
        c.limit = to;
        c.peak = c.peak.max(to);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Runs `n` tasks through the window, each taking `latency(in_flight)`.
    async fn drive(window: &Window, n: usize, latency: impl Fn(usize) -> Duration + Sync) {
        let in_flight = std::sync::atomic::AtomicUsize::new(0);
        let tasks = (0..n).map(|_| async {
            let slot = window.enter().await;
            let now = in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            tokio::time::sleep(latency(now)).await;
            in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            window.finish(slot, 4096, false);
        });
        futures::future::join_all(tasks).await;
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_latency_bound_path_grows_the_window_to_its_maximum() {
        let window = Window::new(32, 256);
        // 80 ms per copy however many run: throughput is proportional to the window.
        drive(&window, 4000, |_| Duration::from_millis(80)).await;
        assert_eq!(window.sizes().1, 256);
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_pure_latency_path_reaches_its_size_in_three_epochs() {
        let window = Window::new(64, 512);
        // 64, then 128 (throughput doubled), then 512: 64 + 128 copies before the last step.
        drive(&window, 64 + 128 + 1, |_| Duration::from_millis(80)).await;
        assert_eq!(window.sizes().0, 512);
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_saturated_server_stops_the_growth() {
        let window = Window::new(8, 1024);
        // A server that serves 400 copies a second however many are sent: 10 ms alone, and
        // each copy in flight beyond four queues behind the others.
        drive(&window, 4000, |n| Duration::from_micros(2500 * n.max(4) as u64)).await;
        let (now, peak) = window.sizes();
        assert!(peak <= 32, "grew to {peak} on a saturated server");
        assert!(now <= 16, "holds {now}");
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_path_that_saturates_keeps_the_smaller_size_and_probes_back_to_it() {
        let window = Window::new(64, 1024);
        // 80 ms a copy up to 96 in flight; beyond, copies queue: 1,200 copies a second at most.
        drive(&window, 20_000, |n| Duration::from_micros(80_000 * n.max(96) as u64 / 96)).await;
        // 64 → 128 (1.5× faster) → 256 (no faster: back to 128), then a probe of 192 every
        // few epochs that gives nothing and is undone: over ~40 epochs it never ratchets up.
        let (last, peak) = window.sizes();
        assert_eq!(peak, 256);
        assert!(last == 128 || last == 192, "ended at {last}: a probe that gave nothing was kept");
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_fixed_window_stays_fixed() {
        let window = Window::new(32, 32);
        drive(&window, 1000, |_| Duration::from_millis(80)).await;
        assert_eq!(window.sizes(), (32, 32));
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn temporary_failures_beyond_one_in_twenty_halve_the_window() {
        let window = Window::new(64, 64);
        let slot = window.enter().await;
        window.finish(slot, 0, true);
        // A fixed window is the user's choice: only an adaptive one backs off.
        assert_eq!(window.sizes().0, 64);
        let window = Window::new(64, 256);
        let slots: Vec<Slot<'_>> = futures::future::join_all((0..64).map(|_| window.enter())).await;
        let mut slots = slots.into_iter();
        for _ in 0..3 {
            window.finish(slots.next().unwrap(), 0, true);
        }
        assert_eq!(window.sizes().0, 64, "three in 64 is the odd failure of a long path");
        window.finish(slots.next().unwrap(), 0, true);
        assert_eq!(window.sizes().0, 32, "the fourth is a server saying slow down");
        // The permits given back beyond the new size are dropped, not reused.
        for slot in slots {
            window.finish(slot, 0, false);
        }
        assert_eq!(window.permits.available_permits(), 32);
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn one_failure_in_a_hundred_does_not_keep_a_long_path_narrow() {
        let window = Window::new(64, 512);
        let n = std::sync::atomic::AtomicUsize::new(0);
        let tasks = (0..8000).map(|_| async {
            let slot = window.enter().await;
            tokio::time::sleep(Duration::from_millis(80)).await;
            let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            window.finish(slot, 4096, i % 100 == 99);
        });
        futures::future::join_all(tasks).await;
        assert_eq!(window.sizes().1, 512, "the window still grew to its maximum");
        assert!(window.sizes().0 >= 256, "ended at {}", window.sizes().0);
    }
}
