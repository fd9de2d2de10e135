//! Carrying text-map context in AMQP message headers (lapin's [`FieldTable`]).
//!
//! [`FieldTableInjector`] writes every value as an AMQP `LongString` (`S`), the type
//! every client library reads. [`FieldTableExtractor`] is lenient in what it reads,
//! because other clients are: the Java and Go clients hand string headers over as
//! byte arrays (`x`), old clients use short strings. It is strict about content:
//! a value that is not UTF-8, or longer than the cap, or of any other AMQP type, is
//! treated as absent, so garbage in a header means "no context", never a panic.
//!
//! The user's own headers are never touched: injection only inserts the
//! propagator's keys.
//!
//! ```
//! use lapin::types::{AMQPValue, FieldTable};
//! use opentelemetry::propagation::{Extractor, Injector};
//! use otel_amqp::carrier::{FieldTableExtractor, FieldTableInjector};
//!
//! let mut headers = FieldTable::default();
//! headers.insert("tenant".into(), AMQPValue::LongString("acme".into()));
//! FieldTableInjector::new(&mut headers).set("traceparent", "00-abc".to_owned());
//! let extractor = FieldTableExtractor::new(&headers);
//! assert_eq!(extractor.get("traceparent"), Some("00-abc"));
//! assert_eq!(extractor.get("tenant"), Some("acme"));
//! ```

use std::str::FromStr;

use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt, TraceState};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use otel_order::names::HEADER_ORDER;
use otel_order::{traceparent, OrderContext, OrderContextExt, OrderContextPropagator};

use crate::names::{
    HEADER_PUBLISHED_AT, HEADER_PUBLISH_ATTEMPT, HEADER_TRACEPARENT, HEADER_X_DEATH,
};

/// `tracestate`
const HEADER_TRACESTATE: &str = "tracestate";

/// Longest header value, in bytes, the extractor hands to a propagator. Trace
/// context needs 55 bytes (`traceparent`) up to 512 (`tracestate`); 4 KiB leaves
/// room for foreign propagators while keeping hostile values out.
pub const MAX_HEADER_VALUE_LEN: usize = 4 * 1024;

/// Writes propagator fields into a [`FieldTable`] as `LongString` values (empty
/// values are not written).
#[derive(Debug)]
pub struct FieldTableInjector<'a> {
    headers: &'a mut FieldTable,
}

impl<'a> FieldTableInjector<'a> {
    /// An injector inserting into `headers`; existing keys other than the injected
    /// ones are left as they are.
    pub fn new(headers: &'a mut FieldTable) -> Self {
        FieldTableInjector { headers }
    }
}

impl Injector for FieldTableInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        // An empty value carries nothing (W3C allows omitting an empty
        // `tracestate`), so it costs no bytes on every message.
        if value.is_empty() {
            return;
        }
        // A key longer than 255 bytes cannot be an AMQP field name; no propagator
        // produces one, and panicking (ShortString::from) is not an option.
        if let Ok(key) = ShortString::try_new(key) {
            self.headers
                .insert(key, AMQPValue::LongString(LongString::from(value)));
        }
    }
}

/// Reads propagator fields from a [`FieldTable`], accepting `LongString`,
/// `ShortString` and `ByteArray` values that are UTF-8 and at most
/// [`MAX_HEADER_VALUE_LEN`] bytes; anything else reads as absent.
#[derive(Clone, Copy, Debug)]
pub struct FieldTableExtractor<'a> {
    headers: &'a FieldTable,
    max_len: usize,
}

impl<'a> FieldTableExtractor<'a> {
    /// An extractor over `headers` with the default length cap.
    pub fn new(headers: &'a FieldTable) -> Self {
        FieldTableExtractor {
            headers,
            max_len: MAX_HEADER_VALUE_LEN,
        }
    }

    /// The same extractor with another length cap (in bytes).
    pub fn with_max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }
}

/// The value of a header as text, when it is of a text-like type, valid UTF-8 and
/// no longer than `max_len` bytes.
pub(crate) fn value_as_str(value: &AMQPValue, max_len: usize) -> Option<&str> {
    let bytes = match value {
        AMQPValue::LongString(s) => s.as_bytes(),
        AMQPValue::ByteArray(b) => b.as_slice(),
        AMQPValue::ShortString(s) => s.as_str().as_bytes(),
        _ => return None,
    };
    if bytes.len() > max_len {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

impl Extractor for FieldTableExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        value_as_str(self.headers.inner().get(key)?, self.max_len)
    }

    fn keys(&self) -> Vec<&str> {
        self.headers
            .inner()
            .keys()
            .map(ShortString::as_str)
            .collect()
    }
}

