//! `Mirror`: the run itself — list both sides, compare, copy, then (maybe) delete.

use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use ferryboat_core::budget::MemoryBudget;
use ferryboat_core::window::Window;
use ferryboat_core::{Error, ObjectMeta, ObjectPath, ObjectStore, PendingUpload, Result, StoreInfo};
use futures::stream::StreamExt;

use crate::compare::Verdict;
use crate::context::Ctx;
use crate::filter::Selector;
use crate::merge::{Entry, Listing, Merge, Scope};
use crate::options::MirrorOptions;
use crate::report::{Failure, MirrorReport, Progress, Rule};
use crate::transfer::CopyOutcome;

const GIB: f64 = (1u64 << 30) as f64;

/// What the comparison stage decided for one key.
#[derive(Debug)]
enum Plan {
    Filtered,
    Skip { bytes: u64, rule: Rule },
    Copy { meta: ObjectMeta, rule: Option<Rule> },
    Extraneous(ObjectMeta),
    Failed(Failure),
}

/// The result of work spawned onto the runtime's workers (so hashing and request signing
/// for many objects use every core, not only the one driving the pipeline). A panic there
/// is re-raised here as it would have been inline; a task cancelled by a runtime shutting
/// down becomes the object's failure.
fn joined<T>(
    result: std::result::Result<T, tokio::task::JoinError>,
    key: String,
    action: &str,
    failed: impl FnOnce(Failure) -> T,
) -> T {
    match result {
        Ok(v) => v,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => {
            failed(Failure { key, action: action.into(), kind: "Cancelled".into(), reason: e.to_string(), attempts: 0 })
        }
    }
}

/// What the copy stage did.
#[derive(Debug)]
enum Done {
    Plan(Plan),
    Copy { rule: Option<Rule>, outcome: CopyOutcome },
}

/// A mirror from one store to another. See the crate docs for an example.
#[derive(Debug)]
pub struct Mirror {
    src: Arc<dyn ObjectStore>,
    dst: Arc<dyn ObjectStore>,
    opts: MirrorOptions,
    progress: Arc<Progress>,
}

/// Whether two stores are one bucket of one provider (where the store's own copy applies).
/// A store named for reports: provider, bucket and region, never credentials.
fn describe(info: &StoreInfo) -> String {
    let mut s = info.provider.clone();
    if let Some(b) = &info.bucket {
        s.push_str(&format!("/{b}"));
    }
    if let Some(r) = &info.region {
        s.push_str(&format!(" ({r})"));
    }
    s
}

impl Mirror {
    /// A mirror from `src` to `dst`; nothing happens until [`Mirror::run`].
    pub fn new(src: Arc<dyn ObjectStore>, dst: Arc<dyn ObjectStore>, opts: MirrorOptions) -> Self {
        Mirror { src, dst, opts, progress: Arc::default() }
    }

