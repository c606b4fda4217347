//! Versions: a store lists them and deletes one exactly as its capabilities say, and a store
//! that keeps none refuses, never answering a versions listing with the current objects.

use std::sync::Arc;

use ferryboat_core::{DeleteOptions, ErrorKind, ListOptions, ObjectStore};
use futures::stream::TryStreamExt;

use super::support::{base, clean, content, key, must, put};
use super::Outcome;

/// With [`ferryboat_core::Capabilities::list_versions`], a versions listing names the object
/// just written with a version id and exactly one latest entry, keys never going back; without
/// it, the listing is one `NotSupported` error. With `delete_versions`, deleting the listed
/// (or written) version removes it from the listing; without it, the delete is `NotSupported`
/// and the object stays.
pub async fn versions(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "versions";
    let caps = store.capabilities().clone();
    clean(store, B).await;
    let k = key(B, "k");
    let written = put(store, &k, content(10, 90)).await;
    let opts = ListOptions { prefix: Some(base(B)), versions: true, ..Default::default() };
    let listed: Result<Vec<_>, _> = store.list_opts(opts.clone()).try_collect().await;
    let mut version = written.version.clone();
    if caps.list_versions {
        let listed = must(listed, "a versions listing");
        assert!(listed.windows(2).all(|w| w[0].path <= w[1].path), "versions listing: keys went back: {listed:?}");
        let mine: Vec<_> = listed.iter().filter(|m| m.path == k).collect();
        assert!(mine.iter().all(|m| m.version.is_some() && m.version_info.is_some()), "versions listing: {mine:?}");
        let latest: Vec<_> = mine.iter().filter(|m| m.version_info.is_some_and(|i| i.latest)).collect();
        assert_eq!(latest.len(), 1, "versions listing: expected one latest version of {k}, got {mine:?}");
        if let Some(v) = &written.version {
            assert_eq!(latest[0].version.as_ref(), Some(v), "versions listing: the latest is the one just written");
        }
        version = latest[0].version.clone();
    } else {
        let e = listed.expect_err("a versions listing from a store without list_versions");
        assert_eq!(e.kind(), ErrorKind::NotSupported, "a versions listing without list_versions: {e}");
    }
    match (caps.delete_versions, version) {
        (true, Some(v)) => {
            must(store.delete_opts(&k, DeleteOptions::version(&v)).await, "delete_opts of one version");
            if caps.list_versions {
                let left: Vec<_> = must(store.list_opts(opts).try_collect().await, "a versions listing");
                assert!(!left.iter().any(|m| m.version.as_ref() == Some(&v)), "version {v} still listed: {left:?}");
            }
        }
        (true, None) => {}
        (false, _) => {
            let e = store.delete_opts(&k, DeleteOptions::version("ferry-conformance")).await;
            let e = e.expect_err("a version delete from a store without delete_versions");
            assert_eq!(e.kind(), ErrorKind::NotSupported, "a version delete without delete_versions: {e}");
            must(store.head(&k).await, "head after a refused version delete");
        }
    }
    clean(store, B).await;
    if caps.list_versions || caps.delete_versions {
        Outcome::Passed
    } else {
        Outcome::not_run("the store keeps no versions (capabilities.list_versions, delete_versions): refusals checked")
    }
}
