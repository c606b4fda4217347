//! `RetryPolicy`: how hard to retry, and which failures to retry, in one place.

use std::time::{Duration, Instant};

use crate::error::Error;

/// Attempts, backoff and total budget of retrying one request, and the one decision of
/// whether a failure is retried ([`RetryPolicy::should_retry`]).
///
/// [`RetryStore`](crate::layers::RetryStore) runs on it. An error is retried when it says it
/// is retryable ([`Error::is_retryable`]: every `Unavailable`, and any error whose details
/// mark it retryable or throttled) and attempts remain; no retry starts after `max_elapsed`.
/// Backoff is full jitter: uniform between zero and a ceiling that starts at
/// `initial_backoff` and doubles each retry, up to `max_backoff`.
///
/// ```
/// # use ferryboat_core::{retry::RetryPolicy, Error};
/// let policy = RetryPolicy::default();
/// let reset = Error::unavailable("s3", "k", "connection reset", None);
/// assert!(policy.should_retry(&reset, 1));
/// assert!(!policy.should_retry(&reset, policy.max_attempts));
/// assert!(!policy.should_retry(&Error::not_found("s3", "k"), 1));
/// assert!(!RetryPolicy::none().should_retry(&reset, 1));
/// ```
#[derive(Debug, Clone)]
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

impl RetryPolicy {
    /// One attempt, no retry: for a store whose caller retries.
    pub fn none() -> Self {
        RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }
    }

    /// Whether a request that failed with `error` on attempt `attempt` (1-based) is sent
    /// again. The elapsed-time budget is [`RetryPolicy::within_budget`].
    pub fn should_retry(&self, error: &Error, attempt: u32) -> bool {
        error.is_retryable() && attempt < self.max_attempts
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
}
