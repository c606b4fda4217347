//! `EncryptedStore`: the layer.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use ferryboat_core::{
    Capabilities, CopyMode, CopyOptions, DeleteOptions, Error, GetOptions, GetRange, GetResult, ListOptions,
    ListResult, MultipartUpload, ObjectLocation, ObjectMeta, ObjectPath, ObjectStore, ObjectStoreExt, PartInfo,
    PendingUpload, PresignMethod, PutMode, PutOptions, PutResult, Result, StoreInfo, UpdateVersion, UploadConfig,
};
use futures::stream::{BoxStream, StreamExt};

use crate::decrypt::Decrypt;
use crate::format::{Layout, HEADER_LEN, TRAILER_LEN};
use crate::keys::KeyProvider;
use crate::seal::{rewrap, Sealer};

const MIB: u64 = 1024 * 1024;
/// Token of a part kept back until the upload completes.
const HELD: &str = "held-until-complete";

/// Chunk and part sizes of an [`EncryptedStore`].
#[derive(Debug, Clone)]
pub struct EncryptConfig {
    /// Plaintext bytes per sealed chunk: the granularity of range reads. Default 64 KiB.
    pub chunk_size: u32,
    /// Plaintext bytes per multipart part (every part but the last). A multiple of 1 MiB and
    /// of `chunk_size`. Default 32 MiB: with S3's 10,000 parts, objects up to 320 GiB.
    pub part_size: u64,
}

impl Default for EncryptConfig {
    fn default() -> Self {
        EncryptConfig { chunk_size: 64 * 1024, part_size: 32 * MIB }
    }
}

/// Client-side encryption: the store below holds only ciphertext.
///
/// Every object gets a random data key, wrapped by the user's [`KeyProvider`] and kept in
/// the object's header; data is sealed with ChaCha20-Poly1305 in fixed-size chunks, so a
/// range read fetches and opens only the chunks it touches. Sizes in listings and `head` are
/// plaintext sizes. Tampering with any byte, the chunk order, the wrapped key, or cutting the
/// object is an [`Error::Integrity`], never garbage. Content type and user metadata are
/// **not** encrypted.
///
/// Each object's chunks are bound to its key, so ciphertext moved or swapped to another key
/// by the provider fails to open. For the same reason a copy or rename within the store
/// re-encrypts through this machine (download and upload); a mirror of the raw stores (use
/// [`EncryptedStore::inner`]) copies ciphertext under the same keys without ever holding
/// the key. Rotating the user's key rewrites only each object's header
/// ([`EncryptedStore::rotate`]).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> ferryboat_core::Result<()> {
/// use std::sync::Arc;
/// use ferryboat_core::{memory::MemoryStore, ObjectPath, ObjectStoreExt};
/// use ferryboat_encrypt::{EncryptConfig, EncryptedStore, LocalKey};
///
/// let raw = Arc::new(MemoryStore::new());
/// let store = EncryptedStore::new(raw.clone(), Arc::new(LocalKey::generate()?), EncryptConfig::default())?;
/// let key = ObjectPath::parse("payroll.csv")?;
/// store.put(&key, "alice,100\n".into()).await?;
/// assert_eq!(store.get(&key).await?.bytes().await?, "alice,100\n");
/// assert!(!raw.get(&key).await?.bytes().await?.windows(5).any(|w| w == b"alice"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct EncryptedStore {
    inner: Arc<dyn ObjectStore>,
    keys: Arc<dyn KeyProvider>,
    /// Keys that may have wrapped older objects: read with, never written with.
    previous: Vec<Arc<dyn KeyProvider>>,
    config: EncryptConfig,
    info: StoreInfo,
    caps: Capabilities,
}

