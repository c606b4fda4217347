//! `ferryboat check SRC DST`: are two stores the same?
//!
//! Both listings are merged in key order (memory stays flat). A key on both sides is
//! compared by the strongest evidence available, and the rule used is reported per key:
//!
//! 1. sizes differ: different;
//! 2. equal plain-MD5 etags (32 hex digits): the same content;
//! 3. the SHA-256 ferry recorded (`ferry-sha256`) on both sides;
//! 4. the SHA-256 recorded on one side against the other side read and hashed;
//! 5. both sides read and hashed.
//!
//! Unequal etags prove nothing (a multipart or encrypted object's etag is no MD5), so they
//! lead to the next rule, never to "different". Nothing is weaker than that unless asked:
//! `--size-only` compares sizes and says so; `--no-read` stops before 4 and 5 and reports
//! the keys it could not settle as unproven.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use ferryboat::mirror::META_SHA256;
use ferryboat::{Error, ObjectMeta, ObjectPath, ObjectStore, ObjectStoreExt, Result};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::exit;
use crate::out::outln;

/// Keys listed one by one per outcome in the JSON report; beyond this only counts grow.
pub const MAX_LISTED: usize = 1000;

/// The flags of `check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The source URL.
    pub src: String,
    /// The destination URL.
    pub dst: String,
    /// Compare sizes only (weaker, and reported as such).
    #[arg(long, conflicts_with = "no_read")]
    pub size_only: bool,
    /// Never read object bytes: keys no hash settles are reported as unproven (exit 3).
    #[arg(long)]
    pub no_read: bool,
    /// Keys compared at once.
    #[arg(long, default_value_t = 16)]
    pub checkers: usize,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// How a key present on both sides was compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// The sizes differ.
    SizeDiffers,
    /// Equal plain-MD5 etags.
    EtagMd5,
    /// `ferry-sha256` recorded on both sides.
    Sha256Recorded,
    /// `ferry-sha256` recorded on one side, the other side read and hashed.
    Sha256RecordedVsRead,
    /// Both sides read and hashed.
    Read,
    /// Sizes only (`--size-only`).
    SizeOnly,
}

/// What `check` found.
#[derive(Debug, Default, Serialize)]
pub struct CheckReport {
    /// Keys on both sides with the same content.
    pub same: u64,
    /// Keys only the source has.
    pub missing: u64,
    /// Keys only the destination has.
    pub extra: u64,
    /// Keys on both sides whose content differs.
    pub different: u64,
    /// Keys no comparison settled without a read `--no-read` forbade.
    pub unproven: u64,
    /// Keys that could not be compared (an error reading them).
    pub errors: u64,
    /// Keys compared, by the rule that settled them.
    pub rules: BTreeMap<Rule, u64>,
    /// The first keys of each outcome, up to [`MAX_LISTED`] each.
    pub missing_keys: Vec<String>,
    /// See `missing_keys`.
    pub extra_keys: Vec<String>,
    /// See `missing_keys`, with the rule that found the difference.
    pub different_keys: Vec<(String, Rule)>,
    /// See `missing_keys`.
    pub unproven_keys: Vec<String>,
    /// See `missing_keys`, with the error.
    pub error_keys: Vec<(String, String)>,
    /// The two sides hold the same keys with the same contents, every one proven.
    pub identical: bool,
}

// Entries pass through one at a time, never stored in bulk: boxing `Both` would cost an
// allocation per key for no memory saved.
#[allow(clippy::large_enum_variant)]
enum Entry {
    Source(ObjectMeta),
    Destination(ObjectMeta),
    Both(ObjectMeta, ObjectMeta),
}

enum Outcome {
    Same(Rule),
    Different(Rule),
    Unproven,
}

struct Sides {
    src: Arc<dyn ObjectStore>,
    dst: Arc<dyn ObjectStore>,
    size_only: bool,
    no_read: bool,
}

