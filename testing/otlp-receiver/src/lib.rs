//! An in-process OTLP receiver for the workspace's tests.
//!
//! It speaks the real protocol — OTLP/gRPC (tonic) and OTLP/HTTP with protobuf bodies —
//! so a test exports with `opentelemetry-otlp` over a socket exactly as it would to
//! Jaeger or a Collector, then asserts on what arrived: the decoded
//! `opentelemetry-proto` messages, and the raw request bytes (for "no personal data
//! anywhere in the exported bytes" checks).
//!
//! ```no_run
//! # async fn demo() {
//! let receiver = otlp_receiver::OtlpReceiver::start().await;
//! // point an exporter at receiver.grpc_endpoint() or receiver.http_endpoint() ...
//! let spans = receiver.wait_for_spans(1, std::time::Duration::from_secs(5)).await;
//! assert_eq!(spans[0].span.name, "GET /orders/{id}");
//! # }
//! ```
//!
//! Faults can be switched on to test the exporting side under a broken backend:
//! [`Mode::Unavailable`] answers gRPC `UNAVAILABLE` / HTTP 503, [`Mode::Hang`] never
//! answers.

mod query;
mod server;

pub use opentelemetry_proto::tonic as proto;
pub use query::{
    attr, attr_f64, attr_i64, attr_str, has_attributes, hex_id, ReceivedMetric, ReceivedSpan,
};
pub use server::{Mode, OtlpReceiver};
