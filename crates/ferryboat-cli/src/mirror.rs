//! `ferryboat mirror SRC DST`: replicate a bucket from any store ferry opens to any other.
//! With neither URL, a demo: a generated dataset mirrored between two local directories,
//! twice, the second run copying nothing.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use ferryboat::mirror::{
    human_bytes, parse_duration, parse_size, CompareMode, Mirror, MirrorOptions, MirrorReport, Shard, VerifyMode,
};
use ferryboat::{ObjectPath, ObjectStore, ObjectStoreExt};

use crate::exit;
use crate::out::outln;
use crate::progress::Watcher;

/// The flags of `mirror` (and of the `mirror` example, which takes the same).
#[derive(Args, Debug, Clone)]
pub struct MirrorArgs {
    /// Source URL (memory://, file:///dir, s3://bucket/prefix, scaleway://…). With neither
    /// URL: a local demo.
    pub src: Option<String>,
    /// Destination URL.
    pub dst: Option<String>,
    /// Delete destination objects the source does not have.
    #[arg(long)]
    pub delete: bool,
    /// Abort before deleting anything if more than N objects would be deleted.
    #[arg(long, value_name = "N")]
    pub max_delete: Option<u64>,
    /// Write nothing; report what would be copied and deleted, and what it would cost.
    #[arg(long)]
    pub dry_run: bool,
    /// What counts as changed: hash (default), etag, size-mtime, size.
    #[arg(long, default_value = "hash")]
    pub compare: CompareMode,
    /// How copies are checked: none, size (default: one HEAD), hash (read back).
    #[arg(long, default_value = "size")]
    pub verify: VerifyMode,
    /// Only keys under this prefix.
    #[arg(long)]
    pub prefix: Option<String>,
    /// Only keys matching this glob (repeatable).
    #[arg(long)]
    pub include: Vec<String>,
    /// Leave keys matching this glob alone (repeatable).
    #[arg(long)]
    pub exclude: Vec<String>,
    /// Smallest object taken (e.g. 1k, 5MiB).
    #[arg(long, value_parser = size)]
    pub min_size: Option<u64>,
    /// Largest object taken.
    #[arg(long, value_parser = size)]
    pub max_size: Option<u64>,
    /// Only objects modified within this duration (e.g. 7d, 12h).
    #[arg(long, value_parser = duration)]
    pub newer_than: Option<Duration>,
    /// Only objects modified longer ago than this duration.
    #[arg(long, value_parser = duration)]
    pub older_than: Option<Duration>,
    /// Process only shard K of N (0-based), e.g. 3/8.
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Only keys after this one (exclusive); both sides are listed from it (see `split`).
    #[arg(long)]
    pub after: Option<String>,
    /// Only keys up to this one (inclusive); both listings stop there.
    #[arg(long)]
    pub upto: Option<String>,
    /// Objects copied at once, fixed. Without it the window starts at 64 and grows while
    /// throughput rises, up to --max-transfers.
    #[arg(long)]
    pub transfers: Option<usize>,
    /// The most objects copied at once when the window adapts.
    #[arg(long, default_value_t = 512)]
    pub max_transfers: usize,
    /// Objects compared at once.
    #[arg(long, default_value_t = 64)]
    pub checkers: usize,
    /// Listing entries read ahead per side.
    #[arg(long, default_value_t = 4096)]
    pub list_read_ahead: usize,
    /// Listing requests in flight per side, as key ranges, where the store's listing starts
    /// at an offset (S3, GCS); 1 lists page after page.
    #[arg(long, default_value_t = 16)]
    pub list_concurrency: usize,
    /// List one directory level at a time instead of flat (for servers whose flat listing
    /// re-reads the bucket for every page).
    #[arg(long)]
    pub list_by_level: bool,
    /// Object bytes in memory at once (e.g. 256MiB).
    #[arg(long, value_parser = size, default_value = "256MiB")]
    pub max_in_flight: u64,
    /// Multipart part size.
    #[arg(long, value_parser = size, default_value = "8MiB")]
    pub part_size: u64,
    /// Parts of one large object uploaded at once when its upload starts; the upload's
    /// window then grows while throughput rises, up to --max-part-concurrency, with memory
    /// borrowed from --max-in-flight only while no other copy needs it.
    #[arg(long, default_value_t = MirrorOptions::default().part_concurrency)]
    pub part_concurrency: usize,
    /// The most parts of one large object uploaded at once (equal to --part-concurrency:
    /// fixed).
    #[arg(long, default_value_t = MirrorOptions::default().max_part_concurrency)]
    pub max_part_concurrency: usize,
    /// Attempts per object.
    #[arg(long, default_value_t = 4)]
    pub attempts: u32,
    /// Abort unfinished multipart uploads under the destination prefix only when started at
    /// least this long ago (0s: every one, including those of unknown age).
    #[arg(long, value_parser = duration, default_value = "24h")]
    pub abort_uploads_older_than: Duration,
    /// Leave every unfinished multipart upload alone.
    #[arg(long)]
    pub keep_pending_uploads: bool,
    /// Price per GiB leaving the source, for the exit bill.
    #[arg(long)]
    pub egress_price_per_gb: Option<f64>,
    /// With --dry-run: the source's catalogue provider, for the exit plan, when its store
    /// does not say (as `plan --source-provider`).
    #[arg(long, value_name = "ID")]
    pub source_provider: Option<String>,
    /// With --dry-run: the destination's catalogue provider, for the exit plan.
    #[arg(long, value_name = "ID")]
    pub destination_provider: Option<String>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
    /// Interval of the plain progress lines written when stderr is not a terminal.
    #[arg(long, value_parser = interval, default_value = "10s")]
    pub progress_every: Duration,
    /// Serve Prometheus metrics on this address while the mirror runs (e.g. 127.0.0.1:9464).
    #[arg(long, value_name = "HOST:PORT")]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Print the process's peak resident memory at the end (Linux).
    #[arg(long)]
    pub print_peak_rss: bool,
    /// Demo only: objects to generate.
    #[arg(long, default_value_t = 300)]
    pub demo_objects: usize,
    /// Demo only: size of each generated object (default: varied sizes).
    #[arg(long, value_parser = size)]
    pub demo_object_size: Option<u64>,
}

