//! [`RedactingProcessor`]: redaction in front of the span processor that exports.
//!
//! It has to *wrap* that processor: processors registered side by side each get
//! their own copy of the span, so a sibling cannot change what another exports.

use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;

use crate::redactor::Redactor;

/// A [`SpanProcessor`] that redacts each finished span (every surface, see
/// [`Redactor::redact_span`]) before handing it to `inner`, and redacts the resource
/// before `inner` (and through it the exporter) sees it.
///
/// ```
/// use otel_redact::{RedactingProcessor, Redactor};
/// use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
/// # use opentelemetry_sdk::{error::OTelSdkResult, trace::{SpanData, SpanExporter}};
/// # #[derive(Debug)]
/// # struct Discard;
/// # impl SpanExporter for Discard {
/// #     fn export(&self, _: Vec<SpanData>) -> impl std::future::Future<Output = OTelSdkResult> + Send {
/// #         std::future::ready(Ok(()))
/// #     }
/// # }
/// # fn exporter() -> Discard { Discard }
///
/// let provider = SdkTracerProvider::builder()
///     .with_span_processor(RedactingProcessor::new(
///         BatchSpanProcessor::builder(exporter()).build(),
///         Redactor::default(),
///     ))
///     .build();
/// # let _ = provider.shutdown();
/// ```
#[derive(Debug)]
pub struct RedactingProcessor<P> {
    inner: P,
    redactor: Redactor,
}

impl<P: SpanProcessor> RedactingProcessor<P> {
    /// Wraps `inner` (usually a `BatchSpanProcessor` around the real exporter).
    pub fn new(inner: P, redactor: Redactor) -> Self {
        RedactingProcessor { inner, redactor }
    }

    /// The wrapped processor.
    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// The redactor in use.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }
}

impl<P: SpanProcessor> SpanProcessor for RedactingProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        self.redactor.redact_span(&mut span);
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn shutdown(&self) -> OTelSdkResult {
        self.inner.shutdown()
    }

    fn set_resource(&mut self, resource: &Resource) {
        match self.redactor.redact_resource(resource) {
            Some(redacted) => self.inner.set_resource(&redacted),
            None => self.inner.set_resource(resource),
        }
    }
}
