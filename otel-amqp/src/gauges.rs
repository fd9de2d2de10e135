//! Queue depth and consumer count of configured queues, as observable gauges.
//!
//! The broker is asked with a passive `queue.declare` (it changes nothing, and
//! answers with the queue's ready-message and consumer counts) on a channel of
//! the gauges' own, so a missing queue, which makes the broker close the channel,
//! never disturbs the application's channels.
//!
//! Observable callbacks run on the metric reader's thread and must not block, so a
//! background Tokio task refreshes a cache every `interval` (use the reader's
//! export interval) and the callbacks only read it. A queue whose last refresh
//! failed is not reported rather than reported stale.
//!
//! [`QueueGauges::start`] asks through one connection and reports nothing once it
//! is lost. [`QueueGauges::start_reconnecting`] asks a source of connections for
//! the next one instead, so one set of gauges lives through broker restarts: the
//! instruments are registered once (the SDK keeps a callback for as long as the
//! meter provider lives, so gauges started anew for every connection would each
//! leave one behind).
//!
//! Dead-letter queues are queues like any other: list them too. The in-flight
//! count (delivered to this process, not yet settled) is an up-down counter kept
//! by [`TracedDelivery`](crate::TracedDelivery), not a broker query.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lapin::options::QueueDeclareOptions;
use lapin::types::{FieldTable, ShortString};
use lapin::{Channel, Connection};
use opentelemetry::metrics::ObservableGauge;
use opentelemetry::KeyValue;
use tokio::task::JoinHandle;

use crate::error::Error;
use crate::names::{
    MESSAGING_DESTINATION_NAME, MESSAGING_SYSTEM, METRIC_QUEUE_CONSUMERS,
    METRIC_QUEUE_MESSAGES_READY, SYSTEM_RABBITMQ,
};
use crate::telemetry::AmqpTelemetry;

/// The export interval of a periodic reader configured from the environment:
/// `OTEL_METRIC_EXPORT_INTERVAL` (ms), else the specification's default of 60 s.
pub fn metric_export_interval() -> Duration {
    std::env::var("OTEL_METRIC_EXPORT_INTERVAL")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(60))
}

struct Slot {
    name: ShortString,
    attributes: [KeyValue; 2],
    ready: AtomicU64,
    consumers: AtomicU64,
    known: AtomicBool,
}

/// Running queue gauges; dropping the value stops the refresh and the reporting.
///
/// ```no_run
/// use std::sync::Arc;
/// use std::time::Duration;
/// use otel_amqp::{AmqpTelemetry, QueueGauges};
///
/// # async fn run(connection: Arc<lapin::Connection>, telemetry: AmqpTelemetry) -> Result<(), otel_amqp::Error> {
/// let gauges = QueueGauges::start(
///     connection,
///     &telemetry,
///     ["mes.pricing", "mes.pricing.dlq"],
///     Duration::from_secs(15),
/// )
/// .await?;
/// # drop(gauges); Ok(()) }
/// ```
pub struct QueueGauges {
    slots: Arc<[Slot]>,
    task: JoinHandle<()>,
    _ready: ObservableGauge<u64>,
    _consumers: ObservableGauge<u64>,
}

