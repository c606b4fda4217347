//! LocalStore behaviour a user relies on: listing order, conditional writes under
//! contention, metadata, persistence, and the file/directory departure from S3.

use std::sync::Arc;

use bytes::Bytes;
use ferryboat_core::local::LocalStore;
use ferryboat_core::{
    Error, ErrorKind, GetOptions, GetRange, Jurisdiction, Metadata, ObjectPath, ObjectStore, ObjectStoreExt, PutMode,
    PutOptions, UpdateVersion,
};
use futures::{StreamExt, TryStreamExt};

fn key(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap()
}

fn store() -> (tempfile::TempDir, LocalStore) {
    let tmp = tempfile::tempdir().unwrap();
    let store = LocalStore::new(tmp.path().join("bucket")).unwrap();
    (tmp, store)
}

async fn keys(store: &LocalStore, prefix: Option<&str>, offset: Option<&str>) -> Vec<String> {
    let prefix = prefix.map(key);
    let stream = match offset {
        Some(o) => store.list_from(prefix.as_ref(), &key(o)),
        None => store.list(prefix.as_ref()),
    };
    stream.map_ok(|m| m.path.to_string()).try_collect().await.unwrap()
}

const TRICKY: &[&str] = &[
    "a-c",
    "a/b",
    "a/b-",
    "a/b/c",
    "a0",
    "a b/x",
    "a%2Fb",
    "a+b",
    "b/é",
    "b/e\u{301}",
    "b/z",
    "b/\u{1F600}",
    "B",
    "~",
    "x/y/z/deep",
    "x/y0",
];

#[tokio::test]
async fn listing_is_in_byte_order_and_offset_is_exclusive() {
    let (_t, s) = store();
    // "a/b" and "a/b/c" cannot coexist locally; keep the set holdable.
    let set: Vec<&str> = TRICKY.iter().copied().filter(|k| *k != "a/b").collect();
    for k in set.iter().rev() {
        s.put(&key(k), Bytes::from(k.to_string())).await.unwrap();
    }
    let mut expected: Vec<String> = set.iter().map(|k| k.to_string()).collect();
    expected.sort();
    assert_eq!(keys(&s, None, None).await, expected);

    for (i, o) in expected.iter().enumerate() {
        assert_eq!(keys(&s, None, Some(o)).await, expected[i + 1..], "offset {o}");
    }
    // Offsets that are not keys: between keys, a directory, past the end.
    for o in ["a", "a/b", "b", "x/y", "zzz"] {
        let want: Vec<_> = expected.iter().filter(|k| k.as_str() > o).cloned().collect();
        assert_eq!(keys(&s, None, Some(o)).await, want, "offset {o}");
    }
    let under_a: Vec<_> = expected.iter().filter(|k| k.starts_with("a/")).cloned().collect();
    assert_eq!(keys(&s, Some("a"), None).await, under_a);
    assert_eq!(keys(&s, Some("a"), Some("a/b-")).await, ["a/b/c"]);
    assert!(keys(&s, Some("nope"), None).await.is_empty());

    let level = s.list_with_delimiter(None).await.unwrap();
    let prefixes: Vec<_> = level.common_prefixes.iter().map(|p| p.to_string()).collect();
    assert_eq!(prefixes, ["a", "a b", "b", "x"]);
    let objects: Vec<_> = level.objects.iter().map(|m| m.path.to_string()).collect();
    assert_eq!(objects, ["B", "a%2Fb", "a+b", "a-c", "a0", "~"]);
}

#[tokio::test]
async fn only_one_of_32_concurrent_creators_wins() {
    let (_t, s) = store();
    let s = Arc::new(s);
    let k = key("race/target");
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let (s, k) = (s.clone(), k.clone());
            tokio::spawn(async move { s.put_if_not_exists(&k, Bytes::from(format!("writer {i}"))).await })
        })
        .collect();
    let mut winners = Vec::new();
    let mut losers = 0;
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(_) => winners.push(i),
            Err(Error::AlreadyExists { .. }) => losers += 1,
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!((winners.len(), losers), (1, 31));
    let body = s.get(&k).await.unwrap().bytes().await.unwrap();
    assert_eq!(body, format!("writer {}", winners[0]));
    assert!(std::fs::read_dir(s.root().join(".ferry/tmp")).unwrap().next().is_none(), "no temp file left");
}

