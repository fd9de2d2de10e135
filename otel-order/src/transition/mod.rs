//! Status conventions: how long each order spends in each status, which moves it
//! makes, when it fails, and which orders are stuck.
//!
//! # The model
//!
//! An order waits hours or days between statuses, in different services. Keeping a
//! span open for that time is impossible (processes restart) and useless (the span
//! is exported only when it ends). Instead, the [`OrderContext`](crate::OrderContext)
//! carries *when the current status was entered* and *by which span*, across HTTP
//! and AMQP; when a service moves the order on, [`StatusRecorder::transition`]
//! emits one short-lived span that covers the time already spent:
//!
//! ```text
//! 10:00  Shop  span "POST /orders/42/submit"    transition(order, SUBMITTED)
//!              order context now: status=SUBMITTED, entered 10:00, by that span
//!                      ... the context travels in the order header / AMQP message ...
//! 10:25  MES   span "pricing job"               transition(order, PRICE_CALCULATED)
//!              └─ span "order.status SUBMITTED", 10:00 → 10:25, child of "pricing job",
//!                 linked to "POST /orders/42/submit", order.status.next=PRICE_CALCULATED
//! ```
//!
//! | emitted | when | what |
//! |---|---|---|
//! | span `order.status {PREVIOUS}` | every transition with a known previous status | start = previous entered-at, end = now; parent = the caller's span; link = the span that entered the previous status; `order.id`, `order.status` (previous), `order.status.next`, `order.transition.kind`, and with an SLA `order.sla.seconds`, `order.sla.exceeded` |
//! | span `order.status.initial` | first known status (kind `initial`) | zero-length marker at now |
//! | histogram `order.status.duration` (s) | previous status and entered-at known | by `order.status` only, buckets [`DURATION_BUCKETS`] (1 s .. 2 weeks) |
//! | counter `order.status.transitions` | every transition | by `order.status` (absent for `initial`), `order.status.next`, `order.transition.kind` |
//! | counter `order.sla.breaches` | time in the previous status exceeded its SLA | by `order.status` |
//! | span `order.failure` + counter `order.failures` | [`StatusRecorder::failure`] | error status; by `order.status`, `order.failure.reason` |
//! | gauges `order.status.count`, `.oldest_age`, `.over_sla` | every metric collection | from a [`StatusSource`] (see [`stuck`]) |
//!
//! `order.id` is a span attribute only, never a metric attribute.
//!
//! Edge cases, all recorded and none an error:
//! - **Repeat** (e.g. CRM's approval processed twice): a zero-length marker span,
//!   counted with kind `repeat`; no histogram value, and the returned context is the
//!   one given (the duplicate does not restart the status clock).
//! - **Backward**: recorded like a forward move, with error status on the span.
//! - **Entered-at unknown** (missing, dropped as garbled by the propagator, in the
//!   future, or older than [`MAX_STATUS_AGE`](crate::propagation::MAX_STATUS_AGE)):
//!   a zero-length marker span with `order.status.duration_unknown = true`, counted,
//!   no histogram value, no SLA verdict.
//!
//! # Example
//!
//! ```
//! use opentelemetry::trace::TracerProvider;
//! use opentelemetry::Context;
//! use opentelemetry_sdk::trace::SdkTracerProvider;
//! use otel_order::transition::{FailureReason, ManualClock, SlaConfig, StatusRecorder};
//! use otel_order::{OrderContext, OrderContextExt, OrderId, OrderStatus};
//! use std::time::{Duration, SystemTime};
//!
//! let provider = SdkTracerProvider::builder().build();
//! let clock = ManualClock::new(SystemTime::now());
//! let recorder = StatusRecorder::builder()
//!     .tracer(provider.tracer("otel-order"))
//!     .sla(SlaConfig::from_toml_str("[sla]\nSUBMITTED = \"30m\"")?)
//!     .clock(clock.clone())
//!     .build();
//!
//! // The Shop creates and submits the order inside its request span.
//! let order = OrderContext::new(OrderId::new("ORD-42")?);
//! let order = recorder.transition(&order, OrderStatus::Initiated);
//! let order = recorder.transition(&order, OrderStatus::FileUploaded);
//! let order = recorder.transition(&order, OrderStatus::Submitted);
//! assert_eq!(order.entered_at(), Some(clock.now()));
//!
//! // 45 minutes later MES prices it, in the handler of the message that carried the
//! // order context: a 45 min `order.status SUBMITTED` span, over its 30 min SLA.
//! clock.advance(Duration::from_secs(45 * 60));
//! let _attached = Context::current().with_order(order).attach();
//! let cx = recorder.transition_current(OrderStatus::PriceCalculated);
//! let order = cx.as_ref().and_then(|cx| cx.order()).ok_or("no order in context")?;
//! assert_eq!(order.status(), Some(OrderStatus::PriceCalculated));
//!
//! recorder.failure(order, FailureReason::Timeout);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod clock;
pub mod failure;
mod metrics;
mod recorder;
pub mod sla;
pub mod stuck;

pub use clock::{Clock, ManualClock, SystemClock};
pub use failure::FailureReason;
pub use metrics::DURATION_BUCKETS;
pub use recorder::{StatusRecorder, StatusRecorderBuilder};
pub use sla::{parse_duration, DurationError, SlaConfig, SlaConfigError};
pub use stuck::{StatusSnapshot, StatusSource};
