//! Per-service telemetry: the providers one service of the shop records with, and a
//! collector that keeps finished spans in memory for the demo's terminal waterfall.
//!
//! In the in-process demo every service gets its own providers (its own
//! `service.name`), built by [`ordertrace::TelemetryBuilder::build`] without touching
//! the globals. The separate binaries use [`ordertrace::init`] and
//! [`ServiceTelemetry::from_guard`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;
use ordertrace::{InitError, TelemetryBuilder, TelemetryGuard};
use otel_amqp::AmqpTelemetry;
use otel_order::http::{
    HeaderExtractor, HeaderInjector, HostAllowList, OrderTraceLayer, OrderTraceMiddleware,
};
use otel_order::{OrderSpanProcessor, SlaConfig, StatusRecorder};
use otel_redact::{RedactingProcessor, Redactor};
use reqwest_middleware::ClientWithMiddleware;

/// The status recorder type every service uses: SDK tracer, no boxing.
pub type Recorder = StatusRecorder<opentelemetry_sdk::trace::Tracer>;

/// The tracer and meter providers of one service, and what it builds from them.
#[derive(Clone)]
pub struct ServiceTelemetry {
    name: String,
    tracer_provider: SdkTracerProvider,
    meter_provider: Option<SdkMeterProvider>,
    // Held so the providers flush and shut down when the last clone goes.
    _guard: Option<Arc<TelemetryGuard>>,
}

impl std::fmt::Debug for ServiceTelemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceTelemetry")
            .field("name", &self.name)
            .field("metrics", &self.meter_provider.is_some())
            .finish_non_exhaustive()
    }
}

impl ServiceTelemetry {
    /// Providers of a guard from [`ordertrace::init`] or [`TelemetryBuilder`]; a
    /// disabled SDK (`OTEL_SDK_DISABLED=true`) gives providers that record nothing.
    pub fn from_guard(name: &str, guard: TelemetryGuard) -> Self {
        ServiceTelemetry {
            name: name.to_owned(),
            tracer_provider: guard.tracer_provider().cloned().unwrap_or_default(),
            meter_provider: guard.meter_provider().cloned(),
            _guard: Some(Arc::new(guard)),
        }
    }

    /// Providers for `name` in a process running several services: exported over
    /// OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and in every case handed
    /// (redacted) to `collector`. Without an endpoint nothing is printed: the demo
    /// draws its own waterfall from the collector.
    pub fn in_process(name: &str, collector: &SpanCollector) -> Result<Self, InitError> {
        let otlp = [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        ]
        .iter()
        .any(|k| std::env::var(k).is_ok_and(|v| !v.trim().is_empty()));
        if otlp {
            let guard = TelemetryBuilder::new(name)
                .span_processor(collector.for_service(name))
                .build()?;
            return Ok(Self::from_guard(name, guard));
        }
        // The same pipeline as TelemetryBuilder (order ids stamped, redaction in
        // front of what records spans) minus its console exporter.
        let tracer_provider = SdkTracerProvider::builder()
            .with_resource(
                Resource::builder()
                    .with_service_name(name.to_owned())
                    .build(),
            )
            .with_span_processor(OrderSpanProcessor::wrap(RedactingProcessor::new(
                collector.for_service(name),
                Redactor::default(),
            )))
            .build();
        Ok(ServiceTelemetry {
            name: name.to_owned(),
            tracer_provider,
            meter_provider: None,
            _guard: None,
        })
    }

    /// Providers for `name` in a process running several services, exported over
    /// OTLP (the `OTEL_*` variables) through ordertrace's bounded span queue and
    /// kept nowhere else: for long runs, where memory must stay bounded.
    pub fn exporting(name: &str) -> Result<Self, InitError> {
        let guard = TelemetryBuilder::new(name).build()?;
        Ok(Self::from_guard(name, guard))
    }

    /// The service name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tracer provider.
    pub fn tracer_provider(&self) -> &SdkTracerProvider {
        &self.tracer_provider
    }

