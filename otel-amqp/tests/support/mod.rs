//! Shared wiring for the broker tests: a real RabbitMQ connection with unique,
//! self-deleting queue and exchange names, and SDK providers exporting over OTLP/gRPC
//! to the in-process receiver.

#![allow(dead_code)] // each test uses a different subset

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use lapin::options::{
    BasicConsumeOptions, ConfirmSelectOptions, ExchangeDeleteOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, ConnectionProperties};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{MetricExporter, SpanExporter, WithExportConfig};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use otel_amqp::{AmqpTelemetry, ConsumerConfig, TracedChannel, TracedConsumer, TracedDelivery};
use otlp_receiver::proto::common::v1::any_value::Value;
use otlp_receiver::proto::metrics::v1::HistogramDataPoint;
use otlp_receiver::{OtlpReceiver, ReceivedMetric, ReceivedSpan};

pub const WAIT: Duration = Duration::from_secs(10);

pub fn amqp_addr() -> String {
    std::env::var("AMQP_ADDR").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// A name no other test (thread or process) uses.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "otel-amqp-test.{prefix}.{}.{}.{nanos:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// One telemetry pipeline exporting to its own receiver.
pub struct Otel {
    pub receiver: OtlpReceiver,
    pub tracer_provider: SdkTracerProvider,
    pub meter_provider: SdkMeterProvider,
}

impl Otel {
    pub async fn start() -> Otel {
        let receiver = OtlpReceiver::start().await;
        let spans = SpanExporter::builder()
            .with_tonic()
            .with_endpoint(receiver.grpc_endpoint())
            .build()
            .expect("span exporter");
        let metrics = MetricExporter::builder()
            .with_tonic()
            .with_endpoint(receiver.grpc_endpoint())
            .build()
            .expect("metric exporter");
        let resource = Resource::builder()
            .with_service_name("otel-amqp-test")
            .build();
        // As `ordertrace::init` sets it up: spans inside an order get `order.id`
        // from OrderSpanProcessor.
        let tracer_provider = SdkTracerProvider::builder()
            .with_span_processor(otel_order::OrderSpanProcessor::wrap(
                BatchSpanProcessor::builder(spans).build(),
            ))
            .with_resource(resource.clone())
            .build();
        let meter_provider = SdkMeterProvider::builder()
            .with_reader(
                PeriodicReader::builder(metrics)
                    .with_interval(Duration::from_secs(3600))
                    .build(),
            )
            .with_resource(resource)
            .build();
        Otel {
            receiver,
            tracer_provider,
            meter_provider,
        }
    }

    pub fn telemetry(&self) -> AmqpTelemetry {
        AmqpTelemetry::builder()
            .tracer_provider(&self.tracer_provider)
            .meter_provider(&self.meter_provider)
            .build()
    }

    pub fn tracer(&self, scope: &'static str) -> SdkTracer {
        self.tracer_provider.tracer(scope)
    }

    /// Export everything recorded so far (blocking calls, off the async workers).
    pub async fn flush(&self) {
        let tracer_provider = self.tracer_provider.clone();
        let meter_provider = self.meter_provider.clone();
        tokio::task::spawn_blocking(move || {
            tracer_provider.force_flush().expect("flush spans");
            meter_provider.force_flush().expect("flush metrics");
        })
        .await
        .expect("flush task");
    }

    /// Wait for `count` spans of this crate's scope.
    pub async fn amqp_spans(&self, count: usize) -> Vec<ReceivedSpan> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let spans: Vec<_> = self
                .receiver
                .spans()
                .into_iter()
                .filter(|s| s.scope == "otel-amqp")
                .collect();
            if spans.len() >= count || tokio::time::Instant::now() > deadline {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The last exported data of metric `name` (after a flush).
    pub async fn metric(&self, name: &str) -> ReceivedMetric {
        self.receiver
            .wait_for_metric(name, WAIT, |_| true)
            .await
            .unwrap_or_else(|| panic!("metric {name} was not exported"))
    }
}

/// A broker connection that remembers what it declared and deletes it at the end.
pub struct Broker {
    pub connection: Arc<Connection>,
    pub channel: Channel,
    queues: Vec<String>,
    exchanges: Vec<String>,
}

impl Broker {
    pub async fn connect() -> Broker {
        let connection = Connection::connect(&amqp_addr(), ConnectionProperties::default())
            .await
            .expect("RabbitMQ at AMQP_ADDR (default 127.0.0.1:5672)");
        let channel = connection.create_channel().await.expect("channel");
        Broker {
            connection: Arc::new(connection),
            channel,
            queues: Vec::new(),
            exchanges: Vec::new(),
        }
    }

    /// Declare a queue with `arguments`; it also expires on its own after two
    /// unused minutes, should the test die before cleaning up.
    pub async fn queue(&mut self, name: &str, mut arguments: FieldTable) -> String {
        arguments.insert("x-expires".into(), AMQPValue::LongInt(120_000));
        self.channel
            .queue_declare(name.into(), QueueDeclareOptions::default(), arguments)
            .await
            .expect("declare queue");
        self.queues.push(name.to_owned());
        name.to_owned()
    }

    pub async fn exchange(&mut self, name: &str, kind: lapin::ExchangeKind) -> String {
        self.channel
            .exchange_declare(
                name.into(),
                kind,
                lapin::options::ExchangeDeclareOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("declare exchange");
        self.exchanges.push(name.to_owned());
        name.to_owned()
    }

    /// A traced channel with publisher confirms on.
    pub async fn traced_channel(&self, telemetry: &AmqpTelemetry) -> TracedChannel {
        let channel = self.connection.create_channel().await.expect("channel");
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .expect("confirms");
        TracedChannel::new(channel, telemetry.clone())
    }

    pub async fn traced_consumer(
        &self,
        telemetry: &AmqpTelemetry,
        config: ConsumerConfig,
        queue: &str,
    ) -> TracedConsumer {
        let channel = self.connection.create_channel().await.expect("channel");
        let consumer = channel
            .basic_consume(
                queue.into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("consume");
        TracedConsumer::new(consumer, telemetry.clone(), config)
    }

    pub async fn cleanup(self) {
        for queue in &self.queues {
            let _ = self
                .channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
        for exchange in &self.exchanges {
            let _ = self
                .channel
                .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
                .await;
        }
        let _ = self.connection.close(200, "test done".into()).await;
    }
}

pub async fn next_delivery(consumer: &mut TracedConsumer) -> TracedDelivery {
    tokio::time::timeout(WAIT, consumer.next())
        .await
        .expect("a delivery within the wait")
        .expect("consumer still open")
        .expect("delivery ok")
}

pub fn span_named<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    spans
        .iter()
        .find(|s| s.span.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no span {name:?} in {:?}",
                spans.iter().map(|s| &s.span.name).collect::<Vec<_>>()
            )
        })
}

pub fn attr_bool(span: &ReceivedSpan, key: &str) -> Option<bool> {
    match otlp_receiver::attr(&span.span.attributes, key)?
        .value
        .as_ref()?
    {
        Value::BoolValue(b) => Some(*b),
        _ => None,
    }
}

pub fn attr_f64(span: &ReceivedSpan, key: &str) -> Option<f64> {
    otlp_receiver::attr_f64(&span.span.attributes, key)
}

/// Sum/gauge value of the data point carrying (at least) `attrs`.
pub fn number_point(metric: &ReceivedMetric, attrs: &[(&str, &str)]) -> Option<f64> {
    metric
        .number_points()
        .into_iter()
        .find(|(a, _)| otlp_receiver::has_attributes(a, attrs))
        .map(|(_, v)| v)
}

/// Histogram data point carrying (at least) `attrs`.
pub fn histogram_point(
    metric: &ReceivedMetric,
    attrs: &[(&str, &str)],
) -> Option<HistogramDataPoint> {
    metric
        .histogram_points()
        .iter()
        .find(|p| otlp_receiver::has_attributes(&p.attributes, attrs))
        .cloned()
}

/// Link span ids of a span.
pub fn linked_span_ids(span: &ReceivedSpan) -> Vec<String> {
    span.span
        .links
        .iter()
        .map(|l| otlp_receiver::hex_id(&l.span_id))
        .collect()
}
