//! SNILS, the Russian pension insurance number: 9 digits and a 2-digit checksum,
//! written `112-233-445 95`, `112 233 445 95`, `112-233-445-95` or bare. The checksum
//! must hold: sum of digit × (9 − position), reduced mod 101, with 100 read as 00.
//! (Bare 11-digit numbers pass it about one time in a hundred; see the README's
//! accuracy notes.)

use super::numeric::{d, Lead, Window};

pub(crate) fn is_snils(w: &Window<'_>) -> bool {
    if w.digits.len() != 11 || w.lead != Lead::None {
        return false;
    }
    let layout = w.groups.len() == 1 || (w.shape_is(&[3, 3, 3, 2]) && w.seps_are_single(b" -"));
    layout && checksum_ok(w.digits)
}

pub(crate) fn checksum_ok(digits: &[u8]) -> bool {
    if digits.len() != 11 {
        return false;
    }
    let sum: u32 = digits[..9]
        .iter()
        .enumerate()
        .map(|(i, &b)| d(b) * (9 - i as u32))
        .sum();
    let mut check = sum % 101;
    if check == 100 {
        check = 0;
    }
    check == d(digits[9]) * 10 + d(digits[10])
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_snils_checksum_holds() {
        assert!(super::checksum_ok(b"11223344595"));
        assert!(!super::checksum_ok(b"11223344596"));
    }
}
