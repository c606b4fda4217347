//! The conformance suite: the promises of [`ObjectStore`] as executable checks.
//!
//! Every backend and every layer runs [`run_all`] from its own tests; a third-party backend
//! can do the same. [`BEHAVIOURS`] is the one list of what the suite checks; each behaviour
//! is also a public function returning an [`Outcome`], so a backend under construction can
//! run the ones it already keeps, and [`run_except`] runs all but a named few.
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
mod versions;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use ferryboat_core::ObjectStore;
use futures::future::LocalBoxFuture;
use futures::FutureExt;

pub use awkward::{awkward_corpus, awkward_keys, awkward_keys_except, body as awkward_body, AwkwardKey, AwkwardResult};
pub use conditional::{concurrent_create, conditional_get, conditional_put};
pub use copy_delete::{batch_delete, copy, copy_if_not_exists, rename};
pub use list::{list_delimiter, list_offset, list_order, list_pagination, list_prefix_is_directory};
pub use multipart::{multipart, multipart_aborted, put_stream_multipart};
pub use paths::invalid_paths;
pub use read_write::{head_and_missing, metadata, ranges, round_trip};
pub use versions::versions;

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

/// One behaviour of the suite, as a function pointer (see [`BEHAVIOURS`]).
pub type Behaviour = for<'a> fn(&'a Arc<dyn ObjectStore>) -> LocalBoxFuture<'a, Outcome>;

macro_rules! behaviours {
    ($($behaviour:ident),* $(,)?) => {
        /// Every behaviour of the suite, by name, in the order [`run_all`] runs them: the one
        /// list of what the suite checks.
        pub const BEHAVIOURS: &[(&str, Behaviour)] = &[
            $( (stringify!($behaviour), |store| Box::pin($behaviour(store))), )*
        ];
    };
}

behaviours!(
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
    versions,
);

/// How each behaviour of one run ended.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct SuiteReport {
    /// The provider the store reported.
    pub provider: String,
    /// Each behaviour run, by name: its outcome, or the failure's message.
    pub results: Vec<(&'static str, Result<Outcome, String>)>,
}

impl SuiteReport {
    /// The behaviours that failed, with their messages.
    pub fn failures(&self) -> Vec<(&'static str, &str)> {
        self.results.iter().filter_map(|(name, r)| r.as_ref().err().map(|m| (*name, m.as_str()))).collect()
    }

    /// Panics naming every failed behaviour and why, if any failed.
    pub fn assert_passed(&self) {
        let failures = self.failures();
        if !failures.is_empty() {
            let list: Vec<String> = failures.iter().map(|(name, message)| format!("- {name}: {message}")).collect();
            panic!(
                "conformance {}: {} of {} behaviours failed:\n{}",
                self.provider,
                failures.len(),
                self.results.len(),
                list.join("\n")
            );
        }
    }
}

/// Runs every behaviour; panics at the end naming every one that failed (not only the first).
///
/// Prints one line per behaviour: `conformance <provider>: <behaviour> ... ok`, or
/// `... NOT RUN (<reason>)`, or `... FAILED: <message>`.
pub async fn run_all(store: &Arc<dyn ObjectStore>) {
    run_except(store, &[]).await.assert_passed();
}

/// Runs every behaviour but those named in `skip` (each must be a name in [`BEHAVIOURS`]),
/// catching each failure, and returns how each ended. For a store with a known, documented
/// defect in one behaviour; the caller decides what counts as passing.
pub async fn run_except(store: &Arc<dyn ObjectStore>, skip: &[&str]) -> SuiteReport {
    for name in skip {
        assert!(BEHAVIOURS.iter().any(|(n, _)| n == name), "run_except: no behaviour is called {name:?}");
    }
    let provider = store.info().provider.clone();
    let mut report = SuiteReport { provider: provider.clone(), results: Vec::new() };
    for (name, behaviour) in BEHAVIOURS.iter().filter(|(n, _)| !skip.contains(n)) {
        let result = match AssertUnwindSafe(behaviour(store)).catch_unwind().await {
            Ok(Outcome::Passed) => {
                println!("conformance {provider}: {name} ... ok");
                Ok(Outcome::Passed)
            }
            Ok(Outcome::NotRun(reason)) => {
                println!("conformance {provider}: {name} ... NOT RUN ({reason})");
                Ok(Outcome::NotRun(reason))
            }
            Err(panic) => {
                let message = panic_message(panic.as_ref());
                println!("conformance {provider}: {name} ... FAILED: {message}");
                Err(message)
            }
        };
        report.results.push((name, result));
    }
    report
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panicked with a non-text payload".to_string())
}
