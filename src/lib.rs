//! Follow customer orders end to end across HTTP and RabbitMQ with OpenTelemetry.
//!
//! `ordertrace` is the one-call setup over the family of crates:
//!
//! - [`otel_order`] — order context and its propagation over HTTP (server layer,
//!   client middleware), order-status conventions;
//! - [`otel_amqp`] — trace and order context through RabbitMQ with lapin;
//! - [`otel_redact`] — keeps personal data out of every exported span.
//!
//! [`init`] reads the standard `OTEL_*` environment variables, builds tracer and meter
//! providers exporting over OTLP (gRPC or HTTP/protobuf, TLS capable), installs the
//! trace-context + order propagators and the `tracing` bridge, and returns a
//! [`TelemetryGuard`] that flushes on drop. With no endpoint configured, spans are
//! printed to stderr in a form a person can read.
//!
//! ```no_run
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let _telemetry = ordertrace::init("shop-api")?;
//!     // build the axum app with otel_order::http::OrderTraceLayer::new() ...
//!     Ok(())
//! }
//! ```
#![warn(missing_docs)]

mod console;
mod env;
mod error;
mod guard;
mod init;
mod log_writer;
mod span_queue;

pub use console::ConsoleExporter;
pub use env::{ExportTarget, Protocol};
pub use error::InitError;
pub use guard::TelemetryGuard;
pub use init::{init, TelemetryBuilder, SPAN_QUEUE_CAPACITY};
pub use span_queue::{
    AdmissionProcessor, CountingExporter, COMPONENT_NAME, COMPONENT_TYPE, EXPORT_FAILED, QUEUE_FULL,
};

pub use opentelemetry;
pub use opentelemetry_sdk;

/// The README's examples, compiled as doc tests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
pub use otel_amqp;
pub use otel_order;
pub use otel_redact;
