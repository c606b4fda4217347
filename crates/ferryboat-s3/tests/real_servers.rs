//! The conformance suite against real S3 servers on 127.0.0.1 (Ceph RGW, SeaweedFS, Swift), each
//! under its own catalogue profile, and one test per quirk of those profiles: each shows the
//! server really behaves that way and that the store copes.

mod support;

use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use ferryboat_core::{
    Error, ErrorKind, ObjectPath, ObjectStore, ObjectStoreExt, PutMode, PutOptions, UpdateVersion, UploadConfig,
};
use ferryboat_providers::Quirks;
use ferryboat_s3::S3Store;
use ferryboat_testkit::emulators::{self, S3Emulator};
use ferryboat_testkit::proxy::{ProxyConfig, WanProxy};
use futures::stream::{self, StreamExt, TryStreamExt};
use support::{config, fresh_bucket, open, Recorder};

const MIB: usize = 1024 * 1024;

/// One runtime for every test here: the S3 stores share one connection pool per process,
/// and a connection opened on a test's own runtime dies with it, failing the next test that
/// picks it from the pool ("runtime dropped the dispatch task").
fn run(test: impl std::future::Future<Output = ()>) {
    static RUNTIME: std::sync::LazyLock<tokio::runtime::Runtime> = std::sync::LazyLock::new(|| {
        tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().expect("runtime")
    });
    RUNTIME.block_on(test);
}

fn profile(id: &str) -> Quirks {
    ferryboat_providers::catalogue().get(id).expect("catalogue profile").quirks.clone()
}

async fn store_on(emu: &S3Emulator, id: &str, quirks: Quirks, recorder: Option<Recorder>) -> S3Store {
    let mut cfg = config(emu, &fresh_bucket(id), id, quirks);
    if let Some(r) = recorder {
        cfg = cfg.with_interceptor(r);
    }
    open(emu, cfg).await
}

fn path(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap()
}

fn ceph(test: &str) -> Option<S3Emulator> {
    let emu = emulators::ceph_rgw();
    if emu.is_none() {
        emulators::skip(test, "Ceph RGW is not running (FERRY_TEST_CEPH; scripts/test starts it)");
    }
    emu
}

fn seaweedfs(test: &str) -> Option<S3Emulator> {
    let emu = emulators::seaweedfs();
    if emu.is_none() {
        emulators::skip(test, "SeaweedFS is not running (FERRY_TEST_SEAWEEDFS; scripts/test starts it)");
    }
    emu
}

#[test]
fn conformance_ceph_rgw() {
    run(async {
        let Some(emu) = ceph("conformance_ceph_rgw") else { return };
        let store: Arc<dyn ObjectStore> = Arc::new(store_on(&emu, "ceph", profile("ceph"), None).await);
        assert!(store.capabilities().put_if_not_exists && store.capabilities().put_if_match);
        ferryboat_testkit::suite::run_all(&store).await;
    });
}

#[test]
fn conformance_seaweedfs() {
    run(async {
        let Some(emu) = seaweedfs("conformance_seaweedfs") else { return };
        let store: Arc<dyn ObjectStore> = Arc::new(store_on(&emu, "seaweedfs", profile("seaweedfs"), None).await);
        assert!(store.capabilities().put_if_not_exists && store.capabilities().put_if_match);
        ferryboat_testkit::suite::run_all(&store).await;
    });
}

