//! Stuck orders: gauges fed by the service's own store.
//!
//! An order that never moves emits no transition, so no span or histogram can show
//! it. Only the service's store knows which orders sit in which status; it reports a
//! [`StatusSnapshot`] per status through a [`StatusSource`], and the library turns
//! that into three observable gauges, evaluated at every metric collection:
//!
//! | gauge | unit | value per `order.status` |
//! |---|---|---|
//! | `order.status.count` | `{order}` | open orders in the status |
//! | `order.status.oldest_age` | `s` | now − oldest entered-at (only when known) |
//! | `order.status.over_sla` | `{order}` | open orders over the status's SLA |
//!
//! `order.status.over_sla` is the store's own count when it gives one
//! ([`StatusSnapshot::with_over_sla`]); otherwise it is derived from the oldest order:
//! 1 if it is over the SLA, else 0 — a lower bound that still answers "is anything
//! late here". It is not reported for a status with neither an SLA nor a count.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::metrics::Meter;
use opentelemetry::KeyValue;

use crate::names::{
    METRIC_STATUS_COUNT, METRIC_STATUS_OLDEST_AGE, METRIC_STATUS_OVER_SLA, ORDER_STATUS,
};
use crate::OrderStatus;

use super::{Clock, SlaConfig};

/// What a service's store knows about the open orders in one status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusSnapshot {
    /// The status.
    pub status: OrderStatus,
    /// How many open orders are in it (report 0 rather than omitting an empty status,
    /// so its series exists and "no orders waiting" is visible).
    pub open: u64,
    /// When the oldest of them entered it, if any and known.
    pub oldest_entered_at: Option<SystemTime>,
    /// How many of them are over the status's SLA, when the store can count it.
    pub over_sla: Option<u64>,
}

impl StatusSnapshot {
    /// `open` orders in `status`, the oldest entered at `oldest_entered_at`.
    pub fn new(status: OrderStatus, open: u64, oldest_entered_at: Option<SystemTime>) -> Self {
        StatusSnapshot {
            status,
            open,
            oldest_entered_at,
            over_sla: None,
        }
    }

    /// Also report how many open orders are over the SLA (counted by the store).
    pub fn with_over_sla(mut self, over_sla: u64) -> Self {
        self.over_sla = Some(over_sla);
        self
    }
}

/// Reports the open orders per status from the service's own store.
///
/// Called from the metric collection (every export interval) on the exporter's
/// thread: it must be quick, must not block on I/O for long, and must not panic.
/// Services whose store is async keep a snapshot refreshed by a background task and
/// return a copy. Closures `Fn() -> Vec<StatusSnapshot>` implement it.
///
/// ```
/// use otel_order::transition::{StatusRecorder, StatusSnapshot};
/// use otel_order::OrderStatus;
/// use std::sync::{Arc, Mutex};
///
/// // Kept up to date by the service (e.g. a task querying PostgreSQL every 30 s).
/// let latest: Arc<Mutex<Vec<StatusSnapshot>>> = Arc::default();
/// latest.lock().unwrap().push(StatusSnapshot::new(OrderStatus::Submitted, 0, None));
///
/// let recorder = StatusRecorder::new();
/// let source = Arc::clone(&latest);
/// recorder.register_status_gauges(move || {
///     source.lock().map(|s| s.clone()).unwrap_or_default()
/// });
/// ```
pub trait StatusSource: Send + Sync + 'static {
    /// The current open orders, one entry per status the service owns.
    fn snapshot(&self) -> Vec<StatusSnapshot>;
}

impl<F> StatusSource for F
where
    F: Fn() -> Vec<StatusSnapshot> + Send + Sync + 'static,
{
    fn snapshot(&self) -> Vec<StatusSnapshot> {
        self()
    }
}

/// One status as exported.
#[derive(Clone, Copy)]
struct Observed {
    status: OrderStatus,
    open: u64,
    oldest_age: Option<f64>,
    over_sla: Option<u64>,
}

