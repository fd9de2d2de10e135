//! Trace and order context across HTTP.
//!
//! - Servers: [`OrderTraceLayer`], a tower layer (use it with axum's `Router::layer`).
//!   It extracts W3C trace-context and the order headers, opens a `SERVER` span named
//!   `{method} {route template}` with the HTTP semantic-convention attributes and
//!   `order.id`, records `http.server.request.duration`, and runs the handler inside
//!   the span's context, so `#[tracing::instrument]` spans (through
//!   `tracing-opentelemetry`) and raw OpenTelemetry spans become its children.
//!   Handlers get the [`OrderContext`](crate::OrderContext) as an axum extractor.
//! - Clients: [`OrderTraceMiddleware`] for `reqwest-middleware`: a `CLIENT` span,
//!   `traceparent` everywhere, order headers only to hosts on a [`HostAllowList`].
//!
//! ```
//! use axum::{routing::post, Router};
//! use otel_order::http::{HostAllowList, OrderTraceLayer, OrderTraceMiddleware};
//! use otel_order::OrderContext;
//!
//! async fn approve(order: OrderContext) -> String {
//!     format!("approved {}", order.order_id())
//! }
//!
//! let app: Router = Router::new()
//!     .route("/orders/{id}/approve", post(approve))
//!     .layer(OrderTraceLayer::new());
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(
//!         OrderTraceMiddleware::builder()
//!             .allow_order_headers_to(HostAllowList::new(["mes.internal"]))
//!             .build(),
//!     )
//!     .build();
//! ```

mod allow_list;
#[cfg(feature = "reqwest")]
mod client;
#[cfg(feature = "axum")]
mod extract;
mod headers;
mod instruments;
pub mod semconv;
mod server;
mod server_future;

pub use allow_list::HostAllowList;
#[cfg(feature = "reqwest")]
pub use client::{NoTrace, OrderTraceMiddleware, OrderTraceMiddlewareBuilder, UrlTemplate};
#[cfg(feature = "axum")]
pub use extract::MissingOrderContext;
pub use headers::{HeaderExtractor, HeaderInjector};
pub use server::{OrderTraceLayer, OrderTraceLayerBuilder, OrderTraceService};
pub use server_future::ResponseFuture;
