//! Differential test: the same random sequence of operations on a `LocalStore` and on the
//! reference `MemoryStore` must give the same answers (values and error kinds).
//!
//! Etags differ between the two by design, so conditional operations use each store's own
//! current etag (or a stale one); everything else is compared as is.

use bytes::Bytes;
use ferryboat_core::local::LocalStore;
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::{
    CopyMode, CopyOptions, ErrorKind, GetOptions, GetRange, Metadata, ObjectPath, ObjectStore, PutMode, PutOptions,
    UpdateVersion,
};
use futures::TryStreamExt;

/// Keys no two of which are a file and a directory at once, so the local store can hold any
/// subset (that departure from S3 is tested on its own).
const KEYS: &[&str] = &["a", "a-b", "b/x", "b/y", "b/z/1", "c d/é", "c d/%2e", "e+f"];
const PREFIXES: &[Option<&str>] = &[None, Some("b"), Some("b/z"), Some("c d"), Some("a")];

/// xorshift64*: a reproducible sequence without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn key(&mut self) -> ObjectPath {
        ObjectPath::parse(KEYS[self.below(KEYS.len())]).unwrap()
    }
}

#[derive(Debug, Clone)]
enum Op {
    Put { key: ObjectPath, data: Bytes, mode: u8, content_type: Option<String>, meta: bool },
    Get { key: ObjectPath, range: Option<GetRange>, if_none_match_current: bool },
    Head(ObjectPath),
    Delete(ObjectPath),
    Copy { from: ObjectPath, to: ObjectPath, create: bool },
    Rename { from: ObjectPath, to: ObjectPath, create: bool },
    List { prefix: Option<ObjectPath>, offset: Option<ObjectPath> },
    Delimited(Option<ObjectPath>),
    Multipart { key: ObjectPath, parts: Vec<Bytes>, create: bool },
}

fn op(rng: &mut Rng) -> Op {
    let prefix = |rng: &mut Rng| PREFIXES[rng.below(PREFIXES.len())].map(|p| ObjectPath::parse(p).unwrap());
    match rng.below(10) {
        0..=2 => Op::Put {
            key: rng.key(),
            data: Bytes::from(vec![b'0' + rng.below(10) as u8; rng.below(40)]),
            mode: rng.below(4) as u8,
            content_type: (rng.below(2) == 0).then(|| "text/plain".to_string()),
            meta: rng.below(3) == 0,
        },
        3 => {
            let range = match rng.below(5) {
                0 => Some(GetRange::Bounded(rng.below(20) as u64..rng.below(40) as u64)),
                1 => Some(GetRange::Offset(rng.below(30) as u64)),
                2 => Some(GetRange::Suffix(rng.below(30) as u64)),
                _ => None,
            };
            Op::Get { key: rng.key(), range, if_none_match_current: rng.below(4) == 0 }
        }
        4 => Op::Head(rng.key()),
        5 => Op::Delete(rng.key()),
        6 => Op::Copy { from: rng.key(), to: rng.key(), create: rng.below(2) == 0 },
        7 => Op::Rename { from: rng.key(), to: rng.key(), create: rng.below(2) == 0 },
        8 => match rng.below(3) {
            0 => Op::Delimited(prefix(rng)),
            _ => Op::List { prefix: prefix(rng), offset: (rng.below(2) == 0).then(|| rng.key()) },
        },
        _ => {
            let n = 1 + rng.below(2);
            let parts = (0..n).map(|i| Bytes::from(vec![b'p' + i as u8; 1 + rng.below(10)])).collect();
            Op::Multipart { key: rng.key(), parts, create: rng.below(2) == 0 }
        }
    }
}

/// What an operation observably returned.
#[derive(Debug, PartialEq)]
enum Outcome {
    Done,
    Object { range: std::ops::Range<u64>, data: Bytes, size: u64, content_type: Option<String>, meta: Metadata },
    Keys(Vec<(String, u64)>),
    Level(Vec<String>, Vec<String>),
    Failed(ErrorKind),
}

async fn current_etag(store: &dyn ObjectStore, key: &ObjectPath) -> Option<String> {
    store.head(key).await.ok().and_then(|m| m.etag)
}