#[tokio::test]
async fn update_is_compare_and_swap_and_etags_change_on_every_write() {
    let (_t, s) = store();
    let k = key("cas");
    let first = s.put(&k, "same".into()).await.unwrap();
    let second = s.put(&k, "same".into()).await.unwrap();
    assert_ne!(first.etag, second.etag, "rewriting the same bytes still changes the etag");
    assert_eq!(s.head(&k).await.unwrap().etag, second.etag);

    let stale = PutOptions::mode(PutMode::Update(UpdateVersion::from(&first)));
    assert_eq!(s.put_opts(&k, "lost".into(), stale).await.unwrap_err().kind(), ErrorKind::Precondition);
    let fresh = PutOptions::mode(PutMode::Update(UpdateVersion::from(&second)));
    s.put_opts(&k, "won".into(), fresh).await.unwrap();
    assert_eq!(s.get(&k).await.unwrap().bytes().await.unwrap(), "won");

    // Concurrent CAS from one starting etag: exactly one succeeds.
    let base = s.put(&k, "0".into()).await.unwrap();
    let s = Arc::new(s);
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let (s, k, v) = (s.clone(), k.clone(), UpdateVersion::from(&base));
            tokio::spawn(async move { s.put_opts(&k, Bytes::from(format!("{i}")), PutMode::Update(v).into()).await })
        })
        .collect();
    let ok = futures::future::join_all(tasks).await.into_iter().filter(|r| r.as_ref().unwrap().is_ok()).count();
    assert_eq!(ok, 1);
    let missing = PutMode::Update(UpdateVersion { etag: Some("x".into()), version: None });
    assert_eq!(
        s.put_opts(&key("absent"), "x".into(), missing.into()).await.unwrap_err().kind(),
        ErrorKind::Precondition
    );
}

#[tokio::test]
async fn metadata_round_trips_and_is_cleared_by_a_plain_overwrite() {
    let (_t, s) = store();
    let k = key("docs/report.pdf");
    let mut md = Metadata::new();
    md.insert("owner".into(), "ops".into());
    let opts = PutOptions { content_type: Some("application/pdf".into()), metadata: md.clone(), ..Default::default() };
    s.put_opts(&k, "pdf".into(), opts).await.unwrap();
    let head = s.head(&k).await.unwrap();
    assert_eq!(head.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(head.metadata, md);

    s.copy(&k, &key("copy.pdf")).await.unwrap();
    assert_eq!(s.head(&key("copy.pdf")).await.unwrap().metadata, md, "copy keeps metadata");
    s.rename(&key("copy.pdf"), &key("moved/r.pdf")).await.unwrap();
    let moved = s.head(&key("moved/r.pdf")).await.unwrap();
    assert_eq!((moved.content_type.as_deref(), &moved.metadata), (Some("application/pdf"), &md));
    assert!(!s.exists(&key("copy.pdf")).await.unwrap());

    s.put(&k, "plain".into()).await.unwrap();
    let head = s.head(&k).await.unwrap();
    assert_eq!((head.content_type, head.metadata.len()), (None, 0));
}

#[tokio::test]
async fn data_and_metadata_survive_reopening() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("persist");
    let k = key("keep/me");
    let etag = {
        let s = LocalStore::new(&root).unwrap();
        let opts = PutOptions { content_type: Some("text/plain".into()), ..Default::default() };
        s.put_opts(&k, "kept".into(), opts).await.unwrap().etag
    };
    let s = LocalStore::new(&root).unwrap();
    let got = s.get(&k).await.unwrap();
    assert_eq!((got.meta.etag.clone(), got.meta.content_type.clone()), (etag, Some("text/plain".into())));
    assert_eq!(got.bytes().await.unwrap(), "kept");
    assert_eq!(keys(&s, None, None).await, ["keep/me"]);
    assert_eq!(s.info().provider, "local");
    assert_eq!(s.info().jurisdiction, Jurisdiction::SelfHosted);
}

