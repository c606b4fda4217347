//! Opening a store from a `gs://` URL.

use std::sync::Arc;

use ferryboat_core::prefix::PrefixStore;
use ferryboat_core::{Error, ObjectPath, ObjectStore, Result};
use url::Url;

use crate::config::GcsBuilder;

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
    let (builder, prefix) = parse_url(url)?;
    let store: Arc<dyn ObjectStore> = Arc::new(builder.build().await?);
    Ok(match prefix {
        Some(prefix) => Arc::new(PrefixStore::new(store, prefix)),
        None => store,
    })
}

/// The builder and key prefix a `gs://` URL describes.
pub(crate) fn parse_url(url: &Url) -> Result<(GcsBuilder, Option<ObjectPath>)> {
    if url.scheme() != "gs" {
        return Err(Error::invalid_config(format!("expected a gs:// URL, got scheme {:?}", url.scheme())));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_config("gs:// URLs carry no credentials; use the environment instead"));
    }
    let bucket = url.host_str().unwrap_or_default();
    let mut builder = GcsBuilder::new(bucket);
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "endpoint" => builder = builder.endpoint(v.into_owned()),
            other => {
                return Err(Error::invalid_config(format!("unknown gs:// URL option {other:?} (known: endpoint)")))
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
        assert!(parse_url(&Url::parse("gs://u:p@bkt/").unwrap()).is_err());
    }
}
