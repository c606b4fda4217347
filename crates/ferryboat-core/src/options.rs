//! Typed configuration keys for the backends, in `object_store`'s manner
//! (`AmazonS3ConfigKey` and its kin): each backend names its keys in an enum, and
//! [`Options`] holds values for them, parsed from strings (a config file, a URL, the
//! environment) with aliases, `NAME_file` for values kept in a file, and a clear error for a
//! key nobody reads.
//!
//! ```
//! use ferryboat_core::options::{ConfigKey, Options};
//!
//! #[derive(Clone, Copy, Debug, PartialEq, Eq)]
//! enum Key { Region, Secret }
//! impl ConfigKey for Key {
//!     const BACKEND: &'static str = "demo";
//!     const ALL: &'static [Self] = &[Key::Region, Key::Secret];
//!     fn name(self) -> &'static str { match self { Key::Region => "region", Key::Secret => "secret" } }
//!     fn is_secret(self) -> bool { self == Key::Secret }
//! }
//!
//! let opts = Options::<Key>::parse([("REGION", "fr-par"), ("secret", "s3cr3t")]).unwrap();
//! assert_eq!(opts.get(Key::Region), Some("fr-par"));
//! assert!(!format!("{opts:?}").contains("s3cr3t"));
//! let err = Options::<Key>::parse([("regoin", "x")]).unwrap_err();
//! assert!(err.to_string().contains("`regoin`") && err.to_string().contains("region, secret"));
//! ```

use std::fmt;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::redact::{Secret, REDACTED};

/// A backend's configuration keys.
pub trait ConfigKey: Copy + Eq + fmt::Debug + Send + Sync + 'static {
    /// The backend, as messages name it (`S3`, `Azure`, `GCS`).
    const BACKEND: &'static str;
    /// Every key.
    const ALL: &'static [Self];
    /// The key's name (`secret_access_key`): lower case, `_` between words.
    fn name(self) -> &'static str;
    /// Other names accepted for it (`aws_secret_access_key`).
    fn aliases(self) -> &'static [&'static str] {
        &[]
    }
    /// Whether the value is a credential: never printed, never taken from a URL.
    fn is_secret(self) -> bool;
}

/// Names compare without case, with `-` and `_` alike.
fn normalise(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace('-', "_")
}

/// The key `name` names (its name or an alias), if any.
pub fn parse_key<K: ConfigKey>(name: &str) -> Option<K> {
    let n = normalise(name);
    K::ALL.iter().copied().find(|k| k.name() == n || k.aliases().iter().any(|a| *a == n))
}

/// The key `name` names, and whether it is the `NAME_file` form (the value is a file holding
/// it). A name that is a key itself is never read as the file form.
pub fn parse_key_or_file<K: ConfigKey>(name: &str) -> Result<(K, bool)> {
    if let Some(k) = parse_key(name) {
        return Ok((k, false));
    }
    let n = normalise(name);
    match n.strip_suffix("_file").and_then(parse_key::<K>) {
        Some(k) => Ok((k, true)),
        None => Err(unknown_key::<K>(name)),
    }
}

/// The error for a key the backend does not read: it names the key and every valid one.
pub fn unknown_key<K: ConfigKey>(name: &str) -> Error {
    let valid: Vec<&str> = K::ALL.iter().map(|k| k.name()).collect();
    Error::invalid_config(format!(
        "unknown {} option `{}`; valid: {} (each also as NAME_file, read from that file)",
        K::BACKEND,
        name.trim(),
        valid.join(", ")
    ))
}

/// Reads the value of `key` from the file `path`, without the line end a text editor or
/// `echo` adds. The error names the key and the file, never the contents.
pub fn read_value_file(key: &str, path: &str) -> Result<String> {
    let text = std::fs::read_to_string(path.trim())
        .map_err(|e| Error::invalid_config(format!("option `{key}_file`: cannot read {}: {e}", path.trim())))?;
    let value = text.trim_end_matches(['\n', '\r']).to_string();
    if value.trim().is_empty() {
        return Err(Error::invalid_config(format!("option `{key}_file`: {} is empty", path.trim())));
    }
    Ok(value)
}

/// Values for a backend's keys. `Debug` shows the keys and every value but the secrets.
#[derive(Clone)]
pub struct Options<K: ConfigKey> {
    entries: Vec<(K, Secret)>,
}

impl<K: ConfigKey> Default for Options<K> {
    fn default() -> Self {
        Options { entries: Vec::new() }
    }
}

impl<K: ConfigKey> Options<K> {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// These options with `key` set to `value` (replacing an earlier value).
    pub fn with(mut self, key: K, value: impl Into<String>) -> Self {
        self.set(key, value);
        self
    }

    /// Sets `key` to `value`, replacing an earlier value.
    pub fn set(&mut self, key: K, value: impl Into<String>) {
        self.entries.retain(|(k, _)| *k != key);
        self.entries.push((key, Secret::new(value)));
    }