#[tokio::test]
async fn a_file_and_a_directory_cannot_share_a_name() {
    let (_t, s) = store();
    s.put(&key("a/b"), "child".into()).await.unwrap();
    let err = s.put(&key("a"), "parent".into()).await.unwrap_err();
    assert!(matches!(err, Error::Generic { .. }) && err.to_string().contains("cannot hold both"), "{err}");
    s.put(&key("f"), "file".into()).await.unwrap();
    let err = s.put(&key("f/g"), "child".into()).await.unwrap_err();
    assert!(err.to_string().contains("cannot hold both"), "{err}");
    // Nothing was lost, and the parent name reads as absent, like on S3.
    assert_eq!(s.get(&key("a/b")).await.unwrap().bytes().await.unwrap(), "child");
    assert_eq!(s.get(&key("f")).await.unwrap().bytes().await.unwrap(), "file");
    assert_eq!(s.head(&key("a")).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(s.head(&key("f/g")).await.unwrap_err().kind(), ErrorKind::NotFound);
    s.delete(&key("a")).await.unwrap();
    assert!(s.exists(&key("a/b")).await.unwrap(), "deleting `a` leaves `a/b` alone");
}

#[tokio::test]
async fn delete_is_idempotent_and_leaves_no_ghost_directories() {
    let (_t, s) = store();
    s.put(&key("p/q/r/s"), "x".into()).await.unwrap();
    s.put(&key("p/keep"), "y".into()).await.unwrap();
    s.delete(&key("p/q/r/s")).await.unwrap();
    s.delete(&key("p/q/r/s")).await.unwrap();
    assert!(!s.root().join("p/q").exists(), "empty parents are removed");
    let level = s.list_with_delimiter(Some(&key("p"))).await.unwrap();
    assert!(level.common_prefixes.is_empty());
    // A directory left empty by something else is no common prefix either.
    std::fs::create_dir_all(s.root().join("p/empty/deeper")).unwrap();
    assert!(s.list_with_delimiter(Some(&key("p"))).await.unwrap().common_prefixes.is_empty());
    // ...and does not block writing a file by that name.
    s.put(&key("p/empty"), "now a file".into()).await.unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn ranges_stream_in_chunks_and_conditions_hold() {
    let (_t, s) = store();
    let k = key("big");
    let data: Vec<u8> = (0..1_000_003u32).map(|i| (i % 251) as u8).collect();
    let put = s.put(&k, data.clone().into()).await.unwrap();
    let got = s.get(&k).await.unwrap();
    let chunks: Vec<Bytes> = got.body.try_collect().await.unwrap();
    assert!(chunks.len() >= 4 && chunks.iter().all(|c| c.len() <= 256 * 1024), "{} chunks", chunks.len());
    assert_eq!(chunks.concat(), data);
    assert_eq!(s.get_range(&k, 999_990..2_000_000).await.unwrap(), data[999_990..]);
    let suffix = GetOptions { range: Some(GetRange::Suffix(5)), ..Default::default() };
    assert_eq!(s.get_opts(&k, suffix).await.unwrap().bytes().await.unwrap(), data[data.len() - 5..]);
    let past = GetOptions { range: Some(GetRange::Offset(2_000_000)), ..Default::default() };
    assert_eq!(s.get_opts(&k, past).await.unwrap_err().kind(), ErrorKind::InvalidRange);
    let etag = put.etag.unwrap();
    let inm = GetOptions { if_none_match: Some(etag.clone()), ..Default::default() };
    assert_eq!(s.get_opts(&k, inm).await.unwrap_err().kind(), ErrorKind::NotModified);
    let im = GetOptions { if_match: Some("other".into()), ..Default::default() };
    assert_eq!(s.get_opts(&k, im).await.unwrap_err().kind(), ErrorKind::Precondition);
    let version = GetOptions { version: Some("1".into()), ..Default::default() };
    assert_eq!(s.get_opts(&k, version).await.unwrap_err().kind(), ErrorKind::NotSupported);
    // Listing etags match head etags.
    let listed = s.list(None).next().await.unwrap().unwrap();
    assert_eq!(listed.etag.as_deref(), Some(etag.as_str()));
}

#[tokio::test]
async fn multipart_assembles_parts_and_pending_uploads_are_on_disk() {
    let (_t, s) = store();
    let min = s.capabilities().multipart_min_part_size as usize;
    let k = key("mp/object");
    let opts = PutOptions { content_type: Some("application/x-test".into()), ..Default::default() };
    let up = s.put_multipart_opts(&k, opts).await.unwrap();
    let a = Bytes::from(vec![b'a'; min]);
    let b = Bytes::from_static(b"tail");
    // Out of order, as the upload helper may send them.
    let p2 = up.put_part(2, b.clone()).await.unwrap();
    let p1 = up.put_part(1, a.clone()).await.unwrap();
    let pending = s.list_pending_uploads(Some(&key("mp"))).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].path.clone(), pending[0].upload_id.as_str()), (k.clone(), up.upload_id()));
    assert!(!s.exists(&k).await.unwrap(), "invisible until complete");
    up.complete(vec![p1, p2]).await.unwrap();
    let got = s.get(&k).await.unwrap();
    assert_eq!(got.meta.content_type.as_deref(), Some("application/x-test"));
    assert_eq!(got.bytes().await.unwrap(), [a, b].concat());
    assert!(s.list_pending_uploads(None).await.unwrap().is_empty());

    // A small non-final part, a wrong token and a missing part are errors.
    let up = s.put_multipart(&key("mp/bad")).await.unwrap();
    let p1 = up.put_part(1, "small".into()).await.unwrap();
    let p2 = up.put_part(2, "small".into()).await.unwrap();
    assert_eq!(up.complete(vec![p1, p2]).await.unwrap_err().kind(), ErrorKind::InvalidConfig);
    let up = s.put_multipart(&key("mp/bad")).await.unwrap();
    let mut p1 = up.put_part(1, "x".into()).await.unwrap();
    p1.token = "0".repeat(32);
    assert_eq!(up.complete(vec![p1]).await.unwrap_err().kind(), ErrorKind::Precondition);
    let up = s.put_multipart(&key("mp/bad")).await.unwrap();
    let mut ghost = up.put_part(1, "x".into()).await.unwrap();
    ghost.number = 7;
    assert_eq!(up.complete(vec![ghost]).await.unwrap_err().kind(), ErrorKind::Generic);
    assert!(!s.exists(&key("mp/bad")).await.unwrap());

    // Abandoned uploads are found and aborted after a "restart".
    let _abandoned = s.put_multipart(&key("mp/crash")).await.unwrap();
    let reopened = LocalStore::new(s.root()).unwrap();
    let pending = reopened.list_pending_uploads(None).await.unwrap();
    assert_eq!(pending.len(), 1);
    reopened.abort_pending_upload(&pending[0]).await.unwrap();
    assert!(reopened.list_pending_uploads(None).await.unwrap().is_empty());
    let mut forged = pending[0].clone();
    forged.upload_id = "../../meta".into();
    assert_eq!(reopened.abort_pending_upload(&forged).await.unwrap_err().kind(), ErrorKind::InvalidConfig);
}

