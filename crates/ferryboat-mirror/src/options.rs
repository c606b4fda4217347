//! `MirrorOptions`: what to mirror, how to compare, how hard to push.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use ferryboat_core::{Error, ObjectPath, Result};
use serde::Serialize;

use crate::shard::Shard;

const MIB: u64 = 1024 * 1024;

/// How the mirror decides that an object present on both sides needs copying again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CompareMode {
    /// The strongest evidence available per object: the content hash and source version
    /// ferry recorded in the destination's metadata, then plain-MD5 etags. An object whose
    /// equality cannot be proven is copied again.
    #[default]
    Hash,
    /// Etags, when both sides are the same provider and the etags are plain MD5s; objects
    /// whose etags are not comparable fall back to size and modification time (counted).
    Etag,
    /// Same size, and the destination written no earlier than the source.
    SizeMtime,
    /// Same size.
    Size,
}

impl FromStr for CompareMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "hash" => Ok(CompareMode::Hash),
            "etag" => Ok(CompareMode::Etag),
            "size-mtime" | "mtime" => Ok(CompareMode::SizeMtime),
            "size" => Ok(CompareMode::Size),
            _ => Err(Error::invalid_config(format!("unknown compare mode {s:?}; use hash, etag, size-mtime or size"))),
        }
    }
}

/// How a copied object is checked after it is written.
///
/// Whatever the mode, the byte count and the SHA-256 of what was read are checked while
/// streaming: a short or altered body aborts the upload, so it never becomes visible.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum VerifyMode {
    /// No request after the write.
    None,
    /// One HEAD of the written object: its size, and its recorded hash where the store keeps
    /// metadata, must match what was sent. Cheap (no data read back) and catches a write that
    /// landed short or elsewhere. Skipped when the store answered the write with a plain-MD5
    /// etag equal to the MD5 of the bytes sent: it has then attested the exact content.
    #[default]
    Size,
    /// Read the written object back and compare its SHA-256: doubles the reads on the
    /// destination, proves the stored bytes.
    Hash,
}

impl FromStr for VerifyMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(VerifyMode::None),
            "size" => Ok(VerifyMode::Size),
            "hash" => Ok(VerifyMode::Hash),
            _ => Err(Error::invalid_config(format!("unknown verify mode {s:?}; use none, size or hash"))),
        }
    }
}

/// Which objects take part, on both sides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Filters {
    /// Only keys under this prefix (listed with it, so nothing else is even read).
    pub prefix: Option<ObjectPath>,
    /// Only keys after this one (exclusive). Both sides are listed from it, so keys before
    /// it are never read. With [`Filters::upto`] a key range `(after, upto]`: workers given
    /// adjacent ranges ([`crate::split`]) mirror one bucket together, each listing only its
    /// own part on both sides.
    pub after: Option<ObjectPath>,
    /// Only keys up to this one (inclusive): both listings stop there.
    pub upto: Option<ObjectPath>,
    /// Glob patterns (`globset` syntax, matched against the whole key); if any is given, a
    /// key must match one.
    pub include: Vec<String>,
    /// Glob patterns; a key matching one is left alone on both sides.
    pub exclude: Vec<String>,
    /// Smallest size taken, in bytes.
    pub min_size: Option<u64>,
    /// Largest size taken, in bytes.
    pub max_size: Option<u64>,
    /// Only objects modified within this long before the run started.
    pub newer_than: Option<Duration>,
    /// Only objects modified longer than this before the run started.
    pub older_than: Option<Duration>,
}

