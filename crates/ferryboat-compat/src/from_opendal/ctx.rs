//! What the store, its streams and its uploads share: the operator, and the translation of
//! OpenDAL's answers into ferry's.

use ferryboat_core::{Error, ErrorDetails, PutMode, PutResult};
use opendal::{ErrorKind as OdKind, Operator};

/// What the streams need: they outlive `&self`, so they hold their own clones.
#[derive(Clone)]
pub(super) struct Ctx {
    pub(super) op: Operator,
    pub(super) provider: String,
}

impl Ctx {
    pub(super) fn err(&self, path: &str, e: opendal::Error) -> Error {
        from_opendal(&self.provider, path, e)
    }
}

/// An OpenDAL error as a ferry error, keeping the variant a caller matches on.
///
/// `ConditionNotMatch` means different things per operation: callers that know which
/// condition they sent remap it (create → `AlreadyExists`, if-none-match → `NotModified`).
fn from_opendal(provider: &str, path: &str, e: opendal::Error) -> Error {
    let (provider, path) = (provider.to_string(), path.to_string());
    match e.kind() {
        OdKind::NotFound => Error::NotFound { provider, path, source: Some(Box::new(e)), details: Default::default() },
        OdKind::AlreadyExists => Error::AlreadyExists { provider, path, details: Default::default() },
        OdKind::ConditionNotMatch => {
            Error::Precondition { provider, path, message: e.to_string(), details: Default::default() }
        }
        OdKind::RangeNotSatisfied => {
            Error::InvalidRange { provider, path, message: e.to_string(), details: Default::default() }
        }
        OdKind::PermissionDenied => {
            Error::PermissionDenied { provider, path, message: e.to_string(), details: Default::default() }
        }
        OdKind::Unsupported => Error::NotSupported { provider, operation: e.to_string(), details: Default::default() },
        OdKind::ConfigInvalid => Error::InvalidConfig { message: e.to_string() },
        OdKind::IsADirectory | OdKind::NotADirectory => {
            Error::InvalidPath { path, reason: format!("the key collides with a directory in the service: {e}") }
        }
        OdKind::RateLimited => Error::unavailable(provider, path, e.to_string(), Some(Box::new(e)))
            .with_details(ErrorDetails::default().with_throttled(true)),
        _ if e.is_temporary() => Error::unavailable(provider, path, e.to_string(), Some(Box::new(e))),
        _ => Error::generic(provider, path, e.to_string(), Some(Box::new(e))),
    }
}

pub(super) fn put_result(m: &opendal::Metadata) -> PutResult {
    PutResult {
        etag: m.etag().map(|e| e.trim_start_matches("W/").trim_matches('"').to_string()),
        version: m.version().map(str::to_string),
    }
}

/// A failed write, with `ConditionNotMatch` read in the light of the mode that was asked.
pub(super) fn write_err(ctx: &Ctx, key: &str, mode: &PutMode, e: opendal::Error) -> Error {
    match (mode, e.kind()) {
        (PutMode::Create, OdKind::ConditionNotMatch | OdKind::AlreadyExists) => {
            Error::AlreadyExists { provider: ctx.provider.clone(), path: key.to_string(), details: Default::default() }
        }
        // Update on a missing object is a failed precondition, as on every ferry store.
        (PutMode::Update(_), OdKind::NotFound) => Error::Precondition {
            provider: ctx.provider.clone(),
            path: key.to_string(),
            message: "the object to update does not exist".into(),
            details: Default::default(),
        },
        _ => ctx.err(key, e),
    }
}
