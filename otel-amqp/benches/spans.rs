//! Instrumentation cost without the broker: opening, settling and exporting (to a
//! discarding exporter) the process span of one delivery, with trace and order
//! context in its headers. `Delivery::mock` settles without I/O, so this is the
//! CPU a traced consumer adds per message.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use lapin::message::Delivery;
use lapin::options::BasicAckOptions;
use lapin::BasicProperties;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use otel_amqp::{AmqpTelemetry, ConsumerConfig, DeliveryTracer};

mod rig;

fn spans(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let tracer_provider = SdkTracerProvider::builder()
        .with_batch_exporter(rig::DiscardSpans::default())
        .build();
    let meter_provider = SdkMeterProvider::builder().build();
    let telemetry = AmqpTelemetry::builder()
        .tracer_provider(&tracer_provider)
        .meter_provider(&meter_provider)
        .build();
    let tracer = DeliveryTracer::new(telemetry, ConsumerConfig::new("mes.pricing"));
    let properties = BasicProperties::default()
        .with_message_id("m-1".into())
        .with_headers(rig::context_headers());

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
