//! HTTP semantic-convention helpers shared by the server layer and the client
//! middleware: bounded method names, duration buckets, protocol versions.

use http::{Method, Version};

/// Explicit bucket boundaries (seconds) the HTTP semantic conventions advise for
/// `http.server.request.duration` and `http.client.request.duration`.
pub const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The method as the conventions want it on spans and metrics: a known method's
/// name, or `_OTHER` so an attacker's made-up methods cannot grow a metric's series.
pub fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "_OTHER",
    }
}

/// `network.protocol.version` for an HTTP version.
pub fn protocol_version(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_11 => "1.1",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => "_OTHER",
    }
}

/// `http.response.status_code` values are bounded by the HTTP grammar (100..=999);
/// anything else is not a status code we would label a metric with.
pub fn status_code(code: http::StatusCode) -> i64 {
    i64::from(code.as_u16())
}
