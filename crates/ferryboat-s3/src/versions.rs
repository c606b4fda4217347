//! Object versions: listing every version (`ListObjectVersions`), deleting one
//! (`DeleteObject` with `versionId`), and switching a bucket's versioning on.
//!
//! `ListObjectVersions` pages by a pair of markers (key, version id), and the SDK hands its
//! answer back as two lists, versions and delete markers, each in key order with the
//! versions of one key newest first. A page is merged back into one sequence by key, then
//! the latest entry first, then newest first, so a key's versions arrive as the server keeps
//! them, whichever list each came from. Every page passes a [`ListingGuard`]: keys never go
//! back in byte order and a marker pair never repeats.

use std::sync::Arc;
use std::time::SystemTime;

use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use ferryboat_core::listing_guard::ListingGuard;
use ferryboat_core::{Error, ListOptions, ObjectMeta, ObjectPath, Result, VersionInfo};
use futures::stream::{self, BoxStream, StreamExt};

use crate::client::{to_system_time, unquote, Inner};

/// One version or delete marker, as listed.
struct Entry {
    key: String,
    version: String,
    latest: bool,
    delete_marker: bool,
    size: i64,
    etag: Option<String>,
    modified: SystemTime,
    storage_class: Option<String>,
}

/// Where the next page starts: after this key and version id.
#[derive(Clone)]
struct Markers {
    key: Option<String>,
    version: Option<String>,
}

/// Every version of every key under `opts.prefix` after `opts.offset`, keys ascending,
/// each key's versions newest first.
pub(crate) fn list(store: Arc<Inner>, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
    let prefix = opts.prefix.map(|p| format!("{p}/"));
    let offset = opts.offset.map(ObjectPath::into_string);
    let guard = ListingGuard::new(store.provider(), prefix.clone().unwrap_or_else(|| store.bucket.clone()));
    // The offset is the first key marker: keys after it. Ceph RGW 16 answers a key marker
    // without a version marker with that key included, so the offset is also applied here.
    let start = Some(Markers { key: offset.clone(), version: None });
    let state = (start, guard, None::<String>);
    stream::unfold(state, move |(markers, mut guard, mut last)| {
        let store = Arc::clone(&store);
        let prefix = prefix.clone();
        let offset = offset.clone();
        async move {
            let markers = markers?;
            let (entries, next) = match page(&store, prefix.as_deref(), &markers).await {
                Ok(page) => page,
                Err(e) => return Some((stream::iter(vec![Err(e)]), (None, guard, last))),
            };
            let count = entries.len();
            let mut items = Vec::with_capacity(count);
            for entry in entries {
                if offset.as_deref().is_some_and(|o| entry.key.as_bytes() <= o.as_bytes()) {
                    continue;
                }
                // The guard wants strictly ascending keys: it sees each key once.
                if last.as_deref() != Some(entry.key.as_str()) {
                    if let Err(e) = guard.key(&entry.key) {
                        items.push(Err(e));
                        return Some((stream::iter(items), (None, guard, last)));
                    }
                    last = Some(entry.key.clone());
                }
                items.push(to_meta(entry));
            }
            let token = next.as_ref().map(|m| {
                format!("{}\u{0}{}", m.key.as_deref().unwrap_or_default(), m.version.as_deref().unwrap_or_default())
            });
            if let Err(e) = guard.next_page(token.as_deref(), count) {
                items.push(Err(e));
                return Some((stream::iter(items), (None, guard, last)));
            }
            Some((stream::iter(items), (next, guard, last)))
        }
    })
    .flatten()
    .boxed()
}

fn to_meta(e: Entry) -> Result<ObjectMeta> {
    let path = ObjectPath::parse(e.key)?;
    let mut meta = ObjectMeta::new(path, e.size.max(0) as u64, e.modified)
        .with_version(e.version, VersionInfo { latest: e.latest, delete_marker: e.delete_marker });
    meta.etag = e.etag;
    meta.storage_class = e.storage_class;
    Ok(meta)
}

