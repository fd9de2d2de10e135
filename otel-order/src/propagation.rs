//! Carrying the [`OrderContext`] across process boundaries in its own headers.
//!
//! [`OrderContextPropagator`] is a [`TextMapPropagator`] writing one header,
//! [`ordertrace-order`](crate::names::HEADER_ORDER), composable with W3C
//! trace-context in a [`TextMapCompositePropagator`]. It deliberately does not use W3C
//! baggage: baggage goes to every outgoing call, third parties included, while the
//! HTTP client middleware sends this header only to allowed hosts.
//!
//! Inbound values are untrusted. The header is bounded ([`MAX_HEADER_LEN`]) and each
//! field validated on its own (charset and length of the id, a known status, a sane
//! timestamp, a well-formed span context); an invalid field is dropped, counted in the
//! `order.context.rejected` metric by field and reason, and never propagated. An
//! invalid, missing or ambiguous order id drops the whole order context, since the
//! other fields describe "some order".
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
//! headers.insert("ordertrace-order".to_string(), "id=ORD-42;status=SUBMITTED".to_string());
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
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};

use crate::names::{
    FIELD_BY, FIELD_ID, FIELD_SINCE, FIELD_STATUS, FIELD_WHOLE_HEADER, HEADER_ORDER,
    MAX_HEADER_LEN, METRIC_CONTEXT_REJECTED, REJECT_FIELD, REJECT_REASON, SCOPE_NAME,
};
use crate::order_id::InvalidOrderId;
use crate::traceparent::{self, decode_lower_hex, write_hex};
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
    /// The header came several times with different values, or a field twice.
    Conflicting,
    /// The header has no `id` field.
    MissingId,
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
            RejectReason::MissingId => "missing_id",
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

/// Counts dropped inbound values. Attributes are a field-name constant and the reason
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

    pub(crate) fn record(&self, field: &'static str, reason: RejectReason) {
        self.counter.add(
            1,
            &[
                KeyValue::new(REJECT_FIELD, field),
                KeyValue::new(REJECT_REASON, reason.as_str()),
            ],
        );
    }
}

/// Propagates [`OrderContext`] in the [`ordertrace-order`](crate::names::HEADER_ORDER)
/// header.
#[derive(Clone)]
pub struct OrderContextPropagator {
    rejections: Rejections,
    fields: [String; 1],
}

