//! A WAN between a client and a local server: a TCP proxy on 127.0.0.1 that adds a round
//! trip, optionally caps the bandwidth, and can cut connections mid-stream.
//!
//! - **Latency** is a delay line, not stop-and-wait: every piece of data is delivered half a
//!   round trip after it arrived, in each direction, while more keeps flowing behind it. A
//!   new connection costs one more round trip before its first byte reaches the server (the
//!   TCP handshake a real path would have).
//! - **Bandwidth**: a cap in bytes per second per direction, shared by every connection
//!   through the proxy (one link).
//! - **Cutting**: each message (request or response) is counted in chunks of 64 KiB (a
//!   4 KiB object is one chunk); at each chunk, with probability 1/N, the connection is
//!   reset, the message is truncated (half of that chunk is delivered, then the connection
//!   closes), or — for a request — the request is forwarded whole and its response lost (the
//!   connection resets when the server starts to answer). The proxy follows HTTP/1.1 framing
//!   to tell messages apart; [`WanProxy::stats`] counts what it did.
//!
//! The same seed and the same sequence of connections and messages give the same cuts.
//!
//! ```no_run
//! use std::time::Duration;
//! use ferryboat_testkit::proxy::{ProxyConfig, WanProxy};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
//! let config = ProxyConfig::rtt(Duration::from_millis(20)).with_cuts(100, 7);
//! let proxy = WanProxy::start("http://127.0.0.1:9000", config).await?;
//! println!("server, 20 ms away: {}", proxy.endpoint());
//! # Ok(()) }
//! ```

mod failing;
mod framing;

use std::collections::{BTreeSet, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use failing::{FailingProxy, SeenRequest};
use framing::{Framer, Side};

/// Bytes per chunk: the unit cuts are drawn for, and the largest read the proxy makes.
pub const CHUNK: usize = 64 * 1024;
/// Pieces queued per direction of a connection (each at most one chunk).
const QUEUE: usize = 256;

/// How a connection is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cut {
    /// The connection is reset (RST) in the middle of a message.
    Reset,
    /// Half of the current chunk is delivered, then the connection closes (FIN): the peer
    /// sees a message that ends early.
    Truncate,
    /// The request reaches the server whole; the connection resets when the answer starts.
    LostResponse,
}

/// What [`WanProxy`] does to the traffic.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// Added round-trip time (half of it each way).
    pub rtt: Duration,
    /// Bytes per second per direction, shared by all connections; `None`: no cap.
    pub bandwidth: Option<u64>,
    /// Cut with probability 1/N per chunk; `None`: never. Changeable with
    /// [`WanProxy::set_cut_one_in`].
    pub cut_one_in: Option<u32>,
    /// The cuts to choose from, uniformly (responses never draw [`Cut::LostResponse`]).
    pub cuts: Vec<Cut>,
    /// Seed for the cuts.
    pub seed: u64,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            rtt: Duration::ZERO,
            bandwidth: None,
            cut_one_in: None,
            cuts: vec![Cut::Reset, Cut::Truncate, Cut::LostResponse],
            seed: 0,
        }
    }
}

impl ProxyConfig {
    /// A path with this round trip and nothing else.
    pub fn rtt(rtt: Duration) -> Self {
        ProxyConfig { rtt, ..Default::default() }
    }

    /// Caps each direction at `bytes_per_second`.
    pub fn with_bandwidth(mut self, bytes_per_second: u64) -> Self {
        self.bandwidth = Some(bytes_per_second.max(1));
        self
    }

    /// Cuts one chunk in `n` (all three kinds of cut), drawn from `seed`.
    pub fn with_cuts(mut self, n: u32, seed: u64) -> Self {
        self.cut_one_in = Some(n.max(1));
        self.seed = seed;
        self
    }
}

/// What the proxy has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Connections accepted.
    pub connections: u64,
    /// Requests and responses seen starting.
    pub messages: u64,
    /// Bytes delivered to the server.
    pub bytes_up: u64,
    /// Bytes delivered to the client.
    pub bytes_down: u64,
    /// Connections reset mid-message.
    pub resets: u64,
    /// Messages truncated.
    pub truncations: u64,
    /// Responses lost after their request was forwarded.
    pub lost_responses: u64,
}

