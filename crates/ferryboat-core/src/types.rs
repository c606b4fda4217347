//! The values the trait speaks: metadata, options, results.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::time::SystemTime;

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};

use crate::attributes::Attributes;
use crate::error::{Error, Result};
use crate::path::ObjectPath;

/// User metadata: names to values (`x-amz-meta-*`, Azure metadata, GCS metadata), names in
/// the case the provider returns them (S3 lower-cases them; Azure and GCS keep the case).
pub type Metadata = BTreeMap<String, String>;

/// What a store knows about one object.
///
/// Listings fill `path`, `size`, `last_modified` and, where the provider lists them, `etag`
/// and `storage_class` (S3, GCS) or every field (GCS); `content_type`, `attributes` and
/// `metadata` are only complete from `head` and `get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// The key.
    pub path: ObjectPath,
    /// Size in bytes.
    pub size: u64,
    /// When the object was last written.
    pub last_modified: SystemTime,
    /// Entity tag as the provider returns it (quotes removed); opaque across providers.
    pub etag: Option<String>,
    /// Version id where the store keeps versions.
    pub version: Option<String>,
    /// Where this version stands among its key's versions: set only by a listing of every
    /// version ([`ListOptions::versions`]), `None` everywhere else.
    pub version_info: Option<VersionInfo>,
    /// MIME type.
    pub content_type: Option<String>,
    /// User metadata.
    pub metadata: Metadata,
    /// Content-Disposition, Content-Encoding, Content-Language, Cache-Control.
    pub attributes: Attributes,
    /// Storage class or access tier as the provider names it, where it reports one.
    pub storage_class: Option<String>,
}

impl ObjectMeta {
    /// Metadata with only the fields every listing has.
    pub fn new(path: ObjectPath, size: u64, last_modified: SystemTime) -> Self {
        ObjectMeta {
            path,
            size,
            last_modified,
            etag: None,
            version: None,
            version_info: None,
            content_type: None,
            metadata: Metadata::new(),
            attributes: Attributes::default(),
            storage_class: None,
        }
    }

    /// The same metadata as one entry of a versions listing: version `id`, standing `info`.
    pub fn with_version(mut self, id: impl Into<String>, info: VersionInfo) -> Self {
        self.version = Some(id.into());
        self.version_info = Some(info);
        self
    }
}

/// One entry of a listing of every version ([`ListOptions::versions`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VersionInfo {
    /// The key's current version: what a read without a version gets (a delete marker that
    /// is latest means the key reads as missing). GCS marks no version of a deleted key latest.
    pub latest: bool,
    /// An S3 delete marker: no data (size 0), left by deleting the key in a versioned bucket;
    /// deleting the marker by its version id brings the version below it back.
    pub delete_marker: bool,
}

/// How a put treats an existing object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PutMode {
    /// Write unconditionally.
    #[default]
    Overwrite,
    /// Write only if no object exists at the key; otherwise [`Error::AlreadyExists`].
    Create,
    /// Write only if the current object still has this etag/version; otherwise
    /// [`Error::Precondition`] (also when the object is gone).
    Update(UpdateVersion),
}

/// The version a [`PutMode::Update`] expects to replace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateVersion {
    /// Expected etag.
    pub etag: Option<String>,
    /// Expected version id.
    pub version: Option<String>,
}

impl From<&PutResult> for UpdateVersion {
    fn from(r: &PutResult) -> Self {
        UpdateVersion { etag: r.etag.clone(), version: r.version.clone() }
    }
}

impl From<&ObjectMeta> for UpdateVersion {
    fn from(m: &ObjectMeta) -> Self {
        UpdateVersion { etag: m.etag.clone(), version: m.version.clone() }
    }
}

/// Options for a put or a multipart upload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutOptions {
    /// Conditional behaviour.
    pub mode: PutMode,
    /// MIME type to store.
    pub content_type: Option<String>,
    /// User metadata to store (S3 lower-cases names: use lower case for portable names).
    pub metadata: Metadata,
    /// Content-Disposition, Content-Encoding, Content-Language, Cache-Control to store.
    pub attributes: Attributes,
    /// Provider storage class or access tier (`STANDARD`, `GLACIER`, `Cool`, …), passed as is.
    pub storage_class: Option<String>,
}

impl PutOptions {
    /// Options with only a mode.
    pub fn mode(mode: PutMode) -> Self {
        PutOptions { mode, ..Default::default() }
    }

