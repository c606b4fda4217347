//! No secret ever shows: every backend is built with recognisable fake secrets (a fresh
//! marker per run), driven through real requests and failures against the emulators on
//! 127.0.0.1 and a closed loopback port, with every crate's logs captured at TRACE; then the
//! logs, every error's `Display` and `Debug`, the `Debug` of every config, store and
//! credential, and the mirror's reports are searched for the markers. Presigned URLs are
//! checked to carry only what they must.

#![cfg(all(feature = "s3", feature = "azure", feature = "gcs", feature = "mirror", feature = "encrypt"))]

mod common;

use common::{create_gcs_bucket, unique};

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ferryboat::azure::{AzureConfig, AzureStore};
use ferryboat::encrypt::{EncryptConfig, EncryptedStore, LocalKey};
use ferryboat::gcs::{Credentials as GcsCredentials, GcsBuilder, ServiceAccount};
use ferryboat::layers::{Replicated, WriteMode};
use ferryboat::mirror::{Mirror, MirrorOptions};
use ferryboat::s3::{Credentials, S3Config, S3Store};
use ferryboat::{Error, ObjectPath, ObjectStore, ObjectStoreExt, PresignMethod};
use ferryboat_testkit::emulators;
use futures::TryStreamExt;

/// Everything any crate logs, at every level.
fn captured() -> &'static Mutex<Vec<u8>> {
    static BUF: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    BUF.get_or_init(|| Mutex::new(Vec::new()))
}

struct Sink;

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        captured().lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// reqwest logs through the `log` crate, not `tracing`: its records go to the same buffer.
struct LogBridge;

impl log::Log for LogBridge {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let line = format!("LOG {} {}: {}\n", record.level(), record.target(), record.args());
        let _ = Sink.write(line.as_bytes());
    }
    fn flush(&self) {}
}

fn install_capture() {
    tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
        .with_ansi(false)
        .with_writer(|| Sink)
        .init();
    static BRIDGE: LogBridge = LogBridge;
    log::set_logger(&BRIDGE).expect("no other logger");
    log::set_max_level(log::LevelFilter::Trace);
}

/// The fake secrets of this run: each contains `SECRETx<run>`.
struct Secrets {
    run: String,
    access_key_id: String,
    s3_secret: String,
    session_token: String,
    azure_key: String,
    sas_sig: String,
    gcs_token: String,
    sa_key_id: String,
    /// Lines of the service account's PEM body: none may appear anywhere.
    sa_pem_lines: Vec<String>,
    encryption_key_hex: String,
}

impl Secrets {
    fn new() -> Secrets {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let seed = (nanos as u64) ^ ((std::process::id() as u64) << 32);
        let run = format!("{seed:016x}");
        let mark = |what: &str| format!("SECRETx{what}x{run}");
        // An Azure key must be base64: letters and digits, a multiple of four long.
        let mut azure_key = mark("AZUREKEY");
        while azure_key.len() % 4 != 0 {
            azure_key.push('A');
        }
        let sa = std::fs::read_to_string(sa_fixture()).expect("service-account fixture");
        let json: serde_json::Value = serde_json::from_str(&sa).unwrap();
        let pem = json["private_key"].as_str().unwrap();
        let sa_pem_lines = pem.lines().filter(|l| !l.starts_with("-----") && l.len() > 20).map(str::to_owned).collect();
        Secrets {
            // Not a secret (it shows in every signed request), so unmarked.
            access_key_id: format!("AKIAFERRYID{:016X}", seed.rotate_left(29)),
            s3_secret: mark("S3SECRETKEY"),
            session_token: mark("SESSIONTOKEN"),
            azure_key,
            sas_sig: mark("SASSIG"),
            gcs_token: mark("GCSTOKEN"),
            sa_key_id: mark("SAKEYID"),
            sa_pem_lines,
            // Hex cannot hold the marker: the key itself is the needle.
            encryption_key_hex: format!("{seed:016x}{:016x}{:016x}{:016x}", !seed, seed.rotate_left(17), seed ^ 0x5a5a),
            run,
        }
    }

