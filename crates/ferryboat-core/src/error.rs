//! The one error type every ferry store returns.

use std::fmt;

/// A boxed error from a lower layer (an SDK, the OS, a codec).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Shorthand for `Result<T, ferryboat_core::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to an object store.
///
/// Every variant names the provider it came from (`"memory"`, `"s3/ovhcloud"`, …) and, where
/// there is one, the object path or bucket, so a message read in a log says where to look.
/// Secrets never appear in any field: backends build these from sanitised SDK errors.
///
/// Match on the variant to decide what to do; ask [`Error::is_retryable`] whether trying the
/// same request again may succeed and [`Error::is_throttled`] whether the server asked to
/// slow down. Retryable and throttled are properties any kind can have (a throttled write is
/// still the write's kind of failure), kept with the server's HTTP status and error code in
/// [`ErrorDetails`]; no code needs to read the message text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The object, or the bucket/container, does not exist.
    #[error("{provider}: not found: {path}")]
    NotFound {
        /// Provider id.
        provider: String,
        /// Object path, or bucket name when the bucket is missing.
        path: String,
        /// Underlying error, if any.
        #[source]
        source: Option<BoxError>,
        /// The server's status and error code, and whether retrying may help (boxed, and
        /// `None` when there is nothing to say, so that errors stay small).
        details: Option<Box<ErrorDetails>>,
    },
    /// A `Create` write or copy found the object already there.
    #[error("{provider}: already exists: {path}")]
    AlreadyExists {
        /// Provider id.
        provider: String,
        /// Object path.
        path: String,
        /// The server's status and error code, and whether retrying may help (boxed, and
        /// `None` when there is nothing to say, so that errors stay small).
        details: Option<Box<ErrorDetails>>,
    },
    /// A condition (`If-Match`, `Update(etag)`, `If-Unmodified-Since`) did not hold.
    #[error("{provider}: precondition failed for {path}: {message}")]
    Precondition {
        /// Provider id.
        provider: String,
        /// Object path.
        path: String,
        /// Which condition failed.
        message: String,
        /// The server's status and error code, and whether retrying may help (boxed, and
        /// `None` when there is nothing to say, so that errors stay small).
        details: Option<Box<ErrorDetails>>,
    },
    /// A conditional read (`If-None-Match`, `If-Modified-Since`) found the object unchanged.
    #[error("{provider}: not modified: {path}")]
    NotModified {
        /// Provider id.
        provider: String,
        /// Object path.
        path: String,
        /// The server's status and error code, and whether retrying may help (boxed, and
        /// `None` when there is nothing to say, so that errors stay small).
        details: Option<Box<ErrorDetails>>,
    },
    /// The requested byte range lies outside the object.
    #[error("{provider}: range not satisfiable for {path}: {message}")]
    InvalidRange {
        /// Provider id.
        provider: String,
        /// Object path.
        path: String,
        /// The range and the object size.
        message: String,
        /// The server's status and error code, and whether retrying may help (boxed, and
        /// `None` when there is nothing to say, so that errors stay small).
        details: Option<Box<ErrorDetails>>,
    },
    /// The credentials are valid but not allowed to do this.
    #[error("{provider}: permission denied for {path}: {message}")]
    PermissionDenied {
        /// Provider id.
        provider: String,
        /// Object path or bucket.
        path: String,
        /// What the server said (sanitised).
        message: String,
        /// The server's status and error code, and whether retrying may help (boxed, and
        /// `None` when there is nothing to say, so that errors stay small).
        details: Option<Box<ErrorDetails>>,
    },
    /// The credentials were missing, malformed or rejected.
    #[error("{provider}: authentication failed: {message}")]
    Unauthenticated {
        /// Provider id.
        provider: String,
        /// What the server said (sanitised; never the secret).
        message: String,
        /// The server's status and error code, and whether retrying may help (boxed, and
        /// `None` when there is nothing to say, so that errors stay small).
        details: Option<Box<ErrorDetails>>,
    },
    /// The store cannot do this at all (see its [`Capabilities`](crate::Capabilities)).
    #[error("{provider}: not supported: {operation}")]
    NotSupported {
        /// Provider id.
        provider: String,
        /// The operation or option that is unsupported.
        operation: String,
        /// The server's status and error code, and whether retrying may help (boxed, and
        /// `None` when there is nothing to say, so that errors stay small).
        details: Option<Box<ErrorDetails>>,
    },
    /// An object key was rejected by [`ObjectPath`](crate::ObjectPath) rules or by the store.
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath {
        /// The offending key, as given.
        path: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A URL, option or credential setting is malformed or inconsistent.
    #[error("invalid configuration: {message}")]
    InvalidConfig {
        /// What is wrong and, where useful, what would be valid.
        message: String,
    },
    /// A policy layer refused the operation before any byte left.
    #[error("{provider}: policy violation: {message}")]
    PolicyViolation {
        /// Provider id.
        provider: String,
        /// The policy rule and the fact that broke it.
        message: String,
        /// The server's status and error code, and whether retrying may help (boxed, and
        /// `None` when there is nothing to say, so that errors stay small).
        details: Option<Box<ErrorDetails>>,
    },
    /// Data did not match its checksum, authentication tag or declared size.
    #[error("{provider}: integrity check failed for {path}: {message}")]
    Integrity {
        /// Provider id.
        provider: String,
        /// Object path.
        path: String,
        /// What did not match.
        message: String,
        /// The server's status and error code, and whether retrying may help (boxed, and
        /// `None` when there is nothing to say, so that errors stay small).
        details: Option<Box<ErrorDetails>>,
    },
    /// The service could not be reached or could not answer: a refused or reset connection,
    /// a timeout, a cut body, a 5xx or throttling answer. Always retryable; whether it was
    /// throttling is [`Error::is_throttled`].
    #[error("{provider}: unavailable for {path}: {message}")]
    Unavailable {
        /// Provider id.
        provider: String,
        /// Object path, bucket, or endpoint.
        path: String,
        /// What happened.
        message: String,
        /// Underlying error, if any.
        #[source]
        source: Option<BoxError>,
        /// The server's status and error code, and whether retrying may help (boxed, and
        /// `None` when there is nothing to say, so that errors stay small).
        details: Option<Box<ErrorDetails>>,
    },
    /// Any other failure. Not retried unless its details say so.
    #[error("{provider}: {message} ({path})")]
    Generic {
        /// Provider id.
        provider: String,
        /// Object path, bucket or endpoint.
        path: String,
        /// What happened.
        message: String,
        /// Underlying error, if any.
        #[source]
        source: Option<BoxError>,
        /// The server's status and error code, and whether retrying may help (boxed, and
        /// `None` when there is nothing to say, so that errors stay small).
        details: Option<Box<ErrorDetails>>,
    },
}

