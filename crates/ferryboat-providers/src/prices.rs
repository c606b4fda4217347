//! List prices: storage, egress and requests, each with the page it was read from and the
//! day it was read. A value nobody could read from a source is [`Amount::Unknown`], never a
//! guess, and every sum that needs it says so instead of answering.

use serde::{Deserialize, Serialize};

/// A price, or the explicit statement that no source gave one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Amount {
    /// The value read from the source.
    Known(f64),
    /// No source gave a value: written `"unknown"` in the provider file.
    Unknown,
}

impl Amount {
    /// The value, if known.
    pub fn known(self) -> Option<f64> {
        match self {
            Amount::Known(v) => Some(v),
            Amount::Unknown => None,
        }
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(v) if v.is_finite() && v >= 0.0 => Ok(Amount::Known(v)),
            Raw::Number(v) => Err(serde::de::Error::custom(format!("a price must be a finite number >= 0, got {v}"))),
            Raw::Text(t) if t == "unknown" => Ok(Amount::Unknown),
            Raw::Text(t) => Err(serde::de::Error::custom(format!("a price is a number or \"unknown\", got {t:?}"))),
        }
    }
}

/// A price section: read from a source, or explicitly unknown as a whole.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Priced<T> {
    /// Read from a source.
    Known(T),
    /// Nobody read it from a source: written `"unknown"` in the provider file.
    Unknown,
}

impl<T> Priced<T> {
    /// The section, if read from a source.
    pub fn known(&self) -> Option<&T> {
        match self {
            Priced::Known(t) => Some(t),
            Priced::Unknown => None,
        }
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Priced<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Through a value, so a mistake inside a section keeps its own message.
        match toml::Value::deserialize(d)? {
            toml::Value::String(t) if t == "unknown" => Ok(Priced::Unknown),
            toml::Value::String(t) => {
                Err(serde::de::Error::custom(format!("a price section is a table or \"unknown\", got {t:?}")))
            }
            other => T::deserialize(other).map(Priced::Known).map_err(serde::de::Error::custom),
        }
    }
}

/// Where a price section was read: the page and the day (`YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The `https://` page the figures were read from.
    pub url: String,
    /// The day they were read, `YYYY-MM-DD`.
    pub read_on: String,
}

/// Storage per GB-month (standard class).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StoragePrice {
    /// Price of one GB stored for a month, past any allowance.
    pub per_gb_month: Amount,
    /// GB stored free each month.
    #[serde(default = "zero")]
    pub free_gb: Amount,
    /// Where the figures come from.
    pub source: Source,
}

/// One egress tier: the month's GB from the previous tier's bound up to `up_to_gb` cost
/// `per_gb` each (bounds count every GB of the month, the free allowance included, as AWS
/// writes its tiers); the last tier may have no bound.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Upper bound of the tier in billable GB a month; `None` for the last tier.
    #[serde(default)]
    pub up_to_gb: Option<f64>,
    /// Price per GB in this tier.
    pub per_gb: f64,
}

/// Internet egress out of the provider.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EgressPrice {
    /// GB a month that leave free (before the first tier).
    #[serde(default = "zero")]
    pub free_gb_month: Amount,
    /// Tiers in ascending order; empty = the price past the allowance is unknown.
    #[serde(default)]
    pub tiers: Vec<Tier>,
    /// Where the figures come from.
    pub source: Source,
}

/// Request prices per 1,000 requests.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequestPrices {
    /// Writes: PUT, POST, copies, multipart create / part / complete.
    pub write_per_1000: Amount,
    /// Reads: GET and HEAD.
    pub read_per_1000: Amount,
    /// Listing pages.
    pub list_per_1000: Amount,
    /// Deletions.
    pub delete_per_1000: Amount,
    /// Where the figures come from.
    pub source: Source,
}

/// A provider's list prices for its standard storage class.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    /// ISO 4217 currency of every figure (`EUR`, `USD`); needed once any section is known.
    #[serde(default)]
    pub currency: Option<String>,
    /// Bytes in the provider's billing GB: 1,000,000,000 or 1,073,741,824; needed once any
    /// section is known.
    #[serde(default)]
    pub gb_bytes: Option<u64>,
    /// Where these prices apply (a region, "all regions").
    #[serde(default)]
    pub applies_to: String,
    /// Storage.
    pub storage: Priced<StoragePrice>,
    /// Internet egress.
    pub egress: Priced<EgressPrice>,
    /// Requests.
    pub requests: Priced<RequestPrices>,
    /// What the provider offers a customer who leaves, where it has published it.
    #[serde(default)]
    pub switching: Option<SwitchingOffer>,
    /// What the figures leave out, for people.
    #[serde(default)]
    pub notes: String,
}

