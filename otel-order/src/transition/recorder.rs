//! [`StatusRecorder`]: the one call a service makes when an order changes status.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::metrics::Meter;
use opentelemetry::trace::{
    Link, Span, SpanBuilder, SpanContext, SpanKind, Status, TraceContextExt, Tracer,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue};

use crate::names::{
    ORDER_FAILURE_REASON, ORDER_SLA_EXCEEDED, ORDER_SLA_SECONDS, ORDER_STATUS,
    ORDER_STATUS_DURATION_UNKNOWN, ORDER_STATUS_NEXT, ORDER_TRANSITION_KIND, SCOPE_NAME,
    SPAN_FAILURE, SPAN_STATUS_INITIAL,
};
use crate::propagation::MAX_STATUS_AGE;
use crate::span_processor::explicit_order_id;
use crate::{classify, OrderContext, OrderContextExt, OrderStatus, TransitionKind};

use super::metrics::Instruments;
use super::stuck::{register_gauges, StatusSource};
use super::{Clock, FailureReason, SlaConfig, SystemClock};

/// Records order status transitions and failures as short spans and metrics.
///
/// Build one per service ([`StatusRecorder::builder`], or [`StatusRecorder::new`] for
/// the global tracer and meter) and share it (`Arc`). See the
/// [module documentation](super) for what each call emits.
///
/// `T` is the tracer: the global [`BoxedTracer`] by default, or an SDK tracer passed
/// to [`StatusRecorderBuilder::tracer`] (one allocation fewer per span).
///
/// Build it once, not per request: it creates its instruments when built and binds
/// each bounded attribute set (status, status pair, status × reason) on first use,
/// so recording costs about two plain spans. Binding uses the OpenTelemetry bound
/// instrument API, which `opentelemetry_sdk`'s meter provider implements; another
/// meter provider implementation may drop bound measurements.
pub struct StatusRecorder<T = BoxedTracer> {
    tracer: T,
    meter: Meter,
    instruments: Instruments,
    sla: Arc<SlaConfig>,
    clock: Arc<dyn Clock>,
}

impl<T> fmt::Debug for StatusRecorder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusRecorder")
            .field("sla", &self.sla)
            .finish_non_exhaustive()
    }
}

impl StatusRecorder<BoxedTracer> {
    /// A recorder on the global tracer and meter provider, the system clock and no SLA.
    pub fn new() -> Self {
        StatusRecorder::builder().build()
    }

    /// Start configuring a recorder; unset parts default to the globals, the system
    /// clock and no SLA.
    pub fn builder() -> StatusRecorderBuilder<BoxedTracer> {
        StatusRecorderBuilder {
            tracer: global::tracer_with_scope(scope()),
            meter: None,
            sla: SlaConfig::new(),
            clock: Arc::new(SystemClock),
        }
    }
}

impl Default for StatusRecorder<BoxedTracer> {
    fn default() -> Self {
        StatusRecorder::new()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(SCOPE_NAME)
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

/// Configures a [`StatusRecorder`]: tracer, meter, SLA thresholds and clock.
pub struct StatusRecorderBuilder<T = BoxedTracer> {
    tracer: T,
    meter: Option<Meter>,
    sla: SlaConfig,
    clock: Arc<dyn Clock>,
}

impl<T> fmt::Debug for StatusRecorderBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusRecorderBuilder")
            .field("sla", &self.sla)
            .finish_non_exhaustive()
    }
}

impl<T: Tracer> StatusRecorderBuilder<T> {
    /// Use this tracer for status and failure spans (e.g. an SDK provider's
    /// `tracer("otel-order")`).
    pub fn tracer<U: Tracer>(self, tracer: U) -> StatusRecorderBuilder<U> {
        StatusRecorderBuilder {
            tracer,
            meter: self.meter,
            sla: self.sla,
            clock: self.clock,
        }
    }

    /// Use this meter for the histogram, counters and gauges.
    pub fn meter(mut self, meter: Meter) -> Self {
        self.meter = Some(meter);
        self
    }

    /// Use these SLA thresholds.
    pub fn sla(mut self, sla: SlaConfig) -> Self {
        self.sla = sla;
        self
    }

