//! The synchronous instruments of the status conventions and their bucket layout.

use opentelemetry::metrics::{Counter, Histogram, Meter};
use opentelemetry::KeyValue;

use crate::names::{
    METRIC_FAILURES, METRIC_SLA_BREACHES, METRIC_STATUS_DURATION, METRIC_STATUS_TRANSITIONS,
    ORDER_FAILURE_REASON, ORDER_STATUS, ORDER_STATUS_NEXT, ORDER_TRANSITION_KIND,
};
use crate::{OrderStatus, TransitionKind};

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

/// Every attribute value is a `&'static str` from a bounded enum, so recording
/// allocates nothing and no id can become a label.
#[derive(Clone)]
pub(crate) struct Instruments {
    duration: Histogram<f64>,
    transitions: Counter<u64>,
    failures: Counter<u64>,
    sla_breaches: Counter<u64>,
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
        }
    }

    pub(crate) fn duration(&self, status: OrderStatus, seconds: f64) {
        self.duration
            .record(seconds, &[KeyValue::new(ORDER_STATUS, status.as_str())]);
    }

    pub(crate) fn transition(
        &self,
        from: Option<OrderStatus>,
        to: OrderStatus,
        kind: TransitionKind,
    ) {
        let next = KeyValue::new(ORDER_STATUS_NEXT, to.as_str());
        let kind = KeyValue::new(ORDER_TRANSITION_KIND, kind.as_str());
        match from {
            Some(from) => self
                .transitions
                .add(1, &[KeyValue::new(ORDER_STATUS, from.as_str()), next, kind]),
            None => self.transitions.add(1, &[next, kind]),
        }
    }

    pub(crate) fn sla_breach(&self, status: OrderStatus) {
        self.sla_breaches
            .add(1, &[KeyValue::new(ORDER_STATUS, status.as_str())]);
    }

    pub(crate) fn failure(&self, status: Option<OrderStatus>, reason: FailureReason) {
        let reason = KeyValue::new(ORDER_FAILURE_REASON, reason.as_str());
        match status {
            Some(status) => self
                .failures
                .add(1, &[KeyValue::new(ORDER_STATUS, status.as_str()), reason]),
            None => self.failures.add(1, &[reason]),
        }
    }
}
