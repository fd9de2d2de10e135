//! The publish + consume rig shared by the throughput bench and the workspace's
//! overhead gate (`benches/gate`): one queue, one publishing channel with confirms,
//! one consumer; a batch publishes N messages and consumes and acks all N, bare
//! through lapin or traced through this crate.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, Consumer};
use opentelemetry::trace::{Span as _, SpanKind, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{self as sdk, SdkTracer, SdkTracerProvider, SpanData, SpanExporter};
use otel_amqp::names::*;
use otel_amqp::{AmqpTelemetry, ConsumerConfig, DeliveryTracer, TracedChannel};
use otel_order::{OrderContext, OrderContextExt, OrderId, OrderStatus};

pub const BATCH: usize = 500;

/// The context a traced publish adds, as fixed values, for the benches that carry
/// it without this crate: `traceparent`, the order header, published-at (ms) and
/// the `timestamp` property (s).
pub const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
pub const ORDER_HEADER: &str = "id=ORD-2026-000123;status=SUBMITTED";
pub const PUBLISHED_AT_MS: i64 = 1_763_780_000_000;
pub const TIMESTAMP_S: u64 = 1_763_780_000;

/// The three context headers with the fixed values above.
pub fn context_headers() -> FieldTable {
    let mut headers = FieldTable::default();
    headers.insert(
        HEADER_TRACEPARENT.into(),
        AMQPValue::LongString(TRACEPARENT.into()),
    );
    headers.insert(
        otel_order::names::HEADER_ORDER.into(),
        AMQPValue::LongString(ORDER_HEADER.into()),
    );
    headers.insert(
        HEADER_PUBLISHED_AT.into(),
        AMQPValue::LongLongInt(PUBLISHED_AT_MS),
    );
    headers
}

/// How the publishing side of a `split_batch` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Publish {
    /// Bare lapin.
    Bare,
    /// Bare lapin carrying the headers a traced publish adds.
    Headers,
    /// `TracedChannel`.
    Traced,
    /// Bare lapin carrying the headers, under a [`FloorSpans`] producer span.
    Floor,
}

/// How the consuming side of a `split_batch` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consume {
    /// Bare lapin.
    Bare,
    /// `DeliveryTracer`.
    Traced,
    /// Bare lapin under a [`FloorSpans`] consumer span.
    Floor,
}

/// The least any instrumentation meeting the issue must do per message besides
/// carrying the context headers: one PRODUCER and one CONSUMER span, started and
/// ended through the same tracer provider as this crate's, with as many attributes
/// as this crate's spans carry (static strings where it has static ones, a
/// per-message string for the message id, the order's context as the parent so
/// the order processor stamps `order.id`), and nothing else: no header injection
/// or extraction, no links, no metrics, no context made current.
#[derive(Clone)]
pub struct FloorSpans {
    tracer: SdkTracer,
    queue: Value,
    process_name: &'static str,
}

impl FloorSpans {
    pub fn new(provider: &SdkTracerProvider, queue: &str) -> FloorSpans {
        FloorSpans {
            tracer: provider.tracer("floor"),
            queue: Value::from(Arc::<str>::from(queue)),
            process_name: Box::leak(format!("process {queue}").into_boxed_str()),
        }
    }

    /// The publish span: 8 attributes at the start, 1 at the end, `order.id`.
    pub fn publish(&self, cx: &Context, payload_len: usize, message_id: &str) -> sdk::Span {
        let mut attributes = Vec::with_capacity(10);
        attributes.extend([
            KeyValue::new(MESSAGING_SYSTEM, SYSTEM_RABBITMQ),
            KeyValue::new(MESSAGING_OPERATION_TYPE, OPERATION_TYPE_SEND),
            KeyValue::new(MESSAGING_OPERATION_NAME, OPERATION_NAME_PUBLISH),
            KeyValue::new(MESSAGING_DESTINATION_NAME, DEFAULT_EXCHANGE),
            KeyValue::new(MESSAGING_MESSAGE_BODY_SIZE, payload_len as i64),
            KeyValue::new(
                MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY,
                self.queue.clone(),
            ),
            KeyValue::new(
                MESSAGING_MESSAGE_ID,
                Value::from(Arc::<str>::from(message_id)),
            ),
            KeyValue::new(otel_order::names::ORDER_STATUS, "SUBMITTED"),
        ]);
        self.tracer
            .span_builder("publish amq.default")
            .with_kind(SpanKind::Producer)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, cx)
    }

    pub fn published(mut span: sdk::Span) {
        span.set_attribute(KeyValue::new(ATTR_CONFIRM, "ack"));
        span.end();
    }

    /// The process span: 13 attributes at the start, 3 at the settle, `order.id`.
    pub fn process(&self, cx: &Context, delivery: &lapin::message::Delivery) -> sdk::Span {
        let mut attributes = Vec::with_capacity(17);
        attributes.extend([
            KeyValue::new(MESSAGING_SYSTEM, SYSTEM_RABBITMQ),
            KeyValue::new(MESSAGING_OPERATION_TYPE, OPERATION_TYPE_PROCESS),
            KeyValue::new(MESSAGING_OPERATION_NAME, OPERATION_NAME_PROCESS),
            KeyValue::new(MESSAGING_DESTINATION_NAME, self.queue.clone()),
            KeyValue::new(
                MESSAGING_RABBITMQ_MESSAGE_DELIVERY_TAG,
                delivery.delivery_tag as i64,
            ),
            KeyValue::new(ATTR_REDELIVERED, delivery.redelivered),
            KeyValue::new(MESSAGING_MESSAGE_BODY_SIZE, delivery.data.len() as i64),
            KeyValue::new(ATTR_EXCHANGE, DEFAULT_EXCHANGE),
            KeyValue::new(
                MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY,
                self.queue.clone(),
            ),
            KeyValue::new(
                MESSAGING_MESSAGE_ID,
                Value::from(Arc::<str>::from(
                    delivery
                        .properties
                        .message_id()
                        .as_ref()
                        .map_or("", |id| id.as_str()),
                )),
            ),
            KeyValue::new(otel_order::names::ORDER_STATUS, "SUBMITTED"),
            KeyValue::new(ATTR_QUEUE_WAIT, 0.0),
            KeyValue::new(ATTR_QUEUE_WAIT_SOURCE, "header"),
        ]);
        self.tracer
            .span_builder(self.process_name)
            .with_kind(SpanKind::Consumer)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, cx)
    }

    pub fn settled(mut span: sdk::Span) {
        span.set_attributes([
            KeyValue::new(ATTR_SETTLE, "ack"),
            KeyValue::new(ATTR_SETTLE_REQUEUE, false),
            KeyValue::new(ATTR_SETTLE_MULTIPLE, false),
        ]);
        span.end();
    }
}