    /// Live counters to poll while [`Mirror::run`] goes on (for a progress bar).
    pub fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// Runs the mirror.
    ///
    /// Only setup problems are errors: invalid options, or a store that cannot be listed at
    /// all. Everything per object — failed copies, a listing that breaks or goes out of order
    /// halfway — is in the report, whose [`MirrorReport::in_sync`] says whether the two sides
    /// match at the end. Nothing is deleted after any failure.
    pub async fn run(&self) -> Result<MirrorReport> {
        self.opts.validate()?;
        let started = Instant::now();
        let selector = Arc::new(Selector::new(&self.opts.filters, self.opts.shard, SystemTime::now())?);
        let ctx = Arc::new(Ctx {
            src: self.src.clone(),
            dst: self.dst.clone(),
            opts: self.opts.clone(),
            budget: MemoryBudget::new(self.opts.max_in_flight_bytes),
            counters: Arc::default(),
            window: Window::new(self.opts.transfers, self.opts.max_transfers),
        });
        let mut report = MirrorReport {
            source: describe(self.src.info()),
            destination: describe(self.dst.info()),
            dry_run: self.opts.dry_run,
            compare: Some(self.opts.compare),
            verify: Some(self.opts.verify),
            shard: self.opts.shard,
            workload: self.opts.dry_run.then(|| ferryboat_providers::plan::Workload::new(self.opts.part_size)),
            ..Default::default()
        };
        if self.opts.compare == crate::CompareMode::Hash && !self.dst.capabilities().user_metadata {
            report.warnings.push(
                "the destination keeps no user metadata: no hash can be recorded, objects are compared by etag or size+mtime"
                    .into(),
            );
        }

        let mut merge = self.merge();
        merge.start().await?;
        self.abort_pending(&ctx, &selector, &mut report).await;
        self.copy_pass(&ctx, &selector, merge, &mut report).await;
        self.delete_pass(&ctx, &selector, &mut report).await;

        let c = &ctx.counters;
        report.requests.list_entries = c.list_entries.get();
        report.requests.head = c.head.get();
        report.requests.get = c.get.get();
        report.requests.put = c.put.get();
        report.requests.copy = c.copy.get();
        report.requests.delete = c.delete.get();
        // A dry run adds up what its planned streamed copies would read.
        report.egress_bytes = c.egress.get();
        report.egress_cost = self.opts.egress_price_per_gb.map(|p| report.egress_bytes as f64 / GIB * p);
        report.in_sync = report.aborted.is_none()
            && report.failed == 0
            && if self.opts.dry_run {
                report.copied == 0 && (!self.opts.delete || report.extraneous == 0)
            } else {
                !self.opts.delete || report.deleted == report.extraneous
            };
        let (last, peak) = ctx.window.sizes();
        report.transfers = crate::report::TransferWindow { last, peak };
        report.elapsed_secs = started.elapsed().as_secs_f64();
        Ok(report)
    }

    /// Both listings within the run's prefix and key range, merged in key order.
    fn merge(&self) -> Merge {
        let opts = &self.opts;
        let how =
            if opts.list_by_level { Listing::ByLevel } else { Listing::Flat { concurrency: opts.list_concurrency } };
        let f = &opts.filters;
        let scope = Scope { prefix: f.prefix.clone(), after: f.after.clone(), upto: f.upto.clone() };
        Merge::new(&self.src, &self.dst, scope, opts.list_read_ahead, how)
    }

    /// Multipart uploads left by a crashed run are billed and invisible: abort those under
    /// the prefix that belong to this worker's keys (another shard's are its own business)
    /// and are old enough to be abandoned (another application's may be live).
    async fn abort_pending(&self, ctx: &Ctx, selector: &Selector, report: &mut MirrorReport) {
        if !self.opts.abort_pending_uploads || self.opts.dry_run || !self.dst.capabilities().pending_uploads {
            return;
        }
        let pending = match self.dst.list_pending_uploads(self.opts.filters.prefix.as_ref()).await {
            Ok(p) => p,
            Err(e) => {
                report.warnings.push(format!("could not list unfinished uploads: {e}"));
                return;
            }
        };
        let min_age = self.opts.abandoned_upload_age;
        let now = SystemTime::now();
        let abandoned = |u: &PendingUpload| match u.initiated {
            _ if min_age.is_zero() => true,
            Some(t) => now.duration_since(t).is_ok_and(|age| age >= min_age),
            None => false,
        };
        let mine: Vec<&PendingUpload> = pending.iter().filter(|u| selector.key(u.path.as_str())).collect();
        let kept = mine.iter().filter(|u| !abandoned(u)).count();
        if kept > 0 {
            report.warnings.push(format!(
                "{kept} unfinished multipart uploads under the prefix left alone: started less than {}s ago or at an unknown time (see abandoned_upload_age)",
                min_age.as_secs()
            ));
        }
        for upload in mine.into_iter().filter(|u| abandoned(u)) {
            ctx.counters.delete.inc();
            match self.dst.abort_pending_upload(upload).await {
                Ok(()) => report.aborted_uploads += 1,
                Err(e) => {
                    report.warnings.push(format!("could not abort the unfinished upload of {}: {e}", upload.path))
                }
            }
        }
    }

