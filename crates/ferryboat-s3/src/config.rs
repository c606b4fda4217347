//! `S3Config`: everything needed to reach one bucket, with secrets kept out of `Debug`.

use std::fmt;
use std::time::Duration;

use aws_sdk_s3::config::{Intercept, SharedInterceptor};
use ferryboat_core::retry::RetryPolicy;
use ferryboat_core::{Capabilities, Error, Result};
use ferryboat_providers::Quirks;

/// Where the SDK gets its credentials from.
#[derive(Clone, Default)]
pub enum Credentials {
    /// Fixed keys (and an optional session token for temporary credentials).
    Static {
        /// Access key id (not secret, but still only shown in part).
        access_key_id: String,
        /// Secret access key.
        secret_access_key: String,
        /// Session token of temporary credentials.
        session_token: Option<String>,
    },
    /// The AWS SDK default chain: environment, shared profile files, web identity, ECS and
    /// EC2 instance metadata. Meant for AWS itself.
    #[default]
    DefaultChain,
}

impl Credentials {
    /// Fixed access and secret keys.
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Credentials::Static {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Static { access_key_id, session_token, .. } => f
                .debug_struct("Static")
                .field("access_key_id", &redact_id(access_key_id))
                .field("secret_access_key", &"<redacted>")
                .field("session_token", &session_token.as_ref().map(|_| "<redacted>"))
                .finish(),
            Credentials::DefaultChain => f.write_str("DefaultChain"),
        }
    }
}

/// The first four characters of a key id: enough to tell keys apart in a log, too little to
/// use.
fn redact_id(id: &str) -> String {
    let shown: String = id.chars().take(4).collect();
    format!("{shown}…")
}

/// Configuration of an [`S3Store`](crate::S3Store).
///
/// Build it with [`S3Config::new`] and the `with_*` methods, or get one from a URL with
/// [`open_url`](crate::open_url). `Debug` never prints secrets.
///
/// ```
/// use ferryboat_s3::{Credentials, S3Config};
/// let config = S3Config::new("my-bucket")
///     .with_region("fr-par")
///     .with_endpoint("https://s3.fr-par.scw.cloud")
///     .with_credentials(Credentials::new("SCWXXXXXXXX", "my-s3cr3t"));
/// assert!(!format!("{config:?}").contains("my-s3cr3t"));
/// ```
#[derive(Clone)]
pub struct S3Config {
    /// Bucket name.
    pub bucket: String,
    /// Signing region; `us-east-1` when unset and no default chain supplies one.
    pub region: Option<String>,
    /// Endpoint URL; `None` means AWS's own endpoint for the region.
    pub endpoint: Option<String>,
    /// `https://endpoint/bucket/key` rather than `https://bucket.endpoint/key`.
    pub path_style: bool,
    /// Credentials.
    pub credentials: Credentials,
    /// How the server departs from AWS S3.
    pub quirks: Quirks,
    /// Provider id for `StoreInfo` and errors (`aws`, `scaleway`, `minio`, …).
    pub provider: String,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for one whole operation (all attempts); `None`: no limit, since a
    /// large object may legitimately take long.
    pub operation_timeout: Option<Duration>,
    /// Time allowed between bytes while reading a response.
    pub read_timeout: Option<Duration>,
    /// Allow a plain `http://` endpoint on a host other than the loopback interface.
    pub allow_http: bool,
    /// How requests are retried: the core's one policy, carried out by the SDK's retry
    /// settings (attempts and backoff derived from it). [`RetryPolicy::none`] leaves
    /// retrying to a layer above (`ferryboat_core::layers::RetryStore`).
    pub retry: RetryPolicy,
    /// Replaces the capabilities derived from the quirks (for servers whose gaps the quirks
    /// do not describe, such as listings without etags).
    pub capabilities: Option<Capabilities>,
    /// Objects larger than this are copied with multipart `UploadPartCopy` instead of
    /// `CopyObject`. Default: 5 GiB, CopyObject's limit (above it the switch happens on the
    /// server's refusal, at no cost for smaller objects); a lower value costs a HEAD per copy.
    pub multipart_copy_threshold: u64,
    /// SDK interceptors run on every request (observability, request inspection in tests).
    pub(crate) interceptors: Vec<SharedInterceptor>,
}

impl S3Config {
    /// A configuration for `bucket` with AWS defaults: default credential chain, full
    /// checksums, virtual-hosted addressing.
    pub fn new(bucket: impl Into<String>) -> Self {
        S3Config {
            bucket: bucket.into(),
            region: None,
            endpoint: None,
            path_style: false,
            credentials: Credentials::DefaultChain,
            quirks: aws_quirks(),
            provider: "aws".to_string(),
            connect_timeout: Duration::from_secs(10),
            operation_timeout: None,
            read_timeout: Some(Duration::from_secs(60)),
            allow_http: false,
            retry: RetryPolicy::backend(),
            capabilities: None,
            multipart_copy_threshold: 5 * 1024 * 1024 * 1024,
            interceptors: Vec::new(),
        }
    }

    /// Sets the signing region.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Sets the endpoint URL.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Chooses path-style addressing.
    pub fn with_path_style(mut self, path_style: bool) -> Self {
        self.path_style = path_style;
        self
    }

    /// Sets the credentials.
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Sets the server's quirks.
    pub fn with_quirks(mut self, quirks: Quirks) -> Self {
        self.quirks = quirks;
        self
    }

    /// Sets the provider id.
    pub fn with_provider(mut self, provider: impl Into<String>) -> Self {
        self.provider = provider.into();
        self
    }