#[derive(Debug, Default, Clone)]
pub struct DiscardSpans(pub Arc<AtomicU64>);

impl SpanExporter for DiscardSpans {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
        std::future::ready(Ok(()))
    }
}

/// The runtime every AMQP bench runs on: two workers, like the machine.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// This crate's telemetry over `tracer_provider`, with metrics aggregated by a
/// meter provider that never exports (returned so it lives as long as the bench).
pub fn telemetry(tracer_provider: &SdkTracerProvider) -> (SdkMeterProvider, AmqpTelemetry) {
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(
            PeriodicReader::builder(DiscardMetrics)
                .with_interval(Duration::from_secs(1))
                .build(),
        )
        .build();
    let telemetry = AmqpTelemetry::builder()
        .tracer_provider(tracer_provider)
        .meter_provider(&meter_provider)
        .build();
    (meter_provider, telemetry)
}

pub struct DiscardMetrics;

impl PushMetricExporter for DiscardMetrics {
    fn export(
        &self,
        _: &ResourceMetrics,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        std::future::ready(Ok(()))
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

pub struct Rig {
    _connection: Connection,
    queue: String,
    publisher: Channel,
    traced: TracedChannel,
    consumer: Option<Consumer>,
    tracer: DeliveryTracer,
    cx: Context,
    payload: Vec<u8>,
    floor: Option<FloorSpans>,
}

impl Rig {
    pub async fn new(telemetry: AmqpTelemetry) -> Rig {
        let addr = std::env::var("AMQP_ADDR")
            .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
        let connection = Connection::connect(&addr, ConnectionProperties::default())
            .await
            .expect("RabbitMQ at AMQP_ADDR");
        let queue = format!("otel-amqp-bench.{}", std::process::id());
        let publisher = connection.create_channel().await.unwrap();
        publisher
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .unwrap();
        publisher
            .queue_declare(
                queue.as_str().into(),
                QueueDeclareOptions {
                    auto_delete: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        let consuming = connection.create_channel().await.unwrap();
        consuming
            .basic_qos(1000, BasicQosOptions::default())
            .await
            .unwrap();
        let consumer = consuming
            .basic_consume(
                queue.as_str().into(),
                "bench".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        let order = OrderContext::new(OrderId::new("ORD-2026-000123").unwrap())
            .with_status_only(OrderStatus::Submitted);
        Rig {
            traced: TracedChannel::new(publisher.clone(), telemetry.clone()),
            tracer: DeliveryTracer::new(telemetry, ConsumerConfig::new(queue.clone())),
            _connection: connection,
            queue,
            publisher,
            consumer: Some(consumer),
            cx: Context::new().with_order(order),
            payload: br#"{"order":"ORD-2026-000123","status":"SUBMITTED","items":[{"sku":"RING-1","qty":1}]}"#.to_vec(),
            floor: None,
        }
    }

    /// Enable `Publish::Floor` / `Consume::Floor`, with spans from `provider`.
    pub fn with_floor(mut self, provider: &SdkTracerProvider) -> Rig {
        self.floor = Some(FloorSpans::new(provider, &self.queue));
        self
    }

    fn properties() -> BasicProperties {
        BasicProperties::default()
            .with_content_type("application/json".into())
            .with_message_id("m".into())
    }

    pub async fn bare_batch(&mut self) {
        let publish = async {
            let mut confirms = Vec::with_capacity(BATCH);
            for _ in 0..BATCH {
                confirms.push(
                    self.publisher
                        .basic_publish(
                            "".into(),
                            self.queue.as_str().into(),
                            BasicPublishOptions::default(),
                            &self.payload,
                            Self::properties(),
                        )
                        .await
                        .unwrap(),
                );
            }
            for confirm in confirms {
                assert!(confirm.await.unwrap().is_ack());
            }
        };
        // The consumer runs in a task of its own, as in a service.
        let mut consumer = self.consumer.take().unwrap();
        let consume = tokio::spawn(async move {
            for _ in 0..BATCH {
                let delivery = consumer.next().await.unwrap().unwrap();
                delivery.ack(BasicAckOptions::default()).await.unwrap();
            }
            consumer
        });
        publish.await;
        self.consumer = Some(consume.await.unwrap());
    }

    pub async fn traced_batch(&mut self) {
        let publish = async {
            let mut confirms = Vec::with_capacity(BATCH);
            for _ in 0..BATCH {
                confirms.push(
                    self.traced
                        .basic_publish_with_context(
                            &self.cx,
                            "".into(),
                            self.queue.as_str().into(),
                            BasicPublishOptions::default(),
                            &self.payload,
                            Self::properties(),
                        )
                        .await
                        .unwrap(),
                );
            }
            for confirm in confirms {
                assert!(confirm.await.unwrap().is_ack());
            }
        };
        let mut consumer = self.consumer.take().unwrap();
        let tracer = self.tracer.clone();
        let consume = tokio::spawn(async move {
            for _ in 0..BATCH {
                let delivery = tracer.trace(consumer.next().await.unwrap().unwrap());
                delivery.ack(BasicAckOptions::default()).await.unwrap();
            }
            consumer
        });
        publish.await;
        self.consumer = Some(consume.await.unwrap());
    }

    /// The properties a bare publish carries in `Publish::Headers`: the headers
    /// and `timestamp` a traced publish adds, with fixed values.
    fn properties_with_context() -> BasicProperties {
        Self::properties()
            .with_headers(context_headers())
            .with_timestamp(TIMESTAMP_S)
    }

    /// A batch with each side chosen on its own (see `benches/split.rs`): the
    /// publisher bare, bare carrying the context headers, traced, or the floor;
    /// the consumer bare, traced, or the floor. The floor needs [`Rig::with_floor`].
    pub async fn split_batch(&mut self, publish: Publish, consume: Consume) {
        let floor = self.floor.clone();
        let floor = || {
            floor
                .clone()
                .expect("Rig::with_floor for the floor variants")
        };
        let publish = async {
            let mut confirms = Vec::with_capacity(BATCH);
            let mut traced = Vec::with_capacity(BATCH);
            let spans = (publish == Publish::Floor).then(floor);
            for _ in 0..BATCH {
                let queue = self.queue.as_str().into();
                let options = BasicPublishOptions::default();
                match publish {
                    Publish::Traced => traced.push(
                        self.traced
                            .basic_publish_with_context(
                                &self.cx,
                                "".into(),
                                queue,
                                options,
                                &self.payload,
                                Self::properties(),
                            )
                            .await
                            .unwrap(),
                    ),
                    Publish::Bare | Publish::Headers | Publish::Floor => {
                        let span = spans
                            .as_ref()
                            .map(|f| f.publish(&self.cx, self.payload.len(), "m"));
                        let confirm = self
                            .publisher
                            .basic_publish(
                                "".into(),
                                queue,
                                options,
                                &self.payload,
                                if publish == Publish::Bare {
                                    Self::properties()
                                } else {
                                    Self::properties_with_context()
                                },
                            )
                            .await
                            .unwrap();
                        confirms.push((confirm, span));
                    }
                }
            }
            for (confirm, span) in confirms {
                assert!(confirm.await.unwrap().is_ack());
                if let Some(span) = span {
                    FloorSpans::published(span);
                }
            }
            for confirm in traced {
                assert!(confirm.await.unwrap().is_ack());
            }
        };
        let mut consumer = self.consumer.take().unwrap();
        let tracer = self.tracer.clone();
        let spans = (consume == Consume::Floor).then(floor);
        let cx = self.cx.clone();
        let consume = tokio::spawn(async move {
            for _ in 0..BATCH {
                let delivery = consumer.next().await.unwrap().unwrap();
                match consume {
                    Consume::Traced => {
                        tracer
                            .trace(delivery)
                            .ack(BasicAckOptions::default())
                            .await
                            .unwrap();
                    }
                    Consume::Bare | Consume::Floor => {
                        let span = spans.as_ref().map(|f| f.process(&cx, &delivery));
                        delivery.ack(BasicAckOptions::default()).await.unwrap();
                        if let Some(span) = span {
                            FloorSpans::settled(span);
                        }
                    }
                }
            }
            consumer
        });
        publish.await;
        self.consumer = Some(consume.await.unwrap());
    }

    pub async fn cleanup(&self) {
        let _ = self
            .publisher
            .queue_delete(self.queue.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
}
