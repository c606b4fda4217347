//! Local server processes for tests: start one on a free 127.0.0.1 port, wait until it
//! answers, and stop it (with everything it spawned) on drop.
//!
//! ```no_run
//! use ferryboat_testkit::server::{Readiness, ServerProcess};
//!
//! let args = ["-m", "http.server", "--bind", "127.0.0.1", "{port}"].map(String::from);
//! let server = ServerProcess::start("http.server", "python3", &args, Readiness::http("/"))?;
//! println!("serving on {}", server.endpoint());
//! # Ok::<(), std::io::Error>(())
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long [`ServerProcess::start`] waits for a server to answer.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(60);

/// How many bytes of a server's log an error quotes.
const LOG_TAIL_BYTES: u64 = 4096;

/// Placeholder replaced by the chosen port in every argument.
const PORT_PLACEHOLDER: &str = "{port}";
/// Placeholder replaced by the server's private scratch directory (removed on drop).
const DIR_PLACEHOLDER: &str = "{dir}";

/// A free TCP port on 127.0.0.1, found by binding port 0.
///
/// The port is released before this returns, so another process could take it first;
/// [`ServerProcess::start`] retries with a new port when a server reports it in use.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        // Binding port 0 on loopback only fails on a machine without networking at all;
        // port 0 then makes the server's start fail with its own clear error.
        .unwrap_or(0)
}

/// When a started server counts as ready.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Readiness {
    /// A TCP connection to the port succeeds.
    Tcp,
    /// `GET <path>` over HTTP/1.1 gets a status line back, whatever the status.
    Http(String),
}

impl Readiness {
    /// Ready once `GET path` answers with any HTTP status.
    pub fn http(path: impl Into<String>) -> Self {
        Readiness::Http(path.into())
    }
}

impl fmt::Display for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Readiness::Tcp => f.write_str("accept a TCP connection"),
            Readiness::Http(path) => write!(f, "answer GET {path} over HTTP"),
        }
    }
}

/// A server process bound to 127.0.0.1, killed together with its children on drop.
///
/// Its stdout and stderr go to a log file in a private scratch directory; errors quote the
/// log's tail. Should the test process end without dropping it (a server kept in a
/// `static`, a test binary killed), a small watcher notices the test process is gone and
/// stops the server, so no server outlives the tests that started it.
pub struct ServerProcess {
    name: String,
    port: u16,
    child: Child,
    /// Held open only so the watcher sees EOF when this process ends; never written.
    _lifeline: Option<ChildStdin>,
    dir: PathBuf,
    log: PathBuf,
}

impl fmt::Debug for ServerProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerProcess")
            .field("name", &self.name)
            .field("port", &self.port)
            .field("pid", &self.child.id())
            .field("log", &self.log)
            .finish_non_exhaustive()
    }
}

impl ServerProcess {
    /// Starts `program` with `args` and waits up to [`DEFAULT_START_TIMEOUT`] until it is
    /// `ready`.
    ///
    /// `{port}` in any argument becomes a free port, `{dir}` a scratch directory private to
    /// this server (removed on drop). The error names the server and quotes the end of its
    /// log when it exits early or never answers (the log itself is removed with the server).
    pub fn start(
        name: &str,
        program: impl AsRef<OsStr>,
        args: &[String],
        ready: Readiness,
    ) -> io::Result<ServerProcess> {
        Self::start_with_timeout(name, program, args, ready, DEFAULT_START_TIMEOUT)
    }

    /// [`start`](Self::start) with a chosen bound on the wait.
    pub fn start_with_timeout(
        name: &str,
        program: impl AsRef<OsStr>,
        args: &[String],
        ready: Readiness,
        timeout: Duration,
    ) -> io::Result<ServerProcess> {
        const ATTEMPTS: usize = 3;
        let mut attempt = 1;
        loop {
            match Self::start_once(name, program.as_ref(), args, &ready, timeout) {
                Err(StartError::PortTaken(_)) if attempt < ATTEMPTS => attempt += 1,
                Err(StartError::PortTaken(e) | StartError::Other(e)) => return Err(e),
                Ok(server) => return Ok(server),
            }
        }
    }

