//! `AzureStore`: one Azure Blob Storage container as a ferry store.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use ferryboat_core::{
    Capabilities, CopyMode, CopyOptions, Error, GetOptions, GetRange, GetResult, Jurisdiction, ListOptions, ListResult,
    MultipartUpload, ObjectLocation, ObjectMeta, ObjectPath, ObjectStore, PresignMethod, PutMode, PutOptions,
    PutResult, Result, StoreInfo,
};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use http::Method;
use object_store::azure::{split_sas, MicrosoftAzure, MicrosoftAzureBuilder};
use object_store::client::{ClientOptions, HttpConnector};
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{Attribute, BackoffConfig, ObjectStore as _, ObjectStoreExt as _, RetryConfig};
use url::Url;

use crate::client::{
    attributes, check_put_options, ferry_meta, os_path, quoted, update_missing_is_precondition, Inner,
};
use crate::config::{AzureConfig, AzureCredentials};
use crate::error::{self, PROVIDER};
use crate::limits::LimitedConnector;
use crate::metadata;
use crate::multipart::BlockUpload;

const MIB: u64 = 1024 * 1024;
/// Azure's limits for block blobs (service version 2019-12-12 and later).
const MAX_BLOCK: u64 = 4000 * MIB;
const MAX_BLOCKS: u32 = 50_000;
/// Keys per blob batch request.
const BATCH: usize = 256;

/// An Azure Blob Storage container (block blobs) as a ferry [`ObjectStore`].
///
/// Requests go through `object_store`'s Azure client (authentication, retries, listing,
/// batch delete, SAS signing); block lists are committed by this crate so that staged
/// uploads keep their content type, metadata, access tier and conditions.
///
/// ```no_run
/// # async fn demo() -> ferryboat_core::Result<()> {
/// use ferryboat_azure::{AzureConfig, AzureStore};
/// use ferryboat_core::{ObjectPath, ObjectStoreExt};
///
/// let store = AzureStore::new(AzureConfig::from_env("backups")?)?;
/// store.put(&ObjectPath::parse("hello.txt")?, "bonjour".into()).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AzureStore {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for AzureStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `AzureConfig`'s Debug redacts the credentials.
        f.debug_struct("AzureStore").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

