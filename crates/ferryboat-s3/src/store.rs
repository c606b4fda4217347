//! `S3Store`: the `ObjectStore` trait over one bucket of an S3 (or S3-compatible) service.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use ferryboat_core::conditions::check_get;
use ferryboat_core::{
    Capabilities, CopyMode, CopyOptions, DeleteOptions, Error, GetOptions, GetRange, GetResult, ListOptions,
    ListResult, MultipartUpload, ObjectLocation, ObjectMeta, ObjectPath, ObjectStore, PendingUpload, PresignMethod,
    PutMode, PutOptions, PutResult, Result, StoreInfo,
};
use ferryboat_providers::Quirks;
use futures::stream::{BoxStream, StreamExt};

use crate::client::{attributes_of, metadata, put_options, to_system_time, unquote, Inner};
use crate::config::S3Config;
use crate::error::ErrorContext;
use crate::{client, delete, list, multipart, versions};

/// One bucket of S3 or an S3-compatible service.
///
/// Cloning is cheap and shares the SDK client (and so its connection pool).
///
/// ```no_run
/// # async fn demo() -> ferryboat_core::Result<()> {
/// use ferryboat_core::{ObjectPath, ObjectStoreExt};
/// use ferryboat_s3::{Credentials, S3Config, S3Store};
/// let store = S3Store::new(
///     S3Config::new("my-bucket")
///         .with_provider("scaleway")
///         .with_region("fr-par")
///         .with_credentials(Credentials::new("SCW…", "…")),
/// )?;
/// store.put(&ObjectPath::parse("hello.txt")?, "bonjour".into()).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct S3Store {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for S3Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Store")
            .field("provider", &self.inner.info.provider)
            .field("endpoint", &self.inner.errors.endpoint)
            .field("bucket", &self.inner.bucket)
            .finish_non_exhaustive()
    }
}

impl S3Store {
    /// One PutObject; `alone` sends it without the SDK's retries.
    async fn put_once(&self, path: &ObjectPath, data: Bytes, opts: &PutOptions, alone: bool) -> Result<PutResult> {
        let s = &self.inner;
        let req = s
            .client
            .put_object()
            .bucket(&s.bucket)
            .key(path.as_str())
            .content_length(data.len() as i64)
            .body(ByteStream::from(data));
        let mut req = put_options!(req, opts);
        req = match &opts.mode {
            PutMode::Overwrite => req,
            PutMode::Create => req.if_none_match("*"),
            PutMode::Update(v) => req.set_if_match(v.etag.as_deref().map(|e| s.if_match_etag(e))),
        };
        let mut req = req.customize();
        if !s.sign_payload {
            req = req.disable_payload_signing();
        }
        if alone {
            req = req.config_override(aws_sdk_s3::config::Builder::new().retry_config(RetryConfig::disabled()));
        }
        let sent = req.send().await;
        let map = |e| if alone { s.errors.map_once(path.as_str(), e) } else { s.errors.map(path.as_str(), e) };
        let out = sent.map_err(|e| s.conditional_error(path, &opts.mode, map(e)))?;
        Ok(PutResult { etag: unquote(out.e_tag()), version: out.version_id().map(str::to_string) })
    }

