//! `Capabilities`: what a store can do, as data.

use serde::{Deserialize, Serialize};

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;
const TIB: u64 = 1024 * GIB;

/// What a store supports and its limits.
///
/// Tests, the multipart helper and the mirror read this instead of guessing from the
/// provider's name. A store that lacks a feature answers [`Error::NotSupported`] when asked
/// for it; the conformance suite prints such behaviour as "not run".
///
/// [`Error::NotSupported`]: crate::Error::NotSupported
///
/// ```
/// use ferryboat_core::Capabilities;
/// let mut caps = Capabilities::default();
/// caps.multipart_max_parts = 1_000; // Scaleway
/// assert_eq!(caps.multipart_max_parts, 1_000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// `PutMode::Create` is atomic: of concurrent creators exactly one wins.
    pub put_if_not_exists: bool,
    /// `PutMode::Update` (compare-and-swap on etag or version) is honoured. On `local` the
    /// swap is atomic among users of one process only (an in-process lock).
    pub put_if_match: bool,
    /// Reads honour `if_match` / `if_none_match` / `if_modified_since` / `if_unmodified_since`.
    pub get_conditions: bool,
    /// Reads can name an older version (`GetOptions::version`) and writes report the new
    /// version id, where the bucket keeps versions.
    pub versioning: bool,
    /// A listing can name every version of every key (`ListOptions::versions`).
    #[serde(default)]
    pub list_versions: bool,
    /// One version can be deleted by its id (`ObjectStore::delete_opts` with
    /// `DeleteOptions::version`).
    #[serde(default)]
    pub delete_versions: bool,
    /// Server-side copy within the store.
    pub copy: bool,
    /// Server-side copy that fails with `AlreadyExists` instead of overwriting.
    pub copy_if_not_exists: bool,
    /// Rename is a cheap metadata operation (not copy + delete).
    pub rename: bool,
    /// Multipart uploads (`put_multipart`).
    pub multipart: bool,
    /// Smallest part accepted, except the last one.
    pub multipart_min_part_size: u64,
    /// Largest part accepted.
    pub multipart_max_part_size: u64,
    /// Most parts in one upload.
    pub multipart_max_parts: u32,
    /// Every part but the last must have the same size (Cloudflare R2): part sizes never
    /// grow within an upload, so a stream of unknown length is capped at part size × part cap.
    pub multipart_uniform_parts: bool,
    /// Unfinished multipart uploads can be listed and aborted after a crash.
    pub pending_uploads: bool,
    /// Largest object the store accepts.
    pub max_object_size: u64,
    /// Most keys per batch-delete request; `1` means keys are deleted one at a time.
    pub batch_delete_max: usize,
    /// User metadata is stored and returned by `head`/`get`.
    pub user_metadata: bool,
    /// Content type is stored and returned.
    pub content_type: bool,
    /// Which of Content-Disposition, Content-Encoding, Content-Language and Cache-Control
    /// are stored and returned.
    #[serde(default)]
    pub attributes: AttributeSupport,
    /// A storage class (or access tier) given on write is applied, and reads report it.
    #[serde(default)]
    pub storage_class: bool,
    /// Listings carry etags.
    pub list_etags: bool,
    /// Presigned URLs can be made.
    pub presign: bool,
    /// A listing with an offset starts at that offset on the server (S3's `start-after`,
    /// GCS's `startOffset`), so listing from a key costs no more than the keys after it and
    /// key ranges can be listed in parallel ([`crate::ranges`]).
    pub list_seeks: bool,
}

impl Default for Capabilities {
    /// The required surface only: no optional feature, S3's multipart limits.
    fn default() -> Self {
        Capabilities {
            put_if_not_exists: false,
            put_if_match: false,
            get_conditions: false,
            versioning: false,
            list_versions: false,
            delete_versions: false,
            copy: false,
            copy_if_not_exists: false,
            rename: false,
            multipart: false,
            multipart_min_part_size: 5 * MIB,
            multipart_max_part_size: 5 * GIB,
            multipart_max_parts: 10_000,
            multipart_uniform_parts: false,
            pending_uploads: false,
            max_object_size: 5 * TIB,
            batch_delete_max: 1,
            user_metadata: false,
            content_type: false,
            attributes: AttributeSupport::default(),
            storage_class: false,
            list_etags: false,
            presign: false,
            list_seeks: false,
        }
    }
}

/// Which standard attributes ([`crate::Attributes`]) a store keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeSupport {
    /// `Content-Disposition`.
    pub content_disposition: bool,
    /// `Content-Encoding`.
    pub content_encoding: bool,
    /// `Content-Language`.
    pub content_language: bool,
    /// `Cache-Control`.
    pub cache_control: bool,
}

impl AttributeSupport {
    /// All four kept (S3, Azure Blob, GCS, memory, local).
    pub const ALL: AttributeSupport = AttributeSupport {
        content_disposition: true,
        content_encoding: true,
        content_language: true,
        cache_control: true,
    };

    /// Whether the attribute with this header name (as [`crate::Attributes::iter`] names
    /// it) is kept.
    pub fn keeps(&self, header: &str) -> bool {
        match header {
            "content-disposition" => self.content_disposition,
            "content-encoding" => self.content_encoding,
            "content-language" => self.content_language,
            "cache-control" => self.cache_control,
            _ => false,
        }
    }
}