impl AzureStore {
    /// The same store, described as the provider that runs it (a sovereign operator of
    /// Azure): provider id, name, jurisdiction and CLOUD Act reach replace Microsoft's.
    pub fn describe_as(self, provider: &str, name: &str, jurisdiction: Jurisdiction, cloud_act: bool) -> Self {
        let mut inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(shared) => return AzureStore { inner: shared },
        };
        inner.info.provider = provider.to_string();
        inner.info.provider_name = name.to_string();
        inner.info.jurisdiction = jurisdiction;
        inner.info.cloud_act = cloud_act;
        AzureStore { inner: Arc::new(inner) }
    }
    /// Opens the container `config` describes. No request is sent until the first operation.
    pub fn new(config: AzureConfig) -> Result<Self> {
        let (endpoint, allow_http) = config.validate()?;
        let engine = engine(&config, &endpoint, allow_http)?;
        let http = LimitedConnector
            .connect(&client_options(&config, allow_http))
            .map_err(|e| Error::invalid_config(format!("Azure HTTP client: {e}")))?;
        let mut container_url = endpoint.clone();
        container_url
            .path_segments_mut()
            .map_err(|_| Error::invalid_config(format!("Azure endpoint {endpoint} cannot take a path")))?
            .pop_if_empty()
            .push(&config.container);

        let mut info = StoreInfo::new(PROVIDER, "Microsoft Azure", Jurisdiction::Us)
            .with_endpoint(endpoint.as_str().trim_end_matches('/'))
            .with_bucket(&config.container)
            .with_cloud_act(true);
        if let Some(region) = &config.region {
            info = info.with_region(region);
        }

        let mut caps = Capabilities::default();
        caps.put_if_not_exists = true;
        caps.put_if_match = true;
        caps.get_conditions = true;
        caps.copy = true;
        caps.copy_if_not_exists = true;
        caps.multipart = true;
        // Blocks may have any size; only their count and maximum size are limited.
        caps.multipart_min_part_size = 1;
        caps.multipart_max_part_size = MAX_BLOCK;
        caps.multipart_max_parts = MAX_BLOCKS;
        caps.max_object_size = MAX_BLOCK * MAX_BLOCKS as u64;
        caps.batch_delete_max = BATCH;
        caps.user_metadata = true;
        caps.content_type = true;
        caps.attributes = ferryboat_core::AttributeSupport::ALL;
        caps.storage_class = true;
        caps.list_etags = true;
        caps.presign = matches!(
            config.credentials,
            AzureCredentials::AccessKey(_) | AzureCredentials::BearerToken(_) | AzureCredentials::EntraId
        );

        Ok(AzureStore { inner: Arc::new(Inner { engine, config, http, container_url, info, caps }) })
    }

    /// Creates the container. `AlreadyExists` if it is there already.
    ///
    /// Needs an account key, a bearer token or Entra ID with the right role, or a SAS allowing
    /// container creation.
    pub async fn create_container(&self) -> Result<()> {
        let mut url = self.inner.container_url.clone();
        url.query_pairs_mut().append_pair("restype", "container");
        let container = self.inner.config.container.clone();
        match self.inner.send(Method::PUT, url, Vec::new(), Bytes::new(), &container).await {
            Ok(_) => Ok(()),
            Err(Error::AlreadyExists { provider, details, .. }) => {
                Err(Error::AlreadyExists { provider, path: container, details })
            }
            Err(e) => Err(e),
        }
    }

    /// Deletes the container and everything in it.
    pub async fn delete_container(&self) -> Result<()> {
        let mut url = self.inner.container_url.clone();
        url.query_pairs_mut().append_pair("restype", "container");
        let container = self.inner.config.container.clone();
        self.inner.send(Method::DELETE, url, Vec::new(), Bytes::new(), &container).await.map(|_| ())
    }

    /// The settings this store was opened with (credentials redacted in `Debug`).
    pub fn config(&self) -> &AzureConfig {
        &self.inner.config
    }

    /// A URL that lets anyone holding it `GET` (read), `PUT` (write) or `DELETE` the blob at
    /// `path` for `expires_in`, without credentials: a service SAS when the store uses the
    /// account key, a user delegation SAS under Entra ID. A store opened with a SAS token or
    /// anonymously cannot sign and answers `NotSupported`.
    pub async fn signed_url(&self, method: http::Method, path: &ObjectPath, expires_in: Duration) -> Result<Url> {
        if !self.inner.caps.presign {
            return Err(Error::not_supported(
                PROVIDER,
                format!(
                    "signed URLs with {} credentials (an account key or Entra ID is needed)",
                    self.credentials_kind()
                ),
            ));
        }
        if let AzureCredentials::AccessKey(key) = &self.inner.config.credentials {
            let config = &self.inner.config;
            let query =
                crate::presign::service_sas(&config.account, key, &config.container, path, &method, expires_in)?;
            let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            return self.inner.blob_url(path, &pairs);
        }
        // Entra ID: a user delegation SAS, which needs a key from the service.
        let p = os_path(path)?;
        self.inner.engine.signed_url(method, &p, expires_in).await.map_err(|e| self.inner.err(e, path.as_str()))
    }

    fn credentials_kind(&self) -> &'static str {
        self.inner.config.credentials.kind()
    }
}

