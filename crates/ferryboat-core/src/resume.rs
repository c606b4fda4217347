//! Reads that survive a flaky network: a body cut mid-way resumes from the byte it reached,
//! pinned to the object's etag (or version), so an object replaced in between is a clear
//! error and never a splice of two versions.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> ferryboat_core::Result<()> {
//! use std::sync::Arc;
//! use ferryboat_core::{memory::MemoryStore, resume, GetOptions, ObjectPath, ObjectStore, ObjectStoreExt};
//!
//! let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
//! let key = ObjectPath::parse("big.bin")?;
//! store.put(&key, vec![7u8; 1 << 20].into()).await?;
//! let got = resume::get(store, &key, GetOptions::default(), &resume::resume_policy()).await?;
//! assert_eq!(got.bytes().await?.len(), 1 << 20);
//! # Ok(()) }
//! ```

use std::future::Future;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};

use crate::conditions::etag_matches;
use crate::error::{Error, Result};
use crate::path::ObjectPath;
use crate::retry::{Idempotency, RetryPolicy};
use crate::store::ObjectStore;
use crate::types::{GetOptions, GetRange, GetResult};

/// How hard a resuming read tries: the one [`RetryPolicy`], counted per request.
///
/// `max_attempts` counts the tries of one request (the first read, or one resumption) and
/// starts again whenever bytes arrive, so a long body cut many times still completes while
/// one that makes no progress gives up. Resuming reads and re-sent parts use
/// [`resume_policy`] unless told otherwise.
pub type ResumeConfig = RetryPolicy;

/// The policy resuming reads and re-sent parts use by default: ten tries per request,
/// pausing 50 ms doubling to 2 s. Its budget is those tries: `max_elapsed` is not consulted,
/// since a long body legitimately takes long.
pub fn resume_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 10,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_secs(2),
        ..RetryPolicy::default()
    }
}

/// Runs `request` (on `key`, from byte `offset`: for the log) until it succeeds, fails for
/// good (as [`RetryPolicy::should_retry`] decides), or has used the policy's tries: the
/// policy's own loop ([`RetryPolicy::run`]).
pub async fn retry_request<T, F, Fut>(config: &ResumeConfig, key: &str, offset: u64, request: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let what = format!("{key} at {offset}");
    config.run(Idempotency::Idempotent, &what, request).await
}

/// Reads `path` like [`ObjectStore::get_opts`], retrying the first request and resuming a
/// body that breaks off (an error, or an end before the promised length) with a ranged read
/// from the byte it reached.
///
/// Resumptions are pinned: to `opts.if_match` if given, else to the etag of the first answer,
/// else to its version. An object that changed in between fails the body with
/// [`Error::Integrity`] ("changed while it was being read"); the bytes already delivered are
/// then of the old version, so the caller starts again (the mirror does). A store that gives
/// neither etag nor version cannot be pinned: its broken bodies are not resumed.
pub async fn get(
    store: Arc<dyn ObjectStore>,
    path: &ObjectPath,
    opts: GetOptions,
    config: &ResumeConfig,
) -> Result<GetResult> {
    let start = match &opts.range {
        Some(GetRange::Bounded(r)) => r.start,
        Some(GetRange::Offset(o)) => *o,
        _ => 0,
    };
    let first = retry_request(config, path.as_str(), start, || store.get_opts(path, opts.clone())).await?;
    if opts.head {
        return Ok(first);
    }
    let pin = match (opts.if_match.clone().or_else(|| first.meta.etag.clone()), &first.meta.version) {
        (Some(etag), _) => Some(Pin::Etag(etag)),
        (None, Some(version)) => Some(Pin::Version(version.clone())),
        (None, None) => None,
    };
    let resume = Resume {
        store,
        config: config.clone(),
        path: path.clone(),
        version: opts.version.clone(),
        pin,
        size: first.meta.size,
        remaining: first.range.clone(),
    };
    let body = resume.body(first.body);
    Ok(GetResult { meta: first.meta, range: first.range, body })
}

#[derive(Debug, Clone)]
enum Pin {
    Etag(String),
    Version(String),
}

