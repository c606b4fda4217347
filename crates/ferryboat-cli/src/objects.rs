//! `ls`, `stat`, `cat`, `cp`, `rm`: one object (or one listing) on any URL.

use std::process::ExitCode;

use clap::Args;
use ferryboat::upload::UploadConfig;
use ferryboat::{Error, ListOptions, ObjectMeta, ObjectPath, ObjectStoreExt, PutOptions, Result};
use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::exit;
use crate::out::outln;
use crate::time::rfc3339;

/// The flags of `ls`.
#[derive(Args, Debug)]
pub struct LsArgs {
    /// The store or prefix to list (s3://bucket/prefix, /dir, …).
    pub url: String,
    /// Only one level: objects directly below, and the "directories" (common prefixes).
    #[arg(long)]
    pub level: bool,
    /// Every version of every key (and S3 delete marker), newest first per key, with its
    /// version id; stores that keep no versions say so (exit 2).
    #[arg(long, conflicts_with = "level")]
    pub versions: bool,
    /// One JSON object per line (JSON Lines): key, size, last_modified, etag.
    #[arg(long)]
    pub json: bool,
}

/// The flags of `stat`.
#[derive(Args, Debug)]
pub struct StatArgs {
    /// The object (s3://bucket/key, /dir/file, …).
    pub url: String,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The flags of `cat`.
#[derive(Args, Debug)]
pub struct CatArgs {
    /// The object.
    pub url: String,
}

/// The flags of `cp`.
#[derive(Args, Debug)]
pub struct CpArgs {
    /// The object to copy.
    pub src: String,
    /// Where to: an object URL, or a URL ending in `/` to keep the source's name.
    pub dst: String,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The flags of `rm`.
#[derive(Args, Debug)]
pub struct RmArgs {
    /// The object, or with --recursive the store or prefix.
    pub url: String,
    /// Delete every object under the URL.
    #[arg(long)]
    pub recursive: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

fn meta_json(m: &ObjectMeta) -> serde_json::Value {
    json!({
        "key": m.path.as_str(),
        "size": m.size,
        "last_modified": rfc3339(m.last_modified),
        "etag": m.etag,
        "version": m.version,
        "content_type": m.content_type,
        "storage_class": m.storage_class,
    })
}

fn done(result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::report(&e),
    }
}

/// Runs `ls`.
pub async fn ls(args: LsArgs) -> ExitCode {
    done(ls_inner(&args).await)
}

async fn ls_inner(args: &LsArgs) -> Result<()> {
    let store = crate::open(&args.url).await?;
    if args.level {
        let level = store.list_with_delimiter(None).await?;
        for p in &level.common_prefixes {
            if args.json {
                outln!("{}", json!({ "prefix": format!("{}/", p.as_str()) }));
            } else {
                outln!("{:>12}  {:20}  {}/", "DIR", "", p.as_str());
            }
        }
        for m in &level.objects {
            print_meta(m, args.json);
        }
        return Ok(());
    }
    if args.versions {
        let mut listing = store.list_opts(ListOptions { versions: true, ..Default::default() });
        while let Some(m) = listing.try_next().await? {
            print_version(&m, args.json);
        }
        return Ok(());
    }
    let mut listing = store.list(None);
    while let Some(m) = listing.try_next().await? {
        print_meta(&m, args.json);
    }
    Ok(())
}

fn print_version(m: &ObjectMeta, json: bool) {
    let info = m.version_info.unwrap_or_default();
    if json {
        let mut v = meta_json(m);
        v["latest"] = json!(info.latest);
        v["delete_marker"] = json!(info.delete_marker);
        outln!("{v}");
    } else {
        let flag = match (info.delete_marker, info.latest) {
            (true, _) => "deleted",
            (false, true) => "latest",
            (false, false) => "",
        };
        let version = m.version.as_deref().unwrap_or("-");
        outln!("{:>12}  {}  {:7}  {}  {}", m.size, rfc3339(m.last_modified), flag, version, m.path.as_str());
    }
}

fn print_meta(m: &ObjectMeta, json: bool) {
    if json {
        outln!("{}", meta_json(m));
    } else {
        outln!("{:>12}  {}  {}", m.size, rfc3339(m.last_modified), m.path.as_str());
    }
}

/// Runs `stat`.
pub async fn stat(args: StatArgs) -> ExitCode {
    done(stat_inner(&args).await)
}

async fn stat_inner(args: &StatArgs) -> Result<()> {
    let (store, key) = crate::open_object(&args.url).await?;
    let m = store.head(&key).await?;
    if args.json {
        let mut v = meta_json(&m);
        v["metadata"] = json!(m.metadata);
        v["provider"] = json!(store.info().provider);
        outln!("{v}");
        return Ok(());
    }
    outln!("key:           {}", m.path.as_str());
    outln!("size:          {}", m.size);
    outln!("last modified: {}", rfc3339(m.last_modified));
    for (label, value) in [
        ("etag:         ", &m.etag),
        ("version:      ", &m.version),
        ("content type: ", &m.content_type),
        ("storage class:", &m.storage_class),
    ] {
        if let Some(v) = value {
            outln!("{label} {v}");
        }
    }
    for (k, v) in m.metadata.iter() {
        outln!("metadata:      {k}: {v}");
    }
    outln!("provider:      {}", store.info().provider);
    Ok(())
}

/// Runs `cat`.
pub async fn cat(args: CatArgs) -> ExitCode {
    done(cat_inner(&args).await)
}

async fn cat_inner(args: &CatArgs) -> Result<()> {
    let (store, key) = crate::open_object(&args.url).await?;
    let mut body = store.get(&key).await?.body;
    let mut out = tokio::io::stdout();
    while let Some(chunk) = body.try_next().await? {
        if let Err(e) = out.write_all(&chunk).await {
            // A reader that has seen enough (`| head`) is not an error of ours.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(Error::generic("stdout", key.as_str(), format!("cannot write to stdout: {e}"), None));
        }
    }
    let _ = out.flush().await;
    Ok(())
}

/// Runs `cp`.
pub async fn cp(args: CpArgs) -> ExitCode {
    done(cp_inner(&args).await)
}

async fn cp_inner(args: &CpArgs) -> Result<()> {
    let (src, src_key) = crate::open_object(&args.src).await?;
    let dst_url = if args.dst.ends_with('/') {
        let name = src_key.as_str().rsplit('/').next().unwrap_or(src_key.as_str());
        format!("{}{name}", args.dst)
    } else {
        args.dst.clone()
    };
    let (dst, dst_key) = crate::open_object(&dst_url).await?;
    let got = src.get(&src_key).await?;
    let size = got.meta.size;
    let config = UploadConfig { expected_size: Some(size), ..Default::default() };
    let body = got.body.boxed();
    dst.put_stream(&dst_key, body, PutOptions::from_meta(&got.meta), config).await?;
    // The store checked each part; the size proves no part went missing.
    let written = dst.head(&dst_key).await?;
    if written.size != size {
        return Err(Error::Integrity {
            provider: dst.info().provider.clone(),
            path: dst_key.to_string(),
            message: format!("copied {size} bytes but the destination holds {}", written.size),
            details: Default::default(),
        });
    }
    if args.json {
        outln!("{}", json!({ "copied": src_key.as_str(), "to": dst_key.as_str(), "bytes": size }));
    } else {
        outln!("copied {} ({size} bytes) to {}", src_key.as_str(), dst_key.as_str());
    }
    Ok(())
}

/// Runs `rm`.
pub async fn rm(args: RmArgs) -> ExitCode {
    done(rm_inner(&args).await)
}

async fn rm_inner(args: &RmArgs) -> Result<()> {
    if !args.recursive {
        let (store, key) = crate::open_object(&args.url).await?;
        // A delete of a missing key succeeds on most stores: say so instead of pretending.
        store.head(&key).await?;
        store.delete(&key).await?;
        if args.json {
            outln!("{}", json!({ "deleted": 1 }));
        } else {
            outln!("deleted {}", key.as_str());
        }
        return Ok(());
    }
    let store = crate::open(&args.url).await?;
    let keys = store.list(None).map_ok(|m: ObjectMeta| m.path).boxed();
    let mut deleted = store.delete_stream(keys);
    let mut n = 0u64;
    while let Some(p) = deleted.next().await {
        let p: ObjectPath = p?;
        if !args.json {
            outln!("deleted {}", p.as_str());
        }
        n += 1;
    }
    if args.json {
        outln!("{}", json!({ "deleted": n }));
    }
    Ok(())
}
