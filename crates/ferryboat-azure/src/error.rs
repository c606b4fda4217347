//! Azure failures as ferry errors: the variant a caller matches on, the container or key
//! they concern, and never a URL (a SAS URL carries its signature) nor a credential.

use ferryboat_core::{Error, ErrorDetails};
use object_store::client::{HttpError, HttpErrorKind};

use crate::limits::TooLarge;

/// Longest server message kept in an error; the rest is a server's business, not the user's.
const MAX_MESSAGE: usize = 300;
/// Longest error code kept (Azure's are under 50 characters).
const MAX_CODE: usize = 100;

/// How `object_store` prints a non-2xx answer: `…status code: 404 Not Found: <body>`.
const STATUS_MARK: &str = "non-2xx status code: ";

/// Provider id in every error and in [`ferryboat_core::StoreInfo`].
pub(crate) const PROVIDER: &str = "azure";

/// What the server said, read from the error chain of an `object_store` error.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Fault {
    pub status: Option<u16>,
    /// Azure's error code (`ContainerNotFound`, `AuthenticationFailed`, …).
    pub code: Option<String>,
    /// First line of Azure's message (the rest holds request ids and signature details).
    pub message: Option<String>,
    /// The request never got a whole answer (connection refused, reset, timeout), and how.
    pub transport: Option<HttpErrorKind>,
    /// The answer came but could not be read (too large, not decodable): why.
    pub unreadable: Option<String>,
}