/// Ceph answers CompleteMultipartUpload with `<ETag></ETag>`: the raw SDK call shows it, and
/// the store reads the etag from a HEAD instead, which is the `md5-of-parts-N` one.
#[test]
fn ceph_multipart_etag_comes_from_a_head() {
    run(async {
        let Some(emu) = ceph("ceph_multipart_etag_comes_from_a_head") else { return };
        let recorder = Recorder::default();
        let store = store_on(&emu, "ceph", profile("ceph"), Some(recorder.clone())).await;
        let (c, b) = (store.client(), store.bucket());
        let part = Bytes::from(vec![7u8; 5 * MIB]);

        // The server's answer, without ferry.
        let id = c.create_multipart_upload().bucket(b).key("raw").send().await.unwrap().upload_id.unwrap();
        let up = c
            .upload_part()
            .bucket(b)
            .key("raw")
            .upload_id(&id)
            .part_number(1)
            .body(ByteStream::from(part.clone()))
            .send()
            .await
            .unwrap();
        let done = CompletedMultipartUpload::builder()
            .parts(CompletedPart::builder().part_number(1).set_e_tag(up.e_tag).build())
            .build();
        let out = c
            .complete_multipart_upload()
            .bucket(b)
            .key("raw")
            .upload_id(&id)
            .multipart_upload(done)
            .send()
            .await
            .unwrap();
        assert!(
            out.e_tag().unwrap_or_default().is_empty(),
            "Ceph now returns an etag ({:?}): drop the HEAD",
            out.e_tag()
        );

        // Through the store.
        let key = path("mp/object");
        let upload = store.put_multipart(&key).await.unwrap();
        let p1 = upload.put_part(1, part.clone()).await.unwrap();
        let p2 = upload.put_part(2, Bytes::from_static(b"tail")).await.unwrap();
        let put = upload.complete(vec![p1, p2]).await.unwrap();
        let etag = put.etag.expect("an etag from the HEAD");
        assert!(etag.ends_with("-2"), "{etag}");
        assert_eq!(store.head(&key).await.unwrap().etag.as_deref(), Some(etag.as_str()));
        let ops: Vec<String> = recorder.requests().into_iter().map(|s| s.operation).collect();
        let completed = ops.iter().rposition(|o| o == "CompleteMultipartUpload").unwrap();
        assert_eq!(ops.get(completed + 1).map(String::as_str), Some("HeadObject"), "{ops:?}");
    });
}

/// Ceph compares a PutObject's If-Match with the bare etag: the quoted one HTTP specifies
/// never matches there. Under the `ceph` profile the swap works; without the quirk it fails.
#[test]
fn ceph_if_match_takes_the_bare_etag() {
    run(async {
        let Some(emu) = ceph("ceph_if_match_takes_the_bare_etag") else { return };
        let quoted = Quirks { put_if_match_bare_etag: false, ..profile("ceph") };
        for (quirks, works) in [(profile("ceph"), true), (quoted, false)] {
            let store = store_on(&emu, "ceph", quirks, None).await;
            let key = path("cas");
            let first = store.put(&key, Bytes::from_static(b"one")).await.unwrap();
            let swap = UpdateVersion { etag: first.etag.clone(), version: None };
            let got = store.put_opts(&key, Bytes::from_static(b"two"), PutMode::Update(swap).into()).await;
            let now = store.get(&key).await.unwrap().bytes().await.unwrap();
            if works {
                got.unwrap();
                assert_eq!(now, "two");
            } else {
                assert_eq!(got.unwrap_err().kind(), ErrorKind::Precondition, "a quoted If-Match on Ceph");
                assert_eq!(now, "one");
            }
        }
    });
}

