//! Where the traced overhead shows on the wall clock: batches of the throughput
//! rig with each side traced on its own, interleaved in one loop, each against
//! the bare batch of the same round.
//!
//! ```text
//! cargo bench -p otel-amqp --bench split            # SPLIT_ROUNDS=100 by default
//! ```
//!
//! Variants: bare lapin carrying the context headers (what the headers alone cost
//! lapin and the broker), traced publish with a bare consumer, bare publish with
//! the headers and a traced consumer, both traced (what the gate measures), and
//! the floor: bare lapin carrying the headers plus one producer and one consumer
//! span with as many attributes, through the same tracer provider, without this
//! crate (the rig's `FloorSpans`): the least any instrumentation meeting the
//! issue must do, to set the budget against.
//! Prints the median of per-round time ratios against bare, with quartiles: on a
//! shared 2-core machine the spread is wide, so read medians over 100+ rounds.
//! The tracer provider is the gate's: `OrderSpanProcessor` wrapping a processor
//! that drops each span when it ends.

use std::time::{Duration, Instant};

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, Span, SpanData, SpanProcessor};

mod rig;

use rig::{Consume, Publish, Rig};

/// Drops every span when it ends, as the gate's pipeline does.
#[derive(Debug)]
struct DropSpans;

impl SpanProcessor for DropSpans {
    fn on_start(&self, _: &mut Span, _: &opentelemetry::Context) {}
    fn on_end(&self, span: SpanData) {
        std::hint::black_box(span);
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Ok(())
    }
}

const VARIANTS: [(&str, Publish, Consume); 6] = [
    ("bare", Publish::Bare, Consume::Bare),
    ("headers only", Publish::Headers, Consume::Bare),
    ("traced publish", Publish::Traced, Consume::Bare),
    ("traced consume", Publish::Headers, Consume::Traced),
    ("traced", Publish::Traced, Consume::Traced),
    ("floor", Publish::Floor, Consume::Floor),
];

fn main() {
    let rounds: usize = std::env::var("SPLIT_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
        .max(4);
    let runtime = rig::runtime();
    let _guard = runtime.enter();
    let tracer_provider = SdkTracerProvider::builder()
        .with_span_processor(otel_order::OrderSpanProcessor::wrap(DropSpans))
        .build();
    let (_meter_provider, telemetry) = rig::telemetry(&tracer_provider);
    runtime.block_on(async {
        let mut rig = Rig::new(telemetry).await.with_floor(&tracer_provider);
        for &(_, publish, consume) in &VARIANTS {
            rig.split_batch(publish, consume).await;
        }
        let mut times = vec![Vec::with_capacity(rounds); VARIANTS.len()];
        for round in 0..rounds {
            // Rotate the order so no variant always follows another.
            for k in 0..VARIANTS.len() {
                let v = (round + k) % VARIANTS.len();
                let (_, publish, consume) = VARIANTS[v];
                let start = Instant::now();
                rig.split_batch(publish, consume).await;
                times[v].push(start.elapsed().as_secs_f64());
            }
        }
        let mut bare = times[0].clone();
        bare.sort_by(f64::total_cmp);
        println!("bare: median {:.2} ms per batch", bare[rounds / 2] * 1e3);
        for (v, (name, _, _)) in VARIANTS.iter().enumerate().skip(1) {
            let mut ratios: Vec<f64> = (0..rounds).map(|r| times[v][r] / times[0][r]).collect();
            ratios.sort_by(f64::total_cmp);
            println!(
                "{name:>15}: median ratio to bare {:.3} (quartiles {:.3}-{:.3})",
                ratios[rounds / 2],
                ratios[rounds / 4],
                ratios[3 * rounds / 4]
            );
        }
        rig.cleanup().await;
    });
}
