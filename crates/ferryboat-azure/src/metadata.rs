//! User metadata names across Azure's rules.
//!
//! Azure requires metadata names to be C# identifiers (letters, digits, `_`, not starting
//! with a digit); S3 and GCS take `with-dash` or `x.y` too, and a mirror must carry them.
//! Names Azure accepts are stored unchanged, so other Azure tools see them as written; any
//! other name is stored as `ferryx_` followed by the hex of its UTF-8 bytes, and decoded on
//! the way back. Names that already start with `ferryx_` are encoded too, so decoding is
//! never ambiguous.

const MARK: &str = "ferryx_";

fn is_identifier(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty() && !b[0].is_ascii_digit() && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// The name to store in Azure for a user metadata name.
pub(crate) fn encode(name: &str) -> String {
    if is_identifier(name) && !name.to_ascii_lowercase().starts_with(MARK) {
        return name.to_owned();
    }
    let mut out = String::with_capacity(MARK.len() + name.len() * 2);
    out.push_str(MARK);
    for b in name.bytes() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The user's name for a name read from Azure (names not written by [`encode`] pass through).
pub(crate) fn decode(stored: &str) -> String {
    let Some(hex) = stored.get(..MARK.len()).filter(|m| m.eq_ignore_ascii_case(MARK)).map(|_| &stored[MARK.len()..])
    else {
        return stored.to_owned();
    };
    let bytes: Option<Vec<u8>> =
        (0..hex.len()).step_by(2).map(|i| hex.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect();
    match bytes.filter(|_| hex.len() % 2 == 0).and_then(|b| String::from_utf8(b).ok()) {
        Some(name) => name,
        None => stored.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_identifiers_stay_readable() {
        for name in ["colour", "count", "my_key", "with-dash", "x.y", "9lives", "ferryx_abc", "naïve", "a b"] {
            let stored = encode(name);
            assert!(is_identifier(&stored), "{name} -> {stored}");
            assert_eq!(decode(&stored), name);
        }
        assert_eq!(encode("colour"), "colour");
        assert_eq!(encode("with-dash"), "ferryx_776974682d64617368");
        // Azure may change the case of names; decoding does not care.
        assert_eq!(decode("FERRYX_776974682D64617368"), "with-dash");
        assert_eq!(decode("ferryx_zz"), "ferryx_zz");
    }
}
