//! What the two benchmark harnesses share: arguments, the interleaved runner, medians,
//! peak memory, the printed table and the JSON file.
//!
//! Self-timed rather than criterion: on a shared 2-core machine the load drifts within
//! seconds, so contenders run round-robin inside each case (A B C D A B C D …) and are
//! compared by the medians of samples taken side by side.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{json, Value};

pub const KIB: u64 = 1024;
pub const MIB: u64 = 1024 * KIB;
/// Preferred part size of every streaming upload, and its parts in flight.
pub const PART_SIZE: u64 = 8 * MIB;
pub const PART_CONCURRENCY: usize = 4;
/// Chunk size the streaming uploads are fed with (as a reader or a network source would).
pub const FEED_CHUNK: u64 = MIB;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type Res<T> = std::result::Result<T, BoxError>;

/// Command line: `--quick` (the default), `--scale N` (or `FERRY_BENCH_SCALE`), `--out DIR`,
/// `--filter TEXT`. Arguments cargo adds (`--bench`) and unknown ones are ignored.
#[derive(Debug, Clone)]
pub struct Args {
    pub scale: u32,
    pub out: PathBuf,
    pub filter: Option<String>,
    /// The S3 server the engines bench runs on: `s3s-fs` (default), `ceph-rgw` or `seaweedfs`.
    pub server: String,
}

impl Args {
    pub fn parse() -> Args {
        let mut scale: u32 = std::env::var("FERRY_BENCH_SCALE").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(1);
        let mut out = workspace_root().join("target/bench");
        let mut filter = None;
        let mut server = std::env::var("FERRY_BENCH_SERVER").unwrap_or_else(|_| "s3s-fs".to_owned());
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
                None => (arg.clone(), None),
            };
            let mut value = || inline.clone().or_else(|| args.next());
            match name.as_str() {
                "--quick" => scale = 1,
                "--scale" => match value().and_then(|v| v.trim().parse().ok()) {
                    Some(n) => scale = n,
                    None => eprintln!("--scale wants a positive integer; keeping {scale}"),
                },
                "--out" => {
                    if let Some(v) = value() {
                        out = PathBuf::from(v);
                    }
                }
                "--filter" => filter = value(),
                "--server" => {
                    if let Some(v) = value() {
                        server = v;
                    }
                }
                "-h" | "--help" => {
                    println!(
                        "options: --quick (default, scale 1) | --scale N (or FERRY_BENCH_SCALE=N: N times the \
                         rounds) | --out DIR (default target/bench) | --filter TEXT (cases whose name contains it) | --server \
                         s3s-fs|ceph-rgw|seaweedfs (or FERRY_BENCH_SERVER; engines only)"
                    );
                    std::process::exit(0);
                }
                _ => {}
            }
        }
        Args { scale: scale.max(1), out, filter, server }
    }

    pub fn wants(&self, case: &Case) -> bool {
        self.filter.as_deref().is_none_or(|f| case.name().contains(f))
    }
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The operations measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// One PUT of the whole body.
    Put,
    /// A whole object read as a stream.
    Get,
    /// The middle half of an object.
    RangedGet,
    /// Every key under a prefix of `LIST_KEYS` objects.
    List,
    /// The body fed in 1 MiB chunks to the engine's streaming (multipart) writer.
    Multipart,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Put => "put",
            Op::Get => "get",
            Op::RangedGet => "ranged_get",
            Op::List => "list",
            Op::Multipart => "multipart",
        }
    }
}

/// One cell of the matrix: an operation on objects of one size.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub op: Op,
    /// Object size (for `List`: the number of keys).
    pub size: u64,
    /// Operations per timed sample, so that one sample is long enough to time.
    pub ops: u32,
    /// Timed samples per contender.
    pub rounds: u32,
}

impl Case {
    pub fn name(&self) -> String {
        match self.op {
            Op::List => format!("list {} keys", self.size),
            op => format!("{} {}", op.name(), size_label(self.size)),
        }
    }

    /// Bytes moved by one operation (0 for a listing).
    pub fn bytes_per_op(&self) -> u64 {
        match self.op {
            Op::List => 0,
            Op::RangedGet => ranged(self.size).end - ranged(self.size).start,
            _ => self.size,
        }
    }
}

/// The range a ranged get reads: the middle half.
pub fn ranged(size: u64) -> std::ops::Range<u64> {
    size / 4..size / 4 + (size / 2).max(1)
}

