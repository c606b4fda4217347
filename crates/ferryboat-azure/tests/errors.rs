//! Failures a user meets first: a wrong key, a missing container; and no secret in sight.

mod common;

use ferryboat_azure::AzureStore;
use ferryboat_core::{ErrorKind, ObjectPath, ObjectStore, ObjectStoreExt, PutMode};
use futures::{StreamExt, TryStreamExt};

/// A valid base64 key that is not the account's.
const WRONG_KEY: &str = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ==";

#[tokio::test]
async fn a_wrong_key_is_unauthenticated_everywhere_and_never_printed() {
    let test = "a_wrong_key_is_unauthenticated_everywhere_and_never_printed";
    let Some(good) = common::fresh_store(test).await else { return };
    let Some(emu) = common::azurite(test) else { return };
    let key = ObjectPath::parse("k").unwrap();
    good.put(&key, "v".into()).await.unwrap();

    let bad = AzureStore::new(common::config(&emu, good.config().container()).with_access_key(WRONG_KEY)).unwrap();
    let mut errors = vec![
        ("put", bad.put(&key, "x".into()).await.unwrap_err()),
        ("get", bad.get(&key).await.unwrap_err()),
        ("head", bad.head(&key).await.unwrap_err()),
        ("list", bad.list(None).try_collect::<Vec<_>>().await.unwrap_err()),
        ("delete", bad.delete(&key).await.unwrap_err()),
    ];
    // The block list is committed by a request of ours, signed by object_store's authoriser.
    let upload = bad.put_multipart(&key).await.unwrap();
    errors.push(("multipart part", upload.put_part(1, "x".into()).await.unwrap_err()));
    errors.push(("create container", bad.create_container().await.unwrap_err()));
    for (what, e) in &errors {
        assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{what}: {e}");
        let text = format!("{e} {e:?}");
        assert!(!text.contains(WRONG_KEY) && !text.contains(&emu.key), "{what}: a key leaked: {text}");
    }
    assert!(!format!("{bad:?}").contains(WRONG_KEY), "{bad:?}");
    // Nothing was changed by the refused requests.
    assert_eq!(good.get(&key).await.unwrap().bytes().await.unwrap(), "v");
}

#[tokio::test]
async fn a_missing_container_is_not_found_naming_it() {
    let test = "a_missing_container_is_not_found_naming_it";
    let Some(emu) = common::azurite(test) else { return };
    let container = common::container_name("never-created");
    let store = AzureStore::new(common::config(&emu, &container)).unwrap();
    let key = ObjectPath::parse("a/b.txt").unwrap();
    let other = ObjectPath::parse("c.txt").unwrap();

    let upload = store.put_multipart(&key).await.unwrap();
    let staged = upload.put_part(1, "x".into()).await;
    let errors = vec![
        ("put", store.put(&key, "x".into()).await.unwrap_err()),
        ("put create", store.put_opts(&key, "x".into(), PutMode::Create.into()).await.unwrap_err()),
        ("get", store.get(&key).await.unwrap_err()),
        ("head", store.head(&key).await.unwrap_err()),
        ("delete", store.delete(&key).await.unwrap_err()),
        ("list", store.list(None).try_collect::<Vec<_>>().await.unwrap_err()),
        ("list_with_delimiter", store.list_with_delimiter(None).await.unwrap_err()),
        ("copy", store.copy(&key, &other).await.unwrap_err()),
        ("multipart part", staged.unwrap_err()),
    ];
    let batch: Vec<_> =
        store.delete_stream(futures::stream::iter([Ok(key.clone()), Ok(other.clone())]).boxed()).collect().await;
    assert_eq!(batch.len(), 2, "{batch:?}");
    let mut errors = errors;
    for r in batch {
        errors.push(("batch delete", r.unwrap_err()));
    }
    for (what, e) in errors {
        assert_eq!(e.kind(), ErrorKind::NotFound, "{what}: {e}");
        assert_eq!(e.path(), Some(container.as_str()), "{what}: the error should name the container: {e}");
        assert!(e.to_string().contains(&container), "{what}: {e}");
    }
    // `delete` of a missing key succeeds only when the container exists.
    store.create_container().await.unwrap();
    store.delete(&key).await.unwrap();
    let again = store.create_container().await.unwrap_err();
    assert_eq!((again.kind(), again.path()), (ErrorKind::AlreadyExists, Some(container.as_str())));
}

#[tokio::test]
async fn info_and_capabilities_say_what_azure_is() {
    let Some(store) = common::fresh_store("info_and_capabilities_say_what_azure_is").await else { return };
    let info = store.info();
    assert_eq!((info.provider.as_str(), info.provider_name.as_str()), ("azure", "Microsoft Azure"));
    assert_eq!(info.jurisdiction, ferryboat_core::Jurisdiction::Us);
    assert!(info.cloud_act);
    assert_eq!(info.bucket.as_deref(), Some(store.config().container()));
    let caps = store.capabilities();
    assert!(caps.put_if_not_exists && caps.put_if_match && caps.copy_if_not_exists && caps.get_conditions);
    assert_eq!((caps.multipart_max_parts, caps.batch_delete_max), (50_000, 256));
    assert!(caps.presign, "an account key can sign SAS URLs");
}

#[tokio::test]
async fn errors_keep_the_status_and_azures_code() {
    let test = "errors_keep_the_status_and_azures_code";
    let Some(store) = common::fresh_store(test).await else { return };
    let missing = ObjectPath::parse("not/here").unwrap();
    let err = store.get(&missing).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err:?}");
    assert_eq!((err.status(), err.code()), (Some(404), Some("BlobNotFound")), "{err:?}");
    assert!(!err.is_retryable() && !err.is_throttled(), "{err:?}");
    // A request of ours (Create Container) reads the code Azure sends.
    let again = store.create_container().await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::AlreadyExists, "{again:?}");
    assert_eq!((again.status(), again.code()), (Some(409), Some("ContainerAlreadyExists")), "{again:?}");
}
