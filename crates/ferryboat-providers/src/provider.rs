//! One provider and its regions: lookups, endpoint templates, `StoreInfo`.

use std::collections::BTreeMap;

use ferryboat_core::{Error, Jurisdiction, Result, StoreInfo};
use serde::Deserialize;

use crate::prices::Prices;
use crate::quirks::{Addressing, Quirks};

/// The storage API a provider speaks, which decides the backend that opens it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    /// The S3 API (the S3 backend, with this provider's [`Quirks`]).
    #[default]
    S3,
    /// The Google Cloud Storage JSON API, at the endpoint of the provider's universe domain.
    Gcs,
    /// Azure Blob Storage, at the provider's endpoint suffix.
    Azure,
}

/// The jurisdiction code of software the user runs themselves.
pub(crate) const SELF_HOSTED: &str = "SELF";

/// Longest value accepted for an endpoint variable: one DNS label.
const MAX_VARIABLE_LEN: usize = 63;

/// What `region()` answers on providers without a region list (self-hosted, generic): any code
/// is accepted there, and this placeholder carries no facts (empty code, city and country).
static UNLISTED_REGION: Region = Region {
    code: String::new(),
    city: String::new(),
    country: String::new(),
    endpoint_key: None,
    endpoint: None,
    signing_region: None,
};

/// One provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// Stable id, used as URL scheme (`ovh`, `scaleway`, …) and in `StoreInfo::provider`.
    pub id: String,
    /// Other ids accepted in URLs (`ovhcloud` for `ovh`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Display name.
    pub name: String,
    /// ISO 3166 code of the headquarters country.
    pub headquarters: String,
    /// Jurisdiction code (`EU`, `CH`, `UK`, `US`, `CN`, `SELF`, …).
    pub jurisdiction: String,
    /// Whether the US CLOUD Act reaches the provider, or may: `true` wherever a US company
    /// controls the operator, even where that reach is disputed (see `cloud_act_note`).
    pub cloud_act: bool,
    /// What is and is not settled about the CLOUD Act's reach, for entries where it is not
    /// plain (an EU operator of a US parent, a licence of US technology).
    #[serde(default)]
    pub cloud_act_note: String,
    /// The API the provider speaks (default `s3`).
    #[serde(default)]
    pub api: Api,
    /// Endpoint template, a full `https://` URL; `{region}` is replaced by the region's
    /// endpoint key (or code), other `{name}` placeholders by values from configuration (see
    /// [`Provider::variables`]). Empty for self-hosted software (the user gives the endpoint).
    #[serde(default)]
    pub endpoint: String,
    /// What each placeholder of the endpoint template other than `{region}` means, by name
    /// (`account` for Cloudflare R2, `namespace` for Oracle Cloud).
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// Bucket addressing.
    pub addressing: Addressing,
    /// The region used when configuration names none, if one makes sense for this provider.
    #[serde(default)]
    pub default_region: Option<String>,
    /// Regions.
    #[serde(default)]
    pub regions: Vec<Region>,
    /// S3 departures.
    #[serde(default)]
    pub quirks: Quirks,
    /// List prices, each section with its source and date, or explicitly unknown.
    pub prices: Prices,
    /// Where each fact comes from.
    pub sources: Vec<String>,
    /// Free-form notes for people; facts that could not be checked say "(unverified)".
    #[serde(default)]
    pub notes: String,
}

/// One region of a provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Region code as the provider names it (`gra`, `fr-par`, `fsn1`); also the SigV4 signing
    /// region.
    pub code: String,
    /// City (or the provider's name for the location).
    pub city: String,
    /// ISO 3166 country code.
    pub country: String,
    /// What replaces `{region}` in the endpoint template, when it differs from `code`.
    #[serde(default)]
    pub endpoint_key: Option<String>,
    /// A full endpoint for this region when the template does not fit it.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The SigV4 signing region when it differs from `code` (Infomaniak's clusters all sign
    /// as `us-east-1`; see [`Region::signing_region`]).
    #[serde(default)]
    pub signing_region: Option<String>,
}

impl Region {
    /// The region to sign requests for: `signing_region` if set, else `code`.
    pub fn signing_region(&self) -> &str {
        self.signing_region.as_deref().unwrap_or(&self.code)
    }
}

