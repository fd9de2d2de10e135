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
/// Parameter names whose value is a secret, by their last letter (so an identifier
/// is compared only with the few names it could be). Matched at the end of the
/// identifier before `=`/`:`, whole or after a `_`, `.` or `-` (`db.password`,
/// `user_pwd`).
fn names_ending_in(last: u8) -> &'static [&'static str] {
    match last {
        b'd' => &["password", "passwd", "pwd", "sessionid", "session_id"],
        b's' => &["pass"],
        b'e' => &["passphrase"],
        b't' => &["secret", "client_secret"],
        b'n' => &["token", "access_token", "refresh_token", "id_token"],
        b'y' => &["api_key", "apikey", "api-key", "x-api-key", "private_key"],
        b'h' => &["auth"],
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
    // Most names (`status`, `duration_ms`, a timestamp's `10`) end in a letter
    // no secret name ends in: decided before walking back over the name.
    let last = end.checked_sub(1).map_or(0, |i| at(i) | 0x20);
    let candidates = names_ending_in(last);
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
