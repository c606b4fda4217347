//! `GcsStore`: the `ObjectStore` implementation over the JSON API.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use ferryboat_core::conditions::check_get;
use ferryboat_core::retry::Idempotency;
use ferryboat_core::{
    Capabilities, CopyMode, CopyOptions, DeleteOptions, Error, GetOptions, GetResult, Jurisdiction, ListOptions,
    ListResult, MultipartUpload, ObjectLocation, ObjectMeta, ObjectPath, ObjectStore, PendingUpload, PresignMethod,
    PutMode, PutOptions, PutResult, Result, StoreInfo,
};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use reqwest::{header, Method, StatusCode};

use crate::client::{read_document, read_error_body, Client, WriteCondition};
use crate::error::{status_error, transport_error, OnPrecondition};
use crate::model::{parse_json, BucketResource, ObjectResource, RewriteResponse};
use crate::{list, multipart, versions, PROVIDER};

const MIB: u64 = 1024 * 1024;

/// A Google Cloud Storage bucket as an [`ObjectStore`].
///
/// Made by [`GcsBuilder`](crate::GcsBuilder) or [`open_url`](crate::open_url). Cloning is
/// cheap and shares the connection pool.
///
/// Keys under `.ferry-uploads/` at the bucket root hold the parts of unfinished multipart
/// uploads; listings skip them.
#[derive(Debug, Clone)]
pub struct GcsStore {
    pub(crate) client: Arc<Client>,
    info: Arc<StoreInfo>,
    caps: Arc<Capabilities>,
}

impl GcsStore {
    /// The same store, described as the provider that runs it (a partner's universe such as
    /// S3NS): provider id, name, jurisdiction and CLOUD Act reach replace Google's.
    pub fn describe_as(mut self, provider: &str, name: &str, jurisdiction: Jurisdiction, cloud_act: bool) -> Self {
        let mut info = (*self.info).clone();
        info.provider = provider.to_string();
        info.provider_name = name.to_string();
        info.jurisdiction = jurisdiction;
        info.cloud_act = cloud_act;
        self.info = Arc::new(info);
        self
    }

    pub(crate) async fn new(client: Client, check_bucket: bool) -> Result<Self> {
        let mut info = StoreInfo::new(PROVIDER, "Google Cloud Storage", Jurisdiction::Us)
            .with_endpoint(client.endpoint.clone())
            .with_bucket(client.bucket.clone());
        if check_bucket {
            if let Some(location) = bucket_location(&client).await? {
                info = info.with_region(location.to_ascii_lowercase());
            }
        }
        // Capabilities is non-exhaustive: start from the defaults and set what GCS does.
        let mut caps = Capabilities::default();
        caps.put_if_not_exists = true;
        caps.put_if_match = true;
        caps.get_conditions = true;
        // Generations: reads name one and listings name every one (a bucket keeps noncurrent
        // ones only where versioning is on); deleting one is not offered (see versions.rs).
        caps.versioning = true;
        caps.list_versions = true;
        caps.delete_versions = false;
        caps.copy = true;
        caps.copy_if_not_exists = true;
        caps.multipart = true;
        // Compose has no minimum part size; every part is an object of its own.
        caps.multipart_min_part_size = 1;
        caps.multipart_max_part_size = 5 * 1024 * MIB;
        caps.multipart_max_parts = multipart::MAX_PARTS;
        caps.pending_uploads = true;
        caps.max_object_size = 5 * 1024 * 1024 * MIB;
        caps.batch_delete_max = 1;
        caps.user_metadata = true;
        caps.content_type = true;
        caps.attributes = ferryboat_core::AttributeSupport::ALL;
        caps.storage_class = true;
        caps.list_etags = true;
        caps.list_seeks = true;
        caps.presign = client.signer.is_some();
        Ok(GcsStore { client: Arc::new(client), info: Arc::new(info), caps: Arc::new(caps) })
    }

    /// The bucket name.
    pub fn bucket(&self) -> &str {
        &self.client.bucket
    }
}

