//! Budget of otel-amqp: traced publish + consume against bare lapin over the real
//! broker (`AMQP_ADDR`, default 127.0.0.1:5672), batches with publisher confirms.

use std::cell::RefCell;

use otel_amqp::AmqpTelemetry;

use crate::harness::{measure_with_floor, Outcome, Rule};
use crate::pipeline::Pipeline;
use crate::{alloc_count, Report};

#[path = "../../otel-amqp/benches/rig.rs"]
mod rig;

/// Time per batch, traced against bare: at least 0.95x bare throughput means at most
/// 1/0.95 of its time.
pub fn publish_consume(p: &Pipeline, report: &mut Report) -> Outcome {
    let rt = rig::runtime();
    let telemetry = AmqpTelemetry::builder()
        .tracer_provider(&p.tracer_provider)
        .meter_provider(&p.meter_provider)
        .build();
    let rig = RefCell::new(rt.block_on(rig::Rig::new(telemetry)));
    // Whole-process allocations (runtime workers and lapin's threads included) per
    // message, traced minus bare.
    let per_message = |traced: bool| {
        alloc_count::per_op(4, || {
            let mut rig = rig.borrow_mut();
            if traced {
                rt.block_on(rig.traced_batch());
            } else {
                rt.block_on(rig.bare_batch());
            }
        }) / rig::BATCH as f64
    };
    let added = per_message(true) - per_message(false);
    report.allocations.push((
        "AMQP publish + consume, per message (added to bare lapin)".into(),
        added,
    ));
    let (rt_a, rt_b, rig_a, rig_b) = (&rt, &rt, &rig, &rig);
    // Target missed (issue 4), and below its own floor on this machine. Per
    // message (callgrind, otel-amqp's percall bench, mean of 3 runs) bare lapin
    // costs ~61k instructions and 54 allocations, bare lapin carrying the three
    // required headers ~74k and 66.5, the floor (those headers plus the two
    // required SDK spans, without otel-amqp) ~83k and 70.5, traced ~91k and 81.
    // On the clock (otel-amqp's split bench, 100 rounds, load 2-3) the headers
    // alone are 1.11x bare and the floor 1.15x, above the 1.053 target before
    // anything otel-amqp adds; traced reads 1.21 there, and this gate has moved
    // between 1.08 and 1.25 at load 2-5. The floor sits beyond the worst ratio
    // measured (1.30, load 11.6).
    let outcome = measure_with_floor(
        "traced publish + consume vs bare lapin (time per batch of 500, real broker)",
        Rule::AtMost(1.0 / 0.95),
        Some(Rule::AtMost(1.4)),
        vec![
            (
                "traced",
                Box::new(move |n| {
                    for _ in 0..n {
                        rt_a.block_on(rig_a.borrow_mut().traced_batch());
                    }
                }),
            ),
            (
                "bare",
                Box::new(move |n| {
                    for _ in 0..n {
                        rt_b.block_on(rig_b.borrow_mut().bare_batch());
                    }
                }),
            ),
        ],
    );
    rt.block_on(rig.borrow().cleanup());
    outcome
}
