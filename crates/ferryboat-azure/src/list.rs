//! Listings: the recursive listing in checked key order, and one level at a time.

use ferryboat_core::{Error, ListOptions, ListResult, ObjectMeta, ObjectPath, Result};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use object_store::ObjectStore as _;

use crate::client::{ferry_meta, os_path};
use crate::error::PROVIDER;
use crate::store::AzureStore;

impl AzureStore {
    /// The recursive listing, in key order (checked), resuming after `opts.offset`.
    pub(crate) fn list_stream(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        let store = self.clone();
        let fail = |e: Error| stream::once(async move { Err(e) }).boxed();
        let prefix = match opts.prefix.as_ref().map(os_path).transpose() {
            Ok(p) => p,
            Err(e) => return fail(e),
        };
        let items = match &opts.offset {
            Some(o) => match os_path(o) {
                Ok(o) => self.inner.engine.list_with_offset(prefix.as_ref(), &o),
                Err(e) => return fail(e),
            },
            None => self.inner.engine.list(prefix.as_ref()),
        };
        let listed = opts.prefix.as_ref().map(|p| p.to_string()).unwrap_or_default();
        let mut last: Option<ObjectPath> = None;
        // `startFrom` lets Azure skip to the offset, but servers that predate it (Azurite
        // 3.35) list from the start: keys at or before the offset are dropped here either way.
        let offset = opts.offset;
        // Azure lists in key order; the check makes a broken promise an error, not silent
        // corruption of a mirror's merge.
        items
            .map(move |m| m.map_err(|e| store.inner.err(e, &listed)).and_then(ferry_meta))
            .try_filter(move |m| futures::future::ready(offset.as_ref().is_none_or(|o| &m.path > o)))
            .map(move |m| {
                let m = m?;
                if last.as_ref().is_some_and(|l| l >= &m.path) {
                    return Err(Error::generic(PROVIDER, m.path.as_str(), "the listing came out of key order", None));
                }
                last = Some(m.path.clone());
                Ok(m)
            })
            .boxed()
    }

    /// One level below `prefix`, sorted.
    pub(crate) async fn list_level(&self, prefix: Option<&ObjectPath>) -> Result<ListResult> {
        let p = prefix.map(os_path).transpose()?;
        let listed = prefix.map(|p| p.to_string()).unwrap_or_default();
        let r = self.inner.engine.list_with_delimiter(p.as_ref()).await.map_err(|e| self.inner.err(e, &listed))?;
        let mut objects = r.objects.into_iter().map(ferry_meta).collect::<Result<Vec<_>>>()?;
        let mut common_prefixes =
            r.common_prefixes.iter().map(|p| ObjectPath::parse(p.as_ref())).collect::<Result<Vec<_>>>()?;
        objects.sort_by(|a, b| a.path.cmp(&b.path));
        common_prefixes.sort();
        Ok(ListResult { common_prefixes, objects })
    }
}
