//! Long texts: where the digit-cluster scan could find a window.
//!
//! The cluster scan ([`numeric`](crate::detectors::numeric)) walks every run of
//! digits, and log text is full of short ones: status codes, durations, dates,
//! versions, ports. Here the digit and separator masks of the text's 64-byte
//! [`blocks`](crate::blocks) say which clusters hold at least 9 digits (digit
//! groups joined by one to three of ` -()`, the scan's own definition); only those
//! are handed to the scan, whole, so it finds exactly the windows it would find
//! walking the entire text.
//!
//! The facts other gates take from the scan for the entire text (the longest run
//! of digits, a dotted phone's trunk) come from the same masks.

use crate::blocks::Block;
use crate::detectors::numeric::{Runs, MIN_DETECTOR_DIGITS};
use crate::detectors::phone;
use crate::masks::{positions, run_class, span};

/// Separator bytes a joiner may be from a digit (the scan joins groups across at
/// most three).
const MAX_JOIN: u32 = 3;

/// A field of the three blocks around `cur` as one wide mask: bits 0-2 are the
/// previous block's last three bytes, bits 3-66 `cur`, bits 67-69 the next block's
/// first three bytes.
fn wide(prev: u64, cur: u64, next: u64) -> u128 {
    (u128::from(prev) >> (64 - MAX_JOIN))
        | (u128::from(cur) << MAX_JOIN)
        | (u128::from(next & 0b111) << (64 + MAX_JOIN))
}

/// The bits of `mask` that start a run of at least [`MIN_DETECTOR_DIGITS`] set
/// bits (9: shifts that double the length checked, then one more).
fn starts_nine_long(mask: u64) -> u64 {
    const _: () = assert!(MIN_DETECTOR_DIGITS == 9);
    let two = mask & (mask >> 1);
    let four = two & (two >> 2);
    four & (four >> 4) & (mask >> 8)
}

/// The cluster scan's regions, found block by block: fed every block of a text in
/// order ([`Regions::block`]), it calls `region(from, to)` for every cluster that
/// holds at least [`MIN_DETECTOR_DIGITS`] digits, in order, and
/// [`Regions::finish`] gives the digit-run facts of the whole text (`longest`
/// only as far as the gates look: at least 10, at least 6, or shorter).
#[derive(Default)]
pub(crate) struct Regions {
    /// A cluster reaching the end of the previous block: its start and digits.
    open: Option<(usize, u32)>,
    /// Digits in a row at the end of the blocks so far.
    digits_in_a_row: u32,
    longest: u32,
    dotted_trunk: bool,
}

impl Regions {
    /// Takes the block `cur` of `text`, which starts at byte `base`, with its
    /// neighbours (zero masks before the first block and after the last).
    ///
    /// Always inlined into the pass, its one caller: called, its state and the
    /// three blocks go through memory, 1.5k more instructions per 1.6 KB of log.
    #[inline(always)]
    pub(crate) fn block(
        &mut self,
        text: &[u8],
        prev: &Block,
        cur: &Block,
        next: &Block,
        base: usize,
        mut region: impl FnMut(usize, usize),
    ) {
        let min_digits = MIN_DETECTOR_DIGITS as u32;
        if cur.digit == 0 {
            // No digit here, so no cluster byte either (a joiner needs a digit
            // within three bytes on both sides): a cluster left open ends before
            // this block, and so does the run of digits.
            if let Some((start, digits)) = self.open.take() {
                if digits >= min_digits {
                    region(start, base);
                }
            }
            self.digits_in_a_row = 0;
            return;
        }

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

        // A dotted phone's trunk: a lone 7 or 8 right before a dot. Lone digits
        // are few (versions, addresses, hex ids), so each is read in turn.
        if !self.dotted_trunk {
            let lone = ((d & !(d << 1) & !(d >> 1)) >> MAX_JOIN) as u64;
            self.dotted_trunk = positions(lone).any(|i| phone::is_dotted_trunk(text, base + i));
        }

        // The longest digit run: across the edge, then inside the block.
        let leading = (!cur.digit).trailing_zeros();
        self.longest = self.longest.max(self.digits_in_a_row + leading);
        // Inside: only the thresholds the gates use matter.
        self.longest = self.longest.max(run_class(cur.digit));
        self.digits_in_a_row = if cur.digit == u64::MAX {
            self.digits_in_a_row + 64
        } else {
            cur.digit.leading_ones()
        };

        // A cluster left open by the previous block ends before this one unless
        // this block starts with a cluster byte.
        if clusters & 1 == 0 {
            if let Some((start, digits)) = self.open.take() {
                if digits >= min_digits {
                    region(start, base);
                }
            }
        }
        // Only three kinds of cluster can hold a window: one with as many bytes
        // as a window has digits, the open one this block continues, and the one
        // reaching the next block. Log text is full of shorter clusters (status
        // codes, dates, ports), which are never visited.
        let starts = clusters & !(clusters << 1);
        let ends = clusters & !(clusters >> 1);
        let mut selected = starts & starts_nine_long(clusters);
        if self.open.is_some() {
            selected |= starts & 1;
        }
        if clusters >> 63 != 0 {
            selected |= 1 << (63 - starts.leading_zeros());
        }
        while selected != 0 {
            let first = selected & selected.wrapping_neg();
            selected ^= first;
            // The run's end: its first end bit at or above its start.
            let ends_from = ends & !(first - 1);
            let last = ends_from & ends_from.wrapping_neg();
            let digits = (cur.digit & span(first, last)).count_ones();
            let (start, digits) = match self.open.take() {
                Some((start, before)) if first == 1 => (start, before + digits),
                _ => (base + first.trailing_zeros() as usize, digits),
            };
            if last >> 63 != 0 {
                self.open = Some((start, digits));
            } else if digits >= min_digits {
                region(start, base + last.trailing_zeros() as usize + 1);
            }
        }
    }

    /// Ends the text, `len` bytes long: a cluster still open runs to its end.
    pub(crate) fn finish(self, len: usize, mut region: impl FnMut(usize, usize)) -> Runs {
        if let Some((start, digits)) = self.open {
            if digits >= MIN_DETECTOR_DIGITS as u32 {
                region(start, len);
            }
        }
        Runs {
            longest: self.longest as usize,
            dotted_trunk: self.dotted_trunk,
        }
    }
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
        /// Scans each region the pass hands on.
        struct Windows<'a, F: FnMut(&numeric::Window<'_>)> {
            text: &'a [u8],
            visit: F,
        }
        impl<F: FnMut(&numeric::Window<'_>)> crate::pass::Sink for Windows<'_, F> {
            fn region(&mut self, from: usize, to: usize) {
                numeric::for_each_window_between(self.text, from, to, &mut self.visit);
            }
            fn assign(&mut self, _: usize) {}
        }
        let mut by_regions = Vec::new();
        let mut sink = Windows {
            text: bytes,
            visit: |w: &numeric::Window<'_>| by_regions.push(range(w)),
        };
        // SAFETY: SSE2 is part of every x86_64 target's baseline.
        let facts = unsafe { crate::pass::scan(bytes, &mut sink) }.runs;
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