fn size(s: &str) -> Result<u64, String> {
    parse_size(s).map_err(|e| e.to_string())
}

fn duration(s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

/// A duration that may also be given in milliseconds (`500ms`).
fn interval(s: &str) -> Result<Duration, String> {
    match s.trim().strip_suffix("ms").map(str::parse::<u64>) {
        Some(Ok(ms)) => Ok(Duration::from_millis(ms)),
        Some(Err(_)) => Err(format!("bad duration {s:?}: use e.g. 500ms, 10s, 1m")),
        None => duration(s),
    }
}

/// The engine's options from the flags.
pub fn options(args: &MirrorArgs) -> ferryboat::Result<MirrorOptions> {
    let mut opts = MirrorOptions::default()
        .delete(args.delete)
        .dry_run(args.dry_run)
        .compare(args.compare)
        .verify(args.verify)
        .checkers(args.checkers)
        .list_read_ahead(args.list_read_ahead)
        .list_concurrency(args.list_concurrency)
        .list_by_level(args.list_by_level)
        .max_in_flight_bytes(args.max_in_flight)
        .part_size(args.part_size)
        .part_concurrency(args.part_concurrency)
        .max_part_concurrency(args.max_part_concurrency)
        .attempts(args.attempts)
        .abort_pending_uploads(!args.keep_pending_uploads)
        .abandoned_upload_age(args.abort_uploads_older_than);
    opts = match args.transfers {
        Some(n) => opts.transfers(n),
        None => {
            let start = opts.transfers.min(args.max_transfers);
            opts.adaptive_transfers(start, args.max_transfers)
        }
    };
    if let Some(n) = args.max_delete {
        opts = opts.max_delete(n);
    }
    if let Some(shard) = args.shard {
        opts = opts.shard(shard);
    }
    if let Some(price) = args.egress_price_per_gb {
        opts = opts.egress_price_per_gb(price);
    }
    if let Some(prefix) = &args.prefix {
        opts = opts.prefix(ObjectPath::parse(prefix.trim_matches('/'))?);
    }
    // Taken as typed: a range boundary is a key, leading or trailing slashes included.
    opts.filters.after = args.after.as_deref().map(ObjectPath::parse).transpose()?;
    opts.filters.upto = args.upto.as_deref().map(ObjectPath::parse).transpose()?;
    for g in &args.include {
        opts = opts.include(g.clone());
    }
    for g in &args.exclude {
        opts = opts.exclude(g.clone());
    }
    let mut filters = opts.filters.clone();
    filters.min_size = args.min_size;
    filters.max_size = args.max_size;
    filters.newer_than = args.newer_than;
    filters.older_than = args.older_than;
    Ok(opts.filters(filters))
}

async fn run_once(
    src: Arc<dyn ObjectStore>,
    dst: Arc<dyn ObjectStore>,
    opts: MirrorOptions,
    args: &MirrorArgs,
) -> ferryboat::Result<MirrorReport> {
    let requests = Arc::new(crate::metrics::Requests::default());
    let (src, dst) = match args.metrics_addr {
        Some(_) => {
            (crate::metrics::counted(src, "source", &requests), crate::metrics::counted(dst, "destination", &requests))
        }
        None => (src, dst),
    };
    let mirror = Mirror::new(src, dst, opts);
    let server = match args.metrics_addr {
        Some(addr) => Some(crate::metrics::serve(addr, mirror.progress(), requests).await?),
        None => None,
    };
    let watcher = Watcher::start(mirror.progress(), args.quiet || args.json, args.progress_every);
    let result = mirror.run().await;
    if let Some(w) = watcher {
        w.finish().await;
    }
    if let Some(s) = server {
        s.abort();
    }
    result
}

fn print(report: &MirrorReport, json: bool, label: &str) {
    if json {
        match serde_json::to_string_pretty(report) {
            Ok(s) => outln!("{s}"),
            Err(e) => eprintln!("error: cannot encode the report: {e}"),
        }
    } else {
        outln!("== {label} ==\n{report}\n");
    }
}

fn peak_rss() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
}

