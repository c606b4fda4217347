//! Conditional writes and reads, and the race every create-only write must win once.

use std::sync::Arc;
use std::time::Duration;

use ferryboat_core::{Error, ErrorKind, GetOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, UpdateVersion};

use super::support::{assert_names, assert_object, clean, content, get_bytes, key, must, must_fail, put};
use super::Outcome;

/// `Create` writes once then is `AlreadyExists`; `Update` with the current etag writes and
/// gives a new etag, with a stale one or on a missing key it is `Precondition`. A refused
/// write changes nothing.
pub async fn conditional_put(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "conditional_put";
    let caps = store.capabilities().clone();
    if !caps.put_if_not_exists && !caps.put_if_match {
        return Outcome::not_run("the store has neither put_if_not_exists nor put_if_match");
    }
    clean(store, B).await;
    let path = key(B, "object");
    let first = content(100, 70);
    let created = if caps.put_if_not_exists {
        let created = must(store.put_if_not_exists(&path, first.clone()).await, format_args!("create {path}"));
        let err = must_fail(
            store.put_if_not_exists(&path, content(100, 71)).await,
            ErrorKind::AlreadyExists,
            format_args!("second create of {path}"),
        );
        assert_names(&err, &path, format_args!("second create of {path}"));
        assert_object(store, &path, &first, "after a refused create").await;
        created
    } else {
        put(store, &path, first.clone()).await
    };
    if !caps.put_if_match {
        clean(store, B).await;
        return Outcome::Passed;
    }

    let current = if created.etag.is_some() || created.version.is_some() {
        UpdateVersion::from(&created)
    } else {
        UpdateVersion::from(&must(store.head(&path).await, format_args!("head {path}")))
    };
    let second = content(120, 72);
    let updated = must(
        store.put_opts(&path, second.clone(), PutMode::Update(current.clone()).into()).await,
        format_args!("update {path} with its current etag {:?}", current.etag),
    );
    let meta = assert_object(store, &path, &second, "after an update").await;
    assert_ne!(meta.etag, current.etag, "update {path}: expected a new etag, got the old one {:?}", current.etag);
    if let Some(etag) = &updated.etag {
        assert_eq!(
            meta.etag.as_ref(),
            Some(etag),
            "update {path}: expected head's etag to be the one the update returned"
        );
    }

    let stale = must_fail(
        store.put_opts(&path, content(130, 73), PutMode::Update(current.clone()).into()).await,
        ErrorKind::Precondition,
        format_args!("update {path} with the stale etag {:?}", current.etag),
    );
    assert_names(&stale, &path, format_args!("update {path} with a stale etag"));
    let wrong = UpdateVersion { etag: Some("00000000000000000000000000000000".into()), version: None };
    must_fail(
        store.put_opts(&path, content(130, 74), PutMode::Update(wrong).into()).await,
        ErrorKind::Precondition,
        format_args!("update {path} with a made-up etag"),
    );
    assert_object(store, &path, &second, "after refused updates").await;

    let missing = key(B, "missing");
    must_fail(
        store.put_opts(&missing, content(10, 75), PutMode::Update(current).into()).await,
        ErrorKind::Precondition,
        format_args!("update of the missing key {missing}"),
    );
    must_fail(store.head(&missing).await, ErrorKind::NotFound, format_args!("head {missing} after a refused update"));
    clean(store, B).await;
    Outcome::Passed
}

