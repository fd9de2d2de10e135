//! The crate's synchronous instruments, built once per [`AmqpTelemetry`](crate::AmqpTelemetry).
//!
//! Attributes are bounded: `messaging.system`, the operation, exchange or queue
//! names, `error.type`, dead-letter reasons. Message ids, routing keys and order ids
//! never become metric attributes (routing keys of topic exchanges often carry ids).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use opentelemetry::metrics::{Counter, Histogram, Meter, ObservableUpDownCounter};
use opentelemetry::KeyValue;

use crate::names::{
    MESSAGING_CLIENT_CONSUMED_MESSAGES, MESSAGING_CLIENT_SENT_MESSAGES, MESSAGING_DESTINATION_NAME,
    MESSAGING_PROCESS_DURATION, METRIC_DEAD_LETTERED, METRIC_IN_FLIGHT, METRIC_PUBLISH_FAILURES,
    METRIC_QUEUE_WAIT, METRIC_REDELIVERIES,
};

/// Bucket bounds (s) for time in a queue: from 5 ms to the seeds' 30-minute pricing
/// backlog and beyond.
pub const QUEUE_WAIT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
    1800.0, 3600.0, 7200.0, 21600.0, 86400.0,
];

/// Bucket bounds (s) for processing a message, as the semantic conventions advise.
pub const PROCESS_DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

#[derive(Clone, Debug)]
pub(crate) struct AmqpMetrics {
    pub(crate) sent: Counter<u64>,
    pub(crate) publish_failures: Counter<u64>,
    pub(crate) consumed: Counter<u64>,
    pub(crate) process_duration: Histogram<f64>,
    pub(crate) queue_wait: Histogram<f64>,
    pub(crate) redeliveries: Counter<u64>,
    pub(crate) dead_lettered: Counter<u64>,
    pub(crate) in_flight: InFlight,
    _in_flight_instrument: ObservableUpDownCounter<i64>,
}

/// Deliveries in flight per queue: one atomic per queue, observed at collection.
///
/// Two plain atomic operations per delivery instead of two SDK measurements; the
/// map holds one entry per queue name (bounded), never anything per message.
#[derive(Clone, Debug, Default)]
pub(crate) struct InFlight {
    queues: Arc<Mutex<HashMap<String, Arc<AtomicI64>>>>,
}

impl InFlight {
    /// The counter of `queue`, shared by every consumer of that queue.
    pub(crate) fn counter(&self, queue: &str) -> Arc<AtomicI64> {
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        queues.entry(queue.to_owned()).or_default().clone()
    }

    fn observe(&self, observe: impl Fn(i64, &[KeyValue])) {
        let queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        for (queue, count) in queues.iter() {
            observe(
                count.load(Ordering::Relaxed),
                &[KeyValue::new(MESSAGING_DESTINATION_NAME, queue.clone())],
            );
        }
    }
}

impl AmqpMetrics {
    pub(crate) fn new(meter: &Meter) -> Self {
        let in_flight = InFlight::default();
        AmqpMetrics {
            sent: meter
                .u64_counter(MESSAGING_CLIENT_SENT_MESSAGES)
                .with_description("Number of messages producer attempted to send to the broker")
                .with_unit("{message}")
                .build(),
            publish_failures: meter
                .u64_counter(METRIC_PUBLISH_FAILURES)
                .with_description(
                    "Publishes the broker did not accept (nack, return, channel failure)",
                )
                .with_unit("{message}")
                .build(),
            consumed: meter
                .u64_counter(MESSAGING_CLIENT_CONSUMED_MESSAGES)
                .with_description("Number of messages that were delivered to the application")
                .with_unit("{message}")
                .build(),
            process_duration: meter
                .f64_histogram(MESSAGING_PROCESS_DURATION)
                .with_description("Duration of processing operation")
                .with_unit("s")
                .with_boundaries(PROCESS_DURATION_BUCKETS.to_vec())
                .build(),
            queue_wait: meter
                .f64_histogram(METRIC_QUEUE_WAIT)
                .with_description("Time messages spent between publish and delivery")
                .with_unit("s")
                .with_boundaries(QUEUE_WAIT_BUCKETS.to_vec())
                .build(),
            redeliveries: meter
                .u64_counter(METRIC_REDELIVERIES)
                .with_description("Deliveries the broker marked as redelivered")
                .with_unit("{message}")
                .build(),
            dead_lettered: meter
                .u64_counter(METRIC_DEAD_LETTERED)
                .with_description("Consumed messages that had been dead-lettered")
                .with_unit("{message}")
                .build(),
            _in_flight_instrument: meter
                .i64_observable_up_down_counter(METRIC_IN_FLIGHT)
                .with_description("Deliveries handed to this process and not yet settled")
                .with_unit("{message}")
                .with_callback({
                    let in_flight = in_flight.clone();
                    move |observer| in_flight.observe(|v, attrs| observer.observe(v, attrs))
                })
                .build(),
            in_flight,
        }
    }
}