impl Fault {
    /// `object_store` keeps its HTTP error type private, so the status and body are read from
    /// the text of the error chain (only Azure's code and message are kept, never the URL).
    pub(crate) fn of(e: &(dyn std::error::Error + 'static)) -> Fault {
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = next {
            if let Some(h) = err.downcast_ref::<HttpError>() {
                if h.kind() != HttpErrorKind::Decode {
                    return Fault { transport: Some(h.kind()), ..Fault::default() };
                }
                // The HTTP error's text may quote the URL (with a SAS signature): keep only ours.
                let mut why = "the server's answer could not be decoded".to_owned();
                let mut source = std::error::Error::source(h);
                while let Some(s) = source {
                    if let Some(t) = s.downcast_ref::<TooLarge>() {
                        why = t.to_string();
                    }
                    source = s.source();
                }
                return Fault { unreadable: Some(why), ..Fault::default() };
            }
            let text = err.to_string();
            if let Some(rest) = text.find(STATUS_MARK).map(|i| &text[i + STATUS_MARK.len()..]) {
                let status = rest.get(..3).and_then(|s| s.parse().ok());
                return Fault { status, ..Fault::from_body(rest) };
            }
            if let Some(i) = text.find("error response: ") {
                return Fault::from_body(&text[i..]);
            }
            next = err.source();
        }
        Fault::default()
    }

    fn from_body(body: &str) -> Fault {
        Fault {
            status: None,
            code: xml_element(body, "Code").map(|c| clip(&c, MAX_CODE)),
            message: xml_element(body, "Message").and_then(|m| m.lines().next().map(|l| clip(l, MAX_MESSAGE))),
            transport: None,
            unreadable: None,
        }
    }

    /// From a status and a body, for requests this crate sends itself.
    pub(crate) fn from_response(status: u16, body: &str) -> Fault {
        Fault { status: Some(status), ..Fault::from_body(body) }
    }

    fn describe(&self) -> String {
        let mut out = match (self.status, self.transport, &self.unreadable) {
            (Some(s), _, _) => format!("HTTP {s}"),
            (None, Some(HttpErrorKind::Connect), _) => "could not connect to the server".to_owned(),
            (None, Some(HttpErrorKind::Timeout), _) => "no answer from the server in time".to_owned(),
            (None, Some(HttpErrorKind::Interrupted), _) => "the connection ended before the answer did".to_owned(),
            (None, _, Some(why)) => why.clone(),
            (None, _, None) => "request failed".to_owned(),
        };
        if let Some(code) = &self.code {
            out.push_str(&format!(" {code}"));
        }
        if let Some(message) = &self.message {
            out.push_str(&format!(": {message}"));
        }
        out
    }

    /// Status, code and whether a retry may help, from the status and code alone.
    fn details(&self) -> ErrorDetails {
        let throttled = self.status == Some(429) || self.code_is(&["ServerBusy"]);
        let retryable = throttled || self.transport.is_some() || self.status.is_some_and(|s| s == 408 || s >= 500);
        ErrorDetails::default()
            .with_status(self.status)
            .with_code(self.code.clone())
            .with_retryable(retryable)
            .with_throttled(throttled)
    }

    fn code_is(&self, codes: &[&str]) -> bool {
        self.code.as_deref().is_some_and(|c| codes.contains(&c))
    }

    /// The ferry error for this fault, when the fault alone decides it.
    fn classify(&self, container: &str, path: &str) -> Option<Error> {
        let provider = PROVIDER.to_owned();
        if self.code_is(&["ContainerNotFound"]) {
            return Some(Error::NotFound {
                provider,
                path: container.to_owned(),
                source: None,
                details: Default::default(),
            });
        }
        // Azure answers a bad signature with 403 AuthenticationFailed; Azurite with 403
        // AuthorizationFailure and Azure's wording, which is also how it is told from a real
        // authorisation failure ("not authorized to perform this operation").
        let failed_to_authenticate =
            self.message.as_deref().is_some_and(|m| m.starts_with("Server failed to authenticate"));
        if self.status == Some(401)
            || failed_to_authenticate
            || self.code_is(&["AuthenticationFailed", "NoAuthenticationInformation", "InvalidAuthenticationInfo"])
        {
            return Some(Error::Unauthenticated { provider, message: self.describe(), details: Default::default() });
        }
        if self.transport.is_some() || self.status.is_some_and(|s| s == 429 || s == 408 || s >= 500) {
            return Some(Error::unavailable(PROVIDER, path, self.describe(), None));
        }
        if self.status == Some(416) {
            return Some(Error::InvalidRange {
                provider,
                path: path.to_owned(),
                message: self.describe(),
                details: Default::default(),
            });
        }
        if self.unreadable.is_some() {
            // Too large or garbled: the same answer would come again.
            return Some(Error::generic(PROVIDER, path, self.describe(), None));
        }
        None
    }
}

/// What a transport failure of `kind` means, for requests this crate sends itself.
pub(crate) fn transport(kind: HttpErrorKind) -> String {
    Fault { transport: Some(kind), ..Fault::default() }.describe()
}

/// Maps an `object_store` error about `path` in `container`.
pub(crate) fn map(e: object_store::Error, container: &str, path: &str) -> Error {
    let fault = Fault::of(&e);
    map_kind(e, &fault, container, path).with_details(fault.details())
}

fn map_kind(e: object_store::Error, fault: &Fault, container: &str, path: &str) -> Error {
    use object_store::Error as O;
    if let Some(mapped) = fault.classify(container, path) {
        return mapped;
    }
    let provider = PROVIDER.to_owned();
    let path = path.to_owned();
    match e {
        // object_store leaves a refused listing Generic; the status says what it is.
        O::Generic { .. } if fault.status == Some(403) => {
            Error::PermissionDenied { provider, path, message: fault.describe(), details: Default::default() }
        }
        O::NotFound { .. } => Error::NotFound { provider, path, source: None, details: Default::default() },
        O::AlreadyExists { .. } => Error::AlreadyExists { provider, path, details: Default::default() },
        O::Precondition { .. } => {
            Error::Precondition { provider, path, message: fault.describe(), details: Default::default() }
        }
        O::NotModified { .. } => Error::NotModified { provider, path, details: Default::default() },
        O::PermissionDenied { .. } => {
            Error::PermissionDenied { provider, path, message: fault.describe(), details: Default::default() }
        }
        O::Unauthenticated { .. } => {
            Error::Unauthenticated { provider, message: fault.describe(), details: Default::default() }
        }
        O::NotImplemented { operation, .. } => Error::NotSupported { provider, operation, details: Default::default() },
        O::NotSupported { source } => {
            Error::NotSupported { provider, operation: source.to_string(), details: Default::default() }
        }
        O::InvalidPath { source } => Error::InvalidPath { path, reason: source.to_string() },
        // object_store checks the range the server served against the one asked for.
        other if fault.status.is_none() && other.to_string().contains("Wanted range") => {
            Error::InvalidRange { provider, path, message: other.to_string(), details: Default::default() }
        }
        // Errors without a server answer (range checks, malformed responses) carry no URL.
        other if fault.status.is_none() => Error::generic(PROVIDER, path, other.to_string(), None),
        _ => Error::generic(PROVIDER, path, fault.describe(), None),
    }
}

/// Maps an answer this crate read itself (Put Block List).
pub(crate) fn from_status(status: u16, body: &str, container: &str, path: &str) -> Error {
    let fault = Fault::from_response(status, body);
    status_kind(status, &fault, container, path).with_details(fault.details())
}

fn status_kind(status: u16, fault: &Fault, container: &str, path: &str) -> Error {
    if let Some(mapped) = fault.classify(container, path) {
        return mapped;
    }
    let provider = PROVIDER.to_owned();
    let path = path.to_owned();
    match status {
        404 => Error::NotFound { provider, path, source: None, details: Default::default() },
        409 => Error::AlreadyExists { provider, path, details: Default::default() },
        412 => Error::Precondition { provider, path, message: fault.describe(), details: Default::default() },
        403 => Error::PermissionDenied { provider, path, message: fault.describe(), details: Default::default() },
        _ => Error::generic(PROVIDER, path, fault.describe(), None),
    }
}

/// The error an error document (`<Error><Code>…</Code><Message>…</Message></Error>`) with
/// `status` stands for: what ferry parses of Azure's XML itself. Any text is accepted.
#[doc(hidden)]
pub fn parse_error_document(status: u16, body: &str) -> Error {
    from_status(status, body, "container", "key")
}

/// At most `max` bytes of `text`, cut on a character boundary.
fn clip(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = text[..end].to_owned();
    if end < text.len() {
        out.push('…');
    }
    out
}

/// The text of the first `<name>…</name>` in `xml`, unescaped just enough for a message.
fn xml_element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&close)?;
    let raw = &xml[start..start + len];
    // Text-only elements hold no markup (a `<` in text is written `&lt;`): markup here
    // means a broken document whose "element" would span other elements' content.
    if raw.contains('<') {
        return None;
    }
    let text = clip(raw.trim(), 4 * MAX_MESSAGE);
    (!text.is_empty()).then(|| {
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferryboat_core::ErrorKind;

    const MISSING_CONTAINER: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ContainerNotFound</Code>\
        <Message>The specified container does not exist.\nRequestId:1\nTime:2026</Message></Error>";

    #[test]
    fn missing_container_names_the_container() {
        let e = from_status(404, MISSING_CONTAINER, "photos", "a/b.jpg");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.path(), Some("photos"));
    }

    #[test]
    fn messages_keep_the_first_line_only() {
        let body = "<Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request.\n\
            RequestId:1</Message><AuthenticationErrorDetail>The MAC signature found in the HTTP request 'c2ln' is not \
            the same</AuthenticationErrorDetail></Error>";
        let e = from_status(403, body, "c", "k");
        assert_eq!(e.kind(), ErrorKind::Unauthenticated);
        let text = e.to_string();
        assert!(text.contains("AuthenticationFailed"), "{text}");
        assert!(!text.contains("c2ln") && !text.contains("RequestId"), "{text}");
    }

    #[test]
    fn transport_failures_are_retryable_and_status_lines_are_read() {
        use object_store::client::{HttpError, HttpErrorKind};
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let e = object_store::Error::Generic {
            store: "MicrosoftAzure",
            source: Box::new(HttpError::new(HttpErrorKind::Connect, refused)),
        };
        assert!(map(e, "c", "k").is_retryable());

        // How object_store prints an answer it did not expect.
        #[derive(Debug)]
        struct Printed(&'static str);
        impl std::fmt::Display for Printed {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for Printed {}
        let text = "Error performing GET http://127.0.0.1/x?sig=SECRET in 1ms - Server returned non-2xx status code: \
            404 Not Found: <Error><Code>ContainerNotFound</Code><Message>The specified container does not exist.</Message></Error>";
        let e = object_store::Error::NotFound { path: "k".into(), source: Box::new(Printed(text)) };
        let mapped = map(e, "photos", "k");
        assert_eq!((mapped.kind(), mapped.path()), (ErrorKind::NotFound, Some("photos")));
        let e = object_store::Error::Generic { store: "MicrosoftAzure", source: Box::new(Printed(text)) };
        assert!(!map(e, "photos", "k").to_string().contains("SECRET"));
    }

    #[test]
    fn conditions_and_throttling() {
        assert_eq!(
            from_status(409, "<Error><Code>BlobAlreadyExists</Code></Error>", "c", "k").kind(),
            ErrorKind::AlreadyExists
        );
        assert_eq!(
            from_status(412, "<Error><Code>ConditionNotMet</Code></Error>", "c", "k").kind(),
            ErrorKind::Precondition
        );
        assert!(from_status(503, "<Error><Code>ServerBusy</Code></Error>", "c", "k").is_retryable());
        assert_eq!(from_status(400, "", "c", "k").kind(), ErrorKind::Generic);
    }
}
