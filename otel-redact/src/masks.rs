//! The prefilter for short texts (attribute values, span and event names): the
//! whole text classified at once into 64-bit masks, one bit per byte, and every
//! gate decided on the masks.
//!
//! Each 16-byte chunk is a handful of SSE2 compares (`x86_64` only; other targets
//! use the general prefilter). On the masks the gates can be much tighter than on
//! counts: the numeric detectors need 9 digits in one *cluster* (digit groups joined
//! by up to three of ` -()`, not glued to a word or number, see
//! [`numeric`](crate::detectors::numeric)), not 9 digits anywhere, so a user agent
//! (`Firefox/133.0 … x86_64`) or a path with an order id (`/orders/ORD-2026-000123`)
//! is known clean here instead of being walked by the cluster scanner.
//!
//! Every gate stays a superset test: a text this calls clean cannot match any
//! built-in detector.

use std::arch::x86_64::{
    __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
    _mm_set1_epi8, _mm_set_epi64x, _mm_sub_epi8,
};

use crate::detectors::numeric::{glued_left, MIN_DETECTOR_DIGITS};
use crate::detectors::phone::{self, DOTTED_DIGITS};
use crate::prefilter::{
    inn_at, passport_at, Hints, INN_RUN, MIN_ANY_DIGITS, MIN_CONTEXT_DIGITS, PASSPORT_RUN,
};

/// Longest text classified here.
pub(crate) const MAX_LEN: usize = 64;
/// Bytes per SSE2 compare.
const CHUNK: usize = 16;

/// One mask per class of byte, bit `i` for byte `i`.
#[derive(Default)]
struct Masks {
    digit: u64,
    at: u64,
    assign: u64,
    cyrillic_lead: u64,
    anchor: u64,
    /// Cluster joiners: ` -()`.
    join: u64,
}

/// Bytes `i..i + 8` of `text` as a little-endian word, zero past the end (zero is
/// in no class), without copying the text anywhere.
pub(crate) fn word_at(text: &[u8], i: usize) -> i64 {
    if let Some(Ok(w)) = text.get(i..i + 8).map(<[u8; 8]>::try_from) {
        return i64::from_le_bytes(w);
    }
    let len = text.len();
    if i >= len {
        return 0;
    }
    if let Some(Ok(w)) = len
        .checked_sub(8)
        .and_then(|s| text.get(s..))
        .map(<[u8; 8]>::try_from)
    {
        // The last eight bytes, shifted so that byte `i` comes first.
        return (u64::from_le_bytes(w) >> (8 * (i + 8 - len))) as i64;
    }
    text.get(i..)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .fold(0, |w, (k, &b)| w | i64::from(b) << (8 * k))
}

#[target_feature(enable = "sse2")]
pub(crate) fn load(text: &[u8], at: usize) -> __m128i {
    _mm_set_epi64x(word_at(text, at + 8), word_at(text, at))
}

#[target_feature(enable = "sse2")]
pub(crate) fn eq(v: __m128i, byte: u8) -> __m128i {
    _mm_cmpeq_epi8(v, _mm_set1_epi8(byte as i8))
}

/// The ASCII digits: `b - b'0'` (wrapping) is at most 9.
#[target_feature(enable = "sse2")]
pub(crate) fn digit_bytes(v: __m128i) -> __m128i {
    let from_zero = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
    _mm_cmpeq_epi8(_mm_min_epu8(from_zero, _mm_set1_epi8(9)), from_zero)
}

/// The bytes that may join two digit groups in a cluster: ` `, `-`, `(`, `)`.
#[target_feature(enable = "sse2")]
pub(crate) fn joiner_bytes(v: __m128i) -> __m128i {
    _mm_or_si128(
        _mm_or_si128(eq(v, b' '), eq(v, b'-')),
        _mm_or_si128(eq(v, b'('), eq(v, b')')),
    )
}

/// The runs of set bits of `mask`, lowest first, each as its first and its last
/// bit (short dependency chains, no variable shifts).
pub(crate) fn runs_of(mask: u64) -> impl Iterator<Item = (u64, u64)> {
    let mut starts = mask & !(mask << 1);
    let mut ends = mask & !(mask >> 1);
    std::iter::from_fn(move || {
        if starts == 0 {
            return None;
        }
        let first = starts & starts.wrapping_neg();
        let last = ends & ends.wrapping_neg();
        starts ^= first;
        ends ^= last;
        Some((first, last))
    })
}

