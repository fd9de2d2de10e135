//! [`RedactorBuilder`]: choosing detectors, adding custom and key rules, picking the
//! action, then compiling it all into a [`Redactor`].

use opentelemetry::metrics::Meter;
use regex::Regex;

use crate::action::Action;
use crate::detectors::secret::SecretPatterns;
use crate::detectors::{email, inn, name, passport, Detector};
use crate::error::RedactError;
use crate::image::{Image, StaticVerdicts};
use crate::keys::{KeyRule, KeyRules, DEFAULT_NEVER, DEFAULT_SENSITIVE};
use crate::label::validate_label;
use crate::metrics::Metrics;
use crate::redactor::Redactor;
use crate::rules::{shared, CustomRule, Rules};

/// Default scan cap: values longer than this many bytes are masked whole.
pub const DEFAULT_MAX_SCAN_LEN: usize = 64 * 1024;

/// Builds a [`Redactor`]. Starts with every detector on, the default key rules (see
/// the crate docs' table), [`Action::Mask`], and a 64 KiB scan cap.
///
/// ```
/// use otel_redact::{Action, Detector, Redactor};
///
/// let redactor = Redactor::builder()
///     .disable(Detector::Name)
///     .custom_rule("contract", r"\bCTR-\d{6}\b")
///     .sensitive_key("iban")
///     .never_touch_key("invoice.id")
///     .action(Action::hash("k1", b"correlation secret")?)
///     .build()?;
/// assert!(redactor.redact_str("contract CTR-123456").starts_with("contract [HASH:contract:k1:"));
/// # Ok::<(), otel_redact::RedactError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct RedactorBuilder {
    enabled: [bool; 8],
    custom: Vec<(String, String)>,
    sensitive: Vec<(String, String)>,
    never: Vec<String>,
    default_key_rules: bool,
    action: Action,
    max_scan_len: usize,
    detect_only: bool,
    record_span_count: bool,
    meter: Option<Meter>,
}

impl Default for RedactorBuilder {
    fn default() -> Self {
        RedactorBuilder::new()
    }
}

impl RedactorBuilder {
    /// Same as [`Redactor::builder`].
    pub fn new() -> RedactorBuilder {
        RedactorBuilder {
            enabled: [true; 8],
            custom: Vec::new(),
            sensitive: Vec::new(),
            never: Vec::new(),
            default_key_rules: true,
            action: Action::Mask,
            max_scan_len: DEFAULT_MAX_SCAN_LEN,
            detect_only: false,
            record_span_count: false,
            meter: None,
        }
    }

    /// Switches a built-in detector off.
    pub fn disable(mut self, detector: Detector) -> Self {
        self.enabled[detector.index()] = false;
        self
    }

    /// Switches a built-in detector (back) on.
    pub fn enable(mut self, detector: Detector) -> Self {
        self.enabled[detector.index()] = true;
        self
    }

    /// Adds a custom rule: every match of `pattern` (Rust `regex` syntax) is replaced,
    /// labelled `name` in masks (`[REDACTED:<name>]`) and `custom:<name>` in metrics.
    /// Custom rules run on every scanned value (they have no pre-filter) and lose
    /// ties to built-in detectors. Empty matches are ignored.
    pub fn custom_rule(mut self, name: impl Into<String>, pattern: impl Into<String>) -> Self {
        self.custom.push((name.into(), pattern.into()));
        self
    }

    /// Adds a sensitive-key pattern (see [the key rules](crate#key-rules)); values under
    /// matching keys are replaced whole. The label in masks is the pattern itself.
    pub fn sensitive_key(self, pattern: impl Into<String>) -> Self {
        let pattern = pattern.into();
        let label: String = pattern
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        self.sensitive_key_labeled(label, pattern)
    }

    /// Adds a sensitive-key pattern with its own mask label (`[REDACTED:<label>]`).
    pub fn sensitive_key_labeled(
        mut self,
        label: impl Into<String>,
        pattern: impl Into<String>,
    ) -> Self {
        self.sensitive.push((label.into(), pattern.into()));
        self
    }

    /// Adds a key whose values are never touched (compared whole, ASCII case
    /// ignored). Never-touched keys win over every other rule.
    pub fn never_touch_key(mut self, key: impl Into<String>) -> Self {
        self.never.push(key.into());
        self
    }

    /// Drops the built-in key rules (sensitive and never-touched, including the
    /// person-name rule); only the ones added on this builder apply.
    pub fn without_default_key_rules(mut self) -> Self {
        self.default_key_rules = false;
        self
    }

    /// What to do with matches: mask (default), keyed hash, or drop.
    pub fn action(mut self, action: Action) -> Self {
        self.action = action;
        self
    }

    /// Values longer than `bytes` are not scanned but replaced whole by
    /// `[REDACTED:oversize]`. Default [`DEFAULT_MAX_SCAN_LEN`].
    pub fn max_scan_len(mut self, bytes: usize) -> Self {
        self.max_scan_len = bytes;
        self
    }

    /// Detect-only mode: matches are counted (metric, optional span attribute) but
    /// nothing is changed. For rolling out new rules.
    pub fn detect_only(mut self, on: bool) -> Self {
        self.detect_only = on;
        self
    }

    /// Adds a `redaction.count` attribute to spans that had something redacted.
    pub fn record_span_count(mut self, on: bool) -> Self {
        self.record_span_count = on;
        self
    }

