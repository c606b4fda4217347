//! Multipart uploads on disk: `.ferry/uploads/<id>/` holds `upload.json` and `part-<n>`.
//!
//! Parts live on disk, not in memory, so an upload survives the process and can be listed
//! and aborted after a crash (`list_pending_uploads`).

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::path::ObjectPath;
use crate::store::MultipartUpload;
use crate::types::{Metadata, PartInfo, PendingUpload, PutMode, PutOptions, PutResult, UpdateVersion};

use super::disk::{blocking, io_error, is_absent, Root, PROVIDER};
use super::meta::Sidecar;
use super::names::UPLOADS_DIR;

const RECORD: &str = "upload.json";
const ID_PREFIX: &str = "u-";
/// Bytes copied at a time when assembling parts.
const COPY_CHUNK: usize = 256 * 1024;

/// What `upload.json` holds: everything needed to finish or clean up the upload.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    path: String,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    content_disposition: Option<String>,
    #[serde(default)]
    content_encoding: Option<String>,
    #[serde(default)]
    content_language: Option<String>,
    #[serde(default)]
    cache_control: Option<String>,
    #[serde(default)]
    storage_class: Option<String>,
    mode: ModeRecord,
    initiated_ns: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ModeRecord {
    Overwrite,
    Create,
    Update { etag: Option<String>, version: Option<String> },
}

impl From<&PutMode> for ModeRecord {
    fn from(m: &PutMode) -> Self {
        match m {
            PutMode::Overwrite => ModeRecord::Overwrite,
            PutMode::Create => ModeRecord::Create,
            PutMode::Update(v) => ModeRecord::Update { etag: v.etag.clone(), version: v.version.clone() },
        }
    }
}

impl From<ModeRecord> for PutMode {
    fn from(m: ModeRecord) -> Self {
        match m {
            ModeRecord::Overwrite => PutMode::Overwrite,
            ModeRecord::Create => PutMode::Create,
            ModeRecord::Update { etag, version } => PutMode::Update(UpdateVersion { etag, version }),
        }
    }
}

fn upload_dir(id: &str) -> PathBuf {
    Path::new(UPLOADS_DIR).join(id)
}

fn part_name(id: &str, number: u32) -> PathBuf {
    upload_dir(id).join(format!("part-{number}"))
}

/// Whether `id` has the shape this store gives ids, so it names nothing but an upload.
fn valid_id(id: &str) -> bool {
    id.len() > ID_PREFIX.len()
        && id.starts_with(ID_PREFIX)
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn gone(id: &str) -> Error {
    Error::generic(PROVIDER, id, "multipart upload no longer exists (aborted or completed)", None)
}

fn md5_hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts an upload: creates its directory and record. Returns the id.
pub(crate) fn start(root: &Root, path: &ObjectPath, opts: &PutOptions) -> Result<String> {
    let id = root.unique_name(ID_PREFIX);
    let record = Record {
        path: path.to_string(),
        content_type: opts.content_type.clone(),
        metadata: opts.metadata.clone(),
        content_disposition: opts.attributes.content_disposition.clone(),
        content_encoding: opts.attributes.content_encoding.clone(),
        content_language: opts.attributes.content_language.clone(),
        cache_control: opts.attributes.cache_control.clone(),
        storage_class: opts.storage_class.clone(),
        mode: (&opts.mode).into(),
        initiated_ns: SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0),
    };
    let json = serde_json::to_vec(&record)
        .map_err(|e| Error::generic(PROVIDER, path.as_str(), format!("encoding upload record: {e}"), None))?;
    let dir = upload_dir(&id);
    let err = |e: io::Error| io_error(e, path.as_str(), "starting a multipart upload");
    root.dir.create_dir_all(&dir).map_err(err)?;
    let mut tmp = root.write_temp(&json).map_err(err)?;
    root.dir.rename(&tmp.name, &root.dir, dir.join(RECORD)).map_err(err)?;
    tmp.placed = true;
    Ok(id)
}

fn read_record(root: &Root, id: &str) -> Result<Record> {
    let bytes = match root.dir.read(upload_dir(id).join(RECORD)) {
        Ok(b) => b,
        Err(e) if is_absent(&e) => return Err(gone(id)),
        Err(e) => return Err(io_error(e, id, "reading the upload record")),
    };
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::generic(PROVIDER, id, format!("corrupt upload record: {e}"), None))
}

/// Unfinished uploads under `prefix`, sorted by key then id.
pub(crate) fn list_pending(root: &Root, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
    let entries = match root.dir.read_dir(UPLOADS_DIR) {
        Ok(r) => r,
        Err(e) if is_absent(&e) => return Ok(Vec::new()),
        Err(e) => return Err(io_error(e, UPLOADS_DIR, "listing pending uploads")),
    };
    let mut out = Vec::new();
    for entry in entries {
        let Ok(id) = entry.map_err(|_| ()).and_then(|e| e.file_name().into_string().map_err(|_| ())) else {
            continue;
        };
        if !valid_id(&id) {
            continue;
        }
        let record = match read_record(root, &id) {
            Ok(r) => r,
            Err(e) => {
                // A crash between creating the directory and its record, or a foreign file.
                tracing::warn!(upload = %id, error = %e, "skipping an unreadable pending upload");
                continue;
            }
        };
        let Ok(path) = ObjectPath::parse(record.path) else { continue };
        if prefix.is_some_and(|p| !path.is_under(p)) {
            continue;
        }
        let initiated = Some(UNIX_EPOCH + Duration::from_nanos(record.initiated_ns));
        out.push(PendingUpload { path, upload_id: id, initiated });
    }
    out.sort_by(|a, b| (&a.path, &a.upload_id).cmp(&(&b.path, &b.upload_id)));
    Ok(out)
}

