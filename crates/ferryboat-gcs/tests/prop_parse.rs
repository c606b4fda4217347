//! Property tests for what ferryboat-gcs parses itself: object resources, `objects.list` pages and
//! service-account key files. Hostile or broken input must never panic; every refusal is a
//! typed `ferryboat_core::Error` whose message says what was wrong, and what is accepted must be
//! exactly what the input said.

use ferryboat_core::{Error, ObjectPath};
use ferryboat_gcs::{parse_list_page, parse_object_meta, ServiceAccount};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// Where multipart uploads keep their parts; listings hide it.
const RESERVED_PREFIX: &str = ".ferry-uploads/";
/// `ferryboat_core::listing_guard::MAX_TOKEN_LEN`.
const MAX_TOKEN_LEN: usize = 64 * 1024;

const KEY_FILE: &str = include_str!("fixtures/throwaway-service-account.json");

// ---------------------------------------------------------------------------------------------
// Generators

/// Object names: ordinary, unicode, NUL and control characters, trailing and doubled slashes,
/// dot segments, the reserved upload prefix, empty and very long ones.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z]{1,8}(/[a-z0-9._-]{1,8}){0,3}",
        2 => "\\PC{1,20}",
        1 => any::<String>(),
        1 => "[a-z]{1,4}/".prop_map(|s| s),
        1 => "[a-z]{1,4}\u{0}[a-z]{0,4}",
        1 => "[a-z]{1,4}//[a-z]{1,4}",
        1 => Just(String::new()),
        1 => prop_oneof![Just(".".to_string()), Just("..".to_string()), Just("a/../b".to_string()), Just("/a".to_string())],
        1 => "[a-z]{1,6}".prop_map(|s| format!("{RESERVED_PREFIX}{s}")),
        1 => "[a-zé日]{1,3}".prop_map(|s| s.repeat(400)),
        1 => "[a-z\u{7f}\u{1}\r\n\t]{1,8}",
    ]
}

/// An int64 field as servers send it, or as a broken one might.
fn int64_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => any::<u64>().prop_map(|n| json!(n.to_string())),
        2 => any::<u64>().prop_map(|n| json!(n)),
        1 => (i64::MIN..0).prop_map(|n| json!(n)),
        1 => (i64::MIN..0).prop_map(|n| json!(n.to_string())),
        1 => Just(json!("18446744073709551616")),
        1 => Just(json!("99999999999999999999999999999")),
        1 => Just(json!(1e30)),
        1 => Just(json!(1.5)),
        1 => prop_oneof![Just(json!("")), Just(json!(" 1")), Just(json!("0x10")), Just(json!("1e3")), Just(json!("12abc"))],
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(|b| json!(b)),
        1 => Just(json!([1])),
        1 => Just(json!({"n": 1})),
    ]
}

/// Timestamps: valid RFC 3339, edge dates, leap seconds, offsets, and garbage.
fn timestamp_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => (1970u32..2100, 1u32..13, 1u32..29, 0u32..24, 0u32..60, 0u32..60, 0u32..1_000_000)
            .prop_map(|(y, mo, d, h, mi, s, us)| json!(format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}Z"))),
        1 => prop_oneof![
            Just(json!("0000-01-01T00:00:00Z")),
            Just(json!("9999-12-31T23:59:59.999999999+23:59")),
            Just(json!("1969-12-31T23:59:59Z")),
            Just(json!("2016-12-31T23:59:60Z")),
            Just(json!("2024-02-30T00:00:00Z")),
            Just(json!("2024-05-01T10:00:00-99:99")),
            Just(json!("not a date")),
            Just(json!("")),
        ],
        1 => "\\PC{0,30}".prop_map(Value::String),
        1 => any::<i64>().prop_map(|n| json!(n)),
        1 => Just(Value::Null),
    ]
}

