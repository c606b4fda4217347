//! Listings: `objects.list` page by page, as a sorted stream or one delimited level.

use std::collections::BTreeSet;
use std::sync::Arc;

use ferryboat_core::listing_guard::ListingGuard;
use ferryboat_core::retry::Idempotency;
use ferryboat_core::{ListOptions, ListResult, ObjectMeta, ObjectPath, Result};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use reqwest::Method;

use crate::client::{Client, RESERVED_PREFIX};
use crate::error::OnPrecondition;
use crate::model::{parse_json, ObjectList, ObjectResource};

/// Keys per page (the API's maximum).
const PAGE: u32 = 1000;

/// One page of `objects.list`.
pub(crate) async fn list_page(
    store: &Client,
    prefix: Option<&str>,
    delimiter: bool,
    start_offset: Option<&str>,
    page_token: Option<&str>,
) -> Result<ObjectList> {
    let mut query = vec![("maxResults", PAGE.to_string())];
    if let Some(p) = prefix {
        query.push(("prefix", p.to_string()));
    }
    if delimiter {
        query.push(("delimiter", "/".to_string()));
    }
    if let Some(o) = start_offset {
        query.push(("startOffset", o.to_string()));
    }
    if let Some(t) = page_token {
        query.push(("pageToken", t.to_string()));
    }
    let client = store;
    let (url, query) = (&client.objects_url(), &query);
    let what = prefix.unwrap_or(&client.bucket);
    let build = || client.request(Method::GET, url, query);
    let body = match client.call(Idempotency::Idempotent, what, OnPrecondition::Precondition, build).await {
        Ok(body) => body,
        // A listing finds no object to miss: a 404 means the bucket itself is gone.
        Err(ferryboat_core::Error::NotFound { provider, source, details, .. }) => {
            return Err(ferryboat_core::Error::NotFound {
                provider,
                path: format!("bucket {}", client.bucket),
                source,
                details,
            })
        }
        Err(e) => return Err(e),
    };
    decode_page(&body, what)
}

/// Reads one `objects.list` answer; an error document sent with a success status is an error.
fn decode_page(body: &[u8], what: &str) -> Result<ObjectList> {
    let page: ObjectList = parse_json(body, what)?;
    if let Some(e) = &page.error {
        let message: String = e.message.chars().take(300).collect();
        return Err(ferryboat_core::Error::generic(
            crate::PROVIDER,
            what,
            format!("the listing answer is an error document despite its success status: {message}"),
            None,
        ));
    }
    Ok(page)
}

/// One delimited listing page as ferry reads it. Exposed for property tests only.
#[doc(hidden)]
#[derive(Debug)]
pub struct ParsedPage {
    /// The objects ferry can name, in the page's order.
    pub objects: Vec<ObjectMeta>,
    /// The common prefixes ferry can name.
    pub prefixes: Vec<ObjectPath>,
    /// The continuation token, `None` on the last page.
    pub next_page_token: Option<String>,
}

/// Parses and checks one `objects.list` answer the way a listing does: JSON, the error
/// document check, key order and the continuation token (as the first page of a listing),
/// then the conversion of names. Exposed for property tests only.
#[doc(hidden)]
pub fn parse_list_page(body: &[u8]) -> Result<ParsedPage> {
    let page = decode_page(body, "listing page")?;
    let mut guard = ListingGuard::new(crate::PROVIDER, "listing page");
    let next_page_token = checked_page(&mut guard, &page)?;
    let prefixes = page.prefixes.iter().filter_map(|p| level_prefix(p)).collect::<Result<_>>()?;
    let objects = page.items.into_iter().filter_map(to_meta).collect::<Result<_>>()?;
    Ok(ParsedPage { objects, prefixes, next_page_token })
}

