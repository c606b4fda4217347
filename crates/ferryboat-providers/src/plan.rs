//! The exit plan: what moving a bucket from one catalogued provider to another costs in
//! requests, egress, storage and time, from a summary of the source listing and the two
//! providers' list prices. Pure arithmetic, so the CLI's `plan` and a mirror's dry run give
//! the same figures; the listing itself is read elsewhere (`ferryboat_mirror::plan`).
//!
//! ```
//! use ferryboat_providers::plan::{ExitPlan, PlanOptions, Workload};
//! use ferryboat_providers::prices::Day;
//!
//! let mut w = Workload::new(8 << 20);
//! w.add(1 << 20);
//! w.add(20 << 20); // three 8 MiB parts
//! let cat = ferryboat_providers::catalogue();
//! let opts = PlanOptions::new(Day::parse("2026-12-01").unwrap());
//! let plan = ExitPlan::compute(&w, cat.get("aws")?, cat.get("scaleway")?, &opts)?;
//! assert_eq!(plan.requests.source.get, 2);
//! assert_eq!(plan.requests.destination.writes(), 1 + 3 + 2);
//! assert!(plan.egress.list_price.amount.is_some(), "AWS egress tiers are catalogued");
//! assert!(plan.destination_storage_month.amount.is_none(), "Scaleway's price was not read");
//! # Ok::<(), ferryboat_core::Error>(())
//! ```

use ferryboat_core::{Error, Result};
use serde::Serialize;

use crate::prices::{DataActRule, Day, Priced};
use crate::provider::{Api, Provider};

/// What the source holds, as far as a copy is concerned: summed one object at a time while
/// the listing streams, never the listing itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workload {
    /// Objects to copy.
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Objects larger than the part size, sent as multipart uploads.
    pub multipart_objects: u64,
    /// Parts of those uploads.
    pub parts: u64,
    /// The part size the copy uses (the mirror's `part_size`).
    pub part_size: u64,
}

impl Workload {
    /// An empty workload for copies with `part_size`-byte parts (at least 1).
    pub fn new(part_size: u64) -> Workload {
        Workload { objects: 0, bytes: 0, multipart_objects: 0, parts: 0, part_size: part_size.max(1) }
    }

    /// Counts one object of `size` bytes: one PUT, or (larger than the part size, as the
    /// mirror does) a multipart upload of `ceil(size / part_size)` parts.
    pub fn add(&mut self, size: u64) {
        self.objects += 1;
        self.bytes = self.bytes.saturating_add(size);
        if size > self.part_size {
            self.multipart_objects += 1;
            self.parts += size.div_ceil(self.part_size);
        }
    }
}

/// How the plan is to be computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanOptions {
    /// The day of the switch, which decides the Data Act rule.
    pub day: Day,
    /// Throughput of the machine doing the copy, bytes per second.
    pub bandwidth_bytes_per_sec: f64,
    /// Requests in flight at once.
    pub concurrency: u32,
    /// Time one request takes apart from moving its bytes, in milliseconds.
    pub request_latency_ms: f64,
    /// Objects already at the destination, which its listing reads too.
    pub destination_objects: u64,
}

impl PlanOptions {
    /// Defaults: 100 MB/s, 16 requests at once, 50 ms a request, an empty destination.
    pub fn new(day: Day) -> PlanOptions {
        PlanOptions {
            day,
            bandwidth_bytes_per_sec: 100e6,
            concurrency: 16,
            request_latency_ms: 50.0,
            destination_objects: 0,
        }
    }
}

/// Requests on one side, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RequestCounts {
    /// Listing pages.
    pub list_pages: u64,
    /// Metadata reads.
    pub head: u64,
    /// Object reads.
    pub get: u64,
    /// Single-request uploads.
    pub put: u64,
    /// Parts of multipart uploads.
    pub parts: u64,
    /// Multipart create and complete calls (two per upload).
    pub multipart_calls: u64,
    /// Server-side copies.
    pub copy: u64,
    /// Deletions.
    pub delete: u64,
}

