//! One order's call from a client through an instrumented axum server, exported by
//! `ordertrace::init` over real OTLP/gRPC: what arrives at the receiver is one trace
//! client → server → handler → database span, each carrying `order.id`.

use std::time::{Duration, SystemTime};

use axum::extract::Path;
use axum::routing::post;
use axum::Router;
use opentelemetry::trace::{FutureExt, TraceContextExt, Tracer};
use opentelemetry::{global, Context};
use otel_order::http::{HostAllowList, OrderTraceLayer, OrderTraceMiddleware};
use otel_order::{OrderContext, OrderContextExt, OrderId, OrderStatus};
use otlp_receiver::proto::trace::v1::span::SpanKind as ProtoKind;
use otlp_receiver::OtlpReceiver;

#[tracing::instrument(skip(order))]
async fn approve(Path(id): Path<String>, order: OrderContext) -> String {
    // A raw OpenTelemetry span inside the handler, as a database client would make.
    global::tracer("db").in_span("UPDATE orders", |_| ());
    format!("{id}:{}", order.order_id())
}

#[tokio::test(flavor = "multi_thread")]
async fn client_server_and_handler_spans_form_one_trace_with_order_id() {
    let receiver = OtlpReceiver::start().await;
    // SAFETY of set_var: this test binary runs only this test, before any thread reads env.
    std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpc_endpoint());
    std::env::set_var("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
    std::env::set_var("OTEL_METRIC_EXPORT_INTERVAL", "200");
    let telemetry = ordertrace::init("crm-api").expect("telemetry");

    let app = Router::new()
        .route("/orders/{id}/approve", post(approve))
        .layer(OrderTraceLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(
            OrderTraceMiddleware::builder()
                .allow_order_headers_to(HostAllowList::new(["127.0.0.1"]))
                .build(),
        )
        .build();

    let order = OrderContext::new(OrderId::new("ORD-2026-000123").unwrap())
        .with_status(OrderStatus::PriceCalculated, SystemTime::now());
    let root = global::tracer("shop").start("checkout");
    let cx = Context::current_with_span(root).with_order(order);
    let body = client
        .post(format!("http://{addr}/orders/ORD-2026-000123/approve"))
        .send()
        .with_context(cx.clone())
        .await
        .expect("request")
        .text()
        .await
        .unwrap();
    assert_eq!(body, "ORD-2026-000123:ORD-2026-000123");
    cx.span().end();
    telemetry.flush();

    let spans = receiver.wait_for_spans(5, Duration::from_secs(10)).await;
    let find = |name: &str| {
        spans
            .iter()
            .find(|s| s.span.name == name)
            .unwrap_or_else(|| {
                panic!(
                    "no span {name:?} in {:?}",
                    spans.iter().map(|s| &s.span.name).collect::<Vec<_>>()
                )
            })
    };
    let checkout = find("checkout");
    let client_span = find("POST");
    let server = find("POST /orders/{id}/approve");
    let handler = find("approve");
    let db = find("UPDATE orders");

    let trace = checkout.trace_id();
    for span in [client_span, server, handler, db] {
        assert_eq!(
            span.trace_id(),
            trace,
            "{} is in another trace",
            span.span.name
        );
        assert_eq!(
            span.attr_str("order.id"),
            Some("ORD-2026-000123"),
            "{}",
            span.span.name
        );
    }
    assert_eq!(client_span.parent_span_id(), checkout.span_id());
    assert_eq!(server.parent_span_id(), client_span.span_id());
    assert_eq!(handler.parent_span_id(), server.span_id());
    assert_eq!(db.parent_span_id(), handler.span_id());

    assert_eq!(client_span.span.kind, ProtoKind::Client as i32);
    assert_eq!(server.span.kind, ProtoKind::Server as i32);
    assert_eq!(server.attr_str("http.route"), Some("/orders/{id}/approve"));
    assert_eq!(
        server.attr_str("url.path"),
        Some("/orders/ORD-2026-000123/approve")
    );
    assert_eq!(server.attr_str("http.request.method"), Some("POST"));
    assert_eq!(server.attr_i64("http.response.status_code"), Some(200));
    assert_eq!(server.attr_str("order.status"), Some("PRICE_CALCULATED"));
    assert_eq!(server.service_name(), Some("crm-api"));
    assert_eq!(client_span.attr_i64("http.response.status_code"), Some(200));
    assert_eq!(client_span.attr_str("server.address"), Some("127.0.0.1"));
    // Each attribute once: the span processor and the instrumentation never both set it.
    for span in [client_span, server, handler, db] {
        let n = span
            .span
            .attributes
            .iter()
            .filter(|kv| kv.key == "order.id")
            .count();
        assert_eq!(n, 1, "{} has order.id {n} times", span.span.name);
    }

    // The latency histogram the seeds want for the CRM and MES APIs: route template,
    // method, status code as attributes; never the order id.
    let metric = receiver
        .wait_for_metric(
            "http.server.request.duration",
            Duration::from_secs(10),
            |_| true,
        )
        .await
        .expect("http.server.request.duration exported");
    let Some(otlp_receiver::proto::metrics::v1::metric::Data::Histogram(h)) = metric.metric.data
    else {
        panic!("not a histogram");
    };
    let point = &h.data_points[0];
    assert_eq!(point.count, 1);
    assert_eq!(
        otlp_receiver::attr_str(&point.attributes, "http.route"),
        Some("/orders/{id}/approve")
    );
    assert_eq!(
        otlp_receiver::attr_i64(&point.attributes, "http.response.status_code"),
        Some(200)
    );
    assert!(point.attributes.iter().all(|kv| kv.key != "order.id"));
    assert_eq!(metric.metric.unit, "s");
    let client_metric = receiver
        .last_metric("http.client.request.duration")
        .expect("client histogram");
    assert_eq!(client_metric.metric.unit, "s");

    telemetry.shutdown();
}