/// Ceph ignores If-None-Match on CompleteMultipartUpload and overwrites: shown with the quirk
/// switched off. Under the `ceph` profile a create-only multipart upload is refused up front
/// and the object stays; small create-only puts stay atomic.
#[test]
fn ceph_conditional_multipart_is_refused() {
    run(async {
        let Some(emu) = ceph("ceph_conditional_multipart_is_refused") else { return };
        let key = path("exists");
        let trusting = store_on(&emu, "ceph", Quirks { multipart_conditions: true, ..profile("ceph") }, None).await;
        trusting.put(&key, Bytes::from_static(b"before")).await.unwrap();
        let upload = trusting.put_multipart_opts(&key, PutMode::Create.into()).await.unwrap();
        let part = upload.put_part(1, Bytes::from_static(b"after")).await.unwrap();
        upload.complete(vec![part]).await.expect("Ceph completes a create-only upload over an object");
        assert_eq!(trusting.get(&key).await.unwrap().bytes().await.unwrap(), "after", "Ceph overwrote it");

        let store = store_on(&emu, "ceph", profile("ceph"), None).await;
        store.put(&key, Bytes::from_static(b"before")).await.unwrap();
        let refused = store.put_multipart_opts(&key, PutMode::Create.into()).await.map(|_| ());
        assert!(matches!(refused, Err(Error::NotSupported { .. })), "{refused:?}");
        let big = Bytes::from(vec![1u8; 6 * MIB]);
        let config = UploadConfig { part_size: 5 * MIB as u64, ..UploadConfig::default() };
        let streamed = store
            .put_stream(
                &key,
                stream::iter([Ok(big.clone()), Ok(big)]).boxed(),
                PutOptions::mode(PutMode::Create),
                config,
            )
            .await;
        assert!(streamed.is_err(), "a create-only streamed upload over an object must not succeed");
        assert_eq!(store.get(&key).await.unwrap().bytes().await.unwrap(), "before");
        let small = store.put_opts(&key, Bytes::from_static(b"x"), PutMode::Create.into()).await;
        assert_eq!(small.unwrap_err().kind(), ErrorKind::AlreadyExists);
    });
}

/// Neither server needs Content-MD5 on DeleteObjects: the profiles send none and batches of
/// keys go in one request.
#[test]
fn batch_delete_without_content_md5() {
    run(async {
        for (id, emu) in [
            ("ceph", ceph("batch_delete_without_content_md5")),
            ("seaweedfs", seaweedfs("batch_delete_without_content_md5")),
        ] {
            let Some(emu) = emu else { continue };
            let recorder = Recorder::default();
            let store = store_on(&emu, id, profile(id), Some(recorder.clone())).await;
            let keys: Vec<ObjectPath> = (0..5).map(|i| path(&format!("d/{i}"))).collect();
            for k in &keys {
                store.put(k, Bytes::from_static(b"x")).await.unwrap();
            }
            let deleted: Vec<ObjectPath> =
                store.delete_stream(stream::iter(keys.clone()).map(Ok).boxed()).try_collect().await.unwrap();
            assert_eq!(deleted, keys, "{id}");
            let left: Vec<String> = store.list(None).map_ok(|m| m.path.to_string()).try_collect().await.unwrap();
            // SeaweedFS keeps the emptied directory and lists it as a folder marker `d/`
            // (its directories and markers are one thing); Ceph keeps nothing.
            let expected: &[&str] = if id == "seaweedfs" { &["d/"] } else { &[] };
            assert_eq!(left, expected, "{id}: what is left after deleting every object");
            let batches: Vec<_> = recorder.requests().into_iter().filter(|s| s.operation == "DeleteObjects").collect();
            assert_eq!(batches.len(), 1, "{id}");
            assert!(batches[0].header("content-md5").is_none(), "{id}: Content-MD5 sent");
        }
    });
}

