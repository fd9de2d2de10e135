//! Follow a customer order through OpenTelemetry traces.
//!
//! An order moves through ten statuses ([`OrderStatus`]) across the Shop, CRM and MES
//! systems. This crate gives every span of that journey the order's business key and
//! status:
//!
//! - [`OrderContext`] — which order the current work is for, its status, when that
//!   status was entered and by which span. It lives in the OpenTelemetry
//!   [`Context`](opentelemetry::Context) ([`OrderContextExt`]).
//! - [`OrderContextPropagator`] — carries it in its own `ordertrace-*` headers,
//!   validating every inbound value; compose it with W3C trace-context.
//! - [`lifecycle`] — which moves are legal, and [`classify`] for observed ones.
//! - [`http`] — a tower layer for servers (axum) and a `reqwest-middleware`
//!   middleware for clients that carry trace and order context across HTTP.
//!
//! ```
//! use otel_order::{classify, OrderContext, OrderId, OrderStatus, TransitionKind};
//!
//! let order = OrderContext::new(OrderId::new("ORD-2026-000123")?)
//!     .with_status_only(OrderStatus::ManufacturingApproved);
//! // CRM's approval arrives a second time: the "processed twice" signal.
//! let kind = classify(order.status(), OrderStatus::ManufacturingApproved);
//! assert_eq!(kind, TransitionKind::Repeat);
//! # Ok::<(), otel_order::InvalidOrderId>(())
//! ```
#![warn(missing_docs)]

pub mod context;
pub mod http;
pub mod lifecycle;
pub mod names;
pub mod order_id;
pub mod propagation;
pub mod status;

pub use context::{OrderContext, OrderContextExt};
pub use lifecycle::{classify, TransitionKind};
pub use order_id::{InvalidOrderId, OrderId, MAX_ORDER_ID_LEN};
pub use propagation::{OrderContextPropagator, RejectReason};
pub use status::{OrderStatus, System, UnknownStatus};

/// The OpenTelemetry API crate this crate is built against, so users need not match
/// versions by hand.
pub use opentelemetry;
