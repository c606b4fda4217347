//! The encryption layer: round trips, ranges, plaintext sizes, and tampering caught.

use std::sync::Arc;

use bytes::Bytes;
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::{Error, GetOptions, GetRange, ObjectPath, ObjectStore, ObjectStoreExt, PutOptions, UploadConfig};
use ferryboat_encrypt::format::{HEADER_LEN, TAG_LEN};
use ferryboat_encrypt::{EncryptConfig, EncryptedStore, LocalKey};
use futures::stream::{self, StreamExt, TryStreamExt};

const CHUNK: u32 = 1024;
const MIB: u64 = 1024 * 1024;

fn key(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap()
}

fn data(n: usize) -> Bytes {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect::<Vec<u8>>().into()
}

fn setup() -> (Arc<MemoryStore>, EncryptedStore) {
    let raw = Arc::new(MemoryStore::new());
    let config = EncryptConfig { chunk_size: CHUNK, part_size: 5 * MIB };
    let store = EncryptedStore::new(raw.clone(), Arc::new(LocalKey::from_bytes([7; 32])), config).unwrap();
    (raw, store)
}

#[tokio::test]
async fn round_trips_ranges_and_plaintext_sizes() {
    let (raw, store) = setup();
    let c = CHUNK as usize;
    for n in [0, 1, c - 1, c, c + 1, 3 * c + 5] {
        let k = key(&format!("obj/{n}"));
        store.put(&k, data(n)).await.unwrap();
        assert_eq!(store.get(&k).await.unwrap().bytes().await.unwrap(), data(n), "{n} bytes");
        assert_eq!(store.head(&k).await.unwrap().size, n as u64);
        let raw_body = raw.get(&k).await.unwrap().bytes().await.unwrap();
        assert_eq!(raw_body.len() as u64, HEADER_LEN + n as u64 + TAG_LEN * (n as u64).div_ceil(CHUNK as u64) + 24);
        if n > 16 {
            assert!(!raw_body.windows(16).any(|w| data(n).windows(16).any(|p| p == w)), "no plaintext stored");
        }
    }
    let listed: Vec<u64> = store.list(None).map_ok(|m| m.size).try_collect().await.unwrap();
    assert_eq!(listed, vec![0, 1, 1023, 1024, 1025, 3077], "listing sizes are plaintext sizes, sorted by key");

    let k = key("obj/3077");
    let whole = data(3077);
    for (range, expect) in [
        (GetRange::Bounded(0..1), 0..1),
        (GetRange::Bounded(1000..2100), 1000..2100),
        (GetRange::Bounded(3000..9999), 3000..3077),
        (GetRange::Offset(2048), 2048..3077),
        (GetRange::Suffix(10), 3067..3077),
    ] {
        let opts = GetOptions { range: Some(range.clone()), ..Default::default() };
        let result = store.get_opts(&k, opts).await.unwrap();
        assert_eq!(result.range, expect, "{range:?}");
        assert_eq!(result.bytes().await.unwrap(), whole.slice(expect.start as usize..expect.end as usize));
    }
    let opts = GetOptions { range: Some(GetRange::Offset(3077)), ..Default::default() };
    assert!(matches!(store.get_opts(&k, opts).await, Err(Error::InvalidRange { .. })));
}

#[tokio::test]
async fn streamed_multipart_uploads_decrypt_whole_whatever_the_last_part() {
    let (_, store) = setup();
    for n in [12 * MIB as usize + 77, 10 * MIB as usize] {
        let k = key(&format!("big/{n}"));
        let body = data(n);
        let chunks: Vec<ferryboat_core::Result<Bytes>> =
            body.chunks(300_000).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        let config = UploadConfig { expected_size: Some(n as u64), ..Default::default() };
        store.put_stream(&k, stream::iter(chunks).boxed(), PutOptions::default(), config).await.unwrap();
        assert_eq!(store.get(&k).await.unwrap().bytes().await.unwrap(), body, "{n} bytes");
        let range = GetOptions { range: Some(GetRange::Bounded(5 * MIB - 10..5 * MIB + 10)), ..Default::default() };
        let slice = store.get_opts(&k, range).await.unwrap().bytes().await.unwrap();
        assert_eq!(slice, body.slice(5 * MIB as usize - 10..5 * MIB as usize + 10), "across a part boundary");
    }
}