/// Two sorted listings merged into one stream of entries; a listing out of order is an
/// error, never a wrong answer.
fn merge(
    src: BoxStream<'static, Result<ObjectMeta>>,
    dst: BoxStream<'static, Result<ObjectMeta>>,
) -> BoxStream<'static, Result<Entry>> {
    struct State {
        src: std::pin::Pin<Box<stream::Peekable<BoxStream<'static, Result<ObjectMeta>>>>>,
        dst: std::pin::Pin<Box<stream::Peekable<BoxStream<'static, Result<ObjectMeta>>>>>,
        last: [Option<ObjectPath>; 2],
    }
    async fn next_of(
        s: &mut std::pin::Pin<Box<stream::Peekable<BoxStream<'static, Result<ObjectMeta>>>>>,
        last: &mut Option<ObjectPath>,
        side: &str,
    ) -> Result<Option<ObjectMeta>> {
        let Some(m) = s.next().await.transpose()? else { return Ok(None) };
        if last.as_ref().is_some_and(|l| m.path <= *l) {
            return Err(Error::generic(
                side,
                m.path.as_str(),
                format!("the {side} listing is not in ascending byte order; cannot compare"),
                None,
            ));
        }
        *last = Some(m.path.clone());
        Ok(Some(m))
    }
    let state = State { src: Box::pin(src.peekable()), dst: Box::pin(dst.peekable()), last: [None, None] };
    stream::try_unfold(state, |mut st| async move {
        let order = {
            let s = st.src.as_mut().peek().await;
            let d = st.dst.as_mut().peek().await;
            match (s, d) {
                (None, None) => return Ok(None),
                (Some(Err(_)), _) | (Some(_), None) => Ordering::Less,
                (_, Some(Err(_))) | (None, Some(_)) => Ordering::Greater,
                (Some(Ok(s)), Some(Ok(d))) => s.path.cmp(&d.path),
            }
        };
        let [ls, ld] = &mut st.last;
        let entry = match order {
            Ordering::Less => next_of(&mut st.src, ls, "source").await?.map(Entry::Source),
            Ordering::Greater => next_of(&mut st.dst, ld, "destination").await?.map(Entry::Destination),
            Ordering::Equal => {
                match (next_of(&mut st.src, ls, "source").await?, next_of(&mut st.dst, ld, "destination").await?) {
                    (Some(s), Some(d)) => Some(Entry::Both(s, d)),
                    _ => None,
                }
            }
        };
        Ok(entry.map(|e| (e, st)))
    })
    .boxed()
}

