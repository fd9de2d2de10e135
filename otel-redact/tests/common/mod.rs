//! Test doubles shared by the integration tests: an exporter that keeps what it is
//! given, and a metric reader the test can collect from.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use otel_redact::opentelemetry::KeyValue;
use otel_redact::opentelemetry_sdk::error::OTelSdkResult;
use otel_redact::opentelemetry_sdk::metrics::data::{
    AggregatedMetrics, MetricData, ResourceMetrics,
};
use otel_redact::opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use otel_redact::opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use otel_redact::opentelemetry_sdk::trace::{SpanData, SpanExporter};
use otel_redact::opentelemetry_sdk::Resource;

/// Keeps every exported span and the last resource it was given.
#[derive(Debug, Clone, Default)]
pub struct Capture {
    pub spans: Arc<Mutex<Vec<SpanData>>>,
    pub resource: Arc<Mutex<Option<Resource>>>,
}

impl Capture {
    pub fn spans(&self) -> Vec<SpanData> {
        self.spans.lock().unwrap().clone()
    }

    pub fn resource(&self) -> Resource {
        self.resource
            .lock()
            .unwrap()
            .clone()
            .expect("resource was set")
    }
}

impl SpanExporter for Capture {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        self.spans.lock().unwrap().extend(batch);
        std::future::ready(Ok(()))
    }

    fn set_resource(&mut self, resource: &Resource) {
        *self.resource.lock().unwrap() = Some(resource.clone());
    }
}

type Points = Arc<Mutex<Vec<(String, Vec<KeyValue>, u64)>>>;

/// A metric exporter that keeps the u64 sum data points of the last export
/// (cumulative temporality, so the last export holds the totals).
#[derive(Debug, Clone, Default)]
pub struct MetricCapture(Points);

impl PushMetricExporter for MetricCapture {
    fn export(
        &self,
        metrics: &ResourceMetrics,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let mut out = Vec::new();
        for scope in metrics.scope_metrics() {
            for metric in scope.metrics() {
                if let AggregatedMetrics::U64(MetricData::Sum(sum)) = metric.data() {
                    for p in sum.data_points() {
                        out.push((
                            metric.name().to_owned(),
                            p.attributes().cloned().collect(),
                            p.value(),
                        ));
                    }
                }
            }
        }
        if !out.is_empty() {
            *self.0.lock().unwrap() = out;
        }
        std::future::ready(Ok(()))
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

pub fn meter_provider() -> (SdkMeterProvider, MetricCapture) {
    let capture = MetricCapture::default();
    let reader = PeriodicReader::builder(capture.clone()).build();
    let provider = SdkMeterProvider::builder().with_reader(reader).build();
    (provider, capture)
}

/// Data points of a u64 sum metric after flushing `provider`: (attributes, value).
pub fn sum_points(
    provider: &SdkMeterProvider,
    capture: &MetricCapture,
    name: &str,
) -> Vec<(Vec<KeyValue>, u64)> {
    provider.force_flush().unwrap();
    capture
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|(n, _, _)| n == name)
        .map(|(_, a, v)| (a.clone(), *v))
        .collect()
}

pub fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a otel_redact::opentelemetry::Value> {
    attrs
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}
