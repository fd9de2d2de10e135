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
const PARAMETER: &str = concat!(
    r#"(?i)(?-u:\b)(?:[a-z0-9]{1,32}[_.\-])?"#,
    r#"(?:password|passwd|pwd|pass|passphrase|secret|client_secret|token|access_token|refresh_token|id_token|api_key|apikey|api-key|x-api-key|sessionid|session_id|private_key|auth)"#,
    r#"["']?[ \t]*[=:][ \t]*["']?([^\s&;,"'<>]+)"#,
);

/// The compiled secret patterns; each has the part to replace as group 1.
#[derive(Debug, Clone)]
pub(crate) struct SecretPatterns {
    bearer: Regex,
    jwt: Regex,
    url_credentials: Regex,
    parameter: Regex,
}

impl SecretPatterns {
    pub(crate) fn new() -> Result<Self, regex::Error> {
        Ok(SecretPatterns {
            bearer: Regex::new(BEARER)?,
            jwt: Regex::new(JWT)?,
            url_credentials: Regex::new(URL_CREDENTIALS)?,
            parameter: Regex::new(PARAMETER)?,
        })
    }

    pub(crate) fn find(
        &self,
        text: &str,
        hints: &crate::prefilter::Hints,
        mut push: impl FnMut(usize, usize),
    ) {
        let mut run = |re: &Regex, check_boundary: bool| {
            for caps in re.captures_iter(text) {
                let (Some(all), Some(g)) = (caps.get(0), caps.get(1)) else {
                    continue;
                };
                if check_boundary && alnum_before(text, all.start()) {
                    continue;
                }
                if g.start() < g.end() {
                    push(g.start(), g.end());
                }
            }
        };
        if hints.auth_word {
            run(&self.bearer, false);
        }
        if hints.jwt {
            run(&self.jwt, false);
        }
        if hints.at && hints.assign {
            run(&self.url_credentials, false);
        }
        if hints.assign {
            run(&self.parameter, true);
        }
    }
}