    /// The meter provider, when metrics are exported.
    pub fn meter_provider(&self) -> Option<&SdkMeterProvider> {
        self.meter_provider.as_ref()
    }

    /// The HTTP server layer on these providers.
    pub fn server_layer(&self) -> OrderTraceLayer {
        let builder = OrderTraceLayer::builder().tracer_provider(&self.tracer_provider);
        match &self.meter_provider {
            Some(m) => builder.meter_provider(m),
            None => builder,
        }
        .build()
    }

    /// A traced HTTP client; order headers go only to `allowed` hosts.
    pub fn http_client(&self, allowed: HostAllowList) -> ClientWithMiddleware {
        let builder = OrderTraceMiddleware::builder()
            .allow_order_headers_to(allowed)
            .tracer_provider(&self.tracer_provider);
        let middleware = match &self.meter_provider {
            Some(m) => builder.meter_provider(m),
            None => builder,
        }
        .build();
        reqwest_middleware::ClientBuilder::new(
            reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        )
        .with(middleware)
        .build()
    }

    /// The status recorder, with `sla` thresholds.
    pub fn recorder(&self, sla: SlaConfig) -> Recorder {
        let builder = StatusRecorder::builder()
            .tracer(self.tracer_provider.tracer("otel-order"))
            .sla(sla);
        match &self.meter_provider {
            Some(m) => builder.meter(opentelemetry::metrics::MeterProvider::meter(
                m,
                "otel-order",
            )),
            None => builder,
        }
        .build()
    }

    /// The RabbitMQ instrumentation on these providers.
    pub fn amqp(&self, broker_host: &str, broker_port: u16) -> AmqpTelemetry {
        let builder = AmqpTelemetry::builder()
            .tracer_provider(&self.tracer_provider)
            .server(broker_host, broker_port);
        match &self.meter_provider {
            Some(m) => builder.meter_provider(m),
            None => builder,
        }
        .build()
    }

    /// Export what is buffered now (spans and metrics).
    pub fn flush(&self) {
        let _ = self.tracer_provider.force_flush();
        if let Some(m) = &self.meter_provider {
            let _ = m.force_flush();
        }
    }
}

/// W3C trace-context + the order context: what the services put into response
/// headers so a browser or dashboard can continue an order's trace.
pub fn propagator() -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(otel_order::OrderContextPropagator::new()),
    ])
}

/// Write `cx`'s trace and order context into `headers`.
pub fn inject_headers(cx: &Context, headers: &mut http::HeaderMap) {
    propagator().inject_context(cx, &mut HeaderInjector(headers));
}

/// Read trace and order context from `headers` (validated).
pub fn extract_headers(headers: &http::HeaderMap) -> Context {
    propagator().extract(&HeaderExtractor(headers))
}

/// One finished span as the demo shows it: which service recorded it, and the span.
#[derive(Clone, Debug)]
pub struct CollectedSpan {
    /// `service.name` of the recording service.
    pub service: Arc<str>,
    /// The span, as exported (already redacted).
    pub span: SpanData,
}

/// Keeps every finished span of every service in memory, in end order.
#[derive(Clone, Debug, Default)]
pub struct SpanCollector {
    spans: Arc<Mutex<Vec<CollectedSpan>>>,
}

impl SpanCollector {
    /// A processor that adds `service`'s spans to this collector.
    pub fn for_service(&self, service: &str) -> CollectorProcessor {
        CollectorProcessor {
            service: Arc::from(service),
            spans: Arc::clone(&self.spans),
        }
    }

    /// Everything collected so far.
    pub fn spans(&self) -> Vec<CollectedSpan> {
        self.spans.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// The [`SpanProcessor`] side of a [`SpanCollector`] for one service.
#[derive(Debug)]
pub struct CollectorProcessor {
    service: Arc<str>,
    spans: Arc<Mutex<Vec<CollectedSpan>>>,
}

impl SpanProcessor for CollectorProcessor {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if let Ok(mut spans) = self.spans.lock() {
            spans.push(CollectedSpan {
                service: Arc::clone(&self.service),
                span,
            });
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}