/// Which gauge is asking; each may take one cached snapshot once.
#[derive(Clone, Copy)]
enum Gauge {
    Count = 0,
    OldestAge = 1,
    OverSla = 2,
}

/// The three gauge callbacks of one collection share one call to the source: a
/// snapshot is served to each gauge at most once (and for at most [`MAX_REUSE`]),
/// then the next request refreshes it.
struct Shared {
    source: Box<dyn StatusSource>,
    sla: Arc<SlaConfig>,
    clock: Arc<dyn Clock>,
    cache: Mutex<Option<Cached>>,
}

struct Cached {
    taken_at: Instant,
    served: [bool; 3],
    observed: Arc<[Observed]>,
}

const MAX_REUSE: Duration = Duration::from_secs(1);

impl Shared {
    fn observe(&self, gauge: Gauge) -> Arc<[Observed]> {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(cached) = cache.as_mut() {
            if !cached.served[gauge as usize] && cached.taken_at.elapsed() <= MAX_REUSE {
                cached.served[gauge as usize] = true;
                return Arc::clone(&cached.observed);
            }
        }
        let observed = self.evaluate();
        let mut served = [false; 3];
        served[gauge as usize] = true;
        *cache = Some(Cached {
            taken_at: Instant::now(),
            served,
            observed: Arc::clone(&observed),
        });
        observed
    }

    fn evaluate(&self) -> Arc<[Observed]> {
        let now = self.clock.now();
        self.source
            .snapshot()
            .into_iter()
            .map(|s| {
                let age = s
                    .oldest_entered_at
                    .filter(|_| s.open > 0)
                    .map(|at| now.duration_since(at).unwrap_or(Duration::ZERO));
                let over_sla = s.over_sla.or_else(|| {
                    let sla = self.sla.get(s.status)?;
                    if s.open == 0 {
                        return Some(0);
                    }
                    age.map(|age| u64::from(age > sla))
                });
                Observed {
                    status: s.status,
                    open: s.open,
                    oldest_age: age.map(|a| a.as_secs_f64()),
                    over_sla,
                }
            })
            .collect()
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusGauges").finish_non_exhaustive()
    }
}

fn status_attr(status: OrderStatus) -> [KeyValue; 1] {
    [KeyValue::new(ORDER_STATUS, status.as_str())]
}

pub(crate) fn register_gauges(
    meter: &Meter,
    sla: Arc<SlaConfig>,
    clock: Arc<dyn Clock>,
    source: impl StatusSource,
) {
    let shared = Arc::new(Shared {
        source: Box::new(source),
        sla,
        clock,
        cache: Mutex::new(None),
    });

    let count = Arc::clone(&shared);
    meter
        .u64_observable_gauge(METRIC_STATUS_COUNT)
        .with_unit("{order}")
        .with_description("Open orders per status, as reported by the service's store")
        .with_callback(move |observer| {
            for o in count.observe(Gauge::Count).iter() {
                observer.observe(o.open, &status_attr(o.status));
            }
        })
        .build();

    let oldest = Arc::clone(&shared);
    meter
        .f64_observable_gauge(METRIC_STATUS_OLDEST_AGE)
        .with_unit("s")
        .with_description("Age of the oldest open order in each status")
        .with_callback(move |observer| {
            for o in oldest.observe(Gauge::OldestAge).iter() {
                if let Some(age) = o.oldest_age {
                    observer.observe(age, &status_attr(o.status));
                }
            }
        })
        .build();

    meter
        .u64_observable_gauge(METRIC_STATUS_OVER_SLA)
        .with_unit("{order}")
        .with_description("Open orders over their status's SLA (at least 1 when the oldest is)")
        .with_callback(move |observer| {
            for o in shared.observe(Gauge::OverSla).iter() {
                if let Some(over) = o.over_sla {
                    observer.observe(over, &status_attr(o.status));
                }
            }
        })
        .build();
}
