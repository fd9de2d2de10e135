//! Fuzz check `redact`: any bytes, as text, through the redactor in four
//! configurations (default, a small scan cap, keyed hashing, drop).
//!
//! Properties: no panic; the output is never longer than
//! `Redactor::output_len_bound(input length)`; key-aware value redaction, on a key
//! cut from the same input, never panics either.

use std::sync::LazyLock;

use otel_redact::opentelemetry::Value;
use otel_redact::{Action, Redactor};

static REDACTORS: LazyLock<Vec<Redactor>> = LazyLock::new(|| {
    let mut all = vec![Redactor::default()];
    all.extend(Redactor::builder().max_scan_len(256).build());
    if let Ok(hash) = Action::hash("k1", b"fuzz") {
        all.extend(Redactor::builder().action(hash).build());
    }
    all.extend(Redactor::builder().action(Action::Drop).build());
    all
});

/// The property, on one input; returns how many findings the default redactor made.
pub fn check(data: &[u8]) -> usize {
    let text = String::from_utf8_lossy(data);
    let split = text.char_indices().nth(8).map_or(text.len(), |(i, _)| i);
    let (key, value) = text.split_at(split);
    for r in REDACTORS.iter() {
        let out = r.redact_str(&text);
        assert!(out.len() <= r.output_len_bound(text.len()));
        let _ = r.redact_value(key, &Value::from(value.to_owned()));
    }
    REDACTORS[0].findings(&text).len()
}
