//! `mirror --metrics-addr`: Prometheus text scraped from the built binary while it copies
//! to moto, and again as counts grow; and, through a proxy that cuts connections, failed
//! objects and retries counted while the run goes on.

mod common;

use std::io::{Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use ferryboat::{ObjectPath, ObjectStoreExt};
use ferryboat_testkit::emulators::{self, skip};

fn scrape(port: u16) -> Option<String> {
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(conn, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer).ok()?;
    answer.starts_with("HTTP/1.1 200").then(|| answer.split("\r\n\r\n").nth(1).unwrap_or_default().to_string())
}

fn value(text: &str, series: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_while_the_mirror_runs() {
    let Some(moto) = emulators::moto() else {
        return skip("metrics_are_served_while_the_mirror_runs", "moto is not available");
    };
    let tmp = tempfile::tempdir().unwrap();
    let src_dir = tmp.path().join("src");
    let src = ferryboat::open(&src_dir.display().to_string()).await.unwrap();
    for i in 0..120u32 {
        src.put(&ObjectPath::parse(format!("k/{i:03}")).unwrap(), vec![i as u8; 32_768].into()).await.unwrap();
    }
    let (bucket, _) = s3_bucket(&moto, "metrics").await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let mut cmd = ferryboat(
        Some(&moto),
        &[
            "mirror",
            &file_url(&src_dir),
            &s3_url(&moto, &bucket),
            "--transfers",
            "1",
            "--quiet",
            "--json",
            "--metrics-addr",
            &addr,
        ],
    );
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();

    // Scrape until the copy is under way, then once more while it still runs.
    let started = Instant::now();
    let mut first = None;
    while started.elapsed() < Duration::from_secs(60) && child.try_wait().unwrap().is_none() {
        if let Some(text) = scrape(port) {
            if value(&text, "ferry_mirror_objects_copied_total").is_some_and(|n| n > 0) {
                first = Some(text);
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let first = first.expect("metrics with copies counted, scraped while the mirror ran");
    std::thread::sleep(Duration::from_millis(300));
    let running = child.try_wait().unwrap().is_none();
    let second = scrape(port);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    for series in [
        "ferry_mirror_objects_copied_total",
        "ferry_mirror_bytes_copied_total",
        "ferry_mirror_objects_pending",
        "ferry_mirror_keys_compared_total",
    ] {
        assert!(value(&first, series).is_some(), "{series} in {first}");
        assert!(first.contains(&format!("# TYPE {series} ")), "{series} is typed");
    }
    let copied = value(&first, "ferry_mirror_objects_copied_total").unwrap();
    assert_eq!(value(&first, "ferry_mirror_bytes_copied_total"), Some(copied * 32_768), "{first}");
    let puts = value(&first, "ferry_requests_total{side=\"destination\",op=\"put\",status=\"ok\"}").unwrap_or(0);
    assert!(puts >= copied, "every copied object was a counted PUT: {first}");
    assert!(value(&first, "ferry_requests_total{side=\"source\",op=\"get\",status=\"ok\"}").is_some(), "{first}");
    if let (true, Some(second)) = (running, second) {
        assert!(value(&second, "ferry_mirror_objects_copied_total").unwrap() >= copied, "counts only grow");
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["copied"], 120);
    assert!(copied < 120, "the first scrape came mid-run ({copied} of 120 copied)");
}

/// The sum of every sample of `name` (all label sets).
fn total(text: &str, name: &str) -> u64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_and_retries_are_counted_while_the_network_cuts_requests() {
    use ferryboat_testkit::proxy::{ProxyConfig, WanProxy};
    let Some(moto) = emulators::moto() else {
        return skip("failures_and_retries_are_counted_while_the_network_cuts_requests", "moto is not available");
    };
    let tmp = tempfile::tempdir().unwrap();
    let src_dir = tmp.path().join("src");
    let src = ferryboat::open(&src_dir.display().to_string()).await.unwrap();
    for i in 0..300u32 {
        src.put(&ObjectPath::parse(format!("k/{i:03}")).unwrap(), vec![i as u8; 20_000].into()).await.unwrap();
    }
    let (bucket, _) = s3_bucket(&moto, "metrics-cut").await;
    // The binary reaches moto through a proxy that cuts nothing until told to. One attempt per
    // request at the backend, so that a cut request fails up to the mirror, whose retries
    // the counters show (the SDK's own retries are not counted: docs/cli.md).
    let proxy = WanProxy::start(&moto.endpoint, ProxyConfig::default()).await.unwrap();
    let through =
        format!("s3://{bucket}?endpoint={}&path_style=true&region={}&max_attempts=1", proxy.endpoint(), moto.region);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let mut cmd = ferryboat(
        Some(&moto),
        &[
            "mirror",
            &file_url(&src_dir),
            &through,
            "--transfers",
            "4",
            "--attempts",
            "2",
            "--quiet",
            "--json",
            "--metrics-addr",
            &addr,
        ],
    );
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();

    // Once copies flow, cut one message in two: requests fail, some are sent again, some
    // objects use both attempts.
    let started = Instant::now();
    let mut cutting = false;
    let mut seen = None;
    while started.elapsed() < Duration::from_secs(120) && child.try_wait().unwrap().is_none() {
        let text = tokio::task::spawn_blocking(move || scrape(port)).await.unwrap();
        if let Some(text) = text {
            let copied = value(&text, "ferry_mirror_objects_copied_total").unwrap_or(0);
            if !cutting && copied > 0 {
                proxy.set_cut_one_in(Some(2));
                cutting = true;
            }
            let failed = value(&text, "ferry_mirror_objects_failed_total").unwrap_or(0);
            let copy_retries = value(&text, "ferry_mirror_copy_retries_total").unwrap_or(0);
            let retries = value(&text, "ferry_retries_total{side=\"destination\",op=\"put\"}").unwrap_or(0);
            if cutting && failed > 0 && copy_retries > 0 && retries > 0 {
                seen = Some((failed, copy_retries, retries, text));
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    proxy.set_cut_one_in(None);
    let (failed, copy_retries, retries, text) =
        seen.expect("a scrape during the run counted failed objects, copy retries and re-sent PUTs");
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    assert!(proxy.stats().cuts() > 0, "the proxy cut connections");
    for series in ["ferry_mirror_objects_failed_total", "ferry_mirror_copy_retries_total", "ferry_retries_total"] {
        assert!(text.contains(&format!("# TYPE {series} counter")), "{series} is typed: {text}");
    }
    assert!(total(&text, "ferry_retries_total") >= retries, "{text}");
    assert!(copy_retries > 0 && failed > 0, "{text}");
    let errors: u64 = text
        .lines()
        .filter(|l| l.starts_with("ferry_requests_total{side=\"destination\"") && !l.contains("status=\"ok\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert!(errors >= retries, "every retried PUT followed a failed request, counted by status: {text}");
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let final_failed = report["failed"].as_u64().unwrap();
    assert!(final_failed >= failed, "the report's {final_failed} failed includes the {failed} scraped");
    assert_eq!(out.status.code(), Some(1), "failed objects: exit 1");
}
