//! Secrets in free text. Only the secret part is replaced, so the text stays
//! readable:
//!
//! | form | example | replaced |
//! | --- | --- | --- |
//! | bearer/basic token | `Authorization: Bearer abc.def` | the token |
//! | JWT | `eyJhbGciOi….eyJzdWIi….sig` | the whole token |
//! | credentials in a URL | `amqp://user:pass@host/vhost` | `user:pass` |
//! | `password=`-style parameter | `?token=abc&x=1`, `"password": "x"` | the value |
//!
//! Parameter names: `password`, `passwd`, `pwd`, `pass`, `passphrase`, `secret`,
//! `client_secret`, `token`, `access_token`, `refresh_token`, `id_token`, `api_key`,
//! `apikey`, `api-key`, `x-api-key`, `sessionid`, `session_id`, `private_key`,
//! `auth` — whole words only, optionally prefixed (`db.password`, `user_pwd`), so
//! `compass=north` stays.

use regex::Regex;

use super::alnum_before;

const BEARER: &str = r"(?i)(?-u:\b)(?:bearer|basic|token)[ \t]+([A-Za-z0-9\-._~+/]{8,}=*)";
const JWT: &str = r"(eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*)";
const URL_CREDENTIALS: &str = r"(?i)[a-z][a-z0-9+.\-]*://([^/\s:@]+:[^/\s@]*)@";
/// Parameter names whose value is a secret, by their last two letters, so an
/// identifier is compared only with the few names it could be: `trace_id` with
/// two, `status`, `client` or `currency` with none. Matched at the end of the
/// identifier before `=`/`:`, whole or after a `_`, `.` or `-` (`db.password`,
/// `user_pwd`).
fn names_ending_in(last_two: [u8; 2]) -> &'static [&'static str] {
    match &last_two {
        b"rd" => &["password"],
        b"wd" => &["passwd", "pwd"],
        b"id" => &["sessionid", "session_id"],
        b"ss" => &["pass"],
        b"se" => &["passphrase"],
        b"et" => &["secret", "client_secret"],
        b"en" => &["token", "access_token", "refresh_token", "id_token"],
        b"ey" => &["api_key", "apikey", "api-key", "x-api-key", "private_key"],
        b"th" => &["auth"],
        _ => &[],
    }
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

fn is_value_end(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'&' | b';' | b',' | b'"' | b'\'' | b'<' | b'>')
}

/// `password=`-style parameters: for every `=` or `:`, the identifier before it
/// (optionally quoted) is checked against [`names_ending_in`], and the value after it
/// (optionally quoted, up to whitespace or `&;,"'<>`) is the candidate. A hand scan
/// rather than a regex: it only does work at `=`/`:`, which keeps clean key=value
/// logs cheap.
pub(crate) fn find_parameters(text: &str, mut push: impl FnMut(usize, usize)) {
    for p in memchr::memchr2_iter(b'=', b':', text.as_bytes()) {
        if let Some((start, end)) = parameter_at(text, p) {
            push(start, end);
        }
    }
}

/// The value of the `password=`-style parameter whose `=` or `:` is byte `p` of
/// `text`, as [`find_parameters`] finds it; `None` if the name before it is not
/// a secret's (or `p` is no `=`/`:`).
pub(crate) fn parameter_at(text: &str, p: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let b = at(p);
    if b != b'=' && b != b':' {
        return None;
    }
    // Name: skip blanks and a closing quote, then take identifier bytes.
    let mut end = p;
    while end > 0 && matches!(at(end - 1), b' ' | b'\t') {
        end -= 1;
    }
    if end > 0 && matches!(at(end - 1), b'"' | b'\'') {
        end -= 1;
    }
    // Most names (`status`, `duration_ms`, a timestamp's `10`) end in letters no
    // secret name ends in: decided before walking back over the name. Every
    // name's last two bytes are letters, so `| 0x20` folds them exactly (no other
    // byte folds onto a letter); a name shorter than two bytes is no secret's.
    let before = end.checked_sub(2)?;
    let candidates = names_ending_in([at(before) | 0x20, at(before + 1) | 0x20]);
    if candidates.is_empty() {
        return None;
    }
    // The name is the identifier ending at `end`; a secret name matches its
    // end, whole or after `_`, `.` or `-` — decided from the suffix alone,
    // without walking back over the whole name.
    let named = candidates.iter().any(|k| {
        let k = k.as_bytes();
        let Some(from) = end.checked_sub(k.len()) else {
            return false;
        };
        bytes
            .get(from..end)
            .is_some_and(|n| n.eq_ignore_ascii_case(k))
            && from
                .checked_sub(1)
                .is_none_or(|i| matches!(at(i), b'_' | b'.' | b'-') || !is_ident(at(i)))
    });
    if !named {
        return None;
    }
    // Value: skip blanks and an opening quote, then up to a delimiter.
    let mut v = p + 1;
    while v < bytes.len() && matches!(at(v), b' ' | b'\t') {
        v += 1;
    }
    if v < bytes.len() && matches!(at(v), b'"' | b'\'') {
        v += 1;
    }
    let mut v_end = v;
    while v_end < bytes.len() && !is_value_end(at(v_end)) {
        v_end += 1;
    }
    // `//` right after `:` is a URL scheme, not a value.
    if b == b':' && bytes.get(v..v + 2) == Some(b"//") {
        return None;
    }
    (v_end > v && text.is_char_boundary(v) && text.is_char_boundary(v_end)).then_some((v, v_end))
}

