//! Named remotes: `NAME:path` wherever a URL is asked for, from a TOML file.
//!
//! ```toml
//! old = "s3://old-bucket/data?region=eu-west-1"
//! new = "scaleway://fr-par/new-bucket/data"
//!
//! [backup]                       # the table form: a URL and the backend's options
//! url = "s3://backup?endpoint=https://s3.example.eu"
//! region = "eu-central-1"
//! access_key_id = "AKIDEXAMPLE"
//! secret_access_key_file = "/run/secrets/backup-secret"
//! ```
//!
//! The file is `--config FILE`, else `$FERRY_CONFIG`, else
//! `$XDG_CONFIG_HOME/ferryboat/remotes.toml` (`~/.config/ferryboat/remotes.toml`). A table's
//! keys other than `url` are options for [`ferryboat::open_with`]: the backend's key names
//! (an unknown one is an error naming the valid ones), `KEY_file` for a value kept in a
//! file. Secrets are best kept in files or in the environment rather than in this file.
//! It is read only when a `NAME:` reference appears.

use std::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;

use ferryboat::redact::Secret;
use ferryboat::{Error, Result};

/// What a URL or a `NAME:path` reference stands for: a URL, and the options of the remote.
#[derive(Clone, Default)]
pub struct Resolved {
    /// The store URL.
    pub url: String,
    /// Options from the remote's table (values may be secrets).
    pub options: Vec<(String, Secret)>,
    /// The remote's name and file, for messages.
    remote: Option<(String, PathBuf)>,
}

impl fmt::Debug for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys only: a value may be a secret.
        let keys: Vec<&str> = self.options.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Resolved")
            .field("url", &ferryboat::redact::redact_url(&self.url))
            .field("options", &keys)
            .finish()
    }
}

impl Resolved {
    /// The options as `open_with` takes them.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.options.iter().map(|(k, v)| (k.as_str(), v.expose()))
    }

    /// `e`, saying which remote it concerns when the remote's options may be at fault.
    pub fn context(&self, e: Error) -> Error {
        match (&self.remote, &e) {
            (Some((name, file)), Error::InvalidConfig { message }) if !self.options.is_empty() => {
                Error::invalid_config(format!("remote `{name}` in {}: {message}", file.display()))
            }
            _ => e,
        }
    }
}

static CONFIG: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Sets the file `--config` named (once, at start-up).
pub fn set_config(path: Option<PathBuf>) {
    let _ = CONFIG.set(path);
}

fn config_path() -> Option<PathBuf> {
    if let Some(Some(p)) = CONFIG.get() {
        return Some(p.clone());
    }
    if let Some(p) = std::env::var_os("FERRY_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("ferryboat").join("remotes.toml"))
}

/// `NAME:rest` when `s` has that shape: a name of letters, digits, `-` and `_`, a colon not
/// followed by `//` (that is a URL scheme), and not a path.
fn split_remote(s: &str) -> Option<(&str, &str)> {
    let (name, rest) = s.split_once(':')?;
    let plain = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (plain && !rest.starts_with("//")).then_some((name, rest))
}

/// The URL `s` stands for: `s` itself unless it is a `NAME:path` reference.
pub fn resolve(s: &str) -> Result<String> {
    resolve_with_options(s).map(|r| r.url)
}

/// The URL and options `s` stands for: `s` itself, without options, unless it is a
/// `NAME:path` reference.
pub fn resolve_with_options(s: &str) -> Result<Resolved> {
    let Some((name, path)) = split_remote(s.trim()) else {
        return Ok(Resolved { url: s.to_string(), ..Resolved::default() });
    };
    let file = config_path().ok_or_else(|| {
        Error::invalid_config(format!(
            "`{name}:` names a remote, but no remotes file is set (--config or FERRY_CONFIG)"
        ))
    })?;
    let text = std::fs::read_to_string(&file).map_err(|e| {
        Error::invalid_config(format!(
            "`{name}:` names a remote, but the remotes file {} cannot be read: {e}",
            file.display()
        ))
    })?;
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| Error::invalid_config(format!("remotes file {}: {}", file.display(), e.message())))?;
    let mut options = Vec::new();
    let url = match table.get(name) {
        Some(toml::Value::String(url)) => url.clone(),
        Some(toml::Value::Table(t)) => {
            for (key, value) in t.iter().filter(|(k, _)| k.as_str() != "url") {
                let value = match value {
                    toml::Value::String(v) => v.clone(),
                    toml::Value::Boolean(b) => b.to_string(),
                    toml::Value::Integer(n) => n.to_string(),
                    // The value is not shown: it may be a secret.
                    _ => {
                        return Err(Error::invalid_config(format!(
                            "remote `{name}` in {}: option `{key}` must be a string, a number or true/false",
                            file.display()
                        )))
                    }
                };
                options.push((key.clone(), Secret::new(value)));
            }
            match t.get("url") {
                Some(toml::Value::String(url)) => url.clone(),
                _ => return Err(Error::invalid_config(format!("remote `{name}` in {} has no `url`", file.display()))),
            }
        }
        Some(_) => return Err(Error::invalid_config(format!("remote `{name}` in {} is not a URL", file.display()))),
        None => {
            let known: Vec<&str> = table.keys().map(String::as_str).collect();
            return Err(Error::invalid_config(format!(
                "unknown remote `{name}`; {} defines: {}",
                file.display(),
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            )));
        }
    };
    Ok(Resolved { url: join(&url, path), options, remote: Some((name.to_string(), file)) })
}

/// `base` with `path` appended to its path, before any query string.
fn join(base: &str, path: &str) -> String {
    let path = path.trim_start_matches('/');
    if path.is_empty() {
        return base.to_string();
    }
    let (head, query) = match base.find(['?', '#']) {
        Some(i) => base.split_at(i),
        None => (base, ""),
    };
    format!("{}/{path}{query}", head.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::{join, split_remote};

    #[test]
    fn references_and_urls_are_told_apart() {
        assert_eq!(split_remote("old:photos/2026"), Some(("old", "photos/2026")));
        assert_eq!(split_remote("old:"), Some(("old", "")));
        assert_eq!(split_remote("s3://bucket"), None);
        assert_eq!(split_remote("/dir/a:b"), None);
        assert_eq!(split_remote("./a:b"), None);
        assert_eq!(join("s3://b/data?region=x", "sub/key"), "s3://b/data/sub/key?region=x");
        assert_eq!(join("s3://b/", "/k"), "s3://b/k");
        assert_eq!(join("s3://b?e=1", ""), "s3://b?e=1");
    }
}
