//! The SDK pipeline every budget runs against: real tracer and meter providers whose
//! spans and metrics are produced in full and then discarded, so budgets compare the
//! cost of instrumenting, not of exporting.

#![allow(dead_code)] // shared with the criterion benches, which use part of it

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{SdkTracerProvider, Span, SpanData, SpanProcessor};

/// Ends every span and drops it.
#[derive(Debug)]
pub struct DiscardSpans;

impl SpanProcessor for DiscardSpans {
    fn on_start(&self, _: &mut Span, _: &opentelemetry::Context) {}
    fn on_end(&self, span: SpanData) {
        std::hint::black_box(span);
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: std::time::Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Aggregates as usual, never exports during the run.
pub struct DiscardMetrics;

impl PushMetricExporter for DiscardMetrics {
    async fn export(&self, _: &ResourceMetrics) -> OTelSdkResult {
        Ok(())
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: std::time::Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

pub struct Pipeline {
    pub tracer_provider: SdkTracerProvider,
    pub meter_provider: SdkMeterProvider,
}

impl Pipeline {
    pub fn new() -> Pipeline {
        Pipeline {
            tracer_provider: SdkTracerProvider::builder()
                .with_span_processor(otel_order::OrderSpanProcessor::wrap(DiscardSpans))
                .build(),
            meter_provider: SdkMeterProvider::builder()
                .with_reader(PeriodicReader::builder(DiscardMetrics).build())
                .build(),
        }
    }
}
