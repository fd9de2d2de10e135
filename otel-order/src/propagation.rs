//! Carrying the [`OrderContext`] across process boundaries in its own headers.
//!
//! [`OrderContextPropagator`] is a [`TextMapPropagator`], composable with W3C
//! trace-context in a [`TextMapCompositePropagator`]. It deliberately does not use W3C
//! baggage: baggage goes to every outgoing call, third parties included, while the
//! HTTP client middleware sends these headers only to allowed hosts.
//!
//! Inbound values are untrusted. Each header is validated on its own (length,
//! charset, known status, a sane timestamp, a well-formed span context); an invalid
//! value is dropped, counted in the `order.context.rejected` metric by header and
//! reason, and never propagated. An invalid or conflicting order id drops the whole
//! order context, since the other values describe "some order".
//!
//! ```
//! use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
//! use opentelemetry_sdk::propagation::TraceContextPropagator;
//! use otel_order::{OrderContextExt, OrderContextPropagator};
//! use std::collections::HashMap;
//!
//! let propagator = TextMapCompositePropagator::new(vec![
//!     Box::new(TraceContextPropagator::new()),
//!     Box::new(OrderContextPropagator::new()),
//! ]);
//! let mut headers = HashMap::new();
//! headers.insert("ordertrace-order-id".to_string(), "ORD-42".to_string());
//! headers.insert("ordertrace-order-status".to_string(), "SUBMITTED".to_string());
//! let cx = propagator.extract(&headers);
//! assert_eq!(cx.order().unwrap().order_id().as_str(), "ORD-42");
//! ```
//!
//! [`TextMapCompositePropagator`]: opentelemetry::propagation::TextMapCompositePropagator

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::metrics::{Counter, Meter};
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};

use crate::names::{
    HEADER_ORDER_ID, HEADER_ORDER_STATUS, HEADER_STATUS_ENTERED_AT, HEADER_STATUS_ENTERED_BY,
    METRIC_CONTEXT_REJECTED, REJECT_HEADER, REJECT_REASON, SCOPE_NAME,
};
use crate::order_id::InvalidOrderId;
use crate::{OrderContext, OrderContextExt, OrderId, OrderStatus};

/// How far in the future an inbound `entered-at` may be (clock skew between hosts).
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);
/// How far in the past an inbound `entered-at` may be. Orders take weeks, not years.
pub const MAX_STATUS_AGE: Duration = Duration::from_secs(400 * 24 * 3600);

/// Why an inbound order header value was dropped. Bounded: used as a metric attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// Present but empty.
    Empty,
    /// Longer than allowed.
    TooLong,
    /// Bytes outside the allowed charset (including non-ASCII and invalid UTF-8).
    InvalidCharset,
    /// The header came several times with different values.
    Conflicting,
    /// Not one of the ten status wire names.
    UnknownStatus,
    /// Not a Unix-milliseconds number.
    InvalidTimestamp,
    /// Further in the future than [`MAX_CLOCK_SKEW`].
    FutureTimestamp,
    /// Older than [`MAX_STATUS_AGE`].
    TooOld,
    /// Not a well-formed, valid `00-{trace}-{span}-{flags}` value.
    InvalidSpanContext,
}

impl RejectReason {
    /// Lower-case name used as the metric attribute value.
    pub const fn as_str(self) -> &'static str {
        match self {
            RejectReason::Empty => "empty",
            RejectReason::TooLong => "too_long",
            RejectReason::InvalidCharset => "invalid_charset",
            RejectReason::Conflicting => "conflicting",
            RejectReason::UnknownStatus => "unknown_status",
            RejectReason::InvalidTimestamp => "invalid_timestamp",
            RejectReason::FutureTimestamp => "future_timestamp",
            RejectReason::TooOld => "too_old",
            RejectReason::InvalidSpanContext => "invalid_span_context",
        }
    }
}

impl From<InvalidOrderId> for RejectReason {
    fn from(e: InvalidOrderId) -> Self {
        match e {
            InvalidOrderId::Empty => RejectReason::Empty,
            InvalidOrderId::TooLong => RejectReason::TooLong,
            InvalidOrderId::InvalidCharset => RejectReason::InvalidCharset,
        }
    }
}

/// Counts dropped inbound values. Attributes are the header constant and the reason
/// enum only: nothing from the request reaches a label.
#[derive(Clone)]
pub(crate) struct Rejections {
    counter: Counter<u64>,
}

impl Rejections {
    pub(crate) fn new(meter: &Meter) -> Self {
        Rejections {
            counter: meter
                .u64_counter(METRIC_CONTEXT_REJECTED)
                .with_description("Inbound order-context header values dropped as invalid")
                .build(),
        }
    }

