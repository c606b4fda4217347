//! Where a container lives and how to authenticate to it: explicit settings, the usual
//! `AZURE_STORAGE_*` variables, and connection strings.

use std::fmt;
use std::time::Duration;

use ferryboat_core::retry::RetryPolicy;
use ferryboat_core::{Error, Result};
use url::Url;

/// Azurite's development account (documented by Microsoft, the same on every machine).
pub const EMULATOR_ACCOUNT: &str = "devstoreaccount1";
/// Azurite's development account key: public, documented by Microsoft, not a secret.
pub const EMULATOR_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// How requests are authorised. Secrets are never printed: `Debug` shows only the kind.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AzureCredentials {
    /// The storage account's shared key (base64), as shown under "Access keys".
    AccessKey(String),
    /// A SAS token: the query string of a SAS URL (`sv=…&sig=…`, with or without `?`).
    SasToken(String),
    /// An OAuth bearer token for `https://storage.azure.com/` obtained elsewhere.
    BearerToken(String),
    /// Microsoft Entra ID from the environment, tried in this order: client secret
    /// (`AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`, `AZURE_TENANT_ID`), workload identity
    /// (`AZURE_FEDERATED_TOKEN_FILE`), Azure CLI (`AZURE_USE_AZURE_CLI=true`), then managed
    /// identity.
    EntraId,
    /// No credentials: public containers only.
    Anonymous,
}

impl AzureCredentials {
    /// The kind of credential, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            AzureCredentials::AccessKey(_) => "account key",
            AzureCredentials::SasToken(_) => "SAS token",
            AzureCredentials::BearerToken(_) => "bearer token",
            AzureCredentials::EntraId => "Entra ID",
            AzureCredentials::Anonymous => "anonymous",
        }
    }
}

impl fmt::Debug for AzureCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AzureCredentials::AccessKey(_) | AzureCredentials::SasToken(_) | AzureCredentials::BearerToken(_) => {
                write!(f, "{}(<redacted>)", self.kind())
            }
            _ => f.write_str(self.kind()),
        }
    }
}

/// Everything needed to open one container.
///
/// ```
/// use ferryboat_azure::AzureConfig;
/// let config = AzureConfig::new("myaccount", "backups").with_access_key("c2VjcmV0");
/// assert!(!format!("{config:?}").contains("c2VjcmV0"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct AzureConfig {
    pub(crate) account: String,
    pub(crate) container: String,
    pub(crate) endpoint: Option<String>,
    pub(crate) credentials: AzureCredentials,
    pub(crate) region: Option<String>,
    pub(crate) network: Network,
}

/// How long to wait and how often to try again. Defaults give up on an unreachable or silent
/// server within seconds, not the minutes `object_store` allows by default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Network {
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub request_timeout: Option<Duration>,
    /// Every request's retries: this crate's own calls run on it, `object_store`'s retry
    /// settings are derived from it.
    pub retry: RetryPolicy,
}

/// Default time allowed to open a connection (TCP and TLS).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time allowed between two reads of an answer (headers or body).
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default number of retries of a failed idempotent request.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// Default time after the first attempt past which a request is not retried.
pub const DEFAULT_RETRY_TIMEOUT: Duration = Duration::from_secs(30);

impl Default for Network {
    fn default() -> Self {
        Network {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            request_timeout: None,
            retry: RetryPolicy::default()
                .with_max_attempts(DEFAULT_MAX_RETRIES + 1)
                .with_max_elapsed(DEFAULT_RETRY_TIMEOUT),
        }
    }
}

impl fmt::Debug for AzureConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureConfig")
            .field("account", &self.account)
            .field("container", &self.container)
            .field("endpoint", &self.endpoint)
            .field("credentials", &self.credentials)
            .field("region", &self.region)
            .field("network", &self.network)
            .finish()
    }
}

fn env(names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| std::env::var(n).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()))
}

impl AzureConfig {
    /// A container of `account` at `https://ACCOUNT.blob.core.windows.net`, authenticated with
    /// Entra ID until told otherwise.
    pub fn new(account: impl Into<String>, container: impl Into<String>) -> Self {
        AzureConfig {
            account: account.into(),
            container: container.into(),
            endpoint: None,
            credentials: AzureCredentials::EntraId,
            region: None,
            network: Network::default(),
        }
    }

