//! ferry as an OpenDAL service: OpenDAL operations over ferry's memory and local stores,
//! and the conformance suite on the round trip ferry → OpenDAL → ferry.

use std::sync::Arc;

use ferryboat_compat::{AsOpendal, FromOperator};
use ferryboat_core::layers::{FaultConfig, FaultKind, FaultStore, Hook, HookStore, Op};
use ferryboat_core::local::LocalStore;
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::{Jurisdiction, ObjectPath, ObjectStore, ObjectStoreExt, StoreInfo};
use ferryboat_testkit::suite::{Outcome, BEHAVIOURS};
use futures::future::BoxFuture;
use futures::TryStreamExt;
use opendal::{ErrorKind, Operator};

const MIB: usize = 1024 * 1024;

fn key(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap()
}

fn op(store: Arc<dyn ObjectStore>) -> Operator {
    Operator::new(AsOpendal::new(store)).unwrap()
}

/// A ferry store and the operator over it.
type Pair = (Arc<dyn ObjectStore>, Operator);

/// A memory and a local store, each with the operator over it; the directory lives as long
/// as the returned guard.
fn stores() -> (Vec<Pair>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let memory: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
    let local: Arc<dyn ObjectStore> = Arc::new(LocalStore::new(dir.path()).unwrap());
    (vec![(memory.clone(), op(memory)), (local.clone(), op(local))], dir)
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

#[tokio::test]
async fn write_read_stat_delete_reach_the_ferry_store() {
    let (stores, _dir) = stores();
    for (store, op) in stores {
        let name = store.info().provider.clone();
        op.write_with("a/b.txt", "bonjour").content_type("text/plain").await.unwrap();
        // What OpenDAL wrote, ferry reads.
        assert_eq!(store.get(&key("a/b.txt")).await.unwrap().bytes().await.unwrap(), "bonjour", "{name}");
        assert_eq!(op.read("a/b.txt").await.unwrap().to_vec(), b"bonjour", "{name}");
        assert_eq!(op.read_with("a/b.txt").range(3..5).await.unwrap().to_vec(), b"jo", "{name}");
        assert_eq!(op.read_with("a/b.txt").range(3..).await.unwrap().to_vec(), b"jour", "{name}");
        let meta = op.stat("a/b.txt").await.unwrap();
        assert!(meta.is_file(), "{name}");
        assert_eq!(meta.content_length(), 7, "{name}");
        if store.capabilities().content_type {
            assert_eq!(meta.content_type(), Some("text/plain"), "{name}");
        }
        // A directory exists while a key lies below it.
        assert!(op.stat("a/").await.unwrap().is_dir(), "{name}");
        assert_eq!(op.stat("nothing/").await.unwrap_err().kind(), ErrorKind::NotFound, "{name}");
        assert_eq!(op.stat("a/missing").await.unwrap_err().kind(), ErrorKind::NotFound, "{name}");
        assert_eq!(op.read("a/missing").await.unwrap_err().kind(), ErrorKind::NotFound, "{name}");
        op.delete("a/b.txt").await.unwrap();
        assert!(!store.exists(&key("a/b.txt")).await.unwrap(), "{name}");
        // Deleting what is not there succeeds, as OpenDAL promises.
        op.delete("a/b.txt").await.unwrap();
        assert_eq!(op.stat("a/").await.unwrap_err().kind(), ErrorKind::NotFound, "{name}");
    }
}

#[tokio::test]
async fn large_writes_stream_as_multipart_and_read_back_ranged() {
    let (stores, _dir) = stores();
    let data = pattern(20 * MIB + 123);
    for (store, op) in stores {
        let name = store.info().provider.clone();
        let mut w = op.writer("big.bin").await.unwrap();
        for chunk in data.chunks(MIB / 3) {
            w.write(chunk.to_vec()).await.unwrap();
        }
        w.close().await.unwrap();
        assert_eq!(store.head(&key("big.bin")).await.unwrap().size, data.len() as u64, "{name}");
        let back = op.read("big.bin").await.unwrap().to_vec();
        assert!(back == data, "{name}: the bytes read back differ");
        let mid = op.read_with("big.bin").range(9 * MIB as u64..9 * MIB as u64 + 10).await.unwrap().to_vec();
        assert_eq!(mid, &data[9 * MIB..9 * MIB + 10], "{name}");
        // An aborted writer leaves nothing behind.
        let mut w = op.writer("aborted.bin").await.unwrap();
        w.write(data.clone()).await.unwrap();
        w.abort().await.unwrap();
        assert!(!store.exists(&key("aborted.bin")).await.unwrap(), "{name}");
    }
}

#[tokio::test]
async fn if_not_exists_maps_to_create() {
    let (stores, _dir) = stores();
    for (store, op) in stores {
        let name = store.info().provider.clone();
        if !store.capabilities().put_if_not_exists {
            assert!(!op.info().capability().write_with_if_not_exists, "{name}");
            continue;
        }
        op.write_with("once", "first").if_not_exists(true).await.unwrap();
        let err = op.write_with("once", "second").if_not_exists(true).await.unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::ConditionNotMatch | ErrorKind::AlreadyExists), "{name}: {err}");
        assert_eq!(op.read("once").await.unwrap().to_vec(), b"first", "{name}");
    }
}