/// The matrix both benches run: 4 KiB and 1 MiB for every operation, 64 MiB for put, get and
/// multipart, and one listing of `list_keys` keys.
pub fn matrix(scale: u32, list_keys: u64) -> Vec<Case> {
    let mut cases = Vec::new();
    for op in [Op::Put, Op::Get, Op::RangedGet, Op::Multipart] {
        cases.push(Case { op, size: 4 * KIB, ops: 20, rounds: 5 * scale });
        cases.push(Case { op, size: MIB, ops: 4, rounds: 5 * scale });
        if op != Op::RangedGet {
            cases.push(Case { op, size: 64 * MIB, ops: 1, rounds: 3 * scale });
        }
    }
    cases.push(Case { op: Op::List, size: list_keys, ops: 1, rounds: 5 * scale });
    cases
}

pub fn size_label(size: u64) -> String {
    if size >= MIB && size.is_multiple_of(MIB) {
        format!("{} MiB", size / MIB)
    } else if size >= KIB && size.is_multiple_of(KIB) {
        format!("{} KiB", size / KIB)
    } else {
        format!("{size} B")
    }
}

/// A body of `size` bytes that no engine can compress or deduplicate.
pub fn body(size: u64) -> Bytes {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15 ^ size;
    let mut out = Vec::with_capacity(size as usize);
    while (out.len() as u64) < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(size as usize);
    out.into()
}

/// `data` as the 1 MiB chunks a streaming writer is fed with (slices, no copies).
pub fn chunks(data: &Bytes) -> Vec<Bytes> {
    let step = FEED_CHUNK as usize;
    (0..data.len()).step_by(step).map(|at| data.slice(at..(at + step).min(data.len()))).collect()
}

/// Checks that an operation moved what it should have; a benchmark of wrong answers is
/// worthless.
pub fn expect_len(what: &str, got: u64, want: u64) -> Res<()> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got} bytes or keys, expected {want}").into())
    }
}

/// Peak resident memory since the last [`reset_peak_rss`] (`VmHWM`), in bytes.
pub fn peak_rss() -> Option<u64> {
    status_kib("VmHWM:").map(|k| k * 1024)
}

/// Highest peak seen before any reset.
static PROCESS_PEAK: AtomicU64 = AtomicU64::new(0);

/// Peak resident memory of the whole process so far, across resets.
pub fn process_peak_rss() -> Option<u64> {
    let now = peak_rss()?;
    Some(now.max(PROCESS_PEAK.load(Ordering::Relaxed)))
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()
}

/// Resets the peak to the current resident size (Linux ≥ 4.0), so the next reading is the
/// peak of one sample. Returns whether it worked.
pub fn reset_peak_rss() -> bool {
    if let Some(peak) = peak_rss() {
        PROCESS_PEAK.fetch_max(peak, Ordering::Relaxed);
    }
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Timed samples of one contender in one case.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    /// Seconds per operation, one entry per sample.
    pub per_op: Vec<f64>,
    /// CPU seconds this process spent per operation (all its threads), one entry per sample:
    /// the client's own cost, which the server's share of a loaded machine does not blur.
    pub cpu_per_op: Vec<f64>,
    /// Most resident memory one of its samples added above what the process held before it
    /// (the bench's own copy of the body is allocated before, so not counted).
    pub peak_rss: Option<u64>,
}

impl Samples {
    pub fn median(&self) -> f64 {
        median(&self.per_op)
    }

    pub fn median_cpu(&self) -> f64 {
        median(&self.cpu_per_op)
    }
}

pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// Runs one case: an untimed warm-up per contender, then `rounds` rounds in which each
/// contender takes one sample in turn, the starting contender rotating each round so that
/// none always follows the same neighbour. `run(i)` performs `case.ops` operations with
/// contender `i`.
pub async fn interleave<F, Fut>(case: &Case, contenders: usize, mut run: F) -> Res<Vec<Samples>>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Res<()>>,
{
    let mut samples = vec![Samples::default(); contenders];
    for i in 0..contenders {
        run(i).await?;
    }
    for round in 0..case.rounds as usize {
        for turn in 0..contenders {
            let i = (round + turn) % contenders;
            let before = settle_memory();
            let cpu = process_cpu();
            let start = Instant::now();
            run(i).await?;
            let elapsed = start.elapsed();
            let ops = case.ops.max(1) as f64;
            let s = &mut samples[i];
            s.per_op.push(elapsed.as_secs_f64() / ops);
            if let (Some(a), Some(b)) = (cpu, process_cpu()) {
                s.cpu_per_op.push((b - a).max(0.0) / ops);
            }
            if let (Some(before), Some(peak)) = (before, peak_rss()) {
                s.peak_rss = s.peak_rss.max(Some(peak.saturating_sub(before)));
            }
        }
    }
    Ok(samples)
}

