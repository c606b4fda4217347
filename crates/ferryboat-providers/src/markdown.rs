//! The catalogue as Markdown: the provider table and per-provider sources of
//! `docs/providers.md`, rendered from the same data the code uses so the two cannot drift.

use std::fmt::Write as _;

use crate::catalogue::Catalogue;
use crate::provider::Provider;
use crate::quirks::{Addressing, ChecksumMode, ListVersion, Quirks};

/// Country code used for "none or several" (ISO 3166 reserves ZZ for user assignment).
const NO_COUNTRY: &str = "ZZ";

impl Catalogue {
    /// The provider table and the per-provider details (endpoint, notes, sources) as
    /// Markdown, in catalogue order. This is the generated part of `docs/providers.md`.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        out.push_str("| Provider | id | HQ | Jurisdiction | CLOUD Act | Regions | Addressing | Notable quirks |\n");
        out.push_str("|---|---|---|---|---|---|---|---|\n");
        for p in self.providers() {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} | {} | {} | {} | {} |",
                cell(&p.name),
                p.id,
                country(&p.headquarters),
                p.jurisdiction,
                if p.cloud_act { "yes" } else { "no" },
                cell(&regions(p)),
                addressing(p.addressing),
                cell(&quirk_summary(&p.quirks)),
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
    if !p.notes.trim().is_empty() {
        let _ = writeln!(out, "- Notes: {}", p.notes.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    out.push_str("- Sources:\n");
    for s in &p.sources {
        let _ = writeln!(out, "  - <{s}>");
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
