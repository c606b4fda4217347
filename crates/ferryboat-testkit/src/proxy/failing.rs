//! A proxy that answers chosen requests with `503 Service Unavailable` and counts every
//! request it sees, forwarding the others to the server: to prove on the wire how often a
//! client sends one failing request.
//!
//! Requests are handled one at a time per connection (HTTP/1.1 clients do not pipeline). A
//! failed request gets `503` with `Connection: close`, right after its head when it asked
//! for `Expect: 100-continue` (so its body is never sent), else after its body.
//!
//! ```no_run
//! use ferryboat_testkit::proxy::FailingProxy;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
//! // Every PUT fails; everything else reaches the server.
//! let proxy = FailingProxy::start("http://127.0.0.1:9000", |r| r.method == "PUT").await?;
//! println!("point the client at {}", proxy.endpoint());
//! // ... then: proxy.failed() lists the requests answered 503, in order.
//! # Ok(()) }
//! ```

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::framing::{Framer, Side};
use super::{loopback, CHUNK};

/// One request as the proxy saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    /// `GET`, `PUT`, …
    pub method: String,
    /// The request target: path and query, as sent.
    pub target: String,
}

impl SeenRequest {
    /// Whether the target's query has the parameter `name` (with any value).
    pub fn has_param(&self, name: &str) -> bool {
        let query = self.target.split_once('?').map(|(_, q)| q).unwrap_or("");
        query.split('&').any(|p| p.split('=').next() == Some(name))
    }
}

type Rule = dyn Fn(&SeenRequest) -> bool + Send + Sync;

struct Shared {
    upstream: SocketAddr,
    rule: Box<Rule>,
    failing: AtomicBool,
    failed: Mutex<Vec<SeenRequest>>,
    forwarded: Mutex<Vec<SeenRequest>>,
}

