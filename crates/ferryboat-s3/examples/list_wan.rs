//! Measures one listing stream against the parallel listing through an added round trip.
//!
//! ```text
//! cargo run -p ferryboat-s3 --example list_wan -- ENDPOINT ACCESS SECRET KEYS ROUNDS RTT_MS...
//! ```
//!
//! Seeds `KEYS` empty objects into a fresh bucket on the S3 server at `ENDPOINT` (direct),
//! then for each round trip lists them `ROUNDS` times each way through
//! `ferryboat_testkit::proxy::WanProxy` and prints one JSON line per round trip: the wall
//! times, and the CPU seconds this process and the processes named in `SERVER_PIDS`
//! (space-separated, read from `/proc`) spent per listing, so that a listing bound by the
//! machine's cores rather than by round trips shows as such.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::cpu_secs;

use ferryboat_core::ranges::{list_parallel, ParallelListing};
use ferryboat_core::{ListOptions, ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_s3::{Credentials, S3Config, S3Store};
use ferryboat_testkit::proxy::{ProxyConfig, WanProxy};
use futures::{StreamExt, TryStreamExt};

fn store(endpoint: &str, access: &str, secret: &str, bucket: &str) -> S3Store {
    let config = S3Config::new(bucket)
        .with_provider("ceph")
        .with_region("us-east-1")
        .with_endpoint(endpoint)
        .with_path_style(true)
        .with_allow_http(true)
        .with_credentials(Credentials::new(access, secret));
    S3Store::new(config).expect("store")
}

/// CPU seconds of this process and of the servers.
fn cpu(servers: &[String]) -> (f64, f64) {
    (cpu_secs("self"), servers.iter().map(|p| cpu_secs(p)).sum())
}

fn spread(times: &[f64]) -> (f64, f64, f64) {
    let mut t = times.to_vec();
    t.sort_by(f64::total_cmp);
    (t[t.len() / 2], t[0], t[t.len() - 1])
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 6 {
        eprintln!("usage: list_wan ENDPOINT ACCESS SECRET KEYS ROUNDS RTT_MS...");
        std::process::exit(2);
    }
    let (endpoint, access, secret) = (&args[0], &args[1], &args[2]);
    let keys: usize = args[3].parse().expect("KEYS");
    let rounds: usize = args[4].parse().expect("ROUNDS");
    let servers: Vec<String> =
        std::env::var("SERVER_PIDS").unwrap_or_default().split_whitespace().map(str::to_string).collect();
    let bucket = format!("ferry-list-wan-{}", std::process::id());
    let direct = store(endpoint, access, secret, &bucket);
    direct.create_bucket().await.expect("bucket");
    let direct: Arc<dyn ObjectStore> = Arc::new(direct);
    let started = Instant::now();
    futures::stream::iter(0..keys)
        .map(|i| {
            let s = direct.clone();
            async move { s.put(&ObjectPath::parse(format!("flat/{i:08}")).expect("key"), "".into()).await.expect("put") }
        })
        .buffer_unordered(64)
        .count()
        .await;
    eprintln!("seeded {keys} keys in {:.1}s", started.elapsed().as_secs_f64());
    for rtt in &args[5..] {
        let rtt_ms: u64 = rtt.parse().expect("RTT_MS");
        let proxy = WanProxy::start(endpoint, ProxyConfig::rtt(Duration::from_millis(rtt_ms))).await.expect("proxy");
        let through: Arc<dyn ObjectStore> = Arc::new(store(&proxy.endpoint(), access, secret, &bucket));
        let (mut one, mut many) = (Vec::new(), Vec::new());
        // CPU seconds per listing, summed over the rounds: (client, servers) for each way.
        let (mut one_cpu, mut many_cpu) = ((0.0, 0.0), (0.0, 0.0));
        for _ in 0..rounds {
            let (c0, s0) = cpu(&servers);
            let t = Instant::now();
            let n = through.list_opts(ListOptions::default()).try_fold(0usize, |n, _| async move { Ok(n + 1) }).await;
            assert_eq!(n.expect("listing"), keys);
            one.push(t.elapsed().as_secs_f64());
            let (c1, s1) = cpu(&servers);
            let t = Instant::now();
            let n = list_parallel(through.clone(), ListOptions::default(), None, ParallelListing::default())
                .try_fold(0usize, |n, _| async move { Ok(n + 1) })
                .await;
            assert_eq!(n.expect("parallel listing"), keys);
            many.push(t.elapsed().as_secs_f64());
            let (c2, s2) = cpu(&servers);
            one_cpu = (one_cpu.0 + c1 - c0, one_cpu.1 + s1 - s0);
            many_cpu = (many_cpu.0 + c2 - c1, many_cpu.1 + s2 - s1);
        }
        let per = |total: f64| total / rounds as f64;
        let (o, omin, omax) = spread(&one);
        let (m, mmin, mmax) = spread(&many);
        println!(
            "{{\"keys\":{keys},\"rtt_ms\":{rtt_ms},\"rounds\":{rounds},\"one_stream_s\":{o:.3},\"one_stream_min\":{omin:.3},\"one_stream_max\":{omax:.3},\"parallel_s\":{m:.3},\"parallel_min\":{mmin:.3},\"parallel_max\":{mmax:.3},\"speedup\":{:.2},\"one_stream_client_cpu_s\":{:.3},\"one_stream_server_cpu_s\":{:.3},\"parallel_client_cpu_s\":{:.3},\"parallel_server_cpu_s\":{:.3}}}",
            o / m,
            per(one_cpu.0),
            per(one_cpu.1),
            per(many_cpu.0),
            per(many_cpu.1),
        );
    }
}