impl std::fmt::Debug for QueueGauges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueGauges")
            .field(
                "queues",
                &self
                    .slots
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// A future of the next connection, for [`QueueGauges::start_reconnecting`].
type NextConnection = Pin<Box<dyn Future<Output = Option<Arc<Connection>>> + Send>>;
/// Where the refresh task gets a connection when it has none that is connected.
type Reconnect = Box<dyn FnMut() -> NextConnection + Send>;

impl QueueGauges {
    /// Report `queues` (names of at most 255 bytes; longer ones are skipped) every
    /// `interval`, asking the broker through a channel of `connection`'s own.
    ///
    /// The first refresh happens before this returns, so the first export already
    /// has values. Once `connection` is lost, nothing is reported (never stale
    /// values); to follow the application onto its next connection, use
    /// [`QueueGauges::start_reconnecting`]. Must be called within a Tokio runtime.
    pub async fn start<I, Q>(
        connection: Arc<Connection>,
        telemetry: &AmqpTelemetry,
        queues: I,
        interval: Duration,
    ) -> Result<QueueGauges, Error>
    where
        I: IntoIterator<Item = Q>,
        Q: Into<String>,
    {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::NoRuntime("the queue gauges"))?;
        let channel = connection.create_channel().await?;
        let link = Link {
            connection: Some(connection),
            channel: Some(channel),
            reconnect: None,
        };
        Ok(Self::run(runtime, link, telemetry, queues, interval, true).await)
    }

    /// [`QueueGauges::start`] for as long as the gauges live rather than as long
    /// as one connection does: whenever the connection in use is lost (and once
    /// at the start), `next_connection` is asked for another, on the refresh task.
    /// Until it gives one that is connected, nothing is reported; it is asked
    /// again at the next refresh if it gives `None` or a closed connection.
    ///
    /// Returns at once: the first refresh, like every other, runs on the task (so
    /// a source that waits for the broker never holds up the caller).
    ///
    /// A service that already keeps one live connection hands that out (as the
    /// jewelry example's MES does); the gauges never close what they are given.
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use lapin::{Connection, ConnectionProperties};
    /// use otel_amqp::{AmqpTelemetry, QueueGauges};
    ///
    /// # async fn run(telemetry: AmqpTelemetry) -> Result<(), otel_amqp::Error> {
    /// let gauges = QueueGauges::start_reconnecting(
    ///     || async {
    ///         let addr = "amqp://guest:guest@127.0.0.1:5672/%2f";
    ///         Connection::connect(addr, ConnectionProperties::default())
    ///             .await
    ///             .ok()
    ///             .map(Arc::new)
    ///     },
    ///     &telemetry,
    ///     ["mes.pricing", "mes.pricing.dlq"],
    ///     Duration::from_secs(15),
    /// )
    /// .await?;
    /// # drop(gauges); Ok(()) }
    /// ```
    pub async fn start_reconnecting<C, F, I, Q>(
        mut next_connection: C,
        telemetry: &AmqpTelemetry,
        queues: I,
        interval: Duration,
    ) -> Result<QueueGauges, Error>
    where
        C: FnMut() -> F + Send + 'static,
        F: Future<Output = Option<Arc<Connection>>> + Send + 'static,
        I: IntoIterator<Item = Q>,
        Q: Into<String>,
    {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::NoRuntime("the queue gauges"))?;
        let link = Link {
            connection: None,
            channel: None,
            reconnect: Some(Box::new(move || {
                Box::pin(next_connection()) as NextConnection
            })),
        };
        Ok(Self::run(runtime, link, telemetry, queues, interval, false).await)
    }

    /// Registers the instruments and leaves the refresh to a task on `runtime`;
    /// with `refresh_first`, refreshes once before returning.
    async fn run<I, Q>(
        runtime: tokio::runtime::Handle,
        mut link: Link,
        telemetry: &AmqpTelemetry,
        queues: I,
        interval: Duration,
        refresh_first: bool,
    ) -> QueueGauges
    where
        I: IntoIterator<Item = Q>,
        Q: Into<String>,
    {
        let slots: Arc<[Slot]> = queues
            .into_iter()
            .filter_map(|q| ShortString::try_new(q.into()).ok())
            .map(|name| Slot {
                attributes: [
                    KeyValue::new(MESSAGING_SYSTEM, SYSTEM_RABBITMQ),
                    KeyValue::new(MESSAGING_DESTINATION_NAME, name.as_str().to_owned()),
                ],
                name,
                ready: AtomicU64::new(0),
                consumers: AtomicU64::new(0),
                known: AtomicBool::new(false),
            })
            .collect();

        let meter = telemetry.meter();
        let ready = meter
            .u64_observable_gauge(METRIC_QUEUE_MESSAGES_READY)
            .with_description("Messages ready for delivery in the queue (passive declare)")
            .with_unit("{message}")
            .with_callback({
                let slots = slots.clone();
                move |observer| {
                    for slot in slots.iter().filter(|s| s.known.load(Ordering::Acquire)) {
                        observer.observe(slot.ready.load(Ordering::Relaxed), &slot.attributes);
                    }
                }
            })
            .build();
        let consumers = meter
            .u64_observable_gauge(METRIC_QUEUE_CONSUMERS)
            .with_description("Consumers attached to the queue (passive declare)")
            .with_unit("{consumer}")
            .with_callback({
                let slots = slots.clone();
                move |observer| {
                    for slot in slots.iter().filter(|s| s.known.load(Ordering::Acquire)) {
                        observer.observe(slot.consumers.load(Ordering::Relaxed), &slot.attributes);
                    }
                }
            })
            .build();

        if refresh_first {
            link.refresh(&slots).await;
        }
        let task = runtime.spawn({
            let slots = slots.clone();
            let interval = interval.max(Duration::from_millis(10));
            async move {
                let mut ticker = tokio::time::interval(interval);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                if refresh_first {
                    ticker.tick().await; // the first tick is immediate: already refreshed
                }
                loop {
                    ticker.tick().await;
                    link.refresh(&slots).await;
                }
            }
        });
        QueueGauges {
            slots,
            task,
            _ready: ready,
            _consumers: consumers,
        }
    }

    /// The cached `(messages ready, consumers)` of `queue`, exactly what the next
    /// export reports; `None` when the queue is not configured or its last refresh
    /// failed.
    pub fn cached(&self, queue: &str) -> Option<(u64, u64)> {
        let slot = self.slots.iter().find(|s| s.name.as_str() == queue)?;
        slot.known.load(Ordering::Acquire).then(|| {
            (
                slot.ready.load(Ordering::Relaxed),
                slot.consumers.load(Ordering::Relaxed),
            )
        })
    }
}

