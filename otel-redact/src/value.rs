//! Redacting attribute values: key rules first, then the detectors over the text of
//! string values (and each string of a string array).
//!
//! Numbers and booleans are only touched under a sensitive key: scanning every
//! integer would turn durations and counters that happen to look like a phone number
//! into masks. Under a sensitive key, a value of any type becomes the rule's mask (a
//! string), its keyed hash (of the value's text form), or is dropped.

use std::borrow::Cow;

use opentelemetry::{Array, KeyValue, StringValue, Value};

use crate::action::{Action, Normalise};
use crate::keys::KeyVerdict;
use crate::metrics::Tally;
use crate::rules::{RuleId, Rules};

/// What redaction did to one attribute value. Returned by
/// [`Redactor::redact_value`](crate::Redactor::redact_value).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ValueRedaction {
    /// Nothing sensitive was found (or the redactor is detect-only, or the key is
    /// never touched): keep the value as it is.
    Unchanged,
    /// Use this value instead.
    Replaced(Value),
    /// Remove the attribute ([`Action::Drop`] under a sensitive key).
    Dropped,
}

impl Rules {
    pub(crate) fn redact_value(
        &self,
        key: &str,
        value: &Value,
        surface: &'static str,
        tally: &mut Tally,
    ) -> ValueRedaction {
        self.redact_value_as(self.keys.classify(key), value, surface, tally)
    }

    /// [`Rules::redact_value`] with the key's verdict already known. Inline: the
    /// common cases (a string to scan, often clean; a number; a never-touched key)
    /// cost no call beyond the text's own.
    #[inline(always)]
    fn redact_value_as(
        &self,
        verdict: KeyVerdict,
        value: &Value,
        surface: &'static str,
        tally: &mut Tally,
    ) -> ValueRedaction {
        match (verdict, value) {
            (KeyVerdict::Scan, Value::String(s)) => self
                .scanned(s, surface, tally)
                .map_or(ValueRedaction::Unchanged, ValueRedaction::Replaced),
            (KeyVerdict::Scan, Value::Array(Array::String(items))) => {
                self.redact_strings(items, surface, tally)
            }
            (KeyVerdict::Sensitive(i), _) => self.redact_sensitive(i, value, surface, tally),
            // Never touched; or a number or boolean under a key to scan: scanning
            // every integer would mask durations that look like phone numbers.
            _ => ValueRedaction::Unchanged,
        }
    }

    /// A string under a key to scan: its replacement if scanning changed it.
    #[inline(always)]
    fn scanned(&self, s: &StringValue, surface: &'static str, tally: &mut Tally) -> Option<Value> {
        match self.redact_text(s.as_str(), surface, tally) {
            Cow::Borrowed(_) => None,
            Cow::Owned(o) => Some(Value::from(o)),
        }
    }

    /// Each string of a string array scanned; a copy only if one changes.
    #[inline(never)]
    fn redact_strings(
        &self,
        items: &[StringValue],
        surface: &'static str,
        tally: &mut Tally,
    ) -> ValueRedaction {
        let mut changed: Option<Vec<StringValue>> = None;
        for (idx, item) in items.iter().enumerate() {
            if let Cow::Owned(o) = self.redact_text(item.as_str(), surface, tally) {
                let v = changed.get_or_insert_with(|| items.to_vec());
                if let Some(slot) = v.get_mut(idx) {
                    *slot = StringValue::from(o);
                }
            }
        }
        changed.map_or(ValueRedaction::Unchanged, |v| {
            ValueRedaction::Replaced(Value::Array(Array::String(v)))
        })
    }

    /// A value under sensitive key rule `i`, whatever its type: masked, hashed or
    /// dropped as the action says.
    #[inline(never)]
    fn redact_sensitive(
        &self,
        i: usize,
        value: &Value,
        surface: &'static str,
        tally: &mut Tally,
    ) -> ValueRedaction {
        let rule = RuleId::Key(i);
        tally.add(rule, surface);
        if self.detect_only {
            return ValueRedaction::Unchanged;
        }
        match &self.action {
            Action::Mask => ValueRedaction::Replaced(Value::String(self.mask(rule).clone())),
            Action::Drop => ValueRedaction::Dropped,
            Action::Hash(k) => {
                let label = self.label(rule);
                // Normalise like the detector of the same name, so a phone under
                // `customer.phone` and the same phone found in text get the same
                // pseudonym.
                let normalised = Normalise::for_label(label).apply(&value_text(value));
                let mut out = String::new();
                k.write_hash(label, &normalised, &mut out);
                ValueRedaction::Replaced(Value::from(out))
            }
        }
    }

