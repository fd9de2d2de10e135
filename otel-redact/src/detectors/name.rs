//! Full names, anchored by a patronymic or by initials.
//!
//! **Cyrillic.** A patronymic is a capitalised word ending in `-ович`, `-евич`,
//! `-ьич`, `-овна`, `-евна`, `-ична`, `-инична` (and their case forms: `Ивановича`,
//! `Петровной`). Accepted: *surname given patronymic* (`Иванов Иван Иванович`),
//! *given patronymic* (`Иван Петрович`), and *given patronymic surname* when the last
//! word has a surname ending (`Анна Сергеевна Петрова`). With initials, two of them
//! and a word with a surname ending (`-ов`, `-ева`, `-ин`, `-ский`, `-ко`, …, and
//! their case forms): `Иванов И.И.`, `И. И. Иванов`, `Петровой А.С.`. Without a
//! patronymic or initials nothing is taken: `Улица Ленина`, `Москва Сити` and single
//! capitalised words stay. A capitalised word right before a name (`Клиент Иван
//! Петрович`) is read as a surname and masked too: over-masking one word is the price
//! of catching *surname given patronymic*.
//!
//! **Latin script.** Transliterated names in the same three shapes, where the
//! patronymic ends in `-ovich`, `-evich`, `-ovna`, `-evna` or `-ichna`
//! (`Ivanov Ivan Ivanovich`, `Anna Sergeevna Petrova`, `Dmitry Olegovich`). These
//! endings hardly occur in English words, which keeps the rule precise; one
//! capitalised word before a patronymic is still needed (`Ivanovich` alone stays).

use regex::Regex;

use super::{alnum_after, alnum_before};

/// A Cyrillic surname: a capitalised word with a surname ending, in any case form.
macro_rules! cyrillic_surname {
    () => {
        concat!(
            r"[А-ЯЁ][а-яё]*(?:",
            r"(?:ов|ев|ёв|ин|ын)(?:а|у|ым|ой|ою|е)?",
            r"|(?:ск|цк)(?:ий|ая|ого|ому|им|ой|ую)",
            r"|ко|ук|юк|ян|дзе|швили|их|ых",
            r")(?:-[А-ЯЁ][а-яё]+)?"
        )
    };
}

/// Two initials, `И.И.` or `И. И.`.
macro_rules! initials {
    () => {
        r"[А-ЯЁ]\.[ \t]?[А-ЯЁ]\."
    };
}

// Longer alternatives first: the regex prefers the first alternative that matches,
// and `Петров` must not stop short of `Петрова`.
pub(crate) const PATTERN: &str = concat!(
    // Surname given patronymic [surname].
    r"(?:[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?\s+)?",
    r"[А-ЯЁ][а-яё]+\s+",
    r"[А-ЯЁ][а-яё]+(?:ович|евич|ьич|овн|евн|ичн)[а-яё]{0,3}",
    r"(?:\s+[А-ЯЁ][а-яё]*(?:ова|ева|ёва|ина|ына|ская|цкая|ский|цкий|ов|ев|ёв|ин|ын|ко|ук|юк|ян|дзе|швили|их|ых))?",
    // Surname and initials, either order.
    r"|",
    cyrillic_surname!(),
    r"[ \t]+",
    initials!(),
    r"|",
    initials!(),
    r"[ \t]?",
    cyrillic_surname!(),
);

/// Transliterated names with a patronymic.
pub(crate) const LATIN_PATTERN: &str = concat!(
    r"(?:[A-Z][a-z]+(?:-[A-Z][a-z]+)?[ \t]+)?",
    r"[A-Z][a-z]+[ \t]+",
    r"[A-Z][a-z]+(?:ovich|evich|ovna|evna|ichna)",
    r"(?:[ \t]+[A-Z][a-z]*(?:skaya|tskaya|skiy|skii|sky|ova|eva|ina|yna|ov|ev|in|yn|ko|uk|yuk|yan|dze|shvili|ikh|ykh))?",
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
    use regex::Regex;

    fn found(pattern: &str, text: &str) -> Vec<String> {
        let re = Regex::new(pattern).unwrap();
        let mut v = Vec::new();
        super::find(&re, text, |s, e| v.push(text[s..e].to_owned()));
        v
    }

    #[test]
    fn given_patronymic_surname_is_one_match() {
        assert_eq!(
            found(super::PATTERN, "Анна Сергеевна Петрова"),
            ["Анна Сергеевна Петрова"]
        );
    }

    #[test]
    fn initials_either_side_of_the_surname() {
        for name in [
            "Иванов И.И.",
            "И.И. Иванов",
            "Иванов И. И.",
            "Петровой А.С.",
        ] {
            assert_eq!(found(super::PATTERN, &format!("от {name} ждём")), [name]);
        }
        assert!(found(super::PATTERN, "Москва Т.Е. Сити").is_empty());
    }

    #[test]
    fn latin_names_need_a_patronymic() {
        assert_eq!(
            found(super::LATIN_PATTERN, "to Ivanov Ivan Ivanovich today"),
            ["Ivanov Ivan Ivanovich"]
        );
        assert_eq!(
            found(super::LATIN_PATTERN, "Anna Sergeevna Petrova"),
            ["Anna Sergeevna Petrova"]
        );
        assert!(found(super::LATIN_PATTERN, "Ivanovich and Munich Sandwich").is_empty());
    }
}