fn engine(config: &AzureConfig, endpoint: &Url, allow_http: bool) -> Result<MicrosoftAzure> {
    let mut b = MicrosoftAzureBuilder::new()
        .with_account(&config.account)
        .with_container_name(&config.container)
        .with_endpoint(endpoint.as_str().trim_end_matches('/').to_owned())
        .with_client_options(client_options(config, allow_http))
        .with_retry(object_store_retry(&config.network.retry))
        .with_http_connector(LimitedConnector)
        .with_allow_http(allow_http)
        // ferryboat-mirror and users see tags as an S3 notion; Azure's need their own permission.
        .with_disable_tagging(true);
    match &config.credentials {
        AzureCredentials::AccessKey(key) => {
            object_store::azure::AzureAccessKey::try_new(key)
                .map_err(|_| Error::invalid_config("the Azure account key is not valid base64"))?;
            b = b.with_access_key(key);
        }
        AzureCredentials::SasToken(token) => {
            let pairs = split_sas(token.trim_start_matches('?'))
                .map_err(|_| Error::invalid_config("the Azure SAS token is not a query string (sv=…&sig=…)"))?;
            b = b.with_sas_authorization(pairs);
        }
        AzureCredentials::BearerToken(token) => b = b.with_bearer_token_authorization(token),
        AzureCredentials::EntraId => {
            for (var, key) in ENTRA_VARS {
                if let Some(value) = std::env::var(var).ok().filter(|v| !v.trim().is_empty()) {
                    let key =
                        key.parse().map_err(|e| Error::invalid_config(format!("Azure Entra ID setting {var}: {e}")))?;
                    b = b.with_config(key, value);
                }
            }
        }
        AzureCredentials::Anonymous => b = b.with_skip_signature(true),
    }
    // Builder errors name settings, never their values.
    b.build().map_err(|e| Error::invalid_config(format!("Azure: {e}")))
}

/// `object_store`'s retry settings, derived from the policy: the same attempts, backoff and
/// time budget. Its loop is the policy's loop for the requests it sends (the errors it gives
/// up with are marked spent, see `Inner::err`); this crate's own requests run on the policy
/// directly, so the two never stack.
fn object_store_retry(policy: &ferryboat_core::retry::RetryPolicy) -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig { init_backoff: policy.initial_backoff, max_backoff: policy.max_backoff, base: 2.0 },
        max_retries: policy.max_attempts.saturating_sub(1) as usize,
        retry_timeout: policy.max_elapsed,
    }
}

/// Timeouts for every request, `object_store`'s and this crate's own.
fn client_options(config: &AzureConfig, allow_http: bool) -> ClientOptions {
    let n = &config.network;
    let options = ClientOptions::new()
        .with_allow_http(allow_http)
        .with_connect_timeout(n.connect_timeout)
        .with_read_timeout(n.read_timeout);
    match n.request_timeout {
        Some(t) => options.with_timeout(t),
        None => options.with_timeout_disabled(),
    }
}

/// The Entra ID variables Azure's SDKs read, and `object_store`'s names for them.
const ENTRA_VARS: &[(&str, &str)] = &[
    ("AZURE_CLIENT_ID", "azure_client_id"),
    ("AZURE_CLIENT_SECRET", "azure_client_secret"),
    ("AZURE_TENANT_ID", "azure_tenant_id"),
    ("AZURE_AUTHORITY_HOST", "azure_authority_host"),
    ("AZURE_FEDERATED_TOKEN_FILE", "azure_federated_token_file"),
    ("AZURE_USE_AZURE_CLI", "azure_use_azure_cli"),
    ("AZURE_MSI_ENDPOINT", "azure_msi_endpoint"),
    ("IDENTITY_ENDPOINT", "azure_msi_endpoint"),
    ("AZURE_OBJECT_ID", "azure_object_id"),
    ("AZURE_MSI_RESOURCE_ID", "azure_msi_resource_id"),
];

#[async_trait]
impl ObjectStore for AzureStore {
    fn info(&self) -> &StoreInfo {
        &self.inner.info
    }

    fn capabilities(&self) -> &Capabilities {
        &self.inner.caps
    }

