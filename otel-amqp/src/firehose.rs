//! The broker as a hop in the trace, from RabbitMQ's firehose tracer.
//!
//! After `rabbitmqctl trace_on` (per vhost), RabbitMQ publishes a copy of every
//! message it receives to the topic exchange `amq.rabbitmq.trace` with routing key
//! `publish.{exchange}`, and of every delivery with `deliver.{queue}`. The copy's
//! headers describe what the broker did (`exchange_name`, `routing_keys`,
//! `routed_queues`, `node`, `redelivered`) and its `properties` header holds the
//! original message properties, including the original headers, where the trace
//! context is.
//!
//! [`Firehose`] binds a private queue to both patterns and turns each copy that
//! carries a trace context into a short INTERNAL span in that message's trace, a
//! child of the publish span:
//!
//! - `broker publish {exchange}`: event "received by exchange", then either "routed
//!   to queues" (with the queue names) or "routed to no queue", which also sets
//!   an error status: the message was dropped by the broker (no binding matched,
//!   no alternate exchange), the "message lost in RabbitMQ" of the seeds.
//! - `broker deliver {queue}`: event "delivered to consumer".
//!
//! Copies without a trace context are ignored. The firehose costs broker
//! throughput (each message is published twice); enable it for diagnosis.

use futures_util::StreamExt;
use lapin::message::Delivery;
use lapin::options::{BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection};
use opentelemetry::trace::{Span, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Array, Context, KeyValue, StringValue, Value};
use tokio::task::JoinHandle;

use crate::carrier::{value_as_str, FieldTableExtractor};
use crate::dead_letter::int_value;
use crate::error::Error;
use crate::names::*;
use crate::telemetry::AmqpTelemetry;

/// Longest name read from a firehose header (exchange, queue, node names).
const MAX_NAME_LEN: usize = 1024;

/// A running firehose consumer; dropping it stops consuming (its queue is
/// exclusive and goes away with its channel).
pub struct Firehose {
    task: JoinHandle<()>,
    queue: String,
    channel: Channel,
}

impl std::fmt::Debug for Firehose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Firehose")
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

impl Firehose {
    /// Bind a private queue to `amq.rabbitmq.trace` (`publish.#` and `deliver.#`)
    /// on a channel of its own and start turning trace copies into spans.
    ///
    /// Tracing must be on for the connection's vhost (`rabbitmqctl trace_on -p
    /// VHOST`); when it is off the firehose simply receives nothing. Must be called
    /// within a Tokio runtime.
    ///
    /// ```no_run
    /// # async fn run(connection: &lapin::Connection, telemetry: otel_amqp::AmqpTelemetry) -> Result<(), otel_amqp::Error> {
    /// let firehose = otel_amqp::Firehose::start(connection, telemetry).await?;
    /// # drop(firehose); Ok(()) }
    /// ```
    pub async fn start(
        connection: &Connection,
        telemetry: AmqpTelemetry,
    ) -> Result<Firehose, Error> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::NoRuntime("the firehose consumer"))?;
        let channel = connection.create_channel().await?;
        let queue = channel
            .queue_declare(
                "".into(),
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        let queue_name = queue.name().clone();
        for pattern in ["publish.#", "deliver.#"] {
            channel
                .queue_bind(
                    queue_name.clone(),
                    FIREHOSE_EXCHANGE.into(),
                    pattern.into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        let mut consumer = channel
            .basic_consume(
                queue_name.clone(),
                "otel-amqp-firehose".into(),
                BasicConsumeOptions {
                    no_ack: true,
                    exclusive: true,
                    ..BasicConsumeOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        let task = runtime.spawn(async move {
            while let Some(copy) = consumer.next().await {
                match copy {
                    Ok(copy) => record(&telemetry, &copy),
                    Err(_) => break,
                }
            }
        });
        Ok(Firehose {
            task,
            queue: queue_name.as_str().to_owned(),
            channel,
        })
    }

    /// The server-named queue the firehose consumes from.
    pub fn queue(&self) -> &str {
        &self.queue
    }
}

impl Drop for Firehose {
    fn drop(&mut self) {
        self.task.abort();
        let channel = self.channel.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = channel.close(200, "firehose stopped".into()).await;
            });
        }
    }
}