    pub(crate) fn record(&self, header: &'static str, reason: RejectReason) {
        self.counter.add(
            1,
            &[
                KeyValue::new(REJECT_HEADER, header),
                KeyValue::new(REJECT_REASON, reason.as_str()),
            ],
        );
    }
}

/// Propagates [`OrderContext`] in the `ordertrace-*` headers (see [`crate::names`]).
#[derive(Clone)]
pub struct OrderContextPropagator {
    rejections: Rejections,
    fields: [String; 4],
}

impl fmt::Debug for OrderContextPropagator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrderContextPropagator").finish_non_exhaustive()
    }
}

impl Default for OrderContextPropagator {
    fn default() -> Self {
        Self::new()
    }
}

impl OrderContextPropagator {
    /// A propagator counting rejections with the global meter provider's meter.
    ///
    /// Build it after installing the meter provider (as `ordertrace::init` does), or
    /// use [`with_meter`](Self::with_meter).
    pub fn new() -> Self {
        Self::with_meter(&opentelemetry::global::meter(SCOPE_NAME))
    }

    /// A propagator counting rejections with `meter`.
    pub fn with_meter(meter: &Meter) -> Self {
        OrderContextPropagator {
            rejections: Rejections::new(meter),
            fields: [
                HEADER_ORDER_ID,
                HEADER_ORDER_STATUS,
                HEADER_STATUS_ENTERED_AT,
                HEADER_STATUS_ENTERED_BY,
            ]
            .map(str::to_owned),
        }
    }

    /// Count a value dropped before it reached the propagator (e.g. a header that is
    /// not valid UTF-8, which the carrier cannot even hand over as `&str`).
    pub(crate) fn reject(&self, header: &'static str, reason: RejectReason) {
        self.rejections.record(header, reason);
    }

    /// Read and validate an order context from `extractor`; `None` when there is no
    /// (valid) order id. Invalid values are counted and dropped.
    pub fn extract_order(&self, extractor: &dyn Extractor) -> Option<OrderContext> {
        let order_id = self.read_order_id(extractor)?;
        let status = self.read_status(extractor);
        let (entered_at, entered_by) = match status {
            Some(_) => (
                self.read_entered_at(extractor, SystemTime::now()),
                self.read_entered_by(extractor),
            ),
            None => (None, None),
        };
        Some(OrderContext::from_parts(
            order_id, status, entered_at, entered_by,
        ))
    }

    /// Write `order` into `injector`.
    pub fn inject_order(&self, order: &OrderContext, injector: &mut dyn Injector) {
        injector.set(HEADER_ORDER_ID, order.order_id().as_str().to_owned());
        if let Some(status) = order.status() {
            injector.set(HEADER_ORDER_STATUS, status.as_str().to_owned());
            if let Some(at) = order.entered_at() {
                injector.set(HEADER_STATUS_ENTERED_AT, unix_millis(at).to_string());
            }
            if let Some(span) = order.entered_by() {
                injector.set(HEADER_STATUS_ENTERED_BY, format_span_context(span));
            }
        }
    }

    fn read_order_id(&self, extractor: &dyn Extractor) -> Option<OrderId> {
        let value = self.single_value(extractor, HEADER_ORDER_ID)?;
        match OrderId::new(value.trim()) {
            Ok(id) => Some(id),
            Err(e) => {
                self.rejections.record(HEADER_ORDER_ID, e.into());
                None
            }
        }
    }

    fn read_status(&self, extractor: &dyn Extractor) -> Option<OrderStatus> {
        let value = self.single_value(extractor, HEADER_ORDER_STATUS)?;
        match value.trim().parse() {
            Ok(status) => Some(status),
            Err(_) => {
                self.rejections
                    .record(HEADER_ORDER_STATUS, RejectReason::UnknownStatus);
                None
            }
        }
    }

    fn read_entered_at(&self, extractor: &dyn Extractor, now: SystemTime) -> Option<SystemTime> {
        let value = self.single_value(extractor, HEADER_STATUS_ENTERED_AT)?;
        match parse_entered_at(value.trim(), now) {
            Ok(at) => Some(at),
            Err(reason) => {
                self.rejections.record(HEADER_STATUS_ENTERED_AT, reason);
                None
            }
        }
    }

    fn read_entered_by(&self, extractor: &dyn Extractor) -> Option<SpanContext> {
        let value = self.single_value(extractor, HEADER_STATUS_ENTERED_BY)?;
        match parse_span_context(value.trim()) {
            Some(span) => Some(span),
            None => {
                self.rejections
                    .record(HEADER_STATUS_ENTERED_BY, RejectReason::InvalidSpanContext);
                None
            }
        }
    }

    /// The header's value if it came once (or several times with one value).
    fn single_value<'a>(&self, extractor: &'a dyn Extractor, header: &'static str) -> Option<&'a str> {
        let first = extractor.get(header)?;
        // Only carriers that can hold repeats pay for the second look-up's Vec.
        if let Some(all) = extractor.get_all(header) {
            if all.iter().any(|v| *v != first) {
                self.rejections.record(header, RejectReason::Conflicting);
                return None;
            }
        }
        if first.is_empty() {
            self.rejections.record(header, RejectReason::Empty);
            return None;
        }
        Some(first)
    }
}

