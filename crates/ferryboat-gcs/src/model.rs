//! The JSON API's resources, as far as ferry reads them, and their conversion to ferry types.

use std::collections::BTreeMap;
use std::time::SystemTime;

use ferryboat_core::{Attributes, Error, Metadata, ObjectMeta, ObjectPath, PutOptions, Result};
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
    #[serde(default)]
    pub content_disposition: Option<String>,
    #[serde(default)]
    pub content_encoding: Option<String>,
    #[serde(default)]
    pub content_language: Option<String>,
    #[serde(default)]
    pub cache_control: Option<String>,
    #[serde(default)]
    pub storage_class: Option<String>,
    /// Set on a noncurrent generation (a versions listing).
    #[serde(default)]
    pub time_deleted: Option<String>,
    /// Base64 MD5 of the content (absent on composite objects).
    #[serde(default)]
    pub md5_hash: Option<String>,
}

/// One page of `objects.list`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ObjectList {
    #[serde(default, deserialize_with = "objects")]
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
    /// The new object, once `done`.
    #[serde(default)]
    pub resource: Option<ObjectResource>,
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
    /// The reasons GCS gives (`notFound`, `rateLimitExceeded`, …): the first is the code.
    #[serde(default)]
    pub errors: Vec<ErrorItem>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ErrorItem {
    #[serde(default)]
    pub reason: String,
}

/// The JSON API writes int64 as strings; fake-gcs-server sometimes as numbers. Accept both,
/// and say which value was refused: a size or generation is never negative or fractional.
/// A list of object resources, each of which must be a JSON object: serde would otherwise
/// take an array for a struct (`[""]` as an object named ""), and a broken answer would read
/// as an invalid key instead of a malformed page.
fn objects<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<ObjectResource>, D::Error> {
    struct Only;
    impl<'de> serde::de::Visitor<'de> for Only {
        type Value = ObjectResource;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object resource")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> std::result::Result<ObjectResource, A::Error> {
            ObjectResource::deserialize(serde::de::value::MapAccessDeserializer::new(map))
        }
    }
    struct Item(ObjectResource);
    impl<'de> Deserialize<'de> for Item {
        fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Item, D::Error> {
            d.deserialize_map(Only).map(Item)
        }
    }
    Ok(Vec::<Item>::deserialize(d)?.into_iter().map(|i| i.0).collect())
}

fn int64<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<u64>, D::Error> {
    struct Int64;
    impl serde::de::Visitor<'_> for Int64 {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a non-negative int64, as a decimal string or a number")
        }
        fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: serde::de::Error>(self, n: u64) -> std::result::Result<Self::Value, E> {
            Ok(Some(n))
        }
        fn visit_i64<E: serde::de::Error>(self, n: i64) -> std::result::Result<Self::Value, E> {
            u64::try_from(n).map(Some).map_err(|_| E::custom(format_args!("negative int64 {n}")))
        }
        fn visit_f64<E: serde::de::Error>(self, n: f64) -> std::result::Result<Self::Value, E> {
            let why = if n.is_finite() && n.fract() == 0.0 { "is out of range" } else { "is not an integer" };
            Err(E::custom(format_args!("int64 {n:e} {why}")))
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> std::result::Result<Self::Value, E> {
            s.parse().map(Some).map_err(|e| {
                let shown: String = s.chars().take(40).collect();
                E::custom(format_args!("int64 string {shown:?} is not a non-negative integer below 2^64: {e}"))
            })
        }
    }
    d.deserialize_any(Int64)
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
        meta.attributes = Attributes {
            content_disposition: self.content_disposition,
            content_encoding: self.content_encoding,
            content_language: self.content_language,
            cache_control: self.cache_control,
        };
        meta.storage_class = self.storage_class;
        Ok(meta)
    }
}

/// The writable fields of an object resource that `opts` sets: content type, metadata,
/// attributes and storage class (for uploads, compose and rewrite alike).
pub(crate) fn resource_fields(name: &str, opts: &PutOptions) -> serde_json::Value {
    let mut r = serde_json::json!({ "name": name });
    let a = &opts.attributes;
    let fields = [
        ("contentType", &opts.content_type),
        ("contentDisposition", &a.content_disposition),
        ("contentEncoding", &a.content_encoding),
        ("contentLanguage", &a.content_language),
        ("cacheControl", &a.cache_control),
        ("storageClass", &opts.storage_class),
    ];
    for (field, value) in fields {
        if let Some(v) = value {
            r[field] = serde_json::json!(v);
        }
    }
    if !opts.metadata.is_empty() {
        r["metadata"] = serde_json::json!(opts.metadata);
    }
    r
}

/// Parses a JSON answer, turning a malformed one into a typed error naming `path`.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8], path: &str) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        // serde quotes offending strings: keep a hostile answer from making the message huge.
        let what: String = e.to_string().chars().take(200).collect();
        Error::generic(PROVIDER, path, format!("malformed JSON answer from the server: {what}"), Some(Box::new(e)))
    })
}

/// Parses one object resource (`objects.get`, an upload's answer) into ferry's metadata, as
/// the store does. Exposed for property tests only.
#[doc(hidden)]
pub fn parse_object_meta(body: &[u8]) -> Result<ObjectMeta> {
    parse_json::<ObjectResource>(body, "object resource")?.into_meta()
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
        let marker: ObjectResource = serde_json::from_str(r#"{"name":"trailing/"}"#).unwrap();
        assert_eq!(marker.into_meta().unwrap().path.as_str(), "trailing/");
        let bad: ObjectResource = serde_json::from_str(r#"{"name":""}"#).unwrap();
        assert!(matches!(bad.into_meta(), Err(Error::InvalidPath { .. })));
    }
}
