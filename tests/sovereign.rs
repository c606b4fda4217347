//! The sovereign offers open with one URL each: `s3ns://` on the GCS backend, `bleu://` and
//! `delos://` on the Azure backend, `aws-eusc://` on the S3 backend — each pointed at a local
//! emulator, since only 127.0.0.1 is reached from tests.

mod common;

use common::{create_gcs_bucket, unique};
use ferryboat::azure::{AzureConfig, AzureStore};
use ferryboat::{Error, Jurisdiction, ObjectPath, ObjectStoreExt};
use ferryboat_testkit::emulators;

#[test]
fn every_sovereign_scheme_is_listed() {
    let schemes = ferryboat::supported_schemes();
    for s in ["s3ns", "bleu", "delos", "aws-eusc", "otc"] {
        assert!(schemes.iter().any(|x| x == s), "{s} missing from {schemes:?}");
    }
}

#[tokio::test]
async fn s3ns_opens_on_the_gcs_backend() {
    let Some(gcs) = emulators::fake_gcs() else {
        return emulators::skip("s3ns_opens_on_the_gcs_backend", "fake-gcs-server not running");
    };
    let bucket = unique("s3ns");
    create_gcs_bucket(&gcs.endpoint, &bucket);
    let store = ferryboat::open(&format!("s3ns://{bucket}/exit?endpoint={}", gcs.endpoint)).await.unwrap();
    store.put(&ObjectPath::parse("a.txt").unwrap(), "x".into()).await.unwrap();
    let info = store.info();
    assert_eq!(info.provider, "s3ns");
    assert_eq!(info.jurisdiction, Jurisdiction::Eu);
    assert!(!info.cloud_act);
    let plain = ferryboat::open(&format!("gs://{bucket}/exit?endpoint={}", gcs.endpoint)).await.unwrap();
    assert_eq!(plain.get(&ObjectPath::parse("a.txt").unwrap()).await.unwrap().bytes().await.unwrap(), "x");
    assert_eq!(plain.info().provider, "gcs", "the same data through gs:// is described as Google's");
}

#[tokio::test]
async fn bleu_and_delos_open_on_the_azure_backend() {
    let Some(az) = emulators::azurite() else {
        return emulators::skip("bleu_and_delos_open_on_the_azure_backend", "Azurite not running");
    };
    let container = unique("sovereign").replace('_', "-");
    let plain =
        AzureStore::new(AzureConfig::new(&az.account, &container).with_endpoint(&az.endpoint).with_access_key(&az.key))
            .unwrap();
    plain.create_container().await.unwrap();
    for id in ["bleu", "delos"] {
        let url = format!("{id}://{}/{container}/{id}?endpoint={}", az.account, az.endpoint);
        let store = ferryboat::open(&url).await.unwrap();
        store.put(&ObjectPath::parse("a.txt").unwrap(), id.into()).await.unwrap();
        assert_eq!(store.info().provider, id);
        assert_eq!(store.info().jurisdiction, Jurisdiction::Eu);
        let got = plain.get(&ObjectPath::parse(format!("{id}/a.txt")).unwrap()).await.unwrap();
        assert_eq!(got.bytes().await.unwrap(), id);
    }
    // Without a suffix or an endpoint the URL cannot be opened, and says why.
    let err = ferryboat::open("bleu://acme/logs").await.unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }) && err.to_string().contains("endpoint_suffix"), "{err}");
}

#[tokio::test]
async fn aws_eusc_opens_on_the_s3_backend_and_s3_refuses_the_others() {
    let Some(moto) = emulators::moto() else {
        return emulators::skip("aws_eusc_opens_on_the_s3_backend_and_s3_refuses_the_others", "moto not running");
    };
    std::env::set_var("AWS_ACCESS_KEY_ID", "test");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
    let url = format!("aws-eusc://eusc-bucket?endpoint={}&region=eusc-de-east-1&path_style=true", moto.endpoint);
    let store = ferryboat::open(&url).await.unwrap();
    assert_eq!(store.info().provider, "aws-eusc");
    assert_eq!(store.info().jurisdiction, Jurisdiction::Eu);
    assert!(store.info().cloud_act, "an EU operator of a US parent: the conservative answer");
    let err = ferryboat::open(&format!("s3://b?provider=s3ns&endpoint={}", moto.endpoint)).await.unwrap_err();
    assert!(err.to_string().contains("does not speak S3"), "{err}");
}