/// A provider's own published terms for customers who switch away.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchingOffer {
    /// Whether egress for the switch is free.
    pub free_egress: bool,
    /// On what terms, in words.
    pub conditions: String,
    /// Where the terms are published.
    pub source: Source,
}

fn zero() -> Amount {
    Amount::Known(0.0)
}

impl Prices {
    /// Whether any section was read from a source.
    pub fn any_known(&self) -> bool {
        self.storage.known().is_some() || self.egress.known().is_some() || self.requests.known().is_some()
    }

    /// Every source with the section it backs.
    pub fn sources(&self) -> Vec<(&'static str, &Source)> {
        let mut out = Vec::new();
        if let Some(s) = self.storage.known() {
            out.push(("storage", &s.source));
        }
        if let Some(e) = self.egress.known() {
            out.push(("egress", &e.source));
        }
        if let Some(r) = self.requests.known() {
            out.push(("requests", &r.source));
        }
        if let Some(s) = &self.switching {
            out.push(("switching", &s.source));
        }
        out
    }
}

impl EgressPrice {
    /// The cost of sending `gb` GB out in one month, walking the tiers after the free
    /// allowance; `None` where a needed figure is unknown.
    ///
    /// ```
    /// use ferryboat_providers::prices::{Amount, EgressPrice, Source, Tier};
    /// let e = EgressPrice {
    ///     free_gb_month: Amount::Known(100.0),
    ///     tiers: vec![Tier { up_to_gb: Some(1000.0), per_gb: 0.09 }, Tier { up_to_gb: None, per_gb: 0.05 }],
    ///     source: Source { url: "https://example.eu".into(), read_on: "2026-12-01".into() },
    /// };
    /// assert_eq!(e.cost(50.0), Some(0.0));
    /// // the first 100 GB free, up to 1000 at 0.09, the last 500 at 0.05
    /// assert!((e.cost(1500.0).unwrap() - (900.0 * 0.09 + 500.0 * 0.05)).abs() < 1e-9);
    /// ```
    pub fn cost(&self, gb: f64) -> Option<f64> {
        let free = self.free_gb_month.known()?;
        if gb <= free {
            return Some(0.0);
        }
        let mut total = 0.0;
        let mut floor: f64 = 0.0;
        for tier in &self.tiers {
            let top = tier.up_to_gb.unwrap_or(f64::INFINITY);
            let (lo, hi) = (floor.max(free), gb.min(top));
            if hi > lo {
                total += (hi - lo) * tier.per_gb;
            }
            if gb <= top {
                return Some(total);
            }
            floor = top;
        }
        None
    }
}

/// A calendar day, for the Data Act's dates (no time zone: the law names days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    /// Year.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day, 1–31.
    pub day: u8,
}

impl Day {
    /// Parses `YYYY-MM-DD`.
    ///
    /// ```
    /// use ferryboat_providers::prices::Day;
    /// assert!(Day::parse("2027-01-12").is_ok());
    /// assert!(Day::parse("2027-13-01").is_err());
    /// assert!(Day::parse("12.01.2027").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Day, String> {
        let bad = || format!("{s:?} is not a date written YYYY-MM-DD");
        let parts: Vec<&str> = s.trim().split('-').collect();
        if parts.len() != 3 || parts[0].len() != 4 || parts[1].len() != 2 || parts[2].len() != 2 {
            return Err(bad());
        }
        let year: u16 = parts[0].parse().map_err(|_| bad())?;
        let month: u8 = parts[1].parse().map_err(|_| bad())?;
        let day: u8 = parts[2].parse().map_err(|_| bad())?;
        let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return Err(bad()),
        };
        if day == 0 || day > days {
            return Err(bad());
        }
        Ok(Day { year, month, day })
    }

    /// Today in UTC, from the system clock.
    pub fn today() -> Day {
        let secs =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        Day::from_days_since_epoch((secs / 86_400) as i64)
    }

    /// The civil date `days` after 1970-01-01 (Howard Hinnant's algorithm).
    fn from_days_since_epoch(days: i64) -> Day {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        Day { year, month, day }
    }
}