    async fn copy_pass(&self, ctx: &Arc<Ctx>, selector: &Arc<Selector>, merge: Merge, report: &mut MirrorReport) {
        let listing_error: Arc<Mutex<Option<Error>>> = Arc::default();
        let slot = listing_error.clone();
        let counters = ctx.counters.clone();
        let (mut listed_src, mut listed_dst) = (0u64, 0u64);
        let entries = merge.into_stream().scan((), move |_, item| {
            let out = match item {
                Ok(entry) => Some(entry),
                Err(e) => {
                    if let Ok(mut s) = slot.lock() {
                        *s = Some(e);
                    }
                    None
                }
            };
            futures::future::ready(out)
        });
        let plans = entries
            .map(|entry| {
                counters.list_entries.add(if matches!(entry, Entry::Both(..)) { 2 } else { 1 });
                match &entry {
                    Entry::Source(_) | Entry::Unlisted { side: "source", .. } => listed_src += 1,
                    Entry::Destination(_) | Entry::Unlisted { .. } => listed_dst += 1,
                    Entry::Both(..) => {
                        listed_src += 1;
                        listed_dst += 1;
                    }
                }
                let (ctx, selector) = (ctx.clone(), selector.clone());
                let key = match &entry {
                    Entry::Source(m) | Entry::Destination(m) | Entry::Both(m, _) => m.path.to_string(),
                    Entry::Unlisted { error, .. } => error.path().unwrap_or_default().to_string(),
                };
                let task = tokio::spawn(async move { plan(&ctx, &selector, entry).await });
                async move { joined(task.await, key, "compare", Plan::Failed) }
            })
            .buffer_unordered(self.opts.checkers);
        let progress = self.progress.clone();
        let mut done = plans
            .map(|plan| {
                let ctx = ctx.clone();
                let progress = progress.clone();
                async move {
                    progress.checked();
                    match plan {
                        Plan::Copy { meta, rule } => {
                            progress.plan(meta.size);
                            let outcome = if ctx.opts.dry_run {
                                let server_side = ctx.server_side_possible(&meta.path);
                                CopyOutcome::Copied { bytes: meta.size, server_side, not_carried: Vec::new() }
                            } else {
                                let slot = ctx.window.enter().await;
                                let key = meta.path.to_string();
                                let live = progress.clone();
                                let task = {
                                    let ctx = ctx.clone();
                                    tokio::spawn(async move { ctx.copy_with_retry(&meta, &live).await })
                                };
                                let (outcome, temporary) =
                                    joined(task.await, key, "copy", |f| (CopyOutcome::Failed(f), false));
                                let bytes = if let CopyOutcome::Copied { bytes, .. } = &outcome { *bytes } else { 0 };
                                ctx.window.finish(slot, bytes, temporary);
                                outcome
                            };
                            progress.done(if let CopyOutcome::Copied { bytes, .. } = outcome { bytes } else { 0 });
                            if matches!(outcome, CopyOutcome::Failed(_)) {
                                progress.failed();
                            }
                            Done::Copy { rule, outcome }
                        }
                        other => {
                            if matches!(other, Plan::Failed(_)) {
                                progress.failed();
                            }
                            Done::Plan(other)
                        }
                    }
                }
            })
            // Plans that copy nothing pass at once; copies wait for room in the window.
            .buffer_unordered(ctx.window.max());

        while let Some(done) = done.next().await {
            record(report, done, ctx);
        }
        drop(done);
        report.listed_source = listed_src;
        report.listed_destination = listed_dst;
        if let Some(e) = listing_error.lock().ok().and_then(|mut s| s.take()) {
            report.aborted = Some(format!("listing failed: {e}"));
        }
    }

