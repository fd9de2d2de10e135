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
//! - Russian with dots, exactly `+7.DDD.DDD.DD.DD` or `8.DDD.DDD.DD.DD`
//!   (`+7.916.123.45.67`); see [`find_dotted`].
//!
//! Bare 10-digit runs, 13-digit timestamps and numbers glued to words never qualify.

use super::numeric::{glued_right, Lead, Window};

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

/// Digits in a dotted phone number.
pub(crate) const DOTTED_DIGITS: u32 = 11;

/// True if the digit at byte `i` of `text` is a `7` or `8` with a dot after it:
/// the trunk a dotted phone starts with. Every gate asks it of lone digits only
/// (the cluster scan, and the masks of short and long texts).
#[inline(always)]
pub(crate) fn is_dotted_trunk(text: &[u8], i: usize) -> bool {
    matches!(text.get(i..i + 2), Some([b'7' | b'8', b'.']))
}

/// Phone numbers written with dots: `+7.916.123.45.67`, `8.916.123.45.67`.
///
/// Dots are what versions, IP addresses, dates and decimals are made of, so the
/// digit-cluster scanner treats a dot as glue and never joins groups across one. A
/// dotted number is taken only in this one shape: a `+7` or `8` trunk, then exactly
/// 3-3-2-2 digits, each group after a single dot, a code starting with 3, 4, 8 or 9,
/// and nothing glued on either side — `1.2.3`, `192.168.100.200`, `22.11.2026`,
/// `8.123.456.78.90` and `v8.916.123.45.67` stay.
pub(crate) fn find_dotted(text: &[u8], mut push: impl FnMut(usize, usize)) {
    const SHAPE: &[u8] = b".ddd.ddd.dd.dd";
    for p in memchr::memchr_iter(b'.', text) {
        let Some(trunk_at) = p.checked_sub(1) else {
            continue;
        };
        let plus = trunk_at >= 1 && text[trunk_at - 1] == b'+';
        let trunk_ok = match text[trunk_at] {
            b'8' => true,
            b'7' => plus,
            _ => false,
        };
        if !trunk_ok {
            continue;
        }
        let start = if plus { trunk_at - 1 } else { trunk_at };
        let end = p + SHAPE.len();
        let Some(rest) = text.get(p..end) else {
            continue;
        };
        let shaped = rest.iter().zip(SHAPE).all(|(&b, &s)| {
            if s == b'd' {
                b.is_ascii_digit()
            } else {
                b == s
            }
        });
        if !shaped || !local_code(rest[1]) {
            continue;
        }
        let glued_left = start
            .checked_sub(1)
            .and_then(|i| text.get(i))
            .is_some_and(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'+' | b'-'));
        if glued_left || glued_right(text, end) || text.get(end) == Some(&b'.') {
            continue;
        }
        push(start, end);
    }
}

#[cfg(test)]
mod tests {
    fn dotted(text: &str) -> Vec<&str> {
        let mut v = Vec::new();
        super::find_dotted(text.as_bytes(), |s, e| v.push(&text[s..e]));
        v
    }

    #[test]
    fn dotted_russian_numbers_are_found() {
        assert_eq!(dotted("tel +7.916.123.45.67 ok"), ["+7.916.123.45.67"]);
        assert_eq!(dotted("8.916.123.45.67"), ["8.916.123.45.67"]);
    }

    #[test]
    fn versions_addresses_and_dates_are_not_dotted_phones() {
        for text in [
            "1.2.3",
            "192.168.100.200",
            "22.11.2026",
            "8.123.456.78.90",
            "v8.916.123.45.67",
            "8.916.123.45.67.1",
            "7.916.123.45.67",
            "8.916.123.45.678",
            "1.8.916.123.45.67",
        ] {
            assert!(dotted(text).is_empty(), "{text}");
        }
    }
}
