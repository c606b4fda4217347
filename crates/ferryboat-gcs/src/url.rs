//! Opening a store from a `gs://` URL.

use std::sync::Arc;

use ferryboat_core::prefix::PrefixStore;
use ferryboat_core::{Error, Jurisdiction, ObjectPath, ObjectStore, Result};
use url::Url;

use crate::config::GcsBuilder;
use crate::options::{apply, GcsOptions};

/// Opens `gs://bucket[/prefix][?endpoint=URL]`.
///
/// The endpoint may also come from `FERRY_GCS_ENDPOINT` or `STORAGE_EMULATOR_HOST` (the URL
/// wins). Credentials come from the environment (see [`Credentials::from_env`](crate::Credentials::from_env)), or none for
/// a loopback endpoint.
///
/// ```no_run
/// # async fn f() -> ferryboat_core::Result<()> {
/// let url = url::Url::parse("gs://my-bucket/backups?endpoint=http://127.0.0.1:4443").unwrap();
/// let store = ferryboat_gcs::open_url(&url).await?;
/// # Ok(()) }
/// ```
pub async fn open_url(url: &Url) -> Result<Arc<dyn ObjectStore>> {
    open_url_with(url, &GcsOptions::new()).await
}

/// As [`open_url`], with options ([`GcsConfigKey`](crate::GcsConfigKey)) that replace what the URL and the
/// environment say.
pub async fn open_url_with(url: &Url, options: &GcsOptions) -> Result<Arc<dyn ObjectStore>> {
    let (builder, prefix) = parse_url(url)?;
    let builder = apply(builder, options)?;
    let store: Arc<dyn ObjectStore> = Arc::new(builder.build().await?);
    Ok(match prefix {
        Some(prefix) => Arc::new(PrefixStore::new(store, prefix)),
        None => store,
    })
}

/// A provider that runs Cloud Storage under its own universe domain (S3NS), as the
/// provider catalogue describes it.
#[derive(Debug, Clone)]
pub struct Partner {
    /// Catalogue id, also the URL scheme (`s3ns`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Its universe domain (`s3nsapis.fr`).
    pub universe_domain: String,
    /// Who can compel the operator.
    pub jurisdiction: Jurisdiction,
    /// Whether the US CLOUD Act reaches it (see the catalogue's note).
    pub cloud_act: bool,
}

/// Opens `ID://bucket[/prefix][?endpoint=URL]` at a partner's universe: requests go to
/// `https://storage.{universe_domain}` unless `endpoint=` points elsewhere (an emulator),
/// a service-account key must be of that universe, and the store's
/// [`StoreInfo`](ferryboat_core::StoreInfo) names the partner.
///
/// ```no_run
/// # async fn f() -> ferryboat_core::Result<()> {
/// use ferryboat_gcs::Partner;
/// let s3ns = Partner {
///     id: "s3ns".into(),
///     name: "S3NS".into(),
///     universe_domain: "s3nsapis.fr".into(),
///     jurisdiction: ferryboat_core::Jurisdiction::Eu,
///     cloud_act: false,
/// };
/// let store = ferryboat_gcs::open_partner_url(&url::Url::parse("s3ns://my-bucket").unwrap(), &s3ns).await?;
/// # Ok(()) }
/// ```
pub async fn open_partner_url(url: &Url, partner: &Partner) -> Result<Arc<dyn ObjectStore>> {
    open_partner_url_with(url, partner, &GcsOptions::new()).await
}

/// As [`open_partner_url`], with options ([`GcsConfigKey`](crate::GcsConfigKey)) that replace what the URL and
/// the environment say.
pub async fn open_partner_url_with(url: &Url, partner: &Partner, options: &GcsOptions) -> Result<Arc<dyn ObjectStore>> {
    let (builder, prefix) = parse_partner_url(url, partner)?;
    let builder = apply(builder, options)?;
    let store =
        builder.build().await?.describe_as(&partner.id, &partner.name, partner.jurisdiction.clone(), partner.cloud_act);
    let store: Arc<dyn ObjectStore> = Arc::new(store);
    Ok(match prefix {
        Some(prefix) => Arc::new(PrefixStore::new(store, prefix)),
        None => store,
    })
}

/// The builder and prefix a partner URL describes (see [`open_partner_url`]).
pub fn parse_partner_url(url: &Url, partner: &Partner) -> Result<(GcsBuilder, Option<ObjectPath>)> {
    if url.scheme() != partner.id {
        return Err(Error::invalid_config(format!("expected a {}:// URL, got scheme {:?}", partner.id, url.scheme())));
    }
    let (builder, prefix) = parse_any(url)?;
    Ok((builder.universe_domain(partner.universe_domain.clone()), prefix))
}

/// The builder and key prefix a `gs://` URL describes.
pub(crate) fn parse_url(url: &Url) -> Result<(GcsBuilder, Option<ObjectPath>)> {
    if url.scheme() != "gs" {
        return Err(Error::invalid_config(format!("expected a gs:// URL, got scheme {:?}", url.scheme())));
    }
    parse_any(url)
}

fn parse_any(url: &Url) -> Result<(GcsBuilder, Option<ObjectPath>)> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_config("gs:// URLs carry no credentials; use the environment instead"));
    }
    let bucket = url.host_str().unwrap_or_default();
    let mut builder = GcsBuilder::new(bucket);
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "endpoint" => builder = builder.endpoint(v.into_owned()),
            "universe_domain" => builder = builder.universe_domain(v.into_owned()),
            other => {
                return Err(Error::invalid_config(format!(
                    "unknown {}:// URL option {other:?} (known: endpoint, universe_domain)",
                    url.scheme()
                )))
            }
        }
    }
    let builder = builder.with_env();
    let raw = url.path().strip_prefix('/').unwrap_or(url.path());
    let segments = raw
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|d| d.into_owned())
                .map_err(|_| Error::invalid_config("the prefix in the gs:// URL is not valid UTF-8"))
        })
        .collect::<Result<Vec<_>>>()?;
    let prefix = ObjectPath::from_url_segments(&segments)?;
    Ok((builder, prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_bucket_prefix_and_endpoint() {
        let url = Url::parse("gs://bkt/a/b%20c?endpoint=http://127.0.0.1:9").unwrap();
        let (b, prefix) = parse_url(&url).unwrap();
        assert_eq!(b.bucket, "bkt");
        assert_eq!(b.endpoint.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(prefix.unwrap().as_str(), "a/b c");
        assert!(parse_url(&Url::parse("gs://bkt/?endpont=x").unwrap()).is_err());
        assert!(parse_url(&Url::parse("s3://bkt/").unwrap()).is_err());
        let (_, prefix) = parse_url(&Url::parse("gs://bkt/a//b/").unwrap()).unwrap();
        assert_eq!(prefix.unwrap().as_str(), "a//b", "empty segments kept, one trailing `/` dropped");
        assert!(parse_url(&Url::parse("gs://bkt//").unwrap()).is_err());
        let (b, _) = parse_url(&Url::parse("gs://bkt?universe_domain=s3nsapis.fr").unwrap()).unwrap();
        assert_eq!(b.resolved_endpoint().unwrap(), "https://storage.s3nsapis.fr");
        assert!(parse_url(&Url::parse("gs://u:p@bkt/").unwrap()).is_err());
    }
}
