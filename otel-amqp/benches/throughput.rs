//! Traced publish + consume throughput against bare lapin, over the real broker
//! (`AMQP_ADDR`, default 127.0.0.1:5672).
//!
//! One batch = publish N messages with publisher confirms (pipelined, then every
//! confirm awaited) while a consumer task on the same queue receives and acks all
//! N; the batch ends when both are done.
//! Bare and traced batches share the queue, the channels and the lapin consumer;
//! the traced side wraps them (`TracedChannel`, `DeliveryTracer`), with an SDK
//! tracer provider (batch processor) and meter provider (periodic reader) whose
//! exporters discard: this measures instrumentation and SDK cost, not a backend.
//!
//! Criterion measures each side; then `interleaved` runs bare and traced batches
//! alternately in one loop (so drift in broker or machine load hits both alike)
//! and prints the throughput ratio.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, Consumer};
use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use otel_amqp::{AmqpTelemetry, ConsumerConfig, DeliveryTracer, TracedChannel};
use otel_order::{OrderContext, OrderContextExt, OrderId, OrderStatus};

const BATCH: usize = 500;

#[derive(Debug, Default, Clone)]
struct DiscardSpans(Arc<AtomicU64>);

impl SpanExporter for DiscardSpans {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
        std::future::ready(Ok(()))
    }
}

struct DiscardMetrics;

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

struct Rig {
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
    async fn new(telemetry: AmqpTelemetry) -> Rig {
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

    async fn bare_batch(&mut self) {
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

    async fn traced_batch(&mut self) {
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

    async fn cleanup(&self) {
        let _ = self
            .publisher
            .queue_delete(self.queue.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
}

fn throughput(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let exported = DiscardSpans::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_batch_exporter(exported.clone())
        .build();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(
            PeriodicReader::builder(DiscardMetrics)
                .with_interval(Duration::from_secs(1))
                .build(),
        )
        .build();
    let telemetry = AmqpTelemetry::builder()
        .tracer_provider(&tracer_provider)
        .meter_provider(&meter_provider)
        .build();
    let mut rig = runtime.block_on(Rig::new(telemetry));

    let mut group = c.benchmark_group("publish_consume");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    group.bench_function("bare", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    rig.bare_batch().await;
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("traced", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    rig.traced_batch().await;
                }
                start.elapsed()
            })
        })
    });
    group.finish();

    // Interleaved: alternate batches so both sides see the same conditions; the
    // machine may be shared, so report the median of per-round ratios too.
    let rounds = std::env::var("INTERLEAVED_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let (mut bare, mut traced) = (Duration::ZERO, Duration::ZERO);
    let mut ratios = Vec::with_capacity(rounds);
    runtime.block_on(async {
        for round in 0..rounds {
            // Alternate which side goes first, too.
            let order = if round % 2 == 0 {
                [false, true]
            } else {
                [true, false]
            };
            let (mut b, mut t) = (Duration::ZERO, Duration::ZERO);
            for is_traced in order {
                let start = Instant::now();
                if is_traced {
                    rig.traced_batch().await;
                    t = start.elapsed();
                } else {
                    rig.bare_batch().await;
                    b = start.elapsed();
                }
            }
            bare += b;
            traced += t;
            // Throughput ratio traced/bare = time ratio bare/traced.
            ratios.push(b.as_secs_f64() / t.as_secs_f64());
        }
    });
    ratios.sort_by(f64::total_cmp);
    let median = ratios.get(ratios.len() / 2).copied().unwrap_or(f64::NAN);
    let messages = (rounds * BATCH) as f64;
    let bare_rate = messages / bare.as_secs_f64();
    let traced_rate = messages / traced.as_secs_f64();
    println!(
        "interleaved {rounds} x {BATCH} messages each: bare {bare_rate:.0} msg/s, traced {traced_rate:.0} msg/s, \
         ratio traced/bare = {:.3} (total), {median:.3} (median of rounds)",
        traced_rate / bare_rate
    );
    let _ = tracer_provider.force_flush();
    println!(
        "spans produced by the traced side: {}",
        exported.0.load(Ordering::Relaxed)
    );
    runtime.block_on(rig.cleanup());
}

criterion_group!(benches, throughput);
criterion_main!(benches);
