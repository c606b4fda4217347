//! Sidecar metadata: content type, user metadata, attributes and storage class kept beside
//! the data, and the commit step that moves a finished temp file into place under a
//! [`PutMode`] and writes its sidecar.
//!
//! The sidecar of key `k` is `.ferry/meta/k`, a small JSON file. It mirrors the key exactly
//! (no `.json` suffix) because a suffix would let the sidecars of two live keys collide
//! (`a` → `a.json` and `a.json/x` → `a.json/x.json` need `a.json` as file and directory),
//! while the data tree already guarantees that no two live keys collide this way.
//!
//! Each sidecar records the etag of the data it belongs to and is ignored when that does not
//! match, so a crash or a cross-process race between writing data and sidecar can lose
//! metadata but never attach one object's metadata to another's bytes.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::attributes::Attributes;
use crate::conditions::check_put;
use crate::error::Result;
use crate::path::ObjectPath;
use crate::types::{Metadata, ObjectMeta, PutMode, PutOptions, PutResult};

use super::disk::{io_error, is_absent, Root, TempFile, PROVIDER};

pub(crate) const META_DIR: &str = ".ferry/meta";
/// Sidecars are tiny; a larger file is not ours and is not read.
const MAX_SIDECAR: u64 = 1 << 20;

/// What a sidecar holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Sidecar {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    pub(crate) metadata: Metadata,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content_disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cache_control: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    storage_class: Option<String>,
    /// Etag of the data this sidecar describes.
    #[serde(default)]
    etag: String,
}

impl Sidecar {
    /// The sidecar a put with `opts` needs, or `None` when there is nothing to keep.
    pub(crate) fn from_opts(opts: &PutOptions) -> Option<Self> {
        Self::new(opts.content_type.clone(), opts.metadata.clone(), &opts.attributes, opts.storage_class.clone())
    }

    /// The sidecar carrying what `meta` has, or `None` when there is nothing to keep.
    pub(crate) fn from_meta(meta: &ObjectMeta) -> Option<Self> {
        Self::new(meta.content_type.clone(), meta.metadata.clone(), &meta.attributes, meta.storage_class.clone())
    }

    fn new(
        content_type: Option<String>,
        metadata: Metadata,
        attributes: &Attributes,
        storage_class: Option<String>,
    ) -> Option<Self> {
        (content_type.is_some() || !metadata.is_empty() || !attributes.is_empty() || storage_class.is_some()).then(
            || Sidecar {
                content_type,
                metadata,
                content_disposition: attributes.content_disposition.clone(),
                content_encoding: attributes.content_encoding.clone(),
                content_language: attributes.content_language.clone(),
                cache_control: attributes.cache_control.clone(),
                storage_class,
                etag: String::new(),
            },
        )
    }

    /// Copies what the sidecar keeps into `meta`.
    pub(crate) fn apply(self, meta: &mut ObjectMeta) {
        meta.content_type = self.content_type;
        meta.metadata = self.metadata;
        meta.attributes = Attributes {
            content_disposition: self.content_disposition,
            content_encoding: self.content_encoding,
            content_language: self.content_language,
            cache_control: self.cache_control,
        };
        meta.storage_class = self.storage_class;
    }
}

/// `None` for a key no file can hold (it has no data file either).
fn sidecar_path(key: &ObjectPath) -> Option<PathBuf> {
    super::names::disk_path(key).ok().map(|rel| Path::new(META_DIR).join(rel))
}

