//! `GcsBuilder`: bucket, endpoint and credentials, from code or the environment.

use std::sync::Arc;
use std::time::Duration;

use ferryboat_core::retry::RetryPolicy;
use ferryboat_core::{Error, Result};
use url::Url;

use crate::auth::{Credentials, ServiceAccount, DEFAULT_UNIVERSE};
use crate::client::Client;
use crate::store::GcsStore;

/// Google's own endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://storage.googleapis.com";

/// Builds a [`GcsStore`].
///
/// Without an explicit endpoint the store talks to Google. With a loopback endpoint (an
/// emulator) and no explicit credentials it sends no credentials at all, so a test can never
/// reach for a token server or the metadata server.
///
/// ```no_run
/// # async fn f() -> ferryboat_core::Result<()> {
/// use ferryboat_gcs::{Credentials, GcsBuilder};
/// let store = GcsBuilder::new("my-bucket")
///     .endpoint("http://127.0.0.1:4443")
///     .credentials(Credentials::Anonymous)
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct GcsBuilder {
    pub(crate) bucket: String,
    pub(crate) endpoint: Option<String>,
    pub(crate) universe_domain: Option<String>,
    credentials: Option<Credentials>,
    url_signer: Option<Arc<ServiceAccount>>,
    check_bucket: bool,
    read_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    pub(crate) retry: Option<RetryPolicy>,
}

/// Time allowed between two reads of an answer unless set otherwise: a server that stops
/// sending ends in a `Unavailable` error instead of a hang.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Time allowed to open a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl GcsBuilder {
    /// A builder for `bucket`.
    pub fn new(bucket: impl Into<String>) -> Self {
        GcsBuilder {
            bucket: bucket.into(),
            endpoint: None,
            universe_domain: None,
            credentials: None,
            url_signer: None,
            check_bucket: true,
            read_timeout: None,
            connect_timeout: None,
            retry: None,
        }
    }

    /// Talks to `endpoint` (an emulator, a sovereign GCS partner) instead of Google. Plain
    /// `http` is accepted only for loopback addresses.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Talks to Cloud Storage in another universe: `storage.{domain}` (S3NS:
    /// `s3nsapis.fr` gives `https://storage.s3nsapis.fr`). An explicit [`endpoint`](Self::endpoint)
    /// still wins (an emulator standing in for it). A service-account key must belong to the
    /// same universe, and its token endpoint lie in it.
    pub fn universe_domain(mut self, domain: impl Into<String>) -> Self {
        self.universe_domain = Some(domain.into());
        self
    }

    /// The endpoint requests go to, as `build` would choose it.
    ///
    /// ```
    /// use ferryboat_gcs::GcsBuilder;
    /// let b = GcsBuilder::new("b").universe_domain("s3nsapis.fr");
    /// assert_eq!(b.resolved_endpoint().unwrap(), "https://storage.s3nsapis.fr");
    /// ```
    pub fn resolved_endpoint(&self) -> Result<String> {
        match (&self.endpoint, &self.universe_domain) {
            (Some(e), _) => validate_endpoint(e),
            (None, Some(u)) => Ok(format!("https://storage.{}", validate_universe(u)?)),
            (None, None) => Ok(DEFAULT_ENDPOINT.to_string()),
        }
    }

    /// Uses these credentials instead of looking them up.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Signs URLs with this key even when requests authenticate otherwise (for instance
    /// anonymously against an emulator). A service-account credential signs by default.
    pub fn url_signer(mut self, key: Arc<ServiceAccount>) -> Self {
        self.url_signer = Some(key);
        self
    }

    /// Whether `build` reads the bucket first (default: yes), which turns a missing bucket
    /// into `NotFound` at once and fills in its location.
    pub fn check_bucket(mut self, check: bool) -> Self {
        self.check_bucket = check;
        self
    }

    /// How long a read may wait for the server's next bytes (default
    /// [`DEFAULT_READ_TIMEOUT`]); a large object may take any time as long as bytes flow.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// How long opening a connection may take (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How every request is retried (default [`RetryPolicy::backend`]): reads, listings,
    /// deletes and unconditional writes on failure; a conditional write only once a read
    /// shows that it did not land; a conditional compose or rewrite never.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Applies `FERRY_GCS_ENDPOINT` or `STORAGE_EMULATOR_HOST` if no endpoint is set, and
    /// `GOOGLE_CLOUD_UNIVERSE_DOMAIN` (as Google's SDKs read it) if no universe is.
    pub fn with_env(mut self) -> Self {
        if self.endpoint.is_none() {
            self.endpoint = env_endpoint();
        }
        if self.universe_domain.is_none() {
            self.universe_domain = std::env::var("GOOGLE_CLOUD_UNIVERSE_DOMAIN").ok().filter(|u| !u.trim().is_empty());
        }
        self
    }

    /// Validates the configuration and makes the store.
    pub async fn build(self) -> Result<GcsStore> {
        validate_bucket(&self.bucket)?;
        let endpoint = self.resolved_endpoint()?;
        let universe = match &self.universe_domain {
            Some(u) => validate_universe(u)?,
            None => DEFAULT_UNIVERSE.to_string(),
        };
        let credentials = match self.credentials {
            Some(c) => c,
            None if is_loopback_endpoint(&endpoint) => Credentials::Anonymous,
            None => Credentials::from_env().await?,
        };
        if let Credentials::ServiceAccount(sa) = &credentials {
            sa.check_universe(&universe)?;
        }
        // Bodies are served as stored: a feature another crate enables on reqwest must not
        // make it undo a `Content-Encoding: gzip` object.
        let http = reqwest::Client::builder()
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .no_zstd()
            .connect_timeout(self.connect_timeout.unwrap_or(CONNECT_TIMEOUT))
            .read_timeout(self.read_timeout.unwrap_or(DEFAULT_READ_TIMEOUT))
            .build()
            .map_err(|e| Error::invalid_config(format!("cannot set up the HTTP client: {e}")))?;
        let signer = self.url_signer.or_else(|| credentials.signer());
        let retry = self.retry.unwrap_or_else(RetryPolicy::backend);
        let client = Client { http, endpoint, bucket: self.bucket, credentials, signer, retry };
        GcsStore::new(client, self.check_bucket).await
    }
}