#[tokio::test]
async fn listings_come_in_ferry_order() {
    let (stores, _dir) = stores();
    let keys = ["a-c", "a/b", "a/b c/d", "a0", "b/deep/x", "z"];
    for (store, op) in stores {
        let name = store.info().provider.clone();
        for k in keys.iter().rev() {
            store.put(&key(k), "x".into()).await.unwrap();
        }
        let all: Vec<String> = op
            .lister_with("")
            .recursive(true)
            .await
            .unwrap()
            .map_ok(|e| e.path().to_string())
            .try_collect()
            .await
            .unwrap();
        assert_eq!(all, keys, "{name}");
        let level: Vec<String> = op.list("").await.unwrap().into_iter().map(|e| e.path().to_string()).collect();
        assert_eq!(level, ["a-c", "a/", "a0", "b/", "z"], "{name}");
        let under_a: Vec<String> = op.list("a/").await.unwrap().into_iter().map(|e| e.path().to_string()).collect();
        assert_eq!(under_a, ["a/b", "a/b c/"], "{name}");
        // A path not ending in `/` lists as a prefix of its directory.
        let prefixed: Vec<String> = op
            .lister_with("a")
            .recursive(true)
            .await
            .unwrap()
            .map_ok(|e| e.path().to_string())
            .try_collect()
            .await
            .unwrap();
        assert_eq!(prefixed, ["a-c", "a/b", "a/b c/d", "a0"], "{name}");
        // Batch delete through OpenDAL's deleter.
        op.delete_iter(keys.iter().copied()).await.unwrap();
        let left: Vec<ObjectPath> = store.list(None).map_ok(|m| m.path).try_collect().await.unwrap();
        assert!(left.is_empty(), "{name}: {left:?}");
    }
}

#[tokio::test]
async fn copy_and_rename_follow_the_store_capabilities() {
    let (stores, _dir) = stores();
    for (store, op) in stores {
        let name = store.info().provider.clone();
        let caps = store.capabilities().clone();
        op.write("src", "data").await.unwrap();
        let copied = op.copy("src", "dst").await;
        if caps.copy {
            copied.unwrap();
            assert_eq!(store.get(&key("dst")).await.unwrap().bytes().await.unwrap(), "data", "{name}");
        } else {
            assert_eq!(copied.unwrap_err().kind(), ErrorKind::Unsupported, "{name}");
        }
        let renamed = op.rename("src", "moved").await;
        if caps.rename {
            renamed.unwrap();
            assert!(!store.exists(&key("src")).await.unwrap(), "{name}");
            assert!(store.exists(&key("moved")).await.unwrap(), "{name}");
        } else {
            assert_eq!(renamed.unwrap_err().kind(), ErrorKind::Unsupported, "{name}");
        }
    }
}

