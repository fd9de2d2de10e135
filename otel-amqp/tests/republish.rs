//! A message published again after a lost confirm is flagged on both sides, through
//! the real RabbitMQ (127.0.0.1:5672 or `AMQP_ADDR`), asserted on what was exported.

mod support;

use lapin::options::{BasicAckOptions, BasicPublishOptions};
use lapin::types::FieldTable;
use lapin::BasicProperties;
use opentelemetry::Context;
use otel_amqp::names::*;
use otel_amqp::ConsumerConfig;
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn republished_copy_is_flagged_on_its_publish_and_process_spans_and_counted() {
    let otel = Otel::start().await;
    let telemetry = otel.telemetry();
    let mut broker = Broker::connect().await;
    let queue = broker
        .queue(&unique("republish"), FieldTable::default())
        .await;
    let publisher = broker.traced_channel(&telemetry).await;
    // The same message twice, as a producer does when the first confirm was lost
    // but the broker had taken the message after all.
    for attempt in [1, 2] {
        publisher
            .republish_with_context(
                &Context::new(),
                attempt,
                "".into(),
                queue.as_str().into(),
                BasicPublishOptions::default(),
                b"{}",
                BasicProperties::default().with_message_id("msg-r".into()),
            )
            .await
            .expect("publish sent")
            .await
            .expect("publish confirmed");
    }
    let mut consumer = broker
        .traced_consumer(&telemetry, ConsumerConfig::new(&queue), &queue)
        .await;
    for expected in [1, 2] {
        let delivery = next_delivery(&mut consumer).await;
        // Not a broker redelivery: only the attempt header tells the copy apart.
        assert!(!delivery.redelivered);
        let headers = delivery.properties.headers().clone().unwrap_or_default();
        assert_eq!(otel_amqp::publish_attempt(&headers), expected);
        delivery.ack(BasicAckOptions::default()).await.unwrap();
    }
    otel.flush().await;

    let spans = otel.amqp_spans(4).await;
    let attempts = |name: &str| {
        let mut found: Vec<Option<i64>> = spans
            .iter()
            .filter(|s| s.span.name == name)
            .map(|s| s.attr_i64(ATTR_PUBLISH_ATTEMPT))
            .collect();
        found.sort();
        found
    };
    assert_eq!(attempts("publish amq.default"), vec![None, Some(2)]);
    assert_eq!(attempts(&format!("process {queue}")), vec![None, Some(2)]);

    let delivered = otel.metric(METRIC_REPUBLISHED_DELIVERIES).await;
    assert_eq!(
        number_point(&delivered, &[(MESSAGING_DESTINATION_NAME, &queue)]),
        Some(1.0)
    );
    let republished = otel.metric(METRIC_REPUBLISHES).await;
    assert_eq!(
        number_point(
            &republished,
            &[(MESSAGING_DESTINATION_NAME, DEFAULT_EXCHANGE)]
        ),
        Some(1.0)
    );
    broker.cleanup().await;
}