/// Fills `store` with a demo dataset: varied sizes, tricky keys, one 12 MiB object.
async fn generate(store: &dyn ObjectStore, count: usize, fixed: Option<u64>) -> ferryboat::Result<(usize, u64)> {
    let names = ["report.csv", "photo 01.jpg", "café/menu.txt", "100%+#?.bin", "deep/a/b/c/d/leaf", "Ω/日本語.txt"];
    let mut bytes = 0u64;
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for i in 0..count {
        let len = fixed.unwrap_or_else(|| [0, 1, 100, 4096, 65_536, 300_000][i % 6]) as usize;
        let data: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let key = ObjectPath::parse(format!("dir{:02}/{i:05}-{}", i % 17, names[i % names.len()]))?;
        bytes += len as u64;
        store.put(&key, data.into()).await?;
    }
    if fixed.is_none() {
        let big: Vec<u8> = (0..12 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        bytes += big.len() as u64;
        store.put(&ObjectPath::parse("big/twelve-mib.bin")?, big.into()).await?;
        return Ok((count + 1, bytes));
    }
    Ok((count, bytes))
}

async fn demo(args: &MirrorArgs) -> ferryboat::Result<bool> {
    let root = std::env::temp_dir().join("ferry-demo");
    let (src_dir, dst_dir) = (root.join("src"), root.join("dst"));
    // Start from scratch: these two directories belong to the demo alone.
    for dir in [&src_dir, &dst_dir] {
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .map_err(|e| ferryboat::Error::invalid_config(format!("cannot reset {}: {e}", dir.display())))?;
        }
    }
    let src = ferryboat::open(&format!("file://{}", src_dir.display())).await?;
    let dst = ferryboat::open(&format!("file://{}", dst_dir.display())).await?;
    let started = Instant::now();
    let (objects, bytes) = generate(src.as_ref(), args.demo_objects, args.demo_object_size).await?;
    outln!(
        "demo: generated {objects} objects ({}) in {} in {:.2}s; mirroring to {}\n",
        human_bytes(bytes),
        src_dir.display(),
        started.elapsed().as_secs_f64(),
        dst_dir.display()
    );
    let opts = options(args)?;
    let first = run_once(src.clone(), dst.clone(), opts.clone(), args).await?;
    print(&first, args.json, "run 1: initial copy");
    let second = run_once(src, dst, opts, args).await?;
    print(&second, args.json, "run 2: same command again (incremental: nothing to copy)");
    Ok(first.in_sync && second.in_sync && second.copied == 0)
}

