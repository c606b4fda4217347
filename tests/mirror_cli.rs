//! The mirror as operators run it: `examples/mirror.rs` (a thin call into `ferryboat-cli`'s
//! `mirror`) as a child process against an S3
//! server (moto; the crash test against a real Ceph RGW too). Crashes (kill -9 at several points, then a re-run), concurrent shard
//! processes, bad URLs and unreachable endpoints.
//!
//! The example binary is built by `cargo test` itself (examples compile with the tests); a run
//! that built only this test target skips with the reason.

#![cfg(all(feature = "mirror", feature = "s3"))]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::s3_bucket;
use ferryboat::{ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_testkit::emulators::{self, skip, S3Emulator};
use futures::TryStreamExt;

/// `target/<profile>/examples/mirror`, next to this test's `deps/` directory.
fn mirror_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent()?.parent()?;
    let bin = profile_dir.join("examples").join(format!("mirror{}", std::env::consts::EXE_SUFFIX));
    bin.is_file().then_some(bin)
}

/// moto and the example binary, or `None` once the reason is printed (a failure when
/// emulators are required).
fn prerequisites(test: &str) -> Option<(S3Emulator, PathBuf)> {
    let Some(moto) = emulators::moto() else {
        skip(test, "moto is not available");
        return None;
    };
    let Some(bin) = mirror_binary() else {
        skip(test, "the mirror example is not built (run the whole `cargo test`, which builds it)");
        return None;
    };
    Some((moto, bin))
}

fn s3_url(emu: &S3Emulator, bucket: &str) -> String {
    format!("s3://{bucket}?endpoint={}&path_style=true&region={}", emu.endpoint, emu.region)
}

/// The example with the emulator's keys in its environment and nothing else from ours that
/// could point it at a real account.
fn mirror_command(bin: &Path, emu: &S3Emulator, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args(args).arg("--json").arg("--quiet");
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_ACCESS_KEY_ID", &emu.access_key)
        .env("AWS_SECRET_ACCESS_KEY", &emu.secret_key)
        .env("AWS_REGION", &emu.region)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null());
    cmd
}

fn report(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("the report is JSON ({e}); stdout: {stdout}; stderr: {}", String::from_utf8_lossy(&out.stderr))
    })
}

