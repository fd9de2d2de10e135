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
use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use otel_amqp::{AmqpTelemetry, ConsumerConfig, DeliveryTracer, TracedChannel};
use otel_order::{OrderContext, OrderContextExt, OrderId, OrderStatus};

pub const BATCH: usize = 500;

/// How the publishing side of a `split_batch` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Publish {
    /// Bare lapin.
    Bare,
    /// Bare lapin carrying the headers a traced publish adds.
    Headers,
    /// `TracedChannel`.
    Traced,
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
        }
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
        let mut headers = FieldTable::default();
        headers.insert(
            "traceparent".into(),
            AMQPValue::LongString("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
        );
        headers.insert(
            otel_order::names::HEADER_ORDER.into(),
            AMQPValue::LongString("id=ORD-2026-000123;status=SUBMITTED".into()),
        );
        headers.insert(
            otel_amqp::names::HEADER_PUBLISHED_AT.into(),
            AMQPValue::LongLongInt(1_763_780_000_000),
        );
        Self::properties()
            .with_headers(headers)
            .with_timestamp(1_763_780_000)
    }

    /// A batch with each side chosen on its own (see `benches/split.rs`): the
    /// publisher bare, bare carrying the context headers, or traced; the
    /// consumer bare or traced.
    pub async fn split_batch(&mut self, publish: Publish, traced_consume: bool) {
        let publish = async {
            let mut confirms = Vec::with_capacity(BATCH);
            let mut traced = Vec::with_capacity(BATCH);
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
                    Publish::Bare | Publish::Headers => confirms.push(
                        self.publisher
                            .basic_publish(
                                "".into(),
                                queue,
                                options,
                                &self.payload,
                                if publish == Publish::Headers {
                                    Self::properties_with_context()
                                } else {
                                    Self::properties()
                                },
                            )
                            .await
                            .unwrap(),
                    ),
                }
            }
            for confirm in confirms {
                assert!(confirm.await.unwrap().is_ack());
            }
            for confirm in traced {
                assert!(confirm.await.unwrap().is_ack());
            }
        };
        let mut consumer = self.consumer.take().unwrap();
        let tracer = self.tracer.clone();
        let consume = tokio::spawn(async move {
            for _ in 0..BATCH {
                let delivery = consumer.next().await.unwrap().unwrap();
                if traced_consume {
                    tracer
                        .trace(delivery)
                        .ack(BasicAckOptions::default())
                        .await
                        .unwrap();
                } else {
                    delivery.ack(BasicAckOptions::default()).await.unwrap();
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
