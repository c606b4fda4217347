//! The decoder over hostile ciphertext: arbitrary bytes, and valid objects with arbitrary
//! bytes changed, never panic and never decrypt to anything but the original.

use std::sync::Arc;

use bytes::Bytes;
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::{Error, GetOptions, GetRange, ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_encrypt::{EncryptConfig, EncryptedStore, LocalKey};
use proptest::prelude::*;

fn setup() -> (Arc<MemoryStore>, EncryptedStore) {
    let raw = Arc::new(MemoryStore::new());
    let config = EncryptConfig { chunk_size: 64, part_size: 5 << 20 };
    (raw.clone(), EncryptedStore::new(raw, Arc::new(LocalKey::from_bytes([9; 32])), config).unwrap())
}

fn read(store: &EncryptedStore, range: Option<GetRange>) -> Result<Bytes, Error> {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let key = ObjectPath::parse("o").unwrap();
        store.get_opts(&key, GetOptions { range, ..Default::default() }).await?.bytes().await
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_are_rejected_cleanly(junk in proptest::collection::vec(any::<u8>(), 0..600)) {
        let (raw, store) = setup();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(raw.put(&ObjectPath::parse("o").unwrap(), junk.into())).unwrap();
        let err = read(&store, None).unwrap_err();
        prop_assert!(matches!(err, Error::Integrity { .. }), "{err}");
    }

    #[test]
    fn any_changed_byte_is_caught(len in 0usize..400, at in any::<prop::sample::Index>(), flip in 1u8..=255, ranged in any::<bool>()) {
        let (raw, store) = setup();
        let key = ObjectPath::parse("o").unwrap();
        let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let mut sealed = rt.block_on(async {
            store.put(&key, plain.clone().into()).await.unwrap();
            raw.get(&key).await.unwrap().bytes().await.unwrap().to_vec()
        });
        let i = at.index(sealed.len());
        sealed[i] ^= flip;
        rt.block_on(raw.put(&key, sealed.into())).unwrap();
        let range = (ranged && len > 0).then_some(GetRange::Bounded(0..len as u64));
        match read(&store, range) {
            Err(Error::Integrity { .. }) => {}
            // A ranged read does not cover the trailer, and may not touch a changed chunk.
            Ok(body) if ranged => prop_assert_eq!(body.as_ref(), &plain[..]),
            other => prop_assert!(false, "byte {i} changed, read gave {other:?}"),
        }
    }
}