    /// Options that write what `meta` describes: content type, metadata, attributes and
    /// storage class.
    pub fn from_meta(meta: &ObjectMeta) -> Self {
        PutOptions {
            mode: PutMode::Overwrite,
            content_type: meta.content_type.clone(),
            metadata: meta.metadata.clone(),
            attributes: meta.attributes.clone(),
            storage_class: meta.storage_class.clone(),
        }
    }
}

impl From<PutMode> for PutOptions {
    fn from(mode: PutMode) -> Self {
        PutOptions::mode(mode)
    }
}

/// What a completed write left behind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutResult {
    /// The new object's etag.
    pub etag: Option<String>,
    /// The new object's version id.
    pub version: Option<String>,
}

/// A byte range of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GetRange {
    /// `start..end` (end exclusive). Clipped to the object's end if it runs past it.
    Bounded(Range<u64>),
    /// From an offset to the end.
    Offset(u64),
    /// The last `n` bytes (all of them if the object is shorter).
    Suffix(u64),
}

impl GetRange {
    /// Resolves the range against an object of `size` bytes, or says why it cannot be served.
    ///
    /// ```
    /// use ferryboat_core::GetRange;
    /// assert_eq!(GetRange::Suffix(3).resolve(10).unwrap(), 7..10);
    /// assert_eq!(GetRange::Bounded(2..100).resolve(10).unwrap(), 2..10);
    /// assert!(GetRange::Offset(10).resolve(10).is_err());
    /// ```
    pub fn resolve(&self, size: u64) -> std::result::Result<Range<u64>, String> {
        match self {
            GetRange::Bounded(r) if r.start >= r.end => Err(format!("empty range {}..{}", r.start, r.end)),
            GetRange::Bounded(r) if r.start >= size => {
                Err(format!("range starts at {} but the object has {size} bytes", r.start))
            }
            GetRange::Bounded(r) => Ok(r.start..r.end.min(size)),
            GetRange::Offset(o) if *o >= size => {
                Err(format!("offset {o} is at or past the end of a {size}-byte object"))
            }
            GetRange::Offset(o) => Ok(*o..size),
            GetRange::Suffix(0) => Err("empty suffix range".to_string()),
            GetRange::Suffix(_) if size == 0 => Err("suffix range of an empty object".to_string()),
            GetRange::Suffix(n) => Ok(size.saturating_sub(*n)..size),
        }
    }
}

impl fmt::Display for GetRange {
    /// The HTTP `Range` header value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetRange::Bounded(r) => write!(f, "bytes={}-{}", r.start, r.end.saturating_sub(1)),
            GetRange::Offset(o) => write!(f, "bytes={o}-"),
            GetRange::Suffix(n) => write!(f, "bytes=-{n}"),
        }
    }
}

/// Options for a read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetOptions {
    /// Only these bytes.
    pub range: Option<GetRange>,
    /// Fail with `Precondition` unless the etag matches.
    pub if_match: Option<String>,
    /// Fail with `NotModified` if the etag matches.
    pub if_none_match: Option<String>,
    /// Fail with `NotModified` unless modified after this instant.
    pub if_modified_since: Option<SystemTime>,
    /// Fail with `Precondition` if modified after this instant.
    pub if_unmodified_since: Option<SystemTime>,
    /// Read this version rather than the current one.
    pub version: Option<String>,
    /// Metadata only: the body is empty.
    pub head: bool,
}

/// The answer to a read: metadata, the range served, and the body as a stream.
pub struct GetResult {
    /// The object's metadata (size is the whole object's).
    pub meta: ObjectMeta,
    /// The byte range the body holds.
    pub range: Range<u64>,
    /// The body, in chunks as they arrive.
    pub body: BoxStream<'static, Result<Bytes>>,
}

impl fmt::Debug for GetResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetResult").field("meta", &self.meta).field("range", &self.range).finish_non_exhaustive()
    }
}

impl GetResult {
    /// Collects the body into one buffer, checking it has the length the range promised.
    ///
    /// For large objects prefer consuming [`GetResult::body`] as a stream.
    pub async fn bytes(self) -> Result<Bytes> {
        let expected = self.range.end - self.range.start;
        let chunks: Vec<Bytes> = self.body.try_collect().await?;
        let total: u64 = chunks.iter().map(|c| c.len() as u64).sum();
        if total != expected {
            return Err(Error::Integrity {
                provider: String::new(),
                path: self.meta.path.to_string(),
                message: format!("body has {total} bytes, expected {expected}"),
                details: Default::default(),
            });
        }
        if chunks.len() == 1 {
            return Ok(chunks.into_iter().next().unwrap_or_default());
        }
        let mut buf = Vec::with_capacity(total as usize);
        for c in chunks {
            buf.extend_from_slice(&c);
        }
        Ok(buf.into())
    }

