//! `ServerProcess` against real processes, and the emulators `scripts/test` exports.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use ferryboat_testkit::emulators;
use ferryboat_testkit::server::{free_port, Readiness, ServerProcess};

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// The status code of `GET path`, sent over a raw socket.
fn http_status(port: u16, path: &str) -> std::io::Result<u16> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    let line = String::from_utf8_lossy(&head);
    line.get(9..12)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::new(ErrorKind::InvalidData, format!("not an HTTP status line: {line:?}")))
}

/// Process ids in process group `pgid`, read from /proc (Linux only; None elsewhere).
fn group_members(pgid: u32) -> Option<Vec<u32>> {
    let mut members = Vec::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // Fields after the parenthesised command: state, ppid, pgrp, ...
        let Some((_, rest)) = stat.rsplit_once(')') else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.first() == Some(&"Z") {
            continue; // a zombie is dead already, only not yet reaped by its parent
        }
        if fields.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(pgid) {
            members.extend(entry.file_name().to_str().and_then(|p| p.parse::<u32>().ok()));
        }
    }
    Some(members)
}

/// Waits up to `within` for process group `pgid` to have no live member.
fn group_gone(pgid: u32, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        match group_members(pgid) {
            None => return true,
            Some(m) if m.is_empty() => return true,
            Some(_) if Instant::now() >= deadline => return false,
            Some(_) => thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn python_http_server() -> std::io::Result<ServerProcess> {
    ServerProcess::start(
        "python-http",
        "python3",
        &args(&["-m", "http.server", "--bind", "127.0.0.1", "{port}"]),
        Readiness::http("/"),
    )
}

#[test]
fn free_port_can_be_bound_on_loopback() {
    let port = free_port();
    assert_ne!(port, 0);
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("the port free_port returned is free");
}

#[test]
fn starts_a_real_server_and_stops_it_on_drop() {
    let server = python_http_server().expect("python3 -m http.server starts");
    let port = server.port();
    assert_eq!(server.endpoint(), format!("http://127.0.0.1:{port}"));
    assert_eq!(http_status(port, "/").expect("server answers"), 200);
    let pgid = server.pid();
    let dir = server.dir().to_path_buf();
    assert!(dir.is_dir());

    drop(server);

    assert!(group_gone(pgid, Duration::from_secs(5)), "processes of the server's group survived drop");
    let refused = TcpStream::connect_timeout(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)), Duration::from_secs(1));
    assert!(refused.is_err(), "something still listens on {port} after drop");
    assert!(!dir.exists(), "scratch directory {} survived drop", dir.display());
}

#[test]
fn port_and_dir_placeholders_are_substituted() {
    // The server serves its scratch directory: a file written there must come back over HTTP.
    let server = ServerProcess::start(
        "python-http-dir",
        "python3",
        &args(&["-m", "http.server", "--bind", "127.0.0.1", "--directory", "{dir}", "{port}"]),
        Readiness::Tcp,
    )
    .expect("server starts");
    std::fs::write(server.dir().join("probe.txt"), b"hello").expect("write into scratch dir");
    assert_eq!(http_status(server.port(), "/probe.txt").expect("answers"), 200);
    assert_eq!(http_status(server.port(), "/absent.txt").expect("answers"), 404);
}

#[test]
fn a_server_that_exits_at_once_reports_its_log() {
    let started = Instant::now();
    let err = ServerProcess::start(
        "doomed",
        "sh",
        &args(&["-c", "echo 'fatal: cannot open config at port {port}' >&2; exit 3"]),
        Readiness::Tcp,
    )
    .expect_err("a server that exits cannot be ready");
    let msg = err.to_string();
    assert!(msg.contains("`doomed`"), "error does not name the server: {msg}");
    assert!(msg.contains("fatal: cannot open config at port"), "error lacks the log tail: {msg}");
    assert!(msg.contains("exited"), "{msg}");
    assert!(started.elapsed() < Duration::from_secs(10), "noticed the exit only after {:?}", started.elapsed());
}

