//! The core client: building the one SDK client a store uses for everything, the state the
//! store's modules share ([`Inner`]), and the requests and conversions they all make.

use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_credential_types::provider::{error::CredentialsError, future, ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_s3::config::retry::{RetryConfig, RetryPartition, TokenBucket};
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{Region, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_types::retry::RetrySpec;
use ferryboat_core::retry::RetryPolicy;
use ferryboat_providers::ChecksumMode;
use tokio::sync::OnceCell;

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_s3::primitives::DateTime;
use bytes::Bytes;
use ferryboat_core::conditions::check_get;
use ferryboat_core::{
    Capabilities, Error, GetOptions, GetResult, Metadata, ObjectMeta, ObjectPath, PutMode, Result, StoreInfo,
};
use ferryboat_providers::Quirks;

use crate::config::{Credentials, S3Config};
use crate::error::ErrorContext;

/// Region signed for when neither the configuration nor the environment names one.
const FALLBACK_REGION: &str = "us-east-1";

/// One HTTP client per store, and so one connection pool: the pool keeps as many idle
/// connections per host as were busy, so a mirror running 64+ requests at once reuses them.
/// Not one per process: a pooled connection belongs to the tokio runtime that opened it and
/// dies with it, so a store used from a second runtime would be handed dead connections.
fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        // Providers' load balancers commonly drop idle connections after 60 s or more;
        // letting ours go a little earlier avoids writing into a dead socket.
        .pool_idle_timeout(Duration::from_secs(50))
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The signing region: configured, else `AWS_REGION` / `AWS_DEFAULT_REGION`, else us-east-1.
pub(crate) fn resolve_region(config: &S3Config) -> String {
    config
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| FALLBACK_REGION.to_string())
}

/// The SDK's retry settings, derived from the policy so that the SDK's loop is the policy's
/// loop and nothing retries on top of it: the same attempts, full-jitter backoff from the
/// same initial ceiling (throttling or not), doubling to the same maximum.
pub(crate) fn sdk_retry(policy: &RetryPolicy) -> RetryConfig {
    if policy.max_attempts <= 1 {
        return RetryConfig::disabled();
    }
    RetryConfig::standard()
        .with_max_attempts(policy.max_attempts)
        .with_initial_backoff(policy.initial_backoff)
        .with_max_backoff(policy.max_backoff)
        // The SDK's own retry behaviour otherwise starts non-throttling backoff at 50 ms.
        .with_retry_spec(RetrySpec::v2_1().with_non_throttling_initial_backoff(policy.initial_backoff))
}

/// A retry partition of its own per client, with no retry quota: the SDK's default token
/// bucket is shared by every client of the process and, once drained by one failing
/// destination, stops retries of every other request. The budget is counted per request.
fn retry_partition() -> RetryPartition {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    RetryPartition::custom(format!("ferryboat-{n}")).token_bucket(TokenBucket::unlimited()).build()
}

pub(crate) fn build(config: &S3Config) -> aws_sdk_s3::Client {
    let region = resolve_region(config);
    let mut timeouts = TimeoutConfig::builder().connect_timeout(config.connect_timeout);
    if let Some(t) = config.operation_timeout {
        timeouts = timeouts.operation_timeout(t);
    }
    if let Some(t) = config.read_timeout {
        timeouts = timeouts.read_timeout(t);
    }
    let credentials = match &config.credentials {
        Credentials::Static { access_key_id, secret_access_key, session_token } => {
            Some(SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
                access_key_id,
                secret_access_key,
                session_token.clone(),
                None,
                "ferry",
            )))
        }
        Credentials::DefaultChain => None,
    };
    let (request_checksums, response_checksums) = match config.quirks.checksums {
        ChecksumMode::Always => (RequestChecksumCalculation::WhenSupported, ResponseChecksumValidation::WhenSupported),
        ChecksumMode::WhenRequired => {
            (RequestChecksumCalculation::WhenRequired, ResponseChecksumValidation::WhenRequired)
        }
    };
    let http = http_client();
    let credentials = match credentials {
        Some(c) => c,
        None => SharedCredentialsProvider::new(LazyDefaultChain { chain: Arc::default(), http: http.clone() }),
    };
    let mut builder = aws_sdk_s3::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .http_client(http)
        .credentials_provider(credentials)
        .timeout_config(timeouts.build())
        .retry_config(sdk_retry(&config.retry))
        .retry_partition(retry_partition())
        .request_checksum_calculation(request_checksums)
        .response_checksum_validation(response_checksums)
        .force_path_style(config.path_style);
    if let Some(endpoint) = &config.endpoint {
        builder = builder.endpoint_url(endpoint.trim_end_matches('/'));
    }
    builder.push_interceptor(aws_sdk_s3::config::SharedInterceptor::new(crate::limits::BodyLimits));
    builder.push_interceptor(aws_sdk_s3::config::SharedInterceptor::new(crate::pressure::ReportTemporaryFailures));
    for interceptor in &config.interceptors {
        builder.push_interceptor(interceptor.clone());
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}