    /// The meter for the `redaction.applied` counter. By default the global meter
    /// provider's meter named `otel-redact`, looked up on first use.
    pub fn meter(mut self, meter: Meter) -> Self {
        self.meter = Some(meter);
        self
    }

    /// Compiles the rules.
    pub fn build(self) -> Result<Redactor, RedactError> {
        let on = |d: Detector| self.enabled[d.index()];
        let compile = |on: bool, pattern: &str| -> Result<Option<Regex>, RedactError> {
            if !on {
                return Ok(None);
            }
            Regex::new(pattern)
                .map(Some)
                .map_err(|source| RedactError::InvalidPattern {
                    name: "built-in".to_owned(),
                    source,
                })
        };
        let mut custom = Vec::with_capacity(self.custom.len());
        for (label, pattern) in &self.custom {
            validate_label(label)?;
            let regex = Regex::new(pattern).map_err(|source| RedactError::InvalidPattern {
                name: label.clone(),
                source,
            })?;
            custom.push(CustomRule {
                label: label.as_str().into(),
                metric_label: shared(format!("custom:{label}")),
                mask: shared(format!("[REDACTED:{label}]")),
                regex,
            });
        }
        let mut key_rules = Vec::new();
        let mut never = Vec::new();
        if self.default_key_rules {
            for (label, pattern) in DEFAULT_SENSITIVE {
                key_rules.push(KeyRule::new(label, pattern)?);
            }
            never.extend(DEFAULT_NEVER.iter().map(|s| (*s).to_owned()));
        }
        for (label, pattern) in &self.sensitive {
            key_rules.push(KeyRule::new(label, pattern)?);
        }
        never.extend(self.never);
        let name_rule = if self.default_key_rules {
            Some(KeyRule::new("name", "name")?)
        } else {
            None
        };
        let keys = KeyRules::new(key_rules, never, name_rule);
        let secrets = if on(Detector::Secret) {
            Some(
                SecretPatterns::new().map_err(|source| RedactError::InvalidPattern {
                    name: "built-in".to_owned(),
                    source,
                })?,
            )
        } else {
            None
        };
        let rules = Rules {
            enabled: self.enabled,
            email: compile(on(Detector::Email), email::PATTERN)?,
            name: compile(on(Detector::Name), name::PATTERN)?,
            latin_name: compile(on(Detector::Name), name::LATIN_PATTERN)?,
            passport_context: compile(on(Detector::Passport), passport::CONTEXT_PATTERN)?,
            inn_context: compile(on(Detector::Inn), inn::CONTEXT_PATTERN)?,
            secrets,
            numeric: [
                Detector::Card,
                Detector::Phone,
                Detector::Snils,
                Detector::Inn,
                Detector::Passport,
            ]
            .iter()
            .any(|d| on(*d)),
            custom,
            keys,
            action: self.action,
            max_scan_len: self.max_scan_len,
            detect_only: self.detect_only,
            record_span_count: self.record_span_count,
            builtin_masks: Detector::ALL.map(|d| shared(format!("[REDACTED:{}]", d.name()))),
            oversize_mask: shared(format!("[REDACTED:{}]", crate::names::DETECTOR_OVERSIZE)),
            metrics: Metrics::new(self.meter),
            clean_literals: StaticVerdicts::new(Image::get()),
        };
        Ok(Redactor::from_rules(rules))
    }

    /// Builds the default configuration, which is known to compile.
    pub(crate) fn build_default(self) -> Redactor {
        match self.build() {
            Ok(r) => r,
            // The built-in patterns are constants covered by the unit tests; if one
            // ever failed to compile, fall back to masking every value whole rather
            // than letting data through.
            Err(_) => RedactorBuilder::new().fail_closed(),
        }
    }

    /// A redactor that masks every non-empty value whole (scan cap 0).
    fn fail_closed(self) -> Redactor {
        let keys = KeyRules::new(Vec::new(), Vec::new(), None);
        Redactor::from_rules(Rules {
            enabled: [false; 8],
            email: None,
            name: None,
            latin_name: None,
            passport_context: None,
            inn_context: None,
            secrets: None,
            numeric: false,
            custom: Vec::new(),
            keys,
            action: Action::Mask,
            max_scan_len: 0,
            detect_only: false,
            record_span_count: false,
            builtin_masks: Detector::ALL.map(|d| shared(format!("[REDACTED:{}]", d.name()))),
            oversize_mask: shared(format!("[REDACTED:{}]", crate::names::DETECTOR_OVERSIZE)),
            metrics: Metrics::new(self.meter),
            clean_literals: StaticVerdicts::new(Image::get()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_compile_without_falling_back() {
        assert!(RedactorBuilder::new().build().is_ok());
    }

    #[test]
    fn invalid_custom_regex_is_a_typed_error() {
        let err = RedactorBuilder::new()
            .custom_rule("bad", "(")
            .build()
            .unwrap_err();
        assert!(matches!(err, RedactError::InvalidPattern { ref name, .. } if name == "bad"));
    }

    #[test]
    fn labels_are_validated() {
        let err = RedactorBuilder::new()
            .custom_rule("has space", "x")
            .build()
            .unwrap_err();
        assert!(matches!(err, RedactError::InvalidLabel { .. }));
        assert!(Action::hash("k1", b"").is_err());
    }
}
