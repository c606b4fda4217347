//! ferryboat-s3 against the engines people would otherwise use — raw aws-sdk-s3, object_store
//! and OpenDAL — on one S3 server, the same work, interleaved.
//!
//! `cargo bench --bench engines -- --quick` (default) or `--scale N` / `FERRY_BENCH_SCALE=N`;
//! `--server ceph-rgw` or `--server seaweedfs` runs on that real server (started by
//! `scripts/bench`, given by `FERRY_TEST_CEPH` / `FERRY_TEST_SEAWEEDFS`) instead of s3s-fs.
//! Prints a table, writes `target/bench/engines.json` (`engines-SERVER.json` on a real
//! server). Exits 0 with a reason when the server is not available.

mod common;

use std::pin::Pin;
use std::sync::Arc;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use common::*;
use ferryboat::s3::{S3Config, S3Store};
use ferryboat::{ObjectPath, ObjectStore as _, ObjectStoreExt, PutOptions, UploadConfig};
use ferryboat_testkit::emulators::{self, S3Emulator};
use futures::stream::{self, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::ObjectStore as _;
use serde_json::json;

/// Keys in the listed prefix.
const LIST_KEYS: u64 = 1_000;
/// The engine every ratio is taken against.
const FERRY: &str = "ferryboat-s3";

/// One engine, set up against the same bucket.
enum Engine {
    Ferry(S3Store),
    Sdk(aws_sdk_s3::Client, String),
    ObjectStore(Arc<AmazonS3>),
    OpenDal(opendal::Operator),
}

impl Engine {
    fn name(&self) -> &'static str {
        match self {
            Engine::Ferry(_) => FERRY,
            Engine::Sdk(..) => "aws-sdk-s3",
            Engine::ObjectStore(_) => "object_store",
            Engine::OpenDal(_) => "opendal",
        }
    }

    async fn put(&self, key: &str, data: Bytes) -> Res<()> {
        match self {
            Engine::Ferry(s) => drop(s.put(&ObjectPath::parse(key)?, data).await?),
            Engine::Sdk(c, bucket) => {
                let len = data.len() as i64;
                let req = c.put_object().bucket(bucket).key(key).content_length(len).body(ByteStream::from(data));
                req.customize().disable_payload_signing().send().await?;
            }
            Engine::ObjectStore(s) => {
                drop(object_store::ObjectStoreExt::put(s.as_ref(), &key.into(), data.into()).await?)
            }
            Engine::OpenDal(op) => drop(op.write(key, data).await?),
        }
        Ok(())
    }

    /// Reads a whole object as a stream; returns the bytes seen.
    async fn get(&self, key: &str) -> Res<u64> {
        let mut n = 0u64;
        match self {
            Engine::Ferry(s) => {
                let mut body = s.get(&ObjectPath::parse(key)?).await?.body;
                while let Some(chunk) = body.try_next().await? {
                    n += chunk.len() as u64;
                }
            }
            Engine::Sdk(c, bucket) => {
                let mut body = c.get_object().bucket(bucket).key(key).send().await?.body;
                while let Some(chunk) = body.try_next().await? {
                    n += chunk.len() as u64;
                }
            }
            Engine::ObjectStore(s) => {
                let mut body = object_store::ObjectStoreExt::get(s.as_ref(), &key.into()).await?.into_stream();
                while let Some(chunk) = body.try_next().await? {
                    n += chunk.len() as u64;
                }
            }
            Engine::OpenDal(op) => {
                let mut body = op.reader(key).await?.into_bytes_stream(..).await?;
                while let Some(chunk) = body.try_next().await? {
                    n += chunk.len() as u64;
                }
            }
        }
        Ok(n)
    }

    /// Reads `range` into memory, each engine its usual way; returns its length.
    async fn get_range(&self, key: &str, range: std::ops::Range<u64>) -> Res<u64> {
        Ok(match self {
            Engine::Ferry(s) => s.get_range(&ObjectPath::parse(key)?, range).await?.len() as u64,
            Engine::Sdk(c, bucket) => {
                let header = format!("bytes={}-{}", range.start, range.end - 1);
                let out = c.get_object().bucket(bucket).key(key).range(header).send().await?;
                out.body.collect().await?.into_bytes().len() as u64
            }
            Engine::ObjectStore(s) => {
                object_store::ObjectStoreExt::get_range(s.as_ref(), &key.into(), range).await?.len() as u64
            }
            Engine::OpenDal(op) => op.read_with(key).range(range).await?.len() as u64,
        })
    }

    /// Lists every key under `prefix` (a directory: ends with `/`); returns how many.
    async fn list(&self, prefix: &str) -> Res<u64> {
        Ok(match self {
            Engine::Ferry(s) => {
                let p = ObjectPath::parse(prefix.trim_end_matches('/'))?;
                s.list(Some(&p)).try_fold(0u64, |n, _| async move { Ok(n + 1) }).await?
            }
            Engine::Sdk(c, bucket) => {
                let mut pages = c.list_objects_v2().bucket(bucket).prefix(prefix).into_paginator().send();
                let mut n = 0u64;
                while let Some(page) = pages.next().await {
                    n += page?.contents().len() as u64;
                }
                n
            }
            Engine::ObjectStore(s) => {
                let p = object_store::path::Path::from(prefix.trim_end_matches('/'));
                s.list(Some(&p)).try_fold(0u64, |n, _| async move { Ok(n + 1) }).await?
            }
            Engine::OpenDal(op) => {
                let mut lister = op.lister_with(prefix).recursive(true).await?;
                let mut n = 0u64;
                while let Some(entry) = lister.try_next().await? {
                    n += u64::from(entry.metadata().is_file());
                }
                n
            }
        })
    }

    /// Feeds `parts` (1 MiB chunks) to the engine's streaming writer: 8 MiB parts, 4 in
    /// flight; below one part every engine sends a single PUT.
    async fn multipart(&self, key: &str, feed: &[Bytes]) -> Res<()> {
        let total: u64 = feed.iter().map(|c| c.len() as u64).sum();
        match self {
            Engine::Ferry(s) => {
                let config = UploadConfig {
                    part_size: PART_SIZE,
                    concurrency: PART_CONCURRENCY,
                    expected_size: Some(total),
                    ..UploadConfig::default()
                };
                let data = stream::iter(feed.to_vec()).map(Ok).boxed();
                s.put_stream(&ObjectPath::parse(key)?, data, PutOptions::default(), config).await?;
            }
            Engine::Sdk(c, bucket) => sdk_multipart(c, bucket, key, feed, total).await?,
            Engine::ObjectStore(s) => {
                let store: Arc<dyn object_store::ObjectStore> = s.clone();
                let mut w = object_store::buffered::BufWriter::with_capacity(store, key.into(), PART_SIZE as usize)
                    .with_max_concurrency(PART_CONCURRENCY);
                for chunk in feed {
                    w.put(chunk.clone()).await?;
                }
                futures::future::poll_fn(|cx| tokio::io::AsyncWrite::poll_shutdown(Pin::new(&mut w), cx)).await?;
            }
            Engine::OpenDal(op) => {
                let mut w = op.writer_with(key).chunk(PART_SIZE as usize).concurrent(PART_CONCURRENCY).await?;
                for chunk in feed {
                    w.write(chunk.clone()).await?;
                }
                w.close().await?;
            }
        }
        Ok(())
    }
}

