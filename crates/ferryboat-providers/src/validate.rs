//! Checks a provider file must pass before it joins the catalogue.
//!
//! These run on every load, so a contributor's mistake is caught by the unit tests with the
//! file name in the message, and never reaches a user as a wrong endpoint.

use std::collections::BTreeSet;

use crate::prices::{Day, Source};
use crate::provider::Provider;

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_country(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// Everything wrong with one provider, as one message.
pub(crate) fn provider(p: &Provider) -> Result<(), String> {
    let mut problems = Vec::new();
    for name in std::iter::once(&p.id).chain(&p.aliases) {
        if !is_id(name) {
            problems.push(format!("id or alias `{name}` must be lower-case ASCII letters, digits and inner `-`"));
        }
    }
    if p.name.trim().is_empty() {
        problems.push("name is empty".into());
    }
    if !is_country(&p.headquarters) {
        problems.push(format!("headquarters `{}` is not an ISO 3166 alpha-2 code", p.headquarters));
    }
    if p.jurisdiction.is_empty() || !p.jurisdiction.bytes().all(|b| b.is_ascii_uppercase()) {
        problems.push(format!("jurisdiction `{}` must be an upper-case code", p.jurisdiction));
    }
    if p.sources.is_empty() || p.sources.iter().any(|s| s.trim().is_empty()) {
        problems.push("every provider needs at least one non-empty source".into());
    }
    if !p.endpoint.is_empty() && !p.endpoint.starts_with("https://") {
        problems.push(format!("endpoint template `{}` must start with https://", p.endpoint));
    }
    endpoints(p, &mut problems);
    regions(p, &mut problems);
    quirks(p, &mut problems);
    prices(p, &mut problems);
    if p.api != crate::provider::Api::S3 && p.quirks != crate::quirks::Quirks::default() {
        problems.push("quirks describe an S3 dialect: a provider that does not speak S3 has none".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn endpoints(p: &Provider, problems: &mut Vec<String>) {
    match p.placeholders() {
        Err(e) => problems.push(e),
        Ok(names) => {
            for name in names.iter().filter(|n| *n != "region") {
                if !p.variables.contains_key(name) {
                    problems.push(format!("placeholder `{{{name}}}` needs a description under [variables]"));
                }
            }
            for name in p.variables.keys() {
                if !names.contains(name) {
                    problems.push(format!("variable `{name}` is described but used by no endpoint"));
                }
            }
        }
    }
    if p.is_self_hosted() && (p.has_endpoint() || !p.regions.is_empty()) {
        problems.push("self-hosted software has no fixed endpoint and no regions".into());
    }
    if !p.has_endpoint() && !p.regions.is_empty() {
        problems.push("regions are listed but no endpoint reaches them".into());
    }
}

fn regions(p: &Provider, problems: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    for r in &p.regions {
        if r.code.is_empty() || r.code.bytes().any(|b| b.is_ascii_uppercase() || b.is_ascii_whitespace()) {
            problems.push(format!("region code `{}` must be non-empty lower-case", r.code));
        }
        if !seen.insert(r.code.as_str()) {
            problems.push(format!("region `{}` is listed twice", r.code));
        }
        if !is_country(&r.country) {
            problems.push(format!("region `{}`: country `{}` is not an ISO 3166 alpha-2 code", r.code, r.country));
        }
        if r.city.trim().is_empty() {
            problems.push(format!("region `{}` has no city", r.code));
        }
        if let Some(e) = &r.endpoint {
            if !e.starts_with("https://") {
                problems.push(format!("region `{}`: endpoint `{e}` must start with https://", r.code));
            }
        } else if p.endpoint.is_empty() {
            problems.push(format!("region `{}` has no endpoint and the provider has no template", r.code));
        }
    }
    if let Some(code) = &p.default_region {
        if !p.regions.iter().any(|r| &r.code == code) {
            problems.push(format!("default_region `{code}` is not one of the regions"));
        }
    }
}

fn quirks(p: &Provider, problems: &mut Vec<String>) {
    let q = &p.quirks;
    if q.max_parts == 0 {
        problems.push("quirks.max_parts must be at least 1".into());
    }
    if q.batch_delete_max == 0 {
        problems.push("quirks.batch_delete_max must be at least 1".into());
    }
    if q.min_part_size == 0 || q.min_part_size > q.max_part_size {
        problems.push("quirks: need 0 < min_part_size <= max_part_size".into());
    }
    if q.max_part_size > q.max_object_size {
        problems.push("quirks: max_part_size exceeds max_object_size".into());
    }
}

fn source(section: &str, s: &Source, problems: &mut Vec<String>) {
    if !s.url.starts_with("https://") {
        problems.push(format!("prices.{section}: source url `{}` must start with https://", s.url));
    }
    match Day::parse(&s.read_on) {
        Ok(day) if day > Day::today() => {
            problems.push(format!("prices.{section}: read_on {day} is in the future"));
        }
        Ok(_) => {}
        Err(e) => problems.push(format!("prices.{section}: read_on {e}")),
    }
}

fn prices(p: &Provider, problems: &mut Vec<String>) {
    let prices = &p.prices;
    if prices.any_known() {
        let currency_ok =
            prices.currency.as_deref().is_some_and(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()));
        if !currency_ok {
            problems.push("prices: a known section needs `currency`, an ISO 4217 code such as EUR".into());
        }
        if !matches!(prices.gb_bytes, Some(1_000_000_000 | 1_073_741_824)) {
            problems.push("prices: a known section needs `gb_bytes`, 1000000000 or 1073741824".into());
        }
    }
    for (section, s) in prices.sources() {
        source(section, s, problems);
    }
    if let Some(e) = prices.egress.known() {
        let mut floor = 0.0;
        for (i, t) in e.tiers.iter().enumerate() {
            if !t.per_gb.is_finite() || t.per_gb < 0.0 {
                problems.push(format!("prices.egress: tier {i} has a bad price"));
            }
            match t.up_to_gb {
                Some(top) if top <= floor || !top.is_finite() => {
                    problems.push(format!("prices.egress: tier {i} bound must be above the previous one"));
                }
                Some(top) => floor = top,
                None if i + 1 != e.tiers.len() => {
                    problems.push("prices.egress: only the last tier may be unbounded".into());
                }
                None => {}
            }
        }
    }
}