/// Removes an upload and its parts; an unknown id is already gone.
pub(crate) fn abort(root: &Root, id: &str) -> Result<()> {
    if !valid_id(id) {
        return Err(Error::invalid_config(format!("{id:?} is not a multipart upload id of a local store")));
    }
    match root.dir.remove_dir_all(upload_dir(id)) {
        Ok(()) => Ok(()),
        Err(e) if is_absent(&e) => Ok(()),
        Err(e) => Err(io_error(e, id, "aborting a multipart upload")),
    }
}

fn put_part(root: &Root, id: &str, max_parts: u32, number: u32, data: &[u8]) -> Result<PartInfo> {
    if number == 0 || number > max_parts {
        return Err(Error::invalid_config(format!("part number {number} outside 1..={max_parts}")));
    }
    let err = |e: io::Error| io_error(e, id, "writing a part");
    let tmp = root.write_temp(data).map_err(err)?;
    let mut tmp = tmp;
    match root.dir.rename(&tmp.name, &root.dir, part_name(id, number)) {
        Ok(()) => tmp.placed = true,
        Err(e) if is_absent(&e) => return Err(gone(id)),
        Err(e) => return Err(err(e)),
    }
    Ok(PartInfo { number, token: md5_hex(&Md5::digest(data)), size: data.len() as u64 })
}

/// Concatenates the listed parts into a temp file and commits it with the upload's mode.
fn complete(root: &Root, id: &str, min_part: u64, parts: &[PartInfo]) -> Result<PutResult> {
    let record = read_record(root, id)?;
    let path = ObjectPath::parse(record.path.as_str())?;
    let key = path.as_str();
    let mut tmp = root.temp_file().map_err(|e| io_error(e, key, "assembling parts"))?;
    let mut last = 0;
    let mut buf = vec![0u8; COPY_CHUNK];
    for (i, part) in parts.iter().enumerate() {
        if part.number <= last {
            return Err(Error::invalid_config("parts must be listed in ascending part-number order"));
        }
        last = part.number;
        let mut file = match root.dir.open(part_name(id, part.number)) {
            Ok(f) => f,
            Err(e) if is_absent(&e) => {
                return Err(Error::generic(PROVIDER, key, format!("part {} was never uploaded", part.number), None))
            }
            Err(e) => return Err(io_error(e, key, "reading a part")),
        };
        let mut hash = Md5::new();
        let mut size = 0u64;
        let out = tmp.file_mut().map_err(|e| io_error(e, key, "assembling parts"))?;
        loop {
            let n = file.read(&mut buf).map_err(|e| io_error(e, key, "reading a part"))?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|e| io_error(e, key, "assembling parts"))?;
            size += n as u64;
        }
        if md5_hex(&hash.finalize()) != part.token {
            return Err(Error::Precondition {
                provider: PROVIDER.into(),
                path: key.into(),
                message: format!("part {} token does not match the uploaded part", part.number),
                details: Default::default(),
            });
        }
        if i + 1 < parts.len() && size < min_part {
            return Err(Error::invalid_config(format!(
                "part {} has {size} bytes; every part but the last needs at least {min_part}",
                part.number
            )));
        }
    }
    tmp.finish().map_err(|e| io_error(e, key, "assembling parts"))?;
    let opts_sidecar = Sidecar::from_opts(&PutOptions {
        content_type: record.content_type,
        metadata: record.metadata,
        attributes: crate::attributes::Attributes {
            content_disposition: record.content_disposition,
            content_encoding: record.content_encoding,
            content_language: record.content_language,
            cache_control: record.cache_control,
        },
        storage_class: record.storage_class,
        ..Default::default()
    });
    root.commit(tmp, &path, &record.mode.into(), opts_sidecar)
}

/// An upload in progress on a [`LocalStore`](super::LocalStore).
#[derive(Debug)]
pub(crate) struct LocalUpload {
    pub(crate) root: Arc<Root>,
    pub(crate) id: String,
    pub(crate) min_part: u64,
    pub(crate) max_parts: u32,
}

#[async_trait]
impl MultipartUpload for LocalUpload {
    fn upload_id(&self) -> &str {
        &self.id
    }

    async fn put_part(&self, number: u32, data: Bytes) -> Result<PartInfo> {
        let (id, max) = (self.id.clone(), self.max_parts);
        blocking(&self.root, move |root| put_part(root, &id, max, number, &data)).await
    }

    async fn complete(self: Box<Self>, parts: Vec<PartInfo>) -> Result<PutResult> {
        let (id, min) = (self.id.clone(), self.min_part);
        blocking(&self.root, move |root| {
            let result = complete(root, &id, min, &parts);
            // Like the memory store, a completed or failed upload is gone: `complete` consumed it.
            if let Err(e) = abort(root, &id) {
                tracing::warn!(upload = %id, error = %e, "cannot remove a finished upload's parts");
            }
            result
        })
        .await
    }

    async fn abort(self: Box<Self>) -> Result<()> {
        let id = self.id.clone();
        blocking(&self.root, move |root| abort(root, &id)).await
    }
}