/// Keys with spaces, `+`, `%`, `#`, `?`, unicode and shell characters round-trip and list
/// as written under each profile (listings are requested without URL-encoding).
#[test]
fn awkward_keys_round_trip() {
    run(async {
        let keys = [
            "unicode/日本語/café ß.txt",
            "spaces in/a key",
            "pct/100%.txt",
            "pct/%2F not a slash",
            "plus/a+b",
            "hash/#1",
            "query/what?x=1&y=2",
            "mix/ +%#?;=@$,:!'()[]~",
        ];
        for (id, emu) in [
            ("ceph", ceph("awkward_keys_round_trip")),
            ("seaweedfs", seaweedfs("awkward_keys_round_trip")),
            ("swift", swift("awkward_keys_round_trip")),
        ] {
            let Some(emu) = emu else { continue };
            let store = store_on(&emu, id, profile(id), None).await;
            for (i, k) in keys.iter().enumerate() {
                store.put(&path(k), Bytes::from(format!("body {i}"))).await.unwrap();
            }
            for (i, k) in keys.iter().enumerate() {
                let got = store.get(&path(k)).await.unwrap();
                assert_eq!(got.meta.path.as_str(), *k);
                assert_eq!(got.bytes().await.unwrap(), format!("body {i}"), "{id}: {k}");
            }
            let listed: Vec<String> = store.list(None).map_ok(|m| m.path.into_string()).try_collect().await.unwrap();
            let mut expected: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            expected.sort();
            assert_eq!(listed, expected, "{id}");
            let level = store.list_with_delimiter(Some(&path("pct"))).await.unwrap();
            assert!(level.common_prefixes.is_empty(), "{id}: {level:?}");
            assert_eq!(level.objects.len(), 2, "{id}");
            let src = path(keys[7]);
            store.copy(&src, &path("copied/ +%#?")).await.unwrap();
            assert_eq!(store.get(&path("copied/ +%#?")).await.unwrap().bytes().await.unwrap(), "body 7", "{id}");
        }
    });
}

fn swift(test: &str) -> Option<S3Emulator> {
    let emu = emulators::swift();
    if emu.is_none() {
        emulators::skip(test, "Swift is not running (FERRY_TEST_SWIFT; scripts/test starts it)");
    }
    emu
}

#[test]
fn conformance_swift() {
    run(async {
        let Some(emu) = swift("conformance_swift") else { return };
        let store: Arc<dyn ObjectStore> = Arc::new(store_on(&emu, "swift", profile("swift"), None).await);
        assert!(!store.capabilities().put_if_not_exists && !store.capabilities().put_if_match);
        ferryboat_testkit::suite::run_all(&store).await;
    });
}

/// Swift's s3api refuses DeleteObjects without Content-MD5 (boto3 and the AWS SDK send only a
/// CRC32 now): with the quirk off the batch fails and every key stays; under the `swift`
/// profile one batch with Content-MD5 deletes them all.
#[test]
fn swift_batch_delete_needs_content_md5() {
    run(async {
        let Some(emu) = swift("swift_batch_delete_needs_content_md5") else { return };
        let keys: Vec<ObjectPath> = (0..5).map(|i| path(&format!("d/{i}"))).collect();
        let without = Quirks { delete_needs_content_md5: false, ..profile("swift") };
        for (quirks, works) in [(without, false), (profile("swift"), true)] {
            let recorder = Recorder::default();
            let store = store_on(&emu, "swift", quirks, Some(recorder.clone())).await;
            for k in &keys {
                store.put(k, Bytes::from_static(b"x")).await.unwrap();
            }
            let results: Vec<_> = store.delete_stream(stream::iter(keys.clone()).map(Ok).boxed()).collect().await;
            let left: Vec<String> = store.list(None).map_ok(|m| m.path.to_string()).try_collect().await.unwrap();
            let batches: Vec<_> = recorder.requests().into_iter().filter(|s| s.operation == "DeleteObjects").collect();
            assert_eq!(batches.len(), 1, "one batch request");
            assert_eq!(batches[0].header("content-md5").is_some(), works, "Content-MD5 sent only under the quirk");
            if works {
                assert!(results.iter().all(Result::is_ok), "{results:?}");
                assert!(left.is_empty(), "{left:?}");
            } else {
                assert!(
                    results.iter().all(Result::is_err),
                    "Swift now takes DeleteObjects without Content-MD5: drop the quirk"
                );
                assert_eq!(left.len(), keys.len(), "a refused batch deletes nothing: {left:?}");
            }
        }
    });
}

