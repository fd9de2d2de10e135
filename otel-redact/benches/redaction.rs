//! Cost of redaction, both variants measured in one run:
//!
//! - `span/*`: creating and ending a typical clean span (10 attributes, 2 events)
//!   through `SdkTracerProvider` with a discarding exporter, with and without
//!   `RedactingProcessor` in front of the same `SimpleSpanProcessor`.
//! - `scan_*/*`: throughput of `Redactor::redact_str` against the naive approach
//!   (each rule's regex `replace_all` in turn, as a Collector redaction config does),
//!   on clean text and on PII-dense text.
//!
//! Run: `cargo bench -p otel-redact -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use otel_redact::opentelemetry_sdk::trace::{SdkTracerProvider, SimpleSpanProcessor};
use otel_redact::{RedactingProcessor, Redactor};

mod workloads;

use workloads::{
    naive, naive_rules, typical_span, typical_span_literals, Discard, CLEAN_LOG, CLEAN_PROSE,
    PII_DENSE,
};

fn bench_span(c: &mut Criterion) {
    let plain = SdkTracerProvider::builder()
        .with_span_processor(SimpleSpanProcessor::new(Discard))
        .build();
    let redacting = SdkTracerProvider::builder()
        .with_span_processor(RedactingProcessor::new(
            SimpleSpanProcessor::new(Discard),
            Redactor::default(),
        ))
        .build();
    let mut g = c.benchmark_group("span");
    g.bench_function("sdk_only", |b| b.iter(|| typical_span(&plain)));
    g.bench_function("with_redaction", |b| b.iter(|| typical_span(&redacting)));
    g.bench_function("sdk_only_literals", |b| {
        b.iter(|| typical_span_literals(&plain))
    });
    g.bench_function("with_redaction_literals", |b| {
        b.iter(|| typical_span_literals(&redacting))
    });
    g.finish();
}

fn bench_scan(c: &mut Criterion) {
    let redactor = Redactor::default();
    let rules = naive_rules();
    for (group, unit) in [
        ("scan_clean_log", CLEAN_LOG),
        ("scan_clean_prose", CLEAN_PROSE),
        ("scan_pii_dense", PII_DENSE),
    ] {
        let text = unit.repeat(4);
        let mut g = c.benchmark_group(group);
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function("redactor", |b| {
            b.iter(|| redactor.redact_str(black_box(&text)).len())
        });
        g.bench_function("naive", |b| b.iter(|| naive(&rules, black_box(&text))));
        g.finish();
    }
}

criterion_group!(benches, bench_span, bench_scan);
criterion_main!(benches);
