//! Full names in Cyrillic, anchored by a patronymic.
//!
//! A patronymic is a capitalised word ending in `-ович`, `-евич`, `-ьич`, `-овна`,
//! `-евна`, `-ична`, `-инична` (and their case forms: `Ивановича`, `Петровной`).
//! Accepted: *surname given patronymic* (`Иванов Иван Иванович`), *given patronymic*
//! (`Иван Петрович`), and *given patronymic surname* when the last word has a
//! surname ending (`Анна Сергеевна Петрова`). Without a patronymic nothing is taken:
//! `Улица Ленина`, `Москва Сити` and single capitalised words stay. A capitalised word
//! right before a name (`Клиент Иван Петрович`) is read as a surname and masked too:
//! over-masking one word is the price of catching *surname given patronymic*.

use regex::Regex;

use super::{alnum_after, alnum_before};

// Longer alternatives first: the regex prefers the first alternative that matches,
// and `Петров` must not stop short of `Петрова`.
pub(crate) const PATTERN: &str = concat!(
    r"(?:[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?\s+)?",
    r"[А-ЯЁ][а-яё]+\s+",
    r"[А-ЯЁ][а-яё]+(?:ович|евич|ьич|овн|евн|ичн)[а-яё]{0,3}",
    r"(?:\s+[А-ЯЁ][а-яё]*(?:ова|ева|ёва|ина|ына|ская|цкая|ский|цкий|ов|ев|ёв|ин|ын|ко|ук|юк|ян|дзе|швили|их|ых))?",
);

pub(crate) fn find(re: &Regex, text: &str, mut push: impl FnMut(usize, usize)) {
    for m in re.find_iter(text) {
        if alnum_before(text, m.start()) || alnum_after(text, m.end()) {
            continue;
        }
        push(m.start(), m.end());
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn given_patronymic_surname_is_one_match() {
        let re = regex::Regex::new(super::PATTERN).unwrap();
        let m = re
            .find("Анна Сергеевна Петрова")
            .map(|m| m.as_str().to_owned());
        assert_eq!(m.as_deref(), Some("Анна Сергеевна Петрова"));
    }
}
