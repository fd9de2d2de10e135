//! The broker as a hop in the trace: with `rabbitmqctl trace_on`, the firehose
//! consumer adds RabbitMQ's own view of a message to that message's trace.

mod support;

use lapin::options::{BasicAckOptions, BasicPublishOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, ExchangeKind};
use opentelemetry::Context;
use otel_amqp::names::*;
use otel_amqp::{ConsumerConfig, Firehose};
use otlp_receiver::proto::trace::v1::status::StatusCode;
use otlp_receiver::ReceivedSpan;
use support::*;

/// `rabbitmqctl` for the default vhost; returns whether tracing was on before.
async fn set_tracing(on: bool) -> bool {
    tokio::task::spawn_blocking(move || {
        let listed = std::process::Command::new("rabbitmqctl")
            .args(["list_vhosts", "name", "tracing", "--no-table-headers", "-q"])
            .output()
            .expect("rabbitmqctl on PATH");
        let was_on = String::from_utf8_lossy(&listed.stdout)
            .lines()
            .any(|l| l.starts_with("/\t") && l.trim_end().ends_with("true"));
        let status = std::process::Command::new("rabbitmqctl")
            .arg(if on { "trace_on" } else { "trace_off" })
            .arg("-q")
            .status()
            .expect("rabbitmqctl trace_on/off");
        assert!(status.success());
        was_on
    })
    .await
    .unwrap()
}

fn event_names(span: &ReceivedSpan) -> Vec<&str> {
    span.span.events.iter().map(|e| e.name.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn message_to_an_exchange_without_binding_shows_as_routed_nowhere_in_its_trace() {
    let was_on = set_tracing(true).await;
    let otel = Otel::start().await;
    let telemetry = otel.telemetry();
    let mut broker = Broker::connect().await;
    let firehose = Firehose::start(&broker.connection, telemetry.clone())
        .await
        .expect("firehose");

    let exchange = broker
        .exchange(&unique("unbound"), ExchangeKind::Direct)
        .await;
    let queue = broker.queue(&unique("routed"), FieldTable::default()).await;
    let publisher = broker.traced_channel(&telemetry).await;
    // Not mandatory: the broker accepts and silently drops it.
    publisher
        .basic_publish_with_context(
            &Context::new(),
            exchange.as_str().into(),
            "no.such.binding".into(),
            BasicPublishOptions::default(),
            b"lost",
            BasicProperties::default(),
        )
        .await
        .unwrap()
        .await
        .expect("the broker confirms an unroutable, non-mandatory message");
    // And one that arrives, for contrast.
    publisher
        .basic_publish(
            "".into(),
            queue.as_str().into(),
            BasicPublishOptions::default(),
            b"kept",
            BasicProperties::default(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let mut consumer = broker
        .traced_consumer(&telemetry, ConsumerConfig::new(&queue), &queue)
        .await;
    next_delivery(&mut consumer)
        .await
        .ack(BasicAckOptions::default())
        .await
        .unwrap();

    // publish x2, broker publish x2, broker deliver, process
    let deadline = tokio::time::Instant::now() + WAIT;
    let spans = loop {
        otel.flush().await;
        let spans = otel.amqp_spans(6).await;
        let complete = spans
            .iter()
            .any(|s| s.span.name == format!("broker deliver {queue}"))
            && spans
                .iter()
                .any(|s| s.span.name == format!("broker publish {exchange}"));
        if complete || tokio::time::Instant::now() > deadline {
            break spans;
        }
    };
    drop(firehose);
    if !was_on {
        set_tracing(false).await;
    }

    let lost_publish = span_named(&spans, &format!("publish {exchange}"));
    let lost_broker = span_named(&spans, &format!("broker publish {exchange}"));
    assert_eq!(lost_broker.trace_id(), lost_publish.trace_id());
    assert_eq!(lost_broker.parent_span_id(), lost_publish.span_id());
    assert_eq!(
        event_names(lost_broker),
        [EVENT_BROKER_RECEIVED, EVENT_BROKER_UNROUTED]
    );
    let status = lost_broker.span.status.as_ref().expect("status");
    assert_eq!(status.code, StatusCode::Error as i32);

    let kept_publish = span_named(&spans, "publish amq.default");
    let kept_broker = span_named(&spans, "broker publish amq.default");
    let delivered = span_named(&spans, &format!("broker deliver {queue}"));
    for span in [kept_broker, delivered] {
        assert_eq!(span.trace_id(), kept_publish.trace_id());
        assert_eq!(span.parent_span_id(), kept_publish.span_id());
    }
    assert_eq!(
        event_names(kept_broker),
        [EVENT_BROKER_RECEIVED, EVENT_BROKER_ROUTED]
    );
    assert_eq!(event_names(delivered), [EVENT_BROKER_DELIVERED]);
    broker.cleanup().await;
}
