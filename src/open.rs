//! `ferryboat::open(url)`: one entry point from a URL to a store.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use ferryboat_core::local::LocalStore;
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::options::{ConfigKey, Options};
use ferryboat_core::redact::Secret;
use ferryboat_core::{Error, ObjectStore, Result};
use ferryboat_providers::Api;
use url::Url;

/// The URL schemes this build of ferry opens (backends are chosen by cargo features).
pub fn supported_schemes() -> Vec<String> {
    #[allow(unused_mut)]
    let mut schemes = vec!["memory".to_string(), "file".to_string()];
    #[cfg(feature = "gcs")]
    schemes.push("gs".to_string());
    #[cfg(feature = "azure")]
    schemes.extend(["az".to_string(), "azure".to_string()]);
    #[cfg(feature = "s3")]
    schemes.push("s3".to_string());
    for p in ferryboat_providers::catalogue().providers() {
        let built = match p.api {
            Api::S3 => cfg!(feature = "s3"),
            Api::Gcs => cfg!(feature = "gcs"),
            Api::Azure => cfg!(feature = "azure"),
        };
        if built {
            schemes.push(p.id.clone());
        }
    }
    schemes
}

/// Opens the store a URL names.
///
/// | URL | store |
/// |---|---|
/// | `memory://` | a new, empty [`MemoryStore`] |
/// | `file:///abs/dir`, `/abs/dir`, `./rel/dir` | a [`LocalStore`] rooted there (created if missing) |
/// | `s3://bucket/prefix?region=…&endpoint=…` | S3 or any S3-compatible server (feature `s3`) |
/// | `scaleway://fr-par/bucket/prefix`, `ovh://gra/bucket`, … | a catalogued provider (feature `s3`) |
/// | `s3ns://bucket/prefix[?endpoint=…]` | a catalogued provider of the GCS API in its own universe (feature `gcs`) |
/// | `bleu://account/container/prefix?endpoint_suffix=…`, `delos://…` | a catalogued operator of Azure (feature `azure`) |
/// | `gs://bucket/prefix?endpoint=…` | Google Cloud Storage (feature `gcs`) |
/// | `az://container/prefix`, `azure://account/container`, `https://ACCOUNT.blob.core.windows.net/container` | Azure Blob Storage (feature `azure`) |
///
/// Credentials come from the environment (see each backend's docs), or as options through
/// [`open_with`]. The one exception is an
/// Azure SAS URL, which carries its own signature, as Azure users paste it; no error ever
/// echoes a query string.
/// A malformed URL or an unknown scheme is [`Error::InvalidConfig`] saying what is wrong
/// and which schemes are valid.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let err = ferryboat::open("nosuch://bucket").await.unwrap_err();
/// assert!(err.to_string().contains("unknown scheme"));
/// # }
/// ```
pub async fn open(url: &str) -> Result<Arc<dyn ObjectStore>> {
    open_raw(url, &[]).await
}

/// Opens the store a URL names, with options for its backend, given as `(key, value)`
/// strings in `object_store`'s manner: the key names of
/// [`S3ConfigKey`](ferryboat_s3::S3ConfigKey) for S3 and every S3-compatible provider,
/// [`AzureConfigKey`](ferryboat_azure::AzureConfigKey) for Azure and
/// [`GcsConfigKey`](ferryboat_gcs::GcsConfigKey) for Cloud Storage (endpoint, region, path
/// style, credentials, timeouts, attempts, …), or their aliases; `KEY_file` with a path
/// reads the value from that file (`secret_access_key_file = "/run/secrets/s3"`). Options
/// win over the URL's query and the environment.
///
/// An unknown key is [`Error::InvalidConfig`] naming it and the valid ones, never ignored;
/// `memory://` and local directories take no options. Values are never shown: errors name
/// the key, and a bad value only where the key holds no secret.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let err = ferryboat::open_with("s3://bucket?endpoint=http://127.0.0.1:9", [("regoin", "eu-west-1")]).await.unwrap_err();
/// assert!(err.to_string().contains("unknown S3 option `regoin`"), "{err}");
/// assert!(err.to_string().contains("region"), "the valid keys are listed: {err}");
/// # }
/// ```
pub fn open_with<'a, I, K, V>(
    url: &'a str,
    options: I,
) -> impl Future<Output = Result<Arc<dyn ObjectStore>>> + Send + 'a
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let raw: Vec<(String, Secret)> =
        options.into_iter().map(|(k, v)| (k.as_ref().to_string(), Secret::new(v.as_ref()))).collect();
    async move { open_raw(url, &raw).await }
}

/// The options for backend `K`, parsed from the raw pairs.
#[allow(dead_code)]
fn typed<K: ConfigKey>(raw: &[(String, Secret)]) -> Result<Options<K>> {
    Options::parse(raw.iter().map(|(k, v)| (k.as_str(), v.expose())))
}

/// Stores that have no settings refuse every option.
fn no_options(kind: &str, raw: &[(String, Secret)]) -> Result<()> {
    match raw.first() {
        Some((k, _)) => Err(Error::invalid_config(format!("unknown option `{k}`: {kind} takes no options"))),
        None => Ok(()),
    }
}