#[tokio::test]
async fn a_file_as_root_is_a_clear_configuration_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let err = LocalStore::new(&file).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}

#[cfg(unix)]
#[tokio::test]
async fn names_that_are_not_keys_are_error_items_not_skips() {
    use std::os::unix::ffi::OsStrExt;
    let (_t, s) = store();
    s.put(&key("good"), "g".into()).await.unwrap();
    std::fs::write(s.root().join(std::ffi::OsStr::from_bytes(b"bad\xff")), "x").unwrap();
    // A control character is an ordinary key character.
    std::fs::write(s.root().join("ctl\u{1}"), "x").unwrap();
    let items: Vec<_> = s.list(None).collect().await;
    assert_eq!(items.len(), 3, "{items:?}");
    let bad = items.iter().find_map(|r| r.as_ref().err()).expect("the non-UTF-8 name is an error item");
    assert_eq!(bad.kind(), ErrorKind::InvalidPath);
    assert!(bad.to_string().contains("not UTF-8"), "{bad}");
    let good: Vec<_> = items.iter().filter_map(|r| r.as_ref().ok()).map(|m| m.path.to_string()).collect();
    assert_eq!(good, ["ctl\u{1}", "good"]);
    // One level is one answer: the bad name fails it rather than vanish from it.
    let err = s.list_with_delimiter(None).await.unwrap_err();
    assert!(err.to_string().contains("not UTF-8"), "{err}");
}

#[tokio::test]
async fn dropping_a_listing_stops_the_walk() {
    let (_t, s) = store();
    for i in 0..600 {
        s.put(&key(&format!("many/{i:04}")), "x".into()).await.unwrap();
    }
    let mut stream = s.list(None);
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.path.as_str(), "many/0000");
    drop(stream);
    // The walker notices the closed channel; the store stays usable.
    assert_eq!(keys(&s, Some("many"), Some("many/0597")).await, ["many/0598", "many/0599"]);
}

#[tokio::test]
async fn a_segment_too_long_for_the_filesystem_is_a_clear_error() {
    let (_t, s) = store();
    let long = key(&format!("dir/{}", "n".repeat(300)));
    let err = s.put(&long, "x".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidPath, "{err}");
    assert_eq!(s.head(&long).await.unwrap_err().kind(), ErrorKind::NotFound);
    s.delete(&long).await.unwrap();
    let long_dir = key(&format!("{}/x", "d".repeat(300)));
    assert_eq!(s.put(&long_dir, "x".into()).await.unwrap_err().kind(), ErrorKind::InvalidPath);
    assert!(keys(&s, None, None).await.is_empty());
}

#[tokio::test]
async fn stale_temp_files_are_swept_on_open_and_fresh_ones_kept() {
    let (_t, s) = store();
    let tmp_dir = s.root().join(".ferry/tmp");
    let old = tmp_dir.join("t-crashed");
    std::fs::write(&old, "partial").unwrap();
    let two_days = std::time::Duration::from_secs(48 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - two_days)
        .unwrap();
    let fresh = tmp_dir.join("t-in-flight");
    std::fs::write(&fresh, "being written").unwrap();
    let _reopened = LocalStore::new(s.root()).unwrap();
    assert!(!old.exists(), "a day-old temp file is removed");
    assert!(fresh.exists(), "a recent one may belong to a live writer");
}
