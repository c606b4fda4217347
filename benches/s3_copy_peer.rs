//! The peer for the mirror's large-object benchmark: one object copied between two S3
//! servers with aws-sdk-s3 alone, the way a careful user of the SDK would write it — one
//! streaming GET, parts cut from the stream and uploaded `--concurrency` at a time.
//!
//! ```text
//! cargo bench --bench s3_copy_peer -- --src http://127.0.0.1:A --dst http://127.0.0.1:B \
//!     --src-bucket b --key k --dst-bucket c [--part-size-mib 8] [--concurrency 8]
//! ```
//!
//! Credentials come from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`. Prints one JSON line:
//! `{"secs":…, "bytes":…, "peak_rss_kib":…}`. `scripts/bench` runs it beside the mirror.

use std::sync::Arc;
use std::time::Instant;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::{Bytes, BytesMut};
use tokio::sync::Semaphore;

fn client(endpoint: &str) -> aws_sdk_s3::Client {
    let key = std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_default();
    let secret = std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_default();
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http)
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(Credentials::new(key, secret, None, None, "bench"))
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

fn arg(args: &[String], flag: &str) -> Option<String> {
    args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned()
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

async fn copy(args: &[String]) -> Result<u64, Failure> {
    let need = |flag: &str| arg(args, flag).ok_or_else(|| format!("missing {flag}"));
    let (src, dst) = (client(&need("--src")?), client(&need("--dst")?));
    let (src_bucket, key, dst_bucket) = (need("--src-bucket")?, need("--key")?, need("--dst-bucket")?);
    let part_size = arg(args, "--part-size-mib").map(|v| v.parse::<usize>()).transpose()?.unwrap_or(8) << 20;
    let concurrency = arg(args, "--concurrency").map(|v| v.parse::<usize>()).transpose()?.unwrap_or(8);

    let mut body = src.get_object().bucket(&src_bucket).key(&key).send().await?.body;
    let upload = dst.create_multipart_upload().bucket(&dst_bucket).key(&key).send().await?;
    let upload_id = upload.upload_id().ok_or("no upload id")?.to_string();
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut tasks = Vec::new();
    let mut buf = BytesMut::with_capacity(part_size);
    let mut total = 0u64;
    let mut number = 0i32;
    let mut send = |data: Bytes, number: i32, permit| {
        let (dst, bucket, key, id) = (dst.clone(), dst_bucket.clone(), key.clone(), upload_id.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            let out = dst
                .upload_part()
                .bucket(bucket)
                .key(key)
                .upload_id(id)
                .part_number(number)
                .body(ByteStream::from(data))
                .send()
                .await?;
            Ok::<_, Failure>(CompletedPart::builder().part_number(number).set_e_tag(out.e_tag).build())
        }));
    };
    while let Some(chunk) = body.try_next().await? {
        total += chunk.len() as u64;
        buf.extend_from_slice(&chunk);
        if buf.len() >= part_size {
            number += 1;
            let permit = permits.clone().acquire_owned().await?;
            send(buf.split_to(part_size).freeze(), number, permit);
        }
    }
    if !buf.is_empty() || number == 0 {
        number += 1;
        let permit = permits.clone().acquire_owned().await?;
        send(buf.freeze(), number, permit);
    }
    let mut parts = Vec::with_capacity(tasks.len());
    for t in tasks {
        parts.push(t.await??);
    }
    let done = CompletedMultipartUpload::builder().set_parts(Some(parts)).build();
    dst.complete_multipart_upload()
        .bucket(&dst_bucket)
        .key(&key)
        .upload_id(&upload_id)
        .multipart_upload(done)
        .send()
        .await?;
    Ok(total)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if arg(&args, "--src").is_none() {
        // `cargo bench` with no arguments runs every bench: this one needs its servers from
        // scripts/bench, so it says so and stands aside.
        eprintln!("s3_copy_peer: run by scripts/bench (needs --src, --dst, --src-bucket, --key, --dst-bucket)");
        return;
    }
    let started = Instant::now();
    match copy(&args).await {
        Ok(bytes) => println!(
            "{{\"secs\":{:.4},\"bytes\":{bytes},\"peak_rss_kib\":{}}}",
            started.elapsed().as_secs_f64(),
            peak_rss_kib()
        ),
        Err(e) => {
            eprintln!("s3_copy_peer: {e}");
            std::process::exit(1);
        }
    }
}