/// CPU seconds used by this process so far, all threads.
pub fn process_cpu() -> Option<f64> {
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    {
        #[repr(C)]
        struct Timespec {
            tv_sec: i64,
            tv_nsec: i64,
        }
        extern "C" {
            fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
        }
        const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
        let mut t = Timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `t` is a valid, writable timespec of the platform's layout.
        let rc = unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut t) };
        if rc == 0 {
            return Some(t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9);
        }
    }
    None
}

/// Returns freed heap to the system and resets the peak, so that the next peak reading
/// minus the returned resident size is what one sample added. `None` where that cannot be
/// measured.
fn settle_memory() -> Option<u64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: glibc's malloc_trim only releases free memory; it takes no pointers.
        unsafe {
            malloc_trim(0);
        }
    }
    if !reset_peak_rss() {
        return None;
    }
    status_kib("VmRSS:").map(|k| k * 1024)
}

/// One row of the results: a contender's medians in one case.
#[derive(Debug, Clone)]
pub struct Row {
    pub case: Case,
    pub contender: String,
    pub samples: Samples,
}

impl Row {
    /// `(MiB/s, operations/s, keys/s)`, each where it means something.
    fn throughput(&self) -> (Option<f64>, Option<f64>, Option<f64>) {
        let t = self.samples.median();
        match self.case.op {
            Op::List => (None, None, Some(self.case.size as f64 / t)),
            _ => (Some(self.case.bytes_per_op() as f64 / MIB as f64 / t), Some(1.0 / t), None),
        }
    }

    fn shown(&self) -> String {
        let t = self.samples.median();
        match self.case.op {
            Op::List => format!("{:>9.0} keys/s", self.case.size as f64 / t),
            _ if self.case.bytes_per_op() < 256 * KIB => format!("{:>9.0} ops/s", 1.0 / t),
            _ => format!("{:>9.1} MiB/s", self.case.bytes_per_op() as f64 / MIB as f64 / t),
        }
    }
}

/// Prints the table, one block per case, with each contender's median, spread and (when
/// `baseline` names one) the ratio baseline/contender in throughput (> 1: baseline faster).
pub fn print_table(title: &str, rows: &[Row], baseline: Option<&str>) {
    println!("\n{title}");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<20} {:<15} {:>10} {:>16} {:>7} {:>10} {:>9} {:>8} {:>9}",
        "case", "contender", "median/op", "throughput", "spread", "CPU/op", "+RSS", "ratio", "CPU ratio"
    );
    let mut last_case = String::new();
    for row in rows {
        let name = row.case.name();
        let shown_case = if name == last_case { String::new() } else { name.clone() };
        last_case = name;
        let peer = baseline.filter(|b| *b != row.contender);
        let ratio = peer
            .and_then(|b| ratio_of(rows, &row.case, b, &row.contender))
            .map(|r| format!("{r:.3}x"))
            .unwrap_or_default();
        let cpu_ratio = peer
            .and_then(|b| cpu_ratio_of(rows, &row.case, b, &row.contender))
            .map(|r| format!("{r:.3}x"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<20} {:<15} {:>10} {:>16} {:>6.0}% {:>10} {:>9} {:>8} {:>9}",
            shown_case,
            row.contender,
            fmt_duration(row.samples.median()),
            row.shown(),
            spread(&row.samples.per_op) * 100.0,
            fmt_duration(row.samples.median_cpu()),
            row.samples.peak_rss.map(|b| format!("{:.1} MiB", b as f64 / MIB as f64)).unwrap_or_else(|| "-".into()),
            ratio,
            cpu_ratio
        );
    }
    print!("{out}");
    if let Some(b) = baseline {
        println!(
            "ratio = {b} throughput / contender throughput, medians of interleaved samples (> 1: {b} faster); \
             CPU ratio = contender CPU / {b} CPU per operation (> 1: {b} cheaper)"
        );
    }
    println!("+RSS = most resident memory one sample added (peak minus the resident size before it)");
}

