//! The suite must fail on broken stores: each test wraps a correct store with one
//! deliberate bug and asserts that the behaviour meant to notice it panics, for the right
//! reason. A control runs the whole suite on the same wrapper without a bug, so a failure
//! below is the bug's doing and not the wrapper's.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::{
    Capabilities, CopyOptions, Error, GetOptions, GetRange, GetResult, ListOptions, ListResult, MultipartUpload,
    ObjectMeta, ObjectPath, ObjectStore, PendingUpload, PutMode, PutOptions, PutResult, Result, StoreInfo,
};
use ferryboat_testkit::suite::{self, Outcome};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use futures::FutureExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bug {
    None,
    /// Listings come back in descending order.
    ListReversed,
    /// The key after each 1,000-key page is yielded twice (a classic continuation bug).
    ListRepeatsAtPageBoundary,
    /// `list_from` includes the offset key itself.
    OffsetInclusive,
    /// A prefix is matched as a string: `a/b` also lists `a/bc`.
    PrefixAsString,
    /// `Create` overwrites instead of failing.
    CreateOverwrites,
    /// Bounded ranges serve one byte too many (the end treated as inclusive).
    RangeEndInclusive,
    /// A suffix range is read as an offset.
    SuffixAsOffset,
    /// Deleting a missing key fails with `NotFound`.
    DeleteMissingFails,
    /// `NotFound` errors do not say which key.
    NotFoundWithoutKey,
    /// User metadata is dropped on write.
    MetadataDropped,
    /// Read conditions are ignored although the store claims them.
    GetConditionsIgnored,
    /// A server-side copy leaves the destination as it was when it exists.
    CopyKeepsDestination,
}

#[derive(Debug)]
struct Broken {
    inner: MemoryStore,
    bug: Bug,
}

fn broken(bug: Bug) -> Arc<dyn ObjectStore> {
    Arc::new(Broken { inner: MemoryStore::new(), bug })
}