impl RequestCounts {
    /// Requests of the write class: uploads, parts, multipart calls and copies.
    pub fn writes(&self) -> u64 {
        self.put + self.parts + self.multipart_calls + self.copy
    }

    /// Every request.
    pub fn total(&self) -> u64 {
        self.list_pages + self.head + self.get + self.writes() + self.delete
    }
}

/// Requests on both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requests {
    /// Read from the source.
    pub source: RequestCounts,
    /// Sent to the destination.
    pub destination: RequestCounts,
}

/// A cost, or why it cannot be given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cost {
    /// The amount; `None` where a price it needs is unknown.
    pub amount: Option<f64>,
    /// Its currency.
    pub currency: Option<String>,
    /// How it was computed, or which price is missing.
    pub basis: String,
}

impl Cost {
    fn unknown(basis: impl Into<String>) -> Cost {
        Cost { amount: None, currency: None, basis: basis.into() }
    }
}

/// Egress out of the source, at list price and on a switch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Egress {
    /// Bytes leaving the source through this machine.
    pub bytes: u64,
    /// At the source's list price, tiers and free allowance applied (one month's volume).
    pub list_price: Cost,
    /// What a switching customer may be billed under the Data Act and the source's own
    /// published terms: `Some(0)` where the charge is banned or waived, the list price as an
    /// upper bound where it is capped at cost, `None` where unknown.
    pub on_switch: Cost,
}

/// The Data Act rule that applies on the plan's day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataAct {
    /// The day of the switch.
    pub day: Day,
    /// The rule.
    pub rule: DataActRule,
    /// The rule in words.
    pub explanation: String,
}

/// How long the copy takes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Elapsed {
    /// Seconds.
    pub seconds: f64,
    /// The formula, with the inputs.
    pub formula: String,
}

/// One side of the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    /// Catalogue id.
    pub provider: String,
    /// Display name.
    pub name: String,
    /// Jurisdiction code.
    pub jurisdiction: String,
    /// Whether the CLOUD Act reaches it.
    pub cloud_act: bool,
    /// The API it speaks.
    pub api: Api,
}

/// What leaving the source for the destination costs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExitPlan {
    /// The source.
    pub source: Side,
    /// The destination.
    pub destination: Side,
    /// What is copied.
    pub workload: Workload,
    /// Requests on both sides, streaming every object through this machine (what ferry's
    /// mirror does between providers).
    pub requests: Requests,
    /// Egress out of the source.
    pub egress: Egress,
    /// Source requests at its list prices.
    pub source_requests: Cost,
    /// Destination requests at its list prices.
    pub destination_requests: Cost,
    /// Storing the copy at the destination for a month.
    pub destination_storage_month: Cost,
    /// The copy's duration.
    pub elapsed: Elapsed,
    /// The Data Act rule on the day of the switch.
    pub data_act: DataAct,
    /// A path that avoids streaming through this machine, where one exists, in words.
    pub server_side: Option<String>,
}

const PAGE_S3_GCS: u64 = 1000;
const PAGE_AZURE: u64 = 5000;

fn page_size(api: Api) -> u64 {
    match api {
        Api::S3 | Api::Gcs => PAGE_S3_GCS,
        Api::Azure => PAGE_AZURE,
    }
}

/// Listing pages for `n` entries (an empty listing is one page).
fn pages(n: u64, api: Api) -> u64 {
    n.div_ceil(page_size(api)).max(1)
}

fn side(p: &Provider) -> Side {
    Side {
        provider: p.id.clone(),
        name: p.name.clone(),
        jurisdiction: p.jurisdiction.clone(),
        cloud_act: p.cloud_act,
        api: p.api,
    }
}

fn gb(bytes: u64, p: &Provider) -> Option<f64> {
    p.prices.gb_bytes.map(|unit| bytes as f64 / unit as f64)
}

