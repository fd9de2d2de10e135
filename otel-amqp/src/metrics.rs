//! The crate's synchronous instruments, built once per [`AmqpTelemetry`](crate::AmqpTelemetry).
//!
//! Attributes are bounded: `messaging.system`, the operation, exchange or queue
//! names, `error.type`, dead-letter reasons. Message ids, routing keys and order ids
//! never become metric attributes (routing keys of topic exchanges often carry ids).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use opentelemetry::metrics::{
    BoundCounter, BoundHistogram, Counter, Histogram, Meter, ObservableUpDownCounter,
};
use opentelemetry::{KeyValue, Value};

use crate::names::{
    DEFAULT_EXCHANGE, MESSAGING_CLIENT_CONSUMED_MESSAGES, MESSAGING_CLIENT_SENT_MESSAGES,
    MESSAGING_DESTINATION_NAME, MESSAGING_OPERATION_NAME, MESSAGING_PROCESS_DURATION,
    MESSAGING_SYSTEM, METRIC_DEAD_LETTERED, METRIC_IN_FLIGHT, METRIC_PUBLISH_FAILURES,
    METRIC_QUEUE_WAIT, METRIC_REDELIVERIES, METRIC_REPUBLISHED_DELIVERIES, METRIC_REPUBLISHES,
    OPERATION_NAME_PUBLISH, SYSTEM_RABBITMQ,
};

/// A counter bound to one attribute set on first use. Binding lazily keeps the
/// export identical to unbound recording (nothing recorded, nothing exported);
/// later recordings skip the SDK's per-call attribute hashing and sorting.
#[derive(Debug, Default)]
pub(crate) struct LazyCounter(OnceLock<BoundCounter<u64>>);

impl LazyCounter {
    pub(crate) fn add(&self, counter: &Counter<u64>, attributes: &[KeyValue], value: u64) {
        self.0.get_or_init(|| counter.bind(attributes)).add(value);
    }
}

/// [`LazyCounter`] for histograms.
#[derive(Debug, Default)]
pub(crate) struct LazyHistogram(OnceLock<BoundHistogram<f64>>);

impl LazyHistogram {
    pub(crate) fn record(&self, histogram: &Histogram<f64>, attributes: &[KeyValue], value: f64) {
        self.0
            .get_or_init(|| histogram.bind(attributes))
            .record(value);
    }
}

/// What every publish to one exchange shares: its destination value, span name,
/// metric attributes and bound `sent` counter.
#[derive(Debug)]
pub(crate) struct ExchangeState {
    /// `messaging.destination.name` (`amq.default` for the default exchange).
    pub(crate) destination: Value,
    /// `publish {exchange}`
    pub(crate) span_name: Cow<'static, str>,
    /// system, operation name, destination
    pub(crate) metric_attributes: [KeyValue; 3],
    pub(crate) sent: LazyCounter,
    /// Routing keys of publishes to this exchange (a work queue's publishes all
    /// carry one key).
    pub(crate) routing_key: RepeatedStr,
}

impl ExchangeState {
    fn new(destination: &str) -> Self {
        let span_name = crate::publish::span_name(OPERATION_NAME_PUBLISH, destination);
        let destination = if destination == DEFAULT_EXCHANGE {
            Value::from(DEFAULT_EXCHANGE)
        } else {
            Value::from(Arc::<str>::from(destination))
        };
        ExchangeState {
            metric_attributes: [
                KeyValue::new(MESSAGING_SYSTEM, SYSTEM_RABBITMQ),
                KeyValue::new(MESSAGING_OPERATION_NAME, OPERATION_NAME_PUBLISH),
                KeyValue::new(MESSAGING_DESTINATION_NAME, destination.clone()),
            ],
            destination,
            span_name,
            sent: LazyCounter::default(),
            routing_key: RepeatedStr::default(),
        }
    }
}

/// A per-message string that usually repeats from one message to the next (a
/// routing key, an exchange) as an attribute value: the last value is kept and
/// shared while the string stays the same, so only a change allocates.
#[derive(Debug, Default)]
pub(crate) struct RepeatedStr(Mutex<Option<Arc<str>>>);

impl RepeatedStr {
    /// `s` as an attribute value, the kept one when it is the same string. Callers
    /// racing on it skip it (and allocate) rather than wait.
    pub(crate) fn value(&self, s: &str) -> Value {
        let Ok(mut last) = self.0.try_lock() else {
            return Value::from(Arc::<str>::from(s));
        };
        match &*last {
            Some(kept) if **kept == *s => Value::from(kept.clone()),
            _ => {
                let kept = Arc::<str>::from(s);
                *last = Some(kept.clone());
                Value::from(kept)
            }
        }
    }
}

/// Most exchanges a process publishes to that get a cached [`ExchangeState`];
/// beyond it (never in practice: exchange names are a metric attribute and must
/// be bounded anyway) each publish builds its own.
const MAX_CACHED_EXCHANGES: usize = 1024;

/// Per-exchange publish state, built on the first publish to an exchange.
#[derive(Debug)]
pub(crate) struct Exchanges {
    default: Arc<ExchangeState>,
    named: RwLock<HashMap<Box<str>, Arc<ExchangeState>>>,
}

impl Default for Exchanges {
    fn default() -> Self {
        Exchanges {
            default: Arc::new(ExchangeState::new(DEFAULT_EXCHANGE)),
            named: RwLock::default(),
        }
    }
}

impl Exchanges {
    /// The state of `destination` (an exchange name, `amq.default` for the
    /// default exchange).
    pub(crate) fn get(&self, destination: &str) -> Arc<ExchangeState> {
        if destination == DEFAULT_EXCHANGE {
            return self.default.clone();
        }
        if let Some(state) = self
            .named
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(destination)
        {
            return state.clone();
        }
        let mut named = self.named.write().unwrap_or_else(|e| e.into_inner());
        if named.len() >= MAX_CACHED_EXCHANGES {
            return Arc::new(ExchangeState::new(destination));
        }
        named
            .entry(destination.into())
            .or_insert_with(|| Arc::new(ExchangeState::new(destination)))
            .clone()
    }
}

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
    /// Publishes after an attempt whose outcome was lost (`republish_with_context`).
    pub(crate) republishes: Counter<u64>,
    /// Deliveries carrying a publish attempt of 2 or more.
    pub(crate) republished_deliveries: Counter<u64>,
    pub(crate) in_flight: InFlight,
    pub(crate) exchanges: Arc<Exchanges>,
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
            republishes: meter
                .u64_counter(METRIC_REPUBLISHES)
                .with_description(
                    "Messages published again after an attempt whose outcome was lost",
                )
                .with_unit("{message}")
                .build(),
            republished_deliveries: meter
                .u64_counter(METRIC_REPUBLISHED_DELIVERIES)
                .with_description("Deliveries of messages their producer published more than once")
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
            exchanges: Arc::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_strings_follow_the_string() {
        let repeated = RepeatedStr::default();
        for key in ["price", "price", "approve", "price", ""] {
            assert_eq!(repeated.value(key), Value::from(key.to_owned()));
        }
    }
}