/// Any small JSON value, for fields replaced by something of the wrong type.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object resource: each field present, absent, or of an odd value, plus unknown fields.
fn object_resource() -> impl Strategy<Value = Value> {
    let metadata = prop_oneof![
        3 => prop::collection::btree_map("\\PC{1,8}", "\\PC{0,12}", 0..4)
            .prop_map(|m| json!(m)),
        1 => any_value(),
    ];
    let text = || prop::option::of(prop_oneof![4 => "\\PC{0,16}".prop_map(Value::String), 1 => any_value()]);
    (
        prop_oneof![8 => name().prop_map(Value::String), 1 => any_value()],
        prop::option::of(int64_value()),
        prop::option::of(int64_value()),
        prop::option::of(timestamp_value()),
        prop::option::of(timestamp_value()),
        text(),
        text(),
        prop::option::of(metadata),
        prop::collection::btree_map("x[a-zA-Z]{0,8}", any_value(), 0..3),
        any::<bool>(),
    )
        .prop_map(|(name, size, generation, updated, created, etag, ctype, metadata, extra, drop_name)| {
            let mut m = Map::new();
            if !drop_name {
                m.insert("name".into(), name);
            }
            let fields = [
                ("size", size),
                ("generation", generation),
                ("updated", updated),
                ("timeCreated", created),
                ("etag", etag),
                ("contentType", ctype),
                ("metadata", metadata),
            ];
            for (k, v) in fields {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            m.extend(extra);
            Value::Object(m)
        })
}

/// Continuation tokens: ordinary, empty, unicode, oversized, or not a string at all.
fn page_token() -> impl Strategy<Value = Option<Value>> {
    prop::option::of(prop_oneof![
        4 => "[A-Za-z0-9+/=]{1,40}".prop_map(Value::String),
        1 => Just(json!("")),
        1 => "\\PC{1,20}".prop_map(Value::String),
        1 => Just(json!("t".repeat(MAX_TOKEN_LEN + 1))),
        1 => Just(json!("t".repeat(MAX_TOKEN_LEN))),
        1 => any_value(),
    ])
}

// ---------------------------------------------------------------------------------------------
// Oracles: what the parser must make of a generated value, worked out independently of it.

/// Why an int64 field must be refused, or `None` if it is acceptable.
fn int64_refusal(v: Option<&Value>) -> Option<&'static str> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.is_u64() => None,
        Some(Value::Number(n)) if n.is_i64() => Some("negative int64"),
        Some(Value::Number(_)) => Some("int64 "),
        Some(Value::String(s)) if s.parse::<u64>().is_ok() => None,
        Some(Value::String(_)) => Some("is not a non-negative integer"),
        Some(_) => Some("non-negative int64"),
    }
}

fn int64_of(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Whether a field read as `Option<String>` holds something else.
fn not_optional_string(v: Option<&Value>) -> bool {
    !matches!(v, None | Some(Value::Null) | Some(Value::String(_)))
}

/// The words the refusal of `obj` as an object resource must contain, or `None` if the JSON
/// itself is acceptable (the name may still be one ferry cannot represent).
fn object_refusal(obj: &Value) -> Option<&'static str> {
    let m = obj.as_object()?;
    // serde_json reports the first wrong field in document order, which is the map's order.
    for (k, v) in m {
        let why = match k.as_str() {
            "name" => (!v.is_string()).then_some("invalid type"),
            "size" | "generation" => int64_refusal(Some(v)),
            "updated" | "timeCreated" | "etag" | "contentType" => {
                not_optional_string(Some(v)).then_some("invalid type")
            }
            "metadata" => match v {
                Value::Null => None,
                Value::Object(o) if o.values().all(Value::is_string) => None,
                _ => Some("invalid type"),
            },
            _ => None,
        };
        if why.is_some() {
            return why;
        }
    }
    (!m.contains_key("name")).then_some("missing field `name`")
}

