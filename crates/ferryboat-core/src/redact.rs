//! The one home of two checks every backend makes: whether an endpoint is on this machine
//! (plain HTTP and emulator defaults are allowed only there), and a URL as errors and logs
//! may show it (never its user info, query string or fragment, which can carry a password,
//! a SAS signature or a token); and [`Secret`], the one way a credential is held where it
//! could be printed.

use std::fmt;
use std::net::IpAddr;

/// What is shown in place of a secret.
pub const REDACTED: &str = "<redacted>";

/// A credential (a secret key, a token, a password): `Debug` and `Display` show
/// [`REDACTED`], never the value; [`Secret::expose`] is the one way to read it.
///
/// ```
/// use ferryboat_core::redact::Secret;
/// let s = Secret::new("wJalrXUtnFEMI");
/// assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
/// assert_eq!(s.expose(), "wJalrXUtnFEMI");
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that sends it (a signature, a header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Whether a URL host (as `url::Url::host_str` gives it: lower-case, IPv6 in brackets) is
/// the loopback interface: `localhost`, `127.0.0.0/8` or `::1`.
///
/// ```
/// use ferryboat_core::redact::is_loopback_host;
/// assert!(is_loopback_host("127.0.0.1") && is_loopback_host("[::1]") && is_loopback_host("localhost"));
/// assert!(!is_loopback_host("s3.fr-par.scw.cloud") && !is_loopback_host("10.0.0.1"));
/// ```
pub fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `url` without user info, query string or fragment: what an error message may show.
///
/// ```
/// use ferryboat_core::redact::redact_url;
/// assert_eq!(redact_url("https://user:pw@acct.blob.core.windows.net/c?sig=SECRET#x"), "https://acct.blob.core.windows.net/c");
/// assert_eq!(redact_url("s3://bucket/prefix?endpoint=http://127.0.0.1:9000"), "s3://bucket/prefix");
/// ```
pub fn redact_url(url: &str) -> String {
    let base = url.split(['?', '#']).next().unwrap_or_default();
    let (scheme, rest) = match base.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, base),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let rest = match rest[..authority_end].rfind('@') {
        Some(at) => &rest[at + 1..],
        None => rest,
    };
    match scheme {
        Some(scheme) => format!("{scheme}://{rest}"),
        None => rest.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in ["127.0.0.1", "127.8.9.1", "[::1]", "::1", "LOCALHOST"] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in ["", "0.0.0.0", "169.254.169.254", "[::]", "localhost.example.com", "127.0.0.1.nip.io"] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn redaction_drops_every_place_a_secret_hides() {
        assert_eq!(redact_url("az://c/p?sv=1&sig=abc"), "az://c/p");
        assert_eq!(redact_url("s3://AKID:secret@bucket/key"), "s3://bucket/key");
        assert_eq!(
            redact_url("http://u:p@127.0.0.1:9/x/y@z"),
            "http://127.0.0.1:9/x/y@z",
            "an @ in the path is the key's"
        );
        assert_eq!(redact_url("s3://b#frag"), "s3://b");
        assert_eq!(redact_url("/local/dir"), "/local/dir");
    }
}