    /// A container on Azurite at `endpoint` (`http://127.0.0.1:10000/devstoreaccount1`) with the
    /// development account and its well-known key.
    pub fn emulator(endpoint: impl Into<String>, container: impl Into<String>) -> Self {
        AzureConfig::new(EMULATOR_ACCOUNT, container).with_endpoint(endpoint).with_access_key(EMULATOR_KEY)
    }

    /// Settings from the environment, for `container`:
    ///
    /// - `AZURE_STORAGE_CONNECTION_STRING`, if set, decides everything; otherwise
    /// - the account from `AZURE_STORAGE_ACCOUNT` (or `AZURE_STORAGE_ACCOUNT_NAME`),
    /// - the endpoint from `AZURE_STORAGE_ENDPOINT` (default `https://ACCOUNT.blob.core.windows.net`),
    /// - credentials from the first of `AZURE_STORAGE_KEY` / `AZURE_STORAGE_ACCESS_KEY` /
    ///   `AZURE_STORAGE_ACCOUNT_KEY`, `AZURE_STORAGE_SAS_TOKEN`, `AZURE_STORAGE_TOKEN`, else
    ///   Entra ID (see [`AzureCredentials::EntraId`]).
    pub fn from_env(container: impl Into<String>) -> Result<Self> {
        let container = container.into();
        if let Some(cs) = env(&["AZURE_STORAGE_CONNECTION_STRING"]) {
            return AzureConfig::from_connection_string(&cs, container);
        }
        let account = env(&["AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_ACCOUNT_NAME"]).ok_or_else(|| {
            Error::invalid_config(
                "no Azure storage account: set AZURE_STORAGE_ACCOUNT or AZURE_STORAGE_CONNECTION_STRING, \
                 or use azure://ACCOUNT/CONTAINER",
            )
        })?;
        let mut config = AzureConfig::new(account, container);
        config.endpoint = env(&["AZURE_STORAGE_ENDPOINT"]);
        config.credentials = credentials_from_env();
        Ok(config)
    }

