//! Every name this crate puts on the wire: the metric, its attribute keys and values,
//! and the span attribute. One place, so dashboards and the README table agree.

/// Counter of redactions applied (or, in detect-only mode, that would have been
/// applied). Unit: `{redaction}`. Never carries the redacted values.
pub const METRIC_REDACTION_APPLIED: &str = "redaction.applied";

/// Metric attribute: which rule fired — a detector name (`phone`, `card`, ...),
/// `custom:<rule>` for a custom regex rule, `key:<label>` for a key rule, or
/// [`DETECTOR_OVERSIZE`]. Bounded by the configured rule set.
pub const ATTR_DETECTOR: &str = "redaction.detector";

/// Metric attribute: which part of the telemetry the value was found in, one of the
/// `SURFACE_*` constants.
pub const ATTR_SURFACE: &str = "redaction.surface";

/// Metric attribute: [`MODE_APPLY`] or [`MODE_DETECT_ONLY`].
pub const ATTR_MODE: &str = "redaction.mode";

/// Span attribute added (when enabled) to spans that had something redacted: the
/// number of redactions on that span, its events and links.
pub const SPAN_ATTR_REDACTION_COUNT: &str = "redaction.count";

/// Value of [`ATTR_DETECTOR`] for values longer than the scan cap, masked whole.
pub const DETECTOR_OVERSIZE: &str = "oversize";

/// Value of [`ATTR_MODE`]: values were changed.
pub const MODE_APPLY: &str = "apply";
/// Value of [`ATTR_MODE`]: matches were only counted, values left as they were.
pub const MODE_DETECT_ONLY: &str = "detect_only";

/// Surface: the span name.
pub const SURFACE_SPAN_NAME: &str = "span.name";
/// Surface: a span attribute.
pub const SURFACE_SPAN_ATTRIBUTE: &str = "span.attribute";
/// Surface: an event name.
pub const SURFACE_EVENT_NAME: &str = "event.name";
/// Surface: an event attribute (`exception.message`, `exception.stacktrace`, ...).
pub const SURFACE_EVENT_ATTRIBUTE: &str = "event.attribute";
/// Surface: a link attribute.
pub const SURFACE_LINK_ATTRIBUTE: &str = "link.attribute";
/// Surface: the description of an error status.
pub const SURFACE_STATUS_DESCRIPTION: &str = "status.description";
/// Surface: a resource attribute.
pub const SURFACE_RESOURCE_ATTRIBUTE: &str = "resource.attribute";
/// Surface: an instrumentation scope attribute.
pub const SURFACE_SCOPE_ATTRIBUTE: &str = "scope.attribute";
/// Surface: text given directly to [`Redactor::redact_str`](crate::Redactor::redact_str)
/// or [`Redactor::redact_value`](crate::Redactor::redact_value).
pub const SURFACE_TEXT: &str = "text";

/// Meter (instrumentation scope) name used when no meter is supplied.
pub const METER_NAME: &str = "otel-redact";
