//! The thin JSON-API client: URLs, authenticated requests, bounded reads of answers, and the
//! object calls the store, its listings and its uploads share (uploads, conditions, deletes).

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use ferryboat_core::retry::{Idempotency, RetryPolicy};
use ferryboat_core::{Error, ObjectPath, PutMode, PutOptions, Result};
use futures::stream;
use md5::Digest as _;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::header;
use reqwest::{Method, RequestBuilder, Response};

use crate::auth::Credentials;
use crate::error::{status_error, transport_error, OnPrecondition};
use crate::model::{parse_json, ObjectResource};
use crate::PROVIDER;

/// Bytes of an error answer kept; the rest is not read (a hostile or broken server could send
/// any amount).
pub(crate) const MAX_ERROR_BODY: usize = 64 * 1024;

/// Largest JSON document read into memory (a listing page of 1,000 objects with metadata is
/// a few MiB at most).
pub(crate) const MAX_DOCUMENT: usize = 32 * 1024 * 1024;

/// Everything but RFC 3986 unreserved characters: object names go into one path segment, so
/// `/`, `%`, `+`, `#`, `?` and spaces must all be escaped.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes an object or bucket name as one URL path segment.
pub(crate) fn encode(name: &str) -> String {
    utf8_percent_encode(name, SEGMENT).to_string()
}

/// Where parts live, at the bucket root.
pub(crate) const RESERVED_PREFIX: &str = ".ferry-uploads/";

/// The generation precondition a write carries, and what a 412 then means.
pub(crate) struct WriteCondition {
    pub if_generation_match: Option<u64>,
    pub on412: OnPrecondition,
}

/// The HTTP side of a store: endpoint, bucket, credentials and a pooled client.
#[derive(Debug)]
pub(crate) struct Client {
    pub http: reqwest::Client,
    /// Endpoint without a trailing slash, e.g. `https://storage.googleapis.com`.
    pub endpoint: String,
    pub bucket: String,
    pub credentials: Credentials,
    /// The key that signs URLs, if any.
    pub signer: Option<std::sync::Arc<crate::auth::ServiceAccount>>,
    /// How every request is retried.
    pub retry: RetryPolicy,
}

impl Client {
    /// `…/storage/v1/b/{bucket}/o/{name}` plus `suffix` (which starts with `?` or `/`, or is
    /// empty).
    pub fn object_url(&self, name: &str, suffix: &str) -> String {
        format!("{}/storage/v1/b/{}/o/{}{suffix}", self.endpoint, encode(&self.bucket), encode(name))
    }

    /// `…/storage/v1/b/{bucket}/o`.
    pub fn objects_url(&self) -> String {
        format!("{}/storage/v1/b/{}/o", self.endpoint, encode(&self.bucket))
    }

    /// `…/upload/storage/v1/b/{bucket}/o`.
    pub fn upload_url(&self) -> String {
        format!("{}/upload/storage/v1/b/{}/o", self.endpoint, encode(&self.bucket))
    }

    /// `…/storage/v1/b/{bucket}`.
    pub fn bucket_url(&self) -> String {
        format!("{}/storage/v1/b/{}", self.endpoint, encode(&self.bucket))
    }

    /// A request with credentials attached.
    pub async fn request(&self, method: Method, url: &str, query: &[(&str, String)]) -> Result<RequestBuilder> {
        let mut url = reqwest::Url::parse(url)
            .map_err(|e| Error::invalid_config(format!("cannot build a request URL from the endpoint: {e}")))?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        let mut rb = self.http.request(method, url);
        if let Some(auth) = self.credentials.header().await? {
            rb = rb.header(reqwest::header::AUTHORIZATION, auth);
        }
        Ok(rb)
    }

    /// Sends a request; transport failures become `Unavailable`, any status is returned.
    pub async fn send(&self, rb: RequestBuilder, path: &str) -> Result<Response> {
        rb.send().await.map_err(|e| transport_error(e, path))
    }

    /// Builds (with `build`, afresh for each attempt) and sends a request on the retry
    /// policy, returning the body of a 2xx answer or the error the status means.
    pub async fn call<F, Fut>(
        &self,
        idempotency: Idempotency,
        path: &str,
        on412: OnPrecondition,
        build: F,
    ) -> Result<Bytes>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<RequestBuilder>>,
    {
        let build = &build;
        self.retry.run(idempotency, path, || async move { self.send_ok(build().await?, path, on412).await }).await
    }

