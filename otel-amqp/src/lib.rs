//! Follow orders through RabbitMQ: OpenTelemetry trace and order context in AMQP
//! message headers, messaging spans and queue metrics, for [lapin].
//!
//! # The model
//!
//! A message crossing RabbitMQ is three hops in a trace: the producer's **publish**
//! span (kind PRODUCER), the broker (optionally, from its [firehose](Firehose)), and
//! the consumer's **process** span (kind CONSUMER), under which the handler's own
//! spans nest. The producer writes its context into the message headers (W3C
//! `traceparent`, the `ordertrace-order` header, and a publish timestamp); the
//! consumer reads it back, so one trace and one order id run from the Shop to the
//! MES and back.
//!
//! The places where orders get lost each leave a mark:
//!
//! | what happens | where it shows |
//! |---|---|
//! | broker refuses a publish (nack, full queue, unroutable mandatory) | publish span error "message not accepted by broker", `rabbitmq.publish.failures` |
//! | message published to an exchange with no matching binding | firehose span "routed to no queue" |
//! | message redelivered ("processed twice") | `rabbitmq.message.redelivered` on the process span, `rabbitmq.redeliveries` |
//! | message republished after a lost confirm (a copy the broker does not flag) | `rabbitmq.message.publish_attempt` on the publish and process spans, `rabbitmq.republishes`, `rabbitmq.republished_deliveries` |
//! | message dead-lettered | `rabbitmq.x_death.*` on the DLQ consumer's span, `rabbitmq.dead_lettered`, DLQ depth gauge |
//! | message waits in a queue | `rabbitmq.message.queue_wait`, `rabbitmq.queue.wait_time` |
//! | consumer holds messages without settling | `rabbitmq.messages.in_flight` |
//!
//! # The pieces
//!
//! - [`AmqpTelemetry`]: tracer, meter and propagator shared by everything below.
//! - [`TracedChannel`]: publishes with a PRODUCER span; [`TracedConfirm`] resolves
//!   with the broker's confirm ([`publish`]).
//! - [`TracedConsumer`] / [`DeliveryTracer`]: a CONSUMER span per
//!   [`TracedDelivery`], related to the producer as [`ProducerRelation`] says
//!   ([`consume`]).
//! - [`TracedChannel::republish_with_context`]: publish again after a lost confirm,
//!   visibly ([`republish`]).
//! - [`QueueGauges`]: queue depth and consumer count of configured queues
//!   ([`gauges`]); [`Firehose`]: broker-side spans ([`firehose`]).
//! - [`carrier`]: the `FieldTable` injector and extractor, usable on their own.
//! - [`names`]: every header, attribute and metric name this crate emits.
//!
//! # Connection loss and recovery
//!
//! A broker restart, a network cut or `rabbitmqctl close_connection` kills the
//! connection with its channels and consumers. What this crate does then:
//!
//! - A publish whose confirm was still outstanding resolves to
//!   [`PublishError::Channel`]: its span ends as an error (`rabbitmq.confirm` =
//!   `channel_error`) and it counts in `rabbitmq.publish.failures`. The broker may
//!   or may not have the message; the span says the outcome is unknown, not lost.
//! - A delivery that was being handled cannot be settled any more: its `ack`
//!   returns an error or `false`, the process span records `settle_failed` (or
//!   `dropped` when the wrapper is dropped). The broker requeues every unacked
//!   delivery of a dead channel and sends it again with `redelivered` set, which
//!   the next process span shows (`rabbitmq.message.redelivered`, counted in
//!   `rabbitmq.redeliveries`).
//! - A message published again with
//!   [`TracedChannel::republish_with_context`] carries its attempt number, so the
//!   copy the broker does *not* flag is flagged too ([`republish`]).
//! - Nothing is kept per message or per connection: spans live in the
//!   [`TracedConfirm`] and [`TracedDelivery`] values, so a dead connection leaks
//!   nothing and the in-flight gauge returns to zero as they drop.
//!
//! What the application does (the crate wraps lapin values; it does not own
//! connections): reconnect with a backoff, declare its topology again (durable
//! queues and persistent messages survive a broker restart; others do not),
//! create new [`TracedChannel`]s and [`TracedConsumer`]s on the new connection,
//! consume again, and publish again, with [`TracedChannel::republish_with_context`],
//! every message whose confirm never arrived. Handlers should be idempotent by
//! message or business id where processing twice matters, and say so on the span
//! when they skip a copy. lapin's own `ConnectionProperties::enable_auto_recover`
//! (lapin 4.12+) reconnects and replays the topology itself; these wrappers work
//! over recovered channels unchanged, but unconfirmed publishes still fail and
//! still have to be republished by the application, and consumer streams yield an
//! error to wait on (`Channel::wait_for_recovery`). The jewelry example reconnects
//! explicitly (`examples/jewelry/src/reconnect.rs`): it survives a broker that is
//! down longer than any fixed retry budget, and it shows each step.
//!
//! # Example
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions};
//! use lapin::types::FieldTable;
//! use lapin::{BasicProperties, Connection, ConnectionProperties};
//! use opentelemetry::Context;
//! use opentelemetry_sdk::trace::SdkTracerProvider;
//! use otel_amqp::{AmqpTelemetry, ConsumerConfig, TracedChannel, TracedConsumer};
//! use otel_order::{OrderContext, OrderContextExt, OrderId, OrderStatus};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let provider = SdkTracerProvider::builder().build();
//! let telemetry = AmqpTelemetry::builder().tracer_provider(&provider).build();
//! let connection = Connection::connect("amqp://127.0.0.1:5672/%2f", ConnectionProperties::default()).await?;
//!
//! // Shop: publish with the order in context; the broker's confirm is awaited.
//! let channel = connection.create_channel().await?;
//! channel.confirm_select(ConfirmSelectOptions::default()).await?;
//! let shop = TracedChannel::new(channel, telemetry.clone());
//! let order = OrderContext::new(OrderId::new("ORD-1")?).with_status_only(OrderStatus::Submitted);
//! let cx = Context::current().with_order(order);
//! shop.basic_publish_with_context(&cx, "".into(), "crm.orders".into(),
//!         BasicPublishOptions::default(), b"{}", BasicProperties::default())
//!     .await?
//!     .await?;
//!
//! // CRM: consume; the handler runs under the process span, with the order context.
//! let channel = connection.create_channel().await?;
//! let consumer = channel
//!     .basic_consume("crm.orders".into(), "crm".into(), BasicConsumeOptions::default(), FieldTable::default())
//!     .await?;
//! let mut deliveries = TracedConsumer::new(consumer, telemetry, ConsumerConfig::new("crm.orders"));
//! while let Some(delivery) = deliveries.next().await {
//!     let delivery = delivery?;
//!     let order_id = delivery.order().map(|o| o.order_id().clone());
//!     delivery.in_span(async move { /* approve {order_id:?} */ }).await;
//!     delivery.ack(BasicAckOptions::default()).await?;
//! }
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod carrier;
pub mod consume;
pub mod dead_letter;
pub mod error;
pub mod firehose;
pub mod gauges;
pub mod metrics;
pub mod names;
pub mod publish;
pub mod republish;
pub mod telemetry;
mod tracer;

pub use carrier::{FieldTableExtractor, FieldTableInjector, RepublishPolicy};
pub use consume::{
    ConsumerConfig, DeliveryTracer, ProducerRelation, TracedConsumer, TracedDelivery,
};
pub use dead_letter::XDeath;
pub use error::{Error, PublishError};
pub use firehose::Firehose;
pub use gauges::{metric_export_interval, QueueGauges};
pub use publish::{TracedChannel, TracedConfirm};
pub use republish::publish_attempt;
pub use telemetry::{AmqpTelemetry, AmqpTelemetryBuilder};

/// The lapin version this crate wraps, so users need not match versions by hand.
pub use lapin;
/// The OpenTelemetry API crate this crate is built against.
pub use opentelemetry;
/// The order-context crate whose propagator is used by default.
pub use otel_order;

/// The README's examples compile as doctests, so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
