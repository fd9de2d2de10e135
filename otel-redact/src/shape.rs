//! A short text's *shape*: its bytes with every ASCII digit replaced by its class,
//! `7` for `7` and `8` (the trunk digits of a dotted phone), `0` for the others.
//!
//! The prefilter's verdict depends on nothing else. It looks at where digits are
//! (counts, runs, clusters, what a cluster is glued to), whether a lone digit
//! before a dot is a `7` or an `8`, and at non-digit bytes (anchor words, `@`,
//! `=`, Cyrillic, context words); never at which digit stands where. So when the
//! prefilter finds a text clean, every text of the same shape is clean: a path
//! with a new order id on every span (`/api/v1/orders/ORD-2026-000123`) has the
//! same shape each time, and is known clean after one hash and compare instead of
//! a prefilter pass. A property test holds the prefilter to this.
//!
//! Only the *prefilter's* verdict has this property. A text found clean by the
//! detectors themselves (a card-like number failing Luhn, say) is clean for its
//! digits, not its shape, and must never be remembered by shape.

/// Longest text given a shape: the short values the SSE2 masks classify.
pub(crate) const MAX_LEN: usize = 64;
/// Bytes classified in one step.
const CHUNK: usize = 16;

/// The class of each byte of a chunk: branch-free per byte, so the loop becomes a
/// few SIMD instructions (zero stays zero: it is not a digit).
#[inline(always)]
fn classes(chunk: &[u8; CHUNK]) -> [u8; CHUNK] {
    let mut out = [0u8; CHUNK];
    for (dst, &b) in out.iter_mut().zip(chunk) {
        let from_zero = b.wrapping_sub(b'0');
        let digit = 0u8.wrapping_sub(u8::from(from_zero < 10));
        let trunk = 0u8.wrapping_sub(u8::from(from_zero.wrapping_sub(7) < 2));
        *dst = (b & !digit) | (digit & b'0') | (trunk & 7);
    }
    out
}

/// The shape of a text of at most [`MAX_LEN`] bytes (zero past its length).
pub(crate) struct Shape {
    bytes: [u8; MAX_LEN],
    len: usize,
}

impl Shape {
    /// The shape of `text`, or `None` if it is longer than [`MAX_LEN`].
    #[inline]
    pub(crate) fn of(text: &[u8]) -> Option<Shape> {
        let len = text.len();
        if len > MAX_LEN {
            return None;
        }
        let mut bytes = [0u8; MAX_LEN];
        // Whole 16-byte chunks only, the last one overlapping the one before (each
        // byte's class depends on that byte alone); a shorter text is one chunk,
        // zero past its end.
        let mut chunk_at = |at: usize| {
            let src = text
                .get(at..at + CHUNK)
                .and_then(|s| <&[u8; CHUNK]>::try_from(s).ok());
            if let (Some(src), Some(dst)) = (src, bytes.get_mut(at..at + CHUNK)) {
                dst.copy_from_slice(&classes(src));
            }
        };
        if len >= CHUNK {
            let mut at = 0;
            while at + CHUNK < len {
                chunk_at(at);
                at += CHUNK;
            }
            chunk_at(len - CHUNK);
        } else {
            let mut head = [0u8; CHUNK];
            if let Some(start) = head.get_mut(..len) {
                start.copy_from_slice(text);
            }
            if let Some(dst) = bytes.get_mut(..CHUNK) {
                dst.copy_from_slice(&classes(&head));
            }
        }
        Some(Shape { bytes, len })
    }

    /// The shape's bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_become_their_class_and_nothing_else_changes() {
        let shape = |t: &str| Shape::of(t.as_bytes()).map(|s| s.as_bytes().to_vec());
        assert_eq!(
            shape("/orders/ORD-2026-918374"),
            Some(b"/orders/ORD-0000-007070".to_vec())
        );
        assert_eq!(shape("8.916.123.45.67"), Some(b"7.000.000.00.07".to_vec()));
        assert_eq!(shape("Иван"), Some("Иван".as_bytes().to_vec()));
        assert_eq!(shape(""), Some(Vec::new()));
        // Every byte value, at every length (whole chunks, an overlapping last
        // chunk, a text shorter than one chunk).
        let every_byte: Vec<u8> = (0..=255).collect();
        for start in (0..256).step_by(MAX_LEN / 2) {
            for len in 0..=MAX_LEN {
                let bytes: Vec<u8> = every_byte
                    .iter()
                    .cycle()
                    .skip(start)
                    .take(len)
                    .copied()
                    .collect();
                let expected: Vec<u8> = bytes
                    .iter()
                    .map(|&b| match b {
                        b'7' | b'8' => b'7',
                        b'0'..=b'9' => b'0',
                        other => other,
                    })
                    .collect();
                let shaped = Shape::of(&bytes).map(|s| s.as_bytes().to_vec());
                assert_eq!(shaped, Some(expected), "from {start}, {len} bytes");
            }
        }
        assert!(Shape::of(&[b'x'; MAX_LEN + 1]).is_none());
    }

    /// `text` with each digit replaced by one of its class, picked by `picks`.
    fn reshaped(text: &str, picks: &[u8]) -> String {
        let mut picks = picks.iter().cycle();
        text.chars()
            .map(|c| match c {
                '7' | '8' => char::from(b'7' + picks.next().map_or(0, |p| p % 2)),
                '0'..='9' => {
                    let others = b"01234569";
                    let pick = picks.next().map_or(0, |&p| usize::from(p) % others.len());
                    char::from(others[pick])
                }
                other => other,
            })
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// The claim the shape cache rests on: texts of one shape get the same
        /// hints from the prefilter (both its short and its general pass).
        #[test]
        fn the_prefilter_sees_only_the_shape(
            text in "([0-9]{1,12}|[ ()+.:/_=@-]{1,3}|[a-zA-Z]{1,6}|[0-9]\\.[0-9]{3}\\.[0-9]{3}\\.[0-9]{2}\\.[0-9]{2}|passport |inn |Bearer |eyJ|vich|Иван ){0,10}",
            picks in proptest::collection::vec(0u8..=255, 1..16),
        ) {
            let other = reshaped(&text, &picks);
            proptest::prop_assert_eq!(
                Shape::of(text.as_bytes()).map(|s| s.as_bytes().to_vec()),
                Shape::of(other.as_bytes()).map(|s| s.as_bytes().to_vec())
            );
            proptest::prop_assert_eq!(
                crate::prefilter::scan(text.as_bytes()),
                crate::prefilter::scan(other.as_bytes())
            );
            proptest::prop_assert_eq!(
                crate::prefilter::scan_general(text.as_bytes()),
                crate::prefilter::scan_general(other.as_bytes())
            );
        }
    }
}
