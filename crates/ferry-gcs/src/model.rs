//! The JSON API's resources, as far as ferry reads them, and their conversion to ferry types.

use std::collections::BTreeMap;
use std::time::SystemTime;

use ferry_core::{Error, Metadata, ObjectMeta, ObjectPath, Result};
use serde::{Deserialize, Deserializer};

use crate::PROVIDER;

/// An object resource (`storage#object`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ObjectResource {
    pub name: String,
    #[serde(default, deserialize_with = "int64")]
    pub size: Option<u64>,
    #[serde(default)]
    pub updated: Option<String>,
    #[serde(default)]
    pub time_created: Option<String>,
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default, deserialize_with = "int64")]
    pub generation: Option<u64>,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, String>>,
}

/// One page of `objects.list`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ObjectList {
    #[serde(default)]
    pub items: Vec<ObjectResource>,
    #[serde(default)]
    pub prefixes: Vec<String>,
    #[serde(default)]
    pub next_page_token: Option<String>,
    /// Set when a proxy or broken server answers 200 with an error document, which would
    /// otherwise read as an empty page.
    #[serde(default)]
    pub error: Option<ErrorBody>,
}

/// The answer to one `objects.rewrite` call.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RewriteResponse {
    #[serde(default)]
    pub done: bool,
    #[serde(default)]
    pub rewrite_token: Option<String>,
}

/// A bucket resource, for its location.
#[derive(Debug, Deserialize)]
pub(crate) struct BucketResource {
    #[serde(default)]
    pub location: Option<String>,
}

/// The JSON API's error envelope.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub message: String,
}

/// The JSON API writes int64 as strings; fake-gcs-server sometimes as numbers. Accept both.
fn int64<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Int {
        Num(u64),
        Str(String),
    }
    match Option::<Int>::deserialize(d)? {
        None => Ok(None),
        Some(Int::Num(n)) => Ok(Some(n)),
        Some(Int::Str(s)) => s.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

fn parse_time(s: Option<&str>) -> SystemTime {
    s.and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()).map(SystemTime::from).unwrap_or(SystemTime::UNIX_EPOCH)
}

impl ObjectResource {
    /// Converts to ferry's metadata; a name ferry cannot represent is an `InvalidPath` error.
    pub fn into_meta(self) -> Result<ObjectMeta> {
        let path = ObjectPath::parse(self.name)?;
        let last_modified = parse_time(self.updated.as_deref().or(self.time_created.as_deref()));
        let mut meta = ObjectMeta::new(path, self.size.unwrap_or(0), last_modified);
        meta.etag = self.etag;
        meta.version = self.generation.map(|g| g.to_string());
        meta.content_type = self.content_type;
        meta.metadata = self.metadata.unwrap_or_default().into_iter().collect::<Metadata>();
        Ok(meta)
    }
}

/// Parses a JSON answer, turning a malformed one into a typed error naming `path`.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8], path: &str) -> Result<T> {
    serde_json::from_slice(body)
        .map_err(|e| Error::generic(PROVIDER, path, "malformed JSON answer from the server", Some(Box::new(e))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_int64_as_string_or_number() {
        let a: ObjectResource =
            serde_json::from_str(r#"{"name":"a","size":"12","generation":"1700000000000001"}"#).unwrap();
        assert_eq!(a.size, Some(12));
        assert_eq!(a.generation, Some(1_700_000_000_000_001));
        let b: ObjectResource = serde_json::from_str(r#"{"name":"b","size":7}"#).unwrap();
        assert_eq!(b.size, Some(7));
        assert!(serde_json::from_str::<ObjectResource>(r#"{"name":"c","size":"x"}"#).is_err());
    }

    #[test]
    fn converts_to_meta() {
        let r: ObjectResource = serde_json::from_str(
            r#"{"name":"d/e f","size":"3","updated":"2024-05-01T10:00:00.5Z","etag":"CAE=",
                "generation":"5","contentType":"text/plain","metadata":{"k":"v"}}"#,
        )
        .unwrap();
        let m = r.into_meta().unwrap();
        assert_eq!(m.path.as_str(), "d/e f");
        assert_eq!(m.size, 3);
        assert_eq!(m.version.as_deref(), Some("5"));
        assert_eq!(m.etag.as_deref(), Some("CAE="));
        assert_eq!(m.metadata.get("k").map(String::as_str), Some("v"));
        let secs = m.last_modified.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs, 1_714_557_600);
        let bad: ObjectResource = serde_json::from_str(r#"{"name":"trailing/"}"#).unwrap();
        assert!(matches!(bad.into_meta(), Err(Error::InvalidPath { .. })));
    }
}