/// The bits from `first` to `last` inclusive (`last << 1` is 0 for the top bit,
/// and `0 - first` sets every bit from `first` up).
pub(crate) fn span(first: u64, last: u64) -> u64 {
    (last << 1).wrapping_sub(first)
}

#[target_feature(enable = "sse2")]
pub(crate) fn bits(v: __m128i) -> u64 {
    u64::from(_mm_movemask_epi8(v) as u16)
}

/// The 16 bytes at `at`, which must all lie in `text`.
#[target_feature(enable = "sse2")]
fn load_inside(text: &[u8], at: usize) -> __m128i {
    let word = |i: usize| {
        text.get(i..i + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map_or(0, i64::from_le_bytes)
    };
    _mm_set_epi64x(word(at + 8), word(at))
}

/// Calls `each` with every 16-byte chunk of `text` and the position of its first
/// byte. A text of 16 bytes or more is covered by whole chunks inside it, the last
/// one overlapping the one before: the masks are ORed, and an overlapping byte
/// sets the same bits twice. A shorter text is one chunk, zero past its end (zero
/// is in no class).
#[inline]
#[target_feature(enable = "sse2")]
fn for_each_chunk(text: &[u8], mut each: impl FnMut(__m128i, usize)) {
    let len = text.len();
    if len < CHUNK {
        each(load(text, 0), 0);
        return;
    }
    let mut at = 0;
    while at + CHUNK < len {
        each(load_inside(text, at), at);
        at += CHUNK;
    }
    each(load_inside(text, len - CHUNK), len - CHUNK);
}

/// The classes the gates need, in one pass over the text.
#[target_feature(enable = "sse2")]
fn classify(text: &[u8]) -> Masks {
    let mut m = Masks::default();
    for_each_chunk(text, |v, at| {
        let digit = digit_bytes(v);
        let assign = _mm_or_si128(eq(v, b'='), eq(v, b':'));
        let cyrillic = eq(_mm_and_si128(v, _mm_set1_epi8(0xFEu8 as i8)), 0xD0);
        // Anchors as in the general prefilter: b/B, k/K, J, v, h.
        let lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
        let anchor = _mm_or_si128(
            _mm_or_si128(eq(lower, b'b'), eq(lower, b'k')),
            _mm_or_si128(eq(v, b'J'), _mm_or_si128(eq(v, b'v'), eq(v, b'h'))),
        );
        m.digit |= bits(digit) << at;
        m.at |= bits(eq(v, b'@')) << at;
        m.assign |= bits(assign) << at;
        m.cyrillic_lead |= bits(cyrillic) << at;
        m.anchor |= bits(anchor) << at;
        m.join |= bits(joiner_bytes(v)) << at;
    });
    m
}

/// The bytes of `text` that are the ASCII letter `lower` in either case: where a
/// context word can start. Asked for only when its gate is otherwise open.
#[target_feature(enable = "sse2")]
fn letter(text: &[u8], lower: u8) -> u64 {
    let mut mask = 0;
    for_each_chunk(text, |v, at| {
        mask |= bits(eq(_mm_or_si128(v, _mm_set1_epi8(0x20)), lower)) << at;
    });
    mask
}

/// The prefilter's [`Hints`] for a text of at most [`MAX_LEN`] bytes.
#[target_feature(enable = "sse2")]
pub(crate) fn scan(text: &[u8]) -> Hints {
    let text = text.get(..MAX_LEN).unwrap_or(text);
    let m = classify(text);
    let mut h = Hints {
        total_digits: m.digit.count_ones(),
        at: m.at != 0,
        assign: m.assign != 0,
        cyrillic: m.cyrillic_lead != 0,
        longest_run: 0,
        ..Hints::default()
    };
    if h.cyrillic {
        h.cyrillic_upper = positions(m.cyrillic_lead).any(|i| {
            text[i] == 0xD0
                && text
                    .get(i + 1)
                    .is_some_and(|&next| next == 0x81 || next.wrapping_sub(0x90) < 0x20)
        });
    }
    for i in positions(m.anchor) {
        confirm_anchor(text, i, &mut h);
    }
    if h.total_digits >= MIN_ANY_DIGITS {
        numeric_gates(text, m.digit, m.join, &mut h);
    }
    h
}

/// Positions of the set bits of `mask`, lowest first.
pub(crate) fn positions(mut mask: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        let i = mask.trailing_zeros() as usize;
        mask &= mask.wrapping_sub(1);
        (i < 64).then_some(i)
    })
}

