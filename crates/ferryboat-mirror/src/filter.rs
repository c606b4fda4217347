//! The compiled form of [`Filters`]: which keys take part in a run.

use std::time::{Duration, SystemTime};

use ferryboat_core::{Error, ObjectMeta, ObjectPath, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::options::Filters;
use crate::shard::Shard;

/// Filters ready to test objects against.
#[derive(Debug)]
pub(crate) struct Selector {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
    min_size: Option<u64>,
    max_size: Option<u64>,
    newer_than: Option<SystemTime>,
    older_than: Option<SystemTime>,
    shard: Option<Shard>,
    after: Option<ObjectPath>,
    upto: Option<ObjectPath>,
}

fn compile(patterns: &[String]) -> Result<Option<GlobSet>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for p in patterns {
        let glob = Glob::new(p).map_err(|e| Error::invalid_config(format!("bad glob {p:?}: {e}")))?;
        builder.add(glob);
    }
    builder.build().map(Some).map_err(|e| Error::invalid_config(format!("bad globs: {e}")))
}

fn before(now: SystemTime, d: Duration) -> SystemTime {
    now.checked_sub(d).unwrap_or(SystemTime::UNIX_EPOCH)
}

impl Selector {
    pub(crate) fn new(filters: &Filters, shard: Option<Shard>, now: SystemTime) -> Result<Self> {
        Ok(Selector {
            include: compile(&filters.include)?,
            exclude: compile(&filters.exclude)?,
            min_size: filters.min_size,
            max_size: filters.max_size,
            newer_than: filters.newer_than.map(|d| before(now, d)),
            older_than: filters.older_than.map(|d| before(now, d)),
            shard,
            after: filters.after.clone(),
            upto: filters.upto.clone(),
        })
    }

    /// Whether the key takes part at all (shard, key range and globs): a key that does not is neither
    /// copied nor deleted.
    pub(crate) fn key(&self, key: &str) -> bool {
        if self.shard.is_some_and(|s| !s.owns(key)) {
            return false;
        }
        if self.after.as_ref().is_some_and(|a| key <= a.as_str())
            || self.upto.as_ref().is_some_and(|u| key > u.as_str())
        {
            return false;
        }
        if self.include.as_ref().is_some_and(|g| !g.is_match(key)) {
            return false;
        }
        !self.exclude.as_ref().is_some_and(|g| g.is_match(key))
    }

    /// Whether the object passes the size and age filters.
    pub(crate) fn object(&self, meta: &ObjectMeta) -> bool {
        self.min_size.is_none_or(|m| meta.size >= m)
            && self.max_size.is_none_or(|m| meta.size <= m)
            && self.newer_than.is_none_or(|t| meta.last_modified >= t)
            && self.older_than.is_none_or(|t| meta.last_modified < t)
    }
}