    fn start_once(
        name: &str,
        program: &OsStr,
        args: &[String],
        ready: &Readiness,
        timeout: Duration,
    ) -> Result<ServerProcess, StartError> {
        let port = free_port();
        let dir = scratch_dir(name).map_err(StartError::Other)?;
        let log = dir.join("server.log");
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace(PORT_PLACEHOLDER, &port.to_string()).replace(DIR_PLACEHOLDER, &dir.to_string_lossy()))
            .collect();
        let spawned = spawn(program, &args, &dir, &log);
        let (child, lifeline) = match spawned {
            Ok(pair) => pair,
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                let msg = format!("cannot start server `{name}` ({}): {e}", program.to_string_lossy());
                return Err(StartError::Other(io::Error::new(e.kind(), msg)));
            }
        };
        // From here on, dropping `server` stops the process and removes its directory.
        let mut server = ServerProcess { name: name.to_owned(), port, child, _lifeline: lifeline, dir, log };
        server.wait_ready(ready, timeout)?;
        Ok(server)
    }

    fn wait_ready(&mut self, ready: &Readiness, timeout: Duration) -> Result<(), StartError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().map_err(StartError::Other)? {
                let tail = self.log_tail();
                let msg = format!(
                    "server `{}` exited ({status}) before answering on 127.0.0.1:{}; its log ends with:\n{tail}",
                    self.name, self.port
                );
                let taken = tail.to_ascii_lowercase().contains("address already in use") || tail.contains("EADDRINUSE");
                let err = io::Error::other(msg);
                return Err(if taken { StartError::PortTaken(err) } else { StartError::Other(err) });
            }
            if probe(self.port, ready) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let msg = format!(
                    "server `{}` did not {ready} on 127.0.0.1:{} within {:?}; its log ends with:\n{}",
                    self.name,
                    self.port,
                    timeout,
                    self.log_tail()
                );
                return Err(StartError::Other(io::Error::new(io::ErrorKind::TimedOut, msg)));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The process id of the server's process group leader.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The name given to [`start`](Self::start).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The scratch directory that `{dir}` stood for; removed on drop.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file collecting the server's stdout and stderr.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The last few KiB of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        read_tail(&self.log).unwrap_or_else(|e| format!("(log unreadable: {e})"))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        kill_group(&mut self.child);
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

enum StartError {
    /// The server died saying its port was in use: worth another try with a new port.
    PortTaken(io::Error),
    Other(io::Error),
}

impl From<io::Error> for StartError {
    fn from(e: io::Error) -> Self {
        StartError::Other(e)
    }
}

fn scratch_dir(name: &str) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("ferry-server-{safe}-{}-{n}-{nanos}", std::process::id()));
    fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn read_tail(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(LOG_TAIL_BYTES)))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Ok(if text.trim().is_empty() { "(log is empty)".to_owned() } else { text })
}

fn probe(port: u16, ready: &Readiness) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let path = match ready {
        Readiness::Tcp => return true,
        Readiness::Http(path) => path,
    };
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.set_read_timeout(Some(Duration::from_secs(2))).is_err() || stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 8];
    let mut got = 0;
    while got < head.len() {
        match stream.read(&mut head[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    head[..got].starts_with(b"HTTP/1.")
}

/// A POSIX shell script that runs the server and a watcher in one process group. The
/// watcher blocks on stdin, a pipe whose only writer is the test process: when that process
/// ends, however it ends, the watcher removes the scratch directory and kills the group.
#[cfg(unix)]
const WRAPPER: &str = r#"dir=$1; shift
exec 3<&0 0</dev/null
"$@" 3<&- &
srv=$!
(exec 0<&3 3<&-; cat >/dev/null; kill -KILL "$srv" 2>/dev/null; rm -rf -- "$dir"; kill -KILL 0) &
exec 3<&-
wait "$srv"
"#;

#[cfg(unix)]
fn spawn(program: &OsStr, args: &[String], dir: &Path, log: &Path) -> io::Result<(Child, Option<ChildStdin>)> {
    use std::os::unix::process::CommandExt;

    let out = File::create(log)?;
    let err = out.try_clone()?;
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(WRAPPER)
        .arg("ferry-server")
        .arg(dir)
        .arg(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(out)
        .stderr(err)
        // Its own process group, so that drop can stop the server and all it spawned.
        .process_group(0);
    let mut child = cmd.spawn()?;
    let lifeline = child.stdin.take();
    Ok((child, lifeline))
}

#[cfg(not(unix))]
fn spawn(program: &OsStr, args: &[String], _dir: &Path, log: &Path) -> io::Result<(Child, Option<ChildStdin>)> {
    let out = File::create(log)?;
    let err = out.try_clone()?;
    let child = Command::new(program).args(args).stdin(Stdio::null()).stdout(out).stderr(err).spawn()?;
    Ok((child, None))
}

#[cfg(unix)]
fn kill_group(child: &mut Child) {
    match libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours; the negative
        // pid addresses the process group the child leads (set with process_group(0)).
        Ok(pgid) => unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        },
        Err(_) => {
            let _ = child.kill();
        }
    }
}

#[cfg(not(unix))]
fn kill_group(child: &mut Child) {
    let _ = child.kill();
}