/// Everything a mirror run can be told. Start from [`MirrorOptions::default`] and chain the
/// builder methods.
///
/// ```
/// use ferryboat_mirror::{MirrorOptions, VerifyMode};
/// let opts = MirrorOptions::default().delete(true).max_delete(100).verify(VerifyMode::Hash);
/// assert_eq!((opts.transfers, opts.max_transfers), (64, 512));
/// // A number of transfers set by hand is a fixed window.
/// let fixed = opts.transfers(64);
/// assert_eq!((fixed.transfers, fixed.max_transfers), (64, 64));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MirrorOptions {
    /// Delete destination objects the source does not have.
    pub delete: bool,
    /// Abort before deleting anything if more than this many objects would be deleted.
    pub max_delete: Option<u64>,
    /// List and compare, write nothing, report what would happen.
    pub dry_run: bool,
    /// What counts as changed.
    pub compare: CompareMode,
    /// How copies are checked.
    pub verify: VerifyMode,
    /// Which objects take part.
    pub filters: Filters,
    /// Only this worker's share of the keys.
    pub shard: Option<Shard>,
    /// Objects being copied at once when the run starts. The window then grows while
    /// throughput rises, up to [`MirrorOptions::max_transfers`], and shrinks on temporary
    /// failures (see [`ferryboat_core::window`]); equal to `max_transfers`, it is fixed.
    pub transfers: usize,
    /// The most objects being copied at once, however well the path takes more. Each holds a
    /// connection to both sides; memory stays within [`MirrorOptions::max_in_flight_bytes`].
    pub max_transfers: usize,
    /// Objects being compared (HEAD requests) at once.
    pub checkers: usize,
    /// Listing entries read ahead of the comparison, per side.
    pub list_read_ahead: usize,
    /// Listing requests in flight at once, per side: a flat listing is read as this many
    /// key ranges at once ([`ferryboat_core::ranges`]) where the store's listing starts at
    /// an offset on the server ([`ferryboat_core::Capabilities::list_seeks`]: S3, GCS,
    /// memory); elsewhere, and at 1, one request after another. Memory holds at most `2 ×`
    /// this many ranges of 1,000 keys per side. Default 16: on Ceph RGW sharing 2 cores with
    /// the client, 100,000 keys list 1.4× faster than one stream with no added latency and
    /// 2.5× / 3.8× faster at 20 / 80 ms (docs/benchmarks.md).
    pub list_concurrency: usize,
    /// List both sides one directory level at a time ([`ferryboat_core::walk::by_level`])
    /// instead of one flat listing: for servers whose flat listing re-reads the bucket for
    /// every page. The order, and so the result, is the same; memory holds one level per
    /// depth instead of the read-ahead alone.
    pub list_by_level: bool,
    /// Object bytes held in memory at once, across all transfers.
    pub max_in_flight_bytes: u64,
    /// Part size for multipart uploads.
    pub part_size: u64,
    /// Parts of one object sent at once when its upload starts. The upload's window then
    /// grows while throughput rises, up to [`MirrorOptions::max_part_concurrency`], with the
    /// memory for the extra parts borrowed from [`MirrorOptions::max_in_flight_bytes`] only
    /// while no other copy needs it.
    pub part_concurrency: usize,
    /// The most parts of one object sent at once; equal to `part_concurrency`, it is fixed.
    pub max_part_concurrency: usize,
    /// Attempts per object for retryable failures and failed verifications.
    pub attempts: u32,
    /// Use the store's own copy when source and destination are the same bucket.
    pub server_side_copy: bool,
    /// Abort multipart uploads left unfinished under the destination prefix by a crash.
    pub abort_pending_uploads: bool,
    /// Only uploads started at least this long ago are taken as abandoned and aborted; one
    /// of unknown age is kept unless this is zero. Another application's live upload under
    /// the same prefix is younger. Default 24 h.
    pub abandoned_upload_age: Duration,
    /// Price of one GiB leaving the source, to estimate the exit bill.
    pub egress_price_per_gb: Option<f64>,
}

impl Default for MirrorOptions {
    fn default() -> Self {
        MirrorOptions {
            delete: false,
            max_delete: None,
            dry_run: false,
            compare: CompareMode::default(),
            verify: VerifyMode::default(),
            filters: Filters::default(),
            shard: None,
            transfers: 64,
            max_transfers: 512,
            checkers: 64,
            list_read_ahead: 4096,
            list_concurrency: 16,
            list_by_level: false,
            max_in_flight_bytes: 256 * MIB,
            part_size: 8 * MIB,
            part_concurrency: 4,
            max_part_concurrency: 16,
            attempts: 4,
            server_side_copy: true,
            abort_pending_uploads: true,
            abandoned_upload_age: Duration::from_secs(24 * 3600),
            egress_price_per_gb: None,
        }
    }
}

