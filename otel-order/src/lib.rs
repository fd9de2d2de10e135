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
//! - [`traceparent`] — the canonical W3C `traceparent` value written and read
//!   without allocating (the order header's `by` field, and otel-amqp's headers).
//! - [`lifecycle`] — which moves are legal, and [`classify`] for observed ones.
//! - [`transition`] — status conventions: [`StatusRecorder`] records each move as a
//!   short span covering the time in the previous status, plus time-in-status,
//!   transition, failure and SLA metrics and stuck-order gauges.
//! - [`sampler`] — [`OrderSampler`] keeps all traces of a sampled order, or none.
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
pub mod sampler;
pub mod span_processor;
pub mod status;
pub mod traceparent;
pub mod transition;

pub use context::{OrderContext, OrderContextExt};
pub use lifecycle::{classify, TransitionKind};
pub use order_id::{InvalidOrderId, OrderId, MAX_ORDER_ID_LEN};
pub use propagation::{OrderContextPropagator, RejectReason};
pub use sampler::OrderSampler;
pub use span_processor::{explicit_order_id, OrderSpanProcessor, OrderSpanProcessorWrapping};
pub use status::{OrderStatus, System, UnknownStatus};
pub use transition::{FailureReason, SlaConfig, StatusRecorder};

/// The OpenTelemetry API crate this crate is built against, so users need not match
/// versions by hand.
pub use opentelemetry;
/// The OpenTelemetry SDK crate this crate is built against.
pub use opentelemetry_sdk;
