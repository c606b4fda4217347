//! The HTTP headers an object carries besides its bytes and user metadata.

/// Standard headers stored with an object and served back on every read.
///
/// Every backend stores and returns these where its provider has them (S3, Azure Blob and
/// GCS have all four; the local and memory backends keep them too). A `Content-Encoding:
/// gzip` object is stored and served byte for byte: no backend decompresses a body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Attributes {
    /// `Content-Disposition` (`attachment; filename="a.pdf"`).
    pub content_disposition: Option<String>,
    /// `Content-Encoding` (`gzip`): how the stored bytes are encoded, never undone on read.
    pub content_encoding: Option<String>,
    /// `Content-Language` (`fr-CH`).
    pub content_language: Option<String>,
    /// `Cache-Control` (`max-age=3600`).
    pub cache_control: Option<String>,
}

impl Attributes {
    /// Whether no attribute is set.
    pub fn is_empty(&self) -> bool {
        self.iter().all(|(_, v)| v.is_none())
    }

    /// Each attribute with its HTTP header name, set or not.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Option<&str>)> {
        [
            ("content-disposition", self.content_disposition.as_deref()),
            ("content-encoding", self.content_encoding.as_deref()),
            ("content-language", self.content_language.as_deref()),
            ("cache-control", self.cache_control.as_deref()),
        ]
        .into_iter()
    }
}

/// Where a key really lives: the facts two stores compare before one copies from the
/// other server-side (see [`crate::ObjectStore::locate`]).
///
/// Two locations allow a server-side copy when `service`, `endpoint` and `account` are equal;
/// `bucket` and `key` then name the source in the copy request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectLocation {
    /// The protocol family: `s3`, `azure`, `gcs`, `memory`, …
    pub service: String,
    /// The endpoint URL requests go to, as the store was configured (no trailing `/`).
    pub endpoint: String,
    /// The account or credential scope a copy must stay within (Azure storage account,
    /// S3 region); empty where the endpoint alone decides.
    pub account: String,
    /// Bucket or container.
    pub bucket: String,
    /// The full key in the bucket, every prefix view's prefix included.
    pub key: String,
}

impl ObjectLocation {
    /// Whether a store at `self` can copy from `other` in one server-side request.
    pub fn same_account(&self, other: &ObjectLocation) -> bool {
        self.service == other.service && self.endpoint == other.endpoint && self.account == other.account
    }
}
