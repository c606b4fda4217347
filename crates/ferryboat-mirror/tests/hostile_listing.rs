//! A mirror with deletes on, whose source is an S3 server with a broken listing: it must
//! delete nothing on the destination and report the failure.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::{ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_mirror::{Mirror, MirrorOptions, MirrorReport};
use ferryboat_s3::{Credentials, S3Config, S3Store};
use ferryboat_testkit::hostile::{HostileServer, Reply, Request};

fn contents(key: &str) -> String {
    format!(
        "<Contents><Key>{key}</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>\
         <ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag><Size>1</Size></Contents>"
    )
}

fn page(keys: &[&str], next: Option<&str>) -> Reply {
    let mut x = String::from("<?xml version=\"1.0\"?><ListBucketResult><Name>b</Name>");
    match next {
        Some(t) => {
            x.push_str(&format!("<IsTruncated>true</IsTruncated><NextContinuationToken>{t}</NextContinuationToken>"))
        }
        None => x.push_str("<IsTruncated>false</IsTruncated>"),
    }
    for k in keys {
        x.push_str(&contents(k));
    }
    x.push_str("</ListBucketResult>");
    Reply::new(200).header("content-type", "application/xml").body(x)
}

/// An object `a` (for HEAD and GET of any key the source has).
fn object(req: &Request) -> Reply {
    let r = Reply::new(200)
        .header("etag", "\"0cc175b9c0f1b6a831c399e269772661\"")
        .header("last-modified", "Mon, 01 Jan 2024 00:00:00 GMT")
        .header("content-type", "application/octet-stream");
    if req.method == "HEAD" {
        r.declared_length(1)
    } else {
        r.body("a")
    }
}

fn source(server: &HostileServer) -> Arc<dyn ObjectStore> {
    let mut cfg = S3Config::new("b")
        .with_provider("generic")
        .with_region("us-east-1")
        .with_endpoint(server.endpoint())
        .with_path_style(true)
        .with_credentials(Credentials::new("test", "testtest"))
        .with_max_attempts(1);
    cfg.read_timeout = Some(Duration::from_secs(2));
    Arc::new(S3Store::new(cfg).unwrap())
}

/// A destination holding `b` (also on the source) and `zz` (only there).
async fn destination() -> (MemoryStore, Arc<dyn ObjectStore>) {
    let dst = MemoryStore::new();
    for k in ["b", "zz"] {
        dst.put(&ObjectPath::parse(k).unwrap(), Bytes::from_static(b"old")).await.unwrap();
    }
    let arc: Arc<dyn ObjectStore> = Arc::new(dst.clone());
    (dst, arc)
}

async fn run(server: &HostileServer) -> (MemoryStore, MirrorReport) {
    let (dst, arc) = destination().await;
    let mirror = Mirror::new(source(server), arc, MirrorOptions::default().delete(true));
    let report = tokio::time::timeout(Duration::from_secs(60), mirror.run())
        .await
        .expect("the mirror ends in bounded time")
        .expect("a broken listing is reported, not a setup error");
    (dst, report)
}

async fn assert_nothing_deleted(dst: &MemoryStore, report: &MirrorReport) {
    assert_eq!(report.deleted, 0, "{report}");
    assert!(!report.in_sync, "{report}");
    assert!(report.aborted.is_some(), "the run says it stopped: {report}");
    for k in ["b", "zz"] {
        assert!(dst.exists(&ObjectPath::parse(k).unwrap()).await.unwrap(), "{k} was deleted: {report}");
    }
}

fn is_list(req: &Request) -> bool {
    req.query_param("list-type").is_some()
}

#[tokio::test]
async fn out_of_order_source_listing_deletes_nothing() {
    let server = HostileServer::start(|req| if is_list(req) { page(&["a", "c", "b"], None) } else { object(req) })
        .await
        .unwrap();
    let (dst, report) = run(&server).await;
    assert_nothing_deleted(&dst, &report).await;
}

#[tokio::test]
async fn source_listing_failing_midway_deletes_nothing() {
    let server = HostileServer::start(|req| match (is_list(req), req.query_param("continuation-token")) {
        (true, None) => page(&["a", "b"], Some("p2")),
        (true, Some(_)) => Reply::new(403).body("<Error><Code>AccessDenied</Code></Error>"),
        (false, _) => object(req),
    })
    .await
    .unwrap();
    let (dst, report) = run(&server).await;
    assert_nothing_deleted(&dst, &report).await;
}

#[tokio::test]
async fn source_listing_repeating_its_token_deletes_nothing() {
    let server =
        HostileServer::start(|req| if is_list(req) { page(&["a"], Some("again")) } else { object(req) }).await.unwrap();
    let (dst, report) = run(&server).await;
    assert_nothing_deleted(&dst, &report).await;
}

#[tokio::test]
async fn a_source_listing_that_skips_keys_on_the_second_pass_deletes_nothing_it_still_has() {
    // First listing: a, b (correct). The delete pass lists again and gets only `c`, `d`, and
    // then an error: `b` looks extraneous though the source still has it.
    let listings = Arc::new(AtomicU64::new(0));
    let seen = listings.clone();
    let server = HostileServer::start(move |req| {
        if !is_list(req) {
            return if req.path.ends_with("/zz") { Reply::new(404) } else { object(req) };
        }
        if req.query_param("continuation-token").is_some() {
            return Reply::new(403);
        }
        match seen.fetch_add(1, Ordering::SeqCst) {
            0 => page(&["a", "b"], None),
            _ => page(&["c", "d"], Some("p2")),
        }
    })
    .await
    .unwrap();
    let (dst, arc) = destination().await;
    // `b` on the destination differs from the source's; the first pass copies it, which is
    // fine. `zz` is the one key to delete, and the broken second listing must not change that.
    let mirror = Mirror::new(source(&server), arc, MirrorOptions::default().delete(true));
    let report = tokio::time::timeout(Duration::from_secs(60), mirror.run()).await.unwrap().unwrap();
    assert!(listings.load(Ordering::SeqCst) >= 2, "the delete pass listed again");
    assert!(dst.exists(&ObjectPath::parse("b").unwrap()).await.unwrap(), "b deleted: {report}");
    assert!(report.aborted.is_some() && !report.in_sync, "{report}");
}