/// The word behind the anchor letter at `i`, as the general prefilter confirms it:
/// `bearer`/`basic` from a `b`, `token` around a `k` (any case), `eyJ` around a `J`,
/// `vich`/`vna` from a `v`, `chna` around an `h`.
///
/// Every word is compared at every anchor, branch-free, on the eight bytes from
/// `i - 2` (zero outside the text): a word can only match where its own letter is,
/// and no indirect jump per anchor letter is mispredicted.
fn confirm_anchor(text: &[u8], i: usize, h: &mut Hints) {
    let around = around_anchor(text, i);
    h.auth_word |= is_auth_word(around);
    h.jwt |= is_jwt(around);
    h.latin_patronymic |= is_latin_patronymic(around);
}

/// Bytes `i - 2 .. i + 6` of `text` as a little-endian word, zero outside the
/// text: where every word of the anchor letter at `i` lies.
pub(crate) fn around_anchor(text: &[u8], i: usize) -> u64 {
    match i.checked_sub(2) {
        Some(from) => word_at(text, from) as u64,
        None => (word_at(text, 0) as u64) << (8 * (2 - i)),
    }
}

/// Bytes `from .. from + len` of `w`.
fn field(w: u64, from: u32, len: u32) -> u64 {
    (w >> (8 * from)) & (u64::MAX >> (64 - 8 * len))
}

/// `word` as a little-endian word.
const fn text_of(word: &[u8]) -> u64 {
    let mut acc = 0u64;
    let mut k = word.len();
    while k > 0 {
        k -= 1;
        acc = acc << 8 | word[k] as u64;
    }
    acc
}

// The anchor words, each compared as one word of up to eight bytes.
const BEARER: u64 = text_of(b"bearer");
const BASIC: u64 = text_of(b"basic");
const TOKEN: u64 = text_of(b"token");
const EYJ: u64 = text_of(b"eyJ");
const VICH: u64 = text_of(b"vich");
const VNA: u64 = text_of(b"vna");
const CHNA: u64 = text_of(b"chna");

/// `bearer` or `basic` from the anchor (byte 2 of `around`), or `token` around
/// it, in any case.
pub(crate) fn is_auth_word(around: u64) -> bool {
    let folded = around | 0x2020_2020_2020_2020;
    (field(folded, 2, 6) == BEARER)
        | (field(folded, 2, 5) == BASIC)
        | (field(folded, 0, 5) == TOKEN)
}

/// `eyJ` ending at the anchor (byte 2 of `around`).
pub(crate) fn is_jwt(around: u64) -> bool {
    field(around, 0, 3) == EYJ
}

/// `vich` or `vna` from the anchor (byte 2 of `around`), or `chna` around it.
pub(crate) fn is_latin_patronymic(around: u64) -> bool {
    (field(around, 2, 4) == VICH) | (field(around, 2, 3) == VNA) | (field(around, 1, 4) == CHNA)
}

/// Decides the numeric gates of a text with at least [`MIN_ANY_DIGITS`] digits:
/// whether a cluster scan could find a window, the longest digit run, and whether
/// a context detector could match.
#[target_feature(enable = "sse2")]
fn numeric_gates(text: &[u8], digit: u64, join: u64, h: &mut Hints) {
    h.windows = clusters_could_hold_a_window(text, digit, join)
        || h.total_digits >= DOTTED_DIGITS && has_dotted_trunk(text, digit);
    if h.windows {
        // Not clean whatever the rest says; the cluster scan measures the runs.
        h.longest_run = u32::MAX;
        h.context = h.total_digits >= MIN_CONTEXT_DIGITS;
        return;
    }
    let longest = run_class(digit);
    h.longest_run = longest;
    // The context words, as `prefilter::passport_word` and `inn_word` find them,
    // looked for only where their first letter is: eight (or three) bytes compared
    // at once, case folded (every byte of the words is a letter, so `| 0x20` folds
    // exactly).
    h.context = h.cyrillic
        && (h.total_digits >= MIN_CONTEXT_DIGITS && longest >= PASSPORT_RUN || longest >= INN_RUN);
    if !h.context && h.total_digits >= MIN_CONTEXT_DIGITS && longest >= PASSPORT_RUN {
        h.context = positions(letter(text, b'p')).any(|i| passport_at(text, i));
    }
    if !h.context && longest >= INN_RUN {
        h.context = positions(letter(text, b'i')).any(|i| inn_at(text, i));
    }
}