fn plain_md5(etag: &str) -> bool {
    etag.len() == 32 && etag.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The SHA-256 ferry recorded for an object: from its listing entry if the listing carries
/// metadata, else from a HEAD where the store keeps user metadata.
async fn recorded(store: &dyn ObjectStore, m: &ObjectMeta) -> Result<Option<String>> {
    if let Some(v) = m.metadata.get(META_SHA256) {
        return Ok(Some(v.to_ascii_lowercase()));
    }
    if !store.capabilities().user_metadata {
        return Ok(None);
    }
    Ok(store.head(&m.path).await?.metadata.get(META_SHA256).map(|v| v.to_ascii_lowercase()))
}

/// Reads an object and returns the hex SHA-256 of its bytes, checking its length.
async fn read_sha256(store: &dyn ObjectStore, m: &ObjectMeta) -> Result<String> {
    let mut body = store.get(&m.path).await?.body;
    let mut hasher = Sha256::new();
    let mut len = 0u64;
    while let Some(chunk) = body.try_next().await? {
        len += chunk.len() as u64;
        hasher.update(&chunk);
    }
    if len != m.size {
        return Err(Error::Integrity {
            provider: store.info().provider.clone(),
            path: m.path.to_string(),
            message: format!("listed as {} bytes, read {len}", m.size),
            details: Default::default(),
        });
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

impl Sides {
    async fn compare(&self, s: &ObjectMeta, d: &ObjectMeta) -> Result<Outcome> {
        if s.size != d.size {
            return Ok(Outcome::Different(Rule::SizeDiffers));
        }
        if self.size_only {
            return Ok(Outcome::Same(Rule::SizeOnly));
        }
        if let (Some(a), Some(b)) = (s.etag.as_deref(), d.etag.as_deref()) {
            if plain_md5(a) && plain_md5(b) && a.eq_ignore_ascii_case(b) {
                return Ok(Outcome::Same(Rule::EtagMd5));
            }
        }
        let (rs, rd) = (recorded(self.src.as_ref(), s).await?, recorded(self.dst.as_ref(), d).await?);
        let verdict = |a: &str, b: &str, rule| if a == b { Outcome::Same(rule) } else { Outcome::Different(rule) };
        match (rs, rd) {
            (Some(a), Some(b)) => Ok(verdict(&a, &b, Rule::Sha256Recorded)),
            _ if self.no_read => Ok(Outcome::Unproven),
            (Some(a), None) => Ok(verdict(&a, &read_sha256(self.dst.as_ref(), d).await?, Rule::Sha256RecordedVsRead)),
            (None, Some(b)) => Ok(verdict(&read_sha256(self.src.as_ref(), s).await?, &b, Rule::Sha256RecordedVsRead)),
            (None, None) => {
                let (a, b) = futures::try_join!(read_sha256(self.src.as_ref(), s), read_sha256(self.dst.as_ref(), d))?;
                Ok(verdict(&a, &b, Rule::Read))
            }
        }
    }
}

fn push<T>(list: &mut Vec<T>, item: T) {
    if list.len() < MAX_LISTED {
        list.push(item);
    }
}

/// Compares `src` and `dst`, printing each difference as it is found unless `quiet`.
pub async fn check(
    src: Arc<dyn ObjectStore>,
    dst: Arc<dyn ObjectStore>,
    size_only: bool,
    no_read: bool,
    checkers: usize,
    quiet: bool,
) -> Result<CheckReport> {
    let sides = Arc::new(Sides { src: src.clone(), dst: dst.clone(), size_only, no_read });
    let mut report = CheckReport::default();
    let entries = merge(src.list(None), dst.list(None));
    let mut results = entries
        .map_ok(|entry| {
            let sides = sides.clone();
            async move {
                match entry {
                    Entry::Both(s, d) => {
                        let outcome = sides.compare(&s, &d).await;
                        Ok::<_, Error>((Entry::Both(s, d), Some(outcome)))
                    }
                    other => Ok((other, None)),
                }
            }
        })
        .try_buffer_unordered(checkers.max(1));
    while let Some((entry, outcome)) = results.try_next().await? {
        let say = |line: String| {
            if !quiet {
                outln!("{line}");
            }
        };
        match (entry, outcome) {
            (Entry::Source(m), _) => {
                report.missing += 1;
                say(format!("missing: {}", m.path.as_str()));
                push(&mut report.missing_keys, m.path.to_string());
            }
            (Entry::Destination(m), _) => {
                report.extra += 1;
                say(format!("extra: {}", m.path.as_str()));
                push(&mut report.extra_keys, m.path.to_string());
            }
            (Entry::Both(m, _), Some(Ok(Outcome::Same(rule)))) => {
                let _ = m;
                report.same += 1;
                *report.rules.entry(rule).or_default() += 1;
            }
            (Entry::Both(m, _), Some(Ok(Outcome::Different(rule)))) => {
                report.different += 1;
                *report.rules.entry(rule).or_default() += 1;
                say(format!("different: {} ({})", m.path.as_str(), rule_name(rule)));
                push(&mut report.different_keys, (m.path.to_string(), rule));
            }
            (Entry::Both(m, _), Some(Ok(Outcome::Unproven))) => {
                report.unproven += 1;
                say(format!("unproven: {} (no recorded hash; --no-read forbids reading)", m.path.as_str()));
                push(&mut report.unproven_keys, m.path.to_string());
            }
            (Entry::Both(m, _), Some(Err(e))) => {
                report.errors += 1;
                let msg = e.to_string().replace('\n', " ");
                say(format!("error: {}: {msg}", m.path.as_str()));
                push(&mut report.error_keys, (m.path.to_string(), msg));
            }
            (Entry::Both(..), None) => {}
        }
    }
    report.identical =
        report.missing == 0 && report.extra == 0 && report.different == 0 && report.unproven == 0 && report.errors == 0;
    Ok(report)
}

fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::SizeDiffers => "size differs",
        Rule::EtagMd5 => "md5 etags",
        Rule::Sha256Recorded => "recorded sha256",
        Rule::Sha256RecordedVsRead => "recorded sha256 vs read",
        Rule::Read => "read both",
        Rule::SizeOnly => "size only",
    }
}

/// Runs `check`: 0 identical, 1 differences, 2 bad input, 3 could not compare everything.
pub async fn run(args: CheckArgs) -> ExitCode {
    let outcome = async {
        let src = crate::open(&args.src).await?;
        let dst = crate::open(&args.dst).await?;
        check(src, dst, args.size_only, args.no_read, args.checkers, args.json).await
    }
    .await;
    let report = match outcome {
        Ok(r) => r,
        Err(e) => return exit::report(&e),
    };
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(s) => outln!("{s}"),
            Err(e) => eprintln!("error: cannot encode the report: {e}"),
        }
    } else {
        let rules: Vec<String> = report.rules.iter().map(|(r, n)| format!("{} {n}", rule_name(*r))).collect();
        outln!(
            "{} same, {} missing, {} extra, {} different, {} unproven, {} errors; compared by: {}",
            report.same,
            report.missing,
            report.extra,
            report.different,
            report.unproven,
            report.errors,
            if rules.is_empty() { "nothing".to_string() } else { rules.join(", ") }
        );
    }
    ExitCode::from(if report.missing + report.extra + report.different > 0 {
        exit::FAILED
    } else if report.unproven + report.errors > 0 {
        exit::INCOMPLETE
    } else {
        exit::OK
    })
}
