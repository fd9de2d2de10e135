//! Bank card numbers (PAN).
//!
//! A window is a card number when it has 13–19 digits, is written bare or in groups
//! of at least three digits (the last may have two) joined by single spaces or dashes, passes the Luhn
//! check, *and* starts with a known issuer prefix for its length:
//!
//! | issuer | prefix | digits |
//! | --- | --- | --- |
//! | Visa | 4 | 13, 16, 19 |
//! | Mir | 2200–2204 | 16–19 |
//! | Mastercard | 51–55, 2221–2720 | 16 |
//! | American Express | 34, 37 | 15 |
//! | UnionPay | 62 | 16–19 |
//! | JCB | 3528–3589 | 16–19 |
//! | Discover | 6011, 644–649, 65 | 16–19 |
//! | Diners Club | 300–305, 36, 38, 39 | 14–19 |
//! | Maestro | 50, 56–58, 639, 67 | 13–19 |
//!
//! The prefix rule is what keeps millisecond timestamps safe: a 13-digit
//! `1732233600000` passes Luhn one time in ten, but no issuer uses a leading `1`, and
//! 13 digits are accepted for Visa (`4…`) only — a timestamp that starts with `4`
//! is in the year 2096.

use super::numeric::{d, Lead, Window};

pub(crate) fn is_card(w: &Window<'_>) -> bool {
    let n = w.digits.len();
    if !(13..=19).contains(&n) || w.lead != Lead::None {
        return false;
    }
    if w.groups.len() > 1 && (!w.seps_are_single(b" -") || !card_grouping(w)) {
        return false;
    }
    issuer_accepts(w.digits) && luhn(w.digits)
}

/// Groups of at least three digits; the last may have two (`6222 0000 0000 0000 09`).
fn card_grouping(w: &Window<'_>) -> bool {
    let last = w.groups.len() - 1;
    w.group_lens()
        .enumerate()
        .all(|(i, l)| l >= 3 || (i == last && l >= 2))
}

/// The Luhn checksum over ASCII digits.
pub(crate) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0;
    for (i, &b) in digits.iter().rev().enumerate() {
        let mut v = d(b);
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

fn prefix(digits: &[u8], len: usize) -> u32 {
    digits.iter().take(len).fold(0, |acc, &b| acc * 10 + d(b))
}

fn issuer_accepts(digits: &[u8]) -> bool {
    let n = digits.len();
    let p1 = prefix(digits, 1);
    let p2 = prefix(digits, 2);
    let p3 = prefix(digits, 3);
    let p4 = prefix(digits, 4);
    let visa = p1 == 4 && matches!(n, 13 | 16 | 19);
    let mir = (2200..=2204).contains(&p4) && n >= 16;
    let mastercard = ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && n == 16;
    let amex = matches!(p2, 34 | 37) && n == 15;
    let unionpay = p2 == 62 && n >= 16;
    let jcb = (3528..=3589).contains(&p4) && n >= 16;
    let discover = (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65) && n >= 16;
    let diners = ((300..=305).contains(&p3) || matches!(p2, 36 | 38 | 39)) && n >= 14;
    let maestro = (matches!(p2, 50 | 56 | 57 | 58 | 67) || p3 == 639) && n >= 13;
    visa || mir || mastercard || amex || unionpay || jcb || discover || diners || maestro
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_known_test_numbers() {
        assert!(luhn(b"4111111111111111"));
        assert!(luhn(b"2200000000000004"));
        assert!(!luhn(b"4111111111111112"));
    }

    #[test]
    fn timestamp_prefix_is_not_an_issuer() {
        // 1732233600003 passes Luhn, but no issuer starts with 1.
        assert!(luhn(b"1732233600003"));
        assert!(!issuer_accepts(b"1732233600003"));
    }

    #[test]
    fn mir_range_is_2200_to_2204() {
        assert!(issuer_accepts(b"2204000000000000"));
        assert!(!issuer_accepts(b"2205000000000000"));
    }
}