/// What a raw-SDK user writes for a streaming upload (the SDK has none of its own): one PUT
/// below a part, else CreateMultipartUpload, parts 4 at a time, CompleteMultipartUpload.
async fn sdk_multipart(c: &aws_sdk_s3::Client, bucket: &str, key: &str, feed: &[Bytes], total: u64) -> Res<()> {
    if total <= PART_SIZE {
        let data: Bytes = feed.concat().into();
        let req = c.put_object().bucket(bucket).key(key).content_length(total as i64).body(ByteStream::from(data));
        req.customize().disable_payload_signing().send().await?;
        return Ok(());
    }
    let id = c.create_multipart_upload().bucket(bucket).key(key).send().await?.upload_id.ok_or("no upload id")?;
    let per_part = (PART_SIZE / FEED_CHUNK) as usize;
    let parts: Vec<CompletedPart> = stream::iter(feed.chunks(per_part).enumerate())
        .map(|(i, chunks)| {
            let id = id.clone();
            async move {
                let number = i as i32 + 1;
                let data: Bytes = chunks.concat().into();
                let len = data.len() as i64;
                let out = c
                    .upload_part()
                    .bucket(bucket)
                    .key(key)
                    .upload_id(id)
                    .part_number(number)
                    .content_length(len)
                    .body(ByteStream::from(data))
                    .customize()
                    .disable_payload_signing()
                    .send()
                    .await?;
                Ok::<_, BoxError>(CompletedPart::builder().part_number(number).set_e_tag(out.e_tag).build())
            }
        })
        .buffered(PART_CONCURRENCY)
        .try_collect()
        .await?;
    c.complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
        .send()
        .await?;
    Ok(())
}