/// The headers a delivery's process span reads, found in one pass over the table.
///
/// Looking each one up is a tree search comparing strings on the way down, six
/// times per delivery (trace context, order, publish time, publish attempt,
/// `x-death`); one pass compares each key of the table once, and cheaply: every
/// name below has a length of its own, so a key that is none of them is told
/// apart by its length alone.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DeliveryHeaders<'a> {
    /// The whole table, for propagators other than the default.
    pub(crate) table: &'a FieldTable,
    pub(crate) traceparent: Option<&'a AMQPValue>,
    pub(crate) tracestate: Option<&'a AMQPValue>,
    pub(crate) order: Option<&'a AMQPValue>,
    pub(crate) published_at: Option<&'a AMQPValue>,
    pub(crate) publish_attempt: Option<&'a AMQPValue>,
    pub(crate) x_death: Option<&'a AMQPValue>,
}

impl<'a> DeliveryHeaders<'a> {
    pub(crate) fn scan(table: &'a FieldTable) -> Self {
        let mut found = DeliveryHeaders {
            table,
            traceparent: None,
            tracestate: None,
            order: None,
            published_at: None,
            publish_attempt: None,
            x_death: None,
        };
        for (key, value) in table.inner() {
            let slot = match key.as_str() {
                HEADER_TRACEPARENT => &mut found.traceparent,
                HEADER_TRACESTATE => &mut found.tracestate,
                HEADER_ORDER => &mut found.order,
                HEADER_PUBLISHED_AT => &mut found.published_at,
                HEADER_PUBLISH_ATTEMPT => &mut found.publish_attempt,
                HEADER_X_DEATH => &mut found.x_death,
                _ => continue,
            };
            // Keys of a table are unique: each slot is filled at most once.
            *slot = Some(value);
        }
        found
    }
}

/// The order header, already found, as an [`Extractor`] for the order propagator
/// (any other key is looked up in the table). `get_all` says `None`, which the
/// order propagator accepts from carriers that cannot repeat a key: a field table
/// holds each key once, and the trait's default `get_all` would allocate a
/// one-element vector per message to say so.
struct OrderHeader<'a>(&'a DeliveryHeaders<'a>);

impl Extractor for OrderHeader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        let value = if key == HEADER_ORDER {
            self.0.order?
        } else {
            self.0.table.inner().get(key)?
        };
        value_as_str(value, MAX_HEADER_VALUE_LEN)
    }

    fn keys(&self) -> Vec<&str> {
        self.0
            .table
            .inner()
            .keys()
            .map(ShortString::as_str)
            .collect()
    }

    fn get_all(&self, _key: &str) -> Option<Vec<&str>> {
        None
    }
}

/// The default propagation (W3C trace context + order context) straight on the
/// header table: the same headers as the composite propagator, without a
/// `Context` to build for injection, `format!` for `traceparent`, or dynamic
/// dispatch per field. Anything but a canonical version-00 `traceparent` is handed
/// to the SDK's propagator, so what is accepted is exactly what it accepts.
pub(crate) struct DefaultPropagation {
    pub(crate) trace: TraceContextPropagator,
    pub(crate) order: OrderContextPropagator,
}

impl DefaultPropagation {
    /// Write `span_context` (if valid) and `order` into `headers`, as
    /// [`FieldTableInjector`] with the default composite propagator would.
    pub(crate) fn inject(
        &self,
        span_context: &SpanContext,
        order: Option<&OrderContext>,
        headers: &mut FieldTable,
    ) {
        if span_context.is_valid() {
            // Built on the stack, copied once into the header's buffer.
            headers.insert(
                ShortString::from(HEADER_TRACEPARENT),
                AMQPValue::LongString(LongString::from(traceparent::write(span_context).to_vec())),
            );
            let trace_state = span_context.trace_state().header();
            if !trace_state.is_empty() {
                headers.insert(
                    ShortString::from(HEADER_TRACESTATE),
                    AMQPValue::LongString(LongString::from(trace_state)),
                );
            }
        }
        if let Some(order) = order {
            self.order.inject_order_for(
                span_context.trace_id(),
                order,
                &mut FieldTableInjector::new(headers),
            );
        }
    }

