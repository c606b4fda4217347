//! The conformance suite: the promises of [`ObjectStore`] as executable checks.
//!
//! Every backend and every layer runs [`run_all`] from its own tests; a third-party backend
//! can do the same. Each behaviour is also a public function returning an [`Outcome`], so a
//! backend under construction can run the ones it already keeps.
//!
//! Rules every behaviour follows:
//! - it works under its own prefix `conformance/<behaviour>/`, removes what it finds there
//!   first (left over from a failed run) and cleans up after itself, so one store (bucket,
//!   container, directory) dedicated to the suite is enough;
//! - a feature the store lacks by its [`Capabilities`](ferryboat_core::Capabilities) is reported
//!   as [`Outcome::NotRun`] with the reason, never passed silently;
//! - a failure panics with what was expected and what came back;
//! - content is deterministic (a fixed-seed generator), so a failure reproduces.
//!
//! ```no_run
//! # async fn demo() {
//! use std::sync::Arc;
//! use ferryboat_core::{memory::MemoryStore, ObjectStore};
//! let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
//! ferryboat_testkit::suite::run_all(&store).await;
//! # }
//! ```

mod awkward;
mod conditional;
mod copy_delete;
mod list;
mod multipart;
mod paths;
mod read_write;
mod support;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use ferryboat_core::ObjectStore;
use futures::FutureExt;

pub use awkward::{awkward_corpus, awkward_keys, awkward_keys_except, body as awkward_body, AwkwardKey, AwkwardResult};
pub use conditional::{concurrent_create, conditional_get, conditional_put};
pub use copy_delete::{batch_delete, copy, copy_if_not_exists, rename};
pub use list::{list_delimiter, list_offset, list_order, list_pagination, list_prefix_is_directory};
pub use multipart::{multipart, multipart_aborted, put_stream_multipart};
pub use paths::invalid_paths;
pub use read_write::{head_and_missing, metadata, ranges, round_trip};

/// What running one behaviour found. A failure is a panic, not an outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Outcome {
    /// Every check held.
    Passed,
    /// The store does not claim the feature (by its capabilities): the reason why.
    NotRun(String),
}

impl Outcome {
    fn not_run(reason: impl Into<String>) -> Self {
        Outcome::NotRun(reason.into())
    }
}

/// Runs every behaviour in order; panics with a clear message on the first failure.
///
/// Prints one line per behaviour: `conformance <provider>: <behaviour> ... ok`, or
/// `... NOT RUN (<reason>)`, or `... FAILED` before the panic goes on.
pub async fn run_all(store: &Arc<dyn ObjectStore>) {
    let provider = store.info().provider.clone();
    macro_rules! run {
        ($($behaviour:ident),* $(,)?) => {
            $( report(&provider, stringify!($behaviour), $behaviour(store)).await; )*
        };
    }
    run!(
        invalid_paths,
        round_trip,
        ranges,
        head_and_missing,
        metadata,
        list_order,
        list_delimiter,
        list_offset,
        list_prefix_is_directory,
        list_pagination,
        batch_delete,
        copy,
        copy_if_not_exists,
        rename,
        conditional_put,
        conditional_get,
        concurrent_create,
        multipart,
        multipart_aborted,
        put_stream_multipart,
    );
}

async fn report(provider: &str, name: &str, behaviour: impl Future<Output = Outcome>) {
    match AssertUnwindSafe(behaviour).catch_unwind().await {
        Ok(Outcome::Passed) => println!("conformance {provider}: {name} ... ok"),
        Ok(Outcome::NotRun(reason)) => println!("conformance {provider}: {name} ... NOT RUN ({reason})"),
        Err(panic) => {
            println!("conformance {provider}: {name} ... FAILED");
            std::panic::resume_unwind(panic);
        }
    }
}
