//! The fast path: one pass over the bytes that says which detectors could possibly
//! match. Clean text stops here, so it costs one pass and no allocation.
//!
//! The pass counts digits and notes rare bytes (`@`, `=`, `:`, Cyrillic lead bytes)
//! and *anchors* — the rarest letters of the words the secret and name detectors
//! need (`b` of bearer/basic, `k` of token, `J` of eyJ, `v` of -vich/-vna, `h` of
//! -chna). Long texts go in 16-byte chunks with plain comparisons that the compiler
//! turns into a few SIMD instructions per chunk (table lookups do not vectorise);
//! short values, one table lookup per byte. Only the anchors seen are then
//! confirmed, each by a SIMD search for its letter.
//!
//! The hints are a superset test: a detector skipped by them cannot match; a detector
//! run because of them may still find nothing.
//!
//! On `x86_64` the rules take a long text through [`pass`](crate::pass) instead,
//! which derives these same hints from the masks it classifies the text into for
//! the detectors anyway; the chunked pass here is what other targets use, and what
//! that pass is tested against.

use std::sync::LazyLock;

use memchr::memmem::Finder;

/// What one pass over a text found, in terms the detectors' gates need.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Hints {
    /// All ASCII digits in the text.
    pub total_digits: u32,
    /// An `@` was seen (e-mail, credentials in a URL).
    pub at: bool,
    /// A lead byte of a Cyrillic letter (`0xD0`/`0xD1`) was seen.
    pub cyrillic: bool,
    /// An upper-case Cyrillic letter was seen (names start with one).
    pub cyrillic_upper: bool,
    /// `=` or `:` was seen (`password=`-style parameters).
    pub assign: bool,
    /// `eyJ` was seen (the start of a JWT).
    pub jwt: bool,
    /// `bearer`, `basic` or `token` (any case) was seen.
    pub auth_word: bool,
    /// A Latin patronymic ending (`vich`, `vna`, `chna`) was seen.
    pub latin_patronymic: bool,
    /// The digit-cluster scan could find a window (phone, card, SNILS, INN,
    /// passport, dotted phone): at least [`MIN_ANY_DIGITS`] digits, or for short
    /// texts, that many in one unglued cluster.
    pub windows: bool,
    /// The longest run of consecutive digits rounded down to what the context
    /// gates tell apart ([`INN_RUN`], [`PASSPORT_RUN`] or 0), if known (short texts
    /// with enough digits); `u32::MAX` if not.
    pub longest_run: u32,
    /// A context detector (passport or INN after its keyword) could match.
    pub context: bool,
}

impl Hints {
    /// True if no built-in detector can match: the text is clean.
    pub(crate) fn is_clean(&self) -> bool {
        !self.windows
            && !self.context
            && !(self.at
                || self.cyrillic_upper
                || self.assign
                || self.jwt
                || self.auth_word
                || self.latin_patronymic)
    }
}

/// Fewest digits in a text any digit-based detector needs (E.164 with 9 digits).
pub(crate) const MIN_ANY_DIGITS: u32 = 9;
/// Fewest digits a context-word detector (passport, INN) needs in the whole text.
pub(crate) const MIN_CONTEXT_DIGITS: u32 = 10;
/// Consecutive digits the passport context needs (its number's last group).
pub(crate) const PASSPORT_RUN: u32 = 6;
/// Consecutive digits the INN context needs (INNs are 10 or 12 digits).
pub(crate) const INN_RUN: u32 = 10;

/// Bytes handled in one step of the fast path.
const CHUNK: usize = 16;

// Summary bits, of a chunk and of a byte class: rare bytes, then one bit per
// anchor letter so that only the anchors present are confirmed.
const AT: u8 = 1;
const ASSIGN: u8 = 2;
const CYR: u8 = 4;
/// `b`/`B`: bearer, basic.
const A_B: u8 = 8;
/// `k`/`K`: token.
const A_K: u8 = 16;
/// `J`: eyJ.
const A_J: u8 = 32;
/// `v`: -vich, -vna.
const A_V: u8 = 64;
/// `h`: -chna.
const A_H: u8 = 128;

