//! `Quirks`: how one S3-compatible server departs from AWS S3, as data the S3 backend obeys.

use serde::Deserialize;

/// Whether the SDK computes and sends integrity checksums on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChecksumMode {
    /// CRC32 on every upload, `aws-chunked` bodies, response validation (AWS itself).
    Always,
    /// Only where the operation requires one (`RequestChecksumCalculation::WhenRequired`):
    /// what every non-AWS server needs since aws-sdk-s3 1.69.
    WhenRequired,
}

/// How object listings are requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListVersion {
    /// `ListObjects` (v1, marker-based).
    V1,
    /// `ListObjectsV2` (continuation tokens, `start-after`).
    V2,
}

/// How a bucket is addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Addressing {
    /// `https://endpoint/bucket/key`.
    Path,
    /// `https://bucket.endpoint/key`.
    VirtualHosted,
}

/// Departures from AWS S3 behaviour. `Default` is the conservative profile for an unknown
/// S3-compatible endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quirks {
    /// Integrity checksum behaviour.
    pub checksums: ChecksumMode,
    /// Listing API version.
    pub list_version: ListVersion,
    /// Whether listing responses may be requested URL-encoded (`encoding-type=url`).
    pub list_url_encoding: bool,
    /// Most parts in a multipart upload.
    pub max_parts: u32,
    /// Smallest part except the last, in bytes.
    pub min_part_size: u64,
    /// Largest part, in bytes.
    pub max_part_size: u64,
    /// Largest object, in bytes.
    pub max_object_size: u64,
    /// Most keys per `DeleteObjects`; `1` = delete one key at a time (batch is broken or absent).
    pub batch_delete_max: usize,
    /// `DeleteObjects` must carry a `Content-MD5` header.
    pub delete_needs_content_md5: bool,
    /// `CopyObject` / `UploadPartCopy` work.
    pub server_side_copy: bool,
    /// `If-None-Match: *` on PutObject is honoured (atomic create).
    pub put_if_none_match: bool,
    /// `If-Match: <etag>` on PutObject is honoured (compare-and-swap).
    pub put_if_match: bool,
    /// Object versioning can be enabled.
    pub versioning: bool,
    /// Every part but the last must have the same size, and the last may not be larger
    /// (Cloudflare R2). Default `false`: parts may differ in size, as on AWS.
    pub uniform_part_size: bool,
}

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;
const TIB: u64 = 1024 * GIB;

impl Default for Quirks {
    fn default() -> Self {
        Quirks {
            checksums: ChecksumMode::WhenRequired,
            list_version: ListVersion::V2,
            list_url_encoding: true,
            max_parts: 10_000,
            min_part_size: 5 * MIB,
            max_part_size: 5 * GIB,
            max_object_size: 5 * TIB,
            batch_delete_max: 1000,
            delete_needs_content_md5: true,
            server_side_copy: true,
            put_if_none_match: false,
            put_if_match: false,
            versioning: false,
            uniform_part_size: false,
        }
    }
}
