//! `RetryPolicy`: how hard to retry, and which failures to retry, in one place.
//!
//! Every retry loop of the project runs on it: [`RetryStore`](crate::layers::RetryStore),
//! [`resume`](crate::resume), multipart parts, and each backend's requests (the S3
//! backend's through the AWS SDK's retry settings, derived from the policy). The budget is
//! counted per request, and only once: the innermost loop that retries a request spends its
//! attempts and marks the error it gives up with ([`Error::retries_spent`]), and every loop
//! further out ([`RetryPolicy::should_retry`]) then leaves it alone. A store whose backend
//! retries therefore sends one failing request at most the backend policy's `max_attempts`
//! times, whatever layers and loops sit above it; give the backend [`RetryPolicy::none`] to
//! leave retrying to a layer instead.

use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use md5::{Digest, Md5};

use crate::error::{Error, Result};
use crate::layers::rng::SplitMix;
use crate::path::ObjectPath;
use crate::store::ObjectStore;
use crate::types::{GetOptions, PutResult};

/// Attempts, backoff and total budget of retrying one request, and the one decision of
/// whether a failure is retried ([`RetryPolicy::should_retry`]).
///
/// An error is retried when it says it is retryable ([`Error::is_retryable`]: every
/// `Unavailable`, and any error whose details mark it retryable or throttled), no inner loop
/// has spent its retries already ([`Error::retries_spent`]) and attempts remain; no retry
/// starts after `max_elapsed`. Backoff is full jitter: uniform between zero and a ceiling
/// that starts at `initial_backoff` and doubles each retry, up to `max_backoff`.
///
/// ```
/// # use ferryboat_core::{retry::RetryPolicy, Error};
/// let policy = RetryPolicy::default();
/// let reset = Error::unavailable("s3", "k", "connection reset", None);
/// assert!(policy.should_retry(&reset, 1));
/// assert!(!policy.should_retry(&reset, policy.max_attempts));
/// let spent = Error::unavailable("s3", "k", "connection reset", None).spent();
/// assert!(!policy.should_retry(&spent, 1), "an inner loop already retried it");
/// assert!(!policy.should_retry(&Error::not_found("s3", "k"), 1));
/// assert!(!RetryPolicy::none().should_retry(&reset, 1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// Backoff ceiling before the first retry; doubles each retry.
    pub initial_backoff: Duration,
    /// Largest backoff ceiling.
    pub max_backoff: Duration,
    /// No retry starts after this long since the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(120),
        }
    }
}

/// Whether a request may be sent twice without changing what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Sending it again is safe: a read, a listing, a delete, an unconditional write of the
    /// same bytes.
    Idempotent,
    /// Sending it again after a lost answer could do it twice or fail its own condition (a
    /// create-only write that landed): a failure is returned as it is, for a caller that can
    /// tell whether it landed ([`RetryPolicy::run_conditional`]).
    NotIdempotent,
}