    fn needles(&self) -> Vec<String> {
        let mut n = vec![format!("SECRETx"), self.run.clone(), self.encryption_key_hex.clone()];
        // A secret cut short still leaks: its tail is a needle too.
        for s in [&self.s3_secret, &self.session_token, &self.azure_key, &self.sas_sig, &self.gcs_token] {
            n.push(s[s.len() - 16..].to_string());
        }
        n.extend(self.sa_pem_lines.iter().cloned());
        n.push(self.encryption_key_hex[20..44].to_string());
        n
    }

    fn s3_credentials(&self) -> Credentials {
        Credentials::Static {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.s3_secret.clone(),
            session_token: Some(self.session_token.clone()),
        }
    }

    fn sas_token(&self) -> String {
        format!("sv=2023-11-03&ss=b&srt=sco&sp=rwdlac&se=2030-01-01T00%3A00%3A00Z&sig={}", self.sas_sig)
    }

    /// The fixture's key with a marked key id and a token endpoint that refuses connections.
    fn service_account(&self, closed: u16) -> ServiceAccount {
        let sa = std::fs::read_to_string(sa_fixture()).unwrap();
        let mut json: serde_json::Value = serde_json::from_str(&sa).unwrap();
        json["private_key_id"] = self.sa_key_id.clone().into();
        json["token_uri"] = format!("http://127.0.0.1:{closed}/token").into();
        ServiceAccount::from_json(&json.to_string()).expect("fixture key parses")
    }
}

fn sa_fixture() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/ferryboat-gcs/tests/fixtures/throwaway-service-account.json")
}

/// Everything shown to a person or a log, by label.
#[derive(Default)]
struct Shown(Vec<(String, String)>);

impl Shown {
    fn add(&mut self, label: impl Into<String>, text: impl Into<String>) {
        self.0.push((label.into(), text.into()));
    }

    fn debug(&mut self, label: &str, value: &dyn std::fmt::Debug) {
        self.add(format!("{label} (Debug)"), format!("{value:?} {value:#?}"));
    }

    /// An error's `Display`, `Debug` and every source's `Display`.
    fn error(&mut self, label: &str, e: &Error) {
        let mut text = format!("{e}\n{e:?}\n{e:#?}");
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text.push_str(&format!("\ncaused by: {s} / {s:?}"));
            source = s.source();
        }
        self.add(label, text);
    }

    /// Records the outcome of an operation: an error in full, a success as a count.
    fn outcome<T>(&mut self, label: &str, r: Result<T, Error>) -> bool {
        match r {
            Ok(_) => true,
            Err(e) => {
                self.error(label, &e);
                false
            }
        }
    }
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Runs `f` for at most a few seconds: a client retrying a closed port has logged all it will
/// log by then.
async fn bounded<T>(f: impl std::future::Future<Output = Result<T, Error>>) -> Result<T, Error> {
    tokio::time::timeout(Duration::from_secs(8), f)
        .await
        .unwrap_or_else(|_| Err(Error::invalid_config("gave up waiting (test bound)")))
}

/// Puts, reads back, lists, reads a missing key and deletes: successes and typical errors.
async fn exercise(shown: &mut Shown, label: &str, store: &dyn ObjectStore) -> u32 {
    let key = ObjectPath::parse("secrets/probe.txt").unwrap();
    let mut ok = 0;
    ok += shown.outcome(&format!("{label} put"), bounded(store.put(&key, "probe".into())).await) as u32;
    ok += shown.outcome(&format!("{label} get"), bounded(async { store.get(&key).await?.bytes().await }).await) as u32;
    let listed = bounded(store.list(None).try_collect::<Vec<_>>()).await;
    ok += shown.outcome(&format!("{label} list"), listed) as u32;
    let missing = ObjectPath::parse("secrets/missing").unwrap();
    shown.outcome(&format!("{label} head missing"), bounded(store.head(&missing)).await);
    ok += shown.outcome(&format!("{label} delete"), bounded(store.delete(&key)).await) as u32;
    shown.debug(label, &store);
    ok
}