/// What a broken body needs to pick up where it stopped.
struct Resume {
    store: Arc<dyn ObjectStore>,
    config: ResumeConfig,
    path: ObjectPath,
    /// The version the caller asked for, if any.
    version: Option<String>,
    pin: Option<Pin>,
    /// The whole object's size, as first served.
    size: u64,
    /// Absolute byte range still to deliver.
    remaining: Range<u64>,
}

impl Resume {
    fn body(self, first: BoxStream<'static, Result<Bytes>>) -> BoxStream<'static, Result<Bytes>> {
        stream::unfold((self, Some(first), 1u32), |(mut r, body, mut attempt)| async move {
            let mut body = body?;
            loop {
                let mut short = false;
                let failure = match body.next().await {
                    Some(Ok(chunk)) => {
                        let len = chunk.len() as u64;
                        if len > r.remaining.end - r.remaining.start {
                            let e = r.integrity("the body is longer than the range it was to hold".into());
                            return Some((Err(e), (r, None, attempt)));
                        }
                        r.remaining.start += len;
                        if len > 0 {
                            attempt = 1;
                        }
                        return Some((Ok(chunk), (r, Some(body), attempt)));
                    }
                    None if r.remaining.is_empty() => return None,
                    None => {
                        short = true;
                        let message = format!("body ended {} bytes early", r.remaining.end - r.remaining.start);
                        Error::transient(&r.store.info().provider, r.path.as_str(), message, None)
                    }
                    Some(Err(e)) => e,
                };
                if r.pin.is_none() || !r.config.should_retry(&failure, attempt) {
                    // A body that keeps ending short is a truncated object as far as the
                    // caller can tell, as a length check of its own would have said.
                    let failure = if short {
                        r.integrity(format!("body ended {} bytes early", r.remaining.end - r.remaining.start))
                    } else if r.pin.is_some() {
                        // Its tries are spent: no loop further out starts the read again.
                        r.config.give_up(failure)
                    } else {
                        failure
                    };
                    return Some((Err(failure), (r, None, attempt)));
                }
                tracing::debug!(path = %r.path, offset = r.remaining.start, attempt, error = %failure, "resuming read");
                crate::pressure::absorbed();
                tokio::time::sleep(r.config.backoff(attempt)).await;
                attempt += 1;
                match r.reopen().await {
                    Ok(next) => body = next,
                    // The next turn of the loop asks the policy about it.
                    Err(e) if r.config.should_retry(&e, 1) => body = stream::once(async move { Err(e) }).boxed(),
                    Err(e) => return Some((Err(e), (r, None, attempt))),
                }
            }
        })
        .boxed()
    }

    /// The rest of the range, from the same object.
    async fn reopen(&self) -> Result<BoxStream<'static, Result<Bytes>>> {
        let (if_match, version) = match &self.pin {
            Some(Pin::Etag(etag)) => (Some(etag.clone()), self.version.clone()),
            Some(Pin::Version(v)) => (None, Some(v.clone())),
            None => (None, self.version.clone()),
        };
        let opts = GetOptions {
            range: Some(GetRange::Bounded(self.remaining.clone())),
            if_match: if_match.clone(),
            version,
            ..Default::default()
        };
        let next = match self.store.get_opts(&self.path, opts).await {
            Ok(next) => next,
            Err(Error::Precondition { .. }) => return Err(self.changed()),
            Err(e) => return Err(e),
        };
        // A server that ignores the condition still tells what it served.
        let other_etag = match (&if_match, next.meta.etag.as_deref()) {
            (Some(want), Some(got)) => !etag_matches(want, Some(got)),
            _ => false,
        };
        if other_etag || next.meta.size != self.size {
            return Err(self.changed());
        }
        if next.range != self.remaining {
            let message = format!("asked for bytes {:?}, was served {:?}", self.remaining, next.range);
            return Err(self.integrity(message));
        }
        Ok(next.body)
    }

    fn changed(&self) -> Error {
        self.integrity(format!(
            "the object changed while it was being read ({} of {} bytes delivered); nothing of the new version was mixed in",
            self.remaining.start, self.size
        ))
    }

    fn integrity(&self, message: String) -> Error {
        Error::Integrity {
            provider: self.store.info().provider.clone(),
            path: self.path.to_string(),
            message,
            details: Default::default(),
        }
    }
}
