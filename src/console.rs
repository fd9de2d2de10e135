//! A span exporter for people: one line per span on stderr.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::Value;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use otel_order::names::{ORDER_ID, ORDER_STATUS, ORDER_STATUS_NEXT, ORDER_TRANSITION_KIND};

/// Attributes worth a person's attention, in the order they are printed.
const SHOWN: [&str; 8] = [
    ORDER_ID,
    ORDER_STATUS,
    ORDER_STATUS_NEXT,
    ORDER_TRANSITION_KIND,
    "http.route",
    "http.response.status_code",
    "messaging.destination.name",
    "error.type",
];

/// What [`init`](crate::init) exports to when no OTLP endpoint is configured: each
/// finished span as one line on stderr, e.g.
///
/// ```text
/// [shop-api] SERVER GET /orders/{id}  3.1ms  trace=4bf92f35..  order.id=ORD-1 http.response.status_code=200
/// ```
#[derive(Debug, Default)]
pub struct ConsoleExporter {
    service: String,
}

impl ConsoleExporter {
    /// Format one span as it is printed.
    pub fn format_span(&self, span: &SpanData) -> String {
        let mut line = String::with_capacity(160);
        let duration = span
            .end_time
            .duration_since(span.start_time)
            .unwrap_or(Duration::ZERO);
        let kind = match span.span_kind {
            SpanKind::Server => "SERVER",
            SpanKind::Client => "CLIENT",
            SpanKind::Producer => "PRODUCER",
            SpanKind::Consumer => "CONSUMER",
            SpanKind::Internal => "INTERNAL",
        };
        let trace = span.span_context.trace_id().to_string();
        let _ = write!(
            line,
            "[{}] {kind} {}  {:.1?}  trace={}..",
            self.service,
            span.name,
            duration,
            &trace[..8]
        );
        for key in SHOWN {
            if let Some(kv) = span.attributes.iter().find(|kv| kv.key.as_str() == key) {
                let _ = write!(line, "  {key}={}", display_value(&kv.value));
            }
        }
        if let Status::Error { description } = &span.status {
            let _ = write!(line, "  ERROR {description}");
        }
        line
    }
}

fn display_value(value: &Value) -> String {
    value.as_str().into_owned()
}

impl SpanExporter for ConsoleExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut out = String::new();
        for span in &batch {
            out.push_str(&self.format_span(span));
            out.push('\n');
        }
        // A closed stderr must not fail the application's spans.
        let _ = std::io::stderr().lock().write_all(out.as_bytes());
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.service = resource
            .get(&opentelemetry::Key::from_static_str("service.name"))
            .map(|v| v.as_str().into_owned())
            .unwrap_or_default();
    }
}