fn s3_config(bucket: &str, endpoint: &str, secrets: &Secrets) -> S3Config {
    S3Config::new(bucket)
        .with_endpoint(endpoint)
        .with_region("us-east-1")
        .with_path_style(true)
        .with_max_attempts(2)
        .with_connect_timeout(Duration::from_secs(2))
        .with_credentials(secrets.s3_credentials())
}

/// Searches `text` for every needle; returns the hits with some context.
fn hits(label: &str, text: &str, needles: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for needle in needles {
        if let Some(i) = text.find(needle.as_str()) {
            let start = text.floor_char_boundary(i.saturating_sub(160));
            let end = text.ceil_char_boundary((i + needle.len() + 80).min(text.len()));
            out.push(format!("{label}: `{needle}` in …{}…", &text[start..end]));
        }
    }
    out
}

#[test]
fn no_secret_reaches_logs_errors_debug_or_reports() {
    install_capture();
    let secrets = Secrets::new();
    let closed = closed_port();
    let (moto, s3s, azurite, gcs) = (emulators::moto(), emulators::s3s(), emulators::azurite(), emulators::fake_gcs());
    // ferryboat::open reads credentials from the environment: set them before any thread runs.
    for p in ferryboat::providers::catalogue().providers() {
        let prefix = ferryboat::s3::env_prefix(&p.id);
        std::env::set_var(format!("{prefix}ACCESS_KEY_ID"), &secrets.access_key_id);
        std::env::set_var(format!("{prefix}SECRET_ACCESS_KEY"), &secrets.s3_secret);
        std::env::set_var(format!("{prefix}SESSION_TOKEN"), &secrets.session_token);
    }
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    std::env::set_var("GOOGLE_OAUTH_ACCESS_TOKEN", &secrets.gcs_token);
    if let Some(az) = &azurite {
        std::env::set_var(
            "AZURE_STORAGE_CONNECTION_STRING",
            format!("BlobEndpoint={};AccountName={};AccountKey={}", az.endpoint, az.account, secrets.azure_key),
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut shown = Shown::default();
    runtime.block_on(async {
        s3(&mut shown, &secrets, closed, moto.as_ref(), s3s.as_ref()).await;
        azure(&mut shown, &secrets, closed, azurite.as_ref()).await;
        google(&mut shown, &secrets, closed, gcs.as_ref()).await;
        encryption_and_mirror(&mut shown, &secrets, moto.as_ref(), azurite.as_ref(), gcs.as_ref()).await;
    });
    drop(runtime);
    for (name, missing) in [("moto", moto.is_none()), ("s3s-fs", s3s.is_none()), ("Azurite", azurite.is_none())] {
        if missing {
            emulators::skip("no_secret_reaches_logs (part)", &format!("{name} is not available"));
        }
    }
    if gcs.is_none() {
        emulators::skip("no_secret_reaches_logs (part)", "fake-gcs-server is not available");
    }

    let logs = String::from_utf8_lossy(&captured().lock().unwrap()).into_owned();
    // The capture must really see the HTTP stacks, or the search below proves nothing.
    if moto.is_some() {
        assert!(logs.contains("aws_smithy_runtime"), "SDK traces were captured");
        assert!(logs.contains("hyper_util"), "connection traces were captured");
    }
    if gcs.is_some() {
        assert!(logs.contains("LOG ") && logs.contains("reqwest"), "reqwest's log records were captured");
    }
    let needles = secrets.needles();
    let mut found = hits("logs", &logs, &needles);
    for (label, text) in &shown.0 {
        found.extend(hits(label, text, &needles));
    }
    eprintln!("searched {} bytes of logs and {} other texts for {} needles", logs.len(), shown.0.len(), needles.len());
    if !found.is_empty() {
        let dump = std::env::temp_dir().join(format!("ferry-secrets-{}.log", secrets.run));
        let _ = std::fs::write(&dump, &logs);
        panic!("secrets leaked (logs kept in {}):\n{}", dump.display(), found.join("\n\n"));
    }
}

async fn s3(
    shown: &mut Shown,
    secrets: &Secrets,
    closed: u16,
    moto: Option<&emulators::S3Emulator>,
    s3s: Option<&emulators::S3Emulator>,
) {
    shown.debug("S3 credentials", &secrets.s3_credentials());
    let unreachable = S3Store::new(s3_config("b", &format!("http://127.0.0.1:{closed}"), secrets)).unwrap();
    shown.debug("S3 config", &s3_config("b", "http://127.0.0.1:1", secrets));
    assert_eq!(exercise(shown, "S3 closed port", &unreachable).await, 0);
    if let Some(s3s) = s3s {
        // s3s-fs checks signatures: the fake secret is refused.
        let store = S3Store::new(s3_config("secrets", &s3s.endpoint, secrets)).unwrap();
        assert_eq!(exercise(shown, "S3 s3s-fs", &store).await, 0);
    }
    let Some(moto) = moto else { return };
    let bucket = unique("secrets");
    let store = S3Store::new(s3_config(&bucket, &moto.endpoint, secrets)).unwrap();
    store.client().create_bucket().bucket(&bucket).send().await.expect("bucket on moto");
    assert_eq!(exercise(shown, "S3 moto", &store).await, 4, "moto accepts any signature");

    let key = ObjectPath::parse("shared/a b.txt").unwrap();
    for url in [
        store.presign(PresignMethod::Get, &key, Duration::from_secs(60)).await.unwrap().to_string(),
        store.presign(PresignMethod::Put, &key, Duration::from_secs(60)).await.unwrap().to_string(),
    ] {
        assert!(!url.contains(&secrets.s3_secret), "a presigned URL never holds the secret key: {url}");
        assert!(url.contains(&secrets.access_key_id) && url.contains("X-Amz-Signature="), "{url}");
        // Temporary credentials only work with their token: it is the one secret it must carry.
        let token_param = url.split('&').find(|p| p.starts_with("X-Amz-Security-Token=")).unwrap_or_default();
        assert!(token_param.contains(&secrets.run), "the session token travels as X-Amz-Security-Token: {url}");
        assert!(!url.replace(token_param, "").contains("SECRETx"), "nothing else secret: {url}");
    }

    // Every catalogued S3 provider, opened by URL with credentials from the environment,
    // pointed at moto.
    let mut reached = 0;
    for p in ferryboat::providers::catalogue().providers().iter().filter(|p| p.api == ferryboat::providers::Api::S3) {
        let url = format!("{}://{bucket}/{}?endpoint={}&region=us-east-1&path_style=true", p.id, p.id, moto.endpoint);
        let store = match ferryboat::open(&url).await {
            Ok(s) => s,
            Err(e) => {
                shown.error(&format!("open {}", p.id), &e);
                continue;
            }
        };
        reached += (exercise(shown, &format!("provider {}", p.id), store.as_ref()).await > 0) as u32;
        let closed_url = format!("{}://b?endpoint=http://127.0.0.1:{closed}&region=us-east-1&path_style=true", p.id);
        // The same client for every provider: a few of them show the connection failure.
        if reached > 3 {
            continue;
        }
        if let Ok(store) = ferryboat::open(&closed_url).await {
            let missing = ObjectPath::parse("k").unwrap();
            shown.outcome(&format!("provider {} closed port", p.id), bounded(store.head(&missing)).await);
        }
    }
    assert!(reached > 20, "most providers' profiles work on moto ({reached})");
}

async fn azure(shown: &mut Shown, secrets: &Secrets, closed: u16, azurite: Option<&emulators::AzuriteEmulator>) {
    let account = emulators::AZURITE_ACCOUNT;
    let at = |endpoint: &str| AzureConfig::new(account, "secrets").with_endpoint(endpoint);
    let closed_endpoint = format!("http://127.0.0.1:{closed}/{account}");
    let keyed = at(&closed_endpoint).with_access_key(&secrets.azure_key);
    let sas = at(&closed_endpoint).with_sas_token(secrets.sas_token());
    shown.debug("Azure config with key", &keyed);
    shown.debug("Azure config with SAS", &sas);
    shown.debug("Azure credentials", keyed.credentials());
    for (label, config) in [("Azure key closed port", keyed.clone()), ("Azure SAS closed port", sas)] {
        // One request: the client retries a refused connection for many seconds.
        let store = AzureStore::new(config).unwrap();
        let missing = ObjectPath::parse("k").unwrap();
        assert!(!shown.outcome(label, bounded(store.head(&missing)).await));
        shown.debug(label, &store);
    }

    // A service SAS is signed locally: the URL carries the signature, never the key.
    let store = AzureStore::new(keyed).unwrap();
    let key = ObjectPath::parse("shared/a b.txt").unwrap();
    let url = store.signed_url(http::Method::GET, &key, Duration::from_secs(60)).await.unwrap().to_string();
    assert!(url.contains("sig="), "{url}");
    assert!(!url.contains("SECRETx") && !url.contains(&secrets.azure_key), "no key in a SAS URL: {url}");

    let Some(az) = azurite else { return };
    let container = unique("secrets").replace('_', "-");
    let real =
        AzureStore::new(AzureConfig::new(account, &container).with_endpoint(&az.endpoint).with_access_key(&az.key))
            .unwrap();
    real.create_container().await.expect("container on Azurite");
    let at = |c: AzureConfig| AzureStore::new(c).unwrap();
    let wrong_key =
        at(AzureConfig::new(account, &container).with_endpoint(&az.endpoint).with_access_key(&secrets.azure_key));
    assert_eq!(exercise(shown, "Azure wrong key", &wrong_key).await, 0, "Azurite checks signatures");
    let forged =
        at(AzureConfig::new(account, &container).with_endpoint(&az.endpoint).with_sas_token(secrets.sas_token()));
    assert_eq!(exercise(shown, "Azure forged SAS", &forged).await, 0);
    // A SAS URL as users paste it, and a connection string from the environment.
    let sas_url = format!("{}/{container}/pre?{}", az.endpoint, secrets.sas_token());
    match ferryboat::open(&sas_url).await {
        Ok(store) => assert_eq!(exercise(shown, "Azure SAS URL", store.as_ref()).await, 0),
        Err(e) => shown.error("open Azure SAS URL", &e),
    }
    match ferryboat::open(&format!("az://{container}/pre")).await {
        Ok(store) => assert_eq!(exercise(shown, "az:// connection string", store.as_ref()).await, 0),
        Err(e) => shown.error("open az://", &e),
    }
}

async fn google(shown: &mut Shown, secrets: &Secrets, closed: u16, gcs: Option<&emulators::GcsEmulator>) {
    let token = GcsCredentials::Token(secrets.gcs_token.clone());
    let sa = Arc::new(secrets.service_account(closed));
    shown.debug("GCS token", &token);
    shown.debug("GCS service account", &sa);
    shown.debug("GCS service-account credentials", &GcsCredentials::ServiceAccount(sa.clone()));
    let closed_endpoint = format!("http://127.0.0.1:{closed}");
    let builder = GcsBuilder::new("secrets").endpoint(&closed_endpoint).credentials(token.clone());
    shown.debug("GCS builder", &builder);
    shown.outcome("GCS closed port", bounded(builder.build()).await);
    let unchecked = GcsBuilder::new("secrets").endpoint(&closed_endpoint).check_bucket(false);
    // The token server refuses: minting a token fails.
    let store = unchecked.clone().credentials(GcsCredentials::ServiceAccount(sa.clone())).build().await.unwrap();
    assert_eq!(exercise(shown, "GCS service account, token server down", &store).await, 0);
    // A V4 signed URL names the account and carries the signature, never the key.
    let key = ObjectPath::parse("shared/a b.txt").unwrap();
    let url = store.signed_url(PresignMethod::Get, &key, Duration::from_secs(60)).unwrap().to_string();
    assert!(url.contains("X-Goog-Signature=") && url.contains("X-Goog-Credential="), "{url}");
    assert!(!url.contains("SECRETx"), "{url}");
    assert!(secrets.sa_pem_lines.iter().all(|l| !url.contains(l.as_str())), "no key material: {url}");

    let Some(gcs) = gcs else { return };
    let bucket = unique("secrets");
    create_gcs_bucket(&gcs.endpoint, &bucket);
    let store = GcsBuilder::new(&bucket).endpoint(&gcs.endpoint).credentials(token).build().await.unwrap();
    assert_eq!(exercise(shown, "GCS token", &store).await, 4, "fake-gcs-server ignores the token");
    let missing = GcsBuilder::new("no-such-bucket-x").endpoint(&gcs.endpoint).credentials(token_of(secrets));
    shown.outcome("GCS missing bucket", missing.build().await);
    match ferryboat::open(&format!("gs://{bucket}/pre?endpoint={}", gcs.endpoint)).await {
        Ok(store) => shown.debug("gs:// store", &store),
        Err(e) => shown.error("open gs://", &e),
    }
}

fn token_of(secrets: &Secrets) -> GcsCredentials {
    GcsCredentials::Token(secrets.gcs_token.clone())
}

async fn encryption_and_mirror(
    shown: &mut Shown,
    secrets: &Secrets,
    moto: Option<&emulators::S3Emulator>,
    azurite: Option<&emulators::AzuriteEmulator>,
    gcs: Option<&emulators::GcsEmulator>,
) {
    let key = Arc::new(LocalKey::from_hex(&secrets.encryption_key_hex).unwrap());
    shown.debug("encryption key", &key);
    let err = LocalKey::from_hex(&format!("{}zz", &secrets.encryption_key_hex[2..])).unwrap_err();
    shown.error("bad encryption key", &err);
    let (Some(moto), Some(gcs)) = (moto, gcs) else { return };
    let bucket = unique("secrets-mirror");
    let raw = S3Store::new(s3_config(&bucket, &moto.endpoint, secrets)).unwrap();
    raw.client().create_bucket().bucket(&bucket).send().await.expect("bucket on moto");
    let raw: Arc<dyn ObjectStore> = Arc::new(raw);
    let sealed = EncryptedStore::new(raw.clone(), key, EncryptConfig::default()).unwrap();
    shown.debug("encrypted store", &sealed);
    assert_eq!(exercise(shown, "encrypted S3", &sealed).await, 4);
    for i in 0..3 {
        sealed.put(&ObjectPath::parse(format!("m/{i}")).unwrap(), vec![i as u8; 100].into()).await.unwrap();
    }
    // The wrong key: an Integrity error, which must not show either key.
    let other =
        EncryptedStore::new(raw.clone(), Arc::new(LocalKey::generate().unwrap()), EncryptConfig::default()).unwrap();
    let wrong = async { other.get(&ObjectPath::parse("m/0").unwrap()).await?.bytes().await }.await;
    assert!(wrong.is_err(), "another key cannot read");
    shown.outcome("encryption wrong key", wrong);

    // Mirror the ciphertext to GCS, with a replica on Azure that refuses every write.
    create_gcs_bucket(&gcs.endpoint, &bucket);
    let dst = GcsBuilder::new(&bucket).endpoint(&gcs.endpoint).credentials(token_of(secrets)).build().await.unwrap();
    let mut replicas: Vec<Arc<dyn ObjectStore>> = Vec::new();
    if let Some(az) = azurite {
        let config = AzureConfig::new(emulators::AZURITE_ACCOUNT, "secrets-mirror")
            .with_endpoint(&az.endpoint)
            .with_sas_token(secrets.sas_token());
        replicas.push(Arc::new(AzureStore::new(config).unwrap()));
    }
    let dst: Arc<dyn ObjectStore> = Arc::new(Replicated::new(Arc::new(dst), replicas.clone(), WriteMode::AllReplicas));
    let opts = MirrorOptions::default().attempts(1);
    match Mirror::new(raw, dst, opts).run().await {
        Ok(report) => {
            if !replicas.is_empty() {
                assert!(report.failed > 0, "the refusing replica fails copies: {report}");
            }
            shown.add("mirror report (human)", report.to_string());
            shown.add("mirror report (JSON)", serde_json::to_string_pretty(&report).unwrap());
        }
        Err(e) => shown.error("mirror", &e),
    }
}
