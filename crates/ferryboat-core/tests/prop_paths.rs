//! Properties of key validation, over arbitrary input: never a panic; every rejection says
//! why; every accepted key is portable and cannot climb out of a directory.

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
                prop_assert!(p.segments().all(|seg| !seg.is_empty() && seg != "." && seg != ".."));
                prop_assert!(!p.as_str().chars().any(char::is_control));
            }
            Err(Error::InvalidPath { reason, .. }) => prop_assert!(!reason.is_empty()),
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
