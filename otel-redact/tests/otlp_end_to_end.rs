//! End to end: a span with personal data in every surface goes through
//! `RedactingProcessor` around a `BatchSpanProcessor` and the real OTLP/gRPC exporter
//! to an in-process OTLP receiver. None of the PII bytes may appear anywhere in the
//! protobuf that arrived; the masks must.

use std::time::Duration;

use opentelemetry_otlp::WithExportConfig;
use otel_redact::opentelemetry::trace::{
    Link, Span, SpanContext, SpanId, Status, TraceFlags, TraceId, TraceState, Tracer,
    TracerProvider,
};
use otel_redact::opentelemetry::{Array, KeyValue, Value};
use otel_redact::opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use otel_redact::opentelemetry_sdk::Resource;
use otel_redact::{RedactingProcessor, Redactor};
use otlp_receiver::OtlpReceiver;

const PII: &[&str] = &[
    "ivan.petrov@example.ru",
    "+7 (916) 123-45-67",
    "89031234567",
    "2200 1234 5678 9019",
    "45 08 123456",
    "112-233-445 95",
    "500100732259",
    "Иванов Иван Иванович",
    "hunter2secret",
    "s3cr3tPa55",
];

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread")]
async fn no_pii_bytes_reach_the_otlp_receiver() {
    let receiver = OtlpReceiver::start().await;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(receiver.grpc_endpoint())
        .build()
        .expect("OTLP exporter");
    let provider = SdkTracerProvider::builder()
        .with_resource(
            Resource::builder_empty()
                .with_service_name("checkout")
                .with_attribute(KeyValue::new("deployment.owner", "Иванов Иван Иванович"))
                .build(),
        )
        .with_span_processor(RedactingProcessor::new(
            BatchSpanProcessor::builder(exporter).build(),
            Redactor::builder().record_span_count(true).build().unwrap(),
        ))
        .build();

    let tracer = provider.tracer("checkout");
    let linked = SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    let mut span = tracer
        .span_builder("checkout for ivan.petrov@example.ru")
        .with_links(vec![Link::new(
            linked,
            vec![KeyValue::new("origin", "СНИЛС 112-233-445 95")],
            0,
        )])
        .start(&tracer);
    span.set_attribute(KeyValue::new("note", "перезвонить +7 (916) 123-45-67"));
    span.set_attribute(KeyValue::new(
        "contacts",
        Value::Array(Array::String(vec!["89031234567".into(), "no pii".into()])),
    ));
    span.set_attribute(KeyValue::new("customer.name", "Иванов Иван Иванович"));
    span.set_attribute(KeyValue::new(
        "db.connection",
        "postgres://app:hunter2secret@db/orders",
    ));
    span.set_attribute(KeyValue::new("order.id", "ORD-2026-000123"));
    span.add_event(
        "payment declined for card 2200 1234 5678 9019",
        vec![
            KeyValue::new("exception.message", "passport 45 08 123456 rejected"),
            KeyValue::new(
                "exception.stacktrace",
                "at pay(password=s3cr3tPa55)\n at main",
            ),
        ],
    );
    span.set_status(Status::error("taxpayer 500100732259 unknown"));
    span.end();

    provider.force_flush().expect("flush");
    let spans = receiver.wait_for_spans(1, Duration::from_secs(10)).await;
    assert_eq!(spans.len(), 1, "the span arrived");
    let raw = receiver.raw_bytes();
    assert!(!raw.is_empty());
    for pii in PII {
        assert!(
            !contains(&raw, pii.as_bytes()),
            "{pii:?} reached the receiver"
        );
    }
    for mask in [
        "[REDACTED:email]",
        "[REDACTED:phone]",
        "[REDACTED:card]",
        "[REDACTED:passport]",
        "[REDACTED:snils]",
        "[REDACTED:inn]",
        "[REDACTED:name]",
        "[REDACTED:secret]",
    ] {
        assert!(
            contains(&raw, mask.as_bytes()),
            "{mask} missing from the export"
        );
    }
    // What must not be touched arrived intact.
    let span = &spans[0];
    assert_eq!(span.attr_str("order.id"), Some("ORD-2026-000123"));
    assert_eq!(span.trace_id().len(), 32);
    assert_eq!(span.service_name(), Some("checkout"));
    assert_eq!(span.span.name, "checkout for [REDACTED:email]");
    assert!(span.attr_i64("redaction.count").is_some_and(|n| n >= 9));
    provider.shutdown().ok();
}
