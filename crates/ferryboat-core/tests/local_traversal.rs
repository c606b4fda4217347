//! The local store never reads or writes outside its root: hostile keys, symlinks, hard
//! links and a directory swapped for a link. After every case the directory beside the root
//! must be exactly as it was.
//!
//! Decision tested here: a hard link inside the root to a file elsewhere IS that file (the
//! filesystem cannot tell the names apart), so reading it returns those bytes; whoever made
//! the link granted that. Writing the key never writes through it: the rename replaces the
//! link.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use ferryboat_core::local::LocalStore;
use ferryboat_core::{Error, ErrorKind, ObjectPath, ObjectStore, ObjectStoreExt};
use futures::TryStreamExt;

struct Fixture {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
    store: LocalStore,
    before: BTreeMap<PathBuf, String>,
}

/// Everything under `dir`: file contents, and link targets for symlinks.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(dir).unwrap().to_path_buf();
            if meta.file_type().is_symlink() {
                out.insert(rel, format!("link -> {}", fs::read_link(&path).unwrap().display()));
            } else if meta.is_dir() {
                out.insert(rel, "dir".into());
                stack.push(path);
            } else {
                out.insert(rel, fs::read_to_string(&path).unwrap());
            }
        }
    }
    out
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let outside = tmp.path().join("outside");
    fs::create_dir_all(outside.join("sub")).unwrap();
    fs::write(outside.join("secret.txt"), "outside secret").unwrap();
    fs::write(outside.join("x"), "outside x").unwrap();
    fs::write(outside.join("sub/deep.txt"), "deep").unwrap();
    let store = LocalStore::new(&root).unwrap();
    let before = snapshot(&outside);
    Fixture { _tmp: tmp, root, outside, store, before }
}

impl Fixture {
    fn assert_outside_unchanged(&self, case: &str) {
        assert_eq!(snapshot(&self.outside), self.before, "{case}: the directory outside the root changed");
    }
}

fn key(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap()
}

fn assert_denied<T: std::fmt::Debug>(r: ferryboat_core::Result<T>, k: &str, case: &str) {
    match r {
        Err(e @ Error::PermissionDenied { .. }) => assert_eq!(e.path(), Some(k), "{case}: names the key"),
        other => panic!("{case}: expected PermissionDenied, got {other:?}"),
    }
}

/// Keys every provider accepts that would climb out of, or alias within, a directory if they
/// were paths: each is stored under the root through the escaping encoding, read back by its
/// own key, listed as itself, deleted, and nothing outside the root moves.
const HOSTILE: &[(&str, &str)] = &[
    ("../x", "‛../x"),
    ("c/../../x", "c/‛../‛../x"),
    ("../../outside/secret.txt", "‛../‛../outside/secret.txt"),
    ("/etc/passwd", "‛/etc/passwd"),
    ("/", "‛/‛"),
    ("d//", "d/‛/‛"),
    ("a/./b", "a/‛./b"),
    ("f/..", "f/‛.."),
    (".", "‛."),
    ("a/..", "a/‛.."),
    ("a/", "a/‛"),
    ("b//c", "b/‛/c"),
    ("x\n", "x\n"),
    ("‛..", "‛‛.."),
];

#[tokio::test]
async fn hostile_keys_stay_beneath_the_root_under_their_encoded_names() {
    let f = fixture();
    for (k, on_disk) in HOSTILE {
        f.store.put(&key(k), k.to_string().into()).await.unwrap();
        assert_eq!(fs::read_to_string(f.root.join(on_disk)).unwrap(), *k, "{k:?} is the file {on_disk:?}");
        assert_eq!(f.store.get(&key(k)).await.unwrap().bytes().await.unwrap(), *k, "{k:?} reads back");
        f.assert_outside_unchanged(k);
    }
    let mut expected: Vec<&str> = HOSTILE.iter().map(|(k, _)| *k).collect();
    expected.sort();
    // `a` cannot be beside `a/...` on disk; none of the above is such a pair.
    let listed: Vec<String> = f.store.list(None).map_ok(|m| m.path.to_string()).try_collect().await.unwrap();
    assert_eq!(listed, expected, "listed as themselves, in byte order");
    for (k, _) in HOSTILE {
        f.store.delete(&key(k)).await.unwrap();
    }
    assert!(f.store.list(None).try_collect::<Vec<_>>().await.unwrap().is_empty());
    let left: Vec<_> = fs::read_dir(&f.root).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, [".ferry"], "deletes leave only the store's own directory");
    f.assert_outside_unchanged("after deletes");
}

