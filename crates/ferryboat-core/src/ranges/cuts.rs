//! Where to cut what is left of a key range: guesses from the keys just listed.
//!
//! Keys are read as numbers in a place-value system learned from a sample of listed keys:
//! each place counts in the characters seen at that position, widened to their class (all
//! ten digits when one digit was seen there, the sixteen hex digits when only `0-9a-f`
//! were), so that decimal or hex keys are dense numbers rather than a sparse few points of
//! all of Unicode. The chunk just listed spans `first..=after`: that difference is how much
//! key space holds one chunk, so the next ranges are cut one chunk-width apart (each is one
//! request), then at doubling widths to reach far keys (each is cut again once it turns out
//! to hold more). A guess never changes the result, only how fast it comes.

use crate::path::ObjectPath;

/// What the place values are kept below, leaving room to multiply a width by the number of
/// cuts without overflow.
const LIMIT: u128 = 1 << 100;

/// Chars of the prefix `first` and `after` share that cuts may still change: keys after a
/// chunk often differ from it a few places before where the chunk's own keys differ.
const CARRY: usize = 8;

/// Characters the sample holds at one position, widened to their class.
fn widen(seen: &mut Vec<char>) {
    let has = |seen: &[char], f: fn(&char) -> bool| seen.iter().any(f);
    let hex_only = |seen: &[char], lo: char, hi: char| {
        seen.iter().filter(|c| c.is_ascii_alphabetic()).all(|c| (lo..=hi).contains(c))
    };
    let mut extra: Vec<char> = Vec::new();
    let digits = has(seen, char::is_ascii_digit);
    if digits {
        extra.extend('0'..='9');
    }
    if has(seen, char::is_ascii_lowercase) {
        if digits && hex_only(seen, 'a', 'f') && !has(seen, char::is_ascii_uppercase) {
            extra.extend('a'..='f');
        } else {
            extra.extend('a'..='z');
        }
    }
    if has(seen, char::is_ascii_uppercase) {
        if digits && hex_only(seen, 'A', 'F') && !has(seen, char::is_ascii_lowercase) {
            extra.extend('A'..='F');
        } else {
            extra.extend('A'..='Z');
        }
    }
    seen.extend(extra);
    // Control characters are never offered as an offset: some servers refuse them.
    seen.retain(|c| !c.is_control());
    seen.sort_unstable();
    seen.dedup();
}

/// A place-value system over keys that start with `head`. Digit 0 at a place is "the key
/// ends here"; digit `d > 0` is `places[i][d - 1]`.
struct Radix {
    head: Vec<char>,
    places: Vec<Vec<char>>,
}