/// Prices `counts` with `p`'s request prices; `None` where a kind that occurs is unpriced.
fn request_cost(p: &Provider, counts: &RequestCounts) -> Cost {
    let Priced::Known(r) = &p.prices.requests else {
        return Cost::unknown(format!("{}'s request prices are unknown", p.id));
    };
    let kinds = [
        ("writes", counts.writes(), r.write_per_1000),
        ("reads", counts.get + counts.head, r.read_per_1000),
        ("listings", counts.list_pages, r.list_per_1000),
        ("deletes", counts.delete, r.delete_per_1000),
    ];
    let mut total = 0.0;
    let mut parts = Vec::new();
    for (name, n, price) in kinds {
        if n == 0 {
            continue;
        }
        match price.known() {
            Some(per) => {
                total += n as f64 / 1000.0 * per;
                parts.push(format!("{n} {name} at {per}/1000"));
            }
            None => return Cost::unknown(format!("{}'s price for {name} is unknown", p.id)),
        }
    }
    Cost { amount: Some(total), currency: p.prices.currency.clone(), basis: parts.join(" + ") }
}

fn storage_cost(p: &Provider, bytes: u64) -> Cost {
    let Priced::Known(s) = &p.prices.storage else {
        return Cost::unknown(format!("{}'s storage price is unknown", p.id));
    };
    let (Some(size), Some(per), Some(free)) = (gb(bytes, p), s.per_gb_month.known(), s.free_gb.known()) else {
        return Cost::unknown(format!("{}'s storage price per GB-month or free allowance is unknown", p.id));
    };
    let billable = (size - free).max(0.0);
    Cost {
        amount: Some(billable * per),
        currency: p.prices.currency.clone(),
        basis: format!("{billable:.6} GB past {free} free at {per} per GB-month"),
    }
}

fn egress(source: &Provider, bytes: u64, rule: DataActRule) -> Egress {
    let list_price = match (&source.prices.egress, gb(bytes, source)) {
        (Priced::Known(e), Some(size)) => match e.cost(size) {
            Some(amount) => Cost {
                amount: Some(amount),
                currency: source.prices.currency.clone(),
                basis: format!("{size:.6} GB in one month through {}'s tiers", source.id),
            },
            None => Cost::unknown(format!("{}'s egress price at {size:.0} GB a month is unknown", source.id)),
        },
        _ => Cost::unknown(format!("{}'s egress price is unknown", source.id)),
    };
    let waived = source.prices.switching.as_ref().filter(|s| s.free_egress);
    let on_switch = if let Some(offer) = waived {
        Cost {
            amount: Some(0.0),
            currency: source.prices.currency.clone(),
            basis: format!("{} waives switching egress: {} ({})", source.id, offer.conditions, offer.source.url),
        }
    } else {
        match rule {
            DataActRule::Banned => Cost {
                amount: Some(0.0),
                currency: list_price.currency.clone(),
                basis: "EU Data Act Art. 29(1): no switching charges from 12 January 2027".into(),
            },
            DataActRule::CappedAtCost => Cost {
                amount: list_price.amount,
                currency: list_price.currency.clone(),
                basis:
                    "EU Data Act Art. 29(2)-(3): at most the provider's direct costs; the list price is the upper bound"
                        .into(),
            },
            DataActRule::NotYetApplicable => list_price.clone(),
        }
    };
    Egress { bytes, list_price, on_switch }
}

fn server_side(source: &Provider, destination: &Provider) -> Option<String> {
    if source.id == destination.id {
        return Some(format!(
            "both sides are {}: a server-side copy inside the provider moves no byte over the internet, so no \
             internet egress (ferry's mirror copies server-side within one store; between regions the \
             provider's inter-region rate, not catalogued, applies)",
            source.name
        ));
    }
    if destination.api == Api::Azure {
        return Some(
            "Azure's Put Blob From URL / Put Block From URL would make the destination read the source \
             itself (the bytes skip this machine, and still leave the source, which bills its egress as usual); \
             ferry's mirror does not use them yet and streams the bytes through this machine"
                .into(),
        );
    }
    None
}