/// One page, merged into key order, and the markers of the next page if there is one.
async fn page(s: &Inner, prefix: Option<&str>, markers: &Markers) -> Result<(Vec<Entry>, Option<Markers>)> {
    let at = prefix.unwrap_or("");
    let out = s
        .client
        .list_object_versions()
        .bucket(&s.bucket)
        .set_prefix(prefix.map(str::to_string))
        .set_key_marker(markers.key.clone())
        .set_version_id_marker(markers.version.clone())
        .send()
        .await
        .map_err(|e| s.errors.map(at, e))?;
    let versions: Vec<Entry> = out
        .versions()
        .iter()
        .map(|v| Entry {
            key: v.key().unwrap_or_default().to_string(),
            version: v.version_id().unwrap_or("null").to_string(),
            latest: v.is_latest().unwrap_or(false),
            delete_marker: false,
            size: v.size().unwrap_or(0),
            etag: unquote(v.e_tag()),
            modified: to_system_time(v.last_modified()),
            storage_class: v.storage_class().map(|c| c.as_str().to_string()),
        })
        .collect();
    let markers_listed: Vec<Entry> = out
        .delete_markers()
        .iter()
        .map(|d| Entry {
            key: d.key().unwrap_or_default().to_string(),
            version: d.version_id().unwrap_or("null").to_string(),
            latest: d.is_latest().unwrap_or(false),
            delete_marker: true,
            size: 0,
            etag: None,
            modified: to_system_time(d.last_modified()),
            storage_class: None,
        })
        .collect();
    for list in [&versions, &markers_listed] {
        if let Some(w) = list.windows(2).find(|w| w[1].key.as_bytes() < w[0].key.as_bytes()) {
            return Err(Error::generic(
                s.provider(),
                w[1].key.as_str(),
                format!(
                    "the server's version listing of {at:?} is broken: key {:?} comes before {:?}; \
                     stopped rather than give a wrong answer",
                    w[1].key, w[0].key
                ),
                None,
            ));
        }
    }
    let entries = merge(versions, markers_listed);
    let next = match out.is_truncated() {
        Some(true) => {
            let key = out.next_key_marker().filter(|k| !k.is_empty()).map(str::to_string);
            let version = out.next_version_id_marker().filter(|v| !v.is_empty()).map(str::to_string);
            match key {
                Some(key) => Some(Markers { key: Some(key), version }),
                None => {
                    return Err(Error::generic(
                        s.provider(),
                        if at.is_empty() { s.bucket.as_str() } else { at },
                        "the server's version listing page says it is truncated but gives no key marker; \
                         stopped rather than return part of the listing as all of it",
                        None,
                    ))
                }
            }
        }
        _ => None,
    };
    Ok((entries, next))
}

/// Merges two lists, each in key order, into one: by key, then the latest entry, then the
/// newest. Within one key both lists are already newest first, and the merge keeps that.
fn merge(a: Vec<Entry>, b: Vec<Entry>) -> Vec<Entry> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let take_a = match (a.peek(), b.peek()) {
            (None, None) => return out,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(x), Some(y)) => match x.key.as_bytes().cmp(y.key.as_bytes()) {
                std::cmp::Ordering::Less => true,
                std::cmp::Ordering::Greater => false,
                std::cmp::Ordering::Equal => (x.latest, x.modified) >= (y.latest, y.modified),
            },
        };
        out.extend(if take_a { a.next() } else { b.next() });
    }
}

/// Deletes exactly one version of `path` (a delete marker too).
pub(crate) async fn delete(s: &Inner, path: &ObjectPath, version: &str) -> Result<()> {
    s.client
        .delete_object()
        .bucket(&s.bucket)
        .key(path.as_str())
        .version_id(version)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| s.errors.map(path.as_str(), e))
}

/// Turns versioning on for the bucket (`PutBucketVersioning`, status `Enabled`).
pub(crate) async fn enable(s: &Inner) -> Result<()> {
    let on = VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build();
    s.client
        .put_bucket_versioning()
        .bucket(&s.bucket)
        .versioning_configuration(on)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| s.errors.map("", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn entry(key: &str, version: &str, latest: bool, marker: bool, secs: u64) -> Entry {
        Entry {
            key: key.into(),
            version: version.into(),
            latest,
            delete_marker: marker,
            size: 0,
            etag: None,
            modified: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
            storage_class: None,
        }
    }

    #[test]
    fn versions_and_markers_merge_by_key_then_newest_first() {
        let versions = vec![
            entry("a", "a1", true, false, 1),
            entry("k", "v2", false, false, 5),
            entry("k", "v1", false, false, 3),
        ];
        let markers =
            vec![entry("k", "m1", true, true, 9), entry("k", "m0", false, true, 4), entry("z", "z1", true, true, 2)];
        let order: Vec<String> = merge(versions, markers).into_iter().map(|e| e.version).collect();
        assert_eq!(order, ["a1", "m1", "v2", "m0", "v1", "z1"]);
    }
}
