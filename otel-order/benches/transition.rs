//! Cost of recording one status transition (status span + histogram + counters)
//! against creating one plain span, both on the same SDK tracer with a processor that
//! discards what it gets. Budget: a transition costs no more than 3 plain spans.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, TraceFlags, TraceId, TraceState, Tracer, TracerProvider as _,
};
use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{SdkTracerProvider, Span, SpanData, SpanProcessor};
use otel_order::transition::{SlaConfig, StatusRecorder};
use otel_order::{OrderContext, OrderId, OrderStatus};

/// Receives every ended span and drops it: measures span creation, not export.
#[derive(Debug)]
struct Discard;

impl SpanProcessor for Discard {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}
    fn on_end(&self, span: SpanData) {
        black_box(span);
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Metric exporter that drops everything (collection runs once an hour at most).
struct DiscardMetrics;

impl PushMetricExporter for DiscardMetrics {
    async fn export(&self, _metrics: &ResourceMetrics) -> OTelSdkResult {
        Ok(())
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

fn transition(c: &mut Criterion) {
    let tracer_provider = SdkTracerProvider::builder()
        .with_span_processor(Discard)
        .build();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(
            PeriodicReader::builder(DiscardMetrics)
                .with_interval(Duration::from_secs(3600))
                .build(),
        )
        .build();
    let tracer = tracer_provider.tracer("bench");
    let recorder = StatusRecorder::builder()
        .tracer(tracer_provider.tracer("otel-order"))
        .meter(meter_provider.meter("otel-order"))
        .sla(SlaConfig::new().with(OrderStatus::Submitted, Duration::from_secs(1800)))
        .build();

    let entered_by = SpanContext::new(
        TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
        SpanId::from(0x00f0_67aa_0ba9_02b7),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    let order = OrderContext::new(OrderId::new("ORD-2026-000123").expect("valid id"))
        .with_status(
            OrderStatus::Submitted,
            SystemTime::now() - Duration::from_secs(600),
        )
        .with_entered_by(entered_by);
    let parent = Context::new();

    let mut group = c.benchmark_group("transition");
    group.bench_function("plain_span", |b| {
        b.iter(|| {
            let mut span = tracer.start_with_context("GET /orders/{id}", &parent);
            span.end();
        })
    });
    group.bench_function("record_transition", |b| {
        b.iter(|| {
            black_box(recorder.transition_with_context(
                &parent,
                black_box(&order),
                OrderStatus::PriceCalculated,
            ))
        })
    });
    group.finish();
    let _ = tracer_provider.shutdown();
    let _ = meter_provider.shutdown();
}

criterion_group!(benches, transition);
criterion_main!(benches);