impl EncryptedStore {
    /// Wraps `inner`, encrypting with data keys wrapped by `keys`.
    pub fn new(inner: Arc<dyn ObjectStore>, keys: Arc<dyn KeyProvider>, config: EncryptConfig) -> Result<Self> {
        let chunk = config.chunk_size as u64;
        if config.part_size < inner.capabilities().multipart_min_part_size {
            return Err(Error::invalid_config(format!(
                "encryption part size ({}) is below the store's minimum part size ({})",
                config.part_size,
                inner.capabilities().multipart_min_part_size
            )));
        }
        if chunk == 0
            || config.part_size == 0
            || !config.part_size.is_multiple_of(MIB)
            || !config.part_size.is_multiple_of(chunk)
        {
            return Err(Error::invalid_config(format!(
                "encryption part size ({}) must be a non-zero multiple of 1 MiB and of the chunk size ({chunk})",
                config.part_size
            )));
        }
        let mut info = inner.info().clone();
        info.client_encrypted = true;
        let mut caps = inner.capabilities().clone();
        // Parts must line up with chunks, and the last part is the trailer: uniform parts.
        caps.multipart_min_part_size = config.part_size;
        caps.multipart_max_part_size = config.part_size;
        caps.multipart_max_parts = caps.multipart_max_parts.saturating_sub(1).max(1);
        caps.max_object_size = caps.max_object_size.min(config.part_size * caps.multipart_max_parts as u64);
        caps.presign = false;
        // A copy re-encrypts for the new key: never a cheap rename.
        caps.rename = false;
        caps.copy_if_not_exists = caps.put_if_not_exists;
        Ok(EncryptedStore { inner, keys, previous: Vec::new(), config, info, caps })
    }

    /// Also reads objects whose data keys were wrapped by `previous` keys (after a key
    /// rotation); new objects are always wrapped by the current key.
    pub fn with_previous_keys(mut self, previous: Vec<Arc<dyn KeyProvider>>) -> Self {
        self.previous = previous;
        self
    }

    fn key_chain(&self) -> Vec<&dyn KeyProvider> {
        std::iter::once(self.keys.as_ref()).chain(self.previous.iter().map(|k| k.as_ref())).collect()
    }

    /// Re-wraps the data key of the object at `path` with the current key, if a previous key
    /// wrapped it. Only the 96-byte header changes: chunks and trailer are copied as they are,
    /// never decrypted. The rewrite is conditional on the object not changing meanwhile
    /// (where the store below honours `PutMode::Update`). Returns whether it rewrote.
    pub async fn rotate(&self, path: &ObjectPath) -> Result<bool> {
        let first = self
            .inner
            .get_opts(path, GetOptions { range: Some(GetRange::Bounded(0..HEADER_LEN)), ..Default::default() })
            .await?;
        let etag = first.meta.etag.clone();
        let size = first.meta.size;
        let mut body = first.body;
        let mut buf = BytesMut::new();
        if !read_exact(&mut body, &mut buf, HEADER_LEN as usize).await? {
            return Err(self.integrity(path, "object ends inside its encryption header"));
        }
        let Some(header) = rewrap(&buf[..HEADER_LEN as usize], &self.key_chain(), self.keys.as_ref(), path.as_str())?
        else {
            return Ok(false);
        };
        let rest_opts = GetOptions {
            range: Some(GetRange::Bounded(HEADER_LEN..size)),
            if_match: etag.clone(),
            ..Default::default()
        };
        let rest = self.inner.get_opts(path, rest_opts).await?.body;
        let head = futures::stream::once(async move { Ok(Bytes::copy_from_slice(&header.to_bytes())) });
        let mode = match etag {
            Some(etag) if self.inner.capabilities().put_if_match => {
                PutMode::Update(UpdateVersion { etag: Some(etag), version: None })
            }
            _ => PutMode::Overwrite,
        };
        let config = UploadConfig { expected_size: Some(size), ..Default::default() };
        self.inner.put_stream(path, head.chain(rest).boxed(), mode.into(), config).await?;
        Ok(true)
    }

    fn integrity(&self, path: &ObjectPath, message: &str) -> Error {
        Error::Integrity {
            provider: self.info.provider.clone(),
            path: path.to_string(),
            message: message.into(),
            details: Default::default(),
        }
    }

    /// The store holding the ciphertext.
    pub fn inner(&self) -> &Arc<dyn ObjectStore> {
        &self.inner
    }

    fn layout_of(&self, meta: &ObjectMeta) -> Result<Layout> {
        Layout::from_cipher_len(self.config.chunk_size as u64, meta.size).ok_or_else(|| Error::Integrity {
            provider: self.info.provider.clone(),
            path: meta.path.to_string(),
            message: format!("{} bytes is not the size of a ferry-encrypted object", meta.size),
            details: Default::default(),
        })
    }

