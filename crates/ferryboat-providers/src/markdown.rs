//! The catalogue as Markdown: the provider table and per-provider sources of
//! `docs/providers.md`, rendered from the same data the code uses so the two cannot drift.

use std::fmt::Write as _;

use crate::catalogue::Catalogue;
use crate::prices::{Amount, Priced, Prices};
use crate::provider::{Api, Provider};
use crate::quirks::{Addressing, ChecksumMode, ListVersion, Quirks};

/// Country code used for "none or several" (ISO 3166 reserves ZZ for user assignment).
const NO_COUNTRY: &str = "ZZ";

impl Catalogue {
    /// The provider table and the per-provider details (endpoint, notes, sources) as
    /// Markdown, in catalogue order. This is the generated part of `docs/providers.md`.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "| Provider | id | HQ | Jurisdiction | CLOUD Act | API | Regions | Addressing | Notable quirks | Prices |\n",
        );
        out.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
        for p in self.providers() {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(&p.name),
                p.id,
                country(&p.headquarters),
                p.jurisdiction,
                match (p.cloud_act, p.cloud_act_note.is_empty()) {
                    (true, true) => "yes",
                    (true, false) => "yes (disputed, see notes)",
                    (false, true) => "no",
                    (false, false) => "no (see notes)",
                },
                api(p.api),
                cell(&regions(p)),
                if p.api == Api::S3 { addressing(p.addressing) } else { "—" },
                cell(&if p.api == Api::S3 { quirk_summary(&p.quirks) } else { "—".into() }),
                price_summary(&p.prices),
            );
        }
        out.push_str("\n## Providers in detail\n");
        for p in self.providers() {
            details(&mut out, p);
        }
        out
    }
}

fn details(out: &mut String, p: &Provider) {
    let _ = write!(out, "\n### {} (`{}`)\n\n", p.name, p.id);
    if !p.aliases.is_empty() {
        let aliases: Vec<String> = p.aliases.iter().map(|a| format!("`{a}`")).collect();
        let _ = writeln!(out, "- Also accepted as: {}", aliases.join(", "));
    }
    if p.endpoint.is_empty() && !p.has_endpoint() {
        out.push_str("- Endpoint: none fixed; give your server's URL\n");
    } else if !p.endpoint.is_empty() {
        let _ = writeln!(out, "- Endpoint: `{}`", p.endpoint);
    }
    for r in p.regions.iter().filter(|r| r.endpoint.is_some() || r.signing_region.is_some()) {
        let mut parts = Vec::new();
        if let Some(e) = &r.endpoint {
            parts.push(format!("endpoint `{e}`"));
        }
        if let Some(s) = &r.signing_region {
            parts.push(format!("signs as `{s}`"));
        }
        let _ = writeln!(out, "- Region `{}`: {}", r.code, parts.join(", "));
    }
    for (name, meaning) in &p.variables {
        let _ = writeln!(out, "- `{{{name}}}`: {meaning}");
    }
    if let Some(r) = p.default_region() {
        let _ = writeln!(out, "- Default region: `{}`", r.code);
    }
    if !p.cloud_act_note.trim().is_empty() {
        let _ = writeln!(out, "- CLOUD Act: {}", words(&p.cloud_act_note));
    }
    if !p.notes.trim().is_empty() {
        let _ = writeln!(out, "- Notes: {}", words(&p.notes));
    }
    price_details(out, &p.prices);
    out.push_str("- Sources:\n");
    for s in &p.sources {
        let _ = writeln!(out, "  - <{s}>");
    }
}

fn words(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn api(a: Api) -> &'static str {
    match a {
        Api::S3 => "S3",
        Api::Gcs => "GCS",
        Api::Azure => "Azure Blob",
    }
}

fn amount(a: Amount) -> String {
    match a {
        Amount::Known(v) => format!("{v}"),
        Amount::Unknown => "unknown".into(),
    }
}

/// Which sections are known, with the day each was read.
fn price_summary(p: &Prices) -> String {
    if !p.any_known() {
        return "unknown".into();
    }
    let mut parts = Vec::new();
    for (name, src) in p.sources() {
        parts.push(format!("{name} ({})", src.read_on));
    }
    parts.join(", ")
}