async fn apply(store: &dyn ObjectStore, op: &Op) -> Outcome {
    let result: ferryboat_core::Result<Outcome> = async {
        match op.clone() {
            Op::Put { key, data, mode, content_type, meta } => {
                let mode = match mode {
                    0 | 1 => PutMode::Overwrite,
                    2 => PutMode::Create,
                    _ => match current_etag(store, &key).await {
                        Some(etag) if data.len() % 2 == 0 => {
                            PutMode::Update(UpdateVersion { etag: Some(etag), version: None })
                        }
                        _ => PutMode::Update(UpdateVersion { etag: Some("stale".into()), version: None }),
                    },
                };
                let mut metadata = Metadata::new();
                if meta {
                    metadata.insert("k".into(), "v".into());
                }
                store.put_opts(&key, data, PutOptions { mode, content_type, metadata, ..Default::default() }).await?;
                Ok(Outcome::Done)
            }
            Op::Get { key, range, if_none_match_current } => {
                let if_none_match = if if_none_match_current { current_etag(store, &key).await } else { None };
                let got = store.get_opts(&key, GetOptions { range, if_none_match, ..Default::default() }).await?;
                let (range, meta) = (got.range.clone(), got.meta.clone());
                let data = got.bytes().await?;
                Ok(Outcome::Object {
                    range,
                    data,
                    size: meta.size,
                    content_type: meta.content_type,
                    meta: meta.metadata,
                })
            }
            Op::Head(key) => {
                let m = store.head(&key).await?;
                Ok(Outcome::Object {
                    range: 0..0,
                    data: Bytes::new(),
                    size: m.size,
                    content_type: m.content_type,
                    meta: m.metadata,
                })
            }
            Op::Delete(key) => store.delete(&key).await.map(|()| Outcome::Done),
            Op::Copy { from, to, create } => {
                let mode = if create { CopyMode::Create } else { CopyMode::Overwrite };
                store.copy_opts(&from, &to, CopyOptions { mode }).await.map(|()| Outcome::Done)
            }
            Op::Rename { from, to, create } => {
                let mode = if create { CopyMode::Create } else { CopyMode::Overwrite };
                store.rename_opts(&from, &to, CopyOptions { mode }).await.map(|()| Outcome::Done)
            }
            Op::List { prefix, offset } => {
                let opts = ferryboat_core::ListOptions { prefix, offset, ..Default::default() };
                let keys = store.list_opts(opts).map_ok(|m| (m.path.to_string(), m.size)).try_collect().await?;
                Ok(Outcome::Keys(keys))
            }
            Op::Delimited(prefix) => {
                let level = store.list_with_delimiter(prefix.as_ref()).await?;
                Ok(Outcome::Level(
                    level.common_prefixes.iter().map(|p| p.to_string()).collect(),
                    level.objects.iter().map(|m| m.path.to_string()).collect(),
                ))
            }
            Op::Multipart { key, parts, create } => {
                let mode = if create { PutMode::Create } else { PutMode::Overwrite };
                let up = store.put_multipart_opts(&key, mode.into()).await?;
                let mut infos = Vec::new();
                for (i, p) in parts.into_iter().enumerate() {
                    infos.push(up.put_part(i as u32 + 1, p).await?);
                }
                up.complete(infos).await?;
                Ok(Outcome::Done)
            }
        }
    }
    .await;
    result.unwrap_or_else(|e| Outcome::Failed(e.kind()))
}

fn shape(o: &Outcome) -> String {
    match o {
        Outcome::Done => "done".into(),
        Outcome::Object { meta, content_type, .. } if content_type.is_some() && !meta.is_empty() => {
            "object+meta".into()
        }
        Outcome::Object { .. } => "object".into(),
        Outcome::Keys(k) if k.is_empty() => "no keys".into(),
        Outcome::Keys(_) => "keys".into(),
        Outcome::Level(p, _) if !p.is_empty() => "level with prefixes".into(),
        Outcome::Level(..) => "level".into(),
        Outcome::Failed(kind) => format!("{kind}"),
    }
}

#[tokio::test]
async fn local_answers_like_memory() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 1..=12u64 {
        let tmp = tempfile::tempdir().unwrap();
        let local = LocalStore::new(tmp.path().join("bucket")).unwrap();
        let memory = MemoryStore::new();
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut history = Vec::new();
        for step in 0..250 {
            let op = op(&mut rng);
            let (l, m) = (apply(&local, &op).await, apply(&memory, &op).await);
            seen.insert(shape(&m));
            history.push(op.clone());
            assert_eq!(
                l,
                m,
                "seed {seed} step {step}: local and memory disagree on {op:?}\nlast ops: {:#?}",
                &history[history.len().saturating_sub(6)..]
            );
        }
    }
    // The sequences must reach the interesting answers, or the comparison proves little.
    for want in [
        "done",
        "object",
        "object+meta",
        "keys",
        "level with prefixes",
        "AlreadyExists",
        "Precondition",
        "NotFound",
        "NotModified",
        "InvalidRange",
    ] {
        assert!(seen.contains(want), "no operation answered {want}; seen {seen:?}");
    }
}