impl Provider {
    /// The region with this code (ASCII case-insensitive), or an error listing the valid ones.
    ///
    /// Providers without a region list (self-hosted software, `generic`) accept any code: the
    /// answer is then a placeholder [`Region`] with empty fields, and the caller's code is the
    /// one to sign with.
    ///
    /// ```
    /// let scw = ferryboat_providers::catalogue().get("scaleway").unwrap();
    /// assert_eq!(scw.region("fr-par").unwrap().city, "Paris");
    /// assert!(scw.region("mars-1").is_err());
    /// ```
    pub fn region(&self, code: &str) -> Result<&Region> {
        if self.regions.is_empty() {
            return Ok(&UNLISTED_REGION);
        }
        let code = code.trim();
        self.regions.iter().find(|r| r.code.eq_ignore_ascii_case(code)).ok_or_else(|| {
            let valid: Vec<&str> = self.regions.iter().map(|r| r.code.as_str()).collect();
            Error::invalid_config(format!(
                "unknown region `{code}` for provider `{}`; valid regions: {}",
                self.id,
                valid.join(", ")
            ))
        })
    }

    /// The region used when configuration names none: the catalogue's choice, else the only
    /// region of a single-region provider. `None` where any choice would be a guess.
    pub fn default_region(&self) -> Option<&Region> {
        match &self.default_region {
            Some(code) => self.regions.iter().find(|r| &r.code == code),
            None if self.regions.len() == 1 => self.regions.first(),
            None => None,
        }
    }

    /// Whether this is software the user runs (MinIO, Ceph, …): no fixed endpoint, no
    /// regions, and the data sits in the user's own jurisdiction.
    pub fn is_self_hosted(&self) -> bool {
        self.jurisdiction.eq_ignore_ascii_case(SELF_HOSTED)
    }

    /// Whether the catalogue knows how to reach this provider (false: the user must give an
    /// endpoint URL).
    pub fn has_endpoint(&self) -> bool {
        !self.endpoint.is_empty() || self.regions.iter().any(|r| r.endpoint.is_some())
    }

    /// The HTTPS endpoint URL of a region.
    ///
    /// Fails with `InvalidConfig` for an unknown region, for providers with no fixed endpoint
    /// (the user must give one), and for templates that need more than the region (use
    /// [`Provider::endpoint_with`]); the message names what is missing.
    ///
    /// ```
    /// let ovh = ferryboat_providers::catalogue().get("ovhcloud").unwrap();
    /// assert_eq!(ovh.endpoint("gra").unwrap(), "https://s3.gra.io.cloud.ovh.net");
    /// ```
    pub fn endpoint(&self, region: &str) -> Result<String> {
        self.endpoint_with(region, &[])
    }

    /// The HTTPS endpoint URL of a region, filling placeholders other than `{region}` (such as
    /// `{account}` or `{namespace}`) from `vars`. A value must be one DNS label: ASCII letters,
    /// digits and `-`, at most 63 characters. Variables the template does not use are ignored.
    ///
    /// ```
    /// let r2 = ferryboat_providers::catalogue().get("r2").unwrap();
    /// let url = r2.endpoint_with("auto", &[("account", "0123abcd")]).unwrap();
    /// assert_eq!(url, "https://0123abcd.r2.cloudflarestorage.com");
    /// assert!(r2.endpoint("auto").unwrap_err().to_string().contains("account"));
    /// ```
    pub fn endpoint_with(&self, region: &str, vars: &[(&str, &str)]) -> Result<String> {
        if !self.has_endpoint() {
            return Err(Error::invalid_config(format!(
                "provider `{}` ({}) has no fixed endpoint: give the endpoint URL of your server in configuration",
                self.id, self.name
            )));
        }
        let reg = self.region(region)?;
        let key = match (&reg.endpoint_key, reg.code.is_empty()) {
            (Some(key), _) => key.as_str(),
            (None, false) => reg.code.as_str(),
            (None, true) => region.trim(),
        };
        let template = reg.endpoint.as_deref().unwrap_or(&self.endpoint);
        fill_template(template, |name| {
            if name == "region" {
                return Ok(key.to_string());
            }
            match vars.iter().find(|(k, _)| *k == name) {
                Some((_, value)) => check_variable(&self.id, name, value).map(str::to_string),
                None => Err(self.missing_variable(name)),
            }
        })
    }

    fn missing_variable(&self, name: &str) -> Error {
        let meaning = self.variables.get(name).map(|m| format!(" ({m})")).unwrap_or_default();
        Error::invalid_config(format!(
            "the endpoint of provider `{}` needs the variable `{name}`{meaning}: set it in configuration \
             (Provider::endpoint_with(region, &[(\"{name}\", …)]))",
            self.id
        ))
    }

    /// The jurisdiction as the core type.
    pub fn jurisdiction(&self) -> Jurisdiction {
        Jurisdiction::from_code(&self.jurisdiction)
    }

