//! Opening a store from a URL, with credentials from the environment.

use std::sync::Arc;

use ferryboat_core::prefix::PrefixStore;
use ferryboat_core::{Error, ObjectPath, ObjectStore, Result};
use ferryboat_providers::{Addressing, Provider};
use percent_encoding::percent_decode_str;

use crate::config::{aws_quirks, Credentials, S3Config};
use crate::store::S3Store;

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
/// Other query parameters: `allow_http=true` (plain HTTP off the loopback interface),
/// `path_style=true|false`.
///
/// Credentials, first found wins: `FERRY_<PROVIDER>_ACCESS_KEY_ID` /
/// `FERRY_<PROVIDER>_SECRET_ACCESS_KEY` (`<PROVIDER>` is the catalogue id upper-cased with
/// `-` as `_`, e.g. `FERRY_SCALEWAY_ACCESS_KEY_ID`), so keys for two clouds can sit side by
/// side for a mirror; then `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (and
/// `AWS_SESSION_TOKEN`); for AWS itself, the whole SDK default chain.
///
/// ```no_run
/// # async fn demo() -> ferryboat_core::Result<()> {
/// let url = url::Url::parse("scaleway://fr-par/my-bucket/backups").unwrap();
/// let store = ferryboat_s3::open_url(&url).await?;
/// println!("{:?}", store.info());
/// # Ok(()) }
/// ```
pub async fn open_url(url: &url::Url) -> Result<Arc<dyn ObjectStore>> {
    let (config, prefix) = config_from_url(url, &|name| std::env::var(name).ok())?;
    let store: Arc<dyn ObjectStore> = Arc::new(S3Store::new(config)?);
    Ok(match prefix {
        Some(prefix) => Arc::new(PrefixStore::new(store, prefix)),
        None => store,
    })
}

/// Query parameters with a meaning here; any other is an error, so a typo is not ignored.
const KNOWN_PARAMS: &[&str] = &["region", "endpoint", "path_style", "provider", "allow_http"];

/// The configuration and key prefix a URL names, reading variables through `env`.
pub(crate) fn config_from_url(
    url: &url::Url,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(S3Config, Option<ObjectPath>)> {
    let shown = redacted(url);
    let bad = |why: String| Error::invalid_config(format!("`{shown}`: {why}"));
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials do not belong in the URL; set them in the environment".into()));
    }
    let params: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let flag = |name: &str| -> Result<Option<bool>> {
        match param(name).as_deref() {
            None => Ok(None),
            Some("true" | "1" | "yes") => Ok(Some(true)),
            Some("false" | "0" | "no") => Ok(Some(false)),
            Some(other) => Err(bad(format!("`{name}={other}` must be true or false"))),
        }
    };
    let host = url.host_str().map(percent_decode).transpose()?.unwrap_or_default();
    let mut segments: Vec<String> =
        url.path_segments().map(|s| s.map(percent_decode).collect::<Result<Vec<_>>>()).transpose()?.unwrap_or_default();

    let scheme = url.scheme();
    let (provider, bucket, region, endpoint) = if scheme == "s3" {
        let provider_id = param("provider").unwrap_or_else(|| {
            if param("endpoint").is_some() {
                "generic".to_string()
            } else {
                "aws".to_string()
            }
        });
        let provider = ferryboat_providers::catalogue().get(&provider_id)?;
        let region = param("region");
        let endpoint = match param("endpoint") {
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
        for (k, _) in &params {
            if k == "provider" {
                return Err(bad("the scheme already names the provider; drop `provider=`".into()));
            }
        }
        if provider.has_endpoint() && param("endpoint").is_none() {
            // <provider>://<region>/<bucket>/<prefix>
            let region_code = host;
            provider.region(&region_code)?;
            if segments.is_empty() {
                return Err(bad(format!("no bucket: expected {scheme}://<region>/<bucket>[/<prefix>]")));
            }
            let bucket = segments.remove(0);
            let vars: Vec<(&str, &str)> = params
                .iter()
                .filter(|(k, _)| !KNOWN_PARAMS.contains(&k.as_str()))
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let endpoint = provider.endpoint_with(&region_code, &vars)?;
            (provider, bucket, Some(region_code), Some(endpoint))
        } else {
            // <provider>://<bucket>/<prefix>?endpoint=…
            let Some(endpoint) = param("endpoint") else {
                return Err(bad(format!(
                    "provider `{}` has no fixed endpoint: add `?endpoint=https://your-server`",
                    provider.id
                )));
            };
            let region = param("region").or_else(|| provider.default_region().map(|r| r.code.clone()));
            (provider, host, region, Some(endpoint))
        }
    };
    let template_vars = !provider.variables.is_empty();
    for (k, _) in &params {
        let known = KNOWN_PARAMS.contains(&k.as_str()) || (template_vars && provider.variables.contains_key(k));
        if !known {
            return Err(bad(format!("unknown parameter `{k}`; known: {}", KNOWN_PARAMS.join(", "))));
        }
    }
    if bucket.is_empty() {
        return Err(bad("no bucket name".into()));
    }

    let mut config = S3Config::new(bucket).with_provider(&provider.id).with_quirks(if provider.id == "aws" {
        aws_quirks()
    } else {
        provider.quirks.clone()
    });
    config.region = region.or_else(|| provider.default_region().map(|r| r.code.clone()));
    config.endpoint = endpoint;
    config.path_style =
        flag("path_style")?.unwrap_or(provider.addressing == Addressing::Path || is_self_hosted(provider));
    config.allow_http = flag("allow_http")?.unwrap_or(false);
    config.credentials = credentials(provider, env)?;
    let prefix = ObjectPath::from_url_segments(&segments).map_err(|e| bad(format!("key prefix: {e}")))?;
    Ok((config, prefix))
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

fn credentials(provider: &Provider, env: &dyn Fn(&str) -> Option<String>) -> Result<Credentials> {
    let prefix = env_prefix(&provider.id);
    let pick = |names: [&str; 3]| -> Option<Credentials> {
        let id = env(names[0]).filter(|v| !v.is_empty())?;
        let secret = env(names[1]).filter(|v| !v.is_empty())?;
        Some(Credentials::Static {
            access_key_id: id,
            secret_access_key: secret,
            session_token: env(names[2]).filter(|v| !v.is_empty()),
        })
    };
    let ferry =
        [format!("{prefix}ACCESS_KEY_ID"), format!("{prefix}SECRET_ACCESS_KEY"), format!("{prefix}SESSION_TOKEN")];
    if let Some(c) = pick([&ferry[0], &ferry[1], &ferry[2]]) {
        return Ok(c);
    }
    if provider.id == "aws" {
        return Ok(Credentials::DefaultChain);
    }
    if let Some(c) = pick(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) {
        return Ok(c);
    }
    Err(Error::invalid_config(format!(
        "no credentials for provider `{}`: set {} and {} (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
        provider.id, ferry[0], ferry[1]
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
            ("s3://b?path_style=maybe", "must be true or false"),
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
    fn missing_credentials_name_the_variables() {
        let none = |_: &str| None;
        let err = config_from_url(&url::Url::parse("ovh://gra/b").unwrap(), &none).unwrap_err();
        assert!(err.to_string().contains("FERRY_OVH_ACCESS_KEY_ID"), "{err}");
    }
}