    /// Settings from a connection string as the Azure portal shows it
    /// (`DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…;EndpointSuffix=core.windows.net`),
    /// including `BlobEndpoint=…`, `SharedAccessSignature=…` and `UseDevelopmentStorage=true`.
    ///
    /// ```
    /// use ferryboat_azure::AzureConfig;
    /// let cs = "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=a2V5;EndpointSuffix=core.windows.net";
    /// let config = AzureConfig::from_connection_string(cs, "logs").unwrap();
    /// assert_eq!(config.endpoint(), "https://acme.blob.core.windows.net");
    /// ```
    pub fn from_connection_string(cs: &str, container: impl Into<String>) -> Result<Self> {
        let mut fields = std::collections::HashMap::new();
        for part in cs.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((k, v)) = part.split_once('=') else {
                // Never echo the part: it may be a key.
                return Err(Error::invalid_config("connection string: every field must be NAME=VALUE"));
            };
            fields.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
        let container = container.into();
        if fields.get("usedevelopmentstorage").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            let endpoint = fields
                .get("developmentstorageproxyuri")
                .map(|u| format!("{}/{EMULATOR_ACCOUNT}", u.trim_end_matches('/')))
                .unwrap_or_else(|| format!("http://127.0.0.1:10000/{EMULATOR_ACCOUNT}"));
            return Ok(AzureConfig::emulator(endpoint, container));
        }
        let account = fields.get("accountname").cloned();
        let endpoint = match fields.get("blobendpoint") {
            Some(e) => Some(e.trim_end_matches('/').to_owned()),
            None => account.as_ref().map(|a| {
                let protocol = fields.get("defaultendpointsprotocol").map(String::as_str).unwrap_or("https");
                let suffix = fields.get("endpointsuffix").map(String::as_str).unwrap_or("core.windows.net");
                format!("{protocol}://{a}.blob.{suffix}")
            }),
        };
        let account = match (account, &endpoint) {
            (Some(a), _) => a,
            (None, Some(e)) => account_from_endpoint(e)
                .ok_or_else(|| Error::invalid_config("connection string: no AccountName and none in BlobEndpoint"))?,
            (None, None) => return Err(Error::invalid_config("connection string: no AccountName or BlobEndpoint")),
        };
        let credentials = if let Some(key) = fields.get("accountkey") {
            AzureCredentials::AccessKey(key.clone())
        } else if let Some(sas) = fields.get("sharedaccesssignature") {
            AzureCredentials::SasToken(sas.clone())
        } else {
            AzureCredentials::EntraId
        };
        Ok(AzureConfig { account, container, endpoint, credentials, region: None, network: Network::default() })
    }

    /// Authenticates with the account's shared key.
    pub fn with_access_key(mut self, key: impl Into<String>) -> Self {
        self.credentials = AzureCredentials::AccessKey(key.into());
        self
    }

    /// Authenticates with a SAS token (`sv=…&sig=…`).
    pub fn with_sas_token(mut self, token: impl Into<String>) -> Self {
        self.credentials = AzureCredentials::SasToken(token.into());
        self
    }

    /// Sets the credentials.
    pub fn with_credentials(mut self, credentials: AzureCredentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Sets the account URL (`https://ACCOUNT.blob.core.windows.net`, a private endpoint, or
    /// Azurite's `http://127.0.0.1:PORT/devstoreaccount1`). Plain `http` is accepted for
    /// loopback addresses only.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into().trim_end_matches('/').to_owned());
        self
    }

    /// Sets the account URL to `https://ACCOUNT.blob.{suffix}` for a cloud whose endpoint
    /// suffix is not `core.windows.net` (a sovereign operator of Azure, a national cloud).
    /// The suffix is DNS labels only (`core.example.eu`); anything else is refused.
    ///
    /// ```
    /// use ferryboat_azure::AzureConfig;
    /// let c = AzureConfig::new("acme", "logs").with_endpoint_suffix("core.example.eu").unwrap();
    /// assert_eq!(c.endpoint(), "https://acme.blob.core.example.eu");
    /// assert!(AzureConfig::new("acme", "logs").with_endpoint_suffix("evil.eu/x").is_err());
    /// ```
    pub fn with_endpoint_suffix(self, suffix: &str) -> Result<Self> {
        let s = suffix.trim().trim_matches('.').to_ascii_lowercase();
        let ok = s.split('.').count() >= 2
            && s.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            });
        if !ok {
            return Err(Error::invalid_config(format!(
                "invalid Azure endpoint suffix {suffix:?}: DNS labels such as core.windows.net, without scheme, port or path"
            )));
        }
        let endpoint = format!("https://{}.blob.{s}", self.account);
        Ok(self.with_endpoint(endpoint))
    }

    /// Records the region the account lives in (Azure's URLs do not say), for
    /// [`ferryboat_core::StoreInfo`].
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Time allowed to open a connection, TLS included (default 5 s). An unreachable host
    /// fails after this, then after each retry.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.network.connect_timeout = timeout;
        self
    }

    /// Time allowed between two reads of an answer, headers or body (default 30 s): a server
    /// that stops sending fails the request after this, however large the object.
    pub fn with_read_timeout(mut self, timeout: Duration) -> Self {
        self.network.read_timeout = timeout;
        self
    }

    /// Time allowed for a whole request, body included (default: none, so that large objects
    /// can take as long as they need; the read timeout still catches a silent server).
    pub fn with_request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.network.request_timeout = timeout;
        self
    }

    /// Retries of a failed idempotent request (a transport error, a timeout, 429 or 5xx):
    /// at most `max_retries` (default 3), and none started later than `retry_timeout` after
    /// the first attempt (default 30 s). `with_retries(0, …)` disables them.
    pub fn with_retries(mut self, max_retries: u32, retry_timeout: Duration) -> Self {
        self.network.retry =
            self.network.retry.clone().with_max_attempts(max_retries.saturating_add(1)).with_max_elapsed(retry_timeout);
        self
    }

    /// Sets the retry policy of every request (attempts, backoff, time budget); defaults to
    /// the core's policy with 4 attempts and 30 s.
    pub fn with_retry(mut self, policy: RetryPolicy) -> Self {
        self.network.retry = policy;
        self
    }

    /// The retry policy in use.
    pub fn retry(&self) -> RetryPolicy {
        self.network.retry.clone()
    }

    /// The connect timeout in use.
    pub fn connect_timeout(&self) -> Duration {
        self.network.connect_timeout
    }

    /// The read timeout in use.
    pub fn read_timeout(&self) -> Duration {
        self.network.read_timeout
    }

    /// The whole-request timeout in use, if any.
    pub fn request_timeout(&self) -> Option<Duration> {
        self.network.request_timeout
    }

    /// The retry limits in use: at most this many retries, none after this long.
    pub fn retries(&self) -> (u32, Duration) {
        (self.network.retry.max_attempts - 1, self.network.retry.max_elapsed)
    }

    /// The storage account.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The container.
    pub fn container(&self) -> &str {
        &self.container
    }

    /// The account URL requests go to.
    pub fn endpoint(&self) -> String {
        self.endpoint.clone().unwrap_or_else(|| format!("https://{}.blob.core.windows.net", self.account))
    }

    /// The credentials in use.
    pub fn credentials(&self) -> &AzureCredentials {
        &self.credentials
    }

    /// Checks names and the endpoint; returns the endpoint URL and whether it is plain http.
    pub(crate) fn validate(&self) -> Result<(Url, bool)> {
        if !valid_container(&self.container) {
            return Err(Error::invalid_config(format!(
                "invalid Azure container name {:?}: 3-63 characters, lower-case letters, digits and single \
                 hyphens, starting and ending with a letter or digit",
                self.container
            )));
        }
        if self.account.is_empty() || !self.account.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::invalid_config(format!(
                "invalid Azure storage account name {:?}: letters and digits only",
                self.account
            )));
        }
        let endpoint = self.endpoint();
        let url = Url::parse(&endpoint)
            .map_err(|e| Error::invalid_config(format!("invalid Azure endpoint {endpoint:?}: {e}")))?;
        if url.query().is_some() {
            return Err(Error::invalid_config(
                "the Azure endpoint must not carry a query string; give a SAS token as credentials",
            ));
        }
        match url.scheme() {
            "https" => Ok((url, false)),
            "http" if is_loopback(&url) => Ok((url, true)),
            "http" => Err(Error::invalid_config(format!(
                "plain http is only allowed to a loopback address (an emulator), not {}; use https",
                url.host_str().unwrap_or_default()
            ))),
            other => Err(Error::invalid_config(format!("unsupported scheme {other:?} for an Azure endpoint"))),
        }
    }
}

