//! Flattened views of what was received, and attribute look-ups for assertions.

use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::{number_data_point, HistogramDataPoint, Metric};
use opentelemetry_proto::tonic::trace::v1::Span;

/// One received span with the resource and scope it was exported under.
#[derive(Clone, Debug)]
pub struct ReceivedSpan {
    /// Resource attributes of the exporting process (`service.name`, ...).
    pub resource: Vec<KeyValue>,
    /// Instrumentation scope name.
    pub scope: String,
    /// The span as decoded from the wire.
    pub span: Span,
}

impl ReceivedSpan {
    /// The exporting service's `service.name`.
    pub fn service_name(&self) -> Option<&str> {
        attr_str(&self.resource, "service.name")
    }

    /// A string attribute of the span.
    pub fn attr_str(&self, key: &str) -> Option<&str> {
        attr_str(&self.span.attributes, key)
    }

    /// An integer attribute of the span.
    pub fn attr_i64(&self, key: &str) -> Option<i64> {
        attr_i64(&self.span.attributes, key)
    }

    /// Trace id as lower-case hex.
    pub fn trace_id(&self) -> String {
        hex_id(&self.span.trace_id)
    }

    /// Span id as lower-case hex.
    pub fn span_id(&self) -> String {
        hex_id(&self.span.span_id)
    }

    /// Parent span id as lower-case hex (empty for a root span).
    pub fn parent_span_id(&self) -> String {
        hex_id(&self.span.parent_span_id)
    }
}

/// One received metric with the resource it was exported under.
#[derive(Clone, Debug)]
pub struct ReceivedMetric {
    /// Resource attributes of the exporting process.
    pub resource: Vec<KeyValue>,
    /// Instrumentation scope name.
    pub scope: String,
    /// The metric as decoded from the wire.
    pub metric: Metric,
}

impl ReceivedMetric {
    /// Attributes and value of every data point of a sum or gauge (integers as `f64`).
    pub fn number_points(&self) -> Vec<(&[KeyValue], f64)> {
        let points = match self.metric.data.as_ref() {
            Some(Data::Sum(s)) => &s.data_points,
            Some(Data::Gauge(g)) => &g.data_points,
            _ => return Vec::new(),
        };
        points
            .iter()
            .filter_map(|p| {
                let value = match p.value? {
                    number_data_point::Value::AsInt(i) => i as f64,
                    number_data_point::Value::AsDouble(d) => d,
                };
                Some((p.attributes.as_slice(), value))
            })
            .collect()
    }

    /// Every data point of a histogram.
    pub fn histogram_points(&self) -> &[HistogramDataPoint] {
        match self.metric.data.as_ref() {
            Some(Data::Histogram(h)) => &h.data_points,
            _ => &[],
        }
    }
}

/// Whether `actual` holds every `(key, string value)` pair of `expected`.
pub fn has_attributes(actual: &[KeyValue], expected: &[(&str, &str)]) -> bool {
    expected
        .iter()
        .all(|(k, v)| attr_str(actual, k) == Some(*v))
}

/// Look up an attribute's value by key.
pub fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attrs.iter().find(|kv| kv.key == key)?.value.as_ref()
}

/// Look up a string attribute.
pub fn attr_str<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match attr(attrs, key)?.value.as_ref()? {
        Value::StringValue(s) => Some(s),
        _ => None,
    }
}

/// Look up an integer attribute.
pub fn attr_i64(attrs: &[KeyValue], key: &str) -> Option<i64> {
    match attr(attrs, key)?.value.as_ref()? {
        Value::IntValue(i) => Some(*i),
        _ => None,
    }
}

/// Look up a floating-point attribute.
pub fn attr_f64(attrs: &[KeyValue], key: &str) -> Option<f64> {
    match attr(attrs, key)?.value.as_ref()? {
        Value::DoubleValue(f) => Some(*f),
        _ => None,
    }
}

/// Bytes as lower-case hex, the way trace and span ids are written in headers.
pub fn hex_id(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
