//! Server-side copies between two stores of one endpoint, on real servers: two prefixes of
//! one bucket and two buckets, on moto, s3s-fs and fake-gcs-server (and memory). The body is
//! never read (every request to either store is counted), a changed object is copied again,
//! and the recorded hash and metadata arrive with the object.

#![cfg(all(feature = "mirror", feature = "s3", feature = "gcs", feature = "azure"))]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ferryboat::layers::{Hook, HookStore, Op};
use ferryboat::memory::MemoryStore;
use ferryboat::mirror::{Mirror, MirrorOptions, META_SHA256};
use ferryboat::prefix::PrefixStore;
use ferryboat::{ObjectPath, ObjectStore, ObjectStoreExt, PutOptions, Result, StoreInfo};
use ferryboat_testkit::emulators::{self, skip};
use futures::future::BoxFuture;

/// Counts every request by operation name.
#[derive(Debug, Default)]
struct Count(Mutex<BTreeMap<&'static str, u64>>);

impl Count {
    fn get(&self, name: &str) -> u64 {
        self.0.lock().unwrap().get(name).copied().unwrap_or(0)
    }
    fn reset(&self) {
        self.0.lock().unwrap().clear();
    }
}

impl Hook for Count {
    fn around<'a, T: Send + 'a>(
        &'a self,
        _store: &'a StoreInfo,
        op: Op<'a>,
        request: BoxFuture<'a, Result<T>>,
    ) -> BoxFuture<'a, Result<T>> {
        *self.0.lock().unwrap().entry(op.name).or_default() += 1;
        request
    }
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

fn body(len: usize, seed: u8) -> Bytes {
    (0..len).map(|i| (i as u8).wrapping_mul(17).wrapping_add(seed)).collect::<Vec<u8>>().into()
}

/// Seeds `src` with three objects (one recording its hash as ferry does), mirrors it to
/// `dst` and checks that only server-side copies happened, then changes one object and
/// mirrors again.
async fn check(name: &str, src: Arc<dyn ObjectStore>, dst: Arc<dyn ObjectStore>) {
    let keys = ["a.txt", "dir/b.bin", "dir/c d.txt"];
    for (i, k) in keys.iter().enumerate() {
        let data = body(1000 + i * 4096, i as u8);
        let mut opts = PutOptions { content_type: Some("text/plain".into()), ..Default::default() };
        opts.metadata.insert("owner".into(), format!("o{i}"));
        opts.metadata.insert(META_SHA256.into(), sha256_hex(&data));
        opts.attributes.cache_control = Some("max-age=60".into());
        src.put_opts(&ObjectPath::parse(*k).unwrap(), data, opts).await.unwrap();
    }
    let counted_src = Arc::new(HookStore::new(src.clone(), Count::default()));
    let counted_dst = Arc::new(HookStore::new(dst.clone(), Count::default()));
    let (sc, dc) = (counted_src.hook(), counted_dst.hook());
    let src_view: Arc<dyn ObjectStore> = counted_src.clone();
    let dst_view: Arc<dyn ObjectStore> = counted_dst.clone();

    let plan = Mirror::new(src_view.clone(), dst_view.clone(), MirrorOptions::default().dry_run(true)).run().await;
    let plan = plan.unwrap();
    assert_eq!(plan.copied, 3, "{name}: {plan}");
    assert_eq!(plan.server_side_copies, 3, "{name}: {plan}");
    assert_eq!(plan.egress_bytes, 0, "{name}: a dry run of server-side copies reads nothing: {plan}");

    let report = Mirror::new(src_view.clone(), dst_view.clone(), MirrorOptions::default()).run().await.unwrap();
    assert!(report.in_sync, "{name}: {report}");
    assert_eq!(report.server_side_copies, 3, "{name}: {report}");
    assert_eq!(report.egress_bytes, 0, "{name}: {report}");
    assert_eq!(sc.get("get"), 0, "{name}: the source body was read");
    assert_eq!(dc.get("get"), 0, "{name}: the destination body was read");
    assert_eq!(dc.get("put") + dc.get("put_multipart"), 0, "{name}: bytes were uploaded");
    assert_eq!(dc.get("copy_from"), 3, "{name}: one copy request per object");
    for (i, k) in keys.iter().enumerate() {
        let path = ObjectPath::parse(*k).unwrap();
        let got = dst.get(&path).await.unwrap();
        let meta = got.meta.clone();
        let data = got.bytes().await.unwrap();
        assert_eq!(data, body(1000 + i * 4096, i as u8), "{name}: {k} bytes");
        assert_eq!(meta.metadata.get(META_SHA256), Some(&sha256_hex(&data)), "{name}: {k} hash record");
        assert_eq!(meta.metadata.get("owner").map(String::as_str), Some(format!("o{i}").as_str()), "{name}: {k}");
        assert_eq!(meta.content_type.as_deref(), Some("text/plain"), "{name}: {k}");
        assert_eq!(meta.attributes.cache_control.as_deref(), Some("max-age=60"), "{name}: {k}");
    }

    // A changed object is copied again (not onto itself), still without a body read.
    let changed = ObjectPath::parse("dir/b.bin").unwrap();
    let new = body(7777, 42);
    let mut opts = PutOptions::default();
    opts.metadata.insert(META_SHA256.into(), sha256_hex(&new));
    src.put_opts(&changed, new.clone(), opts).await.unwrap();
    sc.reset();
    dc.reset();
    let again = Mirror::new(src_view, dst_view, MirrorOptions::default()).run().await.unwrap();
    assert!(again.in_sync, "{name}: {again}");
    assert_eq!((again.copied, again.server_side_copies), (1, 1), "{name}: {again}");
    assert_eq!(sc.get("get") + dc.get("get"), 0, "{name}: a body was read");
    assert_eq!(dst.get(&changed).await.unwrap().bytes().await.unwrap(), new, "{name}: changed bytes");
    let head = dst.head(&changed).await.unwrap();
    assert_eq!(head.metadata.get(META_SHA256), Some(&sha256_hex(&new)), "{name}: new hash record");
    // The other objects were left alone, and the source still holds its own.
    assert_eq!(src.get(&changed).await.unwrap().bytes().await.unwrap(), new);
}

fn view(store: Arc<dyn ObjectStore>, prefix: &str) -> Arc<dyn ObjectStore> {
    Arc::new(PrefixStore::new(store, ObjectPath::parse(prefix).unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_prefixes_and_buckets() {
    for emu in [emulators::moto(), emulators::s3s()] {
        let Some(emu) = emu else {
            return skip("s3_prefixes_and_buckets", "moto and s3s-fs are needed");
        };
        let (_, one) = common::s3_bucket(&emu, "ssc").await;
        let one: Arc<dyn ObjectStore> = one;
        check(&format!("{} prefixes", emu.name), view(one.clone(), "from"), view(one.clone(), "to")).await;
        let (_, other) = common::s3_bucket(&emu, "ssc2").await;
        check(&format!("{} buckets", emu.name), view(one, "src2"), other).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcs_prefixes_and_buckets() {
    let Some(gcs) = emulators::fake_gcs() else {
        return skip("gcs_prefixes_and_buckets", "fake-gcs-server is needed");
    };
    let open = |b: &str| format!("gs://{b}?endpoint={}", gcs.endpoint);
    let (a, b) = (common::unique("ssc"), common::unique("ssc2"));
    common::create_gcs_bucket(&gcs.endpoint, &a);
    common::create_gcs_bucket(&gcs.endpoint, &b);
    let one = ferryboat::open(&open(&a)).await.unwrap();
    check("gcs prefixes", view(one.clone(), "from"), view(one.clone(), "to")).await;
    let other = ferryboat::open(&open(&b)).await.unwrap();
    check("gcs buckets", view(one, "src2"), other).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_prefixes_and_containers() {
    use ferryboat::azure::{AzureConfig, AzureStore};
    let Some(emu) = emulators::azurite() else {
        return skip("azure_prefixes_and_containers", "Azurite is needed");
    };
    let open = |c: &str| {
        AzureStore::new(AzureConfig::new(&emu.account, c).with_endpoint(&emu.endpoint).with_access_key(&emu.key))
            .unwrap()
    };
    let (a, b) = (open(&common::unique("ssc")), open(&common::unique("ssc2")));
    a.create_container().await.unwrap();
    b.create_container().await.unwrap();
    let one: Arc<dyn ObjectStore> = Arc::new(a);
    check("azure prefixes", view(one.clone(), "from"), view(one.clone(), "to")).await;
    check("azure containers", view(one, "src2"), Arc::new(b)).await;
}

#[tokio::test]
async fn memory_prefixes() {
    let one: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
    check("memory prefixes", view(one.clone(), "from"), view(one, "to")).await;
}

#[tokio::test]
async fn stores_on_different_endpoints_stream() {
    // Two memory stores are two places: the mirror streams, and says so.
    let (src, dst): (Arc<dyn ObjectStore>, Arc<dyn ObjectStore>) =
        (Arc::new(MemoryStore::new()), Arc::new(MemoryStore::new()));
    src.put(&ObjectPath::parse("k").unwrap(), body(10, 1)).await.unwrap();
    let plan = Mirror::new(src.clone(), dst.clone(), MirrorOptions::default().dry_run(true)).run().await.unwrap();
    assert_eq!((plan.server_side_copies, plan.egress_bytes), (0, 10), "{plan}");
    let report = Mirror::new(src, dst.clone(), MirrorOptions::default()).run().await.unwrap();
    assert_eq!((report.copied, report.server_side_copies, report.egress_bytes), (1, 0, 10), "{report}");
}
