//! `Shard`: a worker's share of the keys, by a hash that never changes.

use std::fmt;
use std::str::FromStr;

use ferryboat_core::{Error, Result};
use serde::Serialize;

/// Shard `index` of `count` (0-based): the keys whose [`key_hash`] modulo `count` is `index`.
///
/// N workers given `0/N` … `N-1/N` mirror one bucket together with no coordination: every
/// key belongs to exactly one of them, on every machine and every ferry version.
///
/// ```
/// use ferryboat_mirror::Shard;
/// let shard: Shard = "2/8".parse().unwrap();
/// assert_eq!((shard.index(), shard.count()), (2, 8));
/// assert!("8/8".parse::<Shard>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// Shard `index` of `count`; `index` must be below `count`.
    pub fn new(index: u32, count: u32) -> Result<Self> {
        if count == 0 || index >= count {
            return Err(Error::invalid_config(format!(
                "shard {index}/{count}: the index is 0-based and must be below the count"
            )));
        }
        Ok(Shard { index, count })
    }

    /// This shard's 0-based index.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// How many shards there are.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Whether `key` is this shard's.
    pub fn owns(&self, key: &str) -> bool {
        key_hash(key) % u64::from(self.count) == u64::from(self.index)
    }
}

impl FromStr for Shard {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::invalid_config(format!("bad shard {s:?}: use K/N, e.g. 0/4"));
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        Shard::new(k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// 64-bit FNV-1a of the key's UTF-8 bytes: the shard hash. Tiny, dependency-free, and fixed
/// by its specification, so it can never drift between versions or machines.
///
/// ```
/// // FNV-1a test vectors.
/// assert_eq!(ferryboat_mirror::key_hash(""), 0xcbf29ce484222325);
/// assert_eq!(ferryboat_mirror::key_hash("a"), 0xaf63dc4c8601ec8c);
/// ```
pub fn key_hash(key: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    key.bytes().fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}
