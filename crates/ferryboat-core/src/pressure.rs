//! Back-pressure a request absorbed: the temporary failures (throttling answers, timeouts,
//! refused or reset connections) that its retries hid from the caller.
//!
//! A retried request that finally succeeds looks like any other to its caller, yet the server
//! said "slow down" on the way. Whoever drives many requests at once (the mirror's copy
//! window, [`put_stream`](crate::ObjectStoreExt::put_stream)'s part window) wants to hear it
//! and back off. Retry loops call [`absorbed`] for each attempt they retry (ferry's own
//! [`RetryPolicy`](crate::retry::RetryPolicy) loop does, and ferryboat-s3 for each attempt
//! the AWS SDK retries); [`watch`] runs a future and counts the calls made while it ran.
//!
//! The count travels with the task, not through the [`ObjectStore`](crate::ObjectStore)
//! trait, so every layer passes it on without knowing of it. Watches nest: a call counts in
//! every watch around it.
//!
//! ```
//! use ferryboat_core::pressure;
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let ((), absorbed) = pressure::watch(async {
//!     pressure::absorbed(); // a retry loop saw "503 Slow Down" and tried again
//! })
//! .await;
//! assert_eq!(absorbed, 1);
//! pressure::absorbed(); // outside any watch: nobody is told, nothing happens
//! # }
//! ```

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// One watch: its count, and the watch around it.
#[derive(Debug, Default)]
struct Watch {
    count: AtomicU64,
    outer: Option<Arc<Watch>>,
}

tokio::task_local! {
    static CURRENT: Arc<Watch>;
}

/// Runs `future`; returns its output and how many temporary failures its requests absorbed.
pub async fn watch<F: Future>(future: F) -> (F::Output, u64) {
    let watch = Arc::new(Watch { count: AtomicU64::new(0), outer: CURRENT.try_with(Arc::clone).ok() });
    let output = CURRENT.scope(watch.clone(), future).await;
    (output, watch.count.load(Ordering::Relaxed))
}

/// Reports one temporary failure a request retried, to every watch around the caller.
pub fn absorbed() {
    let _ = CURRENT.try_with(|watch| {
        let mut next = Some(watch);
        while let Some(w) = next {
            w.count.fetch_add(1, Ordering::Relaxed);
            next = w.outer.as_ref();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn watches_nest_and_concurrent_watches_stay_apart() {
        let (inner, outer) = watch(async {
            absorbed();
            let ((), inner) = watch(async {
                absorbed();
                absorbed();
            })
            .await;
            inner
        })
        .await;
        assert_eq!((inner, outer), (2, 3), "a call counts in every watch around it");

        // Two watches polled by one task each count only their own calls.
        let one = watch(async {
            tokio::task::yield_now().await;
            absorbed();
        });
        let two = watch(async {
            absorbed();
            tokio::task::yield_now().await;
            absorbed();
        });
        let (((), a), ((), b)) = futures::future::join(one, two).await;
        assert_eq!((a, b), (1, 2));
    }
}
