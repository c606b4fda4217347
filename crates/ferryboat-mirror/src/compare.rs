//! Deciding whether an object present on both sides is already up to date.

use std::time::SystemTime;

use ferryboat_core::{Error, ObjectMeta, Result};

use crate::context::Ctx;
use crate::options::CompareMode;
use crate::report::Rule;

/// SHA-256 (lower-case hex) of the content ferry wrote, in the destination's user metadata.
pub const META_SHA256: &str = "ferry-sha256";
/// The source object's etag at the time ferry copied it.
pub const META_SOURCE_ETAG: &str = "ferry-source-etag";
/// The source object's modification time (Unix seconds) at the time ferry copied it.
pub const META_SOURCE_MTIME: &str = "ferry-source-mtime";

/// The verdict on one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Same(Rule),
    Changed(Rule),
}

/// Whether an etag is a plain MD5 of the content (32 hex digits), as single-part uploads to
/// S3-compatible stores and the memory store produce; multipart (`…-N`) and Azure/GCS etags
/// are not content hashes.
pub(crate) fn plain_md5(etag: &str) -> bool {
    etag.len() == 32 && etag.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Seconds since the epoch: the precision every provider keeps and returns from both
/// listings and HEAD (S3 listings carry milliseconds, its HEAD only seconds).
pub(crate) fn mtime_secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Ctx {
    fn etags_comparable<'a>(&self, s: &'a ObjectMeta, d: &'a ObjectMeta) -> Option<(&'a str, &'a str)> {
        if self.src.info().provider != self.dst.info().provider {
            return None;
        }
        match (s.etag.as_deref(), d.etag.as_deref()) {
            (Some(a), Some(b)) if plain_md5(a) && plain_md5(b) => Some((a, b)),
            _ => None,
        }
    }

    fn by_etag_or_time(&self, s: &ObjectMeta, d: &ObjectMeta) -> Verdict {
        if let Some((a, b)) = self.etags_comparable(s, d) {
            return if a.eq_ignore_ascii_case(b) { Verdict::Same(Rule::Etag) } else { Verdict::Changed(Rule::Etag) };
        }
        by_size_mtime(s, d)
    }

    /// Compares source `s` and destination `d` (both from listings) under the run's mode.
    pub(crate) async fn compare(&self, s: &ObjectMeta, d: &ObjectMeta) -> Result<Verdict> {
        if s.size != d.size {
            return Ok(Verdict::Changed(Rule::SizeDiffers));
        }
        match self.opts.compare {
            CompareMode::Size => Ok(Verdict::Same(Rule::Size)),
            CompareMode::SizeMtime => Ok(by_size_mtime(s, d)),
            CompareMode::Etag => Ok(self.by_etag_or_time(s, d)),
            CompareMode::Hash if !self.dst.capabilities().user_metadata => Ok(self.by_etag_or_time(s, d)),
            CompareMode::Hash => self.by_record(s, d).await,
        }
    }

    /// The strongest comparison: equal plain-MD5 etags of one provider, else what ferry
    /// recorded when it copied. Costs one HEAD of the destination (only reached when sizes
    /// match and etags cannot settle it), and a HEAD of the source only when the source
    /// changed version but may still hold the same content.
    async fn by_record(&self, s: &ObjectMeta, d: &ObjectMeta) -> Result<Verdict> {
        // Equal plain MD5s from one provider are equal contents: no request needed.
        if let Some((a, b)) = self.etags_comparable(s, d) {
            if a.eq_ignore_ascii_case(b) {
                return Ok(Verdict::Same(Rule::Etag));
            }
        }
        let head = match self.count_head(self.dst.head(&d.path)).await {
            Ok(h) => h,
            // Gone since it was listed: copy it again.
            Err(Error::NotFound { .. }) => return Ok(Verdict::Changed(Rule::Unproven)),
            Err(e) => return Err(e),
        };
        let record = &head.metadata;
        let recorded_etag = record.get(META_SOURCE_ETAG);
        match (&s.etag, recorded_etag) {
            (Some(etag), Some(rec)) if etag == rec => return Ok(Verdict::Same(Rule::SourceEtag)),
            (None, _) => {
                let mtime = mtime_secs(s.last_modified).to_string();
                if record.get(META_SOURCE_MTIME) == Some(&mtime) {
                    return Ok(Verdict::Same(Rule::SourceMtime));
                }
            }
            _ => {}
        }
        if let Some(dst_sha) = record.get(META_SHA256) {
            if self.src.capabilities().user_metadata {
                let src_head = self.count_head(self.src.head(&s.path)).await?;
                return Ok(match src_head.metadata.get(META_SHA256) {
                    Some(src_sha) if src_sha == dst_sha => Verdict::Same(Rule::Sha256),
                    Some(_) => Verdict::Changed(Rule::Sha256),
                    None => Verdict::Changed(if recorded_etag.is_some() { Rule::SourceEtag } else { Rule::Unproven }),
                });
            }
        }
        Ok(Verdict::Changed(if recorded_etag.is_some() { Rule::SourceEtag } else { Rule::Unproven }))
    }
}

fn by_size_mtime(s: &ObjectMeta, d: &ObjectMeta) -> Verdict {
    // The destination cannot be given the source's mtime, so a copy is current when it was
    // written no earlier than the source was last modified.
    if mtime_secs(d.last_modified) >= mtime_secs(s.last_modified) {
        Verdict::Same(Rule::SizeMtime)
    } else {
        Verdict::Changed(Rule::SizeMtime)
    }
}
