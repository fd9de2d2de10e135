//! Tracer and meter handles the HTTP integrations are built with.

use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::metrics::{Histogram, Meter, MeterProvider};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Tracer, TracerProvider};
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::propagation::TraceContextPropagator;

use crate::names::SCOPE_NAME;
use crate::OrderContextPropagator;

use super::semconv::DURATION_BUCKETS;

pub(crate) fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(SCOPE_NAME)
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

/// A tracer from `provider` behind the same type as the global one, so one layer type
/// serves both the global and an explicit provider.
fn boxed_tracer<P>(provider: &P) -> BoxedTracer
where
    P: TracerProvider,
    P::Tracer: Send + Sync + 'static,
    <P::Tracer as opentelemetry::trace::Tracer>::Span: Send + Sync + 'static,
{
    BoxedTracer::new(Box::new(provider.tracer_with_scope(scope())))
}

fn global_tracer() -> BoxedTracer {
    global::tracer_provider().tracer_with_scope(scope())
}

fn meter_of<P: MeterProvider + ?Sized>(provider: &P) -> Meter {
    provider.meter_with_scope(scope())
}

fn global_meter() -> Meter {
    global::meter_with_scope(scope())
}

fn duration_histogram(meter: &Meter, name: &'static str, what: &'static str) -> Histogram<f64> {
    meter
        .f64_histogram(name)
        .with_unit("s")
        .with_description(what)
        .with_boundaries(DURATION_BUCKETS.to_vec())
        .build()
}

/// The handles one layer or middleware records with, built once.
pub(crate) struct Instruments {
    pub(crate) tracer: BoxedTracer,
    pub(crate) duration: Histogram<f64>,
    pub(crate) trace_propagator: Box<dyn TextMapPropagator + Send + Sync>,
    pub(crate) order_propagator: OrderContextPropagator,
}

/// What a builder was told; anything not set comes from the globals at `build`.
#[derive(Default)]
pub(crate) struct InstrumentsConfig {
    tracer: Option<BoxedTracer>,
    meter: Option<Meter>,
    trace_propagator: Option<Box<dyn TextMapPropagator + Send + Sync>>,
}

impl InstrumentsConfig {
    pub(crate) fn set_tracer_provider<P>(&mut self, provider: &P)
    where
        P: TracerProvider,
        P::Tracer: Send + Sync + 'static,
        <P::Tracer as Tracer>::Span: Send + Sync + 'static,
    {
        self.tracer = Some(boxed_tracer(provider));
    }

    pub(crate) fn set_meter_provider<P: MeterProvider + ?Sized>(&mut self, provider: &P) {
        self.meter = Some(meter_of(provider));
    }

    pub(crate) fn set_trace_propagator(
        &mut self,
        propagator: impl TextMapPropagator + Send + Sync + 'static,
    ) {
        self.trace_propagator = Some(Box::new(propagator));
    }

    /// The instruments, recording request durations under `duration_metric`.
    pub(crate) fn build(self, duration_metric: &'static str, what: &'static str) -> Instruments {
        let meter = self.meter.unwrap_or_else(global_meter);
        Instruments {
            tracer: self.tracer.unwrap_or_else(global_tracer),
            duration: duration_histogram(&meter, duration_metric, what),
            trace_propagator: self
                .trace_propagator
                .unwrap_or_else(|| Box::new(TraceContextPropagator::new())),
            order_propagator: OrderContextPropagator::with_meter(&meter),
        }
    }
}