#[async_trait]
impl ObjectStore for Broken {
    fn info(&self) -> &StoreInfo {
        self.inner.info()
    }

    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }

    async fn put_opts(&self, path: &ObjectPath, data: Bytes, mut opts: PutOptions) -> Result<PutResult> {
        if self.bug == Bug::CreateOverwrites && opts.mode == PutMode::Create {
            opts.mode = PutMode::Overwrite;
        }
        if self.bug == Bug::MetadataDropped {
            opts.metadata.clear();
        }
        self.inner.put_opts(path, data, opts).await
    }

    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(path, opts).await
    }

    async fn get_opts(&self, path: &ObjectPath, mut opts: GetOptions) -> Result<GetResult> {
        match (self.bug, &opts.range) {
            (Bug::RangeEndInclusive, Some(GetRange::Bounded(r))) => {
                opts.range = Some(GetRange::Bounded(r.start..r.end + 1));
            }
            (Bug::SuffixAsOffset, Some(GetRange::Suffix(n))) => opts.range = Some(GetRange::Offset(*n)),
            _ => {}
        }
        if self.bug == Bug::GetConditionsIgnored {
            opts = GetOptions { range: opts.range, head: opts.head, ..Default::default() };
        }
        match self.inner.get_opts(path, opts).await {
            Err(Error::NotFound { provider, .. }) if self.bug == Bug::NotFoundWithoutKey => {
                Err(Error::not_found(provider, "object"))
            }
            other => other,
        }
    }

    async fn delete(&self, path: &ObjectPath) -> Result<()> {
        if self.bug == Bug::DeleteMissingFails && self.inner.get_opts(path, head()).await.is_err() {
            return Err(Error::not_found("memory", path.as_str()));
        }
        self.inner.delete(path).await
    }

    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        match self.bug {
            Bug::ListReversed => {
                let all = self.inner.list_opts(opts).try_collect::<Vec<_>>();
                all.map(|r| match r {
                    Ok(mut v) => {
                        v.reverse();
                        stream::iter(v.into_iter().map(Ok)).boxed()
                    }
                    Err(e) => stream::once(async { Err(e) }).boxed(),
                })
                .flatten_stream()
                .boxed()
            }
            Bug::ListRepeatsAtPageBoundary => self
                .inner
                .list_opts(opts)
                .enumerate()
                .flat_map(|(i, m)| {
                    let again = (i > 0 && i % 1000 == 0).then(|| clone_result(&m));
                    stream::iter(std::iter::once(m).chain(again))
                })
                .boxed(),
            Bug::OffsetInclusive => {
                let offset = opts.offset.clone();
                self.inner
                    .list_opts(ListOptions { offset: None, ..opts })
                    .try_filter(move |m| futures::future::ready(offset.as_ref().is_none_or(|o| &m.path >= o)))
                    .boxed()
            }
            Bug::PrefixAsString => {
                let Some(prefix) = opts.prefix.clone() else { return self.inner.list_opts(opts) };
                let parent = prefix.as_str().rsplit_once('/').and_then(|(p, _)| ObjectPath::parse(p).ok());
                self.inner
                    .list_opts(ListOptions { prefix: parent, ..opts })
                    .try_filter(move |m| futures::future::ready(m.path.as_str().starts_with(prefix.as_str())))
                    .boxed()
            }
            _ => self.inner.list_opts(opts),
        }
    }

    async fn list_with_delimiter(&self, prefix: Option<&ObjectPath>) -> Result<ListResult> {
        match self.bug {
            // These bugs live in the recursive listing; let the delimiter walk inherit them.
            Bug::ListReversed | Bug::OffsetInclusive | Bug::PrefixAsString | Bug::ListRepeatsAtPageBoundary => {
                default_list_with_delimiter(self, prefix).await
            }
            _ => self.inner.list_with_delimiter(prefix).await,
        }
    }

    async fn copy_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        if self.bug == Bug::CopyKeepsDestination && self.inner.get_opts(to, head()).await.is_ok() {
            return Ok(());
        }
        self.inner.copy_opts(from, to, opts).await
    }

    async fn rename_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        self.inner.rename_opts(from, to, opts).await
    }

    async fn list_pending_uploads(&self, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
        self.inner.list_pending_uploads(prefix).await
    }

    async fn abort_pending_upload(&self, upload: &PendingUpload) -> Result<()> {
        self.inner.abort_pending_upload(upload).await
    }
}

fn head() -> GetOptions {
    GetOptions { head: true, ..Default::default() }
}

fn clone_result(r: &Result<ObjectMeta>) -> Result<ObjectMeta> {
    match r {
        Ok(m) => Ok(m.clone()),
        Err(e) => Err(Error::generic("memory", "", e.to_string(), None)),
    }
}

/// The trait's default delimiter walk, over this wrapper's (buggy) recursive listing.
async fn default_list_with_delimiter(store: &Broken, prefix: Option<&ObjectPath>) -> Result<ListResult> {
    let base_len = prefix.map(|p| p.as_str().len() + 1).unwrap_or(0);
    let mut listing = store.list_opts(ListOptions { prefix: prefix.cloned(), offset: None, ..Default::default() });
    let mut out = ListResult::default();
    while let Some(meta) = listing.try_next().await? {
        let rest = meta.path.as_str().get(base_len..).unwrap_or_default();
        match rest.find('/') {
            None => out.objects.push(meta),
            Some(i) => {
                let dir = ObjectPath::parse(&meta.path.as_str()[..base_len + i])?;
                if out.common_prefixes.last() != Some(&dir) {
                    out.common_prefixes.push(dir);
                }
            }
        }
    }
    Ok(out)
}

