//! Order headers and `tracestate` go only to allowed hosts; `traceparent` goes
//! everywhere; the caller cannot smuggle order headers past the allow-list.

mod http_support;

use std::time::SystemTime;

use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;
use http_support::{serve, Pipeline};
use opentelemetry::trace::{
    FutureExt, SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
};
use opentelemetry::Context;
use otel_order::http::{HostAllowList, NoTrace, OrderTraceMiddleware};
use otel_order::{OrderContext, OrderContextExt, OrderId, OrderStatus};

/// Lists the propagation headers that arrived, sorted.
async fn headers_seen(headers: HeaderMap) -> String {
    let mut seen: Vec<String> = headers
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with("ordertrace-") || k == "traceparent" || k == "tracestate")
        .collect();
    seen.sort();
    seen.join(",")
}

fn order_cx() -> Context {
    let remote_parent = SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::from_key_value([("vendor", "internal-routing")]).unwrap(),
    );
    Context::new()
        .with_remote_span_context(remote_parent)
        .with_order(
            OrderContext::new(OrderId::new("ORD-77").unwrap())
                .with_status(OrderStatus::Shipped, SystemTime::now()),
        )
}

async fn call(p: &Pipeline, allow: &[&str], url: &str, smuggle: bool) -> String {
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(
            OrderTraceMiddleware::builder()
                .allow_order_headers_to(HostAllowList::new(allow))
                .tracer_provider(&p.tracer_provider)
                .meter_provider(&p.meter_provider)
                .build(),
        )
        .build();
    let mut request = client.get(url);
    if smuggle {
        request = request.header("ordertrace-order", "id=ORD-SMUGGLED");
    }
    request
        .send()
        .with_context(order_cx())
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn order_headers_and_tracestate_only_reach_allowed_hosts() {
    let p = Pipeline::start("shop-api").await;
    let addr = serve(Router::new().route("/h", get(headers_seen))).await;
    let url = format!("http://{addr}/h");

    assert_eq!(
        call(&p, &["crm.internal", "*.mes.internal"], &url, false).await,
        "traceparent",
        "a host outside the allow-list gets trace context only"
    );
    assert_eq!(
        call(&p, &["crm.internal"], &url, true).await,
        "traceparent",
        "order headers set by the caller are stripped for a host outside the list"
    );
    assert_eq!(
        call(&p, &["127.0.0.1"], &url, false).await,
        "ordertrace-order,traceparent,tracestate",
        "an allowed host gets order context and trace state"
    );
    assert_eq!(
        call(
            &p,
            &[&format!("127.0.0.1:{}", addr.port() + 1)],
            &url,
            false
        )
        .await,
        "traceparent",
        "an allow-list entry with another port does not match"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_trace_extension_sends_nothing_and_records_no_span() {
    let p = Pipeline::start("shop-api").await;
    let addr = serve(Router::new().route("/h", get(headers_seen))).await;
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(
            OrderTraceMiddleware::builder()
                .allow_order_headers_to(HostAllowList::new(["127.0.0.1"]))
                .tracer_provider(&p.tracer_provider)
                .build(),
        )
        .build();
    let seen = client
        .get(format!("http://{addr}/h"))
        .with_extension(NoTrace)
        .send()
        .with_context(order_cx())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(seen, "");
    p.flush();
    assert!(p.receiver.spans().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_calls_mark_the_client_span_as_error() {
    let p = Pipeline::start("shop-api").await;
    let addr = serve(Router::new().route("/h", get(headers_seen))).await;
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(
            OrderTraceMiddleware::builder()
                .tracer_provider(&p.tracer_provider)
                .build(),
        )
        .build();
    // 404 from a live server, then a refused connection.
    let not_found = client
        .get(format!("http://{addr}/missing"))
        .send()
        .await
        .unwrap();
    assert_eq!(not_found.status(), 404);
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = closed.local_addr().unwrap();
    drop(closed);
    assert!(client.get(format!("http://{dead}/x")).send().await.is_err());
    p.flush();
    let spans = p
        .receiver
        .wait_for_spans(2, std::time::Duration::from_secs(10))
        .await;
    let by_port = |port: u16| {
        spans
            .iter()
            .find(|s| s.attr_i64("server.port") == Some(i64::from(port)))
            .unwrap()
    };
    let s404 = by_port(addr.port());
    assert_eq!(s404.attr_str("error.type"), Some("404"));
    assert_eq!(s404.span.status.as_ref().unwrap().code, 2, "status ERROR");
    let refused = by_port(dead.port());
    assert_eq!(refused.attr_str("error.type"), Some("connect"));
    assert_eq!(refused.span.status.as_ref().unwrap().code, 2);
}