    /// The context `headers` carry, on a root context, as the default composite
    /// propagator would extract it.
    pub(crate) fn extract(&self, headers: &DeliveryHeaders<'_>) -> Context {
        let canonical = headers
            .traceparent
            .and_then(|v| value_as_str(v, MAX_HEADER_VALUE_LEN))
            .and_then(|v| traceparent::parse(v.trim()));
        let cx = match canonical {
            Some(parent) => {
                let trace_state = headers
                    .tracestate
                    .and_then(|v| value_as_str(v, MAX_HEADER_VALUE_LEN))
                    .map(|v| TraceState::from_str(v).unwrap_or_default())
                    .unwrap_or_default();
                Context::new().with_remote_span_context(SpanContext::new(
                    parent.trace_id(),
                    parent.span_id(),
                    parent.trace_flags(),
                    true,
                    trace_state,
                ))
            }
            None => self
                .trace
                .extract_with_context(&Context::new(), &FieldTableExtractor::new(headers.table)),
        };
        match self
            .order
            .extract_order_in(cx.span().span_context().trace_id(), &OrderHeader(headers))
        {
            Some(order) => cx.with_order(order),
            None => cx,
        }
    }
}

/// What a traced publish does with a message that already carries a `traceparent`
/// (a message consumed and published again, or built by a library that injected
/// its own context).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RepublishPolicy {
    /// Leave the message's trace and order headers as they are; the publish span
    /// still exists but consumers continue the original trace.
    Keep,
    /// Replace them with the current context; the old context is forgotten.
    Overwrite,
    /// Replace them with the current context and link the publish span to the old
    /// one, so neither trace loses the other. The default.
    #[default]
    Link,
}