    async fn put_opts(&self, path: &ObjectPath, data: Bytes, opts: PutOptions) -> Result<PutResult> {
        check_put_options(&opts)?;
        let mode = match &opts.mode {
            PutMode::Overwrite => object_store::PutMode::Overwrite,
            PutMode::Create => object_store::PutMode::Create,
            PutMode::Update(v) => object_store::PutMode::Update(object_store::UpdateVersion {
                e_tag: v.etag.as_deref().map(quoted),
                version: None,
            }),
        };
        let os_opts = object_store::PutOptions { mode, attributes: attributes(&opts), ..Default::default() };
        let r = self.inner.engine.put_opts(&os_path(path)?, data.into(), os_opts).await;
        match r {
            Ok(r) => Ok(PutResult { etag: r.e_tag.map(|e| e.trim_matches('"').to_owned()), version: r.version }),
            Err(e) => Err(update_missing_is_precondition(self.inner.err(e, path.as_str()), path, &opts.mode)),
        }
    }

    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        check_put_options(&opts)?;
        Ok(Box::new(BlockUpload::new(self.inner.clone(), path.clone(), opts)?))
    }

    async fn get_opts(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult> {
        match opts.range {
            Some(GetRange::Suffix(n)) if !opts.head => self.get_suffix(path, n, opts).await,
            _ => self.get_plain(path, opts).await,
        }
    }

    /// One Delete Blob request (`object_store` would send a one-key batch and could not tell
    /// a missing container from a missing blob).
    async fn delete(&self, path: &ObjectPath) -> Result<()> {
        self.inner.delete_blob(path).await
    }

    /// Blob batch requests of up to 256 keys, one at a time (servers work through a batch's
    /// keys in turn, and concurrent batches made Azurite time out); keys already gone count
    /// as deleted.
    fn delete_stream<'a>(&'a self, paths: BoxStream<'a, Result<ObjectPath>>) -> BoxStream<'a, Result<ObjectPath>> {
        paths.ready_chunks(BATCH).then(move |chunk| self.delete_batch(chunk)).flat_map(stream::iter).boxed()
    }

    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        if let Some(refused) = opts.refuse_versions(&self.info().provider) {
            return refused;
        }
        self.list_stream(opts)
    }

    async fn list_with_delimiter(&self, prefix: Option<&ObjectPath>) -> Result<ListResult> {
        self.list_level(prefix).await
    }

    fn locate(&self, path: &ObjectPath) -> Option<ObjectLocation> {
        self.location(path)
    }

    /// Copy Blob from any container of the same account (see `copy.rs`).
    async fn copy_from(
        &self,
        src: &dyn ObjectStore,
        from: &ObjectPath,
        to: &ObjectPath,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.copy_blob_from(src, from, to, opts).await
    }

    async fn copy_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        let (f, t) = (os_path(from)?, os_path(to)?);
        let r = match opts.mode {
            CopyMode::Overwrite => self.inner.engine.copy(&f, &t).await,
            CopyMode::Create => self.inner.engine.copy_if_not_exists(&f, &t).await,
        };
        r.map_err(|e| match self.inner.err(e, from.as_str()) {
            // The source is the only thing a copy can miss; the conflict is the destination's.
            Error::AlreadyExists { provider, details, .. } => {
                Error::AlreadyExists { provider, path: to.to_string(), details }
            }
            other => other,
        })
    }

    async fn presign(&self, method: PresignMethod, path: &ObjectPath, expires_in: Duration) -> Result<Url> {
        let method = match method {
            PresignMethod::Get => http::Method::GET,
            PresignMethod::Head => http::Method::HEAD,
            PresignMethod::Put => http::Method::PUT,
            PresignMethod::Delete => http::Method::DELETE,
            _ => return Err(Error::not_supported(PROVIDER, format!("presigned {} URLs", method.as_str()))),
        };
        self.signed_url(method, path, expires_in).await
    }
}

impl AzureStore {
    /// Azure has no suffix ranges: read the size, then the bytes, pinned to the same version
    /// by its etag (a write in between makes the second request fail, and the read restart).
    async fn get_suffix(&self, path: &ObjectPath, n: u64, opts: GetOptions) -> Result<GetResult> {
        for _ in 0..3 {
            let head = self.get_plain(path, GetOptions { head: true, range: None, ..opts.clone() }).await?;
            let range = GetRange::Suffix(n).resolve(head.meta.size).map_err(|message| Error::InvalidRange {
                provider: PROVIDER.into(),
                path: path.to_string(),
                message,
                details: Default::default(),
            })?;
            let pinned = GetOptions {
                range: Some(GetRange::Bounded(range)),
                if_match: head.meta.etag.clone(),
                version: opts.version.clone(),
                ..Default::default()
            };
            match self.get_plain(path, pinned).await {
                Err(Error::Precondition { .. }) => continue,
                other => return other,
            }
        }
        Err(Error::unavailable(PROVIDER, path.as_str(), "the object kept changing during a suffix read", None))
    }