pub(crate) fn credentials_from_env() -> AzureCredentials {
    if let Some(key) = env(&["AZURE_STORAGE_KEY", "AZURE_STORAGE_ACCESS_KEY", "AZURE_STORAGE_ACCOUNT_KEY"]) {
        AzureCredentials::AccessKey(key)
    } else if let Some(sas) = env(&["AZURE_STORAGE_SAS_TOKEN"]) {
        AzureCredentials::SasToken(sas)
    } else if let Some(token) = env(&["AZURE_STORAGE_TOKEN"]) {
        AzureCredentials::BearerToken(token)
    } else {
        AzureCredentials::EntraId
    }
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    url.host_str().is_some_and(ferryboat_core::redact::is_loopback_host)
}

/// `ACCOUNT` from `https://ACCOUNT.blob.…` or from an emulator's `http://HOST:PORT/ACCOUNT`.
pub(crate) fn account_from_endpoint(endpoint: &str) -> Option<String> {
    let url = Url::parse(endpoint).ok()?;
    if is_loopback(&url) {
        return url.path_segments()?.find(|s| !s.is_empty()).map(str::to_owned);
    }
    let host = url.host_str()?;
    let (account, rest) = host.split_once('.')?;
    rest.starts_with("blob.").then(|| account.to_owned())
}

