//! Shared test helpers: stores on fresh buckets of the local emulators, and an interceptor
//! that records what goes on the wire.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_s3::config::interceptors::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_s3::config::{Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::ConfigBag;
use ferryboat_core::ObjectStore;
use ferryboat_providers::Quirks;
use ferryboat_s3::{Credentials, S3Config, S3Store};
use ferryboat_testkit::emulators::S3Emulator;

/// A bucket name no other test (or earlier run) uses.
pub fn fresh_bucket(tag: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("ferry-{tag}-{}-{}-{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// A configuration for `bucket` on the emulator, with the emulator's keys.
pub fn config(emu: &S3Emulator, bucket: &str, provider: &str, quirks: Quirks) -> S3Config {
    S3Config::new(bucket)
        .with_provider(provider)
        .with_region(&emu.region)
        .with_endpoint(&emu.endpoint)
        .with_path_style(true)
        .with_quirks(quirks)
        .with_credentials(Credentials::new(&emu.access_key, &emu.secret_key))
}

/// What each emulator honours, in quirks: moto evaluates conditional writes atomically;
/// s3s-fs checks `If-None-Match` but lets concurrent creators all win, so it gets none.
pub fn emulator_quirks(emu: &S3Emulator) -> Quirks {
    let moto = emu.name == "moto";
    Quirks { put_if_none_match: moto, put_if_match: moto, ..Quirks::default() }
}

/// Makes the store (creating its bucket) from a configuration, with the emulator's gaps
/// applied to the capabilities: s3s-fs lists no etags and cannot list pending uploads.
pub async fn open(emu: &S3Emulator, config: S3Config) -> S3Store {
    let mut caps = S3Store::new(config.clone()).expect("store").capabilities().clone();
    if emu.name == "s3s-fs" {
        caps.list_etags = false;
        caps.pending_uploads = false;
    }
    let store = S3Store::new(config.with_capabilities(caps)).expect("store");
    store.create_bucket().await.expect("create bucket");
    store
}

/// One request as it left: operation name and headers (lower-case names).
#[derive(Debug, Clone)]
pub struct Sent {
    pub operation: String,
    pub headers: Vec<(String, String)>,
}

impl Sent {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Records every request's operation and headers, after signing, as sent.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    pub sent: Arc<Mutex<Vec<Sent>>>,
}

impl Recorder {
    pub fn requests(&self) -> Vec<Sent> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }
    pub fn count(&self, operation: &str) -> usize {
        self.requests().iter().filter(|s| s.operation == operation).count()
    }
}

fn operation(cfg: &ConfigBag) -> String {
    cfg.load::<Metadata>().map(|m| m.name().to_string()).unwrap_or_default()
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "Recorder"
    }

    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let headers = ctx.request().headers().iter().map(|(k, v)| (k.to_ascii_lowercase(), v.to_string())).collect();
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(Sent { operation: operation(cfg), headers });
        }
        Ok(())
    }
}

/// Turns the responses to the first `fail` UploadPart requests into HTTP 500s (the part did
/// reach the server; the client is told it did not, as after a proxy failure).
#[derive(Debug, Clone)]
pub struct FailUploadParts {
    pub remaining: Arc<AtomicUsize>,
    pub failed: Arc<AtomicUsize>,
}

impl FailUploadParts {
    pub fn new(fail: usize) -> Self {
        FailUploadParts { remaining: Arc::new(AtomicUsize::new(fail)), failed: Arc::default() }
    }
}

impl Intercept for FailUploadParts {
    fn name(&self) -> &'static str {
        "FailUploadParts"
    }

    fn modify_before_deserialization(
        &self,
        ctx: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if operation(cfg) != "UploadPart" {
            return Ok(());
        }
        let take = self.remaining.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        if take {
            self.failed.fetch_add(1, Ordering::SeqCst);
            *ctx.response_mut().status_mut() = 500u16.try_into()?;
        }
        Ok(())
    }
}
