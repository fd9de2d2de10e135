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

use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use opentelemetry::propagation::{Extractor, Injector};

use crate::names::HEADER_TRACEPARENT;

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
