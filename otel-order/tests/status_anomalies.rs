//! Moves outside the happy path: repeats, backward moves, unknown or garbled
//! entered-at. All are recorded and flagged; none breaks recording.

mod status_support;

use std::time::{Duration, UNIX_EPOCH};

use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;
use otel_order::transition::{ManualClock, StatusRecorder};
use otel_order::{OrderContext, OrderContextExt, OrderId, OrderStatus};
use otlp_receiver::proto::trace::v1::status::StatusCode;
use otlp_receiver::{OtlpReceiver, ReceivedSpan};
use status_support::*;

const T0: u64 = 1_700_000_000;

struct Fixture {
    receiver: OtlpReceiver,
    pipeline: Pipeline,
    clock: ManualClock,
    recorder: StatusRecorder<opentelemetry_sdk::trace::SdkTracer>,
}

async fn fixture() -> Fixture {
    let receiver = OtlpReceiver::start().await;
    let pipeline = Pipeline::new(&receiver);
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(T0));
    let recorder = StatusRecorder::builder()
        .tracer(pipeline.tracer("otel-order"))
        .meter(pipeline.meter())
        .clock(clock.clone())
        .build();
    Fixture {
        receiver,
        pipeline,
        clock,
        recorder,
    }
}

fn order(id: &str) -> OrderContext {
    OrderContext::new(OrderId::new(id).unwrap())
}

fn only_span<'a>(spans: &'a [ReceivedSpan], id: &str) -> &'a ReceivedSpan {
    let mine: Vec<_> = spans
        .iter()
        .filter(|s| s.attr_str("order.id") == Some(id))
        .collect();
    assert_eq!(mine.len(), 1, "spans of {id}: {mine:?}");
    mine[0]
}

