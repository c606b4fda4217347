//! Versioned buckets: writes report the new version id, reads can name an older version,
//! a listing can name every version and delete marker (`ListOptions::versions`), and one
//! version can be deleted by its id (`DeleteOptions::version`). Run on moto, Ceph RGW and
//! SeaweedFS, bare and through layers.

mod support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ferryboat_core::layers::{FaultConfig, FaultStore, HookStore, JurisdictionPolicy, RetryConfig, RetryStore};
use ferryboat_core::prefix::PrefixStore;
use ferryboat_core::{
    DeleteOptions, ErrorKind, GetOptions, Jurisdiction, ListOptions, ObjectMeta, ObjectPath, ObjectStore,
    ObjectStoreExt, VersionInfo,
};
use ferryboat_providers::Quirks;
use ferryboat_s3::S3Store;
use ferryboat_testkit::emulators::{self, S3Emulator};
use futures::stream::{StreamExt, TryStreamExt};
use support::{config, emulator_quirks, fresh_bucket, open};

/// One runtime for every test: the S3 stores share a connection pool per process.
fn run(test: impl std::future::Future<Output = ()>) {
    static RUNTIME: std::sync::LazyLock<tokio::runtime::Runtime> = std::sync::LazyLock::new(|| {
        tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().expect("runtime")
    });
    RUNTIME.block_on(test);
}

fn path(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap()
}

/// A store on a fresh bucket with versioning switched on, under `profile`'s quirks (the
/// emulator's for moto).
async fn versioned(emu: &S3Emulator, profile: &str) -> S3Store {
    let quirks = match profile {
        "aws" => Quirks { versioning: true, ..emulator_quirks(emu) },
        id => ferryboat_providers::catalogue().get(id).expect("profile").quirks.clone(),
    };
    let store = open(emu, config(emu, &fresh_bucket("versions"), profile, quirks)).await;
    let caps = store.capabilities();
    assert!(caps.versioning && caps.list_versions && caps.delete_versions, "{profile}: {caps:?}");
    store.enable_versioning().await.expect("PutBucketVersioning");
    store
}

async fn versions(store: &dyn ObjectStore, prefix: Option<&str>, offset: Option<&str>) -> Vec<ObjectMeta> {
    let opts = ListOptions { prefix: prefix.map(path), offset: offset.map(path), versions: true };
    store.list_opts(opts).try_collect().await.expect("versions listing")
}

/// (key, version id, latest, delete marker) of each entry.
fn shape(items: &[ObjectMeta]) -> Vec<(String, String, bool, bool)> {
    items
        .iter()
        .map(|m| {
            let info = m.version_info.expect("a versions listing fills version_info");
            (m.path.to_string(), m.version.clone().expect("a version id"), info.latest, info.delete_marker)
        })
        .collect()
}

fn entry(key: &str, version: &str, latest: bool, marker: bool) -> (String, String, bool, bool) {
    (key.to_string(), version.to_string(), latest, marker)
}

/// Write v1, v2, delete (a marker): the listing shows all three, newest first, between the
/// keys around them; deleting v1 by id removes v1 alone; v2 still reads by id; deleting the
/// marker brings v2 back. `store` may be the bucket itself or any stack of layers over it.
async fn scenario(store: &dyn ObjectStore, name: &str) {
    let key = path("ledger.csv");
    let before = store.put(&path("a.txt"), Bytes::from_static(b"a")).await.unwrap().version.expect("a version id");
    let v1 = store.put(&key, Bytes::from_static(b"v1")).await.unwrap().version.expect("a version id");
    // Two writes in one millisecond would leave the newest-first order to the server alone.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let v2 = store.put(&key, Bytes::from_static(b"v2")).await.unwrap().version.expect("a version id");
    let after = store.put(&path("z.txt"), Bytes::from_static(b"z")).await.unwrap().version.expect("a version id");
    tokio::time::sleep(Duration::from_millis(20)).await;
    store.delete(&key).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap_err().kind(), ErrorKind::NotFound, "{name}: deleted key reads");

    let listed = versions(store, None, None).await;
    let marker = listed.iter().find(|m| m.version_info.is_some_and(|i| i.delete_marker)).expect("a delete marker");
    let m = marker.version.clone().unwrap();
    assert_eq!(
        shape(&listed),
        vec![
            entry("a.txt", &before, true, false),
            entry("ledger.csv", &m, true, true),
            entry("ledger.csv", &v2, false, false),
            entry("ledger.csv", &v1, false, false),
            entry("z.txt", &after, true, false),
        ],
        "{name}: every version, keys ascending, newest first"
    );
    assert_eq!((marker.size, listed[2].size, listed[3].size), (0, 2, 2), "{name}: sizes");
    // An offset is a key: the listing starts with the next key's versions.
    let from = shape(&versions(store, None, Some("a.txt")).await);
    assert_eq!(
        from.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
        ["ledger.csv"; 3].iter().copied().chain(["z.txt"]).collect::<Vec<_>>(),
        "{name}: offset"
    );
    let none = versions(store, Some("ledger.csv"), None).await;
    assert!(none.is_empty(), "{name}: prefix `ledger.csv` is a directory, holding nothing: {none:?}");

    store.delete_opts(&key, DeleteOptions::version(&v1)).await.unwrap();
    assert_eq!(
        shape(&versions(store, None, None).await)[1..3],
        [entry("ledger.csv", &m, true, true), entry("ledger.csv", &v2, false, false)],
        "{name}: v1 alone is gone"
    );
    let gone = store.get_opts(&key, GetOptions { version: Some(v1.clone()), ..Default::default() }).await;
    assert_eq!(gone.unwrap_err().kind(), ErrorKind::NotFound, "{name}: v1 reads");
    let old = store.get_opts(&key, GetOptions { version: Some(v2.clone()), ..Default::default() }).await.unwrap();
    assert_eq!(old.bytes().await.unwrap(), "v2", "{name}: v2 by id");
    // Deleting the marker undoes the delete.
    store.delete_opts(&key, DeleteOptions::version(&m)).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap().bytes().await.unwrap(), "v2", "{name}: marker removed");
    // A version that never existed: nothing to do, as for a missing key.
    store.delete_opts(&key, DeleteOptions::version("no-such-version")).await.unwrap();
    let left = versions(store, None, None).await;
    assert_eq!(
        shape(&left),
        vec![
            entry("a.txt", &before, true, false),
            entry("ledger.csv", &v2, true, false),
            entry("z.txt", &after, true, false)
        ],
        "{name}: what is left"
    );
}