impl fmt::Debug for OrderContextPropagator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrderContextPropagator")
            .finish_non_exhaustive()
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
            fields: [HEADER_ORDER.to_owned()],
        }
    }

    /// Count a value dropped before it reached the propagator (e.g. a header that is
    /// not valid UTF-8, which the carrier cannot even hand over as `&str`).
    pub(crate) fn reject(&self, field: &'static str, reason: RejectReason) {
        self.rejections.record(field, reason);
    }

    /// Read and validate an order context from `extractor`; `None` when there is no
    /// (valid) order id. Invalid fields are counted and dropped. A compact `by` field
    /// (span id only) cannot be resolved without the message's trace and is dropped:
    /// use [`extract_order_in`](Self::extract_order_in) when the trace is known.
    pub fn extract_order(&self, extractor: &dyn Extractor) -> Option<OrderContext> {
        self.extract_order_in(TraceId::INVALID, extractor)
    }

    /// Like [`extract_order`](Self::extract_order), for a message that belongs to
    /// `trace` (from its `traceparent`): a compact `by` field names a span of it.
    pub fn extract_order_in(
        &self,
        trace: TraceId,
        extractor: &dyn Extractor,
    ) -> Option<OrderContext> {
        let value = self.single_value(extractor)?;
        // The clock is read only for a `since` field (most headers carry none).
        self.parse(value, trace, SystemTime::now)
    }

    /// Write `order` into `injector` as one header (the `by` field in full).
    pub fn inject_order(&self, order: &OrderContext, injector: &mut dyn Injector) {
        injector.set(HEADER_ORDER, format_order(order, TraceId::INVALID));
    }

    /// Write `order` for a message of `trace`: when the span that entered the status
    /// belongs to the same trace (the usual case), `by` carries only its span id,
    /// which the reader completes from the message's `traceparent`.
    pub fn inject_order_for(
        &self,
        trace: TraceId,
        order: &OrderContext,
        injector: &mut dyn Injector,
    ) {
        injector.set(HEADER_ORDER, format_order(order, trace));
    }

    /// The header's value if it came once (or several times with one value).
    fn single_value<'a>(&self, extractor: &'a dyn Extractor) -> Option<&'a str> {
        let first = extractor.get(HEADER_ORDER)?;
        // Carriers that cannot repeat a key return one value or `None` here.
        if let Some(all) = extractor.get_all(HEADER_ORDER) {
            if all.iter().any(|v| *v != first) {
                self.rejections
                    .record(FIELD_WHOLE_HEADER, RejectReason::Conflicting);
                return None;
            }
        }
        Some(first)
    }

    fn parse(
        &self,
        value: &str,
        trace: TraceId,
        now: impl FnOnce() -> SystemTime,
    ) -> Option<OrderContext> {
        let reject = |field, reason| {
            self.rejections.record(field, reason);
        };
        if value.len() > MAX_HEADER_LEN {
            reject(FIELD_WHOLE_HEADER, RejectReason::TooLong);
            return None;
        }
        let mut fields: [Option<&str>; 4] = [None; 4];
        // Byte-level scanning: `;` and `=` are ASCII, so every cut is a char boundary.
        let mut rest = Some(value);
        while let Some(remaining) = rest {
            let part = match remaining.bytes().position(|b| b == b';') {
                Some(i) => {
                    rest = Some(&remaining[i + 1..]);
                    &remaining[..i]
                }
                None => {
                    rest = None;
                    remaining
                }
            };
            let Some(eq) = part.bytes().position(|b| b == b'=') else {
                continue;
            };
            let slot = match part[..eq].trim_ascii() {
                FIELD_ID => 0,
                FIELD_STATUS => 1,
                FIELD_SINCE => 2,
                FIELD_BY => 3,
                _ => continue,
            };
            if fields[slot].is_some() {
                reject(FIELD_WHOLE_HEADER, RejectReason::Conflicting);
                return None;
            }
            fields[slot] = Some(part[eq + 1..].trim_ascii());
        }
        let [id, status, since, by] = fields;
        let Some(id) = id else {
            reject(FIELD_ID, RejectReason::MissingId);
            return None;
        };
        let order_id = match OrderId::new(id) {
            Ok(id) => id,
            Err(e) => {
                reject(FIELD_ID, e.into());
                return None;
            }
        };
        let status = status.and_then(|s| match s.parse::<OrderStatus>() {
            Ok(status) => Some(status),
            Err(_) => {
                reject(FIELD_STATUS, RejectReason::UnknownStatus);
                None
            }
        });
        // `since` and `by` describe the status: without one they mean nothing.
        let (entered_at, entered_by) = match status {
            None => (None, None),
            Some(_) => (
                since.and_then(|v| match parse_entered_at(v, now()) {
                    Ok(at) => Some(at),
                    Err(reason) => {
                        reject(FIELD_SINCE, reason);
                        None
                    }
                }),
                by.and_then(|v| match parse_entered_by(v, trace) {
                    Some(span) => Some(span),
                    None => {
                        reject(FIELD_BY, RejectReason::InvalidSpanContext);
                        None
                    }
                }),
            ),
        };
        Some(OrderContext::from_parts(
            order_id, status, entered_at, entered_by,
        ))
    }
}

impl TextMapPropagator for OrderContextPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        if let Some(order) = cx.order() {
            self.inject_order_for(cx.span().span_context().trace_id(), order, injector);
        }
    }

    /// Run it after the trace-context propagator (as in a composite), so the
    /// message's trace is in `cx` to complete a compact `by` field.
    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let trace = cx.span().span_context().trace_id();
        match self.extract_order_in(trace, extractor) {
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

/// The header value for `order`, built in one exactly-sized allocation (the header
/// map takes the buffer over without copying).
fn format_order(order: &OrderContext, trace: TraceId) -> String {
    const BY_LEN: usize = traceparent::LEN;
    let id = order.order_id().as_str();
    let status = order.status();
    let since = status.and(order.entered_at()).map(unix_millis);
    let by = status.and(order.entered_by());
    let compact = by.is_some_and(|span| trace != TraceId::INVALID && span.trace_id() == trace);
    let len = FIELD_ID.len()
        + 1
        + id.len()
        + status.map_or(0, |s| 2 + FIELD_STATUS.len() + s.as_str().len())
        + since.map_or(0, |ms| 2 + FIELD_SINCE.len() + decimal_len(ms))
        + by.map_or(0, |_| {
            2 + FIELD_BY.len() + if compact { BY_COMPACT_LEN } else { BY_LEN }
        });
    let mut out = Vec::with_capacity(len);
    push_field(&mut out, FIELD_ID, id.as_bytes());
    if let Some(status) = status {
        push_field(&mut out, FIELD_STATUS, status.as_str().as_bytes());
    }
    if let Some(ms) = since {
        let mut digits = [0u8; 20];
        push_field(&mut out, FIELD_SINCE, format_decimal(ms, &mut digits));
    }
    if let Some(span) = by {
        let (compact_value, full_value);
        let value: &[u8] = if compact {
            compact_value = format_span_id(span);
            &compact_value
        } else {
            full_value = traceparent::write(span);
            &full_value
        };
        push_field(&mut out, FIELD_BY, value);
    }
    // Every byte pushed is ASCII (validated id, wire names, digits, hex).
    String::from_utf8(out).unwrap_or_default()
}

fn push_field(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    if !out.is_empty() {
        out.push(b';');
    }
    out.extend_from_slice(key.as_bytes());
    out.push(b'=');
    out.extend_from_slice(value);
}

fn decimal_len(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |l| l as usize + 1)
}

