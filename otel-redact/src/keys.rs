//! Key rules: which attribute keys hold a value that is sensitive as a whole, and
//! which are never touched.
//!
//! A key is split into lower-cased *segments* at `.`, `_`, `-`, `/`, spaces and
//! camelCase humps: `http.request.header.authorization` → `http request header
//! authorization`, `customerPhone` → `customer phone`. A sensitive pattern matches
//! when its segments appear consecutively in the key's (`access_token` matches
//! `token`; `gen_ai.usage.input_tokens` does not, since `tokens` is not `token`).
//!
//! **The `name` rule.** `name` alone is too common in semantic conventions
//! (`service.name`, `messaging.destination.name`, `k8s.pod.name`, `db.name`) to be
//! sensitive by itself. A key is a person's name when it *is* `name`, contains a
//! segment `fullname`, `firstname`, `lastname`, `middlename`, `givenname`,
//! `familyname`, `surname`, `patronymic` or `fio`, or has a `name` segment right
//! after a person word: `customer`, `user`, `client`, `recipient`, `sender`,
//! `person`, `contact`, `buyer`, `payer`, `payee`, `holder`, `cardholder`,
//! `employee`, `courier`, `passenger`, `patient`, `member`, `full`, `first`, `last`,
//! `middle`, `given`, `family`, `maiden`. So `customer.name`, `user.name`,
//! `full_name`, `recipientName` are masked; `service.name`, `host.name`,
//! `messaging.destination.name` are not.
//!
//! Never-touched keys are compared whole, ignoring ASCII case, and win over every
//! other rule.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};

use opentelemetry::StringValue;

use crate::error::RedactError;
use crate::image::{Image, StaticVerdicts};
use crate::label::validate_label;

/// Default sensitive patterns: (label, pattern).
pub(crate) const DEFAULT_SENSITIVE: &[(&str, &str)] = &[
    ("password", "password"),
    ("password", "passwd"),
    ("password", "pwd"),
    ("password", "passphrase"),
    ("secret", "secret"),
    ("token", "token"),
    ("token", "jwt"),
    ("authorization", "authorization"),
    ("cookie", "cookie"),
    ("cookie", "cookies"),
    ("api_key", "api_key"),
    ("api_key", "apikey"),
    ("credential", "credential"),
    ("credential", "credentials"),
    ("session", "session_id"),
    ("session", "sessionid"),
    ("private_key", "private_key"),
    ("phone", "phone"),
    ("phone", "telephone"),
    ("phone", "tel"),
    ("phone", "mobile"),
    ("phone", "msisdn"),
    ("email", "email"),
    ("email", "e_mail"),
    ("passport", "passport"),
    ("card", "card_number"),
    ("card", "cardnumber"),
    ("card", "pan"),
    ("card", "cvv"),
    ("card", "cvc"),
    ("snils", "snils"),
    ("inn", "inn"),
    ("birth_date", "birth_date"),
    ("birth_date", "birthdate"),
    ("birth_date", "date_of_birth"),
    ("birth_date", "dob"),
    ("address", "home_address"),
    ("address", "shipping_address"),
    ("address", "delivery_address"),
    ("address", "billing_address"),
];

/// Default never-touched keys.
pub(crate) const DEFAULT_NEVER: &[&str] = &[
    "order.id",
    "order_id",
    "trace_id",
    "trace.id",
    "traceid",
    "span_id",
    "span.id",
    "spanid",
    "parent_id",
    "parent_span_id",
    "messaging.message.id",
    "messaging.message.conversation_id",
    crate::names::SPAN_ATTR_REDACTION_COUNT,
];

const NAME_SEGMENTS: &[&str] = &[
    "fullname",
    "firstname",
    "lastname",
    "middlename",
    "givenname",
    "familyname",
    "surname",
    "patronymic",
    "fio",
];

