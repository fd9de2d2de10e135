//! What the standard `OTEL_*` environment variables ask for.
//!
//! The exporters read endpoint, headers, timeout and compression themselves; this
//! module decides only what they cannot: whether to export at all, with which
//! protocol, and which CA to trust.

use std::env;

use crate::InitError;

/// OTLP transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP/gRPC (default port 4317).
    Grpc,
    /// OTLP/HTTP with protobuf bodies (default port 4318); the specification's default.
    HttpProtobuf,
}

/// Where one signal goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportTarget {
    /// Over OTLP, with the endpoint the exporter reads from the environment.
    Otlp(Protocol),
    /// Nowhere configured: print spans for a person (metrics are not exported).
    Console,
}

pub(crate) const SIGNAL_TRACES: &str = "TRACES";
pub(crate) const SIGNAL_METRICS: &str = "METRICS";

fn var(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Where `signal` (`TRACES` or `METRICS`) goes, per the OTLP exporter specification:
/// the per-signal variable wins over the general one.
pub(crate) fn target(signal: &str) -> Result<ExportTarget, InitError> {
    let endpoint = var(&format!("OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"))
        .or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT"));
    if endpoint.is_none() {
        return Ok(ExportTarget::Console);
    }
    let protocol = var(&format!("OTEL_EXPORTER_OTLP_{signal}_PROTOCOL"))
        .or_else(|| var("OTEL_EXPORTER_OTLP_PROTOCOL"));
    match protocol.as_deref().map(str::trim) {
        None | Some("http/protobuf") => Ok(ExportTarget::Otlp(Protocol::HttpProtobuf)),
        Some("grpc") => Ok(ExportTarget::Otlp(Protocol::Grpc)),
        Some(other) => Err(InitError::UnsupportedProtocol(other.to_owned())),
    }
}

/// PEM of the CA to trust for the signal's endpoint, if one is configured.
pub(crate) fn ca_certificate(signal: &str) -> Result<Option<Vec<u8>>, InitError> {
    let Some(path) = var(&format!("OTEL_EXPORTER_OTLP_{signal}_CERTIFICATE"))
        .or_else(|| var("OTEL_EXPORTER_OTLP_CERTIFICATE"))
    else {
        return Ok(None);
    };
    std::fs::read(&path)
        .map(Some)
        .map_err(|source| InitError::Certificate { path, source })
}

/// `OTEL_SDK_DISABLED=true` turns telemetry off entirely.
pub(crate) fn sdk_disabled() -> bool {
    var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Whether the service name comes from the environment rather than the code.
pub(crate) fn service_name_set() -> bool {
    var("OTEL_SERVICE_NAME").is_some()
}
