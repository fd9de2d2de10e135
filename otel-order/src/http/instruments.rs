//! Tracer and meter handles the HTTP integrations are built with.

use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::metrics::{Histogram, Meter, MeterProvider};
use opentelemetry::trace::TracerProvider;
use opentelemetry::InstrumentationScope;

use crate::names::SCOPE_NAME;

use super::semconv::DURATION_BUCKETS;

pub(crate) fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(SCOPE_NAME)
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

/// A tracer from `provider` behind the same type as the global one, so one layer type
/// serves both the global and an explicit provider.
pub(crate) fn boxed_tracer<P>(provider: &P) -> BoxedTracer
where
    P: TracerProvider,
    P::Tracer: Send + Sync + 'static,
    <P::Tracer as opentelemetry::trace::Tracer>::Span: Send + Sync + 'static,
{
    BoxedTracer::new(Box::new(provider.tracer_with_scope(scope())))
}

pub(crate) fn global_tracer() -> BoxedTracer {
    global::tracer_provider().tracer_with_scope(scope())
}

pub(crate) fn meter_of<P: MeterProvider + ?Sized>(provider: &P) -> Meter {
    provider.meter_with_scope(scope())
}

pub(crate) fn global_meter() -> Meter {
    global::meter_with_scope(scope())
}

pub(crate) fn duration_histogram(
    meter: &Meter,
    name: &'static str,
    what: &'static str,
) -> Histogram<f64> {
    meter
        .f64_histogram(name)
        .with_unit("s")
        .with_description(what)
        .with_boundaries(DURATION_BUCKETS.to_vec())
        .build()
}
