//! Progress as a person sees it: the built binary in a pseudo-terminal (`script`) draws an
//! indicatif bar that updates and is cleared at the end; in a pipe it writes plain lines.

mod common;

use std::process::Command;

use common::*;
use ferryboat::{ObjectPath, ObjectStoreExt};
use ferryboat_testkit::emulators::{self, skip, S3Emulator};

/// A source slow enough to watch: 80 objects of 64 KiB into moto, one at a time.
async fn slow_mirror(moto: &S3Emulator, tmp: &std::path::Path) -> Vec<String> {
    let src_dir = tmp.join("src");
    let src = ferryboat::open(&src_dir.display().to_string()).await.unwrap();
    for i in 0..80u32 {
        src.put(&ObjectPath::parse(format!("k/{i:03}")).unwrap(), vec![i as u8; 65_536].into()).await.unwrap();
    }
    let (bucket, _) = s3_bucket(moto, "progress").await;
    vec![
        "mirror".into(),
        file_url(&src_dir),
        s3_url(moto, &bucket),
        "--transfers".into(),
        "1".into(),
        "--progress-every".into(),
        "100ms".into(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_pipe_progress_is_plain_lines() {
    let Some(moto) = emulators::moto() else {
        return skip("in_a_pipe_progress_is_plain_lines", "moto is not available");
    };
    let tmp = tempfile::tempdir().unwrap();
    let args = slow_mirror(&moto, tmp.path()).await;
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(ferryboat(Some(&moto), &args));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("progress: ")).collect();
    assert!(lines.len() >= 2, "periodic lines while it runs: {err}");
    assert!(lines.iter().all(|l| l.contains(" objects, ") && l.ends_with(" keys compared")), "{err}");
    assert!(!err.contains('\x1b') && !err.contains('\r'), "no terminal control codes in a pipe: {err:?}");
    assert!(stdout(&out).contains("== mirror =="), "the report on stdout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_the_bar_appears_updates_and_is_cleared() {
    let test = "on_a_terminal_the_bar_appears_updates_and_is_cleared";
    let Some(moto) = emulators::moto() else { return skip(test, "moto is not available") };
    if Command::new("script").arg("--version").output().is_err() {
        return skip(test, "`script` (util-linux) is not installed");
    }
    let tmp = tempfile::tempdir().unwrap();
    let args = slow_mirror(&moto, tmp.path()).await;
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let line = format!("'{BIN}' {}", quoted.join(" "));
    let mut cmd = ferryboat(Some(&moto), &[]);
    // The same environment, with `script` giving the binary a pseudo-terminal.
    let env: Vec<(String, String)> =
        cmd.get_envs().filter_map(|(k, v)| Some((k.to_str()?.to_string(), v?.to_str()?.to_string()))).collect();
    cmd = Command::new("script");
    cmd.args(["-q", "-e", "-c", &line, "/dev/null"]).env("TERM", "xterm");
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env);
    let out = cmd.output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{screen}");
    // The listing streams, so the planned count grows with the copy: each redraw differs.
    let drawn: std::collections::BTreeSet<&str> =
        screen.match_indices(" objects, ").filter_map(|(i, _)| screen[..i].rsplit(' ').next()).collect();
    assert!(drawn.len() >= 3, "the bar is drawn and redrawn with new counts ({drawn:?}): {screen:?}");
    assert!(screen.contains('█'), "a bar, not just text: {screen:?}");
    assert!(!screen.contains("progress: "), "no plain lines on a terminal");
    let last_bar = screen.rfind(" compared").unwrap();
    let report = screen.find("== mirror ==").expect("the report");
    assert!(report > last_bar, "the report comes after the last bar");
    assert!(screen[last_bar..report].contains("\x1b[2K"), "the bar's line is cleared: {:?}", &screen[last_bar..report]);
    assert!(screen[report..].contains("result: in sync"), "{screen:?}");
}
