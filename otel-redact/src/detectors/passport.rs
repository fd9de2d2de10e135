//! Russian internal passports: a 4-digit series and a 6-digit number.
//!
//! Without context only the usual layouts are accepted — `45 08 123456` and
//! `4508 123456` (spaces only; a series of `00` is not a region). After a context word
//! (`паспорт` in any case form, `passport`, `серия`) any 10 digits in the
//! `DD DD … DDDDDD` shape are taken, with `№`, `номер`, `no.` and the like between
//! series and number: `паспорт серия 4508 № 123456`, `passport: 4508123456`.

use regex::Regex;

use super::alnum_before;
use super::numeric::Window;

pub(crate) fn is_passport(w: &Window<'_>) -> bool {
    let layout = (w.shape_is(&[2, 2, 6]) || w.shape_is(&[4, 6])) && w.seps_are_single(b" ");
    layout && w.lead == super::numeric::Lead::None && w.digits.get(..2) != Some(b"00")
}

pub(crate) const CONTEXT_PATTERN: &str = r"(?i)(?:паспорт[а-яё]*|passport|серия)[^0-9\n]{0,24}?([0-9]{2} ?[0-9]{2}[^0-9\n]{0,16}?[0-9]{6})";

/// Candidates that follow a context word, as byte ranges of series through number.
pub(crate) fn find_with_context(re: &Regex, text: &str, mut push: impl FnMut(usize, usize)) {
    for caps in re.captures_iter(text) {
        let (Some(all), Some(g)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        let followed = text
            .as_bytes()
            .get(g.end())
            .is_some_and(u8::is_ascii_alphanumeric);
        if alnum_before(text, all.start()) || followed {
            continue;
        }
        push(g.start(), g.end());
    }
}
