//! Backend options from the remotes file, run as the built binary with every AWS, Azure,
//! Google and FERRY variable cleared: credentials reach Ceph RGW (which checks signatures),
//! Azurite and fake-gcs-server only through the file (secrets read from files) or through
//! `FERRY_<PROVIDER>_*_FILE` variables. A wrong secret, a missing secret file, an unknown
//! key and a broken key file are bad input (exit 2) on one line that names no secret.

mod common;

use std::io::{Read, Write};
use std::path::Path;

use common::*;
use ferryboat::azure::{AzureConfig, AzureStore};
use ferryboat::{ObjectPath, ObjectStoreExt};
use ferryboat_testkit::emulators::{self, skip};

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Exit 2, one line on stderr, and none of `secrets` anywhere in the output.
fn refused(out: &std::process::Output, secrets: &[&str]) -> String {
    let err = stderr(out);
    assert_eq!(code(out), 2, "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for s in secrets {
        assert!(!err.contains(s) && !stdout(out).contains(s), "a secret was printed: {err}");
    }
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_credentials_and_settings_from_the_remotes_file_reach_ceph_rgw() {
    let Some(ceph) = emulators::ceph_rgw() else {
        return skip("s3_credentials_and_settings_from_the_remotes_file_reach_ceph_rgw", "Ceph RGW is not available");
    };
    let tmp = tempfile::tempdir().unwrap();
    let (bucket, store) = s3_bucket(&ceph, "options").await;
    store.put(&ObjectPath::parse("a.txt").unwrap(), "alpha".into()).await.unwrap();
    let good = write(tmp.path(), "secret", &format!("{}\n", ceph.secret_key));
    let wrong_secret = "WrongSecretValue0123456789abcdefXYZ";
    let wrong = write(tmp.path(), "wrong", wrong_secret);
    let url = format!("s3://{bucket}?endpoint={}", ceph.endpoint);
    let table = |name: &str, extra: &str| {
        format!(
            "[{name}]\nurl = \"{url}\"\npath_style = true\nregion = \"{}\"\naccess_key_id = \"{}\"\n{extra}\n",
            ceph.region, ceph.access_key
        )
    };
    let config = write(
        tmp.path(),
        "remotes.toml",
        &[
            // A flat entry first: after a table header, it would be one of its keys.
            format!("plain = \"{url}&path_style=true&region={}\"\n", ceph.region),
            table("ceph", &format!("secret_access_key_file = \"{good}\"\nmax_attempts = 2\nconnect_timeout = \"5s\"")),
            table("wrong", &format!("secret_access_key_file = \"{wrong}\"\nmax_attempts = 1")),
            table("nofile", "secret_access_key_file = \"/nonexistent/ferry-secret\""),
            table("typo", &format!("secret_access_key_file = \"{good}\"\nregoin = \"eu\"")),
        ]
        .concat(),
    );
    let ferry = |args: &[&str]| {
        let mut all = vec!["--config", config.as_str()];
        all.extend_from_slice(args);
        ferryboat(None, &all)
    };

    // The right secret, read from its file: reads, listings and writes are signed with it.
    let out = run(ferry(&["cat", "ceph:a.txt"]));
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "alpha"), "{}", stderr(&out));
    let local = tmp.path().join("local");
    std::fs::create_dir_all(&local).unwrap();
    std::fs::write(local.join("b.txt"), "beta").unwrap();
    let out = run(ferry(&["mirror", &file_url(&local), "ceph:copied", "--json", "--quiet"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json(&out)["copied"], 1);
    assert_eq!(store.get(&ObjectPath::parse("copied/b.txt").unwrap()).await.unwrap().bytes().await.unwrap(), "beta");
    let out = run(ferry(&["ls", "ceph:", "--json"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("a.txt") && stdout(&out).contains("copied/b.txt"), "{}", stdout(&out));
    assert!(!stdout(&out).contains(&ceph.secret_key) && !stderr(&out).contains(&ceph.secret_key));

    // A wrong secret: Ceph refuses the signature; exit 2, one line, no secret shown.
    let err = refused(&run(ferry(&["ls", "wrong:"])), &[wrong_secret, &ceph.secret_key]);
    assert!(err.contains("error:"), "{err}");
    let err = refused(&run(ferry(&["cat", "wrong:a.txt"])), &[wrong_secret, &ceph.secret_key]);
    assert!(err.contains("error:"), "{err}");
    // A secret file that is not there: named, with the key, before any request.
    let err = refused(&run(ferry(&["ls", "nofile:"])), &[&ceph.secret_key]);
    assert!(err.contains("secret_access_key_file") && err.contains("/nonexistent/ferry-secret"), "{err}");
    // An unknown key: named, with the valid ones and the remote.
    let err = refused(&run(ferry(&["ls", "typo:"])), &[&ceph.secret_key]);
    assert!(err.contains("unknown S3 option `regoin`") && err.contains("region,"), "{err}");
    assert!(err.contains("remote `typo`") && err.matches("invalid configuration").count() == 1, "{err}");

    // The same keys from the environment: FERRY_<PROVIDER>_*, the secret from a file.
    let mut cmd = ferry(&["cat", "plain:a.txt"]);
    cmd.env("FERRY_GENERIC_ACCESS_KEY_ID", &ceph.access_key).env("FERRY_GENERIC_SECRET_ACCESS_KEY_FILE", &good);
    let out = run(cmd);
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "alpha"), "{}", stderr(&out));
    let mut cmd = ferry(&["cat", "plain:a.txt"]);
    cmd.env("FERRY_GENERIC_ACCESS_KEY_ID", &ceph.access_key).env("FERRY_GENERIC_SECRET_ACCESS_KEY_FILE", &wrong);
    refused(&run(cmd), &[wrong_secret, &ceph.secret_key]);
    // Without them, no credentials at all: exit 2, naming the variables.
    let err = refused(&run(ferry(&["cat", "plain:a.txt"])), &[]);
    assert!(err.contains("FERRY_GENERIC_ACCESS_KEY_ID"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_key_and_endpoint_from_the_remotes_file_reach_azurite() {
    let Some(az) = emulators::azurite() else {
        return skip("azure_key_and_endpoint_from_the_remotes_file_reach_azurite", "Azurite is not available");
    };
    let tmp = tempfile::tempdir().unwrap();
    let container = unique("opts").to_ascii_lowercase();
    let store =
        AzureStore::new(AzureConfig::new(&az.account, &container).with_endpoint(&az.endpoint).with_access_key(&az.key))
            .unwrap();
    store.create_container().await.unwrap();
    store.put(&ObjectPath::parse("a.txt").unwrap(), "alpha".into()).await.unwrap();
    let good = write(tmp.path(), "key", &format!("{}\n", az.key));
    // Valid base64, the wrong key: Azurite refuses the signature.
    let wrong_key = "V3JvbmdLZXlWYWx1ZTAxMjM0NTY3ODlhYmNkZWZYWVo=";
    let wrong = write(tmp.path(), "wrong", wrong_key);
    // `azure://ACCOUNT/CONTAINER` alone would go to Azure's own host with Entra ID: the
    // endpoint and the key come from the file only.
    let table = |name: &str, file: &str| {
        format!(
            "[{name}]\nurl = \"azure://{}/{container}\"\nendpoint = \"{}\"\naccount_key_file = \"{file}\"\nmax_attempts = 1\n",
            az.account, az.endpoint
        )
    };
    let config = write(
        tmp.path(),
        "remotes.toml",
        &[
            table("az", &good),
            table("wrong", &wrong),
            format!(
                "[typo]\nurl = \"azure://{}/{container}\"\nendpoint = \"{}\"\nsecret_access_key = \"x\"\n",
                az.account, az.endpoint
            ),
        ]
        .concat(),
    );
    let ferry = |args: &[&str]| {
        let mut all = vec!["--config", config.as_str()];
        all.extend_from_slice(args);
        run(ferryboat(None, &all))
    };
    let out = ferry(&["cat", "az:a.txt"]);
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "alpha"), "{}", stderr(&out));
    let out = ferry(&["ls", "az:", "--json"]);
    assert!(stdout(&out).contains("a.txt"), "{}", stderr(&out));
    let err = refused(&ferry(&["cat", "wrong:a.txt"]), &[wrong_key, &az.key]);
    assert!(err.contains("error:"), "{err}");
    // An S3 key on an Azure remote is unknown there.
    let err = refused(&ferry(&["ls", "typo:"]), &[&az.key]);
    assert!(err.contains("unknown Azure option `secret_access_key`") && err.contains("access_key,"), "{err}");
}

fn create_gcs_bucket(endpoint: &str, name: &str) {
    let addr = endpoint.trim_start_matches("http://");
    let body = format!("{{\"name\":\"{name}\"}}");
    let mut conn = std::net::TcpStream::connect(addr).expect("fake-gcs-server answers");
    write!(
        conn,
        "POST /storage/v1/b HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "bucket creation: {}", answer.lines().next().unwrap_or(""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcs_endpoint_and_key_file_from_the_remotes_file_reach_fake_gcs() {
    let Some(gcs) = emulators::fake_gcs() else {
        return skip(
            "gcs_endpoint_and_key_file_from_the_remotes_file_reach_fake_gcs",
            "fake-gcs-server is not available",
        );
    };
    let tmp = tempfile::tempdir().unwrap();
    let bucket = unique("opts").to_ascii_lowercase();
    create_gcs_bucket(&gcs.endpoint, &bucket);
    let local = tmp.path().join("local");
    std::fs::create_dir_all(&local).unwrap();
    std::fs::write(local.join("a.txt"), "alpha").unwrap();
    // A service-account key whose private key is not one: refused while reading it.
    let marker = "NotAPrivateKeyButSecretMaterial42";
    let key = format!(
        "{{\"type\":\"service_account\",\"client_email\":\"x@example.iam.gserviceaccount.com\",\
         \"private_key\":\"-----BEGIN PRIVATE KEY-----\\n{marker}\\n-----END PRIVATE KEY-----\\n\",\
         \"token_uri\":\"http://127.0.0.1:1/token\"}}"
    );
    let key_file = write(tmp.path(), "sa.json", &key);
    let config = write(
        tmp.path(),
        "remotes.toml",
        &format!(
            "[g]\nurl = \"gs://{bucket}\"\nendpoint = \"{e}\"\nread_timeout = \"30s\"\n\
             [badkey]\nurl = \"gs://{bucket}\"\nendpoint = \"{e}\"\nservice_account_key_file = \"{key_file}\"\n\
             [typo]\nurl = \"gs://{bucket}\"\nendpoint = \"{e}\"\nregion = \"eu\"\n",
            e = gcs.endpoint
        ),
    );
    let ferry = |args: &[&str]| {
        let mut all = vec!["--config", config.as_str()];
        all.extend_from_slice(args);
        run(ferryboat(None, &all))
    };
    // `gs://bucket` alone would go to Google: the endpoint comes from the file only.
    let out = ferry(&["cp", &format!("{}/a.txt", file_url(&local)), "g:up/"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = ferry(&["cat", "g:up/a.txt"]);
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "alpha"), "{}", stderr(&out));
    let err = refused(&ferry(&["ls", "badkey:"]), &[marker]);
    assert!(err.contains("service-account key"), "{err}");
    let err = refused(&ferry(&["ls", "typo:"]), &[]);
    assert!(err.contains("unknown GCS option `region`") && err.contains("endpoint,"), "{err}");
}