    /// A store for the configured bucket. No request is made until the store is used.
    ///
    /// Fails with `InvalidConfig` for an unknown provider id, an empty bucket name, or a
    /// plain-HTTP endpoint off the loopback interface without `allow_http`.
    pub fn new(config: S3Config) -> Result<S3Store> {
        config.validate()?;
        let provider = ferryboat_providers::catalogue().get(&config.provider)?;
        if provider.api != ferryboat_providers::Api::S3 {
            return Err(ferryboat_core::Error::invalid_config(format!(
                "provider `{}` ({}) does not speak S3 ({:?} API): open it with its own scheme, {}://",
                provider.id, provider.name, provider.api, provider.id
            )));
        }
        let region = client::resolve_region(&config);
        let endpoint_shown = match &config.endpoint {
            Some(e) => e.trim_end_matches('/').to_string(),
            None if config.path_style => format!("https://s3.{region}.amazonaws.com"),
            None => format!("https://{}.s3.{region}.amazonaws.com", config.bucket),
        };
        // `validate` let plain HTTP off loopback through only with `allow_http`; say so loudly.
        // The scheme is read from the parsed URL: `HTTP://` is plain HTTP too.
        if let Some(url) = config.endpoint.as_deref().and_then(|e| url::Url::parse(e).ok()) {
            if url.scheme() == "http" && !crate::config::is_loopback(&url) {
                tracing::warn!(endpoint = %url, "S3 endpoint is plain HTTP: traffic is not encrypted");
            }
        }
        let mut info = provider.store_info(Some(&region), Some(&endpoint_shown), &config.bucket);
        info.endpoint = Some(endpoint_shown.clone());
        let caps = config.capabilities.clone().unwrap_or_else(|| capabilities(&config.quirks));
        let errors = ErrorContext {
            provider: info.provider.clone(),
            bucket: config.bucket.clone(),
            endpoint: endpoint_shown,
            sdk_retries: config.retry.max_attempts > 1,
        };
        let inner = Inner {
            client: client::build(&config),
            sign_payload: crate::config::signs_payload(config.endpoint.as_deref()),
            copy_threshold: config.multipart_copy_threshold,
            copy_scope: match &config.endpoint {
                Some(e) => e.trim_end_matches('/').to_string(),
                None => format!("https://s3.{region}.amazonaws.com"),
            },
            bucket: config.bucket,
            quirks: config.quirks,
            retry: config.retry,
            caps,
            info,
            errors,
        };
        Ok(S3Store { inner: Arc::new(inner) })
    }

    /// The SDK client, for operations ferry does not wrap (bucket policies, lifecycle, …).
    ///
    /// The one `aws-sdk-s3` type in this crate's API, kept as an escape hatch: it follows
    /// the SDK's versioning, not ours, so code that needs only a bucket should call
    /// [`S3Store::create_bucket`] instead.
    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.inner.client
    }

    /// Creates the store's bucket (in the configured region). A bucket that already exists
    /// and is owned by these credentials is not an error.
    pub async fn create_bucket(&self) -> Result<()> {
        let bucket = &self.inner.bucket;
        match self.inner.client.create_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_bucket_already_owned_by_you()) => Ok(()),
            Err(e) => Err(self.inner.errors.map("", e)),
        }
    }

    /// Turns versioning on for the store's bucket (`PutBucketVersioning`, `Enabled`): every
    /// write from then on keeps the version it replaces. S3 cannot turn it off again, only
    /// suspend it.
    pub async fn enable_versioning(&self) -> Result<()> {
        versions::enable(&self.inner).await
    }

    /// The bucket name.
    pub fn bucket(&self) -> &str {
        &self.inner.bucket
    }
}

/// Whether a failed suffix-range read may be the server refusing a suffix longer than the
/// object.
fn suffix_refused(e: &Error) -> bool {
    match e {
        Error::InvalidRange { .. } | Error::NotSupported { .. } => true,
        Error::Unavailable { .. } => e.status() == Some(500),
        _ => false,
    }
}