/// Whether `headers` already carries a `traceparent` of any type.
pub(crate) fn has_traceparent(headers: &FieldTable) -> bool {
    headers.contains_key(HEADER_TRACEPARENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapin::types::{ByteArray, DecimalValue, FieldArray};
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId};

    fn table(pairs: Vec<(&str, AMQPValue)>) -> FieldTable {
        let mut t = FieldTable::default();
        for (k, v) in pairs {
            t.insert(k.into(), v);
        }
        t
    }

    #[test]
    fn injected_values_are_long_strings_and_user_headers_survive() {
        let mut t = table(vec![("x-user", AMQPValue::LongLongInt(7))]);
        FieldTableInjector::new(&mut t).set("traceparent", "tp".into());
        assert_eq!(
            t.inner().get("traceparent"),
            Some(&AMQPValue::LongString("tp".into()))
        );
        assert_eq!(t.inner().get("x-user"), Some(&AMQPValue::LongLongInt(7)));
    }

    fn default_composite() -> (DefaultPropagation, impl TextMapPropagator) {
        let fast = DefaultPropagation {
            trace: TraceContextPropagator::new(),
            order: OrderContextPropagator::new(),
        };
        let composite = opentelemetry::propagation::TextMapCompositePropagator::new(vec![
            Box::new(TraceContextPropagator::new()),
            Box::new(OrderContextPropagator::new()),
        ]);
        (fast, composite)
    }

    #[test]
    fn fast_default_propagation_matches_the_composite_propagator() {
        let (fast, composite) = default_composite();
        let order = OrderContext::new(otel_order::OrderId::new("ORD-7").unwrap());
        for (flags, state) in [(TraceFlags::SAMPLED, ""), (TraceFlags::default(), "k=v")] {
            let sc = SpanContext::new(
                TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
                SpanId::from(0x00f0_67aa_0ba9_02b7),
                flags,
                false,
                TraceState::from_str(state).unwrap(),
            );
            let mut a = FieldTable::default();
            fast.inject(&sc, Some(&order), &mut a);
            let mut b = FieldTable::default();
            let cx = Context::new()
                .with_order(order.clone())
                .with_remote_span_context(sc.clone());
            composite.inject_context(&cx, &mut FieldTableInjector::new(&mut b));
            assert_eq!(a, b);
            let (x, y) = (
                fast.extract(&DeliveryHeaders::scan(&a)),
                composite.extract_with_context(&Context::new(), &FieldTableExtractor::new(&a)),
            );
            assert_eq!(x.span().span_context(), y.span().span_context());
            assert_eq!(x.order(), y.order());
            assert!(x.span().span_context().is_valid());
        }
        let mut none = FieldTable::default();
        fast.inject(&SpanContext::empty_context(), None, &mut none);
        assert!(none.inner().is_empty());
    }

    #[test]
    fn fast_extract_agrees_on_odd_traceparents() {
        let (fast, composite) = default_composite();
        for value in [
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09",
            " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "",
        ] {
            let t = table(vec![
                ("traceparent", AMQPValue::LongString(value.into())),
                ("tracestate", AMQPValue::ShortString("a=1,b=2".into())),
                (
                    "ordertrace-order",
                    AMQPValue::ByteArray(ByteArray::from(b"id=ORD-1;status=SUBMITTED".to_vec())),
                ),
            ]);
            let (x, y) = (
                fast.extract(&DeliveryHeaders::scan(&t)),
                composite.extract_with_context(&Context::new(), &FieldTableExtractor::new(&t)),
            );
            assert_eq!(x.span().span_context(), y.span().span_context(), "{value}");
            assert_eq!(x.order(), y.order(), "{value}");
        }
    }

    #[test]
    fn one_pass_over_the_headers_finds_what_lookups_find() {
        let t = table(vec![
            ("a-user-header", AMQPValue::LongString("x".into())),
            ("traceparent", AMQPValue::LongString("tp".into())),
            ("tracestate", AMQPValue::ShortString("k=v".into())),
            ("ordertrace-order", AMQPValue::LongString("id=ORD-1".into())),
            ("ordertrace-published-at", AMQPValue::LongLongInt(7)),
            ("ordertrace-publish-attempt", AMQPValue::LongLongInt(2)),
            ("x-death", AMQPValue::FieldArray(FieldArray::from(vec![]))),
            ("x-deaths", AMQPValue::Boolean(true)),
            ("TRACEPARENT", AMQPValue::LongString("upper".into())),
        ]);
        let found = DeliveryHeaders::scan(&t);
        let get = |k: &str| t.inner().get(k);
        assert_eq!(found.traceparent, get(HEADER_TRACEPARENT));
        assert_eq!(found.tracestate, get(HEADER_TRACESTATE));
        assert_eq!(found.order, get(HEADER_ORDER));
        assert_eq!(found.published_at, get(HEADER_PUBLISHED_AT));
        assert_eq!(found.publish_attempt, get(HEADER_PUBLISH_ATTEMPT));
        assert_eq!(found.x_death, get(HEADER_X_DEATH));
        assert!(found.traceparent.is_some() && found.x_death.is_some());
        let empty = FieldTable::default();
        let none = DeliveryHeaders::scan(&empty);
        assert!(none.traceparent.is_none() && none.order.is_none() && none.x_death.is_none());
    }

    #[test]
    fn empty_values_are_not_written() {
        let mut t = FieldTable::default();
        FieldTableInjector::new(&mut t).set("tracestate", String::new());
        assert!(t.inner().is_empty());
    }

    #[test]
    fn over_long_key_is_skipped_not_panicking() {
        let mut t = FieldTable::default();
        FieldTableInjector::new(&mut t).set(&"k".repeat(300), "v".into());
        assert!(t.inner().is_empty());
    }

    #[test]
    fn text_like_types_are_read() {
        let t = table(vec![
            ("a", AMQPValue::LongString("one".into())),
            ("b", AMQPValue::ShortString("two".into())),
            (
                "c",
                AMQPValue::ByteArray(ByteArray::from(b"three".to_vec())),
            ),
        ]);
        let e = FieldTableExtractor::new(&t);
        assert_eq!(
            (e.get("a"), e.get("b"), e.get("c")),
            (Some("one"), Some("two"), Some("three"))
        );
        let mut keys = e.keys();
        keys.sort_unstable();
        assert_eq!(keys, ["a", "b", "c"]);
    }

    #[test]
    fn non_text_invalid_utf8_and_over_long_values_read_as_absent() {
        let t = table(vec![
            ("int", AMQPValue::LongInt(1)),
            ("bool", AMQPValue::Boolean(true)),
            ("void", AMQPValue::Void),
            (
                "dec",
                AMQPValue::DecimalValue(DecimalValue { scale: 1, value: 2 }),
            ),
            ("arr", AMQPValue::FieldArray(FieldArray::from(vec![]))),
            ("tbl", AMQPValue::FieldTable(FieldTable::default())),
            (
                "bad",
                AMQPValue::ByteArray(ByteArray::from(vec![0xff, 0xfe])),
            ),
            (
                "long",
                AMQPValue::LongString("x".repeat(MAX_HEADER_VALUE_LEN + 1).into()),
            ),
        ]);
        let e = FieldTableExtractor::new(&t);
        for k in [
            "int", "bool", "void", "dec", "arr", "tbl", "bad", "long", "none",
        ] {
            assert_eq!(e.get(k), None, "{k}");
        }
        assert_eq!(
            e.with_max_len(usize::MAX).get("long").map(str::len),
            Some(4097)
        );
    }
}
