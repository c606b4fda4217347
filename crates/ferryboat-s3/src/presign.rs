//! Presigned URLs: a GET or PUT anyone holding the URL may make until it expires.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use ferryboat_core::{Error, ObjectPath, PresignMethod, Result};
use url::Url;

use crate::client::Inner;
use crate::store::S3Store;

impl S3Store {
    /// What [`ObjectStore::presign`](ferryboat_core::ObjectStore::presign) answers: a SigV4
    /// query-signed URL, valid for at most 7 days.
    pub(crate) async fn presign_url(
        &self,
        method: PresignMethod,
        path: &ObjectPath,
        expires_in: Duration,
    ) -> Result<Url> {
        let config = presigning(expires_in)?;
        let (client, bucket, key) = (&self.inner.client, &self.inner.bucket, path.as_str());
        let signed = match method {
            PresignMethod::Get => unlogged(client.get_object().bucket(bucket).key(key).presigned(config))
                .await
                .map_err(|e| self.inner.presign_error(path, e)),
            PresignMethod::Head => unlogged(client.head_object().bucket(bucket).key(key).presigned(config))
                .await
                .map_err(|e| self.inner.presign_error(path, e)),
            PresignMethod::Put => unlogged(client.put_object().bucket(bucket).key(key).presigned(config))
                .await
                .map_err(|e| self.inner.presign_error(path, e)),
            PresignMethod::Delete => unlogged(client.delete_object().bucket(bucket).key(key).presigned(config))
                .await
                .map_err(|e| self.inner.presign_error(path, e)),
            _ => {
                return Err(Error::not_supported(self.inner.provider(), format!("presigned {} URLs", method.as_str())))
            }
        }?;
        Url::parse(signed.uri())
            .map_err(|e| Error::generic(self.inner.provider(), path.as_str(), format!("signed URL: {e}"), None))
    }
}

impl Inner {
    fn presign_error(&self, path: &ObjectPath, e: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::generic(self.provider(), path.as_str(), "cannot presign the request", Some(Box::new(e)))
    }
}

/// Runs a presigning future with tracing switched off: at TRACE level `aws_sigv4` logs the
/// canonical request, which for a presigned URL holds the session token of temporary
/// credentials in its query. Presigning sends no request, so nothing worth logging is lost.
fn unlogged<F: std::future::Future>(f: F) -> tracing::instrument::WithDispatch<F> {
    use tracing::instrument::WithSubscriber;
    f.with_subscriber(tracing::subscriber::NoSubscriber::default())
}

fn presigning(expires_in: Duration) -> Result<PresigningConfig> {
    PresigningConfig::expires_in(expires_in)
        .map_err(|e| Error::invalid_config(format!("presigned URL lifetime {expires_in:?}: {e}")))
}
