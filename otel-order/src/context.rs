//! The order context: which order a unit of work belongs to, and where it stands.
//!
//! It lives in the OpenTelemetry [`Context`] (so it travels with the trace context to
//! every hop the propagators reach) and in `http::Extensions` for handlers.

use std::time::SystemTime;

use opentelemetry::trace::SpanContext;
use opentelemetry::Context;

use crate::{OrderId, OrderStatus};

/// Which order the current work belongs to, and optionally its current status, when
/// that status was entered, and the span that entered it.
///
/// ```
/// use otel_order::{OrderContext, OrderContextExt, OrderId, OrderStatus};
/// use opentelemetry::Context;
/// use std::time::SystemTime;
///
/// let order = OrderContext::new(OrderId::new("ORD-1").unwrap())
///     .with_status(OrderStatus::Submitted, SystemTime::now());
/// let cx = Context::current().with_order(order);
/// assert_eq!(cx.order().unwrap().status(), Some(OrderStatus::Submitted));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct OrderContext {
    order_id: OrderId,
    status: Option<OrderStatus>,
    entered_at: Option<SystemTime>,
    entered_by: Option<SpanContext>,
}

impl OrderContext {
    /// An order context that knows only the order id.
    pub fn new(order_id: OrderId) -> Self {
        OrderContext {
            order_id,
            status: None,
            entered_at: None,
            entered_by: None,
        }
    }

    /// Set the current status and when it was entered; clears `entered_by`, which
    /// belonged to the previous status.
    pub fn with_status(mut self, status: OrderStatus, entered_at: SystemTime) -> Self {
        self.status = Some(status);
        self.entered_at = Some(entered_at);
        self.entered_by = None;
        self
    }

    /// Set the current status without knowing when it was entered.
    pub fn with_status_only(mut self, status: OrderStatus) -> Self {
        self.status = Some(status);
        self.entered_at = None;
        self.entered_by = None;
        self
    }

    /// Record the span that entered the current status (the span leaving it links here).
    pub fn with_entered_by(mut self, span: SpanContext) -> Self {
        self.entered_by = span.is_valid().then_some(span);
        self
    }

    /// The order id.
    pub fn order_id(&self) -> &OrderId {
        &self.order_id
    }

    /// The current status, when known.
    pub fn status(&self) -> Option<OrderStatus> {
        self.status
    }

    /// When the current status was entered, when known.
    pub fn entered_at(&self) -> Option<SystemTime> {
        self.entered_at
    }

    /// The span that entered the current status, when known.
    pub fn entered_by(&self) -> Option<&SpanContext> {
        self.entered_by.as_ref()
    }

    /// The order context of the current OpenTelemetry context, if any.
    pub fn current() -> Option<OrderContext> {
        Context::map_current(|cx| cx.get::<OrderContext>().cloned())
    }

    pub(crate) fn from_parts(
        order_id: OrderId,
        status: Option<OrderStatus>,
        entered_at: Option<SystemTime>,
        entered_by: Option<SpanContext>,
    ) -> Self {
        OrderContext {
            order_id,
            status,
            entered_at: status.and(entered_at),
            entered_by: status.and(entered_by),
        }
    }
}

/// Read and write the [`OrderContext`] of an OpenTelemetry [`Context`].
pub trait OrderContextExt {
    /// A copy of this context carrying `order`.
    fn with_order(&self, order: OrderContext) -> Context;
    /// The order context carried, if any.
    fn order(&self) -> Option<&OrderContext>;
}

impl OrderContextExt for Context {
    fn with_order(&self, order: OrderContext) -> Context {
        self.with_value(order)
    }

    fn order(&self) -> Option<&OrderContext> {
        self.get::<OrderContext>()
    }
}
