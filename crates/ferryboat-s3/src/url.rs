//! Opening a store from a URL, with credentials from the environment.

use std::sync::Arc;

use ferryboat_core::prefix::PrefixStore;
use ferryboat_core::{Error, ObjectPath, ObjectStore, Result};
use ferryboat_providers::{Addressing, Provider};
use percent_encoding::percent_decode_str;

use crate::config::{aws_quirks, Credentials, S3Config};
use crate::options::{apply_network, flag, S3ConfigKey, S3Options};
use crate::store::S3Store;
use ferryboat_core::options::{parse_key, ConfigKey};

/// Opens the bucket (and key prefix) a URL names.
///
/// Forms:
/// - `s3://bucket/prefix?region=eu-west-3` — AWS, credentials from the SDK default chain;
/// - `s3://bucket/prefix?endpoint=https://host&region=r&path_style=true&provider=id` — any
///   S3 server; without `provider` the conservative `generic` profile applies;
/// - `<provider>://<region>/<bucket>/<prefix>` — a catalogue provider, e.g.
///   `scaleway://fr-par/my-bucket`, `ovh://gra/b`, `hetzner://fsn1/b`; template variables
///   as query parameters (`r2://auto/b?account=…`);
/// - `<provider>://<bucket>/<prefix>?endpoint=…` — self-hosted software without a fixed
///   endpoint (`minio://b?endpoint=http://127.0.0.1:9000`).
///
/// Other query parameters: any [`S3ConfigKey`] but the credentials, e.g. `allow_http=true`
/// (plain HTTP off the loopback interface), `path_style=true|false`, `connect_timeout=5s`,
/// `max_attempts=5`; anything else is an error naming the valid ones.
///
/// Credentials, first found wins: `FERRY_<PROVIDER>_ACCESS_KEY_ID` /
/// `FERRY_<PROVIDER>_SECRET_ACCESS_KEY` (`<PROVIDER>` is the catalogue id upper-cased with
/// `-` as `_`, e.g. `FERRY_SCALEWAY_ACCESS_KEY_ID`; each also as `…_FILE`, a file holding the
/// value), so keys for two clouds can sit side by side for a mirror; then
/// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`); for AWS itself,
/// the whole SDK default chain. [`open_url_with`] takes them as options too.
///
/// ```no_run
/// # async fn demo() -> ferryboat_core::Result<()> {
/// let url = url::Url::parse("scaleway://fr-par/my-bucket/backups").unwrap();
/// let store = ferryboat_s3::open_url(&url).await?;
/// println!("{:?}", store.info());
/// # Ok(()) }
/// ```
pub async fn open_url(url: &url::Url) -> Result<Arc<dyn ObjectStore>> {
    open_url_with(url, &S3Options::new()).await
}

/// As [`open_url`], with options that take precedence over the URL's query and the
/// environment (see [`S3ConfigKey`] for the keys).
///
/// Precedence, first found wins: `options`; the URL's query (any key but the credentials,
/// which never belong in a URL); for the credentials and the network keys
/// (`connect_timeout`, `request_timeout`, `read_timeout`, `max_attempts`), the variables
/// `FERRY_<PROVIDER>_<KEY>` and `FERRY_<PROVIDER>_<KEY>_FILE` (a file holding the value:
/// `FERRY_SCALEWAY_SECRET_ACCESS_KEY_FILE=/run/secrets/scw`); then `AWS_ACCESS_KEY_ID` /
/// `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`; for AWS itself, the SDK default chain.
///
/// ```no_run
/// # async fn demo() -> ferryboat_core::Result<()> {
/// use ferryboat_s3::{S3ConfigKey, S3Options};
/// let url = url::Url::parse("s3://backups?endpoint=https://s3.example.eu").unwrap();
/// let options = S3Options::new()
///     .with(S3ConfigKey::AccessKeyId, "AKIDEXAMPLE")
///     .with(S3ConfigKey::SecretAccessKey, "s3cr3t")
///     .with(S3ConfigKey::Region, "eu-central-1");
/// let store = ferryboat_s3::open_url_with(&url, &options).await?;
/// # Ok(()) }
/// ```
pub async fn open_url_with(url: &url::Url, options: &S3Options) -> Result<Arc<dyn ObjectStore>> {
    let (config, prefix) = config_from_url_with(url, &|name| std::env::var(name).ok(), options)?;
    let store: Arc<dyn ObjectStore> = Arc::new(S3Store::new(config)?);
    Ok(match prefix {
        Some(prefix) => Arc::new(PrefixStore::new(store, prefix)),
        None => store,
    })
}

