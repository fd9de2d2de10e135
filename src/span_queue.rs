//! A bounded, counted span queue in front of the exporter.
//!
//! The SDK's batch processor drops spans when its queue is full but keeps the count to
//! itself. [`AdmissionProcessor`] admits a span only while fewer than `capacity` spans
//! are queued or being exported, and [`CountingExporter`] releases them when their
//! export ends (success, failure, or the export timing out). The batch processor's own
//! queue is never fuller than `capacity`, so every span that does not reach the
//! backend is counted here, under the SDK self-observability names:
//!
//! - `otel.sdk.processor.span.processed` — spans handed on, or dropped with
//!   `error.type=queue_full`;
//! - `otel.sdk.exporter.span.exported` — spans exported, or failed with
//!   `error.type=export_failed`;
//! - `otel.sdk.processor.span.queue.size` / `.capacity` — queued now, and the bound.
//!
//! Each series carries `otel.component.type=bounded_span_queue` and
//! `otel.component.name=ordertrace/span_queue`, so it is told apart from the SDK batch
//! processor's own series of the same names (which never shows drops behind this
//! bound).
//!
//! A slow or dead backend therefore costs the application nothing but the dropped
//! spans, and memory stays bounded by `capacity`.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::metrics::{Counter, Meter};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use opentelemetry_sdk::Resource;
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, OTEL_COMPONENT_NAME, OTEL_COMPONENT_TYPE,
};
use opentelemetry_semantic_conventions::metric::{
    OTEL_SDK_EXPORTER_SPAN_EXPORTED, OTEL_SDK_PROCESSOR_SPAN_PROCESSED,
    OTEL_SDK_PROCESSOR_SPAN_QUEUE_CAPACITY, OTEL_SDK_PROCESSOR_SPAN_QUEUE_SIZE,
};

/// `error.type` of a span dropped because the queue was full (semantic conventions).
pub const QUEUE_FULL: &str = "queue_full";
/// `error.type` of a span whose export failed or timed out.
pub const EXPORT_FAILED: &str = "export_failed";
/// `otel.component.type` of this queue's series.
pub const COMPONENT_TYPE: &str = "bounded_span_queue";
/// `otel.component.name` of this queue's series.
pub const COMPONENT_NAME: &str = "ordertrace/span_queue";

fn component() -> [KeyValue; 2] {
    [
        KeyValue::new(OTEL_COMPONENT_TYPE, COMPONENT_TYPE),
        KeyValue::new(OTEL_COMPONENT_NAME, COMPONENT_NAME),
    ]
}

fn with_error(error: &'static str) -> [KeyValue; 3] {
    let [t, n] = component();
    [t, n, KeyValue::new(ERROR_TYPE, error)]
}

struct Shared {
    in_flight: AtomicUsize,
    capacity: usize,
    processed: Counter<u64>,
    exported: Counter<u64>,
}

/// Creates the processor/exporter pair sharing one bound.
pub(crate) fn bounded<P, E>(
    capacity: usize,
    meter: &Meter,
    make_processor: impl FnOnce(CountingExporter<E>) -> P,
    exporter: E,
) -> AdmissionProcessor<P>
where
    P: SpanProcessor,
    E: SpanExporter,
{
    let shared = Arc::new(Shared {
        in_flight: AtomicUsize::new(0),
        capacity,
        processed: meter
            .u64_counter(OTEL_SDK_PROCESSOR_SPAN_PROCESSED)
            .with_unit("{span}")
            .with_description("Spans handed to the exporter, or dropped (error.type)")
            .build(),
        exported: meter
            .u64_counter(OTEL_SDK_EXPORTER_SPAN_EXPORTED)
            .with_unit("{span}")
            .with_description("Spans exported, or lost to a failed export (error.type)")
            .build(),
    });
    let gauge = shared.clone();
    meter
        .i64_observable_up_down_counter(OTEL_SDK_PROCESSOR_SPAN_QUEUE_SIZE)
        .with_unit("{span}")
        .with_callback(move |o| {
            o.observe(gauge.in_flight.load(Ordering::Relaxed) as i64, &component())
        })
        .build();
    meter
        .i64_observable_up_down_counter(OTEL_SDK_PROCESSOR_SPAN_QUEUE_CAPACITY)
        .with_unit("{span}")
        .with_callback(move |o| o.observe(capacity as i64, &component()))
        .build();
    let exporter = CountingExporter {
        inner: exporter,
        shared: shared.clone(),
    };
    AdmissionProcessor {
        inner: make_processor(exporter),
        shared,
    }
}

/// Admits a span to the inner (exporting) processor only while the bound allows.
pub struct AdmissionProcessor<P> {
    inner: P,
    shared: Arc<Shared>,
}

impl<P> fmt::Debug for AdmissionProcessor<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdmissionProcessor")
            .field("capacity", &self.shared.capacity)
            .finish_non_exhaustive()
    }
}

impl<P: SpanProcessor> SpanProcessor for AdmissionProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        let shared = &self.shared;
        if shared.in_flight.fetch_add(1, Ordering::AcqRel) >= shared.capacity {
            shared.in_flight.fetch_sub(1, Ordering::AcqRel);
            shared.processed.add(1, &with_error(QUEUE_FULL));
            return;
        }
        shared.processed.add(1, &component());
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Counts what the inner exporter did with each batch and releases the batch from
/// the bound when the export ends, however it ends.
pub struct CountingExporter<E> {
    inner: E,
    shared: Arc<Shared>,
}

impl<E> fmt::Debug for CountingExporter<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CountingExporter").finish_non_exhaustive()
    }
}

/// Releases `spans` from the bound when dropped: also when the batch processor gives
/// up on a hanging export and drops its future.
struct Release {
    shared: Arc<Shared>,
    spans: usize,
}

impl Drop for Release {
    fn drop(&mut self) {
        self.shared
            .in_flight
            .fetch_sub(self.spans, Ordering::AcqRel);
    }
}

impl<E: SpanExporter> SpanExporter for CountingExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len();
        let release = Release {
            shared: self.shared.clone(),
            spans,
        };
        let result = self.inner.export(batch).await;
        match &result {
            Ok(()) => self.shared.exported.add(spans as u64, &component()),
            Err(_) => self
                .shared
                .exported
                .add(spans as u64, &with_error(EXPORT_FAILED)),
        }
        drop(release);
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
