//! Budgets of otel-redact: the redacting processor on a clean span, and the
//! redactor's scanning against the naive per-rule `replace_all`.

use std::hint::black_box;

use opentelemetry_sdk::trace::{SdkTracerProvider, SimpleSpanProcessor};
use otel_redact::{RedactingProcessor, Redactor};

use crate::harness::{measure_with_floor, Outcome, Rule};
use crate::pipeline::Pipeline;
use crate::{alloc_count, Report};

#[path = "../../otel-redact/benches/workloads.rs"]
mod workloads;

/// A typical clean span created and ended through the SDK, with the redacting
/// processor in front of the exporting one against without it.
pub fn processor(_: &Pipeline, report: &mut Report) -> Outcome {
    let plain = SdkTracerProvider::builder()
        .with_span_processor(SimpleSpanProcessor::new(workloads::Discard))
        .build();
    let redacting = SdkTracerProvider::builder()
        .with_span_processor(RedactingProcessor::new(
            SimpleSpanProcessor::new(workloads::Discard),
            Redactor::default(),
        ))
        .build();
    let with = alloc_count::per_op(5_000, || workloads::typical_span(&redacting));
    let without = alloc_count::per_op(5_000, || workloads::typical_span(&plain));
    report.allocations.push((
        "redacting processor, clean span (added to the SDK's own)".into(),
        with - without,
    ));
    let (r, p) = (&redacting, &plain);
    // Target missed (issue 5): 2.0-2.5x after the clean-path work of this round
    // (was 2.5-3.2x; load average 5-7). Callgrind per span: SDK alone 3.7k
    // instructions, the redactor adds 7.3k (was 9.8k); the budget needs ~0.9k.
    // Single readings near 1.0 happen when the plain side is slowed by the load;
    // the floor is just beyond the worst reading.
    measure_with_floor(
        "redacting processor vs none, clean span (10 attributes, 2 events)",
        Rule::AtMost(1.25),
        Some(Rule::AtMost(2.8)),
        vec![
            (
                "redacting",
                Box::new(move |n| (0..n).for_each(|_| workloads::typical_span(r))),
            ),
            (
                "plain",
                Box::new(move |n| (0..n).for_each(|_| workloads::typical_span(p))),
            ),
        ],
    )
}

/// Scanning clean log text: the redactor against the naive approach.
pub fn scan(_: &Pipeline, report: &mut Report) -> Outcome {
    let redactor = Redactor::default();
    let rules = workloads::naive_rules();
    let text = workloads::CLEAN_LOG.repeat(4);
    report.allocations.push((
        "redactor on clean text".into(),
        alloc_count::per_op(10_000, || {
            black_box(redactor.redact_str(black_box(&text)));
        }),
    ));
    let (redactor, rules, t1, t2) = (&redactor, &rules, &text, &text);
    // At the target on log-like text (issue 5): 4.9-5.5x after this round (was
    // 2.2-3.7x; load average 5-7), 3.9-6.4x under heavier load; prose 13x. Kept
    // with a floor because one reading in six still lands just under 5x on this
    // machine; the floor is just beyond the worst reading.
    measure_with_floor(
        "redactor vs naive per-rule regex, clean text",
        Rule::SpeedupAtLeast(5.0),
        Some(Rule::SpeedupAtLeast(3.8)),
        vec![
            (
                "redactor",
                Box::new(move |n| {
                    (0..n).for_each(|_| {
                        black_box(redactor.redact_str(black_box(t1)).len());
                    })
                }),
            ),
            (
                "naive",
                Box::new(move |n| {
                    (0..n).for_each(|_| {
                        black_box(workloads::naive(rules, black_box(t2)));
                    })
                }),
            ),
        ],
    )
}
