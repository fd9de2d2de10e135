//! What the services' HTTP handlers share: the error response, and answering with
//! the order's trace context so the caller can continue the order's trace.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use opentelemetry::Context;
use otel_order::{OrderContext, OrderContextExt, OrderId};

use crate::telemetry::inject_headers;

/// A handler's error: status and a short message (never customer data).
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl ApiError {
    /// 404 for an order this service does not know.
    pub fn unknown_order(id: &str) -> Self {
        ApiError(StatusCode::NOT_FOUND, format!("no order {id}"))
    }

    /// 409: the order is not in a status that allows the step.
    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError(StatusCode::CONFLICT, message.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

/// Validate an order id from a path or body.
pub fn order_id(id: &str) -> Result<OrderId, ApiError> {
    OrderId::new(id).map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.to_string()))
}

/// `body` with `traceparent` and `ordertrace-order` of the current span and `order`.
pub fn with_order_context(
    status: StatusCode,
    order: &OrderContext,
    body: serde_json::Value,
) -> Response {
    let mut response = (status, Json(body)).into_response();
    let cx = Context::current().with_order(order.clone());
    inject_headers(&cx, response.headers_mut());
    response
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
