//! Inject + extract of trace and order context over `http::HeaderMap`, against W3C
//! trace-context alone. Budget: at most 2× trace-context alone.
//!
//! `cargo bench --bench propagation`

use std::time::SystemTime;

use criterion::{criterion_group, criterion_main, Criterion};
use http::HeaderMap;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use otel_order::http::{HeaderExtractor, HeaderInjector};
use otel_order::{OrderContext, OrderContextExt, OrderContextPropagator, OrderId, OrderStatus};

#[inline(never)]
fn round_trip(propagator: &dyn TextMapPropagator, cx: &Context) -> Context {
    let mut headers = HeaderMap::new();
    propagator.inject_context(cx, &mut HeaderInjector(&mut headers));
    propagator.extract(&HeaderExtractor(&headers))
}

fn bench(c: &mut Criterion) {
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
    let cx = Context::new()
        .with_remote_span_context(span)
        .with_order(order);

    let trace_only = TraceContextPropagator::new();
    let ours = TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(OrderContextPropagator::new()),
    ]);
    assert!(round_trip(&ours, &cx).order().is_some());

    let mut group = c.benchmark_group("propagation");
    group.bench_function("trace_context", |b| b.iter(|| round_trip(&trace_only, &cx)));
    group.bench_function("trace_and_order", |b| b.iter(|| round_trip(&ours, &cx)));
    group.finish();

    // The two halves on their own, to see where a regression comes from.
    let mut halves = c.benchmark_group("propagation_halves");
    for (name, propagator) in [
        ("trace_context", &trace_only as &dyn TextMapPropagator),
        ("trace_and_order", &ours),
    ] {
        halves.bench_function(format!("{name}/inject"), |b| {
            b.iter(|| {
                let mut headers = HeaderMap::new();
                propagator.inject_context(&cx, &mut HeaderInjector(&mut headers));
                headers
            })
        });
        let mut headers = HeaderMap::new();
        propagator.inject_context(&cx, &mut HeaderInjector(&mut headers));
        halves.bench_function(format!("{name}/extract"), |b| {
            b.iter(|| propagator.extract(&HeaderExtractor(&headers)))
        });
    }
    halves.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
