//! Values between the two APIs: ferry's errors in OpenDAL's kinds, OpenDAL paths as ferry
//! keys and prefixes, ferry metadata as OpenDAL's.

use ferryboat_core::{Error as FerryError, ErrorKind as FerryKind, ObjectMeta, ObjectPath};
use opendal::raw::Timestamp;
use opendal::{Error, ErrorKind, Metadata, Result};

/// ferry's error in OpenDAL's kinds; retryable ones are marked temporary so that OpenDAL's
/// retry layer retries them.
pub(crate) fn od_err(e: FerryError) -> Error {
    let kind = match e.kind() {
        _ if e.is_throttled() => ErrorKind::RateLimited,
        FerryKind::NotFound => ErrorKind::NotFound,
        FerryKind::AlreadyExists => ErrorKind::AlreadyExists,
        FerryKind::Precondition | FerryKind::NotModified => ErrorKind::ConditionNotMatch,
        FerryKind::InvalidRange => ErrorKind::RangeNotSatisfied,
        FerryKind::PermissionDenied | FerryKind::Unauthenticated | FerryKind::PolicyViolation => {
            ErrorKind::PermissionDenied
        }
        FerryKind::NotSupported => ErrorKind::Unsupported,
        FerryKind::InvalidConfig | FerryKind::InvalidPath => ErrorKind::ConfigInvalid,
        _ => ErrorKind::Unexpected,
    };
    let retryable = e.is_retryable();
    let err = Error::new(kind, e.to_string()).set_source(e);
    if retryable {
        err.set_temporary()
    } else {
        err
    }
}

/// The ferry key of an OpenDAL file path.
pub(crate) fn key(path: &str) -> Result<ObjectPath> {
    ObjectPath::parse(path.trim_start_matches('/')).map_err(od_err)
}

/// The ferry prefix of an OpenDAL directory path (`/` or empty is the root).
pub(crate) fn prefix(path: &str) -> Result<Option<ObjectPath>> {
    let p = path.trim_start_matches('/').trim_end_matches('/');
    if p.is_empty() {
        Ok(None)
    } else {
        ObjectPath::parse(p).map(Some).map_err(od_err)
    }
}

pub(crate) fn file_meta(m: &ObjectMeta) -> Metadata {
    let mut b = opendal::MetadataBuilder::file(m.size);
    if let Ok(ts) = Timestamp::try_from(m.last_modified) {
        b.last_modified(ts);
    }
    if let Some(etag) = &m.etag {
        b.etag(etag.clone());
    }
    if let Some(v) = &m.version {
        b.version(v.clone());
    }
    if let Some(ct) = &m.content_type {
        b.content_type(ct.clone());
    }
    if !m.metadata.is_empty() {
        b.user_metadata(m.metadata.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    b.build()
}

pub(crate) fn dir_meta() -> Metadata {
    opendal::MetadataBuilder::dir().build()
}
