//! `MirrorReport`: what a run did, for people (`Display`) and machines (`serde`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::options::{CompareMode, VerifyMode};
use crate::shard::Shard;

/// Failures listed one by one in a report; beyond this only the count grows.
pub const MAX_LISTED_FAILURES: usize = 1000;

/// The rule that decided whether an object present on both sides was already up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Rule {
    /// The sizes differ: changed, no further request needed.
    SizeDiffers,
    /// The SHA-256 both sides recorded.
    Sha256,
    /// The source etag recorded at copy time still equals the source's etag.
    SourceEtag,
    /// The source modification time recorded at copy time (source lists no etags).
    SourceMtime,
    /// Plain-MD5 etags of the same provider.
    Etag,
    /// Size and modification time.
    SizeMtime,
    /// Size only.
    Size,
    /// Nothing could prove the copy current, so it was copied again.
    Unproven,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rule::SizeDiffers => "size differs",
            Rule::Sha256 => "sha256",
            Rule::SourceEtag => "recorded source etag",
            Rule::SourceMtime => "recorded source mtime",
            Rule::Etag => "etag (md5)",
            Rule::SizeMtime => "size+mtime",
            Rule::Size => "size only",
            Rule::Unproven => "unproven (recopied)",
        })
    }
}

/// One object the run could not mirror.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The key.
    pub key: String,
    /// What was being done: `copy`, `compare`, `delete`.
    pub action: String,
    /// The error kind (`Unavailable`, `Integrity`, …).
    pub kind: String,
    /// The error message (never holds a secret: store errors are sanitised).
    pub reason: String,
    /// Attempts made.
    pub attempts: u32,
}

/// Something a copied object carries that its destination cannot store, so the copy went
/// without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotCarried {
    /// The key.
    pub key: String,
    /// What was left behind: `content-type`, `content-disposition`, `content-encoding`,
    /// `content-language`, `cache-control`, `storage-class`, or `metadata:NAME`.
    pub attribute: String,
    /// Why: the destination does not keep it, or (storage class) the two providers name
    /// their classes differently.
    pub reason: String,
}

/// Requests the run sent, by kind (listing pages are not visible through the trait and are
/// counted as entries instead).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Requests {
    /// Listing entries read, both sides.
    pub list_entries: u64,
    /// Metadata reads.
    pub head: u64,
    /// Object reads.
    pub get: u64,
    /// Object writes (one per object; a multipart upload counts its parts too).
    pub put: u64,
    /// Server-side copies.
    pub copy: u64,
    /// Deletions.
    pub delete: u64,
}

/// The copy window of a run ([`MirrorOptions::transfers`](crate::MirrorOptions::transfers)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TransferWindow {
    /// Its size when the run ended.
    pub last: usize,
    /// The largest it grew to.
    pub peak: usize,
}

