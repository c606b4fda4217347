//! # ferryboat-cli
//!
//! The `ferryboat` command: `mirror`, `check`, `ls`, `stat`, `cat`, `cp`, `rm` on every
//! store ferry opens, and `providers`, the catalogue. The binary is a thin `main` over
//! [`main_with`]; the `mirror` example of the `ferryboat` crate calls [`mirror::example_main`].
//!
//! Exit codes ([`exit`]): 0 yes, 1 no or failed (a retry may help), 2 bad input (a retry
//! cannot help), 3 a check that could not compare everything.
#![warn(missing_docs)]

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use ferryboat::{Error, ObjectPath, ObjectStore, Result};

pub mod check;
pub mod exit;
pub mod metrics;
pub mod mirror;
mod objects;
mod out;
mod plan;
mod progress;
mod providers;
pub mod remotes;
mod split;
mod time;

/// Portable object storage from the command line.
#[derive(Parser, Debug)]
#[command(name = "ferryboat", version, about, propagate_version = true)]
pub struct Cli {
    /// The remotes file for `NAME:path` references (default: $FERRY_CONFIG, else
    /// ~/.config/ferryboat/remotes.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Mirror SRC to DST: copy what is new or changed, optionally delete what SRC lacks.
    Mirror(Box<mirror::MirrorArgs>),
    /// Are SRC and DST the same? Lists missing, extra and different keys.
    Check(check::CheckArgs),
    /// The exit plan from SRC to DST: requests, bytes and price of leaving.
    Plan(plan::PlanArgs),
    /// List the objects under a URL.
    Ls(objects::LsArgs),
    /// One object's metadata.
    Stat(objects::StatArgs),
    /// Write one object's bytes to stdout.
    Cat(objects::CatArgs),
    /// Copy one object from one URL to another (any two stores).
    Cp(objects::CpArgs),
    /// Delete one object, or with --recursive every object under a URL.
    Rm(objects::RmArgs),
    /// The provider catalogue: jurisdictions, countries, CLOUD Act exposure, regions, quirks.
    Providers(providers::ProvidersArgs),
    /// Key ranges that cut URL into N parts for N mirror workers (--after/--upto each).
    Split(split::SplitArgs),
}

/// Parses `args` (the program name first) and runs the command on a new runtime.
pub fn main_with<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return clap_exit(e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILED);
        }
    };
    runtime.block_on(run(cli))
}

/// Runs a parsed command.
pub async fn run(cli: Cli) -> ExitCode {
    remotes::set_config(cli.config.clone());
    match cli.command {
        Command::Mirror(args) => mirror::run(*args).await,
        Command::Check(args) => check::run(args).await,
        Command::Plan(args) => plan::run(args).await,
        Command::Ls(args) => objects::ls(args).await,
        Command::Stat(args) => objects::stat(args).await,
        Command::Cat(args) => objects::cat(args).await,
        Command::Cp(args) => objects::cp(args).await,
        Command::Rm(args) => objects::rm(args).await,
        Command::Providers(args) => providers::run(args),
        Command::Split(args) => split::run(args).await,
    }
}

/// Help and version go to stdout with 0; usage errors to stderr with [`exit::BAD_INPUT`].
fn clap_exit(e: clap::Error) -> ExitCode {
    let _ = e.print();
    if e.use_stderr() {
        ExitCode::from(exit::BAD_INPUT)
    } else {
        ExitCode::SUCCESS
    }
}

/// Opens the store a URL, or a `NAME:path` reference to a named remote, names.
pub async fn open(url: &str) -> Result<Arc<dyn ObjectStore>> {
    let resolved = remotes::resolve_with_options(url)?;
    ferryboat::open_with(&resolved.url, resolved.pairs()).await.map_err(|e| resolved.context(e))
}

/// Opens the store holding the object a URL names, and the object's key in it: the URL
/// up to its last `/` is the store, the rest (taken as typed, not percent-decoded) the key.
pub async fn open_object(url: &str) -> Result<(Arc<dyn ObjectStore>, ObjectPath)> {
    let resolved = remotes::resolve_with_options(url)?;
    let (store_url, key) = split_object_url(&resolved.url)?;
    let store = ferryboat::open_with(&store_url, resolved.pairs()).await.map_err(|e| resolved.context(e))?;
    Ok((store, ObjectPath::parse(key)?))
}

/// Splits `s3://bucket/dir/key?query` into `s3://bucket/dir?query` and `key`.
fn split_object_url(url: &str) -> Result<(String, String)> {
    let url = url.trim();
    let (base, query) = match url.find(['?', '#']) {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let path_start = match base.find("://") {
        Some(i) => i + 3,
        None => 0,
    };
    let shown = ferryboat::redact::redact_url(base);
    let no_object = || Error::invalid_config(format!("{shown:?} names no object: give the store URL followed by /KEY"));
    let Some(slash) = base[path_start..].rfind('/').map(|i| i + path_start) else {
        return Err(no_object());
    };
    let (store, key) = (&base[..slash], &base[slash + 1..]);
    if key.is_empty() || store.len() <= path_start {
        return Err(no_object());
    }
    // `./key` names the current directory, which `open` takes as `./`.
    let store = if store == "." || store == ".." { format!("{store}/") } else { store.to_string() };
    Ok((format!("{store}{query}"), key.to_string()))
}

#[cfg(test)]
mod tests {
    use super::split_object_url;

    #[test]
    fn object_urls_split_at_the_last_slash_and_keep_the_query() {
        let (s, k) = split_object_url("s3://b/dir/key.txt?endpoint=http://127.0.0.1:9/&region=x").unwrap();
        assert_eq!((s.as_str(), k.as_str()), ("s3://b/dir?endpoint=http://127.0.0.1:9/&region=x", "key.txt"));
        let (s, k) = split_object_url("/tmp/a/b").unwrap();
        assert_eq!((s.as_str(), k.as_str()), ("/tmp/a", "b"));
        assert!(split_object_url("s3://bucket").is_err());
        assert!(split_object_url("s3://bucket/").is_err());
        assert!(split_object_url("key").is_err());
    }
}
