//! `http::HeaderMap` as an OpenTelemetry carrier.

use http::header::{HeaderName, HeaderValue};
use http::HeaderMap;
use opentelemetry::propagation::{Extractor, Injector};

use crate::names::HEADER_ORDER;

/// Reads propagation fields from request or response headers.
///
/// Values that are not visible ASCII are invisible to propagators (they cannot be
/// handed over as `&str`); [`get_all`](Extractor::get_all) reports every repeat of a
/// header so a propagator can refuse conflicting values.
pub struct HeaderExtractor<'a>(pub &'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        let value = match known_name(key) {
            Some(name) => self.0.get(name),
            None => self.0.get(key),
        };
        value.and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let mut values = match known_name(key) {
            Some(name) => self.0.get_all(name).iter(),
            None => self.0.get_all(key).iter(),
        };
        let first = values.next()?;
        // The common case, one value, needs no Vec: `None` means "nothing beyond get()".
        let second = values.next()?;
        let mut all = vec![first.to_str().ok()?, second.to_str().unwrap_or("\u{0}")];
        all.extend(values.map(|v| v.to_str().unwrap_or("\u{0}")));
        Some(all)
    }
}

/// Writes propagation fields into request headers. Values that are not valid header
/// values are skipped rather than failing the request.
pub struct HeaderInjector<'a>(pub &'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        let Ok(value) = HeaderValue::try_from(value) else {
            return;
        };
        if let Some(name) = known_name(key) {
            self.0.insert(name.clone(), value);
        } else if let Ok(name) = HeaderName::from_bytes(key.as_bytes()) {
            self.0.insert(name, value);
        }
    }
}

/// Pre-parsed names for the headers propagation touches on every request: parsing a
/// header name from `&str` validates it each time, and allocates when inserting.
fn known_name(key: &str) -> Option<&'static HeaderName> {
    static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
    static TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
    static ORDER: HeaderName = HeaderName::from_static(HEADER_ORDER);
    match key {
        "traceparent" => Some(&TRACEPARENT),
        "tracestate" => Some(&TRACESTATE),
        HEADER_ORDER => Some(&ORDER),
        _ => None,
    }
}

/// Whether `header` is present with a value that is not visible ASCII (and so was
/// invisible to the extractor).
pub(crate) fn has_opaque_value(headers: &HeaderMap, header: &str) -> bool {
    headers.get_all(header).iter().any(|v| v.to_str().is_err())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_replace_earlier_ones_and_invalid_ones_are_skipped() {
        let mut headers = HeaderMap::new();
        headers.insert("tracestate", HeaderValue::from_static("stale=1"));
        let mut injector = HeaderInjector(&mut headers);
        injector.set("tracestate", String::new());
        injector.set(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
        );
        injector.set("x-bad", "line\nbreak".into());
        injector.set("bad name", "v".into());
        assert_eq!(headers.get("tracestate").unwrap(), "");
        assert!(headers.get("traceparent").is_some());
        assert!(headers.get("x-bad").is_none());
        assert_eq!(headers.len(), 2);
    }
}