const PERSON_WORDS: &[&str] = &[
    "customer",
    "user",
    "client",
    "recipient",
    "sender",
    "person",
    "contact",
    "buyer",
    "payer",
    "payee",
    "holder",
    "cardholder",
    "employee",
    "courier",
    "passenger",
    "patient",
    "member",
    "full",
    "first",
    "last",
    "middle",
    "given",
    "family",
    "maiden",
];

/// Most segments looked at in one key; a longer key is treated as sensitive if any
/// pattern matches in its first segments, and scanned as text otherwise.
const MAX_SEGMENTS: usize = 24;

/// A sensitive pattern, compiled.
#[derive(Debug, Clone)]
pub(crate) struct KeyRule {
    segments: Vec<Box<str>>,
    pub(crate) label: Box<str>,
    pub(crate) metric_label: StringValue,
    pub(crate) mask: StringValue,
}

impl KeyRule {
    pub(crate) fn new(label: &str, pattern: &str) -> Result<KeyRule, RedactError> {
        validate_label(label)?;
        let mut segments = Vec::new();
        for_each_segment(pattern, |s| {
            segments.push(s.to_ascii_lowercase().into_boxed_str())
        });
        if segments.is_empty() {
            return Err(RedactError::InvalidKeyPattern(pattern.to_owned()));
        }
        Ok(KeyRule {
            segments,
            label: label.into(),
            metric_label: format!("key:{label}").into(),
            mask: format!("[REDACTED:{label}]").into(),
        })
    }
}

/// What to do with a value, judged by its key alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyVerdict {
    /// Leave the value exactly as it is.
    NeverTouch,
    /// The whole value is sensitive; the index is into the key rules.
    Sensitive(usize),
    /// Scan the value's text with the detectors.
    Scan,
}

/// [`KeyVerdict::Scan`] as a literal-cache code.
const SCAN_CODE: u16 = 1;

impl KeyVerdict {
    /// The verdict as a literal-cache code, if it fits.
    fn encode(self) -> Option<u16> {
        match self {
            KeyVerdict::NeverTouch => Some(0),
            KeyVerdict::Scan => Some(SCAN_CODE),
            KeyVerdict::Sensitive(i) => u16::try_from(i).ok()?.checked_add(2),
        }
    }

    fn decode(code: u16) -> KeyVerdict {
        match code {
            0 => KeyVerdict::NeverTouch,
            SCAN_CODE => KeyVerdict::Scan,
            i => KeyVerdict::Sensitive(usize::from(i - 2)),
        }
    }
}

/// All key rules of one redactor.
#[derive(Debug)]
pub(crate) struct KeyRules {
    /// Identifies this rule set in the per-thread verdict cache.
    id: usize,
    pub(crate) rules: Vec<KeyRule>,
    never: Vec<Box<str>>,
    /// Index of the rule used for person names, if the name rule is on.
    name_rule: Option<usize>,
    /// Rule indices by the first byte and length of their first segment, so a key
    /// segment is compared only with the rules that could start there.
    buckets: Vec<Vec<usize>>,
    /// Verdicts of literal keys (almost every key is one), by address.
    literals: StaticVerdicts,
}

/// Segments longer than this never start a rule (the bucket table's width).
const MAX_BUCKET_LEN: usize = 32;

fn bucket(first: u8, len: usize) -> Option<usize> {
    let letter = first.to_ascii_lowercase();
    (letter.is_ascii_lowercase() && len > 0 && len <= MAX_BUCKET_LEN)
        .then(|| usize::from(letter - b'a') * MAX_BUCKET_LEN + (len - 1))
}