    /// A body made of one buffer.
    pub fn from_bytes(meta: ObjectMeta, range: Range<u64>, data: Bytes) -> Self {
        let body = if data.is_empty() {
            futures::stream::empty().boxed()
        } else {
            futures::stream::once(async move { Ok(data) }).boxed()
        };
        GetResult { meta, range, body }
    }
}

/// Options for a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Only keys under this directory-like prefix (see [`ObjectPath::is_under`]).
    pub prefix: Option<ObjectPath>,
    /// Only keys strictly greater than this one (byte order).
    pub offset: Option<ObjectPath>,
    /// Every version of every key instead of the current objects: one [`ObjectMeta`] per
    /// version (and S3 delete marker), each with its `version` and `version_info`; keys in
    /// ascending byte order, the versions of one key newest first. Stores that cannot
    /// (see [`crate::Capabilities::list_versions`]) answer [`Error::NotSupported`] as the
    /// listing's first item, never the current objects alone.
    pub versions: bool,
}

impl ListOptions {
    /// For a store that keeps no versions: a listing that is one `NotSupported` error when
    /// `opts` asks for versions, `None` otherwise.
    pub fn refuse_versions(&self, provider: &str) -> Option<BoxStream<'static, Result<ObjectMeta>>> {
        if !self.versions {
            return None;
        }
        let e = Error::not_supported(provider, "listing object versions");
        Some(futures::stream::once(async move { Err(e) }).boxed())
    }
}

/// Options for a delete ([`crate::ObjectStore::delete_opts`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteOptions {
    /// Remove exactly this version (an id from `ObjectMeta::version` or a versions listing)
    /// rather than the current object. Where versions are kept, deleting the current object
    /// leaves its versions (S3 adds a delete marker); deleting one version removes it for
    /// good and leaves every other version as it was.
    pub version: Option<String>,
}

impl DeleteOptions {
    /// Options that delete one version.
    pub fn version(id: impl Into<String>) -> Self {
        DeleteOptions { version: Some(id.into()) }
    }
}

/// One level of a listing with a `/` delimiter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListResult {
    /// "Directories" directly below the prefix, ascending.
    pub common_prefixes: Vec<ObjectPath>,
    /// Objects directly below the prefix, ascending.
    pub objects: Vec<ObjectMeta>,
}

/// How a server-side copy treats an existing destination.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CopyMode {
    /// Replace the destination.
    #[default]
    Overwrite,
    /// Fail with [`Error::AlreadyExists`] if the destination exists.
    Create,
}

/// Options for a server-side copy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyOptions {
    /// Overwrite or create-only.
    pub mode: CopyMode,
}

/// A part a multipart upload has accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    /// 1-based part number.
    pub number: u32,
    /// The store's token for the part (an etag, a block id, …).
    pub token: String,
    /// Bytes in the part.
    pub size: u64,
}

/// An unfinished multipart upload found in a store (for cleanup after a crash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUpload {
    /// The key being written.
    pub path: ObjectPath,
    /// The store's upload id.
    pub upload_id: String,
    /// When the upload started, if known.
    pub initiated: Option<SystemTime>,
}

/// The request a presigned URL lets its holder make (see [`crate::ObjectStore::presign`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PresignMethod {
    /// Download the object.
    Get,
    /// Read the object's metadata.
    Head,
    /// Upload: the holder may write any content at the key.
    Put,
    /// Delete the object.
    Delete,
}

impl PresignMethod {
    /// The HTTP method name (`GET`, `HEAD`, `PUT`, `DELETE`).
    pub fn as_str(self) -> &'static str {
        match self {
            PresignMethod::Get => "GET",
            PresignMethod::Head => "HEAD",
            PresignMethod::Put => "PUT",
            PresignMethod::Delete => "DELETE",
        }
    }

    /// Whether the URL lets its holder change data.
    pub fn is_write(self) -> bool {
        matches!(self, PresignMethod::Put | PresignMethod::Delete)
    }
}
