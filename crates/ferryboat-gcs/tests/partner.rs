//! A partner's universe (S3NS's `s3nsapis.fr`): the URLs it builds, the keys it accepts, and
//! a store opened by its own scheme on the wire, the endpoint pointed at fake-gcs-server.

mod common;

use ferryboat_core::{Error, Jurisdiction, ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_gcs::{Credentials, GcsBuilder, Partner};
use futures::TryStreamExt;

const KEY_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/throwaway-service-account.json");

fn s3ns() -> Partner {
    Partner {
        id: "s3ns".into(),
        name: "S3NS Cloud de Confiance".into(),
        universe_domain: "s3nsapis.fr".into(),
        jurisdiction: Jurisdiction::Eu,
        cloud_act: false,
    }
}

#[test]
fn a_partner_url_builds_the_universe_endpoint() {
    let url = url::Url::parse("s3ns://my-bucket/a/b").unwrap();
    let (builder, prefix) = ferryboat_gcs::parse_partner_url(&url, &s3ns()).unwrap();
    assert_eq!(builder.resolved_endpoint().unwrap(), "https://storage.s3nsapis.fr");
    assert_eq!(prefix.unwrap().as_str(), "a/b");
    let other = url::Url::parse("gs://my-bucket").unwrap();
    assert!(ferryboat_gcs::parse_partner_url(&other, &s3ns()).is_err(), "another scheme is refused");
}

#[tokio::test]
async fn a_key_of_another_universe_is_refused_before_any_request() {
    // The throwaway key has no universe_domain field: it belongs to googleapis.com.
    let err = GcsBuilder::new("my-bucket")
        .universe_domain("s3nsapis.fr")
        .credentials(Credentials::service_account_file(KEY_FILE).unwrap())
        .check_bucket(false)
        .build()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
    assert!(err.to_string().contains("googleapis.com") && err.to_string().contains("s3nsapis.fr"), "{err}");

    // A key that claims the universe but mints its tokens elsewhere is refused too.
    let json = std::fs::read_to_string(KEY_FILE).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["universe_domain"] = "s3nsapis.fr".into();
    v["token_uri"] = "https://oauth2.googleapis.com/token".into();
    let sa = ferryboat_gcs::ServiceAccount::from_json(&v.to_string()).unwrap();
    assert_eq!(sa.universe_domain(), "s3nsapis.fr");
    let err = GcsBuilder::new("my-bucket")
        .universe_domain("s3nsapis.fr")
        .credentials(Credentials::ServiceAccount(sa.into()))
        .check_bucket(false)
        .build()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("token_uri"), "{err}");
}

#[tokio::test]
async fn a_partner_store_on_the_wire_names_the_partner() {
    let Some(endpoint) = common::endpoint("a_partner_store_on_the_wire_names_the_partner") else { return };
    let bucket = common::bucket_name("s3ns");
    common::create_bucket(&endpoint, &bucket).await;
    let url = url::Url::parse(&format!("s3ns://{bucket}/exit?endpoint={endpoint}")).unwrap();
    let store = ferryboat_gcs::open_partner_url(&url, &s3ns()).await.unwrap();
    store.put(&ObjectPath::parse("a.txt").unwrap(), "sovereign".into()).await.unwrap();
    let got = store.get(&ObjectPath::parse("a.txt").unwrap()).await.unwrap().bytes().await.unwrap();
    assert_eq!(&got[..], b"sovereign");

    let info = store.info();
    assert_eq!(info.provider, "s3ns");
    assert_eq!(info.provider_name, "S3NS Cloud de Confiance");
    assert_eq!(info.jurisdiction, Jurisdiction::Eu);
    assert!(!info.cloud_act);
    assert_eq!(info.endpoint.as_deref(), Some(endpoint.trim_end_matches('/')));

    // The object is where a plain gs:// view of the same server sees it.
    let plain = ferryboat_gcs::open_url(&url::Url::parse(&format!("gs://{bucket}?endpoint={endpoint}")).unwrap())
        .await
        .unwrap();
    let all: Vec<String> = plain.list(None).map_ok(|m| m.path.into_string()).try_collect().await.unwrap();
    assert_eq!(all, vec!["exit/a.txt"]);
}
