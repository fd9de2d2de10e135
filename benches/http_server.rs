//! Server-side overhead per request, three variants in one run with one SDK pipeline:
//! bare axum, axum + `OrderTraceLayer`, axum + the peer crate
//! `axum-tracing-opentelemetry` (through `tracing-opentelemetry`).
//!
//! Requests go through the router in-process (`oneshot`), so the difference between
//! variants is the instrumentation, not the network. Each request carries
//! `traceparent` and the order headers, so extraction is part of the cost.
//!
//! `cargo bench --bench http_server`

use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use axum::Router;
use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{SdkTracerProvider, Span, SpanData, SpanProcessor};
use otel_order::http::OrderTraceLayer;
use tower::ServiceExt;
use tracing_subscriber::layer::SubscriberExt;

/// Ends every span and throws it away: both variants pay for creating, filling and
/// ending spans, and neither for exporting them.
#[derive(Debug)]
struct Discard;

impl SpanProcessor for Discard {
    fn on_start(&self, _: &mut Span, _: &opentelemetry::Context) {}
    fn on_end(&self, span: SpanData) {
        std::hint::black_box(span);
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: std::time::Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Metrics are aggregated as usual and never exported during the run.
struct DiscardMetrics;

impl PushMetricExporter for DiscardMetrics {
    async fn export(&self, _: &ResourceMetrics) -> OTelSdkResult {
        Ok(())
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: std::time::Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

async fn handler() -> &'static str {
    "ok"
}

fn request() -> Request<Body> {
    Request::get("/orders/ORD-2026-000123")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .header("ordertrace-order-id", "ORD-2026-000123")
        .header("ordertrace-order-status", "SUBMITTED")
        .header("user-agent", "bench")
        .body(Body::empty())
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let tracer_provider = SdkTracerProvider::builder()
        .with_span_processor(Discard)
        .build();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(DiscardMetrics).build())
        .build();
    opentelemetry::global::set_tracer_provider(tracer_provider.clone());
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    // The peer instruments through `tracing`; give it the same SDK pipeline.
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(tracer_provider.tracer("peer")));
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let base = || Router::new().route("/orders/{id}", get(handler));
    let bare = base();
    let ours = base().layer(
        OrderTraceLayer::builder()
            .tracer_provider(&tracer_provider)
            .meter_provider(&meter_provider)
            .build(),
    );
    let peer = base().layer(axum_tracing_opentelemetry::middleware::OtelAxumLayer::default());

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("http_server");
    group.bench_function("bare", |b| {
        b.iter(|| rt.block_on(bare.clone().oneshot(request())).unwrap())
    });
    group.bench_function("ordertrace", |b| {
        b.iter(|| rt.block_on(ours.clone().oneshot(request())).unwrap())
    });
    group.bench_function("axum_tracing_opentelemetry", |b| {
        b.iter(|| rt.block_on(peer.clone().oneshot(request())).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
