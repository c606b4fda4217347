//! `S3ConfigKey`: every setting of an S3 store by name, for
//! [`open_url_with`](crate::open_url_with), the remotes file and the environment.

use ferryboat_core::options::{parse_bool, parse_count, parse_duration, ConfigKey, Options};
use ferryboat_core::Result;

use crate::config::S3Config;

/// A setting of an S3 store, by name.
///
/// | key | aliases | value |
/// |---|---|---|
/// | `access_key_id` | `aws_access_key_id`, `access_key` | access key id |
/// | `secret_access_key` | `aws_secret_access_key`, `secret_key` | secret key (a secret) |
/// | `session_token` | `aws_session_token`, `token` | session token of temporary keys (a secret) |
/// | `region` | `aws_region`, `aws_default_region` | signing region |
/// | `endpoint` | `aws_endpoint`, `aws_endpoint_url`, `endpoint_url` | endpoint URL |
/// | `path_style` | `force_path_style` | `true`: `https://endpoint/bucket/key` |
/// | `allow_http` | `aws_allow_http` | `true`: plain HTTP off the loopback interface |
/// | `provider` | | catalogue id of the server's profile (`s3://` URLs only) |
/// | `connect_timeout` | | e.g. `5s` |
/// | `request_timeout` | `operation_timeout`, `timeout` | one whole operation, every attempt |
/// | `read_timeout` | | longest wait for the next bytes of an answer |
/// | `max_attempts` | `attempts`, `aws_max_attempts` | tries per request, at least 1 |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum S3ConfigKey {
    /// Access key id.
    AccessKeyId,
    /// Secret access key.
    SecretAccessKey,
    /// Session token.
    SessionToken,
    /// Signing region.
    Region,
    /// Endpoint URL.
    Endpoint,
    /// Path-style addressing.
    PathStyle,
    /// Plain HTTP off the loopback interface.
    AllowHttp,
    /// Catalogue provider id.
    Provider,
    /// Time to open a connection.
    ConnectTimeout,
    /// Time for one whole operation.
    RequestTimeout,
    /// Time between bytes of an answer.
    ReadTimeout,
    /// Tries per request.
    MaxAttempts,
}

impl ConfigKey for S3ConfigKey {
    const BACKEND: &'static str = "S3";
    const ALL: &'static [Self] = &[
        S3ConfigKey::AccessKeyId,
        S3ConfigKey::SecretAccessKey,
        S3ConfigKey::SessionToken,
        S3ConfigKey::Region,
        S3ConfigKey::Endpoint,
        S3ConfigKey::PathStyle,
        S3ConfigKey::AllowHttp,
        S3ConfigKey::Provider,
        S3ConfigKey::ConnectTimeout,
        S3ConfigKey::RequestTimeout,
        S3ConfigKey::ReadTimeout,
        S3ConfigKey::MaxAttempts,
    ];

    fn name(self) -> &'static str {
        match self {
            S3ConfigKey::AccessKeyId => "access_key_id",
            S3ConfigKey::SecretAccessKey => "secret_access_key",
            S3ConfigKey::SessionToken => "session_token",
            S3ConfigKey::Region => "region",
            S3ConfigKey::Endpoint => "endpoint",
            S3ConfigKey::PathStyle => "path_style",
            S3ConfigKey::AllowHttp => "allow_http",
            S3ConfigKey::Provider => "provider",
            S3ConfigKey::ConnectTimeout => "connect_timeout",
            S3ConfigKey::RequestTimeout => "request_timeout",
            S3ConfigKey::ReadTimeout => "read_timeout",
            S3ConfigKey::MaxAttempts => "max_attempts",
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            S3ConfigKey::AccessKeyId => &["aws_access_key_id", "access_key"],
            S3ConfigKey::SecretAccessKey => &["aws_secret_access_key", "secret_key"],
            S3ConfigKey::SessionToken => &["aws_session_token", "token"],
            S3ConfigKey::Region => &["aws_region", "aws_default_region"],
            S3ConfigKey::Endpoint => &["aws_endpoint", "aws_endpoint_url", "endpoint_url"],
            S3ConfigKey::PathStyle => &["force_path_style"],
            S3ConfigKey::AllowHttp => &["aws_allow_http"],
            S3ConfigKey::RequestTimeout => &["operation_timeout", "timeout"],
            S3ConfigKey::MaxAttempts => &["attempts", "aws_max_attempts"],
            _ => &[],
        }
    }

    fn is_secret(self) -> bool {
        matches!(self, S3ConfigKey::SecretAccessKey | S3ConfigKey::SessionToken)
    }
}

/// Typed S3 options.
pub type S3Options = Options<S3ConfigKey>;

/// Applies the network settings among `opts` (timeouts, attempts) to `config`.
pub(crate) fn apply_network(mut config: S3Config, opts: &S3Options) -> Result<S3Config> {
    use S3ConfigKey as K;
    if let Some(v) = opts.get(K::ConnectTimeout) {
        config = config.with_connect_timeout(parse_duration(K::ConnectTimeout.name(), v)?);
    }
    if let Some(v) = opts.get(K::RequestTimeout) {
        config = config.with_operation_timeout(parse_duration(K::RequestTimeout.name(), v)?);
    }
    if let Some(v) = opts.get(K::ReadTimeout) {
        config.read_timeout = Some(parse_duration(K::ReadTimeout.name(), v)?);
    }
    if let Some(v) = opts.get(K::MaxAttempts) {
        config = config.with_max_attempts(parse_count(K::MaxAttempts.name(), v, 1)?);
    }
    Ok(config)
}

/// `true`/`false` for a flag key, if set.
pub(crate) fn flag(opts: &S3Options, key: S3ConfigKey) -> Result<Option<bool>> {
    opts.get(key).map(|v| parse_bool(key.name(), v)).transpose()
}
