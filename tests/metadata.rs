//! Metadata survives: content type, user metadata, Content-Disposition, Content-Encoding,
//! Content-Language, Cache-Control and storage class, on every backend (single put and
//! multipart, read back by `head`, `get` and, where listed, the listing) and across a mirror
//! S3 → Azure → GCS → S3 → local, on the emulators. A gzip body comes back as stored.

#![cfg(all(feature = "mirror", feature = "s3", feature = "azure", feature = "gcs"))]

mod common;

use std::sync::Arc;

use bytes::Bytes;
use ferryboat::azure::{AzureConfig, AzureStore};
use ferryboat::memory::MemoryStore;
use ferryboat::mirror::{Mirror, MirrorOptions, VerifyMode};
use ferryboat::{Attributes, ObjectMeta, ObjectPath, ObjectStore, ObjectStoreExt, PutOptions, UploadConfig};
use ferryboat_testkit::emulators::{self, skip};
use futures::{StreamExt, TryStreamExt};

/// `hello` gzip-compressed (a stored deflate block): a client that decompressed on the way
/// would hand back 5 bytes instead of these 30.
const HELLO_GZ: &[u8] = &[
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x01, 0x05, 0x00, 0xfa, 0xff, b'h', b'e', b'l', b'l',
    b'o', 0x86, 0xa6, 0x10, 0x36, 0x05, 0x00, 0x00, 0x00,
];

fn attributes() -> Attributes {
    Attributes {
        content_disposition: Some("attachment; filename=\"report.txt\"".into()),
        content_encoding: Some("gzip".into()),
        content_language: Some("fr-CH".into()),
        cache_control: Some("max-age=3600".into()),
    }
}

fn options(storage_class: Option<&str>) -> PutOptions {
    let mut opts = PutOptions {
        content_type: Some("text/plain; charset=utf-8".into()),
        attributes: attributes(),
        storage_class: storage_class.map(str::to_string),
        ..Default::default()
    };
    opts.metadata.insert("MixedCase".into(), "Value 1".into());
    opts.metadata.insert("lower".into(), "v2".into());
    opts
}

/// How a backend spells what it returns.
struct Expect {
    /// Metadata names lower-cased (S3).
    lower_names: bool,
    /// The storage class read back, if the backend reports it.
    storage_class: Option<&'static str>,
}

impl Expect {
    fn class(&self, storage_class: Option<&'static str>) -> Expect {
        Expect { lower_names: self.lower_names, storage_class }
    }
}

fn check_meta(name: &str, meta: &ObjectMeta, e: &Expect) {
    assert_eq!(meta.content_type.as_deref(), Some("text/plain; charset=utf-8"), "{name}: content type");
    assert_eq!(meta.attributes, attributes(), "{name}: attributes");
    let mixed = if e.lower_names { "mixedcase" } else { "MixedCase" };
    assert_eq!(meta.metadata.get(mixed).map(String::as_str), Some("Value 1"), "{name}: {:?}", meta.metadata);
    assert_eq!(meta.metadata.get("lower").map(String::as_str), Some("v2"), "{name}: {:?}", meta.metadata);
    assert_eq!(meta.storage_class.as_deref(), e.storage_class, "{name}: storage class");
}

fn big() -> Bytes {
    let mut v = HELLO_GZ.to_vec();
    v.resize(6 << 20, 7);
    v.into()
}

/// `multi_class`: the storage class a multipart upload reads back with, where it differs.
async fn round_trip(
    name: &str,
    store: &dyn ObjectStore,
    class: Option<&str>,
    e: Expect,
    multi_class: Option<&'static str>,
) {
    let single = ObjectPath::parse("meta/single.txt.gz").unwrap();
    store.put_opts(&single, Bytes::from_static(HELLO_GZ), options(class)).await.unwrap();
    let multi = ObjectPath::parse("meta/multi.bin").unwrap();
    let config = two_parts();
    let stream =
        futures::stream::iter(big().chunks(1 << 20).map(|c| Ok(Bytes::copy_from_slice(c))).collect::<Vec<_>>());
    store.put_stream(&multi, stream.boxed(), options(class), config).await.unwrap();

    let multi_e = e.class(multi_class.or(e.storage_class));
    for (path, data, e) in [(&single, Bytes::from_static(HELLO_GZ), &e), (&multi, big(), &multi_e)] {
        check_meta(&format!("{name} head {path}"), &store.head(path).await.unwrap(), e);
        let got = store.get(path).await.unwrap();
        check_meta(&format!("{name} get {path}"), &got.meta, e);
        assert!(got.bytes().await.unwrap() == data, "{name}: {path} body not byte-identical (decompressed?)");
    }
}