    fn plain_meta(&self, mut meta: ObjectMeta) -> Result<ObjectMeta> {
        if meta.version_info.is_some_and(|v| v.delete_marker) {
            // A delete marker holds no ciphertext: nothing to size.
            return Ok(meta);
        }
        meta.size = self.layout_of(&meta)?.plain_len;
        Ok(meta)
    }

    fn seal_all(&self, sealer: &Sealer, data: &[u8]) -> Result<Vec<u8>> {
        let layout = Layout { chunk_size: self.config.chunk_size as u64, plain_len: data.len() as u64 };
        let mut out = Vec::with_capacity(layout.cipher_len() as usize);
        out.extend_from_slice(&sealer.header.to_bytes());
        for (i, chunk) in data.chunks(self.config.chunk_size as usize).enumerate() {
            out.extend_from_slice(&sealer.seal_chunk(i as u32, chunk)?);
        }
        out.extend_from_slice(&sealer.seal_trailer(data.len() as u64)?);
        Ok(out)
    }
}

/// Reads from `body` into `buf` until it holds `n` bytes.
async fn read_exact(body: &mut BoxStream<'static, Result<Bytes>>, buf: &mut BytesMut, n: usize) -> Result<bool> {
    while buf.len() < n {
        match body.next().await {
            Some(chunk) => buf.extend_from_slice(&chunk?),
            None => return Ok(false),
        }
    }
    Ok(true)
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl ObjectStore for EncryptedStore {
    fn info(&self) -> &StoreInfo {
        &self.info
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn put_opts(&self, path: &ObjectPath, data: Bytes, opts: PutOptions) -> Result<PutResult> {
        let sealer = Sealer::new_object(self.keys.as_ref(), self.config.chunk_size, path.as_str())?;
        let sealed = self.seal_all(&sealer, &data)?;
        self.inner.put_opts(path, sealed.into(), opts).await
    }

    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        let sealer = Sealer::new_object(self.keys.as_ref(), self.config.chunk_size, path.as_str())?;
        let inner = self.inner.put_multipart_opts(path, opts).await?;
        Ok(Box::new(EncryptedUpload {
            inner,
            sealer: Arc::new(sealer),
            config: self.config.clone(),
            path: path.to_string(),
            sizes: Mutex::default(),
            held: Mutex::default(),
        }))
    }

    async fn get_opts(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult> {
        if opts.head {
            let mut result = self.inner.get_opts(path, opts).await?;
            result.meta = self.plain_meta(result.meta)?;
            return Ok(result);
        }
        let range = opts.range.clone();
        // Whole objects: one request, header then chunks then trailer, all checked.
        let mut first_opts = opts.clone();
        first_opts.range = range.as_ref().map(|_| GetRange::Bounded(0..HEADER_LEN));
        let first = self.inner.get_opts(path, first_opts).await?;
        let layout = self.layout_of(&first.meta)?;
        let mut body = first.body;
        let mut buf = BytesMut::new();
        if !read_exact(&mut body, &mut buf, HEADER_LEN as usize).await? {
            return Err(Error::Integrity {
                provider: self.info.provider.clone(),
                path: path.to_string(),
                message: "object ends inside its encryption header".into(),
                details: Default::default(),
            });
        }
        let header = buf.split_to(HEADER_LEN as usize);
        let sealer = Arc::new(Sealer::open_object(&self.key_chain(), &header, path.as_str())?);
        let mut meta = first.meta;
        meta.size = layout.plain_len;

        let Some(range) = range else {
            let decrypt = Decrypt {
                sealer,
                layout,
                path: path.to_string(),
                body,
                buf,
                chunks: 0..layout.chunks(),
                skip: 0,
                take: layout.plain_len,
                trailer: true,
            };
            return Ok(GetResult { meta, range: 0..layout.plain_len, body: decrypt.into_stream() });
        };

        let plain = range.resolve(layout.plain_len).map_err(|message| Error::InvalidRange {
            provider: self.info.provider.clone(),
            path: path.to_string(),
            message,
            details: Default::default(),
        })?;
        let (chunks, cipher) = layout.chunks_for(&plain);
        // The same object version as the header, or an error: never a splice of two.
        let chunk_opts = GetOptions {
            range: Some(GetRange::Bounded(cipher)),
            if_match: meta.etag.clone(),
            version: opts.version.clone(),
            ..Default::default()
        };
        // The trailer too, so that an object cut at a chunk boundary fails here as it does
        // for a whole read (one more small request per range read).
        let cipher_len = layout.cipher_len();
        let trailer_opts = GetOptions {
            range: Some(GetRange::Bounded(cipher_len - TRAILER_LEN..cipher_len)),
            if_match: meta.etag.clone(),
            version: opts.version.clone(),
            ..Default::default()
        };
        let (rest, trailer) = futures::try_join!(self.inner.get_opts(path, chunk_opts), async {
            self.inner.get_opts(path, trailer_opts).await?.bytes().await
        })?;
        sealer.check_trailer(&trailer, layout.plain_len, path.as_str())?;
        let decrypt = Decrypt {
            sealer,
            layout,
            path: path.to_string(),
            body: rest.body,
            buf: BytesMut::new(),
            skip: plain.start - chunks.start * layout.chunk_size,
            take: plain.end - plain.start,
            chunks,
            trailer: false,
        };
        Ok(GetResult { meta, range: plain, body: decrypt.into_stream() })
    }

    async fn head(&self, path: &ObjectPath) -> Result<ObjectMeta> {
        self.plain_meta(self.inner.head(path).await?)
    }

    async fn delete(&self, path: &ObjectPath) -> Result<()> {
        self.inner.delete(path).await
    }

    /// Removing a version needs no key: forwarded as it is.
    async fn delete_opts(&self, path: &ObjectPath, opts: DeleteOptions) -> Result<()> {
        self.inner.delete_opts(path, opts).await
    }

    fn delete_stream<'a>(&'a self, paths: BoxStream<'a, Result<ObjectPath>>) -> BoxStream<'a, Result<ObjectPath>> {
        self.inner.delete_stream(paths)
    }

    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        let this = self.clone();
        self.inner.list_opts(opts).map(move |m| m.and_then(|m| this.plain_meta(m))).boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&ObjectPath>) -> Result<ListResult> {
        let mut result = self.inner.list_with_delimiter(prefix).await?;
        result.objects = result.objects.into_iter().map(|m| self.plain_meta(m)).collect::<Result<_>>()?;
        Ok(result)
    }

    async fn copy_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        // The chunks are bound to `from`: decrypt and seal again for `to`.
        let source = self.get(from).await?;
        let mode = match opts.mode {
            CopyMode::Create => PutMode::Create,
            _ => PutMode::Overwrite,
        };
        let put = PutOptions { mode, ..PutOptions::from_meta(&source.meta) };
        let config = UploadConfig {
            part_size: self.config.part_size,
            expected_size: Some(source.meta.size),
            ..Default::default()
        };
        self.put_stream(to, source.body, put, config).await.map(|_| ())
    }

    /// Ciphertext carries its own header metadata; a copy that rewrites metadata would
    /// lose it, so no other store may copy from here server-side.
    fn locate(&self, path: &ObjectPath) -> Option<ObjectLocation> {
        let _ = path;
        None
    }

    async fn copy_from(
        &self,
        src: &dyn ObjectStore,
        from: &ObjectPath,
        to: &ObjectPath,
        opts: PutOptions,
    ) -> Result<PutResult> {
        let _ = (src, from, opts);
        Err(Error::not_supported("encrypt", format!("server-side copy into an encrypted store ({to})")))
    }

    async fn rename_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        self.copy_opts(from, to, opts).await?;
        self.delete(from).await
    }

    async fn list_pending_uploads(&self, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
        self.inner.list_pending_uploads(prefix).await
    }

    async fn abort_pending_upload(&self, upload: &PendingUpload) -> Result<()> {
        self.inner.abort_pending_upload(upload).await
    }

    async fn presign(
        &self,
        method: PresignMethod,
        path: &ObjectPath,
        expires_in: std::time::Duration,
    ) -> Result<url::Url> {
        // A signed GET would hand out ciphertext and a signed PUT would store plaintext.
        let _ = (method, path, expires_in);
        Err(Error::not_supported(&self.info.provider, "presigned URLs through client-side encryption"))
    }
}

