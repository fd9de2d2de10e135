//! A full happy-path lifecycle through all ten statuses, driven by a manual clock and
//! checked on what went over the wire to the OTLP receiver.

mod status_support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{Span as _, TraceContextExt, Tracer as _};
use opentelemetry::Context;
use otel_order::transition::{ManualClock, StatusRecorder, DURATION_BUCKETS};
use otel_order::{OrderContext, OrderId, OrderStatus};
use otlp_receiver::{hex_id, OtlpReceiver};
use status_support::*;

const T0: u64 = 1_700_000_000;

/// How long the order stays in each status before the next one (none for CLOSED).
const TIME_IN: [(OrderStatus, u64); 9] = [
    (OrderStatus::Initiated, 12),
    (OrderStatus::FileUploaded, 95),
    (OrderStatus::Submitted, 25 * 60),
    (OrderStatus::PriceCalculated, 3 * 3600),
    (OrderStatus::ManufacturingApproved, 86_400 + 7),
    (OrderStatus::ManufacturingStarted, 5 * 3600),
    (OrderStatus::ManufacturingCompleted, 30 * 60),
    (OrderStatus::Packaging, 2 * 3600 + 1),
    (OrderStatus::Shipped, 3 * 86_400),
];

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_yields_one_exact_span_per_status_and_exact_histograms() {
    let receiver = OtlpReceiver::start().await;
    let pipeline = Pipeline::new(&receiver);
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(T0));
    let recorder = StatusRecorder::builder()
        .tracer(pipeline.tracer("otel-order"))
        .meter(pipeline.meter())
        .clock(clock.clone())
        .build();
    let services = pipeline.tracer("services");

    // Each transition happens inside a handler span, as in a real service.
    let mut order = OrderContext::new(OrderId::new("ORD-2026-000123").unwrap());
    let mut entered_at = Vec::new();
    let mut handler_spans = Vec::new();
    for (i, status) in OrderStatus::ALL.into_iter().enumerate() {
        if i > 0 {
            clock.advance(Duration::from_secs(TIME_IN[i - 1].1));
        }
        let handler = services.start(format!("handle {status}"));
        let handler_id = handler.span_context().span_id();
        let cx = Context::current_with_span(handler);
        {
            let _attached = cx.clone().attach();
            order = recorder.transition(&order, status);
        }
        cx.span().end();
        assert_eq!(order.status(), Some(status));
        assert_eq!(order.entered_at(), Some(clock.now()));
        assert_eq!(order.entered_by().map(|sc| sc.span_id()), Some(handler_id));
        entered_at.push(clock.now());
        handler_spans.push(hex_id(&handler_id.to_bytes()));
    }
    pipeline.flush().await;

    let spans = order_spans(&receiver);
    let mut names: Vec<&str> = spans.iter().map(|s| s.span.name.as_str()).collect();
    names.sort_unstable();
    let mut expected: Vec<String> = TIME_IN
        .iter()
        .map(|(s, _)| format!("order.status {s}"))
        .chain(["order.status.initial".to_string()])
        .collect();
    expected.sort_unstable();
    assert_eq!(
        names, expected,
        "exactly one span per status left, plus the initial marker"
    );

    let initial = spans
        .iter()
        .find(|s| s.span.name == "order.status.initial")
        .unwrap();
    assert_eq!(initial.span.start_time_unix_nano, nanos(entered_at[0]));
    assert_eq!(initial.span.end_time_unix_nano, nanos(entered_at[0]));
    assert_eq!(initial.attr_str("order.transition.kind"), Some("initial"));
    assert_eq!(initial.attr_str("order.status.next"), Some("INITIATED"));
    assert_eq!(initial.attr_str("order.status"), None);

    for (i, (status, _)) in TIME_IN.iter().enumerate() {
        let span = spans
            .iter()
            .find(|s| s.span.name == format!("order.status {status}"))
            .unwrap();
        assert_eq!(
            span.span.start_time_unix_nano,
            nanos(entered_at[i]),
            "{status} start"
        );
        assert_eq!(
            span.span.end_time_unix_nano,
            nanos(entered_at[i + 1]),
            "{status} end"
        );
        assert_eq!(span.attr_str("order.id"), Some("ORD-2026-000123"));
        assert_eq!(span.attr_str("order.status"), Some(status.as_str()));
        assert_eq!(
            span.attr_str("order.status.next"),
            Some(OrderStatus::ALL[i + 1].as_str())
        );
        assert_eq!(span.attr_str("order.transition.kind"), Some("forward"));
        // Linked to the handler that entered the status, child of the one leaving it.
        assert_eq!(span.span.links.len(), 1, "{status} links");
        assert_eq!(hex_id(&span.span.links[0].span_id), handler_spans[i]);
        assert_eq!(span.parent_span_id(), handler_spans[i + 1]);
        assert_eq!(attr_bool(span, "order.status.duration_unknown"), None);
    }

    let histogram = receiver
        .last_metric("order.status.duration")
        .expect("histogram");
    assert_eq!(histogram.metric.unit, "s");
    for (status, secs) in TIME_IN {
        let point = histogram_point(&histogram, &[("order.status", status.as_str())])
            .unwrap_or_else(|| panic!("no histogram point for {status}"));
        assert_eq!(point.count, 1, "{status}");
        assert_eq!(point.sum, Some(secs as f64), "{status}");
        assert_eq!(point.explicit_bounds, DURATION_BUCKETS.to_vec());
        let bucket = DURATION_BUCKETS.partition_point(|b| *b < secs as f64);
        assert_eq!(point.bucket_counts[bucket], 1, "{status} bucket");
    }
    assert!(histogram_point(&histogram, &[("order.status", "CLOSED")]).is_none());

    let transitions = receiver
        .last_metric("order.status.transitions")
        .expect("counter");
    assert_eq!(
        number_point(
            &transitions,
            &[
                ("order.status.next", "INITIATED"),
                ("order.transition.kind", "initial")
            ]
        ),
        Some(1.0)
    );
    for pair in OrderStatus::ALL.windows(2) {
        let attrs = [
            ("order.status", pair[0].as_str()),
            ("order.status.next", pair[1].as_str()),
            ("order.transition.kind", "forward"),
        ];
        assert_eq!(number_point(&transitions, &attrs), Some(1.0), "{attrs:?}");
    }
    assert_no_metric_carries_order_id(&receiver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_hop_links_to_the_span_that_entered_the_status_across_contexts() {
    // The entering hop has no active span: the status span itself is the link target.
    let receiver = OtlpReceiver::start().await;
    let pipeline = Pipeline::new(&receiver);
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(T0));
    let recorder = StatusRecorder::builder()
        .tracer(pipeline.tracer("otel-order"))
        .meter(pipeline.meter())
        .clock(clock.clone())
        .build();
    let order = OrderContext::new(OrderId::new("ORD-7").unwrap())
        .with_status(OrderStatus::Initiated, clock.now());
    let order =
        recorder.transition_with_context(&Context::new(), &order, OrderStatus::FileUploaded);
    clock.advance(Duration::from_secs(60));
    let _ = recorder.transition_with_context(&Context::new(), &order, OrderStatus::Submitted);
    pipeline.flush().await;

    let spans = order_spans(&receiver);
    let entering = spans
        .iter()
        .find(|s| s.span.name == "order.status INITIATED")
        .unwrap();
    let leaving = spans
        .iter()
        .find(|s| s.span.name == "order.status FILE_UPLOADED")
        .unwrap();
    assert_eq!(hex_id(&leaving.span.links[0].span_id), entering.span_id());
    assert_eq!(leaving.parent_span_id(), "");
}
