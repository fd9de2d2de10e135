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
    // On the line (issue 5): 1.22-1.25 on a quiet 2-core machine in session 5 while
    // it ran at full speed, 1.28-1.33 while it ran at about 60% speed (the code
    // before that session: 1.29-1.31 and 1.30-1.35).
    // The span is shaped as the HTTP server layer makes it: request values are
    // fresh strings, each span is another order's, from one of 64 clients.
    // Callgrind per span: SDK alone 6.5k instructions, the redactor adds 1.65k
    // (2.15k before the shape cache): ~1.17k for the walk over 14 attributes (a
    // literal-table lookup per key, a literal-table or per-thread-cache lookup per
    // string value), ~0.23k for the path with a new order id (known clean by its
    // shape), ~0.17k for the surfaces and names, ~0.13k per span.
    // The floor leaves room for a loaded machine.
    measure_with_floor(
        "redacting processor vs none, clean span (10 attributes, 2 events)",
        Rule::AtMost(1.25),
        Some(Rule::AtMost(1.6)),
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
    // Met (issue 5): 8.70-8.75x in session 5 (redactor 2.35 us, naive 20.5 us per
    // 1.6 KB), since long texts are taken in one pass of block masks (33.6k
    // instructions per scan, 53.8k before). Before that pass this machine read
    // 5.64-5.66x, session 4's (the same code, another CPU) 3.70-3.82x and session
    // 3's 6.05-6.23x. Scaled by the instructions saved, the slowest of those CPUs
    // would read about 6x now, so the budget is held strictly again: the 3.3x
    // floor it had while it was missed is gone.
    measure_with_floor(
        "redactor vs naive per-rule regex, clean text",
        Rule::SpeedupAtLeast(5.0),
        None,
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
