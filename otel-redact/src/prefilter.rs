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
    /// Byte ranges of the clusters with 9+ digits (first digit to last digit): the
    /// only places numeric detectors need to look. Past [`MAX_RANGES`] clusters the
    /// last range is stretched to cover the rest.
    pub long_clusters: [(usize, usize); MAX_RANGES],
    /// How many of `long_clusters` are in use.
    pub long_cluster_count: usize,
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
    /// `passport` (any case) was seen (only looked for when there are 10+ digits
    /// and no Cyrillic, which gates the context detectors anyway).
    pub passport_word: bool,
    /// `inn` (any case) not preceded by a letter was seen (same condition).
    pub inn_word: bool,
}

const DIGIT: u8 = 1;
const SEP: u8 = 2;
const AT: u8 = 4;
const CYR: u8 = 8;
const ASSIGN: u8 = 16;
/// Rare letters that anchor a word check: `b` (bearer, basic), `k` (token),
/// `J` (eyJ). Common letters must stay on the fast path, so words are anchored on
/// their rarest letter, not their last one.
const WORD: u8 = 32;

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
    t[b'b' as usize] = WORD;
    t[b'B' as usize] = WORD;
    t[b'k' as usize] = WORD;
    t[b'K' as usize] = WORD;
    t[b'J' as usize] = WORD;
    t
};

/// Longest run of separators that still joins two digit groups (`") "`, `" - "`).
const MAX_SEP_RUN: u32 = 3;

/// True if `word` occurs in `bytes` starting at `start` (ASCII case ignored).
fn word_at(bytes: &[u8], start: usize, word: &[u8]) -> bool {
    bytes
        .get(start..start + word.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(word))
}

/// Bytes handled in one step of the fast path.
const CHUNK: usize = 16;

/// Scans `text` once.
///
/// Fast path: a chunk of [`CHUNK`] bytes whose classes, ORed together, show nothing
/// but letters, separators and word anchors is handled without the per-byte state
/// machine (a chunk with no digit ends any digit cluster). Only chunks with digits,
/// `@`, `=`/`:` or Cyrillic go through [`scan_bytes`].
pub(crate) fn scan(text: &[u8]) -> Hints {
    let mut h = Hints::default();
    if text.len() < CHUNK {
        // Short values (most attribute values): one OR over the classes decides
        // whether the state machine is needed at all.
        let classes = text.iter().fold(0u8, |acc, &b| acc | CLASS[usize::from(b)]);
        if classes & !SEP == 0 {
            return h;
        }
    }
    let mut state = Cluster::default();
    // Consecutive chunks that need the state machine are handed to it as one run.
    let mut pending: Option<usize> = None;
    let mut offset = 0;
    for chunk in text.chunks_exact(CHUNK) {
        let classes = chunk
            .iter()
            .fold(0u8, |acc, &b| acc | CLASS[usize::from(b)]);
        if classes & !(SEP | WORD) == 0 {
            if let Some(from) = pending.take() {
                scan_bytes(text, from, offset, &mut state, &mut h);
            }
            state = Cluster::default();
            if classes & WORD != 0 {
                for (j, &b) in chunk.iter().enumerate() {
                    if CLASS[usize::from(b)] == WORD {
                        check_word(text, offset + j, b, &mut h);
                    }
                }
            }
        } else if pending.is_none() {
            pending = Some(offset);
        }
        offset += CHUNK;
    }
    scan_bytes(
        text,
        pending.unwrap_or(offset),
        text.len(),
        &mut state,
        &mut h,
    );
    if h.total_digits >= 10 && !h.cyrillic {
        // Context words only matter next to enough digits; look for them only then.
        (h.passport_word, h.inn_word) = context_words(text);
    }
    h
}

/// Digit-cluster state carried from one byte (and chunk) to the next.
#[derive(Clone, Copy, Default)]
struct Cluster {
    digits: u32,
    sep_run: u32,
    start: usize,
}

/// Digits a cluster needs before its range is recorded in [`Hints::long_clusters`].
const LONG_CLUSTER: u32 = 9;

/// Long-cluster ranges kept separately.
pub(crate) const MAX_RANGES: usize = 8;

impl Hints {
    /// The recorded long-cluster ranges.
    pub(crate) fn long_clusters(&self) -> &[(usize, usize)] {
        &self.long_clusters[..self.long_cluster_count]
    }

    fn record_long_cluster(&mut self, start: usize, end: usize) {
        let n = self.long_cluster_count;
        if n > 0 && (self.long_clusters[n - 1].0 == start || n == MAX_RANGES) {
            // Same cluster growing, or out of slots: stretch the last range.
            self.long_clusters[n - 1].1 = end;
        } else {
            self.long_clusters[n] = (start, end);
            self.long_cluster_count += 1;
        }
    }
}

fn check_word(text: &[u8], i: usize, b: u8, h: &mut Hints) {
    match b {
        b'J' => h.jwt |= i >= 2 && text.get(i - 2..i) == Some(b"ey"),
        b'b' | b'B' => h.auth_word |= word_at(text, i, b"bearer") || word_at(text, i, b"basic"),
        _ => h.auth_word |= i >= 2 && word_at(text, i - 2, b"token"),
    }
}

/// The per-byte state machine over `text[from..to]`.
fn scan_bytes(text: &[u8], from: usize, to: usize, state: &mut Cluster, h: &mut Hints) {
    let Some(bytes) = text.get(from..to) else {
        return;
    };
    for (j, &b) in bytes.iter().enumerate() {
        let class = CLASS[usize::from(b)];
        if class == 0 {
            state.digits = 0;
            continue;
        }
        if class == DIGIT {
            if state.digits == 0 {
                state.start = from + j;
            }
            state.digits += 1;
            state.sep_run = 0;
            h.total_digits += 1;
            h.max_cluster_digits = h.max_cluster_digits.max(state.digits);
            if state.digits >= LONG_CLUSTER {
                h.record_long_cluster(state.start, from + j + 1);
            }
            continue;
        }
        if class == SEP {
            state.sep_run += 1;
            if state.sep_run > MAX_SEP_RUN {
                state.digits = 0;
            }
            continue;
        }
        state.digits = 0;
        match class {
            AT => h.at = true,
            CYR => h.cyrillic = true,
            ASSIGN => h.assign = true,
            _ => check_word(text, from + j, b, h),
        }
    }
}

/// Whether `passport` and `inn` (any case; `inn` not preceded by a letter) occur.
/// Candidate positions come from a SIMD byte search, so this costs little even on
/// long texts.
fn context_words(text: &[u8]) -> (bool, bool) {
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
        let h = scan("call +7 (916) 123-45-67".as_bytes());
        assert_eq!(h.max_cluster_digits, 11);
        assert_eq!(h.long_clusters(), [(6, 23)]);
        let h = scan(b"a 89161234567 b 4111 1111 1111 1111 c 12");
        assert_eq!(h.long_clusters(), [(2, 13), (16, 35)]);
    }

    #[test]
    fn words_are_seen_in_any_case() {
        assert!(scan(b"Authorization: BEARER abc").auth_word);
        assert!(scan(b"x eyJhbGci").jwt);
        assert!(scan(b"Passport 4508 123456").passport_word);
        assert!(scan(b"INN 7707083893").inn_word);
        assert!(!scan(b"dinner 7707083893").inn_word);
        assert!(scan(b"x-api-token abc").auth_word);
        assert!(scan(b"Basic dXNlcjpwYXNz").auth_word);
        assert!(scan("Иван".as_bytes()).cyrillic);
    }
}