impl ExitPlan {
    /// The plan for copying `workload` from `source` to `destination` with `opts`.
    ///
    /// Fails with `InvalidConfig` on a bandwidth that is not a positive number, a zero
    /// concurrency or a negative latency.
    pub fn compute(
        workload: &Workload,
        source: &Provider,
        destination: &Provider,
        opts: &PlanOptions,
    ) -> Result<ExitPlan> {
        if !(opts.bandwidth_bytes_per_sec.is_finite() && opts.bandwidth_bytes_per_sec > 0.0) {
            return Err(Error::invalid_config("the plan's bandwidth must be a positive number of bytes per second"));
        }
        if opts.concurrency == 0 {
            return Err(Error::invalid_config("the plan's concurrency must be at least 1"));
        }
        if !(opts.request_latency_ms.is_finite() && opts.request_latency_ms >= 0.0) {
            return Err(Error::invalid_config("the plan's request latency must be a number of milliseconds >= 0"));
        }
        let single = workload.objects - workload.multipart_objects;
        let src = RequestCounts {
            list_pages: pages(workload.objects, source.api),
            get: workload.objects,
            ..RequestCounts::default()
        };
        let dst = RequestCounts {
            list_pages: pages(opts.destination_objects, destination.api),
            put: single,
            parts: workload.parts,
            multipart_calls: 2 * workload.multipart_objects,
            ..RequestCounts::default()
        };
        let rule = DataActRule::on(opts.day);
        let transfer = workload.bytes as f64 / opts.bandwidth_bytes_per_sec;
        let all = src.total() + dst.total();
        let waits = all as f64 * opts.request_latency_ms / 1000.0 / f64::from(opts.concurrency);
        let elapsed = Elapsed {
            seconds: transfer + waits,
            formula: format!(
                "{} bytes / {} B/s + {all} requests x {} ms / {} at once",
                workload.bytes, opts.bandwidth_bytes_per_sec, opts.request_latency_ms, opts.concurrency
            ),
        };
        Ok(ExitPlan {
            source: side(source),
            destination: side(destination),
            workload: workload.clone(),
            source_requests: request_cost(source, &src),
            destination_requests: request_cost(destination, &dst),
            requests: Requests { source: src, destination: dst },
            egress: egress(source, workload.bytes, rule),
            destination_storage_month: storage_cost(destination, workload.bytes),
            elapsed,
            data_act: DataAct { day: opts.day, rule, explanation: rule.explain().into() },
            server_side: server_side(source, destination),
        })
    }
}

fn money(c: &Cost) -> String {
    match (c.amount, &c.currency) {
        (Some(a), Some(cur)) => format!("{a:.2} {cur}"),
        (Some(a), None) => format!("{a:.2}"),
        (None, _) => format!("unknown ({})", c.basis),
    }
}

