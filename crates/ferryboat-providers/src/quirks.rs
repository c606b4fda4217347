//! `Quirks`: how one S3-compatible server departs from AWS S3, as data the S3 backend obeys.

use serde::{Deserialize, Serialize};

/// Whether the SDK computes and sends integrity checksums on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChecksumMode {
    /// CRC32 on every upload, `aws-chunked` bodies, response validation (AWS itself).
    Always,
    /// Only where the operation requires one (`RequestChecksumCalculation::WhenRequired`):
    /// what every non-AWS server needs since aws-sdk-s3 1.69.
    WhenRequired,
}

/// How object listings are requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListVersion {
    /// `ListObjects` (v1, marker-based).
    V1,
    /// `ListObjectsV2` (continuation tokens, `start-after`).
    V2,
}

/// How a bucket is addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Addressing {
    /// `https://endpoint/bucket/key`.
    Path,
    /// `https://bucket.endpoint/key`.
    VirtualHosted,
}

/// Departures from AWS S3 behaviour. `Default` is the conservative profile for an unknown
/// S3-compatible endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quirks {
    /// Integrity checksum behaviour.
    pub checksums: ChecksumMode,
    /// Listing API version.
    pub list_version: ListVersion,
    /// The flat listing is not in byte order: the server walks its directories, so `a/b`
    /// comes before `a b` (SeaweedFS). Listings then go one directory level at a time, each
    /// level sorted by the store. Default `false`.
    pub list_by_level: bool,
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
    /// `If-Match` on PutObject is compared with the bare etag, without the quotes HTTP puts
    /// around it: a quoted etag never matches (Ceph RGW 16). Default `false`: quoted.
    pub put_if_match_bare_etag: bool,
    /// `CompleteMultipartUpload` honours `If-None-Match` / `If-Match`. Where it does not
    /// (Ceph RGW 16 ignores both and overwrites), a create-only or compare-and-swap multipart
    /// upload is refused as not supported rather than allowed to overwrite.
    pub multipart_conditions: bool,
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
            list_by_level: false,
            max_parts: 10_000,
            min_part_size: 5 * MIB,
            max_part_size: 5 * GIB,
            max_object_size: 5 * TIB,
            batch_delete_max: 1000,
            delete_needs_content_md5: true,
            server_side_copy: true,
            put_if_none_match: false,
            put_if_match: false,
            put_if_match_bare_etag: false,
            multipart_conditions: true,
            versioning: false,
            uniform_part_size: false,
        }
    }
}
