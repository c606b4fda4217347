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
/// same request again may succeed.
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
    },
    /// A `Create` write or copy found the object already there.
    #[error("{provider}: already exists: {path}")]
    AlreadyExists {
        /// Provider id.
        provider: String,
        /// Object path.
        path: String,
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
    },
    /// A conditional read (`If-None-Match`, `If-Modified-Since`) found the object unchanged.
    #[error("{provider}: not modified: {path}")]
    NotModified {
        /// Provider id.
        provider: String,
        /// Object path.
        path: String,
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
    },
    /// The credentials were missing, malformed or rejected.
    #[error("{provider}: authentication failed: {message}")]
    Unauthenticated {
        /// Provider id.
        provider: String,
        /// What the server said (sanitised; never the secret).
        message: String,
    },
    /// The store cannot do this at all (see its [`Capabilities`](crate::Capabilities)).
    #[error("{provider}: not supported: {operation}")]
    NotSupported {
        /// Provider id.
        provider: String,
        /// The operation or option that is unsupported.
        operation: String,
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
    },
    /// A failure that may succeed when retried: throttling, 5xx, timeout, reset connection.
    #[error("{provider}: transient error for {path}: {message}")]
    Transient {
        /// Provider id.
        provider: String,
        /// Object path, bucket, or endpoint.
        path: String,
        /// What happened.
        message: String,
        /// Underlying error, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// Any other failure. Not retried.
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
    },
}

impl Error {
    /// Whether repeating the same request may succeed. The retry layer trusts this answer.
    ///
    /// ```
    /// # use ferryboat_core::Error;
    /// let e = Error::Transient { provider: "s3".into(), path: "k".into(), message: "503".into(), source: None };
    /// assert!(e.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Transient { .. })
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
            | Error::Transient { provider, .. }
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
            | Error::Transient { path, .. }
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
            Error::Transient { .. } => ErrorKind::Transient,
            Error::Generic { .. } => ErrorKind::Generic,
        }
    }

    /// `NotFound` for `path` at `provider`.
    pub fn not_found(provider: impl Into<String>, path: impl Into<String>) -> Self {
        Error::NotFound { provider: provider.into(), path: path.into(), source: None }
    }

    /// `NotSupported` for `operation` at `provider`.
    pub fn not_supported(provider: impl Into<String>, operation: impl Into<String>) -> Self {
        Error::NotSupported { provider: provider.into(), operation: operation.into() }
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
        Error::Generic { provider: provider.into(), path: path.into(), message: message.into(), source }
    }

    /// `Transient` error with an optional source.
    pub fn transient(
        provider: impl Into<String>,
        path: impl Into<String>,
        message: impl Into<String>,
        source: Option<BoxError>,
    ) -> Self {
        Error::Transient { provider: provider.into(), path: path.into(), message: message.into(), source }
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
    /// See [`Error::Transient`].
    Transient,
    /// See [`Error::Generic`].
    Generic,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
