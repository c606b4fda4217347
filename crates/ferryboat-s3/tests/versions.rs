//! Versioned buckets (moto): writes report the new version id, and a read can name an older
//! version (`GetOptions::version`), which is what `Capabilities::versioning` promises.

mod support;

use bytes::Bytes;
use ferryboat_core::{GetOptions, ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_testkit::emulators;
use support::{config, emulator_quirks, fresh_bucket, open};

#[tokio::test]
async fn a_read_can_name_an_older_version() {
    let Some(emu) = emulators::moto() else {
        return emulators::skip("a_read_can_name_an_older_version", "moto is not available");
    };
    let bucket = fresh_bucket("versions");
    // The catalogue's `versioning` quirk is what turns the capability on.
    let quirks = ferryboat_providers::Quirks { versioning: true, ..emulator_quirks(&emu) };
    let store = open(&emu, config(&emu, &bucket, "aws", quirks)).await;
    assert!(store.capabilities().versioning);
    let on = aws_sdk_s3::types::VersioningConfiguration::builder()
        .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
        .build();
    store.client().put_bucket_versioning().bucket(&bucket).versioning_configuration(on).send().await.unwrap();

    let key = ObjectPath::parse("ledger.csv").unwrap();
    let first = store.put(&key, Bytes::from_static(b"v1")).await.unwrap();
    let second = store.put(&key, Bytes::from_static(b"v2")).await.unwrap();
    let (v1, v2) = (first.version.expect("a version id"), second.version.expect("a version id"));
    assert_ne!(v1, v2);

    let old = store.get_opts(&key, GetOptions { version: Some(v1.clone()), ..Default::default() }).await.unwrap();
    assert_eq!(old.meta.version.as_deref(), Some(v1.as_str()));
    assert_eq!(old.bytes().await.unwrap(), "v1");
    let current = store.get(&key).await.unwrap();
    assert_eq!(current.meta.version.as_deref(), Some(v2.as_str()));
    assert_eq!(current.bytes().await.unwrap(), "v2");
}