    async fn get_plain(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult> {
        let empty = match &opts.range {
            Some(GetRange::Bounded(r)) => r.start >= r.end,
            Some(GetRange::Suffix(n)) => *n == 0,
            _ => false,
        };
        if empty {
            let message = format!("empty range {:?}", opts.range);
            return Err(Error::InvalidRange {
                provider: PROVIDER.into(),
                path: path.to_string(),
                message,
                details: Default::default(),
            });
        }
        if opts.if_none_match.as_deref() == Some("*") {
            // Azure refuses `If-None-Match: *` on reads (400 UnsatisfiableCondition); its
            // meaning is "not modified if the object exists at all".
            let probe = GetOptions { if_none_match: None, head: true, range: None, ..opts.clone() };
            Box::pin(self.get_plain(path, probe)).await?;
            return Err(Error::NotModified {
                provider: PROVIDER.into(),
                path: path.to_string(),
                details: Default::default(),
            });
        }
        let range = opts.range.map(|r| match r {
            GetRange::Bounded(r) => object_store::GetRange::Bounded(r),
            GetRange::Offset(o) => object_store::GetRange::Offset(o),
            GetRange::Suffix(n) => object_store::GetRange::Suffix(n),
        });
        let os_opts = object_store::GetOptions {
            if_match: opts.if_match.as_deref().map(quoted),
            if_none_match: opts.if_none_match.as_deref().map(quoted),
            if_modified_since: opts.if_modified_since.map(DateTime::<Utc>::from),
            if_unmodified_since: opts.if_unmodified_since.map(DateTime::<Utc>::from),
            range,
            version: opts.version,
            head: opts.head,
            ..Default::default()
        };
        let key = path.as_str().to_owned();
        let container = self.inner.config.container.clone();
        let r = match self.inner.engine.get_opts(&os_path(path)?, os_opts).await {
            Ok(r) => r,
            Err(e) if opts.head => return Err(self.explain_head_failure(self.inner.err(e, &key)).await),
            Err(e) => return Err(self.inner.err(e, &key)),
        };
        let mut meta = ferry_meta(r.meta.clone())?;
        for (k, v) in &r.attributes {
            match k {
                Attribute::ContentType => meta.content_type = Some(v.as_ref().to_string()),
                Attribute::ContentDisposition => meta.attributes.content_disposition = Some(v.as_ref().to_string()),
                Attribute::ContentEncoding => meta.attributes.content_encoding = Some(v.as_ref().to_string()),
                Attribute::ContentLanguage => meta.attributes.content_language = Some(v.as_ref().to_string()),
                Attribute::CacheControl => meta.attributes.cache_control = Some(v.as_ref().to_string()),
                Attribute::StorageClass => meta.storage_class = Some(v.as_ref().to_string()),
                Attribute::Metadata(name) => {
                    meta.metadata.insert(metadata::decode(name), v.as_ref().to_string());
                }
                _ => {}
            }
        }
        let range = r.range.clone();
        let body = if opts.head {
            stream::empty().boxed()
        } else {
            let expected = range.end - range.start;
            // object_store resumes a broken body itself, on the policy's retries.
            let policy = self.inner.config.network.retry.clone();
            let body = r.into_stream().map_err(move |e| policy.give_up(error::map(e, &container, &key)));
            exact_length(body.boxed(), expected, path)
        };
        Ok(GetResult { meta, range, body })
    }

    /// A HEAD answer has no body, so no Azure error code: a 404 may be the blob's or the
    /// container's, a 403 a bad signature or a missing permission. One request for the
    /// container's properties (whose answer has a body) tells them apart.
    async fn explain_head_failure(&self, e: Error) -> Error {
        let blob_missing = matches!(&e, Error::NotFound { path, .. } if path != self.inner.container());
        if !blob_missing && !matches!(e, Error::PermissionDenied { .. }) {
            return e;
        }
        match self.inner.container_properties().await {
            Err(probe @ (Error::NotFound { .. } | Error::Unauthenticated { .. })) => probe,
            _ => e,
        }
    }

    async fn delete_batch(&self, chunk: Vec<Result<ObjectPath>>) -> Vec<Result<ObjectPath>> {
        let mut out = Vec::with_capacity(chunk.len());
        let mut keys = Vec::with_capacity(chunk.len());
        let mut failed = Vec::new();
        for item in chunk {
            match item.and_then(|p| os_path(&p).map(|o| (p, o))) {
                Ok(pair) => keys.push(pair),
                Err(e) => failed.push(Err(e)),
            }
        }
        if keys.len() == 1 {
            let (p, _) = keys.remove(0);
            out.push(self.delete(&p).await.map(|()| p));
        } else if !keys.is_empty() {
            let os_paths: Vec<object_store::Result<Path>> = keys.iter().map(|(_, o)| Ok(o.clone())).collect();
            let results: Vec<_> = self.inner.engine.delete_stream(stream::iter(os_paths).boxed()).collect().await;
            if results.len() == keys.len() {
                for ((p, _), r) in keys.into_iter().zip(results) {
                    out.push(match r {
                        Ok(_) => Ok(p),
                        // A batch answers per key with a status line whose reason says which
                        // resource is missing.
                        Err(e) if batch_missing_container(&e) => {
                            Err(Error::not_found(PROVIDER, self.inner.container()))
                        }
                        Err(object_store::Error::NotFound { .. }) => Ok(p),
                        Err(e) => Err(self.inner.err(e, p.as_str())),
                    });
                }
            } else {
                // The batch failed as a whole (its first error ends the stream): say so per key,
                // keeping whether a retry may help.
                let e = results.into_iter().find_map(|r| r.err()).map(|e| self.inner.err(e, ""));
                let retryable = e.as_ref().is_some_and(Error::is_retryable);
                let message = e.map(|e| e.to_string()).unwrap_or_else(|| "batch delete failed".into());
                for (p, _) in keys {
                    out.push(Err(if retryable {
                        Error::unavailable(PROVIDER, p.as_str(), message.clone(), None)
                    } else {
                        Error::generic(PROVIDER, p.as_str(), message.clone(), None)
                    }));
                }
            }
        }
        out.extend(failed);
        out
    }
}

/// `body`, failing unless it carries exactly `expected` bytes: a server whose answer ends
/// early (or runs long) must not pass for a complete object to a caller that streams it.
fn exact_length(
    body: BoxStream<'static, Result<Bytes>>,
    expected: u64,
    path: &ObjectPath,
) -> BoxStream<'static, Result<Bytes>> {
    let key = path.to_string();
    stream::unfold(Some((body, 0u64)), move |state| {
        let key = key.clone();
        async move {
            let (mut body, seen) = state?;
            let wrong = |seen: u64| {
                let message = format!("the object's body ended after {seen} of {expected} bytes");
                Error::unavailable(PROVIDER, key.as_str(), message, None)
            };
            match body.next().await {
                Some(Ok(chunk)) => {
                    let seen = seen + chunk.len() as u64;
                    if seen > expected {
                        let message = format!("the object's body ran past its {expected} bytes");
                        return Some((Err(Error::generic(PROVIDER, key.as_str(), message, None)), None));
                    }
                    Some((Ok(chunk), Some((body, seen))))
                }
                Some(Err(e)) => Some((Err(e), None)),
                None if seen != expected => Some((Err(wrong(seen)), None)),
                None => None,
            }
        }
    })
    .boxed()
}

fn batch_missing_container(e: &object_store::Error) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if text.contains("ContainerNotFound") || text.contains("container does not exist") {
            return true;
        }
        next = err.source();
    }
    false
}
