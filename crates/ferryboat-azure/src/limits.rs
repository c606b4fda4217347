//! Bounds on what a server can make the client read into memory.
//!
//! `object_store` reads every answer except a blob's content whole before parsing it (error
//! bodies included), so a broken or hostile server could make it buffer a 100 MiB error page
//! or an endless listing. Every store's HTTP client is wrapped so that:
//!
//! - error answers (status ≥ 300) are read up to [`MAX_ERROR_BODY`] and then end cleanly;
//!   the status and Azure's error code, which come first, still decide the error;
//! - any other answer but a blob's content fails once it passes [`MAX_DOCUMENT`];
//! - a blob's content is not capped (its size is the caller's business).

use std::pin::Pin;
use std::task::{Context, Poll};

use async_trait::async_trait;
use bytes::Bytes;
use http::Method;
use http_body::{Body, Frame, SizeHint};
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest, HttpResponse, HttpResponseBody, HttpService,
    ReqwestConnector,
};
use object_store::ClientOptions;

/// Bytes of an error answer read; the rest is dropped with the connection.
pub const MAX_ERROR_BODY: u64 = 64 * 1024;

/// Largest document read (a listing page of 5,000 blobs with long names and metadata, a
/// batch answer, a token). Real ones stay far below.
pub const MAX_DOCUMENT: u64 = 32 * 1024 * 1024;

/// Connects with reqwest and caps the answers (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct LimitedConnector;

impl HttpConnector for LimitedConnector {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        let inner = ReqwestConnector::default().connect(options)?;
        Ok(HttpClient::new(Limited { inner }))
    }
}

#[derive(Debug)]
struct Limited {
    inner: HttpClient,
}

#[async_trait]
impl HttpService for Limited {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        // A blob's content is a GET of the blob itself; every service document has `comp=` or
        // `restype=` in its query, or comes from another host (tokens).
        let content = req.method() == Method::GET
            && !req
                .uri()
                .query()
                .is_some_and(|q| q.split('&').any(|p| p.starts_with("comp=") || p.starts_with("restype=")));
        let response = self.inner.execute(req).await?;
        let cap = if !response.status().is_success() && !response.status().is_informational() {
            Some(Cap::Cut(MAX_ERROR_BODY))
        } else if content {
            None
        } else {
            Some(Cap::Fail(MAX_DOCUMENT))
        };
        Ok(match cap {
            None => response,
            Some(cap) => response.map(|body| HttpResponseBody::new(Capped { inner: body, cap, seen: 0, done: false })),
        })
    }
}

#[derive(Debug, Clone, Copy)]
enum Cap {
    /// End the body quietly after this many bytes.
    Cut(u64),
    /// Fail the body past this many bytes.
    Fail(u64),
}

#[derive(Debug)]
struct Capped {
    inner: HttpResponseBody,
    cap: Cap,
    seen: u64,
    done: bool,
}

impl Body for Capped {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            other => return other,
        };
        let Some(data) = frame.data_ref() else { return Poll::Ready(Some(Ok(frame))) };
        let len = data.len() as u64;
        match self.cap {
            Cap::Cut(max) if self.seen + len >= max => {
                let keep = (max - self.seen) as usize;
                let data = data.slice(..keep);
                self.seen = max;
                self.done = true;
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
            Cap::Fail(max) if self.seen + len > max => {
                self.done = true;
                Poll::Ready(Some(Err(HttpError::new(HttpErrorKind::Decode, TooLarge(max)))))
            }
            _ => {
                self.seen += len;
                Poll::Ready(Some(Ok(frame)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let mut hint = SizeHint::new();
        if let Cap::Cut(max) = self.cap {
            // Collecting reserves the lower bound: never more than what will be kept.
            hint.set_upper(max.saturating_sub(self.seen));
        }
        hint
    }
}

/// A document past [`MAX_DOCUMENT`]; the message survives into ferry's error.
#[derive(Debug)]
pub(crate) struct TooLarge(u64);

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the server's answer is larger than {} MiB", self.0 / (1024 * 1024))
    }
}

impl std::error::Error for TooLarge {}