fn text(headers: &FieldTable, key: &str) -> Option<String> {
    headers
        .inner()
        .get(key)
        .and_then(|v| value_as_str(v, MAX_NAME_LEN))
        .map(str::to_owned)
}

fn text_list(headers: &FieldTable, key: &str) -> Option<Vec<StringValue>> {
    match headers.inner().get(key)? {
        AMQPValue::FieldArray(items) => Some(
            items
                .as_slice()
                .iter()
                .filter_map(|v| value_as_str(v, MAX_NAME_LEN))
                .map(|s| StringValue::from(s.to_owned()))
                .collect(),
        ),
        _ => None,
    }
}

/// Turn one firehose copy into a broker span, if it carries a trace context.
fn record(telemetry: &AmqpTelemetry, copy: &Delivery) {
    let Some(headers) = copy.properties.headers().as_ref() else {
        return;
    };
    let Some(AMQPValue::FieldTable(original)) = headers.inner().get("properties") else {
        return;
    };
    let Some(AMQPValue::FieldTable(original_headers)) = original.inner().get("headers") else {
        return;
    };
    let inner = &telemetry.inner;
    let parent = inner
        .propagator
        .extract_with_context(&Context::new(), &FieldTableExtractor::new(original_headers));
    if !parent.span().span_context().is_valid() {
        return;
    }
    let routing_key = copy.routing_key.as_str();
    let (kind, subject) = match routing_key.split_once('.') {
        Some(("publish", exchange)) => ("publish", exchange),
        Some(("deliver", queue)) => ("deliver", queue),
        _ => return,
    };

    let mut attributes = vec![
        KeyValue::new(MESSAGING_SYSTEM, SYSTEM_RABBITMQ),
        KeyValue::new(
            MESSAGING_DESTINATION_NAME,
            crate::publish::exchange_destination(subject).to_owned(),
        ),
    ];
    if let Some(node) = text(headers, "node") {
        attributes.push(KeyValue::new(ATTR_NODE, node));
    }
    // `order.id` comes from OrderSpanProcessor: `parent` carries the order.
    let name = format!(
        "broker {kind} {}",
        crate::publish::exchange_destination(subject)
    );
    let mut span = inner
        .tracer
        .span_builder(name)
        .with_kind(SpanKind::Internal)
        .with_attributes(attributes)
        .start_with_context(&inner.tracer, &parent);

    if kind == "publish" {
        let exchange = text(headers, "exchange_name").unwrap_or_else(|| subject.to_owned());
        let mut received = vec![KeyValue::new(
            ATTR_EXCHANGE,
            crate::publish::exchange_destination(&exchange).to_owned(),
        )];
        if let Some(keys) = text_list(headers, "routing_keys") {
            received.push(KeyValue::new(
                MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY,
                Value::Array(Array::String(keys)),
            ));
        }
        span.add_event(EVENT_BROKER_RECEIVED, received);
        match text_list(headers, "routed_queues") {
            Some(queues) if !queues.is_empty() => {
                let queues = Value::Array(Array::String(queues));
                span.set_attribute(KeyValue::new(ATTR_ROUTED_QUEUES, queues.clone()));
                span.add_event(
                    EVENT_BROKER_ROUTED,
                    vec![KeyValue::new(ATTR_ROUTED_QUEUES, queues)],
                );
            }
            Some(_) => {
                span.set_attribute(KeyValue::new(
                    ATTR_ROUTED_QUEUES,
                    Value::Array(Array::String(Vec::new())),
                ));
                span.add_event(EVENT_BROKER_UNROUTED, Vec::new());
                span.set_status(Status::error(EVENT_BROKER_UNROUTED));
            }
            // Brokers before 3.x's routed_queues header: routing is not reported.
            None => {}
        }
    } else {
        let mut delivered = vec![KeyValue::new(ATTR_QUEUE, subject.to_owned())];
        if let Some(redelivered) = headers.inner().get("redelivered").and_then(int_value) {
            delivered.push(KeyValue::new(ATTR_REDELIVERED, redelivered != 0));
        }
        span.add_event(EVENT_BROKER_DELIVERED, delivered);
    }
    span.end();
}
