//! Object versions: GCS generations. `objects.list` with `versions=true` lists every
//! generation, live and noncurrent (a noncurrent one carries `timeDeleted`).
//!
//! Deleting one generation (`objects.delete` with `generation`) is not offered: the one GCS
//! server these tests can run, fake-gcs-server 1.54, ignores the generation (it deletes the
//! live object, or answers 404 when there is none), so nothing here could show it works.
//!
//! GCS keeps no delete markers: deleting the live object of a versioned bucket makes it
//! noncurrent, so a deleted key lists only noncurrent generations, none of them latest. The
//! API lists a key's generations oldest first; ferry promises newest first, so the
//! generations of one key are gathered and turned round before they are yielded: memory
//! holds one key's generations at a time, never the whole listing.

use std::sync::Arc;

use ferryboat_core::listing_guard::ListingGuard;
use ferryboat_core::{Error, ListOptions, ObjectMeta, ObjectPath, Result, VersionInfo};
use futures::stream::{self, BoxStream, StreamExt};
use reqwest::Method;

use crate::client::{Client, RESERVED_PREFIX};
use crate::error::OnPrecondition;
use crate::model::{parse_json, ObjectList, ObjectResource};

/// Entries per page (the API's maximum).
const PAGE: u32 = 1000;

/// Where a listing stands between pages.
struct State {
    store: Arc<Client>,
    prefix: Option<String>,
    offset: Option<String>,
    /// `None` once the last page was read.
    token: Option<Option<String>>,
    guard: ListingGuard,
    /// The generations of the key being gathered.
    group: Vec<ObjectResource>,
}

/// Every generation of every key under `opts.prefix` after `opts.offset`: keys ascending,
/// each key's generations newest first.
pub(crate) fn list(store: Arc<Client>, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
    let prefix = opts.prefix.map(|p| format!("{p}/"));
    let guard = ListingGuard::new(crate::PROVIDER, prefix.clone().unwrap_or_else(|| store.bucket.to_string()));
    let offset = opts.offset.map(ObjectPath::into_string);
    let state = State { store, prefix, offset, token: Some(None), guard, group: Vec::new() };
    stream::unfold(Some(state), |state| async move {
        let mut s = state?;
        let Some(token) = s.token.take() else {
            // The last page is in: what is left is the last key's generations.
            let last = std::mem::take(&mut s.group);
            return Some((stream::iter(finish(last)), None));
        };
        let page = match page(&s.store, s.prefix.as_deref(), s.offset.as_deref(), token.as_deref()).await {
            Ok(page) => page,
            Err(e) => return Some((stream::iter(vec![Err(e)]), None)),
        };
        let count = page.items.len();
        let mut out = Vec::new();
        for item in page.items {
            if item.name.starts_with(RESERVED_PREFIX) || s.offset.as_deref().is_some_and(|o| item.name.as_str() <= o) {
                continue;
            }
            if s.group.first().is_some_and(|g| g.name == item.name) {
                s.group.push(item);
                continue;
            }
            if let Err(e) = s.guard.key(&item.name) {
                out.push(Err(e));
                return Some((stream::iter(out), None));
            }
            out.extend(finish(std::mem::replace(&mut s.group, vec![item])));
        }
        let next = page.next_page_token.filter(|t| !t.is_empty());
        if let Err(e) = s.guard.next_page(next.as_deref(), count) {
            out.push(Err(e));
            return Some((stream::iter(out), None));
        }
        s.token = next.map(Some);
        Some((stream::iter(out), Some(s)))
    })
    .flatten()
    .boxed()
}

/// One key's generations, newest first, as listing entries.
fn finish(mut group: Vec<ObjectResource>) -> Vec<Result<ObjectMeta>> {
    group.sort_by_key(|r| std::cmp::Reverse(r.generation));
    group
        .into_iter()
        .map(|r| {
            let latest = r.time_deleted.is_none();
            let generation = r.generation.map(|g| g.to_string());
            let mut meta = r.into_meta()?;
            let Some(generation) = generation else {
                return Err(Error::generic(
                    crate::PROVIDER,
                    meta.path.as_str(),
                    "a listed version has no generation",
                    None,
                ));
            };
            meta = meta.with_version(generation, VersionInfo { latest, delete_marker: false });
            Ok(meta)
        })
        .collect()
}

async fn page(store: &Client, prefix: Option<&str>, offset: Option<&str>, token: Option<&str>) -> Result<ObjectList> {
    let mut query = vec![("maxResults", PAGE.to_string()), ("versions", "true".to_string())];
    if let Some(p) = prefix {
        query.push(("prefix", p.to_string()));
    }
    if let Some(o) = offset {
        // Inclusive, and not every server honours it: entries up to the offset are dropped
        // again by the caller.
        query.push(("startOffset", o.to_string()));
    }
    if let Some(t) = token {
        query.push(("pageToken", t.to_string()));
    }
    let rb = store.request(Method::GET, &store.objects_url(), &query).await?;
    let what = prefix.unwrap_or(&store.bucket);
    let body = store.send_ok(rb, what, OnPrecondition::Precondition).await?;
    let page: ObjectList = parse_json(&body, what)?;
    if page.error.is_some() {
        return Err(Error::generic(
            crate::PROVIDER,
            what,
            "the version listing answer is an error document despite its success status",
            None,
        ));
    }
    Ok(page)
}
