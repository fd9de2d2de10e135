//! Stamps `order.id` on every span started inside an order context.

use opentelemetry::trace::Span as _;
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;

use crate::names::ORDER_ID;
use crate::{OrderContext, OrderContextExt};

/// Adds `order.id` to every span whose parent context carries an
/// [`OrderContext`]: handler spans from `#[tracing::instrument]`,
/// database spans, raw OpenTelemetry spans, without each call site repeating it.
///
/// Prefer [`wrap`](Self::wrap)ping the exporting processor over registering it
/// beside it: the SDK hands every ended span to each registered processor as its own
/// copy, so a second processor costs a full copy of every span (about 5k
/// instructions for an AMQP span). `ordertrace::init` wraps. This crate's own
/// instrumentation sets `order.id` explicitly only on spans whose parent has no order
/// context (a server span, a consumer span), so nothing is set twice.
///
/// ```
/// use opentelemetry_sdk::trace::{SdkTracerProvider, SpanProcessor};
/// use otel_order::OrderSpanProcessor;
///
/// fn provider(exporting: impl SpanProcessor + 'static) -> SdkTracerProvider {
///     SdkTracerProvider::builder()
///         .with_span_processor(OrderSpanProcessor::wrap(exporting))
///         .build()
/// }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct OrderSpanProcessor;

impl OrderSpanProcessor {
    /// This processor in front of `inner`, registered as one: spans get `order.id`
    /// when they start and reach `inner` uncopied when they end.
    pub fn wrap<P: SpanProcessor>(inner: P) -> OrderSpanProcessorWrapping<P> {
        OrderSpanProcessorWrapping { inner }
    }
}

/// [`OrderSpanProcessor`] in front of another processor; built by
/// [`OrderSpanProcessor::wrap`].
#[derive(Debug)]
pub struct OrderSpanProcessorWrapping<P> {
    inner: P,
}

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

impl<P: SpanProcessor> SpanProcessor for OrderSpanProcessorWrapping<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        OrderSpanProcessor.on_start(span, cx);
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: std::time::Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn shutdown(&self) -> OTelSdkResult {
        self.inner.shutdown()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use opentelemetry::trace::{Tracer, TracerProvider};
    use opentelemetry::KeyValue;
    use opentelemetry_sdk::trace::SdkTracerProvider;

    use super::*;
    use crate::OrderId;

    /// Keeps what reaches it: ended spans' `order.id`s and the resource.
    #[derive(Debug, Clone, Default)]
    struct Capture {
        order_ids: Arc<Mutex<Vec<Option<String>>>>,
        resource: Arc<Mutex<Option<Resource>>>,
    }

    impl SpanProcessor for Capture {
        fn on_start(&self, _: &mut Span, _: &Context) {}
        fn on_end(&self, span: SpanData) {
            let id = span
                .attributes
                .iter()
                .find(|kv| kv.key.as_str() == ORDER_ID)
                .map(|kv| kv.value.to_string());
            self.order_ids.lock().unwrap().push(id);
        }
        fn force_flush(&self) -> OTelSdkResult {
            Ok(())
        }
        fn shutdown_with_timeout(&self, _: std::time::Duration) -> OTelSdkResult {
            Ok(())
        }
        fn set_resource(&mut self, resource: &Resource) {
            *self.resource.lock().unwrap() = Some(resource.clone());
        }
    }

    #[test]
    fn wrapped_processor_gets_stamped_spans_once_and_the_resource() {
        let capture = Capture::default();
        let provider = SdkTracerProvider::builder()
            .with_resource(
                Resource::builder_empty()
                    .with_attribute(KeyValue::new("service.name", "crm"))
                    .build(),
            )
            .with_span_processor(OrderSpanProcessor::wrap(capture.clone()))
            .build();
        let tracer = provider.tracer("t");
        let order = OrderContext::new(OrderId::new("ORD-9").unwrap());
        let cx = Context::new().with_order(order);
        tracer.start_with_context("inside", &cx).end();
        tracer.start("outside").end();
        let ids = capture.order_ids.lock().unwrap().clone();
        assert_eq!(ids, [Some("ORD-9".to_owned()), None]);
        let resource = capture.resource.lock().unwrap().clone().unwrap();
        assert_eq!(
            resource.get(&opentelemetry::Key::from_static_str("service.name")),
            Some("crm".into())
        );
    }
}
