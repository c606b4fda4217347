//! Credentials: anonymous, a static bearer token, a service-account key, or application
//! default credentials (which may end at the metadata server).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use ferryboat_core::{Error, Result};
use gcp_auth::{CustomServiceAccount, TokenProvider};
use serde::Deserialize;

use crate::PROVIDER;

/// OAuth scope for reading and writing objects (compose and rewrite included).
const SCOPE: &str = "https://www.googleapis.com/auth/devstorage.read_write";

/// Google's public universe.
pub const DEFAULT_UNIVERSE: &str = "googleapis.com";

/// How a [`GcsStore`](crate::GcsStore) authenticates.
///
/// `Debug` never prints a token or a key.
#[derive(Clone)]
pub enum Credentials {
    /// No `Authorization` header: public buckets and emulators.
    Anonymous,
    /// A bearer token obtained elsewhere (e.g. `gcloud auth print-access-token`); it is not
    /// refreshed.
    Token(String),
    /// A service-account key: tokens are minted and refreshed locally, and signed URLs can be
    /// made.
    ServiceAccount(Arc<ServiceAccount>),
    /// Application default credentials: the key file named by `GOOGLE_APPLICATION_CREDENTIALS`,
    /// the gcloud user's credentials, then the metadata server of the machine.
    ApplicationDefault(Arc<dyn TokenProvider>),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::Token(_) => f.write_str("Token(<redacted>)"),
            Credentials::ServiceAccount(sa) => write!(f, "ServiceAccount({})", sa.client_email),
            Credentials::ApplicationDefault(_) => f.write_str("ApplicationDefault"),
        }
    }
}

/// A service-account key: its email (which names the signer of a URL) and the key itself.
pub struct ServiceAccount {
    pub(crate) client_email: String,
    pub(crate) inner: CustomServiceAccount,
    /// The universe the key belongs to (`googleapis.com` unless the key says otherwise).
    pub(crate) universe_domain: String,
    /// Where its tokens are minted; also the audience of the assertion that asks for one.
    pub(crate) token_uri: String,
}

impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount").field("client_email", &self.client_email).finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct KeyFileHead {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    client_email: String,
    #[serde(default)]
    universe_domain: Option<String>,
    #[serde(default)]
    token_uri: String,
}

impl ServiceAccount {
    /// Reads a service-account JSON key (the file the Cloud console downloads).
    pub fn from_json(json: &str) -> Result<Self> {
        let head: KeyFileHead = serde_json::from_str(json)
            .map_err(|e| Error::invalid_config(format!("service-account key is not valid JSON: {e}")))?;
        if head.kind != "service_account" || head.client_email.is_empty() {
            return Err(Error::invalid_config(format!(
                "credentials of type {:?} are not a service-account key (expected \"service_account\" with a client_email)",
                head.kind
            )));
        }
        let inner = CustomServiceAccount::from_json(json)
            .map_err(|e| Error::invalid_config(format!("service-account key rejected: {e}")))?;
        let universe_domain = head.universe_domain.filter(|u| !u.is_empty()).unwrap_or_else(|| DEFAULT_UNIVERSE.into());
        Ok(ServiceAccount { client_email: head.client_email, inner, universe_domain, token_uri: head.token_uri })
    }

