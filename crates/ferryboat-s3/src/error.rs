//! SDK errors into `ferryboat_core::Error`, naming provider, key or bucket, never credentials.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use ferryboat_core::{Error, ErrorDetails};

/// What every error message needs to say where it happened.
#[derive(Debug, Clone)]
pub(crate) struct ErrorContext {
    pub provider: String,
    pub bucket: String,
    /// Endpoint without credentials or query.
    pub endpoint: String,
    /// Whether the SDK retries requests (the policy allows more than one attempt): a
    /// retryable failure it returns has then spent its request's retries.
    pub sdk_retries: bool,
}

/// Error codes meaning the credentials themselves were rejected (not their permissions).
const AUTH_CODES: &[&str] = &[
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "TokenRefreshRequired",
    "AuthorizationHeaderMalformed",
    "InvalidSecurity",
    "MissingSecurityHeader",
];

/// Error codes asking the client to slow down.
const THROTTLE_CODES: &[&str] =
    &["SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests"];

/// Error codes the same request may get past later.
const TRANSIENT_CODES: &[&str] = &[
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "InternalError",
    "ServiceUnavailable",
    "OperationAborted",
    "ConditionalRequestConflict",
];

/// Error codes the AWS SDK's own classifiers retry (among those servers send to S3 clients).
const SDK_RETRIED_CODES: &[&str] = &[
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// How a failed request ended, boiled down to what the mapping needs.
#[derive(Debug)]
pub(crate) struct Failure {
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: String,
    pub kind: FailureKind,
    pub source: ferryboat_core::BoxError,
    /// A failure of the kinds the SDK's retry loop retries (not one of our interceptors'
    /// refusals, which it does not).
    pub sdk_retried: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FailureKind {
    /// The server answered.
    Service,
    /// No answer: connection refused, reset, DNS, TLS.
    Dispatch,
    /// A timeout fired.
    Timeout,
    /// The answer could not be read.
    Response,
    /// The request could not be built (bad input or configuration).
    Construction,
    /// The answer was refused for good (too large to hold): not worth repeating.
    Refused,
}

impl Failure {
    pub(crate) fn from_sdk<E>(err: SdkError<E, HttpResponse>) -> Failure
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        let code = err.code().map(str::to_string);
        if let Some(r) = crate::limits::refused(&err) {
            let kind = if r.retryable { FailureKind::Response } else { FailureKind::Refused };
            let message = r.message.clone();
            return Failure { status, code: None, message, kind, source: Box::new(err), sdk_retried: false };
        }
        // The SDK retries a dispatch failure that is a timeout, an I/O error or one it gave a
        // kind; not one it could not classify (a connection closed before the answer was
        // complete, which may have been processed).
        let dispatch_retried = match &err {
            SdkError::DispatchFailure(d) => d.is_timeout() || d.is_io() || d.as_other().is_some(),
            _ => true,
        };
        let (kind, message) = match &err {
            SdkError::ServiceError(_) => (FailureKind::Service, err.message().unwrap_or_default().to_string()),
            SdkError::TimeoutError(_) => (FailureKind::Timeout, "timed out".to_string()),
            SdkError::DispatchFailure(d) => {
                let kind = if d.is_timeout() { FailureKind::Timeout } else { FailureKind::Dispatch };
                (kind, source_chain(&err))
            }
            SdkError::ResponseError(_) => (FailureKind::Response, source_chain(&err)),
            _ => (FailureKind::Construction, source_chain(&err)),
        };
        // What the SDK's classifiers retry: transport failures, timeouts, unreadable answers,
        // and answers with status 500/502/503/504 or one of its throttling or transient codes.
        let sdk_retried = match kind {
            FailureKind::Service => {
                status.is_some_and(|s| matches!(s, 500 | 502 | 503 | 504))
                    || code.as_deref().is_some_and(|c| SDK_RETRIED_CODES.contains(&c))
            }
            FailureKind::Construction | FailureKind::Refused => false,
            FailureKind::Timeout | FailureKind::Dispatch | FailureKind::Response => dispatch_retried,
        };
        Failure { status, code, message, kind, source: Box::new(err), sdk_retried }
    }

    /// `code: message (HTTP status)`, leaving out what is unknown.
    fn describe(&self) -> String {
        let mut out = String::new();
        if let Some(code) = &self.code {
            out.push_str(code);
        }
        if !self.message.is_empty() {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&self.message);
        }
        if let Some(status) = self.status {
            out.push_str(&format!(" (HTTP {status})"));
        }
        if out.is_empty() {
            out.push_str("request failed");
        }
        out
    }

    fn code_is(&self, codes: &[&str]) -> bool {
        self.code.as_deref().is_some_and(|c| codes.contains(&c))
    }
}