impl ProxyStats {
    /// Every cut, of any kind.
    pub fn cuts(&self) -> u64 {
        self.resets + self.truncations + self.lost_responses
    }
}

#[derive(Debug, Default)]
struct Counters {
    connections: AtomicU64,
    messages: AtomicU64,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
    resets: AtomicU64,
    truncations: AtomicU64,
    lost_responses: AtomicU64,
}

/// One direction of the link: when its next byte may leave, at the capped rate.
#[derive(Debug)]
struct Pacer {
    bytes_per_second: u64,
    next: Mutex<Instant>,
}

impl Pacer {
    async fn send(&self, bytes: usize) {
        let start = {
            let Ok(mut next) = self.next.lock() else { return };
            let start = (*next).max(Instant::now());
            *next = start + Duration::from_secs_f64(bytes as f64 / self.bytes_per_second as f64);
            start
        };
        tokio::time::sleep_until(start).await;
    }
}

#[derive(Debug)]
struct Shared {
    config: ProxyConfig,
    upstream: SocketAddr,
    cut_one_in: AtomicU32,
    counters: Counters,
    pacers: Option<[Pacer; 2]>,
}

/// A running proxy; stops when dropped.
#[derive(Debug)]
pub struct WanProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for WanProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WanProxy {
    /// Starts a proxy on a free 127.0.0.1 port in front of `upstream` (`http://127.0.0.1:PORT`
    /// or `127.0.0.1:PORT`; only loopback addresses are accepted).
    pub async fn start(upstream: &str, config: ProxyConfig) -> io::Result<Self> {
        Self::start_on("127.0.0.1:0", upstream, config).await
    }

    /// As [`WanProxy::start`], listening on `listen` (a loopback address).
    pub async fn start_on(listen: &str, upstream: &str, config: ProxyConfig) -> io::Result<Self> {
        let upstream = loopback(upstream)?;
        let listen = loopback(listen)?;
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let pacers = config.bandwidth.map(|rate| {
            let pacer = || Pacer { bytes_per_second: rate.max(1), next: Mutex::new(Instant::now()) };
            [pacer(), pacer()]
        });
        let shared = Arc::new(Shared {
            cut_one_in: AtomicU32::new(config.cut_one_in.unwrap_or(0)),
            config,
            upstream,
            counters: Counters::default(),
            pacers,
        });
        let task = tokio::spawn(accept(listener, shared.clone()));
        Ok(WanProxy { addr, shared, task })
    }

    /// `http://127.0.0.1:PORT`, to give a client instead of the server's endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cut one chunk in `n` from now on (`None`: stop cutting), for every connection.
    pub fn set_cut_one_in(&self, n: Option<u32>) {
        self.shared.cut_one_in.store(n.map(|n| n.max(1)).unwrap_or(0), Ordering::Relaxed);
    }

    /// What the proxy has done so far.
    pub fn stats(&self) -> ProxyStats {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ProxyStats {
            connections: get(&c.connections),
            messages: get(&c.messages),
            bytes_up: get(&c.bytes_up),
            bytes_down: get(&c.bytes_down),
            resets: get(&c.resets),
            truncations: get(&c.truncations),
            lost_responses: get(&c.lost_responses),
        }
    }
}

fn loopback(addr: &str) -> io::Result<SocketAddr> {
    let bare = addr.trim_start_matches("http://").trim_end_matches('/');
    let parsed: SocketAddr = bare
        .replace("localhost", "127.0.0.1")
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("not an address with a port: {addr}")))?;
    if !parsed.ip().is_loopback() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("only loopback addresses: {addr}")));
    }
    Ok(parsed)
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    let mut index = 0u64;
    loop {
        let Ok((client, _)) = listener.accept().await else { continue };
        shared.counters.connections.fetch_add(1, Ordering::Relaxed);
        let shared = shared.clone();
        tokio::spawn(connection(client, shared, index));
        index += 1;
    }
}