/// What the quirks allow, as capabilities.
pub(crate) fn capabilities(q: &Quirks) -> Capabilities {
    let mut c = Capabilities::default();
    c.put_if_not_exists = q.put_if_none_match;
    c.put_if_match = q.put_if_match;
    c.get_conditions = true;
    c.versioning = q.versioning;
    c.list_versions = q.versioning;
    c.delete_versions = q.versioning;
    c.copy = q.server_side_copy;
    // CopyObject has no destination condition: a create-only copy could not be atomic.
    c.copy_if_not_exists = false;
    c.multipart = true;
    c.multipart_min_part_size = q.min_part_size;
    c.multipart_max_part_size = q.max_part_size;
    c.multipart_max_parts = q.max_parts;
    c.multipart_uniform_parts = q.uniform_part_size;
    c.pending_uploads = true;
    c.max_object_size = q.max_object_size;
    c.batch_delete_max = q.batch_delete_max;
    c.user_metadata = true;
    c.content_type = true;
    c.attributes = ferryboat_core::AttributeSupport::ALL;
    c.storage_class = true;
    c.list_etags = true;
    c.list_seeks = true;
    c.presign = true;
    c
}

/// `bytes a-b/total` → `(a..b+1, total)`.
fn parse_content_range(value: &str) -> Option<(std::ops::Range<u64>, u64)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (span, total) = rest.split_once('/')?;
    let (a, b) = span.split_once('-')?;
    let (a, b, total) = (a.parse::<u64>().ok()?, b.parse::<u64>().ok()?, total.parse::<u64>().ok()?);
    (a <= b).then_some((a..b + 1, total))
}

#[async_trait]
impl ObjectStore for S3Store {
    fn info(&self) -> &StoreInfo {
        &self.inner.info
    }

    fn capabilities(&self) -> &Capabilities {
        &self.inner.caps
    }

