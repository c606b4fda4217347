//! Listings, page by page as the caller consumes them.
//!
//! Keys are requested without `encoding-type=url`, since servers disagree on how to decode it
//! (`+` versus `%20`); a key holding a character XML 1.0 cannot carry (most C0 controls)
//! therefore cannot be listed from an S3 server (see docs/decisions.md).
//!
//! Folder markers (`photos/`, zero bytes) are objects like any other. A key that no
//! `ObjectPath` can be is yielded as an `InvalidPath` error item and the listing goes on, so
//! a mirror never silently drops data it cannot represent.

use std::sync::Arc;

use ferryboat_core::listing_guard::ListingGuard;
use ferryboat_core::{Error, ListOptions, ListResult, ObjectMeta, ObjectPath, Result};
use ferryboat_providers::ListVersion;
use futures::stream::{self, BoxStream, StreamExt};

use crate::client::{to_system_time, unquote, Inner};

/// One raw listing entry.
struct Entry {
    key: String,
    size: i64,
    etag: Option<String>,
    modified: std::time::SystemTime,
    storage_class: Option<String>,
}

enum Cursor {
    Start,
    /// V2 continuation token, or V1 marker.
    Next(String),
    Done,
}

/// Every object under `opts.prefix` after `opts.offset`, ascending.
///
/// Each page goes through a [`ListingGuard`]: a key out of byte order, a repeated page or
/// continuation token ends the listing with an error at that point, so a broken server can
/// neither loop forever nor make keys look absent.
pub(crate) fn objects(store: Arc<Inner>, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
    let prefix = opts.prefix.map(|p| format!("{p}/"));
    let offset = opts.offset.map(ObjectPath::into_string);
    let guard = ListingGuard::new(store.provider(), prefix.clone().unwrap_or_else(|| store.bucket.clone()));
    stream::unfold((Cursor::Start, guard), move |(cursor, mut guard)| {
        let store = Arc::clone(&store);
        let prefix = prefix.clone();
        let offset = offset.clone();
        async move {
            let token = match cursor {
                Cursor::Done => return None,
                Cursor::Start => None,
                Cursor::Next(t) => Some(t),
            };
            match page(&store, prefix.as_deref(), offset.as_deref(), token).await {
                Ok((entries, next)) => {
                    let mut items: Vec<Result<ObjectMeta>> = Vec::with_capacity(entries.len());
                    let count = entries.len();
                    for entry in entries {
                        if let Err(e) = guard.key(&entry.key) {
                            items.push(Err(e));
                            return Some((stream::iter(items), (Cursor::Done, guard)));
                        }
                        items.extend(to_meta(entry));
                    }
                    if let Err(e) = guard.next_page(next.as_deref(), count) {
                        items.push(Err(e));
                        return Some((stream::iter(items), (Cursor::Done, guard)));
                    }
                    let next = next.map(Cursor::Next).unwrap_or(Cursor::Done);
                    Some((stream::iter(items), (next, guard)))
                }
                Err(e) => Some((stream::iter(vec![Err(e)]), (Cursor::Done, guard))),
            }
        }
    })
    .flatten()
    .boxed()
}

/// A page that says more follows but gives no way to ask for it: ending there would pass
/// off part of the bucket as all of it.
fn truncated_without_cursor(s: &Inner, at: &str) -> Error {
    Error::generic(
        s.provider(),
        if at.is_empty() { s.bucket.as_str() } else { at },
        "the server's listing page says it is truncated but gives no continuation token or marker; \
         stopped rather than return part of the listing as all of it",
        None,
    )
}

/// A listed key as an object. Folder markers (`photos/`, zero bytes) are objects like any
/// other; a key no [`ObjectPath`] can be is an error item, never a silent skip.
fn to_meta(e: Entry) -> Option<Result<ObjectMeta>> {
    Some(ObjectPath::parse(e.key).map(|path| {
        let mut meta = ObjectMeta::new(path, e.size.max(0) as u64, e.modified);
        meta.etag = e.etag;
        meta.storage_class = e.storage_class;
        meta
    }))
}

