//! `AzureConfigKey`: every setting of an Azure Blob store by name, for
//! [`open_url_with`](crate::open_url_with) and the remotes file.

use ferryboat_core::options::{parse_count, parse_duration, ConfigKey, Options};
use ferryboat_core::{Error, Result};

use crate::config::{AzureConfig, AzureCredentials};

/// A setting of an Azure Blob store, by name.
///
/// | key | aliases | value |
/// |---|---|---|
/// | `account` | `account_name`, `azure_storage_account_name` | storage account (`az://` URLs; others name it) |
/// | `access_key` | `account_key`, `azure_storage_account_key`, `master_key` | the account's shared key (a secret) |
/// | `sas_token` | `sas`, `azure_storage_sas_token` | a SAS token, `sv=…&sig=…` (a secret) |
/// | `bearer_token` | `token`, `azure_storage_token` | an OAuth token for `https://storage.azure.com/` (a secret) |
/// | `endpoint` | `blob_endpoint`, `azure_storage_endpoint` | the account URL |
/// | `endpoint_suffix` | | `https://ACCOUNT.blob.{suffix}` |
/// | `region` | | the account's region, for `StoreInfo` |
/// | `connect_timeout`, `read_timeout`, `request_timeout` | `timeout` for the last | e.g. `5s` |
/// | `max_attempts` | `attempts` | tries per idempotent request, at least 1 |
///
/// One credential key at most; it replaces what the URL or the environment would give.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AzureConfigKey {
    /// Storage account name.
    Account,
    /// Shared key.
    AccessKey,
    /// SAS token.
    SasToken,
    /// OAuth bearer token.
    BearerToken,
    /// Account URL.
    Endpoint,
    /// Endpoint suffix.
    EndpointSuffix,
    /// Region.
    Region,
    /// Time to open a connection.
    ConnectTimeout,
    /// Time between reads of an answer.
    ReadTimeout,
    /// Time for a whole request.
    RequestTimeout,
    /// Tries per idempotent request.
    MaxAttempts,
}

impl ConfigKey for AzureConfigKey {
    const BACKEND: &'static str = "Azure";
    const ALL: &'static [Self] = &[
        AzureConfigKey::Account,
        AzureConfigKey::AccessKey,
        AzureConfigKey::SasToken,
        AzureConfigKey::BearerToken,
        AzureConfigKey::Endpoint,
        AzureConfigKey::EndpointSuffix,
        AzureConfigKey::Region,
        AzureConfigKey::ConnectTimeout,
        AzureConfigKey::ReadTimeout,
        AzureConfigKey::RequestTimeout,
        AzureConfigKey::MaxAttempts,
    ];

    fn name(self) -> &'static str {
        match self {
            AzureConfigKey::Account => "account",
            AzureConfigKey::AccessKey => "access_key",
            AzureConfigKey::SasToken => "sas_token",
            AzureConfigKey::BearerToken => "bearer_token",
            AzureConfigKey::Endpoint => "endpoint",
            AzureConfigKey::EndpointSuffix => "endpoint_suffix",
            AzureConfigKey::Region => "region",
            AzureConfigKey::ConnectTimeout => "connect_timeout",
            AzureConfigKey::ReadTimeout => "read_timeout",
            AzureConfigKey::RequestTimeout => "request_timeout",
            AzureConfigKey::MaxAttempts => "max_attempts",
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            AzureConfigKey::Account => &["account_name", "azure_storage_account_name", "azure_storage_account"],
            AzureConfigKey::AccessKey => {
                &["account_key", "azure_storage_account_key", "azure_storage_key", "master_key"]
            }
            AzureConfigKey::SasToken => &["sas", "azure_storage_sas_token"],
            AzureConfigKey::BearerToken => &["token", "azure_storage_token"],
            AzureConfigKey::Endpoint => &["blob_endpoint", "azure_storage_endpoint"],
            AzureConfigKey::RequestTimeout => &["timeout"],
            AzureConfigKey::MaxAttempts => &["attempts"],
            _ => &[],
        }
    }

    fn is_secret(self) -> bool {
        matches!(self, AzureConfigKey::AccessKey | AzureConfigKey::SasToken | AzureConfigKey::BearerToken)
    }
}

