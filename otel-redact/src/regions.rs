//! Long texts: where the digit-cluster scan could find a window.
//!
//! The cluster scan ([`numeric`](crate::detectors::numeric)) walks every run of
//! digits, and log text is full of short ones: status codes, durations, dates,
//! versions, ports. Here the text is classified 64 bytes at a time with SSE2 into
//! digit and separator masks, and only the clusters that hold at least 9 digits
//! (digit groups joined by one to three of ` -()`, the scan's own definition) are
//! handed to the scan, whole, so it finds exactly the windows it would find
//! walking the entire text.
//!
//! The facts other gates take from the scan for the entire text (the longest run
//! of digits, a dotted phone's trunk) come from the same masks.

use std::arch::x86_64::_mm_or_si128;

use crate::detectors::numeric::{Runs, MIN_DETECTOR_DIGITS};
use crate::masks::{bits, digit_bytes, eq, joiner_bytes, load, run_class, runs_of, span};

/// Bytes per block of masks.
const BLOCK: usize = 64;
/// Separator bytes a joiner may be from a digit (the scan joins groups across at
/// most three).
const MAX_JOIN: u32 = 3;

/// One block's classes, bit `i` for byte `i` of the block.
#[derive(Clone, Copy, Default)]
struct Block {
    digit: u64,
    /// ` `, `-`, `(`, `)`: what may join two digit groups.
    join: u64,
    dot: u64,
    /// `7` and `8`: the trunk digits of a dotted phone.
    trunk: u64,
}

#[target_feature(enable = "sse2")]
fn block_at(text: &[u8], at: usize) -> Block {
    let mut b = Block::default();
    for c in 0..BLOCK / 16 {
        let offset = at + c * 16;
        if offset >= text.len() {
            break;
        }
        let v = load(text, offset);
        let digit = digit_bytes(v);
        let join = joiner_bytes(v);
        let shift = c * 16;
        b.digit |= bits(digit) << shift;
        b.join |= bits(join) << shift;
        b.dot |= bits(eq(v, b'.')) << shift;
        b.trunk |= bits(_mm_or_si128(eq(v, b'7'), eq(v, b'8'))) << shift;
    }
    b
}

/// A field of the three blocks around `cur` as one wide mask: bits 0-2 are the
/// previous block's last three bytes, bits 3-66 `cur`, bits 67-69 the next block's
/// first three bytes.
fn wide(prev: u64, cur: u64, next: u64) -> u128 {
    (u128::from(prev) >> (64 - MAX_JOIN))
        | (u128::from(cur) << MAX_JOIN)
        | (u128::from(next & 0b111) << (64 + MAX_JOIN))
}