/// One page: entries and the cursor for the next page, if any.
async fn page(
    s: &Inner,
    prefix: Option<&str>,
    offset: Option<&str>,
    token: Option<String>,
) -> Result<(Vec<Entry>, Option<String>)> {
    let at = prefix.unwrap_or("");
    match s.quirks.list_version {
        ListVersion::V2 => {
            let first = token.is_none();
            let out = s
                .client
                .list_objects_v2()
                .bucket(&s.bucket)
                .set_prefix(prefix.map(str::to_string))
                .set_start_after(offset.filter(|_| first).map(str::to_string))
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|e| s.errors.map(at, e))?;
            let entries = out.contents().iter().map(entry_v2).collect();
            let next = match (out.is_truncated(), out.next_continuation_token()) {
                (Some(true), Some(t)) if !t.is_empty() => Some(t.to_string()),
                (Some(true), _) => return Err(truncated_without_cursor(s, at)),
                _ => None,
            };
            Ok((entries, next))
        }
        ListVersion::V1 => {
            // Without a delimiter V1 gives no NextMarker: the last key is the marker. The
            // offset serves as the first marker.
            let marker = token.or_else(|| offset.map(str::to_string));
            let out = s
                .client
                .list_objects()
                .bucket(&s.bucket)
                .set_prefix(prefix.map(str::to_string))
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| s.errors.map(at, e))?;
            let entries: Vec<Entry> = out.contents().iter().map(entry_v2).collect();
            let next = match out.is_truncated() {
                Some(true) => match entries.last() {
                    Some(e) => Some(e.key.clone()),
                    None => return Err(truncated_without_cursor(s, at)),
                },
                _ => None,
            };
            Ok((entries, next))
        }
    }
}

fn entry_v2(o: &aws_sdk_s3::types::Object) -> Entry {
    Entry {
        key: o.key().unwrap_or_default().to_string(),
        size: o.size().unwrap_or(0),
        etag: unquote(o.e_tag()),
        modified: to_system_time(o.last_modified()),
        storage_class: o.storage_class().map(|c| c.as_str().to_string()),
    }
}

/// One level below `prefix`, with `/` as delimiter.
///
/// A level is one answer of the trait, so it is gathered whole; the recursive listing is
/// the streamed one.
pub(crate) async fn level(s: &Inner, prefix: Option<&ObjectPath>) -> Result<ListResult> {
    let prefix = prefix.map(|p| format!("{p}/"));
    let at = prefix.clone().unwrap_or_default();
    let mut out = ListResult::default();
    let mut token: Option<String> = None;
    let mut guard = ListingGuard::new(s.provider(), if at.is_empty() { s.bucket.clone() } else { at.clone() });
    loop {
        let (entries, dirs, next) = match s.quirks.list_version {
            ListVersion::V2 => {
                let page = s
                    .client
                    .list_objects_v2()
                    .bucket(&s.bucket)
                    .set_prefix(prefix.clone())
                    .delimiter("/")
                    .set_continuation_token(token.take())
                    .send()
                    .await
                    .map_err(|e| s.errors.map(&at, e))?;
                let entries: Vec<Entry> = page.contents().iter().map(entry_v2).collect();
                let dirs: Vec<String> =
                    page.common_prefixes().iter().filter_map(|p| p.prefix().map(str::to_string)).collect();
                let next = match (page.is_truncated(), page.next_continuation_token()) {
                    (Some(true), Some(t)) if !t.is_empty() => Some(t.to_string()),
                    (Some(true), _) => return Err(truncated_without_cursor(s, &at)),
                    _ => None,
                };
                (entries, dirs, next)
            }
            ListVersion::V1 => {
                let page = s
                    .client
                    .list_objects()
                    .bucket(&s.bucket)
                    .set_prefix(prefix.clone())
                    .delimiter("/")
                    .set_marker(token.take())
                    .send()
                    .await
                    .map_err(|e| s.errors.map(&at, e))?;
                let entries: Vec<Entry> = page.contents().iter().map(entry_v2).collect();
                let dirs: Vec<String> =
                    page.common_prefixes().iter().filter_map(|p| p.prefix().map(str::to_string)).collect();
                let next = match page.is_truncated() {
                    Some(true) => match page
                        .next_marker()
                        .map(str::to_string)
                        .or_else(|| entries.iter().map(|e| e.key.clone()).chain(dirs.iter().cloned()).max())
                    {
                        Some(marker) => Some(marker),
                        None => return Err(truncated_without_cursor(s, &at)),
                    },
                    _ => None,
                };
                (entries, dirs, next)
            }
        };
        guard.next_page(next.as_deref(), entries.len() + dirs.len())?;
        for entry in entries {
            if let Some(meta) = to_meta(entry) {
                out.objects.push(meta?);
            }
        }
        for dir in dirs {
            out.common_prefixes.push(ObjectPath::from_common_prefix(s.provider(), &dir)?);
        }
        match next {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    out.objects.sort_by(|a, b| a.path.cmp(&b.path));
    // A server that repeats entries across pages must not make one object count twice.
    out.objects.dedup_by(|a, b| a.path == b.path);
    out.common_prefixes.sort();
    out.common_prefixes.dedup();
    Ok(out)
}
