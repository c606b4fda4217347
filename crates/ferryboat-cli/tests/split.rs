//! `ferryboat split` and `mirror --after/--upto` on moto: three workers given the ranges
//! `split` printed copy every key of a bucket (awkward keys included) exactly once between
//! them, each listing only its own range on both sides.

mod common;

use common::*;
use ferryboat::{ObjectPath, ObjectStoreExt};
use ferryboat_testkit::emulators::{self, skip};
use futures::TryStreamExt;

const AWKWARD: &[&str] = &["a//b", " leading space", "it's", "café/naïve", "k/0099/", "~tilde", "Z"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_given_split_ranges_copy_every_key_exactly_once() {
    let Some(moto) = emulators::moto() else {
        return skip("workers_given_split_ranges_copy_every_key_exactly_once", "moto is not available");
    };
    let (src, store) = s3_bucket(&moto, "split-src").await;
    let (dst, dst_store) = s3_bucket(&moto, "split-dst").await;
    let mut keys: Vec<String> = (0..150).map(|i| format!("k/{i:04}")).collect();
    keys.extend(AWKWARD.iter().map(|k| k.to_string()));
    for k in &keys {
        store.put(&ObjectPath::parse(k.clone()).unwrap(), k.clone().into_bytes().into()).await.unwrap();
    }
    keys.sort();

    let out = run(ferryboat(Some(&moto), &["split", &s3_url(&moto, &src), "3"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("--upto '") && lines[2].starts_with("--after '"), "{lines:?}");

    let out = run(ferryboat(Some(&moto), &["split", &s3_url(&moto, &src), "3", "--json"]));
    let split = json(&out);
    assert_eq!(split["keys"], keys.len());
    let mut copied = 0;
    for range in split["ranges"].as_array().unwrap() {
        let (after, upto) = (range["after"].as_str(), range["upto"].as_str());
        let inside = keys
            .iter()
            .filter(|k| after.is_none_or(|a| k.as_str() > a) && upto.is_none_or(|u| k.as_str() <= u))
            .count();
        assert!(inside > 20, "ranges are roughly even: {inside} in {range}");
        let (src_url, dst_url) = (s3_url(&moto, &src), s3_url(&moto, &dst));
        let mut args = vec!["mirror", src_url.as_str(), dst_url.as_str(), "--json", "--quiet"];
        if let Some(a) = after {
            args.extend(["--after", a]);
        }
        if let Some(u) = upto {
            args.extend(["--upto", u]);
        }
        let out = run(ferryboat(Some(&moto), &args));
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let report = json(&out);
        assert_eq!(report["listed_source"], inside, "{report}");
        assert_eq!(report["filtered"], 0, "{report}");
        copied += report["copied"].as_u64().unwrap();
    }
    assert_eq!(copied, keys.len() as u64);
    let mut got: Vec<String> = dst_store.list(None).map_ok(|m| m.path.to_string()).try_collect().await.unwrap();
    got.sort();
    assert_eq!(got, keys);
}

#[test]
fn an_empty_range_and_a_bad_count_are_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let url = file_url(tmp.path());
    let out = run(ferryboat(None, &["mirror", &url, &url, "--after", "b", "--upto", "a"]));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("key range is empty"), "{}", stderr(&out));
    let out = run(ferryboat(None, &["split", &url, "0"]));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}
