//! Short texts recently found clean, by content, per thread.
//!
//! Most strings on a span are not literals but still repeat from span to span: the
//! span name built from the route, the route itself, the host, a client's address
//! and user agent. Looking one up here costs a hash and a compare of a few words;
//! scanning it again costs the prefilter's full pass.
//!
//! A text is kept only the second time it is found clean (the first time only its
//! hash is noted), so values that never repeat, such as a path with an order id,
//! neither pay for a copy nor push out the ones that do.
//!
//! Such a path still repeats its [shape](crate::shape): a second table keeps the
//! shapes of short texts the prefilter found clean, the same way. A text is looked
//! up there only when it is not found as itself.
//!
//! Only texts found clean are kept, only in this process's memory, never exported,
//! and a text is only ever taken from here if its bytes are equal to the bytes
//! that were found clean under the same rule set.

use std::cell::RefCell;

use crate::shape::{self, Shape};

/// Longest text kept.
pub(crate) const MAX_LEN: usize = 128;
/// Slots per thread for texts (direct-mapped; about 70 KiB with the hashes noted).
const SLOTS: usize = 512;
/// Slots per thread for shapes (about 20 KiB).
const SHAPE_SLOTS: usize = 256;

#[derive(Clone, Copy)]
struct Slot<const LEN: usize> {
    /// The rule set that found the text clean (0: empty slot).
    rules: usize,
    len: usize,
    bytes: [u8; LEN],
}

impl<const LEN: usize> Slot<LEN> {
    const EMPTY: Self = Slot {
        rules: 0,
        len: 0,
        bytes: [0; LEN],
    };
}

/// Texts of up to `LEN` bytes in `SLOTS` direct-mapped slots, and the hashes of
/// texts seen clean once. On the heap, built there: a redacting thread's stack
/// never holds them (threads with small stacks redact too).
struct Table<const LEN: usize, const SLOTS: usize> {
    slots: Box<[Slot<LEN>; SLOTS]>,
    seen_once: Box<[u64; SLOTS]>,
}

/// One thread's texts found clean, and the shapes of texts the prefilter found
/// clean ([`shape`](crate::shape)).
pub(crate) struct Recent {
    texts: Table<MAX_LEN, SLOTS>,
    shapes: Table<{ shape::MAX_LEN }, SHAPE_SLOTS>,
}

impl std::fmt::Debug for Recent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recent").finish_non_exhaustive()
    }
}