macro_rules! setter {
    ($(#[$doc:meta] $name:ident: $ty:ty => $field:ident $(= $wrap:ident)?;)*) => {
        $(
            #[$doc]
            pub fn $name(mut self, value: $ty) -> Self {
                self.$field = setter!(@wrap value $($wrap)?);
                self
            }
        )*
    };
    (@wrap $v:ident) => { $v };
    (@wrap $v:ident Some) => { Some($v) };
}

impl MirrorOptions {
    setter! {
        /// Delete destination objects missing from the source.
        delete: bool => delete;
        /// Cap on deletions; more aborts the run before any delete.
        max_delete: u64 => max_delete = Some;
        /// Write nothing; report what would happen.
        dry_run: bool => dry_run;
        /// What counts as changed.
        compare: CompareMode => compare;
        /// How copies are checked.
        verify: VerifyMode => verify;
        /// Which objects take part.
        filters: Filters => filters;
        /// Only this worker's share of the keys.
        shard: Shard => shard = Some;
        /// Objects compared at once.
        checkers: usize => checkers;
        /// Listing entries read ahead, per side.
        list_read_ahead: usize => list_read_ahead;
        /// Listing requests in flight at once, per side.
        list_concurrency: usize => list_concurrency;
        /// List one directory level at a time instead of flat.
        list_by_level: bool => list_by_level;
        /// Object bytes in memory at once.
        max_in_flight_bytes: u64 => max_in_flight_bytes;
        /// Multipart part size.
        part_size: u64 => part_size;
        /// Parts of one object sent at once when its upload starts.
        part_concurrency: usize => part_concurrency;
        /// The most parts of one object sent at once.
        max_part_concurrency: usize => max_part_concurrency;
        /// Attempts per object.
        attempts: u32 => attempts;
        /// Allow the store's own copy within one bucket.
        server_side_copy: bool => server_side_copy;
        /// Abort crashed multipart uploads at start.
        abort_pending_uploads: bool => abort_pending_uploads;
        /// Age from which an unfinished upload counts as abandoned.
        abandoned_upload_age: Duration => abandoned_upload_age;
        /// Egress price per GiB for the exit bill.
        egress_price_per_gb: f64 => egress_price_per_gb = Some;
    }

    /// Objects copied at once, fixed: the window neither grows nor shrinks.
    pub fn transfers(mut self, value: usize) -> Self {
        self.transfers = value;
        self.max_transfers = value;
        self
    }

    /// A window that starts at `start` objects copied at once and adapts up to `max`.
    pub fn adaptive_transfers(mut self, start: usize, max: usize) -> Self {
        self.transfers = start;
        self.max_transfers = max;
        self
    }

    /// Only keys under `prefix`.
    pub fn prefix(mut self, prefix: ObjectPath) -> Self {
        self.filters.prefix = Some(prefix);
        self
    }

    /// Adds an include glob.
    pub fn include(mut self, glob: impl Into<String>) -> Self {
        self.filters.include.push(glob.into());
        self
    }

    /// Adds an exclude glob.
    pub fn exclude(mut self, glob: impl Into<String>) -> Self {
        self.filters.exclude.push(glob.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let positive = [
            ("transfers", self.transfers),
            ("max_transfers", self.max_transfers),
            ("checkers", self.checkers),
            ("list_read_ahead", self.list_read_ahead),
            ("list_concurrency", self.list_concurrency),
            ("part_concurrency", self.part_concurrency),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(Error::invalid_config(format!("{name} must be at least 1")));
            }
        }
        if self.max_transfers < self.transfers {
            return Err(Error::invalid_config(format!(
                "max_transfers ({}) is below transfers ({})",
                self.max_transfers, self.transfers
            )));
        }
        if self.max_part_concurrency < self.part_concurrency {
            return Err(Error::invalid_config(format!(
                "max_part_concurrency ({}) is below part_concurrency ({})",
                self.max_part_concurrency, self.part_concurrency
            )));
        }
        if self.attempts == 0 {
            return Err(Error::invalid_config("attempts must be at least 1"));
        }
        if self.max_in_flight_bytes < 1024 {
            return Err(Error::invalid_config("max_in_flight_bytes must be at least 1 KiB"));
        }
        if let (Some(after), Some(upto)) = (&self.filters.after, &self.filters.upto) {
            if after >= upto {
                return Err(Error::invalid_config(format!(
                    "the key range is empty: after {after:?} is not below upto {upto:?}"
                )));
            }
        }
        if let (Some(min), Some(max)) = (self.filters.min_size, self.filters.max_size) {
            if min > max {
                return Err(Error::invalid_config(format!("min size {min} is above max size {max}")));
            }
        }
        if let Some(price) = self.egress_price_per_gb {
            if !price.is_finite() || price < 0.0 {
                return Err(Error::invalid_config("egress price must be a non-negative number"));
            }
        }
        Ok(())
    }
}

/// Parses a duration such as `7d`, `12h`, `30m`, `45s` or `2w` (one number, one unit).
///
/// ```
/// use std::time::Duration;
/// assert_eq!(ferryboat_mirror::parse_duration("12h").unwrap(), Duration::from_secs(12 * 3600));
/// assert!(ferryboat_mirror::parse_duration("12").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let bad = || Error::invalid_config(format!("bad duration {s:?}: use a number and a unit, e.g. 7d, 12h, 30m, 45s"));
    let n: u64 = number.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(secs).map(Duration::from_secs).ok_or_else(bad)
}

/// Parses a size such as `4096`, `10k`, `5MiB`, `1G` (binary units: `k` = 1024).
///
/// ```
/// assert_eq!(ferryboat_mirror::parse_size("5MiB").unwrap(), 5 * 1024 * 1024);
/// assert!(ferryboat_mirror::parse_size("5 parsecs").is_err());
/// ```
pub fn parse_size(s: &str) -> Result<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let bad = || Error::invalid_config(format!("bad size {s:?}: use e.g. 4096, 64k, 5MiB, 1G"));
    let n: u64 = number.parse().map_err(|_| bad())?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(bad()),
    };
    n.checked_mul(1u64 << shift).ok_or_else(bad)
}

impl fmt::Display for CompareMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CompareMode::Hash => "hash",
            CompareMode::Etag => "etag",
            CompareMode::SizeMtime => "size-mtime",
            CompareMode::Size => "size",
        })
    }
}

impl fmt::Display for VerifyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VerifyMode::None => "none",
            VerifyMode::Size => "size",
            VerifyMode::Hash => "hash",
        })
    }
}
