//! Properties of the one piece of Azure XML ferry reads itself, the error document
//! (`<Error><Code>…</Code><Message>…</Message></Error>`), over arbitrary and mutated input:
//! never a panic; always a typed error whose kind follows the status and code; a message
//! of bounded length that quotes nothing outside `Code` and `Message`.

use ferryboat_azure::parse_error_document;
use ferryboat_core::ErrorKind;
use proptest::prelude::*;

/// Longest error text accepted for any input (the server's code and first message line are
/// clipped; the rest of the text is ferry's).
const MAX_TEXT: usize = 1200;
const SECRET: &str = "SIGNATURE-DETAIL";

fn document(code: &str, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{message}\nRequestId:1\n\
         Time:2026</Message><AuthenticationErrorDetail>{SECRET}</AuthenticationErrorDetail></Error>"
    )
}

/// A mutation of a document: cut it, drop a slice, or splice text in, at byte offsets that
/// may fall inside a tag or a multi-byte character (they are moved to the next boundary).
#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Remove(usize, usize),
    Insert(usize, String),
    Repeat(usize, usize, usize),
}

fn boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

fn mutate(doc: &str, m: &Mutation) -> String {
    match m {
        Mutation::Truncate(at) => doc[..boundary(doc, *at)].to_owned(),
        Mutation::Remove(at, len) => {
            let (a, b) = (boundary(doc, *at), boundary(doc, at + len));
            format!("{}{}", &doc[..a], &doc[b..])
        }
        Mutation::Insert(at, text) => {
            let a = boundary(doc, *at);
            format!("{}{text}{}", &doc[..a], &doc[a..])
        }
        Mutation::Repeat(at, len, times) => {
            let (a, b) = (boundary(doc, *at), boundary(doc, at + len));
            format!("{}{}{}", &doc[..b], doc[a..b].repeat(*times), &doc[b..])
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0usize..400).prop_map(Mutation::Truncate),
        (0usize..400, 0usize..40).prop_map(|(a, l)| Mutation::Remove(a, l)),
        (0usize..400, "<|>|</|&|&amp;|\\PC{0,8}|<Code>|</Code>|<Message>|</Message>")
            .prop_map(|(a, t)| Mutation::Insert(a, t)),
        (0usize..400, 0usize..40, 0usize..50).prop_map(|(a, l, n)| Mutation::Repeat(a, l, n)),
    ]
}

fn check(status: u16, body: &str) -> Result<ferryboat_core::Error, TestCaseError> {
    let err = parse_error_document(status, body);
    let text = err.to_string();
    prop_assert!(!text.is_empty());
    prop_assert!(text.len() <= MAX_TEXT, "{} bytes of error text", text.len());
    prop_assert!(!text.contains(SECRET), "{text}");
    // Kinds the status alone decides, whatever the body says (the container-missing and
    // authentication codes aside).
    let code_decides = [
        "ContainerNotFound",
        "AuthenticationFailed",
        "NoAuthenticationInformation",
        "InvalidAuthenticationInfo",
        "Server failed to authenticate",
    ]
    .iter()
    .any(|c| body.contains(c));
    if !code_decides {
        let expected = match status {
            401 => Some(ErrorKind::Unauthenticated),
            404 => Some(ErrorKind::NotFound),
            409 => Some(ErrorKind::AlreadyExists),
            412 => Some(ErrorKind::Precondition),
            403 => Some(ErrorKind::PermissionDenied),
            416 => Some(ErrorKind::InvalidRange),
            _ => None,
        };
        if let Some(kind) = expected {
            prop_assert_eq!(err.kind(), kind, "{}", text);
        }
        prop_assert_eq!(err.is_retryable(), status == 408 || status == 429 || status >= 500, "{}", text);
    }
    Ok(err)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_is_a_typed_error(status in 100u16..600, body in "\\PC{0,200}|[<>/a-zA-Z&;]{0,80}") {
        check(status, &body)?;
    }

    #[test]
    fn mutated_documents_are_typed_errors(
        status in prop::sample::select(vec![400u16, 403, 404, 409, 412, 416, 429, 500, 503]),
        code in "[A-Za-z]{1,30}|\\PC{0,20}",
        message in "\\PC{0,120}",
        mutations in prop::collection::vec(mutation(), 0..4),
    ) {
        let mut doc = document(&code, &message);
        for m in &mutations {
            doc = mutate(&doc, m);
        }
        check(status, &doc)?;
    }

    #[test]
    fn intact_documents_keep_their_code(code in "[A-Z][A-Za-z]{0,40}", message in "[a-zA-Z .,]{0,100}") {
        let err = check(400, &document(&code, &message))?;
        prop_assert!(err.to_string().contains(&code), "{err}");
    }

    #[test]
    fn huge_fields_are_clipped(code_len in 0usize..70_000, message_len in 0usize..70_000) {
        let doc = document(&"C".repeat(code_len), &"m".repeat(message_len));
        check(500, &doc)?;
    }
}