    /// Reads a service-account JSON key from a file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path)
            .map_err(|e| Error::invalid_config(format!("cannot read credentials file {}: {e}", path.display())))?;
        Self::from_json(&json)
    }

    /// The universe domain the key belongs to (`googleapis.com`, `s3nsapis.fr`, …).
    pub fn universe_domain(&self) -> &str {
        &self.universe_domain
    }

    /// Refuses a key of another universe than `universe`, or one whose token endpoint lies
    /// outside it: its tokens would be minted, or its assertion sent, to the wrong cloud.
    pub(crate) fn check_universe(&self, universe: &str) -> Result<()> {
        if !self.universe_domain.eq_ignore_ascii_case(universe) {
            return Err(Error::invalid_config(format!(
                "the service-account key belongs to the universe {:?} but the store is in {universe:?}: use a key of that universe",
                self.universe_domain
            )));
        }
        let host = url::Url::parse(&self.token_uri).ok().and_then(|u| u.host_str().map(str::to_ascii_lowercase));
        let in_universe = host.as_deref().is_some_and(|h| {
            h == universe
                || h.ends_with(&format!(".{}", universe.to_ascii_lowercase()))
                || ferryboat_core::redact::is_loopback_host(h)
        });
        if !in_universe {
            return Err(Error::invalid_config(format!(
                "the service-account key's token_uri is not in the universe {universe:?}: refusing to send its assertion there"
            )));
        }
        Ok(())
    }

    /// The account's email.
    pub fn email(&self) -> &str {
        &self.client_email
    }

    /// RSA-SHA256 signature of `data` with the account's key.
    pub(crate) fn sign(&self, data: &[u8]) -> Result<Vec<u8>> {
        self.inner
            .signer()
            .sign(data)
            .map_err(|e| Error::generic(PROVIDER, "", "signing with the service-account key failed", Some(Box::new(e))))
    }
}

impl Credentials {
    /// A service-account key read from a file.
    pub fn service_account_file(path: impl AsRef<Path>) -> Result<Self> {
        Ok(Credentials::ServiceAccount(Arc::new(ServiceAccount::from_file(path)?)))
    }

    /// Application default credentials, looked up the way Google's SDKs do. On a machine
    /// outside Google Cloud without a key file this probes the metadata server, so never use
    /// it against an emulator.
    pub async fn application_default() -> Result<Self> {
        let provider = gcp_auth::provider().await.map_err(|e| Error::Unauthenticated {
            provider: PROVIDER.into(),
            message: format!("no application default credentials found: {e}"),
            details: Default::default(),
        })?;
        Ok(Credentials::ApplicationDefault(provider))
    }

    /// The credentials ferry picks for a real (non-loopback) endpoint when none are given:
    /// `GOOGLE_OAUTH_ACCESS_TOKEN`, then `GOOGLE_APPLICATION_CREDENTIALS` if it holds a
    /// service-account key, then application default credentials.
    pub async fn from_env() -> Result<Self> {
        if let Some(token) = std::env::var("GOOGLE_OAUTH_ACCESS_TOKEN").ok().filter(|t| !t.is_empty()) {
            return Ok(Credentials::Token(token));
        }
        if let Some(file) = std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS").filter(|f| !f.is_empty()) {
            let json = std::fs::read_to_string(&file)
                .map_err(|e| Error::invalid_config(format!("cannot read GOOGLE_APPLICATION_CREDENTIALS file: {e}")))?;
            let is_sa = serde_json::from_str::<KeyFileHead>(&json).map(|h| h.kind == "service_account");
            if let Ok(true) = is_sa {
                return Ok(Credentials::ServiceAccount(Arc::new(ServiceAccount::from_json(&json)?)));
            }
        }
        Self::application_default().await
    }

    /// The `Authorization` header value, if any.
    pub(crate) async fn header(&self) -> Result<Option<String>> {
        let token = match self {
            Credentials::Anonymous => return Ok(None),
            Credentials::Token(t) => return Ok(Some(format!("Bearer {t}"))),
            Credentials::ServiceAccount(sa) => sa.inner.token(&[SCOPE]).await,
            Credentials::ApplicationDefault(p) => p.token(&[SCOPE]).await,
        };
        let token = token.map_err(|e| Error::Unauthenticated {
            provider: PROVIDER.into(),
            message: format!("could not obtain an access token: {e}"),
            details: Default::default(),
        })?;
        Ok(Some(format!("Bearer {}", token.as_str())))
    }

    /// The service account, where one can sign.
    pub(crate) fn signer(&self) -> Option<Arc<ServiceAccount>> {
        match self {
            Credentials::ServiceAccount(sa) => Some(sa.clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let c = Credentials::Token("ya29.secret-token".into());
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn rejects_keys_that_are_not_service_accounts() {
        let err = ServiceAccount::from_json(r#"{"type":"authorized_user","client_id":"x"}"#).unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
        assert!(err.to_string().contains("authorized_user"));
        let err = ServiceAccount::from_json("not json").unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
    }
}
