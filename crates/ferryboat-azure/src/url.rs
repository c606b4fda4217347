//! `az://`, `azure://`, `https://ACCOUNT.blob.core.windows.net/…` and emulator URLs.

use std::sync::Arc;

use ferryboat_core::prefix::PrefixStore;
use ferryboat_core::{Error, Jurisdiction, ObjectPath, ObjectStore, Result};
use percent_encoding::percent_decode_str;
use url::Url;

use crate::config::{credentials_from_env, is_loopback, AzureConfig, AzureCredentials, EMULATOR_ACCOUNT, EMULATOR_KEY};
use crate::options::{apply, AzureConfigKey, AzureOptions};
use crate::store::AzureStore;

/// Opens the container (and key prefix) a URL names:
///
/// | URL | account | credentials |
/// |---|---|---|
/// | `az://CONTAINER/prefix` | `AZURE_STORAGE_ACCOUNT` or the connection string | environment ([`AzureConfig::from_env`]) |
/// | `azure://ACCOUNT/CONTAINER/prefix` | from the URL | environment |
/// | `https://ACCOUNT.blob.core.windows.net/CONTAINER/prefix[?SAS]` | from the host | the SAS in the URL, else environment |
/// | `http://127.0.0.1:PORT/ACCOUNT/CONTAINER/prefix` (Azurite) | from the path | environment, else the emulator's well-known key for `devstoreaccount1` |
///
/// Plain `http` is refused for anything but a loopback address. A prefix is applied with
/// [`PrefixStore`], so the store sees keys relative to it.
///
/// ```no_run
/// # async fn demo() -> ferryboat_core::Result<()> {
/// let url = url::Url::parse("azure://acme/backups/2026").unwrap();
/// let store = ferryboat_azure::open_url(&url).await?;
/// # Ok(()) }
/// ```
pub async fn open_url(url: &Url) -> Result<Arc<dyn ObjectStore>> {
    open_url_with(url, &AzureOptions::new()).await
}

/// As [`open_url`], with options ([`AzureConfigKey`]) that replace what the URL and the
/// environment say.
pub async fn open_url_with(url: &Url, options: &AzureOptions) -> Result<Arc<dyn ObjectStore>> {
    let (config, prefix) = parse_url_with(url, options)?;
    let store: Arc<dyn ObjectStore> = Arc::new(AzureStore::new(config)?);
    Ok(match prefix {
        Some(prefix) => Arc::new(PrefixStore::new(store, prefix)),
        None => store,
    })
}

/// A provider that runs Azure Blob Storage under its own endpoint suffix (Bleu, Delos), as
/// the provider catalogue describes it.
#[derive(Debug, Clone)]
pub struct Partner {
    /// Catalogue id, also the URL scheme (`bleu`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Its Blob endpoint suffix, where a public source gives it (`None`: the URL must).
    pub endpoint_suffix: Option<String>,
    /// Who can compel the operator.
    pub jurisdiction: Jurisdiction,
    /// Whether the US CLOUD Act reaches it (see the catalogue's note).
    pub cloud_act: bool,
}

/// Opens `ID://ACCOUNT/CONTAINER[/prefix][?endpoint_suffix=SUFFIX | ?endpoint=URL]` at a
/// partner: requests go to `https://ACCOUNT.blob.SUFFIX` (the URL's suffix, else the
/// partner's), or to `endpoint=` (a private endpoint, or Azurite on loopback); credentials
/// come from the environment as for `azure://`; the store's
/// [`StoreInfo`](ferryboat_core::StoreInfo) names the partner.
pub async fn open_partner_url(url: &Url, partner: &Partner) -> Result<Arc<dyn ObjectStore>> {
    open_partner_url_with(url, partner, &AzureOptions::new()).await
}

/// As [`open_partner_url`], with options ([`AzureConfigKey`]) that replace what the URL and
/// the environment say.
pub async fn open_partner_url_with(
    url: &Url,
    partner: &Partner,
    options: &AzureOptions,
) -> Result<Arc<dyn ObjectStore>> {
    let (config, prefix) = parse_partner_url_with(url, partner, options)?;
    let store = AzureStore::new(config)?.describe_as(
        &partner.id,
        &partner.name,
        partner.jurisdiction.clone(),
        partner.cloud_act,
    );
    let store: Arc<dyn ObjectStore> = Arc::new(store);
    Ok(match prefix {
        Some(prefix) => Arc::new(PrefixStore::new(store, prefix)),
        None => store,
    })
}

