//! Failures a user meets first: wrong keys, a missing bucket, a server that is not there.

mod support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferryboat_core::{Error, ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_s3::{Credentials, S3Store};
use ferryboat_testkit::emulators;
use futures::TryStreamExt;
use support::{config, emulator_quirks, fresh_bucket, open};

#[tokio::test]
async fn wrong_secret_is_unauthenticated_and_never_shown() {
    let Some(emu) = emulators::s3s() else {
        return emulators::skip("wrong_secret_is_unauthenticated_and_never_shown", "s3s-fs is not available");
    };
    assert!(emu.checks_signatures);
    let good = open(&emu, config(&emu, &fresh_bucket("auth"), "generic", emulator_quirks(&emu))).await;
    let wrong_secret = "not-the-secret-at-all";
    let cfg = config(&emu, good.bucket(), "generic", emulator_quirks(&emu))
        .with_credentials(Credentials::new(&emu.access_key, wrong_secret));
    let store = S3Store::new(cfg).unwrap();
    let key = ObjectPath::parse("k").unwrap();
    let err = store.put(&key, Bytes::from_static(b"x")).await.unwrap_err();
    assert!(matches!(err, Error::Unauthenticated { .. }), "{err:?}");
    let err = store.list(None).try_collect::<Vec<_>>().await.unwrap_err();
    assert!(matches!(err, Error::Unauthenticated { .. }), "{err:?}");
    for shown in [err.to_string(), format!("{err:?}"), format!("{store:?}")] {
        assert!(!shown.contains(wrong_secret), "secret leaked: {shown}");
    }
    assert!(!good.exists(&key).await.unwrap(), "the rejected write left nothing");
}

#[tokio::test]
async fn missing_bucket_is_not_found_naming_the_bucket() {
    // moto: s3s-fs writes into a missing bucket's directory instead of refusing.
    let Some(emu) = emulators::moto() else {
        return emulators::skip("missing_bucket_is_not_found_naming_the_bucket", "moto is not available");
    };
    let bucket = fresh_bucket("missing");
    let store = S3Store::new(config(&emu, &bucket, "generic", emulator_quirks(&emu))).unwrap();
    let key = ObjectPath::parse("a/b").unwrap();
    let put = store.put(&key, Bytes::from_static(b"x")).await.unwrap_err();
    let list = store.list(None).try_collect::<Vec<_>>().await.unwrap_err();
    for err in [put, list] {
        match &err {
            Error::NotFound { path, .. } => assert_eq!(path, &bucket, "{err}"),
            other => panic!("expected NotFound for the bucket, got {other:?}"),
        }
        assert!(err.to_string().contains(&bucket), "{err}");
    }
}

#[tokio::test]
async fn unreachable_endpoint_is_transient_naming_it_within_the_timeout() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let cfg = ferryboat_s3::S3Config::new("b")
        .with_provider("generic")
        .with_region("us-east-1")
        .with_endpoint(&endpoint)
        .with_path_style(true)
        .with_credentials(Credentials::new("k", "s"))
        .with_connect_timeout(Duration::from_secs(1))
        .with_operation_timeout(Duration::from_secs(3));
    let store = S3Store::new(cfg).unwrap();
    let started = Instant::now();
    let err = store.head(&ObjectPath::parse("k").unwrap()).await.unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_millis(3500), "gave up after {took:?}, the operation timeout is 3 s");
    assert!(err.is_retryable(), "{err:?}");
    assert!(err.to_string().contains(&endpoint), "the message names the endpoint: {err}");
}

#[tokio::test]
async fn a_missing_key_keeps_the_status_and_the_s3_code() {
    let Some(emu) = emulators::moto() else {
        return emulators::skip("a_missing_key_keeps_the_status_and_the_s3_code", "moto is not available");
    };
    let store = open(&emu, config(&emu, &fresh_bucket("codes"), "generic", emulator_quirks(&emu))).await;
    let missing = ObjectPath::parse("not/here").unwrap();
    let err = store.get(&missing).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!((err.status(), err.code()), (Some(404), Some("NoSuchKey")), "{err:?}");
    assert!(!err.is_retryable() && !err.is_throttled(), "{err:?}");
    // A create-only write over an existing key: the 412 stays with the AlreadyExists it means.
    let key = ObjectPath::parse("there").unwrap();
    store.put(&key, Bytes::from_static(b"x")).await.unwrap();
    let err = store.put_if_not_exists(&key, Bytes::from_static(b"y")).await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
    assert_eq!(err.status(), Some(412), "{err:?}");
}
