//! `ferryboat::open` over hostile input: arbitrary strings and structured URL variations (every
//! scheme it accepts, odd hosts, ports, userinfo, percent-encoding, query strings, NUL,
//! unicode). It never panics; every rejection is a typed error that says something; no error
//! ever shows a credential or a secret-bearing query value.
//!
//! Nothing reaches the network: S3 and Azure stores make no request when built; GCS probes
//! its bucket when built, so the environment points it at a closed loopback port and gives it
//! a token (no credential discovery, no metadata server), and generated endpoints are loopback
//! or refused before any request. Local paths are generated under a temporary directory only.

use std::sync::OnceLock;

use ferryboat::{Error, ErrorKind};
use proptest::prelude::*;

/// Put where secrets go (passwords, signatures, tokens, unknown parameters' values): never shown.
const MARK: &str = "s3cr3tMARKq";

struct Env {
    runtime: tokio::runtime::Runtime,
    tmp: tempfile::TempDir,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // Before any runtime thread exists.
        std::env::set_var("FERRY_GCS_ENDPOINT", format!("http://127.0.0.1:{closed}"));
        std::env::set_var("GOOGLE_OAUTH_ACCESS_TOKEN", format!("tok{MARK}"));
        std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDPROPOPEN");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", format!("sk{MARK}"));
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::remove_var("AZURE_STORAGE_CONNECTION_STRING");
        std::env::remove_var("AZURE_STORAGE_ACCOUNT");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        Env { runtime, tmp: tempfile::tempdir().unwrap() }
    })
}

/// Whether the url crate would read `s` as a local path or a `file:` URL (it drops tabs and
/// newlines anywhere and C0 controls at the ends): those would touch the real file system.
fn is_local(s: &str) -> bool {
    let cleaned: String = s.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    let t = cleaned.trim_matches(|c: char| c <= ' ' || c.is_whitespace()).to_ascii_lowercase();
    t.starts_with('/') || t.starts_with('.') || t.starts_with("file:")
}

/// Opens `url`; on failure checks the error and returns it.
fn open(url: &str) -> Option<Error> {
    let e = env();
    let result = e
        .runtime
        .block_on(async { tokio::time::timeout(std::time::Duration::from_secs(10), ferryboat::open(url)).await });
    result.expect("ferryboat::open returns promptly (it must not wait on a network)").err()
}

/// What every rejection must satisfy.
fn check(url: &str, err: &Error) -> Result<(), TestCaseError> {
    let shown = format!("{err}\n{err:?}");
    prop_assert!(!shown.contains(MARK), "a secret is echoed for {url:?}: {shown}");
    prop_assert!(err.to_string().len() >= 12, "the message says what is wrong: {url:?}: {err}");
    let expected = [
        ErrorKind::InvalidConfig,
        ErrorKind::InvalidPath,
        // GCS probes its bucket: the closed loopback port answers with a refusal.
        ErrorKind::Unavailable,
    ];
    prop_assert!(expected.contains(&err.kind()), "unexpected kind for {url:?}: {err:?}");
    // A message may quote the one parameter at fault (`provider=`), never the whole query.
    if let Some((_, query)) = url.split_once('?') {
        if query.contains('&') && query.len() >= 8 {
            prop_assert!(!err.to_string().contains(query), "the query string is echoed for {url:?}: {err}");
        }
    }
    Ok(())
}

fn scheme() -> impl Strategy<Value = String> {
    let mut schemes = ferryboat::supported_schemes();
    schemes.retain(|s| s != "file");
    schemes.extend(["http", "https", "S3", "Gs", "nosuch", "s3+x", "x-1.y", "memory"].map(String::from));
    prop::sample::select(schemes)
}

fn userinfo() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["".to_string(), "user@".into(), format!("user:{MARK}@"), format!(":{MARK}@"), "@".into()])
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(
            [
                "bucket",
                "my-bucket.eu",
                "fr-par",
                "gra",
                "",
                "127.0.0.1",
                "[::1]",
                "localhost",
                "devstoreaccount1",
                "acct.blob.core.windows.net",
                "xn--bcher-kva",
                "bücher",
                "🦀",
                "a..b",
                "UPPER",
                "%41b",
                "b%00x",
                "[::ffff:127.0.0.1]",
                "999.1.1.1",
                "-lead",
            ]
            .map(String::from)
            .to_vec()
        ),
        "[a-z0-9.-]{0,70}",
        "\\PC{0,12}",
    ]
}

fn port() -> impl Strategy<Value = String> {
    prop::sample::select(
        ["", ":0", ":1", ":10000", ":65535", ":65536", ":99999", ":abc", ":"].map(String::from).to_vec(),
    )
}

