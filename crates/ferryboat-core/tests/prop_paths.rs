//! Properties of key validation, over arbitrary input: never a panic; every rejection says
//! why; every non-empty key up to 1,024 bytes is accepted byte for byte.

use ferryboat_core::{Error, GetRange, ObjectPath};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn parsing_never_panics_and_accepted_keys_are_safe(s in "\\PC{0,40}|[a-z./\\x00-\\x1f%]{0,20}") {
        match ObjectPath::parse(s.clone()) {
            Ok(p) => {
                prop_assert_eq!(p.as_str(), s.as_str());
                prop_assert!(!p.as_str().is_empty() && p.as_str().len() <= 1024);
            }
            Err(Error::InvalidPath { reason, .. }) => {
                prop_assert!(!reason.is_empty());
                prop_assert!(s.is_empty() || s.len() > 1024, "{s:?} refused: {reason}");
            }
            Err(other) => prop_assert!(false, "unexpected error kind: {other}"),
        }
    }

    #[test]
    fn prefix_relations_agree_with_strings(a in "[ab/]{1,8}", b in "[ab/]{1,8}") {
        if let (Ok(pa), Ok(pb)) = (ObjectPath::parse(a.clone()), ObjectPath::parse(b.clone())) {
            prop_assert_eq!(pa.is_under(&pb), a.starts_with(&format!("{b}/")));
            if let Some(rest) = pa.strip_prefix(&pb) {
                prop_assert_eq!(pb.join(rest).unwrap(), pa);
            }
        }
    }

    #[test]
    fn resolved_ranges_stay_inside_the_object(start in 0u64..100, len in 0u64..100, size in 0u64..100, kind in 0u8..3) {
        let range = match kind {
            0 => GetRange::Bounded(start..start + len),
            1 => GetRange::Offset(start),
            _ => GetRange::Suffix(len),
        };
        if let Ok(r) = range.resolve(size) {
            prop_assert!(r.start < r.end && r.end <= size, "{range:?} on {size} bytes gave {r:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Keys built from the pieces the local encoding treats specially: every key put is
    /// listed back byte-identical and in byte order, read back, and the only refusal is a
    /// key beside a directory of the same name.
    #[test]
    fn local_store_holds_keys_made_of_special_pieces(
        keys in proptest::collection::vec("(‛|\\.|/|x|\\.ferry| ){1,6}", 1..8)
    ) {
        use ferryboat_core::{local::LocalStore, ObjectStoreExt};
        use futures::TryStreamExt;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let tmp = tempfile::tempdir().unwrap();
            let store = LocalStore::new(tmp.path().join("b")).unwrap();
            let mut held = std::collections::BTreeSet::new();
            for k in &keys {
                let path = ObjectPath::parse(k.as_str()).unwrap();
                match store.put(&path, k.clone().into()).await {
                    Ok(_) => { held.insert(k.clone()); }
                    Err(e) => prop_assert!(e.to_string().contains("cannot hold both"), "{k:?}: {e}"),
                }
            }
            let listed: Vec<String> = store.list(None).map_ok(|m| m.path.to_string()).try_collect().await.unwrap();
            prop_assert_eq!(&listed, &held.iter().cloned().collect::<Vec<_>>());
            for k in &held {
                let body = store.get(&ObjectPath::parse(k.as_str()).unwrap()).await.unwrap().bytes().await.unwrap();
                prop_assert_eq!(&body[..], k.as_bytes());
            }
            Ok(())
        })?;
    }
}
