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
    // Target missed (issue 5), narrowly: 1.27-1.31 on a quiet 2-core machine (the
    // code before the one-pass masks and the once-per-span cache borrow read
    // 1.35-1.41 on the same machine). The span is shaped as the HTTP server layer makes it:
    // request values are fresh strings, each span is another order's, from one of
    // 64 clients. Callgrind per span: SDK alone 6.5k instructions, the redactor adds
    // 2.1k (3.0k before those changes): ~0.7k for the one value new on every span (the
    // path with an order id: cache miss, SSE2 masks, remembered once), ~1.25k for
    // the walk over 14 attributes and 3 names (a literal-table lookup per key, a
    // literal-table or per-thread-cache lookup per string value), ~0.2k per span.
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
    // Met on one machine, missed on another (issue 5). Session 3's machine read
    // 6.05-6.23x (4.2-5.1x before long texts ran the digit-cluster scan only over
    // clusters that can hold a window). Session 4's machine (AMD EPYC, 2.0 GHz)
    // reads 3.70-3.82x for the same code and for the code before that session
    // alike: the same instructions per scan (callgrind), but the redactor takes
    // 6.2 us there against 2.9 us, the naive regexes 23.5 us against 17.5 us. The
    // floor sits beyond the worst ratio measured there.
    measure_with_floor(
        "redactor vs naive per-rule regex, clean text",
        Rule::SpeedupAtLeast(5.0),
        Some(Rule::SpeedupAtLeast(3.3)),
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
