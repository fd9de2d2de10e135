//! SLA thresholds on transitions, the stuck-order gauges and failures, checked on
//! what the OTLP receiver decoded.

mod status_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use otel_order::transition::{
    FailureReason, ManualClock, SlaConfig, StatusRecorder, StatusSnapshot,
};
use otel_order::{OrderContext, OrderId, OrderStatus};
use otlp_receiver::proto::trace::v1::status::StatusCode;
use otlp_receiver::OtlpReceiver;
use status_support::*;

const T0: u64 = 1_700_000_000;

fn order(id: &str) -> OrderContext {
    OrderContext::new(OrderId::new(id).unwrap())
}

fn sla_file() -> SlaConfig {
    let path = std::env::temp_dir().join(format!("otel-order-sla-{}.toml", std::process::id()));
    std::fs::write(
        &path,
        "# minutes at the Shop, days in production\n[sla]\nSUBMITTED = \"30m\"\nMANUFACTURING_APPROVED = \"1d\"\n",
    )
    .unwrap();
    let config = SlaConfig::from_file(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transition_over_sla_is_marked_on_the_span_and_counted() {
    let receiver = OtlpReceiver::start().await;
    let pipeline = Pipeline::new(&receiver);
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(T0));
    let recorder = StatusRecorder::builder()
        .tracer(pipeline.tracer("otel-order"))
        .meter(pipeline.meter())
        .sla(sla_file())
        .clock(clock.clone())
        .build();

    let late = order("ORD-LATE").with_status(OrderStatus::Submitted, clock.now());
    let on_time = order("ORD-ON-TIME").with_status(
        OrderStatus::Submitted,
        clock.now() + Duration::from_secs(20 * 60),
    );
    let no_sla = order("ORD-NO-SLA").with_status(OrderStatus::Initiated, clock.now());
    clock.advance(Duration::from_secs(45 * 60));
    recorder.transition(&late, OrderStatus::PriceCalculated);
    recorder.transition(&on_time, OrderStatus::PriceCalculated);
    recorder.transition(&no_sla, OrderStatus::FileUploaded);
    pipeline.flush().await;

    let spans = order_spans(&receiver);
    let by_id = |id: &str| {
        spans
            .iter()
            .find(|s| s.attr_str("order.id") == Some(id))
            .unwrap()
    };
    let late = by_id("ORD-LATE");
    assert_eq!(attr_bool(late, "order.sla.exceeded"), Some(true));
    assert_eq!(late.attr_i64("order.sla.seconds"), Some(1800));
    let on_time = by_id("ORD-ON-TIME");
    assert_eq!(attr_bool(on_time, "order.sla.exceeded"), Some(false));
    assert_eq!(on_time.attr_i64("order.sla.seconds"), Some(1800));
    let no_sla = by_id("ORD-NO-SLA");
    assert_eq!(attr_bool(no_sla, "order.sla.exceeded"), None);
    assert_eq!(no_sla.attr_i64("order.sla.seconds"), None);

    let breaches = receiver
        .last_metric("order.sla.breaches")
        .expect("breach counter");
    assert_eq!(
        number_point(&breaches, &[("order.status", "SUBMITTED")]),
        Some(1.0)
    );
    assert_eq!(
        number_point(&breaches, &[("order.status", "INITIATED")]),
        None
    );
    assert_no_metric_carries_order_id(&receiver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuck_order_gauges_report_count_oldest_age_and_over_sla_per_status() {
    let receiver = OtlpReceiver::start().await;
    let pipeline = Pipeline::new(&receiver);
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(T0));
    let recorder = StatusRecorder::builder()
        .tracer(pipeline.tracer("otel-order"))
        .meter(pipeline.meter())
        .sla(sla_file())
        .clock(clock.clone())
        .build();

    let now = clock.now();
    let store: Arc<Mutex<Vec<StatusSnapshot>>> = Arc::new(Mutex::new(vec![
        // Oldest submitted order waits 2 h against a 30 min SLA: derived over_sla = 1.
        StatusSnapshot::new(
            OrderStatus::Submitted,
            4,
            Some(now - Duration::from_secs(7200)),
        ),
        // The store counts late approvals itself.
        StatusSnapshot::new(
            OrderStatus::ManufacturingApproved,
            9,
            Some(now - Duration::from_secs(3 * 86_400)),
        )
        .with_over_sla(6),
        // No SLA and nobody waiting: count only.
        StatusSnapshot::new(OrderStatus::Packaging, 0, None),
    ]));
    let calls = Arc::new(Mutex::new(0));
    let (source, counted) = (Arc::clone(&store), Arc::clone(&calls));
    recorder.register_status_gauges(move || {
        *counted.lock().unwrap() += 1;
        store.lock().unwrap().clone()
    });
    pipeline.flush().await;

    let count = receiver
        .last_metric("order.status.count")
        .expect("count gauge");
    assert_eq!(
        number_point(&count, &[("order.status", "SUBMITTED")]),
        Some(4.0)
    );
    assert_eq!(
        number_point(&count, &[("order.status", "MANUFACTURING_APPROVED")]),
        Some(9.0)
    );
    assert_eq!(
        number_point(&count, &[("order.status", "PACKAGING")]),
        Some(0.0)
    );
    let age = receiver
        .last_metric("order.status.oldest_age")
        .expect("age gauge");
    assert_eq!(age.metric.unit, "s");
    assert_eq!(
        number_point(&age, &[("order.status", "SUBMITTED")]),
        Some(7200.0)
    );
    assert_eq!(
        number_point(&age, &[("order.status", "MANUFACTURING_APPROVED")]),
        Some(3.0 * 86_400.0)
    );
    assert_eq!(number_point(&age, &[("order.status", "PACKAGING")]), None);
    let over = receiver
        .last_metric("order.status.over_sla")
        .expect("over-SLA gauge");
    assert_eq!(
        number_point(&over, &[("order.status", "SUBMITTED")]),
        Some(1.0)
    );
    assert_eq!(
        number_point(&over, &[("order.status", "MANUFACTURING_APPROVED")]),
        Some(6.0)
    );
    assert_eq!(number_point(&over, &[("order.status", "PACKAGING")]), None);
    // One collection asks the store once for all three gauges.
    assert_eq!(*calls.lock().unwrap(), 1);

    // The orders get picked up: the next collection sees the store as it is now.
    *source.lock().unwrap() = vec![StatusSnapshot::new(OrderStatus::Submitted, 1, Some(now))];
    clock.advance(Duration::from_secs(60));
    pipeline.flush().await;
    let over = receiver.last_metric("order.status.over_sla").unwrap();
    assert_eq!(
        number_point(&over, &[("order.status", "SUBMITTED")]),
        Some(0.0)
    );
    let age = receiver.last_metric("order.status.oldest_age").unwrap();
    assert_eq!(
        number_point(&age, &[("order.status", "SUBMITTED")]),
        Some(60.0)
    );
    assert_eq!(*calls.lock().unwrap(), 2);
    assert_no_metric_carries_order_id(&receiver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_is_an_error_span_and_counted_by_status_and_reason() {
    let receiver = OtlpReceiver::start().await;
    let pipeline = Pipeline::new(&receiver);
    let recorder = StatusRecorder::builder()
        .tracer(pipeline.tracer("otel-order"))
        .meter(pipeline.meter())
        .build();
    let submitted = order("ORD-FAIL").with_status_only(OrderStatus::Submitted);
    recorder.failure(&submitted, FailureReason::Timeout);
    recorder.failure(&submitted, FailureReason::Timeout);
    recorder.failure(&order("ORD-UNKNOWN"), FailureReason::MessageLost);
    pipeline.flush().await;

    let spans = order_spans(&receiver);
    assert_eq!(spans.len(), 3);
    let span = spans
        .iter()
        .find(|s| s.attr_str("order.id") == Some("ORD-FAIL"))
        .unwrap();
    assert_eq!(span.span.name, "order.failure");
    assert_eq!(span.attr_str("order.status"), Some("SUBMITTED"));
    assert_eq!(span.attr_str("order.failure.reason"), Some("timeout"));
    let status = span.span.status.as_ref().unwrap();
    assert_eq!(status.code, StatusCode::Error as i32);
    assert_eq!(status.message, "timeout");

    let failures = receiver
        .last_metric("order.failures")
        .expect("failure counter");
    let timeout = [
        ("order.status", "SUBMITTED"),
        ("order.failure.reason", "timeout"),
    ];
    assert_eq!(number_point(&failures, &timeout), Some(2.0));
    assert_eq!(
        number_point(&failures, &[("order.failure.reason", "message_lost")]),
        Some(1.0)
    );
    assert_no_metric_carries_order_id(&receiver);
}