/// A summary for people; [`ExitPlan`] serialises for machines.
impl std::fmt::Display for ExitPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (s, d) = (&self.requests.source, &self.requests.destination);
        writeln!(
            f,
            "exit plan: {} ({}) -> {} ({})",
            self.source.name, self.source.jurisdiction, self.destination.name, self.destination.jurisdiction
        )?;
        writeln!(
            f,
            "  objects     {} ({} bytes; {} multipart, {} parts)",
            self.workload.objects, self.workload.bytes, self.workload.multipart_objects, self.workload.parts
        )?;
        writeln!(f, "  source      {} listing pages, {} GETs: {}", s.list_pages, s.get, money(&self.source_requests))?;
        writeln!(
            f,
            "  destination {} listing pages, {} PUTs, {} parts, {} multipart calls: {}",
            d.list_pages,
            d.put,
            d.parts,
            d.multipart_calls,
            money(&self.destination_requests)
        )?;
        writeln!(
            f,
            "  egress      list price {}; on a switch {}",
            money(&self.egress.list_price),
            money(&self.egress.on_switch)
        )?;
        writeln!(f, "  storage     {} a month at the destination", money(&self.destination_storage_month))?;
        writeln!(f, "  time        {:.0} s ({})", self.elapsed.seconds, self.elapsed.formula)?;
        writeln!(f, "  data act    {}: {}", self.data_act.day, self.data_act.explanation)?;
        if let Some(path) = &self.server_side {
            writeln!(f, "  server-side {path}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;

    /// Two providers with round prices, so every figure can be worked out by hand.
    const SOURCE: &str = r#"
id = "src"
name = "Source Cloud"
headquarters = "US"
jurisdiction = "US"
cloud_act = true
endpoint = "https://s3.{region}.src.example"
addressing = "path"
sources = ["https://src.example/docs"]
[prices]
currency = "USD"
gb_bytes = 1000000000
storage = "unknown"
[prices.egress]
free_gb_month = 1
tiers = [{ up_to_gb = 3, per_gb = 0.10 }, { per_gb = 0.05 }]
source = { url = "https://src.example/pricing", read_on = "2026-11-30" }
[prices.requests]
write_per_1000 = 5.0
read_per_1000 = 0.4
list_per_1000 = 5.0
delete_per_1000 = 0
source = { url = "https://src.example/pricing", read_on = "2026-11-30" }
"#;
    const DESTINATION: &str = r#"
id = "dst"
name = "Destination Cloud"
headquarters = "FR"
jurisdiction = "EU"
cloud_act = false
endpoint = "https://s3.{region}.dst.example"
addressing = "path"
sources = ["https://dst.example/docs"]
[prices]
currency = "USD"
gb_bytes = 1000000000
egress = "unknown"
[prices.storage]
per_gb_month = 0.02
free_gb = 0.5
source = { url = "https://dst.example/pricing", read_on = "2026-11-30" }
[prices.requests]
write_per_1000 = 1.0
read_per_1000 = "unknown"
list_per_1000 = 2.0
delete_per_1000 = 0
source = { url = "https://dst.example/pricing", read_on = "2026-11-30" }
"#;

    fn cat() -> Catalogue {
        Catalogue::load(&[("src.toml", SOURCE), ("dst.toml", DESTINATION)]).unwrap()
    }

    /// 2,500 objects of 1 MB and two of 2.5 GB with 1 GB parts: 7.5 GB in all.
    fn workload() -> Workload {
        let mut w = Workload::new(1_000_000_000);
        for _ in 0..2_500 {
            w.add(1_000_000);
        }
        w.add(2_500_000_000);
        w.add(2_500_000_000);
        w
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn a_fixed_bucket_against_a_fixed_price_table() {
        let c = cat();
        let (src, dst) = (c.get("src").unwrap(), c.get("dst").unwrap());
        let mut opts = PlanOptions::new(Day::parse("2025-06-01").unwrap());
        opts.bandwidth_bytes_per_sec = 1e8;
        opts.concurrency = 10;
        opts.request_latency_ms = 20.0;
        let w = workload();
        assert_eq!((w.objects, w.bytes, w.multipart_objects, w.parts), (2_502, 7_500_000_000, 2, 6));
        let plan = ExitPlan::compute(&w, src, dst, &opts).unwrap();

        // Source: 2,502 entries in 3 pages of 1,000, one GET each.
        assert_eq!(plan.requests.source, RequestCounts { list_pages: 3, get: 2_502, ..Default::default() });
        // Destination: one (empty) listing page, 2,500 PUTs, 6 parts, 2 x 2 multipart calls.
        let d = &plan.requests.destination;
        assert_eq!((d.list_pages, d.put, d.parts, d.multipart_calls), (1, 2_500, 6, 4));
        assert_eq!(d.writes(), 2_510);

        // Egress: 7.5 GB; 1 free, 2 at 0.10 (up to 3), 4.5 at 0.05.
        assert!(close(plan.egress.list_price.amount, 2.0 * 0.10 + 4.5 * 0.05), "{:?}", plan.egress);
        // Before the Data Act applied, the list price is what a switch costs.
        assert_eq!(plan.data_act.rule, DataActRule::NotYetApplicable);
        assert_eq!(plan.egress.on_switch.amount, plan.egress.list_price.amount);
        // Source requests: 2,502 reads at 0.4/1000 + 3 listing pages at 5/1000.
        assert!(close(plan.source_requests.amount, 2.502 * 0.4 + 0.003 * 5.0), "{:?}", plan.source_requests);
        // Destination requests: 2,510 writes at 1/1000 + 1 listing page at 2/1000; reads are
        // unpriced there, but none are sent.
        assert!(close(plan.destination_requests.amount, 2.510 + 0.002), "{:?}", plan.destination_requests);
        // Storage: 7.5 GB - 0.5 free at 0.02.
        assert!(close(plan.destination_storage_month.amount, 7.0 * 0.02));
        // Time: 75 s of transfer + (2,505 + 2,511) requests x 20 ms / 10.
        assert!((plan.elapsed.seconds - (75.0 + 5_016.0 * 0.02 / 10.0)).abs() < 1e-9, "{:?}", plan.elapsed);
        assert_eq!(plan.server_side, None);
        let text = plan.to_string();
        assert!(text.contains("2502 GETs") && text.contains("1.02 USD") && text.contains("0.14 USD a month"), "{text}");

        // The other way round: dst's egress and src's storage are unknown, and say so.
        let back = ExitPlan::compute(&w, dst, src, &opts).unwrap();
        assert_eq!(back.egress.list_price.amount, None);
        assert!(back.egress.list_price.basis.contains("dst"), "{}", back.egress.list_price.basis);
        assert_eq!(back.destination_storage_month.amount, None);
        // dst's read price is unknown and GETs are sent: unknown, not zero.
        assert_eq!(back.source_requests.amount, None);
        assert!(back.source_requests.basis.contains("reads"), "{}", back.source_requests.basis);
        assert!(back.to_string().contains("unknown (dst's egress price is unknown)"), "{back}");
    }

    #[test]
    fn the_data_act_decides_what_a_switch_may_cost() {
        let c = cat();
        let (src, dst) = (c.get("src").unwrap(), c.get("dst").unwrap());
        let w = workload();
        let on = |day: &str| ExitPlan::compute(&w, src, dst, &PlanOptions::new(Day::parse(day).unwrap())).unwrap();
        let capped = on("2026-12-01");
        assert_eq!(capped.data_act.rule, DataActRule::CappedAtCost);
        assert_eq!(capped.egress.on_switch.amount, capped.egress.list_price.amount, "the list price bounds it");
        assert!(capped.egress.on_switch.basis.contains("29(2)"));
        let banned = on("2027-01-12");
        assert_eq!(banned.data_act.rule, DataActRule::Banned);
        assert_eq!(banned.egress.on_switch.amount, Some(0.0));
        assert!(banned.egress.list_price.amount.is_some(), "the list price is still shown");
    }

    #[test]
    fn server_side_paths_and_bad_options() {
        let c = cat();
        let src = c.get("src").unwrap();
        let w = workload();
        let opts = PlanOptions::new(Day::parse("2026-12-01").unwrap());
        let same = ExitPlan::compute(&w, src, src, &opts).unwrap();
        assert!(same.server_side.as_deref().is_some_and(|s| s.contains("no internet egress")));
        let azure = crate::catalogue().get("bleu").unwrap();
        let to_azure = ExitPlan::compute(&w, src, azure, &opts).unwrap();
        assert!(to_azure.server_side.as_deref().is_some_and(|s| s.contains("From URL") && s.contains("does not use")));
        assert_eq!(to_azure.requests.destination.list_pages, 1);

        for bad in [
            PlanOptions { bandwidth_bytes_per_sec: 0.0, ..opts.clone() },
            PlanOptions { bandwidth_bytes_per_sec: f64::NAN, ..opts.clone() },
            PlanOptions { concurrency: 0, ..opts.clone() },
            PlanOptions { request_latency_ms: -1.0, ..opts.clone() },
        ] {
            let err = ExitPlan::compute(&w, src, src, &bad).unwrap_err();
            assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
        }
    }

    #[test]
    fn a_provider_that_waives_switching_egress_costs_nothing_to_leave() {
        let otc = crate::catalogue().get("otc").unwrap();
        let aws = crate::catalogue().get("aws").unwrap();
        let plan =
            ExitPlan::compute(&workload(), otc, aws, &PlanOptions::new(Day::parse("2026-12-01").unwrap())).unwrap();
        assert_eq!(plan.egress.list_price.amount, None, "OTC's egress scale was not read");
        assert_eq!(plan.egress.on_switch.amount, Some(0.0));
        assert!(plan.egress.on_switch.basis.contains("open-telekom-cloud.com"));
    }
}
