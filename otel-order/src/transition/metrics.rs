//! The synchronous instruments of the status conventions and their bucket layout.

use std::sync::OnceLock;

use opentelemetry::metrics::{BoundCounter, BoundHistogram, Counter, Histogram, Meter};
use opentelemetry::KeyValue;

use crate::names::{
    METRIC_FAILURES, METRIC_SLA_BREACHES, METRIC_STATUS_DURATION, METRIC_STATUS_TRANSITIONS,
    ORDER_FAILURE_REASON, ORDER_STATUS, ORDER_STATUS_NEXT, ORDER_TRANSITION_KIND,
};
use crate::{classify, OrderStatus};

use super::FailureReason;

/// Bucket boundaries of `order.status.duration`, in seconds: 1 s, 5 s, 15 s, 30 s,
/// 1 min, 2 min, 5 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 1 d, 2 d, 4 d, 1 w, 2 w.
///
/// Orders wait seconds at the Shop, up to 30 minutes for pricing and days in
/// production, so the buckets span all of it; p95 by `histogram_quantile` is exact
/// to within one bucket.
pub const DURATION_BUCKETS: [f64; 18] = [
    1.0,
    5.0,
    15.0,
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
    1_800.0,
    3_600.0,
    7_200.0,
    14_400.0,
    28_800.0,
    86_400.0,
    172_800.0,
    345_600.0,
    604_800.0,
    1_209_600.0,
];

/// Every attribute set is drawn from bounded enums (at most 110 transitions, 77
/// failure cells, 10 statuses), so each cell binds its instrument once, on first
/// use, and later recordings skip the SDK's per-call attribute hashing. Binding
/// lazily keeps the export identical to unbound recording: a cell that never
/// happened exports nothing.
pub(crate) struct Instruments {
    duration: Histogram<f64>,
    transitions: Counter<u64>,
    failures: Counter<u64>,
    sla_breaches: Counter<u64>,
    duration_by_status: [OnceLock<BoundHistogram<f64>>; STATUSES],
    breaches_by_status: [OnceLock<BoundCounter<u64>>; STATUSES],
    /// Indexed by `from` (or [`STATUSES`] when unknown) × `to`; the kind follows
    /// from the pair.
    transitions_by_pair: Box<[OnceLock<BoundCounter<u64>>; (STATUSES + 1) * STATUSES]>,
    /// Indexed by status (or [`STATUSES`] when unknown) × reason.
    failures_by_cell: Box<[OnceLock<BoundCounter<u64>>; (STATUSES + 1) * REASONS]>,
}

const STATUSES: usize = OrderStatus::ALL.len();
const REASONS: usize = FailureReason::ALL.len();

fn cells<T, const N: usize>() -> [OnceLock<T>; N] {
    std::array::from_fn(|_| OnceLock::new())
}

fn status_attr(status: OrderStatus) -> KeyValue {
    KeyValue::new(ORDER_STATUS, status.as_str())
}

impl Instruments {
    pub(crate) fn new(meter: &Meter) -> Self {
        Instruments {
            duration: meter
                .f64_histogram(METRIC_STATUS_DURATION)
                .with_unit("s")
                .with_description("Time an order spent in a status, recorded when it left it")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            transitions: meter
                .u64_counter(METRIC_STATUS_TRANSITIONS)
                .with_description("Observed order status transitions by from, to and kind")
                .build(),
            failures: meter
                .u64_counter(METRIC_FAILURES)
                .with_description("Order failures by status and reason")
                .build(),
            sla_breaches: meter
                .u64_counter(METRIC_SLA_BREACHES)
                .with_description("Transitions that left a status later than its SLA")
                .build(),
            duration_by_status: cells(),
            breaches_by_status: cells(),
            transitions_by_pair: Box::new(cells()),
            failures_by_cell: Box::new(cells()),
        }
    }

    pub(crate) fn duration(&self, status: OrderStatus, seconds: f64) {
        self.duration_by_status[status.index()]
            .get_or_init(|| self.duration.bind(&[status_attr(status)]))
            .record(seconds);
    }

    pub(crate) fn transition(&self, from: Option<OrderStatus>, to: OrderStatus) {
        let row = from.map_or(STATUSES, OrderStatus::index);
        self.transitions_by_pair[row * STATUSES + to.index()]
            .get_or_init(|| {
                let next = KeyValue::new(ORDER_STATUS_NEXT, to.as_str());
                let kind = KeyValue::new(ORDER_TRANSITION_KIND, classify(from, to).as_str());
                match from {
                    Some(from) => self.transitions.bind(&[status_attr(from), next, kind]),
                    None => self.transitions.bind(&[next, kind]),
                }
            })
            .add(1);
    }

    pub(crate) fn sla_breach(&self, status: OrderStatus) {
        self.breaches_by_status[status.index()]
            .get_or_init(|| self.sla_breaches.bind(&[status_attr(status)]))
            .add(1);
    }

    pub(crate) fn failure(&self, status: Option<OrderStatus>, reason: FailureReason) {
        let row = status.map_or(STATUSES, OrderStatus::index);
        self.failures_by_cell[row * REASONS + reason as usize]
            .get_or_init(|| {
                let reason = KeyValue::new(ORDER_FAILURE_REASON, reason.as_str());
                match status {
                    Some(status) => self.failures.bind(&[status_attr(status), reason]),
                    None => self.failures.bind(&[reason]),
                }
            })
            .add(1);
    }
}
