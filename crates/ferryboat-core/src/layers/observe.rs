//! Observability: a `tracing` span per request and metrics through the `metrics` facade.

use std::time::Instant;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::{BoxStream, StreamExt};
use futures::FutureExt;
use tracing::Instrument;

use super::hook::{Hook, Op};
use crate::error::Result;
use crate::info::StoreInfo;
use crate::types::ObjectMeta;

/// A hook that records every request:
///
/// - a `tracing` span `ferry.request` with `provider`, `op`, `key`, `bytes`, and on completion
///   an event with `status` (`ok` or the error kind) and `latency_ms`;
/// - the metrics `ferry_requests_total` (counter; labels `provider`, `op`, `status`),
///   `ferry_request_duration_seconds` (histogram; `provider`, `op`),
///   `ferry_bytes_sent_total` and `ferry_bytes_received_total` (counters; `provider`).
///
/// Install any `metrics` recorder (Prometheus, StatsD, …) to collect them. Only provider
/// ids, operation names, keys and sizes are recorded: never credentials or payloads.
#[derive(Debug, Clone, Default)]
pub struct Observe;

fn status<T>(r: &Result<T>) -> String {
    match r {
        Ok(_) => "ok".to_string(),
        Err(e) => e.kind().to_string(),
    }
}

impl Hook for Observe {
    fn around<'a, T: Send + 'a>(
        &'a self,
        store: &'a StoreInfo,
        op: Op<'a>,
        request: BoxFuture<'a, Result<T>>,
    ) -> BoxFuture<'a, Result<T>> {
        let span = tracing::debug_span!("ferry.request", provider = %store.provider, op = op.name, key = op.path, bytes = op.bytes);
        async move {
            let started = Instant::now();
            let result = request.await;
            let elapsed = started.elapsed();
            let status = status(&result);
            match &result {
                Ok(_) => tracing::debug!(status, latency_ms = elapsed.as_millis() as u64, "done"),
                Err(e) => tracing::debug!(status, latency_ms = elapsed.as_millis() as u64, error = %e, "failed"),
            }
            let provider = store.provider.clone();
            metrics::counter!("ferry_requests_total", "provider" => provider.clone(), "op" => op.name, "status" => status)
                .increment(1);
            metrics::histogram!("ferry_request_duration_seconds", "provider" => provider.clone(), "op" => op.name)
                .record(elapsed.as_secs_f64());
            if op.bytes > 0 {
                metrics::counter!("ferry_bytes_sent_total", "provider" => provider).increment(op.bytes);
            }
            result
        }
        .instrument(span)
        .boxed()
    }

    fn body(
        &self,
        store: &StoreInfo,
        _path: &str,
        body: BoxStream<'static, Result<Bytes>>,
    ) -> BoxStream<'static, Result<Bytes>> {
        let provider = store.provider.clone();
        body.inspect(move |chunk| {
            if let Ok(chunk) = chunk {
                metrics::counter!("ferry_bytes_received_total", "provider" => provider.clone())
                    .increment(chunk.len() as u64);
            }
        })
        .boxed()
    }

    fn listing(
        &self,
        store: &StoreInfo,
        prefix: &str,
        items: BoxStream<'static, Result<ObjectMeta>>,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        let provider = store.provider.clone();
        tracing::debug!(provider = %provider, op = "list", key = prefix, "listing");
        items
            .inspect(move |item| {
                let status = status(item);
                metrics::counter!("ferry_list_items_total", "provider" => provider.clone(), "status" => status)
                    .increment(1);
            })
            .boxed()
    }
}
