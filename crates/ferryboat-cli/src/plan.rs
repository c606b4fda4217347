//! `plan SRC DST`: what leaving SRC for DST costs, from a real listing of SRC and the
//! catalogue's list prices (see `ferryboat_providers::plan`).

use std::process::ExitCode;

use ferryboat::mirror::MirrorReport;
use ferryboat::mirror::{parse_size, plan as mirror_plan, MirrorOptions};
use ferryboat::providers::plan::{ExitPlan, PlanOptions};
use ferryboat::providers::prices::Day;
use ferryboat::providers::{catalogue, Provider};
use ferryboat::{Error, Result};

use crate::exit;
use crate::out::outln;

/// The flags of `plan`.
#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    /// Source URL (listed, never changed).
    pub src: String,
    /// Destination URL (opened to learn its provider; nothing is written).
    pub dst: String,
    /// The source's catalogue provider, when its store does not say (a local directory, an
    /// endpoint opened as plain `s3://`).
    #[arg(long, value_name = "ID")]
    pub source_provider: Option<String>,
    /// The destination's catalogue provider, when its store does not say.
    #[arg(long, value_name = "ID")]
    pub destination_provider: Option<String>,
    /// The day of the switch (YYYY-MM-DD), which decides the EU Data Act rule; today by default.
    #[arg(long, value_name = "DAY")]
    pub day: Option<String>,
    /// Throughput of the machine doing the copy, in MB/s.
    #[arg(long, default_value_t = 100.0, value_name = "MB_PER_S")]
    pub bandwidth: f64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: u32,
    /// Part size of multipart uploads (as the mirror's --part-size).
    #[arg(long, value_name = "SIZE")]
    pub part_size: Option<String>,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `plan`.
pub async fn run(args: PlanArgs) -> ExitCode {
    match plan(&args).await {
        Ok(text) => {
            outln!("{text}");
            ExitCode::from(exit::OK)
        }
        Err(e) => exit::report(&e),
    }
}

fn provider(id: Option<&str>, store: &dyn ferryboat::ObjectStore) -> Result<&'static Provider> {
    match id {
        Some(id) => catalogue().get(id).map_err(|e| Error::invalid_config(format!("--*-provider {id}: {e}"))),
        None => mirror_plan::provider_of(store),
    }
}

async fn plan(args: &PlanArgs) -> Result<String> {
    if !(args.bandwidth.is_finite() && args.bandwidth > 0.0) || args.concurrency == 0 {
        return Err(Error::invalid_config("--bandwidth and --concurrency must be positive"));
    }
    let day = match &args.day {
        Some(d) => Day::parse(d).map_err(|e| Error::invalid_config(format!("--day {d}: {e}")))?,
        None => Day::today(),
    };
    let part_size = match &args.part_size {
        Some(s) => parse_size(s)?,
        None => MirrorOptions::default().part_size,
    };
    // `s3://bucket/prefix` opens a view of the prefix: its whole listing is the workload.
    let src = crate::open(&args.src).await?;
    let dst = crate::open(&args.dst).await?;
    let (from, to) = (
        provider(args.source_provider.as_deref(), src.as_ref())?,
        provider(args.destination_provider.as_deref(), dst.as_ref())?,
    );
    let mut opts = PlanOptions::new(day);
    opts.bandwidth_bytes_per_sec = args.bandwidth * 1e6;
    opts.concurrency = args.concurrency;
    let plan = mirror_plan::exit_plan(src.as_ref(), None, from, to, part_size, &opts).await?;
    if args.json {
        serde_json::to_string_pretty(&plan)
            .map_err(|e| Error::generic("ferryboat", "", format!("plan as JSON: {e}"), None))
    } else {
        Ok(plan.to_string())
    }
}

/// The exit plan of a dry run: its workload (what would pass through this machine) priced
/// for the two sides' catalogue providers (named, or the stores'), today's EU Data Act rule,
/// `concurrency` requests in flight and the default bandwidth of `plan`.
pub fn of_dry_run(
    report: &MirrorReport,
    src: (Option<&str>, &dyn ferryboat::ObjectStore),
    dst: (Option<&str>, &dyn ferryboat::ObjectStore),
    concurrency: usize,
) -> Result<ExitPlan> {
    let workload = report.workload.as_ref().ok_or_else(|| Error::invalid_config("not a dry run: no workload"))?;
    let (from, to) = (provider(src.0, src.1)?, provider(dst.0, dst.1)?);
    let mut opts = PlanOptions::new(Day::today());
    opts.bandwidth_bytes_per_sec = 100.0 * 1e6;
    opts.concurrency = u32::try_from(concurrency.max(1)).unwrap_or(u32::MAX);
    ExitPlan::compute(workload, from, to, &opts)
}