    /// Sets the connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the whole-operation timeout.
    pub fn with_operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = Some(timeout);
        self
    }

    /// Allows a plain-HTTP endpoint off the loopback interface.
    pub fn with_allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Sets the retry policy of every request.
    pub fn with_retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Sets the attempts per request (at least 1) of the retry policy, keeping its backoff.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.retry = self.retry.with_max_attempts(attempts);
        self
    }

    /// Replaces the capabilities derived from the quirks.
    pub fn with_capabilities(mut self, caps: Capabilities) -> Self {
        self.capabilities = Some(caps);
        self
    }

    /// Adds an SDK interceptor that sees every request and response (for metrics, tracing,
    /// or tests that inspect what goes on the wire).
    pub fn with_interceptor(mut self, interceptor: impl Intercept + 'static) -> Self {
        self.interceptors.push(SharedInterceptor::new(interceptor));
        self
    }

    /// Checks the configuration for mistakes the SDK would only report later, or never.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.bucket.is_empty() {
            return Err(Error::invalid_config("S3 bucket name is empty"));
        }
        if self.bucket.len() > 255 || self.bucket.contains('/') || self.bucket.chars().any(|c| c.is_control()) {
            return Err(Error::invalid_config(format!("`{}` is not a valid S3 bucket name", self.bucket)));
        }
        if let Some(endpoint) = &self.endpoint {
            // Not echoed: a string that does not parse may still hold a password.
            let url = url::Url::parse(endpoint)
                .map_err(|e| Error::invalid_config(format!("the S3 endpoint is not a URL: {e}")))?;
            if !url.username().is_empty() || url.password().is_some() {
                return Err(Error::invalid_config(
                    "S3 endpoint must not carry credentials; give them as access and secret keys",
                ));
            }
            match url.scheme() {
                "https" => {}
                "http" if self.allow_http || is_loopback(&url) => {}
                "http" => {
                    return Err(Error::invalid_config(format!(
                        "S3 endpoint `{endpoint}` is plain HTTP on a non-loopback host: requests and keys' \
                         signatures would travel unencrypted; use https or set allow_http=true"
                    )))
                }
                other => return Err(Error::invalid_config(format!("S3 endpoint scheme `{other}` is not http(s)"))),
            }
        }
        if self.quirks.batch_delete_max == 0 || self.quirks.max_parts == 0 {
            return Err(Error::invalid_config("quirks: batch_delete_max and max_parts must be at least 1"));
        }
        Ok(())
    }
}

/// Whether uploads must sign their body (SHA-256 of every byte, in the signature). Only where
/// the body could be altered on its way: plain HTTP off this machine. Over HTTPS the TLS
/// channel already protects it (the AWS Java and Go SDKs skip payload signing there too), and
/// on the loopback interface nothing stands in between; skipping it saves a full hash pass
/// over every uploaded byte. Where the provider takes checksums, the SDK still sends one.
pub(crate) fn signs_payload(endpoint: Option<&str>) -> bool {
    match endpoint.map(url::Url::parse) {
        None => false, // the provider's own https endpoint
        Some(Ok(url)) => url.scheme() != "https" && !is_loopback(&url),
        Some(Err(_)) => true,
    }
}

/// Whether the URL's host is the loopback interface.
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    url.host_str().is_some_and(ferryboat_core::redact::is_loopback_host)
}

/// AWS S3 itself: everything on, full checksums.
pub fn aws_quirks() -> Quirks {
    Quirks {
        checksums: ferryboat_providers::ChecksumMode::Always,
        delete_needs_content_md5: false,
        put_if_none_match: true,
        put_if_match: true,
        versioning: true,
        ..Quirks::default()
    }
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("path_style", &self.path_style)
            .field("credentials", &self.credentials)
            .field("provider", &self.provider)
            .field("quirks", &self.quirks)
            .field("connect_timeout", &self.connect_timeout)
            .field("operation_timeout", &self.operation_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("allow_http", &self.allow_http)
            .field("retry", &self.retry)
            .field("multipart_copy_threshold", &self.multipart_copy_threshold)
            .field("interceptors", &self.interceptors.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_every_secret() {
        let config = S3Config::new("b").with_credentials(Credentials::Static {
            access_key_id: "AKIAEXAMPLEKEYID".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG".into(),
            session_token: Some("FwoGZXIvYXdzEJr-session".into()),
        });
        let shown = format!("{config:?} {config:#?}");
        for secret in ["wJalrXUtnFEMI", "FwoGZXIvYXdzEJr", "AKIAEXAMPLEKEYID"] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
        assert!(shown.contains("AKIA…"), "the key id's first characters identify it: {shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn bodies_are_signed_only_where_they_could_be_altered_in_transit() {
        assert!(!signs_payload(None), "AWS itself: https");
        assert!(!signs_payload(Some("https://s3.fr-par.scw.cloud")));
        assert!(!signs_payload(Some("http://127.0.0.1:9000")));
        assert!(!signs_payload(Some("http://localhost:9000")));
        assert!(signs_payload(Some("http://minio.internal:9000")), "plain HTTP across a network");
        assert!(signs_payload(Some("not a url")));
    }

    #[test]
    fn plain_http_needs_loopback_or_consent() {
        let local = S3Config::new("b").with_endpoint("http://127.0.0.1:9000");
        assert!(local.validate().is_ok());
        let remote = S3Config::new("b").with_endpoint("http://s3.example.com");
        let err = remote.clone().validate().unwrap_err();
        assert!(err.to_string().contains("allow_http"), "{err}");
        assert!(remote.with_allow_http(true).validate().is_ok());
        let with_keys = S3Config::new("b").with_endpoint("https://user:pw@s3.example.com");
        let err = with_keys.validate().unwrap_err();
        assert!(!err.to_string().contains("pw"), "{err}");
        assert!(S3Config::new("").validate().is_err());
        assert!(S3Config::new("a/b").validate().is_err());
    }
}
