//! `ordertrace::init` puts the redactor in front of the exporter: personal data in any
//! span surface never reaches the OTLP endpoint, while order ids and trace ids do.

use std::time::Duration;

use opentelemetry::trace::{Span, Status, Tracer};
use opentelemetry::{global, KeyValue};
use otlp_receiver::OtlpReceiver;

#[tokio::test(flavor = "multi_thread")]
async fn init_keeps_personal_data_out_of_exported_bytes() {
    let receiver = OtlpReceiver::start().await;
    // SAFETY of set_var: this test binary runs only this test, before any thread reads env.
    std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.http_endpoint());
    std::env::set_var("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
    let telemetry = ordertrace::init("shop-api").expect("telemetry");

    let pii = [
        "ivan.petrov@example.ru",
        "+7 (916) 123-45-67",
        "4508 123456",
        "2200 1234 5678 9019",
        "Петров Иван Сергеевич",
    ];
    let mut span = global::tracer("shop").start(format!("order form from {}", pii[0]));
    span.set_attribute(KeyValue::new("order.id", "ORD-2026-000123"));
    span.set_attribute(KeyValue::new("customer.phone", pii[1]));
    span.set_attribute(KeyValue::new(
        "note",
        format!("passport {} card {}", pii[2], pii[3]),
    ));
    span.add_event(
        "validation failed",
        vec![KeyValue::new(
            "exception.message",
            format!("bad name {}", pii[4]),
        )],
    );
    span.set_status(Status::error(format!("cannot reach {}", pii[1])));
    span.end();
    // The tonic-free HTTP exporter runs on the batch processor's own thread.
    telemetry.flush();

    let spans = receiver.wait_for_spans(1, Duration::from_secs(10)).await;
    assert_eq!(spans[0].attr_str("order.id"), Some("ORD-2026-000123"));
    let raw = receiver.raw_bytes();
    for value in pii {
        assert!(
            !raw.windows(value.len()).any(|w| w == value.as_bytes()),
            "{value:?} reached the exporter"
        );
    }
    assert!(raw.windows(16).any(|w| w == b"[REDACTED:email]"));
    telemetry.shutdown();
}
