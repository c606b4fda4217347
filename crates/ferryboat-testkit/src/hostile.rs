//! A scriptable hostile HTTP/1.1 server for tests: every answer comes from a closure, and an
//! answer may lie about its length, stop mid-way, redirect forever, stream a huge body or
//! never come at all.
//!
//! Backends are pointed at it the way they are pointed at an emulator; a test then checks that
//! each misbehaviour ends in a typed error (or a correct retry) in bounded time.
//!
//! ```
//! use ferryboat_testkit::hostile::{HostileServer, Reply};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
//! let server = HostileServer::start(|req| {
//!     if req.path == "/loop" {
//!         Reply::redirect(307, "/loop")
//!     } else {
//!         Reply::new(200).body("<Truncated><Cont").declared_length(400)
//!     }
//! })
//! .await?;
//! println!("hostile at {}", server.endpoint());
//! # Ok(()) }
//! ```

use bytes::Bytes;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Request heads larger than this are refused (the connection is closed).
const MAX_HEAD: usize = 64 * 1024;
/// Request bodies larger than this are read and dropped, not kept.
const MAX_KEPT_BODY: usize = 1024 * 1024;
/// Bytes per write when streaming a generated body.
const WRITE_CHUNK: usize = 64 * 1024;

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `PUT`, …
    pub method: String,
    /// The path without the query, still percent-encoded (`/bucket/a%20b`).
    pub path: String,
    /// The query string without `?`, empty when there is none.
    pub query: String,
    /// Header names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body (chunked bodies decoded; bodies over 1 MiB are dropped and left empty).
    pub body: Bytes,
    /// 0 for the first request the server received, 1 for the next, …
    pub seq: u64,
}

impl Request {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The first query parameter called `name`, percent-decoded (`+` stays `+`).
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then(|| percent_decode(v))
        })
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b))) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A body the server sends.
#[derive(Clone)]
enum Body {
    Bytes(Bytes),
    /// `chunk` repeated until `len` bytes are out: a huge body without holding it.
    Repeat {
        chunk: Bytes,
        len: u64,
    },
}

impl Body {
    fn len(&self) -> u64 {
        match self {
            Body::Bytes(b) => b.len() as u64,
            Body::Repeat { len, .. } => *len,
        }
    }
}

/// What happens after the body bytes the server is willing to send are out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    /// Keep the connection for the next request (only when the declared length was honest).
    KeepAlive,
    /// Close the socket.
    Close,
    /// Keep the socket open and say nothing more, ever.
    Hang,
}

/// One scripted answer. Build with [`Reply::new`] and the chained setters.
#[derive(Clone)]
pub struct Reply {
    kind: ReplyKind,
}

#[derive(Clone)]
struct Http {
    status: u16,
    headers: Vec<(String, String)>,
    body: Body,
    declared: Option<u64>,
    /// Send only this many body bytes.
    cut_after: Option<u64>,
    after: Option<After>,
}

#[derive(Clone)]
enum ReplyKind {
    Http(Http),
    /// Never answer; the connection stays open.
    Hang,
    /// Close the connection without a byte.
    Close,
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ReplyKind::Http(h) => f
                .debug_struct("Reply")
                .field("status", &h.status)
                .field("body_len", &h.body.len())
                .field("declared", &h.declared)
                .field("cut_after", &h.cut_after)
                .field("after", &h.after)
                .finish_non_exhaustive(),
            ReplyKind::Hang => f.write_str("Reply::hang"),
            ReplyKind::Close => f.write_str("Reply::close"),
        }
    }
}

impl Reply {
    /// An answer with `status`, no headers and an empty body.
    pub fn new(status: u16) -> Self {
        Reply {
            kind: ReplyKind::Http(Http {
                status,
                headers: Vec::new(),
                body: Body::Bytes(Bytes::new()),
                declared: None,
                cut_after: None,
                after: None,
            }),
        }
    }

    /// A redirect to `location` (absolute, or a path on this server).
    pub fn redirect(status: u16, location: impl Into<String>) -> Self {
        Reply::new(status).header("location", location)
    }

    /// Reads the request and never answers.
    pub fn hang() -> Self {
        Reply { kind: ReplyKind::Hang }
    }

    /// Reads the request and closes the connection without answering.
    pub fn close() -> Self {
        Reply { kind: ReplyKind::Close }
    }

    fn http(mut self, f: impl FnOnce(&mut Http)) -> Self {
        if let ReplyKind::Http(h) = &mut self.kind {
            f(h);
        }
        self
    }

    /// Adds a header (a `content-length` given here is ignored: see
    /// [`declared_length`](Self::declared_length)).
    pub fn header(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        self.http(|h| h.headers.push((name, value)))
    }

    /// The body, sent whole with an honest `Content-Length` unless told otherwise.
    pub fn body(self, body: impl Into<Bytes>) -> Self {
        let body = Body::Bytes(body.into());
        self.http(|h| h.body = body)
    }

