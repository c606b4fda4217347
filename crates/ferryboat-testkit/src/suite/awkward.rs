//! Awkward keys: what real buckets hold and generated test keys rarely do.
//!
//! [`awkward_corpus`] is the list; [`awkward_keys`] puts every key, lists the store, reads
//! each key back and deletes it, and checks that each key was either stored and listed back
//! byte-identical, or refused with the error the caller expects for that backend. A key
//! stored under another name (a slash dropped, a dot segment resolved, a name normalised)
//! fails the check, as does an unexpected refusal or an expected one that did not happen.
//!
//! The corpus lives at the root of the store, not under `conformance/`, because a leading
//! `/` and a root-level folder marker only exist there. Every key holds `awkward`, and the
//! behaviour removes exactly the corpus keys before and after it runs.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use ferryboat_core::{ErrorKind, ObjectPath, ObjectStore, ObjectStoreExt};
use futures::StreamExt;

/// One awkward key: a short label (what the case is) and the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwkwardKey {
    /// What the key exercises, e.g. `folder-marker`; stable, for expectations to name.
    pub label: &'static str,
    /// The key itself.
    pub key: String,
}

/// The corpus, in the order [`awkward_keys`] writes it (`dir` before `dir/file`).
pub fn awkward_corpus() -> Vec<AwkwardKey> {
    // 1,024 bytes in segments of at most 200 bytes, so a file system can hold each one.
    let mut long = String::from("awkward/long");
    while long.len() < 1024 {
        let room = 1024 - long.len() - 1;
        long.push('/');
        long.push_str(&"k".repeat(room.min(200)));
    }
    let cases: Vec<(&'static str, String)> = vec![
        ("root-folder-marker", "awkward-marker/".into()),
        ("folder-marker", "awkward/photos/".into()),
        ("file-in-marked-folder", "awkward/photos/p.jpg".into()),
        ("double-slash", "awkward//b.txt".into()),
        ("leading-slash", "/awkward-leading.txt".into()),
        ("trailing-slashes", "awkward/trailing//".into()),
        ("dot-segment", "awkward/dot/./x".into()),
        ("dotdot-segment", "awkward/dot/../x".into()),
        ("dot-last", "awkward/end/.".into()),
        ("dotdot-last", "awkward/end/..".into()),
        ("trailing-dot", "awkward/trailing-dot.".into()),
        ("tab", "awkward/tab\there".into()),
        ("newline", "awkward/line\nbreak".into()),
        ("carriage-return", "awkward/cr\rx".into()),
        ("delete-char", "awkward/del\u{7f}x".into()),
        ("leading-space", " awkward-leading-space".into()),
        ("trailing-space", "awkward/trailing-space ".into()),
        ("nfc", "awkward/unicode/caf\u{e9}".into()),
        ("nfd", "awkward/unicode/cafe\u{301}".into()),
        ("case-lower", "awkward/case/readme".into()),
        ("case-upper", "awkward/case/README".into()),
        ("dir-object", "awkward/dir".into()),
        ("dir-child", "awkward/dir/file".into()),
        ("unicode", "awkward/unicode/日本語 ß 🚀".into()),
        ("percent-literal", "awkward/100%2F%20+?#=&;".into()),
        ("quote-escape-char", "awkward/‛..".into()),
        ("long-segment", format!("awkward/seg/{}", "s".repeat(300))),
        ("key-1024-bytes", long),
    ];
    cases.into_iter().map(|(label, key)| AwkwardKey { label, key }).collect()
}

/// What [`awkward_keys`] found for one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwkwardResult {
    /// Stored, listed back once and byte-identical, read back, deleted.
    Kept,
    /// The put was refused with this error kind and message.
    Refused(ErrorKind, String),
}

/// Puts, lists, reads and deletes every key of [`awkward_corpus`] on `store`, and checks
/// the outcome of each against `refused`: the labels the backend is expected to refuse,
/// each with the error kind it refuses them with. Every key not named there must be kept
/// byte-identical. Panics with every mismatch at once; returns what it found per label.
pub async fn awkward_keys(
    store: &Arc<dyn ObjectStore>,
    refused: &[(&str, ErrorKind)],
) -> BTreeMap<&'static str, AwkwardResult> {
    awkward_keys_except(store, refused, &[]).await
}