/// (max − min) / median of the samples: how noisy the case was.
pub fn spread(values: &[f64]) -> f64 {
    let m = median(values);
    let (lo, hi) = values.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if m > 0.0 && hi >= lo {
        (hi - lo) / m
    } else {
        0.0
    }
}

fn fmt_duration(secs: f64) -> String {
    if !secs.is_finite() {
        return "-".into();
    }
    let d = Duration::from_secs_f64(secs);
    if d >= Duration::from_secs(1) {
        format!("{:.2} s", secs)
    } else if d >= Duration::from_millis(1) {
        format!("{:.2} ms", secs * 1e3)
    } else {
        format!("{:.0} µs", secs * 1e6)
    }
}

/// baseline's throughput over contender's in `case`: median contender time / median
/// baseline time.
pub fn ratio_of(rows: &[Row], case: &Case, baseline: &str, contender: &str) -> Option<f64> {
    ratio_by(rows, case, baseline, contender, Samples::median)
}

/// The same ratio in client CPU time per operation (> 1: the baseline uses less CPU).
pub fn cpu_ratio_of(rows: &[Row], case: &Case, baseline: &str, contender: &str) -> Option<f64> {
    ratio_by(rows, case, baseline, contender, Samples::median_cpu)
}

fn ratio_by(rows: &[Row], case: &Case, baseline: &str, contender: &str, of: fn(&Samples) -> f64) -> Option<f64> {
    let find =
        |who: &str| rows.iter().find(|r| r.contender == who && r.case.name() == case.name()).map(|r| of(&r.samples));
    let (b, c) = (find(baseline)?, find(contender)?);
    (b > 0.0 && c.is_finite()).then(|| c / b)
}

/// Versions of the named packages as Cargo.lock pins them.
pub fn locked_versions(packages: &[&str]) -> Value {
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock")).unwrap_or_default();
    let mut found = serde_json::Map::new();
    let mut name: Option<&str> = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"'));
        } else if let (Some(n), Some(v)) = (name, line.strip_prefix("version = ")) {
            if packages.contains(&n) {
                found.insert(n.to_owned(), Value::String(v.trim_matches('"').to_owned()));
            }
            name = None;
        }
    }
    Value::Object(found)
}

/// What the numbers were measured on.
pub fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_owned()).unwrap_or_default();
    json!({
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu": cpu,
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "kernel": kernel,
    })
}

/// Writes the results as JSON to `dir/name.json` and returns the path.
pub fn write_json(dir: &Path, name: &str, mut head: Value, rows: &[Row], baseline: Option<&str>) -> Res<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let results: Vec<Value> = rows
        .iter()
        .map(|r| {
            let peer = baseline.filter(|b| *b != r.contender);
            let ratio = peer.and_then(|b| ratio_of(rows, &r.case, b, &r.contender));
            let cpu_ratio = peer.and_then(|b| cpu_ratio_of(rows, &r.case, b, &r.contender));
            let (mib_per_s, ops_per_s, keys_per_s) = r.throughput();
            json!({
                "case": r.case.name(),
                "op": r.case.op.name(),
                "size": r.case.size,
                "bytes_per_op": r.case.bytes_per_op(),
                "ops_per_sample": r.case.ops,
                "contender": r.contender,
                "median_s_per_op": r.samples.median(),
                "samples_s_per_op": r.samples.per_op,
                "spread": spread(&r.samples.per_op),
                "mib_per_s": mib_per_s,
                "ops_per_s": ops_per_s,
                "keys_per_s": keys_per_s,
                "added_rss_bytes": r.samples.peak_rss,
                "ratio_baseline_over_this": ratio,
                "median_cpu_s_per_op": r.samples.median_cpu(),
                "cpu_samples_s_per_op": r.samples.cpu_per_op,
                "cpu_ratio_baseline_over_this": cpu_ratio,
            })
        })
        .collect();
    if let Value::Object(map) = &mut head {
        map.insert("results".into(), Value::Array(results));
        map.insert("peak_rss_bytes".into(), json!(process_peak_rss()));
        map.insert("machine".into(), machine());
    }
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&head)?)?;
    Ok(path)
}

/// Prints the process's peak memory.
pub fn print_peak_rss() {
    match process_peak_rss() {
        Some(b) => println!("peak RSS of the bench process: {} MiB (VmHWM)", b / MIB),
        None => println!("peak RSS of the bench process: unknown (no /proc/self/status)"),
    }
}
