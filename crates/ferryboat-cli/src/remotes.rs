//! Named remotes: `NAME:path` wherever a URL is asked for, from a TOML file.
//!
//! ```toml
//! old = "s3://old-bucket/data?region=eu-west-1"
//! new = "scaleway://fr-par/new-bucket/data"
//!
//! [backup]                       # the table form says the same
//! url = "file:///srv/backup"
//! ```
//!
//! The file is `--config FILE`, else `$FERRY_CONFIG`, else
//! `$XDG_CONFIG_HOME/ferryboat/remotes.toml` (`~/.config/ferryboat/remotes.toml`). It holds
//! URLs, never secrets: credentials stay in the environment, where each backend reads them.
//! It is read only when a `NAME:` reference appears.

use std::path::PathBuf;
use std::sync::OnceLock;

use ferryboat::{Error, Result};

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
    let Some((name, path)) = split_remote(s.trim()) else { return Ok(s.to_string()) };
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
    let url = match table.get(name) {
        Some(toml::Value::String(url)) => url.clone(),
        Some(toml::Value::Table(t)) => match t.get("url") {
            Some(toml::Value::String(url)) => url.clone(),
            _ => return Err(Error::invalid_config(format!("remote `{name}` in {} has no `url`", file.display()))),
        },
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
    Ok(join(&url, path))
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