impl Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// The day the Data Act (Regulation (EU) 2023/2854) became applicable.
pub const DATA_ACT_APPLIES: Day = Day { year: 2025, month: 9, day: 12 };
/// From this day switching charges are banned (Article 29(1)).
pub const SWITCHING_CHARGES_BANNED: Day = Day { year: 2027, month: 1, day: 12 };

/// Which Data Act rule governs the charges of a switch made on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DataActRule {
    /// Before 12 September 2025: the regulation did not apply yet.
    NotYetApplicable,
    /// 12 September 2025 to 11 January 2027: switching charges, egress included, may not
    /// exceed the provider's costs directly linked to the switch (Article 29(2)–(3)).
    CappedAtCost,
    /// From 12 January 2027: no switching charges at all (Article 29(1)).
    Banned,
}

impl DataActRule {
    /// The rule for a switch on `day`.
    ///
    /// ```
    /// use ferryboat_providers::prices::{DataActRule, Day};
    /// let d = |s| Day::parse(s).unwrap();
    /// assert_eq!(DataActRule::on(d("2027-01-11")), DataActRule::CappedAtCost);
    /// assert_eq!(DataActRule::on(d("2027-01-12")), DataActRule::Banned);
    /// ```
    pub fn on(day: Day) -> DataActRule {
        if day < DATA_ACT_APPLIES {
            DataActRule::NotYetApplicable
        } else if day < SWITCHING_CHARGES_BANNED {
            DataActRule::CappedAtCost
        } else {
            DataActRule::Banned
        }
    }

    /// The rule in one sentence.
    pub fn explain(self) -> &'static str {
        match self {
            DataActRule::NotYetApplicable => {
                "the EU Data Act did not apply yet on this day (applicable from 12 September 2025): list prices apply"
            }
            DataActRule::CappedAtCost => {
                "EU Data Act, Art. 29(2)-(3): until 12 January 2027 a provider may charge a customer who switches \
                 (egress included) no more than its costs directly linked to the switch; the list egress price is \
                 an upper bound, not what may be billed"
            }
            DataActRule::Banned => {
                "EU Data Act, Art. 29(1): from 12 January 2027 a provider may not charge a customer for switching, \
                 egress included; list egress applies only to transfers that are not a switch (parallel use may be \
                 charged at cost, Art. 34)"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_from_the_epoch_are_civil_dates() {
        assert_eq!(Day::from_days_since_epoch(0).to_string(), "1970-01-01");
        assert_eq!(Day::from_days_since_epoch(20_454).to_string(), "2026-01-01");
        assert_eq!(Day::from_days_since_epoch(11_016).to_string(), "2000-02-29");
        assert!(Day::parse("2026-02-29").is_err());
        assert!(Day::parse("2028-02-29").is_ok());
    }

    #[test]
    fn data_act_boundaries() {
        let d = |s| Day::parse(s).unwrap();
        assert_eq!(DataActRule::on(d("2025-09-11")), DataActRule::NotYetApplicable);
        assert_eq!(DataActRule::on(d("2025-09-12")), DataActRule::CappedAtCost);
        assert_eq!(DataActRule::on(d("2026-12-01")), DataActRule::CappedAtCost);
        assert_eq!(DataActRule::on(d("2030-06-30")), DataActRule::Banned);
    }

    #[test]
    fn egress_tiers_and_unknowns() {
        let src = Source { url: "https://example.eu".into(), read_on: "2026-12-01".into() };
        let e = EgressPrice {
            free_gb_month: Amount::Known(0.0),
            tiers: vec![Tier { up_to_gb: Some(10.0), per_gb: 1.0 }, Tier { up_to_gb: Some(20.0), per_gb: 0.5 }],
            source: src.clone(),
        };
        assert_eq!(e.cost(15.0), Some(12.5));
        assert_eq!(e.cost(20.0), Some(15.0));
        assert_eq!(e.cost(21.0), None, "past the last bounded tier the price is unknown");
        let unknown_free = EgressPrice { free_gb_month: Amount::Unknown, tiers: vec![], source: src };
        assert_eq!(unknown_free.cost(1.0), None);
    }
}