/// Asserts the error for a refused answer is the typed, explanatory one.
fn assert_malformed(err: &Error, why: &str) -> Result<(), TestCaseError> {
    let text = err.to_string();
    prop_assert!(matches!(err, Error::Generic { .. }), "not a Generic error: {err:?}");
    prop_assert!(text.contains("malformed JSON answer from the server"), "{text}");
    prop_assert!(text.contains(why), "{text:?} does not say {why:?}");
    prop_assert!(text.len() < 600, "an error message of {} bytes", text.len());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// Arbitrary bytes: an error of a known kind, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        match parse_object_meta(&body) {
            Ok(m) => prop_assert!(serde_json::from_slice::<Value>(&body).is_ok(), "accepted invalid JSON as {m:?}"),
            Err(e) => prop_assert!(matches!(e, Error::Generic { .. } | Error::InvalidPath { .. }), "{e:?}"),
        }
        match parse_list_page(&body) {
            Ok(_) => prop_assert!(serde_json::from_slice::<Value>(&body).is_ok()),
            Err(e) => prop_assert!(matches!(e, Error::Generic { .. } | Error::InvalidPath { .. }), "{e:?}"),
        }
        let text = String::from_utf8_lossy(&body);
        let err = ServiceAccount::from_json(&text).expect_err("random bytes are no key");
        prop_assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
    }

    /// An object resource is read exactly as sent, or refused saying which field is wrong.
    #[test]
    fn object_resources(obj in object_resource(), cut in prop::option::of(any::<prop::sample::Index>())) {
        let mut body = serde_json::to_vec(&obj).unwrap();
        if let Some(cut) = cut {
            // A truncated answer (a connection cut mid-body) is malformed JSON, never a panic.
            body.truncate(cut.index(body.len()));
            if let Err(e) = parse_object_meta(&body) {
                prop_assert!(matches!(e, Error::Generic { .. } | Error::InvalidPath { .. }), "{e:?}");
            }
            return Ok(());
        }
        let result = parse_object_meta(&body);
        if let Some(why) = object_refusal(&obj) {
            let err = result.expect_err("an ill-typed resource was accepted");
            return assert_malformed(&err, why);
        }
        let name = obj["name"].as_str().unwrap();
        match (ObjectPath::parse(name), result) {
            (Ok(path), Ok(meta)) => {
                prop_assert_eq!(&meta.path, &path);
                prop_assert_eq!(meta.size, int64_of(obj.get("size")).unwrap_or(0));
                prop_assert_eq!(meta.version, int64_of(obj.get("generation")).map(|g| g.to_string()));
                prop_assert_eq!(meta.etag.as_deref(), obj.get("etag").and_then(Value::as_str));
                prop_assert_eq!(meta.content_type.as_deref(), obj.get("contentType").and_then(Value::as_str));
                if let Some(Value::Object(md)) = obj.get("metadata") {
                    prop_assert_eq!(meta.metadata.len(), md.len());
                    for (k, v) in md {
                        prop_assert_eq!(meta.metadata.get(k).map(String::as_str), v.as_str());
                    }
                }
                let ts = obj.get("updated").or(obj.get("timeCreated")).and_then(Value::as_str);
                if let Some(t) = ts.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()) {
                    prop_assert_eq!(meta.last_modified, std::time::SystemTime::from(t));
                }
            }
            (Err(_), Err(e)) => {
                prop_assert!(matches!(e, Error::InvalidPath { .. }), "{e:?}");
                prop_assert!(e.to_string().contains("invalid path"), "{e}");
            }
            (Ok(_), Err(e)) => prop_assert!(false, "a valid name {name:?} was refused: {e}"),
            (Err(e), Ok(m)) => prop_assert!(false, "name {name:?} ({e}) was accepted as {m:?}"),
        }
    }

    /// A listing page: its objects in order, hidden upload parts and unnamable keys skipped,
    /// the token checked; or a refusal that says why.
    #[test]
    fn listing_pages(
        items in prop::collection::vec(object_resource(), 0..6),
        sort in any::<bool>(),
        prefixes in prop::collection::vec(prop_oneof![
            6 => name().prop_map(|n| Value::String(format!("{n}/"))),
            1 => any_value(),
        ], 0..5),
        token in page_token(),
        error_doc in prop::option::weighted(0.05, "\\PC{0,400}"),
        items_value in prop::option::weighted(0.05, any_value()),
    ) {
        let mut items = items;
        if sort {
            items.sort_by(|a, b| a["name"].as_str().unwrap_or("").cmp(b["name"].as_str().unwrap_or("")));
        }
        let mut page = Map::new();
        page.insert("kind".into(), json!("storage#objects"));
        page.insert("items".into(), items_value.clone().unwrap_or_else(|| Value::Array(items.clone())));
        page.insert("prefixes".into(), Value::Array(prefixes.clone()));
        if let Some(t) = &token {
            page.insert("nextPageToken".into(), t.clone());
        }
        if let Some(message) = &error_doc {
            page.insert("error".into(), json!({"code": 500, "message": message}));
        }
        let body = serde_json::to_vec(&Value::Object(page)).unwrap();
        let result = parse_list_page(&body);

        // Type errors first (serde reads the whole document), then the checks on its content.
        let items_ok = match &items_value {
            None => true,
            Some(Value::Null) => false,
            Some(Value::Array(a)) => a.iter().all(|i| i.is_object() && object_refusal(i).is_none()),
            Some(_) => false,
        };
        let ill_typed = !items_ok
            || items_value.is_none() && items.iter().any(|i| object_refusal(i).is_some())
            || prefixes.iter().any(|p| !p.is_string())
            || not_optional_string(token.as_ref());
        if ill_typed {
            let err = result.expect_err("an ill-typed page was accepted");
            return assert_malformed(&err, "");
        }
        if let Some(message) = &error_doc {
            let err = result.expect_err("an error document was read as a page");
            let text = err.to_string();
            prop_assert!(text.contains("error document despite its success status"), "{text}");
            prop_assert!(text.contains(&message.trim().chars().take(20).collect::<String>()), "{text}");
            prop_assert!(text.len() < 800, "{} bytes", text.len());
            return Ok(());
        }
        let items: Vec<Value> = match items_value {
            Some(Value::Array(a)) => a,
            _ => items,
        };
        let names: Vec<&str> = items.iter().map(|i| i["name"].as_str().unwrap()).collect();
        let token = token.as_ref().and_then(Value::as_str).filter(|t| !t.is_empty());
        if let Some(pair) = names.windows(2).find(|w| w[1].as_bytes() <= w[0].as_bytes()) {
            let err = result.expect_err("keys out of order were accepted");
            let text = err.to_string();
            prop_assert!(matches!(err, Error::Generic { .. }), "{err:?}");
            prop_assert!(text.contains("listing") && text.contains("broken"), "{text}");
            let how = if pair[0] == pair[1] { "repeats" } else { "comes before" };
            prop_assert!(text.contains(how), "{text}");
            return Ok(());
        }
        if token.is_some_and(|t| t.len() > MAX_TOKEN_LEN) {
            let err = result.expect_err("an oversized token was accepted");
            prop_assert!(err.to_string().contains("continuation token of"), "{err}");
            return Ok(());
        }
        // A name or prefix no ObjectPath can be fails the page: never a silent skip.
        let dir_of = |p: &str| ObjectPath::from_common_prefix("gcs", p);
        let bad_name = names.iter().any(|n| !n.starts_with(RESERVED_PREFIX) && ObjectPath::parse(*n).is_err());
        let bad_dir = prefixes.iter().filter_map(Value::as_str).any(|p| p != RESERVED_PREFIX && dir_of(p).is_err());
        if bad_name || bad_dir {
            let err = result.expect_err("a name no key can be was skipped or accepted");
            prop_assert!(matches!(err, Error::InvalidPath { .. } | Error::NotSupported { .. }), "{err:?}");
            return Ok(());
        }
        let page = result.map_err(|e| TestCaseError::fail(format!("a sound page was refused: {e}")))?;
        let expected: Vec<&str> = names.iter().copied().filter(|n| !n.starts_with(RESERVED_PREFIX)).collect();
        let got: Vec<&str> = page.objects.iter().map(|m| m.path.as_str()).collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(page.next_page_token.as_deref(), token);
        let expected_dirs: Vec<String> = prefixes
            .iter()
            .filter_map(Value::as_str)
            .filter(|p| *p != RESERVED_PREFIX)
            .filter_map(|p| dir_of(p).ok().map(ObjectPath::into_string))
            .collect();
        let got_dirs: Vec<&str> = page.prefixes.iter().map(ObjectPath::as_str).collect();
        prop_assert_eq!(got_dirs, expected_dirs);
    }

}