/// Calls `region(from, to)` for every cluster of `text` that holds at least
/// [`MIN_DETECTOR_DIGITS`] digits, in order; returns the digit-run facts of the
/// whole text (`longest` only as far as the gates look: at least 10, at least 6,
/// or shorter).
#[target_feature(enable = "sse2")]
pub(crate) fn for_each_region(text: &[u8], mut region: impl FnMut(usize, usize)) -> Runs {
    let blocks = text.len().div_ceil(BLOCK);
    let mut prev = Block::default();
    let mut cur = if blocks > 0 {
        block_at(text, 0)
    } else {
        Block::default()
    };
    // A cluster reaching the end of the previous block: its start and digits.
    let mut open: Option<(usize, u32)> = None;
    // Digits in a row at the end of the blocks so far.
    let mut digits_in_a_row = 0u32;
    let mut facts = Runs::default();
    let mut longest = 0u32;
    let min_digits = MIN_DETECTOR_DIGITS as u32;
    for b in 0..blocks {
        let next = if b + 1 < blocks {
            block_at(text, (b + 1) * BLOCK)
        } else {
            Block::default()
        };
        let base = b * BLOCK;

        // Cluster bytes: digits, and separators with a digit at most three bytes
        // away on both sides through separators only (the scan's joiners).
        let d = wide(prev.digit, cur.digit, next.digit);
        let j = wide(prev.join, cur.join, next.join);
        let spread = |step: fn(u128) -> u128| {
            let a = step(d) & j;
            let b = step(a) & j;
            a | b | (step(b) & j)
        };
        let joiners = spread(|m| m << 1) & spread(|m| m >> 1);
        let clusters = ((d | joiners) >> MAX_JOIN) as u64;

        // A dotted phone's trunk: a lone 7 or 8 right before a dot.
        let lone = d & !(d << 1) & !(d >> 1);
        let dot_after = wide(prev.dot, cur.dot, next.dot) >> 1;
        if ((lone & dot_after) >> MAX_JOIN) as u64 & cur.trunk != 0 {
            facts.dotted_trunk = true;
        }

        // The longest digit run: across the edge, then inside the block.
        let leading = (!cur.digit).trailing_zeros();
        longest = longest.max(digits_in_a_row + leading);
        // Inside: only the thresholds the gates use matter.
        longest = longest.max(run_class(cur.digit));
        digits_in_a_row = if cur.digit == u64::MAX {
            digits_in_a_row + 64
        } else {
            cur.digit.leading_ones()
        };

        // A cluster left open by the previous block ends before this one unless
        // this block starts with a cluster byte.
        if clusters & 1 == 0 {
            if let Some((start, digits)) = open.take() {
                if digits >= min_digits {
                    region(start, base);
                }
            }
        }
        let open_digits = open.map_or(0, |(_, digits)| digits);
        if clusters != 0 && cur.digit.count_ones() + open_digits >= min_digits
            || clusters >> 63 != 0
        {
            for (first, last) in runs_of(clusters) {
                let continues = first == 1 && open.is_some();
                let reaches_next = last >> 63 != 0;
                if !continues
                    && !reaches_next
                    && last.trailing_zeros() - first.trailing_zeros() < min_digits - 1
                {
                    // Fewer bytes than a window has digits.
                    continue;
                }
                let digits = (cur.digit & span(first, last)).count_ones();
                let (start, digits) = match open.take() {
                    Some((start, before)) if first == 1 => (start, before + digits),
                    _ => (base + first.trailing_zeros() as usize, digits),
                };
                if last >> 63 != 0 {
                    open = Some((start, digits));
                } else if digits >= min_digits {
                    region(start, base + last.trailing_zeros() as usize + 1);
                }
            }
        } else if let Some((start, digits)) = open.take() {
            // This block starts with the open cluster's last bytes and holds too
            // few digits for any other: close it after them.
            let end = (!clusters).trailing_zeros() as usize;
            let digits = digits + (cur.digit & ((1u64 << end) - 1)).count_ones();
            if digits >= min_digits {
                region(start, base + end);
            }
        }
        prev = cur;
        cur = next;
    }
    if let Some((start, digits)) = open {
        if digits >= min_digits {
            region(start, text.len());
        }
    }
    facts.longest = longest as usize;
    facts
}

#[cfg(test)]
mod tests {
    use crate::detectors::numeric::{self, Runs};

    /// The windows (as text) and run facts the scan gives on the regions, and on
    /// the whole text.
    fn both(text: &str) -> ((Vec<String>, Runs), (Vec<String>, Runs)) {
        let bytes = text.as_bytes();
        let range = |w: &numeric::Window<'_>| {
            let (s, e) = w.range();
            text[s..e].to_owned()
        };
        let mut by_regions = Vec::new();
        // SAFETY: SSE2 is part of every x86_64 target's baseline.
        let facts = unsafe {
            super::for_each_region(bytes, |from, to| {
                numeric::for_each_window_between(bytes, from, to, |w| by_regions.push(range(w)));
            })
        };
        let mut whole = Vec::new();
        let runs = numeric::for_each_window_in(bytes, |w| whole.push(range(w)));
        ((by_regions, facts), (whole, runs))
    }

    fn gates(r: &Runs) -> (bool, bool, bool) {
        (r.longest >= 6, r.longest >= 10, r.dotted_trunk)
    }

    #[test]
    fn regions_give_the_windows_and_facts_of_the_whole_text() {
        let filler = "2026-11-22T10:15:30.123Z GET /api/v1/orders/ORD-2026-000123 status=200 ";
        for pii in [
            "+7 (916) 123-45-67",
            "4276 1600 1234 5674",
            "112-233-445 95",
            "500100732259",
            "45 08 123456",
            "+7.916.123.45.67",
            "1234567",
            "",
        ] {
            for at in [0, 10, 60, 61, 62, 63, 64, 65, 120, 127, 128, 129] {
                let mut text = filler.repeat(3);
                let at = at.min(text.len());
                text.insert_str(at, pii);
                let ((windows, facts), (expected, runs)) = both(&text);
                assert_eq!(windows, expected, "{pii:?} at {at}");
                assert_eq!(gates(&facts), gates(&runs), "{pii:?} at {at}");
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        /// Any text of digits and separators (clusters across every block edge).
        #[test]
        fn regions_agree_with_the_whole_scan(text in "[0-9 ()+.a-]{60,400}") {
            let ((windows, facts), (expected, runs)) = both(&text);
            proptest::prop_assert_eq!(windows, expected);
            proptest::prop_assert_eq!(gates(&facts), gates(&runs));
        }
    }
}
