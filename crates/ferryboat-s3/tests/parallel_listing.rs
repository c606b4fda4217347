//! The parallel listing on S3 servers on 127.0.0.1: exactly the sequential listing, awkward
//! keys included (what each server keeps of them), through `start-after` key ranges.

mod support;

use std::sync::Arc;

use ferryboat_core::ObjectStore;
use ferryboat_testkit::emulators::{self, S3Emulator};
use ferryboat_testkit::ranges::parallel_listing_matches;
use support::{config, emulator_quirks, fresh_bucket, open};

async fn on(emu: S3Emulator, n: usize) {
    let bucket = fresh_bucket(emu.name);
    let store: Arc<dyn ObjectStore> =
        Arc::new(open(&emu, config(&emu, &bucket, "generic", emulator_quirks(&emu))).await);
    assert!(store.capabilities().list_seeks);
    let total = parallel_listing_matches(&store, n).await;
    assert!(total > n, "{total}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn moto_parallel_listing_is_the_sequential_listing() {
    match emulators::moto() {
        Some(emu) => on(emu, 300).await,
        None => emulators::skip("moto_parallel_listing_is_the_sequential_listing", "moto is not available"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3s_fs_parallel_listing_is_the_sequential_listing() {
    match emulators::s3s() {
        Some(emu) => on(emu, 300).await,
        None => emulators::skip("s3s_fs_parallel_listing_is_the_sequential_listing", "s3s-fs is not available"),
    }
}