/// A multipart upload that seals each part as it goes. Part `n` holds plaintext bytes
/// `(n - 1) × part_size ..`, so its chunk indices are known without the other parts.
///
/// The sealed trailer must end the object. A short part can only be the last one, so it is
/// held back (it is smaller than one part) and sent with the trailer appended when the upload
/// completes; if the last part is full, the trailer goes as one extra, final part — the only
/// part the clouds allow to be small.
struct EncryptedUpload {
    inner: Box<dyn MultipartUpload>,
    sealer: Arc<Sealer>,
    config: EncryptConfig,
    path: String,
    sizes: Mutex<BTreeMap<u32, u64>>,
    held: Mutex<Option<(u32, Vec<u8>)>>,
}

impl std::fmt::Debug for EncryptedUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedUpload").field("inner", &self.inner).field("path", &self.path).finish()
    }
}

impl EncryptedUpload {
    fn invalid(&self, message: String) -> Error {
        Error::InvalidConfig { message: format!("encrypted upload of {}: {message}", self.path) }
    }
}

#[async_trait]
impl MultipartUpload for EncryptedUpload {
    fn upload_id(&self) -> &str {
        self.inner.upload_id()
    }

    async fn put_part(&self, number: u32, data: Bytes) -> Result<PartInfo> {
        let part = self.config.part_size;
        if number == 0 || data.len() as u64 > part {
            return Err(self.invalid(format!("part {number} has {} bytes; parts hold at most {part}", data.len())));
        }
        let chunk = self.config.chunk_size as u64;
        let first_index = (number as u64 - 1) * (part / chunk);
        let mut sealed = Vec::with_capacity(data.len() + 16 * (data.len() / chunk as usize + 1) + 96);
        if number == 1 {
            sealed.extend_from_slice(&self.sealer.header.to_bytes());
        }
        for (i, piece) in data.chunks(chunk as usize).enumerate() {
            let index = u32::try_from(first_index + i as u64).map_err(|_| self.invalid("object too large".into()))?;
            sealed.extend_from_slice(&self.sealer.seal_chunk(index, piece)?);
        }
        self.sizes.lock().unwrap_or_else(|e| e.into_inner()).insert(number, data.len() as u64);
        if (data.len() as u64) < part {
            let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((other, _)) = held.as_ref().filter(|(n, _)| *n != number) {
                return Err(self.invalid(format!("parts {other} and {number} are both short; only the last may be")));
            }
            *held = Some((number, sealed));
            return Ok(PartInfo { number, token: HELD.to_string(), size: data.len() as u64 });
        }
        let info = self.inner.put_part(number, sealed.into()).await?;
        Ok(PartInfo { number, token: info.token, size: data.len() as u64 })
    }

