//! `ferryboat split URL N`: key ranges for N mirror workers that each list only their part.
//!
//! One listing of URL (as concurrent key ranges where the store allows) cuts it into N
//! ranges of about equal key counts; each line printed is the `--after` / `--upto` flags of
//! one worker's `ferryboat mirror`, shell-quoted. Unlike `--shard K/N`, where every worker
//! lists the whole bucket on both sides, a worker given a range lists only that range.

use std::process::ExitCode;

use clap::Args;
use ferryboat::mirror::split::split;
use ferryboat::{ObjectPath, Result};
use serde_json::json;

use crate::exit;
use crate::out::outln;

/// The flags of `split`.
#[derive(Args, Debug)]
pub struct SplitArgs {
    /// The URL to cut (the mirror's source).
    pub url: String,
    /// How many parts (workers).
    pub parts: usize,
    /// Print `{"keys": N, "ranges": [{"after": …, "upto": …}, …]}` instead.
    #[arg(long)]
    pub json: bool,
}

/// `'…'` with every `'` closed, escaped and reopened: safe to paste into a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn flags(after: Option<&ObjectPath>, upto: Option<&ObjectPath>) -> String {
    let mut out = Vec::new();
    if let Some(a) = after {
        out.push(format!("--after {}", shell_quote(a.as_str())));
    }
    if let Some(u) = upto {
        out.push(format!("--upto {}", shell_quote(u.as_str())));
    }
    out.join(" ")
}

async fn split_inner(args: &SplitArgs) -> Result<()> {
    let store = crate::open(&args.url).await?;
    let parts = split(store, None, args.parts).await?;
    let ranges: Vec<_> = (0..parts.parts()).map(|i| parts.range(i)).collect();
    if args.json {
        let ranges: Vec<_> = ranges
            .iter()
            .map(|(a, u)| json!({ "after": a.as_ref().map(ObjectPath::as_str), "upto": u.as_ref().map(ObjectPath::as_str) }))
            .collect();
        outln!("{}", json!({ "keys": parts.keys, "ranges": ranges }));
        return Ok(());
    }
    if parts.parts() < args.parts {
        eprintln!("note: {} keys make only {} parts", parts.keys, parts.parts());
    }
    for (after, upto) in &ranges {
        outln!("{}", flags(after.as_ref(), upto.as_ref()));
    }
    Ok(())
}

/// Runs `split`.
pub async fn run(args: SplitArgs) -> ExitCode {
    match split_inner(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::report(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_quotes_and_spaces() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        let k = ObjectPath::parse("k/1").unwrap();
        assert_eq!(flags(None, Some(&k)), "--upto 'k/1'");
        assert_eq!(flags(Some(&k), None), "--after 'k/1'");
    }
}