    async fn delete_pass(&self, ctx: &Arc<Ctx>, selector: &Arc<Selector>, report: &mut MirrorReport) {
        if !self.opts.delete || report.extraneous == 0 {
            return;
        }
        if let Some(max) = self.opts.max_delete {
            if report.extraneous > max {
                report.aborted = Some(format!(
                    "{} objects would be deleted, more than the maximum of {max}: nothing deleted",
                    report.extraneous
                ));
                return;
            }
        }
        if self.opts.dry_run {
            report.deleted = report.extraneous;
            report.deleted_bytes = report.extraneous_bytes;
            return;
        }
        if report.aborted.is_some() {
            report.warnings.push("deletes skipped: the run was aborted".into());
            return;
        }
        if report.failed > 0 {
            report.warnings.push(format!("deletes skipped: {} objects failed", report.failed));
            return;
        }
        // A second merge of both listings finds the same extraneous keys again without
        // having held them in memory; at most as many as counted are deleted.
        let mut merge = self.merge();
        if let Err(e) = merge.start().await {
            report.aborted = Some(format!("listing for deletes failed: {e}"));
            return;
        }
        let listing_error: Arc<Mutex<Option<Error>>> = Arc::default();
        let slot = listing_error.clone();
        let sizes: Arc<Mutex<std::collections::HashMap<ObjectPath, u64>>> = Arc::default();
        let selector = selector.clone();
        let seen_sizes = sizes.clone();
        let src = self.src.clone();
        let confirm_slot = listing_error.clone();
        let doomed = merge
            .into_stream()
            .scan((), move |_, item| {
                futures::future::ready(match item {
                    Ok(e) => Some(e),
                    Err(e) => {
                        if let Ok(mut s) = slot.lock() {
                            *s = Some(e);
                        }
                        None
                    }
                })
            })
            .filter_map(move |entry| {
                let keep = match entry {
                    Entry::Destination(m) if selector.key(m.path.as_str()) && selector.object(&m) => {
                        if let Ok(mut s) = seen_sizes.lock() {
                            s.insert(m.path.clone(), m.size);
                        }
                        Some(Ok(m.path))
                    }
                    _ => None,
                };
                futures::future::ready(keep)
            })
            .take(report.extraneous as usize)
            .map(move |item| {
                let src = src.clone();
                let slot = confirm_slot.clone();
                async move { confirm_absent(&*src, item, &slot).await }
            })
            .buffered(CONFIRM_AHEAD)
            .take_while(|item| futures::future::ready(item.is_some()))
            .filter_map(futures::future::ready)
            .boxed();
        let mut deleted = self.dst.delete_stream(doomed);
        while let Some(result) = deleted.next().await {
            ctx.counters.delete.inc();
            match result {
                Ok(path) => {
                    report.deleted += 1;
                    let size = sizes.lock().ok().and_then(|mut s| s.remove(&path)).unwrap_or(0);
                    report.deleted_bytes += size;
                }
                Err(e) => report.fail(Failure {
                    key: e.path().unwrap_or_default().to_string(),
                    action: "delete".into(),
                    kind: e.kind().to_string(),
                    reason: e.to_string(),
                    attempts: 1,
                }),
            }
        }
        drop(deleted);
        if let Some(e) = listing_error.lock().ok().and_then(|mut s| s.take()) {
            report.aborted = Some(format!("listing for deletes failed: {e}"));
        }
    }
}

/// Source lookups in flight while confirming deletes.
const CONFIRM_AHEAD: usize = 16;