/// What the server said about a failure, and whether repeating the request may succeed.
///
/// Every variant that names a provider carries one; the backends fill it from the answer
/// (status and provider error code: `NoSuchKey`, `BlobNotFound`, `SlowDown`, …), layers
/// read it instead of the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorDetails {
    /// The HTTP status of the answer, when there was one.
    pub status: Option<u16>,
    /// The provider's error code (`NoSuchKey`, `BlobNotFound`, `SlowDown`, …), when it sent one.
    pub code: Option<String>,
    /// Repeating the same request may succeed.
    pub retryable: bool,
    /// The server asked the client to slow down (HTTP 429, S3 `SlowDown`, Azure
    /// `ServerBusy`, …). Implies `retryable`.
    pub throttled: bool,
    /// The request was already sent as often as its retry policy allows: no loop further
    /// out sends it again (see [`crate::retry::RetryPolicy`]), so retries never multiply.
    pub retries_spent: bool,
}

impl ErrorDetails {
    /// Details of an answer with HTTP `status`.
    pub fn status(status: u16) -> Self {
        ErrorDetails { status: Some(status), ..Default::default() }
    }

    /// The same, with the HTTP status (or none).
    pub fn with_status(mut self, status: Option<u16>) -> Self {
        self.status = status;
        self
    }

    /// The same, with the provider's error code.
    pub fn with_code(mut self, code: Option<impl Into<String>>) -> Self {
        self.code = code.map(Into::into);
        self
    }

    /// The same, marked retryable (or not).
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// The same, marked as throttling (which is retryable too).
    pub fn with_throttled(mut self, throttled: bool) -> Self {
        self.throttled = throttled;
        self.retryable |= throttled;
        self
    }
}

