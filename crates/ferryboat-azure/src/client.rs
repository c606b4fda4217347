//! The few REST calls `object_store` does not expose with the options ferry needs (Put Block
//! List with headers and conditions, Create Container), signed by `object_store`'s own
//! authoriser with whatever credential the store resolved: Shared Key, SAS or bearer token.

use bytes::Bytes;
use ferryboat_core::retry::Idempotency;
use ferryboat_core::{Capabilities, Error, ObjectMeta, ObjectPath, PutMode, PutOptions, Result, StoreInfo};

use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, IF_MATCH, IF_NONE_MATCH};
use http::Method;
use object_store::azure::{AzureAuthorizer, MicrosoftAzure};
use object_store::client::{HttpClient, HttpRequest, HttpRequestBody};
use object_store::path::Path;
use object_store::{Attribute, Attributes};
use url::Url;

use crate::config::{AzureConfig, AzureCredentials};
use crate::error::{self, PROVIDER};
use crate::metadata;

/// The service version `object_store` speaks; requests of ours use the same.
const VERSION: &str = "2023-11-03";

/// What came back from a successful request.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
}

pub(crate) struct Inner {
    pub(crate) engine: MicrosoftAzure,
    pub(crate) config: AzureConfig,
    pub(crate) http: HttpClient,
    /// The container's URL; blob URLs add the key's segments.
    pub(crate) container_url: Url,
    pub(crate) info: StoreInfo,
    pub(crate) caps: Capabilities,
}

impl Inner {
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
        let idempotency = if headers.iter().any(|(n, _)| n == IF_MATCH || n == IF_NONE_MATCH) {
            Idempotency::NotIdempotent
        } else {
            Idempotency::Idempotent
        };
        let policy = &self.config.network.retry;
        policy
            .run(idempotency, subject, || {
                self.send_once(method.clone(), url.clone(), headers.clone(), body.clone(), subject)
            })
            .await
    }

    async fn send_once(
        &self,
        method: Method,
        url: Url,
        headers: Vec<(HeaderName, String)>,
        body: Bytes,
        subject: &str,
    ) -> Result<Answer> {
        let inner = self;
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
                details: Default::default(),
            })?;
            AzureAuthorizer::new(&credential, &inner.config.account).try_authorize(&mut request).map_err(|e| {
                Error::Unauthenticated {
                    provider: PROVIDER.into(),
                    message: format!("signing: {e}"),
                    details: Default::default(),
                }
            })?;
        }
        // The transport error would print the URL, which may hold a SAS signature: keep its kind.
        let response = inner
            .http
            .execute(request)
            .await
            .map_err(|e| Error::unavailable(PROVIDER, subject, error::transport(e.kind()), None))?;
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

    /// Reads the container's properties (a cheap request that fails clearly).
    pub(crate) async fn container_properties(&self) -> Result<()> {
        let mut url = self.container_url.clone();
        url.query_pairs_mut().append_pair("restype", "container");
        let container = self.config.container.clone();
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

    pub(crate) fn container(&self) -> &str {
        &self.config.container
    }

    /// Maps an error of a request `object_store` sent, with its retries: a retryable one
    /// has then spent them, and no loop further out sends the request again.
    pub(crate) fn err(&self, e: object_store::Error, path: &str) -> Error {
        self.config.network.retry.give_up(error::map(e, &self.config.container, path))
    }

    /// The URL of the blob `key`, plus a query.
    pub(crate) fn blob_url(&self, key: &ferryboat_core::ObjectPath, query: &[(&str, &str)]) -> Result<Url> {
        let mut url = self.container_url.clone();
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

pub(crate) fn os_path(p: &ObjectPath) -> Result<Path> {
    // object_store's `Path::parse` drops a leading and a trailing `/` without a word, which
    // would address another object: a key it would change is refused like one it rejects.
    let refuse = |reason: String| Error::InvalidPath { path: p.to_string(), reason };
    let path = Path::parse(p.as_str()).map_err(|e| refuse(format!("the object_store client cannot carry it: {e}")))?;
    if path.as_ref() != p.as_str() {
        return Err(refuse("the object_store client cannot carry a leading or trailing `/`".into()));
    }
    Ok(path)
}

pub(crate) fn ferry_meta(m: object_store::ObjectMeta) -> Result<ObjectMeta> {
    let mut out = ObjectMeta::new(ObjectPath::parse(m.location.as_ref())?, m.size, m.last_modified.into());
    out.etag = m.e_tag.map(|e| e.trim_matches('"').to_owned());
    out.version = m.version;
    Ok(out)
}

/// Azure wants the etag as it sent it, quotes included.
pub(crate) fn quoted(etag: &str) -> String {
    if etag.starts_with('"') || etag == "*" {
        etag.to_owned()
    } else {
        format!("\"{etag}\"")
    }
}

pub(crate) fn attributes(opts: &PutOptions) -> Attributes {
    let mut out = Attributes::new();
    if let Some(ct) = &opts.content_type {
        out.insert(Attribute::ContentType, ct.clone().into());
    }
    if let Some(tier) = &opts.storage_class {
        out.insert(Attribute::StorageClass, tier.clone().into());
    }
    let a = &opts.attributes;
    let standard = [
        (Attribute::ContentDisposition, &a.content_disposition),
        (Attribute::ContentEncoding, &a.content_encoding),
        (Attribute::ContentLanguage, &a.content_language),
        (Attribute::CacheControl, &a.cache_control),
    ];
    for (attribute, value) in standard {
        if let Some(v) = value {
            out.insert(attribute, v.clone().into());
        }
    }
    for (k, v) in &opts.metadata {
        out.insert(Attribute::Metadata(metadata::encode(k).into()), v.clone().into());
    }
    out
}

/// Header values Azure stores must be printable ASCII; say so before sending anything.
pub(crate) fn check_put_options(opts: &PutOptions) -> Result<()> {
    let printable = |s: &str| s.bytes().all(|b| (0x20..0x7f).contains(&b));
    // Names are encoded (see `metadata`); values travel as header values.
    for (k, v) in &opts.metadata {
        if k.is_empty() || !printable(v) {
            return Err(Error::invalid_config(format!(
                "Azure metadata {k:?}: names must not be empty and values must be printable ASCII"
            )));
        }
    }
    let a = &opts.attributes;
    let headers = [
        ("content type", &opts.content_type),
        ("access tier", &opts.storage_class),
        ("content disposition", &a.content_disposition),
        ("content encoding", &a.content_encoding),
        ("content language", &a.content_language),
        ("cache control", &a.cache_control),
    ];
    for (what, value) in headers {
        if value.as_deref().is_some_and(|v| !printable(v)) {
            return Err(Error::invalid_config(format!("Azure {what} must be printable ASCII")));
        }
    }
    if let PutMode::Update(v) = &opts.mode {
        if v.etag.is_none() {
            return Err(Error::not_supported(PROVIDER, "conditional update by version id (give the etag)"));
        }
    }
    Ok(())
}

/// A compare-and-swap that finds nothing has failed its condition (see docs/decisions.md).
pub(crate) fn update_missing_is_precondition(e: Error, key: &ObjectPath, mode: &PutMode) -> Error {
    match (e, mode) {
        // A missing container stays `NotFound`: it names the container, not the key.
        (Error::NotFound { provider, path, details, .. }, PutMode::Update(_)) if path == key.as_str() => {
            Error::Precondition { provider, path, message: "the object does not exist".into(), details }
        }
        (e, _) => e,
    }
}
