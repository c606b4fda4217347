//! `ferryboat providers`: the catalogue, filtered, or one provider in full.

use std::process::ExitCode;

use clap::Args;
use ferryboat::providers::{catalogue, Provider};
use serde_json::json;

use crate::exit;
use crate::out::outln;

/// The flags of `providers`.
#[derive(Args, Debug)]
pub struct ProvidersArgs {
    /// Show this provider (id or alias) in full: regions, endpoints, quirks.
    pub id: Option<String>,
    /// Only providers under this jurisdiction (EU, CH, UK, US, SELF, …).
    #[arg(long)]
    pub jurisdiction: Option<String>,
    /// Only providers with a region in this country (ISO 3166 code: FR, DE, …).
    #[arg(long)]
    pub country: Option<String>,
    /// Only providers the US CLOUD Act does not reach.
    #[arg(long, conflicts_with = "cloud_act")]
    pub no_cloud_act: bool,
    /// Only providers the US CLOUD Act reaches.
    #[arg(long)]
    pub cloud_act: bool,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

fn matches(p: &Provider, args: &ProvidersArgs) -> bool {
    let jurisdiction = args.jurisdiction.as_deref().is_none_or(|j| p.jurisdiction.eq_ignore_ascii_case(j.trim()));
    let country =
        args.country.as_deref().is_none_or(|c| p.regions.iter().any(|r| r.country.eq_ignore_ascii_case(c.trim())));
    let act = (!args.no_cloud_act || !p.cloud_act) && (!args.cloud_act || p.cloud_act);
    jurisdiction && country && act
}

fn summary_json(p: &Provider) -> serde_json::Value {
    let countries: std::collections::BTreeSet<&str> = p.regions.iter().map(|r| r.country.as_str()).collect();
    json!({
        "id": p.id,
        "name": p.name,
        "headquarters": p.headquarters,
        "jurisdiction": p.jurisdiction,
        "cloud_act": p.cloud_act,
        "countries": countries,
        "regions": p.regions.len(),
    })
}

/// Runs `providers`.
pub fn run(args: ProvidersArgs) -> ExitCode {
    if let Some(id) = &args.id {
        return match catalogue().get(id) {
            Ok(p) => {
                show(p, args.json);
                ExitCode::SUCCESS
            }
            Err(e) => exit::report(&e),
        };
    }
    let chosen: Vec<&Provider> = catalogue().providers().iter().filter(|p| matches(p, &args)).collect();
    if args.json {
        let all: Vec<_> = chosen.iter().map(|p| summary_json(p)).collect();
        outln!("{}", json!(all));
    } else {
        outln!("{:<14} {:<28} {:<4} {:<5} {:<9} COUNTRIES", "ID", "NAME", "HQ", "JUR", "CLOUD ACT");
        for p in &chosen {
            let countries: std::collections::BTreeSet<&str> = p.regions.iter().map(|r| r.country.as_str()).collect();
            outln!(
                "{:<14} {:<28} {:<4} {:<5} {:<9} {}",
                p.id,
                p.name,
                p.headquarters,
                p.jurisdiction,
                if p.cloud_act { "yes" } else { "no" },
                countries.into_iter().collect::<Vec<_>>().join(",")
            );
        }
    }
    ExitCode::SUCCESS
}

fn show(p: &Provider, as_json: bool) {
    let regions: Vec<_> = p
        .regions
        .iter()
        .map(|r| {
            json!({
                "code": r.code,
                "city": r.city,
                "country": r.country,
                "endpoint": p.endpoint(&r.code).ok(),
                "signing_region": r.signing_region(),
            })
        })
        .collect();
    if as_json {
        let mut v = summary_json(p);
        v["aliases"] = json!(p.aliases);
        v["regions"] = json!(regions);
        v["default_region"] = json!(p.default_region().map(|r| r.code.clone()));
        // The quirks as the S3 backend reads them, in the catalogue's own field names and units
        // (bytes, counts, booleans).
        v["quirks"] = serde_json::to_value(&p.quirks).unwrap_or_default();
        v["api"] = serde_json::to_value(p.api).unwrap_or_default();
        v["addressing"] = serde_json::to_value(p.addressing).unwrap_or_default();
        v["cloud_act_note"] = json!(p.cloud_act_note);
        v["notes"] = json!(p.notes);
        outln!("{v}");
        return;
    }
    outln!("{} ({})", p.name, p.id);
    if !p.aliases.is_empty() {
        outln!("aliases:       {}", p.aliases.join(", "));
    }
    outln!("headquarters:  {}", p.headquarters);
    outln!("jurisdiction:  {}", p.jurisdiction);
    outln!("CLOUD Act:     {}", if p.cloud_act { "reaches it" } else { "does not reach it" });
    if let Some(r) = p.default_region() {
        outln!("default region: {}", r.code);
    }
    outln!("regions:");
    if p.regions.is_empty() {
        outln!("  (none listed: give the endpoint)");
    }
    for r in &p.regions {
        let endpoint = p.endpoint(&r.code).unwrap_or_else(|_| "(endpoint from configuration)".into());
        outln!("  {:<14} {:<20} {:<3} {endpoint}", r.code, r.city, r.country);
    }
    outln!("quirks: {:#?}", p.quirks);
    if !p.notes.trim().is_empty() {
        outln!("notes: {}", p.notes.trim());
    }
}
