//! Building and installing the providers.

use std::time::Duration;

use opentelemetry::global;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{MetricExporter, SpanExporter, WithExportConfig, WithTonicConfig};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider, SpanProcessor,
    TracerProviderBuilder,
};
use opentelemetry_sdk::Resource;
use otel_order::{OrderContextPropagator, OrderSpanProcessor};
use otel_redact::{RedactingProcessor, Redactor};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::env::{self, ExportTarget, Protocol, SIGNAL_METRICS, SIGNAL_TRACES};
use crate::log_writer::RedactingWriter;
use crate::span_queue;
use crate::{ConsoleExporter, InitError, TelemetryGuard};

/// Set up telemetry for `service_name` with everything from the environment; see
/// [`TelemetryBuilder`] for what is installed.
pub fn init(service_name: &str) -> Result<TelemetryGuard, InitError> {
    TelemetryBuilder::new(service_name).install()
}

/// Configures what [`init`] installs.
///
/// - Resource: `service.name` (from `OTEL_SERVICE_NAME` when set, else the name given
///   here), `OTEL_RESOURCE_ATTRIBUTES`, SDK attributes.
/// - Redaction: every exporting processor is wrapped in a [`RedactingProcessor`]
///   ([`Redactor::default`] unless [`redactor`](Self::redactor) is called), and the
///   log lines the installed subscriber prints go through the same redactor.
/// - Traces: an [`OrderSpanProcessor`] (stamps `order.id` on every span inside an
///   order) wrapping, as one processor, the redactor and a batch processor exporting over OTLP when
///   `OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT` is set (`OTEL_EXPORTER_OTLP_PROTOCOL`
///   `grpc` or `http/protobuf`; `OTEL_EXPORTER_OTLP_HEADERS`; an `https` endpoint
///   uses TLS, trusting `OTEL_EXPORTER_OTLP_CERTIFICATE` when set, else the system's
///   roots), else to a [`ConsoleExporter`]. Sampler from `OTEL_TRACES_SAMPLER` unless
///   [`sampler`](Self::sampler) is called.
/// - Metrics: a periodic OTLP reader (`OTEL_METRIC_EXPORT_INTERVAL`) when an endpoint
///   is set.
/// - Global propagator: W3C trace-context + [`OrderContextPropagator`].
/// - A `tracing` subscriber: `tracing-opentelemetry` (so `#[tracing::instrument]`
///   spans are exported) and a log formatter filtered by `RUST_LOG` (default `info`).
///   Skip it with [`without_tracing_subscriber`](Self::without_tracing_subscriber).
pub struct TelemetryBuilder {
    service_name: String,
    sampler: Option<Sampler>,
    redactor: Option<Redactor>,
    install_subscriber: bool,
    extra_processors: Vec<AddProcessor>,
}

/// Adds one extra processor, behind the redactor, to the tracer provider being built.
type AddProcessor = Box<dyn FnOnce(TracerProviderBuilder, &Redactor) -> TracerProviderBuilder>;

impl TelemetryBuilder {
    /// Start configuring telemetry for `service_name`.
    pub fn new(service_name: &str) -> Self {
        TelemetryBuilder {
            service_name: service_name.to_owned(),
            sampler: None,
            redactor: None,
            install_subscriber: true,
            extra_processors: Vec::new(),
        }
    }

    /// Sample with `sampler` instead of what `OTEL_TRACES_SAMPLER` says.
    pub fn sampler(mut self, sampler: Sampler) -> Self {
        self.sampler = Some(sampler);
        self
    }

    /// Redact with `redactor` (custom rules, hashing, detect-only roll-out) instead
    /// of [`Redactor::default`]. There is deliberately no way to switch redaction off
    /// here: build the providers by hand for that.
    pub fn redactor(mut self, redactor: Redactor) -> Self {
        self.redactor = Some(redactor);
        self
    }

