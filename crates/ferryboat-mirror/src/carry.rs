//! What a copy carries besides the bytes: content type, user metadata, attributes and
//! storage class, filtered by what the destination keeps. Whatever it cannot keep is named
//! in the report, never dropped silently.

use ferryboat_core::{ObjectMeta, ObjectStore, PutOptions};

use crate::report::NotCarried;

/// The options that write `meta`'s metadata to `dst`, and what had to be left behind.
///
/// User metadata names starting with `ferry-` are the mirror's own and are not copied (the
/// caller records fresh ones). A storage class goes along only between stores of one
/// provider: `STANDARD_IA`, `Cool` and `NEARLINE` are different vocabularies. `STANDARD`,
/// which S3 and GCS report for objects written without a class, is the default everywhere:
/// left out, it is no loss and not reported.
pub(crate) fn carry(src: &dyn ObjectStore, dst: &dyn ObjectStore, meta: &ObjectMeta) -> (PutOptions, Vec<NotCarried>) {
    let caps = dst.capabilities();
    let key = meta.path.to_string();
    let mut dropped = Vec::new();
    let mut drop = |attribute: String, reason: &str| {
        dropped.push(NotCarried { key: key.clone(), attribute, reason: reason.to_string() });
    };
    let mut opts = PutOptions::default();
    if let Some(ct) = &meta.content_type {
        if caps.content_type {
            opts.content_type = Some(ct.clone());
        } else {
            drop("content-type".into(), "the destination keeps no content type");
        }
    }
    for (k, v) in meta.metadata.iter().filter(|(k, _)| !k.starts_with("ferry-")) {
        if caps.user_metadata {
            opts.metadata.insert(k.clone(), v.clone());
        } else {
            drop(format!("metadata:{k}"), "the destination keeps no user metadata");
        }
    }
    let a = &meta.attributes;
    let slots = [
        ("content-disposition", &a.content_disposition, &mut opts.attributes.content_disposition),
        ("content-encoding", &a.content_encoding, &mut opts.attributes.content_encoding),
        ("content-language", &a.content_language, &mut opts.attributes.content_language),
        ("cache-control", &a.cache_control, &mut opts.attributes.cache_control),
    ];
    for (name, value, slot) in slots {
        if let Some(v) = value {
            if caps.attributes.keeps(name) {
                *slot = Some(v.clone());
            } else {
                drop(name.into(), "the destination does not keep this header");
            }
        }
    }
    if let Some(class) = &meta.storage_class {
        let default = class.eq_ignore_ascii_case("STANDARD");
        if default && (!caps.storage_class || src.info().provider != dst.info().provider) {
            // The destination's default is the same thing.
        } else if !caps.storage_class {
            drop("storage-class".into(), "the destination has no storage classes");
        } else if src.info().provider != dst.info().provider {
            drop("storage-class".into(), "the providers name their storage classes differently");
        } else {
            opts.storage_class = Some(class.clone());
        }
    }
    (opts, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferryboat_core::memory::MemoryStore;
    use ferryboat_core::{Capabilities, ObjectPath};
    use std::time::SystemTime;

    #[test]
    fn what_the_destination_lacks_is_named() {
        let src = MemoryStore::new();
        let dst = MemoryStore::new().with_capabilities(Capabilities::default());
        let mut meta = ObjectMeta::new(ObjectPath::parse("k").unwrap(), 1, SystemTime::now());
        meta.content_type = Some("text/plain".into());
        meta.attributes.content_encoding = Some("gzip".into());
        meta.metadata.insert("Owner".into(), "me".into());
        meta.metadata.insert("ferry-sha256".into(), "x".into());
        let (opts, dropped) = carry(&src, &dst, &meta);
        assert_eq!(opts, PutOptions::default());
        let names: Vec<&str> = dropped.iter().map(|d| d.attribute.as_str()).collect();
        assert_eq!(names, ["content-type", "metadata:Owner", "content-encoding"]);
        let (opts, dropped) = carry(&src, &MemoryStore::new(), &meta);
        assert!(dropped.is_empty());
        assert_eq!(opts.attributes.content_encoding.as_deref(), Some("gzip"));
        assert_eq!(opts.metadata.len(), 1, "the mirror's own names are not copied");
    }
}
