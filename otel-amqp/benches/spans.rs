//! Instrumentation cost without the broker: opening, settling and exporting (to a
//! discarding exporter) the process span of one delivery, with trace and order
//! context in its headers. `Delivery::mock` settles without I/O, so this is the
//! CPU a traced consumer adds per message.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use lapin::message::Delivery;
use lapin::options::BasicAckOptions;
use lapin::types::{AMQPValue, FieldTable};
use lapin::BasicProperties;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use otel_amqp::{AmqpTelemetry, ConsumerConfig, DeliveryTracer};

#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    fn export(&self, _: Vec<SpanData>) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        std::future::ready(Ok(()))
    }
}

fn headers() -> FieldTable {
    let mut headers = FieldTable::default();
    headers.insert(
        "traceparent".into(),
        AMQPValue::LongString("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
    );
    headers.insert(
        otel_order::names::HEADER_ORDER.into(),
        AMQPValue::LongString("id=ORD-2026-000123;status=SUBMITTED".into()),
    );
    headers.insert(
        "ordertrace-published-at".into(),
        AMQPValue::LongLongInt(1_763_780_000_000),
    );
    headers
}

fn spans(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let tracer_provider = SdkTracerProvider::builder()
        .with_batch_exporter(Discard)
        .build();
    let meter_provider = SdkMeterProvider::builder().build();
    let telemetry = AmqpTelemetry::builder()
        .tracer_provider(&tracer_provider)
        .meter_provider(&meter_provider)
        .build();
    let tracer = DeliveryTracer::new(telemetry, ConsumerConfig::new("mes.pricing"));
    let properties = BasicProperties::default()
        .with_message_id("m-1".into())
        .with_headers(headers());

    let mut group = c.benchmark_group("instrumentation");
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("process_span_trace_and_ack", |b| {
        b.iter_batched(
            || {
                let mut delivery =
                    Delivery::mock(7, "".into(), "mes.pricing".into(), false, b"{}".to_vec());
                delivery.properties = properties.clone();
                delivery
            },
            |delivery| {
                let traced = tracer.trace(black_box(delivery));
                runtime.block_on(traced.ack(BasicAckOptions::default()))
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, spans);
criterion_main!(benches);
