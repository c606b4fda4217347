//! `GcsConfigKey`: every setting of a Cloud Storage store by name, for
//! [`open_url_with`](crate::open_url_with) and the remotes file.

use std::sync::Arc;

use ferryboat_core::options::{parse_count, parse_duration, ConfigKey, Options};
use ferryboat_core::retry::RetryPolicy;
use ferryboat_core::{Error, Result};

use crate::auth::{Credentials, ServiceAccount};
use crate::config::GcsBuilder;

/// A setting of a Cloud Storage store, by name.
///
/// | key | aliases | value |
/// |---|---|---|
/// | `endpoint` | `gcs_endpoint` | the JSON API's base URL (an emulator, a partner) |
/// | `universe_domain` | `google_cloud_universe_domain` | `storage.{domain}` (S3NS: `s3nsapis.fr`) |
/// | `service_account_path` | `service_account`, `google_service_account`, `google_application_credentials` | path of a service-account JSON key |
/// | `service_account_key` | `google_service_account_key` | the JSON key itself (a secret; `service_account_key_file` reads it from a file) |
/// | `token` | `bearer_token`, `oauth_token` | a bearer token obtained elsewhere (a secret) |
/// | `connect_timeout`, `read_timeout` | | e.g. `5s` |
/// | `max_attempts` | `attempts` | tries per request, at least 1 (the rest of [`RetryPolicy::backend`] stays) |
///
/// One credential key at most; it replaces what the environment would give.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GcsConfigKey {
    /// API base URL.
    Endpoint,
    /// Universe domain.
    UniverseDomain,
    /// Path of a service-account key file.
    ServiceAccountPath,
    /// A service-account key, as JSON.
    ServiceAccountKey,
    /// Bearer token.
    Token,
    /// Time to open a connection.
    ConnectTimeout,
    /// Time between reads of an answer.
    ReadTimeout,
    /// Tries per request.
    MaxAttempts,
}

impl ConfigKey for GcsConfigKey {
    const BACKEND: &'static str = "GCS";
    const ALL: &'static [Self] = &[
        GcsConfigKey::Endpoint,
        GcsConfigKey::UniverseDomain,
        GcsConfigKey::ServiceAccountPath,
        GcsConfigKey::ServiceAccountKey,
        GcsConfigKey::Token,
        GcsConfigKey::ConnectTimeout,
        GcsConfigKey::ReadTimeout,
        GcsConfigKey::MaxAttempts,
    ];

    fn name(self) -> &'static str {
        match self {
            GcsConfigKey::Endpoint => "endpoint",
            GcsConfigKey::UniverseDomain => "universe_domain",
            GcsConfigKey::ServiceAccountPath => "service_account_path",
            GcsConfigKey::ServiceAccountKey => "service_account_key",
            GcsConfigKey::Token => "token",
            GcsConfigKey::ConnectTimeout => "connect_timeout",
            GcsConfigKey::ReadTimeout => "read_timeout",
            GcsConfigKey::MaxAttempts => "max_attempts",
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            GcsConfigKey::Endpoint => &["gcs_endpoint"],
            GcsConfigKey::UniverseDomain => &["google_cloud_universe_domain"],
            GcsConfigKey::ServiceAccountPath => {
                &["service_account", "google_service_account", "google_application_credentials"]
            }
            GcsConfigKey::ServiceAccountKey => &["google_service_account_key"],
            GcsConfigKey::Token => &["bearer_token", "oauth_token"],
            GcsConfigKey::MaxAttempts => &["attempts"],
            _ => &[],
        }
    }

    fn is_secret(self) -> bool {
        matches!(self, GcsConfigKey::ServiceAccountKey | GcsConfigKey::Token)
    }
}

/// Typed GCS options.
pub type GcsOptions = Options<GcsConfigKey>;

/// `builder` with `opts` applied.
pub(crate) fn apply(mut builder: GcsBuilder, opts: &GcsOptions) -> Result<GcsBuilder> {
    use GcsConfigKey as K;
    if let Some(e) = opts.get(K::Endpoint) {
        builder = builder.endpoint(e);
    }
    if let Some(u) = opts.get(K::UniverseDomain) {
        builder = builder.universe_domain(u);
    }
    let given =
        [K::ServiceAccountPath, K::ServiceAccountKey, K::Token].iter().filter(|k| opts.get(**k).is_some()).count();
    if given > 1 {
        return Err(Error::invalid_config(
            "give one of service_account_path, service_account_key and token, not several",
        ));
    }
    if let Some(path) = opts.get(K::ServiceAccountPath) {
        builder = builder.credentials(Credentials::ServiceAccount(Arc::new(ServiceAccount::from_file(path)?)));
    }
    if let Some(json) = opts.get(K::ServiceAccountKey) {
        builder = builder.credentials(Credentials::ServiceAccount(Arc::new(ServiceAccount::from_json(json)?)));
    }
    if let Some(token) = opts.get(K::Token) {
        builder = builder.credentials(Credentials::Token(token.to_string()));
    }
    if let Some(v) = opts.get(K::ConnectTimeout) {
        builder = builder.connect_timeout(parse_duration(K::ConnectTimeout.name(), v)?);
    }
    if let Some(v) = opts.get(K::ReadTimeout) {
        builder = builder.read_timeout(parse_duration(K::ReadTimeout.name(), v)?);
    }
    if let Some(v) = opts.get(K::MaxAttempts) {
        builder = builder.retry(RetryPolicy::backend().with_max_attempts(parse_count(K::MaxAttempts.name(), v, 1)?));
    }
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_attempts_sets_the_attempts_of_the_backend_policy() {
        let opts = GcsOptions::parse([("attempts", "4")]).unwrap();
        let retry = apply(GcsBuilder::new("b"), &opts).unwrap().retry.unwrap();
        assert_eq!(retry.max_attempts, 4);
        assert_eq!(retry.max_backoff, RetryPolicy::backend().max_backoff);
        let zero = GcsOptions::parse([("max_attempts", "0")]).unwrap();
        assert!(apply(GcsBuilder::new("b"), &zero).unwrap_err().to_string().contains("max_attempts"));
    }
}