/// The messages of an error and its sources, joined: the SDK's top-level message alone
/// ("dispatch failure") says nothing useful.
fn source_chain(err: &dyn std::error::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

impl ErrorContext {
    /// Maps a failed request about `path` (an object key, or empty for bucket-level calls).
    pub(crate) fn map<E>(&self, path: &str, err: SdkError<E, HttpResponse>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let f = Failure::from_sdk(err);
        let spent = self.sdk_retries && f.sdk_retried;
        let e = self.map_failure(path, f);
        // The SDK ran the policy's attempts: no loop further out sends the request again.
        if spent && e.is_retryable() {
            e.spent()
        } else {
            e
        }
    }

    /// Maps a failed request that was sent without the SDK's retries.
    pub(crate) fn map_once<E>(&self, path: &str, err: SdkError<E, HttpResponse>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        self.map_failure(path, Failure::from_sdk(err))
    }

    /// Maps a failure, keeping its HTTP status, its S3 error code and whether a retry may
    /// get past it (decided from the status and code, never the message).
    pub(crate) fn map_failure(&self, path: &str, f: Failure) -> Error {
        let status = f.status.unwrap_or(0);
        let throttled = f.code_is(THROTTLE_CODES) || status == 429;
        let retryable = match f.kind {
            FailureKind::Timeout | FailureKind::Dispatch | FailureKind::Response => true,
            FailureKind::Construction | FailureKind::Refused => false,
            FailureKind::Service => throttled || f.code_is(TRANSIENT_CODES) || status >= 500,
        };
        let details = ErrorDetails::default()
            .with_status(f.status)
            .with_code(f.code.clone())
            .with_retryable(retryable)
            .with_throttled(throttled);
        self.map_kind(path, f, retryable).with_details(details)
    }

    fn map_kind(&self, path: &str, f: Failure, retryable: bool) -> Error {
        let provider = self.provider.clone();
        let at = if path.is_empty() { self.bucket.clone() } else { path.to_string() };
        match f.kind {
            FailureKind::Timeout => {
                return Error::unavailable(
                    provider,
                    at,
                    format!("timed out talking to {}: {}", self.endpoint, f.message),
                    Some(f.source),
                )
            }
            FailureKind::Dispatch => {
                return Error::unavailable(
                    provider,
                    self.endpoint.clone(),
                    format!("cannot reach {}: {}", self.endpoint, f.message),
                    Some(f.source),
                )
            }
            FailureKind::Response => {
                return Error::unavailable(
                    provider,
                    at,
                    format!("broken response from {}: {}", self.endpoint, f.message),
                    Some(f.source),
                )
            }
            FailureKind::Construction => return Error::generic(provider, at, f.message, Some(f.source)),
            FailureKind::Refused => {
                return Error::generic(provider, at, format!("{} (from {})", f.message, self.endpoint), Some(f.source))
            }
            FailureKind::Service => {}
        }
        let status = f.status.unwrap_or(0);
        if f.code_is(&["NoSuchBucket"]) {
            return Error::NotFound {
                provider,
                path: self.bucket.clone(),
                source: Some(bucket_missing(&self.bucket)),
                details: Default::default(),
            };
        }
        if f.code_is(AUTH_CODES) || status == 401 {
            return Error::Unauthenticated { provider, message: f.describe(), details: Default::default() };
        }
        if f.code_is(&["NotImplemented"]) || status == 501 {
            return Error::NotSupported { provider, operation: f.describe(), details: Default::default() };
        }
        if retryable {
            let message = f.describe();
            return Error::unavailable(provider, at, message, Some(f.source));
        }
        match status {
            304 => Error::NotModified { provider, path: at, details: Default::default() },
            403 => Error::PermissionDenied { provider, path: at, message: f.describe(), details: Default::default() },
            404 => Error::NotFound { provider, path: at, source: Some(f.source), details: Default::default() },
            412 => Error::Precondition { provider, path: at, message: f.describe(), details: Default::default() },
            416 => Error::InvalidRange { provider, path: at, message: f.describe(), details: Default::default() },
            _ => {
                let message = f.describe();
                Error::generic(provider, at, message, Some(f.source))
            }
        }
    }
}

fn bucket_missing(bucket: &str) -> ferryboat_core::BoxError {
    format!("bucket `{bucket}` does not exist").into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferryboat_core::ErrorKind;

    fn ctx() -> ErrorContext {
        ErrorContext {
            provider: "ovh".into(),
            bucket: "photos".into(),
            endpoint: "https://s3.gra.io.cloud.ovh.net".into(),
            sdk_retries: true,
        }
    }

    fn service(status: u16, code: Option<&str>) -> Failure {
        Failure {
            status: Some(status),
            code: code.map(str::to_string),
            message: "server says no".into(),
            kind: FailureKind::Service,
            source: "raw".into(),
            sdk_retried: true,
        }
    }

    #[test]
    fn service_errors_map_by_code_then_status() {
        let cases = [
            (404, Some("NoSuchKey"), ErrorKind::NotFound, "a/b"),
            (404, None, ErrorKind::NotFound, "a/b"),
            (404, Some("NoSuchBucket"), ErrorKind::NotFound, "photos"),
            (403, Some("AccessDenied"), ErrorKind::PermissionDenied, "a/b"),
            (403, Some("SignatureDoesNotMatch"), ErrorKind::Unauthenticated, ""),
            (403, Some("InvalidAccessKeyId"), ErrorKind::Unauthenticated, ""),
            (400, Some("AuthorizationHeaderMalformed"), ErrorKind::Unauthenticated, ""),
            (304, None, ErrorKind::NotModified, "a/b"),
            (412, Some("PreconditionFailed"), ErrorKind::Precondition, "a/b"),
            (416, Some("InvalidRange"), ErrorKind::InvalidRange, "a/b"),
            (503, Some("SlowDown"), ErrorKind::Unavailable, "a/b"),
            (500, None, ErrorKind::Unavailable, "a/b"),
            (429, None, ErrorKind::Unavailable, "a/b"),
            (400, Some("RequestTimeout"), ErrorKind::Unavailable, "a/b"),
            (501, Some("NotImplemented"), ErrorKind::NotSupported, ""),
            (400, Some("InvalidArgument"), ErrorKind::Generic, "a/b"),
        ];
        for (status, code, kind, path) in cases {
            let err = ctx().map_failure("a/b", service(status, code));
            assert_eq!(err.kind(), kind, "{status} {code:?}: {err:?}");
            assert_eq!(err.provider(), Some("ovh"));
            if !path.is_empty() {
                assert_eq!(err.path(), Some(path), "{status} {code:?}");
            }
        }
    }

    #[test]
    fn connection_failures_name_the_endpoint_and_are_retryable() {
        for kind in [FailureKind::Dispatch, FailureKind::Timeout, FailureKind::Response] {
            let f = Failure {
                status: None,
                code: None,
                message: "connection reset".into(),
                kind,
                source: "io".into(),
                sdk_retried: true,
            };
            let err = ctx().map_failure("a/b", f);
            assert!(err.is_retryable(), "{err:?}");
            assert!(err.to_string().contains("https://s3.gra.io.cloud.ovh.net"), "{err}");
        }
    }
}
