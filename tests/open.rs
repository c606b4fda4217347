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
