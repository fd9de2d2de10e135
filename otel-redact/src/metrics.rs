//! Visibility without leaking: a per-call tally of which rules fired on which
//! surface, flushed into the `redaction.applied` counter. Only rule labels and surface
//! names are recorded, never values.

use std::sync::OnceLock;

use opentelemetry::metrics::{Counter, Meter};
use opentelemetry::KeyValue;

use crate::names;
use crate::recent::{self, Recent};
use crate::rules::{RuleId, Rules};

/// The counter, created on first use so that a global meter provider installed after
/// the redactor was built is still picked up.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    meter: Option<Meter>,
    counter: OnceLock<Counter<u64>>,
}

impl Metrics {
    pub(crate) fn new(meter: Option<Meter>) -> Metrics {
        Metrics {
            meter,
            counter: OnceLock::new(),
        }
    }

    fn counter(&self) -> &Counter<u64> {
        self.counter.get_or_init(|| {
            let meter = self
                .meter
                .clone()
                .unwrap_or_else(|| opentelemetry::global::meter(names::METER_NAME));
            meter
                .u64_counter(names::METRIC_REDACTION_APPLIED)
                .with_description(
                    "Values redacted (or, in detect-only mode, detected) by otel-redact",
                )
                .with_unit("{redaction}")
                .build()
        })
    }
}

/// Counts gathered while redacting one span, resource, list or string; and this
/// thread's recently clean texts for the same call (`None` when a redaction
/// re-entered another on this thread: then nothing is looked up or kept).
#[derive(Debug, Default)]
pub(crate) struct Tally<'r> {
    entries: Vec<(RuleId, &'static str, u64)>,
    total: u64,
    pub(crate) recent: Option<&'r mut Recent>,
}

impl Rules {
    /// Runs `f` with a tally that looks texts up in this thread's recently clean
    /// texts (borrowed once for the whole call: a span, a string, a list), then
    /// records the tally's counts. Every entry point redacts through this.
    pub(crate) fn tallied<R>(&self, mut f: impl FnMut(&mut Tally) -> R) -> R {
        recent::with_thread_cache(|recent| {
            let mut tally = Tally {
                recent,
                ..Tally::default()
            };
            let out = f(&mut tally);
            // Most calls redact nothing: no call then.
            if tally.total != 0 {
                tally.flush(self);
            }
            out
        })
    }
}

impl Tally<'_> {
    pub(crate) fn add(&mut self, rule: RuleId, surface: &'static str) {
        self.total += 1;
        if let Some(e) = self
            .entries
            .iter_mut()
            .find(|(r, s, _)| *r == rule && std::ptr::eq(*s, surface))
        {
            e.2 += 1;
        } else {
            self.entries.push((rule, surface, 1));
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// Records the counts on the counter.
    #[cold]
    fn flush(&self, rules: &Rules) {
        let counter = rules.metrics.counter();
        let mode = if rules.detect_only {
            names::MODE_DETECT_ONLY
        } else {
            names::MODE_APPLY
        };
        for &(rule, surface, count) in &self.entries {
            counter.add(
                count,
                &[
                    KeyValue::new(names::ATTR_DETECTOR, rules.metric_label(rule)),
                    KeyValue::new(names::ATTR_SURFACE, surface),
                    KeyValue::new(names::ATTR_MODE, mode),
                ],
            );
        }
    }
}