    async fn put_opts(&self, path: &ObjectPath, data: Bytes, opts: PutOptions) -> Result<PutResult> {
        let s = &self.inner;
        s.check_mode(&opts.mode)?;
        if opts.mode == PutMode::Overwrite {
            // Sending the same bytes again is harmless: the SDK retries it on the policy.
            return self.put_once(path, data, &opts, false).await;
        }
        // The SDK would re-send a conditional write blindly, and a write whose answer was lost
        // would then fail its own condition: it is sent without SDK retries, and retried on
        // the policy only once a read shows that it did not land.
        let put = || self.put_once(path, data.clone(), &opts, true);
        s.retry.run_conditional(path.as_str(), put, || ferryboat_core::retry::landed(self, path, &data)).await
    }

    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        multipart::start(&self.inner, path, opts).await
    }

    async fn get_opts(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult> {
        let s = &self.inner;
        if opts.head {
            return s.head_object(path, &opts).await;
        }
        let invalid_range = |message: String| Error::InvalidRange {
            provider: s.provider().into(),
            path: path.to_string(),
            message,
            details: Default::default(),
        };
        // Ranges S3 would silently ignore (serving the whole object) are refused here.
        match &opts.range {
            Some(GetRange::Bounded(r)) if r.start >= r.end => {
                return Err(invalid_range(format!("empty range {}..{}", r.start, r.end)))
            }
            Some(GetRange::Suffix(0)) => return Err(invalid_range("empty suffix range".into())),
            _ => {}
        }
        let range_header = opts.range.as_ref().map(GetRange::to_string);
        let out = match s.get_object(path, &opts, range_header).await {
            Ok(out) => out,
            // Some servers fail a suffix longer than the object (s3s-fs answers 500) where
            // HTTP says to serve the whole object: resolve the range against the size and
            // ask again with explicit bounds.
            Err(e) if matches!(opts.range, Some(GetRange::Suffix(_))) && suffix_refused(&e) => {
                let size = s.head_object(path, &opts).await?.meta.size;
                let range = opts.range.as_ref().map(|r| r.resolve(size)).transpose().map_err(invalid_range)?;
                let header = range.map(|r| GetRange::Bounded(r).to_string());
                s.get_object(path, &opts, header).await?
            }
            Err(e) => return Err(e),
        };
        let length = out.content_length().unwrap_or(0).max(0) as u64;
        let (range, size, skip) = match out.content_range().and_then(parse_content_range) {
            Some((range, total)) => (range, total, None),
            // The server sent the whole object although a range was asked: serve the range
            // from it, so every server answers a range the same way.
            None => match &opts.range {
                Some(r) => {
                    let range = r.resolve(length).map_err(invalid_range)?;
                    (range.clone(), length, Some(range))
                }
                None => (0..length, length, None),
            },
        };
        let meta = ObjectMeta {
            path: path.clone(),
            size,
            last_modified: to_system_time(out.last_modified()),
            etag: unquote(out.e_tag()),
            version: out.version_id().map(str::to_string),
            version_info: None,
            content_type: out.content_type().map(str::to_string),
            metadata: metadata(out.metadata()),
            attributes: attributes_of!(out),
            storage_class: out.storage_class().map(|c| c.as_str().to_string()),
        };
        // As for HEAD: servers that ignore a read condition still get the right answer.
        check_get(s.provider(), &meta, &opts)?;
        let body = body_stream(out.body, s.errors.clone(), path.to_string());
        let body = match skip {
            Some(r) => slice_stream(body, r),
            None => body,
        };
        Ok(GetResult { meta, range, body })
    }

    async fn head(&self, path: &ObjectPath) -> Result<ObjectMeta> {
        Ok(self.inner.head_object(path, &GetOptions::default()).await?.meta)
    }

    async fn delete(&self, path: &ObjectPath) -> Result<()> {
        delete::one(&self.inner, path).await
    }

    async fn delete_opts(&self, path: &ObjectPath, opts: DeleteOptions) -> Result<()> {
        match opts.version {
            None => delete::one(&self.inner, path).await,
            Some(_) if !self.inner.quirks.versioning => Err(Error::not_supported(
                self.inner.provider(),
                "deleting one version: this provider keeps no versions",
            )),
            Some(v) => versions::delete(&self.inner, path, &v).await,
        }
    }

    fn delete_stream<'a>(&'a self, paths: BoxStream<'a, Result<ObjectPath>>) -> BoxStream<'a, Result<ObjectPath>> {
        delete::many(&self.inner, paths)
    }

    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        if opts.versions {
            if !self.inner.quirks.versioning {
                return opts.refuse_versions(self.inner.provider()).unwrap_or_else(|| futures::stream::empty().boxed());
            }
            return versions::list(Arc::clone(&self.inner), opts);
        }
        if self.inner.quirks.list_by_level {
            // The server's flat order is not byte order; its directory levels, sorted, are.
            return ferryboat_core::walk::by_level(Arc::new(self.clone()), opts);
        }
        list::objects(Arc::clone(&self.inner), opts)
    }

    async fn list_with_delimiter(&self, prefix: Option<&ObjectPath>) -> Result<ListResult> {
        list::level(&self.inner, prefix).await
    }

    async fn copy_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        let s = &self.inner;
        if !s.quirks.server_side_copy {
            return Err(Error::not_supported(s.provider(), "server-side copy"));
        }
        if opts.mode == CopyMode::Create {
            return Err(Error::not_supported(
                s.provider(),
                "create-only copy: S3's CopyObject has no destination condition, so it could not be atomic",
            ));
        }
        multipart::copy(s, from, to, s.copy_threshold).await
    }

    fn locate(&self, path: &ObjectPath) -> Option<ObjectLocation> {
        Some(ObjectLocation {
            service: "s3".into(),
            endpoint: self.inner.copy_scope.clone(),
            account: self.inner.info.region.clone().unwrap_or_default(),
            bucket: self.inner.bucket.clone(),
            key: path.to_string(),
        })
    }

    /// `CopyObject` (or `UploadPartCopy` above the copy threshold) from any bucket of the
    /// same endpoint and region, with `MetadataDirective: REPLACE` and `opts`' metadata.
    async fn copy_from(
        &self,
        src: &dyn ObjectStore,
        from: &ObjectPath,
        to: &ObjectPath,
        opts: PutOptions,
    ) -> Result<PutResult> {
        let s = &self.inner;
        let source = src.locate(from).filter(|l| self.locate(to).is_some_and(|h| h.same_account(l)));
        let Some(source) = source else {
            return Err(Error::not_supported(s.provider(), "server-side copy from a store on another endpoint"));
        };
        if !s.quirks.server_side_copy {
            return Err(Error::not_supported(s.provider(), "server-side copy"));
        }
        if opts.mode != PutMode::Overwrite {
            return Err(Error::not_supported(
                s.provider(),
                "conditional copy: S3's CopyObject has no destination condition, so it could not be atomic",
            ));
        }
        if source.bucket == s.bucket && source.key == to.as_str() {
            return Err(Error::invalid_config(format!("copying {to} onto itself")));
        }
        let src = multipart::Source { bucket: &source.bucket, key: &source.key };
        multipart::copy_between(s, src, to, s.copy_threshold, Some(&opts)).await
    }

    async fn list_pending_uploads(&self, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
        multipart::pending(&self.inner, prefix).await
    }

    async fn abort_pending_upload(&self, upload: &PendingUpload) -> Result<()> {
        multipart::abort(&self.inner, &upload.path, &upload.upload_id).await
    }

    async fn presign(&self, method: PresignMethod, path: &ObjectPath, expires_in: Duration) -> Result<url::Url> {
        self.presign_url(method, path, expires_in).await
    }
}