/// 0xFF if `c`, else 0: comparisons become lane masks without a multiply.
#[inline(always)]
fn mask(c: bool) -> u8 {
    0u8.wrapping_sub(u8::from(c))
}

/// The summary bits of one byte, as plain comparisons (no table lookup, so that a
/// loop over a chunk of them vectorises).
#[inline(always)]
fn bits_of(b: u8) -> u8 {
    let lower = b | 0x20;
    (mask(b == b'@') & AT)
        | ((mask(b == b'=') | mask(b == b':')) & ASSIGN)
        | (mask(b & 0xFE == 0xD0) & CYR)
        | (mask(lower == b'b') & A_B)
        | (mask(lower == b'k') & A_K)
        | (mask(b == b'J') & A_J)
        | (mask(b == b'v') & A_V)
        | (mask(b == b'h') & A_H)
}

/// Digits, in [`CLASS`] only (chunks count them separately).
const DIGIT: u16 = 256;

/// The same bits per byte, and [`DIGIT`], for short texts, where a table lookup per
/// byte is cheapest.
const CLASS: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut d = b'0';
    while d <= b'9' {
        t[d as usize] = DIGIT;
        d += 1;
    }
    t[b'@' as usize] = AT as u16;
    t[b'=' as usize] = ASSIGN as u16;
    t[b':' as usize] = ASSIGN as u16;
    t[0xD0] = CYR as u16;
    t[0xD1] = CYR as u16;
    t[b'b' as usize] = A_B as u16;
    t[b'B' as usize] = A_B as u16;
    t[b'k' as usize] = A_K as u16;
    t[b'K' as usize] = A_K as u16;
    t[b'J' as usize] = A_J as u16;
    t[b'v' as usize] = A_V as u16;
    t[b'h' as usize] = A_H as u16;
    t
};

/// Texts up to this long are scanned byte by byte with [`CLASS`] (cheaper than
/// setting up chunks for the few bytes of a typical attribute value).
const SHORT: usize = 16;

/// Scans `text` once and says which detectors could match: short texts by
/// [`masks`](crate::masks) where SSE2 is there, longer ones by the chunked pass.
#[inline]
pub(crate) fn scan(text: &[u8]) -> Hints {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    if text.len() <= crate::masks::MAX_LEN {
        // SAFETY: the only requirement of `masks::scan` is SSE2, which this build
        // targets (it is part of every x86_64 target's baseline).
        return unsafe { crate::masks::scan(text) };
    }
    scan_general(text)
}

/// The chunked pass; then confirms the anchors it saw, each with a SIMD search
/// for its letter. Its numeric gates are digit counts only.
pub(crate) fn scan_general(text: &[u8]) -> Hints {
    let mut bits = 0u8;
    let mut digits = 0u32;
    let mut rest = text;
    if text.len() > SHORT {
        // Lane-wise accumulators over 16-byte chunks: each lane ORs the bits and
        // counts the digits of its byte position, and the lanes are summed once at
        // the end, so each chunk is a few SIMD instructions with no horizontal step.
        let mut lane_bits = [0u8; CHUNK];
        let mut lane_digits = [0u8; CHUNK];
        let chunks = text.chunks_exact(CHUNK);
        rest = chunks.remainder();
        for (k, chunk) in chunks.enumerate() {
            let Ok(chunk) = <&[u8; CHUNK]>::try_from(chunk) else {
                continue;
            };
            for i in 0..CHUNK {
                lane_bits[i] |= bits_of(chunk[i]);
                lane_digits[i] += u8::from(chunk[i].wrapping_sub(b'0') < 10);
            }
            // A lane counts at most 255 before it is emptied.
            if k % 255 == 254 {
                digits += lane_digits.iter().map(|&d| u32::from(d)).sum::<u32>();
                lane_digits = [0; CHUNK];
            }
        }
        digits += lane_digits.iter().map(|&d| u32::from(d)).sum::<u32>();
        bits = lane_bits.iter().fold(0, |acc, &b| acc | b);
    }
    // The rest (all of a short value): one table lookup per byte; digits are
    // counted in a second pass only if there are any (most values have none).
    let mut rest_bits = 0u16;
    for &b in rest {
        rest_bits |= CLASS[usize::from(b)];
    }
    if rest_bits & DIGIT != 0 {
        digits += rest
            .iter()
            .map(|&b| u32::from(b.wrapping_sub(b'0') < 10))
            .sum::<u32>();
    }
    bits |= rest_bits as u8;
    let mut h = Hints {
        total_digits: digits,
        at: bits & AT != 0,
        assign: bits & ASSIGN != 0,
        cyrillic: bits & CYR != 0,
        windows: digits >= MIN_ANY_DIGITS,
        longest_run: u32::MAX,
        context: digits >= MIN_CONTEXT_DIGITS,
        ..Hints::default()
    };
    if bits & !(AT | ASSIGN) != 0 {
        confirm(text, bits, &mut h);
    }
    h
}