#[test]
fn a_server_that_never_answers_times_out_clearly() {
    let started = Instant::now();
    let err = ServerProcess::start_with_timeout(
        "mute",
        "sh",
        &args(&["-c", "echo still-booting; exec sleep 60"]),
        Readiness::http("/health"),
        Duration::from_millis(800),
    )
    .expect_err("nothing listens, so the server is never ready");
    let elapsed = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    let msg = err.to_string();
    assert!(msg.contains("`mute`") && msg.contains("GET /health"), "unclear error: {msg}");
    assert!(msg.contains("still-booting"), "error lacks the log tail: {msg}");
    assert!(elapsed >= Duration::from_millis(800) && elapsed < Duration::from_secs(10), "waited {elapsed:?}");
}

#[test]
fn a_missing_program_is_a_clear_error() {
    let err = ServerProcess::start("ghost", "/nonexistent/ferry-no-such-server", &[], Readiness::Tcp)
        .expect_err("cannot run a program that does not exist");
    // The wrapper shell starts, then fails to exec: either way the message names the server.
    assert!(err.to_string().contains("ghost"), "{err}");
}

const CHILD_VAR: &str = "FERRY_TESTKIT_LEAK_CHILD";

/// Run by `a_leaked_server_dies_with_its_test_process` in a separate process: starts a server,
/// reports it, and exits without dropping it (as a server kept in a `static` would).
#[test]
#[ignore = "helper: run as a child process by a_leaked_server_dies_with_its_test_process"]
fn leak_child() {
    if std::env::var_os(CHILD_VAR).is_none() {
        return;
    }
    let server = python_http_server().expect("server starts");
    println!("LEAKED {} {} {}", server.pid(), server.port(), server.dir().display());
    std::mem::forget(server);
    std::process::exit(0);
}

#[test]
fn a_leaked_server_dies_with_its_test_process() {
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new(exe)
        .args(["--exact", "leak_child", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, "1")
        .output()
        .expect("run the helper test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("LEAKED ").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("helper printed no LEAKED line: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    let mut parts = line.splitn(3, ' ');
    let pgid: u32 = parts.next().and_then(|p| p.parse().ok()).expect("pgid");
    let port: u16 = parts.next().and_then(|p| p.parse().ok()).expect("port");
    let dir = parts.next().map(Path::new).expect("dir").to_path_buf();

    assert!(group_gone(pgid, Duration::from_secs(10)), "server outlived the process that started it");
    assert!(http_status(port, "/").is_err(), "port {port} still answers");
    assert!(!dir.exists(), "scratch directory {} survived", dir.display());
}

/// Under scripts/test every emulator must be found and answer HTTP on loopback.
#[test]
fn exported_emulators_answer() {
    let mut found = Vec::new();
    if let Some(s3) = emulators::moto() {
        found.push((s3.name, s3.endpoint.clone(), "/"));
        assert!(!s3.checks_signatures);
    } else {
        emulators::skip("exported_emulators_answer/moto", "moto not available");
    }
    if let Some(s3) = emulators::s3s() {
        found.push((s3.name, s3.endpoint.clone(), "/"));
        assert!(s3.checks_signatures);
        assert_eq!((s3.access_key.as_str(), s3.region.as_str()), ("test", "us-east-1"));
    } else {
        emulators::skip("exported_emulators_answer/s3s", "s3s-fs not available");
    }
    if let Some(az) = emulators::azurite() {
        assert!(az.endpoint.ends_with("/devstoreaccount1"), "{}", az.endpoint);
        let base = az.endpoint.trim_end_matches("/devstoreaccount1").to_owned();
        found.push(("azurite", base, "/devstoreaccount1?comp=list"));
    } else {
        emulators::skip("exported_emulators_answer/azurite", "Azurite not available");
    }
    if let Some(gcs) = emulators::fake_gcs() {
        found.push(("fake-gcs-server", gcs.endpoint.clone(), "/storage/v1/b"));
    } else {
        emulators::skip("exported_emulators_answer/fake_gcs", "fake-gcs-server not available");
    }
    for (name, endpoint, path) in found {
        let port: u16 = endpoint
            .strip_prefix("http://127.0.0.1:")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{name} endpoint {endpoint} is not http://127.0.0.1:PORT"));
        let status = http_status(port, path).unwrap_or_else(|e| panic!("{name} at {endpoint}: {e}"));
        assert!((200..500).contains(&status), "{name} answered {status}");
    }
}