/// A running failing proxy; stops when dropped.
pub struct FailingProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for FailingProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailingProxy").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Drop for FailingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FailingProxy {
    /// Starts on a free 127.0.0.1 port in front of `upstream` (loopback only); requests for
    /// which `fail` is true are answered `503`.
    pub async fn start(
        upstream: &str,
        fail: impl Fn(&SeenRequest) -> bool + Send + Sync + 'static,
    ) -> io::Result<Self> {
        let upstream = loopback(upstream)?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            rule: Box::new(fail),
            failing: AtomicBool::new(true),
            failed: Mutex::new(Vec::new()),
            forwarded: Mutex::new(Vec::new()),
        });
        let task = tokio::spawn(accept(listener, shared.clone()));
        Ok(FailingProxy { addr, shared, task })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Fail the chosen requests (the default) or forward everything.
    pub fn set_failing(&self, on: bool) {
        self.shared.failing.store(on, Ordering::Relaxed);
    }

    /// The requests answered `503`, in the order they came.
    pub fn failed(&self) -> Vec<SeenRequest> {
        self.shared.failed.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// The requests forwarded to the server, in the order they came.
    pub fn forwarded(&self) -> Vec<SeenRequest> {
        self.shared.forwarded.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Forgets the requests seen so far.
    pub fn reset(&self) {
        for list in [&self.shared.failed, &self.shared.forwarded] {
            if let Ok(mut l) = list.lock() {
                l.clear();
            }
        }
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else { continue };
        tokio::spawn(connection(client, shared.clone()));
    }
}

/// Bytes read from a stream but not yet used.
struct Reader {
    stream_buf: Vec<u8>,
}

impl Reader {
    /// Reads until a whole request head is buffered; returns it (the rest stays buffered).
    async fn head(&mut self, stream: &mut TcpStream) -> Option<Vec<u8>> {
        loop {
            if let Some(end) = find(&self.stream_buf, b"\r\n\r\n") {
                let rest = self.stream_buf.split_off(end + 4);
                return Some(std::mem::replace(&mut self.stream_buf, rest));
            }
            if self.stream_buf.len() > 64 * 1024 || !self.fill(stream).await {
                return None;
            }
        }
    }

    async fn fill(&mut self, stream: &mut TcpStream) -> bool {
        let mut buf = vec![0u8; CHUNK];
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.stream_buf.extend_from_slice(&buf[..n]);
                true
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse_head(head: &[u8]) -> (SeenRequest, bool) {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.lines();
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let target = first.next().unwrap_or("").to_string();
    let expect = lines.any(|l| {
        l.split_once(':').is_some_and(|(n, v)| {
            n.trim().eq_ignore_ascii_case("expect") && v.trim().eq_ignore_ascii_case("100-continue")
        })
    });
    (SeenRequest { method, target }, expect)
}

const UNAVAILABLE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

async fn connection(mut client: TcpStream, shared: Arc<Shared>) {
    let _ = client.set_nodelay(true);
    let mut from_client = Reader { stream_buf: Vec::new() };
    let mut upstream: Option<(TcpStream, Reader)> = None;
    loop {
        let Some(head) = from_client.head(&mut client).await else { return };
        let (seen, expect) = parse_head(&head);
        // The head through the framer, so that it knows how long the body is.
        let mut framer = Framer::new(Side::Request);
        let step = framer.consume(&head, &mut || false);
        let mut body_done = step.ended;
        if shared.failing.load(Ordering::Relaxed) && (shared.rule)(&seen) {
            if let Ok(mut l) = shared.failed.lock() {
                l.push(seen);
            }
            if !expect {
                // Swallow the body first: a client still sending would see a reset, not the 503.
                while !body_done {
                    if from_client.stream_buf.is_empty() && !from_client.fill(&mut client).await {
                        return;
                    }
                    let step = framer.consume(&from_client.stream_buf, &mut || false);
                    from_client.stream_buf.drain(..step.used);
                    body_done = step.ended;
                }
            }
            let _ = client.write_all(UNAVAILABLE).await;
            let _ = client.shutdown().await;
            return;
        }
        let is_head = seen.method == "HEAD";
        if let Ok(mut l) = shared.forwarded.lock() {
            l.push(seen);
        }
        if upstream.is_none() {
            let Ok(s) = TcpStream::connect(shared.upstream).await else { return };
            let _ = s.set_nodelay(true);
            upstream = Some((s, Reader { stream_buf: Vec::new() }));
        }
        let Some((server, from_server)) = upstream.as_mut() else { return };
        if server.write_all(&head).await.is_err() {
            return;
        }
        if forward(&mut client, &mut from_client, framer, body_done, server, from_server, is_head).await.is_err() {
            return;
        }
    }
}

/// Pumps the rest of the request body to the server and the server's answer (interim ones
/// included) back, until the final answer ends.
async fn forward(
    client: &mut TcpStream,
    from_client: &mut Reader,
    mut request: Framer,
    mut body_done: bool,
    server: &mut TcpStream,
    from_server: &mut Reader,
    is_head: bool,
) -> io::Result<()> {
    let mut response = Framer::new(Side::Response);
    let mut final_seen = false;
    let (mut cr, mut cw) = client.split();
    let (mut sr, mut sw) = server.split();
    let mut cbuf = vec![0u8; CHUNK];
    let mut sbuf = vec![0u8; CHUNK];
    loop {
        // Buffered request bytes first.
        while !body_done && !from_client.stream_buf.is_empty() {
            let step = request.consume(&from_client.stream_buf, &mut || false);
            sw.write_all(&from_client.stream_buf[..step.used]).await?;
            from_client.stream_buf.drain(..step.used);
            body_done = step.ended;
        }
        // Buffered answer bytes, then whether the answer is over.
        while !from_server.stream_buf.is_empty() {
            let step = response.consume(&from_server.stream_buf, &mut || is_head);
            cw.write_all(&from_server.stream_buf[..step.used]).await?;
            from_server.stream_buf.drain(..step.used);
            final_seen |= step.final_response;
            if step.ended && final_seen {
                return Ok(());
            }
        }
        tokio::select! {
            n = cr.read(&mut cbuf), if !body_done => {
                let n = n?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                from_client.stream_buf.extend_from_slice(&cbuf[..n]);
            }
            n = sr.read(&mut sbuf) => {
                let n = n?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                from_server.stream_buf.extend_from_slice(&sbuf[..n]);
            }
        }
    }
}
