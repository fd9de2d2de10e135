//! The W3C `traceparent` value in its canonical form (`00-{32 hex trace id}-{16 hex
//! span id}-{2 hex flags}`, lowercase), written and read without allocating.
//!
//! The order header's `by` field carries a span this way, and `otel-amqp` writes and
//! reads the `traceparent` header of every message with it. Any other form of the
//! header (another version, uppercase hex, extra fields) is for the SDK's
//! propagator: [`parse`] returns `None` for it.
//!
//! ```
//! use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
//! use otel_order::traceparent;
//!
//! let span = SpanContext::new(
//!     TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
//!     SpanId::from_hex("00f067aa0ba902b7").unwrap(),
//!     TraceFlags::SAMPLED,
//!     false,
//!     TraceState::NONE,
//! );
//! let value = traceparent::write(&span);
//! assert_eq!(&value, b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
//! let back = traceparent::parse(std::str::from_utf8(&value).unwrap()).unwrap();
//! assert_eq!((back.trace_id(), back.span_id()), (span.trace_id(), span.span_id()));
//! assert!(back.is_remote());
//! assert!(traceparent::parse("00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01").is_none());
//! ```

use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

/// Length of the canonical value.
pub const LEN: usize = 55;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Not a lowercase hex digit.
const NOT_HEX: u8 = 0xff;

/// The value of each byte as a lowercase hex digit ([`NOT_HEX`] otherwise): one
/// load per digit instead of two range checks.
const HEX_VALUES: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// `span` as a canonical `traceparent` value. Only the sampled flag is written, as
/// the W3C propagator writes it.
pub fn write(span: &SpanContext) -> [u8; LEN] {
    let mut out = *b"00-00000000000000000000000000000000-0000000000000000-00";
    write_hex(&mut out[3..35], &span.trace_id().to_bytes());
    write_hex(&mut out[36..52], &span.span_id().to_bytes());
    write_hex(
        &mut out[53..55],
        &[(span.trace_flags() & TraceFlags::SAMPLED).to_u8()],
    );
    out
}

/// The remote span context a canonical `traceparent` value names; `None` for any
/// other form and for the invalid (all-zero) ids. The trace state is empty: it
/// travels in its own header.
pub fn parse(value: &str) -> Option<SpanContext> {
    let b = value.as_bytes();
    if b.len() != LEN || &b[..3] != b"00-" || b[35] != b'-' || b[52] != b'-' {
        return None;
    }
    let mut trace = [0u8; 16];
    let mut span = [0u8; 8];
    let mut flags = [0u8; 1];
    if !(decode_lower_hex(&b[3..35], &mut trace)
        && decode_lower_hex(&b[36..52], &mut span)
        && decode_lower_hex(&b[53..55], &mut flags))
    {
        return None;
    }
    let context = SpanContext::new(
        TraceId::from_bytes(trace),
        SpanId::from_bytes(span),
        TraceFlags::new(flags[0]) & TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    );
    context.is_valid().then_some(context)
}

/// `bytes` as lowercase hex into `out` (twice as long).
pub(crate) fn write_hex(out: &mut [u8], bytes: &[u8]) {
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 0xf)];
    }
}

/// Decode lowercase hex (as `traceparent` requires) into `out`; false on any other
/// byte. `hex` is exactly twice as long as `out`. Checked once at the end: any
/// invalid digit sets the high bits of `bad`.
pub(crate) fn decode_lower_hex(hex: &[u8], out: &mut [u8]) -> bool {
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let (hi, lo) = (
            HEX_VALUES[usize::from(pair[0])],
            HEX_VALUES[usize::from(pair[1])],
        );
        bad |= hi | lo;
        *o = hi << 4 | (lo & 0xf);
    }
    bad & 0xf0 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_decodes_as_the_lowercase_hex_digit_it_is_or_fails() {
        for b in 0..=255u8 {
            let mut out = [0u8; 1];
            let ok = decode_lower_hex(&[b'0', b], &mut out);
            let want = char::from(b)
                .to_digit(16)
                .filter(|_| !b.is_ascii_uppercase());
            assert_eq!(ok.then_some(u32::from(out[0])), want, "byte {b:#04x}");
        }
    }

    #[test]
    fn other_forms_and_invalid_ids_are_not_canonical() {
        for value in [
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert!(parse(value).is_none(), "{value}");
        }
        let flags = parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff").unwrap();
        assert_eq!(
            flags.trace_flags(),
            TraceFlags::SAMPLED,
            "only the sampled bit"
        );
    }
}