/// The SDK's default credential chain, resolved on first use so that building a store stays
/// synchronous and costs nothing when the store is never used.
#[derive(Debug, Clone)]
struct LazyDefaultChain {
    chain: Arc<OnceCell<Option<SharedCredentialsProvider>>>,
    http: SharedHttpClient,
}

impl ProvideCredentials for LazyDefaultChain {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let chain = self
                .chain
                .get_or_init(|| async {
                    aws_config::defaults(BehaviorVersion::latest())
                        .http_client(self.http.clone())
                        .load()
                        .await
                        .credentials_provider()
                })
                .await;
            match chain {
                Some(chain) => chain.provide_credentials().await,
                None => Err(CredentialsError::not_loaded(
                    "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an AWS profile",
                )),
            }
        })
    }
}

pub(crate) struct Inner {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
    pub quirks: Quirks,
    pub caps: Capabilities,
    pub info: StoreInfo,
    pub errors: ErrorContext,
    pub copy_threshold: u64,
    /// The endpoint as [`ObjectStore::locate`] names it: the configured URL, or one per AWS
    /// region (not the bucket's virtual host, so that two buckets compare equal).
    pub copy_scope: String,
    /// Whether uploads sign their body (see [`crate::config::signs_payload`]).
    pub sign_payload: bool,
    /// The retry policy the SDK's retry settings were derived from; conditional writes,
    /// which the SDK would re-send blindly, run on it themselves.
    pub retry: RetryPolicy,
}

/// The `If-Match` to send. `*` only asks that the object exist, which a read checks anyway;
/// some servers (moto) compare it literally and fail, so it is not sent.
pub(crate) fn if_match(opts: &GetOptions) -> Option<String> {
    opts.if_match.clone().filter(|m| m.trim() != "*")
}

/// An etag as the trait shows it: without quotes.
pub(crate) fn unquote(etag: Option<&str>) -> Option<String> {
    etag.map(|e| e.trim_matches('"').to_string())
}

/// An etag as `If-Match` wants it: quoted.
pub(crate) fn quote(etag: &str) -> String {
    let bare = etag.trim().trim_start_matches("W/").trim_matches('"');
    format!("\"{bare}\"")
}

pub(crate) fn to_system_time(t: Option<&DateTime>) -> SystemTime {
    t.and_then(|t| SystemTime::try_from(*t).ok()).unwrap_or(UNIX_EPOCH)
}

/// User metadata with names as the server returned them (S3 itself lower-cases them).
pub(crate) fn metadata(map: Option<&HashMap<String, String>>) -> Metadata {
    map.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
}

/// Sets content type, metadata, attributes and storage class from `PutOptions` on any SDK
/// request builder that has them (PutObject, CreateMultipartUpload, CopyObject).
macro_rules! put_options {
    ($req:expr, $opts:expr) => {{
        let opts: &ferryboat_core::PutOptions = $opts;
        let a = &opts.attributes;
        let req = $req
            .set_content_type(opts.content_type.clone())
            .set_content_disposition(a.content_disposition.clone())
            .set_content_encoding(a.content_encoding.clone())
            .set_content_language(a.content_language.clone())
            .set_cache_control(a.cache_control.clone())
            .set_storage_class(opts.storage_class.as_deref().map(aws_sdk_s3::types::StorageClass::from));
        if opts.metadata.is_empty() {
            req
        } else {
            req.set_metadata(Some(opts.metadata.clone().into_iter().collect()))
        }
    }};
}
pub(crate) use put_options;

/// The attributes of a HeadObject or GetObject answer.
macro_rules! attributes_of {
    ($out:expr) => {
        ferryboat_core::Attributes {
            content_disposition: $out.content_disposition().map(str::to_string),
            content_encoding: $out.content_encoding().map(str::to_string),
            content_language: $out.content_language().map(str::to_string),
            cache_control: $out.cache_control().map(str::to_string),
        }
    };
}
pub(crate) use attributes_of;

impl Inner {
    pub(crate) fn provider(&self) -> &str {
        &self.info.provider
    }

