//! Shared wiring for the `status_*` tests: SDK providers exporting over OTLP/gRPC to
//! the in-process receiver, and look-ups into what it decoded.

#![allow(dead_code)] // each test file uses a different subset

use std::time::Duration;

use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{MetricExporter, SpanExporter, WithExportConfig};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracer, SdkTracerProvider, ShouldSample};
use otlp_receiver::proto::common::v1::KeyValue;
use otlp_receiver::proto::metrics::v1::{metric::Data, HistogramDataPoint};
use otlp_receiver::{OtlpReceiver, ReceivedMetric, ReceivedSpan};

pub const WAIT: Duration = Duration::from_secs(10);

/// One service's telemetry pipeline, exporting to a shared receiver.
pub struct Pipeline {
    pub tracer_provider: SdkTracerProvider,
    pub meter_provider: SdkMeterProvider,
}

impl Pipeline {
    pub fn new(receiver: &OtlpReceiver) -> Pipeline {
        Pipeline::with_sampler(receiver, None)
    }

    pub fn with_sampler(
        receiver: &OtlpReceiver,
        sampler: Option<Box<dyn ShouldSample>>,
    ) -> Pipeline {
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
        // As `ordertrace::init` sets it up: spans inside an order get `order.id`
        // from OrderSpanProcessor.
        let mut tracer_provider = SdkTracerProvider::builder().with_span_processor(
            otel_order::OrderSpanProcessor::wrap(BatchSpanProcessor::builder(spans).build()),
        );
        if let Some(sampler) = sampler {
            tracer_provider = tracer_provider.with_sampler(sampler);
        }
        let meter_provider = SdkMeterProvider::builder()
            .with_reader(
                PeriodicReader::builder(metrics)
                    .with_interval(Duration::from_secs(3600))
                    .build(),
            )
            .build();
        Pipeline {
            tracer_provider: tracer_provider.build(),
            meter_provider,
        }
    }

    pub fn tracer(&self, scope: &'static str) -> SdkTracer {
        self.tracer_provider.tracer(scope)
    }

    pub fn meter(&self) -> Meter {
        self.meter_provider.meter("otel-order")
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
}

/// Spans of the `otel-order` scope (status, marker and failure spans).
pub fn order_spans(receiver: &OtlpReceiver) -> Vec<ReceivedSpan> {
    receiver
        .spans()
        .into_iter()
        .filter(|s| s.scope == "otel-order")
        .collect()
}

pub fn attr_bool(span: &ReceivedSpan, key: &str) -> Option<bool> {
    use otlp_receiver::proto::common::v1::any_value::Value;
    match otlp_receiver::attr(&span.span.attributes, key)?
        .value
        .as_ref()?
    {
        Value::BoolValue(b) => Some(*b),
        _ => None,
    }
}

/// Attribute sets of every data point of a metric, whatever its type.
pub fn point_attributes(metric: &ReceivedMetric) -> Vec<Vec<KeyValue>> {
    match metric.metric.data.as_ref() {
        Some(Data::Sum(s)) => s.data_points.iter().map(|p| p.attributes.clone()).collect(),
        Some(Data::Gauge(g)) => g.data_points.iter().map(|p| p.attributes.clone()).collect(),
        Some(Data::Histogram(h)) => h.data_points.iter().map(|p| p.attributes.clone()).collect(),
        Some(Data::ExponentialHistogram(h)) => {
            h.data_points.iter().map(|p| p.attributes.clone()).collect()
        }
        Some(Data::Summary(s)) => s.data_points.iter().map(|p| p.attributes.clone()).collect(),
        None => Vec::new(),
    }
}

/// Sum/gauge data point value whose attributes are exactly `attrs` (order ignored).
pub fn number_point(metric: &ReceivedMetric, attrs: &[(&str, &str)]) -> Option<f64> {
    metric
        .number_points()
        .into_iter()
        .find(|(a, _)| same_attributes(a, attrs))
        .map(|(_, v)| v)
}

/// Histogram data point whose attributes are exactly `attrs`.
pub fn histogram_point(
    metric: &ReceivedMetric,
    attrs: &[(&str, &str)],
) -> Option<HistogramDataPoint> {
    metric
        .histogram_points()
        .iter()
        .find(|p| same_attributes(&p.attributes, attrs))
        .cloned()
}

pub fn same_attributes(actual: &[KeyValue], expected: &[(&str, &str)]) -> bool {
    actual.len() == expected.len()
        && expected
            .iter()
            .all(|(k, v)| otlp_receiver::attr_str(actual, k) == Some(*v))
}

/// Every exported metric data point, checked for an `order.id` attribute.
pub fn assert_no_metric_carries_order_id(receiver: &OtlpReceiver) {
    let metrics = receiver.metrics();
    assert!(!metrics.is_empty(), "no metrics were exported");
    for metric in metrics {
        for attrs in point_attributes(&metric) {
            assert!(
                attrs.iter().all(|kv| kv.key != "order.id"),
                "metric {} has a data point with order.id: {attrs:?}",
                metric.metric.name
            );
        }
    }
}