    /// A body of `len` bytes made of `chunk` repeated, streamed without being held (a
    /// 100 MiB error document costs the test nothing).
    pub fn repeated_body(self, chunk: impl Into<Bytes>, len: u64) -> Self {
        let mut chunk: Bytes = chunk.into();
        if chunk.is_empty() {
            chunk = Bytes::from_static(b" ");
        }
        self.http(|h| h.body = Body::Repeat { chunk, len })
    }

    /// Announces `len` in `Content-Length` whatever the body's real length. Shorter: the
    /// extra bytes are sent anyway, then the socket closes. Longer: the body is sent, then the
    /// socket closes (or hangs, after [`then_hang`](Self::then_hang)).
    pub fn declared_length(self, len: u64) -> Self {
        self.http(|h| h.declared = Some(len))
    }

    /// Sends only the first `n` body bytes (with the full length declared), then closes the
    /// socket (or hangs, after [`then_hang`](Self::then_hang)).
    pub fn cut_after(self, n: u64) -> Self {
        self.http(|h| h.cut_after = Some(n))
    }

    /// After the bytes that are sent, keep the socket open and silent instead of closing it.
    pub fn then_hang(self) -> Self {
        self.http(|h| h.after = Some(After::Hang))
    }

    /// After the answer, close the socket even if it was complete.
    pub fn then_close(self) -> Self {
        self.http(|h| h.after = Some(After::Close))
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync + 'static;

/// A running hostile server on `127.0.0.1:<free port>`; stops when dropped.
pub struct HostileServer {
    addr: SocketAddr,
    accept: JoinHandle<()>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    requests: Arc<AtomicU64>,
    body_bytes_sent: Arc<AtomicU64>,
}

impl fmt::Debug for HostileServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostileServer").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.accept.abort();
        if let Ok(conns) = self.connections.lock() {
            conns.iter().for_each(JoinHandle::abort);
        }
    }
}

impl HostileServer {
    /// Binds 127.0.0.1:0 and answers every request with `handler(&request)`. Must be called
    /// inside a tokio runtime.
    pub async fn start<F>(handler: F) -> io::Result<HostileServer>
    where
        F: Fn(&Request) -> Reply + Send + Sync + 'static,
    {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let handler: Arc<Handler> = Arc::new(handler);
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let requests = Arc::new(AtomicU64::new(0));
        let body_bytes_sent = Arc::new(AtomicU64::new(0));
        let (conns, reqs, sent) = (connections.clone(), requests.clone(), body_bytes_sent.clone());
        let accept = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let task = tokio::spawn(serve(socket, handler.clone(), reqs.clone(), sent.clone()));
                if let Ok(mut c) = conns.lock() {
                    c.retain(|t| !t.is_finished());
                    c.push(task);
                }
            }
        });
        Ok(HostileServer { addr, accept, connections, requests, body_bytes_sent })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many requests the server has read so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// How many body bytes the server has written so far (to see that a client stopped
    /// reading a huge body early).
    pub fn body_bytes_sent(&self) -> u64 {
        self.body_bytes_sent.load(Ordering::SeqCst)
    }
}

async fn serve(socket: TcpStream, handler: Arc<Handler>, requests: Arc<AtomicU64>, sent: Arc<AtomicU64>) {
    let _ = socket.set_nodelay(true);
    let mut conn = BufReader::new(socket);
    loop {
        let seq = requests.load(Ordering::SeqCst);
        let req = match read_request(&mut conn, seq).await {
            Ok(Some(r)) => r,
            Ok(None) | Err(_) => return,
        };
        let seq = requests.fetch_add(1, Ordering::SeqCst);
        let req = Request { seq, ..req };
        let reply = handler(&req);
        let head_only = req.method.eq_ignore_ascii_case("HEAD");
        match write_reply(conn.get_mut(), reply, head_only, &sent).await {
            Ok(After::KeepAlive) => continue,
            Ok(After::Hang) => {
                // Keep the socket (and so the client) waiting until the server is dropped.
                std::future::pending::<()>().await;
            }
            Ok(After::Close) | Err(_) => {
                let _ = conn.get_mut().shutdown().await;
                return;
            }
        }
    }
}

/// Reads one request; `None` when the client closed the connection between requests.
async fn read_request(conn: &mut BufReader<TcpStream>, seq: u64) -> io::Result<Option<Request>> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        let n = conn.read_until(b'\n', &mut head).await?;
        if n == 0 {
            return if head.is_empty() { Ok(None) } else { Err(io::ErrorKind::UnexpectedEof.into()) };
        }
        if head.len() > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "request head too large"));
        }
        let line = &head[before..];
        if line == b"\r\n" || line == b"\n" {
            if before == 0 {
                // A stray empty line between requests.
                head.clear();
                continue;
            }
            break;
        }
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.lines();
    let mut first = lines.next().unwrap_or_default().split_whitespace();
    let method = first.next().unwrap_or_default().to_string();
    let target = first.next().unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let find = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let chunked = find("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        read_chunked(conn).await?
    } else {
        let len: u64 = find("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        read_exact_capped(conn, len).await?
    };
    Ok(Some(Request { method, path: path.to_string(), query: query.to_string(), headers, body, seq }))
}

