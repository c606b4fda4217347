//! `ferry-wan-proxy`: the test bed's WAN in front of a local server, for tools that are not
//! Rust tests (benchmarks of peers such as rclone).
//!
//! ```text
//! ferry-wan-proxy --upstream http://127.0.0.1:9000 [--rtt-ms 20] [--bandwidth-mbit 100]
//!                 [--cut-one-in 100] [--seed 1] [--listen 127.0.0.1:0] [--stats-every 10]
//! ```
//!
//! Prints `http://127.0.0.1:PORT` (where to point the client) on its first line of standard
//! output, then runs until killed; with `--stats-every S` it prints what it did every S
//! seconds on standard error.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use ferryboat_testkit::proxy::{ProxyConfig, WanProxy};

const USAGE: &str = "usage: ferry-wan-proxy --upstream http://127.0.0.1:PORT [--rtt-ms MS] [--bandwidth-mbit MBIT] \
                     [--cut-one-in N] [--seed SEED] [--listen 127.0.0.1:PORT] [--stats-every SECS]";

struct Args {
    upstream: String,
    listen: String,
    config: ProxyConfig,
    stats_every: Option<u64>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut upstream = None;
    let mut listen = "127.0.0.1:0".to_string();
    let mut config = ProxyConfig::default();
    let mut stats_every = None;
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| v.parse::<u64>().map_err(|_| format!("{flag}: not a number: {v}"));
        match flag.as_str() {
            "--upstream" => upstream = Some(value()?),
            "--listen" => listen = value()?,
            "--rtt-ms" => config.rtt = Duration::from_millis(number(value()?)?),
            "--bandwidth-mbit" => config.bandwidth = Some((number(value()?)? * 1_000_000 / 8).max(1)),
            "--cut-one-in" => {
                let n = number(value()?)?;
                config.cut_one_in = (n > 0).then(|| n.min(u64::from(u32::MAX)) as u32);
            }
            "--seed" => config.seed = number(value()?)?,
            "--stats-every" => stats_every = Some(number(value()?)?.max(1)),
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let upstream = upstream.ok_or_else(|| format!("--upstream is required\n{USAGE}"))?;
    Ok(Args { upstream, listen, config, stats_every })
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ferry-wan-proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let proxy = match WanProxy::start_on(&args.listen, &args.upstream, args.config).await {
            Ok(p) => p,
            Err(e) => {
                eprintln!("ferry-wan-proxy: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("{}", proxy.endpoint());
        let _ = std::io::stdout().flush();
        let period = Duration::from_secs(args.stats_every.unwrap_or(3600));
        loop {
            tokio::time::sleep(period).await;
            if args.stats_every.is_some() {
                eprintln!("{:?}", proxy.stats());
            }
        }
    })
}