#[tokio::test]
async fn keys_no_file_name_can_hold_are_refused_alone() {
    let f = fixture();
    for (k, why) in [("a\0b", "NUL"), (&*format!("d/{}", "n".repeat(256)), "segment 2 is 256 bytes")] {
        let err = f.store.put(&key(k), "x".into()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidPath, "{k:?}");
        assert!(err.to_string().contains(why), "{k:?}: {err}");
        assert_eq!(f.store.head(&key(k)).await.unwrap_err().kind(), ErrorKind::NotFound);
        f.store.delete(&key(k)).await.unwrap();
    }
    // 254 bytes plus the escape would be 257 bytes: the escape counts.
    let escaped = format!("{}..", "‛".repeat(84));
    assert_eq!(escaped.len(), 254);
    assert!(f.store.put(&key(&escaped), "x".into()).await.unwrap_err().to_string().contains("257 bytes"));
    f.assert_outside_unchanged("refusals");
}

#[tokio::test]
async fn the_store_directory_is_not_addressable_and_its_names_are_ordinary_keys() {
    let f = fixture();
    // Keys naming the store's own directory are stored beside it, escaped, never in it.
    for k in [".ferry/tmp/x", ".ferry/meta/a", ".ferry/uploads/u-1/record", "‛.ferry"] {
        f.store.put(&key(k), k.to_string().into()).await.unwrap();
        assert_eq!(f.store.get(&key(k)).await.unwrap().bytes().await.unwrap(), *k);
    }
    f.store.put(&key(".ferry"), "top".into()).await.unwrap_err(); // a directory `.ferry/` holds keys now
    assert_eq!(fs::read_to_string(f.root.join("‛.ferry/tmp/x")).unwrap(), ".ferry/tmp/x");
    assert_eq!(fs::read_to_string(f.root.join("‛‛.ferry")).unwrap(), "‛.ferry");
    assert!(f.root.join(".ferry/tmp").is_dir(), "the store's directory survives");
    assert!(!f.root.join(".ferry/tmp/x").exists(), "no key lands in the temp directory");
    // Names the store uses elsewhere, and deeper `.ferry` segments, are ordinary keys.
    for k in [".ferrying/x", ".ferry-uploads/x/p00001", "a/.ferry/tmp"] {
        f.store.put(&key(k), "ok".into()).await.unwrap();
    }
    let keys: Vec<_> = f.store.list(None).map_ok(|m| m.path.to_string()).try_collect().await.unwrap();
    assert_eq!(
        keys,
        [
            ".ferry-uploads/x/p00001",
            ".ferry/meta/a",
            ".ferry/tmp/x",
            ".ferry/uploads/u-1/record",
            ".ferrying/x",
            "a/.ferry/tmp",
            "‛.ferry"
        ]
    );
    f.assert_outside_unchanged(".ferry");
}

#[tokio::test]
async fn percent_encoded_dots_are_ordinary_characters() {
    let f = fixture();
    let k = key("%2e%2e/x");
    f.store.put(&k, "literal".into()).await.unwrap();
    assert_eq!(fs::read_to_string(f.root.join("%2e%2e").join("x")).unwrap(), "literal");
    assert_eq!(f.store.get(&k).await.unwrap().bytes().await.unwrap(), "literal");
    f.assert_outside_unchanged("%2e%2e");
}

#[tokio::test]
async fn symlink_to_a_directory_outside_cannot_be_written_or_read_through() {
    let f = fixture();
    symlink(&f.outside, f.root.join("abs")).unwrap();
    symlink("../outside", f.root.join("rel")).unwrap();
    for link in ["abs", "rel"] {
        let new = format!("{link}/new.txt");
        assert_denied(f.store.put(&key(&new), "escape".into()).await, &new, "put through dir link");
        let secret = format!("{link}/secret.txt");
        assert_denied(f.store.get(&key(&secret)).await, &secret, "get through dir link");
        assert_denied(f.store.head(&key(&secret)).await, &secret, "head through dir link");
        let x = format!("{link}/x");
        assert_denied(f.store.delete(&key(&x)).await, &x, "delete through dir link");
        let deep = format!("{link}/sub/deep.txt");
        assert_denied(f.store.copy(&key(&deep), &key("copied")).await, &deep, "copy from dir link");
        f.store.put(&key("mine"), "mine".into()).await.unwrap();
        let err = f.store.rename(&key("mine"), &key(&format!("{link}/moved"))).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "rename into dir link");
        // Multipart completes through the same commit path.
        let up = f.store.put_multipart(&key(&format!("{link}/mp"))).await.unwrap();
        let part = up.put_part(1, "part".into()).await.unwrap();
        assert_eq!(up.complete(vec![part]).await.unwrap_err().kind(), ErrorKind::PermissionDenied);
        f.assert_outside_unchanged(link);
    }
    // Links are not objects, and listing under them shows nothing.
    let keys: Vec<_> = f.store.list(None).map_ok(|m| m.path.to_string()).try_collect().await.unwrap();
    assert_eq!(keys, ["mine"]);
    assert!(f.store.list(Some(&key("abs"))).try_collect::<Vec<_>>().await.unwrap().is_empty());
    let level = f.store.list_with_delimiter(None).await.unwrap();
    assert!(level.common_prefixes.is_empty(), "{level:?}");
}