impl Error {
    /// Whether repeating the same request may succeed. The retry policy trusts this answer:
    /// every [`Error::Unavailable`] is retryable, and so is any error whose details say so.
    ///
    /// ```
    /// # use ferryboat_core::{Error, ErrorDetails};
    /// let e = Error::unavailable("s3", "k", "connection reset", None);
    /// assert!(e.is_retryable() && !e.is_throttled());
    /// let slow = Error::generic("s3", "k", "SlowDown", None)
    ///     .with_details(ErrorDetails::status(503).with_code(Some("SlowDown")).with_throttled(true));
    /// assert!(slow.is_retryable() && slow.is_throttled());
    /// assert_eq!((slow.status(), slow.code()), (Some(503), Some("SlowDown")));
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Unavailable { .. }) || self.details().is_some_and(|d| d.retryable || d.throttled)
    }

    /// Whether the request that failed was already retried as far as its policy allows
    /// (a backend's own loop, or the SDK's, gave up): then no outer loop retries it.
    pub fn retries_spent(&self) -> bool {
        self.details().is_some_and(|d| d.retries_spent)
    }

    /// The same error, marked as having spent its request's retries.
    pub fn spent(mut self) -> Self {
        if let Some(d) = self.details_mut() {
            d.retries_spent = true;
        }
        self
    }

    /// Whether the server asked the client to slow down (HTTP 429, S3 `SlowDown`, …).
    pub fn is_throttled(&self) -> bool {
        self.details().is_some_and(|d| d.throttled)
    }

    /// The HTTP status of the server's answer, if the error came from one.
    pub fn status(&self) -> Option<u16> {
        self.details().and_then(|d| d.status)
    }

    /// The provider's error code (`NoSuchKey`, `BlobNotFound`, …), if the server sent one.
    pub fn code(&self) -> Option<&str> {
        self.details().and_then(|d| d.code.as_deref())
    }

    /// The status, code and retry facts, for variants that name a provider and have them.
    pub fn details(&self) -> Option<&ErrorDetails> {
        self.details_slot().and_then(|d| d.as_deref())
    }

    fn details_slot(&self) -> Option<&Option<Box<ErrorDetails>>> {
        match self {
            Error::NotFound { details, .. }
            | Error::AlreadyExists { details, .. }
            | Error::Precondition { details, .. }
            | Error::NotModified { details, .. }
            | Error::InvalidRange { details, .. }
            | Error::PermissionDenied { details, .. }
            | Error::Unauthenticated { details, .. }
            | Error::NotSupported { details, .. }
            | Error::PolicyViolation { details, .. }
            | Error::Integrity { details, .. }
            | Error::Unavailable { details, .. }
            | Error::Generic { details, .. } => Some(details),
            Error::InvalidPath { .. } | Error::InvalidConfig { .. } => None,
        }
    }

    /// Mutable access to the details, made empty first where there were none (`None` for
    /// the two variants that name no provider).
    pub fn details_mut(&mut self) -> Option<&mut ErrorDetails> {
        let slot = match self {
            Error::NotFound { details, .. }
            | Error::AlreadyExists { details, .. }
            | Error::Precondition { details, .. }
            | Error::NotModified { details, .. }
            | Error::InvalidRange { details, .. }
            | Error::PermissionDenied { details, .. }
            | Error::Unauthenticated { details, .. }
            | Error::NotSupported { details, .. }
            | Error::PolicyViolation { details, .. }
            | Error::Integrity { details, .. }
            | Error::Unavailable { details, .. }
            | Error::Generic { details, .. } => details,
            Error::InvalidPath { .. } | Error::InvalidConfig { .. } => return None,
        };
        Some(slot.get_or_insert_with(Box::default))
    }

    /// The same error carrying `details` (dropped by the two variants that name no provider).
    pub fn with_details(mut self, details: ErrorDetails) -> Self {
        if let Some(d) = self.details_mut() {
            *d = details;
        }
        self
    }

    /// The same error, marked retryable: for a failure a layer knows may pass on a second try
    /// (a body cut short, a listing page that broke off) whatever its kind.
    pub fn retryable(mut self) -> Self {
        if let Some(d) = self.details_mut() {
            d.retryable = true;
        }
        self
    }

    /// The provider id the error came from, if the variant carries one.
    pub fn provider(&self) -> Option<&str> {
        match self {
            Error::NotFound { provider, .. }
            | Error::AlreadyExists { provider, .. }
            | Error::Precondition { provider, .. }
            | Error::NotModified { provider, .. }
            | Error::InvalidRange { provider, .. }
            | Error::PermissionDenied { provider, .. }
            | Error::Unauthenticated { provider, .. }
            | Error::NotSupported { provider, .. }
            | Error::PolicyViolation { provider, .. }
            | Error::Integrity { provider, .. }
            | Error::Unavailable { provider, .. }
            | Error::Generic { provider, .. } => Some(provider),
            Error::InvalidPath { .. } | Error::InvalidConfig { .. } => None,
        }
    }

    /// The object path, bucket or endpoint the error is about, if the variant carries one.
    pub fn path(&self) -> Option<&str> {
        match self {
            Error::NotFound { path, .. }
            | Error::AlreadyExists { path, .. }
            | Error::Precondition { path, .. }
            | Error::NotModified { path, .. }
            | Error::InvalidRange { path, .. }
            | Error::PermissionDenied { path, .. }
            | Error::InvalidPath { path, .. }
            | Error::Integrity { path, .. }
            | Error::Unavailable { path, .. }
            | Error::Generic { path, .. } => Some(path),
            Error::Unauthenticated { .. }
            | Error::NotSupported { .. }
            | Error::InvalidConfig { .. }
            | Error::PolicyViolation { .. } => None,
        }
    }

    /// A short, stable name for the variant, for reports and metrics labels.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::AlreadyExists { .. } => ErrorKind::AlreadyExists,
            Error::Precondition { .. } => ErrorKind::Precondition,
            Error::NotModified { .. } => ErrorKind::NotModified,
            Error::InvalidRange { .. } => ErrorKind::InvalidRange,
            Error::PermissionDenied { .. } => ErrorKind::PermissionDenied,
            Error::Unauthenticated { .. } => ErrorKind::Unauthenticated,
            Error::NotSupported { .. } => ErrorKind::NotSupported,
            Error::InvalidPath { .. } => ErrorKind::InvalidPath,
            Error::InvalidConfig { .. } => ErrorKind::InvalidConfig,
            Error::PolicyViolation { .. } => ErrorKind::PolicyViolation,
            Error::Integrity { .. } => ErrorKind::Integrity,
            Error::Unavailable { .. } => ErrorKind::Unavailable,
            Error::Generic { .. } => ErrorKind::Generic,
        }
    }

    /// `NotFound` for `path` at `provider`.
    pub fn not_found(provider: impl Into<String>, path: impl Into<String>) -> Self {
        Error::NotFound { provider: provider.into(), path: path.into(), source: None, details: None }
    }

    /// `NotSupported` for `operation` at `provider`.
    pub fn not_supported(provider: impl Into<String>, operation: impl Into<String>) -> Self {
        Error::NotSupported { provider: provider.into(), operation: operation.into(), details: None }
    }

    /// `InvalidConfig` with `message`.
    pub fn invalid_config(message: impl Into<String>) -> Self {
        Error::InvalidConfig { message: message.into() }
    }

    /// `Generic` error with an optional source.
    pub fn generic(
        provider: impl Into<String>,
        path: impl Into<String>,
        message: impl Into<String>,
        source: Option<BoxError>,
    ) -> Self {
        let (provider, path, message) = (provider.into(), path.into(), message.into());
        Error::Generic { provider, path, message, source, details: None }
    }

    /// `Unavailable` error with an optional source.
    pub fn unavailable(
        provider: impl Into<String>,
        path: impl Into<String>,
        message: impl Into<String>,
        source: Option<BoxError>,
    ) -> Self {
        let (provider, path, message) = (provider.into(), path.into(), message.into());
        Error::Unavailable { provider, path, message, source, details: None }
    }

    /// The same as [`Error::unavailable`] (the name it had when unavailability was the only
    /// way to be retryable).
    pub fn transient(
        provider: impl Into<String>,
        path: impl Into<String>,
        message: impl Into<String>,
        source: Option<BoxError>,
    ) -> Self {
        Error::unavailable(provider, path, message, source)
    }
}

/// The variant of an [`Error`], without its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// See [`Error::NotFound`].
    NotFound,
    /// See [`Error::AlreadyExists`].
    AlreadyExists,
    /// See [`Error::Precondition`].
    Precondition,
    /// See [`Error::NotModified`].
    NotModified,
    /// See [`Error::InvalidRange`].
    InvalidRange,
    /// See [`Error::PermissionDenied`].
    PermissionDenied,
    /// See [`Error::Unauthenticated`].
    Unauthenticated,
    /// See [`Error::NotSupported`].
    NotSupported,
    /// See [`Error::InvalidPath`].
    InvalidPath,
    /// See [`Error::InvalidConfig`].
    InvalidConfig,
    /// See [`Error::PolicyViolation`].
    PolicyViolation,
    /// See [`Error::Integrity`].
    Integrity,
    /// See [`Error::Unavailable`].
    Unavailable,
    /// See [`Error::Generic`].
    Generic,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
