//! Staying connected to RabbitMQ: what the application does when the broker closes
//! its connection or restarts (otel-amqp's "Connection loss and recovery").
//!
//! [`Broker`] owns one service's connection. Whoever needs it asks for a live one;
//! when it has died, the first caller reconnects with a capped exponential backoff
//! (as long as it takes: a broker being restarted is down for seconds, one being
//! upgraded for minutes) and declares the topology again before handing it out, so
//! queues exist before anyone consumes. A connection lapin still calls connected
//! but on which no channel can be opened within the operation timeout (a socket the
//! broker stopped answering on) is given up and replaced the same way, rather than
//! handed out until a heartbeat notices. [`consume`] runs a consumer that survives
//! this: when its stream ends with the connection, it opens a new channel and
//! consumes again; the broker redelivers what was unacknowledged, marked
//! `redelivered`. Publishing again after a lost confirm is
//! [`crate::publisher::Publisher`]'s job.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use lapin::options::{BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection};
use otel_amqp::{AmqpTelemetry, ConsumerConfig, TracedConsumer, TracedDelivery};

use crate::broker::{self, BrokerUnreachable};
use crate::topology::Topology;

/// First pause after a failed reconnect; doubled up to [`BACKOFF_MAX`].
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
/// Longest pause between reconnect attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// Longest wait for one broker operation (connect, declare, open a channel,
/// consume): lapin has no timeouts of its own, and a broker that is stopping or
/// booting may accept a socket and never answer on it.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a consumer checks that its channel still lives: the stream of a
/// channel that died without telling it would otherwise wait for ever.
const LIVENESS_CHECK: Duration = Duration::from_secs(1);
/// Longest a handler may take with one delivery before the consumer gives up on
/// its channel (the delivery goes back to the queue) and consumes again.
const HANDLER_TIMEOUT: Duration = Duration::from_secs(60);

/// `operation`, or `None` when it takes longer than [`OPERATION_TIMEOUT`].
async fn bounded<T>(operation: impl Future<Output = Result<T, lapin::Error>>) -> Option<T> {
    tokio::time::timeout(OPERATION_TIMEOUT, operation)
        .await
        .ok()?
        .ok()
}

/// A capped exponential backoff.
#[derive(Debug)]
pub struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Self {
        Backoff(BACKOFF_FIRST)
    }
}

impl Backoff {
    /// Sleep the current pause, then double it (up to the cap).
    pub async fn wait(&mut self) {
        tokio::time::sleep(self.0).await;
        self.0 = (self.0 * 2).min(BACKOFF_MAX);
    }
}

/// One service's connection to RabbitMQ, re-established whenever it dies.
#[derive(Clone, Debug)]
pub struct Broker {
    inner: Arc<Inner>,
}

/// The connection handed out, and whether it was given up on.
#[derive(Debug)]
struct Current {
    connection: Arc<Connection>,
    /// Set by [`Broker::abandon`]: reconnect even though lapin says connected.
    abandoned: bool,
}

#[derive(Debug)]
struct Inner {
    addr: String,
    topology: Topology,
    current: tokio::sync::Mutex<Current>,
    reconnects: AtomicU64,
}

impl Broker {
    /// Connect to `addr` and declare `topology`. The first connection must succeed
    /// (a service that never reached its broker says so at once, with
    /// [`BrokerUnreachable`]); later ones are retried for as long as it takes.
    pub async fn connect(addr: &str, topology: Topology) -> Result<Broker, BrokerUnreachable> {
        let connection = broker::connect(addr).await?;
        let channel = connection.create_channel().await.map_err(|source| {
            let (host, port) = broker::host_port(addr);
            BrokerUnreachable {
                addr: format!("amqp://{host}:{port}"),
                source,
            }
        })?;
        let declared = topology.declare(&channel).await;
        let _ = channel.close(200, "topology declared".into()).await;
        declared.map_err(|source| {
            let (host, port) = broker::host_port(addr);
            BrokerUnreachable {
                addr: format!("amqp://{host}:{port}"),
                source,
            }
        })?;
        Ok(Broker {
            inner: Arc::new(Inner {
                addr: addr.to_owned(),
                topology,
                current: tokio::sync::Mutex::new(Current {
                    connection: Arc::new(connection),
                    abandoned: false,
                }),
                reconnects: AtomicU64::new(0),
            }),
        })
    }

    /// The broker address (with credentials, as configured).
    pub fn addr(&self) -> &str {
        &self.inner.addr
    }

    /// The topology declared on every connection.
    pub fn topology(&self) -> &Topology {
        &self.inner.topology
    }

    /// How many times the connection has been re-established.
    pub fn reconnects(&self) -> u64 {
        self.inner.reconnects.load(Ordering::Relaxed)
    }