/// The configuration and prefix a partner URL names (see [`open_partner_url`]).
pub fn parse_partner_url(url: &Url, partner: &Partner) -> Result<(AzureConfig, Option<ObjectPath>)> {
    parse_partner_url_with(url, partner, &AzureOptions::new())
}

/// As [`parse_partner_url`], with options applied.
pub fn parse_partner_url_with(
    url: &Url,
    partner: &Partner,
    opts: &AzureOptions,
) -> Result<(AzureConfig, Option<ObjectPath>)> {
    if url.scheme() != partner.id {
        return Err(Error::invalid_config(format!("expected a {}:// URL, got scheme {:?}", partner.id, url.scheme())));
    }
    let segments = segments(url)?;
    let need = |what: &str| {
        Error::invalid_config(format!("{} names no {what}: {}://ACCOUNT/CONTAINER[/prefix]", redacted(url), partner.id))
    };
    let account = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| need("account"))?.to_owned();
    let container = segments.first().filter(|s| !s.is_empty()).ok_or_else(|| need("container"))?.clone();
    let (mut suffix, mut endpoint) = (partner.endpoint_suffix.clone(), None);
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "endpoint_suffix" => suffix = Some(v.into_owned()),
            "endpoint" => endpoint = Some(v.into_owned()),
            other => {
                return Err(Error::invalid_config(format!(
                    "unknown {}:// URL option {other:?} (known: endpoint_suffix, endpoint)",
                    partner.id
                )))
            }
        }
    }
    let credentials = match credentials_from_env() {
        AzureCredentials::EntraId if account == EMULATOR_ACCOUNT && endpoint.is_some() => {
            AzureCredentials::AccessKey(EMULATOR_KEY.to_owned())
        }
        other => other,
    };
    let config = AzureConfig::new(account, container).with_credentials(credentials);
    let placed = opts.get(AzureConfigKey::Endpoint).is_some() || opts.get(AzureConfigKey::EndpointSuffix).is_some();
    let config = match (endpoint, suffix) {
        (Some(e), _) => config.with_endpoint(e),
        (None, Some(s)) => config.with_endpoint_suffix(&s)?,
        (None, None) if placed => config,
        (None, None) => return Err(no_suffix(partner)),
    };
    let config = apply(config, opts)?;
    config.validate()?;
    Ok((config, prefix(&segments[1..])?))
}

fn no_suffix(partner: &Partner) -> Error {
    Error::invalid_config(format!(
        "no public source gives the Blob endpoint suffix of {}: add ?endpoint_suffix=… (or ?endpoint=https://…)",
        partner.name
    ))
}

/// The configuration and key prefix a URL names (see [`open_url`]), reading the environment
/// for what the URL does not say.
pub fn parse_url(url: &Url) -> Result<(AzureConfig, Option<ObjectPath>)> {
    parse_url_with(url, &AzureOptions::new())
}

/// As [`parse_url`], with options applied.
pub fn parse_url_with(url: &Url, opts: &AzureOptions) -> Result<(AzureConfig, Option<ObjectPath>)> {
    let (config, prefix) = parse_plain(url, opts)?;
    let config = apply(config, opts)?;
    config.validate()?;
    Ok((config, prefix))
}