/// Behaviours the round trip ferry → OpenDAL → ferry cannot keep, each with why. Empty:
/// over ferry's memory and local stores every behaviour of the suite holds through OpenDAL.
const NOT_THROUGH_OPENDAL: &[(&str, &str)] = &[];

#[tokio::test(flavor = "multi_thread")]
async fn conformance_suite_on_the_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let memory: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
    let local: Arc<dyn ObjectStore> = Arc::new(LocalStore::new(dir.path()).unwrap());
    for inner in [memory, local] {
        let name = format!("ferry {} through OpenDAL", inner.info().provider);
        let info = StoreInfo::new(name.clone(), name.clone(), Jurisdiction::Other("TEST".into()));
        // ferry lists in key order, so the round trip may trust OpenDAL's recursive listing.
        let round_trip: Arc<dyn ObjectStore> =
            Arc::new(FromOperator::new(op(inner)).with_sorted_listing(true).with_info(info));
        let skip: Vec<&str> = NOT_THROUGH_OPENDAL.iter().map(|(b, _)| *b).collect();
        let report = ferryboat_testkit::suite::run_except(&round_trip, &skip).await;
        report.assert_passed();
        // Not merely "no failure": every behaviour ran, none was left out for a capability
        // lost on the way through OpenDAL.
        for (behaviour, result) in &report.results {
            if *behaviour == "versions" {
                // Memory and local keep no versions: the behaviour checks the refusals and
                // reports "not run", through OpenDAL as on the stores themselves.
                assert!(matches!(result, Ok(Outcome::NotRun(_))), "{name}: {behaviour}: {result:?}");
                continue;
            }
            assert_eq!(result, &Ok(Outcome::Passed), "{name}: {behaviour}");
        }
        assert_eq!(report.results.len() + skip.len(), BEHAVIOURS.len(), "{name}");
    }
}

#[tokio::test]
async fn ferry_errors_keep_their_kind_and_retryability() {
    let (stores, _dir) = stores();
    for (store, op) in stores {
        let name = store.info().provider.clone();
        op.write("k", "v1").await.unwrap();
        if store.capabilities().put_if_match {
            let err = op.write_with("k", "v2").if_match("\"not-the-etag\"").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConditionNotMatch, "{name}: {err}");
            assert!(!err.is_temporary(), "{name}");
        }
        let err = op.read_with("k").range(10..20).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RangeNotSatisfied, "{name}: {err}");
        // A ferry layer under the service: its transient failures reach OpenDAL as temporary.
        let faulty: Arc<dyn ObjectStore> = Arc::new(FaultStore::new(
            store.clone(),
            FaultConfig { rate: 1.0, kinds: vec![FaultKind::ServerError], seed: 7 },
        ));
        let err = self::op(faulty).stat("k").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unexpected, "{name}: {err}");
        assert!(err.is_temporary(), "{name}: {err}");
    }
}