/// Swift answers a conditional PutObject with 501: the raw SDK call shows it; under the
/// `swift` profile create-only and compare-and-swap writes are refused before any request.
#[test]
fn swift_conditional_put_is_not_implemented() {
    run(async {
        let Some(emu) = swift("swift_conditional_put_is_not_implemented") else { return };
        let recorder = Recorder::default();
        let store = store_on(&emu, "swift", profile("swift"), Some(recorder.clone())).await;
        let (c, b) = (store.client(), store.bucket());
        let raw =
            c.put_object().bucket(b).key("raw").if_none_match("*").body(ByteStream::from_static(b"x")).send().await;
        let status = raw
            .expect_err("Swift now honours If-None-Match: set put_if_none_match")
            .raw_response()
            .map(|r| r.status().as_u16());
        assert_eq!(status, Some(501));

        let key = path("cond/object");
        let sent = recorder.requests().len();
        let create = store.put_opts(&key, Bytes::from_static(b"a"), PutMode::Create.into()).await;
        assert_eq!(create.unwrap_err().kind(), ErrorKind::NotSupported);
        let put = store.put(&key, Bytes::from_static(b"a")).await.unwrap();
        let update = PutMode::Update(UpdateVersion { etag: put.etag.clone(), version: None });
        let swap = store.put_opts(&key, Bytes::from_static(b"b"), update.into()).await;
        assert_eq!(swap.unwrap_err().kind(), ErrorKind::NotSupported);
        let puts = recorder.requests()[sent..].iter().filter(|s| s.operation == "PutObject").count();
        assert_eq!(puts, 1, "only the plain put reached the server");
        assert_eq!(store.get(&key).await.unwrap().bytes().await.unwrap(), "a");
    });
}

/// Across a long round trip `put_stream` widens its part window: the default window (4 parts,
/// growing to 16) opens more connections than a window fixed at 4 does, and both uploads
/// arrive intact. Connections are what the proxy counts: the S3 client opens one per request
/// in flight beyond those idle in its pool.
#[test]
fn put_stream_widens_its_part_window_across_a_long_round_trip() {
    run(async {
        let test = "put_stream_widens_its_part_window_across_a_long_round_trip";
        let Some(emu) = ceph(test) else { return };
        let mut opened = Vec::new();
        // The window needs 12 parts (4, then 8) to reach 16, then 16 more to use them all.
        for (max, parts) in [(4, 12), (16, 32)] {
            let body: Bytes = (0..parts * 5 * MIB).map(|i| (i * 31 % 251) as u8).collect::<Vec<u8>>().into();
            let wan = ProxyConfig::rtt(std::time::Duration::from_millis(200));
            let proxy = WanProxy::start(&emu.endpoint, wan).await.unwrap();
            let far = S3Emulator { endpoint: proxy.endpoint(), ..emu.clone() };
            let store = store_on(&far, "ceph", profile("ceph"), None).await;
            let key = path("wide/object");
            let config = UploadConfig {
                part_size: 5 * MIB as u64,
                concurrency: 4,
                max_concurrency: max,
                expected_size: Some(body.len() as u64),
                ..UploadConfig::default()
            };
            let chunks: Vec<_> = (0..body.len()).step_by(MIB).map(|s| Ok(body.slice(s..s + MIB))).collect();
            let started = std::time::Instant::now();
            store.put_stream(&key, stream::iter(chunks).boxed(), PutOptions::default(), config).await.unwrap();
            let connections = proxy.stats().connections;
            eprintln!("{test}: window 4..{max}: {connections} connections, {:.2?}", started.elapsed());
            opened.push(connections);
            let got = store.get(&key).await.unwrap().bytes().await.unwrap();
            assert!(got == body, "window 4..{max}: the object differs ({} of {} bytes)", got.len(), body.len());
        }
        assert!(opened[0] <= 6, "a window fixed at 4 parts opened {} connections", opened[0]);
        assert!(opened[1] >= 12, "the default window opened {} connections: it did not widen", opened[1]);
    });
}