thread_local! {
    static RECENT: RefCell<Option<Box<Recent>>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's texts, created on first use; with `None` if they
/// are in use further up this thread's stack (a redaction re-entered from
/// inside one) or the thread is exiting. Redacting a whole span borrows them once
/// here rather than once per value.
pub(crate) fn with_thread_cache<R>(mut f: impl FnMut(Option<&mut Recent>) -> R) -> R {
    let out = RECENT.try_with(|recent| match recent.try_borrow_mut() {
        Ok(mut recent) => {
            if recent.is_none() {
                *recent = Recent::new();
            }
            f(recent.as_deref_mut())
        }
        Err(_) => f(None),
    });
    match out {
        Ok(out) => out,
        Err(_) => f(None),
    }
}

/// A hash of `text`'s length and its first and last eight bytes (the compare on
/// lookup makes any collision a miss, never a wrong answer), and its slot.
fn hash<const SLOTS: usize>(text: &[u8]) -> (u64, usize) {
    let n = text.len();
    let h = if n >= 8 {
        word(text, 0) ^ word(text, n - 8).rotate_left(23)
    } else {
        text.iter().fold(0u64, |h, &b| h << 8 | u64::from(b))
    };
    let h = (h ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h, (h >> 40) as usize % SLOTS)
}

/// Bytes `at..at + 8` of `bytes` as a word (0 if out of range).
fn word(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .map_or(0, u64::from_le_bytes)
}

/// Bytes `at..at + 16` of `bytes` as one wide word (0 if out of range).
fn wide(bytes: &[u8], at: usize) -> u128 {
    bytes
        .get(at..at + 16)
        .and_then(|w| <[u8; 16]>::try_from(w).ok())
        .map_or(0, u128::from_le_bytes)
}

/// `kept == text`, as word compares inline (no `memcmp` call for a user agent):
/// 16 bytes at a time, the last compare overlapping the one before.
fn same(kept: &[u8], text: &[u8]) -> bool {
    let n = text.len();
    if kept.len() != n {
        return false;
    }
    if n < 16 {
        if n < 8 {
            return kept == text;
        }
        return word(kept, 0) == word(text, 0) && word(kept, n - 8) == word(text, n - 8);
    }
    // The first and the last 16 bytes cover up to 32; a loop only past that (a
    // route or a span name takes two compares and no loop).
    let ends = wide(kept, 0) == wide(text, 0) && wide(kept, n - 16) == wide(text, n - 16);
    if n <= 32 || !ends {
        return ends;
    }
    (16..n - 16)
        .step_by(16)
        .all(|at| wide(kept, at) == wide(text, at))
}

/// `[value; N]` built on the heap (`None` only if the conversion to an array of
/// the vector's own length failed, which it cannot).
fn boxed_array<T: Copy, const N: usize>(value: T) -> Option<Box<[T; N]>> {
    vec![value; N].into_boxed_slice().try_into().ok()
}

impl<const LEN: usize, const SLOTS: usize> Table<LEN, SLOTS> {
    fn new() -> Option<Self> {
        // A vector is built on the heap; as an array of its exact length it then
        // needs no bounds check per lookup.
        Some(Table {
            slots: boxed_array(Slot::EMPTY)?,
            seen_once: boxed_array(0)?,
        })
    }

    /// True if `bytes` were kept for rule set `rules`.
    #[inline]
    fn contains(&self, rules: usize, bytes: &[u8]) -> bool {
        if bytes.len() > LEN {
            return false;
        }
        let (_, slot) = hash::<SLOTS>(bytes);
        self.slots.get(slot).is_some_and(|s| {
            s.rules == rules
                && s.len == bytes.len()
                && s.bytes
                    .get(..bytes.len())
                    .is_some_and(|kept| same(kept, bytes))
        })
    }

    /// Notes `bytes` for rule set `rules`: the second time in a row for its
    /// slot, they are kept.
    fn note(&mut self, rules: usize, bytes: &[u8]) {
        if bytes.len() > LEN || rules == 0 {
            return;
        }
        let (h, slot) = hash::<SLOTS>(bytes);
        let (Some(seen), Some(s)) = (self.seen_once.get_mut(slot), self.slots.get_mut(slot)) else {
            return;
        };
        if *seen != h {
            *seen = h;
            return;
        }
        s.rules = rules;
        s.len = bytes.len();
        if let Some(kept) = s.bytes.get_mut(..bytes.len()) {
            kept.copy_from_slice(bytes);
        }
    }
}

impl Recent {
    /// Out of line: once per thread.
    #[cold]
    #[inline(never)]
    fn new() -> Option<Box<Recent>> {
        Some(Box::new(Recent {
            texts: Table::new()?,
            shapes: Table::new()?,
        }))
    }

    /// True if `text` was found clean by rule set `rules` and is still remembered.
    #[inline]
    pub(crate) fn is_clean(&self, rules: usize, text: &str) -> bool {
        self.texts.contains(rules, text.as_bytes())
    }

    /// Notes that rule set `rules` found `text` clean: the second time in a row
    /// for its slot, the text is kept.
    pub(crate) fn remember_clean(&mut self, rules: usize, text: &str) {
        self.texts.note(rules, text.as_bytes());
    }

    /// True if the prefilter of rule set `rules` found a text of this shape clean
    /// and the shape is still remembered.
    #[inline]
    pub(crate) fn shape_is_clean(&self, rules: usize, shape: &Shape) -> bool {
        self.shapes.contains(rules, shape.as_bytes())
    }

    /// Notes that the prefilter of rule set `rules` (not the detectors: see
    /// [`shape`](crate::shape)) found a text of this shape clean; kept the second
    /// time in a row for its slot.
    pub(crate) fn remember_clean_shape(&mut self, rules: usize, shape: &Shape) {
        self.shapes.note(rules, shape.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`Recent::is_clean`] on this thread's texts (false while they are in use).
    fn is_clean(rules: usize, text: &str) -> bool {
        with_thread_cache(|recent| recent.is_some_and(|r| r.is_clean(rules, text)))
    }

    /// [`Recent::remember_clean`] on this thread's texts (nothing while in use).
    fn remember_clean(rules: usize, text: &str) {
        with_thread_cache(|recent| {
            if let Some(r) = recent {
                r.remember_clean(rules, text);
            }
        });
    }

    #[test]
    fn only_the_same_bytes_under_the_same_rules_are_clean() {
        let text = String::from("GET /api/v1/orders/{id}");
        assert!(!is_clean(7, &text));
        remember_clean(7, &text);
        assert!(!is_clean(7, &text), "kept only when seen clean twice");
        remember_clean(7, &text);
        assert!(is_clean(7, &text));
        assert!(is_clean(7, &text.clone()), "by content, not address");
        assert!(!is_clean(8, &text), "another rule set");
        assert!(!is_clean(7, "GET /api/v1/orders/{ix}"));
        assert!(!is_clean(7, "GET /api/v1/orders/{id"));
        let long = "x".repeat(MAX_LEN + 1);
        remember_clean(7, &long);
        remember_clean(7, &long);
        assert!(!is_clean(7, &long));
    }

    #[test]
    fn every_length_compares_whole() {
        for len in 0..=MAX_LEN {
            let text: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            remember_clean(11, &text);
            remember_clean(11, &text);
            assert!(is_clean(11, &text), "len {len}");
            for at in 0..len {
                let mut other = text.clone().into_bytes();
                other[at] = b'#';
                let other = String::from_utf8(other).unwrap_or_default();
                assert!(!is_clean(11, &other), "len {len}, changed at {at}");
            }
        }
    }

    #[test]
    fn a_nested_borrow_finds_nothing_and_keeps_nothing() {
        remember_clean(13, "orders.internal");
        remember_clean(13, "orders.internal");
        with_thread_cache(|outer| {
            assert!(outer.is_some_and(|r| r.is_clean(13, "orders.internal")));
            // Re-entered while the span walk holds the texts: no answer, no panic.
            assert!(with_thread_cache(|inner| inner.is_none()));
            assert!(!is_clean(13, "orders.internal"));
            remember_clean(13, "api.internal");
        });
        assert!(is_clean(13, "orders.internal"));
        remember_clean(13, "api.internal");
        assert!(!is_clean(13, "api.internal"), "the nested note was dropped");
    }

    #[test]
    fn other_threads_start_empty() {
        remember_clean(9, "orders.internal");
        remember_clean(9, "orders.internal");
        assert!(std::thread::spawn(|| !is_clean(9, "orders.internal"))
            .join()
            .unwrap_or(false));
    }
}
