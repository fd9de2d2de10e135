//! Publish and consume through the real RabbitMQ (127.0.0.1:5672 or `AMQP_ADDR`),
//! exporting over OTLP/gRPC to the in-process receiver, and asserting on what was
//! exported: spans, their relations and attributes, and metrics.

mod support;

use std::time::Duration;

use lapin::options::{
    BasicAckOptions, BasicNackOptions, BasicPublishOptions, BasicRejectOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, ByteArray, DecimalValue, FieldArray, FieldTable};
use lapin::{BasicProperties, ExchangeKind};
use opentelemetry::trace::{Tracer, TracerProvider as _};
use opentelemetry::Context;
use otel_amqp::names::*;
use otel_amqp::{
    AmqpTelemetry, ConsumerConfig, ProducerRelation, PublishError, QueueGauges, RepublishPolicy,
};
use otel_order::names::HEADER_ORDER;
use otel_order::{OrderContext, OrderContextExt, OrderId, OrderStatus};
use otlp_receiver::proto::trace::v1::span::SpanKind;
use otlp_receiver::proto::trace::v1::status::StatusCode;
use support::*;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID: &str = "00f067aa0ba902b7";

fn order_cx(id: &str) -> Context {
    Context::new().with_order(
        OrderContext::new(OrderId::new(id).unwrap()).with_status_only(OrderStatus::Submitted),
    )
}

async fn publish(channel: &otel_amqp::TracedChannel, cx: &Context, queue: &str) {
    channel
        .basic_publish_with_context(
            cx,
            "".into(),
            queue.into(),
            BasicPublishOptions::default(),
            b"{\"order\":1}",
            BasicProperties::default().with_message_id("msg-1".into()),
        )
        .await
        .expect("publish sent")
        .await
        .expect("publish confirmed");
}

