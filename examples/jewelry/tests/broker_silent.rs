//! A connection the broker stops answering on without closing it (a half-open
//! socket; here a proxy in front of the shared broker that stops forwarding): the
//! service's `Broker` gives up on it after one bounded attempt to open a channel and
//! reconnects, instead of handing the silent connection out again until a
//! heartbeat notices (a minute or two).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jewelry::reconnect::Broker;
use jewelry::topology::Topology;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

/// The shared broker the proxy forwards to.
const UPSTREAM: &str = "127.0.0.1:5672";

/// Forwards every connection to [`UPSTREAM`]. Connections accepted before
/// [`SilencingProxy::silence`] then go silent both ways (their sockets stay open
/// and what arrives is swallowed); connections accepted after it forward as usual.
struct SilencingProxy {
    port: u16,
    generation: Arc<AtomicU64>,
}

impl SilencingProxy {
    async fn start() -> SilencingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("local addr").port();
        let generation = Arc::new(AtomicU64::new(0));
        let shared = Arc::clone(&generation);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(upstream) = TcpStream::connect(UPSTREAM).await else {
                    continue;
                };
                let born = shared.load(Ordering::SeqCst);
                let (client_read, client_write) = client.into_split();
                let (upstream_read, upstream_write) = upstream.into_split();
                tokio::spawn(pipe(client_read, upstream_write, born, Arc::clone(&shared)));
                tokio::spawn(pipe(upstream_read, client_write, born, Arc::clone(&shared)));
            }
        });
        SilencingProxy { port, generation }
    }

    fn amqp_addr(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    /// Every connection open now stops forwarding, without being closed.
    fn silence(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

async fn pipe(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, born: u64, now: Arc<AtomicU64>) {
    let mut buf = [0u8; 8192];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if now.load(Ordering::SeqCst) != born {
            continue;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_gone_silent_is_given_up_and_replaced() {
    let proxy = SilencingProxy::start().await;
    let topology =
        Topology::new(&format!("silent-{}", std::process::id())).expiring(Duration::from_secs(30));
    let broker = Broker::connect(&proxy.amqp_addr(), topology)
        .await
        .expect("RabbitMQ on 127.0.0.1:5672, through the proxy");
    let first = broker.channel().await;
    assert!(first.status().connected());
    assert_eq!(broker.reconnects(), 0);

    proxy.silence();
    let started = Instant::now();
    // lapin still takes the silent connection for connected: only a heartbeat
    // (negotiated at a minute) would tell it otherwise.
    let channel = tokio::time::timeout(Duration::from_secs(40), broker.channel())
        .await
        .expect("a channel on a new connection within one bounded attempt, not after a heartbeat");
    assert!(channel.status().connected());
    assert_eq!(broker.reconnects(), 1, "exactly one reconnect");
    println!(
        "gave up on the silent connection and reconnected in {:.1}s",
        started.elapsed().as_secs_f64()
    );
}