async fn real(args: &MirrorArgs, src_url: &str, dst_url: &str) -> ferryboat::Result<bool> {
    let opts = options(args)?;
    let src = crate::open(src_url).await?;
    let dst = crate::open(dst_url).await?;
    let transfers = opts.transfers;
    let report = run_once(src.clone(), dst.clone(), opts, args).await?;
    if !args.dry_run {
        print(&report, args.json, "mirror");
        return Ok(report.in_sync);
    }
    // A dry run ends with what the copy would cost: the same plan `plan` prints, for the
    // objects this run found to copy rather than the whole source.
    let plan = crate::plan::of_dry_run(
        &report,
        (args.source_provider.as_deref(), src.as_ref()),
        (args.destination_provider.as_deref(), dst.as_ref()),
        transfers,
    );
    if args.json {
        let encoded = serde_json::to_value(&report).and_then(|mut v| {
            v["exit_plan"] = match &plan {
                Ok(p) => serde_json::to_value(p)?,
                Err(e) => serde_json::json!({ "error": e.to_string() }),
            };
            serde_json::to_string_pretty(&v)
        });
        match encoded {
            Ok(s) => outln!("{s}"),
            Err(e) => eprintln!("error: cannot encode the report: {e}"),
        }
    } else {
        print(&report, false, "dry run");
        match &plan {
            Ok(p) => outln!("== exit plan ==\n{p}\n"),
            Err(e) => outln!("no exit plan: {e}\n"),
        }
    }
    Ok(report.in_sync)
}

/// Runs `mirror`: 0 when source and destination match at the end, 1 when objects failed or
/// the run stopped on an error a retry may fix, 2 for bad input.
pub async fn run(args: MirrorArgs) -> ExitCode {
    let outcome = match (&args.src, &args.dst) {
        (None, None) => demo(&args).await,
        (Some(src), Some(dst)) => real(&args, src, dst).await,
        _ => Err(ferryboat::Error::invalid_config("give both SRC and DST, or neither for the demo")),
    };
    if args.print_peak_rss {
        eprintln!("peak RSS: {}", peak_rss().unwrap_or_else(|| "unknown".into()));
    }
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(exit::FAILED),
        Err(e) => exit::report(&e),
    }
}

/// The `mirror` example's arguments: the flags of `mirror`, without a subcommand.
#[derive(clap::Parser, Debug)]
#[command(about = "Mirror a bucket between any two stores ferry opens (no arguments: a local demo)")]
struct ExampleArgs {
    #[command(flatten)]
    mirror: MirrorArgs,
}

/// `main` of the `mirror` example of the `ferryboat` crate: `ferryboat mirror` without the
/// subcommand word.
pub fn example_main<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::Parser;
    let parsed = match ExampleArgs::try_parse_from(args) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::BAD_INPUT } else { exit::OK });
        }
    };
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt.block_on(run(parsed.mirror)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::from(exit::FAILED)
        }
    }
}
