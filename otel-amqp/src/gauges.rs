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
//! Dead-letter queues are queues like any other: list them too. The in-flight
//! count (delivered to this process, not yet settled) is an up-down counter kept
//! by [`TracedDelivery`](crate::TracedDelivery), not a broker query.

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

impl QueueGauges {
    /// Report `queues` (names of at most 255 bytes; longer ones are skipped) every
    /// `interval`, asking the broker through a channel of `connection`'s own.
    ///
    /// The first refresh happens before this returns, so the first export already
    /// has values. Must be called within a Tokio runtime.
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

        let mut channel = connection.create_channel().await?;
        refresh(&connection, &mut channel, &slots).await;
        let task = runtime.spawn({
            let slots = slots.clone();
            let interval = interval.max(Duration::from_millis(10));
            async move {
                let mut ticker = tokio::time::interval(interval);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                ticker.tick().await; // the first tick is immediate: already refreshed
                loop {
                    ticker.tick().await;
                    refresh(&connection, &mut channel, &slots).await;
                }
            }
        });
        Ok(QueueGauges {
            slots,
            task,
            _ready: ready,
            _consumers: consumers,
        })
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

async fn refresh(connection: &Connection, channel: &mut Channel, slots: &[Slot]) {
    for slot in slots {
        if !channel.status().connected() {
            match connection.create_channel().await {
                Ok(fresh) => *channel = fresh,
                Err(_) => {
                    // Connection gone: nothing is known until it comes back.
                    slots
                        .iter()
                        .for_each(|s| s.known.store(false, Ordering::Release));
                    return;
                }
            }
        }
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
    }
}

impl Drop for QueueGauges {
    fn drop(&mut self) {
        self.task.abort();
        // The SDK may keep calling the callbacks; report nothing from now on.
        for slot in self.slots.iter() {
            slot.known.store(false, Ordering::Release);
        }
    }
}
