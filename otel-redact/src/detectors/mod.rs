//! The built-in detectors: what each one looks for and how it tells a real value from
//! a lookalike. One file per detector; the digit-based ones (phone, passport, card,
//! SNILS, INN) share the cluster scanner in [`numeric`].

pub(crate) mod card;
pub(crate) mod email;
pub(crate) mod inn;
pub(crate) mod name;
pub(crate) mod numeric;
pub(crate) mod passport;
pub(crate) mod phone;
pub(crate) mod secret;
pub(crate) mod snils;

use crate::action::Normalise;

/// A built-in detector, for switching it off or on with
/// [`RedactorBuilder`](crate::RedactorBuilder). Its [`name`](Detector::name) is the
/// label in masks (`[REDACTED:phone]`) and in the `redaction.detector` metric
/// attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Detector {
    /// Bearer/Basic tokens, JWTs, credentials in URLs, values of `password=`-style
    /// parameters. See the `secret` module docs.
    Secret,
    /// Bank card numbers: 13–19 digits, Luhn, known issuer prefix (Visa, Mastercard,
    /// Mir 2200–2204, Amex, UnionPay, JCB, Maestro, Discover, Diners).
    Card,
    /// Russian (`+7`/`8`, also `+7.916.123.45.67`) and international (`+` and 9–15
    /// digits) phone numbers.
    Phone,
    /// SNILS (Russian pension insurance number), with its checksum.
    Snils,
    /// INN (Russian taxpayer number): 12 digits with both checksums, or 10/12 digits
    /// after the word `ИНН`/`INN`.
    Inn,
    /// Russian passport: `45 08 123456`, `4508 123456`, or any 10 digits after
    /// `паспорт`/`passport`/`серия`.
    Passport,
    /// E-mail addresses.
    Email,
    /// Full names anchored by a patronymic (`Иванов Иван Иванович`, `Иван Петрович`,
    /// transliterated `Ivanov Ivan Ivanovich`) or by two initials (`Иванов И.И.`).
    Name,
}

impl Detector {
    /// Every built-in detector, in priority order (earlier wins a tie).
    pub const ALL: [Detector; 8] = [
        Detector::Secret,
        Detector::Card,
        Detector::Phone,
        Detector::Snils,
        Detector::Inn,
        Detector::Passport,
        Detector::Email,
        Detector::Name,
    ];

    /// The detector's label: `secret`, `card`, `phone`, `snils`, `inn`, `passport`,
    /// `email`, `name`.
    pub const fn name(self) -> &'static str {
        match self {
            Detector::Secret => "secret",
            Detector::Card => "card",
            Detector::Phone => "phone",
            Detector::Snils => "snils",
            Detector::Inn => "inn",
            Detector::Passport => "passport",
            Detector::Email => "email",
            Detector::Name => "name",
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    pub(crate) const fn normalise(self) -> Normalise {
        match self {
            Detector::Secret | Detector::Name => Normalise::AsIs,
            Detector::Email => Normalise::Lowercase,
            Detector::Phone => Normalise::RussianPhone,
            Detector::Card | Detector::Snils | Detector::Inn | Detector::Passport => {
                Normalise::Digits
            }
        }
    }
}

impl std::fmt::Display for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// True if the char ending just before byte `at` is a letter (any script) or digit.
pub(crate) fn alnum_before(text: &str, at: usize) -> bool {
    text.get(..at)
        .and_then(|s| s.chars().next_back())
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// True if the char starting at byte `at` is a letter (any script) or digit.
pub(crate) fn alnum_after(text: &str, at: usize) -> bool {
    text.get(at..)
        .and_then(|s| s.chars().next())
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
}
