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

/// The shape of a text of at most [`MAX_LEN`] bytes (zero past its length).
pub(crate) struct Shape {
    bytes: [u8; MAX_LEN],
    len: usize,
}

impl Shape {
    /// The shape of `text`, or `None` if it is longer than [`MAX_LEN`].
    #[inline]
    pub(crate) fn of(text: &[u8]) -> Option<Shape> {
        let mut bytes = [0u8; MAX_LEN];
        bytes.get_mut(..text.len())?.copy_from_slice(text);
        // Branch-free over the whole buffer, so the loop becomes a few SIMD
        // instructions per 16 bytes (zero stays zero: it is not a digit).
        for b in bytes.iter_mut() {
            let from_zero = b.wrapping_sub(b'0');
            let digit = 0u8.wrapping_sub(u8::from(from_zero < 10));
            let trunk = 0u8.wrapping_sub(u8::from(from_zero.wrapping_sub(7) < 2));
            *b = (*b & !digit) | (digit & b'0') | (trunk & 7);
        }
        Some(Shape {
            bytes,
            len: text.len(),
        })
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
        let every_byte: Vec<u8> = (0..=255).collect();
        for bytes in every_byte.chunks(MAX_LEN) {
            let expected: Vec<u8> = bytes
                .iter()
                .map(|&b| match b {
                    b'7' | b'8' => b'7',
                    b'0'..=b'9' => b'0',
                    other => other,
                })
                .collect();
            let shaped = Shape::of(bytes).map(|s| s.as_bytes().to_vec());
            assert_eq!(shaped, Some(expected));
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
