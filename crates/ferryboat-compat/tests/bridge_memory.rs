//! Memory through the object_store → ferry bridge: a 256 MiB stream into an
//! object_store-backed destination holds at most (concurrency + 1) parts, measured by a
//! counting global allocator (this test binary's only test, so nothing else allocates).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use ferryboat_compat::FromObjectStore;
use ferryboat_core::{ObjectPath, ObjectStore, ObjectStoreExt, PutOptions, UploadConfig};
use futures::StreamExt;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const MIB: usize = 1 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_256_mib_stream_holds_at_most_concurrency_plus_one_parts() {
    let dir = tempfile::tempdir().unwrap();
    let fs = object_store::local::LocalFileSystem::new_with_prefix(dir.path()).unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(FromObjectStore::new(Arc::new(fs)));
    let (part, concurrency, total) = (8 * MIB, 4usize, 256 * MIB);
    let body = futures::stream::iter(0..total / MIB).map(|i| Ok(Bytes::from(vec![i as u8; MIB]))).boxed();
    // A fixed window: the bound under test is the bridge's, not the window's growth.
    let config = UploadConfig {
        part_size: part as u64,
        concurrency,
        max_concurrency: concurrency,
        expected_size: Some(total as u64),
        part_attempts: 1,
        ..UploadConfig::default()
    };
    let key = ObjectPath::parse("big.bin").unwrap();

    let baseline = CURRENT.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    store.put_stream(&key, body, PutOptions::default(), config).await.unwrap();
    let peak = PEAK.load(Ordering::Relaxed) - baseline;

    let bound = (concurrency + 1) * part;
    eprintln!("peak {:.1} MiB above baseline; bound {} MiB", peak as f64 / MIB as f64, bound / MIB);
    assert!(peak <= bound, "peak {peak} bytes above baseline, more than (concurrency + 1) parts = {bound}");
    let written = std::fs::metadata(dir.path().join("big.bin")).unwrap().len();
    assert_eq!(written, total as u64);
    let head = store.head(&key).await.unwrap();
    assert_eq!(head.size, total as u64);
    // The bytes are the stream's, part by part.
    let tail = store.get_range(&key, (total - 1) as u64..total as u64).await.unwrap();
    assert_eq!(tail[0], (total / MIB - 1) as u8);
}
