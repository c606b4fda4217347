//! A sovereign operator of Azure (Bleu, Delos): the URLs its endpoint suffix builds, and a
//! store opened by its own scheme on the wire, the endpoint pointed at Azurite.

mod common;

use ferryboat_azure::Partner;
use ferryboat_core::{Error, Jurisdiction, ObjectPath, ObjectStore, ObjectStoreExt};

fn partner(suffix: Option<&str>) -> Partner {
    Partner {
        id: "bleu".into(),
        name: "Bleu".into(),
        endpoint_suffix: suffix.map(str::to_owned),
        jurisdiction: Jurisdiction::Eu,
        cloud_act: false,
    }
}

#[test]
fn a_partner_url_builds_the_suffix_endpoint() {
    let url = url::Url::parse("bleu://acme/logs/2026?endpoint_suffix=core.example.eu").unwrap();
    let (config, prefix) = ferryboat_azure::parse_partner_url(&url, &partner(None)).unwrap();
    assert_eq!(config.endpoint(), "https://acme.blob.core.example.eu");
    assert_eq!((config.account(), config.container()), ("acme", "logs"));
    assert_eq!(prefix.unwrap().as_str(), "2026");

    // The catalogue's suffix, where it knows one, is the default; the URL's wins.
    let url = url::Url::parse("bleu://acme/logs").unwrap();
    let (config, _) = ferryboat_azure::parse_partner_url(&url, &partner(Some("core.known.eu"))).unwrap();
    assert_eq!(config.endpoint(), "https://acme.blob.core.known.eu");

    // No suffix anywhere: a clear error before any request.
    let err = ferryboat_azure::parse_partner_url(&url, &partner(None)).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }) && err.to_string().contains("endpoint_suffix"), "{err}");
    for bad in [
        "bleu://acme/logs?endpoint_suffix=evil.eu/x",
        "bleu://acme/logs?endpoint_suffix=x",
        "bleu://acme/logs?suffix=a.b",
    ] {
        let url = url::Url::parse(bad).unwrap();
        assert!(ferryboat_azure::parse_partner_url(&url, &partner(None)).is_err(), "{bad}");
    }
    let url = url::Url::parse("azure://acme/logs").unwrap();
    assert!(ferryboat_azure::parse_partner_url(&url, &partner(None)).is_err(), "another scheme");
}

#[tokio::test]
async fn a_partner_store_on_the_wire_names_the_partner() {
    let test = "a_partner_store_on_the_wire_names_the_partner";
    let Some(plain) = common::fresh_store(test).await else { return };
    let Some(emu) = common::azurite(test) else { return };
    let container = plain.config().container().to_owned();
    let url = format!("bleu://{}/{container}/exit?endpoint={}", emu.account, emu.endpoint);
    let store = ferryboat_azure::open_partner_url(&url::Url::parse(&url).unwrap(), &partner(None)).await.unwrap();
    store.put(&ObjectPath::parse("a.txt").unwrap(), "sovereign".into()).await.unwrap();

    let info = store.info();
    assert_eq!((info.provider.as_str(), info.provider_name.as_str()), ("bleu", "Bleu"));
    assert_eq!(info.jurisdiction, Jurisdiction::Eu);
    assert!(!info.cloud_act);

    let got = plain.get(&ObjectPath::parse("exit/a.txt").unwrap()).await.unwrap();
    assert_eq!(got.bytes().await.unwrap(), "sovereign", "the same container, seen plainly");
}
