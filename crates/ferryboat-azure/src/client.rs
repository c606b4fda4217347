//! The few REST calls `object_store` does not expose with the options ferry needs (Put Block
//! List with headers and conditions, Create Container), signed by `object_store`'s own
//! authoriser with whatever credential the store resolved: Shared Key, SAS or bearer token.

use bytes::Bytes;
use ferryboat_core::{Error, Result};
use std::time::Duration;

use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, IF_MATCH, IF_NONE_MATCH};
use http::Method;
use object_store::azure::AzureAuthorizer;
use object_store::client::{HttpRequest, HttpRequestBody};
use url::Url;

use crate::config::AzureCredentials;
use crate::error::{self, PROVIDER};
use crate::store::AzureStore;

/// The service version `object_store` speaks; requests of ours use the same.
const VERSION: &str = "2023-11-03";

/// What came back from a successful request.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
}

impl AzureStore {
    /// Sends one signed request. `subject` names what the request is about in errors (a key,
    /// or the container).
    pub(crate) async fn send(
        &self,
        method: Method,
        url: Url,
        headers: Vec<(HeaderName, String)>,
        body: Bytes,
        subject: &str,
    ) -> Result<Answer> {
        // Only requests that mean the same when repeated are retried: a conditional commit
        // whose answer was lost would fail its own condition the second time.
        let idempotent = !headers.iter().any(|(n, _)| n == IF_MATCH || n == IF_NONE_MATCH);
        let network = self.inner.config.network;
        let started = tokio::time::Instant::now();
        let mut attempt = 0;
        loop {
            let result = self.send_once(method.clone(), url.clone(), headers.clone(), body.clone(), subject).await;
            match result {
                Err(e)
                    if e.is_retryable()
                        && idempotent
                        && attempt < network.max_retries
                        && started.elapsed() < network.retry_timeout =>
                {
                    attempt += 1;
                    tracing::debug!(subject, attempt, error = %e, "retrying an Azure request");
                    tokio::time::sleep(Duration::from_millis(100 << attempt.min(6))).await;
                }
                other => return other,
            }
        }
    }

    async fn send_once(
        &self,
        method: Method,
        url: Url,
        headers: Vec<(HeaderName, String)>,
        body: Bytes,
        subject: &str,
    ) -> Result<Answer> {
        let inner = &self.inner;
        let container = &inner.config.container;
        let mut builder = http::Request::builder()
            .method(method)
            .uri(url.as_str())
            // Shared Key signs the length: it must be set before signing, not by the client.
            .header(CONTENT_LENGTH, body.len())
            .header("x-ms-version", VERSION);
        for (name, value) in headers {
            let value = HeaderValue::from_str(&value)
                .map_err(|_| Error::invalid_config(format!("header {name} must be printable ASCII")))?;
            builder = builder.header(name, value);
        }
        let mut request: HttpRequest = builder
            .body(HttpRequestBody::from(body))
            .map_err(|e| Error::generic(PROVIDER, subject, format!("building the request: {e}"), None))?;
        if inner.config.credentials != AzureCredentials::Anonymous {
            let credential = inner.engine.credentials().get_credential().await.map_err(|e| Error::Unauthenticated {
                provider: PROVIDER.into(),
                message: format!("no Azure credential: {e}"),
            })?;
            AzureAuthorizer::new(&credential, &inner.config.account)
                .try_authorize(&mut request)
                .map_err(|e| Error::Unauthenticated { provider: PROVIDER.into(), message: format!("signing: {e}") })?;
        }
        // The transport error would print the URL, which may hold a SAS signature: keep its kind.
        let response = inner
            .http
            .execute(request)
            .await
            .map_err(|e| Error::transient(PROVIDER, subject, error::transport(e.kind()), None))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if (200..300).contains(&status) {
            return Ok(Answer { status, headers });
        }
        let code = headers.get("x-ms-error-code").and_then(|v| v.to_str().ok()).map(str::to_owned);
        // The body is capped (see `limits`); a failure to read it leaves the status to speak.
        let body = response.into_body().bytes().await.unwrap_or_default();
        let mut body = String::from_utf8_lossy(&body).into_owned();
        if let (Some(code), false) = (code, body.contains("<Code>")) {
            // HEAD answers carry the code in a header only.
            body = format!("<Code>{code}</Code>{body}");
        }
        Err(error::from_status(status, &body, container, subject))
    }

    /// Creates the container. `AlreadyExists` if it is there already.
    ///
    /// Needs an account key, a bearer token or Entra ID with the right role, or a SAS allowing
    /// container creation.
    pub async fn create_container(&self) -> Result<()> {
        let mut url = self.inner.container_url.clone();
        url.query_pairs_mut().append_pair("restype", "container");
        let container = self.inner.config.container.clone();
        match self.send(Method::PUT, url, Vec::new(), Bytes::new(), &container).await {
            Ok(_) => Ok(()),
            Err(Error::AlreadyExists { provider, .. }) => Err(Error::AlreadyExists { provider, path: container }),
            Err(e) => Err(e),
        }
    }

    /// Deletes the container and everything in it.
    pub async fn delete_container(&self) -> Result<()> {
        let mut url = self.inner.container_url.clone();
        url.query_pairs_mut().append_pair("restype", "container");
        let container = self.inner.config.container.clone();
        self.send(Method::DELETE, url, Vec::new(), Bytes::new(), &container).await.map(|_| ())
    }

    /// Reads the container's properties (a cheap request that fails clearly).
    pub(crate) async fn container_properties(&self) -> Result<()> {
        let mut url = self.inner.container_url.clone();
        url.query_pairs_mut().append_pair("restype", "container");
        let container = self.inner.config.container.clone();
        self.send(Method::GET, url, Vec::new(), Bytes::new(), &container).await.map(|_| ())
    }

    /// Deletes one blob: a missing blob is success, a missing container is not.
    pub(crate) async fn delete_blob(&self, key: &ferryboat_core::ObjectPath) -> Result<()> {
        let url = self.blob_url(key, &[])?;
        match self.send(Method::DELETE, url, Vec::new(), Bytes::new(), key.as_str()).await {
            Ok(_) => Ok(()),
            Err(Error::NotFound { path, .. }) if path == key.as_str() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The URL of the blob `key`, plus a query.
    pub(crate) fn blob_url(&self, key: &ferryboat_core::ObjectPath, query: &[(&str, &str)]) -> Result<Url> {
        let mut url = self.inner.container_url.clone();
        url.path_segments_mut()
            .map_err(|_| Error::invalid_config("the Azure endpoint cannot take a path"))?
            .extend(key.segments());
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }
}

pub(crate) fn content_type_xml() -> (HeaderName, String) {
    (CONTENT_TYPE, "application/xml".to_owned())
}
