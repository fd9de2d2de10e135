//! Server-side overhead per request, three variants in one run with one SDK pipeline:
//! bare axum, axum + `OrderTraceLayer`, axum + the peer crate
//! `axum-tracing-opentelemetry` (through `tracing-opentelemetry`).
//!
//! Requests go through the router in-process (`oneshot`), so the difference between
//! variants is the instrumentation, not the network. Each request carries
//! `traceparent` and the order header, so extraction is part of the cost. The gate
//! (`benches/gate`) judges the budget; this is the detailed view.
//!
//! `cargo bench --bench http_server`

#[path = "gate/http_workloads.rs"]
mod http_workloads;
#[path = "gate/pipeline.rs"]
mod pipeline;

use axum::routing::get;
use axum::Router;
use criterion::{criterion_group, criterion_main, Criterion};
use http_workloads::{handler, request};
use opentelemetry::trace::TracerProvider as _;
use otel_order::http::OrderTraceLayer;
use tower::ServiceExt;
use tracing_subscriber::layer::SubscriberExt;

fn bench(c: &mut Criterion) {
    let p = pipeline::Pipeline::new();
    opentelemetry::global::set_tracer_provider(p.tracer_provider.clone());
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    // The peer instruments through `tracing`; give it the same SDK pipeline.
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(p.tracer_provider.tracer("peer")));
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let base = || Router::new().route("/orders/{id}", get(handler));
    let bare = base();
    let ours = base().layer(
        OrderTraceLayer::builder()
            .tracer_provider(&p.tracer_provider)
            .meter_provider(&p.meter_provider)
            .build(),
    );
    let peer = base().layer(axum_tracing_opentelemetry::middleware::OtelAxumLayer::default());

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("http_server");
    for (name, router) in [
        ("bare", &bare),
        ("ordertrace", &ours),
        ("axum_tracing_opentelemetry", &peer),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| rt.block_on(router.clone().oneshot(request())).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