/// The keys read from `FERRY_<PROVIDER>_*` variables: credentials and network settings, not
/// the keys that decide what a URL means.
const ENV_KEYS: &[S3ConfigKey] = &[
    S3ConfigKey::AccessKeyId,
    S3ConfigKey::SecretAccessKey,
    S3ConfigKey::SessionToken,
    S3ConfigKey::ConnectTimeout,
    S3ConfigKey::RequestTimeout,
    S3ConfigKey::ReadTimeout,
    S3ConfigKey::MaxAttempts,
];

/// The configuration and key prefix a URL names, reading variables through `env`.
#[cfg(test)]
pub(crate) fn config_from_url(
    url: &url::Url,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(S3Config, Option<ObjectPath>)> {
    config_from_url_with(url, env, &S3Options::new())
}

/// The configuration and key prefix a URL and `explicit` options name, reading variables
/// through `env`.
pub(crate) fn config_from_url_with(
    url: &url::Url,
    env: &dyn Fn(&str) -> Option<String>,
    explicit: &S3Options,
) -> Result<(S3Config, Option<ObjectPath>)> {
    use S3ConfigKey as K;
    let shown = redacted(url);
    let bad = |why: String| Error::invalid_config(format!("`{shown}`: {why}"));
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials do not belong in the URL; set them in the environment".into()));
    }
    // The query: option keys, and the provider's template variables (checked below).
    let mut from_url = S3Options::new();
    let mut vars: Vec<(String, String)> = Vec::new();
    for (k, v) in url.query_pairs() {
        match parse_key::<S3ConfigKey>(&k) {
            Some(key) if key.is_secret() || key == K::AccessKeyId => {
                return Err(bad(format!(
                    "`{}` does not belong in the URL, where logs and shell history keep it; give it as an option, \
                     in the remotes file or in the environment",
                    key.name()
                )))
            }
            Some(key) => from_url.set(key, v.into_owned()),
            None => vars.push((k.into_owned(), v.into_owned())),
        }
    }
    let given = explicit.clone().or(&from_url);
    let param = |key: S3ConfigKey| given.get(key).map(str::to_string);
    let host = url.host_str().map(percent_decode).transpose()?.unwrap_or_default();
    let mut segments: Vec<String> =
        url.path_segments().map(|s| s.map(percent_decode).collect::<Result<Vec<_>>>()).transpose()?.unwrap_or_default();

    let scheme = url.scheme();
    let (provider, bucket, region, endpoint) = if scheme == "s3" {
        let provider_id = param(K::Provider).unwrap_or_else(|| {
            if param(K::Endpoint).is_some() {
                "generic".to_string()
            } else {
                "aws".to_string()
            }
        });
        let provider = ferryboat_providers::catalogue().get(&provider_id)?;
        let region = param(K::Region);
        let endpoint = match param(K::Endpoint) {
            Some(e) => Some(e),
            None if provider.id == "aws" => None,
            None => match &region {
                Some(r) => Some(provider.endpoint(r)?),
                None => return Err(bad(format!("provider `{}` needs `region=` or `endpoint=`", provider.id))),
            },
        };
        (provider, host, region, endpoint)
    } else {
        let provider = ferryboat_providers::catalogue().get(scheme)?;
        if given.get(K::Provider).is_some() {
            return Err(bad("the scheme already names the provider; drop `provider=`".into()));
        }
        if provider.has_endpoint() && param(K::Endpoint).is_none() {
            // <provider>://<region>/<bucket>/<prefix>
            let region_code = host;
            provider.region(&region_code)?;
            if segments.is_empty() {
                return Err(bad(format!("no bucket: expected {scheme}://<region>/<bucket>[/<prefix>]")));
            }
            let bucket = segments.remove(0);
            let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let endpoint = provider.endpoint_with(&region_code, &pairs)?;
            (provider, bucket, Some(region_code), Some(endpoint))
        } else {
            // <provider>://<bucket>/<prefix>?endpoint=…
            let Some(endpoint) = param(K::Endpoint) else {
                return Err(bad(format!(
                    "provider `{}` has no fixed endpoint: add `?endpoint=https://your-server`",
                    provider.id
                )));
            };
            let region = param(K::Region).or_else(|| provider.default_region().map(|r| r.code.clone()));
            (provider, host, region, Some(endpoint))
        }
    };
    let template_vars = !provider.variables.is_empty();
    for (k, _) in &vars {
        if !(template_vars && provider.variables.contains_key(k)) {
            let known: Vec<&str> =
                S3ConfigKey::ALL.iter().filter(|k| !k.is_secret() && **k != K::AccessKeyId).map(|k| k.name()).collect();
            return Err(bad(format!("unknown parameter `{k}`; known: {}", known.join(", "))));
        }
    }
    if bucket.is_empty() {
        return Err(bad("no bucket name".into()));
    }
    let opts = given.or(&env_only(S3Options::from_env(&env_prefix(&provider.id), env)?));

    let mut config = S3Config::new(bucket).with_provider(&provider.id).with_quirks(if provider.id == "aws" {
        aws_quirks()
    } else {
        provider.quirks.clone()
    });
    config.region = region.or_else(|| provider.default_region().map(|r| r.code.clone()));
    config.endpoint = endpoint;
    config.path_style =
        flag(&opts, K::PathStyle)?.unwrap_or(provider.addressing == Addressing::Path || is_self_hosted(provider));
    config.allow_http = flag(&opts, K::AllowHttp)?.unwrap_or(false);
    let mut config = apply_network(config, &opts)?;
    config.credentials = credentials(provider, &opts, env)?;
    let prefix = ObjectPath::from_url_segments(&segments).map_err(|e| bad(format!("key prefix: {e}")))?;
    Ok((config, prefix))
}