fn status_code(span: &ReceivedSpan) -> i32 {
    span.span.status.as_ref().map_or(0, |s| s.code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_manufacturing_approval_is_flagged_repeat_and_counted() {
    let f = fixture().await;
    let entered_by = SpanContext::new(
        TraceId::from(0x11),
        SpanId::from(0x22),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    let approved_at = f.clock.now();
    let approved = order("ORD-REPEAT")
        .with_status(OrderStatus::ManufacturingApproved, approved_at)
        .with_entered_by(entered_by);
    f.clock.advance(Duration::from_secs(3600));

    // The approval message is processed a second and a third time.
    let after_first = f
        .recorder
        .transition(&approved, OrderStatus::ManufacturingApproved);
    let after_second = f
        .recorder
        .transition(&after_first, OrderStatus::ManufacturingApproved);
    // The duplicate does not restart the status clock.
    assert_eq!(after_second, approved);
    assert_eq!(after_second.entered_at(), Some(approved_at));
    f.pipeline.flush().await;

    let spans = order_spans(&f.receiver);
    assert_eq!(spans.len(), 2);
    for span in &spans {
        assert_eq!(span.span.name, "order.status MANUFACTURING_APPROVED");
        assert_eq!(span.attr_str("order.transition.kind"), Some("repeat"));
        assert_eq!(
            span.attr_str("order.status.next"),
            Some("MANUFACTURING_APPROVED")
        );
        // A marker at the moment of the duplicate, not a second copy of the wait.
        assert_eq!(span.span.start_time_unix_nano, span.span.end_time_unix_nano);
        assert_eq!(span.span.links.len(), 1);
    }
    let transitions = f.receiver.last_metric("order.status.transitions").unwrap();
    let attrs = [
        ("order.status", "MANUFACTURING_APPROVED"),
        ("order.status.next", "MANUFACTURING_APPROVED"),
        ("order.transition.kind", "repeat"),
    ];
    assert_eq!(number_point(&transitions, &attrs), Some(2.0));
    // No time-in-status value: the order has not left the status.
    assert!(f
        .receiver
        .last_metric("order.status.duration")
        .is_none_or(|h| {
            histogram_point(&h, &[("order.status", "MANUFACTURING_APPROVED")]).is_none()
        }));
    assert_no_metric_carries_order_id(&f.receiver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backward_move_is_flagged_with_error_status_and_counted() {
    let f = fixture().await;
    let shipped = order("ORD-BACK").with_status(OrderStatus::Shipped, f.clock.now());
    f.clock.advance(Duration::from_secs(600));
    let back = f.recorder.transition(&shipped, OrderStatus::Packaging);
    assert_eq!(back.status(), Some(OrderStatus::Packaging));

    let forward = order("ORD-FWD").with_status(OrderStatus::Packaging, f.clock.now());
    f.clock.advance(Duration::from_secs(60));
    f.recorder.transition(&forward, OrderStatus::Shipped);
    f.pipeline.flush().await;

    let spans = order_spans(&f.receiver);
    let backward = only_span(&spans, "ORD-BACK");
    assert_eq!(backward.span.name, "order.status SHIPPED");
    assert_eq!(backward.attr_str("order.transition.kind"), Some("backward"));
    assert_eq!(status_code(backward), StatusCode::Error as i32);
    let forward = only_span(&spans, "ORD-FWD");
    assert_eq!(forward.attr_str("order.transition.kind"), Some("forward"));
    assert_ne!(status_code(forward), StatusCode::Error as i32);

    let transitions = f.receiver.last_metric("order.status.transitions").unwrap();
    let attrs = [
        ("order.status", "SHIPPED"),
        ("order.status.next", "PACKAGING"),
        ("order.transition.kind", "backward"),
    ];
    assert_eq!(number_point(&transitions, &attrs), Some(1.0));
    // The time really spent in SHIPPED still counts.
    let histogram = f.receiver.last_metric("order.status.duration").unwrap();
    let shipped = histogram_point(&histogram, &[("order.status", "SHIPPED")]).unwrap();
    assert_eq!((shipped.count, shipped.sum), (1, Some(600.0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipped_status_is_flagged_skip_and_still_timed() {
    // MES's PRICE_CALCULATED event was lost: CRM sees SUBMITTED -> MANUFACTURING_APPROVED.
    let f = fixture().await;
    let submitted = order("ORD-SKIP").with_status(OrderStatus::Submitted, f.clock.now());
    f.clock.advance(Duration::from_secs(900));
    f.recorder
        .transition(&submitted, OrderStatus::ManufacturingApproved);
    f.pipeline.flush().await;

    let spans = order_spans(&f.receiver);
    let span = only_span(&spans, "ORD-SKIP");
    assert_eq!(span.span.name, "order.status SUBMITTED");
    assert_eq!(span.attr_str("order.transition.kind"), Some("skip"));
    assert_ne!(status_code(span), StatusCode::Error as i32);
    let transitions = f.receiver.last_metric("order.status.transitions").unwrap();
    let attrs = [
        ("order.status", "SUBMITTED"),
        ("order.status.next", "MANUFACTURING_APPROVED"),
        ("order.transition.kind", "skip"),
    ];
    assert_eq!(number_point(&transitions, &attrs), Some(1.0));
    let histogram = f.receiver.last_metric("order.status.duration").unwrap();
    let point = histogram_point(&histogram, &[("order.status", "SUBMITTED")]).unwrap();
    assert_eq!((point.count, point.sum), (1, Some(900.0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_garbled_entered_at_still_records_the_transition() {
    let f = fixture().await;
    let now = f.clock.now();
    // Missing (e.g. dropped by the propagator as invalid), in the future, implausibly old.
    let missing = order("ORD-MISSING").with_status_only(OrderStatus::Submitted);
    let future =
        order("ORD-FUTURE").with_status(OrderStatus::Submitted, now + Duration::from_secs(3600));
    let ancient = order("ORD-ANCIENT").with_status(OrderStatus::Submitted, UNIX_EPOCH);
    let mut next = Vec::new();
    for o in [&missing, &future, &ancient] {
        next.push(f.recorder.transition(o, OrderStatus::PriceCalculated));
    }
    // The unknown previous status: an order first seen mid-life, via the current context.
    let _attached = Context::current().with_order(order("ORD-NEW")).attach();
    let cx = f
        .recorder
        .transition_current(OrderStatus::ManufacturingStarted)
        .expect("order in context");
    drop(_attached);
    f.pipeline.flush().await;

    for o in &next {
        assert_eq!(o.status(), Some(OrderStatus::PriceCalculated));
        assert_eq!(o.entered_at(), Some(now));
    }
    let first_seen = cx.order().unwrap();
    assert_eq!(first_seen.status(), Some(OrderStatus::ManufacturingStarted));
    assert_eq!(first_seen.entered_at(), Some(now));

    let spans = order_spans(&f.receiver);
    for id in ["ORD-MISSING", "ORD-FUTURE", "ORD-ANCIENT"] {
        let span = only_span(&spans, id);
        assert_eq!(span.span.name, "order.status SUBMITTED", "{id}");
        assert_eq!(
            span.attr_str("order.transition.kind"),
            Some("forward"),
            "{id}"
        );
        assert_eq!(
            attr_bool(span, "order.status.duration_unknown"),
            Some(true),
            "{id}"
        );
        let at = now.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
        assert_eq!(
            span.span.start_time_unix_nano, at,
            "{id}: zero-length marker at now"
        );
        assert_eq!(span.span.end_time_unix_nano, at, "{id}");
    }
    let initial = only_span(&spans, "ORD-NEW");
    assert_eq!(initial.span.name, "order.status.initial");
    assert_eq!(initial.attr_str("order.transition.kind"), Some("initial"));

    let transitions = f.receiver.last_metric("order.status.transitions").unwrap();
    let attrs = [
        ("order.status", "SUBMITTED"),
        ("order.status.next", "PRICE_CALCULATED"),
        ("order.transition.kind", "forward"),
    ];
    assert_eq!(number_point(&transitions, &attrs), Some(3.0));
    let attrs = [
        ("order.status.next", "MANUFACTURING_STARTED"),
        ("order.transition.kind", "initial"),
    ];
    assert_eq!(number_point(&transitions, &attrs), Some(1.0));
    // Unknown durations are not guessed into the histogram.
    assert!(f
        .receiver
        .last_metric("order.status.duration")
        .is_none_or(|h| { histogram_point(&h, &[("order.status", "SUBMITTED")]).is_none() }));
    assert_no_metric_carries_order_id(&f.receiver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transition_current_without_order_context_records_nothing() {
    let f = fixture().await;
    let _attached = Context::new().attach();
    assert!(f.recorder.transition_current(OrderStatus::Closed).is_none());
    f.pipeline.flush().await;
    assert!(order_spans(&f.receiver).is_empty());
}
