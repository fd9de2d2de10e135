//! Long texts (over 64 bytes) on `x86_64`: one pass over the bytes.
//!
//! The text is classified 64 bytes at a time into [`blocks`](crate::blocks) of bit
//! masks, and everything the detectors' gates and front ends need is derived from
//! each block while it is at hand, instead of a search over the text per class of
//! byte:
//!
//! - the prefilter's [`Hints`], exactly as [`scan_general`] gives them: digits
//!   counted by popcount, rare bytes by any bit set, and the anchor words confirmed
//!   only where an anchor letter is followed by its word's next letter, with the
//!   word checks of the short texts;
//! - the digit clusters that could hold a window ([`regions`](crate::regions)),
//!   handed to the [`Sink`] as they close;
//! - every `=` and `:`, handed to the [`Sink`] (where `password=`-style parameters
//!   are looked for);
//! - whether the context words `passport` and `inn` occur, as
//!   [`prefilter::passport_word`] and [`prefilter::inn_word`] say.
//!
//! Only three blocks are held at a time (a cluster's joiners reach into the blocks
//! on either side), so the pass allocates nothing.
//!
//! [`scan_general`]: crate::prefilter::scan_general
//! [`prefilter::passport_word`]: crate::prefilter::passport_word
//! [`prefilter::inn_word`]: crate::prefilter::inn_word

use crate::blocks::{self, Block, BLOCK};
use crate::detectors::numeric::Runs;
use crate::masks::{around_anchor, is_auth_word, is_jwt, is_latin_patronymic, positions};
use crate::prefilter::{inn_at, passport_at, Hints, MIN_ANY_DIGITS, MIN_CONTEXT_DIGITS};
use crate::regions::Regions;

/// Where the pass hands what the detectors start from, in text order within each
/// kind.
pub(crate) trait Sink {
    /// A digit cluster, bytes `from..to`, that holds enough digits for a window.
    fn region(&mut self, from: usize, to: usize);
    /// A `=` or `:` at byte `at`.
    fn assign(&mut self, at: usize);
}

/// What the pass found besides what it handed to the [`Sink`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pass {
    /// Equal to [`scan_general`](crate::prefilter::scan_general)'s.
    pub(crate) hints: Hints,
    /// The digit-run facts of the whole text, as the cluster scan reports them
    /// (`longest` as far as the gates look).
    pub(crate) runs: Runs,
    /// `passport` occurs, in any case.
    pub(crate) passport_word: bool,
    /// `inn` occurs, in any case, not preceded by a letter.
    pub(crate) inn_word: bool,
}

/// The one pass over `text` (any length; the rules use it past 64 bytes).
#[target_feature(enable = "sse2")]
pub(crate) fn scan(text: &[u8], sink: &mut impl Sink) -> Pass {
    let blocks = text.len().div_ceil(BLOCK);
    let mut prev = Block::default();
    let mut cur = if blocks > 0 {
        blocks::classify(text, 0)
    } else {
        Block::default()
    };
    let mut regions = Regions::default();
    let mut pass = Pass::default();
    let h = &mut pass.hints;
    let mut digits = 0u32;
    // Whether the rare bytes occur anywhere: only that is a hint.
    let (mut at, mut assign, mut cyrillic) = (false, 0u64, false);
    for b in 0..blocks {
        let next = if b + 1 < blocks {
            blocks::classify(text, (b + 1) * BLOCK)
        } else {
            Block::default()
        };
        let base = b * BLOCK;

        digits += cur.digit.count_ones();
        at |= cur.at;
        assign |= cur.assign;
        cyrillic |= cur.cyrillic;
        // Where a word a gate looks for can be: its anchor letter followed by
        // the word's next letter (`b`, `k`, `p` by `e` or `a`, `h` by `n`; `v`
        // and `J` are rare enough alone), which may be the next block's first
        // byte. Most `b` in hex ids and `h` and `p` in English are not. Each
        // word is then compared in the text itself, so one split across chunks
        // or blocks is found all the same.
        let ea_after = cur.ea >> 1 | next.ea << 63;
        let n_after = cur.n >> 1 | next.n << 63;
        // Only the words of the anchor's own letter are compared: its mask says
        // which they are (the short texts' one mask compares them all).
        for i in positions(cur.bkp & ea_after) {
            let i = base + i;
            if text.get(i).is_some_and(|&b| b | 0x20 == b'p') {
                pass.passport_word |= passport_at(text, i);
            } else {
                h.auth_word |= is_auth_word(around_anchor(text, i));
            }
        }
        for i in positions(cur.vj | cur.h & n_after) {
            let around = around_anchor(text, base + i);
            h.jwt |= is_jwt(around);
            h.latin_patronymic |= is_latin_patronymic(around);
        }
        if cur.cyrillic && !h.cyrillic_upper {
            let leads = blocks::cyrillic_leads(text, base);
            h.cyrillic_upper = positions(leads).any(|i| upper_cyrillic_at(text, base + i));
        }
        let nn = cur.n & n_after;
        if nn != 0 && !pass.inn_word {
            // `inn` ends in the `nn`: it starts a byte before.
            pass.inn_word =
                positions(nn).any(|i| (base + i).checked_sub(1).is_some_and(|i| inn_at(text, i)));
        }
        for i in positions(cur.assign) {
            sink.assign(base + i);
        }
        regions.block(text, &prev, &cur, &next, base, |from, to| {
            sink.region(from, to)
        });

        prev = cur;
        cur = next;
    }
    pass.runs = regions.finish(text.len(), |from, to| sink.region(from, to));
    let h = &mut pass.hints;
    h.total_digits = digits;
    h.at = at;
    h.assign = assign != 0;
    h.cyrillic = cyrillic;
    h.windows = digits >= MIN_ANY_DIGITS;
    // As the general prefilter: the cluster scan measures the runs.
    h.longest_run = u32::MAX;
    h.context = digits >= MIN_CONTEXT_DIGITS;
    pass
}

