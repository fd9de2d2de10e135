//! Budget of the status conventions (otel-order): recording one transition (status
//! span + metrics) against creating one plain span with the same SDK.

use std::time::{Duration, SystemTime};

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, TraceFlags, TraceId, TraceState, Tracer, TracerProvider as _,
};
use opentelemetry::Context;
use otel_order::transition::{SlaConfig, StatusRecorder};
use otel_order::{OrderContext, OrderId, OrderStatus};

use crate::harness::{measure, Outcome, Rule};
use crate::pipeline::Pipeline;
use crate::{alloc_count, Report};

pub fn transition(p: &Pipeline, report: &mut Report) -> Outcome {
    let tracer = p.tracer_provider.tracer("gate");
    let recorder = StatusRecorder::builder()
        .tracer(p.tracer_provider.tracer("otel-order"))
        .meter(p.meter_provider.meter("otel-order"))
        .sla(SlaConfig::new().with(OrderStatus::Submitted, Duration::from_secs(1800)))
        .build();
    let order = OrderContext::new(OrderId::new("ORD-2026-000123").expect("valid id"))
        .with_status(
            OrderStatus::Submitted,
            SystemTime::now() - Duration::from_secs(600),
        )
        .with_entered_by(SpanContext::new(
            TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
            SpanId::from(0x00f0_67aa_0ba9_02b7),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        ));
    let parent = Context::new();
    let record = || {
        std::hint::black_box(recorder.transition_with_context(
            &parent,
            &order,
            OrderStatus::PriceCalculated,
        ));
    };
    let plain = || {
        tracer.start_with_context("GET /orders/{id}", &parent).end();
    };
    report.allocations.push((
        "status transition (span + metrics)".into(),
        alloc_count::per_op(10_000, record),
    ));
    report
        .allocations
        .push(("plain SDK span".into(), alloc_count::per_op(10_000, plain)));
    measure(
        "status transition vs a plain span",
        Rule::AtMost(3.0),
        vec![
            (
                "transition",
                Box::new(move |n| {
                    for _ in 0..n {
                        record();
                    }
                }),
            ),
            (
                "plain span",
                Box::new(move |n| {
                    for _ in 0..n {
                        plain();
                    }
                }),
            ),
        ],
    )
}
