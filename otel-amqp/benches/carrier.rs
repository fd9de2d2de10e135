//! Carrier cost: injecting trace + order context into a `FieldTable` that already
//! holds a few user headers, and extracting it back, with the default propagator.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use lapin::types::{AMQPValue, ByteArray, FieldTable};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use otel_amqp::{AmqpTelemetry, FieldTableExtractor, FieldTableInjector};
use otel_order::{OrderContext, OrderContextExt, OrderId, OrderStatus};

fn user_headers() -> FieldTable {
    let mut headers = FieldTable::default();
    headers.insert(
        "__TypeId__".into(),
        AMQPValue::LongString("com.shop.OrderSubmitted".into()),
    );
    headers.insert("x-retries".into(), AMQPValue::LongInt(0));
    headers.insert("content-version".into(), AMQPValue::LongString("3".into()));
    headers
}

fn context() -> Context {
    let span = SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        TraceFlags::SAMPLED,
        false,
        TraceState::NONE,
    );
    Context::new().with_remote_span_context(span).with_order(
        OrderContext::new(OrderId::new("ORD-2026-000123").unwrap())
            .with_status_only(OrderStatus::Submitted),
    )
}

fn carrier(c: &mut Criterion) {
    let tracer_provider = SdkTracerProvider::builder().build();
    let meter_provider = SdkMeterProvider::builder().build();
    let telemetry = AmqpTelemetry::builder()
        .tracer_provider(&tracer_provider)
        .meter_provider(&meter_provider)
        .build();
    let propagator = telemetry.propagator();
    let cx = context();
    let base = user_headers();

    c.bench_function("carrier/inject", |b| {
        b.iter(|| {
            let mut headers = base.clone();
            propagator.inject_context(black_box(&cx), &mut FieldTableInjector::new(&mut headers));
            headers
        })
    });

    let mut injected = base.clone();
    propagator.inject_context(&cx, &mut FieldTableInjector::new(&mut injected));
    c.bench_function("carrier/extract", |b| {
        b.iter(|| {
            let cx = propagator.extract(&FieldTableExtractor::new(black_box(&injected)));
            assert!(cx.span().span_context().is_valid());
            cx
        })
    });

    // Byte arrays, as the Java and Go clients send strings.
    let mut as_bytes = base.clone();
    for (key, value) in injected.inner() {
        if let AMQPValue::LongString(s) = value {
            as_bytes.insert(
                key.clone(),
                AMQPValue::ByteArray(ByteArray::from(s.as_bytes())),
            );
        }
    }
    c.bench_function("carrier/extract_byte_arrays", |b| {
        b.iter(|| propagator.extract(&FieldTableExtractor::new(black_box(&as_bytes))))
    });
}

criterion_group!(benches, carrier);
criterion_main!(benches);
