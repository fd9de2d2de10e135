//! Long texts in 64-byte blocks, each classified once with SSE2 into one bit mask
//! per class of byte that a gate or a detector starts from.
//!
//! Everything the one pass over a long text ([`pass`](crate::pass)) decides is
//! derived from these masks: the prefilter's hints, the digit-cluster regions
//! ([`regions`](crate::regions)), the context words and the `=`/`:` positions of
//! `password=`-style parameters. A byte is loaded once and compared a few times; no
//! class is searched for in a pass of its own.

use std::arch::x86_64::{
    __m128i, _mm_and_si128, _mm_or_si128, _mm_set1_epi8, _mm_set_epi64x, _mm_setzero_si128,
};

use crate::masks::{bits, digit_bytes, eq, joiner_bytes, load};

/// Bytes per block: one bit per byte in a `u64`.
pub(crate) const BLOCK: usize = 64;
/// Bytes per SSE2 compare.
const CHUNK: usize = 16;

/// One block's classes, bit `i` for byte `i` of the block (zero past the text's
/// end: zero is in no class).
#[derive(Clone, Copy, Default)]
pub(crate) struct Block {
    pub(crate) digit: u64,
    /// ` `, `-`, `(`, `)`: what may join two digit groups. Only in a block with
    /// a digit (zero elsewhere): a joiner needs a digit within three bytes on
    /// both sides, so those of a block without one join nothing, here or in the
    /// blocks beside it.
    pub(crate) join: u64,
    pub(crate) at: u64,
    /// `=` and `:`: where a `password=`-style parameter's value starts.
    pub(crate) assign: u64,
    /// `0xD0`/`0xD1`: the lead bytes of Cyrillic letters.
    pub(crate) cyrillic_lead: u64,
    /// The anchor letters of the secret and name words, as the short-text masks
    /// have them: `b`/`B`, `k`/`K`, `J`, `v`, `h`.
    pub(crate) anchor: u64,
    /// `p`/`P`: where `passport` can start.
    pub(crate) p: u64,
    /// `n`/`N`: `inn` holds a pair of them, which is rare in other words.
    pub(crate) n: u64,
}

/// A whole chunk as a vector, byte 0 in lane 0.
#[target_feature(enable = "sse2")]
fn vector(chunk: &[u8; CHUNK]) -> __m128i {
    let x = u128::from_le_bytes(*chunk);
    _mm_set_epi64x((x >> 64) as i64, x as i64)
}

/// Classifies the block of `text` that starts at byte `at`.
#[inline]
#[target_feature(enable = "sse2")]
pub(crate) fn classify(text: &[u8], at: usize) -> Block {
    let v: [__m128i; BLOCK / CHUNK] = match text.get(at..at + BLOCK) {
        // A whole block (all but the last): one bounds check for its four chunks.
        Some(block) => {
            let (chunks, _) = block.as_chunks::<CHUNK>();
            std::array::from_fn(|c| chunks.get(c).map_or(_mm_setzero_si128(), |c| vector(c)))
        }
        // The last block: zero past the end of the text, which is in no class.
        None => std::array::from_fn(|c| load(text, at + c * CHUNK)),
    };
    // Every letter compared is ASCII, so `| 0x20` folds its case exactly (no
    // other byte folds onto a letter).
    let lower = v.map(|c| _mm_or_si128(c, _mm_set1_epi8(0x20)));
    let anchor = |c: __m128i, lower: __m128i| {
        _mm_or_si128(
            _mm_or_si128(eq(lower, b'b'), eq(lower, b'k')),
            _mm_or_si128(eq(c, b'J'), _mm_or_si128(eq(c, b'v'), eq(c, b'h'))),
        )
    };
    let digit = mask(v.map(|c| digit_bytes(c)));
    Block {
        digit,
        // Most blocks of prose have no digit.
        join: if digit == 0 {
            0
        } else {
            mask(v.map(|c| joiner_bytes(c)))
        },
        at: mask(v.map(|c| eq(c, b'@'))),
        assign: mask(v.map(|c| _mm_or_si128(eq(c, b'='), eq(c, b':')))),
        cyrillic_lead: mask(v.map(|c| eq(_mm_and_si128(c, _mm_set1_epi8(0xFEu8 as i8)), 0xD0))),
        anchor: mask(std::array::from_fn(|c| anchor(v[c], lower[c]))),
        p: mask(lower.map(|c| eq(c, b'p'))),
        n: mask(lower.map(|c| eq(c, b'n'))),
    }
}

/// One class of the four chunks of a block as one mask.
#[inline]
#[target_feature(enable = "sse2")]
fn mask(class: [__m128i; BLOCK / CHUNK]) -> u64 {
    bits(class[0]) | bits(class[1]) << 16 | bits(class[2]) << 32 | bits(class[3]) << 48
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each mask against the byte test it stands for, at every position of a text
    /// that ends inside a block.
    #[test]
    fn every_class_is_the_bytes_it_names() {
        let mut text: Vec<u8> = (0..=255u8)
            .chain(b"bBkKJvhpPiInN@=:.78 -()".iter().copied())
            .collect();
        // A block of letters alone, then one with only a joiner.
        text.resize(BLOCK * 6, b'x');
        text.extend_from_slice(b"x - x");
        /// A class's name, its mask in a block, and the byte test it stands for.
        type Class = (&'static str, fn(&Block) -> u64, fn(u8) -> bool);
        let classes: [Class; 7] = [
            ("digit", |b| b.digit, |c| c.is_ascii_digit()),
            ("at", |b| b.at, |c| c == b'@'),
            ("assign", |b| b.assign, |c| matches!(c, b'=' | b':')),
            (
                "cyrillic",
                |b| b.cyrillic_lead,
                |c| matches!(c, 0xD0 | 0xD1),
            ),
            (
                "anchor",
                |b| b.anchor,
                |c| matches!(c, b'b' | b'B' | b'k' | b'K' | b'J' | b'v' | b'h'),
            ),
            ("p", |b| b.p, |c| matches!(c, b'p' | b'P')),
            ("n", |b| b.n, |c| matches!(c, b'n' | b'N')),
        ];
        for at in (0..text.len()).step_by(BLOCK) {
            // SAFETY: SSE2 is part of every x86_64 target's baseline.
            let block = unsafe { classify(&text, at) };
            for (name, mask, is) in classes {
                for k in 0..BLOCK {
                    let want = text.get(at + k).is_some_and(|&c| is(c));
                    assert_eq!(mask(&block) >> k & 1 == 1, want, "{name} at {}", at + k);
                }
            }
            let bytes = text.get(at..).unwrap_or_default();
            let bytes = bytes.get(..BLOCK).unwrap_or(bytes);
            let digits = bytes.iter().any(u8::is_ascii_digit);
            for k in 0..BLOCK {
                let join = bytes.get(k).is_some_and(|c| b" -()".contains(c));
                assert_eq!(
                    block.join >> k & 1 == 1,
                    join && digits,
                    "join at {}",
                    at + k
                );
            }
        }
    }
}
