//! [`RedactingExporter`]: redaction wrapped around a span exporter, for pipelines
//! where the processor is not yours to wrap.

use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use crate::redactor::Redactor;

/// A [`SpanExporter`] that redacts every span of a batch, and the resource, before
/// `inner` sees them. Redaction happens synchronously before the export future is
/// created, so the future stays the inner exporter's own.
///
/// ```
/// use otel_redact::{RedactingExporter, Redactor};
/// use opentelemetry_sdk::trace::SdkTracerProvider;
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
///     .with_simple_exporter(RedactingExporter::new(exporter(), Redactor::default()))
///     .build();
/// # let _ = provider.shutdown();
/// ```
#[derive(Debug)]
pub struct RedactingExporter<E> {
    inner: E,
    redactor: Redactor,
}

impl<E: SpanExporter> RedactingExporter<E> {
    /// Wraps `inner`.
    pub fn new(inner: E, redactor: Redactor) -> Self {
        RedactingExporter { inner, redactor }
    }

    /// The wrapped exporter.
    pub fn inner(&self) -> &E {
        &self.inner
    }
}

impl<E: SpanExporter> SpanExporter for RedactingExporter<E> {
    fn export(
        &self,
        mut batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        for span in &mut batch {
            self.redactor.redact_span(span);
        }
        self.inner.export(batch)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn shutdown(&self) -> OTelSdkResult {
        self.inner.shutdown()
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        match self.redactor.redact_resource(resource) {
            Some(redacted) => self.inner.set_resource(&redacted),
            None => self.inner.set_resource(resource),
        }
    }
}