fn path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        prop::sample::select(
            [
                "",
                "p",
                "a b",
                "a%20b",
                "%00",
                "%2F",
                "..",
                ".",
                "née",
                "%ZZ",
                "%C3%28",
                "\u{0}",
                "devstoreaccount1",
                "c0ntainer"
            ]
            .map(String::from)
            .to_vec()
        ),
        "[a-z0-9%]{1,12}",
        "\\PC{1,6}",
    ];
    prop::collection::vec(segment, 0..5).prop_map(|segs| segs.iter().map(|s| format!("/{s}")).collect())
}

/// Query pairs: known options with plausible or broken values, and secret-bearing ones.
fn query() -> impl Strategy<Value = String> {
    let known =
        prop::sample::select(["region", "endpoint", "path_style", "provider", "allow_http", "account"].to_vec());
    let value = prop::sample::select(
        [
            "true",
            "maybe",
            "us-east-1",
            "fr-par",
            "generic",
            "minio",
            "http://127.0.0.1:1",
            "https://127.0.0.1:1",
            "http://example.invalid",
            "ftp://x",
            "not a url",
            "%zz",
            "",
        ]
        .to_vec(),
    );
    let secret_key = prop::sample::select(
        ["sig", "sv", "token", "secret_access_key", "X-Amz-Signature", "X-Amz-Security-Token", "foo", "password"]
            .to_vec(),
    );
    let pair = prop_oneof![
        (known, value).prop_map(|(k, v)| format!("{k}={v}")),
        secret_key.prop_map(|k| format!("{k}={MARK}")),
        Just(format!("endpoint=http://u:{MARK}@127.0.0.1:1")),
        Just(format!("endpoint=http://u:{MARK}@[bad")),
    ];
    prop::collection::vec(pair, 0..4).prop_map(|pairs| {
        if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.join("&"))
        }
    })
}

fn fragment() -> impl Strategy<Value = String> {
    prop::sample::select(vec![String::new(), "#frag".into(), format!("#sig={MARK}")])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn structured_urls_never_panic_nor_echo_secrets(
        scheme in scheme(), user in userinfo(), host in host(), port in port(), path in path(),
        query in query(), fragment in fragment(),
    ) {
        let url = format!("{scheme}://{user}{host}{port}{path}{query}{fragment}");
        prop_assume!(!is_local(&url));
        if let Some(err) = open(&url) {
            check(&url, &err)?;
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,60}|[a-z0-9:/?#@%&=.\\[\\]\\x00-\\x1f -]{0,40}") {
        prop_assume!(!is_local(&s));
        if let Some(err) = open(&s) {
            let shown = format!("{err}\n{err:?}");
            prop_assert!(!err.to_string().is_empty(), "{s:?}");
            prop_assert!(!shown.contains(MARK));
        }
    }

    #[test]
    fn secrets_in_any_position_are_never_echoed(scheme in scheme(), at in 0usize..4, tail in "[a-z0-9/]{0,10}") {
        let url = match at {
            0 => format!("{scheme}://user:{MARK}@bucket/{tail}"),
            1 => format!("{scheme}://bucket/{tail}?x={MARK}"),
            2 => format!("{scheme}://bucket/{tail}#{MARK}"),
            _ => format!("{scheme}://user:{MARK}@[bad/{tail}?sig={MARK}"),
        };
        if let Some(err) = open(&url) {
            check(&url, &err)?;
        }
    }

    #[test]
    fn local_paths_open_inside_a_temporary_directory(name in "[a-zA-Z0-9 ._%-]{1,20}", as_url in any::<bool>()) {
        let dir = env().tmp.path().join(&name);
        let url = if as_url { format!("file://{}", dir.display()) } else { dir.display().to_string() };
        if let Some(err) = open(&url) {
            check(&url, &err)?;
        }
    }
}

#[test]
fn unknown_schemes_and_url_credentials_are_named() {
    for (url, says) in [
        ("nosuch://user:pw@bucket", "unknown scheme"),
        ("s3://AKID:s3cr3t@bucket", "credentials"),
        ("gs://AKID:s3cr3t@bucket", "credentials"),
        ("s3://bucket?regoin=eu-west-1", "unknown parameter `regoin`"),
    ] {
        let err = open(url).expect("refused");
        assert!(err.to_string().contains(says), "{url}: {err}");
        assert!(!format!("{err} {err:?}").contains("pw") && !err.to_string().contains("s3cr3t"), "{url}: {err}");
    }
}
