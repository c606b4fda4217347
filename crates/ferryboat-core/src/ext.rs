//! `ObjectStoreExt`: the conveniences every store has, written once over the trait.

use std::ops::Range;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

use crate::error::{Error, Result};
use crate::path::ObjectPath;
use crate::store::{MultipartUpload, ObjectStore};
use crate::types::{
    CopyMode, CopyOptions, GetOptions, GetRange, GetResult, ListOptions, ObjectMeta, PutMode, PutOptions, PutResult,
};
use crate::upload::{upload_stream, UploadConfig};

/// Conveniences every [`ObjectStore`] has.
#[async_trait]
pub trait ObjectStoreExt: ObjectStore {
    /// Writes `data` unconditionally.
    async fn put(&self, path: &ObjectPath, data: Bytes) -> Result<PutResult> {
        self.put_opts(path, data, PutOptions::default()).await
    }

    /// Writes `data` only if nothing is at `path` yet.
    async fn put_if_not_exists(&self, path: &ObjectPath, data: Bytes) -> Result<PutResult> {
        self.put_opts(path, data, PutMode::Create.into()).await
    }

    /// Writes a stream of any length with bounded memory: one request if it is small,
    /// a multipart upload with concurrent parts otherwise (see [`UploadConfig`]).
    async fn put_stream(
        &self,
        path: &ObjectPath,
        data: BoxStream<'static, Result<Bytes>>,
        opts: PutOptions,
        config: UploadConfig,
    ) -> Result<PutResult> {
        upload_stream(self, path, data, opts, &config).await
    }

    /// Starts a multipart upload with default options.
    async fn put_multipart(&self, path: &ObjectPath) -> Result<Box<dyn MultipartUpload>> {
        self.put_multipart_opts(path, PutOptions::default()).await
    }

    /// Reads a whole object as a stream.
    async fn get(&self, path: &ObjectPath) -> Result<GetResult> {
        self.get_opts(path, GetOptions::default()).await
    }

    /// Reads `range` of an object into memory.
    async fn get_range(&self, path: &ObjectPath, range: Range<u64>) -> Result<Bytes> {
        let opts = GetOptions { range: Some(GetRange::Bounded(range)), ..Default::default() };
        self.get_opts(path, opts).await?.bytes().await
    }

    /// Whether an object exists.
    async fn exists(&self, path: &ObjectPath) -> Result<bool> {
        match self.head(path).await {
            Ok(_) => Ok(true),
            Err(Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Every object under `prefix`, ascending.
    fn list(&self, prefix: Option<&ObjectPath>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.list_opts(ListOptions { prefix: prefix.cloned(), offset: None, ..Default::default() })
    }

    /// Every object under `prefix` whose key is strictly greater than `offset`, ascending.
    fn list_from(&self, prefix: Option<&ObjectPath>, offset: &ObjectPath) -> BoxStream<'static, Result<ObjectMeta>> {
        self.list_opts(ListOptions { prefix: prefix.cloned(), offset: Some(offset.clone()), ..Default::default() })
    }

    /// Server-side copy, replacing the destination.
    async fn copy(&self, from: &ObjectPath, to: &ObjectPath) -> Result<()> {
        self.copy_opts(from, to, CopyOptions { mode: CopyMode::Overwrite }).await
    }

    /// Server-side copy that fails with `AlreadyExists` if the destination exists.
    async fn copy_if_not_exists(&self, from: &ObjectPath, to: &ObjectPath) -> Result<()> {
        self.copy_opts(from, to, CopyOptions { mode: CopyMode::Create }).await
    }

    /// Renames, replacing the destination.
    async fn rename(&self, from: &ObjectPath, to: &ObjectPath) -> Result<()> {
        self.rename_opts(from, to, CopyOptions::default()).await
    }
}

impl<T: ObjectStore + ?Sized> ObjectStoreExt for T {}