fn pseudo_random(len: usize, seed: u64) -> Bytes {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

/// Every key and its bytes, in listing order.
async fn snapshot(store: &dyn ObjectStore) -> Vec<(String, Bytes)> {
    let metas: Vec<_> = store.list(None).try_collect().await.unwrap();
    let mut out = Vec::with_capacity(metas.len());
    for m in metas {
        out.push((m.path.to_string(), store.get(&m.path).await.unwrap().bytes().await.unwrap()));
    }
    out
}

/// Polls until `ready` says so or `limit` passes; returns whether it did.
async fn wait_until<F, Fut>(limit: Duration, mut ready: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < limit {
        if ready().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

fn kill_hard(child: &mut Child) -> bool {
    // SIGKILL: no destructor, no abort of in-flight multipart uploads, exactly like a lost node.
    let still_running = child.try_wait().ok().flatten().is_none();
    let _ = child.kill();
    let _ = child.wait();
    still_running
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_copy_then_rerun_ends_identical_with_no_open_upload() {
    let test = "killed_mid_copy_then_rerun_ends_identical_with_no_open_upload";
    let Some((moto, bin)) = prerequisites(test) else { return };
    killed_then_rerun(moto, bin, s3_url).await;
}

/// The same crashes against a real Ceph RGW, opened through its `ceph` profile: the pending
/// uploads the killed runs leave are Ceph's own, listed and aborted by the re-run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_copy_then_rerun_on_ceph_rgw() {
    let test = "killed_mid_copy_then_rerun_on_ceph_rgw";
    let Some(ceph) = emulators::ceph_rgw() else {
        return skip(test, "Ceph RGW is not running (FERRY_TEST_CEPH; scripts/test starts it)");
    };
    let Some(bin) = mirror_binary() else {
        return skip(test, "the mirror example is not built (run the whole `cargo test`, which builds it)");
    };
    killed_then_rerun(ceph, bin, |emu, bucket| format!("ceph://{bucket}?endpoint={}", emu.endpoint)).await;
}

/// Kills the mirror at three points of a copy to `emu`, then re-runs it to completion.
async fn killed_then_rerun(emu: S3Emulator, bin: PathBuf, url: fn(&S3Emulator, &str) -> String) {
    let tmp = tempfile::tempdir().unwrap();
    let src_dir = tmp.path().join("src");
    let src = ferryboat::open(&src_dir.display().to_string()).await.unwrap();
    // Large objects go through multipart (5 MiB parts), many small ones give the kill points
    // between whole objects.
    for i in 0..4u64 {
        src.put(&ObjectPath::parse(format!("big/{i}.bin")).unwrap(), pseudo_random(21 << 20, i)).await.unwrap();
    }
    for i in 0..120u64 {
        let len = [0, 1, 4096, 70_000][i as usize % 4];
        src.put(&ObjectPath::parse(format!("small/{i:03}")).unwrap(), pseudo_random(len, 100 + i)).await.unwrap();
    }
    let (name, dst) = s3_bucket(&emu, "crash").await;
    let src_url = format!("file://{}", src_dir.display());
    let dst_url = url(&emu, &name);
    // The crashed runs' uploads are minutes old, not the default 24 h: treat any as abandoned.
    let args =
        ["--part-size", "5MiB", "--transfers", "3", "--max-in-flight", "32MiB", "--abort-uploads-older-than", "0s"];
    let (run_bin, run_emu, run_src, run_dst) = (bin.clone(), emu.clone(), src_url.clone(), dst_url.clone());
    let run = move || {
        let mut cmd = mirror_command(&run_bin, &run_emu, &[&run_src, &run_dst]);
        cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd
    };

    // Kill point 1: while a multipart upload is open on the server.
    let mut child = run().spawn().unwrap();
    let saw_upload = wait_until(Duration::from_secs(60), || async {
        dst.list_pending_uploads(None).await.map(|u| !u.is_empty()).unwrap_or(false)
    })
    .await;
    assert!(saw_upload, "the first run never opened a multipart upload");
    assert!(kill_hard(&mut child), "the first run finished before it could be killed");
    let orphans = dst.list_pending_uploads(None).await.unwrap().len();
    assert!(orphans > 0, "a process killed mid-upload leaves its multipart upload open on the server");

    // Kill point 2: after some objects have landed, whatever is in flight then.
    let mut child = run().spawn().unwrap();
    let dst_dyn: Arc<dyn ObjectStore> = dst.clone();
    let landed = wait_until(Duration::from_secs(90), || {
        let dst = dst_dyn.clone();
        async move {
            let n: Vec<_> = dst.list(None).try_collect().await.unwrap_or_default();
            n.len() >= 20
        }
    })
    .await;
    assert!(landed, "the second run copied nothing within 90 s");
    kill_hard(&mut child);

    // Kill point 3: right after start, mid-listing or mid-cleanup.
    let mut child = run().spawn().unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    kill_hard(&mut child);

    // The re-run finishes the job: what the crashes left open was aborted (by this run or by
    // the killed runs' own start-up cleanup), the rest is copied.
    let out = tokio::task::spawn_blocking(move || run().output().unwrap()).await.unwrap();
    let rep = report(&out);
    assert!(out.status.success(), "the final run ends in sync: {rep:#}");
    assert_eq!(rep["in_sync"], true);
    assert!(rep["skipped"].as_u64().unwrap() >= 20, "what the killed runs finished is not copied again: {rep:#}");

    assert_eq!(snapshot(dst.as_ref()).await, snapshot(src.as_ref()).await, "the destination is byte-identical");
    let left = dst.list_pending_uploads(None).await.unwrap();
    assert!(left.is_empty(), "no multipart upload is left open (and billed): {left:?}");

    // And a run after that has nothing to do.
    let mut cmd = mirror_command(&bin, &emu, &[&src_url, &dst_url]);
    cmd.args(args);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let rep = report(&out);
    assert!(out.status.success(), "{rep:#}");
    assert_eq!(rep["copied"], 0, "{rep:#}");
}

/// `cargo run --example mirror` with no arguments, as the README shows it: a generated
/// dataset mirrored between two local directories, twice, the second run copying nothing.
/// The demo's directories live under the temporary directory, given its own here.
#[test]
fn the_example_without_arguments_runs_the_local_demo_twice() {
    let Some(bin) = mirror_binary() else {
        return skip("the_example_without_arguments_runs_the_local_demo_twice", "the mirror example is not built");
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(&bin)
        .args(["--json", "--demo-objects", "40"])
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "stdout: {stdout}; stderr: {}", String::from_utf8_lossy(&out.stderr));
    let json_start = stdout.find('{').expect("the reports follow the demo's first line");
    let reports: Vec<serde_json::Value> =
        serde_json::Deserializer::from_str(&stdout[json_start..]).into_iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(reports.len(), 2, "two runs: {stdout}");
    assert_eq!(reports[0]["copied"], 41, "40 generated objects and the 12 MiB one: {stdout}");
    assert_eq!((reports[1]["copied"].as_u64(), reports[1]["skipped"].as_u64()), (Some(0), Some(41)), "{stdout}");
    assert!(tmp.path().join("ferry-demo/dst/big/twelve-mib.bin").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_shard_processes_copy_every_key_exactly_once() {
    let test = "concurrent_shard_processes_copy_every_key_exactly_once";
    let Some((moto, bin)) = prerequisites(test) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let src_dir = tmp.path().join("src");
    let src = ferryboat::open(&src_dir.display().to_string()).await.unwrap();
    for i in 0..300u64 {
        src.put(&ObjectPath::parse(format!("k/{i:04}")).unwrap(), pseudo_random(1 + (i as usize * 37) % 5000, i))
            .await
            .unwrap();
    }
    let (name, dst) = s3_bucket(&moto, "shards").await;
    let src_url = format!("file://{}", src_dir.display());
    let dst_url = s3_url(&moto, &name);
    const N: usize = 3;
    let children: Vec<Child> = (0..N)
        .map(|k| {
            let shard = format!("{k}/{N}");
            let mut cmd = mirror_command(&bin, &moto, &[&src_url, &dst_url, "--shard", &shard]);
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    let outs = tokio::task::spawn_blocking(move || {
        children.into_iter().map(|c| c.wait_with_output().unwrap()).collect::<Vec<_>>()
    })
    .await
    .unwrap();
    let mut copied = 0;
    for out in &outs {
        let rep = report(out);
        assert!(out.status.success(), "{rep:#}");
        let n = rep["copied"].as_u64().unwrap();
        assert!(n > 0, "every shard has keys of its own: {rep:#}");
        copied += n;
    }
    assert_eq!(copied, 300, "the shards together copied each key exactly once");
    assert_eq!(snapshot(dst.as_ref()).await, snapshot(src.as_ref()).await);

    // Listed directory by directory (S3 delimiter listings on one side, the local walk on
    // the other), the same two trees still match key for key.
    let out = mirror_command(&bin, &moto, &[&src_url, &dst_url, "--list-by-level"]).output().unwrap();
    let rep = report(&out);
    assert!(out.status.success(), "{rep:#}");
    assert_eq!((rep["copied"].as_u64(), rep["skipped"].as_u64()), (Some(0), Some(300)), "{rep:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_urls_and_unreachable_endpoints_exit_nonzero_and_delete_nothing() {
    let test = "bad_urls_and_unreachable_endpoints_exit_nonzero_and_delete_nothing";
    let Some((moto, bin)) = prerequisites(test) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dst_dir = tmp.path().join("dst");
    let dst = ferryboat::open(&dst_dir.display().to_string()).await.unwrap();
    dst.put(&ObjectPath::parse("keep/me").unwrap(), Bytes::from_static(b"precious")).await.unwrap();
    let dst_url = format!("file://{}", dst_dir.display());

    // A port nothing listens on: bind, note, close.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unreachable = format!("s3://nothing?endpoint=http://127.0.0.1:{closed}&path_style=true&region=us-east-1");
    let cases: [(&str, &str); 4] = [
        ("ftp://host/bucket", "scheme"),
        ("s3://", "bucket"),
        ("nosuchprovider://fr-par/b", "nosuchprovider"),
        (&unreachable, "127.0.0.1"),
    ];
    for (src_url, mentions) in cases {
        let out = mirror_command(&bin, &moto, &[src_url, &dst_url, "--delete", "--attempts", "1"])
            .env("AWS_MAX_ATTEMPTS", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{src_url}: a bad source is a failure; stdout: {stdout}");
        assert!(
            format!("{stderr}{stdout}").to_lowercase().contains(&mentions.to_lowercase()),
            "{src_url}: the error says what is wrong (expected it to mention `{mentions}`); stderr: {stderr}; stdout: {stdout}"
        );
        assert_eq!(
            dst.get(&ObjectPath::parse("keep/me").unwrap()).await.unwrap().bytes().await.unwrap(),
            Bytes::from_static(b"precious"),
            "{src_url}: nothing is deleted on the strength of a source that could not be read"
        );
    }
}
