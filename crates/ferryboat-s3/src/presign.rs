//! Presigned URLs: a GET or PUT anyone holding the URL may make until it expires.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use ferryboat_core::{Error, ObjectPath, Result};

use crate::client::Inner;
use crate::store::S3Store;

impl S3Store {
    /// A URL anyone can `GET` the object from until `expires_in` has passed (at most 7 days).
    ///
    /// The URL is a bearer credential: do not log it.
    pub async fn presign_get(&self, path: &ObjectPath, expires_in: Duration) -> Result<String> {
        let config = presigning(expires_in)?;
        let req = self.inner.client.get_object().bucket(&self.inner.bucket).key(path.as_str());
        let signed = unlogged(req.presigned(config)).await.map_err(|e| self.inner.presign_error(path, e))?;
        Ok(signed.uri().to_string())
    }

    /// A URL anyone can `PUT` the object's bytes to until `expires_in` has passed.
    pub async fn presign_put(&self, path: &ObjectPath, expires_in: Duration) -> Result<String> {
        let config = presigning(expires_in)?;
        let req = self.inner.client.put_object().bucket(&self.inner.bucket).key(path.as_str());
        let signed = unlogged(req.presigned(config)).await.map_err(|e| self.inner.presign_error(path, e))?;
        Ok(signed.uri().to_string())
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