impl Radix {
    /// Learned from the sample's characters past `head`; positions no sample key reaches
    /// count in every character the sample holds.
    fn learn<'a>(head: Vec<char>, sample: impl Iterator<Item = &'a str>) -> Radix {
        let mut seen: Vec<Vec<char>> = Vec::new();
        for key in sample {
            for (i, c) in key.chars().skip(head.len()).enumerate() {
                if seen.len() <= i {
                    seen.push(Vec::new());
                }
                if !seen[i].contains(&c) {
                    seen[i].push(c);
                }
            }
        }
        let mut all: Vec<char> = seen.iter().flatten().copied().collect();
        widen(&mut all);
        let mut places = Vec::new();
        let mut size: u128 = 1;
        for i in 0.. {
            let mut place = match seen.get_mut(i) {
                Some(p) => std::mem::take(p),
                None => all.clone(),
            };
            widen(&mut place);
            if place.is_empty() {
                break;
            }
            let base = place.len() as u128 + 1;
            match size.checked_mul(base) {
                Some(s) if s < LIMIT => size = s,
                _ => break,
            }
            places.push(place);
        }
        Radix { head, places }
    }

    /// Every value is below this.
    fn end(&self) -> u128 {
        self.places.iter().fold(1u128, |v, p| v * (p.len() as u128 + 1))
    }

    /// The value of `key`; monotone in key order (keys past the precision tie). Keys below
    /// the head are 0, keys above it [`Radix::end`].
    fn value(&self, key: &[char]) -> u128 {
        let h = self.head.len().min(key.len());
        match key[..h].cmp(&self.head[..h]) {
            std::cmp::Ordering::Less => return 0,
            std::cmp::Ordering::Greater => return self.end(),
            std::cmp::Ordering::Equal if key.len() < self.head.len() => return 0,
            std::cmp::Ordering::Equal => {}
        }
        let rest = &key[h..];
        let mut v: u128 = 0;
        // Once a character falls between two of a place's, the key is just above the lower
        // one: every later place takes its largest digit.
        let mut saturated = false;
        for (i, place) in self.places.iter().enumerate() {
            let base = place.len() as u128 + 1;
            let d = if saturated {
                base - 1
            } else {
                match rest.get(i) {
                    None => 0,
                    Some(c) => match place.binary_search(c) {
                        Ok(j) => j as u128 + 1,
                        Err(j) => {
                            saturated = true;
                            j as u128
                        }
                    },
                }
            };
            v = v * base + d;
        }
        v
    }

    /// The shortest key of value `v` (digits after a 0 are dropped: the key ends there).
    fn key(&self, mut v: u128) -> String {
        let mut digits = vec![0u128; self.places.len()];
        for (d, place) in digits.iter_mut().zip(&self.places).rev() {
            let base = place.len() as u128 + 1;
            *d = v % base;
            v /= base;
        }
        let mut s: String = self.head.iter().collect();
        for (d, place) in digits.into_iter().zip(&self.places) {
            if d == 0 {
                break;
            }
            s.push(place[d as usize - 1]);
        }
        s
    }
}