impl KeyRules {
    /// `name_rule` is the rule used for person-name keys, if that rule is on.
    pub(crate) fn new(
        mut rules: Vec<KeyRule>,
        never: Vec<String>,
        name_rule: Option<KeyRule>,
    ) -> KeyRules {
        let name_rule = name_rule.map(|rule| {
            rules.push(rule);
            rules.len() - 1
        });
        let mut buckets = vec![Vec::new(); 26 * MAX_BUCKET_LEN];
        let mut unbucketed = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            if Some(i) == name_rule {
                continue;
            }
            let first = rule
                .segments
                .first()
                .map(|s| (s.bytes().next().unwrap_or(0), s.len()));
            match first.and_then(|(b, len)| bucket(b, len)) {
                Some(slot) => buckets[slot].push(i),
                None => unbucketed.push(i),
            }
        }
        // Rules starting with a digit or a very long segment are rare; they are
        // checked against every segment.
        buckets.push(unbucketed);
        static NEXT_ID: AtomicUsize = AtomicUsize::new(1);
        KeyRules {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            rules,
            never: never.into_iter().map(String::into_boxed_str).collect(),
            name_rule,
            buckets,
            literals: StaticVerdicts::new(Image::get()),
        }
    }

    /// Identifies this rule set (never 0) in per-thread caches.
    pub(crate) fn id(&self) -> usize {
        self.id
    }

    /// The verdict for `key`: for a literal (almost every key is one) from the
    /// shared literal cache, one load and compare; for other keys from the
    /// per-thread cache when this key was seen before (one hash of two words and one
    /// comparison).
    #[inline]
    pub(crate) fn classify(&self, key: &str) -> KeyVerdict {
        // The verdict nearly every key has, checked by comparing the whole slot
        // word: no decoding on the common path (about 70 instructions per typical
        // span, callgrind).
        if self.literals.holds(key, SCAN_CODE) {
            return KeyVerdict::Scan;
        }
        match self.literals.get(key) {
            Some(code) => KeyVerdict::decode(code),
            None => self.classify_not_literal(key),
        }
    }

    /// [`KeyRules::classify`] past the literal cache; out of line so that a cache
    /// hit costs no spills for the larger frame this needs.
    #[inline(never)]
    fn classify_not_literal(&self, key: &str) -> KeyVerdict {
        let verdict = self.classify_by_content(key);
        if let Some(code) = verdict.encode() {
            self.literals.put(key, code);
        }
        verdict
    }

    /// [`KeyRules::classify`] for a key not found among the literals.
    fn classify_by_content(&self, key: &str) -> KeyVerdict {
        if key.len() > MAX_CACHED_KEY {
            return self.classify_uncached(key);
        }
        let (first, second) = cache_slots(key.as_bytes());
        VERDICTS.with(|cache| {
            let Ok(mut cache) = cache.try_borrow_mut() else {
                // Only reachable if classifying re-entered itself; never cache then.
                return self.classify_uncached(key);
            };
            for slot in [first, second] {
                if let Some((id, k, verdict)) = &cache[slot] {
                    if *id == self.id && same_key(k.as_bytes(), key.as_bytes()) {
                        return *verdict;
                    }
                }
            }
            let verdict = self.classify_uncached(key);
            // Two-choice insertion: the key takes its first slot; whoever held it
            // moves to its own other slot, so two keys sharing a first slot do not
            // evict each other on every span.
            let evicted = cache[first].replace((self.id, key.into(), verdict));
            if let Some(old) = evicted {
                let (a, b) = cache_slots(old.1.as_bytes());
                let other = if a == first { b } else { a };
                if other != first {
                    cache[other] = Some(old);
                }
            }
            verdict
        })
    }

    fn classify_uncached(&self, key: &str) -> KeyVerdict {
        if self
            .never
            .iter()
            .any(|k| k.len() == key.len() && k.eq_ignore_ascii_case(key))
        {
            return KeyVerdict::NeverTouch;
        }
        let mut segs = [""; MAX_SEGMENTS];
        let mut n = 0;
        for_each_segment(key, |s| {
            if n < MAX_SEGMENTS {
                segs[n] = s;
                n += 1;
            }
        });
        let segs = &segs[..n];
        let unbucketed = self.buckets.last().map_or(&[][..], Vec::as_slice);
        for start in 0..segs.len() {
            let seg = segs[start];
            let first = seg.bytes().next().unwrap_or(0);
            let candidates = bucket(first, seg.len())
                .and_then(|slot| self.buckets.get(slot))
                .map_or(&[][..], Vec::as_slice);
            for &i in candidates.iter().chain(unbucketed) {
                let Some(rule) = self.rules.get(i) else {
                    continue;
                };
                let len = rule.segments.len();
                if start + len <= segs.len()
                    && rule
                        .segments
                        .iter()
                        .zip(&segs[start..start + len])
                        .all(|(p, s)| p.len() == s.len() && p.eq_ignore_ascii_case(s))
                {
                    return KeyVerdict::Sensitive(i);
                }
            }
        }
        if let Some(i) = self.name_rule {
            if is_person_name_key(segs.iter().copied()) {
                return KeyVerdict::Sensitive(i);
            }
        }
        KeyVerdict::Scan
    }
}