/// Typed Azure options.
pub type AzureOptions = Options<AzureConfigKey>;

/// `config` with `opts` applied (the account excepted: the URL decides where it comes from).
pub(crate) fn apply(mut config: AzureConfig, opts: &AzureOptions) -> Result<AzureConfig> {
    use AzureConfigKey as K;
    if let Some(account) = opts.get(K::Account) {
        if account != config.account() {
            return Err(Error::invalid_config(format!(
                "option `account` says {account:?} but the URL names the account {:?}",
                config.account()
            )));
        }
    }
    let credentials: Vec<AzureCredentials> = [
        opts.get(K::AccessKey).map(|v| AzureCredentials::AccessKey(v.to_string())),
        opts.get(K::SasToken).map(|v| AzureCredentials::SasToken(v.trim_start_matches('?').to_string())),
        opts.get(K::BearerToken).map(|v| AzureCredentials::BearerToken(v.to_string())),
    ]
    .into_iter()
    .flatten()
    .collect();
    match credentials.len() {
        0 => {}
        1 => config = config.with_credentials(credentials.into_iter().next().unwrap_or(AzureCredentials::Anonymous)),
        _ => {
            return Err(Error::invalid_config(
                "give one of access_key, sas_token and bearer_token, not several: which would be used is not clear",
            ))
        }
    }
    match (opts.get(K::Endpoint), opts.get(K::EndpointSuffix)) {
        (Some(_), Some(_)) => return Err(Error::invalid_config("give endpoint or endpoint_suffix, not both")),
        (Some(e), None) => config = config.with_endpoint(e),
        (None, Some(s)) => config = config.with_endpoint_suffix(s)?,
        (None, None) => {}
    }
    if let Some(r) = opts.get(K::Region) {
        config = config.with_region(r);
    }
    if let Some(v) = opts.get(K::ConnectTimeout) {
        config = config.with_connect_timeout(parse_duration(K::ConnectTimeout.name(), v)?);
    }
    if let Some(v) = opts.get(K::ReadTimeout) {
        config = config.with_read_timeout(parse_duration(K::ReadTimeout.name(), v)?);
    }
    if let Some(v) = opts.get(K::RequestTimeout) {
        config = config.with_request_timeout(Some(parse_duration(K::RequestTimeout.name(), v)?));
    }
    if let Some(v) = opts.get(K::MaxAttempts) {
        let attempts = parse_count(K::MaxAttempts.name(), v, 1)?;
        let (_, retry_timeout) = config.retries();
        config = config.with_retries(attempts - 1, retry_timeout);
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn options_replace_credentials_endpoint_and_network() {
        let base = AzureConfig::new("acme", "logs").with_sas_token("sv=1&sig=FROMURL");
        let opts = AzureOptions::new()
            .with(AzureConfigKey::AccessKey, "a2V5")
            .with(AzureConfigKey::EndpointSuffix, "core.example.eu")
            .with(AzureConfigKey::MaxAttempts, "1")
            .with(AzureConfigKey::ConnectTimeout, "2s");
        let c = apply(base.clone(), &opts).unwrap();
        assert_eq!(c.credentials(), &AzureCredentials::AccessKey("a2V5".into()));
        assert_eq!(c.endpoint(), "https://acme.blob.core.example.eu");
        assert_eq!((c.retries().0, c.connect_timeout()), (0, Duration::from_secs(2)));
        assert!(!format!("{opts:?}").contains("a2V5"));

        let two = AzureOptions::new().with(AzureConfigKey::AccessKey, "k").with(AzureConfigKey::SasToken, "s");
        assert!(apply(base.clone(), &two).is_err());
        let other = AzureOptions::new().with(AzureConfigKey::Account, "someoneelse");
        assert!(apply(base.clone(), &other).unwrap_err().to_string().contains("someoneelse"));
        let bad = AzureOptions::new().with(AzureConfigKey::MaxAttempts, "0");
        assert!(apply(base, &bad).unwrap_err().to_string().contains("max_attempts"));
    }
}
