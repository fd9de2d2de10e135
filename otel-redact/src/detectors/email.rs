//! E-mail addresses: `local@domain.tld`, with Cyrillic allowed in both parts and the
//! `.рф`/`.рус` zones.
//!
//! Lookalikes kept: `user@host` without a dot (`postgres@db`), and asset names such as
//! `logo@2x.png` (a file extension is not a mail domain's top level).

use regex::Regex;

use super::{alnum_after, alnum_before};

pub(crate) const PATTERN: &str = r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.(?:[A-Za-z]{2,24}|рф|рус)";

/// Top-level parts that are file extensions, not mail domains.
const FILE_EXTENSIONS: [&str; 12] = [
    "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "css", "js", "json", "html", "pdf",
];

pub(crate) fn find(re: &Regex, text: &str, mut push: impl FnMut(usize, usize)) {
    for m in re.find_iter(text) {
        let s = m.as_str();
        let lead = s.len() - s.trim_start_matches(['.', '-', '+']).len();
        let start = m.start() + lead;
        let tld = s.rsplit('.').next().unwrap_or_default();
        let is_file = FILE_EXTENSIONS.iter().any(|e| tld.eq_ignore_ascii_case(e));
        if is_file || alnum_after(text, m.end()) || alnum_before(text, m.start()) {
            continue;
        }
        if text.as_bytes().get(start) == Some(&b'@') {
            continue;
        }
        push(start, m.end());
    }
}