impl RetryPolicy {
    /// One attempt, no retry: for a store whose caller retries.
    pub fn none() -> Self {
        RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }
    }

    /// What the S3 and GCS backends retry their requests with unless told otherwise: 30
    /// attempts, 50 ms doubling to 2 s, none started after 120 s. Many attempts with short
    /// pauses, because the budget is one request's: through a network that cuts one 64 KiB
    /// chunk in 100, an 8 MiB part gets through about one send in four, and 8 attempts lost
    /// about one part in thirteen (`tests/mirror_flaky_network.rs`); 30 lose one in 15,000.
    pub fn backend() -> Self {
        RetryPolicy {
            max_attempts: 30,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(2),
            max_elapsed: Duration::from_secs(120),
        }
    }

    /// The same policy with `attempts` attempts per request (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The same policy with this backoff: `initial` before the first retry, doubling up to
    /// `max`.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// The same policy, starting no retry later than `max_elapsed` after the first attempt.
    pub fn with_max_elapsed(mut self, max_elapsed: Duration) -> Self {
        self.max_elapsed = max_elapsed;
        self
    }

    /// Whether a request that failed with `error` on attempt `attempt` (1-based) is sent
    /// again. The elapsed-time budget is [`RetryPolicy::within_budget`].
    pub fn should_retry(&self, error: &Error, attempt: u32) -> bool {
        error.is_retryable() && !error.retries_spent() && attempt < self.max_attempts
    }

    /// Whether a retry may still start, `started` being the first attempt's start.
    pub fn within_budget(&self, started: Instant) -> bool {
        started.elapsed() < self.max_elapsed
    }

    /// The backoff ceiling before retry number `retry` (1-based); the wait is uniform
    /// between zero and it.
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        self.initial_backoff.saturating_mul(1u32 << retry.saturating_sub(1).min(20)).min(self.max_backoff)
    }

    /// The pause before retry number `retry` (1-based): uniform between zero and
    /// [`RetryPolicy::backoff_ceiling`] (full jitter, so that many clients failing at once
    /// do not come back in step).
    pub fn backoff(&self, retry: u32) -> Duration {
        static JITTER: std::sync::OnceLock<SplitMix> = std::sync::OnceLock::new();
        self.backoff_ceiling(retry).mul_f64(JITTER.get_or_init(SplitMix::from_time).next_f64())
    }

    /// `error`, marked as having spent this policy's retries when the policy retries at all
    /// (a policy of one attempt leaves retrying to its caller) and the error was worth a retry.
    pub fn give_up(&self, error: Error) -> Error {
        if self.max_attempts > 1 && error.is_retryable() {
            error.spent()
        } else {
            error
        }
    }

    /// Runs `request` until it succeeds, fails for good, or has used the policy's attempts
    /// or time; `what` names it in the log. A request that is not idempotent is sent once.
    /// The error it gives up with is marked spent ([`RetryPolicy::give_up`]).
    pub async fn run<T, F, Fut>(&self, idempotency: Idempotency, what: &str, mut request: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        if idempotency == Idempotency::NotIdempotent {
            return request().await;
        }
        // The conditional loop with nothing to check between attempts.
        self.run_conditional(what, request, || std::future::ready(None)).await
    }

    /// Runs a conditional write (create-only, compare-and-swap) whose outcome a lost answer
    /// leaves unknown: after each retryable failure `landed` is asked whether the write took
    /// effect anyway (the object holds exactly the bytes sent); if so that is the answer,
    /// otherwise the write is sent again and the store's own condition decides.
    pub async fn run_conditional<T, F, Fut, L, LFut>(&self, what: &str, mut request: F, mut landed: L) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
        L: FnMut() -> LFut,
        LFut: Future<Output = Option<T>>,
    {
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            match request().await {
                Ok(v) => return Ok(v),
                Err(e) if self.should_retry(&e, attempt) && self.within_budget(started) => {
                    tracing::debug!(what, attempt, error = %e, "retrying request");
                    crate::pressure::absorbed();
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                    if let Some(done) = landed().await {
                        return Ok(done);
                    }
                }
                Err(e) if e.retries_spent() => return Err(e),
                Err(e) => return Err(self.give_up(e)),
            }
        }
    }
}

/// The object at `path` in `store`, if it now holds exactly `data`: by its MD5 etag where the
/// store gives one, else by reading it back. `None` when it does not, or cannot be told. What
/// a conditional write asks after a lost answer ([`RetryPolicy::run_conditional`]).
pub async fn landed(store: &dyn ObjectStore, path: &ObjectPath, data: &Bytes) -> Option<PutResult> {
    let meta = store.head(path).await.ok()?;
    if meta.size != data.len() as u64 {
        return None;
    }
    let md5: String = Md5::digest(data).iter().map(|b| format!("{b:02x}")).collect();
    let same = match meta.etag.as_deref() {
        Some(etag) if etag.trim_matches('"') == md5 => true,
        _ => {
            let opts = GetOptions { if_match: meta.etag.clone(), ..Default::default() };
            let stored = store.get_opts(path, opts).await.ok()?.bytes().await.ok()?;
            stored == *data
        }
    };
    same.then_some(PutResult { etag: meta.etag, version: meta.version })
}