/// The options among `all` that may come from the environment ([`ENV_KEYS`]).
fn env_only(all: S3Options) -> S3Options {
    let mut out = S3Options::new();
    for key in ENV_KEYS {
        if let Some(v) = all.get(*key) {
            out.set(*key, v);
        }
    }
    out
}

fn is_self_hosted(provider: &Provider) -> bool {
    provider.is_self_hosted() || !provider.has_endpoint()
}

fn percent_decode(s: &str) -> Result<String> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| Error::invalid_config(format!("`{s}` is not valid UTF-8 once decoded")))
}

/// The URL for messages: without user info, query string or fragment, which may carry
/// credentials (a parameter's value is quoted only when it is the one at fault).
fn redacted(url: &url::Url) -> String {
    ferryboat_core::redact::redact_url(url.as_str())
}

/// The environment variable prefix for a provider: `FERRY_SCALEWAY_`.
pub fn env_prefix(provider_id: &str) -> String {
    let id: String =
        provider_id.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("FERRY_{id}_")
}

fn credentials(provider: &Provider, opts: &S3Options, env: &dyn Fn(&str) -> Option<String>) -> Result<Credentials> {
    let prefix = env_prefix(&provider.id);
    let (id_var, secret_var) = (format!("{prefix}ACCESS_KEY_ID"), format!("{prefix}SECRET_ACCESS_KEY"));
    match (opts.get(S3ConfigKey::AccessKeyId), opts.get(S3ConfigKey::SecretAccessKey)) {
        (Some(id), Some(secret)) => {
            return Ok(Credentials::Static {
                access_key_id: id.to_string(),
                secret_access_key: secret.to_string(),
                session_token: opts.get(S3ConfigKey::SessionToken).map(str::to_string),
            })
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(Error::invalid_config(format!(
                "provider `{}`: access_key_id and secret_access_key go together, and only one is set \
                 (by options or {id_var} / {secret_var})",
                provider.id
            )))
        }
        (None, None) => {}
    }
    if provider.id == "aws" {
        return Ok(Credentials::DefaultChain);
    }
    let var = |name: &str| env(name).filter(|v| !v.is_empty());
    if let (Some(id), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        return Ok(Credentials::Static {
            access_key_id: id,
            secret_access_key: secret,
            session_token: var("AWS_SESSION_TOKEN"),
        });
    }
    Err(Error::invalid_config(format!(
        "no credentials for provider `{}`: set {id_var} and {secret_var} (or AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY), or give access_key_id and secret_access_key as options",
        provider.id
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "AWS_ACCESS_KEY_ID" => Some("AKIDGENERIC".into()),
            "AWS_SECRET_ACCESS_KEY" => Some("generic-secret".into()),
            "FERRY_SCALEWAY_ACCESS_KEY_ID" => Some("SCWKEY".into()),
            "FERRY_SCALEWAY_SECRET_ACCESS_KEY" => Some("scw-secret".into()),
            _ => None,
        }
    }

    fn parse(s: &str) -> Result<(S3Config, Option<ObjectPath>)> {
        config_from_url(&url::Url::parse(s).unwrap(), &env)
    }

    fn access_key(c: &S3Config) -> &str {
        match &c.credentials {
            Credentials::Static { access_key_id, .. } => access_key_id,
            Credentials::DefaultChain => "<default chain>",
        }
    }

    #[test]
    fn aws_urls() {
        let (c, prefix) = parse("s3://my-bucket/some/prefix?region=eu-west-3").unwrap();
        assert_eq!((c.bucket.as_str(), c.provider.as_str()), ("my-bucket", "aws"));
        assert_eq!(c.region.as_deref(), Some("eu-west-3"));
        assert_eq!(c.endpoint, None);
        assert_eq!(prefix.unwrap().as_str(), "some/prefix");
        assert_eq!(access_key(&c), "<default chain>");
        assert_eq!(c.quirks.checksums, ferryboat_providers::ChecksumMode::Always);
    }

    #[test]
    fn s3_urls_with_an_endpoint_use_the_generic_profile() {
        let (c, prefix) = parse("s3://b?endpoint=http://127.0.0.1:9000&path_style=true").unwrap();
        assert_eq!(c.provider, "generic");
        assert_eq!(c.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(c.path_style);
        assert!(prefix.is_none());
        assert_eq!(access_key(&c), "AKIDGENERIC");
        assert_eq!(c.quirks.checksums, ferryboat_providers::ChecksumMode::WhenRequired);
    }

    #[test]
    fn provider_urls() {
        let (c, prefix) = parse("scaleway://fr-par/my-bucket/a/b").unwrap();
        assert_eq!(c.provider, "scaleway");
        assert_eq!(c.region.as_deref(), Some("fr-par"));
        assert_eq!(c.endpoint.as_deref(), Some("https://s3.fr-par.scw.cloud"));
        assert_eq!(c.bucket, "my-bucket");
        assert_eq!(prefix.unwrap().as_str(), "a/b");
        assert_eq!(access_key(&c), "SCWKEY", "provider-specific keys win over AWS_*");
        assert_eq!(c.quirks.max_parts, 1000);

        let (c, _) = parse("ovh://gra/b").unwrap();
        assert_eq!(c.endpoint.as_deref(), Some("https://s3.gra.io.cloud.ovh.net"));
        assert_eq!(access_key(&c), "AKIDGENERIC");
        let (c, _) = parse("hetzner://fsn1/b").unwrap();
        assert!(c.endpoint.as_deref().unwrap().contains("fsn1"), "{:?}", c.endpoint);

        let (c, prefix) = parse("minio://bucket/p?endpoint=http://127.0.0.1:9000").unwrap();
        assert_eq!((c.provider.as_str(), c.bucket.as_str()), ("minio", "bucket"));
        assert!(c.path_style);
        assert_eq!(prefix.unwrap().as_str(), "p");
    }

    #[test]
    fn url_prefixes_keep_empty_segments_and_drop_one_trailing_slash() {
        for (url, prefix) in [
            ("s3://b", None),
            ("s3://b/", None),
            ("s3://b/p/", Some("p")),
            ("s3://b/a//c/", Some("a//c")),
            ("s3://b/a%00b", Some("a\0b")),
        ] {
            let (_, p) = parse(url).unwrap();
            assert_eq!(p.as_ref().map(|p| p.as_str()), prefix, "{url}");
        }
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        for (url, expected) in [
            ("nimbus://x/b", "unknown provider `nimbus`"),
            ("scaleway://mars-1/b", "unknown region `mars-1`"),
            ("scaleway://fr-par", "no bucket"),
            ("minio://b", "add `?endpoint="),
            ("s3://b?regoin=eu-west-1", "unknown parameter `regoin`"),
            ("s3://b?path_style=maybe", "`path_style`: \"maybe\" is not true or false"),
            ("s3://key:secret@b", "credentials do not belong in the URL"),
            ("s3://b//", "key prefix"),
        ] {
            match parse(url) {
                Ok((c, p)) => panic!("{url} was accepted: {c:?} {p:?}"),
                Err(e) => {
                    assert!(matches!(e, Error::InvalidConfig { .. }), "{url}: {e:?}");
                    assert!(e.to_string().contains(expected), "{url}: {e}");
                    assert!(!e.to_string().contains("secret"), "{url}: {e}");
                }
            }
        }
    }

    #[test]
    fn options_win_over_the_url_and_the_url_over_the_environment() {
        let env = |name: &str| match name {
            "FERRY_GENERIC_ACCESS_KEY_ID" => Some("ENVKEY".into()),
            "FERRY_GENERIC_SECRET_ACCESS_KEY" => Some("env-secret".into()),
            "FERRY_GENERIC_MAX_ATTEMPTS" => Some("7".into()),
            "FERRY_GENERIC_REGION" => Some("ignored-region".into()),
            _ => None,
        };
        let url = url::Url::parse("s3://b?endpoint=http://127.0.0.1:9000&region=from-url&connect_timeout=2s").unwrap();
        let (c, _) = config_from_url_with(&url, &env, &S3Options::new()).unwrap();
        assert_eq!(access_key(&c), "ENVKEY");
        assert_eq!((c.region.as_deref(), c.retry.max_attempts), (Some("from-url"), 7), "region: URL; attempts: env");
        assert_eq!(c.connect_timeout, std::time::Duration::from_secs(2));
        let opts = S3Options::new()
            .with(S3ConfigKey::AccessKeyId, "OPTKEY")
            .with(S3ConfigKey::SecretAccessKey, "opt-secret")
            .with(S3ConfigKey::Region, "from-options")
            .with(S3ConfigKey::MaxAttempts, "1")
            .with(S3ConfigKey::RequestTimeout, "90s");
        let (c, _) = config_from_url_with(&url, &env, &opts).unwrap();
        assert_eq!((access_key(&c), c.region.as_deref(), c.retry.max_attempts), ("OPTKEY", Some("from-options"), 1));
        assert_eq!(c.operation_timeout, Some(std::time::Duration::from_secs(90)));
        // An endpoint given only as an option makes an s3:// URL a generic server's.
        let (c, _) = config_from_url_with(
            &url::Url::parse("s3://b").unwrap(),
            &env,
            &S3Options::new().with(S3ConfigKey::Endpoint, "http://127.0.0.1:1"),
        )
        .unwrap();
        assert_eq!((c.provider.as_str(), access_key(&c)), ("generic", "ENVKEY"));
    }

    #[test]
    fn secrets_never_come_from_the_url_and_bad_values_are_named() {
        for url in
            ["s3://b?secret_access_key=TOPSECRET", "s3://b?aws_session_token=TOPSECRET", "s3://b?access_key_id=A"]
        {
            let err = parse(url).unwrap_err();
            assert!(err.to_string().contains("does not belong in the URL"), "{url}: {err}");
            assert!(!err.to_string().contains("TOPSECRET"), "{err}");
        }
        let err = parse("s3://b?endpoint=http://127.0.0.1:1&max_attempts=0").unwrap_err();
        assert!(err.to_string().contains("max_attempts"), "{err}");
        let err = parse("s3://b?endpoint=http://127.0.0.1:1&connect_timeout=soon").unwrap_err();
        assert!(err.to_string().contains("connect_timeout"), "{err}");
        let only_id = S3Options::new().with(S3ConfigKey::AccessKeyId, "X");
        let err = config_from_url_with(&url::Url::parse("ovh://gra/b").unwrap(), &|_| None, &only_id).unwrap_err();
        assert!(err.to_string().contains("go together"), "{err}");
    }

    #[test]
    fn secrets_from_files_named_in_the_environment() {
        let file = std::env::temp_dir().join(format!("ferry-s3-secret-{}", std::process::id()));
        std::fs::write(&file, "file-secret\n").unwrap();
        let path = file.display().to_string();
        let env = move |name: &str| match name {
            "FERRY_OVH_ACCESS_KEY_ID" => Some("OVHKEY".to_string()),
            "FERRY_OVH_SECRET_ACCESS_KEY_FILE" => Some(path.clone()),
            _ => None,
        };
        let (c, _) = config_from_url(&url::Url::parse("ovh://gra/b").unwrap(), &env).unwrap();
        match &c.credentials {
            Credentials::Static { secret_access_key, .. } => assert_eq!(secret_access_key, "file-secret"),
            other => panic!("{other:?}"),
        }
        std::fs::remove_file(&file).unwrap();
        let err = config_from_url(&url::Url::parse("ovh://gra/b").unwrap(), &env).unwrap_err();
        assert!(err.to_string().contains("secret_access_key_file"), "{err}");
    }

    #[test]
    fn missing_credentials_name_the_variables() {
        let none = |_: &str| None;
        let err = config_from_url(&url::Url::parse("ovh://gra/b").unwrap(), &none).unwrap_err();
        assert!(err.to_string().contains("FERRY_OVH_ACCESS_KEY_ID"), "{err}");
    }
}