/// Lets a key through to deletion only if the source says it does not have it. A listing
/// that silently skips keys (a server that drops a page, or answers the second pass
/// differently from the first) must not turn into deleting objects the source still holds.
/// `None` stops the deletes; the reason goes to `slot`.
async fn confirm_absent(
    src: &dyn ObjectStore,
    item: Result<ObjectPath>,
    slot: &Mutex<Option<Error>>,
) -> Option<Result<ObjectPath>> {
    let path = match item {
        Ok(p) => p,
        Err(e) => return Some(Err(e)),
    };
    let stop = |e: Error| {
        if let Ok(mut s) = slot.lock() {
            s.get_or_insert(e);
        }
        None
    };
    match src.head(&path).await {
        Err(Error::NotFound { .. }) => Some(Ok(path)),
        Ok(_) => stop(Error::generic(
            src.info().provider.clone(),
            path.as_str(),
            "the source still has this key, but its listing left it out: deletes stopped",
            None,
        )),
        Err(e) => stop(e),
    }
}

async fn plan(ctx: &Ctx, selector: &Selector, entry: Entry) -> Plan {
    let key = match &entry {
        Entry::Source(m) | Entry::Destination(m) | Entry::Both(m, _) => m.path.as_str(),
        // A key no listing could name cannot be filtered either: it is a failure.
        Entry::Unlisted { side, error } => {
            return Plan::Failed(Failure {
                key: error.path().unwrap_or_default().to_string(),
                action: format!("list ({side})"),
                kind: error.kind().to_string(),
                reason: error.to_string(),
                attempts: 1,
            })
        }
    };
    if !selector.key(key) {
        return Plan::Filtered;
    }
    match entry {
        Entry::Source(s) if selector.object(&s) => Plan::Copy { meta: s, rule: None },
        Entry::Destination(d) if selector.object(&d) => Plan::Extraneous(d),
        Entry::Both(s, d) if selector.object(&s) => match ctx.compare(&s, &d).await {
            Ok(Verdict::Same(rule)) => Plan::Skip { bytes: s.size, rule },
            Ok(Verdict::Changed(rule)) => Plan::Copy { meta: s, rule: Some(rule) },
            Err(e) => Plan::Failed(Failure {
                key: s.path.to_string(),
                action: "compare".into(),
                kind: e.kind().to_string(),
                reason: e.to_string(),
                attempts: 1,
            }),
        },
        _ => Plan::Filtered,
    }
}

fn record(report: &mut MirrorReport, done: Done, ctx: &Ctx) {
    match done {
        Done::Plan(Plan::Filtered) => report.filtered += 1,
        Done::Plan(Plan::Skip { bytes, rule }) => {
            report.rule(rule);
            report.skipped += 1;
            report.skipped_bytes += bytes;
        }
        Done::Plan(Plan::Extraneous(meta)) => {
            report.extraneous += 1;
            report.extraneous_bytes += meta.size;
        }
        Done::Plan(Plan::Failed(f)) => report.fail(f),
        // Copies come back as `Done::Copy`.
        Done::Plan(Plan::Copy { .. }) => {}
        Done::Copy { rule, outcome } => {
            if let Some(rule) = rule {
                report.rule(rule);
            }
            match outcome {
                CopyOutcome::Copied { bytes, server_side, not_carried } => {
                    report.copied += 1;
                    report.copied_bytes += bytes;
                    report.not_carried(not_carried);
                    if server_side {
                        report.server_side_copies += 1;
                    }
                    if ctx.opts.dry_run {
                        let parts =
                            if bytes > ctx.opts.part_size { bytes.div_ceil(ctx.opts.part_size.max(1)) + 2 } else { 1 };
                        // A server-side copy reads no byte out of the source.
                        if server_side {
                            ctx.counters.head.inc();
                            ctx.counters.copy.inc();
                        } else {
                            ctx.counters.get.inc();
                            ctx.counters.put.add(parts);
                            ctx.counters.egress.add(bytes);
                            if let Some(w) = report.workload.as_mut() {
                                w.add(bytes);
                            }
                        }
                    }
                }
                CopyOutcome::Vanished => report.vanished += 1,
                CopyOutcome::Failed(f) => report.fail(f),
            }
        }
    }
}
