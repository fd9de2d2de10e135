//! Why telemetry could not be set up.

/// An error from [`init`](crate::init). The application may log it and run on
/// without telemetry: nothing half-installed is left behind.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// `OTEL_EXPORTER_OTLP_PROTOCOL` (or a per-signal variant) names no supported
    /// protocol.
    #[error("unsupported OTLP protocol {0:?} (expected grpc or http/protobuf)")]
    UnsupportedProtocol(String),
    /// The CA certificate file named by `OTEL_EXPORTER_OTLP_CERTIFICATE` could not be
    /// read.
    #[error("cannot read OTLP CA certificate {path}: {source}")]
    Certificate {
        /// The file named in the environment.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The OTLP exporter could not be built (bad endpoint, TLS set-up, ...).
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// A gRPC exporter was requested outside a Tokio runtime.
    #[error("the OTLP gRPC exporter needs a Tokio runtime: call init inside one")]
    NoRuntime,
}
