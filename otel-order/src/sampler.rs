//! Per-order consistent sampling: keep every trace of an order, or none.
//!
//! An order's journey is many traces: a Shop request, an MES job started by a
//! message, an operator's click days later. Sampling each trace independently keeps
//! a random subset of hops, and a half-kept order answers no question. [`OrderSampler`]
//! decides from the **order id** instead, with a hash fixed for all time, so every
//! service, every process and every day reaches the same verdict for the same order.
//!
//! Decision, per span:
//! 1. a valid parent span context (local or remote): follow it (sampled → keep,
//!    not sampled → drop), like `ParentBased`;
//! 2. a root span with an order id — the span's `order.id` attribute, else the
//!    [`OrderContext`] of the parent [`Context`] — keep when the order's hash falls
//!    below the ratio;
//! 3. a root span with no order id: `TraceIdRatioBased(ratio)`.
//!
//! The hash is FNV-1a 64 over the id's UTF-8 bytes followed by the SplitMix64
//! finaliser (for well-spread high bits); the order is kept when
//! `hash < ratio × 2^64`. Services in other languages reproduce it in a few lines.
//!
//! ```
//! use opentelemetry_sdk::trace::SdkTracerProvider;
//! use otel_order::sampler::OrderSampler;
//!
//! let sampler = OrderSampler::new(0.10);
//! assert_eq!(sampler.keeps_order("ORD-2026-000123"), sampler.keeps_order("ORD-2026-000123"));
//! let provider = SdkTracerProvider::builder().with_sampler(sampler).build();
//! # drop(provider);
//! ```

use opentelemetry::trace::{Link, SpanKind, TraceContextExt, TraceId, TraceState};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::trace::{Sampler, SamplingDecision, SamplingResult, ShouldSample};

use crate::names::ORDER_ID;
use crate::OrderContextExt;

#[cfg(doc)]
use crate::OrderContext;

/// A sampler that keeps a fixed fraction of orders, all of each kept order's spans.
///
/// See the [module documentation](self) for the decision rules.
#[derive(Clone, Debug)]
pub struct OrderSampler {
    ratio: f64,
    /// Orders with `hash < threshold` are kept; `None` keeps every order.
    threshold: Option<u64>,
    fallback: Sampler,
}

impl OrderSampler {
    /// Keep `ratio` of orders (clamped to `0.0..=1.0`; NaN keeps none), and the same
    /// ratio of traces that carry no order id.
    pub fn new(ratio: f64) -> Self {
        let ratio = if ratio.is_nan() {
            0.0
        } else {
            ratio.clamp(0.0, 1.0)
        };
        let threshold = if ratio >= 1.0 {
            None
        } else {
            // 2^64 × ratio, exact enough: f64 has 53 bits of mantissa.
            Some((ratio * 18_446_744_073_709_551_616.0) as u64)
        };
        OrderSampler {
            ratio,
            threshold,
            fallback: Sampler::TraceIdRatioBased(ratio),
        }
    }

    /// The fraction of orders kept.
    pub fn ratio(&self) -> f64 {
        self.ratio
    }

    /// Whether spans of the order `order_id` are kept when they start a trace.
    pub fn keeps_order(&self, order_id: &str) -> bool {
        match self.threshold {
            None => true,
            Some(threshold) => order_hash(order_id) < threshold,
        }
    }
}

/// FNV-1a 64 then the SplitMix64 finaliser: stable across processes, platforms and
/// releases (unlike `std`'s randomly keyed hasher).
pub fn order_hash(order_id: &str) -> u64 {
    const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = FNV_OFFSET;
    for &b in order_id.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

fn keep(decision: bool) -> SamplingDecision {
    if decision {
        SamplingDecision::RecordAndSample
    } else {
        SamplingDecision::Drop
    }
}

impl ShouldSample for OrderSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        if let Some(cx) = parent_context {
            let span = cx.span();
            let parent = span.span_context();
            if parent.is_valid() {
                return SamplingResult {
                    decision: keep(parent.is_sampled()),
                    attributes: Vec::new(),
                    trace_state: parent.trace_state().clone(),
                };
            }
        }
        let from_attributes = attributes.iter().find_map(|kv| match &kv.value {
            Value::String(id) if kv.key.as_str() == ORDER_ID => Some(self.keeps_order(id.as_str())),
            _ => None,
        });
        let from_context = || {
            parent_context
                .and_then(|cx| cx.order())
                .map(|order| self.keeps_order(order.order_id().as_str()))
        };
        let decision = match from_attributes.or_else(from_context) {
            Some(kept) => keep(kept),
            None => {
                self.fallback
                    .should_sample(parent_context, trace_id, name, span_kind, attributes, links)
                    .decision
            }
        };
        SamplingResult {
            decision,
            attributes: Vec::new(),
            trace_state: TraceState::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_pinned_so_every_service_agrees() {
        // Changing these values changes which orders every deployed service keeps;
        // they match a 5-line Python reimplementation of the documented algorithm.
        assert_eq!(order_hash(""), 0xf52a_15e9_a9b5_e89b);
        assert_eq!(order_hash("ORD-2026-000123"), 0x698c_6dd4_ad64_0b5a);
        assert_eq!(order_hash("ORD-2026-000124"), 0x243b_367b_9211_2b37);
    }

    #[test]
    fn ratio_edges_keep_all_or_nothing() {
        assert!(OrderSampler::new(1.0).keeps_order("x"));
        assert!(OrderSampler::new(7.0).keeps_order("x"));
        assert!(!OrderSampler::new(0.0).keeps_order("x"));
        assert!(!OrderSampler::new(f64::NAN).keeps_order("x"));
    }
}