fn parse_plain(url: &Url, opts: &AzureOptions) -> Result<(AzureConfig, Option<ObjectPath>)> {
    let segments = segments(url)?;
    let need = |what: &str| Error::invalid_config(format!("Azure URL {} names no {what}", redacted(url)));
    match url.scheme() {
        "az" => {
            let container = url.host_str().ok_or_else(|| need("container"))?.to_owned();
            let config = match opts.get(AzureConfigKey::Account) {
                Some(account) => AzureConfig::new(account, container).with_credentials(credentials_from_env()),
                None => AzureConfig::from_env(container)?,
            };
            Ok((config, prefix(&segments)?))
        }
        "azure" => {
            let account = url.host_str().ok_or_else(|| need("account"))?.to_owned();
            let container = segments.first().filter(|s| !s.is_empty()).ok_or_else(|| need("container"))?.clone();
            let config = match AzureConfig::from_env(container.clone()) {
                Ok(c) if c.account() == account => c,
                _ => AzureConfig::new(account, container).with_credentials(credentials_from_env()),
            };
            Ok((config, prefix(&segments[1..])?))
        }
        "https" | "http" => {
            let host = url.host_str().ok_or_else(|| need("host"))?;
            let sas = sas_from(url);
            let (config, rest) = if is_loopback(url) {
                let account = segments.first().filter(|s| !s.is_empty()).ok_or_else(|| need("account"))?.clone();
                let container = segments.get(1).filter(|s| !s.is_empty()).ok_or_else(|| need("container"))?.clone();
                let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
                let endpoint = format!("{}://{host}{port}/{account}", url.scheme());
                let credentials = match credentials_from_env() {
                    AzureCredentials::EntraId if account == EMULATOR_ACCOUNT => {
                        AzureCredentials::AccessKey(EMULATOR_KEY.to_owned())
                    }
                    other => other,
                };
                let config = AzureConfig::new(account, container).with_endpoint(endpoint).with_credentials(credentials);
                (config, &segments[2..])
            } else {
                let account = host
                    .split_once('.')
                    .filter(|(_, rest)| rest.starts_with("blob."))
                    .map(|(a, _)| a.to_owned())
                    .ok_or_else(|| {
                        Error::invalid_config(format!(
                            "{} is not an Azure Blob Storage URL (https://ACCOUNT.blob.core.windows.net/CONTAINER)",
                            redacted(url)
                        ))
                    })?;
                let container = segments.first().filter(|s| !s.is_empty()).ok_or_else(|| need("container"))?.clone();
                let config = AzureConfig::new(account, container)
                    .with_endpoint(format!("{}://{host}", url.scheme()))
                    .with_credentials(credentials_from_env());
                (config, &segments[1..])
            };
            let config = match sas {
                Some(sas) => config.with_sas_token(sas),
                None => config,
            };
            // Plain http to a remote host is refused here, before any request.
            config.validate()?;
            Ok((config, prefix(rest)?))
        }
        other => Err(Error::invalid_config(format!("not an Azure URL scheme: {other}://"))),
    }
}

/// Decoded path segments (the prefix drops a trailing `/`, see `prefix`).
fn segments(url: &Url) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for s in url.path_segments().into_iter().flatten() {
        let decoded = percent_decode_str(s)
            .decode_utf8()
            .map_err(|_| Error::invalid_config(format!("Azure URL {}: path is not UTF-8", redacted(url))))?;
        out.push(decoded.into_owned());
    }
    Ok(out)
}

fn prefix(rest: &[String]) -> Result<Option<ObjectPath>> {
    ObjectPath::from_url_segments(rest)
}

/// A SAS is a query with a signature.
fn sas_from(url: &Url) -> Option<String> {
    let query = url.query()?;
    url.query_pairs().any(|(k, _)| k == "sig").then(|| query.to_owned())
}

/// The URL without its query (which may hold a SAS signature), user info or fragment.
fn redacted(url: &Url) -> String {
    ferryboat_core::redact::redact_url(url.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<(AzureConfig, Option<ObjectPath>)> {
        parse_url(&Url::parse(s).unwrap())
    }

    #[test]
    fn https_with_sas_and_prefix() {
        let (c, p) =
            parse("https://acme.blob.core.windows.net/logs/2026/n%C3%A9e%20x?sv=2024&sp=r&sig=SECRETSIG").unwrap();
        assert_eq!((c.account(), c.container()), ("acme", "logs"));
        assert_eq!(c.endpoint(), "https://acme.blob.core.windows.net");
        assert_eq!(p.unwrap().as_str(), "2026/née x");
        assert_eq!(c.credentials(), &AzureCredentials::SasToken("sv=2024&sp=r&sig=SECRETSIG".into()));
        assert!(!format!("{c:?}").contains("SECRETSIG"));
    }

    #[test]
    fn emulator_urls() {
        let (c, p) = parse("http://127.0.0.1:10000/devstoreaccount1/logs/").unwrap();
        assert_eq!(c.endpoint(), "http://127.0.0.1:10000/devstoreaccount1");
        assert_eq!(c.container(), "logs");
        assert!(p.is_none());
    }

    #[test]
    fn refusals_are_clear() {
        let e = parse("http://acme.blob.core.windows.net/logs").unwrap_err();
        assert!(e.to_string().contains("loopback"), "{e}");
        let e = parse("https://example.com/logs?sig=SECRETSIG").unwrap_err();
        assert!(e.to_string().contains("not an Azure Blob Storage URL"), "{e}");
        assert!(!e.to_string().contains("SECRETSIG"), "{e}");
        let e = parse("https://acme.blob.core.windows.net/").unwrap_err();
        assert!(e.to_string().contains("no container"), "{e}");
        let e = parse("https://acme.blob.core.windows.net/logs//").unwrap_err();
        assert_eq!(e.kind(), ferryboat_core::ErrorKind::InvalidPath, "{e}");
        let e = parse("https://acme.blob.core.windows.net/Bad_Name").unwrap_err();
        assert!(e.to_string().contains("container name"), "{e}");
    }
}