/// A piece of one direction's delay line.
enum Item {
    Data(Bytes, Instant),
    Cut(Cut, Instant),
}

/// The exchanges of one connection, as both directions see them.
#[derive(Debug, Default)]
struct Exchanges {
    /// For each request whose head was read and whose answer has not begun: was it `HEAD`?
    heads: VecDeque<bool>,
    /// Requests (by index on the connection) whose answer is to be lost.
    lose: BTreeSet<u64>,
}

/// splitmix64: small, seedable, good enough to draw cuts.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

async fn connection(mut client: TcpStream, shared: Arc<Shared>, index: u64) {
    let accepted = Instant::now();
    let Ok(mut upstream) = TcpStream::connect(shared.upstream).await else { return };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let exchanges = Mutex::new(Exchanges::default());
    let cut = {
        let (cr, cw) = client.split();
        let (ur, uw) = upstream.split();
        let (up_tx, up_rx) = mpsc::channel(QUEUE);
        let (down_tx, down_rx) = mpsc::channel(QUEUE);
        let seed = shared.config.seed ^ index.wrapping_mul(0xA076_1D64_78BD_642F);
        let one_way = shared.config.rtt / 2;
        // The handshake a real path would cost: one round trip before the first byte.
        let first_up = accepted + shared.config.rtt;
        let read_up = read(cr, up_tx, Side::Request, &shared, &exchanges, Rng(seed), one_way, first_up);
        let read_down = read(ur, down_tx, Side::Response, &shared, &exchanges, Rng(!seed), one_way, accepted);
        let write_up = write(uw, up_rx, Side::Request, &shared);
        let write_down = write(cw, down_rx, Side::Response, &shared);
        tokio::pin!(read_up, read_down, write_up, write_down);
        let (mut up_done, mut down_done, mut read_up_done, mut read_down_done) = (false, false, false, false);
        loop {
            tokio::select! {
                () = &mut read_up, if !read_up_done => read_up_done = true,
                () = &mut read_down, if !read_down_done => read_down_done = true,
                outcome = &mut write_up, if !up_done => match outcome {
                    Ok(None) => up_done = true,
                    Ok(Some(cut)) => break Some(cut),
                    Err(_) => break None,
                },
                outcome = &mut write_down, if !down_done => match outcome {
                    Ok(None) => down_done = true,
                    Ok(Some(cut)) => break Some(cut),
                    Err(_) => break None,
                },
            }
            if up_done && down_done {
                break None;
            }
        }
    };
    let counters = &shared.counters;
    match cut {
        Some(Cut::Truncate) => {
            counters.truncations.fetch_add(1, Ordering::Relaxed);
            let _ = client.shutdown().await;
        }
        Some(kind) => {
            let counter = if kind == Cut::Reset { &counters.resets } else { &counters.lost_responses };
            counter.fetch_add(1, Ordering::Relaxed);
            // A zero linger does not block on drop (the deprecation's concern): it makes the
            // close a reset, which is the point.
            #[allow(deprecated)]
            {
                let _ = client.set_linger(Some(Duration::ZERO));
                let _ = upstream.set_linger(Some(Duration::ZERO));
            }
        }
        None => {}
    }
}