/// Searchers for the Latin patronymic endings, built once.
static ENDINGS: LazyLock<[Finder<'static>; 3]> = LazyLock::new(|| {
    [
        Finder::new(b"vich"),
        Finder::new(b"vna"),
        Finder::new(b"chna"),
    ]
});

/// Confirms what the summary `bits` of `text` only suggest: the words behind the
/// anchors, and upper-case Cyrillic (`Ё` = D0 81, `А`–`Я` = D0 90–AF).
fn confirm(text: &[u8], bits: u8, h: &mut Hints) {
    if bits & CYR != 0 {
        h.cyrillic_upper = memchr::memchr_iter(0xD0, text).any(|i| {
            text.get(i + 1)
                .is_some_and(|&b| b == 0x81 || b.wrapping_sub(0x90) < 0x20)
        });
    }
    if bits & A_B != 0 {
        h.auth_word = memchr::memchr2_iter(b'b', b'B', text)
            .any(|i| word_at(text, i, b"bearer") || word_at(text, i, b"basic"));
    }
    if bits & A_K != 0 && !h.auth_word {
        h.auth_word = memchr::memchr2_iter(b'k', b'K', text)
            .any(|i| i >= 2 && word_at(text, i - 2, b"token"));
    }
    if bits & A_J != 0 {
        h.jwt =
            memchr::memchr_iter(b'J', text).any(|i| i >= 2 && text.get(i - 2..i) == Some(b"ey"));
    }
    // `v` and `h` are common letters: in long texts the endings themselves are
    // searched for (one SIMD substring search each instead of a check per letter).
    let long = text.len() >= PAIR_SEARCH_FROM;
    if bits & A_V != 0 {
        h.latin_patronymic = if long {
            ENDINGS[0].find(text).is_some() || ENDINGS[1].find(text).is_some()
        } else {
            memchr::memchr_iter(b'v', text)
                .any(|i| text.get(i..i + 4) == Some(b"vich") || text.get(i..i + 3) == Some(b"vna"))
        };
    }
    if bits & A_H != 0 && !h.latin_patronymic {
        h.latin_patronymic = if long {
            ENDINGS[2].find(text).is_some()
        } else {
            memchr::memchr_iter(b'h', text)
                .any(|i| i >= 1 && text.get(i - 1..i + 3) == Some(b"chna"))
        };
    }
}

/// True if `word` occurs in `bytes` starting at `start` (ASCII case ignored).
fn word_at(bytes: &[u8], start: usize, word: &[u8]) -> bool {
    bytes
        .get(start..start + word.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(word))
}

/// Whether `passport` occurs (any case). Candidate positions come from a SIMD byte
/// search, so this costs little even on long texts. Only asked when the passport
/// context detector could run at all.
pub(crate) fn passport_word(text: &[u8]) -> bool {
    memchr::memchr2_iter(b'p', b'P', text).any(|i| passport_at(text, i))
}