/// Keys longer than this are classified every time rather than cached.
const MAX_CACHED_KEY: usize = 96;
/// Slots in the per-thread verdict cache (direct-mapped).
const CACHE_SLOTS: usize = 256;

type CacheEntry = Option<(usize, Box<str>, KeyVerdict)>;

thread_local! {
    /// Per-thread cache of key verdicts: (rule set id, key, verdict), direct-mapped.
    /// The key is stored and compared whole, so a collision only costs a
    /// recomputation. `const` so access needs no lazy initialisation check.
    static VERDICTS: RefCell<[CacheEntry; CACHE_SLOTS]> =
        const { RefCell::new([const { None }; CACHE_SLOTS]) };
}

/// Two cheap slot indices from the length and the first and last eight bytes
/// (keys are compared whole on a hit, so collisions only cost a recomputation).
fn cache_slots(key: &[u8]) -> (usize, usize) {
    let n = key.len();
    let word = |s: Option<&[u8]>| {
        s.and_then(|s| s.try_into().ok())
            .map_or(0, u64::from_le_bytes)
    };
    let h = if n >= 8 {
        word(key.get(..8)) ^ word(key.get(n - 8..)).rotate_left(23)
    } else {
        key.iter().fold(0u64, |h, &b| h << 8 | u64::from(b))
    };
    let h = (h ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (
        (h >> 56) as usize % CACHE_SLOTS,
        (h >> 40) as usize % CACHE_SLOTS,
    )
}

/// `a == b`, inline for keys up to 32 bytes (a few word compares instead of a
/// `memcmp` call on every span's every attribute).
fn same_key(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| {
        s.get(at..at + 8)
            .and_then(|w| w.try_into().ok())
            .map_or(0, u64::from_le_bytes)
    };
    match n {
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        17..=32 => {
            word(a, 0) == word(b, 0)
                && word(a, 8) == word(b, 8)
                && word(a, n - 16) == word(b, n - 16)
                && word(a, n - 8) == word(b, n - 8)
        }
        _ => a == b,
    }
}

fn one_of(s: &str, list: &[&str]) -> bool {
    list.iter()
        .any(|w| w.len() == s.len() && w.eq_ignore_ascii_case(s))
}

fn is_person_name_key<'a>(segs: impl Iterator<Item = &'a str> + Clone) -> bool {
    let mut count = 0;
    let mut prev: Option<&str> = None;
    for s in segs.clone() {
        count += 1;
        if one_of(s, NAME_SEGMENTS) {
            return true;
        }
        if (s.eq_ignore_ascii_case("name") || s.eq_ignore_ascii_case("names"))
            && prev.is_some_and(|p| one_of(p, PERSON_WORDS))
        {
            return true;
        }
        prev = Some(s);
    }
    count == 1 && segs.clone().all(|s| s.eq_ignore_ascii_case("name"))
}