impl TextMapPropagator for OrderContextPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        if let Some(order) = cx.order() {
            self.inject_order(order, injector);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        match self.extract_order(extractor) {
            Some(order) => cx.with_order(order),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

/// Milliseconds since the Unix epoch (0 for times before it).
pub(crate) fn unix_millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn parse_entered_at(value: &str, now: SystemTime) -> Result<SystemTime, RejectReason> {
    // 13 digits cover every date until the year 2286; more would only overflow.
    if value.is_empty() || value.len() > 13 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RejectReason::InvalidTimestamp);
    }
    let millis: u64 = value.parse().map_err(|_| RejectReason::InvalidTimestamp)?;
    let at = UNIX_EPOCH + Duration::from_millis(millis);
    if at > now + MAX_CLOCK_SKEW {
        return Err(RejectReason::FutureTimestamp);
    }
    if now.duration_since(at).is_ok_and(|age| age > MAX_STATUS_AGE) {
        return Err(RejectReason::TooOld);
    }
    Ok(at)
}

/// `00-{32 hex trace id}-{16 hex span id}-{2 hex flags}`.
pub(crate) fn format_span_context(span: &SpanContext) -> String {
    format!(
        "00-{}-{}-{:02x}",
        span.trace_id(),
        span.span_id(),
        span.trace_flags().to_u8()
    )
}

fn parse_span_context(value: &str) -> Option<SpanContext> {
    let bytes = value.as_bytes();
    if bytes.len() != 55 || &bytes[..3] != b"00-" || bytes[35] != b'-' || bytes[52] != b'-' {
        return None;
    }
    let lower_hex = |s: &str| s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let (trace, span, flags) = (&value[3..35], &value[36..52], &value[53..55]);
    if !(lower_hex(trace) && lower_hex(span) && lower_hex(flags)) {
        return None;
    }
    let trace_id = TraceId::from_hex(trace).ok()?;
    let span_id = SpanId::from_hex(span).ok()?;
    let flags = u8::from_str_radix(flags, 16).ok()?;
    let context = SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::new(flags) & TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    );
    context.is_valid().then_some(context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn carrier(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn full_context_round_trips() {
        let p = OrderContextPropagator::new();
        let entered = UNIX_EPOCH + Duration::from_millis(unix_millis(SystemTime::now()));
        let span = SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            TraceFlags::SAMPLED,
            true,
            TraceState::NONE,
        );
        let order = OrderContext::new(OrderId::new("ORD-7").unwrap())
            .with_status(OrderStatus::PriceCalculated, entered)
            .with_entered_by(span.clone());
        let mut headers = HashMap::new();
        p.inject_order(&order, &mut headers);
        assert_eq!(p.extract_order(&headers), Some(order));
    }

    #[test]
    fn invalid_id_drops_whole_context() {
        let p = OrderContextPropagator::new();
        let h = carrier(&[(HEADER_ORDER_ID, "a b"), (HEADER_ORDER_STATUS, "SUBMITTED")]);
        assert_eq!(p.extract_order(&h), None);
    }

    #[test]
    fn unknown_status_keeps_id_and_drops_status_fields() {
        let p = OrderContextPropagator::new();
        let now = unix_millis(SystemTime::now()).to_string();
        let h = carrier(&[
            (HEADER_ORDER_ID, "ORD-1"),
            (HEADER_ORDER_STATUS, "HACKED"),
            (HEADER_STATUS_ENTERED_AT, &now),
        ]);
        let order = p.extract_order(&h).unwrap();
        assert_eq!(order.status(), None);
        assert_eq!(order.entered_at(), None);
    }

    #[test]
    fn timestamps_outside_sane_window_are_dropped() {
        let now = SystemTime::now();
        let future = unix_millis(now + Duration::from_secs(3600)).to_string();
        let ancient = unix_millis(now - Duration::from_secs(500 * 24 * 3600)).to_string();
        assert_eq!(
            parse_entered_at(&future, now),
            Err(RejectReason::FutureTimestamp)
        );
        assert_eq!(parse_entered_at(&ancient, now), Err(RejectReason::TooOld));
        for bad in ["", "-1", "1e12", "99999999999999999999", "12.5", " 1"] {
            assert_eq!(
                parse_entered_at(bad, now),
                Err(RejectReason::InvalidTimestamp),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn malformed_entered_by_is_dropped() {
        for bad in [
            "",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e47é-00f067aa0ba902b7-01",
        ] {
            assert!(parse_span_context(bad).is_none(), "{bad:?}");
        }
    }
}
