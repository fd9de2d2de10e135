//! `http::HeaderMap` as an OpenTelemetry carrier.

use http::header::{HeaderName, HeaderValue};
use http::HeaderMap;
use opentelemetry::propagation::{Extractor, Injector};

/// Reads propagation fields from request or response headers.
///
/// Values that are not visible ASCII are invisible to propagators (they cannot be
/// handed over as `&str`); [`get_all`](Extractor::get_all) reports every repeat of a
/// header so a propagator can refuse conflicting values.
pub struct HeaderExtractor<'a>(pub &'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let mut values = self.0.get_all(key).iter();
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
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// Whether `header` is present with a value that is not visible ASCII (and so was
/// invisible to the extractor).
pub(crate) fn has_opaque_value(headers: &HeaderMap, header: &str) -> bool {
    headers.get_all(header).iter().any(|v| v.to_str().is_err())
}