    /// Sends a request and returns the body of a 2xx answer, or the error the status means.
    pub async fn send_ok(&self, rb: RequestBuilder, path: &str, on412: OnPrecondition) -> Result<Bytes> {
        let resp = self.send(rb, path).await?;
        let status = resp.status();
        if status.is_success() {
            read_document(resp, path).await
        } else {
            let body = read_error_body(resp).await;
            Err(status_error(status, &body, path, on412))
        }
    }
}

impl Client {
    /// Metadata of `name`, optionally of one generation.
    pub(crate) async fn object_resource(&self, name: &str, generation: Option<&str>) -> Result<ObjectResource> {
        let query: Vec<(&str, String)> = generation.map(|g| ("generation", g.to_string())).into_iter().collect();
        let (url, query) = (&self.object_url(name, ""), &query);
        let build = || self.request(Method::GET, url, query);
        let body = self.call(Idempotency::Idempotent, name, OnPrecondition::Precondition, build).await?;
        parse_json(&body, name)
    }

    /// Turns a put mode into a generation precondition. `Update` by etag alone reads the
    /// current generation first: the write then succeeds only if the object is still the one
    /// whose etag matched.
    pub(crate) async fn write_condition(&self, path: &ObjectPath, mode: &PutMode) -> Result<WriteCondition> {
        let precondition = |message: String| Error::Precondition {
            provider: PROVIDER.into(),
            path: path.to_string(),
            message,
            details: Default::default(),
        };
        match mode {
            PutMode::Overwrite => Ok(WriteCondition { if_generation_match: None, on412: OnPrecondition::Precondition }),
            PutMode::Create => {
                Ok(WriteCondition { if_generation_match: Some(0), on412: OnPrecondition::AlreadyExists })
            }
            PutMode::Update(v) => {
                let generation = match (&v.version, &v.etag) {
                    (Some(version), _) => version
                        .parse::<u64>()
                        .map_err(|_| precondition(format!("version {version:?} is not a GCS generation number")))?,
                    (None, Some(etag)) => {
                        let current = match self.object_resource(path.as_str(), None).await {
                            Ok(r) => r,
                            Err(Error::NotFound { .. }) => {
                                return Err(precondition(format!(
                                    "expected etag {etag}, but the object does not exist"
                                )))
                            }
                            Err(e) => return Err(e),
                        };
                        if !ferryboat_core::conditions::etag_matches(etag, current.etag.as_deref()) {
                            return Err(precondition(format!("expected etag {etag}, found {:?}", current.etag)));
                        }
                        current.generation.ok_or_else(|| precondition("the server sent no generation".into()))?
                    }
                    (None, None) => return Err(precondition("PutMode::Update names neither etag nor version".into())),
                };
                // Generation 0 would mean "does not exist", which is not what Update asks.
                if generation == 0 {
                    return Err(precondition("generation 0 names no object".into()));
                }
                Ok(WriteCondition { if_generation_match: Some(generation), on412: OnPrecondition::Precondition })
            }
        }
    }

    /// Checks a write condition before a `compose` or `rewrite`. GCS evaluates the condition
    /// atomically on those calls too (ferry sends it), but fake-gcs-server 1.54 ignores it
    /// there; checking first catches every conflict that is not a race on such servers.
    pub(crate) async fn precheck(&self, name: &str, cond: &WriteCondition) -> Result<()> {
        let Some(expected) = cond.if_generation_match else { return Ok(()) };
        let current = match self.object_resource(name, None).await {
            Ok(r) => r.generation,
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let holds = match current {
            None => expected == 0,
            Some(g) => g == expected,
        };
        if holds {
            return Ok(());
        }
        Err(match cond.on412 {
            OnPrecondition::AlreadyExists => {
                Error::AlreadyExists { provider: PROVIDER.into(), path: name.into(), details: Default::default() }
            }
            OnPrecondition::Precondition => Error::Precondition {
                provider: PROVIDER.into(),
                path: name.into(),
                message: format!("expected generation {expected}, found {current:?}"),
                details: Default::default(),
            },
        })
    }

    /// One-request upload of `data` as `name` (`uploadType=multipart`, which carries the
    /// metadata and, unlike `uploadType=media` on fake-gcs-server, honours preconditions).
    ///
    /// Retried on the policy: an unconditional one on any retryable failure (the same bytes
    /// again), a conditional one only once the object's metadata shows the write did not land
    /// (same size and MD5: then the answer was lost and the write succeeded).
    pub(crate) async fn upload(
        &self,
        name: &str,
        data: Bytes,
        opts: &PutOptions,
        cond: &WriteCondition,
    ) -> Result<ObjectResource> {
        let send = || self.upload_once(name, data.clone(), opts, cond);
        if cond.if_generation_match.is_none() {
            return self.retry.run(Idempotency::Idempotent, name, send).await;
        }
        self.retry.run_conditional(name, send, || self.landed(name, &data)).await
    }

    /// The object `name`, if it holds exactly `data`.
    async fn landed(&self, name: &str, data: &Bytes) -> Option<ObjectResource> {
        let r = self.object_resource(name, None).await.ok()?;
        let md5 = base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(data));
        (r.size == Some(data.len() as u64) && r.md5_hash.as_deref() == Some(md5.as_str())).then_some(r)
    }

