//! The thin JSON-API client: URLs, authenticated requests, bounded reads of answers.

use bytes::Bytes;
use ferryboat_core::{Error, Result};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::{Method, RequestBuilder, Response};

use crate::auth::Credentials;
use crate::error::{status_error, transport_error, OnPrecondition};
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

    /// Sends a request; transport failures become `Transient`, any status is returned.
    pub async fn send(&self, rb: RequestBuilder, path: &str) -> Result<Response> {
        rb.send().await.map_err(|e| transport_error(e, path))
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
}
