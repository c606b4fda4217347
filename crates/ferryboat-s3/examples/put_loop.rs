//! Puts small objects one after another, for profiling the client's cost per request.
//!
//! ```text
//! cargo run --release -p ferryboat-s3 --example put_loop -- ENDPOINT ACCESS SECRET COUNT [ferry|sdk]
//! ```
//!
//! Writes `COUNT` objects of 4 KiB into a fresh bucket on the S3 server at `ENDPOINT`, through
//! ferryboat-s3 or through aws-sdk-s3 configured as ferryboat-s3 configures it, and prints the
//! client's CPU time per put. Run it under `valgrind --tool=callgrind` to see where that goes.

mod common;

use std::time::Instant;

use common::cpu_secs;

use bytes::Bytes;
use ferryboat_core::{ObjectPath, ObjectStoreExt};
use ferryboat_s3::{Credentials, S3Config, S3Store};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        eprintln!("usage: put_loop ENDPOINT ACCESS SECRET COUNT [ferry|sdk]");
        std::process::exit(2);
    }
    let (endpoint, access, secret) = (&args[0], &args[1], &args[2]);
    let count: usize = args[3].parse().expect("COUNT");
    let mode = args.get(4).map(String::as_str).unwrap_or("ferry");
    let bucket = format!("ferry-put-loop-{}", std::process::id());
    let config = S3Config::new(&bucket)
        .with_region("us-east-1")
        .with_endpoint(endpoint)
        .with_path_style(true)
        .with_allow_http(true)
        .with_credentials(Credentials::new(access, secret));
    let store = S3Store::new(config).expect("store");
    store.create_bucket().await.expect("bucket");
    let body = Bytes::from(vec![7u8; 4096]);
    let sdk = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .force_path_style(true)
            .request_checksum_calculation(aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(aws_sdk_s3::config::ResponseChecksumValidation::WhenRequired)
            .http_client(
                aws_smithy_http_client::Builder::new()
                    .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                        aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                    ))
                    .build_https(),
            )
            .credentials_provider(aws_sdk_s3::config::Credentials::new(access, secret, None, None, "put_loop"))
            .build(),
    );
    let (cpu0, t0) = (cpu_secs("self"), Instant::now());
    for i in 0..count {
        let key = format!("p/{i:06}");
        match mode {
            "sdk" => {
                sdk.put_object()
                    .bucket(&bucket)
                    .key(&key)
                    .body(body.clone().into())
                    .customize()
                    .disable_payload_signing()
                    .send()
                    .await
                    .expect("put");
            }
            _ => {
                store.put(&ObjectPath::parse(key).expect("key"), body.clone()).await.expect("put");
            }
        }
    }
    let (cpu, secs) = (cpu_secs("self") - cpu0, t0.elapsed().as_secs_f64());
    println!("{mode}: {count} puts of 4 KiB in {secs:.2} s, client CPU {:.0} µs per put", cpu * 1e6 / count as f64);
}
