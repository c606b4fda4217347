//! Service SAS URLs signed with the account key.
//!
//! `object_store` signs the percent-encoded path, which Azure rejects for blob names that
//! need encoding (a space, `%`, non-ASCII): the canonical resource must hold the name as
//! stored. This module signs the decoded name.

use std::time::Duration;

use base64::prelude::{Engine as _, BASE64_STANDARD};
use chrono::{SecondsFormat, Utc};
use ferryboat_core::{Error, ObjectPath, Result};
use hmac::{KeyInit, Mac};

use crate::error::PROVIDER;

/// The SAS version signed; the string to sign below is this version's layout.
const SAS_VERSION: &str = "2023-11-03";
/// Azure refuses SAS lifetimes beyond seven days for delegation keys; keep one rule for all.
const MAX_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// Query pairs granting `method` on blob `key` for `expires_in`.
pub(crate) fn service_sas(
    account: &str,
    account_key: &str,
    container: &str,
    key: &ObjectPath,
    method: &http::Method,
    expires_in: Duration,
) -> Result<Vec<(&'static str, String)>> {
    let permissions = match *method {
        http::Method::GET | http::Method::HEAD => "r",
        http::Method::PUT => "w",
        http::Method::DELETE => "d",
        ref other => return Err(Error::not_supported(PROVIDER, format!("signed URLs for {other}"))),
    };
    if expires_in > MAX_LIFETIME {
        return Err(Error::invalid_config("a signed URL may be valid for at most 7 days"));
    }
    let secret = BASE64_STANDARD
        .decode(account_key)
        .map_err(|_| Error::invalid_config("the Azure account key is not valid base64"))?;
    let now = Utc::now();
    // A few minutes of slack for clocks that run ahead of Azure's.
    let start = (now - chrono::Duration::minutes(5)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let expiry_delta = chrono::Duration::from_std(expires_in)
        .map_err(|_| Error::invalid_config("signed URL lifetime out of range"))?;
    let expiry = (now + expiry_delta).to_rfc3339_opts(SecondsFormat::Secs, true);
    let resource = format!("/blob/{account}/{container}/{key}");
    let to_sign = format!("{permissions}\n{start}\n{expiry}\n{resource}\n\n\n\n{SAS_VERSION}\nb\n\n\n\n\n\n\n");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&secret)
        .map_err(|_| Error::invalid_config("the Azure account key cannot key an HMAC"))?;
    mac.update(to_sign.as_bytes());
    let sig = BASE64_STANDARD.encode(mac.finalize().into_bytes());
    Ok(vec![
        ("sv", SAS_VERSION.to_owned()),
        ("sp", permissions.to_owned()),
        ("st", start),
        ("se", expiry),
        ("sr", "b".to_owned()),
        ("sig", sig),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_clear_errors() {
        let k = ObjectPath::parse("a b.txt").unwrap();
        let e = service_sas("acct", "a2V5", "c", &k, &http::Method::POST, Duration::from_secs(60)).unwrap_err();
        assert_eq!(e.kind(), ferryboat_core::ErrorKind::NotSupported);
        let e = service_sas("acct", "a2V5", "c", &k, &http::Method::GET, MAX_LIFETIME * 2).unwrap_err();
        assert_eq!(e.kind(), ferryboat_core::ErrorKind::InvalidConfig);
        let e = service_sas("acct", "not base64!", "c", &k, &http::Method::GET, Duration::from_secs(1)).unwrap_err();
        assert!(!e.to_string().contains("not base64!"), "{e}");
    }
}
