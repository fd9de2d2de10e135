//! The fast path: one pass over the bytes that says which detectors could possibly
//! match. Clean text (no long digit runs, no `@`, no Cyrillic, no `=`/`:`, no
//! `Bearer`/`eyJ`) stops here, so it costs one byte scan and no allocation.
//!
//! The hints are a superset test: a detector skipped by them cannot match; a detector
//! run because of them may still find nothing.

/// What one pass over a text found, in terms the detectors' gates need.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Hints {
    /// The most digits in one run of digits joined by short runs of ` -()+`.
    pub max_cluster_digits: u32,
    /// All ASCII digits in the text.
    pub total_digits: u32,
    /// An `@` was seen (e-mail, credentials in a URL).
    pub at: bool,
    /// A lead byte of a Cyrillic letter (`0xD0`/`0xD1`) was seen.
    pub cyrillic: bool,
    /// `=` or `:` was seen (`password=`-style parameters).
    pub assign: bool,
    /// `eyJ` was seen (the start of a JWT).
    pub jwt: bool,
    /// `bearer`, `basic` or `token` (any case) was seen.
    pub auth_word: bool,
    /// `passport` (any case) was seen.
    pub passport_word: bool,
    /// `inn` (any case) not preceded by a letter was seen.
    pub inn_word: bool,
}

const DIGIT: u8 = 1;
const SEP: u8 = 2;
const AT: u8 = 4;
const CYR: u8 = 8;
const ASSIGN: u8 = 16;
/// Last byte of a word we look back for: `J` (eyJ), `r` (bearer), `c` (basic),
/// `n` (token, inn), `t` (passport).
const WORD_END: u8 = 32;

const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = b'0';
    while b <= b'9' {
        t[b as usize] = DIGIT;
        b += 1;
    }
    t[b' ' as usize] = SEP;
    t[b'-' as usize] = SEP;
    t[b'(' as usize] = SEP;
    t[b')' as usize] = SEP;
    t[b'+' as usize] = SEP;
    t[b'@' as usize] = AT;
    t[0xD0] = CYR;
    t[0xD1] = CYR;
    t[b'=' as usize] = ASSIGN;
    t[b':' as usize] = ASSIGN;
    t[b'J' as usize] = WORD_END;
    t[b'r' as usize] = WORD_END;
    t[b'R' as usize] = WORD_END;
    t[b'c' as usize] = WORD_END;
    t[b'C' as usize] = WORD_END;
    t[b'n' as usize] = WORD_END;
    t[b'N' as usize] = WORD_END;
    t[b't' as usize] = WORD_END;
    t[b'T' as usize] = WORD_END;
    t
};

/// Longest run of separators that still joins two digit groups (`") "`, `" - "`).
const MAX_SEP_RUN: u32 = 3;

fn ends_with_ignore_case(bytes: &[u8], end: usize, word: &[u8]) -> bool {
    end + 1 >= word.len() && bytes[end + 1 - word.len()..=end].eq_ignore_ascii_case(word)
}

/// Scans `text` once.
pub(crate) fn scan(text: &[u8]) -> Hints {
    let mut h = Hints::default();
    let mut cluster = 0u32;
    let mut sep_run = 0u32;
    for (i, &b) in text.iter().enumerate() {
        let class = CLASS[usize::from(b)];
        if class == 0 {
            cluster = 0;
            continue;
        }
        if class == DIGIT {
            cluster += 1;
            sep_run = 0;
            h.total_digits += 1;
            if cluster > h.max_cluster_digits {
                h.max_cluster_digits = cluster;
            }
            continue;
        }
        if class == SEP {
            sep_run += 1;
            if sep_run > MAX_SEP_RUN {
                cluster = 0;
            }
            continue;
        }
        cluster = 0;
        match class {
            AT => h.at = true,
            CYR => h.cyrillic = true,
            ASSIGN => h.assign = true,
            _ => match b {
                b'J' => h.jwt |= i >= 2 && &text[i - 2..i] == b"ey",
                b'r' | b'R' => h.auth_word |= ends_with_ignore_case(text, i, b"bearer"),
                b'c' | b'C' => h.auth_word |= ends_with_ignore_case(text, i, b"basic"),
                b'n' | b'N' => {
                    h.auth_word |= ends_with_ignore_case(text, i, b"token");
                    h.inn_word |= ends_with_ignore_case(text, i, b"inn")
                        && (i < 3 || !text[i - 3].is_ascii_alphabetic());
                }
                _ => h.passport_word |= ends_with_ignore_case(text, i, b"passport"),
            },
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_give_no_hints() {
        assert_eq!(
            scan(b"GET /api/orders/{id} took 12 ms"),
            Hints {
                max_cluster_digits: 2,
                total_digits: 2,
                ..Hints::default()
            }
        );
    }

    #[test]
    fn formatted_phone_is_one_cluster() {
        let h = scan("+7 (916) 123-45-67".as_bytes());
        assert_eq!(h.max_cluster_digits, 11);
    }

    #[test]
    fn words_are_seen_in_any_case() {
        assert!(scan(b"Authorization: BEARER abc").auth_word);
        assert!(scan(b"x eyJhbGci").jwt);
        assert!(scan(b"Passport 4508").passport_word);
        assert!(scan(b"INN 7707083893").inn_word);
        assert!(!scan(b"dinner").inn_word);
        assert!(scan("Иван".as_bytes()).cyrillic);
    }
}