proptest! {
    // Each accepted case parses an RSA key: fewer cases keep the test at a few seconds.
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Service-account key files with fields dropped, retyped or corrupted: accepted only when
    /// whole, otherwise an `InvalidConfig` error that names the problem and never quotes the key.
    #[test]
    fn service_account_keys(
        drop in prop::collection::btree_set(prop::sample::select(vec![
            "type", "client_email", "private_key", "private_key_id", "token_uri", "project_id",
        ]), 0..3),
        kind in prop::option::weighted(0.3, prop_oneof![
            Just(json!("authorized_user")), Just(json!("")), Just(json!("service_account\u{0}")), any_value(),
        ]),
        email in prop::option::weighted(0.3, prop_oneof![
            Just(json!("")), Just(json!("a\u{0}b@x")), "\\PC{1,30}".prop_map(Value::String), any_value(),
        ]),
        key_edit in prop::option::weighted(0.5, (0u8..5, any::<prop::sample::Index>(), any::<u8>())),
        cut in prop::option::weighted(0.1, any::<prop::sample::Index>()),
    ) {
        let mut key: Map<String, Value> = serde_json::from_str(KEY_FILE).unwrap();
        let pem = key["private_key"].as_str().unwrap().to_string();
        for d in &drop {
            key.remove(*d);
        }
        if let Some(k) = kind {
            key.insert("type".into(), k);
        }
        if let Some(e) = email {
            key.insert("client_email".into(), e);
        }
        if let (Some((how, at, byte)), true) = (key_edit, key.contains_key("private_key")) {
            let mut p = pem.clone().into_bytes();
            let i = at.index(p.len());
            match how {
                0 => p.truncate(i),
                1 => p[i] = byte,
                2 => p.insert(i, byte),
                3 => p = p.iter().map(|b| if b.is_ascii_alphanumeric() { b'A' } else { *b }).collect(),
                _ => p = b"-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n".to_vec(),
            }
            key.insert("private_key".into(), Value::String(String::from_utf8_lossy(&p).into_owned()));
        }
        let mut json = serde_json::to_string(&Value::Object(key.clone())).unwrap();
        if let Some(cut) = cut {
            let mut i = cut.index(json.len());
            while !json.is_char_boundary(i) {
                i -= 1;
            }
            json.truncate(i);
        }
        let whole = cut.is_none()
            && key_edit.is_none()
            && key.get("type") == Some(&json!("service_account"))
            && key.get("client_email").and_then(Value::as_str).is_some_and(|e| !e.is_empty())
            && key.get("private_key").is_some()
            && key.get("token_uri").is_some();
        match ServiceAccount::from_json(&json) {
            Ok(sa) => {
                prop_assert_eq!(key.get("type"), Some(&json!("service_account")));
                prop_assert_eq!(Some(sa.email()), key.get("client_email").and_then(Value::as_str));
                prop_assert!(!sa.email().is_empty());
                let debug = format!("{sa:?}");
                prop_assert!(!debug.contains("PRIVATE KEY"), "{}", debug);
            }
            Err(err) => {
                prop_assert!(!whole, "a whole key file was refused: {err}");
                let text = err.to_string();
                prop_assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
                prop_assert!(
                    text.contains("not valid JSON") || text.contains("not a service-account key")
                        || text.contains("service-account key rejected"),
                    "{text}"
                );
                // The key's body is a secret: no slice of it may reach an error message.
                for line in pem.lines().filter(|l| !l.starts_with("-----")) {
                    prop_assert!(!text.contains(line), "the error quotes the private key: {text}");
                }
            }
        }
    }
}

