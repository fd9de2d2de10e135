//! Keeps the providers alive and flushes them when the application stops.

use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

/// Returned by [`init`](crate::init): flushes and shuts the providers down when
/// dropped, so the last spans of a stopping service are exported. Keep it alive for
/// the life of the application (`let _telemetry = ordertrace::init(..)?;`).
#[must_use = "dropping the guard shuts telemetry down at once"]
pub struct TelemetryGuard {
    pub(crate) tracer_provider: Option<SdkTracerProvider>,
    pub(crate) meter_provider: Option<SdkMeterProvider>,
}

impl TelemetryGuard {
    /// The tracer provider, to pass explicitly to layers and middlewares (they use the
    /// global one by default). `None` when `OTEL_SDK_DISABLED=true`.
    pub fn tracer_provider(&self) -> Option<&SdkTracerProvider> {
        self.tracer_provider.as_ref()
    }

    /// The meter provider; `None` when metrics are not exported.
    pub fn meter_provider(&self) -> Option<&SdkMeterProvider> {
        self.meter_provider.as_ref()
    }

    /// Export everything buffered now.
    pub fn flush(&self) {
        if let Some(p) = &self.tracer_provider {
            let _ = p.force_flush();
        }
        if let Some(p) = &self.meter_provider {
            let _ = p.force_flush();
        }
    }

    /// Flush and shut down now instead of on drop.
    pub fn shutdown(mut self) {
        self.shutdown_providers();
    }

    fn shutdown_providers(&mut self) {
        if let Some(p) = self.tracer_provider.take() {
            let _ = p.shutdown();
        }
        if let Some(p) = self.meter_provider.take() {
            let _ = p.shutdown();
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        self.shutdown_providers();
    }
}