/// True if an upper-case Cyrillic letter starts at `i` (`Ё` = D0 81, `А`–`Я` =
/// D0 90–AF).
fn upper_cyrillic_at(text: &[u8], i: usize) -> bool {
    text.get(i) == Some(&0xD0)
        && text
            .get(i + 1)
            .is_some_and(|&b| b == 0x81 || b.wrapping_sub(0x90) < 0x20)
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use proptest::prelude::*;

    use super::*;
    use crate::detectors::Detector;
    use crate::prefilter::{self, scan_general};
    use crate::scan::Candidate;
    use crate::Redactor;

    /// Hands nothing on: for the pass's own findings.
    struct Ignore;

    impl Sink for Ignore {
        fn region(&mut self, _: usize, _: usize) {}
        fn assign(&mut self, _: usize) {}
    }

    fn pass_of(text: &[u8]) -> Pass {
        // SAFETY: SSE2 is part of every x86_64 target's baseline.
        unsafe { scan(text, &mut Ignore) }
    }

    /// The pass's findings against the general prefilter's and the word searches'.
    fn assert_agrees(text: &[u8]) {
        let pass = pass_of(text);
        assert_eq!(pass.hints, scan_general(text), "hints of {text:?}");
        assert_eq!(
            (pass.passport_word, pass.inn_word),
            (prefilter::passport_word(text), prefilter::inn_word(text)),
            "context words of {text:?}"
        );
    }

    #[test]
    fn words_are_found_across_every_chunk_and_block_edge() {
        let words: [&[u8]; 21] = [
            b"bearer",
            b"BEARER",
            b"Basic",
            b"token",
            b"ToKeN",
            b"eyJ",
            b"Ivanovich",
            b"Sergeevna",
            b"Ilyinichna",
            b"passport",
            b"PassPort",
            b"inn",
            b"INN",
            b" iNn",
            b"dinner",
            b"a@b",
            b"k=v",
            b"k:v",
            "Иван".as_bytes(),
            "иван Ёж".as_bytes(),
            b"7.916",
        ];
        for filler in [b'x', b'1', b' '] {
            for word in words {
                // Every offset around the edges at 16, 64 and 128, and the ends.
                for at in 0..=140 {
                    let mut text = vec![filler; 150];
                    text.splice(at..at, word.iter().copied());
                    assert_agrees(&text);
                    assert_agrees(&text[..at + word.len()]);
                    assert_agrees(&text[at..]);
                }
            }
        }
    }

    #[test]
    fn every_length_counts_every_digit() {
        for len in 0..=200 {
            assert_agrees(&vec![b'5'; len]);
            let mixed: Vec<u8> = (0..len)
                .map(|i| if i % 3 == 0 { b'5' } else { b'a' })
                .collect();
            assert_agrees(&mixed);
        }
    }

    /// Long text of the bytes every gate looks at: digits, joiners, dots, rare
    /// bytes, Cyrillic, and the anchor and context words, in pieces of random
    /// length (so that they fall across 16- and 64-byte edges).
    fn gate_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[a-zA-Z0-9 ()+.:/_=@-]{0,12}",
            "[0-9]{1,13}",
            "[ ()+.-]{1,4}",
            "[bBkKJvhpPiInNcae ]{1,6}",
            "[абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ ]{1,6}",
            "\\+?[78]?[ (.]{0,2}[0-9]{3}[) .-]{0,2}[0-9]{3}[ .-]?[0-9]{2}[ .-]?[0-9]{2}",
            "[0-9]{4}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{4}",
            "[0-9]{3}-[0-9]{3}-[0-9]{3} [0-9]{2}",
            "(passport|Passport|PASSPORT|inn|INN|dinner|ИНН|паспорт|серия) ?:? ?",
            "(bearer|Bearer|basic|token|Token|eyJ|vich|vna|chna|Ivanovich|Иван|Петрович) ?",
            "(password|pwd|api_key|token|secret|status|ts)[ ]?[=:][ ]?['\"]?[a-z0-9]{0,10}",
            "[a-z]{1,8}://[a-z]{1,5}:[a-z0-9]{1,5}@[a-z]{1,6}",
            "[a-z.]{1,8}@[a-z]{1,6}\\.ru",
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
    }

    /// Compiled once: building a redactor per case would dominate the run time.
    static DEFAULT: LazyLock<Redactor> = LazyLock::new(Redactor::default);
    static FEWER: LazyLock<Redactor> = LazyLock::new(|| {
        Redactor::builder()
            .disable(Detector::Phone)
            .disable(Detector::Card)
            .disable(Detector::Secret)
            .custom_rule("order", "ORD-[0-9]+")
            .build()
            .expect("rules compile")
    });

    /// The candidates of the general path (with the general prefilter's hints) and
    /// of the one pass, each in a fixed order.
    fn both_paths(redactor: &Redactor, text: &str) -> (Vec<Candidate>, Vec<Candidate>) {
        let rules = redactor.rules();
        let key = |c: &Candidate| (c.start, c.end, c.rule.priority());
        let mut general = Vec::new();
        rules.candidates(text, &scan_general(text.as_bytes()), &mut general);
        general.sort_unstable_by_key(key);
        let mut one_pass = Vec::new();
        let hints = rules.candidates_in_one_pass(text, &mut one_pass);
        assert_eq!(hints, scan_general(text.as_bytes()), "{text:?}");
        one_pass.sort_unstable_by_key(key);
        (general, one_pass)
    }

    #[test]
    fn the_clean_log_gives_the_general_paths_candidates() {
        // The clean log of the benchmarks: ids, timestamps, prices, versions.
        let line = "2026-11-22T10:15:30.123Z INFO GET /api/v1/orders/ORD-2026-000123 status=200 \
duration_ms=12.5 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 \
client=10.0.12.7:53412 ua=\"Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0\" order moved \
amount=12500.50 currency=RUB ts=1732233600000 build 1.2.3 sha=9f86d081884c7d659a2feaa0c55ad015 \
request 550e8400-e29b-41d4-a716-446655440000 queue orders.created depth 15 consumers 4 ";
        for copies in 1..=4 {
            let text = line.repeat(copies);
            let (general, one_pass) = both_paths(&DEFAULT, &text);
            assert_eq!(general, one_pass);
            assert!(DEFAULT.rules().matches(&text).is_empty());
        }
    }

    #[test]
    fn the_dense_workload_gives_the_general_paths_candidates() {
        let text =
            "client Иванов Иван Иванович phone +7 (916) 123-45-67 mail ivan.petrov@example.ru \
card 2200 1234 5678 9019 passport 45 08 123456 snils 112-233-445 95 inn 500100732259 \
Authorization: Bearer abcDEF123456.xyz url amqp://svc:s3cr3t@rabbit/ password=hunter2 \
tel 8.916.123.45.67 ИНН 7707083893 eyJhbGciOi.eyJzdWIi.sig Anna Sergeevna Petrova ";
        for redactor in [&*DEFAULT, &*FEWER] {
            let (general, one_pass) = both_paths(redactor, text);
            assert!(!general.is_empty());
            assert_eq!(general, one_pass);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn hints_and_words_equal_the_general_prefilters(text in gate_text()) {
            assert_agrees(text.as_bytes());
        }

        #[test]
        fn candidates_equal_the_general_paths(text in gate_text()) {
            for redactor in [&*DEFAULT, &*FEWER] {
                let (general, one_pass) = both_paths(redactor, &text);
                prop_assert_eq!(general, one_pass, "{:?}", text);
            }
        }

        /// Any text at all: no panic, and the same candidates.
        #[test]
        fn any_text_gives_the_general_paths_candidates(text in "(?s).{0,300}") {
            let (general, one_pass) = both_paths(&DEFAULT, &text);
            prop_assert_eq!(general, one_pass, "{:?}", text);
        }

        /// Any bytes at all: no panic, and the same hints.
        #[test]
        fn any_bytes_give_the_general_hints(text in proptest::collection::vec(any::<u8>(), 0..300)) {
            assert_agrees(&text);
        }
    }
}
