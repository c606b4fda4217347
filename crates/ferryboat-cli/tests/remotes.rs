//! Named remotes from a config file, run as the built binary against moto: `NAME:path`
//! works wherever a URL does; an unknown remote or a missing file is bad input (exit 2).

mod common;

use common::*;
use ferryboat::{ObjectPath, ObjectStoreExt};
use ferryboat_testkit::emulators::{self, skip};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_remotes_work_wherever_a_url_does() {
    let Some(moto) = emulators::moto() else {
        return skip("named_remotes_work_wherever_a_url_does", "moto is not available");
    };
    let tmp = tempfile::tempdir().unwrap();
    let (bucket, store) = s3_bucket(&moto, "remotes").await;
    let local = tmp.path().join("local");
    std::fs::create_dir_all(local.join("d")).unwrap();
    std::fs::write(local.join("d/one.txt"), "one").unwrap();
    std::fs::write(local.join("two.txt"), "two").unwrap();
    // The three-line file the docs promise (one line per remote, plus a comment).
    let config = tmp.path().join("remotes.toml");
    std::fs::write(
        &config,
        format!("# where things live\nmoto = \"{}\"\n[here]\nurl = \"{}\"\n", s3_url(&moto, &bucket), file_url(&local)),
    )
    .unwrap();
    let cfg = config.display().to_string();

    let out = run(ferryboat(Some(&moto), &["--config", &cfg, "mirror", "here:", "moto:backup", "--json", "--quiet"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json(&out)["copied"], 2);
    assert_eq!(store.get(&ObjectPath::parse("backup/d/one.txt").unwrap()).await.unwrap().bytes().await.unwrap(), "one");

    // FERRY_CONFIG instead of --config; a remote with a path; cat, stat, ls, check.
    let with_env = |args: &[&str]| {
        let mut cmd = ferryboat(Some(&moto), args);
        cmd.env("FERRY_CONFIG", &config);
        run(cmd)
    };
    let out = with_env(&["cat", "moto:backup/two.txt"]);
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "two"), "{}", stderr(&out));
    let out = with_env(&["ls", "moto:backup/d"]);
    assert!(stdout(&out).contains("one.txt") && !stdout(&out).contains("two.txt"), "{}", stdout(&out));
    let out = with_env(&["check", "here:", "moto:backup", "--json"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let out = with_env(&["cp", "here:two.txt", "moto:copied/"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(store.exists(&ObjectPath::parse("copied/two.txt").unwrap()).await.unwrap());

    // An unknown remote: exit 2, naming the file and the remotes it defines.
    let out = with_env(&["ls", "nosuch:x"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("unknown remote `nosuch`") && err.contains("here, moto"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    // A remotes file that is not there: exit 2, saying which file.
    let out = run(ferryboat(Some(&moto), &["--config", "/nonexistent/remotes.toml", "ls", "moto:"]));
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("/nonexistent/remotes.toml"), "{}", stderr(&out));
    // A file that is not TOML: exit 2.
    std::fs::write(&config, "moto = [unclosed").unwrap();
    let out = with_env(&["ls", "moto:"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("remotes file"), "{}", stderr(&out));
}
