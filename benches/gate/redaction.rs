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
    // Met (issue 5), held strictly. Session 6's machine (Intel Xeon, 2 cores)
    // read 1.14-1.18 while it ran at full speed and 1.19-1.25 (median 1.20) while
    // it ran at about 70% speed: 40 of 40 runs met it, one on its second attempt.
    // Session 5's machine (AMD EPYC) read 1.28-1.33 at reduced speed with 70
    // instructions more per span, so a machine in that state can fail this.
    // The span is shaped as the HTTP server layer makes it: request values are
    // fresh strings, each span is another order's, from one of 64 clients.
    // Callgrind per span: SDK alone 6.5k instructions, the redactor adds 1.58k:
    // ~1.12k for the walk over 14 attributes (~50 each: decoding key and value,
    // a lookup for the key and one for a string value, the branches between),
    // ~0.2k for the path with a new order id (known clean by its shape), ~0.16k
    // for the surfaces and names, ~0.14k per span.
    measure_with_floor(
        "redacting processor vs none, clean span (10 attributes, 2 events)",
        Rule::AtMost(1.25),
        None,
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
    // Met (issue 5): session 6's machine read 10.8-10.9x at full speed
    // (redactor 1.56 us, naive 16.9 us per 1.6 KB) and 6.9-7.6x at reduced
    // speed, where the redactor's SIMD-dense pass slows more than the regexes.
    // 33.9k instructions per scan since session 5's one pass of block masks
    // (53.8k before; naive 99.2k). Session 5's machine read 8.70-8.75x.
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