/// Records the requests that reach the ferry store: name and payload size.
#[derive(Debug, Default, Clone)]
struct Recorder(Arc<std::sync::Mutex<Vec<(&'static str, u64)>>>);

impl Hook for Recorder {
    fn around<'a, T: Send + 'a>(
        &'a self,
        _: &'a StoreInfo,
        op: Op<'a>,
        request: BoxFuture<'a, ferryboat_core::Result<T>>,
    ) -> BoxFuture<'a, ferryboat_core::Result<T>> {
        self.0.lock().unwrap().push((op.name, op.bytes));
        request
    }
}

#[tokio::test]
async fn writes_send_bounded_parts_and_small_objects_in_one_request() {
    let recorder = Recorder::default();
    let store: Arc<dyn ObjectStore> = Arc::new(HookStore::new(Arc::new(MemoryStore::new()), recorder.clone()));
    let op = op(store);
    let data = pattern(20 * MIB + 5);
    let mut w = op.writer("big").await.unwrap();
    for chunk in data.chunks(MIB) {
        w.write(chunk.to_vec()).await.unwrap();
    }
    w.close().await.unwrap();
    let seen = std::mem::take(&mut *recorder.0.lock().unwrap());
    let parts: Vec<u64> = seen.iter().filter(|(n, _)| *n == "put_part").map(|(_, b)| *b).collect();
    // 8 MiB parts, the rest last: the writer never held more than one part.
    assert_eq!(parts, [8 * MIB as u64, 8 * MIB as u64, 4 * MIB as u64 + 5], "{seen:?}");
    assert!(seen.iter().any(|(n, _)| *n == "complete"), "{seen:?}");
    assert!(!seen.iter().any(|(n, _)| *n == "put"), "{seen:?}");

    op.write("small", "tiny").await.unwrap();
    let seen = std::mem::take(&mut *recorder.0.lock().unwrap());
    let writes: Vec<_> = seen.iter().filter(|(_, b)| *b > 0).collect();
    assert_eq!(writes, [&("put", 4)], "{seen:?}");
}

#[tokio::test]
async fn a_builder_without_a_store_is_a_config_error() {
    let err = Operator::new(AsOpendal::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConfigInvalid, "{err}");
}

/// An S3 store on a fresh bucket of moto (127.0.0.1), or `None` with the skip printed.
async fn moto_store(test: &str) -> Option<Arc<dyn ObjectStore>> {
    let Some(emu) = ferryboat_testkit::emulators::moto() else {
        ferryboat_testkit::emulators::skip(test, "moto is not available");
        return None;
    };
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let bucket = format!("ferry-to-opendal-{}-{nanos}", std::process::id());
    // moto evaluates conditional writes atomically.
    let quirks = ferryboat_providers::Quirks {
        put_if_none_match: true,
        put_if_match: true,
        ..ferryboat_providers::Quirks::default()
    };
    let config = ferryboat_s3::S3Config::new(&bucket)
        .with_provider("generic")
        .with_region(&emu.region)
        .with_endpoint(&emu.endpoint)
        .with_path_style(true)
        .with_quirks(quirks)
        .with_credentials(ferryboat_s3::Credentials::new(&emu.access_key, &emu.secret_key));
    let store = ferryboat_s3::S3Store::new(config).expect("store");
    store.create_bucket().await.expect("create bucket");
    Some(Arc::new(store))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_on_moto_through_opendal() {
    let Some(store) = moto_store("s3_on_moto_through_opendal").await else { return };
    let op = op(store.clone());
    let data = pattern(9 * MIB);
    op.write_with("dir/obj", data.clone()).content_type("application/x-test").await.unwrap();
    assert_eq!(store.head(&key("dir/obj")).await.unwrap().size, data.len() as u64);
    assert_eq!(op.read_with("dir/obj").range(MIB as u64..MIB as u64 + 7).await.unwrap().to_vec(), &data[MIB..MIB + 7]);
    assert_eq!(op.stat("dir/obj").await.unwrap().content_type(), Some("application/x-test"));
    assert!(op.stat("dir/").await.unwrap().is_dir());
    let level: Vec<String> = op.list("").await.unwrap().into_iter().map(|e| e.path().to_string()).collect();
    assert_eq!(level, ["dir/"]);
    op.delete("dir/obj").await.unwrap();
    assert_eq!(op.stat("dir/obj").await.unwrap_err().kind(), ErrorKind::NotFound);

    let name = "ferry s3 (moto) through OpenDAL".to_string();
    let info = StoreInfo::new(name.clone(), name.clone(), Jurisdiction::Other("TEST".into()));
    let round_trip: Arc<dyn ObjectStore> =
        Arc::new(FromOperator::new(self::op(store.clone())).with_sorted_listing(true).with_info(info));
    let report = ferryboat_testkit::suite::run_except(&round_trip, &[]).await;
    report.assert_passed();
    // What moto itself leaves out (by the store's capabilities), the round trip may too;
    // nothing more.
    let direct = ferryboat_testkit::suite::run_except(&store, &[]).await;
    direct.assert_passed();
    assert_eq!(report.results, direct.results, "{name}: outcomes differ from the S3 store's own");
}