/// What a mirror run did, or, in a dry run, would do.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct MirrorReport {
    /// Source provider and bucket.
    pub source: String,
    /// Destination provider and bucket.
    pub destination: String,
    /// Nothing was written.
    pub dry_run: bool,
    /// The comparison mode asked for.
    pub compare: Option<CompareMode>,
    /// The verification mode asked for.
    pub verify: Option<VerifyMode>,
    /// The worker's shard, if sharded.
    pub shard: Option<Shard>,
    /// Source entries listed (in this shard and filters or not).
    pub listed_source: u64,
    /// Destination entries listed.
    pub listed_destination: u64,
    /// Entries left out by filters or sharding.
    pub filtered: u64,
    /// Objects copied (or to copy, in a dry run).
    pub copied: u64,
    /// Bytes copied (or to copy).
    pub copied_bytes: u64,
    /// Of the copies, how many the store did itself.
    pub server_side_copies: u64,
    /// Objects already up to date.
    pub skipped: u64,
    /// Bytes already up to date.
    pub skipped_bytes: u64,
    /// Objects gone from the source between listing and reading.
    pub vanished: u64,
    /// Destination objects missing from the source (deleted only with `delete`).
    pub extraneous: u64,
    /// Bytes of the extraneous objects.
    pub extraneous_bytes: u64,
    /// Objects deleted (or to delete, in a dry run).
    pub deleted: u64,
    /// Bytes deleted (or to delete).
    pub deleted_bytes: u64,
    /// How many objects each comparison rule decided.
    pub compared: BTreeMap<Rule, u64>,
    /// Failed objects (the first [`MAX_LISTED_FAILURES`]).
    pub failures: Vec<Failure>,
    /// Failed objects, all of them.
    pub failed: u64,
    /// Unfinished multipart uploads aborted at start.
    pub aborted_uploads: u64,
    /// Requests sent (or, in a dry run, the copy requests that would be sent).
    pub requests: Requests,
    /// Bytes read out of the source through this machine (server-side copies excluded).
    pub egress_bytes: u64,
    /// `egress_bytes` at the given price per GiB: the exit bill.
    pub egress_cost: Option<f64>,
    /// In a dry run, what the planned copies that pass through this machine would move
    /// (server-side copies excluded): the workload an exit plan prices
    /// ([`ExitPlan::compute`](ferryboat_providers::plan::ExitPlan::compute)), the same one
    /// `plan` sums from a whole listing. `None` outside dry runs.
    pub workload: Option<ferryboat_providers::plan::Workload>,
    /// Copies in flight at once: where the window ended, and the most it held.
    pub transfers: TransferWindow,
    /// Wall-clock seconds.
    pub elapsed_secs: f64,
    /// Things the operator should know (fallbacks, skipped deletes).
    pub warnings: Vec<String>,
    /// Attributes of copied objects the destination could not store, one per key and
    /// attribute (the first [`MAX_LISTED_FAILURES`]; `not_carried_count` has them all).
    pub not_carried: Vec<NotCarried>,
    /// How many key-and-attribute pairs were not carried.
    pub not_carried_count: u64,
    /// Why the run stopped early, if it did. Nothing is deleted after an abort.
    pub aborted: Option<String>,
    /// Source and destination match at the end (extraneous objects aside unless `delete`).
    pub in_sync: bool,
}

impl MirrorReport {
    /// Copy rate in bytes per second.
    pub fn rate(&self) -> f64 {
        if self.elapsed_secs > 0.0 {
            self.copied_bytes as f64 / self.elapsed_secs
        } else {
            0.0
        }
    }

    pub(crate) fn not_carried(&mut self, items: Vec<NotCarried>) {
        for item in items {
            self.not_carried_count += 1;
            if self.not_carried.len() < MAX_LISTED_FAILURES {
                self.not_carried.push(item);
            }
        }
    }

    pub(crate) fn fail(&mut self, failure: Failure) {
        self.failed += 1;
        if self.failures.len() < MAX_LISTED_FAILURES {
            self.failures.push(failure);
        }
    }

    pub(crate) fn rule(&mut self, rule: Rule) {
        *self.compared.entry(rule).or_default() += 1;
    }
}

/// Formats a byte count with binary units: `1.5 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