async fn read_exact_capped(conn: &mut BufReader<TcpStream>, len: u64) -> io::Result<Bytes> {
    let mut kept = Vec::new();
    let mut left = len;
    let mut buf = vec![0u8; 64 * 1024];
    while left > 0 {
        let want = left.min(buf.len() as u64) as usize;
        let n = conn.read(&mut buf[..want]).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if kept.len() + n <= MAX_KEPT_BODY {
            kept.extend_from_slice(&buf[..n]);
        }
        left -= n as u64;
    }
    if len as usize > MAX_KEPT_BODY {
        kept.clear();
    }
    Ok(Bytes::from(kept))
}

async fn read_chunked(conn: &mut BufReader<TcpStream>) -> io::Result<Bytes> {
    let mut body = Vec::new();
    loop {
        let mut line = String::new();
        if conn.read_line(&mut line).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let size_text = line.trim().split(';').next().unwrap_or_default();
        let size = u64::from_str_radix(size_text, 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
        if size == 0 {
            // Trailers up to the empty line.
            loop {
                let mut t = String::new();
                if conn.read_line(&mut t).await? == 0 || t.trim().is_empty() {
                    break;
                }
            }
            break;
        }
        let chunk = read_exact_capped(conn, size).await?;
        if body.len() + chunk.len() <= MAX_KEPT_BODY {
            body.extend_from_slice(&chunk);
        }
        let mut crlf = String::new();
        conn.read_line(&mut crlf).await?;
    }
    Ok(Bytes::from(body))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

async fn write_reply(socket: &mut TcpStream, reply: Reply, head_only: bool, sent: &AtomicU64) -> io::Result<After> {
    let Http { status, headers, body, declared, cut_after, after } = match reply.kind {
        ReplyKind::Hang => return Ok(After::Hang),
        ReplyKind::Close => return Ok(After::Close),
        ReplyKind::Http(h) => h,
    };
    let real = body.len();
    let declared_len = declared.unwrap_or(real);
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers.iter().filter(|(n, _)| !n.eq_ignore_ascii_case("content-length")) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {declared_len}\r\n\r\n"));
    socket.write_all(head.as_bytes()).await?;
    if head_only {
        socket.flush().await?;
        return Ok(after.unwrap_or(After::KeepAlive));
    }
    let to_send = cut_after.map_or(real, |c| c.min(real));
    match &body {
        Body::Bytes(b) => {
            socket.write_all(&b[..to_send as usize]).await?;
            sent.fetch_add(to_send, Ordering::SeqCst);
        }
        Body::Repeat { chunk, .. } => {
            let block: Vec<u8> = chunk.iter().copied().cycle().take(WRITE_CHUNK.max(chunk.len())).collect();
            let mut left = to_send;
            while left > 0 {
                let n = left.min(block.len() as u64) as usize;
                socket.write_all(&block[..n]).await?;
                sent.fetch_add(n as u64, Ordering::SeqCst);
                left -= n as u64;
            }
        }
    }
    socket.flush().await?;
    let honest = declared_len == real && to_send == real;
    Ok(match after {
        Some(a) => a,
        None if honest => After::KeepAlive,
        None => After::Close,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn raw(addr: SocketAddr, request: &str) -> Vec<u8> {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut out)).await;
        out
    }

    #[tokio::test]
    async fn lies_about_length_and_closes() {
        let server = HostileServer::start(|req| {
            assert_eq!(req.query_param("prefix").as_deref(), Some("a b/"));
            Reply::new(200).body("hello").declared_length(10)
        })
        .await
        .unwrap();
        let out = raw(server.addr(), "GET /b?prefix=a%20b%2F HTTP/1.1\r\nhost: x\r\n\r\n").await;
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        assert!(text.contains("content-length: 10\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\nhello"), "{text}");
        assert_eq!(server.requests(), 1);
    }

    #[tokio::test]
    async fn honest_answers_keep_the_connection_and_cut_bodies_stop() {
        let server = HostileServer::start(|req| {
            if req.seq == 0 {
                Reply::new(200).body("one")
            } else {
                Reply::new(200).repeated_body("ab", 10).cut_after(3)
            }
        })
        .await
        .unwrap();
        let out = raw(
            server.addr(),
            "GET /1 HTTP/1.1\r\n\r\nPUT /2 HTTP/1.1\r\ncontent-length: 2\r\n\r\nxyGET /3 HTTP/1.1\r\n\r\n",
        )
        .await;
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("\r\n\r\none"), "{text}");
        assert!(text.ends_with("content-length: 10\r\n\r\naba"), "the cut body ends the connection: {text}");
        assert_eq!(server.requests(), 2, "the third request is never read");
    }
}
