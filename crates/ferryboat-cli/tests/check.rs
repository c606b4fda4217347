//! `ferryboat check`, run as the built binary: a missing, an extra and a changed object
//! found between a local directory and moto, and between two moto buckets, with the
//! comparison each key was settled by.

mod common;

use common::*;
use ferryboat::{ObjectPath, ObjectStore, ObjectStoreExt, PutOptions};
use ferryboat_testkit::emulators::{self, skip};

fn key(k: &str) -> ObjectPath {
    ObjectPath::parse(k).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_finds_missing_extra_and_changed_and_says_how_it_compared() {
    let Some(moto) = emulators::moto() else {
        return skip("check_finds_missing_extra_and_changed_and_says_how_it_compared", "moto is not available");
    };
    let tmp = tempfile::tempdir().unwrap();
    let src_dir = tmp.path().join("src");
    let src = ferryboat::open(&src_dir.display().to_string()).await.unwrap();
    for (k, v) in [("a", "alpha"), ("b", "bravo"), ("c", "charlie"), ("d/e", "echo")] {
        src.put(&key(k), v.into()).await.unwrap();
    }
    let (bucket, dst) = s3_bucket(&moto, "check").await;
    let (src_url, dst_url) = (file_url(&src_dir), s3_url(&moto, &bucket));
    let out = run(ferryboat(Some(&moto), &["mirror", &src_url, &dst_url, "--json", "--quiet"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    // In sync: exit 0; the destination's recorded SHA-256 against the source read.
    let out = run(ferryboat(Some(&moto), &["check", &src_url, &dst_url, "--json"]));
    let rep = json(&out);
    assert_eq!(code(&out), 0, "{rep:#}");
    assert_eq!((rep["same"].as_u64(), rep["identical"].as_bool()), (Some(4), Some(true)), "{rep:#}");
    assert_eq!(rep["rules"]["sha256-recorded-vs-read"], 4, "{rep:#}");

    // One missing, one extra, one changed in place (same size, other bytes).
    dst.delete(&key("b")).await.unwrap();
    dst.put(&key("z-extra"), "zulu".into()).await.unwrap();
    src.put(&key("c"), "CHARLIE".into()).await.unwrap();
    let out = run(ferryboat(Some(&moto), &["check", &src_url, &dst_url, "--json"]));
    let rep = json(&out);
    assert_eq!(code(&out), 1, "differences: exit 1; {rep:#}");
    assert_eq!(rep["missing_keys"], serde_json::json!(["b"]), "{rep:#}");
    assert_eq!(rep["extra_keys"], serde_json::json!(["z-extra"]), "{rep:#}");
    assert_eq!(rep["different_keys"], serde_json::json!([["c", "sha256-recorded-vs-read"]]), "{rep:#}");
    assert_eq!((rep["same"].as_u64(), rep["identical"].as_bool()), (Some(2), Some(false)));
    // The same in text, one line per difference.
    let out = run(ferryboat(Some(&moto), &["check", &src_url, &dst_url]));
    let text = stdout(&out);
    for line in ["missing: b", "extra: z-extra", "different: c (recorded sha256 vs read)"] {
        assert!(text.lines().any(|l| l == line), "`{line}` in {text}");
    }
    // --size-only cannot see the change, and says that sizes are all it compared.
    let out = run(ferryboat(Some(&moto), &["check", &src_url, &dst_url, "--json", "--size-only"]));
    let rep = json(&out);
    assert_eq!((rep["different"].as_u64(), rep["rules"]["size-only"].as_u64()), (Some(0), Some(3)), "{rep:#}");

    // Between two buckets of one server: equal MD5 etags settle it without a read; a key
    // rewritten behind ferry's back (no recorded hash) is read on both sides.
    let out = run(ferryboat(Some(&moto), &["mirror", &src_url, &dst_url, "--delete", "--json", "--quiet"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let (bucket2, dst2) = s3_bucket(&moto, "check2").await;
    let dst2_url = s3_url(&moto, &bucket2);
    let out = run(ferryboat(Some(&moto), &["mirror", &dst_url, &dst2_url, "--json", "--quiet"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = run(ferryboat(Some(&moto), &["check", &dst_url, &dst2_url, "--json"]));
    let rep = json(&out);
    assert_eq!(code(&out), 0, "{rep:#}");
    assert_eq!(rep["rules"]["etag-md5"], 4, "{rep:#}");
    dst2.put_opts(&key("a"), "ALPHA".into(), PutOptions::default()).await.unwrap();
    dst2.put_opts(&key("d/e"), "echo".into(), PutOptions::default()).await.unwrap();
    let out = run(ferryboat(Some(&moto), &["check", &dst_url, &dst2_url, "--json"]));
    let rep = json(&out);
    assert_eq!(code(&out), 1, "{rep:#}");
    assert_eq!(rep["different_keys"], serde_json::json!([["a", "sha256-recorded-vs-read"]]), "{rep:#}");

    // --no-read: what no hash settles is unproven, never "same": exit 3.
    dst2.put(&key("a"), "alpha".into()).await.unwrap();
    dst.put_opts(&key("a"), "alpha".into(), PutOptions::default()).await.unwrap();
    let out = run(ferryboat(Some(&moto), &["check", &dst_url, &dst2_url, "--json", "--no-read"]));
    let rep = json(&out);
    assert_eq!(code(&out), 0, "plain MD5 etags need no read: {rep:#}");
    let out = run(ferryboat(Some(&moto), &["check", &src_url, &dst_url, "--json", "--no-read"]));
    let rep = json(&out);
    assert_eq!(code(&out), 3, "local files carry no hash, so nothing is proven without reading: {rep:#}");
    assert_eq!(rep["unproven"], 4, "{rep:#}");
}