/// The compiled secret patterns; each has the part to replace as group 1.
#[derive(Debug, Clone)]
pub(crate) struct SecretPatterns {
    bearer: Regex,
    jwt: Regex,
    url_credentials: Regex,
}

impl SecretPatterns {
    pub(crate) fn new() -> Result<Self, regex::Error> {
        Ok(SecretPatterns {
            bearer: Regex::new(BEARER)?,
            jwt: Regex::new(JWT)?,
            url_credentials: Regex::new(URL_CREDENTIALS)?,
        })
    }

    /// Every secret candidate in `text` the hints allow.
    pub(crate) fn find(
        &self,
        text: &str,
        hints: &crate::prefilter::Hints,
        mut push: impl FnMut(usize, usize),
    ) {
        self.find_patterns(text, hints, &mut push);
        if hints.assign {
            find_parameters(text, push);
        }
    }

    /// [`SecretPatterns::find`] but for `password=`-style parameters: for a caller
    /// that has the `=`/`:` positions already and asks [`parameter_at`] at each.
    pub(crate) fn find_patterns(
        &self,
        text: &str,
        hints: &crate::prefilter::Hints,
        mut push: impl FnMut(usize, usize),
    ) {
        let mut run = |re: &Regex| {
            for caps in re.captures_iter(text) {
                let (Some(all), Some(g)) = (caps.get(0), caps.get(1)) else {
                    continue;
                };
                if alnum_before(text, all.start()) {
                    continue;
                }
                if g.start() < g.end() {
                    push(g.start(), g.end());
                }
            }
        };
        if hints.auth_word {
            run(&self.bearer);
        }
        if hints.jwt {
            run(&self.jwt);
        }
        if hints.at && hints.assign {
            run(&self.url_credentials);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every parameter name the module docs list.
    const NAMES: [&str; 19] = [
        "password",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "secret",
        "client_secret",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "api_key",
        "apikey",
        "api-key",
        "x-api-key",
        "sessionid",
        "session_id",
        "private_key",
        "auth",
    ];

    #[test]
    fn every_name_is_listed_once_under_its_last_two_letters() {
        let mut listed = 0;
        for a in b'a'..=b'z' {
            for b in b'a'..=b'z' {
                for name in names_ending_in([a, b]) {
                    assert!(name.as_bytes().ends_with(&[a, b]), "{name} under {a}{b}");
                    listed += 1;
                }
            }
        }
        assert_eq!(listed, NAMES.len());
        for name in NAMES {
            let last_two = name.as_bytes().get(name.len() - 2..).unwrap_or_default();
            let found = <[u8; 2]>::try_from(last_two).map(names_ending_in);
            assert!(found.is_ok_and(|names| names.contains(&name)), "{name}");
        }
    }

    fn parameters(text: &str) -> Vec<&str> {
        let mut found = Vec::new();
        find_parameters(text, |s, e| found.push(&text[s..e]));
        found
    }

    #[test]
    fn values_of_secret_names_only_are_found() {
        assert_eq!(parameters("db.password=hunter2&x=1"), ["hunter2"]);
        assert_eq!(parameters(r#"{"User_PWD": "s3cr3t"}"#), ["s3cr3t"]);
        assert_eq!(parameters("X-Api-Key : 'abc' trace_id=42"), ["abc"]);
        assert_eq!(parameters("session_id=1; sessionid=2"), ["1", "2"]);
        for clean in [
            "compass=north",
            "status=200 client=10.0.0.1:443",
            "token://host",
            "pwd=",
            "=x",
            "d=x",
            "id=x",
            ":",
        ] {
            assert!(parameters(clean).is_empty(), "{clean}");
        }
    }
}
