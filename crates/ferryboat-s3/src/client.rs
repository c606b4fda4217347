//! Building the one SDK client a store uses for everything.

use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_credential_types::provider::{error::CredentialsError, future, ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{Region, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use ferryboat_providers::ChecksumMode;
use tokio::sync::OnceCell;

use crate::config::{Credentials, S3Config};

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
        .retry_config(RetryConfig::standard().with_max_attempts(config.max_attempts.max(1)))
        .request_checksum_calculation(request_checksums)
        .response_checksum_validation(response_checksums)
        .force_path_style(config.path_style);
    if let Some(endpoint) = &config.endpoint {
        builder = builder.endpoint_url(endpoint.trim_end_matches('/'));
    }
    builder.push_interceptor(aws_sdk_s3::config::SharedInterceptor::new(crate::limits::BodyLimits));
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