    /// Take "now" from this clock (a [`ManualClock`](super::ManualClock) in tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Build the recorder, creating its instruments.
    pub fn build(self) -> StatusRecorder<T> {
        let meter = self
            .meter
            .unwrap_or_else(|| global::meter_with_scope(scope()));
        StatusRecorder {
            instruments: Instruments::new(&meter),
            meter,
            tracer: self.tracer,
            sla: Arc::new(self.sla),
            clock: self.clock,
        }
    }
}

impl<T: Tracer> StatusRecorder<T> {
    /// Record that `order` moved to `to` now, inside the current span; returns the
    /// updated order context to store and propagate.
    ///
    /// Same as [`transition_with_context`](Self::transition_with_context) with
    /// [`Context::current`] as parent.
    pub fn transition(&self, order: &OrderContext, to: OrderStatus) -> OrderContext {
        Context::map_current(|cx| self.transition_with_context(cx, order, to))
    }

    /// Record that the order of the current [`Context`] moved to `to`; returns the
    /// current context carrying the updated order, to attach or pass on.
    ///
    /// `None` when the current context carries no [`OrderContext`]: without an order
    /// id there is nothing to record.
    pub fn transition_current(&self, to: OrderStatus) -> Option<Context> {
        Context::map_current(|cx| {
            let order = cx.order()?;
            let next = self.transition_with_context(cx, order, to);
            Some(cx.with_order(next))
        })
    }

    /// Record that `order` moved to `to` now, under `parent`; returns the updated
    /// order context.
    ///
    /// Emits one span named after the previous status, from when it was entered to
    /// now, child of `parent`, linked to the span that entered it; records the
    /// time-in-status histogram, the transition counter and SLA breaches. Never fails:
    /// an unknown previous status or entered-at gives a zero-length marker span.
    ///
    /// The returned context has status `to`, entered now, entered by `parent`'s span
    /// (or, when `parent` has none, by the status span itself), so the next hop links
    /// to it. A [`TransitionKind::Repeat`] leaves the order as it was: the order did not
    /// move, and a duplicate must not restart its clock.
    pub fn transition_with_context(
        &self,
        parent: &Context,
        order: &OrderContext,
        to: OrderStatus,
    ) -> OrderContext {
        let now = self.clock.now();
        let from = order.status();
        let kind = classify(from, to);

        // Time in the previous status, when it is known and plausible. A repeat is
        // not a leave: the order is still in the status.
        let entered = match (from, order.entered_at()) {
            (Some(_), Some(at)) if kind != TransitionKind::Repeat => now
                .duration_since(at)
                .ok()
                .filter(|d| *d <= MAX_STATUS_AGE)
                .map(|d| (at, d)),
            _ => None,
        };

        let mut attributes = Vec::with_capacity(7);
        attributes.extend(explicit_order_id(parent, order));
        if let Some(from) = from {
            attributes.push(KeyValue::new(ORDER_STATUS, from.as_str()));
        }
        attributes.push(KeyValue::new(ORDER_STATUS_NEXT, to.as_str()));
        attributes.push(KeyValue::new(ORDER_TRANSITION_KIND, kind.as_str()));

        let mut breached = None;
        let (name, start) = match (from, entered) {
            (None, _) => (SPAN_STATUS_INITIAL, now),
            (Some(from), Some((at, spent))) => {
                if let Some(sla) = self.sla.get(from) {
                    let exceeded = spent > sla;
                    attributes.push(KeyValue::new(ORDER_SLA_SECONDS, secs_i64(sla)));
                    attributes.push(KeyValue::new(ORDER_SLA_EXCEEDED, exceeded));
                    if exceeded {
                        breached = Some(from);
                    }
                }
                (status_span_name(from), at)
            }
            (Some(from), None) => {
                if kind != TransitionKind::Repeat {
                    attributes.push(KeyValue::new(ORDER_STATUS_DURATION_UNKNOWN, true));
                }
                (status_span_name(from), now)
            }
        };

        let mut builder = SpanBuilder::from_name(Cow::Borrowed(name))
            .with_kind(SpanKind::Internal)
            .with_start_time(start)
            .with_attributes(attributes);
        if let Some(entered_by) = order.entered_by() {
            builder = builder.with_links(vec![Link::with_context(entered_by.clone())]);
        }
        let mut span = self.tracer.build_with_context(builder, parent);
        if kind == TransitionKind::Backward {
            span.set_status(Status::error("order moved back to an earlier status"));
        }
        let status_span = span.span_context().clone();
        span.end_with_timestamp(now);

        if let (Some(from), Some((_, spent))) = (from, entered) {
            self.instruments.duration(from, spent.as_secs_f64());
        }
        self.instruments.transition(from, to);
        if let Some(status) = breached {
            self.instruments.sla_breach(status);
        }

        if kind == TransitionKind::Repeat {
            return order.clone();
        }
        let entered_by = entering_span(parent, status_span);
        order
            .clone()
            .with_status(to, now)
            .with_entered_by(entered_by)
    }