    /// Also hand every span to `processor` (e.g. a collector for a terminal view, or a
    /// second exporter). It sits behind the redactor like the exporter does: there is
    /// no way around redaction through this builder.
    pub fn span_processor<P: SpanProcessor + 'static>(mut self, processor: P) -> Self {
        self.extra_processors
            .push(Box::new(move |builder, redactor| {
                builder.with_span_processor(RedactingProcessor::new(processor, redactor.clone()))
            }));
        self
    }

    /// Do not install a global `tracing` subscriber (the application has its own; add
    /// `tracing_opentelemetry::layer()` with [`TelemetryGuard::tracer_provider`]).
    pub fn without_tracing_subscriber(mut self) -> Self {
        self.install_subscriber = false;
        self
    }

    /// Build the providers, install them globally (providers, propagator, and unless
    /// told otherwise the `tracing` subscriber), return the guard.
    pub fn install(self) -> Result<TelemetryGuard, InitError> {
        self.assemble(true)
    }

    /// Build the providers without installing anything globally: for several services
    /// in one process, each with its own `service.name` (pass the guard's providers to
    /// the layers, middlewares and recorders explicitly).
    pub fn build(self) -> Result<TelemetryGuard, InitError> {
        self.assemble(false)
    }

    fn assemble(self, install: bool) -> Result<TelemetryGuard, InitError> {
        if env::sdk_disabled() {
            return Ok(TelemetryGuard {
                tracer_provider: None,
                meter_provider: None,
            });
        }
        let mut resource = Resource::builder();
        if !env::service_name_set() || !install {
            resource = resource.with_service_name(self.service_name.clone());
        }
        let resource = resource.build();

        let meter_provider = match env::target(SIGNAL_METRICS)? {
            ExportTarget::Console => None,
            ExportTarget::Otlp(protocol) => {
                let exporter = metric_exporter(protocol)?;
                Some(
                    SdkMeterProvider::builder()
                        .with_resource(resource.clone())
                        .with_reader(PeriodicReader::builder(exporter).build())
                        .build(),
                )
            }
        };
        if install {
            // Before anything creates instruments from the global meter provider
            // (the propagator counts rejected headers there).
            if let Some(provider) = &meter_provider {
                global::set_meter_provider(provider.clone());
            }
        }
        let meter = match &meter_provider {
            Some(provider) => provider.meter("ordertrace"),
            None => global::meter("ordertrace"),
        };
        let redactor = match self.redactor {
            Some(redactor) => redactor,
            None => Redactor::builder()
                .meter(meter.clone())
                .build()
                .unwrap_or_default(),
        };

        // Redaction sits in front of the batch queue, so what waits in memory for a
        // slow backend is already clean; the queue is bounded and its drops counted.
        let exporting = match env::target(SIGNAL_TRACES)? {
            ExportTarget::Otlp(protocol) => {
                bounded_batch(span_exporter(protocol)?, Duration::from_secs(5), &meter)
            }
            ExportTarget::Console => bounded_batch(
                ConsoleExporter::default(),
                Duration::from_millis(200),
                &meter,
            ),
        };
        // One processor, not siblings: the SDK copies every ended span once per
        // registered processor.
        let mut tracer_provider = SdkTracerProvider::builder()
            .with_resource(resource)
            .with_span_processor(OrderSpanProcessor::wrap(RedactingProcessor::new(
                exporting,
                redactor.clone(),
            )));
        if let Some(sampler) = self.sampler {
            tracer_provider = tracer_provider.with_sampler(sampler);
        }
        for add in self.extra_processors {
            tracer_provider = add(tracer_provider, &redactor);
        }
        let tracer_provider = tracer_provider.build();

        if install {
            global::set_tracer_provider(tracer_provider.clone());
            global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
                Box::new(TraceContextPropagator::new()),
                Box::new(OrderContextPropagator::new()),
            ]));
        }
        if install && self.install_subscriber {
            let tracer = tracer_provider.tracer("ordertrace");
            let filter =
                EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
            // Another subscriber may already be installed (tests, the application's
            // own): keep it rather than fail.
            let _ = tracing_subscriber::registry()
                .with(filter)
                .with(
                    tracing_subscriber::fmt::layer().with_writer(RedactingWriter {
                        redactor,
                        inner: std::io::stderr,
                    }),
                )
                .with(tracing_opentelemetry::layer().with_tracer(tracer))
                .try_init();
        }

        Ok(TelemetryGuard {
            tracer_provider: Some(tracer_provider),
            meter_provider,
        })
    }
}

