//! `ls`, `stat`, `cat`, `cp`, `rm`, `providers`, `plan` and bad input, run as the built
//! binary against moto and local directories.

mod common;

use common::*;
use ferryboat::{ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_testkit::emulators::{self, skip};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cp_ls_stat_cat_rm_between_a_directory_and_s3() {
    let Some(moto) = emulators::moto() else {
        return skip("cp_ls_stat_cat_rm_between_a_directory_and_s3", "moto is not available");
    };
    let tmp = tempfile::tempdir().unwrap();
    let body: Vec<u8> = (0..200_000u32).map(|i| (i * 7) as u8).collect();
    std::fs::write(tmp.path().join("report.bin"), &body).unwrap();
    let (bucket, store) = s3_bucket(&moto, "cli-objects").await;
    let local = tmp.path().join("report.bin").display().to_string();

    // cp: a local file to a key, then a key to a "directory" URL (keeps the name).
    let out = run(ferryboat(Some(&moto), &["cp", &local, &s3_object_url(&moto, &bucket, "in/report.bin"), "--json"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json(&out)["bytes"], 200_000);
    let got = store.get(&ObjectPath::parse("in/report.bin").unwrap()).await.unwrap().bytes().await.unwrap();
    assert_eq!(&got[..], &body[..], "cp wrote the bytes");
    let back = format!("file://{}/", tmp.path().join("back").display());
    let out = run(ferryboat(Some(&moto), &["cp", &s3_object_url(&moto, &bucket, "in/report.bin"), &back]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(std::fs::read(tmp.path().join("back/report.bin")).unwrap(), body);

    // ls: JSON Lines, one per object.
    store.put(&ObjectPath::parse("in/deeper/x.txt").unwrap(), "x".into()).await.unwrap();
    let out = run(ferryboat(Some(&moto), &["ls", &s3_url(&moto, &bucket), "--json"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let keys: Vec<&str> = lines.iter().map(|v| v["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["in/deeper/x.txt", "in/report.bin"]);
    assert_eq!(lines[1]["size"], 200_000);
    // ls --level: one level, directories marked.
    let out = run(ferryboat(Some(&moto), &["ls", "--level", &s3_object_url(&moto, &bucket, "in")]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("deeper/") && text.contains("report.bin") && !text.contains("x.txt"), "{text}");

    // stat and cat.
    let out = run(ferryboat(Some(&moto), &["stat", "--json", &s3_object_url(&moto, &bucket, "in/report.bin")]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(
        (v["size"].as_u64(), v["provider"].as_str()),
        (Some(200_000), Some("generic")),
        "an S3 URL with an endpoint is the generic S3 profile: {v}"
    );
    let out = run(ferryboat(Some(&moto), &["cat", &s3_object_url(&moto, &bucket, "in/report.bin")]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(out.stdout, body, "cat writes the exact bytes");

    // rm one key; a missing key is exit 1 (not bad input: the answer is "not there").
    let out = run(ferryboat(Some(&moto), &["rm", &s3_object_url(&moto, &bucket, "in/report.bin")]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!store.exists(&ObjectPath::parse("in/report.bin").unwrap()).await.unwrap());
    for cmd in ["rm", "stat", "cat"] {
        let out = run(ferryboat(Some(&moto), &[cmd, &s3_object_url(&moto, &bucket, "in/report.bin")]));
        assert_eq!(code(&out), 1, "{cmd} of a missing key: {}", stderr(&out));
        assert!(stderr(&out).to_lowercase().contains("not found"), "{cmd}: {}", stderr(&out));
    }
    // rm --recursive empties the prefix.
    let out = run(ferryboat(Some(&moto), &["rm", "--recursive", "--json", &s3_object_url(&moto, &bucket, "in")]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json(&out)["deleted"], 1);
    let out = run(ferryboat(Some(&moto), &["ls", &s3_url(&moto, &bucket)]));
    assert_eq!(stdout(&out), "", "nothing left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_prices_a_real_listing() {
    let Some(moto) = emulators::moto() else { return skip("plan_prices_a_real_listing", "moto is not available") };
    let (bucket, store) = s3_bucket(&moto, "cli-plan").await;
    for i in 0..5u8 {
        store
            .put(&ObjectPath::parse(format!("d/{i}")).unwrap(), vec![i; 1000 * (usize::from(i) + 1)].into())
            .await
            .unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().display().to_string();
    let args =
        ["plan", &s3_url(&moto, &bucket), &dst, "--source-provider", "aws", "--destination-provider", "otc", "--json"];
    let out = run(ferryboat(Some(&moto), &args));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let plan = json(&out);
    assert_eq!(plan["workload"]["objects"], 5);
    assert_eq!(plan["workload"]["bytes"], 15_000, "1 + 2 + 3 + 4 + 5 thousand bytes");
    assert_eq!(plan["egress"]["bytes"], 15_000);
    let out = run(ferryboat(Some(&moto), &args[..args.len() - 1]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("objects     5 (15000 bytes"), "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_ends_with_the_exit_plan_of_what_it_would_copy() {
    let Some(moto) = emulators::moto() else {
        return skip("a_dry_run_ends_with_the_exit_plan_of_what_it_would_copy", "moto is not available");
    };
    let (bucket, store) = s3_bucket(&moto, "cli-dry-plan").await;
    // 1,000 to 5,000 bytes; with 2,500-byte parts the last three are multipart uploads.
    for i in 0..5u8 {
        store
            .put(&ObjectPath::parse(format!("d/{i}")).unwrap(), vec![i; 1000 * (usize::from(i) + 1)].into())
            .await
            .unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().display().to_string();
    // d/0 and d/1 are there already: the plan prices only the three left to copy.
    let copy_first = ["mirror", &s3_url(&moto, &bucket), &dst, "--include", "d/[01]", "--quiet"];
    let out = run(ferryboat(Some(&moto), &copy_first));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let src = s3_url(&moto, &bucket);
    let dry = [
        "mirror",
        &src,
        &dst,
        "--dry-run",
        "--part-size",
        "2500",
        "--source-provider",
        "aws",
        "--destination-provider",
        "otc",
        "--json",
        "--quiet",
    ];
    let out = run(ferryboat(Some(&moto), &dry));
    assert_eq!(code(&out), 1, "a dry run that finds work is not in sync: {}", stderr(&out));
    let report = json(&out);
    let plan = &report["exit_plan"];
    assert_eq!(plan["workload"]["objects"], 3, "{plan}");
    assert_eq!(plan["workload"]["bytes"], 12_000, "3 + 4 + 5 thousand bytes");
    assert_eq!(plan["workload"]["multipart_objects"], 3);
    assert_eq!(plan["workload"]["parts"], 2 + 2 + 2, "ceil(3000/2500) + ceil(4000/2500) + ceil(5000/2500)");
    assert_eq!(plan["egress"]["bytes"], 12_000);
    assert_eq!(plan["source"]["provider"], "aws");
    assert_eq!(plan["destination"]["provider"], "otc");
    assert_eq!(report["copied"], 3, "the report itself is unchanged: {report}");
    // In text, the plan follows the report; without providers it says why there is none.
    let out = run(ferryboat(Some(&moto), &dry[..dry.len() - 2]));
    assert!(stdout(&out).contains("== exit plan =="), "{}", stdout(&out));
    let out = run(ferryboat(Some(&moto), &["mirror", &src, &dst, "--dry-run", "--quiet"]));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stdout(&out).contains("no exit plan:") && stdout(&out).contains("catalogue"), "{}", stdout(&out));
}

#[test]
fn bad_input_exits_2_with_one_line_that_names_no_secret() {
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETKEY";
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["ls", "ftp://host/bucket"], "scheme"),
        (vec!["mirror", "s3://", &dir], "bucket"),
        (vec!["mirror", "nosuchprovider://fr-par/b", &dir], "nosuchprovider"),
        (vec!["check", &dir, "scaleway://mars-1/b"], "region"),
        (vec!["stat", "s3://bucket"], "names no object"),
        (vec!["cat", "az://container/key?sig=SECRETSIGNATURE&sv=2020"], ""),
        (vec!["mirror", &dir], "both"),
        (vec!["mirror", &dir, &dir, "--part-size", "lots"], "part-size"),
        (vec!["frobnicate"], "unrecognized subcommand"),
        (vec!["providers", "nimbus"], "unknown provider"),
        (vec!["plan", &dir, &dir], "catalogue"),
        (vec!["plan", &dir, &dir, "--source-provider", "aws", "--day", "someday"], "--day"),
    ];
    for (args, mentions) in cases {
        let mut cmd = ferryboat(None, &args);
        cmd.env("AWS_SECRET_ACCESS_KEY", secret).env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
        let out = run(cmd);
        let err = stderr(&out);
        assert_eq!(code(&out), 2, "{args:?}: exit 2; stderr: {err}");
        assert!(err.to_lowercase().contains(mentions), "{args:?}: says what is wrong ({mentions}): {err}");
        assert!(!err.contains(secret) && !err.contains("SECRETSIGNATURE"), "{args:?}: no secret in {err}");
        if !args[0].starts_with("frob") && !args.contains(&"--part-size") {
            assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line: {err}");
        }
    }
}

#[test]
fn an_endpoint_that_does_not_answer_is_exit_1_which_a_scheduler_may_retry() {
    // A port nothing listens on: bind, note, close.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("s3://nothing?endpoint=http://127.0.0.1:{closed}&path_style=true&region=us-east-1");
    let mut cmd = ferryboat(None, &["ls", &url]);
    cmd.env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE").env("AWS_SECRET_ACCESS_KEY", "x").env("AWS_MAX_ATTEMPTS", "1");
    let out = run(cmd);
    assert_eq!(code(&out), 1, "not bad input: the same command may work later; {}", stderr(&out));
    assert!(stderr(&out).contains("127.0.0.1"), "{}", stderr(&out));
}

#[test]
fn providers_filters_by_jurisdiction_country_and_cloud_act() {
    let out = run(ferryboat(None, &["providers", "--json"]));
    assert_eq!(code(&out), 0);
    let all = json(&out);
    let all = all.as_array().unwrap();
    assert!(all.len() >= 20, "the whole catalogue: {}", all.len());

    let out = run(ferryboat(None, &["providers", "--json", "--jurisdiction", "eu", "--no-cloud-act"]));
    let eu = json(&out);
    let eu = eu.as_array().unwrap();
    assert!(!eu.is_empty() && eu.len() < all.len());
    assert!(eu.iter().all(|p| p["jurisdiction"] == "EU" && p["cloud_act"] == false), "{eu:?}");
    assert!(eu.iter().any(|p| p["id"] == "scaleway"));

    let out = run(ferryboat(None, &["providers", "--json", "--cloud-act"]));
    let us = json(&out);
    assert!(us.as_array().unwrap().iter().all(|p| p["cloud_act"] == true));
    assert!(us.as_array().unwrap().iter().any(|p| p["id"] == "aws"));

    let out = run(ferryboat(None, &["providers", "--json", "--country", "PL"]));
    let pl = json(&out);
    assert!(pl.as_array().unwrap().iter().all(|p| p["countries"].as_array().unwrap().iter().any(|c| c == "PL")));
    assert!(pl.as_array().unwrap().iter().any(|p| p["id"] == "scaleway"), "Scaleway has Warsaw: {pl}");

    // One provider in full, by alias.
    let out = run(ferryboat(None, &["providers", "scw", "--json"]));
    assert_eq!(code(&out), 0);
    let scw = json(&out);
    assert_eq!(scw["id"], "scaleway");
    let regions = scw["regions"].as_array().unwrap();
    let par = regions.iter().find(|r| r["code"] == "fr-par").expect("fr-par listed");
    assert_eq!((par["city"].as_str(), par["endpoint"].as_str()), (Some("Paris"), Some("https://s3.fr-par.scw.cloud")));
    // Quirks as data, in the catalogue's field names and units.
    let quirks = &scw["quirks"];
    assert_eq!(quirks["max_parts"], 1000, "{scw}");
    assert_eq!(quirks["checksums"], "when_required", "{scw}");
    assert!(quirks["min_part_size"].as_u64().is_some_and(|n| n >= 5 << 20), "{scw}");
    assert!(quirks["put_if_none_match"].is_boolean(), "{scw}");
    assert_eq!(scw["api"], "s3");
    assert!(scw.get("default_region").is_some() && scw["addressing"] == "virtual_hosted", "{scw}");
    assert!(par["signing_region"].is_string(), "{par}");
    let out = run(ferryboat(None, &["providers", "scaleway"]));
    assert!(stdout(&out).contains("fr-par") && stdout(&out).contains("quirks"));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    // `ferryboat providers | head -1`: the reader leaves early; no panic, no error text.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("'{BIN}' providers | head -c 10 >/dev/null; '{BIN}' providers scaleway | head -c 10"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked") && !err.contains("error"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_versions_lists_every_version_and_delete_marker() {
    let Some(moto) = emulators::moto() else {
        return skip("ls_versions_lists_every_version_and_delete_marker", "moto is not available");
    };
    let (bucket, store) = s3_bucket(&moto, "cli-versions").await;
    store.enable_versioning().await.unwrap();
    let key = ObjectPath::parse("doc.txt").unwrap();
    store.put(&key, "first".into()).await.unwrap();
    store.put(&key, "second!".into()).await.unwrap();
    store.delete(&key).await.unwrap();

    // The generic S3 profile claims no versioning (many S3-compatible servers have none):
    // an endpoint of a provider that has it says which (moto plays AWS).
    let url = s3_url(&moto, &bucket);
    let out = run(ferryboat(Some(&moto), &["ls", "--versions", &url]));
    assert_eq!(code(&out), 2, "the generic profile refuses: {}", stderr(&out));
    let aws = format!("{url}&provider=aws");
    let out = run(ferryboat(Some(&moto), &["ls", "--versions", "--json", &aws]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let seen: Vec<(bool, bool, u64)> = lines
        .iter()
        .map(|v| (v["delete_marker"].as_bool().unwrap(), v["latest"].as_bool().unwrap(), v["size"].as_u64().unwrap()))
        .collect();
    assert_eq!(seen, [(true, true, 0), (false, false, 7), (false, false, 5)], "newest first: {lines:?}");
    assert!(lines.iter().all(|v| v["key"] == "doc.txt" && v["version"].is_string()), "{lines:?}");
    let out = run(ferryboat(Some(&moto), &["ls", "--versions", &aws]));
    let text = stdout(&out);
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(rows[0].contains("deleted") && rows[0].contains(lines[0]["version"].as_str().unwrap()), "{text}");
    // The plain listing shows nothing: the key reads as deleted.
    let out = run(ferryboat(Some(&moto), &["ls", &s3_url(&moto, &bucket)]));
    assert_eq!(stdout(&out), "");

    // A store that keeps no versions says so: bad input, exit 2.
    let tmp = tempfile::tempdir().unwrap();
    let out = run(ferryboat(None, &["ls", "--versions", &file_url(tmp.path())]));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("version"), "{}", stderr(&out));
}
