//! Checks that keep a broken server's listing from becoming a silent wrong answer.
//!
//! The mirror merges two listings and deletes what only the destination has, so a listing
//! that goes back in key order, repeats a page, or never ends is not a nuisance but data loss.
//! Backends run their pages through a [`ListingGuard`]; any listing stream can be wrapped in
//! [`ascending`].
//!
//! ```
//! use ferryboat_core::listing_guard::ListingGuard;
//!
//! let mut guard = ListingGuard::new("s3", "photos");
//! guard.key("a").unwrap();
//! guard.key("b").unwrap();
//! assert!(guard.key("a").is_err(), "back in key order");
//! guard.next_page(Some("t1"), 2).unwrap();
//! assert!(guard.next_page(Some("t1"), 2).is_err(), "the same token twice");
//! ```

use futures::stream::{BoxStream, StreamExt};

use crate::{Error, ObjectMeta, Result};

/// Pages in a row with no entry that a listing may return before it counts as endless.
/// Servers do return some (a page's keys all filtered out by a delimiter), never thousands.
pub const MAX_EMPTY_PAGES: u32 = 1000;

/// Longest continuation token accepted. Real ones are a few hundred bytes.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// Follows one listing page by page: keys must be strictly ascending in byte order, each
/// continuation token must differ from the one before, and a run of empty pages must end.
#[derive(Debug, Clone)]
pub struct ListingGuard {
    provider: String,
    listed: String,
    last_key: Option<String>,
    last_token: Option<String>,
    empty_pages: u32,
    pages: u64,
}

impl ListingGuard {
    /// A guard for one listing at `provider`; `listed` names the bucket or prefix in errors.
    pub fn new(provider: impl Into<String>, listed: impl Into<String>) -> Self {
        ListingGuard {
            provider: provider.into(),
            listed: listed.into(),
            last_key: None,
            last_token: None,
            empty_pages: 0,
            pages: 0,
        }
    }

    fn broken(&self, path: &str, what: String) -> Error {
        Error::generic(
            self.provider.clone(),
            path,
            format!(
                "the server's listing of {:?} is broken: {what}; stopped rather than give a wrong answer",
                self.listed
            ),
            None,
        )
    }

    /// Accepts the next raw key, or fails if it is not strictly after the previous one.
    pub fn key(&mut self, key: &str) -> Result<()> {
        if let Some(last) = &self.last_key {
            if key.as_bytes() <= last.as_bytes() {
                let how = if key == last { "repeats" } else { "comes before" };
                return Err(self.broken(key, format!("key {key:?} {how} the previous key {last:?}")));
            }
        }
        self.last_key = Some(key.to_string());
        Ok(())
    }

    /// Accepts the end of a page of `entries` entries whose continuation token is `token`
    /// (`None`: the last page). Fails on a token equal to the previous one, an oversized
    /// token, or too many empty pages in a row.
    pub fn next_page(&mut self, token: Option<&str>, entries: usize) -> Result<()> {
        self.pages += 1;
        let listed = self.listed.clone();
        if entries == 0 {
            self.empty_pages += 1;
            if self.empty_pages > MAX_EMPTY_PAGES {
                return Err(self.broken(&listed, format!("{MAX_EMPTY_PAGES} empty pages in a row")));
            }
        } else {
            self.empty_pages = 0;
        }
        let Some(token) = token else { return Ok(()) };
        if token.len() > MAX_TOKEN_LEN {
            return Err(self.broken(&listed, format!("a continuation token of {} bytes", token.len())));
        }
        if self.last_token.as_deref() == Some(token) {
            return Err(self.broken(
                &listed,
                format!("page {} repeats the previous continuation token {:?}", self.pages, abbreviate(token)),
            ));
        }
        self.last_token = Some(token.to_string());
        Ok(())
    }
}

fn abbreviate(s: &str) -> String {
    if s.chars().count() <= 40 {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(40).collect::<String>())
    }
}

/// Passes `listing` through, ending it with an error at the first entry that is not strictly
/// after the one before (in byte order). Error items from `listing` pass through and do not
/// end it.
pub fn ascending(
    listing: BoxStream<'static, Result<ObjectMeta>>,
    provider: impl Into<String>,
    listed: impl Into<String>,
) -> BoxStream<'static, Result<ObjectMeta>> {
    let guard = ListingGuard::new(provider, listed);
    futures::stream::unfold(Some((listing, guard)), |state| async move {
        let (mut listing, mut guard) = state?;
        match listing.next().await? {
            Ok(meta) => match guard.key(meta.path.as_str()) {
                Ok(()) => Some((Ok(meta), Some((listing, guard)))),
                Err(e) => Some((Err(e), None)),
            },
            Err(e) => Some((Err(e), Some((listing, guard)))),
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ObjectPath;
    use futures::StreamExt;
    use std::time::SystemTime;

    fn meta(k: &str) -> Result<ObjectMeta> {
        Ok(ObjectMeta::new(ObjectPath::parse(k).unwrap(), 1, SystemTime::UNIX_EPOCH))
    }

    #[test]
    fn byte_order_not_char_order() {
        let mut g = ListingGuard::new("t", "b");
        // 'Z' (0x5A) < 'a' (0x61) < 'é' (0xC3 …): byte order.
        for k in ["Z", "a", "a/b", "a0", "é"] {
            g.key(k).unwrap();
        }
        let e = g.key("é").unwrap_err();
        assert!(e.to_string().contains("repeats"), "{e}");
    }

    #[test]
    fn endless_empty_pages_end() {
        let mut g = ListingGuard::new("t", "b");
        for i in 0..MAX_EMPTY_PAGES {
            g.next_page(Some(&format!("t{i}")), 0).unwrap();
        }
        assert!(g.next_page(Some("last"), 0).is_err());
        assert!(g.next_page(Some(&"x".repeat(MAX_TOKEN_LEN + 1)), 1).is_err());
    }

    #[tokio::test]
    async fn the_stream_stops_at_the_first_step_back() {
        let items = vec![meta("a"), Err(Error::generic("t", "x", "bad key", None)), meta("c"), meta("b"), meta("d")];
        let out: Vec<Result<ObjectMeta>> = ascending(futures::stream::iter(items).boxed(), "t", "b").collect().await;
        assert_eq!(out.len(), 4, "{out:?}");
        assert!(out[1].is_err() && out[2].is_ok());
        let e = out[3].as_ref().unwrap_err();
        assert!(e.to_string().contains("comes before"), "{e}");
    }
}