async fn open_raw(url: &str, raw: &[(String, Secret)]) -> Result<Arc<dyn ObjectStore>> {
    let trimmed = url.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid_config("empty store URL"));
    }
    if trimmed.starts_with('/') || trimmed.starts_with("./") || trimmed.starts_with("../") {
        no_options("a local directory", raw)?;
        return open_local(Path::new(trimmed));
    }
    let parsed = Url::parse(trimmed)
        .map_err(|e| Error::invalid_config(format!("malformed store URL {:?}: {e}", redact(trimmed))))?;
    match parsed.scheme() {
        "memory" => {
            no_options("memory://", raw)?;
            Ok(Arc::new(MemoryStore::new()))
        }
        "file" => {
            no_options("a local directory", raw)?;
            if parsed.host_str().is_some_and(|h| !h.is_empty() && h != "localhost") {
                return Err(Error::invalid_config(format!(
                    "file URL {:?} names a host; use file:///absolute/path",
                    redact(trimmed)
                )));
            }
            let path = parsed.to_file_path().map_err(|()| {
                Error::invalid_config(format!("file URL {:?} is not an absolute local path", redact(trimmed)))
            })?;
            open_local(&path)
        }
        #[cfg(feature = "gcs")]
        "gs" => ferryboat_gcs::open_url_with(&parsed, &typed(raw)?).await,
        #[cfg(feature = "azure")]
        "az" | "azure" => ferryboat_azure::open_url_with(&parsed, &typed(raw)?).await,
        #[cfg(feature = "azure")]
        "http" | "https" if is_azure_blob(&parsed) => ferryboat_azure::open_url_with(&parsed, &typed(raw)?).await,
        "http" | "https" => Err(Error::invalid_config(format!(
            "{:?} does not say which protocol to speak: use s3://bucket?endpoint=… for an S3-compatible \
             server, or https://ACCOUNT.blob.core.windows.net/container for Azure",
            redact(trimmed)
        ))),
        #[cfg(feature = "gcs")]
        scheme if catalogued(scheme, Api::Gcs).is_some() => {
            let p = catalogued(scheme, Api::Gcs).ok_or_else(|| Error::invalid_config("unreachable"))?;
            ferryboat_gcs::open_partner_url_with(&parsed, &gcs_partner(p)?, &typed(raw)?).await
        }
        #[cfg(feature = "azure")]
        scheme if catalogued(scheme, Api::Azure).is_some() => {
            let p = catalogued(scheme, Api::Azure).ok_or_else(|| Error::invalid_config("unreachable"))?;
            ferryboat_azure::open_partner_url_with(&parsed, &azure_partner(p)?, &typed(raw)?).await
        }
        #[cfg(feature = "s3")]
        scheme if scheme == "s3" || catalogued(scheme, Api::S3).is_some() => {
            ferryboat_s3::open_url_with(&parsed, &typed(raw)?).await
        }
        scheme => Err(Error::invalid_config(format!(
            "unknown scheme {scheme:?} in {:?}; this build opens: {}",
            redact(trimmed),
            supported_schemes().join(", ")
        ))),
    }
}

/// The catalogue entry a scheme names, if it speaks `api`.
#[cfg(any(feature = "s3", feature = "gcs", feature = "azure"))]
fn catalogued(scheme: &str, api: Api) -> Option<&'static ferryboat_providers::Provider> {
    ferryboat_providers::catalogue().get(scheme).ok().filter(|p| p.api == api)
}

/// A GCS partner from its catalogue entry: the universe is the endpoint's host past `storage.`.
#[cfg(feature = "gcs")]
fn gcs_partner(p: &ferryboat_providers::Provider) -> Result<ferryboat_gcs::Partner> {
    let universe = p.endpoint.strip_prefix("https://storage.").filter(|u| !u.contains('/')).ok_or_else(|| {
        Error::invalid_config(format!("the catalogue entry `{}` has no Cloud Storage endpoint of its universe", p.id))
    })?;
    Ok(ferryboat_gcs::Partner {
        id: p.id.clone(),
        name: p.name.clone(),
        universe_domain: universe.to_string(),
        jurisdiction: p.jurisdiction(),
        cloud_act: p.cloud_act,
    })
}

/// An Azure partner from its catalogue entry: a suffix from `https://{account}.blob.SUFFIX`
/// where the catalogue knows one.
#[cfg(feature = "azure")]
fn azure_partner(p: &ferryboat_providers::Provider) -> Result<ferryboat_azure::Partner> {
    let suffix = p.endpoint.strip_prefix("https://{account}.blob.").map(str::to_string);
    Ok(ferryboat_azure::Partner {
        id: p.id.clone(),
        name: p.name.clone(),
        endpoint_suffix: suffix,
        jurisdiction: p.jurisdiction(),
        cloud_act: p.cloud_act,
    })
}

/// An Azure Blob endpoint, or Azurite's well-known emulator account on loopback.
#[cfg(feature = "azure")]
fn is_azure_blob(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    host.ends_with(".blob.core.windows.net")
        || (matches!(host, "127.0.0.1" | "localhost" | "[::1]")
            && url.path().trim_start_matches('/').starts_with("devstoreaccount1"))
}

fn open_local(path: &Path) -> Result<Arc<dyn ObjectStore>> {
    Ok(Arc::new(LocalStore::new(path)?))
}

/// The URL as errors show it: without user info, query string or fragment, any of which may
/// carry a credential (a password, a SAS signature, a token).
fn redact(url: &str) -> String {
    ferryboat_core::redact::redact_url(url)
}