/// Values found by hand that once went wrong, or nearly did; kept as plain cases.
#[test]
fn known_edge_cases() {
    let e = parse_object_meta(br#"{"name":"a","size":-1}"#).unwrap_err();
    assert!(e.to_string().contains("negative int64 -1"), "{e}");
    let e = parse_object_meta(br#"{"name":"a","size":"18446744073709551616"}"#).unwrap_err();
    assert!(e.to_string().contains("18446744073709551616"), "{e}");
    let e = parse_object_meta(br#"{"name":"a","generation":1e300}"#).unwrap_err();
    assert!(e.to_string().contains("int64 1e300 is out of range"), "{e}");
    let e = parse_object_meta(br#"{"name":"a","size":1.5}"#).unwrap_err();
    assert!(e.to_string().contains("int64 1.5e0 is not an integer"), "{e}");
    let m = parse_object_meta(br#"{"name":"a","size":null,"generation":"18446744073709551615"}"#).unwrap();
    assert_eq!((m.size, m.version.as_deref()), (0, Some("18446744073709551615")));
    // Keys are the provider's: a control character is an ordinary key character.
    let m = parse_object_meta(b"{\"name\":\"a\\u0000b\"}").unwrap();
    assert_eq!(m.path.as_str(), "a\0b");
    let e = parse_object_meta(br#"{"name":""}"#).unwrap_err();
    assert!(matches!(e, Error::InvalidPath { .. }), "{e}");
    let page =
        parse_list_page(br#"{"items":[{"name":"a/"},{"name":"b"}],"prefixes":["c/"],"nextPageToken":""}"#).unwrap();
    assert_eq!(page.objects.len(), 2, "a console `a/` placeholder is an object like any other");
    assert_eq!(page.prefixes.len(), 1);
    assert_eq!(page.next_page_token, None, "an empty token ends the listing");
}
