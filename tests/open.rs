//! `ferryboat::open`: every URL form it accepts, and clear errors for the rest.

use ferryboat::{Error, ObjectPath, ObjectStoreExt};

#[tokio::test]
async fn opens_memory_and_local_directories() {
    let mem = ferryboat::open("memory://").await.unwrap();
    mem.put(&ObjectPath::parse("a").unwrap(), "1".into()).await.unwrap();
    assert_eq!(mem.info().provider, "memory");

    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().join("bucket").display());
    let local = ferryboat::open(&url).await.unwrap();
    local.put(&ObjectPath::parse("x/y.txt").unwrap(), "hello".into()).await.unwrap();
    assert_eq!(std::fs::read_to_string(dir.path().join("bucket/x/y.txt")).unwrap(), "hello");

    // A plain absolute path is a local directory too, and sees the same data.
    let same = ferryboat::open(&dir.path().join("bucket").display().to_string()).await.unwrap();
    assert_eq!(same.get(&ObjectPath::parse("x/y.txt").unwrap()).await.unwrap().bytes().await.unwrap(), "hello");
}

#[tokio::test]
async fn bad_urls_are_clear_errors() {
    let cases = [
        ("", "empty"),
        ("   ", "empty"),
        ("nosuch://bucket", "unknown scheme \"nosuch\""),
        ("::not a url", "malformed store URL"),
        ("file://remotehost/data", "names a host"),
        ("https://example.com/bucket", "does not say which protocol"),
    ];
    for (url, expected) in cases {
        let err = match ferryboat::open(url).await {
            Ok(store) => panic!("{url:?} opened {store:?}"),
            Err(e) => e,
        };
        assert!(matches!(err, Error::InvalidConfig { .. }), "{url:?}: {err}");
        assert!(err.to_string().contains(expected), "{url:?}: {err}");
    }
    let unknown = ferryboat::open("nosuch://b").await.unwrap_err().to_string();
    for scheme in ferryboat::supported_schemes() {
        assert!(unknown.contains(&scheme), "the error lists {scheme}: {unknown}");
    }
}

#[tokio::test]
async fn query_strings_are_never_echoed() {
    let err = ferryboat::open("nosuch://bucket?secret_access_key=hunter2").await.unwrap_err().to_string();
    assert!(!err.contains("hunter2"), "{err}");
}

#[cfg(feature = "s3")]
#[tokio::test]
async fn provider_urls_reach_the_catalogue_and_name_the_valid_choices() {
    let err = ferryboat::open("scaleway://xx-nowhere/bucket").await.unwrap_err().to_string();
    assert!(err.contains("fr-par"), "an unknown region lists the valid ones: {err}");
    assert!(ferryboat::supported_schemes().iter().any(|s| s == "ovh"), "provider ids are schemes");
}

#[tokio::test]
async fn options_go_to_the_backend_the_url_names_and_unknown_keys_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("memory://", "region", "memory:// takes no options"),
        (dir.path().to_str().unwrap(), "region", "a local directory takes no options"),
        ("s3://b?endpoint=http://127.0.0.1:9", "regoin", "unknown S3 option `regoin`; valid: access_key_id,"),
        ("scaleway://fr-par/b", "account_key", "unknown S3 option `account_key`"),
        ("azure://acct/logs", "secret_access_key", "unknown Azure option `secret_access_key`; valid: account,"),
        ("gs://bucket", "region", "unknown GCS option `region`; valid: endpoint,"),
        ("s3://b?endpoint=http://127.0.0.1:9", "max_attempts", "`max_attempts`"),
    ];
    for (url, key, expected) in cases {
        let err = ferryboat::open_with(url, [(key, "0")]).await.unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{url} {key}: {err}");
        assert!(err.to_string().contains(expected), "{url} {key}: {err}");
    }
    // Options reach the store: a secret never shows in its Debug.
    let store = ferryboat::open_with(
        "s3://b",
        [("endpoint", "http://127.0.0.1:9"), ("access_key_id", "AKIDOPTIONS"), ("aws_secret_access_key", "S3CR3TOPT")],
    )
    .await
    .unwrap();
    assert_eq!(store.info().endpoint.as_deref(), Some("http://127.0.0.1:9"), "{:?}", store.info());
    assert!(!format!("{store:?}").contains("S3CR3TOPT"));
}