    /// Checks a put mode against what the server honours.
    pub(crate) fn check_mode(&self, mode: &PutMode) -> Result<()> {
        match mode {
            PutMode::Overwrite => Ok(()),
            PutMode::Create if self.quirks.put_if_none_match => Ok(()),
            PutMode::Create => Err(Error::not_supported(
                self.provider(),
                "PutMode::Create: this server ignores If-None-Match on writes, so create-only is not atomic",
            )),
            PutMode::Update(v) if !self.quirks.put_if_match => {
                let _ = v;
                Err(Error::not_supported(self.provider(), "PutMode::Update: this server ignores If-Match on writes"))
            }
            PutMode::Update(v) if v.etag.is_none() => {
                Err(Error::not_supported(self.provider(), "PutMode::Update by version id (S3 compares etags)"))
            }
            PutMode::Update(_) => Ok(()),
        }
    }

    /// The `If-Match` value of a compare-and-swap write: the quoted etag HTTP specifies, or
    /// the bare one where the server compares it literally (`put_if_match_bare_etag`).
    pub(crate) fn if_match_etag(&self, etag: &str) -> String {
        let quoted = quote(etag);
        if self.quirks.put_if_match_bare_etag {
            quoted.trim_matches('"').to_string()
        } else {
            quoted
        }
    }

    /// Turns a failed conditional write's error into the trait's answer for that mode.
    pub(crate) fn conditional_error(&self, path: &ObjectPath, mode: &PutMode, err: Error) -> Error {
        // The answer's status and code stay with the error the mode turns it into.
        let details = err.details().cloned().map(Box::new);
        match (mode, &err) {
            (PutMode::Create, Error::Precondition { .. }) => Error::AlreadyExists {
                provider: self.provider().into(),
                path: path.to_string(),
                details: details.clone(),
            },
            (PutMode::Create, Error::Generic { .. }) if err.status() == Some(409) => Error::AlreadyExists {
                provider: self.provider().into(),
                path: path.to_string(),
                details: details.clone(),
            },
            (PutMode::Update(_), Error::NotFound { .. }) => Error::Precondition {
                provider: self.provider().into(),
                path: path.to_string(),
                message: "the object to update does not exist".into(),
                details: details.clone(),
            },
            _ => err,
        }
    }

    pub(crate) async fn get_object(
        &self,
        path: &ObjectPath,
        opts: &GetOptions,
        range: Option<String>,
    ) -> Result<aws_sdk_s3::operation::get_object::GetObjectOutput> {
        self.client
            .get_object()
            .bucket(&self.bucket)
            .key(path.as_str())
            .set_range(range)
            .set_if_match(if_match(opts))
            .set_if_none_match(opts.if_none_match.clone())
            .set_if_modified_since(opts.if_modified_since.map(DateTime::from))
            .set_if_unmodified_since(opts.if_unmodified_since.map(DateTime::from))
            .set_version_id(opts.version.clone())
            .send()
            .await
            .map_err(|e| self.errors.map(path.as_str(), e))
    }

    pub(crate) async fn head_object(&self, path: &ObjectPath, opts: &GetOptions) -> Result<GetResult> {
        let out = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(path.as_str())
            .set_if_match(if_match(opts))
            .set_if_none_match(opts.if_none_match.clone())
            .set_if_modified_since(opts.if_modified_since.map(DateTime::from))
            .set_if_unmodified_since(opts.if_unmodified_since.map(DateTime::from))
            .set_version_id(opts.version.clone())
            .send()
            .await
            .map_err(|e| self.errors.map(path.as_str(), e))?;
        let meta = ObjectMeta {
            path: path.clone(),
            size: out.content_length().unwrap_or(0).max(0) as u64,
            last_modified: to_system_time(out.last_modified()),
            etag: unquote(out.e_tag()),
            version: out.version_id().map(str::to_string),
            version_info: None,
            content_type: out.content_type().map(str::to_string),
            metadata: metadata(out.metadata()),
            attributes: attributes_of!(out),
            storage_class: out.storage_class().map(|c| c.as_str().to_string()),
        };
        // The server was asked too, but some (moto) ignore conditions on HEAD; evaluating
        // them on the metadata it returned gives the same answer everywhere.
        check_get(self.provider(), &meta, opts)?;
        Ok(GetResult::from_bytes(meta, 0..0, Bytes::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_quoted_once() {
        assert_eq!(quote("abc"), "\"abc\"");
        assert_eq!(quote("\"abc\""), "\"abc\"");
        assert_eq!(unquote(Some("\"abc-2\"")).as_deref(), Some("abc-2"));
    }
}
