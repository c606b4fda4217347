//! The WAN proxy on the wire: a hostile server (honest here) behind it, a raw HTTP/1.1
//! client in front, timings measured roughly and every cut the proxy reports seen by the
//! client.

use std::time::{Duration, Instant};

use ferryboat_testkit::hostile::{HostileServer, Reply};
use ferryboat_testkit::proxy::{Cut, ProxyConfig, WanProxy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BIG: u64 = 4 << 20;

async fn server() -> HostileServer {
    HostileServer::start(|req| {
        if req.path == "/big" {
            Reply::new(200).repeated_body(&b"0123456789abcdef"[..], BIG)
        } else {
            Reply::new(200).body(format!("got {} bytes", req.body.len()))
        }
    })
    .await
    .unwrap()
}

/// How one exchange ended, as the client saw it.
#[derive(Debug, PartialEq)]
enum Seen {
    /// The whole response.
    Whole(Vec<u8>),
    /// A response head and part of the body, then the end of the connection.
    Short,
    /// Nothing of a response (reset or closed).
    Nothing,
}

/// Sends one request on `conn` and reads one response (Content-Length framed).
async fn exchange(conn: &mut TcpStream, path: &str, body: &[u8]) -> Seen {
    let head = format!("PUT {path} HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n", body.len());
    if conn.write_all(head.as_bytes()).await.is_err() || conn.write_all(body).await.is_err() {
        return Seen::Nothing;
    }
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if got.len() >= end + 4 + len {
                return Seen::Whole(got[end + 4..end + 4 + len].to_vec());
            }
        }
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) if got.is_empty() => return Seen::Nothing,
            Ok(0) | Err(_) => return Seen::Short,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn adds_the_round_trip_and_keeps_data_pipelined() {
    let server = server().await;
    let rtt = Duration::from_millis(100);
    let proxy = WanProxy::start(&server.endpoint(), ProxyConfig::rtt(rtt)).await.unwrap();
    let started = Instant::now();
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(exchange(&mut conn, "/a", b"hi").await, Seen::Whole(b"got 2 bytes".to_vec()));
    let first = started.elapsed();
    // The handshake's round trip, then the exchange's.
    assert!(first >= 2 * rtt && first < 2 * rtt + Duration::from_millis(150), "first exchange took {first:?}");
    for _ in 0..3 {
        let t = Instant::now();
        assert!(matches!(exchange(&mut conn, "/a", b"").await, Seen::Whole(_)));
        let took = t.elapsed();
        assert!(took >= rtt && took < rtt + Duration::from_millis(100), "exchange took {took:?}");
    }
    // 4 MiB is 64 chunks: stop-and-wait would need 64 round trips (6.4 s), a delay line one.
    let t = Instant::now();
    match exchange(&mut conn, "/big", b"").await {
        Seen::Whole(body) => assert_eq!(body.len() as u64, BIG),
        other => panic!("{other:?}"),
    }
    let took = t.elapsed();
    assert!(took >= rtt && took < rtt * 5, "4 MiB took {took:?}");
    let stats = proxy.stats();
    assert_eq!((stats.connections, stats.cuts()), (1, 0));
    assert!(stats.bytes_down > BIG && stats.messages == 10, "{stats:?}");
}

#[tokio::test]
async fn caps_the_bandwidth() {
    let server = server().await;
    let config = ProxyConfig::default().with_bandwidth(8 << 20);
    let proxy = WanProxy::start(&server.endpoint(), config).await.unwrap();
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    let t = Instant::now();
    assert!(matches!(exchange(&mut conn, "/big", b"").await, Seen::Whole(_)));
    let took = t.elapsed();
    // 4 MiB at 8 MiB/s: half a second (less one chunk that leaves at once).
    assert!(took >= Duration::from_millis(420) && took < Duration::from_secs(3), "took {took:?}");
}

/// Runs `n` exchanges, each on a new connection (so the cuts depend on the seed alone),
/// uploading 256 KiB (4 chunks) and downloading 4 MiB or a short answer.
async fn cut_run(proxy: &WanProxy, n: usize) -> Vec<Seen> {
    let upload = vec![7u8; 256 << 10];
    let mut seen = Vec::new();
    for i in 0..n {
        let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
        let path = if i % 2 == 0 { "/big" } else { "/small" };
        seen.push(match exchange(&mut conn, path, &upload).await {
            Seen::Whole(b) => Seen::Whole(b[..8].to_vec()),
            other => other,
        });
    }
    seen
}

#[tokio::test]
async fn cuts_are_counted_seen_by_the_client_and_repeat_with_the_seed() {
    let server = server().await;
    let config = ProxyConfig::default().with_cuts(20, 42);
    let proxy = WanProxy::start(&server.endpoint(), config.clone()).await.unwrap();
    let seen = cut_run(&proxy, 60).await;
    let stats = proxy.stats();
    let failed = seen.iter().filter(|s| !matches!(s, Seen::Whole(_))).count() as u64;
    assert_eq!(failed, stats.cuts(), "every cut is seen by the client, and only cuts: {stats:?}");
    assert!(stats.resets > 0 && stats.truncations > 0 && stats.lost_responses > 0, "{stats:?}");
    // Truncations and resets in a response leave the client a short body.
    assert!(seen.contains(&Seen::Short), "some responses were cut mid-body");

    // The same seed, the same cuts.
    let again = WanProxy::start(&server.endpoint(), config).await.unwrap();
    let seen_again = cut_run(&again, 60).await;
    assert_eq!(seen_again, seen);
    // (Byte counts may differ a little: a truncation keeps half of what one read brought.)
    let s = again.stats();
    assert_eq!(
        (s.messages, s.resets, s.truncations, s.lost_responses),
        (stats.messages, stats.resets, stats.truncations, stats.lost_responses)
    );

    // Turned off, nothing is cut.
    again.set_cut_one_in(None);
    let clean = cut_run(&again, 10).await;
    assert!(clean.iter().all(|s| matches!(s, Seen::Whole(_))));
    assert_eq!(again.stats().cuts(), stats.cuts());
}

#[tokio::test]
async fn a_lost_response_follows_a_request_the_server_received() {
    let server = server().await;
    let config = ProxyConfig { cuts: vec![Cut::LostResponse], ..ProxyConfig::default().with_cuts(1, 3) };
    let proxy = WanProxy::start(&server.endpoint(), config).await.unwrap();
    for _ in 0..5 {
        let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(exchange(&mut conn, "/small", b"payload").await, Seen::Nothing);
    }
    assert_eq!(server.requests(), 5, "each request reached the server");
    assert_eq!(proxy.stats().lost_responses, 5);
}

#[tokio::test]
async fn only_loopback_upstreams() {
    let err = WanProxy::start("http://192.0.2.1:80", ProxyConfig::default()).await.unwrap_err();
    assert!(err.to_string().contains("loopback"), "{err}");
    let err = WanProxy::start("no-port", ProxyConfig::default()).await.unwrap_err();
    assert!(err.to_string().contains("not an address"), "{err}");
}