fn price_details(out: &mut String, p: &Prices) {
    let currency = p.currency.as_deref().unwrap_or("");
    let gb = match p.gb_bytes {
        Some(1_073_741_824) => "GB of 2^30 bytes",
        _ => "GB",
    };
    let mut lines = Vec::new();
    match &p.storage {
        Priced::Known(s) => lines.push(format!(
            "storage {} {currency} per {gb}-month, {} {gb} free (<{}>, read {})",
            amount(s.per_gb_month),
            amount(s.free_gb),
            s.source.url,
            s.source.read_on
        )),
        Priced::Unknown => lines.push("storage unknown".into()),
    }
    match &p.egress {
        Priced::Known(e) => {
            let mut tiers: Vec<String> = e
                .tiers
                .iter()
                .map(|t| match t.up_to_gb {
                    Some(top) => format!("{} up to {top} {gb}", t.per_gb),
                    None => format!("{} beyond", t.per_gb),
                })
                .collect();
            if e.tiers.last().is_none_or(|t| t.up_to_gb.is_some()) {
                tiers.push("unknown beyond".into());
            }
            lines.push(format!(
                "egress {} {gb} a month free, then {currency} per {gb}: {} (<{}>, read {})",
                amount(e.free_gb_month),
                tiers.join("; "),
                e.source.url,
                e.source.read_on
            ));
        }
        Priced::Unknown => lines.push("egress unknown".into()),
    }
    match &p.requests {
        Priced::Known(r) => lines.push(format!(
            "requests per 1,000 in {currency}: writes {}, reads {}, listings {}, deletes {} (<{}>, read {})",
            amount(r.write_per_1000),
            amount(r.read_per_1000),
            amount(r.list_per_1000),
            amount(r.delete_per_1000),
            r.source.url,
            r.source.read_on
        )),
        Priced::Unknown => lines.push("requests unknown".into()),
    }
    if let Some(sw) = &p.switching {
        lines.push(format!(
            "switching away: egress {} — {} (<{}>, read {})",
            if sw.free_egress { "free" } else { "charged" },
            sw.conditions,
            sw.source.url,
            sw.source.read_on
        ));
    }
    let scope = if p.applies_to.is_empty() { String::new() } else { format!(" ({})", p.applies_to) };
    let _ = writeln!(out, "- Prices{scope}: {}", lines.join("; "));
    if !p.notes.trim().is_empty() {
        let _ = writeln!(out, "- Price notes: {}", words(&p.notes));
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn country(code: &str) -> &str {
    if code == NO_COUNTRY {
        "—"
    } else {
        code
    }
}

fn addressing(a: Addressing) -> &'static str {
    match a {
        Addressing::Path => "path",
        Addressing::VirtualHosted => "virtual-hosted",
    }
}

fn regions(p: &Provider) -> String {
    if p.regions.is_empty() {
        return if p.has_endpoint() { "one endpoint".into() } else { "yours".into() };
    }
    let codes: Vec<&str> = p.regions.iter().map(|r| r.code.as_str()).collect();
    format!("{}: {}", codes.len(), codes.join(", "))
}

/// What departs from AWS behaviour, in words; AWS itself gets its own strengths listed.
fn quirk_summary(q: &Quirks) -> String {
    let aws = Quirks {
        checksums: ChecksumMode::Always,
        delete_needs_content_md5: false,
        put_if_none_match: true,
        put_if_match: true,
        versioning: true,
        ..Quirks::default()
    };
    let mut out = Vec::new();
    if q.checksums == ChecksumMode::WhenRequired {
        out.push("checksums only when required".to_string());
    }
    if q.list_version == ListVersion::V1 {
        out.push("list v1".into());
    }
    if q.list_by_level {
        out.push("listed level by level (flat listing out of order)".into());
    }
    if q.max_parts != aws.max_parts {
        out.push(format!("max {} parts", q.max_parts));
    }
    if q.min_part_size != aws.min_part_size || q.max_part_size != aws.max_part_size {
        out.push(format!("parts {}–{}", bytes(q.min_part_size), bytes(q.max_part_size)));
    }
    if q.uniform_part_size {
        out.push("equal part sizes".into());
    }
    if q.max_object_size != aws.max_object_size {
        out.push(format!("objects ≤ {}", bytes(q.max_object_size)));
    }
    if q.batch_delete_max != aws.batch_delete_max {
        out.push(if q.batch_delete_max == 1 {
            "no batch delete".to_string()
        } else {
            format!("batch delete ≤ {}", q.batch_delete_max)
        });
    }
    if !q.server_side_copy {
        out.push("no server-side copy".into());
    }
    match (q.put_if_none_match, q.put_if_match) {
        (true, true) => out.push("conditional put (create, CAS)".into()),
        (true, false) => out.push("conditional create only".into()),
        (false, true) => out.push("conditional CAS only".into()),
        (false, false) => {}
    }
    if q.put_if_match && q.put_if_match_bare_etag {
        out.push("If-Match takes the bare etag".into());
    }
    if (q.put_if_none_match || q.put_if_match) && !q.multipart_conditions {
        out.push("no conditions on multipart uploads".into());
    }
    if q.versioning {
        out.push("versioning".into());
    }
    if out.is_empty() {
        "—".into()
    } else {
        out.join("; ")
    }
}

fn bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 4] = [("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if n >= size && n.is_multiple_of(size) {
            return format!("{} {unit}", n / size);
        }
    }
    format!("{n} B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(bytes(5 << 20), "5 MiB");
        assert_eq!(bytes(5 << 40), "5 TiB");
        assert_eq!(bytes(100_000), "100000 B");
    }

    #[test]
    fn aws_defaults_need_no_words_but_departures_do() {
        let scw = Quirks { max_parts: 1000, ..Quirks::default() };
        let s = quirk_summary(&scw);
        assert!(s.contains("max 1000 parts"), "{s}");
        assert!(s.contains("checksums only when required"), "{s}");
    }
}
