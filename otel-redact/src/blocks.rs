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
    /// `=` and `:`: where a `password=`-style parameter's value starts.
    pub(crate) assign: u64,
    /// An `@` is in the block.
    pub(crate) at: bool,
    /// A lead byte of a Cyrillic letter (`0xD0`/`0xD1`) is in the block; where,
    /// [`cyrillic_leads`] says.
    pub(crate) cyrillic: bool,
    /// `b`/`B`, `k`/`K`, `p`/`P`: the start of bearer and basic, the middle of
    /// token, the start of passport; in each, `e` or `a` follows.
    pub(crate) bkp: u64,
    /// `v`, `J`: the anchors of -vich, -vna and eyJ.
    pub(crate) vj: u64,
    /// `h`: the anchor of -chna, where `n` follows.
    pub(crate) h: u64,
    /// `e`/`E`, `a`/`A`.
    pub(crate) ea: u64,
    /// `n`/`N`: what follows `h` in -chna, and twice in inn.
    pub(crate) n: u64,
}

/// A whole chunk as a vector, byte 0 in lane 0.
#[target_feature(enable = "sse2")]
fn vector(chunk: &[u8; CHUNK]) -> __m128i {
    let x = u128::from_le_bytes(*chunk);
    _mm_set_epi64x((x >> 64) as i64, x as i64)
}

/// The four chunks of the 64 bytes of `text` from `at`, zero past its end.
#[inline]
#[target_feature(enable = "sse2")]
fn chunks(text: &[u8], at: usize) -> [__m128i; BLOCK / CHUNK] {
    // Spelled out, here and below: the closures of `array::from_fn` and
    // `array::map` inherit SSE2 and are then called from generic code that
    // does not have it, so they are not always inlined.
    match text.get(at..at + BLOCK) {
        // All inside the text: one bounds check for the four.
        Some(block) => {
            let (chunks, _) = block.as_chunks::<CHUNK>();
            let chunk = |c: usize| chunks.get(c).map_or(_mm_setzero_si128(), |c| vector(c));
            [chunk(0), chunk(1), chunk(2), chunk(3)]
        }
        // The end of the text: zero past it (zero is in no class).
        None => {
            let chunk = |c: usize| load(text, at + c * CHUNK);
            [chunk(0), chunk(1), chunk(2), chunk(3)]
        }
    }
}

/// One chunk's classes: masks in the low 16 bits, and the classes only asked
/// about as a whole block as compares.
struct Chunk {
    digit: u64,
    assign: u64,
    bkp: u64,
    vj: u64,
    h: u64,
    ea: u64,
    n: u64,
    at: __m128i,
    cyrillic: __m128i,
}

#[inline]
#[target_feature(enable = "sse2")]
fn classify_chunk(v: __m128i) -> Chunk {
    // Every letter compared is ASCII, so `| 0x20` folds its case exactly (no
    // other byte folds onto a letter).
    let lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
    let either = _mm_or_si128;
    Chunk {
        digit: bits(digit_bytes(v)),
        assign: bits(either(eq(v, b'='), eq(v, b':'))),
        bkp: bits(either(
            either(eq(lower, b'b'), eq(lower, b'k')),
            eq(lower, b'p'),
        )),
        vj: bits(either(eq(v, b'v'), eq(v, b'J'))),
        h: bits(eq(v, b'h')),
        ea: bits(either(eq(lower, b'e'), eq(lower, b'a'))),
        n: bits(eq(lower, b'n')),
        at: eq(v, b'@'),
        cyrillic: cyrillic_lead_bytes(v),
    }
}

#[target_feature(enable = "sse2")]
fn cyrillic_lead_bytes(v: __m128i) -> __m128i {
    eq(_mm_and_si128(v, _mm_set1_epi8(0xFEu8 as i8)), 0xD0)
}