    /// Record that `order` failed (or one of its steps did), inside the current span.
    ///
    /// Same as [`failure_with_context`](Self::failure_with_context) with
    /// [`Context::current`] as parent.
    pub fn failure(&self, order: &OrderContext, reason: FailureReason) {
        Context::map_current(|cx| self.failure_with_context(cx, order, reason))
    }

    /// Record that `order` failed, under `parent`: a zero-length `order.failure` span
    /// with error status and `order.failure.reason`, and the `order.failures` counter
    /// by status and reason. The caller's own spans are left as they are: whether
    /// the request failed is the caller's call.
    pub fn failure_with_context(
        &self,
        parent: &Context,
        order: &OrderContext,
        reason: FailureReason,
    ) {
        let now = self.clock.now();
        let mut attributes = Vec::with_capacity(3);
        attributes.extend(explicit_order_id(parent, order));
        if let Some(status) = order.status() {
            attributes.push(KeyValue::new(ORDER_STATUS, status.as_str()));
        }
        attributes.push(KeyValue::new(ORDER_FAILURE_REASON, reason.as_str()));
        let builder = SpanBuilder::from_name(SPAN_FAILURE)
            .with_kind(SpanKind::Internal)
            .with_start_time(now)
            .with_attributes(attributes);
        let mut span = self.tracer.build_with_context(builder, parent);
        span.set_status(Status::error(reason.as_str()));
        span.end_with_timestamp(now);
        self.instruments.failure(order.status(), reason);
    }

    /// Export the stuck-order gauges `order.status.count`, `order.status.oldest_age`
    /// and `order.status.over_sla` from `source`, evaluated against this recorder's
    /// SLA and clock at every metric collection. See [`StatusSource`].
    ///
    /// The gauges live as long as the meter provider; register once per service.
    pub fn register_status_gauges(&self, source: impl StatusSource) {
        register_gauges(
            &self.meter,
            Arc::clone(&self.sla),
            Arc::clone(&self.clock),
            source,
        );
    }

    /// The SLA thresholds in use.
    pub fn sla(&self) -> &SlaConfig {
        &self.sla
    }

    /// The current time on the recorder's clock.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }
}

/// The span that entered the new status: the caller's span when there is one, so the
/// next status span links to the request or message that caused the move.
fn entering_span(parent: &Context, status_span: SpanContext) -> SpanContext {
    let span = parent.span();
    let caller = span.span_context();
    if caller.is_valid() {
        caller.clone()
    } else {
        status_span
    }
}

fn secs_i64(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// `order.status {STATUS}`: static, so naming a span allocates nothing.
pub(crate) const fn status_span_name(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Initiated => "order.status INITIATED",
        OrderStatus::FileUploaded => "order.status FILE_UPLOADED",
        OrderStatus::Submitted => "order.status SUBMITTED",
        OrderStatus::PriceCalculated => "order.status PRICE_CALCULATED",
        OrderStatus::ManufacturingApproved => "order.status MANUFACTURING_APPROVED",
        OrderStatus::ManufacturingStarted => "order.status MANUFACTURING_STARTED",
        OrderStatus::ManufacturingCompleted => "order.status MANUFACTURING_COMPLETED",
        OrderStatus::Packaging => "order.status PACKAGING",
        OrderStatus::Shipped => "order.status SHIPPED",
        OrderStatus::Closed => "order.status CLOSED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::SPAN_STATUS;

    #[test]
    fn status_span_names_are_prefix_space_wire_name() {
        for status in OrderStatus::ALL {
            assert_eq!(
                status_span_name(status),
                format!("{SPAN_STATUS} {}", status.as_str())
            );
        }
    }
}
