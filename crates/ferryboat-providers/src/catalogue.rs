//! The catalogue: every provider file, parsed and checked once.
//!
//! Provider files live in `providers/<id>.toml` and are compiled in by the `PROVIDER_FILES` list below.
//! The unit tests load all of them, so a bad file fails CI. Should a broken file still ship,
//! [`catalogue`] does not panic: the catalogue is then empty and every [`Catalogue::get`]
//! answers with an `InvalidConfig` error carrying the load error.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use ferryboat_core::{Error, Result};

pub use crate::provider::{Provider, Region};

/// Every provider file, by file name. Add a line here with each new file.
pub(crate) const PROVIDER_FILES: &[(&str, &str)] = &[
    ("alibaba.toml", include_str!("../providers/alibaba.toml")),
    ("aws.toml", include_str!("../providers/aws.toml")),
    ("aws-eusc.toml", include_str!("../providers/aws-eusc.toml")),
    ("backblaze.toml", include_str!("../providers/backblaze.toml")),
    ("bleu.toml", include_str!("../providers/bleu.toml")),
    ("ceph.toml", include_str!("../providers/ceph.toml")),
    ("contabo.toml", include_str!("../providers/contabo.toml")),
    ("cubbit.toml", include_str!("../providers/cubbit.toml")),
    ("delos.toml", include_str!("../providers/delos.toml")),
    ("exoscale.toml", include_str!("../providers/exoscale.toml")),
    ("garage.toml", include_str!("../providers/garage.toml")),
    ("generic.toml", include_str!("../providers/generic.toml")),
    ("hetzner.toml", include_str!("../providers/hetzner.toml")),
    ("huawei.toml", include_str!("../providers/huawei.toml")),
    ("impossiblecloud.toml", include_str!("../providers/impossiblecloud.toml")),
    ("infomaniak.toml", include_str!("../providers/infomaniak.toml")),
    ("ionos.toml", include_str!("../providers/ionos.toml")),
    ("leviia.toml", include_str!("../providers/leviia.toml")),
    ("minio.toml", include_str!("../providers/minio.toml")),
    ("oracle.toml", include_str!("../providers/oracle.toml")),
    ("otc.toml", include_str!("../providers/otc.toml")),
    ("outscale.toml", include_str!("../providers/outscale.toml")),
    ("ovh.toml", include_str!("../providers/ovh.toml")),
    ("r2.toml", include_str!("../providers/r2.toml")),
    ("s3ns.toml", include_str!("../providers/s3ns.toml")),
    ("scaleway.toml", include_str!("../providers/scaleway.toml")),
    ("seaweedfs.toml", include_str!("../providers/seaweedfs.toml")),
    ("stackit.toml", include_str!("../providers/stackit.toml")),
    ("swift.toml", include_str!("../providers/swift.toml")),
    ("tencent.toml", include_str!("../providers/tencent.toml")),
    ("wasabi.toml", include_str!("../providers/wasabi.toml")),
];

/// All providers.
#[derive(Debug)]
pub struct Catalogue {
    providers: Vec<Provider>,
    /// Lower-case id or alias → index into `providers`.
    index: BTreeMap<String, usize>,
    /// Why loading failed, if it did (then `providers` is empty).
    load_error: Option<String>,
}

static CATALOGUE: LazyLock<Catalogue> =
    LazyLock::new(|| Catalogue::load(PROVIDER_FILES).unwrap_or_else(Catalogue::broken));

/// The built-in catalogue, parsed on first use.
///
/// ```
/// let cat = ferryboat_providers::catalogue();
/// let hetzner = cat.get("hetzner").unwrap();
/// assert_eq!(hetzner.jurisdiction, "EU");
/// assert!(!hetzner.cloud_act);
/// ```
pub fn catalogue() -> &'static Catalogue {
    &CATALOGUE
}

impl Catalogue {
    /// Parses and checks provider files given as `(file name, contents)`.
    pub(crate) fn load(files: &[(&str, &str)]) -> std::result::Result<Catalogue, String> {
        let mut providers = Vec::with_capacity(files.len());
        for (file, text) in files {
            let provider: Provider = toml::from_str(text).map_err(|e| format!("providers/{file}: {e}"))?;
            crate::validate::provider(&provider).map_err(|e| format!("providers/{file}: {e}"))?;
            let expected = format!("{}.toml", provider.id);
            if *file != expected {
                return Err(format!(
                    "providers/{file}: holds provider `{}`, so it must be named {expected}",
                    provider.id
                ));
            }
            providers.push(provider);
        }
        providers.sort_by(|a, b| a.id.cmp(&b.id));
        let mut index = BTreeMap::new();
        for (i, p) in providers.iter().enumerate() {
            for name in std::iter::once(&p.id).chain(&p.aliases) {
                if let Some(other) = index.insert(name.clone(), i) {
                    return Err(format!(
                        "`{name}` names both provider `{}` and provider `{}`",
                        providers[other].id, p.id
                    ));
                }
            }
        }
        Ok(Catalogue { providers, index, load_error: None })
    }

    /// An empty catalogue that answers every lookup with the load error.
    pub(crate) fn broken(message: String) -> Catalogue {
        Catalogue { providers: Vec::new(), index: BTreeMap::new(), load_error: Some(message) }
    }

    /// Every provider, sorted by id.
    pub fn providers(&self) -> &[Provider] {
        &self.providers
    }

    /// The provider with this id or alias (ASCII case-insensitive), or an `InvalidConfig`
    /// error listing every valid id.
    ///
    /// ```
    /// let cat = ferryboat_providers::catalogue();
    /// assert_eq!(cat.get("OVHcloud").unwrap().id, "ovh");
    /// let err = cat.get("nimbus").unwrap_err().to_string();
    /// assert!(err.contains("scaleway"));
    /// ```
    pub fn get(&self, id: &str) -> Result<&Provider> {
        if let Some(message) = &self.load_error {
            return Err(Error::invalid_config(format!("the built-in provider catalogue failed to load: {message}")));
        }
        let key = id.trim().to_ascii_lowercase();
        match self.index.get(&key) {
            Some(&i) => Ok(&self.providers[i]),
            None => {
                let ids: Vec<&str> = self.providers.iter().map(|p| p.id.as_str()).collect();
                Err(Error::invalid_config(format!(
                    "unknown provider `{}`; valid providers: {}",
                    id.trim(),
                    ids.join(", ")
                )))
            }
        }
    }
}
