//! INN, the Russian taxpayer number.
//!
//! - A bare 12-digit number (a person's INN) with both check digits valid.
//! - 10 or 12 digits after `ИНН`/`INN` (any case), with the check digits valid.
//!
//! A bare 10-digit number is never taken as an INN: its single check digit passes
//! one number in ten, which would mangle Unix timestamps in seconds; 10-digit INNs
//! belong to companies and are found with the context word.

use regex::Regex;

use super::alnum_before;
use super::numeric::{d, Lead, Window};

pub(crate) fn is_inn(w: &Window<'_>) -> bool {
    w.digits.len() == 12 && w.groups.len() == 1 && w.lead == Lead::None && checksum_ok(w.digits)
}

pub(crate) const CONTEXT_PATTERN: &str = r"(?i)(?:инн|inn)[^0-9\n\p{L}]{0,8}([0-9]{12}|[0-9]{10})";

/// Candidates after a context word, as byte ranges of the digits.
pub(crate) fn find_with_context(re: &Regex, text: &str, mut push: impl FnMut(usize, usize)) {
    for caps in re.captures_iter(text) {
        let (Some(all), Some(g)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        let digits = &text.as_bytes()[g.start()..g.end()];
        let followed = text
            .as_bytes()
            .get(g.end())
            .is_some_and(u8::is_ascii_alphanumeric);
        if alnum_before(text, all.start()) || followed || !checksum_ok(digits) {
            continue;
        }
        push(g.start(), g.end());
    }
}

fn weighted(digits: &[u8], weights: &[u32]) -> u32 {
    let sum: u32 = digits.iter().zip(weights).map(|(&b, w)| d(b) * w).sum();
    sum % 11 % 10
}

pub(crate) fn checksum_ok(digits: &[u8]) -> bool {
    const W10: [u32; 9] = [2, 4, 10, 3, 5, 9, 4, 6, 8];
    const W11: [u32; 10] = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
    const W12: [u32; 11] = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
    match digits.len() {
        10 => weighted(digits, &W10) == d(digits[9]),
        12 => weighted(digits, &W11) == d(digits[10]) && weighted(digits, &W12) == d(digits[11]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_inns_pass_their_checksums() {
        assert!(super::checksum_ok(b"7707083893"));
        assert!(super::checksum_ok(b"500100732259"));
        assert!(!super::checksum_ok(b"7707083894"));
    }
}
