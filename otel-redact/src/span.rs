//! Redacting whole telemetry items: every surface of a [`SpanData`], a
//! [`Resource`], an instrumentation scope. Shared by the processor and the exporter.

use std::borrow::Cow;

use opentelemetry::trace::Status;
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;

use crate::metrics::Tally;
use crate::names::*;
use crate::rules::Rules;
use crate::value::ValueRedaction;

impl Rules {
    /// Redacts every surface of a span in place; returns the number of redactions.
    pub(crate) fn redact_span(&self, span: &mut SpanData) -> u64 {
        self.tallied(|tally| self.redact_span_with(span, tally))
    }

    /// [`Rules::redact_span`] with its tally.
    fn redact_span_with(&self, span: &mut SpanData, tally: &mut Tally) -> u64 {
        self.redact_cow(&mut span.name, SURFACE_SPAN_NAME, tally);
        self.redact_attributes(&mut span.attributes, SURFACE_SPAN_ATTRIBUTE, tally);
        for event in span.events.events.iter_mut() {
            self.redact_cow(&mut event.name, SURFACE_EVENT_NAME, tally);
            self.redact_attributes(&mut event.attributes, SURFACE_EVENT_ATTRIBUTE, tally);
        }
        for link in span.links.links.iter_mut() {
            self.redact_attributes(&mut link.attributes, SURFACE_LINK_ATTRIBUTE, tally);
        }
        if let Status::Error { description } = &mut span.status {
            self.redact_cow(description, SURFACE_STATUS_DESCRIPTION, tally);
        }
        if let Some(scope) = self.redact_scope(&span.instrumentation_scope, tally) {
            span.instrumentation_scope = scope;
        }
        let total = tally.total();
        if total > 0 && self.record_span_count {
            let count = i64::try_from(total).unwrap_or(i64::MAX);
            span.attributes
                .push(KeyValue::new(SPAN_ATTR_REDACTION_COUNT, count));
        }
        total
    }

    fn redact_scope(
        &self,
        scope: &InstrumentationScope,
        tally: &mut Tally,
    ) -> Option<InstrumentationScope> {
        // Most scopes have no attributes: check before copying anything.
        scope.attributes().next()?;
        let mut attrs: Vec<KeyValue> = scope.attributes().cloned().collect();
        let before = tally.total();
        self.redact_attributes(&mut attrs, SURFACE_SCOPE_ATTRIBUTE, tally);
        if tally.total() == before || self.detect_only {
            return None;
        }
        let mut builder = InstrumentationScope::builder(Cow::Owned(scope.name().to_owned()));
        if let Some(v) = scope.version() {
            builder = builder.with_version(Cow::Owned(v.to_owned()));
        }
        if let Some(u) = scope.schema_url() {
            builder = builder.with_schema_url(Cow::Owned(u.to_owned()));
        }
        Some(builder.with_attributes(attrs).build())
    }

    /// A redacted copy of `resource`, or `None` if nothing in it changes.
    pub(crate) fn redact_resource(&self, resource: &Resource) -> Option<Resource> {
        let (changed, attrs) = self.tallied(|tally| {
            let mut changed = false;
            let mut attrs = Vec::with_capacity(resource.len());
            for (key, value) in resource.iter() {
                match self.redact_value(key.as_str(), value, SURFACE_RESOURCE_ATTRIBUTE, tally) {
                    ValueRedaction::Unchanged => {
                        attrs.push(KeyValue::new(key.clone(), value.clone()))
                    }
                    ValueRedaction::Replaced(v) => {
                        changed = true;
                        attrs.push(KeyValue::new(key.clone(), v));
                    }
                    ValueRedaction::Dropped => changed = true,
                }
            }
            (changed, attrs)
        });
        if !changed {
            return None;
        }
        let builder = Resource::builder_empty();
        let builder = match resource.schema_url() {
            Some(url) => builder.with_schema_url(attrs, url.to_owned()),
            None => builder.with_attributes(attrs),
        };
        Some(builder.build())
    }
}
