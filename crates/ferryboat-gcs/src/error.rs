//! Failures as ferry errors: an HTTP status (and the server's message) or a transport failure.

use ferryboat_core::{Error, ErrorDetails};
use reqwest::StatusCode;

use crate::model::{parse_json, ErrorEnvelope};
use crate::PROVIDER;

/// How a precondition failure (412) reads for the request that got it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnPrecondition {
    /// A create-only write: the object exists.
    AlreadyExists,
    /// A compare-and-swap: the object changed or is gone.
    Precondition,
}

/// A network-level failure: worth retrying. The message omits the URL (it carries the key,
/// which is already in `path`, and query strings).
pub(crate) fn transport_error(e: reqwest::Error, path: &str) -> Error {
    let e = e.without_url();
    if e.is_redirect() {
        // A redirect loop answers the same way every time: not worth a retry.
        return Error::generic(PROVIDER, path, "too many redirects", Some(Box::new(e)));
    }
    let what = if e.is_timeout() {
        "request timed out"
    } else if e.is_connect() {
        "cannot connect to the endpoint"
    } else if e.is_body() || e.is_decode() {
        "connection failed while transferring the body"
    } else {
        "request failed"
    };
    Error::unavailable(PROVIDER, path, what, Some(Box::new(e)))
}

/// The ferry error an HTTP status means for `path`.
pub(crate) fn status_error(status: StatusCode, body: &[u8], path: &str, on412: OnPrecondition) -> Error {
    let code = parse_json::<ErrorEnvelope>(body, "")
        .ok()
        .and_then(|e| e.error.errors.into_iter().map(|i| i.reason).find(|r| !r.is_empty()));
    let s = status.as_u16();
    let throttled = s == 429 || matches!(code.as_deref(), Some("rateLimitExceeded" | "userRateLimitExceeded"));
    let retryable = throttled || s == 408 || s >= 500;
    let details = ErrorDetails::status(s).with_code(code).with_retryable(retryable).with_throttled(throttled);
    status_kind(status, body, path, on412).with_details(details)
}

fn status_kind(status: StatusCode, body: &[u8], path: &str, on412: OnPrecondition) -> Error {
    let message = server_message(status, body);
    let provider = PROVIDER.to_string();
    let path = path.to_string();
    match status.as_u16() {
        401 => Error::Unauthenticated { provider, message, details: Default::default() },
        403 => Error::PermissionDenied { provider, path, message, details: Default::default() },
        404 => Error::NotFound { provider, path, source: None, details: Default::default() },
        412 if on412 == OnPrecondition::AlreadyExists => {
            Error::AlreadyExists { provider, path, details: Default::default() }
        }
        412 => Error::Precondition { provider, path, message, details: Default::default() },
        416 => Error::InvalidRange { provider, path, message, details: Default::default() },
        408 | 429 | 500..=599 => {
            Error::Unavailable { provider, path, message, source: None, details: Default::default() }
        }
        _ => Error::Generic { provider, path, message, source: None, details: Default::default() },
    }
}

/// The server's own explanation, shortened: GCS puts it in a JSON envelope, proxies send text.
fn server_message(status: StatusCode, body: &[u8]) -> String {
    let text = parse_json::<ErrorEnvelope>(body, "")
        .map(|e| e.error.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned());
    let text: String = text.trim().chars().take(300).collect();
    if text.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_kinds() {
        let body = br#"{"error":{"code":412,"message":"Precondition Failed"}}"#;
        let e = status_error(StatusCode::PRECONDITION_FAILED, body, "k", OnPrecondition::AlreadyExists);
        assert!(matches!(e, Error::AlreadyExists { .. }), "{e}");
        let e = status_error(StatusCode::PRECONDITION_FAILED, body, "k", OnPrecondition::Precondition);
        assert!(matches!(e, Error::Precondition { .. }) && e.to_string().contains("Precondition Failed"), "{e}");
        let e = status_error(StatusCode::SERVICE_UNAVAILABLE, b"busy", "k", OnPrecondition::Precondition);
        assert!(e.is_retryable() && e.to_string().contains("busy"), "{e}");
        let e = status_error(StatusCode::NOT_FOUND, b"", "k", OnPrecondition::Precondition);
        assert!(matches!(e, Error::NotFound { .. }) && e.status() == Some(404), "{e}");
        let body = br#"{"error":{"code":429,"message":"slow down","errors":[{"reason":"rateLimitExceeded"}]}}"#;
        let e = status_error(StatusCode::TOO_MANY_REQUESTS, body, "k", OnPrecondition::Precondition);
        assert!(e.is_throttled() && e.is_retryable() && e.code() == Some("rateLimitExceeded"), "{e}");
        let e = status_error(StatusCode::BAD_REQUEST, &[b'x'; 2000], "k", OnPrecondition::Precondition);
        assert!(!e.is_retryable() && e.to_string().len() < 400, "{e}");
    }
}
