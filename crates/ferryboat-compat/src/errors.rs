//! Errors across the bridge, both ways, keeping the variant a caller matches on.

use ferryboat_core::Error;

/// An `object_store` error as a ferry error from `provider`.
pub fn from_object_store(provider: &str, e: object_store::Error) -> Error {
    use object_store::Error as O;
    let provider = provider.to_string();
    match e {
        O::NotFound { path, source } => {
            Error::NotFound { provider, path, source: Some(source), details: Default::default() }
        }
        O::AlreadyExists { path, .. } => Error::AlreadyExists { provider, path, details: Default::default() },
        O::Precondition { path, source } => {
            Error::Precondition { provider, path, message: source.to_string(), details: Default::default() }
        }
        O::NotModified { path, .. } => Error::NotModified { provider, path, details: Default::default() },
        O::PermissionDenied { path, source } => {
            Error::PermissionDenied { provider, path, message: source.to_string(), details: Default::default() }
        }
        O::Unauthenticated { source, .. } => {
            Error::Unauthenticated { provider, message: source.to_string(), details: Default::default() }
        }
        O::NotImplemented { operation, .. } => Error::NotSupported { provider, operation, details: Default::default() },
        O::NotSupported { source } => {
            Error::NotSupported { provider, operation: source.to_string(), details: Default::default() }
        }
        O::InvalidPath { source } => Error::InvalidPath { path: String::new(), reason: source.to_string() },
        other => Error::Generic {
            provider,
            path: String::new(),
            message: other.to_string(),
            source: None,
            details: Default::default(),
        },
    }
}

/// A ferry error as an `object_store` error.
pub fn to_object_store(e: Error) -> object_store::Error {
    use object_store::Error as O;
    let path = e.path().unwrap_or_default().to_string();
    match e {
        Error::NotFound { .. } => O::NotFound { path, source: Box::new(e) },
        Error::AlreadyExists { .. } => O::AlreadyExists { path, source: Box::new(e) },
        Error::Precondition { .. } => O::Precondition { path, source: Box::new(e) },
        Error::NotModified { .. } => O::NotModified { path, source: Box::new(e) },
        Error::PermissionDenied { .. } | Error::PolicyViolation { .. } => {
            O::PermissionDenied { path, source: Box::new(e) }
        }
        Error::Unauthenticated { .. } => O::Unauthenticated { path, source: Box::new(e) },
        Error::NotSupported { .. } => O::NotSupported { source: Box::new(e) },
        other => O::Generic { store: "ferry", source: Box::new(other) },
    }
}
