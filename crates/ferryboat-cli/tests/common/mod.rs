//! Shared by the CLI's tests: the built `ferryboat` binary as a child process, buckets on
//! the emulators, and reading its output.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ferryboat::s3::{Credentials, S3Config, S3Store};
use ferryboat_testkit::emulators::S3Emulator;

/// The binary cargo built for these tests (`target/…/ferryboat`), not `cargo run`.
pub const BIN: &str = env!("CARGO_BIN_EXE_ferryboat");

/// `ferryboat ARGS` with `emu`'s keys (if any) in its environment and no other AWS,
/// Azure or Google setting from ours.
pub fn ferryboat(emu: Option<&S3Emulator>, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("AZURE_") || k.starts_with("GOOGLE_") || k.starts_with("FERRY_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_EC2_METADATA_DISABLED", "true").stdin(Stdio::null());
    if let Some(emu) = emu {
        cmd.env("AWS_ACCESS_KEY_ID", &emu.access_key)
            .env("AWS_SECRET_ACCESS_KEY", &emu.secret_key)
            .env("AWS_REGION", &emu.region);
    }
    cmd
}

/// Runs `cmd` and returns its output.
pub fn run(mut cmd: Command) -> Output {
    cmd.output().expect("the ferryboat binary runs")
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The exit code (`-1` if killed by a signal).
pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// stdout parsed as one JSON document.
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is JSON ({e}); stdout: {}; stderr: {}", stdout(out), stderr(out)))
}

/// A name no other test process uses.
pub fn unique(stem: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{stem}-{}-{nanos:x}", std::process::id())
}

/// A new, empty bucket on `emu`, and a store on it.
pub async fn s3_bucket(emu: &S3Emulator, stem: &str) -> (String, Arc<S3Store>) {
    let name = unique(stem);
    let store = S3Store::new(
        S3Config::new(&name)
            .with_endpoint(&emu.endpoint)
            .with_region(&emu.region)
            .with_path_style(true)
            .with_allow_http(true)
            .with_credentials(Credentials::new(&emu.access_key, &emu.secret_key)),
    )
    .unwrap();
    store.create_bucket().await.expect("bucket created");
    (name, Arc::new(store))
}

/// `s3://bucket` on `emu`, with its endpoint in the query.
pub fn s3_url(emu: &S3Emulator, bucket: &str) -> String {
    format!("s3://{bucket}?endpoint={}&path_style=true&region={}", emu.endpoint, emu.region)
}

/// `s3://bucket/key` on `emu`.
pub fn s3_object_url(emu: &S3Emulator, bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}?endpoint={}&path_style=true&region={}", emu.endpoint, emu.region)
}

/// A local directory as a URL.
pub fn file_url(dir: &Path) -> String {
    format!("file://{}", dir.display())
}