/// A batch processor exporting to `exporter`, behind the counted bound.
fn bounded_batch<E: opentelemetry_sdk::trace::SpanExporter + 'static>(
    exporter: E,
    default_delay: Duration,
    meter: &opentelemetry::metrics::Meter,
) -> span_queue::AdmissionProcessor<BatchSpanProcessor> {
    let batch = batch_config(default_delay);
    span_queue::bounded(
        SPAN_QUEUE_CAPACITY,
        meter,
        |exporter| {
            BatchSpanProcessor::builder(exporter)
                .with_batch_config(batch)
                .build()
        },
        exporter,
    )
}

/// Spans waiting for (or in) export at most; beyond it new spans are dropped and
/// counted. The SDK's batch queue gets the same size, so it never drops on its own.
pub const SPAN_QUEUE_CAPACITY: usize = 2048;

/// The batch processor's settings: `OTEL_BSP_SCHEDULE_DELAY` and `OTEL_BSP_EXPORT_TIMEOUT`
/// are honoured (the SDK reads them), the queue is [`SPAN_QUEUE_CAPACITY`].
fn batch_config(default_delay: Duration) -> opentelemetry_sdk::trace::BatchConfig {
    let mut config = BatchConfigBuilder::default().with_max_queue_size(SPAN_QUEUE_CAPACITY);
    if std::env::var("OTEL_BSP_SCHEDULE_DELAY").is_err() {
        config = config.with_scheduled_delay(default_delay);
    }
    config.build()
}

fn require_runtime(protocol: Protocol) -> Result<(), InitError> {
    if protocol == Protocol::Grpc && tokio::runtime::Handle::try_current().is_err() {
        return Err(InitError::NoRuntime);
    }
    Ok(())
}

fn tls_config(
    signal: &str,
) -> Result<opentelemetry_otlp::tonic_types::transport::ClientTlsConfig, InitError> {
    use opentelemetry_otlp::tonic_types::transport::{Certificate, ClientTlsConfig};
    let tls = ClientTlsConfig::new();
    Ok(match env::ca_certificate(signal)? {
        Some(pem) => tls.ca_certificate(Certificate::from_pem(pem)),
        None => tls.with_native_roots(),
    })
}

fn is_https(signal: &str) -> bool {
    std::env::var(format!("OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"))
        .or_else(|_| std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT"))
        .is_ok_and(|e| e.trim_start().to_ascii_lowercase().starts_with("https://"))
}

fn span_exporter(protocol: Protocol) -> Result<SpanExporter, InitError> {
    require_runtime(protocol)?;
    Ok(match protocol {
        Protocol::Grpc => {
            let mut builder = SpanExporter::builder().with_tonic();
            if is_https(SIGNAL_TRACES) {
                builder = builder.with_tls_config(tls_config(SIGNAL_TRACES)?);
            }
            builder.build()?
        }
        Protocol::HttpProtobuf => SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .build()?,
    })
}

fn metric_exporter(protocol: Protocol) -> Result<MetricExporter, InitError> {
    require_runtime(protocol)?;
    Ok(match protocol {
        Protocol::Grpc => {
            let mut builder = MetricExporter::builder().with_tonic();
            if is_https(SIGNAL_METRICS) {
                builder = builder.with_tls_config(tls_config(SIGNAL_METRICS)?);
            }
            builder.build()?
        }
        Protocol::HttpProtobuf => MetricExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .build()?,
    })
}