#[tokio::test]
async fn symlink_to_a_file_outside_is_never_read_and_a_put_replaces_the_link() {
    let f = fixture();
    symlink(f.outside.join("secret.txt"), f.root.join("flink")).unwrap();
    assert_denied(f.store.get(&key("flink")).await, "flink", "get file link");
    assert_denied(f.store.copy(&key("flink"), &key("stolen")).await, "flink", "copy file link");
    assert!(!f.store.exists(&key("stolen")).await.unwrap());
    // Update and Create must not be fooled either.
    let err = f.store.put_if_not_exists(&key("flink"), "x".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "a name is taken, even by a link");
    f.store.put(&key("flink"), "replaced".into()).await.unwrap();
    assert!(!fs::symlink_metadata(f.root.join("flink")).unwrap().file_type().is_symlink());
    assert_eq!(f.store.get(&key("flink")).await.unwrap().bytes().await.unwrap(), "replaced");
    f.assert_outside_unchanged("file link");

    symlink(f.outside.join("x"), f.root.join("gone")).unwrap();
    f.store.delete(&key("gone")).await.unwrap();
    assert!(fs::symlink_metadata(f.root.join("gone")).is_err(), "delete removes the link itself");
    f.assert_outside_unchanged("delete link");
}

#[tokio::test]
async fn hard_link_to_a_file_outside_is_replaced_not_written_through() {
    let f = fixture();
    fs::hard_link(f.outside.join("secret.txt"), f.root.join("hlink")).unwrap();
    // Same inode: the bytes are the linked file's (see the module docs).
    assert_eq!(f.store.get(&key("hlink")).await.unwrap().bytes().await.unwrap(), "outside secret");
    f.store.put(&key("hlink"), "new bytes".into()).await.unwrap();
    assert_eq!(fs::read_to_string(f.root.join("hlink")).unwrap(), "new bytes");
    f.assert_outside_unchanged("hard link put");

    fs::hard_link(f.outside.join("x"), f.root.join("h2")).unwrap();
    let up = f.store.put_multipart(&key("h2")).await.unwrap();
    let part = up.put_part(1, "assembled".into()).await.unwrap();
    up.complete(vec![part]).await.unwrap();
    f.store.copy(&key("hlink"), &key("h2")).await.unwrap();
    f.store.delete(&key("h2")).await.unwrap();
    f.assert_outside_unchanged("hard link multipart, copy, delete");
}

#[tokio::test]
async fn directory_swapped_for_a_symlink_is_refused() {
    let f = fixture();
    f.store.put(&key("d/x"), "inside".into()).await.unwrap();
    f.store.put(&key("d/y"), "inside".into()).await.unwrap();
    fs::remove_dir_all(f.root.join("d")).unwrap();
    symlink(&f.outside, f.root.join("d")).unwrap();

    assert_denied(f.store.get(&key("d/x")).await, "d/x", "get after swap");
    assert_denied(f.store.put(&key("d/x"), "overwrite".into()).await, "d/x", "put after swap");
    assert_denied(f.store.delete(&key("d/x")).await, "d/x", "delete after swap");
    assert_denied(f.store.put(&key("d/sub/new"), "n".into()).await, "d/sub/new", "nested put after swap");
    assert!(f.store.list(Some(&key("d"))).try_collect::<Vec<_>>().await.unwrap().is_empty());
    let pending = f.store.list_pending_uploads(None).await.unwrap();
    assert!(pending.is_empty(), "no upload was left behind: {pending:?}");
    f.assert_outside_unchanged("swapped directory");
}

#[tokio::test]
async fn temp_directory_swapped_for_a_symlink_is_refused() {
    let f = fixture();
    fs::remove_dir_all(f.root.join(".ferry/tmp")).unwrap();
    symlink(&f.outside, f.root.join(".ferry/tmp")).unwrap();
    let err = f.store.put(&key("k"), "data".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    f.assert_outside_unchanged("temp dir swap");
}