fn format_decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// `{16 hex span id}-{2 hex flags}`: a span of the message's own trace.
fn format_span_id(span: &SpanContext) -> [u8; BY_COMPACT_LEN] {
    let mut buf = [b'-'; BY_COMPACT_LEN];
    write_hex(&mut buf[..16], &span.span_id().to_bytes());
    write_hex(&mut buf[17..19], &[span.trace_flags().to_u8()]);
    buf
}

/// Length of the compact `by` form.
const BY_COMPACT_LEN: usize = 19;

/// The full form anywhere; the compact form only when the message's trace is known.
fn parse_entered_by(value: &str, trace: TraceId) -> Option<SpanContext> {
    let bytes = value.as_bytes();
    if bytes.len() != BY_COMPACT_LEN {
        return traceparent::parse(value);
    }
    if trace == TraceId::INVALID || bytes[16] != b'-' {
        return None;
    }
    let mut span = [0u8; 8];
    let mut flags = [0u8; 1];
    if !(decode_lower_hex(&bytes[..16], &mut span) && decode_lower_hex(&bytes[17..19], &mut flags))
    {
        return None;
    }
    let context = SpanContext::new(
        trace,
        SpanId::from_bytes(span),
        TraceFlags::new(flags[0]) & TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    );
    context.is_valid().then_some(context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn header(value: &str) -> HashMap<String, String> {
        HashMap::from([(HEADER_ORDER.to_string(), value.to_string())])
    }

    #[test]
    fn full_context_round_trips_in_one_header() {
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
            .with_entered_by(span);
        let mut headers = HashMap::new();
        p.inject_order(&order, &mut headers);
        assert_eq!(headers.len(), 1);
        assert_eq!(
            headers[HEADER_ORDER],
            format!(
                "id=ORD-7;status=PRICE_CALCULATED;since={};by=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                unix_millis(entered)
            )
        );
        assert_eq!(p.extract_order(&headers), Some(order));
    }

    #[test]
    fn entered_by_in_the_same_trace_travels_as_a_span_id() {
        let p = OrderContextPropagator::new();
        let trace = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
        let span = SpanContext::new(
            trace,
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            TraceFlags::SAMPLED,
            true,
            TraceState::NONE,
        );
        let order = OrderContext::new(OrderId::new("ORD-7").unwrap())
            .with_status_only(OrderStatus::Packaging)
            .with_entered_by(span);
        let mut headers = HashMap::new();
        p.inject_order_for(trace, &order, &mut headers);
        assert_eq!(
            headers[HEADER_ORDER],
            "id=ORD-7;status=PACKAGING;by=00f067aa0ba902b7-01"
        );
        assert_eq!(p.extract_order_in(trace, &headers), Some(order.clone()));
        // Without the trace the compact form cannot be resolved: dropped, not guessed.
        assert_eq!(p.extract_order(&headers).unwrap().entered_by(), None);
        // Another trace's span keeps the full form.
        let other = TraceId::from_hex("11111111111111111111111111111111").unwrap();
        let mut headers = HashMap::new();
        p.inject_order_for(other, &order, &mut headers);
        assert!(headers[HEADER_ORDER]
            .ends_with("by=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        assert_eq!(p.extract_order_in(other, &headers), Some(order));
    }

    #[test]
    fn unknown_fields_and_spaces_are_tolerated() {
        let p = OrderContextPropagator::new();
        let order = p
            .extract_order(&header(" id = ORD-1 ; future=x;status=SUBMITTED;junk"))
            .unwrap();
        assert_eq!(order.order_id().as_str(), "ORD-1");
        assert_eq!(order.status(), Some(OrderStatus::Submitted));
    }

    #[test]
    fn invalid_missing_or_repeated_id_drops_whole_context() {
        let p = OrderContextPropagator::new();
        for bad in [
            "id=a b;status=SUBMITTED",
            "status=SUBMITTED",
            "id=A;id=B",
            "",
            "id=",
        ] {
            assert_eq!(p.extract_order(&header(bad)), None, "{bad:?}");
        }
        assert_eq!(
            p.extract_order(&header(&"x".repeat(MAX_HEADER_LEN + 1))),
            None
        );
    }

    #[test]
    fn unknown_status_keeps_id_and_drops_status_fields() {
        let p = OrderContextPropagator::new();
        let now = unix_millis(SystemTime::now());
        let order = p
            .extract_order(&header(&format!("id=ORD-1;status=HACKED;since={now}")))
            .unwrap();
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
            assert!(traceparent::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn decimal_formatting_matches_std() {
        for n in [0, 7, 9, 10, 99, 100, 1_732_233_600_000, u64::MAX] {
            let mut buf = [0u8; 20];
            assert_eq!(format_decimal(n, &mut buf), n.to_string().as_bytes());
            assert_eq!(decimal_len(n), n.to_string().len());
        }
    }
}
