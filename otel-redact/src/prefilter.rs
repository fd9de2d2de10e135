//! The fast path: one pass over the bytes that says which detectors could possibly
//! match. Clean text stops here, so it costs one pass and no allocation.
//!
//! The pass works on 16-byte chunks with plain comparisons that the compiler turns
//! into a handful of SIMD instructions per chunk (no table lookups, which do not
//! vectorise): it counts digits and notes rare bytes (`@`, `=`, `:`, Cyrillic lead
//! bytes) and *anchors* — the rarest letters of the words secret and name detectors
//! need (`b` of bearer/basic, `k` of token, `J` of eyJ, `v` of -vich/-vna, `ch` of
//! -chna). Only a chunk with an anchor is looked at byte by byte, to confirm the word.
//!
//! The hints are a superset test: a detector skipped by them cannot match; a detector
//! run because of them may still find nothing.

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
}

impl Hints {
    /// True if no built-in detector can match: the text is clean.
    pub(crate) fn is_clean(&self) -> bool {
        self.total_digits < MIN_ANY_DIGITS
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

/// Bytes handled in one step of the fast path.
const CHUNK: usize = 16;

// Summary bits, of a chunk and of a byte class.
const DIGIT: u8 = 1;
const AT: u8 = 2;
const ASSIGN: u8 = 4;
const CYR: u8 = 8;
const ANCHOR: u8 = 16;

/// 0xFF if `c`, else 0: comparisons become lane masks without a multiply.
#[inline(always)]
fn mask(c: bool) -> u8 {
    0u8.wrapping_sub(u8::from(c))
}

/// One chunk: its summary bits and its digits (lanes before `skip` not counted).
/// Branch-free over a fixed-size array, so that it vectorises; pairs of bytes
/// (upper-case Cyrillic, `ch`) are left to [`precise`] on the chunks that need it.
#[inline(always)]
fn summarise(cur: &[u8; CHUNK], skip: usize) -> (u8, u8) {
    let mut bits = 0u8;
    let mut digits = 0u8;
    for (i, &b) in cur.iter().enumerate() {
        let lower = b | 0x20;
        digits += mask(b.wrapping_sub(b'0') < 10) & mask(i >= skip) & 1;
        let anchor = mask(lower == b'b')
            | mask(lower == b'k')
            | mask(b == b'J')
            | mask(b == b'v')
            | mask(b == b'h');
        bits |= (mask(b == b'@') & AT)
            | ((mask(b == b'=') | mask(b == b':')) & ASSIGN)
            | (mask(b & 0xFE == 0xD0) & CYR)
            | (anchor & ANCHOR);
    }
    (bits, digits)
}

/// Byte classes for short texts, where a table lookup per byte is cheapest.
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = b'0';
    while b <= b'9' {
        t[b as usize] = DIGIT;
        b += 1;
    }
    t[b'@' as usize] = AT;
    t[b'=' as usize] = ASSIGN;
    t[b':' as usize] = ASSIGN;
    t[0xD0] = CYR;
    t[0xD1] = CYR;
    let anchors = b"bBkKJvh";
    let mut i = 0;
    while i < anchors.len() {
        t[anchors[i] as usize] = ANCHOR;
        i += 1;
    }
    t
};

/// Texts up to this long are scanned byte by byte with [`CLASS`] (cheaper than
/// setting up chunks for the few bytes of a typical attribute value).
const SHORT: usize = 48;

/// Scans `text` once.
pub(crate) fn scan(text: &[u8]) -> Hints {
    if text.len() <= SHORT {
        return scan_short(text);
    }
    let mut h = Hints::default();
    let mut bits = 0u8;
    let mut offset = 0;
    while offset < text.len() {
        // The last chunk is the last 16 bytes, overlapping the one before: its
        // repeated lanes are not counted as digits again (and seeing their other bits
        // twice changes nothing).
        let start = offset.min(text.len() - CHUNK);
        let skip = offset - start;
        let Some(Ok(cur)) = text.get(start..start + CHUNK).map(<&[u8; CHUNK]>::try_from) else {
            break;
        };
        let (b, d) = summarise(cur, skip);
        h.total_digits += u32::from(d);
        if b & (ANCHOR | CYR) != 0 {
            precise(text, start, start + CHUNK, b, &mut h);
        }
        bits |= b;
        offset = start + CHUNK;
    }
    h.at = bits & AT != 0;
    h.assign = bits & ASSIGN != 0;
    h.cyrillic = bits & CYR != 0;
    h
}

/// [`scan`] for short texts (most attribute values): a table lookup per byte.
fn scan_short(text: &[u8]) -> Hints {
    let mut h = Hints::default();
    let mut bits = 0u8;
    for &b in text {
        let class = CLASS[usize::from(b)];
        bits |= class;
        h.total_digits += u32::from(class & DIGIT);
    }
    h.at = bits & AT != 0;
    h.assign = bits & ASSIGN != 0;
    h.cyrillic = bits & CYR != 0;
    if bits & (ANCHOR | CYR) != 0 {
        precise(text, 0, text.len(), bits, &mut h);
    }
    h
}

/// Byte by byte over `text[from..to]`, whose summary bits are `bits`: confirms the
/// words behind the anchors and looks for upper-case Cyrillic (`Ё` = D0 81, `А`–`Я`
/// = D0 90–AF).
fn precise(text: &[u8], from: usize, to: usize, bits: u8, h: &mut Hints) {
    let Some(bytes) = text.get(from..to) else {
        return;
    };
    if bits & CYR != 0 && !h.cyrillic_upper {
        let mut prev = from.checked_sub(1).and_then(|i| text.get(i)).copied();
        for &b in bytes {
            if prev == Some(0xD0) && (b == 0x81 || b.wrapping_sub(0x90) < 0x20) {
                h.cyrillic_upper = true;
                break;
            }
            prev = Some(b);
        }
    }
    if bits & ANCHOR == 0 {
        return;
    }
    for (j, &b) in bytes.iter().enumerate() {
        if CLASS[usize::from(b)] != ANCHOR {
            continue;
        }
        let i = from + j;
        match b {
            b'J' => h.jwt |= i >= 2 && text.get(i - 2..i) == Some(b"ey"),
            b'b' | b'B' => h.auth_word |= word_at(text, i, b"bearer") || word_at(text, i, b"basic"),
            b'k' | b'K' => h.auth_word |= i >= 2 && word_at(text, i - 2, b"token"),
            b'v' => {
                h.latin_patronymic |=
                    text.get(i..i + 4) == Some(b"vich") || text.get(i..i + 3) == Some(b"vna")
            }
            _ => h.latin_patronymic |= i >= 1 && text.get(i - 1..i + 3) == Some(b"chna"),
        }
    }
}

/// True if `word` occurs in `bytes` starting at `start` (ASCII case ignored).
fn word_at(bytes: &[u8], start: usize, word: &[u8]) -> bool {
    bytes
        .get(start..start + word.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(word))
}

/// Whether `passport` and `inn` (any case; `inn` not preceded by a letter) occur.
/// Candidate positions come from a SIMD byte search, so this costs little even on
/// long texts. Only asked when the context detectors could run at all.
pub(crate) fn context_words(text: &[u8]) -> (bool, bool) {
    let passport = memchr::memchr2_iter(b'p', b'P', text).any(|i| word_at(text, i, b"passport"));
    let inn = memchr::memchr2_iter(b'i', b'I', text)
        .any(|i| word_at(text, i, b"inn") && (i == 0 || !text[i - 1].is_ascii_alphabetic()));
    (passport, inn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_give_no_hints() {
        let h = scan(b"GET /api/orders/{id} took 12 ms");
        assert_eq!(
            h,
            Hints {
                total_digits: 2,
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
        assert_eq!(context_words(b"Passport 4508 123456"), (true, false));
        assert_eq!(context_words(b"INN 7707083893"), (false, true));
        assert_eq!(context_words(b"dinner 7707083893"), (false, false));
    }
}