/// The refresh task's connection and channel, and where it gets the next
/// connection if it has one to ask.
struct Link {
    connection: Option<Arc<Connection>>,
    channel: Option<Channel>,
    reconnect: Option<Reconnect>,
}

impl Link {
    /// Asks the broker about every queue, through a connected channel: reopened
    /// after a 404 (which closes it), and on a new connection if the last was lost
    /// and there is a source to ask. Queues it cannot ask about are not reported.
    async fn refresh(&mut self, slots: &[Slot]) {
        if !self
            .connection
            .as_ref()
            .is_some_and(|c| c.status().connected())
        {
            forget(slots);
            self.channel = None;
            let Some(reconnect) = self.reconnect.as_mut() else {
                return;
            };
            match reconnect().await {
                Some(fresh) if fresh.status().connected() => self.connection = Some(fresh),
                _ => return,
            }
        }
        let Some(connection) = self.connection.as_ref() else {
            return;
        };
        for slot in slots {
            let channel = match self.channel.take() {
                Some(channel) if channel.status().connected() => channel,
                _ => match connection.create_channel().await {
                    Ok(fresh) => fresh,
                    Err(_) => {
                        // Connection gone: nothing is known until it comes back.
                        forget(slots);
                        return;
                    }
                },
            };
            let passive = QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            };
            match channel
                .queue_declare(slot.name.clone(), passive, FieldTable::default())
                .await
            {
                Ok(queue) => {
                    slot.ready
                        .store(u64::from(queue.message_count()), Ordering::Relaxed);
                    slot.consumers
                        .store(u64::from(queue.consumer_count()), Ordering::Relaxed);
                    slot.known.store(true, Ordering::Release);
                }
                // 404: the broker closed the channel; the next queue reopens it.
                Err(_) => slot.known.store(false, Ordering::Release),
            }
            self.channel = Some(channel);
        }
    }
}

/// Marks every queue unknown: reported no more until asked about again.
fn forget(slots: &[Slot]) {
    slots
        .iter()
        .for_each(|s| s.known.store(false, Ordering::Release));
}

impl Drop for QueueGauges {
    fn drop(&mut self) {
        self.task.abort();
        // The SDK may keep calling the callbacks; report nothing from now on.
        forget(&self.slots);
    }
}
