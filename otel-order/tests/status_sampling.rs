//! Per-order consistent sampling: across many orders, each seen by several services
//! in separate traces, every hop of an order is exported or none is.

mod status_support;

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer as _,
};
use opentelemetry::{Context, KeyValue};
use otel_order::transition::StatusRecorder;
use otel_order::{OrderContext, OrderContextExt, OrderId, OrderSampler, OrderStatus};
use otlp_receiver::OtlpReceiver;
use status_support::*;

const ORDERS: usize = 2000;
const RATIO: f64 = 0.10;

fn order_id(i: usize) -> String {
    format!("ORD-2026-{i:06}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_percent_order_sampler_keeps_all_hops_of_an_order_or_none() {
    let receiver = OtlpReceiver::start().await;
    // Three services, three processes' worth of providers, one receiver.
    let shop = Pipeline::with_sampler(&receiver, Some(Box::new(OrderSampler::new(RATIO))));
    let mes = Pipeline::with_sampler(&receiver, Some(Box::new(OrderSampler::new(RATIO))));
    let crm = Pipeline::with_sampler(&receiver, Some(Box::new(OrderSampler::new(RATIO))));
    let (shop_tracer, mes_tracer, crm_tracer) =
        (shop.tracer("shop"), mes.tracer("mes"), crm.tracer("crm"));
    let crm_recorder = StatusRecorder::builder()
        .tracer(crm.tracer("otel-order"))
        .meter(crm.meter())
        .build();

    for i in 0..ORDERS {
        let id = order_id(i);
        let order = OrderContext::new(OrderId::new(&id).unwrap());
        let with_order = Context::new().with_order(order.clone());

        // Hop 1, Shop: the id is known when the span starts (an attribute).
        let mut span = shop_tracer
            .span_builder("POST /orders")
            .with_attributes([KeyValue::new("order.id", id.clone())])
            .start_with_context(&shop_tracer, &Context::new());
        span.end();

        // Hop 2, MES: a new trace per message; the order context came in the headers
        // (the parent Context), the span itself has no attributes yet; plus a child.
        let mut job = mes_tracer.start_with_context("price model", &with_order);
        job.set_attribute(KeyValue::new("order.id", id.clone()));
        let job_cx = with_order.with_span(job);
        let mut child = mes_tracer.start_with_context("s3 get", &job_cx);
        child.set_attribute(KeyValue::new("order.id", id.clone()));
        child.end();
        job_cx.span().end();

        // Hop 3, CRM: a status transition recorded with no request span around it.
        let priced = order.with_status_only(OrderStatus::PriceCalculated);
        crm_recorder.transition_with_context(
            &Context::new(),
            &priced,
            OrderStatus::ManufacturingApproved,
        );

        // Hop 4, CRM dashboard: order id on a later, separate trace.
        let mut span = crm_tracer
            .span_builder("GET /orders/{id}")
            .with_attributes([KeyValue::new("order.id", id)])
            .start_with_context(&crm_tracer, &Context::new());
        span.end();
    }
    for pipeline in [&shop, &mes, &crm] {
        pipeline.flush().await;
    }
    // Exports are small; give the last batches a moment on a loaded machine.
    tokio::time::sleep(Duration::from_millis(200)).await;

    const HOPS: usize = 5; // POST, price model, s3 get, status span, GET
    let mut per_order: HashMap<String, usize> = HashMap::new();
    for span in receiver.spans() {
        let id = span
            .attr_str("order.id")
            .expect("every span carries order.id");
        *per_order.entry(id.to_string()).or_default() += 1;
    }
    for (id, hops) in &per_order {
        assert_eq!(*hops, HOPS, "order {id}: {hops} of {HOPS} hops exported");
    }
    let sampler = OrderSampler::new(RATIO);
    for i in 0..ORDERS {
        let id = order_id(i);
        assert_eq!(
            per_order.contains_key(&id),
            sampler.keeps_order(&id),
            "{id}"
        );
    }
    let kept = per_order.len() as f64 / ORDERS as f64;
    assert!((0.075..=0.125).contains(&kept), "kept fraction {kept}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parent_decision_wins_and_traces_without_order_fall_back_to_ratio() {
    let receiver = OtlpReceiver::start().await;
    let service = Pipeline::with_sampler(&receiver, Some(Box::new(OrderSampler::new(RATIO))));
    let tracer = service.tracer("svc");
    let sampler = OrderSampler::new(RATIO);
    let kept_id = (0..)
        .map(order_id)
        .find(|id| sampler.keeps_order(id))
        .unwrap();
    let dropped_id = (0..)
        .map(order_id)
        .find(|id| !sampler.keeps_order(id))
        .unwrap();

    let remote = |flags| {
        Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(0xabcd),
            SpanId::from(0x1234),
            flags,
            true,
            TraceState::default(),
        ))
    };
    // An upstream that dropped the trace: a kept order id does not resurrect it.
    let mut span = tracer
        .span_builder("from unsampled parent")
        .with_attributes([KeyValue::new("order.id", kept_id)])
        .start_with_context(&tracer, &remote(TraceFlags::default()));
    span.end();
    // An upstream that kept it: a dropped order id does not cut it.
    let mut span = tracer
        .span_builder("from sampled parent")
        .with_attributes([KeyValue::new("order.id", dropped_id)])
        .start_with_context(&tracer, &remote(TraceFlags::SAMPLED));
    span.end();
    // Roots with no order id anywhere: about RATIO of them by trace id.
    const ROOTS: usize = 3000;
    for _ in 0..ROOTS {
        tracer
            .start_with_context("GET /health", &Context::new())
            .end();
    }
    service.flush().await;

    let spans = receiver.spans();
    let names: Vec<&str> = spans
        .iter()
        .map(|s| s.span.name.as_str())
        .filter(|n| n.starts_with("from "))
        .collect();
    assert_eq!(names, vec!["from sampled parent"]);
    let roots = spans
        .iter()
        .filter(|s| s.span.name == "GET /health")
        .count();
    let kept = roots as f64 / ROOTS as f64;
    assert!(
        (0.07..=0.13).contains(&kept),
        "fallback kept fraction {kept}"
    );
}
