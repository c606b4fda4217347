//! Conditional-request rules (RFC 9110 §13) for stores that evaluate them themselves.
//!
//! The memory and local backends use these; so can a user's backend, so that every store
//! answers the same condition the same way.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::path::ObjectPath;
use crate::types::{GetOptions, ObjectMeta, PutMode};

/// Whether an etag condition value matches an object's etag (`*` matches any; quotes and
/// weak markers are ignored).
pub fn etag_matches(condition: &str, etag: Option<&str>) -> bool {
    let norm = |s: &str| s.trim().trim_start_matches("W/").trim_matches('"').to_string();
    match etag {
        None => false,
        Some(etag) => condition.split(',').any(|c| c.trim() == "*" || norm(c) == norm(etag)),
    }
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Checks a read's conditions against the object's metadata, in the order HTTP defines.
pub fn check_get(provider: &str, meta: &ObjectMeta, opts: &GetOptions) -> Result<()> {
    let path = meta.path.as_str();
    if let Some(cond) = &opts.if_match {
        if !etag_matches(cond, meta.etag.as_deref()) {
            return Err(Error::Precondition {
                provider: provider.into(),
                path: path.into(),
                message: format!("if-match {cond} does not match etag {:?}", meta.etag),
                details: Default::default(),
            });
        }
    } else if let Some(since) = opts.if_unmodified_since {
        if secs(meta.last_modified) > secs(since) {
            return Err(Error::Precondition {
                provider: provider.into(),
                path: path.into(),
                message: "modified since the if-unmodified-since date".into(),
                details: Default::default(),
            });
        }
    }
    if let Some(cond) = &opts.if_none_match {
        if etag_matches(cond, meta.etag.as_deref()) {
            return Err(Error::NotModified {
                provider: provider.into(),
                path: path.into(),
                details: Default::default(),
            });
        }
    } else if let Some(since) = opts.if_modified_since {
        if secs(meta.last_modified) <= secs(since) {
            return Err(Error::NotModified {
                provider: provider.into(),
                path: path.into(),
                details: Default::default(),
            });
        }
    }
    Ok(())
}

/// Checks a write's mode against what is stored now (`None`: nothing is).
pub fn check_put(provider: &str, path: &ObjectPath, existing: Option<&ObjectMeta>, mode: &PutMode) -> Result<()> {
    match (mode, existing) {
        (PutMode::Overwrite, _) | (PutMode::Create, None) => Ok(()),
        (PutMode::Create, Some(_)) => {
            Err(Error::AlreadyExists { provider: provider.into(), path: path.to_string(), details: Default::default() })
        }
        (PutMode::Update(v), current) => {
            let Some(expected) = &v.etag else {
                return Err(Error::not_supported(provider, "PutMode::Update by version id"));
            };
            match current {
                Some(m) if etag_matches(expected, m.etag.as_deref()) => Ok(()),
                Some(m) => Err(Error::Precondition {
                    provider: provider.into(),
                    path: path.to_string(),
                    message: format!("expected etag {expected}, found {:?}", m.etag),
                    details: Default::default(),
                }),
                None => Err(Error::Precondition {
                    provider: provider.into(),
                    path: path.to_string(),
                    message: format!("expected etag {expected}, but the object does not exist"),
                    details: Default::default(),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_compare_without_quotes() {
        assert!(etag_matches("\"abc\"", Some("abc")));
        assert!(etag_matches("W/\"abc\"", Some("\"abc\"")));
        assert!(etag_matches("*", Some("x")));
        assert!(etag_matches("a, b", Some("b")));
        assert!(!etag_matches("abc", Some("abd")));
        assert!(!etag_matches("*", None));
    }
}
