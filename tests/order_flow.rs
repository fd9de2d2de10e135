//! The order-flow scenario of the jewelry example, with one order per seed failure
//! point, exported over OTLP/gRPC to an in-process receiver: every assertion is on
//! what went over the wire.
//!
//! Needs RabbitMQ on 127.0.0.1:5672 (`AMQP_ADDR` overrides); the run declares its own
//! exchanges and queues (suffixed per run) and deletes them at the end.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use jewelry::demo::{self, DemoConfig, OrderOutcome};
use jewelry::Fault;
use otlp_receiver::proto::common::v1::any_value::Value as AnyValue;
use otlp_receiver::proto::metrics::v1::{metric::Data, number_data_point::Value};
use otlp_receiver::{OtlpReceiver, ReceivedMetric, ReceivedSpan};

const ALL_STATUSES: [&str; 10] = [
    "INITIATED",
    "FILE_UPLOADED",
    "SUBMITTED",
    "PRICE_CALCULATED",
    "MANUFACTURING_APPROVED",
    "MANUFACTURING_STARTED",
    "MANUFACTURING_COMPLETED",
    "PACKAGING",
    "SHIPPED",
    "CLOSED",
];

fn order_of(outcomes: &[OrderOutcome], fault: Option<Fault>) -> String {
    outcomes
        .iter()
        .find(|o| o.fault == fault)
        .map(|o| o.order_id.clone())
        .unwrap_or_else(|| panic!("an order with fault {fault:?} in {outcomes:?}"))
}

fn of_order<'a>(spans: &'a [ReceivedSpan], id: &str) -> Vec<&'a ReceivedSpan> {
    spans
        .iter()
        .filter(|s| s.attr_str("order.id") == Some(id))
        .collect()
}

fn attr_bool(span: &ReceivedSpan, key: &str) -> Option<bool> {
    match otlp_receiver::attr(&span.span.attributes, key)?
        .value
        .as_ref()?
    {
        AnyValue::BoolValue(b) => Some(*b),
        _ => None,
    }
}

fn is_error(span: &ReceivedSpan) -> bool {
    span.span.status.as_ref().is_some_and(|s| s.code == 2)
}

