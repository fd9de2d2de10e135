//! Inject + extract of trace and order context over `http::HeaderMap`, against W3C
//! trace-context alone (budget: at most 2x, judged by `benches/gate`), and each half
//! on its own to see where a regression comes from.
//!
//! `cargo bench --bench propagation`

#[path = "gate/http_workloads.rs"]
mod http_workloads;

use criterion::{criterion_group, criterion_main, Criterion};
use http::HeaderMap;
use http_workloads::{order_cx, round_trip, trace_and_order};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use otel_order::http::{HeaderExtractor, HeaderInjector};

fn bench(c: &mut Criterion) {
    let cx = order_cx();
    let trace_only = TraceContextPropagator::new();
    let ours = trace_and_order();

    let mut group = c.benchmark_group("propagation");
    group.bench_function("trace_context", |b| b.iter(|| round_trip(&trace_only, &cx)));
    group.bench_function("trace_and_order", |b| b.iter(|| round_trip(&ours, &cx)));
    group.finish();

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