type Edit = Box<dyn FnOnce(&mut Vec<u8>)>;

async fn tampered(edit: impl FnOnce(&mut Vec<u8>)) -> Error {
    let (raw, store) = setup();
    let k = key("victim");
    store.put(&k, data(5000)).await.unwrap();
    let mut bytes = raw.get(&k).await.unwrap().bytes().await.unwrap().to_vec();
    edit(&mut bytes);
    raw.put(&k, bytes.into()).await.unwrap();
    match store.get(&k).await {
        Err(e) => e,
        Ok(r) => r.bytes().await.unwrap_err(),
    }
}

#[tokio::test]
async fn tampering_is_an_integrity_error_never_garbage() {
    let sealed = (CHUNK + 16) as usize;
    let h = HEADER_LEN as usize;
    let cases: Vec<(&str, Edit)> = vec![
        ("a flipped data byte", Box::new(move |b: &mut Vec<u8>| b[h + 10] ^= 1)),
        ("a flipped wrapped-key byte", Box::new(|b: &mut Vec<u8>| b[60] ^= 1)),
        ("a changed chunk size", Box::new(|b: &mut Vec<u8>| b[9] ^= 1)),
        (
            "two chunks swapped",
            Box::new(move |b: &mut Vec<u8>| {
                let (first, second) = (b[h..h + sealed].to_vec(), b[h + sealed..h + 2 * sealed].to_vec());
                b[h..h + sealed].copy_from_slice(&second);
                b[h + sealed..h + 2 * sealed].copy_from_slice(&first);
            }),
        ),
        (
            "the last chunk cut off, trailer kept",
            Box::new(move |b: &mut Vec<u8>| {
                let trailer = b.split_off(b.len() - 24);
                b.truncate(h + 4 * sealed);
                b.extend_from_slice(&trailer);
            }),
        ),
        (
            "the trailer flipped",
            Box::new(|b: &mut Vec<u8>| {
                let n = b.len();
                b[n - 3] ^= 1;
            }),
        ),
    ];
    for (what, edit) in cases {
        let err = tampered(edit).await;
        assert!(matches!(err, Error::Integrity { .. }), "{what}: expected Integrity, got {err}");
    }
}

#[tokio::test]
async fn the_wrong_key_is_named_as_such() {
    let (raw, store) = setup();
    store.put(&key("k"), data(10)).await.unwrap();
    let config = EncryptConfig { chunk_size: CHUNK, part_size: 5 * MIB };
    let other = EncryptedStore::new(raw, Arc::new(LocalKey::from_bytes([8; 32])), config).unwrap();
    let err = other.get(&key("k")).await.unwrap_err();
    assert!(err.to_string().contains("different key"), "{err}");
    assert!(other.info().client_encrypted);
}

fn store_with(raw: &Arc<MemoryStore>, key_byte: u8) -> EncryptedStore {
    let config = EncryptConfig { chunk_size: CHUNK, part_size: 5 * MIB };
    EncryptedStore::new(raw.clone(), Arc::new(LocalKey::from_bytes([key_byte; 32])), config).unwrap()
}

