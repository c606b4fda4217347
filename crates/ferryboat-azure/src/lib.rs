//! # ferryboat-azure
//!
//! Azure Blob Storage as a ferry [`ObjectStore`](ferryboat_core::ObjectStore): block blobs in one
//! container, with
//!
//! - credentials the way Azure users keep them: account key, SAS token, connection string,
//!   bearer token, or Microsoft Entra ID (client secret, workload identity, managed
//!   identity, Azure CLI) — see [`AzureConfig::from_env`]; secrets never appear in `Debug`
//!   output or errors;
//! - URLs: `az://container/prefix`, `azure://account/container/prefix`,
//!   `https://ACCOUNT.blob.core.windows.net/container/prefix` (optionally with a SAS query),
//!   and Azurite's `http://127.0.0.1:PORT/devstoreaccount1/container/prefix` ([`open_url`]);
//! - conditional writes (`Create` → `If-None-Match: *`, `Update` → `If-Match`), for staged
//!   uploads too; conditional and ranged reads; server-side copy and copy-if-not-exists;
//! - listings in key order, streamed page by page; batch deletes (256 keys per request);
//! - staged uploads of up to 50,000 blocks, committed with their content type, metadata and
//!   access tier (`PutOptions::storage_class`: `Hot`, `Cool`, `Cold`, `Archive`);
//! - SAS URLs for one blob ([`AzureStore::signed_url`]).
//!
//! Requests are made by the `object_store` crate's Azure client; see `docs/azure.md` for why
//! and for what Azure does differently from S3.
#![warn(missing_docs)]

mod client;
mod config;
mod copy;
mod error;
mod limits;
mod list;
mod metadata;
mod multipart;
mod options;
mod presign;
mod store;
mod url;

pub use config::{
    AzureConfig, AzureCredentials, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RETRIES, DEFAULT_READ_TIMEOUT,
    DEFAULT_RETRY_TIMEOUT, EMULATOR_ACCOUNT, EMULATOR_KEY,
};
#[doc(hidden)]
pub use error::parse_error_document;
pub use limits::{MAX_DOCUMENT, MAX_ERROR_BODY};
pub use options::{AzureConfigKey, AzureOptions};
pub use store::AzureStore;
pub use url::{
    open_partner_url, open_partner_url_with, open_url, open_url_with, parse_partner_url, parse_partner_url_with,
    parse_url, parse_url_with, Partner,
};
