//! Keeps personal data and secrets out of every exported OpenTelemetry span —
//! without mangling trace ids, timestamps, prices or order ids, and at the cost of
//! about one pass over the bytes.
//!
//! # The model
//!
//! A [`Redactor`] is one compiled rule set with three kinds of rules:
//!
//! - **Detectors** scan text for values that are sensitive wherever they appear:
//!   e-mail, phone numbers (Russian `+7`/`8` formats and E.164), Russian passports,
//!   bank cards (Luhn + issuer prefix, Mir included), SNILS and INN (checksums),
//!   full names (Cyrillic or transliterated, anchored by a patronymic or by
//!   initials), and secrets (bearer tokens, JWTs, credentials in URLs,
//!   `password=`-style parameters). Each has validation so that lookalikes
//!   survive; see [`Detector`]. Custom regex rules can be added.
//! - **Key rules** judge a value by its attribute key: values under `password`,
//!   `token`, `authorization`, `cookie`, `phone`, `email`, `passport`, person `name`
//!   keys and the like are replaced whole, whatever their type; keys such as
//!   `order.id`, `trace_id`, `messaging.message.id` are never touched.
//! - An **action** says what replaces a match: a typed mask `[REDACTED:phone]`, a
//!   keyed hash `[HASH:phone:k1:3f2a9c1b0d4e5f67]` for pseudonymous correlation, or
//!   removal. See [`Action`].
//!
//! Text goes first through a byte pre-filter that decides which detectors could
//! match at all; clean text stops there and comes back as [`Cow::Borrowed`]
//! (no allocation). Overlapping matches are resolved by one rule — leftmost, then
//! longest, then detector priority — and the text is rewritten in one pass. Values
//! longer than the scan cap (64 KiB by default) are replaced whole.
//!
//! # Cost on a span
//!
//! Most of a span's strings have been seen before, and the processor does not scan
//! them again:
//!
//! - **Literals** (attribute keys, most span and event names, values such as `GET`
//!   or `PAID`) are recognised by their address: on Linux the read-only mappings of
//!   the executable are read once from `/proc/self/maps`, and a verdict found for a
//!   string there is kept in a lock-free table shared by all threads. Bytes in those
//!   mappings never change, so the verdict holds for as long as the process runs.
//! - **Short texts found clean** (up to 128 bytes: a route, a host, a client's user
//!   agent) are remembered per thread by content, compared whole on lookup.
//! - **Their shapes** (up to 64 bytes, each digit replaced by its class) are
//!   remembered too when the byte pre-filter found the text clean: its verdict
//!   never depends on which digit is where, so a path with a new order id on every
//!   span (`/api/v1/orders/ORD-2026-000123`) is known clean from its shape. A text
//!   the detectors themselves found clean (a number failing Luhn) is never
//!   remembered by shape.
//! - **Values of up to 64 bytes** are classified with SSE2 (on `x86_64`) into
//!   per-byte masks, so the digit detectors only run when 9 digits stand in one
//!   cluster that is not glued to a word or number (an order id in a path, a user
//!   agent's version numbers and a timestamp do not qualify).
//! - **Longer texts** (log lines, messages) are classified 64 bytes at a time, also
//!   on `x86_64`, in one pass that decides every gate from the masks and hands the
//!   detectors only the digit clusters and `=`/`:` they start from.
//!
//! Only texts with no match are remembered; anything that needs a mask is scanned
//! every time.
//!
//! [`RedactingProcessor`] wraps the span processor that exports, and
//! [`RedactingExporter`] wraps an exporter; both redact the span name, attributes of
//! every type, event names and attributes, link attributes, the error status
//! description, scope attributes and the resource. Each redaction is counted on the
//! `redaction.applied` counter (by rule and surface, never values); a detect-only mode
//! counts without changing anything. Names on the wire are in [`names`].
//!
//! # Example
//!
//! ```
//! use otel_redact::{RedactingProcessor, Redactor};
//! use opentelemetry::trace::{Span, Tracer, TracerProvider};
//! use opentelemetry::KeyValue;
//! use opentelemetry_sdk::trace::{SdkTracerProvider, SimpleSpanProcessor};
//! # use opentelemetry_sdk::{error::OTelSdkResult, trace::{SpanData, SpanExporter}};
//! # #[derive(Debug)]
//! # struct StdoutExporter;
//! # impl SpanExporter for StdoutExporter {
//! #     fn export(&self, batch: Vec<SpanData>) -> impl std::future::Future<Output = OTelSdkResult> + Send {
//! #         for span in batch {
//! #             assert_eq!(span.name, "order for [REDACTED:email]");
//! #             assert_eq!(span.attributes[0].value.as_str(), "[REDACTED:phone]");
//! #         }
//! #         std::future::ready(Ok(()))
//! #     }
//! # }
//!
//! let redactor = Redactor::builder().record_span_count(true).build()?;
//! let provider = SdkTracerProvider::builder()
//!     .with_span_processor(RedactingProcessor::new(
//!         SimpleSpanProcessor::new(StdoutExporter),
//!         redactor.clone(),
//!     ))
//!     .build();
//!
//! let tracer = provider.tracer("checkout");
//! let mut span = tracer.start("order for ivan.petrov@example.ru");
//! span.set_attribute(KeyValue::new("customer.phone", "+7 916 123-45-67"));
//! span.set_attribute(KeyValue::new("order.id", "ORD-2026-000123"));
//! span.end();
//!
//! // The same rules work on any text, e.g. a log line:
//! assert_eq!(
//!     redactor.redact_str("card 2200 1234 5678 9019 declined"),
//!     "card [REDACTED:card] declined"
//! );
//! # provider.shutdown().ok();
//! # Ok::<(), otel_redact::RedactError>(())
//! ```
//!
//! # Key rules
//!
//! Keys are split into lower-cased segments at `.`, `_`, `-`, `/`, spaces and camelCase
//! humps; a sensitive pattern matches when its segments appear consecutively in the
//! key (`access_token` matches `token`, `input_tokens` does not). `name` is sensitive
//! only as a person's name: the key is `name`, or has `full_name`/`surname`/`fio`-like
//! segments, or `name` right after a person word (`customer.name`, `user.name`) —
//! never `service.name`, `messaging.destination.name`, `host.name`. The default
//! patterns are listed in the crate README.
//!
//! [`Cow::Borrowed`]: std::borrow::Cow::Borrowed

#![warn(missing_docs)]

pub mod action;
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod blocks;
mod builder;
mod detectors;
mod error;
mod exporter;
mod image;
mod keys;
mod label;
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod masks;
mod metrics;
pub mod names;
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod pass;
mod prefilter;
mod processor;
mod recent;
mod redactor;
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod regions;
mod rules;
mod scan;
mod shape;
mod span;
mod value;

pub use action::Action;
pub use builder::{RedactorBuilder, DEFAULT_MAX_SCAN_LEN};
pub use detectors::Detector;
pub use error::RedactError;
pub use exporter::RedactingExporter;
pub use label::MAX_LABEL_LEN;
pub use processor::RedactingProcessor;
pub use redactor::{Finding, Redactor};
pub use value::ValueRedaction;

pub use opentelemetry;
pub use opentelemetry_sdk;

/// The README's examples, compiled and run as doctests so they cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