/// [`awkward_keys`] without the labels in `not_run`, each with the reason it cannot be
/// checked on this store (an emulator that stores a key under another name, say), printed
/// as `NOT RUN`.
pub async fn awkward_keys_except(
    store: &Arc<dyn ObjectStore>,
    refused: &[(&str, ErrorKind)],
    not_run: &[(&str, &str)],
) -> BTreeMap<&'static str, AwkwardResult> {
    let provider = store.info().provider.clone();
    let mut corpus = awkward_corpus();
    corpus.retain(|k| match not_run.iter().find(|(l, _)| *l == k.label) {
        Some((_, why)) => {
            println!("awkward {provider}: {} ... NOT RUN ({why})", k.label);
            false
        }
        None => true,
    });
    for k in &corpus {
        if let Ok(p) = ObjectPath::parse(k.key.as_str()) {
            let _ = store.delete(&p).await;
        }
    }
    let mut found = BTreeMap::new();
    let mut stored: Vec<&AwkwardKey> = Vec::new();
    for k in &corpus {
        let path = ObjectPath::parse(k.key.as_str()).expect("every corpus key is a valid ObjectPath");
        match store.put(&path, body(k)).await {
            Ok(_) => {
                stored.push(k);
                found.insert(k.label, AwkwardResult::Kept);
            }
            Err(e) => {
                found.insert(k.label, AwkwardResult::Refused(e.kind(), e.to_string()));
            }
        }
    }
    let mut problems = Vec::new();
    // The listing must hold every stored key once, byte-identical, and no other `awkward` key.
    let mut listed: BTreeMap<String, usize> = BTreeMap::new();
    let mut items = store.list(None);
    while let Some(item) = items.next().await {
        match item {
            Ok(m) if m.path.as_str().contains("awkward") => *listed.entry(m.path.into_string()).or_default() += 1,
            Ok(_) => {}
            Err(e) => problems.push(format!("listing: error item {:?}: {e}", e.kind())),
        }
    }
    drop(items);
    for k in &stored {
        match listed.remove(&k.key) {
            Some(1) => {}
            Some(n) => problems.push(format!("{}: {:?} listed {n} times", k.label, k.key)),
            None => problems.push(format!("{}: {:?} was stored but is not listed under its name", k.label, k.key)),
        }
        let path = ObjectPath::parse(k.key.as_str()).expect("valid");
        match store.get(&path).await {
            Ok(r) => match r.bytes().await {
                Ok(b) if b == body(k) => {}
                Ok(b) => problems.push(format!("{}: {:?} reads back {} other bytes", k.label, k.key, b.len())),
                Err(e) => problems.push(format!("{}: reading {:?}: {e}", k.label, k.key)),
            },
            Err(e) => problems.push(format!("{}: {:?} was stored but reads as {:?}: {e}", k.label, k.key, e.kind())),
        }
    }
    for key in listed.keys() {
        match corpus.iter().find(|k| &k.key == key) {
            Some(k) => problems.push(format!("{}: {key:?} was refused, yet it is listed", k.label)),
            None => {
                problems.push(format!("listed {key:?}, which is no corpus key: a key was stored under another name"))
            }
        }
    }
    for k in &stored {
        let path = ObjectPath::parse(k.key.as_str()).expect("valid");
        if let Err(e) = store.delete(&path).await {
            problems.push(format!("{}: deleting {:?}: {e}", k.label, k.key));
        }
    }
    for k in &corpus {
        let expected = refused.iter().find(|(l, _)| *l == k.label).map(|(_, kind)| *kind);
        match (&found[k.label], expected) {
            (AwkwardResult::Kept, None) => {}
            (AwkwardResult::Refused(kind, _), Some(want)) if *kind == want => {}
            (AwkwardResult::Kept, Some(want)) => {
                problems.push(format!("{}: {:?} expected refused ({want:?}), but it was stored", k.label, k.key))
            }
            (AwkwardResult::Refused(kind, msg), want) => problems.push(format!(
                "{}: {:?} refused with {kind:?} ({msg}), expected {}",
                k.label,
                k.key,
                want.map(|w| format!("{w:?}")).unwrap_or_else(|| "it kept".into())
            )),
        }
    }
    for (label, result) in &found {
        match result {
            AwkwardResult::Kept => println!("awkward {provider}: {label} ... kept"),
            AwkwardResult::Refused(kind, msg) => println!("awkward {provider}: {label} ... refused ({kind:?}: {msg})"),
        }
    }
    assert!(problems.is_empty(), "awkward keys on {provider}:\n  {}", problems.join("\n  "));
    found
}

/// The content of a corpus key: its label and key, so a swap between two keys shows.
pub fn body(k: &AwkwardKey) -> Bytes {
    Bytes::from(format!("{}\n{}", k.label, k.key))
}