/// Calls `f` with each segment of `key` (see the module docs), in order.
pub(crate) fn for_each_segment<'a>(key: &'a str, mut f: impl FnMut(&'a str)) {
    let bytes = key.as_bytes();
    let mut start = 0;
    let is_sep = |b: u8| matches!(b, b'.' | b'_' | b'-' | b'/' | b' ' | b':');
    for i in 0..=bytes.len() {
        // A boundary is the end, a separator, or a camelCase hump (lower-case
        // followed by upper-case).
        let boundary = i == bytes.len()
            || is_sep(bytes[i])
            || (i > start && bytes[i].is_ascii_uppercase() && bytes[i - 1].is_ascii_lowercase());
        if !boundary {
            continue;
        }
        if i > start {
            if let Some(seg) = key.get(start..i) {
                f(seg);
            }
        }
        start = if i < bytes.len() && is_sep(bytes[i]) {
            i + 1
        } else {
            i
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> KeyRules {
        let rules = DEFAULT_SENSITIVE
            .iter()
            .map(|(l, p)| KeyRule::new(l, p))
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let name = KeyRule::new("name", "name").unwrap();
        KeyRules::new(
            rules,
            DEFAULT_NEVER.iter().map(|s| s.to_string()).collect(),
            Some(name),
        )
    }

    fn label(r: &KeyRules, key: &str) -> Option<String> {
        match r.classify(key) {
            KeyVerdict::Sensitive(i) => Some(r.rules[i].label.to_string()),
            _ => None,
        }
    }

    #[test]
    fn segments_split_on_separators_and_camel_case() {
        let mut v = Vec::new();
        for_each_segment("http.request.header.x-api-key", |s| v.push(s));
        assert_eq!(v, ["http", "request", "header", "x", "api", "key"]);
        v.clear();
        for_each_segment("customerFullName", |s| v.push(s));
        assert_eq!(v, ["customer", "Full", "Name"]);
    }

    #[test]
    fn sensitive_keys_are_found_in_any_position() {
        let r = defaults();
        assert_eq!(
            label(&r, "http.request.header.authorization").as_deref(),
            Some("authorization")
        );
        assert_eq!(label(&r, "db.password").as_deref(), Some("password"));
        assert_eq!(label(&r, "customer.phone").as_deref(), Some("phone"));
        assert_eq!(label(&r, "x-api-key").as_deref(), Some("api_key"));
        assert_eq!(label(&r, "access_token").as_deref(), Some("token"));
        assert_eq!(label(&r, "user.email").as_deref(), Some("email"));
    }

    #[test]
    fn name_rule_takes_person_names_but_not_convention_names() {
        let r = defaults();
        for key in [
            "name",
            "customer.name",
            "user.name",
            "full_name",
            "recipientName",
            "fio",
            "customer.surname",
        ] {
            assert_eq!(label(&r, key).as_deref(), Some("name"), "{key}");
        }
        for key in [
            "service.name",
            "messaging.destination.name",
            "host.name",
            "k8s.pod.name",
            "db.name",
            "rpc.method",
            "http.route",
            "span.name",
            "telemetry.sdk.name",
            "gen_ai.usage.input_tokens",
        ] {
            assert_eq!(r.classify(key), KeyVerdict::Scan, "{key}");
        }
    }

    #[test]
    fn inline_key_comparison_agrees_with_slices() {
        let keys = [
            "",
            "a",
            "order.id",
            "order.ie",
            "http.request.method",
            "http.request.methoD",
            "messaging.message.conversation_id",
            "messaging.message.conversation_iD",
        ];
        for a in keys {
            for b in keys {
                assert_eq!(same_key(a.as_bytes(), b.as_bytes()), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn never_touched_keys_win() {
        let r = defaults();
        assert_eq!(r.classify("order.id"), KeyVerdict::NeverTouch);
        assert_eq!(r.classify("TRACE_ID"), KeyVerdict::NeverTouch);
    }
}
