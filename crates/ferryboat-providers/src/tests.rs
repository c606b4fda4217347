//! Catalogue-wide tests: every shipped file, every region, and the generated documentation.

use std::collections::BTreeSet;

use ferryboat_core::{Error, Jurisdiction};

use crate::catalogue::{Catalogue, PROVIDER_FILES};
use crate::prices::{Amount, Day, Priced};
use crate::provider::Api;
use crate::quirks::{Addressing, ChecksumMode, ListVersion, Quirks};
use crate::{catalogue, Provider};

const EU_PROVIDERS: &[&str] = &[
    "ovh",
    "scaleway",
    "ionos",
    "hetzner",
    "stackit",
    "otc",
    "outscale",
    "contabo",
    "cubbit",
    "impossiblecloud",
    "leviia",
];
const SELF_HOSTED: &[&str] = &["minio", "ceph", "garage", "seaweedfs", "swift"];
const DOC_BEGIN: &str = "<!-- BEGIN GENERATED: catalogue -->\n";
const DOC_END: &str = "<!-- END GENERATED: catalogue -->";

fn get(id: &str) -> &'static Provider {
    catalogue().get(id).unwrap_or_else(|e| panic!("{id}: {e}"))
}

fn assert_invalid_config(err: &Error) {
    assert!(matches!(err, Error::InvalidConfig { .. }), "expected InvalidConfig, got {err:?}");
}

/// Values that satisfy every placeholder the catalogue uses.
const TEST_VARS: &[(&str, &str)] = &[("account", "0123456789abcdef"), ("namespace", "tenancy-ns")];

#[test]
fn every_file_parses_and_the_catalogue_loads() {
    let loaded = Catalogue::load(PROVIDER_FILES).unwrap_or_else(|e| panic!("catalogue does not load: {e}"));
    assert_eq!(loaded.providers().len(), PROVIDER_FILES.len());
    assert_eq!(catalogue().providers().len(), PROVIDER_FILES.len());
}

