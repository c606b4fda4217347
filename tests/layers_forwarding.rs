//! Every layer forwards what it does not change: through each one, over S3 (moto, which
//! batches deletes a thousand keys at a time), a batch delete arrives as one batch, a rename
//! as one rename, a listing as one listing, a presign as one presign, a versions listing
//! and a version delete as one call each, in a versioned bucket
//! (`ferryboat_testkit::forwarding`). Every wrapper also carries
//! `#[deny(clippy::missing_trait_methods)]`, so a trait method added later that a layer
//! forgets is a build error; this test proves the forwarding does what it should.

#![cfg(all(feature = "s3", feature = "encrypt", feature = "compat"))]

mod common;

use std::sync::Arc;

use ferryboat::compat::{AsObjectStore, AsOpendal, FromObjectStore, FromOperator};
use ferryboat::encrypt::{EncryptConfig, EncryptedStore, LocalKey};
use ferryboat::layers::{
    ConcurrencyLimit, FaultConfig, FaultStore, HookStore, JurisdictionPolicy, Observe, Replicated, RetryConfig,
    RetryStore, Timeout, WriteMode,
};
use ferryboat::memory::MemoryStore;
use ferryboat::prefix::PrefixStore;
use ferryboat::{ObjectPath, ObjectStore};
use ferryboat_testkit::emulators::{self, skip};
use ferryboat_testkit::forwarding::{check, Expect};

type Store = Arc<dyn ObjectStore>;
/// A layer's name, how to put it over a store, and what it forwards.
type Layer = (&'static str, Box<dyn FnOnce(Store) -> Store>, Expect);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_layer_forwards_batch_deletes_renames_listings_presigning_and_versions() {
    let Some(moto) = emulators::moto() else { return skip("every_layer_forwards", "moto is not available") };
    let bucket = common::s3_bucket(&moto, "forwarding").await.1;
    // Versioned, so a versions listing and a version delete have something to carry.
    bucket.enable_versioning().await.expect("versioning on");
    let base: Store = bucket;
    let here = base.info().jurisdiction.clone();
    let sealed = |s: Store| -> Store {
        Arc::new(EncryptedStore::new(s, Arc::new(LocalKey::from_bytes([7; 32])), EncryptConfig::default()).unwrap())
    };
    let layers: Vec<Layer> = vec![
        ("Timeout", Box::new(|s| Arc::new(HookStore::new(s, Timeout::default()))), Expect::default()),
        ("ConcurrencyLimit", Box::new(|s| Arc::new(HookStore::new(s, ConcurrencyLimit::new(2)))), Expect::default()),
        ("Observe", Box::new(|s| Arc::new(HookStore::new(s, Observe))), Expect::default()),
        (
            "JurisdictionPolicy",
            Box::new(move |s| Arc::new(HookStore::new(s, JurisdictionPolicy::allow([here])))),
            Expect::default(),
        ),
        (
            "FaultStore (no faults)",
            Box::new(|s| Arc::new(FaultStore::new(s, FaultConfig::errors(0.0, 1)))),
            Expect::default(),
        ),
        ("RetryStore", Box::new(|s| Arc::new(RetryStore::new(s, RetryConfig::default()))), Expect::default()),
        (
            "Replicated (primary only)",
            Box::new(|s| Arc::new(Replicated::new(s, vec![Arc::new(MemoryStore::new())], WriteMode::PrimaryOnly))),
            Expect::default(),
        ),
        (
            "Replicated (all replicas)",
            Box::new(|s| Arc::new(Replicated::new(s, vec![Arc::new(MemoryStore::new())], WriteMode::AllReplicas))),
            // A version id names a version of the primary alone: deleting one would leave
            // the replicas behind.
            Expect { delete_versions: false, ..Expect::default() },
        ),
        (
            "PrefixStore",
            Box::new(|s| Arc::new(PrefixStore::new(s, ObjectPath::parse("view").unwrap()))),
            Expect::default(),
        ),
        // A renamed object is re-encrypted (its chunks are bound to its key); ciphertext is
        // never handed out through a signed URL.
        ("EncryptedStore", Box::new(sealed), Expect { rename: false, presign: false, ..Expect::default() }),
        (
            "ferry → object_store → ferry",
            Box::new(|s| {
                // A ferry store lists in key order: the bridge may use its native listing.
                Arc::new(FromObjectStore::new(Arc::new(AsObjectStore::new(s))).with_sorted_listing(true))
            }),
            // object_store signs through a `Signer` trait its `dyn ObjectStore` hides, and
            // has no versions listing or version delete.
            Expect { rename: true, presign: false, list_versions: false, delete_versions: false },
        ),
        (
            "ferry → OpenDAL → ferry",
            Box::new(|s| {
                let op = opendal::Operator::new(AsOpendal::new(s)).unwrap();
                Arc::new(FromOperator::new(op).with_sorted_listing(true))
            }),
            // OpenDAL's rename promises a cheap one, which S3 lacks: the bridge copies and
            // deletes, as S3 itself would.
            // Deletes carry OpenDAL's version; its version listing is not read by the bridge.
            Expect { rename: false, presign: true, list_versions: false, delete_versions: true },
        ),
    ];
    for (i, (name, wrap, expect)) in layers.into_iter().enumerate() {
        check(name, base.clone(), &format!("forwarding/{i}"), wrap, expect).await;
    }
}
