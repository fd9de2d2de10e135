//! axum extractors for the [`OrderContext`] the server layer found.
//!
//! `OrderContext` rejects a request without one (400); `Option<OrderContext>` never
//! rejects. Both read what [`OrderTraceLayer`](super::OrderTraceLayer) put into the
//! request extensions, so they need the layer.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::OrderContext;

/// The request carried no valid order context.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("request has no valid order context (ordertrace-order-id header)")]
pub struct MissingOrderContext;

impl IntoResponse for MissingOrderContext {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, self.to_string()).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for OrderContext {
    type Rejection = MissingOrderContext;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<OrderContext>()
            .cloned()
            .ok_or(MissingOrderContext)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for OrderContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<OrderContext>().cloned())
    }
}