#[test]
fn every_file_in_the_directory_is_compiled_in() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/providers");
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir)
        .expect("providers directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    let listed: BTreeSet<String> = PROVIDER_FILES.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(on_disk, listed, "add each providers/*.toml file to PROVIDER_FILES in catalogue.rs");
}

#[test]
fn ids_and_aliases_are_unique_and_lower_case() {
    let mut seen = BTreeSet::new();
    for p in catalogue().providers() {
        for name in std::iter::once(&p.id).chain(&p.aliases) {
            assert_eq!(name, &name.to_ascii_lowercase(), "{name} is not lower-case");
            assert!(seen.insert(name.clone()), "{name} is used twice");
        }
    }
    let ids: Vec<&str> = catalogue().providers().iter().map(|p| p.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "providers() must be sorted by id");
}

#[test]
fn aliases_and_case_resolve_to_the_same_provider() {
    assert_eq!(get("ovhcloud").id, "ovh");
    assert_eq!(get(" OVH ").id, "ovh");
    assert_eq!(get("cloudflare").id, "r2");
    assert_eq!(get("b2").id, "backblaze");
}

#[test]
fn every_provider_has_a_source() {
    for p in catalogue().providers() {
        assert!(!p.sources.is_empty(), "{} has no source", p.id);
        for s in &p.sources {
            assert!(s.starts_with("https://"), "{}: source {s} is not an https URL", p.id);
        }
    }
}

#[test]
fn every_region_has_a_well_formed_endpoint() {
    let mut checked = 0;
    for p in catalogue().providers() {
        for r in &p.regions {
            let url = p.endpoint_with(&r.code, TEST_VARS).unwrap_or_else(|e| panic!("{} {}: {e}", p.id, r.code));
            let host =
                url.strip_prefix("https://").unwrap_or_else(|| panic!("{} {}: {url} is not https", p.id, r.code));
            assert!(
                !host.is_empty() && !host.contains(['{', '}', '/', ' ', '@']),
                "{} {}: bad host in {url}",
                p.id,
                r.code
            );
            assert!(host.contains('.'), "{} {}: {url} has no domain", p.id, r.code);
            for label in host.split('.') {
                assert!(!label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'), "{url}");
            }
            if p.variables.is_empty() {
                assert_eq!(p.endpoint(&r.code).unwrap(), url);
            }
            // A region's endpoint must name that region, or be the provider's single endpoint.
            let key = r.endpoint_key.as_deref().unwrap_or(&r.code);
            assert!(
                url.contains(key) || r.endpoint.is_some() || !p.endpoint.contains("{region}"),
                "{} {}: {url}",
                p.id,
                r.code
            );
            checked += 1;
        }
    }
    assert!(checked > 150, "only {checked} regions checked");
}

#[test]
fn known_endpoints_and_addressing() {
    let cases = [
        ("aws", "eu-central-1", "https://s3.eu-central-1.amazonaws.com", Addressing::VirtualHosted),
        ("ovh", "us-east-va", "https://s3.us-east-va.io.cloud.ovh.us", Addressing::VirtualHosted),
        ("scaleway", "fr-par", "https://s3.fr-par.scw.cloud", Addressing::VirtualHosted),
        ("ionos", "de", "https://s3-eu-central-1.ionoscloud.com", Addressing::Path),
        ("hetzner", "hel1", "https://hel1.your-objectstorage.com", Addressing::VirtualHosted),
        ("exoscale", "ch-gva-2", "https://sos-ch-gva-2.exo.io", Addressing::Path),
        ("stackit", "eu01", "https://object.storage.eu01.onstackit.cloud", Addressing::Path),
        ("infomaniak", "swiss-backup02", "https://s3.swiss-backup02.infomaniak.com", Addressing::Path),
        ("contabo", "eu2", "https://eu2.contabostorage.com", Addressing::Path),
        ("wasabi", "us-east-1", "https://s3.wasabisys.com", Addressing::VirtualHosted),
        ("wasabi", "eu-central-2", "https://s3.eu-central-2.wasabisys.com", Addressing::VirtualHosted),
        ("huawei", "cn-north-4", "https://obs.cn-north-4.myhuaweicloud.com", Addressing::VirtualHosted),
        ("leviia", "anything", "https://s3.leviia.com", Addressing::VirtualHosted),
    ];
    for (id, region, url, addressing) in cases {
        let p = get(id);
        assert_eq!(p.endpoint(region).unwrap(), url, "{id} {region}");
        assert_eq!(p.addressing, addressing, "{id}");
    }
}

#[test]
fn signing_region_defaults_to_the_code() {
    let info = get("infomaniak");
    assert_eq!(info.region("swiss-backup01").unwrap().signing_region(), "us-east-1");
    assert_eq!(get("scaleway").region("nl-ams").unwrap().signing_region(), "nl-ams");
    assert_eq!(get("r2").region("eu").unwrap().signing_region(), "auto");
}

#[test]
fn placeholders_need_their_variables() {
    let r2 = get("r2");
    let err = r2.endpoint("auto").unwrap_err();
    assert_invalid_config(&err);
    assert!(err.to_string().contains("`account`"), "{err}");
    assert_eq!(r2.endpoint_with("eu", &[("account", "abc123")]).unwrap(), "https://abc123.eu.r2.cloudflarestorage.com");

    let oci = get("oracle");
    let err = oci.endpoint_with("eu-frankfurt-1", &[("account", "x")]).unwrap_err();
    assert!(err.to_string().contains("`namespace`"), "{err}");
    let err = oci.endpoint_with("eu-frankfurt-1", &[("namespace", "evil.example.com/")]).unwrap_err();
    assert_invalid_config(&err);
    // An unknown region is reported before any variable.
    let err = oci.endpoint_with("mars-1", TEST_VARS).unwrap_err();
    assert!(err.to_string().contains("eu-frankfurt-1"), "{err}");
}

#[test]
fn unknown_provider_lists_every_valid_id() {
    let err = catalogue().get("nimbus").unwrap_err();
    assert_invalid_config(&err);
    let msg = err.to_string();
    assert!(msg.contains("nimbus"), "{msg}");
    for p in catalogue().providers() {
        assert!(msg.contains(&p.id), "{} missing from: {msg}", p.id);
    }
}

#[test]
fn unknown_region_lists_the_providers_regions() {
    let ovh = get("ovh");
    let err = ovh.region("mars").unwrap_err();
    assert_invalid_config(&err);
    let msg = err.to_string();
    for r in &ovh.regions {
        assert!(msg.contains(&r.code), "{} missing from: {msg}", r.code);
    }
    assert_invalid_config(&ovh.endpoint("mars").unwrap_err());
    assert_eq!(ovh.region("GRA").unwrap().code, "gra");
}

#[test]
fn self_hosted_and_generic_accept_any_region_but_need_an_endpoint() {
    for id in SELF_HOSTED.iter().chain(&["generic"]) {
        let p = get(id);
        assert!(p.regions.is_empty(), "{id}");
        assert_eq!(p.is_self_hosted(), *id != "generic", "{id}");
        assert!(p.region("whatever-1").is_ok(), "{id}");
        let err = p.endpoint("us-east-1").unwrap_err();
        assert_invalid_config(&err);
        assert!(err.to_string().contains("endpoint"), "{err}");
        assert!(p.default_region().is_none(), "{id}");
    }
    for id in SELF_HOSTED {
        assert_eq!(get(id).jurisdiction(), Jurisdiction::SelfHosted);
    }
    assert!(!get("aws").is_self_hosted());
    assert_eq!(get("generic").quirks, Quirks::default());
}

#[test]
fn aws_is_us_and_reached_by_the_cloud_act() {
    let aws = get("aws");
    assert_eq!(aws.jurisdiction(), Jurisdiction::Us);
    assert!(aws.cloud_act);
    assert_eq!(aws.quirks.checksums, ChecksumMode::Always);
    assert!(aws.quirks.put_if_none_match && aws.quirks.put_if_match);
    assert_eq!(aws.default_region().unwrap().code, "us-east-1");
    // A European AWS region is still US jurisdiction.
    let info = aws.store_info(Some("eu-central-1"), None, "b");
    assert_eq!(info.jurisdiction, Jurisdiction::Us);
    assert!(info.cloud_act);
}

#[test]
fn european_providers_are_eu_and_outside_the_cloud_act() {
    for id in EU_PROVIDERS {
        let p = get(id);
        assert_eq!(p.jurisdiction(), Jurisdiction::Eu, "{id}");
        assert!(!p.cloud_act, "{id}");
    }
    for id in ["exoscale", "infomaniak"] {
        assert_eq!(get(id).jurisdiction(), Jurisdiction::Ch, "{id}");
        assert!(!get(id).cloud_act, "{id}");
    }
    for id in ["r2", "backblaze", "wasabi", "oracle"] {
        assert!(get(id).cloud_act, "{id}");
    }
}

#[test]
fn only_aws_gets_default_checksums() {
    for p in catalogue().providers() {
        // The European Sovereign Cloud runs AWS's own S3 (same APIs, per AWS).
        let aws = p.id == "aws" || p.id == "aws-eusc";
        let expected = if aws { ChecksumMode::Always } else { ChecksumMode::WhenRequired };
        assert_eq!(p.quirks.checksums, expected, "{}", p.id);
    }
}

#[test]
fn quirks_are_sane() {
    for p in catalogue().providers() {
        let q = &p.quirks;
        assert!(q.min_part_size <= q.max_part_size, "{}", p.id);
        assert!(q.max_part_size <= q.max_object_size, "{}", p.id);
        assert!(q.max_parts >= 1, "{}", p.id);
        assert!(q.batch_delete_max >= 1 && q.batch_delete_max <= 1000, "{}", p.id);
    }
    assert_eq!(get("scaleway").quirks.max_parts, 1000);
    assert_eq!(get("r2").quirks.batch_delete_max, 700);
    assert!(get("r2").quirks.uniform_part_size);
    assert_eq!(get("huawei").quirks.list_version, ListVersion::V1);
}

#[test]
fn store_info_carries_provider_facts() {
    let scw = get("scaleway");
    let info = scw.store_info(Some("nl-ams"), None, "photos");
    assert_eq!(info.provider, "scaleway");
    assert_eq!(info.provider_name, scw.name);
    assert_eq!(info.region.as_deref(), Some("nl-ams"));
    assert_eq!(info.endpoint.as_deref(), Some("https://s3.nl-ams.scw.cloud"));
    assert_eq!(info.bucket.as_deref(), Some("photos"));
    assert_eq!(info.jurisdiction, Jurisdiction::Eu);
    assert!(!info.cloud_act);

    let minio = get("minio").store_info(None, Some("https://admin:hunter2@minio.lan:9000"), "b");
    assert_eq!(minio.endpoint.as_deref(), Some("https://minio.lan:9000"));
    assert!(!format!("{minio:?}").contains("hunter2"));
    assert_eq!(minio.region, None);

    // Needs a variable it was not given: no endpoint rather than a wrong one.
    let r2 = get("r2").store_info(None, None, "b");
    assert_eq!(r2.region.as_deref(), Some("auto"));
    assert_eq!(r2.endpoint, None);
}

#[test]
fn broken_files_fail_with_the_file_name_and_do_not_panic() {
    let good = PROVIDER_FILES.iter().find(|(n, _)| *n == "hetzner.toml").expect("hetzner").1;
    let cases: Vec<(String, &str)> = vec![
        ("id = \"x\"\n".into(), "missing field"),
        (good.replace("https://{region}.your", "http://{region}.your"), "https://"),
        (good.replace("{region}.your", "{regoin.your"), "unclosed"),
        (good.replace("fsn1\"\ncity", "nbg1\"\ncity"), "listed twice"),
        (good.replace("[quirks]", "[quirks]\nmax_parts = 0"), "max_parts"),
        (good.replace("cloud_act = false", "cloud_act = false\nregion = \"x\""), "unknown field"),
        (good.replace("id = \"hetzner\"", "id = \"Hetzner\""), "lower-case"),
    ];
    for (text, expected) in cases {
        let err = Catalogue::load(&[("hetzner.toml", &text)]).unwrap_err();
        assert!(err.contains("providers/hetzner.toml"), "{err}");
        assert!(err.contains(expected), "expected {expected:?} in: {err}");
    }
    let err = Catalogue::load(&[("other.toml", good)]).unwrap_err();
    assert!(err.contains("hetzner.toml"), "{err}");
    let err = Catalogue::load(&[("hetzner.toml", good), ("hetzner.toml", good)]).unwrap_err();
    assert!(err.contains("names both"), "{err}");
}

#[test]
fn a_failed_load_becomes_an_error_from_get() {
    let broken = Catalogue::broken("providers/x.toml: bad".into());
    let err = broken.get("aws").unwrap_err();
    assert_invalid_config(&err);
    assert!(err.to_string().contains("providers/x.toml: bad"), "{err}");
    assert!(broken.providers().is_empty());
}

/// `docs/providers.md` holds the table rendered from the catalogue between two markers.
/// `FERRY_BLESS=1 cargo test -p ferryboat-providers` rewrites that part.
#[test]
fn docs_table_matches_the_catalogue() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/providers.md");
    let doc = std::fs::read_to_string(path).expect("docs/providers.md");
    let begin = doc.find(DOC_BEGIN).expect("BEGIN GENERATED marker in docs/providers.md") + DOC_BEGIN.len();
    let end = doc.find(DOC_END).expect("END GENERATED marker in docs/providers.md");
    assert!(begin <= end, "markers out of order in docs/providers.md");
    let rendered = catalogue().to_markdown();
    if doc[begin..end] == rendered {
        return;
    }
    if std::env::var_os("FERRY_BLESS").is_some() {
        let updated = format!("{}{}{}", &doc[..begin], rendered, &doc[end..]);
        std::fs::write(path, updated).expect("write docs/providers.md");
        return;
    }
    panic!(
        "docs/providers.md is out of date with the provider catalogue; regenerate it with \
         `FERRY_BLESS=1 cargo test -p ferryboat-providers docs_table` and commit the result"
    );
}

#[test]
fn every_price_has_a_source_and_a_date() {
    let today = Day::today();
    let mut known = 0;
    for p in catalogue().providers() {
        let prices = &p.prices;
        for (section, src) in prices.sources() {
            assert!(src.url.starts_with("https://"), "{} {section}: {}", p.id, src.url);
            let day = Day::parse(&src.read_on).unwrap_or_else(|e| panic!("{} {section}: {e}", p.id));
            assert!(day <= today, "{} {section}: read in the future", p.id);
            known += 1;
        }
        if prices.any_known() {
            assert!(prices.currency.is_some() && prices.gb_bytes.is_some(), "{}", p.id);
        }
    }
    assert!(known >= 3, "only {known} price sections have a source");
    // Each file states its prices, known or unknown, in so many words.
    for (file, text) in PROVIDER_FILES {
        assert!(text.contains("\n[prices]"), "{file} has no [prices] table");
    }
}

#[test]
fn unknown_prices_stay_unknown() {
    let aws = &get("aws").prices;
    let egress = aws.egress.known().expect("aws egress");
    assert_eq!(egress.free_gb_month, Amount::Known(100.0));
    assert!((egress.cost(1124.0).unwrap() - 1024.0 * 0.09).abs() < 1e-9);
    assert_eq!(egress.cost(600_000.0), None, "past 500 TB AWS negotiates");
    assert_eq!(aws.requests, Priced::Unknown);
    let otc = get("otc").prices.storage.known().expect("otc storage section");
    assert_eq!(otc.per_gb_month, Amount::Unknown);
    assert_eq!(otc.free_gb, Amount::Known(5.0));
    assert!(get("otc").prices.switching.as_ref().is_some_and(|s| s.free_egress));
}

/// The figures read for R2, Wasabi, Backblaze, Scaleway and IONOS, through the sums the exit plan makes.
#[test]
fn catalogued_prices_give_the_sums_their_sources_state() {
    use crate::plan::{ExitPlan, PlanOptions, Workload};

    let r2 = get("r2");
    let egress = r2.prices.egress.known().expect("r2 egress");
    assert_eq!(egress.cost(1e6), Some(0.0), "R2 charges no egress at any volume");
    let wasabi = &get("wasabi").prices;
    assert_eq!(wasabi.egress.known().expect("wasabi egress").cost(1e6), Some(0.0));
    // Backblaze's per-GB price is known, its free allowance is not: no sum is made up.
    let b2 = get("backblaze").prices.egress.known().expect("b2 egress");
    assert_eq!(b2.tiers.last().map(|t| t.per_gb), Some(0.01));
    assert_eq!(b2.cost(1.0), None);
    let b2_requests = get("backblaze").prices.requests.known().expect("b2 requests");
    assert_eq!(b2_requests.list_per_1000, Amount::Unknown);
    // Scaleway: 75 GB a month free, then EUR 0.01 per GB; requests included.
    let scw = &get("scaleway").prices;
    let scw_egress = scw.egress.known().expect("scaleway egress");
    assert_eq!(scw_egress.cost(75.0), Some(0.0));
    assert!((scw_egress.cost(175.0).unwrap() - 1.0).abs() < 1e-12);
    assert_eq!(scw.requests.known().expect("scaleway requests").write_per_1000, Amount::Known(0.0));
    // Exoscale: EUR 0.00002750 per GiB-hour times 730 hours; egress EUR 0.02 per GiB, none free.
    let exo = &get("exoscale").prices;
    let exo_storage = exo.storage.known().expect("exoscale storage");
    let exo_gb_month = exo_storage.per_gb_month.known().expect("exoscale per GB-month");
    assert!((exo_gb_month - 0.0000275 * 730.0).abs() < 1e-12);
    assert_eq!(exo.gb_bytes, Some(1 << 30), "Exoscale prices per GiB");
    assert!((exo.egress.known().expect("exoscale egress").cost(100.0).unwrap() - 2.0).abs() < 1e-12);
    assert_eq!(exo.requests, Priced::Unknown);
    // OVHcloud: two secondary sources disagree on egress (EUR 0.01 per GB, or free since
    // January 2026), so it stays unknown; storage is the calculator's EUR 0.00746.
    let ovh = &get("ovh").prices;
    assert_eq!(ovh.egress, Priced::Unknown);
    assert_eq!(ovh.storage.known().expect("ovh storage").per_gb_month, Amount::Known(0.00746));
    // Contabo: EUR 2.49 per 250 GB step, traffic free.
    let contabo = &get("contabo").prices;
    let cb_gb_month =
        contabo.storage.known().expect("contabo storage").per_gb_month.known().expect("contabo per GB-month");
    assert!((cb_gb_month * 250.0 - 2.49).abs() < 1e-12);
    assert_eq!(contabo.egress.known().expect("contabo egress").cost(1e6), Some(0.0));
    // Tencent COS, Frankfurt: USD 0.07 per GB downstream, USD 0.002 per 10,000 requests.
    let cos = &get("tencent").prices;
    assert!((cos.egress.known().expect("tencent egress").cost(100.0).unwrap() - 7.0).abs() < 1e-12);
    let cos_requests = cos.requests.known().expect("tencent requests");
    assert!((cos_requests.read_per_1000.known().unwrap() * 10.0 - 0.002).abs() < 1e-15);
    assert_eq!(cos_requests.delete_per_1000, Amount::Unknown);
    assert_eq!(cos.gb_bytes, Some(1 << 30), "COS counts capacity in binary");
    let ionos = &get("ionos").prices;
    assert_eq!(ionos.gb_bytes, Some(1 << 30), "IONOS: 1 GB = 1,024 MB");
    assert_eq!(ionos.storage, Priced::Unknown);

    // Two objects, one of them in three parts, from R2 to IONOS.
    let mut w = Workload::new(8 << 20);
    w.add(1 << 20);
    w.add(20 << 20);
    let opts = PlanOptions::new(Day::parse("2026-12-02").unwrap());
    let plan = ExitPlan::compute(&w, r2, get("ionos"), &opts).unwrap();
    let s = &plan.requests.source;
    let expected = (s.get + s.head) as f64 / 1000.0 * 0.00036 + s.list_pages as f64 / 1000.0 * 0.0045;
    let got = plan.source_requests.amount.expect("R2 reads and listings are priced");
    assert!((got - expected).abs() < 1e-15, "{got} vs {expected}");
    assert_eq!(plan.destination_requests.amount, Some(0.0), "IONOS's API is free of charge");
    assert_eq!(plan.egress.list_price.amount, Some(0.0));
    assert_eq!(plan.destination_storage_month.amount, None, "IONOS's storage price was not read");
    // And into R2: 21 MiB is under the 10 GB free.
    let plan = ExitPlan::compute(&w, get("ionos"), r2, &opts).unwrap();
    assert_eq!(plan.destination_storage_month.amount, Some(0.0));
    assert!(plan.destination_requests.amount.unwrap() > 0.0, "R2 charges Class A writes");
    assert_eq!(plan.egress.list_price.amount, None, "IONOS's egress tiers were not read");
}

#[test]
fn bad_prices_fail_to_load() {
    let good = PROVIDER_FILES.iter().find(|(n, _)| *n == "aws.toml").expect("aws").1;
    let cases: Vec<(String, &str)> = vec![
        (good.replace("requests = \"unknown\"", "requests = \"unkown\""), "unknown"),
        (good.replace("per_gb_month = 0.023", "per_gb_month = -1"), ">= 0"),
        (good.replace("read_on = \"2026-12-01\" } }", "read_on = \"01.12.2026\" } }"), "YYYY-MM-DD"),
        (good.replace("read_on = \"2026-12-01\" } }", "read_on = \"2999-01-01\" } }"), "future"),
        (good.replace("url = \"https://cloudburn", "url = \"http://cloudburn"), "https://"),
        (good.replace("currency = \"USD\"\n", ""), "currency"),
        (good.replace("up_to_gb = 51200", "up_to_gb = 100"), "above the previous"),
        (
            good.replace(
                "source = { url = \"https://www.usage.ai/blogs/s3-egress-cost/\", read_on = \"2026-12-01\" }\n",
                "",
            ),
            "source",
        ),
    ];
    for (text, expected) in cases {
        assert_ne!(text, good, "the case for {expected:?} changed nothing");
        let err = Catalogue::load(&[("aws.toml", &text)]).unwrap_err();
        assert!(err.contains(expected), "expected {expected:?} in: {err}");
    }
}

#[test]
fn sovereign_offers_are_catalogued_with_what_is_known() {
    let eusc = get("aws-european-sovereign-cloud");
    assert_eq!(eusc.id, "aws-eusc");
    assert_eq!(eusc.endpoint("eusc-de-east-1").unwrap(), "https://s3.eusc-de-east-1.amazonaws.eu");
    assert_eq!(eusc.default_region().unwrap().country, "DE");
    assert_eq!(eusc.jurisdiction(), Jurisdiction::Eu);
    assert!(eusc.cloud_act, "an EU operator of a US parent: the conservative answer");
    assert!(eusc.cloud_act_note.contains("Not") && eusc.cloud_act_note.contains("settled"));

    let s3ns = get("s3ns");
    assert_eq!(s3ns.api, Api::Gcs);
    assert_eq!(s3ns.endpoint("any").unwrap(), "https://storage.s3nsapis.fr");
    assert!(!s3ns.cloud_act && !s3ns.cloud_act_note.is_empty());

    for id in ["bleu", "delos"] {
        let p = get(id);
        assert_eq!(p.api, Api::Azure, "{id}");
        assert!(!p.has_endpoint(), "{id}: no public source gives the endpoint suffix");
        assert!(p.notes.contains("endpoint_suffix"), "{id}");
        assert!(p.cloud_act_note.contains("Not confirmed"), "{id}");
    }
    let otc = get("t-cloud-public");
    assert_eq!(otc.id, "otc");
    assert_eq!(otc.endpoint("eu-de").unwrap(), "https://obs.eu-de.otc.t-systems.com");
    // Every other provider speaks S3.
    let others = catalogue().providers().iter().filter(|p| p.api != Api::S3).count();
    assert_eq!(others, 3);
}
