//! Jurisdiction policy: refuse to write where the law would let someone else read.

use futures::future::BoxFuture;
use futures::FutureExt;

use super::hook::{Hook, Op};
use crate::error::{Error, Result};
use crate::info::{Jurisdiction, StoreInfo};

/// A hook that refuses writes (puts, copies, deletes, multipart parts) to a store outside
/// the jurisdictions a user allows — before a byte leaves — with
/// [`Error::PolicyViolation`] naming the provider and its jurisdiction. Reads are always
/// allowed: reading out of a store is how one leaves it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::sync::Arc;
/// use ferryboat_core::layers::{HookStore, JurisdictionPolicy};
/// use ferryboat_core::{memory::MemoryStore, Jurisdiction, ObjectPath, ObjectStoreExt};
///
/// let policy = JurisdictionPolicy::allow([Jurisdiction::Eu, Jurisdiction::Ch]);
/// let store = HookStore::new(Arc::new(MemoryStore::new()), policy); // memory is SELF: refused
/// let err = store.put(&ObjectPath::parse("a").unwrap(), "x".into()).await.unwrap_err();
/// assert!(err.to_string().contains("SELF"));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct JurisdictionPolicy {
    allowed: Vec<Jurisdiction>,
    deny_cloud_act: bool,
    unless_encrypted: bool,
}

impl JurisdictionPolicy {
    /// Allows writes only to stores under one of `allowed`.
    pub fn allow(allowed: impl IntoIterator<Item = Jurisdiction>) -> Self {
        JurisdictionPolicy { allowed: allowed.into_iter().collect(), deny_cloud_act: false, unless_encrypted: false }
    }

    /// Also refuses stores the US CLOUD Act reaches, whatever their jurisdiction (a US
    /// provider's EU subsidiary, say).
    pub fn deny_cloud_act(mut self) -> Self {
        self.deny_cloud_act = true;
        self
    }

    /// Lets writes through anyway when a client-side encryption layer sits below this one
    /// (the provider only ever holds ciphertext).
    pub fn unless_encrypted(mut self) -> Self {
        self.unless_encrypted = true;
        self
    }

    /// Why a write to `store` is refused, or `None` if it is allowed: the store itself and
    /// every store a write to it also reaches ([`StoreInfo::also_writes_to`]) must be allowed.
    pub fn refusal(&self, store: &StoreInfo) -> Option<String> {
        if self.unless_encrypted && store.client_encrypted {
            return None;
        }
        if let Some(reason) = self.refusal_of_one(store) {
            return Some(reason);
        }
        store.also_writes_to.iter().find_map(|other| self.refusal(other).map(|r| format!("a write also reaches {r}")))
    }

    /// Refuses, when it is built, a stack whose writes could reach a store outside the
    /// policy: call it on the store the policy is about to wrap.
    pub fn check(&self, store: &dyn crate::store::ObjectStore) -> Result<()> {
        match self.refusal(store.info()) {
            Some(reason) => Err(Error::PolicyViolation {
                provider: store.info().provider.clone(),
                message: reason,
                details: Default::default(),
            }),
            None => Ok(()),
        }
    }

    fn refusal_of_one(&self, store: &StoreInfo) -> Option<String> {
        let allowed = self.allowed.iter().map(|j| j.code()).collect::<Vec<_>>().join(", ");
        let who = format!("{} ({})", store.provider_name, store.provider);
        if !self.allowed.contains(&store.jurisdiction) {
            return Some(format!(
                "{who} is under {} jurisdiction; the policy allows writes only under {allowed}",
                store.jurisdiction
            ));
        }
        if self.deny_cloud_act && store.cloud_act {
            return Some(format!("{who} is reached by the US CLOUD Act; the policy refuses such stores"));
        }
        None
    }
}

impl Hook for JurisdictionPolicy {
    fn around<'a, T: Send + 'a>(
        &'a self,
        store: &'a StoreInfo,
        op: Op<'a>,
        request: BoxFuture<'a, Result<T>>,
    ) -> BoxFuture<'a, Result<T>> {
        let refusal = if op.is_write() { self.refusal(store) } else { None };
        match refusal {
            // The request future is dropped unpolled: nothing was sent.
            Some(reason) => {
                let e = Error::PolicyViolation {
                    provider: store.provider.clone(),
                    message: format!("{} {:?} refused: {reason}", op.name, op.path),
                    details: Default::default(),
                };
                async move { Err(e) }.boxed()
            }
            None => request,
        }
    }
}