    /// The value of `key`.
    pub fn get(&self, key: K) -> Option<&str> {
        self.entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v.expose())
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The keys set, in the order they were set.
    pub fn keys(&self) -> impl Iterator<Item = K> + '_ {
        self.entries.iter().map(|(k, _)| *k)
    }

    /// Options from `(name, value)` pairs: names or aliases of keys, or `NAME_file` with a
    /// path whose file holds the value. An unknown name is an error naming the valid ones.
    pub fn parse<I, N, V>(pairs: I) -> Result<Self>
    where
        I: IntoIterator<Item = (N, V)>,
        N: AsRef<str>,
        V: AsRef<str>,
    {
        let mut out = Self::new();
        for (name, value) in pairs {
            let (key, from_file) = parse_key_or_file::<K>(name.as_ref())?;
            let value =
                if from_file { read_value_file(key.name(), value.as_ref())? } else { value.as_ref().to_string() };
            out.set(key, value);
        }
        Ok(out)
    }

    /// Options from the environment: for each key, `{prefix}{NAME}` (upper case:
    /// `FERRY_SCALEWAY_SECRET_ACCESS_KEY`), else `{prefix}{NAME}_FILE` naming a file that
    /// holds the value. Empty variables count as unset.
    pub fn from_env(prefix: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let mut out = Self::new();
        for key in K::ALL {
            let var = format!("{prefix}{}", key.name().to_ascii_uppercase());
            if let Some(v) = env(&var).filter(|v| !v.is_empty()) {
                out.set(*key, v);
            } else if let Some(path) = env(&format!("{var}_FILE")).filter(|v| !v.is_empty()) {
                out.set(*key, read_value_file(key.name(), &path)?);
            }
        }
        Ok(out)
    }

    /// These options, with `fallback`'s values for the keys they do not set.
    pub fn or(mut self, fallback: &Options<K>) -> Self {
        for (k, v) in &fallback.entries {
            if self.get(*k).is_none() {
                self.entries.push((*k, v.clone()));
            }
        }
        self
    }
}

impl<K: ConfigKey> fmt::Debug for Options<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (k, v) in &self.entries {
            if k.is_secret() {
                map.entry(&k.name(), &REDACTED);
            } else {
                map.entry(&k.name(), &v.expose());
            }
        }
        map.finish()
    }
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`) for the option `key`.
pub fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Error::invalid_config(format!("option `{key}`: {value:?} is not true or false"))),
    }
}

/// A duration for the option `key`: `500ms`, `30s`, `2m`, `1h`, or a plain number of seconds.
pub fn parse_duration(key: &str, value: &str) -> Result<Duration> {
    let v = value.trim();
    let bad = || Error::invalid_config(format!("option `{key}`: {value:?} is not a duration (e.g. 500ms, 30s, 2m)"));
    let split = v.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(v.len());
    let (number, unit) = v.split_at(split);
    let n: f64 = number.parse().map_err(|_| bad())?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

/// A whole number of at least `min` for the option `key`.
pub fn parse_count(key: &str, value: &str, min: u32) -> Result<u32> {
    match value.trim().parse::<u32>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(Error::invalid_config(format!("option `{key}`: {value:?} is not a whole number of at least {min}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Key {
        Region,
        SecretKey,
    }

    impl ConfigKey for Key {
        const BACKEND: &'static str = "test";
        const ALL: &'static [Self] = &[Key::Region, Key::SecretKey];
        fn name(self) -> &'static str {
            match self {
                Key::Region => "region",
                Key::SecretKey => "secret_key",
            }
        }
        fn aliases(self) -> &'static [&'static str] {
            match self {
                Key::Region => &["aws_region"],
                Key::SecretKey => &[],
            }
        }
        fn is_secret(self) -> bool {
            self == Key::SecretKey
        }
    }

    #[test]
    fn names_aliases_and_files() {
        let dir = std::env::temp_dir().join(format!("ferry-options-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("secret");
        std::fs::write(&file, "from-a-file\n").unwrap();
        let path = file.display().to_string();
        let o = Options::<Key>::parse([("AWS-Region", "eu"), ("secret_key_file", path.as_str())]).unwrap();
        assert_eq!((o.get(Key::Region), o.get(Key::SecretKey)), (Some("eu"), Some("from-a-file")));
        let shown = format!("{o:?}");
        assert!(shown.contains("eu") && !shown.contains("from-a-file") && shown.contains(REDACTED), "{shown}");

        let e = Options::<Key>::parse([("secret_key_file", "/nonexistent/x")]).unwrap_err();
        assert!(e.to_string().contains("secret_key_file") && e.to_string().contains("/nonexistent/x"), "{e}");
        std::fs::write(&file, "\n").unwrap();
        assert!(Options::<Key>::parse([("secret_key_file", path.as_str())]).is_err(), "an empty file");
        let e = Options::<Key>::parse([("regin", "x")]).unwrap_err();
        assert!(e.to_string().contains("unknown test option `regin`; valid: region, secret_key"), "{e}");
        assert!(Options::<Key>::parse([("region_fil", "x")]).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn environment_and_precedence() {
        let env = |n: &str| match n {
            "P_REGION" => Some("from-env".to_string()),
            "P_SECRET_KEY" => Some(String::new()),
            _ => None,
        };
        let from_env = Options::<Key>::from_env("P_", &env).unwrap();
        assert_eq!((from_env.get(Key::Region), from_env.get(Key::SecretKey)), (Some("from-env"), None));
        let explicit = Options::<Key>::new().with(Key::SecretKey, "s").or(&from_env);
        assert_eq!((explicit.get(Key::Region), explicit.get(Key::SecretKey)), (Some("from-env"), Some("s")));
        let over = Options::<Key>::new().with(Key::Region, "mine").or(&from_env);
        assert_eq!(over.get(Key::Region), Some("mine"));
    }

    #[test]
    fn values() {
        assert_eq!(parse_duration("k", "500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("k", "2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("k", "7").unwrap(), Duration::from_secs(7));
        for bad in ["", "x", "5 parsecs", "-1s", "1e999"] {
            assert!(parse_duration("k", bad).is_err(), "{bad}");
        }
        assert!(parse_bool("k", "Yes").unwrap() && !parse_bool("k", "0").unwrap());
        assert!(parse_bool("k", "maybe").unwrap_err().to_string().contains("`k`"));
        assert_eq!(parse_count("k", "3", 1).unwrap(), 3);
        assert!(parse_count("k", "0", 1).is_err());
    }
}