impl fmt::Display for MirrorReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let would = if self.dry_run { " (dry run: nothing written)" } else { "" };
        writeln!(f, "{} -> {}{would}", self.source, self.destination)?;
        if let Some(shard) = &self.shard {
            writeln!(f, "  shard       {shard}")?;
        }
        let verb = |done: &'static str, plan: &'static str| if self.dry_run { plan } else { done };
        writeln!(
            f,
            "  {:<11} {} objects, {}{}",
            verb("copied", "to copy"),
            self.copied,
            human_bytes(self.copied_bytes),
            if self.server_side_copies > 0 {
                format!(" ({} server-side)", self.server_side_copies)
            } else {
                String::new()
            }
        )?;
        writeln!(f, "  {:<11} {} objects, {}", "up to date", self.skipped, human_bytes(self.skipped_bytes))?;
        writeln!(
            f,
            "  {:<11} {} objects, {} ({} extraneous on the destination)",
            verb("deleted", "to delete"),
            self.deleted,
            human_bytes(self.deleted_bytes),
            self.extraneous
        )?;
        writeln!(f, "  {:<11} {}", "failed", self.failed)?;
        if self.filtered > 0 || self.vanished > 0 {
            writeln!(
                f,
                "  {:<11} {} filtered out, {} vanished from the source",
                "other", self.filtered, self.vanished
            )?;
        }
        if !self.compared.is_empty() {
            let rules: Vec<String> = self.compared.iter().map(|(r, n)| format!("{r}: {n}")).collect();
            writeln!(f, "  {:<11} {}", "compared by", rules.join(", "))?;
        }
        let r = &self.requests;
        writeln!(
            f,
            "  {:<11} {} listed, {} head, {} get, {} put, {} copy, {} delete",
            "requests", r.list_entries, r.head, r.get, r.put, r.copy, r.delete
        )?;
        if self.aborted_uploads > 0 {
            writeln!(f, "  {:<11} {} unfinished multipart uploads aborted", "cleanup", self.aborted_uploads)?;
        }
        match self.egress_cost {
            Some(cost) => writeln!(
                f,
                "  {:<11} {} out of the source, about {cost:.2} at the given price",
                "egress",
                human_bytes(self.egress_bytes)
            )?,
            None => writeln!(f, "  {:<11} {} out of the source", "egress", human_bytes(self.egress_bytes))?,
        }
        writeln!(f, "  {:<11} {:.2}s, {}/s", "time", self.elapsed_secs, human_bytes(self.rate() as u64))?;
        for w in &self.warnings {
            writeln!(f, "  warning: {w}")?;
        }
        for n in &self.not_carried {
            writeln!(f, "  warning: {:?}: {} not carried ({})", n.key, n.attribute, n.reason)?;
        }
        if self.not_carried_count > self.not_carried.len() as u64 {
            writeln!(
                f,
                "  … and {} more attributes not carried",
                self.not_carried_count - self.not_carried.len() as u64
            )?;
        }
        for fail in &self.failures {
            writeln!(
                f,
                "  FAILED {} {:?}: {} ({}, {} attempts)",
                fail.action, fail.key, fail.reason, fail.kind, fail.attempts
            )?;
        }
        if self.failed > self.failures.len() as u64 {
            writeln!(f, "  … and {} more failures", self.failed - self.failures.len() as u64)?;
        }
        if let Some(why) = &self.aborted {
            writeln!(f, "  ABORTED: {why}")?;
        }
        write!(f, "  result: {}", if self.in_sync { "in sync" } else { "NOT in sync" })
    }
}

/// Live counters a caller can poll while a run is going (for a progress bar).
#[derive(Debug, Default)]
pub struct Progress {
    planned_objects: AtomicU64,
    planned_bytes: AtomicU64,
    done_objects: AtomicU64,
    done_bytes: AtomicU64,
    checked: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
}

impl Progress {
    pub(crate) fn plan(&self, bytes: u64) {
        self.planned_objects.fetch_add(1, Ordering::Relaxed);
        self.planned_bytes.fetch_add(bytes, Ordering::Relaxed);
    }
    pub(crate) fn done(&self, bytes: u64) {
        self.done_objects.fetch_add(1, Ordering::Relaxed);
        self.done_bytes.fetch_add(bytes, Ordering::Relaxed);
    }
    pub(crate) fn checked(&self) {
        self.checked.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn retried(&self) {
        self.retried.fetch_add(1, Ordering::Relaxed);
    }
    /// Objects found to need copying so far.
    pub fn planned_objects(&self) -> u64 {
        self.planned_objects.load(Ordering::Relaxed)
    }
    /// Bytes found to need copying so far.
    pub fn planned_bytes(&self) -> u64 {
        self.planned_bytes.load(Ordering::Relaxed)
    }
    /// Objects copied, or finished with a failure, so far.
    pub fn done_objects(&self) -> u64 {
        self.done_objects.load(Ordering::Relaxed)
    }
    /// Bytes copied so far.
    pub fn done_bytes(&self) -> u64 {
        self.done_bytes.load(Ordering::Relaxed)
    }
    /// Keys compared so far.
    pub fn checked_keys(&self) -> u64 {
        self.checked.load(Ordering::Relaxed)
    }
    /// Objects that failed so far (a copy that used its attempts, a key that could not be
    /// compared); the report's `failed` at the end also counts failed deletes.
    pub fn failed_objects(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
    /// Copies started again after a failed attempt so far (the mirror's own retries;
    /// resumed reads and re-sent parts inside one attempt are not counted here).
    pub fn retried_copies(&self) -> u64 {
        self.retried.load(Ordering::Relaxed)
    }
}
