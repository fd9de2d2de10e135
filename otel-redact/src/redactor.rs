//! [`Redactor`]: one compiled rule set, usable on its own (log lines, any text) and
//! by the span processor and exporter.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;

use crate::action::MAX_REPLACEMENT_LEN;
use crate::builder::RedactorBuilder;
use crate::names::{SURFACE_SPAN_ATTRIBUTE, SURFACE_TEXT};
use crate::rules::Rules;
use crate::value::ValueRedaction;

/// A compiled set of redaction rules: detectors, custom regex rules, key rules and an
/// [`Action`](crate::Action).
///
/// Cloning is cheap (the rules are shared behind an `Arc`); a redactor is `Send +
/// Sync` and meant to be built once and shared.
///
/// ```
/// use otel_redact::Redactor;
/// use std::borrow::Cow;
///
/// let r = Redactor::default();
/// assert_eq!(
///     r.redact_str("call +7 (916) 123-45-67, mail ivan@example.ru"),
///     "call [REDACTED:phone], mail [REDACTED:email]"
/// );
/// // Clean text is returned as it came, without a copy.
/// assert!(matches!(r.redact_str("order ORD-2026-000123 paid 12500.50"), Cow::Borrowed(_)));
/// ```
#[derive(Clone)]
pub struct Redactor {
    rules: Arc<Rules>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("enabled", &self.rules.enabled)
            .field("custom_rules", &self.rules.custom.len())
            .field("action", &self.rules.action)
            .field("detect_only", &self.rules.detect_only)
            .field("max_scan_len", &self.rules.max_scan_len)
            .finish_non_exhaustive()
    }
}

impl Default for Redactor {
    /// Every detector on, the default key rules, [`Action::Mask`](crate::Action::Mask).
    fn default() -> Self {
        RedactorBuilder::new().build_default()
    }
}

/// One match found by [`Redactor::findings`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding<'r> {
    /// Byte range of the match in the text.
    pub range: Range<usize>,
    /// Label of the rule that found it (`phone`, a custom rule's name, `oversize`).
    pub rule: &'r str,
}

impl Redactor {
    /// Starts a [`RedactorBuilder`] with every detector on and the default key rules.
    pub fn builder() -> RedactorBuilder {
        RedactorBuilder::new()
    }

    #[cfg(test)]
    pub(crate) fn rules(&self) -> &Rules {
        &self.rules
    }

    pub(crate) fn from_rules(rules: Rules) -> Redactor {
        Redactor {
            rules: Arc::new(rules),
        }
    }

    /// Redacts free text. Returns [`Cow::Borrowed`] — no allocation — when nothing
    /// was found (or the redactor is detect-only). Counts go to the metric under the
    /// `text` surface.
    pub fn redact_str<'t>(&self, text: &'t str) -> Cow<'t, str> {
        self.rules
            .tallied(|tally| self.rules.redact_text(text, SURFACE_TEXT, tally))
    }

    /// Redacts one attribute value, taking its key into account: never-touched keys
    /// are left alone, values under sensitive keys are replaced whole (whatever their
    /// type), other strings and string arrays are scanned.
    ///
    /// ```
    /// use otel_redact::{Redactor, ValueRedaction};
    /// use opentelemetry::Value;
    ///
    /// let r = Redactor::default();
    /// assert_eq!(
    ///     r.redact_value("customer.phone", &Value::I64(79161234567)),
    ///     ValueRedaction::Replaced(Value::from("[REDACTED:phone]"))
    /// );
    /// assert_eq!(r.redact_value("order.id", &Value::from("ORD-1")), ValueRedaction::Unchanged);
    /// ```
    pub fn redact_value(&self, key: &str, value: &Value) -> ValueRedaction {
        self.rules
            .tallied(|tally| self.rules.redact_value(key, value, SURFACE_TEXT, tally))
    }

    /// Redacts a list of attributes in place (dropped ones are removed); returns how
    /// many redactions were made.
    pub fn redact_attributes(&self, attrs: &mut Vec<KeyValue>) -> u64 {
        self.rules.tallied(|tally| {
            self.rules
                .redact_attributes(attrs, SURFACE_SPAN_ATTRIBUTE, tally);
            tally.total()
        })
    }

    /// Redacts every surface of a finished span in place: name, attributes, event
    /// names and attributes, link attributes, error status description, scope
    /// attributes. Returns how many redactions were made.
    pub fn redact_span(&self, span: &mut SpanData) -> u64 {
        self.rules.redact_span(span)
    }

    /// A redacted copy of a resource, or `None` when nothing in it needs redacting.
    pub fn redact_resource(&self, resource: &Resource) -> Option<Resource> {
        self.rules.redact_resource(resource)
    }

    /// The matches [`redact_str`](Redactor::redact_str) would replace, overlaps
    /// resolved, without changing anything or counting. For tests, rule tuning and
    /// diagnostics.
    pub fn findings(&self, text: &str) -> Vec<Finding<'_>> {
        self.rules
            .matches(text)
            .into_iter()
            .map(|c| Finding {
                range: c.start..c.end,
                rule: self.rules.label(c.rule),
            })
            .collect()
    }

    /// True if this redactor only counts matches and leaves values unchanged.
    pub fn is_detect_only(&self) -> bool {
        self.rules.detect_only
    }

    /// The longest output [`redact_str`](Redactor::redact_str) can return for an
    /// input of `input_len` bytes.
    ///
    /// Every match is at least one byte and is replaced by at most
    /// [`MAX_REPLACEMENT_LEN`](crate::action::MAX_REPLACEMENT_LEN) bytes, so the output
    /// is at most `input_len × MAX_REPLACEMENT_LEN` bytes; text over the scan cap
    /// becomes a fixed mask. In practice masks replace longer matches and the output is
    /// about as long as the input.
    pub fn output_len_bound(&self, input_len: usize) -> usize {
        if self.rules.detect_only {
            input_len
        } else if input_len > self.rules.max_scan_len {
            self.rules.oversize_mask.as_str().len()
        } else {
            input_len.saturating_mul(MAX_REPLACEMENT_LEN)
        }
    }
}