    /// A connected connection: the current one, or a new one (topology declared)
    /// when it has died. Waits as long as the broker is away.
    pub async fn connection(&self) -> Arc<Connection> {
        let mut current = self.inner.current.lock().await;
        if current.connection.status().connected() && !current.abandoned {
            return Arc::clone(&current.connection);
        }
        let mut backoff = Backoff::default();
        loop {
            let connect = async {
                broker::connect(&self.inner.addr)
                    .await
                    .map_err(|e| e.source)
            };
            if let Some(connection) = bounded(connect).await {
                if bounded(self.declare(&connection)).await.is_some() {
                    self.inner.reconnects.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(reconnects = self.reconnects(), "reconnected to RabbitMQ");
                    *current = Current {
                        connection: Arc::new(connection),
                        abandoned: false,
                    };
                    return Arc::clone(&current.connection);
                }
                let _ = connection.close(200, "topology not declared".into()).await;
            }
            backoff.wait().await;
        }
    }

    async fn declare(&self, connection: &Connection) -> Result<(), lapin::Error> {
        let channel = connection.create_channel().await?;
        let declared = self.inner.topology.declare(&channel).await;
        let _ = channel.close(200, "topology declared".into()).await;
        declared
    }

    /// A new channel on a live connection; waits as long as the broker is away.
    pub async fn channel(&self) -> Channel {
        let mut backoff = Backoff::default();
        loop {
            let connection = self.connection().await;
            if let Some(channel) = bounded(connection.create_channel()).await {
                return channel;
            }
            self.abandon(&connection).await;
            backoff.wait().await;
        }
    }

    /// Gives up on `connection` if it is still the current one: it says it is
    /// connected, yet no channel could be opened on it (a socket the broker no
    /// longer answers on, as when it went away without closing it, or lapin has
    /// not yet seen the close). The next [`Broker::connection`] reconnects instead
    /// of handing it out again until a heartbeat notices. Closing it is tried in
    /// the background, bounded like every other operation.
    async fn abandon(&self, connection: &Arc<Connection>) {
        let mut current = self.inner.current.lock().await;
        if !Arc::ptr_eq(&current.connection, connection) || current.abandoned {
            return;
        }
        current.abandoned = true;
        tracing::warn!(
            "no channel could be opened on a connection that says it is connected; reconnecting"
        );
        let stale = Arc::clone(connection);
        tokio::spawn(async move {
            let _ = bounded(stale.close(200, "abandoned: no channel could be opened".into())).await;
        });
    }

    /// Close the current connection (the end of a run).
    pub async fn close(&self) {
        let current = self.inner.current.lock().await;
        let _ = current
            .connection
            .close(200, "service stopping".into())
            .await;
    }
}

/// What a consumer's handler wants next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Take the next delivery.
    Continue,
    /// Close this channel (unsettled deliveries go back to the queue) and consume
    /// again on a new one: a worker that crashed and was restarted.
    Restart,
}

/// Which queue to consume, and how.
#[derive(Clone, Debug)]
pub struct ConsumeSpec {
    /// The queue.
    pub queue: String,
    /// Consumer tag.
    pub tag: String,
    /// Unacknowledged deliveries the broker may hand out at once.
    pub prefetch: u16,
    /// `messaging.consumer.group.name` (the service).
    pub group: String,
}

/// Consume `spec.queue` for ever, through connection losses: each delivery goes to
/// `handle` under its process span; when the stream ends (the channel or the
/// connection died), consume again on a new channel. Abort the task to stop.
pub async fn consume<F, Fut>(broker: Broker, amqp: AmqpTelemetry, spec: ConsumeSpec, mut handle: F)
where
    F: FnMut(TracedDelivery) -> Fut,
    Fut: Future<Output = Flow>,
{
    let mut backoff = Backoff::default();
    loop {
        let channel = broker.channel().await;
        let consumer = bounded(async {
            channel
                .basic_qos(spec.prefetch, BasicQosOptions::default())
                .await?;
            channel
                .basic_consume(
                    spec.queue.as_str().into(),
                    spec.tag.as_str().into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
        })
        .await;
        let Some(consumer) = consumer else {
            let _ = channel.close(200, "consume failed".into()).await;
            backoff.wait().await;
            continue;
        };
        backoff = Backoff::default();
        let mut deliveries = TracedConsumer::new(
            consumer,
            amqp.clone(),
            ConsumerConfig::new(spec.queue.as_str()).consumer_group(spec.group.as_str()),
        );
        let mut liveness = tokio::time::interval(LIVENESS_CHECK);
        loop {
            tokio::select! {
                next = deliveries.next() => {
                    // An error item or the end: the channel or connection failed.
                    let Some(Ok(delivery)) = next else { break };
                    let flow = tokio::time::timeout(HANDLER_TIMEOUT, handle(delivery)).await;
                    if flow != Ok(Flow::Continue) {
                        // Restarted, or stuck on a dead channel: unsettled
                        // deliveries go back to the queue when it closes.
                        let _ = bounded(channel.close(320, "consumer restarted".into())).await;
                        break;
                    }
                }
                _ = liveness.tick() => {
                    if !channel.status().connected() {
                        break;
                    }
                }
            }
        }
        tokio::time::sleep(BACKOFF_FIRST).await;
    }
}