/// Reads one direction, splits it into messages and chunks, draws cuts, and queues every
/// piece with the time it is to be delivered.
#[allow(clippy::too_many_arguments)]
async fn read(
    mut src: ReadHalf<'_>,
    tx: mpsc::Sender<Item>,
    side: Side,
    shared: &Shared,
    exchanges: &Mutex<Exchanges>,
    mut rng: Rng,
    one_way: Duration,
    not_before: Instant,
) {
    let mut framer = Framer::new(side);
    let mut buf = vec![0u8; CHUNK];
    // Position in the current message, and which message of the connection it is.
    let (mut offset, mut message) = (0u64, 0u64);
    // Whether the current response is a final one (not 1xx): only those answer a request.
    let mut answering = false;
    let mut first = true;
    let kinds: Vec<Cut> = match side {
        Side::Request => shared.config.cuts.clone(),
        Side::Response => shared.config.cuts.iter().copied().filter(|c| *c != Cut::LostResponse).collect(),
    };
    loop {
        let n = match src.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let data = Bytes::copy_from_slice(&buf[..n]);
        let mut at = Instant::now() + one_way;
        if first {
            at = at.max(not_before + one_way);
            first = false;
        }
        let mut pos = 0;
        while pos < n {
            if framer.idle() {
                offset = 0;
                shared.counters.messages.fetch_add(1, Ordering::Relaxed);
                if side == Side::Response {
                    let lost = exchanges.lock().map(|mut e| e.lose.remove(&message)).unwrap_or(false);
                    if lost {
                        let _ = tx.send(Item::Cut(Cut::LostResponse, at)).await;
                        return;
                    }
                }
            }
            let room = CHUNK - (offset % CHUNK as u64) as usize;
            let piece = &data[pos..n.min(pos + room)];
            let mut next_is_head = || exchanges.lock().ok().and_then(|mut e| e.heads.pop_front()).unwrap_or(false);
            let step = framer.consume(piece, &mut next_is_head);
            if let Some(is_head) = step.request_head {
                if let Ok(mut e) = exchanges.lock() {
                    e.heads.push_back(is_head);
                }
            }
            let end = pos + step.used;
            if offset.is_multiple_of(CHUNK as u64) {
                if let Some(cut) = draw(&mut rng, shared, &kinds) {
                    match cut {
                        Cut::Reset => {
                            let _ = tx.send(Item::Cut(Cut::Reset, at)).await;
                            return;
                        }
                        Cut::Truncate => {
                            let _ = tx.send(Item::Data(data.slice(pos..pos + step.used / 2), at)).await;
                            let _ = tx.send(Item::Cut(Cut::Truncate, at)).await;
                            return;
                        }
                        Cut::LostResponse => {
                            if let Ok(mut e) = exchanges.lock() {
                                e.lose.insert(message);
                            }
                        }
                    }
                }
            }
            if tx.send(Item::Data(data.slice(pos..end), at)).await.is_err() {
                return;
            }
            offset += step.used as u64;
            pos = end;
            answering |= step.final_response;
            if step.ended && (side == Side::Request || answering) {
                message += 1;
                answering = false;
            }
        }
    }
}

fn draw(rng: &mut Rng, shared: &Shared, kinds: &[Cut]) -> Option<Cut> {
    let n = shared.cut_one_in.load(Ordering::Relaxed);
    if n == 0 || kinds.is_empty() {
        return None;
    }
    let roll = rng.next();
    roll.is_multiple_of(u64::from(n)).then(|| kinds[((roll / u64::from(n)) % kinds.len() as u64) as usize])
}

/// Delivers one direction's pieces at their time (and the link's rate); answers the cut
/// that ended it, if one did.
async fn write(
    mut dst: WriteHalf<'_>,
    mut rx: mpsc::Receiver<Item>,
    side: Side,
    shared: &Shared,
) -> io::Result<Option<Cut>> {
    let (pacer, counter) = match side {
        Side::Request => (shared.pacers.as_ref().map(|p| &p[0]), &shared.counters.bytes_up),
        Side::Response => (shared.pacers.as_ref().map(|p| &p[1]), &shared.counters.bytes_down),
    };
    while let Some(item) = rx.recv().await {
        match item {
            Item::Data(bytes, at) => {
                if bytes.is_empty() {
                    continue;
                }
                tokio::time::sleep_until(at).await;
                if let Some(pacer) = pacer {
                    pacer.send(bytes.len()).await;
                }
                dst.write_all(&bytes).await?;
                counter.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            }
            Item::Cut(cut, at) => {
                tokio::time::sleep_until(at).await;
                return Ok(Some(cut));
            }
        }
    }
    // The source closed: pass the close on.
    dst.shutdown().await?;
    Ok(None)
}