/// Azure's container naming rules (`$root` and `$web` are the special containers).
fn valid_container(name: &str) -> bool {
    if name == "$root" || name == "$web" {
        return true;
    }
    let b = name.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !name.contains("--")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_strings() {
        let c = AzureConfig::from_connection_string(
            "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=a2V5PT0=;EndpointSuffix=core.windows.net",
            "logs",
        )
        .unwrap();
        assert_eq!(c.account(), "acme");
        assert_eq!(c.endpoint(), "https://acme.blob.core.windows.net");
        // The key keeps its `=` padding.
        assert_eq!(c.credentials(), &AzureCredentials::AccessKey("a2V5PT0=".into()));

        let c = AzureConfig::from_connection_string(
            "BlobEndpoint=https://acme.blob.core.windows.net/;SharedAccessSignature=sv=2022&sig=abc%3D",
            "logs",
        )
        .unwrap();
        assert_eq!(c.account(), "acme");
        assert_eq!(c.credentials(), &AzureCredentials::SasToken("sv=2022&sig=abc%3D".into()));

        let c = AzureConfig::from_connection_string("UseDevelopmentStorage=true", "logs").unwrap();
        assert_eq!(c.endpoint(), "http://127.0.0.1:10000/devstoreaccount1");
        assert_eq!(c.account(), EMULATOR_ACCOUNT);

        let e = AzureConfig::from_connection_string("AccountName=a;AccountKeysecretvalue", "logs").unwrap_err();
        assert!(!e.to_string().contains("secretvalue"), "{e}");
    }

    #[test]
    fn debug_hides_every_secret() {
        for creds in [
            AzureCredentials::AccessKey("S3CR3TKEY".into()),
            AzureCredentials::SasToken("sv=1&sig=S3CR3TKEY".into()),
            AzureCredentials::BearerToken("S3CR3TKEY".into()),
        ] {
            let config = AzureConfig::new("acme", "logs").with_credentials(creds);
            let shown = format!("{config:?} {config:#?}");
            assert!(!shown.contains("S3CR3TKEY"), "{shown}");
            assert!(shown.contains("redacted"), "{shown}");
        }
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let ok = AzureConfig::emulator("http://127.0.0.1:10000/devstoreaccount1", "logs");
        assert!(ok.validate().unwrap().1);
        let remote = AzureConfig::new("acme", "logs").with_endpoint("http://acme.blob.core.windows.net");
        let e = remote.validate().unwrap_err();
        assert!(e.to_string().contains("loopback"), "{e}");
        assert!(!AzureConfig::new("acme", "logs").validate().unwrap().1);
    }

    #[test]
    fn network_settings_default_short_and_can_be_changed() {
        let c = AzureConfig::new("acme", "logs");
        assert_eq!(c.connect_timeout(), DEFAULT_CONNECT_TIMEOUT);
        assert_eq!(c.read_timeout(), DEFAULT_READ_TIMEOUT);
        assert_eq!(c.request_timeout(), None);
        assert_eq!(c.retries(), (DEFAULT_MAX_RETRIES, DEFAULT_RETRY_TIMEOUT));
        assert!(DEFAULT_RETRY_TIMEOUT <= Duration::from_secs(30) && DEFAULT_MAX_RETRIES <= 3);
        let c = c
            .with_connect_timeout(Duration::from_secs(1))
            .with_read_timeout(Duration::from_secs(2))
            .with_request_timeout(Some(Duration::from_secs(3)))
            .with_retries(0, Duration::ZERO);
        assert_eq!(
            (c.connect_timeout(), c.read_timeout(), c.request_timeout(), c.retries()),
            (Duration::from_secs(1), Duration::from_secs(2), Some(Duration::from_secs(3)), (0, Duration::ZERO))
        );
        // Connection strings get the same defaults.
        let cs = AzureConfig::from_connection_string("UseDevelopmentStorage=true", "logs").unwrap();
        assert_eq!(cs.retries(), (DEFAULT_MAX_RETRIES, DEFAULT_RETRY_TIMEOUT));
    }

    #[test]
    fn container_names() {
        for good in ["abc", "my-logs-2026", "$root"] {
            assert!(valid_container(good), "{good}");
        }
        for bad in ["ab", "Logs", "a--b", "-ab", "ab-", "a_b", &"a".repeat(64)] {
            assert!(!valid_container(bad), "{bad}");
            assert!(AzureConfig::new("acme", bad).validate().is_err());
        }
    }
}