/// Classifies the block of `text` that starts at byte `at`.
#[target_feature(enable = "sse2")]
pub(crate) fn classify(text: &[u8], at: usize) -> Block {
    let v = chunks(text, at);
    let c = [
        classify_chunk(v[0]),
        classify_chunk(v[1]),
        classify_chunk(v[2]),
        classify_chunk(v[3]),
    ];
    let mask = |class: fn(&Chunk) -> u64| {
        class(&c[0]) | class(&c[1]) << 16 | class(&c[2]) << 32 | class(&c[3]) << 48
    };
    let any = |class: fn(&Chunk) -> __m128i| {
        let all = _mm_or_si128(
            _mm_or_si128(class(&c[0]), class(&c[1])),
            _mm_or_si128(class(&c[2]), class(&c[3])),
        );
        bits(all) != 0
    };
    let digit = mask(|c| c.digit);
    let join = if digit == 0 {
        // Most blocks of prose.
        0
    } else {
        bits(joiner_bytes(v[0]))
            | bits(joiner_bytes(v[1])) << 16
            | bits(joiner_bytes(v[2])) << 32
            | bits(joiner_bytes(v[3])) << 48
    };
    Block {
        digit,
        join,
        assign: mask(|c| c.assign),
        at: any(|c| c.at),
        cyrillic: any(|c| c.cyrillic),
        bkp: mask(|c| c.bkp),
        vj: mask(|c| c.vj),
        h: mask(|c| c.h),
        ea: mask(|c| c.ea),
        n: mask(|c| c.n),
    }
}

/// The lead bytes of Cyrillic letters in the block of `text` that starts at byte
/// `at`: asked only of blocks with Cyrillic, until a capital is found.
#[target_feature(enable = "sse2")]
pub(crate) fn cyrillic_leads(text: &[u8], at: usize) -> u64 {
    let v = chunks(text, at);
    bits(cyrillic_lead_bytes(v[0]))
        | bits(cyrillic_lead_bytes(v[1])) << 16
        | bits(cyrillic_lead_bytes(v[2])) << 32
        | bits(cyrillic_lead_bytes(v[3])) << 48
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each mask against the byte test it stands for, at every position of a
    /// text that ends inside a block.
    #[test]
    fn every_class_is_the_bytes_it_names() {
        let mut text: Vec<u8> = (0..=255u8)
            .chain(b"bBkKJjvVhHeEaApPnN@=:.78 -()".iter().copied())
            .collect();
        // A block of letters alone, then one with only a joiner, an `@` and
        // Cyrillic.
        text.resize(BLOCK * 6, b'x');
        text.extend_from_slice(" @ Ж".as_bytes());
        text.resize(BLOCK * 7 + 5, b'x');
        /// A class's name, its mask in a block, and the byte test it stands for.
        type Class = (&'static str, fn(&Block) -> u64, fn(u8) -> bool);
        let classes: [Class; 7] = [
            ("digit", |b| b.digit, |c| c.is_ascii_digit()),
            ("assign", |b| b.assign, |c| matches!(c, b'=' | b':')),
            (
                "bkp",
                |b| b.bkp,
                |c| matches!(c, b'b' | b'B' | b'k' | b'K' | b'p' | b'P'),
            ),
            ("vj", |b| b.vj, |c| matches!(c, b'v' | b'J')),
            ("h", |b| b.h, |c| c == b'h'),
            ("ea", |b| b.ea, |c| matches!(c, b'e' | b'E' | b'a' | b'A')),
            ("n", |b| b.n, |c| matches!(c, b'n' | b'N')),
        ];
        for at in (0..text.len()).step_by(BLOCK) {
            // SAFETY: SSE2 is part of every x86_64 target's baseline.
            let (block, leads) = unsafe { (classify(&text, at), cyrillic_leads(&text, at)) };
            let bytes = text.get(at..).unwrap_or_default();
            let bytes = bytes.get(..BLOCK).unwrap_or(bytes);
            let digits = bytes.iter().any(u8::is_ascii_digit);
            for (name, mask, is) in classes {
                for k in 0..BLOCK {
                    let want = bytes.get(k).is_some_and(|&c| is(c));
                    assert_eq!(mask(&block) >> k & 1 == 1, want, "{name} at {}", at + k);
                }
            }
            for k in 0..BLOCK {
                let join = bytes.get(k).is_some_and(|c| b" -()".contains(c));
                assert_eq!(
                    block.join >> k & 1 == 1,
                    join && digits,
                    "join at {}",
                    at + k
                );
                let lead = bytes.get(k).is_some_and(|&c| c & 0xFE == 0xD0);
                assert_eq!(leads >> k & 1 == 1, lead, "Cyrillic at {}", at + k);
            }
            assert_eq!(block.at, bytes.contains(&b'@'), "@ in {at}..");
            let cyrillic = bytes.iter().any(|&c| c & 0xFE == 0xD0);
            assert_eq!(block.cyrillic, cyrillic, "Cyrillic in {at}..");
        }
    }
}