#[test]
fn versions_on_moto() {
    run(async {
        let Some(emu) = emulators::moto() else {
            return emulators::skip("versions_on_moto", "moto is not available");
        };
        let store = versioned(&emu, "aws").await;
        scenario(&store, "moto").await;
    });
}

#[test]
fn versions_on_ceph_rgw() {
    run(async {
        let Some(emu) = emulators::ceph_rgw() else {
            return emulators::skip("versions_on_ceph_rgw", "Ceph RGW is not running (FERRY_TEST_CEPH)");
        };
        let store = versioned(&emu, "ceph").await;
        scenario(&store, "ceph").await;
    });
}

#[test]
fn versions_on_seaweedfs() {
    run(async {
        let Some(emu) = emulators::seaweedfs() else {
            return emulators::skip("versions_on_seaweedfs", "SeaweedFS is not running (FERRY_TEST_SEAWEEDFS)");
        };
        let store = versioned(&emu, "seaweedfs").await;
        scenario(&store, "seaweedfs").await;
    });
}

/// The same scenario through a prefix view, a jurisdiction policy that allows the store, a
/// retry layer and a fault layer that breaks listings and loses write responses: what the
/// bucket answers arrives unchanged.
#[test]
fn versions_through_layers_on_moto() {
    run(async {
        let Some(emu) = emulators::moto() else {
            return emulators::skip("versions_through_layers_on_moto", "moto is not available");
        };
        let bucket: Arc<dyn ObjectStore> = Arc::new(versioned(&emu, "aws").await);
        let view: Arc<dyn ObjectStore> = Arc::new(PrefixStore::new(bucket.clone(), path("tenant")));
        let jurisdiction = bucket.info().jurisdiction.clone();
        let policy: Arc<dyn ObjectStore> = Arc::new(HookStore::new(view, JurisdictionPolicy::allow([jurisdiction])));
        let retry = RetryConfig { initial_backoff: Duration::from_millis(1), ..Default::default() };
        let fault = FaultStore::new(policy, FaultConfig::errors(0.3, 7));
        let stack = RetryStore::new(Arc::new(fault.clone()), retry.clone());
        scenario(&stack, "layers").await;
        assert!(fault.injected() > 0, "the fault layer injected nothing");
        // Under the view, the bucket holds the keys with the prefix.
        let inner = versions(bucket.as_ref(), None, None).await;
        assert!(inner.iter().all(|m| m.path.as_str().starts_with("tenant/")), "{inner:?}");

        // A listing broken at random points, mid-key too, resumes without repeating or
        // skipping a version.
        let many = path("many");
        for i in 0..12 {
            bucket.put(&path(&format!("tenant/many/{}", i % 3)), Bytes::from(format!("{i}"))).await.unwrap();
        }
        let view: Arc<dyn ObjectStore> = Arc::new(PrefixStore::new(bucket.clone(), path("tenant")));
        let whole = shape(&versions(view.as_ref(), Some("many"), None).await);
        assert_eq!(whole.len(), 12);
        for seed in 0..8 {
            let fault = FaultStore::new(view.clone(), FaultConfig::errors(0.6, seed));
            let stack = RetryStore::new(Arc::new(fault.clone()), retry.clone());
            assert_eq!(shape(&versions(&stack, Some(many.as_str()), None).await), whole, "seed {seed}");
        }

        // A policy that refuses the store refuses a version delete before it is sent.
        let refusing = HookStore::new(bucket.clone(), JurisdictionPolicy::allow([Jurisdiction::Ch]));
        let v = whole[0].1.clone();
        let e = refusing.delete_opts(&path("tenant/many/0"), DeleteOptions::version(&v)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PolicyViolation, "{e}");
        assert_eq!(shape(&versions(view.as_ref(), Some("many"), None).await), whole, "nothing was deleted");
    });
}

