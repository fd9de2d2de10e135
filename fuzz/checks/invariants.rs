//! What every fuzz check asserts about the telemetry the instrumentation produced,
//! whatever the input: spans stay bounded and `order.id` is valid and appears once.

use std::sync::LazyLock;

use http::HeaderMap;
use opentelemetry::Value;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, Span, SpanData, SpanProcessor};
use otel_order::http::{HeaderExtractor, HeaderInjector};
use otel_order::names::ORDER_ID;
use otel_order::{OrderContext, OrderContextPropagator, OrderId, OrderSpanProcessor};

/// Longest string any attribute may carry: the server layer truncates `url.path` at
/// 2048 bytes; AMQP fields are short strings (255) or capped lower.
pub const MAX_ATTRIBUTE_LEN: usize = 2048;
/// Longest span name: `{method} {route}` with a truncated route, or `{op} {queue}`.
pub const MAX_SPAN_NAME_LEN: usize = 4096;

/// Checks every ended span; a violation panics, which the fuzzer reports as a crash.
#[derive(Debug)]
pub struct BoundedSpans;

impl SpanProcessor for BoundedSpans {
    fn on_start(&self, _: &mut Span, _: &opentelemetry::Context) {}

    fn on_end(&self, span: SpanData) {
        assert!(span.name.len() <= MAX_SPAN_NAME_LEN, "span name too long");
        let attributes = span
            .attributes
            .iter()
            .chain(span.events.iter().flat_map(|e| e.attributes.iter()))
            .chain(span.links.iter().flat_map(|l| l.attributes.iter()));
        for kv in attributes {
            if let Value::String(s) = &kv.value {
                assert!(
                    s.as_str().len() <= MAX_ATTRIBUTE_LEN,
                    "attribute {} is {} bytes",
                    kv.key,
                    s.as_str().len()
                );
            }
        }
        let order_ids: Vec<&Value> = span
            .attributes
            .iter()
            .filter(|kv| kv.key.as_str() == ORDER_ID)
            .map(|kv| &kv.value)
            .collect();
        assert!(
            order_ids.len() <= 1,
            "order.id set {} times",
            order_ids.len()
        );
        if let Some(Value::String(id)) = order_ids.first() {
            assert!(
                OrderId::new(id.as_str()).is_ok(),
                "invalid order.id on a span: {id:?}"
            );
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _: std::time::Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// One provider for the whole fuzzing process, with the processors `ordertrace::init`
/// installs ahead of the exporter; every span ends in [`BoundedSpans`].
pub static TRACER_PROVIDER: LazyLock<SdkTracerProvider> = LazyLock::new(|| {
    SdkTracerProvider::builder()
        .with_span_processor(OrderSpanProcessor::wrap(BoundedSpans))
        .build()
});

/// An order context handed to application code: a valid id, and re-injected and
/// re-extracted it comes back equal (nothing invalid can travel on).
pub fn assert_valid_order(order: &OrderContext) {
    assert!(OrderId::new(order.order_id().as_str()).is_ok());
    let propagator = OrderContextPropagator::new();
    let mut headers = HeaderMap::new();
    propagator.inject_order(order, &mut HeaderInjector(&mut headers));
    let again = propagator.extract_order(&HeaderExtractor(&headers));
    assert_eq!(
        again.as_ref(),
        Some(order),
        "order context did not round-trip"
    );
}
