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

/// Header carrying the order id.
pub const HEADER_ORDER_ID: &str = "ordertrace-order-id";
/// Header carrying the order's current status (wire name).
pub const HEADER_ORDER_STATUS: &str = "ordertrace-order-status";
/// Header carrying when the current status was entered, Unix time in milliseconds.
pub const HEADER_STATUS_ENTERED_AT: &str = "ordertrace-status-entered-at";
/// Header carrying the span that entered the current status, as
/// `00-{trace-id}-{span-id}-{flags}` (the `traceparent` format), so the span that
/// later leaves the status can link to it.
pub const HEADER_STATUS_ENTERED_BY: &str = "ordertrace-status-entered-by";

/// Counter: inbound order-context header values dropped as invalid, by
/// [`REJECT_HEADER`] and [`REJECT_REASON`].
pub const METRIC_CONTEXT_REJECTED: &str = "order.context.rejected";
/// Metric attribute: which order header a rejected value came in.
pub const REJECT_HEADER: &str = "order.context.header";
/// Metric attribute: why a value was rejected (see `RejectReason`).
pub const REJECT_REASON: &str = "order.context.reason";

/// Instrumentation scope name used for this crate's tracer and meter.
pub const SCOPE_NAME: &str = "otel-order";