fn common(a: &[char], b: &[char]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Up to `n` points where to cut the rest `(after, upto]` of a range whose last listing
/// yielded `sample` (in order, `after` its last key). Every point lies strictly between
/// `after` and `upto` (the end of the key space when `None`), ascending, and keeps the
/// listing's prefix (the first `floor` characters of `after`).
pub(super) fn cut_points<'a>(
    after: &'a ObjectPath,
    upto: Option<&'a ObjectPath>,
    sample: impl Iterator<Item = &'a str> + Clone,
    n: usize,
    floor: usize,
) -> Vec<ObjectPath> {
    if n == 0 {
        return Vec::new();
    }
    let a: Vec<char> = after.as_str().chars().collect();
    let first: Vec<char> = sample.clone().next().map(|k| k.chars().collect()).unwrap_or_else(|| a.clone());
    let u: Option<Vec<char>> = upto.map(|u| u.as_str().chars().collect());
    let mut h = common(&a, &first).saturating_sub(CARRY).max(floor);
    if let Some(u) = &u {
        h = h.min(common(&a, u));
    }
    let h = h.min(a.len());
    let upto_str = upto.map(ObjectPath::as_str);
    let radix = Radix::learn(a[..h].to_vec(), sample.chain([after.as_str()]).chain(upto_str));
    let lo = radix.value(&a);
    let hi = u.as_deref().map_or_else(|| radix.end(), |u| radix.value(u));
    if hi <= lo + 1 {
        return Vec::new();
    }
    let span = lo.saturating_sub(radix.value(&first));
    // A little under one chunk's width, so that a range holding as many keys as the last
    // one still ends within one request; without a span (one key listed), even widths.
    let step = if span > 0 { (span / 5 * 4).max(1) } else { ((hi - lo) / (n as u128 + 1)).max(1) };
    // Enough even steps reach `upto`: take them. Otherwise half the cuts are even steps and
    // the rest double in width, so that some range reaches far keys.
    let even = if (hi - lo) / step <= n as u128 { n } else { n.div_ceil(2) };
    let mut points = Vec::with_capacity(n);
    let mut at = lo;
    let mut width = step;
    for i in 0..n {
        if i >= even {
            width = width.saturating_mul(2);
        }
        at = at.saturating_add(width);
        if at >= hi {
            break;
        }
        points.push(at);
    }
    let mut cuts: Vec<ObjectPath> = points
        .into_iter()
        .map(|v| radix.key(v))
        .filter(|s| s.as_str() > after.as_str() && upto.is_none_or(|u| s.as_str() < u.as_str()))
        .filter_map(|s| ObjectPath::parse(s).ok())
        .collect();
    cuts.sort();
    cuts.dedup();
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ObjectPath {
        ObjectPath::parse(s).unwrap()
    }

    fn cuts(after: &str, upto: Option<&str>, sample: &[String], n: usize, floor: usize) -> Vec<ObjectPath> {
        cut_points(&p(after), upto.map(p).as_ref(), sample.iter().map(String::as_str), n, floor)
    }

    #[test]
    fn cuts_lie_strictly_inside_and_ascend() {
        let cases =
            [("k/000999", Some("k/2")), ("a", Some("b")), ("a", Some("a\u{1}")), ("é", Some("ü")), ("~~~", None)];
        for (after, upto) in cases {
            for sample in [vec![], vec!["a".to_string(), after.to_string()]] {
                let got = cuts(after, upto, &sample, 7, 0);
                for w in got.windows(2) {
                    assert!(w[0] < w[1], "{got:?}");
                }
                for c in &got {
                    assert!(c.as_str() > after && upto.is_none_or(|u| c.as_str() < u), "{after} {upto:?} {c}");
                }
            }
        }
    }

    /// How many of `keys` fall in each range the cuts make after `after`.
    fn occupancy(keys: &[String], after: &str, cuts: &[ObjectPath]) -> Vec<usize> {
        let mut counts = vec![0usize; cuts.len() + 1];
        for k in keys.iter().filter(|k| k.as_str() > after) {
            let i = cuts.iter().position(|c| k.as_str() <= c.as_str()).unwrap_or(cuts.len());
            counts[i] += 1;
        }
        counts
    }

    #[test]
    fn decimal_keys_are_cut_about_one_chunk_apart() {
        let keys: Vec<String> = (0..20_000).map(|i| format!("flat/{i:08}")).collect();
        let got = cuts(&keys[999], None, &keys[..1000], 15, 0);
        let counts = occupancy(&keys, &keys[999], &got);
        // The even steps: each near range holds a good part of a chunk, none more than one.
        for (i, c) in counts.iter().take(7).enumerate() {
            assert!((300..=1000).contains(c), "range {i} holds {c}: {counts:?} ({got:?})");
        }
        // And the doubling ones reach the end of the keys before the open tail.
        assert!(counts[counts.len() - 1] < 10_000, "{counts:?}");
    }

    #[test]
    fn hex_keys_are_cut_about_one_chunk_apart() {
        // Hash-named keys, evenly spread: the first chunk is the lowest thousand.
        let mut keys: Vec<String> =
            (0u64..16_000).map(|i| format!("h/{:016x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15))).collect();
        keys.sort();
        let got = cuts(&keys[999], None, &keys[..1000], 15, 2);
        let counts = occupancy(&keys, &keys[999], &got);
        for (i, c) in counts.iter().take(7).enumerate() {
            assert!((400..=1000).contains(c), "range {i} holds {c}: {counts:?}");
        }
    }

    #[test]
    fn a_bounded_rest_is_cut_evenly_to_its_end() {
        let keys: Vec<String> = (0..20_000).map(|i| format!("m/{i:06}")).collect();
        let (after, upto) = (&keys[4999], &keys[9999]);
        let got = cuts(after, Some(upto), &keys[4000..5000], 15, 0);
        let inside: Vec<String> = keys[..=9999].to_vec();
        let counts = occupancy(&inside, after, &got);
        assert!(counts.iter().all(|c| *c <= 1000), "{counts:?}");
        assert!(counts.len() >= 5, "{counts:?}");
    }

    #[test]
    fn cuts_stay_under_the_prefix() {
        let sample = vec!["data/x0".to_string(), "data/x1".to_string()];
        let got = cuts("data/x1", None, &sample, 8, "data/".len());
        assert!(got.iter().all(|c| c.as_str().starts_with("data/")), "{got:?}");
        assert!(!got.is_empty());
    }
}
