//! [`AmqpTelemetry`]: the tracer, instruments and propagator every traced channel
//! and consumer of a process shares.
//!
//! Build it once, with the providers passed explicitly (preferred: tests and
//! services that run several pipelines stay independent) or from the globals.

use std::fmt;
use std::sync::Arc;

use opentelemetry::global;
use opentelemetry::metrics::{Meter, MeterProvider};
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::{Tracer, TracerProvider};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_semantic_conventions::attribute::{SERVER_ADDRESS, SERVER_PORT};
use opentelemetry_semantic_conventions::SCHEMA_URL;
use otel_order::OrderContextPropagator;

use crate::carrier::{DefaultPropagation, RepublishPolicy};
use crate::metrics::AmqpMetrics;
use crate::names::SCOPE_NAME;
use crate::tracer::AmqpTracer;

/// Shared instrumentation state: tracer, metrics, propagator and publish policy.
///
/// Cheap to clone (one `Arc`). Hand it to [`TracedChannel::new`](crate::TracedChannel::new)
/// and [`TracedConsumer::new`](crate::TracedConsumer::new).
///
/// ```
/// use opentelemetry_sdk::metrics::SdkMeterProvider;
/// use opentelemetry_sdk::trace::SdkTracerProvider;
/// use otel_amqp::{AmqpTelemetry, RepublishPolicy};
///
/// let tracer_provider = SdkTracerProvider::builder().build();
/// let meter_provider = SdkMeterProvider::builder().build();
/// let telemetry = AmqpTelemetry::builder()
///     .tracer_provider(&tracer_provider)
///     .meter_provider(&meter_provider)
///     .republish_policy(RepublishPolicy::Link)
///     .server("rabbitmq.internal", 5672)
///     .build();
/// # drop(telemetry);
/// ```
#[derive(Clone)]
pub struct AmqpTelemetry {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) tracer: AmqpTracer,
    pub(crate) meter: Meter,
    pub(crate) metrics: AmqpMetrics,
    pub(crate) propagator: Box<dyn TextMapPropagator + Send + Sync>,
    /// Set when `propagator` is the default composite: the same propagation done
    /// directly on the header table.
    pub(crate) default_propagation: Option<DefaultPropagation>,
    pub(crate) republish: RepublishPolicy,
    /// `server.address` / `server.port`, when configured, ready to append.
    pub(crate) server: Vec<KeyValue>,
}

impl fmt::Debug for AmqpTelemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmqpTelemetry")
            .field("republish", &self.inner.republish)
            .field("server", &self.inner.server)
            .finish_non_exhaustive()
    }
}

impl Default for AmqpTelemetry {
    /// Global tracer and meter providers, trace-context + order propagation.
    fn default() -> Self {
        Self::builder().build()
    }
}

impl AmqpTelemetry {
    /// Start configuring; every setting has a default.
    pub fn builder() -> AmqpTelemetryBuilder {
        AmqpTelemetryBuilder::default()
    }

    /// The meter this crate's instruments come from (the queue gauges register
    /// theirs on it too).
    pub fn meter(&self) -> &Meter {
        &self.inner.meter
    }

    /// The propagator that injects into and extracts from message headers.
    pub fn propagator(&self) -> &(dyn TextMapPropagator + Send + Sync) {
        self.inner.propagator.as_ref()
    }

    /// What a publish does with a message that already carries a `traceparent`.
    pub fn republish_policy(&self) -> RepublishPolicy {
        self.inner.republish
    }
}

/// Builder for [`AmqpTelemetry`].
#[derive(Default)]
pub struct AmqpTelemetryBuilder {
    tracer: Option<AmqpTracer>,
    meter: Option<Meter>,
    propagator: Option<Box<dyn TextMapPropagator + Send + Sync>>,
    republish: RepublishPolicy,
    server: Vec<KeyValue>,
}

impl fmt::Debug for AmqpTelemetryBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmqpTelemetryBuilder")
            .field("republish", &self.republish)
            .finish_non_exhaustive()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(SCOPE_NAME)
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_schema_url(SCHEMA_URL)
        .build()
}

impl AmqpTelemetryBuilder {
    /// Take spans from this tracer provider (default: the global one).
    ///
    /// An `SdkTracerProvider`'s tracer is used as it is, without boxing each span;
    /// any other provider's tracer (the global one, a custom provider) is boxed.
    pub fn tracer_provider<P>(mut self, provider: &P) -> Self
    where
        P: TracerProvider,
        P::Tracer: Send + Sync + 'static,
        <P::Tracer as Tracer>::Span: Send + Sync + 'static,
    {
        self.tracer = Some(AmqpTracer::new(provider.tracer_with_scope(scope())));
        self
    }

    /// Record metrics with this meter provider (default: the global one).
    pub fn meter_provider<P>(mut self, provider: &P) -> Self
    where
        P: MeterProvider + ?Sized,
    {
        self.meter = Some(provider.meter_with_scope(scope()));
        self
    }

    /// Inject and extract with this propagator instead of the default W3C
    /// trace-context + [`OrderContextPropagator`] composite.
    pub fn propagator<P>(mut self, propagator: P) -> Self
    where
        P: TextMapPropagator + Send + Sync + 'static,
    {
        self.propagator = Some(Box::new(propagator));
        self
    }

    /// What to do with messages that already carry a `traceparent` (default
    /// [`RepublishPolicy::Link`]).
    pub fn republish_policy(mut self, policy: RepublishPolicy) -> Self {
        self.republish = policy;
        self
    }

    /// The broker's address, recorded as `server.address` / `server.port` on spans.
    pub fn server(mut self, address: impl Into<String>, port: u16) -> Self {
        self.server = vec![
            KeyValue::new(SERVER_ADDRESS, address.into()),
            KeyValue::new(SERVER_PORT, i64::from(port)),
        ];
        self
    }

    /// Build the shared state.
    pub fn build(self) -> AmqpTelemetry {
        let tracer = self
            .tracer
            .unwrap_or_else(|| global::tracer_with_scope(scope()).into());
        let meter = self
            .meter
            .unwrap_or_else(|| global::meter_with_scope(scope()));
        let (propagator, default_propagation) = match self.propagator {
            Some(propagator) => (propagator, None),
            None => {
                let order = OrderContextPropagator::with_meter(&meter);
                let composite: Box<dyn TextMapPropagator + Send + Sync> =
                    Box::new(TextMapCompositePropagator::new(vec![
                        Box::new(TraceContextPropagator::new()),
                        Box::new(order.clone()),
                    ]));
                let fast = DefaultPropagation {
                    trace: TraceContextPropagator::new(),
                    order,
                };
                (composite, Some(fast))
            }
        };
        AmqpTelemetry {
            inner: Arc::new(Inner {
                tracer,
                metrics: AmqpMetrics::new(&meter),
                meter,
                propagator,
                default_propagation,
                republish: self.republish,
                server: self.server,
            }),
        }
    }
}