/// The value of a gauge data point with `order.status = status`, exported by `service`.
fn gauge_value(metric: &ReceivedMetric, service: &str, status: &str) -> Option<i64> {
    let exported_by = otlp_receiver::attr_str(&metric.resource, "service.name");
    if exported_by != Some(service) {
        return None;
    }
    let Some(Data::Gauge(gauge)) = &metric.metric.data else {
        return None;
    };
    gauge
        .data_points
        .iter()
        .filter(|p| otlp_receiver::attr_str(&p.attributes, "order.status") == Some(status))
        .find_map(|p| match p.value {
            Some(Value::AsInt(i)) => Some(i),
            Some(Value::AsDouble(f)) => Some(f as i64),
            None => None,
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_failure_point_is_visible_in_the_exported_telemetry() {
    let receiver = OtlpReceiver::start().await;
    // This test binary runs only this test; the environment is set before any
    // telemetry is built.
    for (k, v) in [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpc_endpoint()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".into()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
        ("OTEL_METRIC_EXPORT_INTERVAL", "500".into()),
    ] {
        std::env::set_var(k, v);
    }
    let config = DemoConfig {
        happy_orders: 1,
        faults: Fault::ALL.to_vec(),
        step_timeout: Duration::from_secs(2),
        ..DemoConfig::default()
    };
    let run = demo::run(config)
        .await
        .expect("the scenario runs (is RabbitMQ up?)");
    run.flush();
    let collected = run.spans().len();
    let spans = receiver
        .wait_for_spans(collected, Duration::from_secs(20))
        .await;
    assert!(
        spans.len() >= collected,
        "exported {} of {collected} spans",
        spans.len()
    );
    // Every span of an order carries its id once: the instrumentation and
    // OrderSpanProcessor never both set it.
    for span in &spans {
        let ids = span
            .span
            .attributes
            .iter()
            .filter(|kv| kv.key == "order.id")
            .count();
        assert!(
            ids <= 1,
            "{} ({}) carries order.id {ids} times",
            span.span.name,
            span.service_name().unwrap_or("?")
        );
    }
    let outcomes = run.outcomes.clone();
    let stuck = receiver
        .wait_for_metric("order.status.count", Duration::from_secs(10), |m| {
            gauge_value(m, "mes", "PRICE_CALCULATED").is_some_and(|v| v >= 1)
        })
        .await
        .and_then(|m| gauge_value(&m, "mes", "PRICE_CALCULATED"));
    assert!(
        stuck.is_some_and(|v| v >= 1),
        "stuck-order gauge: {stuck:?}"
    );
    // Clean up before asserting further, so a failing assertion leaves no queues.
    run.cleanup().await.expect("the run's queues are deleted");

    // The happy order: one trace, Shop -> MES -> CRM -> MES (and the sidecar), every
    // status recorded in it.
    let happy = order_of(&outcomes, None);
    let happy_spans = of_order(&spans, &happy);
    let traces: HashSet<String> = happy_spans.iter().map(|s| s.trace_id()).collect();
    assert_eq!(traces.len(), 1, "the happy order is one trace: {traces:?}");
    let trace = traces.into_iter().next().unwrap();
    let in_trace: Vec<&ReceivedSpan> = spans.iter().filter(|s| s.trace_id() == trace).collect();
    let statuses: BTreeSet<&str> = in_trace
        .iter()
        .filter_map(|s| s.attr_str("order.status.next"))
        .collect();
    for status in ALL_STATUSES {
        assert!(
            statuses.contains(status),
            "{status} missing from the happy trace: {statuses:?}"
        );
    }
    // Each hop is the child of the previous hop's publish: Shop -> MES -> CRM -> MES.
    let process = |service: &str, prefix: &str| {
        *in_trace
            .iter()
            .find(|s| s.service_name() == Some(service) && s.span.name.starts_with(prefix))
            .unwrap_or_else(|| panic!("{service} span {prefix}* in the happy trace"))
    };
    let publish = |service: &str, routing_key: &str| {
        in_trace
            .iter()
            .find(|s| {
                s.service_name() == Some(service)
                    && s.span.name.starts_with("publish ")
                    && s.attr_str("messaging.rabbitmq.destination.routing_key") == Some(routing_key)
            })
            .unwrap_or_else(|| panic!("{service} publishes {routing_key} in the happy trace"))
            .span_id()
    };
    let chain = [
        (
            publish("shop-api", "pricing.request"),
            process("mes", "process mes.pricing."),
        ),
        (
            publish("mes", "price.calculated"),
            process("crm-api", "process crm.prices."),
        ),
        (
            publish("crm-api", "manufacturing.approved"),
            process("mes", "process mes.production."),
        ),
    ];
    for (producer, consumer) in chain {
        assert_eq!(
            consumer.parent_span_id(),
            producer,
            "{} continues its producer's span",
            consumer.span.name
        );
    }
    // The operator statuses are recorded by the sidecar, in the same trace.
    for status in [
        "MANUFACTURING_STARTED",
        "MANUFACTURING_COMPLETED",
        "PACKAGING",
        "SHIPPED",
    ] {
        assert!(
            in_trace
                .iter()
                .any(|s| s.service_name() == Some("mes-sidecar")
                    && s.attr_str("order.status.next") == Some(status)),
            "{status} recorded by the sidecar in the order's trace"
        );
    }

    // Lost MES -> CRM event: the order stops at PRICE_CALCULATED, CRM never sees it,
    // and MES's stuck-order gauge counts it (`stuck`, read above).
    let lost = order_of(&outcomes, Some(Fault::LostMessage));
    let lost_spans = of_order(&spans, &lost);
    assert!(lost_spans
        .iter()
        .any(|s| s.attr_str("order.status.next") == Some("PRICE_CALCULATED")));
    assert!(
        !lost_spans
            .iter()
            .any(|s| s.service_name() == Some("crm-api")),
        "CRM must not have seen the lost order"
    );
    // Slow pricing: the time in SUBMITTED is over its SLA.
    let slow = order_of(&outcomes, Some(Fault::SlowPricing));
    assert!(of_order(&spans, &slow).iter().any(|s| {
        s.attr_str("order.status") == Some("SUBMITTED")
            && attr_bool(s, "order.sla.exceeded") == Some(true)
    }));

    // Duplicate approval: the second one is a repeat.
    let duplicate = order_of(&outcomes, Some(Fault::DuplicateApproval));
    assert!(
        of_order(&spans, &duplicate).iter().any(|s| {
            s.attr_str("order.transition.kind") == Some("repeat")
                && s.attr_str("order.status.next") == Some("MANUFACTURING_APPROVED")
        }),
        "the duplicate approval is flagged as a repeat"
    );

    // Corrupt upload: a failure, not a status change.
    let corrupt = order_of(&outcomes, Some(Fault::CorruptUpload));
    let corrupt_spans = of_order(&spans, &corrupt);
    assert!(corrupt_spans.iter().any(|s| {
        s.span.name == "order.failure"
            && s.attr_str("order.failure.reason") == Some("file_corrupt")
            && is_error(s)
    }));
    assert!(!corrupt_spans
        .iter()
        .any(|s| s.attr_str("order.status.next") == Some("FILE_UPLOADED")));

    // Crash before ack: the first delivery ends unsettled, the redelivery is marked.
    let crashed = order_of(&outcomes, Some(Fault::CrashBeforeAck));
    let crashed_spans = of_order(&spans, &crashed);
    assert!(crashed_spans
        .iter()
        .any(|s| s.attr_str("rabbitmq.settle") == Some("dropped")));
    assert!(crashed_spans.iter().any(|s| {
        s.span.name.starts_with("process mes.pricing.")
            && attr_bool(s, "rabbitmq.message.redelivered") == Some(true)
    }));
    assert!(crashed_spans
        .iter()
        .any(|s| s.attr_str("order.status.next") == Some("CLOSED")));

    // Poison message: rejected by MES (error), then in the dead-letter queue with its
    // x-death marks, and a dead_lettered failure on the order.
    let poison = order_of(&outcomes, Some(Fault::PoisonMessage));
    let poison_spans = of_order(&spans, &poison);
    assert!(poison_spans
        .iter()
        .any(|s| s.span.name.starts_with("process mes.pricing.") && is_error(s)));
    assert!(poison_spans.iter().any(|s| {
        s.span.name.starts_with("process jewelry.dlq.")
            && s.attr_str("rabbitmq.x_death.reason") == Some("rejected")
            && s.attr_i64("rabbitmq.x_death.count").is_some_and(|c| c >= 1)
    }));
    assert!(poison_spans
        .iter()
        .any(|s| s.attr_str("order.failure.reason") == Some("dead_lettered")));

    // No customer's personal data anywhere in what was exported.
    let raw = receiver.raw_bytes();
    let contains = |needle: &str| raw.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(
        contains(&happy),
        "the exported bytes are searchable (order id present)"
    );
    assert!(
        contains("[REDACTED:"),
        "the services did try to record personal data"
    );
    for form in jewelry::demo::customers() {
        let surname = form
            .full_name
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_owned();
        for pii in [
            &form.full_name,
            &surname,
            &form.phone,
            &form.email,
            &form.passport,
        ] {
            assert!(!contains(pii), "{pii:?} leaked into exported telemetry");
        }
    }
}
