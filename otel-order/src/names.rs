//! Every name this crate puts on the wire or into a backend, in one place.
//!
//! Standard HTTP names come from `opentelemetry-semantic-conventions`; these are the
//! project's own. They are listed in the workspace README's names table.

/// Span attribute: the order's business key. Never a metric attribute.
pub const ORDER_ID: &str = "order.id";
/// Span/metric attribute: the order's status (wire name, e.g. `SUBMITTED`).
pub const ORDER_STATUS: &str = "order.status";
/// Span/metric attribute: the status the order moves to.
pub const ORDER_STATUS_NEXT: &str = "order.status.next";
/// Span/metric attribute: how a transition relates to the lifecycle
/// (`forward`, `skip`, `backward`, `repeat`, `initial`).
pub const ORDER_TRANSITION_KIND: &str = "order.transition.kind";

/// The one header carrying the order context, a `;`-separated list of `key=value`
/// fields (like `traceparent`, one header keeps propagation to one look-up):
///
/// ```text
/// ordertrace-order: id=ORD-2026-000123;status=SUBMITTED;since=1732233600000;by=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
/// ```
///
/// `id` is required; `status` the current status's wire name; `since` when it was
/// entered, Unix milliseconds; `by` the span that entered it, so the span that later
/// leaves the status can link to it: in the `traceparent` format, or, when that span
/// belongs to the message's own trace, just `{span id}-{flags}` (the reader takes the
/// trace id from `traceparent`). Unknown keys are ignored, so fields can be added
/// without breaking older readers.
pub const HEADER_ORDER: &str = "ordertrace-order";
/// Field of [`HEADER_ORDER`]: the order id.
pub const FIELD_ID: &str = "id";
/// Field of [`HEADER_ORDER`]: the current status.
pub const FIELD_STATUS: &str = "status";
/// Field of [`HEADER_ORDER`]: when the current status was entered (Unix ms).
pub const FIELD_SINCE: &str = "since";
/// Field of [`HEADER_ORDER`]: the span that entered the current status.
pub const FIELD_BY: &str = "by";
/// Longest accepted [`HEADER_ORDER`] value, in bytes.
pub const MAX_HEADER_LEN: usize = 512;

/// Counter: inbound order-context values dropped as invalid, by [`REJECT_FIELD`] and
/// [`REJECT_REASON`].
pub const METRIC_CONTEXT_REJECTED: &str = "order.context.rejected";
/// Metric attribute: which field of the order header was rejected (`id`, `status`,
/// `since`, `by`, or `header` for the value as a whole).
pub const REJECT_FIELD: &str = "order.context.field";
/// [`REJECT_FIELD`] value for problems with the header as a whole.
pub const FIELD_WHOLE_HEADER: &str = "header";
/// Metric attribute: why a value was rejected (see `RejectReason`).
pub const REJECT_REASON: &str = "order.context.reason";

/// Instrumentation scope name used for this crate's tracer and meter.
pub const SCOPE_NAME: &str = "otel-order";

// Status conventions (`transition` module): time in status, transitions, failures,
// SLA and stuck orders.

/// Span name prefix of the span covering the time spent in one status: the full name
/// is `order.status {STATUS}`, e.g. `order.status SUBMITTED`.
pub const SPAN_STATUS: &str = "order.status";
/// Span name of the zero-length marker recorded when an order enters its first known
/// status (no previous status to cover).
pub const SPAN_STATUS_INITIAL: &str = "order.status.initial";
/// Span name of the zero-length error span recorded by a failure.
pub const SPAN_FAILURE: &str = "order.failure";

/// Span attribute: `true` when the time spent in the previous status is unknown
/// (entered-at missing, in the future or implausibly old); the span is then a
/// zero-length marker at the moment of the transition.
pub const ORDER_STATUS_DURATION_UNKNOWN: &str = "order.status.duration_unknown";
/// Span attribute: the SLA of the previous status, in whole seconds.
pub const ORDER_SLA_SECONDS: &str = "order.sla.seconds";
/// Span attribute: whether the time spent in the previous status exceeded its SLA.
pub const ORDER_SLA_EXCEEDED: &str = "order.sla.exceeded";
/// Span/metric attribute: why an order failed (see `FailureReason`).
pub const ORDER_FAILURE_REASON: &str = "order.failure.reason";

/// Histogram (s): time an order spent in a status, by [`ORDER_STATUS`].
pub const METRIC_STATUS_DURATION: &str = "order.status.duration";
/// Counter: observed status transitions, by [`ORDER_STATUS`] (absent for the first
/// status), [`ORDER_STATUS_NEXT`] and [`ORDER_TRANSITION_KIND`].
pub const METRIC_STATUS_TRANSITIONS: &str = "order.status.transitions";
/// Counter: order failures, by [`ORDER_STATUS`] and [`ORDER_FAILURE_REASON`].
pub const METRIC_FAILURES: &str = "order.failures";
/// Counter: transitions that left a status later than its SLA, by [`ORDER_STATUS`].
pub const METRIC_SLA_BREACHES: &str = "order.sla.breaches";
/// Observable gauge: open orders per [`ORDER_STATUS`], as reported by the service.
pub const METRIC_STATUS_COUNT: &str = "order.status.count";
/// Observable gauge (s): age of the oldest open order per [`ORDER_STATUS`].
pub const METRIC_STATUS_OLDEST_AGE: &str = "order.status.oldest_age";
/// Observable gauge: open orders over their status's SLA per [`ORDER_STATUS`].
pub const METRIC_STATUS_OVER_SLA: &str = "order.status.over_sla";
