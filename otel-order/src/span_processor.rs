//! Stamps `order.id` on every span started inside an order context.

use opentelemetry::trace::Span as _;
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use crate::names::ORDER_ID;
use crate::{OrderContext, OrderContextExt};

/// Adds `order.id` to every span whose parent context carries an
/// [`OrderContext`]: handler spans from `#[tracing::instrument]`,
/// database spans, raw OpenTelemetry spans, without each call site repeating it.
///
/// Register it next to the exporting processor (`ordertrace::init` does). This
/// crate's own instrumentation sets `order.id` explicitly only on spans whose parent
/// has no order context (a server span, a consumer span), so nothing is set twice.
///
/// ```
/// use opentelemetry_sdk::trace::SdkTracerProvider;
/// use otel_order::OrderSpanProcessor;
///
/// let provider = SdkTracerProvider::builder()
///     .with_span_processor(OrderSpanProcessor)
///     .build();
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct OrderSpanProcessor;

/// The `order.id` attribute for a span about `order` started under `parent`, or
/// `None` when `parent` carries the same order, so [`OrderSpanProcessor`] stamps it.
///
/// The one rule every instrumentation of this family follows, so an exported span
/// carries `order.id` once. (A span processor cannot see the attributes a span was
/// started with, so the processor cannot de-duplicate on its own.) Without the
/// processor installed, spans under an order context get `order.id` only where
/// the instrumentation sets it explicitly.
///
/// ```
/// use opentelemetry::Context;
/// use otel_order::{explicit_order_id, OrderContext, OrderContextExt, OrderId};
///
/// let order = OrderContext::new(OrderId::new("ORD-1").unwrap());
/// assert!(explicit_order_id(&Context::new(), &order).is_some());
/// assert!(explicit_order_id(&Context::new().with_order(order.clone()), &order).is_none());
/// ```
pub fn explicit_order_id(parent: &Context, order: &OrderContext) -> Option<KeyValue> {
    match parent.order() {
        Some(inherited) if inherited.order_id() == order.order_id() => None,
        _ => Some(KeyValue::new(ORDER_ID, order.order_id().to_value())),
    }
}

impl SpanProcessor for OrderSpanProcessor {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        if let Some(order) = cx.order() {
            span.set_attribute(KeyValue::new(ORDER_ID, order.order_id().to_value()));
        }
    }

    fn on_end(&self, _span: SpanData) {}

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> OTelSdkResult {
        Ok(())
    }
}