    /// Redacts a list of attributes in place; values are only replaced when they
    /// change, dropped attributes are removed.
    ///
    /// Kept small on purpose: it runs for every attribute list of every span, so
    /// the common cases (a literal key to scan with a string value; a number; a
    /// never-touched key) are taken inline with few registers, and everything
    /// else (arrays, sensitive keys, a drop) is out of line.
    pub(crate) fn redact_attributes(
        &self,
        attrs: &mut Vec<KeyValue>,
        surface: &'static str,
        tally: &mut Tally,
    ) {
        for i in 0..attrs.len() {
            let Some(kv) = attrs.get_mut(i) else {
                return;
            };
            let verdict = self.keys.classify(kv.key.as_str());
            match (verdict, &kv.value) {
                (KeyVerdict::Scan, Value::String(s)) => {
                    if let Some(v) = self.scanned(s, surface, tally) {
                        kv.value = v;
                    }
                }
                (KeyVerdict::NeverTouch, _)
                | (KeyVerdict::Scan, Value::Bool(_) | Value::I64(_) | Value::F64(_)) => {}
                _ => {
                    if self.redact_rare(kv, verdict, surface, tally) {
                        return self.redact_attributes_after_drop(attrs, i, surface, tally);
                    }
                }
            }
        }
    }

    /// An attribute [`Rules::redact_attributes`] does not take inline (an array, a
    /// value under a sensitive key): its value replaced if it changes; `true` if
    /// it is to be dropped.
    #[inline(never)]
    fn redact_rare(
        &self,
        kv: &mut KeyValue,
        verdict: KeyVerdict,
        surface: &'static str,
        tally: &mut Tally,
    ) -> bool {
        match self.redact_value_as(verdict, &kv.value, surface, tally) {
            ValueRedaction::Unchanged => false,
            ValueRedaction::Replaced(v) => {
                kv.value = v;
                false
            }
            ValueRedaction::Dropped => true,
        }
    }

    /// The rest of [`Rules::redact_attributes`] once the attribute at `dropped`
    /// is to be dropped: the attributes after it redacted, then every dropped one
    /// removed.
    #[cold]
    #[inline(never)]
    fn redact_attributes_after_drop(
        &self,
        attrs: &mut Vec<KeyValue>,
        dropped: usize,
        surface: &'static str,
        tally: &mut Tally,
    ) {
        let mut to_drop = vec![false; attrs.len()];
        if let Some(d) = to_drop.get_mut(dropped) {
            *d = true;
        }
        for (kv, d) in attrs.iter_mut().zip(to_drop.iter_mut()).skip(dropped + 1) {
            let verdict = self.keys.classify(kv.key.as_str());
            *d = self.redact_rare(kv, verdict, surface, tally);
        }
        let mut flags = to_drop.into_iter();
        attrs.retain(|_| !flags.next().unwrap_or(false));
    }

    /// Redacts a `Cow<'static, str>` field (span name, event name, status
    /// description) in place. Inline: span and event names are usually literals
    /// or recently clean, a few instructions each.
    #[inline(always)]
    pub(crate) fn redact_cow(
        &self,
        field: &mut Cow<'static, str>,
        surface: &'static str,
        tally: &mut Tally,
    ) {
        let replaced = match self.redact_text(field, surface, tally) {
            Cow::Borrowed(_) => None,
            Cow::Owned(o) => Some(o),
        };
        if let Some(o) = replaced {
            *field = Cow::Owned(o);
        }
    }
}

/// The text form of a value, for hashing under a key rule.
fn value_text(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(s) => Cow::Borrowed(s.as_str()),
        other => Cow::Owned(other.to_string()),
    }
}
