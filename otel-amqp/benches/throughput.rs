//! Traced publish + consume throughput against bare lapin, over the real broker
//! (`AMQP_ADDR`, default 127.0.0.1:5672).
//!
//! One batch = publish N messages with publisher confirms (pipelined, then every
//! confirm awaited) while a consumer task on the same queue receives and acks all
//! N; the batch ends when both are done.
//! Bare and traced batches share the queue, the channels and the lapin consumer;
//! the traced side wraps them (`TracedChannel`, `DeliveryTracer`), with an SDK
//! tracer provider (batch processor) and meter provider (periodic reader) whose
//! exporters discard: this measures instrumentation and SDK cost, not a backend.
//!
//! Criterion measures each side; then `interleaved` runs bare and traced batches
//! alternately in one loop (so drift in broker or machine load hits both alike)
//! and prints the throughput ratio.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use opentelemetry_sdk::trace::SdkTracerProvider;

mod rig;

use rig::{DiscardSpans, Rig, BATCH};

fn throughput(c: &mut Criterion) {
    let runtime = rig::runtime();
    let _guard = runtime.enter();
    let exported = DiscardSpans::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_batch_exporter(exported.clone())
        .build();
    let (_meter_provider, telemetry) = rig::telemetry(&tracer_provider);
    let mut rig = runtime.block_on(Rig::new(telemetry));

    let mut group = c.benchmark_group("publish_consume");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    group.bench_function("bare", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    rig.bare_batch().await;
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("traced", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    rig.traced_batch().await;
                }
                start.elapsed()
            })
        })
    });
    group.finish();

    // Interleaved: alternate batches so both sides see the same conditions; the
    // machine may be shared, so report the median of per-round ratios too.
    let rounds = std::env::var("INTERLEAVED_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let (mut bare, mut traced) = (Duration::ZERO, Duration::ZERO);
    let mut ratios = Vec::with_capacity(rounds);
    runtime.block_on(async {
        for round in 0..rounds {
            // Alternate which side goes first, too.
            let order = if round % 2 == 0 {
                [false, true]
            } else {
                [true, false]
            };
            let (mut b, mut t) = (Duration::ZERO, Duration::ZERO);
            for is_traced in order {
                let start = Instant::now();
                if is_traced {
                    rig.traced_batch().await;
                    t = start.elapsed();
                } else {
                    rig.bare_batch().await;
                    b = start.elapsed();
                }
            }
            bare += b;
            traced += t;
            // Throughput ratio traced/bare = time ratio bare/traced.
            ratios.push(b.as_secs_f64() / t.as_secs_f64());
        }
    });
    ratios.sort_by(f64::total_cmp);
    let median = ratios.get(ratios.len() / 2).copied().unwrap_or(f64::NAN);
    let messages = (rounds * BATCH) as f64;
    let bare_rate = messages / bare.as_secs_f64();
    let traced_rate = messages / traced.as_secs_f64();
    println!(
        "interleaved {rounds} x {BATCH} messages each: bare {bare_rate:.0} msg/s, traced {traced_rate:.0} msg/s, \
         ratio traced/bare = {:.3} (total), {median:.3} (median of rounds)",
        traced_rate / bare_rate
    );
    let _ = tracer_provider.force_flush();
    println!(
        "spans produced by the traced side: {}",
        exported.0.load(Ordering::Relaxed)
    );
    runtime.block_on(rig.cleanup());
}

criterion_group!(benches, throughput);
criterion_main!(benches);
