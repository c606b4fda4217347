//! Bounds on what a server can make the client read into memory, and a check that a listing
//! document arrived whole.
//!
//! The SDK reads every answer except an object's body whole before parsing it, so a broken
//! or hostile server could make it buffer a 100 MiB error page. And its XML reader accepts a
//! listing cut off after its first few keys as if it were complete, which would make a
//! mirror delete the rest. An interceptor wraps each such body before the SDK reads it:
//!
//! - error answers (status ≥ 300) are read up to [`MAX_ERROR_BODY`] and then cut cleanly; the
//!   status alone still decides the error;
//! - any other answer but an object's body fails once it passes [`MAX_DOCUMENT`];
//! - a listing fails unless its last bytes are its closing tag.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use aws_sdk_s3::config::interceptors::BeforeDeserializationInterceptorContextMut;
use aws_sdk_s3::config::{Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// Bytes of an error answer read; the rest is dropped with the connection.
pub const MAX_ERROR_BODY: u64 = 64 * 1024;

/// Largest XML document (a listing page, a multipart answer) read. A page of 1,000 keys of
/// 1,024 bytes each, every byte escaped, stays well below.
pub const MAX_DOCUMENT: u64 = 32 * 1024 * 1024;

/// Why a response body was refused; found again in the SDK error's source chain.
#[derive(Debug, Clone)]
pub(crate) struct BodyRefused {
    pub message: String,
    /// A truncated document may come whole next time; an oversized one will not.
    pub retryable: bool,
}

impl fmt::Display for BodyRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BodyRefused {}

/// The first [`BodyRefused`] in `err`'s source chain.
pub(crate) fn refused<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a BodyRefused> {
    let mut next: Option<&'a (dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(r) = e.downcast_ref::<BodyRefused>() {
            return Some(r);
        }
        next = e.source();
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Error answer: stop quietly at the cap.
    Cut,
    /// Document: fail past the cap; `closing` is the tag it must end with, if checked.
    Document { closing: Option<&'static str> },
}

/// The interceptor every store's client runs.
#[derive(Debug, Default)]
pub(crate) struct BodyLimits;

impl Intercept for BodyLimits {
    fn name(&self) -> &'static str {
        "ferryboat::BodyLimits"
    }

    fn modify_before_deserialization(
        &self,
        ctx: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map(|m| m.name()).unwrap_or_default();
        let response = ctx.response_mut();
        let success = response.status().is_success();
        let mode = match (success, operation) {
            // Object bodies stream to the caller, who decides how much to read.
            (true, "GetObject") => return Ok(()),
            (true, "ListObjectsV2" | "ListObjects") => Mode::Document { closing: Some("</ListBucketResult>") },
            (true, _) => Mode::Document { closing: None },
            (false, _) => Mode::Cut,
        };
        let body = std::mem::replace(response.body_mut(), SdkBody::taken());
        *response.body_mut() =
            SdkBody::from_body_1_x(Limited { inner: body, mode, seen: 0, tail: Vec::new(), done: false });
        Ok(())
    }
}

struct Limited {
    inner: SdkBody,
    mode: Mode,
    seen: u64,
    /// The last bytes seen, for the closing-tag check.
    tail: Vec<u8>,
    done: bool,
}

const TAIL: usize = 64;

impl Limited {
    fn finish(&self) -> Option<BodyRefused> {
        let Mode::Document { closing: Some(tag) } = self.mode else { return None };
        let text = String::from_utf8_lossy(&self.tail);
        if text.trim_end().ends_with(tag) {
            None
        } else {
            Some(BodyRefused {
                message: format!(
                    "the listing response ended after {} bytes without its closing {tag}: it was cut off",
                    self.seen
                ),
                retryable: true,
            })
        }
    }
}

impl Body for Limited {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(this.finish().map(|r| Err(Box::new(r) as BoxError)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.done = true;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(Some(Ok(frame))) => {
                let Some(data) = frame.data_ref() else { return Poll::Ready(Some(Ok(frame))) };
                let data = data.clone();
                let len = data.len() as u64;
                match this.mode {
                    Mode::Cut if this.seen + len > MAX_ERROR_BODY => {
                        let keep = (MAX_ERROR_BODY - this.seen) as usize;
                        this.seen = MAX_ERROR_BODY;
                        this.done = true;
                        Poll::Ready(Some(Ok(Frame::data(data.slice(..keep)))))
                    }
                    Mode::Document { .. } if this.seen + len > MAX_DOCUMENT => {
                        this.done = true;
                        Poll::Ready(Some(Err(Box::new(BodyRefused {
                            message: format!(
                                "the server's answer is larger than {} MiB; refused rather than held in memory",
                                MAX_DOCUMENT / (1024 * 1024)
                            ),
                            retryable: false,
                        }))))
                    }
                    _ => {
                        this.seen += len;
                        this.tail.extend_from_slice(&data);
                        if this.tail.len() > TAIL {
                            this.tail.drain(..this.tail.len() - TAIL);
                        }
                        Poll::Ready(Some(Ok(Frame::data(data))))
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        // The length may be cut short: promise nothing.
        SizeHint::default()
    }
}
