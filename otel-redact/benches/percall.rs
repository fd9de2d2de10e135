//! Deterministic per-operation cost for profiling under
//! `valgrind --tool=callgrind`, where instruction counts do not depend on machine
//! load (wall-clock benches on a shared machine do). Runs one workload of
//! [`workloads`] `PERCALL_N` times (default 10 000) after 500 warm-up runs:
//!
//! - `PERCALL_MODE=plain`: the typical clean span through the SDK alone;
//! - `redacting`: the same with `RedactingProcessor` in front;
//! - `plain-literals`, `redacting-literals`: the same span with every string a
//!   literal;
//! - `scan`: `Redactor::redact_str` on the clean log text (×4, as the budget);
//! - `naive`: the naive per-rule `replace_all` on the same text.
//!
//! Instructions per operation = (total at N₂ − total at N₁) / (N₂ − N₁), which
//! cancels start-up:
//!
//! ```text
//! cargo bench -p otel-redact --bench percall --no-run
//! PERCALL_MODE=redacting PERCALL_N=2000 valgrind --tool=callgrind target/release/deps/percall-*
//! ```

use std::hint::black_box;

use otel_redact::opentelemetry_sdk::trace::{SdkTracerProvider, SimpleSpanProcessor};
use otel_redact::{RedactingProcessor, Redactor};

mod workloads;

fn main() {
    let mode = std::env::var("PERCALL_MODE").unwrap_or_default();
    let n: usize = std::env::var("PERCALL_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let mut run: Box<dyn FnMut()> = match mode.as_str() {
        "plain" | "redacting" | "plain-literals" | "redacting-literals" => {
            let builder = SdkTracerProvider::builder();
            let provider = if mode.starts_with("plain") {
                builder.with_span_processor(SimpleSpanProcessor::new(workloads::Discard))
            } else {
                builder.with_span_processor(RedactingProcessor::new(
                    SimpleSpanProcessor::new(workloads::Discard),
                    Redactor::default(),
                ))
            }
            .build();
            if mode.ends_with("literals") {
                Box::new(move || workloads::typical_span_literals(&provider))
            } else {
                Box::new(move || workloads::typical_span(&provider))
            }
        }
        "scan" => {
            let redactor = Redactor::default();
            let text = workloads::CLEAN_LOG.repeat(4);
            Box::new(move || {
                black_box(redactor.redact_str(black_box(&text)).len());
            })
        }
        "naive" => {
            let rules = workloads::naive_rules();
            let text = workloads::CLEAN_LOG.repeat(4);
            Box::new(move || {
                black_box(workloads::naive(&rules, black_box(&text)));
            })
        }
        other => {
            eprintln!("PERCALL_MODE must be plain, redacting, plain-literals, redacting-literals, scan or naive, not {other:?}");
            std::process::exit(2);
        }
    };
    for _ in 0..500 {
        run();
    }
    for _ in 0..n {
        run();
    }
}