/// Reads the bucket: `NotFound` naming it if it is missing, its location if we may see it.
/// Attempts of the bucket probe when a store is opened, and the time they may take.
const PROBE_ATTEMPTS: u32 = 3;
const PROBE_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

async fn bucket_location(client: &Client) -> Result<Option<String>> {
    let url = &client.bucket_url();
    let bucket = &client.bucket;
    // Opening is where a wrong endpoint or a dead server shows: it must fail in about a
    // second, not after the policy's full budget, which is sized for one request in a long
    // transfer. Three attempts within five seconds still ride out a blip.
    let mut probe = client.retry.clone().with_max_attempts(client.retry.max_attempts.min(PROBE_ATTEMPTS));
    probe.max_elapsed = probe.max_elapsed.min(PROBE_WITHIN);
    let send = || async move {
        let rb = client.request(Method::GET, url, &[]).await?;
        client.send_ok(rb, bucket, OnPrecondition::Precondition).await
    };
    match probe.run(Idempotency::Idempotent, bucket, send).await {
        Ok(body) => Ok(parse_json::<BucketResource>(&body, &client.bucket)?.location),
        Err(Error::NotFound { .. }) => Err(Error::NotFound {
            provider: PROVIDER.into(),
            path: format!("bucket {}", client.bucket),
            source: None,
            details: Default::default(),
        }),
        // Object-level roles may not read bucket metadata: the store still works.
        Err(Error::PermissionDenied { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn put_result(r: &ObjectResource) -> PutResult {
    PutResult { etag: r.etag.clone(), version: r.generation.map(|g| g.to_string()) }
}

#[async_trait]
impl ObjectStore for GcsStore {
    fn info(&self) -> &StoreInfo {
        &self.info
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn put_opts(&self, path: &ObjectPath, data: Bytes, opts: PutOptions) -> Result<PutResult> {
        multipart::reject_reserved(path)?;
        let cond = self.client.write_condition(path, &opts.mode).await?;
        let r = self.client.upload(path.as_str(), data, &opts, &cond).await?;
        Ok(put_result(&r))
    }

    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        multipart::reject_reserved(path)?;
        Ok(Box::new(multipart::GcsUpload::start(self.client.clone(), path.clone(), opts).await?))
    }

    async fn get_opts(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult> {
        let name = path.as_str();
        let meta = self.client.object_resource(name, opts.version.as_deref()).await?;
        let generation = meta.generation;
        let meta = meta.into_meta()?;
        // fake-gcs-server ignores generation conditions on reads, and GCS has no etag or date
        // conditions at all: ferry evaluates them on the metadata, then pins the download to
        // the generation it checked so the body cannot come from a newer write.
        check_get(PROVIDER, &meta, &opts)?;
        let size = meta.size;
        let range = match &opts.range {
            None => 0..size,
            Some(r) => r.resolve(size).map_err(|message| Error::InvalidRange {
                provider: PROVIDER.into(),
                path: path.to_string(),
                message,
                details: Default::default(),
            })?,
        };
        if opts.head || range.is_empty() {
            let range = if opts.head { 0..0 } else { range };
            return Ok(GetResult::from_bytes(meta, range, Bytes::new()));
        }
        let mut query = vec![("alt", "media".to_string())];
        if let Some(g) = generation {
            query.push(("generation", g.to_string()));
        }
        let partial = range != (0..size);
        let (url, query, range_ref) = (&self.client.object_url(name, ""), &query, &range);
        let open = || async move {
            // Without this GCS decompresses gzip-encoded objects on the fly, and the body would
            // no longer be the `size` stored bytes (ferry copies objects as stored).
            let mut rb = self.client.request(Method::GET, url, query).await?.header(header::ACCEPT_ENCODING, "gzip");
            if partial {
                rb = rb.header(header::RANGE, format!("bytes={}-{}", range_ref.start, range_ref.end - 1));
            }
            let resp = self.client.send(rb, name).await?;
            let status = resp.status();
            if !status.is_success() {
                let body = read_error_body(resp).await;
                return Err(match status_error(status, &body, name, OnPrecondition::Precondition) {
                    // The metadata was there a moment ago: the generation we pinned was replaced.
                    Error::NotFound { .. } if generation.is_some() => {
                        Error::unavailable(PROVIDER, name, "the object was replaced or deleted while being read", None)
                    }
                    e => e,
                });
            }
            if partial && status != StatusCode::PARTIAL_CONTENT {
                return Err(Error::generic(PROVIDER, name, format!("asked for a range, got HTTP {status}"), None));
            }
            Ok(resp)
        };
        let resp = self.client.retry.run(Idempotency::Idempotent, name, open).await?;
        let owned = name.to_string();
        let body = resp.bytes_stream().map_err(move |e| transport_error(e, &owned)).boxed();
        let expected = range_len(&range);
        Ok(GetResult { meta, range, body: checked_length(body, expected, name.to_string()) })
    }

    async fn delete(&self, path: &ObjectPath) -> Result<()> {
        self.client.delete_name(path.as_str()).await
    }

    async fn delete_opts(&self, path: &ObjectPath, opts: DeleteOptions) -> Result<()> {
        match opts.version {
            None => self.client.delete_name(path.as_str()).await,
            Some(_) => Err(Error::not_supported(
                &self.info.provider,
                "deleting one generation (untested: fake-gcs-server ignores the generation on delete)",
            )),
        }
    }

    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        if opts.versions {
            return versions::list(self.client.clone(), opts);
        }
        list::list_objects(self.client.clone(), opts)
    }

    async fn list_with_delimiter(&self, prefix: Option<&ObjectPath>) -> Result<ListResult> {
        list::list_level(&self.client, prefix).await
    }

    async fn copy_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        let create = opts.mode == CopyMode::Create;
        self.rewrite(&self.client.bucket, from.as_str(), to, create, None).await.map(|_| ())
    }

    fn locate(&self, path: &ObjectPath) -> Option<ObjectLocation> {
        Some(ObjectLocation {
            service: "gcs".into(),
            endpoint: self.client.endpoint.clone(),
            account: String::new(),
            bucket: self.client.bucket.clone(),
            key: path.to_string(),
        })
    }

    /// `objects.rewrite` from any bucket of the same endpoint, with `opts`' metadata as the
    /// destination resource.
    async fn copy_from(
        &self,
        src: &dyn ObjectStore,
        from: &ObjectPath,
        to: &ObjectPath,
        opts: PutOptions,
    ) -> Result<PutResult> {
        let source = src.locate(from).filter(|l| self.locate(to).is_some_and(|h| h.same_account(l)));
        let Some(source) = source else {
            return Err(Error::not_supported(PROVIDER, "server-side copy from a store on another endpoint"));
        };
        let create = match opts.mode {
            PutMode::Overwrite => false,
            PutMode::Create => true,
            PutMode::Update(_) => return Err(Error::not_supported(PROVIDER, "conditional-update copy")),
        };
        let resource = crate::model::resource_fields(to.as_str(), &opts);
        self.rewrite(&source.bucket, &source.key, to, create, Some(resource)).await
    }

    async fn list_pending_uploads(&self, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
        multipart::list_pending(&self.client, prefix).await
    }

    async fn abort_pending_upload(&self, upload: &PendingUpload) -> Result<()> {
        multipart::abort_id(&self.client, &upload.upload_id).await
    }

    async fn presign(
        &self,
        method: PresignMethod,
        path: &ObjectPath,
        expires_in: std::time::Duration,
    ) -> Result<url::Url> {
        self.signed_url(method, path, expires_in)
    }
}

fn range_len(r: &std::ops::Range<u64>) -> u64 {
    r.end - r.start
}

/// Ends the body with an error if the connection delivers fewer or more bytes than promised,
/// so a streaming reader never mistakes a cut-off body for the whole object.
fn checked_length(
    body: BoxStream<'static, Result<Bytes>>,
    expected: u64,
    name: String,
) -> BoxStream<'static, Result<Bytes>> {
    let state = (body, 0u64, false);
    stream::unfold(state, move |(mut body, seen, done)| {
        let name = name.clone();
        async move {
            if done {
                return None;
            }
            match body.next().await {
                Some(Ok(chunk)) => {
                    let seen = seen + chunk.len() as u64;
                    if seen > expected {
                        let e = Error::Integrity {
                            provider: PROVIDER.into(),
                            path: name,
                            message: format!("body longer than the {expected} bytes announced"),
                            details: Default::default(),
                        };
                        return Some((Err(e), (body, seen, true)));
                    }
                    Some((Ok(chunk), (body, seen, false)))
                }
                Some(Err(e)) => Some((Err(e), (body, seen, true))),
                None if seen < expected => {
                    let e = Error::unavailable(
                        PROVIDER,
                        name,
                        format!("body ended after {seen} of {expected} bytes"),
                        None,
                    );
                    Some((Err(e), (body, seen, true)))
                }
                None => None,
            }
        }
    })
    .boxed()
}

impl GcsStore {
    /// `objects.rewrite` of `bucket/name` to `to`, continued until done; `resource` replaces
    /// the destination's metadata (without it the source's is kept).
    async fn rewrite(
        &self,
        bucket: &str,
        name: &str,
        to: &ObjectPath,
        create: bool,
        resource: Option<serde_json::Value>,
    ) -> Result<PutResult> {
        multipart::reject_reserved(to)?;
        let cond = create.then_some(0);
        let write = WriteCondition { if_generation_match: cond, on412: OnPrecondition::AlreadyExists };
        self.client.precheck(to.as_str(), &write).await?;
        let url = format!(
            "{}/storage/v1/b/{}/o/{}/rewriteTo/b/{}/o/{}",
            self.client.endpoint,
            crate::client::encode(bucket),
            crate::client::encode(name),
            crate::client::encode(&self.client.bucket),
            crate::client::encode(to.as_str())
        );
        let mut token: Option<String> = None;
        // Large or cross-location copies come back unfinished with a token to continue.
        for _ in 0..10_000 {
            let mut query = Vec::new();
            if let Some(g) = cond {
                query.push(("ifGenerationMatch", g.to_string()));
            }
            if let Some(t) = &token {
                query.push(("rewriteToken", t.clone()));
            }
            let (url, query, resource) = (&url, &query, &resource);
            let send = || async move {
                let rb = self.client.request(Method::POST, url, query).await?;
                let rb = match resource {
                    Some(r) => rb.header(header::CONTENT_TYPE, "application/json").body(r.to_string()),
                    None => rb.header(header::CONTENT_LENGTH, 0),
                };
                let resp = self.client.send(rb, name).await?;
                let status = resp.status();
                if !status.is_success() {
                    let body = read_error_body(resp).await;
                    return Err(match status.as_u16() {
                        404 => Error::not_found(PROVIDER, name),
                        _ => status_error(status, &body, to.as_str(), OnPrecondition::AlreadyExists),
                    });
                }
                read_document(resp, name).await
            };
            // A create-only rewrite whose answer was lost would fail its own condition when
            // sent again: that one is sent once.
            let idempotency = if create { Idempotency::NotIdempotent } else { Idempotency::Idempotent };
            let body = self.client.retry.run(idempotency, name, send).await?;
            let r: RewriteResponse = parse_json(&body, to.as_str())?;
            if r.done {
                return Ok(r.resource.as_ref().map(put_result).unwrap_or_default());
            }
            token = match r.rewrite_token {
                Some(t) => Some(t),
                None => return Err(Error::generic(PROVIDER, to.as_str(), "unfinished rewrite without a token", None)),
            };
        }
        Err(Error::unavailable(PROVIDER, to.as_str(), "rewrite did not finish", None))
    }
}