    async fn upload_once(
        &self,
        name: &str,
        data: Bytes,
        opts: &PutOptions,
        cond: &WriteCondition,
    ) -> Result<ObjectResource> {
        let resource = crate::model::resource_fields(name, opts);
        let boundary = boundary_for(&data);
        let media_type = opts.content_type.as_deref().unwrap_or("application/octet-stream");
        let head = format!(
            "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{resource}\r\n--{boundary}\r\nContent-Type: {media_type}\r\n\r\n"
        );
        let tail = format!("\r\n--{boundary}--\r\n");
        let len = head.len() + data.len() + tail.len();
        // Three chunks rather than one copy: the payload is sent as the caller's buffer.
        let parts: Vec<std::result::Result<Bytes, std::io::Error>> = vec![Ok(head.into()), Ok(data), Ok(tail.into())];
        let mut query = vec![("uploadType", "multipart".to_string())];
        if let Some(g) = cond.if_generation_match {
            query.push(("ifGenerationMatch", g.to_string()));
        }
        let rb = self
            .request(Method::POST, &self.upload_url(), &query)
            .await?
            .header(header::CONTENT_TYPE, format!("multipart/related; boundary={boundary}"))
            .header(header::CONTENT_LENGTH, len)
            .body(reqwest::Body::wrap_stream(stream::iter(parts)));
        let body = self.send_ok(rb, name, cond.on412).await?;
        parse_json(&body, name)
    }

    /// Deletes `name`; a missing object is not an error.
    pub(crate) async fn delete_name(&self, name: &str) -> Result<()> {
        let url = &self.object_url(name, "");
        let build = || self.request(Method::DELETE, url, &[]);
        // A delete whose answer was lost finds nothing the second time: also success.
        match self.call(Idempotency::Idempotent, name, OnPrecondition::Precondition, build).await {
            Ok(_) | Err(Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// A multipart boundary that does not occur in `data`.
fn boundary_for(data: &[u8]) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let boundary = format!("ferry-{}", random_hex(n));
        let b = boundary.as_bytes();
        if !data.windows(b.len()).any(|w| w == b) {
            return boundary;
        }
    }
}

/// Unpredictable hex: upload ids and multipart boundaries must not collide across processes.
pub(crate) fn random_hex(salt: u64) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let mut out = String::with_capacity(32);
    for round in 0..2u64 {
        let mut h = RandomState::new().build_hasher();
        h.write_u128(nanos);
        h.write_u64(salt);
        h.write_u64(round);
        h.write_u32(std::process::id());
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// The body of a successful answer, refused past [`MAX_DOCUMENT`] bytes.
pub(crate) async fn read_document(mut resp: Response, path: &str) -> Result<Bytes> {
    let too_large = || {
        Error::generic(
            PROVIDER,
            path,
            format!(
                "the server's answer is larger than {} MiB; refused rather than held in memory",
                MAX_DOCUMENT / (1024 * 1024)
            ),
            None,
        )
    };
    if resp.content_length().is_some_and(|n| n > MAX_DOCUMENT as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport_error(e, path))? {
        if body.len() + chunk.len() > MAX_DOCUMENT {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

/// The first [`MAX_ERROR_BODY`] bytes of an error answer; a body that breaks off is used as
/// far as it came, since the status already says what went wrong.
pub(crate) async fn read_error_body(mut resp: Response) -> Bytes {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        let room = MAX_ERROR_BODY - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    Bytes::from(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_escaped_segment() {
        assert_eq!(encode("a/b c"), "a%2Fb%20c");
        assert_eq!(encode("100%+#?.txt"), "100%25%2B%23%3F.txt");
        assert_eq!(encode("café"), "caf%C3%A9");
        assert_eq!(encode("a-b_c.d~e"), "a-b_c.d~e");
    }

    #[test]
    fn ids_differ() {
        assert_ne!(random_hex(1), random_hex(1));
        assert_eq!(random_hex(2).len(), 32);
    }
}