/// The raw SDK client, configured as ferry configures its own for these servers: the same
/// HTTP client settings, path-style, region and keys, checksums only where an operation
/// requires one (the generic profile), and, on the sends above, unsigned payloads (ferry
/// signs none over loopback); everything else the SDK's defaults.
fn sdk_client(emu: &S3Emulator) -> aws_sdk_s3::Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let conf = aws_sdk_s3::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http)
        .region(Region::new(emu.region.clone()))
        .endpoint_url(&emu.endpoint)
        .force_path_style(true)
        .credentials_provider(Credentials::new(&emu.access_key, &emu.secret_key, None, None, "bench"))
        .request_checksum_calculation(aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(aws_sdk_s3::config::ResponseChecksumValidation::WhenRequired)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

fn engines(emu: &S3Emulator, bucket: &str) -> Res<Vec<Engine>> {
    let ferry = S3Store::new(
        S3Config::new(bucket)
            .with_region(&emu.region)
            .with_endpoint(&emu.endpoint)
            .with_path_style(true)
            .with_credentials(ferryboat::s3::Credentials::new(&emu.access_key, &emu.secret_key)),
    )?;
    let object_store = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(&emu.region)
        .with_endpoint(&emu.endpoint)
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .with_access_key_id(&emu.access_key)
        .with_secret_access_key(&emu.secret_key)
        .build()?;
    // Without OpenDAL's default features nothing installs its HTTP transport before main.
    opendal::install_default();
    let opendal = opendal::Operator::new(
        opendal::services::S3::default()
            .bucket(bucket)
            .region(&emu.region)
            .endpoint(&emu.endpoint)
            .access_key_id(&emu.access_key)
            .secret_access_key(&emu.secret_key)
            .disable_config_load()
            .disable_ec2_metadata(),
    )?;
    Ok(vec![
        Engine::Ferry(ferry),
        Engine::Sdk(sdk_client(emu), bucket.to_owned()),
        Engine::ObjectStore(Arc::new(object_store)),
        Engine::OpenDal(opendal),
    ])
}

/// Objects every engine reads: one per size, plus the listed prefix.
async fn seed(sdk: &aws_sdk_s3::Client, bucket: &str, cases: &[Case]) -> Res<()> {
    let mut sizes: Vec<u64> =
        cases.iter().filter(|c| matches!(c.op, Op::Get | Op::RangedGet)).map(|c| c.size).collect();
    sizes.sort_unstable();
    sizes.dedup();
    for size in sizes {
        let data = body(size);
        sdk.put_object().bucket(bucket).key(format!("read/{size}")).body(ByteStream::from(data)).send().await?;
    }
    if let Some(list) = cases.iter().find(|c| c.op == Op::List) {
        stream::iter(0..list.size)
            .map(|i| async move {
                let key = format!("list/{i:06}");
                sdk.put_object().bucket(bucket).key(key).body(ByteStream::from_static(b"key")).send().await?;
                Ok::<_, BoxError>(())
            })
            .buffer_unordered(16)
            .try_collect::<Vec<()>>()
            .await?;
    }
    Ok(())
}

/// `case.ops` operations of one engine.
async fn run_case(engine: &Engine, case: &Case, data: &Bytes, feed: &[Bytes]) -> Res<()> {
    let who = engine.name();
    for i in 0..case.ops {
        let key = format!("{who}/{}-{}/{i}", case.op.name(), case.size);
        match case.op {
            Op::Put => engine.put(&key, data.clone()).await?,
            Op::Get => expect_len(who, engine.get(&format!("read/{}", case.size)).await?, case.size)?,
            Op::RangedGet => {
                let range = ranged(case.size);
                let want = range.end - range.start;
                expect_len(who, engine.get_range(&format!("read/{}", case.size), range).await?, want)?
            }
            Op::List => expect_len(who, engine.list("list/").await?, case.size)?,
            Op::Multipart => engine.multipart(&key, feed).await?,
        }
    }
    Ok(())
}

async fn bench(emu: S3Emulator, args: Args) -> Res<()> {
    let bucket = format!("ferry-bench-{}", std::process::id());
    let engines = engines(&emu, &bucket)?;
    let sdk = sdk_client(&emu);
    sdk.create_bucket().bucket(&bucket).send().await?;
    let cases: Vec<Case> = matrix(args.scale, LIST_KEYS).into_iter().filter(|c| args.wants(c)).collect();
    let server = emu.name;
    println!("engines on {server} at {} (bucket {bucket}), scale {}, {} cases", emu.endpoint, args.scale, cases.len());
    seed(&sdk, &bucket, &cases).await?;

    let mut rows = Vec::new();
    for case in &cases {
        let data = body(case.size);
        let feed = chunks(&data);
        let samples = interleave(case, engines.len(), |i| run_case(&engines[i], case, &data, &feed)).await?;
        for (engine, samples) in engines.iter().zip(samples) {
            rows.push(Row { case: *case, contender: engine.name().to_owned(), samples });
        }
        let shown: Vec<String> = engines
            .iter()
            .skip(1)
            .filter_map(|e| {
                let wall = ratio_of(&rows, case, FERRY, e.name())?;
                let cpu = cpu_ratio_of(&rows, case, FERRY, e.name()).unwrap_or(f64::NAN);
                Some(format!("{}: {wall:.3}x (CPU {cpu:.3}x)", e.name()))
            })
            .collect();
        println!("  {:<20} ferry vs {}", case.name(), shown.join(", "));
    }

    print_table(&format!("ferryboat-s3 and its peers on {server} (medians per operation)"), &rows, Some(FERRY));
    print_peak_rss();
    let head = json!({
        "bench": "engines",
        "server": { "name": server, "endpoint": emu.endpoint },
        "baseline": FERRY,
        "ratio": "baseline throughput / contender throughput (median contender time / median baseline time); > 1: ferry faster",
        "scale": args.scale,
        "part_size": PART_SIZE,
        "part_concurrency": PART_CONCURRENCY,
        "versions": locked_versions(&["aws-sdk-s3", "object_store", "opendal", "s3s-fs", "s3s"]),
    });
    let file = if server == "s3s-fs" { "engines".to_owned() } else { format!("engines-{server}") };
    let path = write_json(&args.out, &file, head, &rows, Some(FERRY))?;
    println!("results: {}", path.display());

    // Leave nothing behind on a long-running server.
    let cleanup = engines[0].name() == FERRY;
    if let (true, Engine::Ferry(store)) = (cleanup, &engines[0]) {
        let keys = store.list(None).map_ok(|m| m.path).boxed();
        let _ = store.delete_stream(keys).try_collect::<Vec<_>>().await;
        let _ = sdk.delete_bucket().bucket(&bucket).send().await;
    }
    Ok(())
}

fn main() {
    let args = Args::parse();
    let (emu, how) = match args.server.as_str() {
        "s3s-fs" => (emulators::s3s(), "set FERRY_TEST_S3S or run scripts/test once to install it into .tools/"),
        "ceph-rgw" => (emulators::ceph_rgw(), "set FERRY_TEST_CEPH (scripts/bench starts one)"),
        "seaweedfs" => (emulators::seaweedfs(), "set FERRY_TEST_SEAWEEDFS (scripts/bench starts one)"),
        other => {
            eprintln!("engines bench: unknown --server {other} (s3s-fs, ceph-rgw or seaweedfs)");
            std::process::exit(2);
        }
    };
    let Some(emu) = emu else {
        println!("engines bench skipped: {} is not available ({how})", args.server);
        return;
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("engines bench: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(bench(emu, args)) {
        eprintln!("engines bench failed: {e}");
        std::process::exit(1);
    }
}
