//! Peak memory of the mirror's diff over a very large bucket.
//!
//! Two synthetic stores list N keys each, generated lazily in byte order (1 in 100 differs in
//! size, 1 in 1,000 exists only on one side), so the listing itself costs no memory and what
//! is measured is the engine: the merge of two sorted streams, the comparison, the plan. The
//! mirror runs as a dry run comparing size and modification time, so no object is read.
//!
//! ```text
//! cargo bench --bench mirror_diff -- [--keys N]      # default 1,000,000
//! ```
//!
//! Prints the wall time, the plan and the process's peak RSS, and writes
//! `target/bench/mirror_diff.json`.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use ferryboat::mirror::{CompareMode, Mirror, MirrorOptions};
use ferryboat::{
    Capabilities, Error, GetOptions, GetResult, Jurisdiction, ListOptions, MultipartUpload, ObjectMeta, ObjectPath,
    ObjectStore, PutOptions, PutResult, Result, StoreInfo,
};
use futures::stream::{self, BoxStream, StreamExt};

/// A bucket of `keys` objects that exists only as a listing.
#[derive(Debug)]
struct SyntheticBucket {
    keys: u64,
    /// Which side: the two differ in a few keys.
    side: u8,
    info: StoreInfo,
    caps: Capabilities,
}

impl SyntheticBucket {
    fn new(keys: u64, side: u8) -> Self {
        let mut info = StoreInfo::new("synthetic", "synthetic bucket", Jurisdiction::Eu);
        info.bucket = Some(format!("side-{side}"));
        SyntheticBucket { keys, side, info, caps: Capabilities::default() }
    }

    fn entry(&self, i: u64) -> Option<ObjectMeta> {
        // One key in a thousand exists only on one side (alternating), one in a hundred
        // changed size: the diff has real work to plan.
        if i % 1000 == 7 && (i / 1000) % 2 == u64::from(self.side) {
            return None;
        }
        let size = 4096 + if i % 100 == 3 { u64::from(self.side) } else { 0 };
        let path = ObjectPath::parse(format!("data/{:02}/{i:09}.bin", i % 97)).ok()?;
        Some(ObjectMeta::new(path, size, UNIX_EPOCH + Duration::from_secs(1_700_000_000)))
    }

    fn unsupported(&self, what: &str) -> Error {
        Error::not_supported("synthetic", what)
    }
}

#[async_trait]
impl ObjectStore for SyntheticBucket {
    fn info(&self) -> &StoreInfo {
        &self.info
    }
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }
    async fn put_opts(&self, _: &ObjectPath, _: Bytes, _: PutOptions) -> Result<PutResult> {
        Err(self.unsupported("put"))
    }
    async fn put_multipart_opts(&self, _: &ObjectPath, _: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        Err(self.unsupported("multipart"))
    }
    async fn get_opts(&self, _: &ObjectPath, _: GetOptions) -> Result<GetResult> {
        Err(self.unsupported("get"))
    }
    async fn delete(&self, _: &ObjectPath) -> Result<()> {
        Err(self.unsupported("delete"))
    }
    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        // Keys are `data/NN/IIIIIIIII.bin`: generate each two-digit directory in turn, in
        // byte order, lazily.
        let me = SyntheticBucket::new(self.keys, self.side);
        let me = Arc::new(me);
        let dirs = stream::iter(0..97u64);
        let me2 = me.clone();
        let all = dirs.flat_map(move |d| {
            let me = me2.clone();
            let first = d;
            stream::iter((first..me.keys).step_by(97)).filter_map(move |i| {
                let e = me.entry(i);
                async move { e }
            })
        });
        let all = all.filter(move |m| {
            let keep = opts.prefix.as_ref().is_none_or(|p| m.path.is_under(p))
                && opts.offset.as_ref().is_none_or(|o| m.path.as_str() > o.as_str());
            async move { keep }
        });
        all.map(Ok).boxed()
    }
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn arg_value(args: &[String], flag: &str) -> Option<String> {
    args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let keys: u64 = match arg_value(&args, "--keys").map(|v| v.replace('_', "").parse()) {
        None => 1_000_000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("mirror_diff: --keys wants a number: {e}");
            std::process::exit(2);
        }
    };
    let src: Arc<dyn ObjectStore> = Arc::new(SyntheticBucket::new(keys, 0));
    let dst: Arc<dyn ObjectStore> = Arc::new(SyntheticBucket::new(keys, 1));
    let opts = MirrorOptions::default().dry_run(true).delete(true).compare(CompareMode::SizeMtime);
    let rss_before = peak_rss_kib().unwrap_or(0);
    let started = Instant::now();
    let report = match Mirror::new(src, dst, opts).run().await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mirror_diff: the diff failed: {e}");
            std::process::exit(1);
        }
    };
    let secs = started.elapsed().as_secs_f64();
    let rss = peak_rss_kib().unwrap_or(0);
    println!(
        "mirror diff of {keys} keys per side: {secs:.2}s ({:.0} keys/s), plan: {} to copy, {} to delete, {} unchanged; peak RSS {:.1} MiB (before the run {:.1} MiB)",
        keys as f64 / secs,
        report.copied,
        report.extraneous,
        report.skipped,
        rss as f64 / 1024.0,
        rss_before as f64 / 1024.0,
    );
    let json = serde_json::json!({
        "bench": "mirror_diff",
        "keys": keys,
        "secs": secs,
        "peak_rss_kib": rss,
        "to_copy": report.copied,
        "to_delete": report.extraneous,
        "unchanged": report.skipped,
        "at": SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
    });
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    if let Err(e) =
        std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(dir.join("mirror_diff.json"), json.to_string()))
    {
        eprintln!("mirror_diff: could not write the results: {e}");
    }
}