#[tokio::test]
async fn rotation_rewraps_headers_only_and_retires_the_old_key() {
    let raw = Arc::new(MemoryStore::new());
    let old = store_with(&raw, 1);
    let keys = [key("a"), key("big/b")];
    for (i, k) in keys.iter().enumerate() {
        old.put(k, data(3000 + i * 9000)).await.unwrap();
    }
    let before: Vec<Bytes> =
        futures::future::try_join_all(keys.iter().map(|k| async { raw.get(k).await?.bytes().await })).await.unwrap();

    let new = store_with(&raw, 2).with_previous_keys(vec![Arc::new(LocalKey::from_bytes([1; 32]))]);
    for k in &keys {
        assert!(new.rotate(k).await.unwrap(), "{k} rotated");
        assert!(!new.rotate(k).await.unwrap(), "{k}: a second rotation has nothing to do");
    }
    for (i, k) in keys.iter().enumerate() {
        let after = raw.get(k).await.unwrap().bytes().await.unwrap();
        assert_eq!(after.len(), before[i].len());
        assert_ne!(after[..HEADER_LEN as usize], before[i][..HEADER_LEN as usize], "{k}: header re-wrapped");
        assert_eq!(after[HEADER_LEN as usize..], before[i][HEADER_LEN as usize..], "{k}: chunks untouched");
        // The new key alone reads it; the old key alone no longer does.
        let only_new = store_with(&raw, 2);
        assert_eq!(only_new.get(k).await.unwrap().bytes().await.unwrap(), data(3000 + i * 9000));
        let err = store_with(&raw, 1).get(k).await.unwrap_err();
        assert!(matches!(err, Error::Integrity { .. }) && err.to_string().contains("different key"), "{err}");
    }
}

#[tokio::test]
async fn an_object_moved_or_swapped_to_another_key_fails_to_open() {
    let (raw, store) = setup();
    store.put(&key("salary/alice"), data(100)).await.unwrap();
    store.put(&key("salary/bob"), data(200)).await.unwrap();
    // The provider swaps the two ciphertexts: each is intact, but bound to the other key.
    let alice = raw.get(&key("salary/alice")).await.unwrap().bytes().await.unwrap();
    let bob = raw.get(&key("salary/bob")).await.unwrap().bytes().await.unwrap();
    raw.put(&key("salary/alice"), bob).await.unwrap();
    raw.put(&key("salary/bob"), alice).await.unwrap();
    for k in ["salary/alice", "salary/bob"] {
        let err = match store.get(&key(k)).await {
            Err(e) => e,
            Ok(r) => r.bytes().await.unwrap_err(),
        };
        assert!(matches!(err, Error::Integrity { .. }), "{k}: expected Integrity, got {err}");
        let ranged = store.get_range(&key(k), 0..10).await.unwrap_err();
        assert!(matches!(ranged, Error::Integrity { .. }), "{k} ranged: {ranged}");
    }
    // A copy through the layer re-encrypts for the new key, so it reads back.
    store.put(&key("salary/carol"), data(300)).await.unwrap();
    store.copy(&key("salary/carol"), &key("archive/carol")).await.unwrap();
    assert_eq!(store.get(&key("archive/carol")).await.unwrap().bytes().await.unwrap(), data(300));
}

#[tokio::test]
async fn a_range_read_of_an_object_cut_at_a_chunk_boundary_fails() {
    let (raw, store) = setup();
    let k = key("cut");
    store.put(&k, data(4 * CHUNK as usize)).await.unwrap();
    assert_eq!(store.get_range(&k, 0..10).await.unwrap(), data(10));
    // Drop the last chunk and the trailer: the size is that of a valid 3-chunk object.
    let sealed = (CHUNK + 16) as usize;
    let bytes = raw.get(&k).await.unwrap().bytes().await.unwrap();
    let cut = bytes.slice(..HEADER_LEN as usize + 3 * sealed + 24);
    raw.put(&k, cut).await.unwrap();
    assert_eq!(store.head(&k).await.unwrap().size, 3 * CHUNK as u64, "the cut object looks whole by its size");
    let err = store.get_range(&k, 0..10).await.unwrap_err();
    assert!(matches!(err, Error::Integrity { .. }) && err.to_string().contains("trailer"), "{err}");
}