/// Writes (atomically) or removes the sidecar of `key`, now holding data with `etag`.
pub(crate) fn store(root: &Root, key: &ObjectPath, sidecar: Option<Sidecar>, etag: &str) -> Result<()> {
    let Some(mut sidecar) = sidecar else {
        remove(root, key);
        return Ok(());
    };
    sidecar.etag = etag.to_string();
    let json = serde_json::to_vec(&sidecar)
        .map_err(|e| crate::Error::generic(PROVIDER, key.as_str(), format!("encoding metadata: {e}"), None))?;
    let mut tmp = root.temp_file().map_err(|e| io_error(e, key.as_str(), "writing metadata"))?;
    tmp.file_mut().and_then(|f| f.write_all(&json)).map_err(|e| io_error(e, key.as_str(), "writing metadata"))?;
    tmp.finish().map_err(|e| io_error(e, key.as_str(), "writing metadata"))?;
    let Some(path) = sidecar_path(key) else {
        return Err(crate::Error::InvalidPath { path: key.to_string(), reason: "no local file name holds it".into() });
    };
    let mut cleared = false;
    loop {
        let parent = path.parent().unwrap_or(Path::new(META_DIR));
        let result = root.dir.create_dir_all(parent).and_then(|()| root.dir.rename(&tmp.name, &root.dir, &path));
        match result {
            Ok(()) => {
                tmp.placed = true;
                return Ok(());
            }
            // Stale sidecars of keys that no longer exist can block the path: the data tree
            // holds `key`, so no live key can be a parent or a child of it. Clear once.
            Err(_) if !cleared => {
                clear_stale(root, &path);
                cleared = true;
            }
            Err(e) => return Err(io_error(e, key.as_str(), "storing metadata")),
        }
    }
}

fn clear_stale(root: &Root, path: &Path) {
    for ancestor in path.ancestors().skip(1) {
        if ancestor == Path::new(META_DIR) || ancestor.as_os_str().is_empty() {
            break;
        }
        if root.dir.symlink_metadata(ancestor).map(|m| !m.is_dir()).unwrap_or(false) {
            let _ = root.dir.remove_file(ancestor);
        }
    }
    if root.dir.symlink_metadata(path).map(|m| m.is_dir()).unwrap_or(false) {
        let _ = root.dir.remove_dir_all(path);
    }
}

/// The sidecar of `key` if it describes the data with `etag`.
pub(crate) fn load(root: &Root, key: &ObjectPath, etag: Option<&str>) -> Option<Sidecar> {
    let path = sidecar_path(key)?;
    let read = || -> io::Result<Vec<u8>> {
        let file = root.dir.open(&path)?;
        let mut buf = Vec::new();
        file.take(MAX_SIDECAR).read_to_end(&mut buf)?;
        Ok(buf)
    };
    let bytes = match read() {
        Ok(b) => b,
        Err(e) if is_absent(&e) => return None,
        Err(e) => {
            tracing::warn!(key = %key, error = %e, "cannot read local metadata sidecar; ignoring it");
            return None;
        }
    };
    match serde_json::from_slice::<Sidecar>(&bytes) {
        Ok(s) if Some(s.etag.as_str()) == etag => Some(s),
        Ok(_) => None, // describes an older write
        Err(e) => {
            tracing::warn!(key = %key, error = %e, "corrupt local metadata sidecar; ignoring it");
            None
        }
    }
}

/// Removes the sidecar of `key` and the directories it leaves empty.
pub(crate) fn remove(root: &Root, key: &ObjectPath) {
    let Some(path) = sidecar_path(key) else { return };
    if root.dir.remove_file(&path).is_ok() {
        root.prune_parents(&path, Path::new(META_DIR));
    }
}

impl Root {
    /// Moves `tmp` to `key` under `mode`, then writes or removes the sidecar.
    ///
    /// `Create` hard-links the temp file to the key, which fails if anything is there, even
    /// when another process races us; the other modes rename over it, which replaces (never
    /// writes through) whatever link was there.
    pub(crate) fn commit(
        &self,
        tmp: TempFile<'_>,
        key: &ObjectPath,
        mode: &PutMode,
        sidecar: Option<Sidecar>,
    ) -> crate::Result<PutResult> {
        let _guard = self.lock(key);
        if let PutMode::Update(_) = mode {
            check_put(PROVIDER, key, self.stat(key)?.as_ref(), mode)?;
        }
        let etag = tmp.etag().map_err(|e| io_error(e, key.as_str(), "reading the written file"))?;
        self.place(tmp, key, matches!(mode, PutMode::Create))?;
        store(self, key, sidecar, &etag)?;
        Ok(PutResult { etag: Some(etag), version: None })
    }
}
