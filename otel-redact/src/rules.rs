//! The compiled rule set shared by every clone of a [`Redactor`](crate::Redactor):
//! which detectors run, the custom rules, the key rules, and how each rule is
//! labelled in masks and metrics.

use std::sync::Arc;

use opentelemetry::{StringValue, Value};
use regex::Regex;

use crate::action::{Action, Normalise};
use crate::detectors::secret::SecretPatterns;
use crate::detectors::Detector;
use crate::image::StaticVerdicts;
use crate::keys::KeyRules;
use crate::metrics::Metrics;

/// Which rule produced a match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RuleId {
    /// A built-in detector.
    Builtin(Detector),
    /// A custom regex rule, by index.
    Custom(usize),
    /// A key rule, by index.
    Key(usize),
    /// A value over the scan cap.
    Oversize,
}

impl RuleId {
    /// Tie-break order among matches with the same start and length: lower wins.
    pub(crate) fn priority(self) -> usize {
        match self {
            RuleId::Builtin(d) => d.index(),
            RuleId::Custom(i) => Detector::ALL.len() + i,
            RuleId::Key(_) | RuleId::Oversize => usize::MAX,
        }
    }
}

/// A custom regex rule, compiled.
#[derive(Debug, Clone)]
pub(crate) struct CustomRule {
    pub(crate) label: Box<str>,
    pub(crate) metric_label: StringValue,
    pub(crate) mask: StringValue,
    pub(crate) regex: Regex,
}

/// Everything a redactor needs, built once.
#[derive(Debug)]
pub(crate) struct Rules {
    pub(crate) enabled: [bool; 8],
    pub(crate) email: Option<Regex>,
    pub(crate) name: Option<Regex>,
    pub(crate) latin_name: Option<Regex>,
    pub(crate) passport_context: Option<Regex>,
    pub(crate) inn_context: Option<Regex>,
    pub(crate) secrets: Option<SecretPatterns>,
    pub(crate) numeric: bool,
    pub(crate) custom: Vec<CustomRule>,
    pub(crate) keys: KeyRules,
    pub(crate) action: Action,
    pub(crate) max_scan_len: usize,
    pub(crate) detect_only: bool,
    pub(crate) record_span_count: bool,
    pub(crate) builtin_masks: [StringValue; 8],
    pub(crate) oversize_mask: StringValue,
    pub(crate) metrics: Metrics,
    /// Literals found clean before: span and event names, enum-like values.
    pub(crate) clean_literals: StaticVerdicts,
}

pub(crate) fn shared(s: String) -> StringValue {
    StringValue::from(Arc::<str>::from(s))
}

impl Rules {
    pub(crate) fn is_enabled(&self, d: Detector) -> bool {
        self.enabled[d.index()]
    }

    /// The label written into masks and hashes.
    pub(crate) fn label(&self, rule: RuleId) -> &str {
        match rule {
            RuleId::Builtin(d) => d.name(),
            RuleId::Custom(i) => self.custom.get(i).map_or("custom", |c| &c.label),
            RuleId::Key(i) => self.keys.rules.get(i).map_or("key", |k| &k.label),
            RuleId::Oversize => crate::names::DETECTOR_OVERSIZE,
        }
    }

    /// The mask for a rule, shared (cloning it does not allocate).
    pub(crate) fn mask(&self, rule: RuleId) -> &StringValue {
        match rule {
            RuleId::Builtin(d) => &self.builtin_masks[d.index()],
            RuleId::Custom(i) => self.custom.get(i).map_or(&self.oversize_mask, |c| &c.mask),
            RuleId::Key(i) => self
                .keys
                .rules
                .get(i)
                .map_or(&self.oversize_mask, |k| &k.mask),
            RuleId::Oversize => &self.oversize_mask,
        }
    }

    /// The value of the `redaction.detector` metric attribute for a rule.
    pub(crate) fn metric_label(&self, rule: RuleId) -> Value {
        match rule {
            RuleId::Builtin(d) => Value::from(d.name()),
            RuleId::Custom(i) => self.custom.get(i).map_or(Value::from("custom"), |c| {
                Value::String(c.metric_label.clone())
            }),
            RuleId::Key(i) => self.keys.rules.get(i).map_or(Value::from("key"), |k| {
                Value::String(k.metric_label.clone())
            }),
            RuleId::Oversize => Value::from(crate::names::DETECTOR_OVERSIZE),
        }
    }

    pub(crate) fn normalise(&self, rule: RuleId) -> Normalise {
        match rule {
            RuleId::Builtin(d) => d.normalise(),
            _ => Normalise::AsIs,
        }
    }
}