    async fn complete(self: Box<Self>, mut parts: Vec<PartInfo>) -> Result<PutResult> {
        let sizes = self.sizes.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let numbers: Vec<u32> = parts.iter().map(|p| p.number).collect();
        if numbers.iter().enumerate().any(|(i, n)| *n != i as u32 + 1) {
            return Err(self.invalid(format!("parts must be numbered 1, 2, 3, … without gaps; got {numbers:?}")));
        }
        let mut total = 0u64;
        for (i, p) in parts.iter().enumerate() {
            let size = sizes.get(&p.number).copied().unwrap_or(p.size);
            if i + 1 < parts.len() && size != self.config.part_size {
                return Err(self.invalid(format!(
                    "part {} has {size} bytes; every part but the last must hold exactly {}",
                    p.number, self.config.part_size
                )));
            }
            total += size;
        }
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner()).take();
        let trailer = self.sealer.seal_trailer(total)?;
        match held {
            Some((number, mut sealed)) if number as usize == parts.len() => {
                sealed.extend_from_slice(&trailer);
                let info = self.inner.put_part(number, sealed.into()).await?;
                if let Some(last) = parts.last_mut() {
                    *last = info;
                }
            }
            Some((number, _)) => {
                return Err(self.invalid(format!("part {number} is short but is not the last part")));
            }
            None => {
                let mut last = Vec::new();
                if parts.is_empty() {
                    // An empty object still needs its header, in the first part.
                    last.extend_from_slice(&self.sealer.header.to_bytes());
                }
                last.extend_from_slice(&trailer);
                let info = self.inner.put_part(parts.len() as u32 + 1, last.into()).await?;
                parts.push(info);
            }
        }
        self.inner.complete(parts).await
    }

    async fn abort(self: Box<Self>) -> Result<()> {
        self.inner.abort().await
    }
}
