//! V4 signed URLs (`GOOG4-RSA-SHA256`), made locally with a service-account key.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use ferryboat_core::{Error, ObjectPath, PresignMethod, Result};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use url::Url;

use crate::auth::ServiceAccount;
use crate::store::GcsStore;
use crate::PROVIDER;

/// Longest validity Google accepts for a V4 signature: seven days.
pub const MAX_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);

/// Unreserved characters stay, everything else is escaped (`/` too, except between path
/// segments, which [`canonical_uri`] keeps).
const STRICT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn strict(s: &str) -> String {
    utf8_percent_encode(s, STRICT).to_string()
}

/// `/bucket/key` with each segment escaped and the `/` between them kept.
fn canonical_uri(bucket: &str, key: &str) -> String {
    let mut uri = format!("/{}", strict(bucket));
    for segment in key.split('/') {
        uri.push('/');
        uri.push_str(&strict(segment));
    }
    uri
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The pieces of one signature, kept apart so tests can check the canonical request.
pub(crate) struct SigningInput {
    #[cfg_attr(not(test), allow(dead_code))]
    pub canonical_request: String,
    pub string_to_sign: String,
    pub url_without_signature: String,
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn signing_input(
    endpoint: &Url,
    bucket: &str,
    key: &str,
    method: PresignMethod,
    email: &str,
    now: SystemTime,
    expires_in: Duration,
) -> Result<SigningInput> {
    let host = match (endpoint.host_str(), endpoint.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => return Err(Error::invalid_config("the endpoint has no host to sign for")),
    };
    let now: chrono::DateTime<chrono::Utc> = now.into();
    let datetime = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = now.format("%Y%m%d").to_string();
    let scope = format!("{date}/auto/storage/goog4_request");
    let uri = canonical_uri(bucket, key);
    // Already sorted by name, as the canonical form requires.
    let query = [
        ("X-Goog-Algorithm", "GOOG4-RSA-SHA256".to_string()),
        ("X-Goog-Credential", format!("{email}/{scope}")),
        ("X-Goog-Date", datetime.clone()),
        ("X-Goog-Expires", expires_in.as_secs().to_string()),
        ("X-Goog-SignedHeaders", "host".to_string()),
    ]
    .iter()
    .map(|(k, v)| format!("{}={}", strict(k), strict(v)))
    .collect::<Vec<_>>()
    .join("&");
    let canonical_request = format!("{}\n{uri}\n{query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD", method.as_str());
    let string_to_sign =
        format!("GOOG4-RSA-SHA256\n{datetime}\n{scope}\n{}", hex(&Sha256::digest(canonical_request.as_bytes())));
    let base = endpoint.as_str().trim_end_matches('/');
    let base = base.strip_suffix(endpoint.path().trim_end_matches('/')).unwrap_or(base);
    Ok(SigningInput { canonical_request, string_to_sign, url_without_signature: format!("{base}{uri}?{query}") })
}

pub(crate) fn sign(
    signer: &ServiceAccount,
    endpoint: &Url,
    bucket: &str,
    key: &str,
    method: PresignMethod,
    now: SystemTime,
    expires_in: Duration,
) -> Result<Url> {
    let input = signing_input(endpoint, bucket, key, method, &signer.client_email, now, expires_in)?;
    let signature = hex(&signer.sign(input.string_to_sign.as_bytes())?);
    Url::parse(&format!("{}&X-Goog-Signature={signature}", input.url_without_signature))
        .map_err(|e| Error::generic(PROVIDER, key, format!("signed URL does not parse: {e}"), None))
}

impl GcsStore {
    /// A V4 signed URL letting anyone holding it `method` the object at `path` for
    /// `expires_in` (at most seven days), without credentials.
    ///
    /// Needs a service-account key (as credentials, or set with
    /// [`GcsBuilder::url_signer`](crate::GcsBuilder::url_signer)); otherwise
    /// `NotSupported`.
    ///
    /// ```no_run
    /// # async fn f(store: ferryboat_gcs::GcsStore) -> ferryboat_core::Result<()> {
    /// use std::time::Duration;
    /// let key = ferryboat_core::ObjectPath::parse("reports/q3.pdf")?;
    /// let url = store.signed_url(ferryboat_core::PresignMethod::Get, &key, Duration::from_secs(3600))?;
    /// # Ok(()) }
    /// ```
    pub fn signed_url(&self, method: PresignMethod, path: &ObjectPath, expires_in: Duration) -> Result<Url> {
        let Some(signer) = self.client.signer.as_deref() else {
            return Err(Error::not_supported(PROVIDER, "signed URLs without a service-account key"));
        };
        if expires_in.is_zero() || expires_in > MAX_EXPIRY {
            return Err(Error::invalid_config(format!(
                "signed URL expiry must be between 1 second and {} seconds",
                MAX_EXPIRY.as_secs()
            )));
        }
        let endpoint =
            Url::parse(&self.client.endpoint).map_err(|e| Error::invalid_config(format!("invalid endpoint: {e}")))?;
        sign(signer, &endpoint, &self.client.bucket, path.as_str(), method, SystemTime::now(), expires_in)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_request_follows_the_v4_rules() {
        let endpoint = Url::parse("https://storage.googleapis.com").unwrap();
        // 2024-01-02T03:04:05Z
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_164_645);
        let input = signing_input(
            &endpoint,
            "bkt",
            "dir/a b+c%.txt",
            PresignMethod::Get,
            "sa@p.iam.gserviceaccount.com",
            now,
            Duration::from_secs(900),
        )
        .unwrap();
        let expected_query = "X-Goog-Algorithm=GOOG4-RSA-SHA256\
            &X-Goog-Credential=sa%40p.iam.gserviceaccount.com%2F20240102%2Fauto%2Fstorage%2Fgoog4_request\
            &X-Goog-Date=20240102T030405Z&X-Goog-Expires=900&X-Goog-SignedHeaders=host";
        assert_eq!(
            input.canonical_request,
            format!(
                "GET\n/bkt/dir/a%20b%2Bc%25.txt\n{expected_query}\nhost:storage.googleapis.com\n\nhost\nUNSIGNED-PAYLOAD"
            )
        );
        let digest = hex(&Sha256::digest(input.canonical_request.as_bytes()));
        assert_eq!(
            input.string_to_sign,
            format!("GOOG4-RSA-SHA256\n20240102T030405Z\n20240102/auto/storage/goog4_request\n{digest}")
        );
        assert_eq!(
            input.url_without_signature,
            format!("https://storage.googleapis.com/bkt/dir/a%20b%2Bc%25.txt?{expected_query}")
        );
    }

    #[test]
    fn host_keeps_a_non_default_port() {
        let endpoint = Url::parse("http://127.0.0.1:4443/").unwrap();
        let input =
            signing_input(&endpoint, "b", "k", PresignMethod::Put, "e", SystemTime::UNIX_EPOCH, Duration::from_secs(1))
                .unwrap();
        assert!(input.canonical_request.starts_with("PUT\n/b/k\n"));
        assert!(input.canonical_request.contains("\nhost:127.0.0.1:4443\n"));
        assert!(input.url_without_signature.starts_with("http://127.0.0.1:4443/b/k?"));
    }
}
