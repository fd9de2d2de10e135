//! The HTTP workloads, shared by the gate (`http.rs`) and the criterion benches
//! (`benches/http_server.rs`, `benches/propagation.rs`), so both measure one thing.

#![allow(dead_code)]

use std::time::SystemTime;

use axum::body::Body;
use axum::http::Request;
use http::HeaderMap;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use otel_order::http::{HeaderExtractor, HeaderInjector};
use otel_order::{OrderContext, OrderContextExt, OrderContextPropagator, OrderId, OrderStatus};

/// The handler behind every variant: does nothing, so the layer's cost shows.
pub async fn handler() -> &'static str {
    "ok"
}

/// A request as another instrumented service sends it: trace and order headers.
pub fn request() -> Request<Body> {
    Request::get("/orders/ORD-2026-000123")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .header("ordertrace-order", "id=ORD-2026-000123;status=SUBMITTED")
        .header("user-agent", "bench")
        .body(Body::empty())
        .unwrap()
}

/// A context with a remote parent span and a full order context.
pub fn order_cx() -> Context {
    let span = SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        TraceFlags::SAMPLED,
        false,
        TraceState::NONE,
    );
    let order = OrderContext::new(OrderId::new("ORD-2026-000123").unwrap())
        .with_status(OrderStatus::PriceCalculated, SystemTime::now())
        .with_entered_by(span.clone());
    Context::new()
        .with_remote_span_context(span)
        .with_order(order)
}

/// W3C trace-context plus the order propagator, as `ordertrace::init` installs them.
pub fn trace_and_order() -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(OrderContextPropagator::new()),
    ])
}

/// Inject into fresh headers and extract back.
#[inline(never)]
pub fn round_trip(propagator: &dyn TextMapPropagator, cx: &Context) -> Context {
    let mut headers = HeaderMap::new();
    propagator.inject_context(cx, &mut HeaderInjector(&mut headers));
    propagator.extract(&HeaderExtractor(&headers))
}