/// Every object resource whose name starts with `prefix` (raw, reserved keys included), in
/// name order, page by page.
pub(crate) fn raw_objects(store: Arc<Client>, prefix: String) -> BoxStream<'static, Result<ObjectResource>> {
    let guard = ListingGuard::new(crate::PROVIDER, prefix.clone());
    stream::try_unfold((Some(None::<String>), guard), move |(token, mut guard)| {
        let store = store.clone();
        let prefix = prefix.clone();
        async move {
            let Some(token) = token else { return Ok(None) };
            let page = list_page(&store, Some(&prefix), false, None, token.as_deref()).await?;
            let next = checked_page(&mut guard, &page)?;
            Ok(Some((stream::iter(page.items.into_iter().map(Ok)), (next.map(Some), guard))))
        }
    })
    .try_flatten()
    .boxed()
}

/// The recursive listing behind `list_opts`: sorted, one page in memory at a time.
pub(crate) fn list_objects(store: Arc<Client>, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
    let prefix = opts.prefix.map(|p| format!("{p}/"));
    let offset = opts.offset.map(ObjectPath::into_string);
    let start = offset.clone();
    let guard = ListingGuard::new(crate::PROVIDER, prefix.clone().unwrap_or_else(|| store.bucket.to_string()));
    let pages = stream::try_unfold((Some(None::<String>), guard), move |(token, mut guard)| {
        let store = store.clone();
        let prefix = prefix.clone();
        let start = start.clone();
        async move {
            let Some(token) = token else { return Ok(None) };
            let page = list_page(&store, prefix.as_deref(), false, start.as_deref(), token.as_deref()).await?;
            let next = checked_page(&mut guard, &page)?;
            Ok(Some((page.items, (next.map(Some), guard))))
        }
    });
    pages
        .map_ok(move |items| {
            let offset = offset.clone();
            // startOffset is inclusive and not every server honours it: filter here as well.
            let kept = items.into_iter().filter(move |r| offset.as_deref().is_none_or(|o| r.name.as_str() > o));
            stream::iter(kept.filter_map(to_meta))
        })
        .try_flatten()
        .boxed()
}

/// One level below `prefix`, with `/` as the delimiter.
pub(crate) async fn list_level(store: &Client, prefix: Option<&ObjectPath>) -> Result<ListResult> {
    let prefix = prefix.map(|p| format!("{p}/"));
    let mut token: Option<String> = None;
    let mut dirs = BTreeSet::new();
    let mut out = ListResult::default();
    let mut guard = ListingGuard::new(crate::PROVIDER, prefix.clone().unwrap_or_else(|| store.bucket.to_string()));
    loop {
        let page = list_page(store, prefix.as_deref(), true, None, token.as_deref()).await?;
        let entries = page.items.len() + page.prefixes.len();
        guard.next_page(page.next_page_token.as_deref().filter(|t| !t.is_empty()), entries)?;
        for meta in page.items.into_iter().filter_map(to_meta) {
            out.objects.push(meta?);
        }
        for dir in page.prefixes.iter().filter_map(|p| level_prefix(p)) {
            dirs.insert(dir?);
        }
        token = page.next_page_token.filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
    }
    out.common_prefixes = dirs.into_iter().collect();
    out.objects.sort_by(|a, b| a.path.cmp(&b.path));
    out.objects.dedup_by(|a, b| a.path == b.path);
    Ok(out)
}

/// Checks one page's names (strictly ascending, continuing from the page before) and its
/// token (not the previous one again), and returns the token of the next page.
fn checked_page(guard: &mut ListingGuard, page: &ObjectList) -> Result<Option<String>> {
    for item in &page.items {
        guard.key(&item.name)?;
    }
    let next = page.next_page_token.clone().filter(|t| !t.is_empty());
    guard.next_page(next.as_deref(), page.items.len())?;
    Ok(next)
}

/// The directory a common prefix names, skipping the upload-part prefix; one ferry cannot
/// name is an error, never a silent skip.
fn level_prefix(p: &str) -> Option<Result<ObjectPath>> {
    if p == RESERVED_PREFIX {
        return None;
    }
    Some(ObjectPath::from_common_prefix(crate::PROVIDER, p))
}

/// Converts a listed object, skipping upload parts; a name ferry cannot represent is an
/// error item, never a silent skip. Folder markers (`dir/`, made by the console) are objects.
fn to_meta(r: ObjectResource) -> Option<Result<ObjectMeta>> {
    if r.name.starts_with(RESERVED_PREFIX) {
        return None;
    }
    Some(r.into_meta())
}