/// A bucket with more versions than one `ListObjectVersions` page (1,000) holds: the
/// listing crosses the page boundary inside one key and yields each version once, newest
/// first.
#[test]
fn versions_listing_pages_within_one_key_on_ceph_rgw() {
    run(async {
        let Some(emu) = emulators::ceph_rgw() else {
            return emulators::skip("versions_listing_pages_within_one_key_on_ceph_rgw", "Ceph RGW is not running");
        };
        let store = versioned(&emu, "ceph").await;
        let key = path("busy");
        // One after another: concurrent writes would leave their order to the server.
        let mut written = Vec::new();
        for i in 0..1005 {
            written.push(store.put(&key, Bytes::from(format!("{i}"))).await.unwrap().version.unwrap());
        }
        store.put(&path("busz"), Bytes::from_static(b"after")).await.unwrap();
        let listed = versions(&store, None, None).await;
        assert_eq!(listed.len(), 1006);
        let ids: Vec<String> = listed[..1005].iter().map(|m| m.version.clone().unwrap()).collect();
        assert!(listed[..1005].iter().all(|m| m.path == key));
        assert_eq!(listed[1005].path.as_str(), "busz");
        assert_eq!(
            listed
                .iter()
                .filter(|m| m.version_info == Some(VersionInfo { latest: true, delete_marker: false }))
                .count(),
            2
        );
        assert!(listed[0].version_info.unwrap().latest, "the latest version comes first");
        assert!(listed[..1005].windows(2).all(|w| w[0].last_modified >= w[1].last_modified), "newest first");
        written.reverse();
        assert_eq!(ids, written, "each version once, newest first");
    });
}

/// A provider whose profile keeps no versions refuses a versions listing and a version
/// delete with `NotSupported`, before any request: never the current objects alone.
#[test]
fn without_the_versioning_quirk_versions_are_refused() {
    run(async {
        let Some(emu) = emulators::moto() else {
            return emulators::skip("without_the_versioning_quirk_versions_are_refused", "moto is not available");
        };
        let store = open(&emu, config(&emu, &fresh_bucket("noversions"), "aws", emulator_quirks(&emu))).await;
        let caps = store.capabilities();
        assert!(!caps.versioning && !caps.list_versions && !caps.delete_versions);
        store.put(&path("k"), Bytes::from_static(b"x")).await.unwrap();
        let mut listing = store.list_opts(ListOptions { versions: true, ..Default::default() });
        assert_eq!(listing.next().await.unwrap().unwrap_err().kind(), ErrorKind::NotSupported);
        assert!(listing.next().await.is_none());
        let e = store.delete_opts(&path("k"), DeleteOptions::version("null")).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotSupported);
        assert!(store.head(&path("k")).await.is_ok(), "nothing was deleted");
        store.delete_opts(&path("k"), DeleteOptions::default()).await.unwrap();
        assert_eq!(store.head(&path("k")).await.unwrap_err().kind(), ErrorKind::NotFound);
    });
}

#[test]
fn a_read_can_name_an_older_version() {
    run(async {
        let Some(emu) = emulators::moto() else {
            return emulators::skip("a_read_can_name_an_older_version", "moto is not available");
        };
        let store = versioned(&emu, "aws").await;
        let key = path("ledger.csv");
        let first = store.put(&key, Bytes::from_static(b"v1")).await.unwrap();
        let second = store.put(&key, Bytes::from_static(b"v2")).await.unwrap();
        let (v1, v2) = (first.version.expect("a version id"), second.version.expect("a version id"));
        assert_ne!(v1, v2);

        let old = store.get_opts(&key, GetOptions { version: Some(v1.clone()), ..Default::default() }).await.unwrap();
        assert_eq!(old.meta.version.as_deref(), Some(v1.as_str()));
        assert_eq!(old.bytes().await.unwrap(), "v1");
        let current = store.get(&key).await.unwrap();
        assert_eq!(current.meta.version.as_deref(), Some(v2.as_str()));
        assert_eq!(current.bytes().await.unwrap(), "v2");
    });
}