/// Read conditions: `if_match` (wrong → `Precondition`), `if_none_match` (same →
/// `NotModified`), `if_modified_since` (later than the write → `NotModified`),
/// `if_unmodified_since` (earlier than the write → `Precondition`), and their passing forms.
pub async fn conditional_get(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "conditional_get";
    if !store.capabilities().get_conditions {
        return Outcome::not_run("the store does not evaluate read conditions (capabilities.get_conditions)");
    }
    clean(store, B).await;
    let path = key(B, "object");
    let data = content(64, 80);
    put(store, &path, data.clone()).await;
    let meta = must(store.head(&path).await, format_args!("head {path}"));
    let Some(etag) = meta.etag.clone() else {
        panic!("head {path}: expected an etag to test conditions with, got none");
    };
    let hour = Duration::from_secs(3600);
    let (before, after) = (meta.last_modified - hour, meta.last_modified + hour);
    let wrong = "00000000000000000000000000000000".to_string();

    let passing = [
        ("if_match the current etag", GetOptions { if_match: Some(etag.clone()), ..Default::default() }),
        ("if_match *", GetOptions { if_match: Some("*".into()), ..Default::default() }),
        ("if_none_match another etag", GetOptions { if_none_match: Some(wrong.clone()), ..Default::default() }),
        (
            "if_modified_since an hour before the write",
            GetOptions { if_modified_since: Some(before), ..Default::default() },
        ),
        (
            "if_unmodified_since an hour after the write",
            GetOptions { if_unmodified_since: Some(after), ..Default::default() },
        ),
    ];
    for (what, opts) in passing {
        let what = format!("get {path} with {what}");
        let (_, _, body) = get_bytes(store, &path, opts, &what).await;
        assert_eq!(body, data, "{what}: expected the object's bytes");
    }

    let failing = [
        (
            "if_match a wrong etag",
            GetOptions { if_match: Some(wrong.clone()), ..Default::default() },
            ErrorKind::Precondition,
        ),
        (
            "if_none_match the current etag",
            GetOptions { if_none_match: Some(etag.clone()), ..Default::default() },
            ErrorKind::NotModified,
        ),
        (
            "if_none_match *",
            GetOptions { if_none_match: Some("*".into()), ..Default::default() },
            ErrorKind::NotModified,
        ),
        (
            "if_modified_since an hour after the write",
            GetOptions { if_modified_since: Some(after), ..Default::default() },
            ErrorKind::NotModified,
        ),
        (
            "if_unmodified_since an hour before the write",
            GetOptions { if_unmodified_since: Some(before), ..Default::default() },
            ErrorKind::Precondition,
        ),
    ];
    for (what, opts, kind) in failing {
        let what = format!("get {path} with {what}");
        must_fail(store.get_opts(&path, opts.clone()).await, kind, &what);
        let head = GetOptions { head: true, ..opts };
        must_fail(store.get_opts(&path, head).await, kind, format_args!("{what} (head)"));
    }
    clean(store, B).await;
    Outcome::Passed
}

/// 32 concurrent `Create` writers of one key: exactly one wins, 31 get `AlreadyExists`, and
/// the stored bytes are the winner's.
pub async fn concurrent_create(store: &Arc<dyn ObjectStore>) -> Outcome {
    const B: &str = "concurrent_create";
    const WRITERS: usize = 32;
    if !store.capabilities().put_if_not_exists {
        return Outcome::not_run("the store has no atomic create (capabilities.put_if_not_exists)");
    }
    clean(store, B).await;
    let path = key(B, "contended");
    // Each writer's body differs in length as well as bytes: the winner is unambiguous.
    let bodies: Vec<_> = (0..WRITERS).map(|i| content(1000 + i, 100 + i as u64)).collect();
    let tasks: Vec<_> = bodies
        .iter()
        .map(|body| {
            let (store, path, body) = (Arc::clone(store), path.clone(), body.clone());
            tokio::spawn(async move { store.put_opts(&path, body, PutOptions::mode(PutMode::Create)).await })
        })
        .collect();
    let mut winners = Vec::new();
    let mut refused = 0;
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await {
            Ok(Ok(_)) => winners.push(i),
            Ok(Err(Error::AlreadyExists { .. })) => refused += 1,
            Ok(Err(e)) => panic!("concurrent create of {path}, writer {i}: expected success or AlreadyExists, got {e}"),
            Err(e) => panic!("concurrent create of {path}, writer {i}: the task failed: {e}"),
        }
    }
    assert_eq!(
        (winners.len(), refused),
        (1, WRITERS - 1),
        "{WRITERS} concurrent creates of {path}: expected 1 success and {} AlreadyExists, got winners {winners:?} and {refused} AlreadyExists",
        WRITERS - 1
    );
    assert_object(store, &path, &bodies[winners[0]], format_args!("after the race, writer {}'s bytes", winners[0]))
        .await;
    clean(store, B).await;
    Outcome::Passed
}