/// The longest run of set bits of `digit`, rounded down to what the context gates
/// tell apart: [`INN_RUN`], [`PASSPORT_RUN`] or 0. Shifts that double the run
/// checked, instead of a loop as long as the run.
pub(crate) fn run_class(digit: u64) -> u32 {
    // Bit i of `two`: bits i..i+2 of `digit` set; of `four`: bits i..i+4.
    let two = digit & (digit >> 1);
    let four = two & (two >> 2);
    if four & (four >> 4) & (two >> 8) != 0 {
        INN_RUN
    } else if four & (two >> 4) != 0 {
        PASSPORT_RUN
    } else {
        0
    }
}

/// True if a lone `7` or `8` is followed by a dot: the trunk of a dotted phone
/// (`8.916.123.45.67`). Lone digits are few, so each is looked at in turn.
fn has_dotted_trunk(text: &[u8], digit: u64) -> bool {
    let lone = digit & !(digit << 1) & !(digit >> 1);
    positions(lone).any(|i| phone::is_dotted_trunk(text, i))
}

/// True if some cluster of `digit` groups joined by `join` separators could hold
/// [`MIN_DETECTOR_DIGITS`] digits once glued groups are left out, as the cluster
/// scanner leaves them out.
fn clusters_could_hold_a_window(text: &[u8], digit: u64, join: u64) -> bool {
    // Separators within three bytes of a digit on both sides, through separators
    // only: exactly the runs of one to three that join two groups.
    let spread = |step: fn(u64) -> u64| {
        let a = step(digit) & join;
        let b = step(a) & join;
        a | b | (step(b) & join)
    };
    let joiners = spread(|m| m << 1) & spread(|m| m >> 1);
    for (first, last) in runs_of(digit | joiners) {
        if last.trailing_zeros() - first.trailing_zeros() + 1 < MIN_DETECTOR_DIGITS as u32 {
            continue;
        }
        let mut groups = digit & span(first, last);
        let mut remaining = groups.count_ones();
        // Walk the groups the scanner would skip as glued to what precedes them.
        while remaining >= MIN_DETECTOR_DIGITS as u32 {
            let g = groups.trailing_zeros() as usize;
            let lead = g
                .checked_sub(1)
                .filter(|&p| matches!(text.get(p), Some(b'+' | b'(')));
            if !glued_left(text, lead.unwrap_or(g)) {
                return true;
            }
            let group_len = (!(groups >> g)).trailing_zeros();
            let group = if group_len >= 64 {
                u64::MAX
            } else {
                ((1u64 << group_len) - 1) << g
            };
            groups &= !group;
            remaining -= group_len;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    // `prefilter::scan` sends every text here up to 64 bytes long.
    use super::*;
    use crate::prefilter;

    #[test]
    fn words_read_past_the_end_as_zeros() {
        let bytes: Vec<u8> = (1..=20).collect();
        for len in 0..=bytes.len() {
            let text = &bytes[..len];
            for i in 0..len + 10 {
                let mut padded = [0u8; 8];
                for (k, slot) in padded.iter_mut().enumerate() {
                    *slot = text.get(i + k).copied().unwrap_or(0);
                }
                assert_eq!(
                    word_at(text, i),
                    i64::from_le_bytes(padded),
                    "len {len}, at {i}"
                );
            }
        }
    }

    #[test]
    fn every_byte_of_every_length_is_classified_once() {
        // The last chunk of a text overlaps the one before it: each byte must still
        // count once, at every length and position.
        for len in 0..=MAX_LEN {
            for at in 0..len {
                for (byte, what) in [(b'7', "digit"), (b'@', "at"), (b'=', "assign")] {
                    let mut text = vec![b'x'; len];
                    text[at] = byte;
                    let short = prefilter::scan(&text);
                    let general = prefilter::scan_general(&text);
                    assert_eq!(
                        (short.total_digits, short.at, short.assign),
                        (general.total_digits, general.at, general.assign),
                        "{what} at {at} of {len}"
                    );
                }
            }
            let digits = vec![b'1'; len];
            assert_eq!(
                prefilter::scan(&digits).total_digits,
                len as u32,
                "{len} digits"
            );
        }
    }

    #[test]
    fn run_classes_match_the_longest_run() {
        let longest = |mut m: u64| {
            let mut n = 0;
            while m != 0 {
                m &= m << 1;
                n += 1;
            }
            n
        };
        for len in 0..=64u32 {
            for at in 0..=(64 - len) {
                let run = if len == 0 {
                    0
                } else {
                    (u64::MAX >> (64 - len)) << at
                };
                // A shorter run beside it must not change the class.
                let mask = run | if at >= 7 { 0b11111 << (at - 7) } else { 0 };
                let want = match longest(mask) {
                    n if n >= INN_RUN => INN_RUN,
                    n if n >= PASSPORT_RUN => PASSPORT_RUN,
                    _ => 0,
                };
                assert_eq!(run_class(mask), want, "run of {len} at {at}");
            }
        }
    }

    #[test]
    fn clean_values_with_digits_are_clean() {
        for text in [
            "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
            "/api/v1/orders/ORD-2026-000123",
            "2026-11-22 price 12500.50 v1.2.3",
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "550e8400-e29b-41d4-a716-446655440000",
            "192.168.100.200 10.0.12.7",
        ] {
            let h = prefilter::scan(text.as_bytes());
            assert!(h.is_clean(), "{text}: {h:?}");
        }
    }

    #[test]
    fn every_numeric_shape_opens_its_gate() {
        for text in [
            "+7 (916) 123-45-67",
            "8 916 123 45 67",
            "tel:89161234567",
            "4276 1600 1234 5674",
            "112-233-445 95",
            "passport 45 08 123456",
            "inn 7707083893",
            "+7.916.123.45.67",
            "8.916.123.45.67",
            "ORD-1 4276160012345674",
        ] {
            let h = prefilter::scan(text.as_bytes());
            assert!(!h.is_clean(), "{text}: {h:?}");
        }
    }

    #[test]
    fn agrees_with_the_general_prefilter_on_words() {
        for text in [
            "Authorization: Bearer abc",
            "x eyJhbGciOiJIUzI1NiJ9",
            "api token abc",
            "Basic dXNlcjpwYXNz",
            "Ivanov Ivan Ivanovich",
            "Anna Sergeevna",
            "Vera Ilyinichna",
            "Иван",
            "иван",
            "a@b.ru",
            "k=v",
        ] {
            let short = prefilter::scan(text.as_bytes());
            let general = prefilter::scan_general(text.as_bytes());
            assert_eq!(
                (
                    short.at,
                    short.assign,
                    short.cyrillic,
                    short.cyrillic_upper,
                    short.jwt,
                    short.auth_word,
                    short.latin_patronymic,
                    short.total_digits
                ),
                (
                    general.at,
                    general.assign,
                    general.cyrillic,
                    general.cyrillic_upper,
                    general.jwt,
                    general.auth_word,
                    general.latin_patronymic,
                    general.total_digits
                ),
                "{text}"
            );
        }
    }

    /// Text made of the pieces the numeric and word gates look at.
    fn gate_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            "[a-zA-Z0-9 ()+.:/_=-]{0,6}",
            "[0-9]{1,7}",
            "[ ()+.-]{1,3}",
            "\\+?[78]?[ (]{0,2}[0-9]{3}[) .-]{0,2}[0-9]{3}[ .-]?[0-9]{2}[ .-]?[0-9]{2}",
            "[0-9]{4}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{4}",
            "(passport|Passport|inn|INN|ИНН|паспорт|token|Bearer|eyJ|vich|Иван) ?",
        ];
        proptest::collection::vec(piece, 0..8).prop_map(|pieces| {
            let mut text = String::new();
            for p in pieces {
                if text.len() + p.len() <= MAX_LEN {
                    text.push_str(&p);
                }
            }
            text
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// What the masks call clean, the detectors (run with the general
        /// prefilter's looser gates) find nothing in.
        #[test]
        fn a_text_called_clean_has_no_match(text in gate_text()) {
            static REDACTOR: std::sync::LazyLock<crate::Redactor> =
                std::sync::LazyLock::new(crate::Redactor::default);
            let rules = REDACTOR.rules();
            let short = prefilter::scan(text.as_bytes());
            if short.is_clean() {
                let general = prefilter::scan_general(text.as_bytes());
                let found = rules.matches_with(&text, Some(general));
                proptest::prop_assert!(found.is_empty(), "{text:?}: {found:?}");
            }
        }
    }
}
