//! The awkward-key corpus on real S3 servers on 127.0.0.1. What each server keeps and
//! refuses was measured; the expectations below are those measurements (emulators, not the
//! clouds: AWS S3 stores every corpus key).

mod support;

use std::sync::Arc;

use ferryboat_core::{ErrorKind, ObjectStore};
use ferryboat_testkit::emulators::{self, S3Emulator};
use ferryboat_testkit::suite::awkward_keys_except;
use support::{config, emulator_quirks, fresh_bucket, open};

async fn on(emu: S3Emulator, refused: &[(&str, ErrorKind)], not_run: &[(&str, &str)]) {
    let bucket = fresh_bucket(emu.name);
    // A key refused with 500 is retried by the backend like any 500 (30 attempts by default,
    // about half a minute): two attempts keep the refusals quick and still retry each once.
    let config = config(&emu, &bucket, "generic", emulator_quirks(&emu)).with_max_attempts(2);
    let store: Arc<dyn ObjectStore> = Arc::new(open(&emu, config).await);
    awkward_keys_except(&store, refused, not_run).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn moto_keeps_every_awkward_key() {
    match emulators::moto() {
        // moto answers a PUT of a key holding a line feed with 404 (AWS S3 stores it).
        Some(emu) => on(emu, &[("newline", ErrorKind::NotFound)], &[]).await,
        None => emulators::skip("moto_keeps_every_awkward_key", "moto is not available"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3s_fs_keeps_or_refuses_each_awkward_key() {
    match emulators::s3s() {
        // s3s-fs keeps objects as files: it refuses folder markers with a body (400), keys a
        // file system cannot name (500), and stores `a//b` and dot segments under the
        // resolved path, which the awkward suite cannot check, so they are not run there.
        Some(emu) => {
            let refused = [
                ("root-folder-marker", ErrorKind::Generic),
                ("folder-marker", ErrorKind::Generic),
                ("trailing-slashes", ErrorKind::Generic),
                ("leading-slash", ErrorKind::Unavailable),
                ("dotdot-last", ErrorKind::Unavailable),
                ("dir-child", ErrorKind::Unavailable),
                ("long-segment", ErrorKind::Unavailable),
            ];
            let aliases = "s3s-fs stores it under another name (the path its file system resolves)";
            let not_run = [
                ("double-slash", aliases),
                ("dot-segment", aliases),
                ("dotdot-segment", aliases),
                ("dot-last", aliases),
                ("key-1024-bytes", "s3s-fs answers 500 yet lists the key afterwards"),
            ];
            on(emu, &refused, &not_run).await
        }
        None => emulators::skip("s3s_fs_keeps_or_refuses_each_awkward_key", "s3s-fs is not available"),
    }
}
