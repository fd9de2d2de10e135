//! Short texts recently found clean, by content, per thread.
//!
//! Most strings on a span are not literals but still repeat from span to span: the
//! span name built from the route, the route itself, the host, a client's address
//! and user agent. Looking one up here costs a hash and a compare of a few words;
//! scanning it again costs the prefilter's full pass. Texts that never repeat (a
//! path with an order id) just miss, and their slot is reused.
//!
//! Only texts found clean are kept, only in this process's memory, never exported,
//! and a text is only ever taken from here if its bytes are equal to the bytes
//! that were found clean under the same rule set.

use std::cell::RefCell;

/// Longest text kept.
pub(crate) const MAX_LEN: usize = 128;
/// Slots per thread (direct-mapped; about 70 KiB).
const SLOTS: usize = 512;

#[derive(Clone, Copy)]
struct Slot {
    /// The rule set that found the text clean (0: empty slot).
    rules: usize,
    len: usize,
    bytes: [u8; MAX_LEN],
}

const EMPTY: Slot = Slot {
    rules: 0,
    len: 0,
    bytes: [0; MAX_LEN],
};

thread_local! {
    static RECENT: RefCell<Option<Box<[Slot; SLOTS]>>> = const { RefCell::new(None) };
}

/// The slot for `text`: a hash of its length and its first and last eight bytes
/// (the compare on lookup makes any collision a miss, never a wrong answer).
fn slot_of(text: &[u8]) -> usize {
    let n = text.len();
    let word = |at: usize| {
        text.get(at..at + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map_or(0, u64::from_le_bytes)
    };
    let h = if n >= 8 {
        word(0) ^ word(n - 8).rotate_left(23)
    } else {
        text.iter().fold(0u64, |h, &b| h << 8 | u64::from(b))
    };
    let h = (h ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 40) as usize % SLOTS
}

/// True if `text` was found clean by rule set `rules` on this thread and is still
/// remembered.
#[inline]
pub(crate) fn is_clean(rules: usize, text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() > MAX_LEN {
        return false;
    }
    let slot = slot_of(bytes);
    RECENT.with(|recent| {
        let Ok(recent) = recent.try_borrow() else {
            return false;
        };
        recent
            .as_ref()
            .and_then(|slots| slots.get(slot))
            .is_some_and(|s| {
                s.rules == rules && s.len == bytes.len() && s.bytes.get(..s.len) == Some(bytes)
            })
    })
}

/// Remembers that rule set `rules` found `text` clean.
pub(crate) fn remember_clean(rules: usize, text: &str) {
    let bytes = text.as_bytes();
    if bytes.len() > MAX_LEN || rules == 0 {
        return;
    }
    let slot = slot_of(bytes);
    RECENT.with(|recent| {
        let Ok(mut recent) = recent.try_borrow_mut() else {
            return;
        };
        let slots = recent.get_or_insert_with(|| Box::new([EMPTY; SLOTS]));
        if let Some(s) = slots.get_mut(slot) {
            s.rules = rules;
            s.len = bytes.len();
            s.bytes[..bytes.len()].copy_from_slice(bytes);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_bytes_under_the_same_rules_are_clean() {
        let text = String::from("GET /api/v1/orders/{id}");
        assert!(!is_clean(7, &text));
        remember_clean(7, &text);
        assert!(is_clean(7, &text));
        assert!(is_clean(7, &text.clone()), "by content, not address");
        assert!(!is_clean(8, &text), "another rule set");
        assert!(!is_clean(7, "GET /api/v1/orders/{ix}"));
        assert!(!is_clean(7, "GET /api/v1/orders/{id"));
        let long = "x".repeat(MAX_LEN + 1);
        remember_clean(7, &long);
        assert!(!is_clean(7, &long));
    }

    #[test]
    fn other_threads_start_empty() {
        remember_clean(9, "orders.internal");
        assert!(std::thread::spawn(|| !is_clean(9, "orders.internal"))
            .join()
            .unwrap_or(false));
    }
}