    /// A `StoreInfo` for a bucket in a region of this provider.
    ///
    /// `region` defaults to [`Provider::default_region`]; `endpoint` defaults to the region's
    /// catalogue endpoint when it needs no variables. Credentials embedded in a given endpoint
    /// (`https://user:secret@host`) are dropped: `StoreInfo` is printed and logged.
    pub fn store_info(&self, region: Option<&str>, endpoint: Option<&str>, bucket: &str) -> StoreInfo {
        let region = region.map(str::to_string).or_else(|| self.default_region().map(|r| r.code.clone()));
        let endpoint = match endpoint {
            Some(e) => Some(strip_userinfo(e)),
            None => region.as_deref().and_then(|r| self.endpoint(r).ok()),
        };
        let mut info =
            StoreInfo::new(self.id.clone(), self.name.clone(), self.jurisdiction()).with_cloud_act(self.cloud_act);
        info.region = region;
        info.endpoint = endpoint;
        if !bucket.is_empty() {
            info.bucket = Some(bucket.to_string());
        }
        info
    }

    /// Every placeholder name in the endpoint templates of this provider.
    pub(crate) fn placeholders(&self) -> std::result::Result<Vec<String>, String> {
        let mut names = Vec::new();
        let templates =
            std::iter::once(self.endpoint.as_str()).chain(self.regions.iter().filter_map(|r| r.endpoint.as_deref()));
        for template in templates {
            fill_template(template, |name| {
                names.push(name.to_string());
                Ok(String::new())
            })
            .map_err(|e| e.to_string())?;
        }
        names.sort();
        names.dedup();
        Ok(names)
    }
}

/// Replaces each `{name}` in `template` with `value(name)`. An unbalanced brace is an error.
fn fill_template(template: &str, mut value: impl FnMut(&str) -> Result<String>) -> Result<String> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| Error::invalid_config(format!("endpoint template `{template}` has an unclosed `{{`")))?;
        let name = &after[..close];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(Error::invalid_config(format!(
                "endpoint template `{template}` has a bad placeholder `{{{name}}}`"
            )));
        }
        out.push_str(&value(name)?);
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(Error::invalid_config(format!("endpoint template `{template}` has a stray `}}`")));
    }
    out.push_str(rest);
    Ok(out)
}

/// A variable lands in a host name: anything but one DNS label could redirect the request.
fn check_variable<'a>(provider: &str, name: &str, value: &'a str) -> Result<&'a str> {
    let ok = !value.is_empty()
        && value.len() <= MAX_VARIABLE_LEN
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok {
        Ok(value)
    } else {
        Err(Error::invalid_config(format!(
            "variable `{name}` of provider `{provider}` must be 1 to {MAX_VARIABLE_LEN} ASCII letters, digits or inner `-`, got {} characters that are not",
            value.chars().count()
        )))
    }
}

/// Drops `user:password@` from a URL's authority.
fn strip_userinfo(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => (&url[..i + 3], &url[i + 3..]),
        None => ("", url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_fills_and_rejects_bad_braces() {
        let filled = fill_template("https://{a}.x.{region}", |n| Ok(format!("<{n}>"))).unwrap();
        assert_eq!(filled, "https://<a>.x.<region>");
        assert!(fill_template("https://{region.x", |_| Ok(String::new())).is_err());
        assert!(fill_template("https://region}.x", |_| Ok(String::new())).is_err());
        assert!(fill_template("https://{}.x", |_| Ok(String::new())).is_err());
        assert!(fill_template("https://{Region}.x", |_| Ok(String::new())).is_err());
    }

    #[test]
    fn variables_must_be_one_dns_label() {
        for bad in ["", "a.evil.com", "a/b", "-a", "a-", "ä", "a b", &"x".repeat(64)] {
            let err = check_variable("r2", "account", bad).unwrap_err();
            assert!(matches!(err, Error::InvalidConfig { .. }), "{bad:?}");
            // The value itself may be a secret-looking token: never echo it.
            if !bad.is_empty() {
                assert!(!err.to_string().contains(bad), "{err}");
            }
        }
        assert_eq!(check_variable("r2", "account", "ab-12").unwrap(), "ab-12");
    }

    #[test]
    fn userinfo_is_stripped() {
        assert_eq!(strip_userinfo("https://key:secret@host:9000/p"), "https://host:9000/p");
        assert_eq!(strip_userinfo("http://host:9000/a@b"), "http://host:9000/a@b");
        assert_eq!(strip_userinfo("https://host"), "https://host");
        assert_eq!(strip_userinfo("u:p@host"), "host");
    }
}