#[tokio::test(flavor = "multi_thread")]
async fn publish_and_consume_form_one_trace_with_order_id_and_nested_handler_span() {
    let otel = Otel::start().await;
    let telemetry = otel.telemetry();
    let mut broker = Broker::connect().await;
    let queue = broker
        .queue(&unique("one-trace"), FieldTable::default())
        .await;
    let publisher = broker.traced_channel(&telemetry).await;
    publish(&publisher, &order_cx("ORD-2026-000123"), &queue).await;

    let config = ConsumerConfig::new(&queue).consumer_group("crm");
    let mut consumer = broker.traced_consumer(&telemetry, config, &queue).await;
    let delivery = next_delivery(&mut consumer).await;
    assert_eq!(
        delivery.order().map(|o| o.order_id().as_str()),
        Some("ORD-2026-000123")
    );
    let handler_tracer = otel.tracer("crm-handler");
    let seen_in_handler = delivery
        .in_span(async {
            let _span = handler_tracer.start("approve order");
            OrderContext::current().map(|o| o.order_id().as_str().to_owned())
        })
        .await;
    assert_eq!(seen_in_handler.as_deref(), Some("ORD-2026-000123"));
    delivery.ack(BasicAckOptions::default()).await.unwrap();
    otel.flush().await;

    let spans = otel.receiver.wait_for_spans(3, WAIT).await;
    let publish = span_named(&spans, "publish amq.default");
    let process = span_named(&spans, &format!("process {queue}"));
    let handler = span_named(&spans, "approve order");

    assert_eq!(publish.span.kind, SpanKind::Producer as i32);
    assert_eq!(process.span.kind, SpanKind::Consumer as i32);
    assert_eq!(process.trace_id(), publish.trace_id());
    assert_eq!(handler.trace_id(), publish.trace_id());
    // Default relation: child of the producer span and linked to it.
    assert_eq!(process.parent_span_id(), publish.span_id());
    assert_eq!(linked_span_ids(process), vec![publish.span_id()]);
    assert_eq!(handler.parent_span_id(), process.span_id());

    for span in [publish, process] {
        assert_eq!(span.attr_str("order.id"), Some("ORD-2026-000123"));
        assert_eq!(span.attr_str("order.status"), Some("SUBMITTED"));
        assert_eq!(span.attr_str(MESSAGING_SYSTEM), Some("rabbitmq"));
        assert_eq!(span.attr_str(MESSAGING_MESSAGE_ID), Some("msg-1"));
        assert_eq!(
            span.attr_str(MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY),
            Some(queue.as_str())
        );
    }
    assert_eq!(publish.attr_str(MESSAGING_OPERATION_TYPE), Some("send"));
    assert_eq!(
        publish.attr_str(MESSAGING_DESTINATION_NAME),
        Some("amq.default")
    );
    assert_eq!(publish.attr_str(ATTR_CONFIRM), Some("ack"));
    assert_eq!(process.attr_str(MESSAGING_OPERATION_TYPE), Some("process"));
    assert_eq!(
        process.attr_str(MESSAGING_DESTINATION_NAME),
        Some(queue.as_str())
    );
    assert_eq!(process.attr_str(MESSAGING_CONSUMER_GROUP_NAME), Some("crm"));
    assert_eq!(
        process.attr_i64(MESSAGING_RABBITMQ_MESSAGE_DELIVERY_TAG),
        Some(1)
    );
    assert_eq!(process.attr_i64(MESSAGING_MESSAGE_BODY_SIZE), Some(11));
    assert_eq!(attr_bool(process, ATTR_REDELIVERED), Some(false));
    assert_eq!(process.attr_str(ATTR_SETTLE), Some("ack"));
    assert_eq!(attr_bool(process, ATTR_SETTLE_REQUEUE), Some(false));
    assert_eq!(attr_bool(process, ATTR_SETTLE_MULTIPLE), Some(false));
    // The span ends at the settle; only an unsettled drop adds an event.
    assert!(process.span.events.is_empty());

    let consumed = otel.metric(MESSAGING_CLIENT_CONSUMED_MESSAGES).await;
    assert_eq!(
        number_point(&consumed, &[(MESSAGING_DESTINATION_NAME, &queue)]),
        Some(1.0)
    );
    let sent = otel.metric(MESSAGING_CLIENT_SENT_MESSAGES).await;
    assert_eq!(
        number_point(&sent, &[(MESSAGING_DESTINATION_NAME, "amq.default")]),
        Some(1.0)
    );
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn link_relation_roots_a_new_trace_that_links_to_the_producer() {
    let otel = Otel::start().await;
    let telemetry = otel.telemetry();
    let mut broker = Broker::connect().await;
    let queue = broker
        .queue(&unique("link-only"), FieldTable::default())
        .await;
    let publisher = broker.traced_channel(&telemetry).await;
    publish(&publisher, &order_cx("ORD-7"), &queue).await;

    let config = ConsumerConfig::new(&queue).relation(ProducerRelation::Link);
    let mut consumer = broker.traced_consumer(&telemetry, config, &queue).await;
    let delivery = next_delivery(&mut consumer).await;
    delivery.ack(BasicAckOptions::default()).await.unwrap();
    otel.flush().await;

    let spans = otel.amqp_spans(2).await;
    let publish = span_named(&spans, "publish amq.default");
    let process = span_named(&spans, &format!("process {queue}"));
    assert_ne!(process.trace_id(), publish.trace_id());
    assert_eq!(process.parent_span_id(), "");
    assert_eq!(linked_span_ids(process), vec![publish.span_id()]);
    assert_eq!(process.attr_str("order.id"), Some("ORD-7"));
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn nack_with_requeue_is_redelivered_and_stays_in_the_original_trace() {
    let otel = Otel::start().await;
    let telemetry = otel.telemetry();
    let mut broker = Broker::connect().await;
    let queue = broker
        .queue(&unique("requeue"), FieldTable::default())
        .await;
    let publisher = broker.traced_channel(&telemetry).await;
    publish(&publisher, &order_cx("ORD-8"), &queue).await;

    let mut consumer = broker
        .traced_consumer(&telemetry, ConsumerConfig::new(&queue), &queue)
        .await;
    let first = next_delivery(&mut consumer).await;
    assert!(!first.redelivered);
    first
        .nack(BasicNackOptions {
            requeue: true,
            multiple: false,
        })
        .await
        .unwrap();
    let second = next_delivery(&mut consumer).await;
    assert!(second.redelivered);
    second.ack(BasicAckOptions::default()).await.unwrap();
    otel.flush().await;

    let spans = otel.amqp_spans(3).await;
    let publish = span_named(&spans, "publish amq.default");
    let processes: Vec<_> = spans
        .iter()
        .filter(|s| s.span.name == format!("process {queue}"))
        .collect();
    assert_eq!(processes.len(), 2);
    let first = processes
        .iter()
        .find(|s| attr_bool(s, ATTR_REDELIVERED) == Some(false))
        .expect("first delivery span");
    let second = processes
        .iter()
        .find(|s| attr_bool(s, ATTR_REDELIVERED) == Some(true))
        .expect("redelivery span");
    for span in [first, second] {
        assert_eq!(span.trace_id(), publish.trace_id());
        assert_eq!(span.parent_span_id(), publish.span_id());
        assert_eq!(span.attr_str("order.id"), Some("ORD-8"));
    }
    assert_eq!(first.attr_str(ATTR_SETTLE), Some("nack"));
    assert_eq!(attr_bool(first, ATTR_SETTLE_REQUEUE), Some(true));
    assert_eq!(second.attr_str(ATTR_SETTLE), Some("ack"));

    let redeliveries = otel.metric(METRIC_REDELIVERIES).await;
    assert_eq!(
        number_point(&redeliveries, &[(MESSAGING_DESTINATION_NAME, &queue)]),
        Some(1.0)
    );
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_message_reaches_the_dead_letter_queue_with_x_death_in_the_same_trace() {
    let otel = Otel::start().await;
    let telemetry = otel.telemetry();
    let mut broker = Broker::connect().await;
    let dlx = broker.exchange(&unique("dlx"), ExchangeKind::Fanout).await;
    let dlq = broker.queue(&unique("dlq"), FieldTable::default()).await;
    broker
        .channel
        .queue_bind(
            dlq.as_str().into(),
            dlx.as_str().into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(dlx.as_str().into()),
    );
    let work = broker.queue(&unique("work"), arguments).await;
    let publisher = broker.traced_channel(&telemetry).await;
    publish(&publisher, &order_cx("ORD-9"), &work).await;

    let mut consumer = broker
        .traced_consumer(&telemetry, ConsumerConfig::new(&work), &work)
        .await;
    let delivery = next_delivery(&mut consumer).await;
    assert!(delivery.x_death().is_none());
    delivery
        .reject(BasicRejectOptions { requeue: false })
        .await
        .unwrap();

    // The DLQ depth gauge sees the dead-lettered message.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let depth = broker
            .channel
            .queue_declare(dlq.as_str().into(), passive, FieldTable::default())
            .await
            .unwrap()
            .message_count();
        if depth == 1 || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let gauges = QueueGauges::start(
        broker.connection.clone(),
        &telemetry,
        [work.clone(), dlq.clone()],
        Duration::from_secs(3600),
    )
    .await
    .unwrap();
    assert_eq!(gauges.cached(&dlq), Some((1, 0)));
    otel.flush().await;
    let ready = otel.metric(METRIC_QUEUE_MESSAGES_READY).await;
    assert_eq!(
        number_point(&ready, &[(MESSAGING_DESTINATION_NAME, &dlq)]),
        Some(1.0)
    );
    assert_eq!(
        number_point(&ready, &[(MESSAGING_DESTINATION_NAME, &work)]),
        Some(0.0)
    );
    let consumers = otel.metric(METRIC_QUEUE_CONSUMERS).await;
    assert_eq!(
        number_point(&consumers, &[(MESSAGING_DESTINATION_NAME, &work)]),
        Some(1.0)
    );

    let mut dlq_consumer = broker
        .traced_consumer(&telemetry, ConsumerConfig::new(&dlq), &dlq)
        .await;
    let dead = next_delivery(&mut dlq_consumer).await;
    let death = dead
        .x_death()
        .expect("x-death on the dead-lettered message");
    assert_eq!(death.count, 1);
    dead.ack(BasicAckOptions::default()).await.unwrap();
    drop(gauges);
    otel.flush().await;

    let spans = otel.amqp_spans(3).await;
    let publish = span_named(&spans, "publish amq.default");
    let rejected = span_named(&spans, &format!("process {work}"));
    let dead = span_named(&spans, &format!("process {dlq}"));
    assert_eq!(rejected.attr_str(ATTR_SETTLE), Some("reject"));
    assert_eq!(attr_bool(rejected, ATTR_SETTLE_REQUEUE), Some(false));
    assert_eq!(dead.trace_id(), publish.trace_id());
    assert_eq!(dead.parent_span_id(), publish.span_id());
    assert_eq!(dead.attr_i64(ATTR_X_DEATH_COUNT), Some(1));
    assert_eq!(dead.attr_str(ATTR_X_DEATH_REASON), Some("rejected"));
    assert_eq!(dead.attr_str(ATTR_X_DEATH_QUEUE), Some(work.as_str()));
    assert_eq!(dead.attr_str("order.id"), Some("ORD-9"));

    let dead_lettered = otel.metric(METRIC_DEAD_LETTERED).await;
    assert_eq!(
        number_point(
            &dead_lettered,
            &[
                (MESSAGING_DESTINATION_NAME, &dlq),
                (ATTR_X_DEATH_QUEUE, &work),
                (ATTR_X_DEATH_REASON, "rejected")
            ]
        ),
        Some(1.0)
    );
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn publish_refused_by_a_full_queue_is_a_span_error_and_counted() {
    let otel = Otel::start().await;
    let telemetry = otel.telemetry();
    let mut broker = Broker::connect().await;
    let mut arguments = FieldTable::default();
    arguments.insert("x-max-length".into(), AMQPValue::LongInt(1));
    arguments.insert(
        "x-overflow".into(),
        AMQPValue::LongString("reject-publish".into()),
    );
    let queue = broker.queue(&unique("full"), arguments).await;
    let publisher = broker.traced_channel(&telemetry).await;
    publish(&publisher, &order_cx("ORD-10"), &queue).await;
    let refused = publisher
        .basic_publish_with_context(
            &order_cx("ORD-11"),
            "".into(),
            queue.as_str().into(),
            BasicPublishOptions::default(),
            b"second",
            BasicProperties::default(),
        )
        .await
        .expect("sent")
        .await;
    assert!(
        matches!(refused, Err(PublishError::Nacked { .. })),
        "{refused:?}"
    );
    otel.flush().await;

    let spans = otel.amqp_spans(2).await;
    let failed = spans
        .iter()
        .find(|s| s.attr_str("order.id") == Some("ORD-11"))
        .expect("span of the refused publish");
    let status = failed.span.status.as_ref().expect("status");
    assert_eq!(status.code, StatusCode::Error as i32);
    assert_eq!(status.message, ERROR_NOT_ACCEPTED);
    assert_eq!(failed.attr_str(ERROR_TYPE), Some("nack"));
    let accepted = spans
        .iter()
        .find(|s| s.attr_str("order.id") == Some("ORD-10"))
        .unwrap();
    assert_ne!(
        accepted.span.status.as_ref().map(|s| s.code),
        Some(StatusCode::Error as i32)
    );

    let failures = otel.metric(METRIC_PUBLISH_FAILURES).await;
    assert_eq!(
        number_point(
            &failures,
            &[
                (MESSAGING_DESTINATION_NAME, "amq.default"),
                (ERROR_TYPE, "nack")
            ]
        ),
        Some(1.0)
    );
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unroutable_mandatory_publish_is_returned_as_an_error() {
    let otel = Otel::start().await;
    let telemetry = otel.telemetry();
    let mut broker = Broker::connect().await;
    let exchange = broker
        .exchange(&unique("nobinding"), ExchangeKind::Direct)
        .await;
    let publisher = broker.traced_channel(&telemetry).await;
    let result = publisher
        .basic_publish(
            exchange.as_str().into(),
            "nowhere".into(),
            BasicPublishOptions {
                mandatory: true,
                immediate: false,
            },
            b"lost",
            BasicProperties::default(),
        )
        .await
        .expect("sent")
        .await;
    match result {
        Err(PublishError::Returned { reply_code, .. }) => assert_eq!(reply_code, 312),
        other => panic!("expected a return, got {other:?}"),
    }
    otel.flush().await;
    let spans = otel.amqp_spans(1).await;
    let span = span_named(&spans, &format!("publish {exchange}"));
    assert_eq!(span.attr_str(ERROR_TYPE), Some("returned"));
    assert_eq!(
        span.span.status.as_ref().map(|s| s.message.as_str()),
        Some(ERROR_NOT_ACCEPTED)
    );
    broker.cleanup().await;
}

fn traceparent(span: &str) -> String {
    format!("00-{TRACE_ID}-{span}-01")
}

#[tokio::test(flavor = "multi_thread")]
async fn trace_headers_as_byte_arrays_and_long_strings_with_foreign_headers_extract() {
    let otel = Otel::start().await;
    let telemetry = otel.telemetry();
    let mut broker = Broker::connect().await;
    let queue = broker
        .queue(&unique("interop"), FieldTable::default())
        .await;
    // Written the way the Java / Go clients write strings (byte arrays), and the
    // way most others do (long strings), next to headers this crate knows nothing of.
    let span_ids = ["1111111111111111", "2222222222222222"];
    for (i, span_id) in span_ids.iter().enumerate() {
        let text = |s: String| match i {
            0 => AMQPValue::ByteArray(ByteArray::from(s.into_bytes())),
            _ => AMQPValue::LongString(s.into()),
        };
        let mut headers = FieldTable::default();
        headers.insert("traceparent".into(), text(traceparent(span_id)));
        headers.insert(HEADER_ORDER.into(), text(format!("id=ORD-{i}")));
        headers.insert("__TypeId__".into(), text("com.shop.OrderSubmitted".into()));
        headers.insert("x-retries".into(), AMQPValue::LongInt(3));
        let mut nested = FieldTable::default();
        nested.insert("k".into(), AMQPValue::Boolean(true));
        headers.insert("x-meta".into(), AMQPValue::FieldTable(nested));
        broker
            .channel
            .basic_publish(
                "".into(),
                queue.as_str().into(),
                BasicPublishOptions::default(),
                b"foreign",
                BasicProperties::default().with_headers(headers),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let mut consumer = broker
        .traced_consumer(&telemetry, ConsumerConfig::new(&queue), &queue)
        .await;
    for i in 0..span_ids.len() {
        let delivery = next_delivery(&mut consumer).await;
        let expected = format!("ORD-{i}");
        assert_eq!(
            delivery.order().map(|o| o.order_id().as_str()),
            Some(expected.as_str())
        );
        // The user's headers reach the handler untouched.
        let headers = delivery.properties.headers().clone().unwrap();
        assert_eq!(
            headers.inner().get("x-retries"),
            Some(&AMQPValue::LongInt(3))
        );
        delivery.ack(BasicAckOptions::default()).await.unwrap();
    }

    // Short strings cannot cross RabbitMQ from lapin (no wire type id), but other
    // code may hand such tables over: the same extraction applies.
    let mut headers = FieldTable::default();
    headers.insert(
        "traceparent".into(),
        AMQPValue::ShortString(traceparent("3333333333333333").into()),
    );
    headers.insert(
        HEADER_ORDER.into(),
        AMQPValue::ShortString("id=ORD-2;status=SUBMITTED".into()),
    );
    let mut local =
        lapin::message::Delivery::mock(1, "".into(), queue.as_str().into(), false, Vec::new());
    local.properties = BasicProperties::default().with_headers(headers);
    let traced = consumer.delivery_tracer().trace(local);
    assert_eq!(traced.order().map(|o| o.order_id().as_str()), Some("ORD-2"));
    drop(traced);
    otel.flush().await;

    let spans = otel.amqp_spans(3).await;
    let mut parents: Vec<_> = spans
        .iter()
        .filter(|s| s.span.name == format!("process {queue}"))
        .map(|s| {
            assert_eq!(s.trace_id(), TRACE_ID);
            assert!(s.attr_str("order.id").is_some());
            s.parent_span_id()
        })
        .collect();
    parents.sort();
    assert_eq!(
        parents,
        ["1111111111111111", "2222222222222222", "3333333333333333"]
    );
    broker.cleanup().await;
}

/// Every AMQP value type RabbitMQ carries, as garbage where text is expected.
fn garbage_values() -> Vec<AMQPValue> {
    vec![
        AMQPValue::Boolean(true),
        AMQPValue::ShortShortInt(-1),
        AMQPValue::ShortShortUInt(255),
        AMQPValue::ShortInt(-300),
        AMQPValue::ShortUInt(65535),
        AMQPValue::LongInt(-7),
        AMQPValue::LongUInt(7),
        AMQPValue::LongLongInt(i64::MIN),
        AMQPValue::Float(1.5),
        AMQPValue::Double(1e300),
        AMQPValue::DecimalValue(DecimalValue {
            scale: 2,
            value: 12345,
        }),
        AMQPValue::FieldArray(FieldArray::from(vec![AMQPValue::LongString(
            traceparent(SPAN_ID).into(),
        )])),
        AMQPValue::Timestamp(u64::MAX),
        AMQPValue::FieldTable(FieldTable::default()),
        AMQPValue::Void,
        AMQPValue::ByteArray(ByteArray::from(vec![0xff, 0xfe, 0x00])),
        AMQPValue::LongString(vec![0xc3, 0x28].into()),
        // Over the 4 KiB cap (six of them still fit in one header frame).
        AMQPValue::LongString("x".repeat(8 * 1024).into()),
        AMQPValue::LongString("00-zz-yy-01".into()),
        AMQPValue::LongString("".into()),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_header_values_of_every_type_extract_to_no_context() {
    let otel = Otel::start().await;
    let telemetry = otel.telemetry();
    let mut broker = Broker::connect().await;
    let queue = broker
        .queue(&unique("garbage"), FieldTable::default())
        .await;
    let values = garbage_values();
    for value in &values {
        let mut headers = FieldTable::default();
        for key in [
            "traceparent",
            "tracestate",
            HEADER_ORDER,
            HEADER_PUBLISHED_AT,
            HEADER_X_DEATH,
        ] {
            headers.insert(key.into(), value.clone());
        }
        broker
            .channel
            .basic_publish(
                "".into(),
                queue.as_str().into(),
                BasicPublishOptions::default(),
                b"garbage",
                BasicProperties::default().with_headers(headers),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let mut consumer = broker
        .traced_consumer(&telemetry, ConsumerConfig::new(&queue), &queue)
        .await;
    for _ in &values {
        let delivery = next_delivery(&mut consumer).await;
        assert!(delivery.order().is_none());
        delivery.ack(BasicAckOptions::default()).await.unwrap();
    }
    otel.flush().await;

    let spans = otel.amqp_spans(values.len()).await;
    assert_eq!(spans.len(), values.len());
    let mut trace_ids = std::collections::HashSet::new();
    for span in &spans {
        assert_eq!(span.parent_span_id(), "", "{:?}", span.span.attributes);
        assert!(span.span.links.is_empty());
        assert_ne!(span.trace_id(), TRACE_ID);
        assert!(span.attr_str("order.id").is_none());
        trace_ids.insert(span.trace_id());
    }
    assert_eq!(
        trace_ids.len(),
        values.len(),
        "each garbage message roots its own trace"
    );
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_wait_time_covers_the_time_the_message_sat_in_the_queue() {
    let otel = Otel::start().await;
    let telemetry = otel.telemetry();
    let mut broker = Broker::connect().await;
    let queue = broker.queue(&unique("wait"), FieldTable::default()).await;
    let publisher = broker.traced_channel(&telemetry).await;
    publish(&publisher, &order_cx("ORD-12"), &queue).await;
    let delay = Duration::from_millis(1500);
    tokio::time::sleep(delay).await;
    let mut consumer = broker
        .traced_consumer(&telemetry, ConsumerConfig::new(&queue), &queue)
        .await;
    let delivery = next_delivery(&mut consumer).await;
    delivery.ack(BasicAckOptions::default()).await.unwrap();
    otel.flush().await;

    let spans = otel.amqp_spans(2).await;
    let process = span_named(&spans, &format!("process {queue}"));
    let waited = attr_f64(process, ATTR_QUEUE_WAIT).expect("queue wait on the span");
    assert!(waited >= delay.as_secs_f64(), "waited {waited}s");
    assert!(waited < 30.0, "waited {waited}s");
    assert_eq!(process.attr_str(ATTR_QUEUE_WAIT_SOURCE), Some("header"));

    let histogram = otel.metric(METRIC_QUEUE_WAIT).await;
    let point = histogram_point(&histogram, &[(MESSAGING_DESTINATION_NAME, &queue)])
        .expect("wait-time point for the queue");
    assert_eq!(point.count, 1);
    assert!(point.sum.unwrap_or(0.0) >= delay.as_secs_f64());
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dropped_delivery_ends_its_span_and_leaves_nothing_in_flight() {
    let otel = Otel::start().await;
    let telemetry = otel.telemetry();
    let mut broker = Broker::connect().await;
    let queue = broker
        .queue(&unique("dropped"), FieldTable::default())
        .await;
    let publisher = broker.traced_channel(&telemetry).await;
    for _ in 0..3 {
        publish(&publisher, &order_cx("ORD-13"), &queue).await;
    }
    let mut consumer = broker
        .traced_consumer(&telemetry, ConsumerConfig::new(&queue), &queue)
        .await;
    let kept = next_delivery(&mut consumer).await;
    let acked = next_delivery(&mut consumer).await;
    let dropped = next_delivery(&mut consumer).await;
    otel.flush().await;
    let in_flight = otel.metric(METRIC_IN_FLIGHT).await;
    assert_eq!(
        number_point(&in_flight, &[(MESSAGING_DESTINATION_NAME, &queue)]),
        Some(3.0)
    );

    acked.ack(BasicAckOptions::default()).await.unwrap();
    drop(dropped);
    drop(kept);
    otel.flush().await;
    let spans = otel.amqp_spans(6).await;
    let processes: Vec<_> = spans
        .iter()
        .filter(|s| s.span.name == format!("process {queue}"))
        .collect();
    assert_eq!(processes.len(), 3, "every delivery's span ended");
    let dropped_spans: Vec<_> = processes
        .iter()
        .filter(|s| s.attr_str(ATTR_SETTLE) == Some("dropped"))
        .collect();
    assert_eq!(dropped_spans.len(), 2);
    for span in dropped_spans {
        assert!(span
            .span
            .events
            .iter()
            .any(|e| e.name == EVENT_DROPPED_UNSETTLED));
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let in_flight = otel.metric(METRIC_IN_FLIGHT).await;
        let value = number_point(&in_flight, &[(MESSAGING_DESTINATION_NAME, &queue)]);
        if value == Some(0.0) || tokio::time::Instant::now() > deadline {
            assert_eq!(value, Some(0.0));
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn republish_policy_links_or_keeps_an_existing_trace_context() {
    let otel = Otel::start().await;
    let mut broker = Broker::connect().await;
    let queue = broker
        .queue(&unique("republish"), FieldTable::default())
        .await;
    let mut headers = FieldTable::default();
    headers.insert(
        "traceparent".into(),
        AMQPValue::LongString(traceparent(SPAN_ID).into()),
    );
    for policy in [RepublishPolicy::Link, RepublishPolicy::Keep] {
        let telemetry = AmqpTelemetry::builder()
            .tracer_provider(&otel.tracer_provider)
            .meter_provider(&otel.meter_provider)
            .republish_policy(policy)
            .build();
        let publisher = broker.traced_channel(&telemetry).await;
        publisher
            .basic_publish(
                "".into(),
                queue.as_str().into(),
                BasicPublishOptions::default(),
                format!("{policy:?}").as_bytes(),
                BasicProperties::default().with_headers(headers.clone()),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let telemetry = otel.telemetry();
    let mut consumer = broker
        .traced_consumer(&telemetry, ConsumerConfig::new(&queue), &queue)
        .await;
    let mut parents = Vec::new();
    for _ in 0..2 {
        let delivery = next_delivery(&mut consumer).await;
        parents.push((
            String::from_utf8(delivery.data().to_vec()).unwrap(),
            delivery.context().clone(),
        ));
        delivery.ack(BasicAckOptions::default()).await.unwrap();
    }
    drop(parents);
    otel.flush().await;

    let spans = otel.amqp_spans(4).await;
    let publishes: Vec<_> = spans
        .iter()
        .filter(|s| s.span.name == "publish amq.default")
        .collect();
    assert_eq!(publishes.len(), 2);
    // Both publish spans continue the current (empty) context, so they root new
    // traces; Link records the old context as a link, Keep leaves the headers alone.
    let linked = publishes
        .iter()
        .find(|s| !s.span.links.is_empty())
        .expect("the Link publish");
    assert_eq!(linked_span_ids(linked), vec![SPAN_ID.to_owned()]);
    let processes: Vec<_> = spans
        .iter()
        .filter(|s| s.span.name == format!("process {queue}"))
        .collect();
    assert!(
        processes
            .iter()
            .any(|p| p.parent_span_id() == linked.span_id()),
        "Link: the consumer continues the new publish"
    );
    assert!(
        processes
            .iter()
            .any(|p| p.parent_span_id() == SPAN_ID && p.trace_id() == TRACE_ID),
        "Keep: the consumer continues the original context"
    );
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn handler_tracer_from_another_provider_still_nests_under_process_span() {
    // The handler may use the global tracer; only the context matters.
    let otel = Otel::start().await;
    let telemetry = otel.telemetry();
    let mut broker = Broker::connect().await;
    let queue = broker.queue(&unique("nest"), FieldTable::default()).await;
    let publisher = broker.traced_channel(&telemetry).await;
    publish(&publisher, &order_cx("ORD-14"), &queue).await;
    let mut consumer = broker
        .traced_consumer(&telemetry, ConsumerConfig::new(&queue), &queue)
        .await;
    let delivery = next_delivery(&mut consumer).await;
    let other = otel.tracer_provider.tracer("other-lib");
    {
        let _guard = delivery.attach();
        let _span = other.start("sync step");
    }
    delivery.ack(BasicAckOptions::default()).await.unwrap();
    otel.flush().await;
    let spans = otel.receiver.wait_for_spans(3, WAIT).await;
    let process = span_named(&spans, &format!("process {queue}"));
    let step = span_named(&spans, "sync step");
    assert_eq!(step.parent_span_id(), process.span_id());
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_gauges_skip_a_missing_queue_and_keep_reporting_the_others() {
    let otel = Otel::start().await;
    let telemetry = otel.telemetry();
    let mut broker = Broker::connect().await;
    let present = broker
        .queue(&unique("present"), FieldTable::default())
        .await;
    let missing = unique("missing");
    let publisher = broker.traced_channel(&telemetry).await;
    publish(&publisher, &order_cx("ORD-15"), &present).await;
    publish(&publisher, &order_cx("ORD-16"), &present).await;

    // The missing queue comes first: its 404 closes the gauges' channel, which
    // must be reopened for the queue after it.
    let gauges = QueueGauges::start(
        broker.connection.clone(),
        &telemetry,
        [missing.clone(), present.clone()],
        Duration::from_millis(100),
    )
    .await
    .unwrap();
    assert_eq!(gauges.cached(&missing), None);
    assert_eq!(gauges.cached(&present), Some((2, 0)));

    // The background refresh follows the queue.
    let mut consumer = broker
        .traced_consumer(&telemetry, ConsumerConfig::new(&present), &present)
        .await;
    let first = next_delivery(&mut consumer).await;
    first.ack(BasicAckOptions::default()).await.unwrap();
    // One delivered but unacked (prefetch), one acked: none ready, one consumer.
    assert_eq!(
        cached_until(&gauges, &present, Some((0, 1))).await,
        Some((0, 1))
    );

    otel.flush().await;
    let ready = otel.metric(METRIC_QUEUE_MESSAGES_READY).await;
    assert_eq!(
        number_point(&ready, &[(MESSAGING_DESTINATION_NAME, &present)]),
        Some(0.0)
    );
    assert_eq!(
        number_point(&ready, &[(MESSAGING_DESTINATION_NAME, &missing)]),
        None
    );
    let duration = otel.metric(MESSAGING_PROCESS_DURATION).await;
    let point = histogram_point(&duration, &[(MESSAGING_DESTINATION_NAME, &present)])
        .expect("process duration of the acked delivery");
    assert_eq!(point.count, 1);
    drop(gauges);
    broker.cleanup().await;
}

/// Waits until `gauges` holds `expected` for `queue`; the last value seen.
async fn cached_until(
    gauges: &QueueGauges,
    queue: &str,
    expected: Option<(u64, u64)>,
) -> Option<(u64, u64)> {
    let deadline = tokio::time::Instant::now() + WAIT;
    while gauges.cached(queue) != expected && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    gauges.cached(queue)
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_gauges_report_nothing_once_their_one_connection_is_lost() {
    let otel = Otel::start().await;
    let telemetry = otel.telemetry();
    let mut broker = Broker::connect().await;
    let queue = broker.queue(&unique("lost"), FieldTable::default()).await;
    let publisher = broker.traced_channel(&telemetry).await;
    publish(&publisher, &order_cx("ORD-17"), &queue).await;
    let own = Broker::connect().await;
    let gauges = QueueGauges::start(
        own.connection.clone(),
        &telemetry,
        [queue.clone()],
        Duration::from_millis(50),
    )
    .await
    .unwrap();
    assert_eq!(gauges.cached(&queue), Some((1, 0)));
    own.connection.close(200, "test".into()).await.unwrap();
    // Not the last value before the loss, reported as if it still held.
    assert_eq!(cached_until(&gauges, &queue, None).await, None);
    drop(gauges);
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_gauges_move_to_the_next_connection_when_theirs_is_lost() {
    use std::sync::{Arc, Mutex};

    let otel = Otel::start().await;
    let telemetry = otel.telemetry();
    let mut broker = Broker::connect().await;
    let queue = broker
        .queue(&unique("reconnect"), FieldTable::default())
        .await;
    let publisher = broker.traced_channel(&telemetry).await;
    publish(&publisher, &order_cx("ORD-18"), &queue).await;

    // Every connection the gauges are given, so the test can take one away.
    let given: Arc<Mutex<Vec<Arc<lapin::Connection>>>> = Arc::default();
    let gauges = QueueGauges::start_reconnecting(
        {
            let given = given.clone();
            move || {
                let given = given.clone();
                async move {
                    let connection = Broker::connect().await.connection;
                    given.lock().unwrap().push(connection.clone());
                    Some(connection)
                }
            }
        },
        &telemetry,
        [queue.clone()],
        Duration::from_millis(50),
    )
    .await
    .unwrap();
    assert_eq!(
        cached_until(&gauges, &queue, Some((1, 0))).await,
        Some((1, 0))
    );
    assert_eq!(given.lock().unwrap().len(), 1);

    let first = given.lock().unwrap()[0].clone();
    first.close(200, "test".into()).await.unwrap();
    publish(&publisher, &order_cx("ORD-19"), &queue).await;
    // The second message is seen through a second connection.
    assert_eq!(
        cached_until(&gauges, &queue, Some((2, 0))).await,
        Some((2, 0))
    );
    assert_eq!(
        given.lock().unwrap().len(),
        2,
        "asked once more, not on every refresh"
    );
    assert!(given.lock().unwrap()[1].status().connected());

    // One set of instruments: one point for the queue, with today's value.
    otel.flush().await;
    let ready = otel.metric(METRIC_QUEUE_MESSAGES_READY).await;
    let points: Vec<f64> = ready
        .number_points()
        .into_iter()
        .filter(|(a, _)| otlp_receiver::has_attributes(a, &[(MESSAGING_DESTINATION_NAME, &queue)]))
        .map(|(_, v)| v)
        .collect();
    assert_eq!(points, [2.0]);
    drop(gauges);
    broker.cleanup().await;
}