/// True if `passport` (any case) starts at byte `i` of `text`: the one check of
/// the word, wherever its candidate positions come from.
#[inline]
pub(crate) fn passport_at(text: &[u8], i: usize) -> bool {
    // Eight letters, one word compare: `| 0x20` folds ASCII letters exactly (no
    // other byte folds onto one).
    text.get(i..i + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .is_some_and(|w| u64::from_le_bytes(w) | 0x2020_2020_2020_2020 == PASSPORT)
}

/// `passport`, as eight little-endian bytes.
const PASSPORT: u64 = u64::from_le_bytes(*b"passport");

/// True if `inn` (any case) starts at byte `i` of `text` and follows no letter
/// (`dinner` holds none): the one check of the word.
#[inline]
pub(crate) fn inn_at(text: &[u8], i: usize) -> bool {
    word_at(text, i, b"inn")
        && i.checked_sub(1)
            .and_then(|before| text.get(before))
            .is_none_or(|b| !b.is_ascii_alphabetic())
}

/// Texts longer than this look for `inn` by its `nn` pair (fewer hits than `i` in
/// long logs); shorter ones by `i`, which needs no searcher to be built.
const PAIR_SEARCH_FROM: usize = 256;

/// Whether `inn` (any case, not preceded by a letter) occurs. Only asked when the
/// INN context detector could run at all.
pub(crate) fn inn_word(text: &[u8]) -> bool {
    if text.len() < PAIR_SEARCH_FROM {
        return memchr::memchr2_iter(b'i', b'I', text).any(|i| inn_at(text, i));
    }
    // `inn` in any case holds one of these four pairs.
    [b"nn", b"NN", b"nN", b"Nn"].iter().any(|pair| {
        memchr::memmem::find_iter(text, pair)
            .any(|n| n.checked_sub(1).is_some_and(|i| inn_at(text, i)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_give_no_hints() {
        let h = scan_general(b"GET /api/orders/{id} took 12 ms");
        assert_eq!(
            h,
            Hints {
                total_digits: 2,
                longest_run: u32::MAX,
                ..Hints::default()
            }
        );
        assert!(h.is_clean());
    }

    #[test]
    fn digits_are_counted_in_chunks_and_tail() {
        assert_eq!(scan(b"call +7 (916) 123-45-67").total_digits, 11);
        assert_eq!(
            scan(b"a 89161234567 b 4111 1111 1111 1111 c 12").total_digits,
            29
        );
    }

    #[test]
    fn long_texts_count_every_digit_past_the_lane_limit() {
        let text = "1".repeat(16 * 300 + 7);
        assert_eq!(scan(text.as_bytes()).total_digits, 16 * 300 + 7);
    }

    #[test]
    fn words_are_seen_in_any_case_and_position() {
        assert!(scan(b"Authorization: BEARER abc").auth_word);
        assert!(scan(b"x eyJhbGci").jwt);
        assert!(scan(b"0123456789abcdex eyJhbGci").jwt);
        assert!(scan(b"x-api-token abc").auth_word);
        assert!(scan(b"Basic dXNlcjpwYXNz").auth_word);
        assert!(scan("Иван".as_bytes()).cyrillic_upper);
        assert!(!scan("иван".as_bytes()).cyrillic_upper);
        assert!(scan("иван".as_bytes()).cyrillic);
        assert!(scan(b"Ivanov Ivan Ivanovich").latin_patronymic);
        assert!(scan(b"Anna Sergeevna").latin_patronymic);
        assert!(scan(b"Vera Ilyinichna").latin_patronymic);
        // A pair split across two chunks.
        assert_eq!(scan(b"Anna Nikiti0123c hna").total_digits, 4);
        assert_eq!(scan(b"0123456789abcdef01234").total_digits, 15);
        assert!(scan(b"Vera Ilyinichnaa Ilyinichna").latin_patronymic);
    }

    #[test]
    fn context_words_need_a_word_start_for_inn() {
        assert!(passport_word(b"Passport 4508 123456"));
        assert!(!inn_word(b"Passport 4508 123456"));
        assert!(inn_word(b"INN 7707083893"));
        assert!(!inn_word(b"dinner 7707083893"));
        let long = "x".repeat(300);
        assert!(inn_word(format!("{long} iNn 7707083893").as_bytes()));
        assert!(!inn_word(format!("{long} dinner 7707083893").as_bytes()));
    }
}
