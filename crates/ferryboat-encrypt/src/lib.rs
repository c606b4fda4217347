//! # ferryboat-encrypt
//!
//! Client-side encryption for any ferry store: [`EncryptedStore`] wraps a store so the
//! provider holds only ciphertext, while callers read and write plaintext — ranges, listings
//! and multipart uploads included. The ciphertext format is in [`mod@format`].

mod decrypt;
pub mod format;
mod keys;
mod seal;
mod store;

pub use keys::{DataKey, KeyProvider, LocalKey};
pub use store::{EncryptConfig, EncryptedStore};