fn azure(emu: &emulators::AzuriteEmulator, container: &str) -> AzureStore {
    AzureStore::new(AzureConfig::new(&emu.account, container).with_endpoint(&emu.endpoint).with_access_key(&emu.key))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_backend_keeps_metadata() {
    let test = "every_backend_keeps_metadata";
    let (Some(moto), Some(s3s), Some(azurite), Some(gcs)) =
        (emulators::moto(), emulators::s3s(), emulators::azurite(), emulators::fake_gcs())
    else {
        return skip(test, "moto, s3s-fs, Azurite and fake-gcs-server are all needed");
    };
    round_trip(
        "memory",
        &MemoryStore::new(),
        Some("COLD"),
        Expect { lower_names: false, storage_class: Some("COLD") },
        None,
    )
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let local = ferryboat::open(&tmp.path().display().to_string()).await.unwrap();
    round_trip("local", local.as_ref(), Some("COLD"), Expect { lower_names: false, storage_class: Some("COLD") }, None)
        .await;
    let (_, m) = common::s3_bucket(&moto, "meta").await;
    round_trip(
        "moto",
        m.as_ref(),
        Some("STANDARD_IA"),
        Expect { lower_names: true, storage_class: Some("STANDARD_IA") },
        None,
    )
    .await;
    // Listings carry the storage class on S3.
    let listed: Vec<ObjectMeta> = m.list(None).try_collect().await.unwrap();
    assert!(listed.iter().all(|l| l.storage_class.as_deref() == Some("STANDARD_IA")), "moto listing: {listed:?}");
    let (_, s) = common::s3_bucket(&s3s, "meta").await;
    round_trip("s3s-fs", s.as_ref(), None, Expect { lower_names: true, storage_class: None }, None).await;
    let container = common::unique("meta");
    let az = azure(&azurite, &container);
    az.create_container().await.unwrap();
    // Azure keeps the case, but metadata travels as HTTP header names, which the HTTP client
    // reads lower-cased.
    round_trip("azurite", &az, None, Expect { lower_names: true, storage_class: None }, None).await;
    let bucket = common::unique("meta");
    common::create_gcs_bucket(&gcs.endpoint, &bucket);
    let gs = ferryboat::open(&format!("gs://{bucket}?endpoint={}", gcs.endpoint)).await.unwrap();
    round_trip(
        "fake-gcs",
        gs.as_ref(),
        Some("NEARLINE"),
        Expect { lower_names: false, storage_class: Some("NEARLINE") },
        // fake-gcs-server leaves a composed object in the default class (GCS applies the
        // destination's class on compose).
        Some("STANDARD"),
    )
    .await;
    let listed: Vec<ObjectMeta> = gs.list(None).try_collect().await.unwrap();
    for l in &listed {
        let class = if l.path.as_str().ends_with("multi.bin") { "STANDARD" } else { "NEARLINE" };
        check_meta(
            &format!("fake-gcs listing {}", l.path),
            l,
            &Expect { lower_names: false, storage_class: Some(class) },
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mirror_carries_metadata_across_providers() {
    let test = "mirror_carries_metadata_across_providers";
    let (Some(moto), Some(azurite), Some(gcs)) = (emulators::moto(), emulators::azurite(), emulators::fake_gcs())
    else {
        return skip(test, "moto, Azurite and fake-gcs-server are all needed");
    };
    let (_, s3a) = common::s3_bucket(&moto, "mm").await;
    let (_, s3b) = common::s3_bucket(&moto, "mm2").await;
    let container = common::unique("mm");
    let az = azure(&azurite, &container);
    az.create_container().await.unwrap();
    let bucket = common::unique("mm");
    common::create_gcs_bucket(&gcs.endpoint, &bucket);
    let gs = ferryboat::open(&format!("gs://{bucket}?endpoint={}", gcs.endpoint)).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let local = ferryboat::open(&tmp.path().display().to_string()).await.unwrap();

    // S3 lower-cases metadata names, so from the first hop on they are lower case.
    let single = ObjectPath::parse("single.txt.gz").unwrap();
    let multi = ObjectPath::parse("big/multi.bin").unwrap();
    s3a.put_opts(&single, Bytes::from_static(HELLO_GZ), options(None)).await.unwrap();
    let config = two_parts();
    let stream = futures::stream::iter(vec![Ok(big())]).boxed();
    s3a.put_stream(&multi, stream, options(None), config).await.unwrap();

    let hops: Vec<(&str, Arc<dyn ObjectStore>)> =
        vec![("s3", s3a), ("azure", Arc::new(az)), ("gcs", gs), ("s3 again", s3b), ("local", local)];
    let opts = MirrorOptions::default().part_size(5 << 20).verify(VerifyMode::Hash);
    for pair in hops.windows(2) {
        let ((from, src), (to, dst)) = (&pair[0], &pair[1]);
        // GCS reports its default class; `STANDARD` is every provider's default, so it is
        // neither carried to another provider nor reported as lost.
        let expect = Expect { lower_names: true, storage_class: (*to == "gcs").then_some("STANDARD") };
        let report = Mirror::new(src.clone(), dst.clone(), opts.clone()).run().await.unwrap();
        assert!(report.in_sync, "{from} -> {to}: {report}");
        assert_eq!(report.copied, 2, "{from} -> {to}: {report}");
        assert_eq!(report.not_carried_count, 0, "{from} -> {to}: {report}");
        for (path, data) in [(&single, Bytes::from_static(HELLO_GZ)), (&multi, big())] {
            let got = dst.get(path).await.unwrap();
            check_meta(&format!("{from} -> {to}: {path}"), &got.meta, &expect);
            assert!(got.bytes().await.unwrap() == data, "{from} -> {to}: {path} bytes");
        }
    }
}

#[tokio::test]
async fn what_a_destination_cannot_store_is_reported() {
    // A destination that keeps neither attributes nor storage classes: each one left behind
    // is a warning naming key and attribute, and the run still copies the bytes.
    let src: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
    let mut caps = MemoryStore::new().capabilities().clone();
    caps.attributes = ferryboat::AttributeSupport { content_language: false, ..ferryboat::AttributeSupport::ALL };
    caps.storage_class = false;
    let dst: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new().with_capabilities(caps));
    for k in ["a", "b"] {
        src.put_opts(&ObjectPath::parse(k).unwrap(), Bytes::from_static(HELLO_GZ), options(Some("COLD")))
            .await
            .unwrap();
    }
    let report = Mirror::new(src, dst.clone(), MirrorOptions::default()).run().await.unwrap();
    assert!(report.in_sync, "{report}");
    assert_eq!(report.not_carried_count, 4, "{report}");
    let pairs: Vec<(&str, &str)> = report.not_carried.iter().map(|n| (n.key.as_str(), n.attribute.as_str())).collect();
    assert_eq!(
        pairs,
        [("a", "content-language"), ("a", "storage-class"), ("b", "content-language"), ("b", "storage-class")]
    );
    assert!(report.to_string().contains("content-language not carried"), "{report}");
    let head = dst.head(&ObjectPath::parse("a").unwrap()).await.unwrap();
    assert_eq!(head.attributes.content_language, None);
    assert_eq!(head.attributes.content_encoding.as_deref(), Some("gzip"));
}

/// An upload of 6 MiB in two parts, each sent once.
fn two_parts() -> UploadConfig {
    UploadConfig {
        part_size: 5 << 20,
        concurrency: 2,
        expected_size: Some(6 << 20),
        part_attempts: 1,
        ..UploadConfig::default()
    }
}