/// The SDK's body as a stream of chunks, as they arrive; a broken body ends with a
/// retryable error.
fn body_stream(body: ByteStream, errors: ErrorContext, path: String) -> BoxStream<'static, Result<Bytes>> {
    futures::stream::try_unfold(body, move |mut body| {
        let errors = errors.clone();
        let path = path.clone();
        async move {
            match body.try_next().await {
                Ok(Some(chunk)) => Ok(Some((chunk, body))),
                Ok(None) => Ok(None),
                Err(e) => Err(Error::unavailable(
                    errors.provider,
                    path,
                    format!("reading the body from {} failed", errors.endpoint),
                    Some(Box::new(e)),
                )),
            }
        }
    })
    .boxed()
}

/// Only the bytes of `range` from a stream of the whole object.
fn slice_stream(
    body: BoxStream<'static, Result<Bytes>>,
    range: std::ops::Range<u64>,
) -> BoxStream<'static, Result<Bytes>> {
    let mut pos = 0u64;
    body.filter_map(move |chunk| {
        let out = match chunk {
            Err(e) => Some(Err(e)),
            Ok(chunk) => {
                let start = pos;
                let end = pos + chunk.len() as u64;
                pos = end;
                let (a, b) = (range.start.max(start), range.end.min(end));
                (a < b).then(|| Ok(chunk.slice((a - start) as usize..(b - start) as usize)))
            }
        };
        futures::future::ready(out)
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    #[test]
    fn equal_part_quirk_is_a_capability() {
        let r2 = &ferryboat_providers::catalogue().get("r2").expect("r2 profile").quirks;
        assert!(super::capabilities(r2).multipart_uniform_parts, "R2 needs equal parts");
        let aws = crate::config::aws_quirks();
        assert!(!super::capabilities(&aws).multipart_uniform_parts);
    }

    use super::*;

    #[test]
    fn content_range_parses() {
        assert_eq!(parse_content_range("bytes 2-5/10"), Some((2..6, 10)));
        assert_eq!(parse_content_range("bytes 5-2/10"), None);
        assert_eq!(parse_content_range("bytes */10"), None);
    }

    #[tokio::test]
    async fn a_range_is_cut_from_a_whole_body() {
        let chunks: Vec<Result<Bytes>> = vec![Ok("abc".into()), Ok("defg".into()), Ok("hi".into())];
        let body = futures::stream::iter(chunks).boxed();
        let got: Vec<Bytes> = futures::TryStreamExt::try_collect(slice_stream(body, 2..8)).await.unwrap();
        assert_eq!(got.concat(), b"cdefgh");
    }
}