fn env_endpoint() -> Option<String> {
    if let Some(e) = std::env::var("FERRY_GCS_ENDPOINT").ok().filter(|e| !e.is_empty()) {
        return Some(e);
    }
    // Google's SDKs read STORAGE_EMULATOR_HOST as `host:port` or as a URL.
    let host = std::env::var("STORAGE_EMULATOR_HOST").ok().filter(|e| !e.is_empty())?;
    Some(if host.contains("://") { host } else { format!("http://{host}") })
}

/// Bucket names per Google's rules (lower case letters, digits, `-`, `_`, `.`; 3–222 bytes).
fn validate_bucket(bucket: &str) -> Result<()> {
    let ok_chars = bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
    let ok_ends = bucket.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bucket.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric());
    if (3..=222).contains(&bucket.len()) && ok_chars && ok_ends {
        Ok(())
    } else {
        Err(Error::invalid_config(format!(
            "invalid GCS bucket name {bucket:?}: 3-222 characters of a-z, 0-9, '-', '_', '.', starting and ending with a letter or digit"
        )))
    }
}

/// Checks an endpoint and returns it without a trailing slash.
fn validate_endpoint(endpoint: &str) -> Result<String> {
    let url = Url::parse(endpoint).map_err(|e| Error::invalid_config(format!("invalid GCS endpoint: {e}")))?;
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_config("a GCS endpoint takes no credentials, query or fragment"));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(Error::invalid_config(
                "plain http is allowed only for loopback endpoints (emulators); use https",
            ))
        }
        other => return Err(Error::invalid_config(format!("GCS endpoint scheme must be https, not {other:?}"))),
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// A universe domain: DNS labels, no scheme, port or path (`s3nsapis.fr`).
fn validate_universe(domain: &str) -> Result<String> {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels_ok = d.split('.').count() >= 2
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if labels_ok && d.len() <= 253 {
        Ok(d)
    } else {
        Err(Error::invalid_config(format!(
            "invalid universe domain {domain:?}: a domain such as s3nsapis.fr, without scheme, port or path"
        )))
    }
}

fn is_loopback(url: &Url) -> bool {
    url.host_str().is_some_and(ferryboat_core::redact::is_loopback_host)
}

fn is_loopback_endpoint(endpoint: &str) -> bool {
    Url::parse(endpoint).is_ok_and(|u| is_loopback(&u))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_checked() {
        assert_eq!(validate_endpoint("http://127.0.0.1:4443/").unwrap(), "http://127.0.0.1:4443");
        assert!(validate_endpoint("http://[::1]:1").is_ok());
        assert!(validate_endpoint("http://localhost:1").is_ok());
        assert!(validate_endpoint("https://storage.example.eu").is_ok());
        for bad in ["http://10.0.0.1:4443", "http://storage.example.eu", "ftp://x", "https://u:p@x", "nonsense"] {
            assert!(matches!(validate_endpoint(bad), Err(Error::InvalidConfig { .. })), "{bad}");
        }
    }

    #[test]
    fn universe_domains_build_the_endpoint() {
        let b = GcsBuilder::new("b").universe_domain("S3NSAPIS.fr");
        assert_eq!(b.resolved_endpoint().unwrap(), "https://storage.s3nsapis.fr");
        assert_eq!(GcsBuilder::new("b").resolved_endpoint().unwrap(), DEFAULT_ENDPOINT);
        let emulated = GcsBuilder::new("b").universe_domain("s3nsapis.fr").endpoint("http://127.0.0.1:9");
        assert_eq!(emulated.resolved_endpoint().unwrap(), "http://127.0.0.1:9", "an explicit endpoint wins");
        for bad in ["https://s3nsapis.fr", "s3nsapis.fr:443", "s3nsapis.fr/x", "localhost", "a..fr", "-a.fr", ""] {
            let err = GcsBuilder::new("b").universe_domain(bad).resolved_endpoint();
            assert!(matches!(err, Err(Error::InvalidConfig { .. })), "{bad:?}");
        }
    }

    #[test]
    fn bucket_names_are_checked() {
        assert!(validate_bucket("my-bucket.eu_1").is_ok());
        for bad in ["", "ab", "Upper", "-lead", "trail-", "sp ace", "a/b"] {
            assert!(matches!(validate_bucket(bad), Err(Error::InvalidConfig { .. })), "{bad:?}");
        }
    }
}
