//! Phone numbers.
//!
//! Accepted windows (digits counted without separators):
//! - Russian, 11 digits: `+7…`, `8…`, or `7…` when written in groups or as a bare
//!   `79…` mobile number; the code after the country digit starts with 3, 4, 8 or 9
//!   (`+7 (916) 123-45-67`, `8-916-123-45-67`, `89161234567`, `8 800 555 35 35`).
//! - Russian without the country digit, 10 digits, only when formatted: a bracketed
//!   code `(916) 123-45-67` or the `916 123-45-67` grouping.
//! - International E.164: a leading `+`, 9–15 digits (`+44 20 7946 0958`).
//!
//! Bare 10-digit runs, 13-digit timestamps and numbers glued to words never qualify.

use super::numeric::{Lead, Window};

pub(crate) fn is_phone(w: &Window<'_>) -> bool {
    let n = w.digits.len();
    let first = w.digits.first().copied().unwrap_or(b'0');
    let second = w.digits.get(1).copied().unwrap_or(b'0');
    let grouped = w.groups.len() > 1;
    match w.lead {
        Lead::Plus if first == b'7' => n == 11 && matches!(second, b'3' | b'4' | b'8' | b'9'),
        Lead::Plus => (9..=15).contains(&n),
        Lead::Paren => n == 10 && grouped && w.group_lens().next() == Some(3) && local_code(first),
        Lead::None => match n {
            11 => {
                let trunk = first == b'8' || (first == b'7' && (grouped || second == b'9'));
                trunk && matches!(second, b'3' | b'4' | b'8' | b'9')
            }
            10 => w.shape_is(&[3, 3, 2, 2]) && w.seps_are_single(b" -") && local_code(first),
            _ => false,
        },
    }
}

fn local_code(first: u8) -> bool {
    matches!(first, b'3' | b'4' | b'8' | b'9')
}