/// Runs `behaviour` on a store with `bug` and asserts it panics with a message containing
/// `because`.
async fn catches<F, Fut>(bug: Bug, behaviour: F, because: &str)
where
    F: FnOnce(Arc<dyn ObjectStore>) -> Fut,
    Fut: Future<Output = Outcome>,
{
    let store = broken(bug);
    let result = AssertUnwindSafe(behaviour(store)).catch_unwind().await;
    let payload = match result {
        Ok(outcome) => panic!("{bug:?}: the suite did not notice the bug (outcome {outcome:?})"),
        Err(payload) => payload,
    };
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(
        message.contains(because),
        "{bug:?}: the suite failed, but not for the bug: expected {because:?} in {message:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn control_the_wrapper_without_a_bug_passes_everything() {
    suite::run_all(&broken(Bug::None)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn listing_out_of_order() {
    catches(Bug::ListReversed, |s| async move { suite::list_order(&s).await }, "ascending byte order").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn listing_repeats_a_key_across_pages() {
    catches(
        Bug::ListRepeatsAtPageBoundary,
        |s| async move { suite::list_pagination(&s).await },
        "expected 1050 keys, got 1051",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn listing_from_offset_includes_the_offset() {
    catches(Bug::OffsetInclusive, |s| async move { suite::list_offset(&s).await }, "after conformance/list_offset/p/b")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn prefix_matched_as_a_string() {
    catches(
        Bug::PrefixAsString,
        |s| async move { suite::list_prefix_is_directory(&s).await },
        "list conformance/list_prefix_is_directory/a/b",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn create_that_overwrites() {
    catches(
        Bug::CreateOverwrites,
        |s| async move { suite::conditional_put(&s).await },
        "expected AlreadyExists, got success",
    )
    .await;
    catches(
        Bug::CreateOverwrites,
        |s| async move { suite::concurrent_create(&s).await },
        "expected 1 success and 31 AlreadyExists",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn run_all_reports_every_broken_behaviour() {
    // Two behaviours break under this bug; the report names both, and the rest still run.
    let report = suite::run_except(&broken(Bug::CreateOverwrites), &[]).await;
    let failed: Vec<&str> = report.failures().iter().map(|(name, _)| *name).collect();
    assert_eq!(failed, ["conditional_put", "concurrent_create"], "{report:#?}");
    assert_eq!(report.results.len(), suite::BEHAVIOURS.len(), "every behaviour ran");
    catches(
        Bug::CreateOverwrites,
        |s| async move {
            suite::run_all(&s).await;
            Outcome::Passed
        },
        "2 of 21 behaviours failed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn range_off_by_one() {
    catches(Bug::RangeEndInclusive, |s| async move { suite::ranges(&s).await }, "expected range 0..1, got 0..2").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn suffix_read_as_offset() {
    catches(
        Bug::SuffixAsOffset,
        |s| async move { suite::ranges(&s).await },
        "Suffix(1): expected range 999..1000, got 1..1000",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_of_a_missing_key_fails() {
    catches(Bug::DeleteMissingFails, |s| async move { suite::head_and_missing(&s).await }, "delete of the missing key")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn not_found_without_the_key() {
    catches(
        Bug::NotFoundWithoutKey,
        |s| async move { suite::head_and_missing(&s).await },
        "expected the error to name the key",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn metadata_dropped() {
    catches(Bug::MetadataDropped, |s| async move { suite::metadata(&s).await }, "expected user metadata").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn read_conditions_ignored() {
    catches(
        Bug::GetConditionsIgnored,
        |s| async move { suite::conditional_get(&s).await },
        "expected Precondition, got success",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_that_does_not_replace() {
    catches(Bug::CopyKeepsDestination, |s| async move { suite::copy(&s).await }, "copy over an existing destination")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_capability_is_not_run_never_passed() {
    let mut caps = MemoryStore::new().capabilities().clone();
    caps.multipart = false;
    caps.copy = false;
    let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new().with_capabilities(caps));
    for outcome in
        [suite::copy(&store).await, suite::multipart(&store).await, suite::put_stream_multipart(&store).await]
    {
        assert!(
            matches!(&outcome, Outcome::NotRun(reason) if !reason.is_empty()),
            "expected NotRun with a reason, got {outcome:?}"
        );
    }
}
