//! Server-side copies from another container of the same storage account (Copy Blob).

use std::time::Duration;

use bytes::Bytes;
use ferryboat_core::{Error, ObjectLocation, ObjectPath, ObjectStore, PutMode, PutOptions, PutResult, Result};
use http::header::{HeaderName, IF_NONE_MATCH};
use http::Method;

use crate::client::check_put_options;
use crate::config::AzureCredentials;
use crate::error::PROVIDER;
use crate::metadata;
use crate::store::AzureStore;

/// How long a pending copy is waited for (a copy within one account is normally done at once).
const COPY_WAIT: Duration = Duration::from_secs(600);

impl AzureStore {
    /// Where `path` lives: the account's endpoint, the account and the container.
    pub(crate) fn location(&self, path: &ObjectPath) -> Option<ObjectLocation> {
        let mut account_url = self.inner.container_url.clone();
        account_url.path_segments_mut().ok()?.pop();
        Some(ObjectLocation {
            service: "azure".into(),
            endpoint: account_url.as_str().trim_end_matches('/').to_string(),
            account: self.inner.config.account.clone(),
            bucket: self.inner.config.container.clone(),
            key: path.to_string(),
        })
    }

    /// Copy Blob from a container of the same account. Metadata and access tier are `opts`';
    /// content type and the other properties are the source's (Copy Blob keeps them), which
    /// is what a mirror, whose options come from the source, asks for.
    pub(crate) async fn copy_blob_from(
        &self,
        src: &dyn ObjectStore,
        from: &ObjectPath,
        to: &ObjectPath,
        opts: PutOptions,
    ) -> Result<PutResult> {
        let source = src.locate(from).filter(|l| self.location(to).is_some_and(|h| h.same_account(l)));
        let Some(source) = source else {
            return Err(Error::not_supported(PROVIDER, "server-side copy from another storage account"));
        };
        // The source URL is authorised by the same signature only with the account key.
        if !matches!(self.inner.config.credentials, AzureCredentials::AccessKey(_)) {
            return Err(Error::not_supported(PROVIDER, "server-side copy without the account key"));
        }
        check_put_options(&opts)?;
        if matches!(opts.mode, PutMode::Update(_)) {
            return Err(Error::not_supported(PROVIDER, "conditional-update copy"));
        }
        let mut source_url = self.inner.container_url.clone();
        source_url
            .path_segments_mut()
            .map_err(|_| Error::invalid_config("the Azure endpoint cannot take a path"))?
            .pop()
            .push(&source.bucket)
            .extend(source.key.split('/'));
        let header = |name: &str, value: &str| -> Result<(HeaderName, String)> {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::invalid_config(format!("invalid header name {name:?}")))?;
            Ok((name, value.to_owned()))
        };
        let mut headers = vec![header("x-ms-copy-source", source_url.as_str())?];
        for (k, v) in &opts.metadata {
            headers.push(header(&format!("x-ms-meta-{}", metadata::encode(k)), v)?);
        }
        if let Some(tier) = &opts.storage_class {
            headers.push(header("x-ms-access-tier", tier)?);
        }
        if opts.mode == PutMode::Create {
            headers.push((IF_NONE_MATCH, "*".to_owned()));
        }
        let url = self.inner.blob_url(to, &[])?;
        let answer = self.inner.send(Method::PUT, url.clone(), headers, Bytes::new(), to.as_str()).await.map_err(
            |e| match e {
                Error::Precondition { provider, .. } if opts.mode == PutMode::Create => {
                    Error::AlreadyExists { provider, path: to.to_string(), details: Default::default() }
                }
                other => other,
            },
        )?;
        let text = |h: &http::HeaderMap, name: &str| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let mut status = text(&answer.headers, "x-ms-copy-status");
        let mut etag = text(&answer.headers, "etag");
        let started = tokio::time::Instant::now();
        while status.as_deref() == Some("pending") && started.elapsed() < COPY_WAIT {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let props = self.inner.send(Method::HEAD, url.clone(), Vec::new(), Bytes::new(), to.as_str()).await?;
            status = text(&props.headers, "x-ms-copy-status");
            etag = text(&props.headers, "etag");
        }
        match status.as_deref() {
            Some("success") | None => Ok(PutResult {
                etag: etag.map(|e| e.trim_matches('"').to_owned()),
                version: text(&answer.headers, "x-ms-version-id"),
            }),
            Some(other) => {
                Err(Error::generic(PROVIDER, to.as_str(), format!("Copy Blob ended with status {other}"), None))
            }
        }
    }
}
