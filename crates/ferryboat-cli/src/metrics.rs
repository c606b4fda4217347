//! `mirror --metrics-addr HOST:PORT`: Prometheus text while a mirror runs.
//!
//! Served from the engine's progress counters and from a hook on both stores that counts
//! every request by side, operation and outcome, and every request sent again after a
//! retryable failure of the same operation on the same key (a resumed read, a re-sent part,
//! a copy's next attempt). Keys are held in memory only while a retry may follow; nothing
//! else is recorded: no keys in the output, no credentials.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ferryboat::layers::{Hook, HookStore, Op};
use ferryboat::mirror::Progress;
use ferryboat::{Error, ObjectStore, Result, StoreInfo};
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Requests by (side, operation, status), and retries by (side, operation).
#[derive(Debug, Default)]
pub struct Requests {
    counts: Mutex<BTreeMap<(&'static str, &'static str, String), u64>>,
    retries: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// (side, operation, key) of requests that failed retryably and were not sent again yet.
    failed: Mutex<HashSet<(&'static str, &'static str, String)>>,
}

impl Requests {
    fn record(&self, side: &'static str, op: &'static str, status: String) {
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry((side, op, status)).or_default() += 1;
        }
    }

    /// Remembers a retryable failure, so that the next such request counts as a retry.
    fn failed_retryably(&self, side: &'static str, op: &'static str, path: &str) {
        if let Ok(mut failed) = self.failed.lock() {
            failed.insert((side, op, path.to_string()));
        }
    }

    /// Counts a retry when this request repeats one that failed retryably.
    fn starting(&self, side: &'static str, op: &'static str, path: &str) {
        let repeated = self.failed.lock().is_ok_and(|mut f| f.remove(&(side, op, path.to_string())));
        if repeated {
            if let Ok(mut retries) = self.retries.lock() {
                *retries.entry((side, op)).or_default() += 1;
            }
        }
    }
}

/// Counts one side's requests into a shared [`Requests`].
#[derive(Debug, Clone)]
struct Counting {
    side: &'static str,
    requests: Arc<Requests>,
}

impl Hook for Counting {
    fn around<'a, T: Send + 'a>(
        &'a self,
        _store: &'a StoreInfo,
        op: Op<'a>,
        request: BoxFuture<'a, Result<T>>,
    ) -> BoxFuture<'a, Result<T>> {
        async move {
            self.requests.starting(self.side, op.name, op.path);
            let result = request.await;
            let status = match &result {
                Ok(_) => "ok".to_string(),
                Err(e) => {
                    if e.is_retryable() {
                        self.requests.failed_retryably(self.side, op.name, op.path);
                    }
                    e.kind().to_string()
                }
            };
            self.requests.record(self.side, op.name, status);
            result
        }
        .boxed()
    }

    /// A body cut on its way is a failed read too: the read that resumes it is a retry.
    fn body(
        &self,
        _store: &StoreInfo,
        path: &str,
        body: BoxStream<'static, Result<Bytes>>,
    ) -> BoxStream<'static, Result<Bytes>> {
        let (requests, side, path) = (self.requests.clone(), self.side, path.to_string());
        body.inspect(move |chunk| {
            if let Err(e) = chunk {
                requests.record(side, "get_body", e.kind().to_string());
                if e.is_retryable() {
                    requests.failed_retryably(side, "get", &path);
                }
            }
        })
        .boxed()
    }
}

/// `store` with its requests counted as `side` (`source` or `destination`).
pub fn counted(store: Arc<dyn ObjectStore>, side: &'static str, requests: &Arc<Requests>) -> Arc<dyn ObjectStore> {
    Arc::new(HookStore::new(store, Counting { side, requests: requests.clone() }))
}

/// The exposition text.
fn render(progress: &Progress, requests: &Requests) -> String {
    let mut out = String::new();
    let gauge = |out: &mut String, name: &str, help: &str, kind: &str, value: u64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
    };
    let (planned, done) = (progress.planned_objects(), progress.done_objects());
    let (planned_b, done_b) = (progress.planned_bytes(), progress.done_bytes());
    gauge(&mut out, "ferry_mirror_objects_copied_total", "Objects copied so far.", "counter", done);
    gauge(&mut out, "ferry_mirror_bytes_copied_total", "Object bytes copied so far.", "counter", done_b);
    gauge(&mut out, "ferry_mirror_objects_planned_total", "Objects found to copy so far.", "counter", planned);
    gauge(&mut out, "ferry_mirror_bytes_planned_total", "Object bytes found to copy so far.", "counter", planned_b);
    gauge(
        &mut out,
        "ferry_mirror_objects_pending",
        "Objects found to copy and not copied yet (in flight or queued).",
        "gauge",
        planned.saturating_sub(done),
    );
    gauge(&mut out, "ferry_mirror_keys_compared_total", "Keys compared.", "counter", progress.checked_keys());
    gauge(
        &mut out,
        "ferry_mirror_objects_failed_total",
        "Objects that failed (copies that used every attempt, keys that could not be compared).",
        "counter",
        progress.failed_objects(),
    );
    gauge(
        &mut out,
        "ferry_mirror_copy_retries_total",
        "Copies started again after a failed attempt.",
        "counter",
        progress.retried_copies(),
    );
    let _ = writeln!(
        out,
        "# HELP ferry_requests_total Store requests, by side, operation and outcome.\n# TYPE ferry_requests_total counter"
    );
    if let Ok(counts) = requests.counts.lock() {
        for ((side, op, status), n) in counts.iter() {
            let _ = writeln!(out, "ferry_requests_total{{side=\"{side}\",op=\"{op}\",status=\"{status}\"}} {n}");
        }
    }
    let _ = writeln!(
        out,
        "# HELP ferry_retries_total Requests sent again after a retryable failure of the same operation on the same key \
         (resumed reads, re-sent parts, a copy's next attempt), by side and operation.\n# TYPE ferry_retries_total counter"
    );
    if let Ok(retries) = requests.retries.lock() {
        for ((side, op), n) in retries.iter() {
            let _ = writeln!(out, "ferry_retries_total{{side=\"{side}\",op=\"{op}\"}} {n}");
        }
    }
    out
}

/// Binds `addr` and serves the metrics until the returned task is aborted.
pub async fn serve(
    addr: SocketAddr,
    progress: Arc<Progress>,
    requests: Arc<Requests>,
) -> Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| Error::invalid_config(format!("--metrics-addr {addr}: cannot listen: {e}")))?;
    Ok(tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else { continue };
            let body = render(&progress, &requests);
            tokio::spawn(async move {
                // The request itself does not matter: every path gets the metrics.
                let mut buf = [0u8; 2048];
                let _ = tokio::time::timeout(std::time::Duration::from_secs(5), conn.read(&mut buf)).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(head.as_bytes()).await;
                let _ = conn.write_all(body.as_bytes()).await;
                let _ = conn.shutdown().await;
            });
        }
    }))
}
